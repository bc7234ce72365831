"""The cutaway panel: a shape's SDF and UDF INRs cut open side by side, with field slices.

For one shape, :class:`CutawayPanel` shows a column per implicit function (SDF and UDF,
and Occ when the selected INR is one or the box is ticked; the selected INR's column is
marked; a query that is not in the store shows its own INR only): the INR rendered with
the half-space beyond a plane removed (an SDF shows a closed cap, a UDF its inner layers)
on a dark neutral background, and below it the field on that plane with the surface
contour and a colour bar with values. The
plane is an axis and an offset slider; moving it re-renders in a worker, at most one
job at a time (a newer plane cancels an older job between images), slices first since
they take milliseconds, at half size while the slider is held down. Baked lattices are
kept per shape, so only the first view of a shape pays for baking.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from inret_engine.render.jobs import FUNCTIONS, PanelImage, cutaway_job, siblings

from ..workers import GeneratorWorker, error_text, render_pool
from .colour_bar import ColourBarWidget
from .panel_style import CHECKBOX_QSS

SLICE_LEGEND = {"sdf": "black line: surface", "udf": "cyan: surface (< 0.01)", "occ": "magenta line: surface"}
"""What the slice's contour means (the colour bar above it says what the colours mean)."""
LAYOUT_OVERHEAD_PX = 140
"""Height of the controls, message, titles and captions around the images (roughly)."""
IMAGE_MIN_PX = 72
"""The smallest a render or slice gets (four side by side fit a 1024-px-wide window's side panel)."""
OFFSET_STEPS = 90
"""The slider runs over ``[-0.9, 0.9]`` in steps of 0.01."""


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    """``(H, W, 3)`` uint8 -> QPixmap (copied, so the array may go)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class ImageLabel(QLabel):
    """A label that scales its pixmap down to fit (keeping the aspect ratio), or shows text."""

    def __init__(self, edge: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.edge = edge
        self.image: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumSize(IMAGE_MIN_PX, IMAGE_MIN_PX)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #16181c; border-radius: 4px; color: #6c7684;")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.edge, self.edge)

    def set_image(self, pixmap: QPixmap | None, text: str = "") -> None:
        self.image = pixmap
        self.setText("" if pixmap is not None else text)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        if self.image is not None:
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            p = QPainter(self)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawPixmap(target, self.image)
            p.end()


class CutawayPanel(QWidget):
    """Cut-open renders and field slices of one shape's SDF / UDF (/ Occ) INRs.

    Signals:
        finished(): every image for the current plane has arrived (or failed).
        failed(str): an INR could not be shown (also shown in its column).
    """

    finished = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, size: int = 256, resolution: int = 97,
                 throttle_ms: int = 90):
        super().__init__(parent)
        self.image_size, self.resolution = size, resolution
        self.store = None
        self.records: dict = {}
        self.last_ms: dict[str, dict[str, float]] = {}
        self.pool = render_pool(self)
        self._worker: GeneratorWorker | None = None
        self._pending = False
        self._generation = 0
        self._cache: dict = {}
        self._timer = QTimer(self, singleShot=True, interval=throttle_ms)
        self._timer.timeout.connect(self._render)

        self.axis = QComboBox()
        self.axis.setObjectName("cutAxis")
        self.axis.addItems(["x", "y", "z"])
        self.axis.setCurrentText("z")
        self.axis.setToolTip("The axis the cutting plane is perpendicular to")
        self.axis.setAccessibleName("Cut axis")
        self.offset = QSlider(Qt.Orientation.Horizontal)
        self.offset.setObjectName("cutOffset")
        self.offset.setRange(-OFFSET_STEPS, OFFSET_STEPS)
        self.offset.setToolTip("Where the plane cuts: everything beyond it is removed (arrow keys move it by 0.01)")
        self.offset.setAccessibleName("Cut position")
        self.offset_label = QLabel()
        self.offset_label.setObjectName("filterLabel")
        self.offset_label.setMinimumWidth(70)
        self.show_occ = QCheckBox("Occ")
        self.show_occ.setObjectName("cutShowOcc")
        self.show_occ.setToolTip("Show the shape's occupancy INR too")
        self.show_occ.setAccessibleName("Show the occupancy INR too")
        self.show_occ.setStyleSheet(CHECKBOX_QSS)
        self.message = QLabel("Pick a shape to cut it open", wordWrap=True)
        self.message.setObjectName("cutMessage")
        self.message.setStyleSheet("color: #9aa4b2; padding: 2px;")
        bar = QHBoxLayout()
        cut = QLabel("Cut")
        cut.setObjectName("filterLabel")
        bar.addWidget(cut)
        bar.addWidget(self.axis)
        bar.addWidget(self.offset, 1)
        bar.addWidget(self.offset_label)
        bar.addWidget(self.show_occ)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        self.titles: dict[str, QLabel] = {}
        self.renders: dict[str, ImageLabel] = {}
        self.slices: dict[str, ImageLabel] = {}
        self.bars: dict[str, ColourBarWidget] = {}
        self.captions: dict[str, QLabel] = {}
        self.selected: str | None = None
        """The implicit function of the selected INR: its column always shows, and is marked."""
        self.only_own = False
        """Showing a query that is not in the store: its own function's column only."""
        for function in FUNCTIONS:
            self.titles[function] = QLabel(f"<b>{function.upper()}</b>", alignment=Qt.AlignmentFlag.AlignCenter)
            self.bars[function] = ColourBarWidget(function)
            self.renders[function] = ImageLabel(size)
            self.renders[function].setAccessibleName(f"{function.upper()} cutaway render")
            self.renders[function].setToolTip(f"The {function.upper()} INR rendered with the part beyond the "
                                              "cutting plane removed")
            self.slices[function] = ImageLabel(size)
            self.slices[function].setAccessibleName(f"{function.upper()} field slice")
            self.slices[function].setToolTip(f"The {function.upper()} INR's values on the cutting plane (colours: "
                                             f"the scale below it; {SLICE_LEGEND[function]})")
            self.captions[function] = QLabel(SLICE_LEGEND[function], alignment=Qt.AlignmentFlag.AlignCenter,
                                             wordWrap=True)
            self.captions[function].setStyleSheet("color: #8c96a5; font-size: 9pt;")
        self.wide: bool | None = None
        """Render beside slice (a short, wide panel) rather than above it; see :meth:`_arrange`."""
        self._arrange(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addLayout(self.grid, 1)

        self.axis.currentTextChanged.connect(self._plane_changed)
        self.offset.valueChanged.connect(self._plane_changed)
        self.offset.sliderReleased.connect(self._plane_changed)  # the full-size render after a drag
        self.show_occ.toggled.connect(self._occ_toggled)
        self._update_offset_label()
        self._show_columns(["sdf", "udf"])

    # --- public ----------------------------------------------------------------------------
    def show_shape(self, store, record) -> None:
        """Show ``record`` and the SDF and UDF INRs of its shape (its own architecture first).

        The record's own function always shows (an Occ record adds the Occ column) and its
        column title is marked.
        """
        self.store, self._cache, self.only_own = store, {}, False
        self._generation += 1  # images still on their way from the previous shape are dropped
        try:
            self.records = siblings(store, record)
        except Exception as exc:  # noqa: BLE001 - a bad row must not take the panel down
            self.records = {}
            self._say(f"Cannot read the INRs of {getattr(record, 'name', record)}: {exc}", error=True)
            return
        self._select_function(record.function)
        missing = [f.upper() for f in ("sdf", "udf") if f not in self.records]
        name = record.name
        if missing:
            have = " and ".join(f.upper() for f in self.records) or "nothing"
            self._say(f"This store holds no {' or '.join(missing)} INR of {name}: showing {have} only.")
        else:
            self._say(f"{name} · {record.category} · {record.arch}")
        self._start_columns()

    def show_subject(self, source, subject) -> None:
        """Show a query that is not in the store (a dropped file): its own INR only.

        Args:
            source: anything with ``load(subject) -> ShapeINR`` (:class:`app.panels.InrSource`).
            subject: a :class:`~inret_engine.retrieval.results.QuerySubject` carrying its INR.
        """
        self.store, self.records, self._cache, self.only_own = source, {subject.function: subject}, {}, True
        self._generation += 1
        self._select_function(subject.function)
        self._say(f"{subject.name} (from {subject.source}, not in the store): its {subject.function.upper()} INR")
        self._start_columns()

    def set_plane(self, axis: str, offset: float) -> None:
        """Move the cut to ``axis = offset`` (as the controls do)."""
        self.axis.setCurrentText(axis)
        self.offset.setValue(int(round(offset * 100)))

    def plane(self) -> tuple[str, float]:
        return self.axis.currentText(), self.offset.value() / 100.0

    def busy(self) -> bool:
        return self._worker is not None or self._timer.isActive()

    def clear(self) -> None:
        self._cancel()
        self.store, self.records, self._cache = None, {}, {}
        self._select_function(None)
        for function in FUNCTIONS:
            self.renders[function].set_image(None)
            self.slices[function].set_image(None)
        self._say("Pick a shape to cut it open")

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel pending work and wait for the worker (call before the panel goes)."""
        self._cancel()
        self.pool.waitForDone(timeout_ms)

    # --- internals -------------------------------------------------------------------------
    def _select_function(self, function: str | None) -> None:
        self.selected = function
        own = function == "occ"
        self.show_occ.setEnabled("occ" in self.records and not own)
        self.show_occ.setToolTip("The selected INR is an occupancy INR: its column always shows" if own
                                 else "Show the shape's occupancy INR too")
        for f, title in self.titles.items():
            mark = " <span style='color:#d9a441'>· selected</span>" if f == function else ""
            title.setText(f"<b>{f.upper()}</b>{mark}")

    def _start_columns(self) -> None:
        self._show_columns(self._wanted())
        self._fit_layout()
        for function in FUNCTIONS:
            text = (f"No {function.upper()} INR of this shape in the store" if function not in self.records
                    else "Rendering…")
            self.renders[function].set_image(None, text)
            self.slices[function].set_image(None, "" if function not in self.records else "Slicing…")
        self._render()

    def _wanted(self) -> list[str]:
        """SDF and UDF, and Occ when it is the selected INR's function or asked for; a query's own only."""
        if self.only_own:
            return list(self.records)
        wanted = ["sdf", "udf"]
        if "occ" in self.records and (self.show_occ.isChecked() or self.selected == "occ"):
            wanted.append("occ")
        return wanted

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_layout()

    def _fit_layout(self) -> None:
        """Pick the arrangement that gives the images the larger edge in the space there is."""
        n = len(self._wanted())
        w, h = self.width() - 8, self.height() - LAYOUT_OVERHEAD_PX
        self._arrange(min(w / (2 * n), h) > min(w / n, h / 2))

    def _arrange(self, wide: bool) -> None:
        """One column per function: render above slice, or (``wide``) render beside slice."""
        if wide == self.wide:
            return
        self.wide = wide
        for widgets in (self.titles, self.renders, self.slices, self.bars, self.captions):
            for widget in widgets.values():
                self.grid.removeWidget(widget)
        for k in range(2 * len(FUNCTIONS)):
            self.grid.setRowStretch(k, 0)
            self.grid.setColumnStretch(k, 0)
        for col, function in enumerate(FUNCTIONS):
            if wide:
                self.grid.addWidget(self.titles[function], 0, 2 * col, 1, 2)
                self.grid.addWidget(self.renders[function], 1, 2 * col)
                self.grid.addWidget(self.slices[function], 1, 2 * col + 1)
                self.grid.addWidget(self.bars[function], 2, 2 * col, 1, 2)  # under both: room for its values
                self.grid.addWidget(self.captions[function], 3, 2 * col, 1, 2)
            else:
                for row, cell in enumerate((self.titles[function], self.renders[function], self.slices[function],
                                            self.bars[function], self.captions[function])):
                    self.grid.addWidget(cell, row, col)
        for row in ((1,) if wide else (1, 2)):
            self.grid.setRowStretch(row, 1)

    def _show_columns(self, functions: list[str]) -> None:
        for function in FUNCTIONS:
            for widgets in (self.titles, self.renders, self.slices, self.bars, self.captions):
                widgets[function].setVisible(function in functions)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {'#ff8a80' if error else '#9aa4b2'}; padding: 2px;")

    def _occ_toggled(self, _on: bool) -> None:
        self._show_columns(self._wanted())
        self._fit_layout()
        self._plane_changed()

    def _update_offset_label(self) -> None:
        axis, offset = self.plane()
        self.offset_label.setText(f"{axis} = {offset:+.2f}")

    def _plane_changed(self, *_) -> None:
        self._update_offset_label()
        if self.records and not self._timer.isActive():
            self._timer.start()  # throttle: re-render while dragging, at most every interval

    def _cancel(self) -> None:
        self._timer.stop()
        self._pending = False
        self._generation += 1
        if self._worker is not None:
            self._worker.cancel()

    def _render(self) -> None:
        if not self.records or self.store is None:
            return
        if self._worker is not None:  # newest plane wins: stop the old job, start once it ends
            self._worker.cancel()
            self._pending = True
            return
        self._generation += 1
        records = {f: r for f, r in self.records.items() if f in self._wanted()}
        axis, offset = self.plane()
        size = self.image_size // 2 if self.offset.isSliderDown() else self.image_size  # quick previews mid-drag
        store, cache, gen, res = self.store, self._cache, self._generation, self.resolution
        worker = GeneratorWorker(lambda: cutaway_job(store, records, axis, offset, generation=gen, size=size,
                                                     resolution=res, cache=cache), render=True)
        worker.signals.progress.connect(self._deliver)
        worker.signals.errored.connect(self._job_failed)
        worker.signals.finished.connect(self._finished)
        self._worker = worker
        self.pool.start(worker)

    def _deliver(self, item: PanelImage) -> None:
        if item.generation != self._generation:
            return
        if item.kind == "error":
            self.renders[item.function].set_image(None, f"Cannot show this {item.function.upper()} INR:\n"
                                                         f"{item.message}")
            self.slices[item.function].set_image(None)
            self._say(f"{item.function.upper()}: {item.message}", error=True)
            self.failed.emit(item.message)
            return
        target = self.slices if item.kind == "slice" else self.renders
        target[item.function].set_image(to_pixmap(item.rgb) if item.rgb is not None else None)
        self.last_ms.setdefault(item.function, {})[item.kind] = item.ms

    def _job_failed(self, exc: BaseException) -> None:
        message = error_text(exc)
        self._say(message.split("\n")[0], error=True)
        self.failed.emit(message)

    def _finished(self) -> None:
        self._worker = None
        if self._pending:
            self._pending = False
            self._render()
        else:
            self.finished.emit()
