"""The 3D view: an INR's marching-cubes mesh in a rotatable pyvistaqt viewport.

Meshes are computed by :func:`~inret_engine.render.jobs.mesh_job` in a worker and turned
into ``pyvista.PolyData`` on the GUI thread. A query and a result show side by side
(or overlaid) in two colours. The camera frames every vertex with a small margin for the
viewport's shape (:func:`~inret_engine.render.camera.fit_distance`), so a tall chair in
a wide view keeps its legs. "Slice plane" cuts the selected INR open at ``axis = offset``
(the part on the camera's side is removed) and shows its field there in the cutaway
colours (:func:`~inret_engine.render.jobs.slice_job`, off the GUI thread); the slider moves
the plane. Where OpenGL cannot start (``QT_QPA_PLATFORM=offscreen``, no GL driver,
pyvistaqt missing) the view says so in a label instead of crashing; meshes are then
still computed, so callers see the same signals.

The VTK render window starts the first time the view is shown, not when it is built: its
import (pyvistaqt, VTK, matplotlib: 0.9-1.4 s) kept the whole window off screen for that
long at start-up, while the 3D tab is not even the one shown. The app imports it in the
background after start-up (:mod:`app.warm_up`), so the first look at the tab is quick.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from inret_engine.render.jobs import MeshData, PanelImage, mesh_job, slice_job

from ..workers import GeneratorWorker, error_text, render_pool
from .panel_style import CHECKBOX_QSS

if TYPE_CHECKING:
    from pyvistaqt import QtInteractor

COLOURS = ("#4a86d6", "#ec8b2c")
"""Query (or single shape), result."""
SIDE_GAP = 2.3
"""How far apart the two meshes sit side by side (INRs fill ``[-1, 1]^3``)."""
VIEW_DIRECTION = (1.0, 0.75, 2.2)
"""Where the camera starts, looking at the origin: y-up shapes seen from the front right, above."""
NO_GL_PLATFORMS = {"offscreen", "minimal", "linuxfb", "vnc"}
FRAME_MARGIN = 0.06
"""Fraction of the half-view left free around the shape."""
SLICE_PX = 160
"""Slice plane texture size (pixels per side)."""
SLICE_MARGIN = 0.08
"""How far the slice plane reaches beyond the shape's bounding box."""
SLICE_STEPS = 95
"""Slider steps either side of 0: offsets from -0.95 to 0.95 in steps of 0.01."""


def gl_problem() -> str | None:
    """Why a VTK render window cannot start here, or None when it should."""
    if os.environ.get("INRET_NO_3D"):
        return "the 3D view is turned off (INRET_NO_3D is set)"
    platform = QGuiApplication.platformName()
    if platform in NO_GL_PLATFORMS:
        return f"the Qt platform '{platform}' has no OpenGL windows"
    context, surface = QOpenGLContext(), QOffscreenSurface()
    surface.create()
    if not context.create() or not context.makeCurrent(surface):
        return "no OpenGL context could be created"
    context.doneCurrent()
    if importlib.util.find_spec("pyvistaqt") is None:  # found, not imported: that waits for the first show
        return "pyvistaqt is not installed"
    return None


class ShapeView(QWidget):
    """A rotatable 3D view of one INR, or of a query next to a result.

    Signals:
        shown(int): the meshes of the current request are in the view (how many).
        failed(str): a mesh could not be made (the message is also shown in the view).

    Args:
        use_gl: ``False`` forces the fallback label; ``None`` probes with :func:`gl_problem`.
        resolution: lattice nodes per axis for marching cubes.
    """

    shown = Signal(int)
    failed = Signal(str)
    slice_shown = Signal(object)
    """The slice plane's colours arrived (a ``(R, R, 4)`` uint8 RGBA array), or ``None`` when it was turned off."""

    def __init__(self, parent: QWidget | None = None, *, use_gl: bool | None = None, resolution: int = 97):
        super().__init__(parent)
        self.resolution = resolution
        self.plotter: QtInteractor | None = None
        self.meshes: list[MeshData | None] = []
        self.pool = render_pool(self)
        self._worker: GeneratorWorker | None = None
        self._generation = 0
        self._request: tuple = ()
        self.status = QLabel("No shape", textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.status.setObjectName("shapeStatus")
        self.status.setStyleSheet("color: #9aa4b2; padding: 2px;")
        self.overlay = QCheckBox("Overlay")
        self.overlay.setObjectName("shapeOverlay")
        self.overlay.setToolTip("Draw the result over the query instead of beside it")
        self.overlay.setAccessibleName("Overlay the result on its query")
        self.overlay.setStyleSheet(CHECKBOX_QSS)
        self.overlay.toggled.connect(self._redraw)
        reset = QPushButton("Reset view")
        reset.setObjectName("shapeReset")
        reset.setToolTip("Look at the shape from the starting direction again")
        reset.setAccessibleName("Reset the 3D view")
        reset.clicked.connect(self.reset_camera)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.overlay)
        bar.addWidget(reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(self._build_slice_bar())
        self.slice_rgb: np.ndarray | None = None
        """The slice plane's colours on screen, or None."""
        self._slice_cache: dict = {}
        self._slice_generation = 0
        self._store = None
        self.drawn_points: list = []
        """``(V, 3)`` vertices of each mesh on screen, before any slice cut (what the camera frames)."""
        self.gl_error = "turned off" if use_gl is False else gl_problem()
        """Why there is no 3D here (None: the render window starts, or started, on the first show)."""
        self._shut = self._starting = False
        self.fallback = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.fallback.setObjectName("shapeFallback")
        self.fallback.setStyleSheet("background: #16181c; color: #8c96a5; border-radius: 6px; padding: 12px;")
        layout.addWidget(self.fallback, 1)
        self._show_gl_state()

    def _show_gl_state(self) -> None:
        self.fallback.setText(f"3D view unavailable: {self.gl_error}" if self.gl_error else "Starting the 3D view…")
        self.fallback.setVisible(self.plotter is None)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self.plotter is None and self.gl_error is None and not self._shut and not self._starting:
            self._starting = True  # starting the render window sends this view another show event
            try:
                self.gl_error = self._start_plotter()
            finally:
                self._starting = False
            self._show_gl_state()
            self._redraw()

    def _start_plotter(self) -> str | None:
        """Start the VTK render window in the fallback label's place; why it could not, or None."""
        try:
            from pyvistaqt import QtInteractor

            self.plotter = QtInteractor(self, auto_update=False)
            self.plotter.set_background("#15181d")  # type: ignore[arg-type]  # pyvista's decorator typing sees an unbound method
            self.plotter.setAccessibleName("3D view of the selected shape")
            self.plotter.setToolTip("Drag to rotate, Shift+drag to pan, wheel to zoom")
        except Exception as exc:  # noqa: BLE001 - any VTK / GL start-up failure means: no 3D here
            self.plotter = None
            return f"VTK could not start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.fallback), self.plotter, 1)
        return None

    def _build_slice_bar(self) -> QHBoxLayout:
        self.slice_box = QCheckBox("Slice plane")
        self.slice_box.setObjectName("shapeSlice")
        self.slice_box.setStyleSheet(CHECKBOX_QSS)
        self.slice_box.setToolTip("Cut the selected shape open and show its field on the cut (colours as in "
                                  "the cutaways)")
        self.slice_box.setAccessibleName("Show a slice plane in the 3D view")
        self.slice_axis = QComboBox()
        self.slice_axis.setObjectName("shapeSliceAxis")
        self.slice_axis.addItems(["x", "y", "z"])
        self.slice_axis.setCurrentText("z")
        self.slice_axis.setToolTip("The axis the slice plane cuts across")
        self.slice_axis.setAccessibleName("Slice plane axis")
        self.slice_slider = QSlider(Qt.Orientation.Horizontal)
        self.slice_slider.setRange(-SLICE_STEPS, SLICE_STEPS)
        self.slice_slider.setValue(0)
        self.slice_slider.setObjectName("shapeSliceOffset")
        self.slice_slider.setToolTip("Where the plane cuts (drag, or the arrow keys)")
        self.slice_slider.setAccessibleName("Slice plane offset")
        self.slice_label = QLabel("z = +0.00")
        self.slice_label.setObjectName("filterLabel")
        for w in (self.slice_axis, self.slice_slider):
            w.setEnabled(False)
        self.slice_box.toggled.connect(self._slice_toggled)
        self.slice_axis.currentTextChanged.connect(self._slice_moved)
        self.slice_slider.valueChanged.connect(self._slice_moved)
        row = QHBoxLayout()
        row.addWidget(self.slice_box)
        row.addWidget(self.slice_axis)
        row.addWidget(self.slice_slider, 1)
        row.addWidget(self.slice_label)
        return row

    # --- public ----------------------------------------------------------------------------
    def show_record(self, store, record) -> None:
        """Mesh and show one INR."""
        self._start(store, [record])

    def show_pair(self, store, query_record, result_record, *, overlay: bool | None = None) -> None:
        """Show a query (blue) and a result (orange): side by side, or overlaid when ``overlay``."""
        if overlay is not None:
            self.overlay.blockSignals(True)
            self.overlay.setChecked(overlay)
            self.overlay.blockSignals(False)
        self._start(store, [query_record, result_record])

    def has_gl(self) -> bool:
        """True where the view draws in 3D (its render window starts on the first show)."""
        return self.gl_error is None

    def actor_count(self) -> int:
        """Mesh actors in the viewport (0 without OpenGL)."""
        return 0 if self.plotter is None else len(self._mesh_actors())

    def reset_camera(self) -> None:
        """Look from :data:`VIEW_DIRECTION` at the middle of what is shown, just far enough to see all of it."""
        if self.plotter is None:
            return
        import numpy as np

        from inret_engine.render.camera import fit_distance

        points = [p for p in self.drawn_points if len(p)]
        pts = np.concatenate(points) if points else np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
        center = (pts.min(0) + pts.max(0)) / 2
        direction = np.asarray(VIEW_DIRECTION) / np.linalg.norm(VIEW_DIRECTION)
        camera = self.plotter.camera
        aspect = max(self.plotter.width(), 1) / max(self.plotter.height(), 1)
        distance = fit_distance(pts, center, direction, fov_deg=camera.view_angle, aspect=aspect, margin=FRAME_MARGIN)
        self.plotter.camera_position = [tuple(center + distance * direction), tuple(center), (0.0, 1.0, 0.0)]
        self.plotter.reset_camera_clipping_range()
        self.plotter.render()

    def slice_offset(self) -> float:
        return self.slice_slider.value() / 100.0

    def clear(self) -> None:
        self._cancel()
        self.meshes = []
        self._request = ()
        self.status.setText("No shape")
        self._redraw()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop the worker and release the render window (idempotent)."""
        self._cancel()
        self._shut = True
        self.pool.waitForDone(timeout_ms)
        if self.plotter is not None:
            self.plotter.close()
            self.plotter = None

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)

    # --- internals -------------------------------------------------------------------------
    def _cancel(self) -> None:
        self._generation += 1
        if self._worker is not None:
            self._worker.cancel()

    def _start(self, store, records: list) -> None:
        self._cancel()
        self._store = store
        self._request = tuple(records)
        self._slice_generation += 1
        self.slice_rgb = None
        self.meshes = [None] * len(records)
        names = " vs ".join(f"{getattr(r, 'name', r)} ({getattr(r, 'function', '?').upper()})" for r in records)
        self.status.setText(f"Meshing {names}…")
        gen, res = self._generation, self.resolution
        worker = GeneratorWorker(lambda: mesh_job(store, records, generation=gen, resolution=res), render=True)
        worker.signals.progress.connect(self._deliver)
        worker.signals.errored.connect(self._job_failed)
        worker.signals.finished.connect(self._finished)
        self._worker = worker
        self.pool.start(worker)

    def _deliver(self, item: MeshData) -> None:
        if item.generation != self._generation:
            return
        self.meshes[item.slot] = item
        if item.vertices is None:
            self.failed.emit(item.message)
        if all(m is not None for m in self.meshes):
            self._redraw()
            self.shown.emit(sum(m is not None and m.vertices is not None for m in self.meshes))
            if self.slice_box.isChecked():
                self._request_slice()

    def _job_failed(self, exc: BaseException) -> None:
        message = error_text(exc)
        self.status.setText(f"<span style='color:#ff8a80'>{message.splitlines()[0]}</span>")
        self.failed.emit(message)

    def _finished(self) -> None:
        self._worker = None

    def _legend(self) -> str:
        parts = []
        for k, mesh in enumerate(m for m in self.meshes if m is not None):
            r = mesh.record
            if r is None:
                continue
            label = f"{r.name} · {r.function.upper()} · {r.arch}"
            if mesh.vertices is None:
                parts.append(f"<span style='color:#ff8a80'>{r.name}: {mesh.message}</span>")
            else:
                parts.append(f"<span style='color:{COLOURS[k % 2]}'>■</span> {label}")
        return "&nbsp;&nbsp;&nbsp;".join(parts) or "No shape"

    def _mesh_actors(self) -> list[str]:
        if self.plotter is None:
            return []
        return [name for name in self.plotter.actors if name.startswith("inr-mesh-")]

    def _redraw(self, *_, keep_camera: bool = False) -> None:
        if self.meshes and all(m is not None for m in self.meshes):
            self.status.setText(self._legend())
        if self.plotter is None:
            if self.gl_error and self.meshes and all(m is not None for m in self.meshes):
                self.fallback.setText(f"3D view unavailable: {self.gl_error}\n\n"
                                      + "\n".join(f"{m.record.name}: {len(m.faces) if m.faces is not None else 0:,}"
                                                  " triangles" for m in self.meshes if m is not None and m.record))
            return
        import pyvista as pv

        for name in self._mesh_actors():
            self.plotter.remove_actor(name, render=False)  # type: ignore[arg-type]  # pyvista's decorator typing sees an unbound method
        self.drawn_points = []
        pair = len(self.meshes) == 2 and not self.overlay.isChecked()
        cut = self._slice_slot() if self.slice_rgb is not None else None
        for k, mesh in enumerate(self.meshes):
            if mesh is None or mesh.vertices is None or mesh.faces is None or len(mesh.faces) == 0:
                continue
            vertices = mesh.vertices.copy()
            if pair:
                vertices[:, 0] += (k - 0.5) * SIDE_GAP
            poly = pv.PolyData.from_regular_faces(vertices, mesh.faces)
            self.drawn_points.append(vertices)  # whole, so a moving slice does not move the camera
            if k == cut:  # the camera's side of the plane is cut away, so the plane shows
                axis = self.slice_axis.currentText()
                origin = [self._shift(k, pair), 0.0, 0.0]
                origin["xyz".index(axis)] += self.slice_offset()
                poly = poly.clip(normal=axis, origin=origin)
                if poly.n_points == 0:
                    continue
            opacity = 0.55 if len(self.meshes) == 2 and not pair and k == 1 else 1.0
            self.plotter.add_mesh(poly, color=COLOURS[k % 2], name=f"inr-mesh-{k}", smooth_shading=True,
                                  opacity=opacity, render=False)
        self._draw_slice(pair)
        if keep_camera:
            self.plotter.render()
        else:
            self.reset_camera()

    # --- slice plane -----------------------------------------------------------------------
    @staticmethod
    def _shift(k: int, pair: bool) -> float:
        return (k - 0.5) * SIDE_GAP if pair else 0.0

    def _slice_slot(self) -> int:
        """Which mesh the plane cuts: the selected INR (a result shown beside its query is the second)."""
        return len(self.meshes) - 1

    def _slice_toggled(self, on: bool) -> None:
        for w in (self.slice_axis, self.slice_slider):
            w.setEnabled(on)
        if on:
            self._request_slice()
        else:
            self._slice_generation += 1
            self.slice_rgb = None
            self._redraw(keep_camera=True)
            self.slice_shown.emit(None)

    def _slice_moved(self, *_) -> None:
        self.slice_label.setText(f"{self.slice_axis.currentText()} = {self.slice_offset():+.2f}")
        if self.slice_box.isChecked():
            self._request_slice()

    def _request_slice(self) -> None:
        """Compute the slice of the selected INR in a worker; only the newest request is drawn."""
        if not self._request or not self.meshes or any(m is None for m in self.meshes):
            return
        self._slice_generation += 1
        gen, store, record = self._slice_generation, self._store, self._request[self._slice_slot()]
        axis, offset, cache = self.slice_axis.currentText(), self.slice_offset(), self._slice_cache
        worker = GeneratorWorker(lambda: slice_job(store, record, axis, offset, generation=gen, size=SLICE_PX,
                                                   cache=cache), render=True)
        worker.signals.progress.connect(self._slice_ready)
        self.pool.start(worker)

    def _slice_ready(self, image: PanelImage) -> None:
        if image.generation != self._slice_generation or not self.slice_box.isChecked():
            return
        if image.kind == "error":
            self.status.setText(f"<span style='color:#ff8a80'>Slice: {image.message}</span>")
            return
        self.slice_rgb = image.rgb
        self._redraw(keep_camera=True)  # the user may have turned the view: the plane moves, the camera stays
        self.slice_shown.emit(image.rgb)

    def _draw_slice(self, pair: bool) -> None:
        if self.plotter is None:
            return
        self.plotter.remove_actor("inr-slice", render=False)  # type: ignore[arg-type]  # pyvista's decorator typing sees an unbound method
        if self.slice_rgb is None:
            return
        import numpy as np
        import pyvista as pv

        from inret_engine.render.slices import slice_points

        size = self.slice_rgb.shape[0]
        pts = slice_points(self.slice_axis.currentText(), self.slice_offset(), size).numpy().astype(np.float64)
        pts[..., 0] += self._shift(self._slice_slot(), pair)
        grid = pv.StructuredGrid(*(pts[..., i][..., None] for i in range(3)))
        rgba = self.slice_rgb.copy()
        mesh = self.meshes[self._slice_slot()] if self.meshes else None
        if mesh is not None and mesh.vertices is not None and len(mesh.vertices) and rgba.shape[2] == 4:
            # the plane as large as the shape (and a little more), not the whole [-1, 1] square
            lo, hi = mesh.vertices.min(0) - SLICE_MARGIN, mesh.vertices.max(0) + SLICE_MARGIN
            normal = "xyz".index(self.slice_axis.currentText())
            lo[normal], hi[normal] = -np.inf, np.inf  # crop across the plane only
            raw = pts.copy()
            raw[..., 0] -= self._shift(self._slice_slot(), pair)
            rgba[..., 3][~((raw >= lo) & (raw <= hi)).all(-1)] = 0
        grid.point_data["rgba"] = rgba.transpose(1, 0, 2).reshape(-1, rgba.shape[2])  # Fortran order, as the points
        self.plotter.add_mesh(grid, scalars="rgba", rgb=True, name="inr-slice", lighting=False, render=False)
