"""The t-SNE map panel: every embedded INR as a point, coloured by category.

:class:`EmbeddingMapView` puts a :class:`~app.views.map_canvas.MapCanvas` beside a
legend (category colours, function markers: circle SDF, square UDF, triangle Occ; as wide
as its entries, and it can be hidden), with a bar above it: a menu of the architectures to
show, the legend toggle, the point count and "Fit view". Hovering a point shows a card with its name,
labels and thumbnail; the map itself is computed by
:func:`inret_engine.embedding_map.compute_map` in a worker and handed over with
:meth:`EmbeddingMapView.set_points`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QToolButton, QVBoxLayout, QWidget)

from ..models.map_points import MARKERS, PALETTE, MapPoints
from .gallery import ARCH_NAMES as GALLERY_ARCH_NAMES
from .map_canvas import MapCanvas, marker_path

ARCH_NAMES = {**GALLERY_ARCH_NAMES, "any": "shared"}
"""Display names of the architectures a map can show (``any``: the shared model)."""
FUNCTION_NAMES = (("SDF", 0), ("UDF", 1), ("Occ", 2))
CARD_THUMB = 96
LEGEND_MAX_PX = 260
THUMB_CACHE = 512


def _legend_icon(colour: str, marker: int) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QPen(QColor(10, 12, 16), 1))
    p.setBrush(QColor(colour))
    marker_path(p, marker, 7, 7, 10)
    p.end()
    return QIcon(pix)


class _HoverCard(QFrame):
    """A small card that follows the cursor: thumbnail, name, then category / function / architecture."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("mapHoverCard")
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setStyleSheet("#mapHoverCard { background: #23272e; border: 1px solid #3a414c; border-radius: 6px; }"
                           "QLabel { background: transparent; }")
        self.image = QLabel(alignment=Qt.AlignCenter)
        self.image.setFixedSize(CARD_THUMB, CARD_THUMB)
        self.text = QLabel(textFormat=Qt.RichText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 8, 10, 8)
        layout.addWidget(self.image)
        layout.addWidget(self.text)
        self.hide()

    def show_record(self, record, pixmap: QPixmap | None, pos: QPointF, overlapping: int = 0) -> None:
        arch = ARCH_NAMES.get(record.arch, record.arch)
        more = f"<br><i>+{overlapping} more at this spot</i>" if overlapping else ""
        self.text.setText(f"<b style='color:#e3e7ee'>{record.name}</b><br>"
                          f"<span style='color:#9aa4b2'>{record.category}<br>{record.function.upper()} · {arch}"
                          f"<br>id {record.id}{more}</span>")
        if pixmap is None:
            self.image.setPixmap(QPixmap())
            self.image.setText("<span style='color:#6c7684'>no preview</span>")
        else:
            self.image.setPixmap(pixmap.scaled(CARD_THUMB, CARD_THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        self.adjustSize()
        area = self.parentWidget().rect()
        x, y = int(pos.x()) + 16, int(pos.y()) + 16
        if x + self.width() > area.right():
            x = int(pos.x()) - 16 - self.width()
        if y + self.height() > area.bottom():
            y = int(pos.y()) - 16 - self.height()
        self.move(QPoint(max(0, x), max(0, y)))
        self.show()
        self.raise_()


class EmbeddingMapView(QWidget):
    """The t-SNE map with its legend and architecture toggles.

    Signals:
        selected(int): a point was clicked (INR id).
        query_requested(int): a point was double-clicked: query with this INR.
        selection_changed(list): ids inside a Shift+drag box; ``[]`` when the box is cleared.
        thumbnail_wanted(object): the hovered record has no thumbnail yet (connect to
            ``ThumbnailLoader.request``; answer with :meth:`set_thumbnail`).
    """

    selected = Signal(int)
    query_requested = Signal(int)
    selection_changed = Signal(list)
    thumbnail_wanted = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = MapCanvas(self)
        self.card = _HoverCard(self.canvas)
        self.legend = QListWidget(objectName="mapLegend")
        self.legend.setSelectionMode(QListWidget.NoSelection)
        self.legend.setFocusPolicy(Qt.NoFocus)
        self.legend.setIconSize(QSize(14, 14))
        self.legend.setAccessibleName("Map legend")
        self.legend.setToolTip("Colours: categories, with how many INRs each · markers: implicit functions")
        self.arch_menu = QMenu(self)
        self.arch_button = QToolButton(objectName="mapArchs", text="Architectures", popupMode=QToolButton.InstantPopup)
        self.arch_button.setMenu(self.arch_menu)
        self.arch_button.setStyleSheet("QToolButton { padding: 3px 18px 3px 6px; } QToolButton::menu-indicator "
                                       "{ subcontrol-origin: padding; subcontrol-position: right center; right: 4px; }")
        self.arch_button.setAccessibleName("Architectures shown on the map")
        self.arch_button.setToolTip("Show or hide the points of each architecture")
        self.arch_boxes: dict[str, QAction] = {}
        self.legend_button = QToolButton(objectName="mapLegendToggle", text="Legend", checkable=True, checked=True)
        self.legend_button.setAccessibleName("Show the map legend")
        self.legend_button.setToolTip("Show or hide the legend beside the map")
        self.legend_button.toggled.connect(self.legend.setVisible)
        self.count = QLabel(objectName="countLabel")
        fit = QPushButton("Fit view", objectName="mapFit")
        fit.setAccessibleName("Fit the map view")
        fit.setToolTip("Zoom and centre so every point shows (0, or double-click empty map space)")
        fit.clicked.connect(self.canvas.fit)
        bar = QHBoxLayout()
        bar.addWidget(self.arch_button)
        bar.addWidget(self.legend_button)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(fit)
        body = QHBoxLayout()
        body.setSpacing(6)
        body.addWidget(self.canvas, 1)
        body.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        self._thumbs: OrderedDict[int, QPixmap] = OrderedDict()
        self._wanted: set[int] = set()
        self._provider: Callable[[int], QImage | None] | None = None
        self._selection: list[int] = []
        self._hover_pos = QPointF()
        self.canvas.clicked.connect(self.selected)
        self.canvas.double_clicked.connect(self.query_requested)
        self.canvas.box_selected.connect(self._box_selected)
        self.canvas.hovered.connect(self._hovered)
        self.set_points(np.zeros(0, np.int64), np.zeros((0, 2)), {})

    # --- content ---------------------------------------------------------------------------
    def set_points(self, ids, xy, records: dict) -> None:
        """Show ``ids`` ``(N,)`` at ``xy`` ``(N, 2)``; ``records`` maps id -> InrRecord (others are left out)."""
        points = MapPoints(ids, xy, records)
        self._selection = []
        self._wanted.clear()
        self.card.hide()
        self.canvas.set_points(points)
        self._rebuild_arch_boxes(points.archs)
        self._rebuild_legend(points)
        self._update_count()

    def set_message(self, text: str) -> None:
        """Text shown over an empty map (e.g. "Computing the map…" or an error)."""
        self.canvas.message = text
        self.canvas.update()

    def set_thumbnail(self, inr_id: int, image: QImage) -> None:
        """A thumbnail for the hover card (e.g. from ``ThumbnailLoader.ready``)."""
        self._remember(int(inr_id), image)
        row = self.canvas.hover_row
        if row >= 0 and int(self.canvas.points.ids[row]) == int(inr_id) and self.card.isVisible():
            self._show_card(row)

    def set_thumbnail_provider(self, provider: Callable[[int], QImage | None] | None) -> None:
        """A quick look-up ``id -> QImage or None`` (e.g. cached PNGs) asked before ``thumbnail_wanted``."""
        self._provider = provider

    def highlight(self, query_id: int | None, neighbour_ids: Iterable[int] = ()) -> None:
        """Emphasise a query and its neighbours (others are dimmed); ``None`` clears it."""
        canvas = self.canvas
        canvas.query_row = canvas.points.row_of.get(int(query_id), -1) if query_id is not None else -1
        canvas.neighbour_rows = canvas.points.rows(neighbour_ids) if canvas.query_row >= 0 else np.zeros(0, np.int64)
        if canvas.query_row >= 0:
            x, y = canvas.to_screen(canvas.points.xy[canvas.query_row])
            if not canvas.rect().contains(int(x), int(y)):
                canvas.center = canvas.points.xy[canvas.query_row].copy()
        canvas.update()

    def select(self, inr_id: int | None) -> None:
        """Mark one point as the current one (no signal); ``None`` clears it."""
        self.canvas.selected_row = -1 if inr_id is None else self.canvas.points.row_of.get(int(inr_id), -1)
        self.canvas.update()

    def set_arch_visible(self, arch: str, visible: bool) -> None:
        """Show or hide one architecture's points (as its check box does)."""
        self.arch_boxes[arch].setChecked(visible)

    def fit(self) -> None:
        self.canvas.fit()

    # --- queries (also for tests) ----------------------------------------------------------
    def selection(self) -> list[int]:
        """Ids of the current box selection."""
        return list(self._selection)

    def visible_ids(self) -> list[int]:
        pts = self.canvas.points
        return [int(i) for i in pts.ids[pts.visible_rows()]]

    def screen_pos(self, inr_id: int) -> QPoint | None:
        """Where a point is drawn, in canvas pixels (None if it is not on the map)."""
        row = self.canvas.points.row_of.get(int(inr_id))
        if row is None:
            return None
        x, y = self.canvas.to_screen(self.canvas.points.xy[row])
        return QPoint(int(round(x)), int(round(y)))

    # --- internals -------------------------------------------------------------------------
    def _rebuild_arch_boxes(self, archs: list[str]) -> None:
        self.arch_menu.clear()
        self.arch_boxes = {}
        for arch in archs:
            action = self.arch_menu.addAction(ARCH_NAMES.get(arch, arch))
            action.setObjectName(f"mapArch_{arch}")
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(lambda on, a=arch: self._arch_toggled(a, on))
            self.arch_boxes[arch] = action
        self.arch_button.setEnabled(bool(archs))
        self._update_arch_button()

    def _update_arch_button(self) -> None:
        shown = [a for a, action in self.arch_boxes.items() if action.isChecked()]
        if not self.arch_boxes:
            text = "Architectures"
        elif len(self.arch_boxes) == 1:
            text = f"Architecture: {ARCH_NAMES.get(shown[0], shown[0])}" if shown else "Architecture: hidden"
        elif len(shown) == len(self.arch_boxes):
            text = "Architectures: all"
        else:
            text = f"Architectures: {len(shown)} of {len(self.arch_boxes)}"
        self.arch_button.setText(text)

    def _rebuild_legend(self, points: MapPoints) -> None:
        self.legend.clear()
        counts = np.bincount(points.category_code, minlength=len(points.categories))

        def header(text: str) -> None:
            item = QListWidgetItem(text)
            item.setFlags(Qt.NoItemFlags)
            item.setForeground(QColor("#8c96a5"))
            self.legend.addItem(item)

        header("Category")
        for k, category in enumerate(points.categories):
            item = QListWidgetItem(_legend_icon(PALETTE[k % len(PALETTE)], 0), f"{category}  ({counts[k]})")
            item.setFlags(Qt.ItemIsEnabled)
            self.legend.addItem(item)
        header("Function")
        for name, marker in FUNCTION_NAMES:
            item = QListWidgetItem(_legend_icon("#c9d1dc", marker), f"{name}  ({MARKERS[marker]})")
            item.setFlags(Qt.ItemIsEnabled)
            self.legend.addItem(item)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """As wide as its longest entry (so nothing is cut off), within reason; it scrolls when tall."""
        fm = self.legend.fontMetrics()
        texts = [self.legend.item(i).text() for i in range(self.legend.count())]
        widest = max((fm.horizontalAdvance(t) for t in texts), default=60)
        scroll = self.legend.verticalScrollBar().sizeHint().width()
        self.legend.setFixedWidth(min(LEGEND_MAX_PX, widest + self.legend.iconSize().width() + 34 + scroll))

    def _arch_toggled(self, arch: str, on: bool) -> None:
        self._update_arch_button()
        canvas = self.canvas
        canvas.points.set_arch_visible(arch, on)
        for attr in ("selected_row", "hover_row"):
            row = getattr(canvas, attr)
            if row >= 0 and not canvas.points.visible[row]:
                setattr(canvas, attr, -1)
        self.card.hide()
        if len(canvas.box_rows):
            canvas.box_rows = canvas.box_rows[canvas.points.visible[canvas.box_rows]]
            self._box_selected([int(i) for i in canvas.points.ids[canvas.box_rows]])
        canvas.update()
        self._update_count()

    def _box_selected(self, ids: list) -> None:
        self._selection = list(ids)
        self._update_count()
        self.selection_changed.emit(list(ids))

    def _hovered(self, row: int, pos: QPointF) -> None:
        if row < 0:
            self.card.hide()
            return
        self._hover_pos = pos
        self._show_card(row)

    def _show_card(self, row: int) -> None:
        record = self.canvas.points.records[row]
        overlapping = self.canvas.points.count_near(row, 1.5 / self.canvas.scale)
        self.card.show_record(record, self._thumbnail(record), self._hover_pos, overlapping)

    def _thumbnail(self, record) -> QPixmap | None:
        pixmap = self._thumbs.get(record.id)
        if pixmap is None and self._provider is not None:
            image = self._provider(record.id)
            if image is not None and not image.isNull():
                pixmap = self._remember(record.id, image)
        if pixmap is None and record.id not in self._wanted:
            self._wanted.add(record.id)
            self.thumbnail_wanted.emit(record)
        return pixmap

    def _remember(self, inr_id: int, image: QImage) -> QPixmap:
        pixmap = self._thumbs[inr_id] = QPixmap.fromImage(image)
        self._thumbs.move_to_end(inr_id)
        while len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        return pixmap

    def _update_count(self) -> None:
        pts = self.canvas.points
        shown = len(pts.visible_rows())
        text = f"{shown:,} of {len(pts):,} INRs" if shown != len(pts) else f"{len(pts):,} INRs"
        if self._selection:
            text += f" · {len(self._selection):,} selected"
        self.count.setText(text)
