"""The 3D view: an INR's marching-cubes mesh in a rotatable pyvistaqt viewport.

Meshes are computed by :func:`~app.models.shape_jobs.mesh_job` in a worker and turned
into ``pyvista.PolyData`` on the GUI thread. A query and a result show side by side
(or overlaid) in two colours. Where OpenGL cannot start (``QT_QPA_PLATFORM=offscreen``,
no GL driver, pyvistaqt missing) the view says so in a label instead of crashing; meshes
are then still computed, so callers see the same signals.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..models.shape_jobs import MeshData, mesh_job
from ..workers import GeneratorWorker, render_pool
from .panel_style import CHECKBOX_QSS

COLOURS = ("#4a86d6", "#ec8b2c")
"""Query (or single shape), result."""
SIDE_GAP = 2.3
"""How far apart the two meshes sit side by side (INRs fill ``[-1, 1]^3``)."""
VIEW_DIRECTION = (1.0, 0.75, 2.2)
"""Where the camera starts, looking at the origin: y-up shapes seen from the front right, above."""
NO_GL_PLATFORMS = {"offscreen", "minimal", "linuxfb", "vnc"}


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
    try:
        import pyvistaqt  # noqa: F401
    except ImportError as exc:
        return f"pyvistaqt is not installed ({exc})"
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

    def __init__(self, parent: QWidget | None = None, *, use_gl: bool | None = None, resolution: int = 97):
        super().__init__(parent)
        self.resolution = resolution
        self.plotter = None
        self.meshes: list[MeshData | None] = []
        self.pool = render_pool(self)
        self._worker: GeneratorWorker | None = None
        self._generation = 0
        self._request: tuple = ()
        self.status = QLabel("No shape", objectName="shapeStatus", textFormat=Qt.RichText, wordWrap=True)
        self.status.setStyleSheet("color: #9aa4b2; padding: 2px;")
        self.overlay = QCheckBox("Overlay", objectName="shapeOverlay")
        self.overlay.setToolTip("Draw the result over the query instead of beside it")
        self.overlay.setAccessibleName("Overlay the result on its query")
        self.overlay.setStyleSheet(CHECKBOX_QSS)
        self.overlay.toggled.connect(self._redraw)
        reset = QPushButton("Reset view", objectName="shapeReset")
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
        self.gl_error = "turned off" if use_gl is False else gl_problem()
        if self.gl_error is None:
            self.gl_error = self._start_plotter(layout)
        self.fallback = QLabel(f"3D view unavailable: {self.gl_error}" if self.gl_error else "",
                               alignment=Qt.AlignCenter, wordWrap=True, objectName="shapeFallback")
        self.fallback.setStyleSheet("background: #16181c; color: #8c96a5; border-radius: 6px; padding: 12px;")
        self.fallback.setVisible(self.plotter is None)
        if self.plotter is None:
            layout.addWidget(self.fallback, 1)

    def _start_plotter(self, layout: QVBoxLayout) -> str | None:
        try:
            from pyvistaqt import QtInteractor

            self.plotter = QtInteractor(self, auto_update=False)
            self.plotter.set_background("#15181d")
            self.plotter.setAccessibleName("3D view of the selected shape")
            self.plotter.setToolTip("Drag to rotate, Shift+drag to pan, wheel to zoom")
        except Exception as exc:  # noqa: BLE001 - any VTK / GL start-up failure means: no 3D here
            self.plotter = None
            return f"VTK could not start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        layout.addWidget(self.plotter, 1)
        return None

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
        return self.plotter is not None

    def actor_count(self) -> int:
        """Mesh actors in the viewport (0 without OpenGL)."""
        return 0 if self.plotter is None else len(self._mesh_actors())

    def reset_camera(self) -> None:
        if self.plotter is not None:
            self.plotter.camera_position = [VIEW_DIRECTION, (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)]
            self.plotter.reset_camera()
            self.plotter.camera.zoom(1.25)  # reset_camera fits the bounding sphere: roomier than needed
            self.plotter.render()

    def clear(self) -> None:
        self._cancel()
        self.meshes = []
        self._request = ()
        self.status.setText("No shape")
        self._redraw()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop the worker and release the render window (idempotent)."""
        self._cancel()
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
        self._request = tuple(records)
        self.meshes = [None] * len(records)
        names = " vs ".join(f"{getattr(r, 'name', r)} ({getattr(r, 'function', '?').upper()})" for r in records)
        self.status.setText(f"Meshing {names}…")
        gen, res = self._generation, self.resolution
        worker = GeneratorWorker(lambda: mesh_job(store, records, generation=gen, resolution=res),
                                 background=True)
        worker.signals.progress.connect(self._deliver)
        worker.signals.error.connect(self._job_failed)
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
            self.shown.emit(sum(m.vertices is not None for m in self.meshes))

    def _job_failed(self, message: str) -> None:
        self.status.setText(f"<span style='color:#ff8a80'>{message.splitlines()[0]}</span>")
        self.failed.emit(message)

    def _finished(self) -> None:
        self._worker = None

    def _legend(self) -> str:
        parts = []
        for k, mesh in enumerate(m for m in self.meshes if m is not None):
            r = mesh.record
            label = f"{r.name} · {r.function.upper()} · {r.arch}"
            if mesh.vertices is None:
                parts.append(f"<span style='color:#ff8a80'>{r.name}: {mesh.message}</span>")
            else:
                parts.append(f"<span style='color:{COLOURS[k % 2]}'>■</span> {label}")
        return "&nbsp;&nbsp;&nbsp;".join(parts) or "No shape"

    def _mesh_actors(self) -> list[str]:
        return [name for name in self.plotter.actors if name.startswith("inr-mesh-")]

    def _redraw(self, *_) -> None:
        if self.meshes and all(m is not None for m in self.meshes):
            self.status.setText(self._legend())
        if self.plotter is None:
            if self.meshes and all(m is not None for m in self.meshes):
                self.fallback.setText(f"3D view unavailable: {self.gl_error}\n\n"
                                      + "\n".join(f"{m.record.name}: {len(m.faces) if m.faces is not None else 0:,}"
                                                  " triangles" for m in self.meshes))
            return
        import pyvista as pv

        for name in self._mesh_actors():
            self.plotter.remove_actor(name, render=False)
        pair = len(self.meshes) == 2 and not self.overlay.isChecked()
        for k, mesh in enumerate(self.meshes):
            if mesh is None or mesh.vertices is None or len(mesh.faces) == 0:
                continue
            vertices = mesh.vertices.copy()
            if pair:
                vertices[:, 0] += (k - 0.5) * SIDE_GAP
            poly = pv.PolyData.from_regular_faces(vertices, mesh.faces)
            opacity = 0.55 if len(self.meshes) == 2 and not pair and k == 1 else 1.0
            self.plotter.add_mesh(poly, color=COLOURS[k % 2], name=f"inr-mesh-{k}", smooth_shading=True,
                                  opacity=opacity, render=False)
        self.reset_camera()
