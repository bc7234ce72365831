"""The map view: every embedded INR as a point, coloured by any catalog field.

:class:`EmbeddingMapView` puts a :class:`~app.views.map_canvas.MapCanvas` beside a
legend (the colours, function markers: circle SDF, square UDF, triangle Occ; as wide
as its entries, and it can be hidden), with a bar above it: what the colours show
(category, function, architecture, split, or fit quality as a colour ramp with a bar of
values under the map), a menu of the architectures to show, the legend toggle, the point
count and "Fit view". A box or lasso selection brings a second bar: "Isolate N points"
narrows the map (and the gallery) to them, "Show all" brings every point back, as in the
Embedding Projector. A 3D layout is shown in the same canvas, turned with the mouse or
Shift+arrow keys (:class:`~app.views.map_orbit.OrbitCanvas`). The gallery's search is
shown on the map: matches ringed, the rest dimmed. Hovering a point shows a card with its
name, labels and thumbnail; the map itself is computed by
:func:`inret_engine.retrieval.map_layout.compute_map` in a worker and handed over with
:meth:`EmbeddingMapView.set_points`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Set

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..models.map_points import COLOUR_FIELDS, CONTINUOUS, MapPoints
from .gallery import ARCH_NAMES as GALLERY_ARCH_NAMES
from .map_card import HoverCard
from .map_legend import RampBar, fill_legend
from .map_orbit import OrbitCanvas

ARCH_NAMES = {**GALLERY_ARCH_NAMES, "any": "shared"}
"""Display names of the architectures a map can show (``any``: the shared model)."""
THUMB_CACHE = 512


class EmbeddingMapView(QWidget):
    """The map with its legend, colouring, architecture toggles, isolation and search highlight.

    Signals:
        selected(int): a point was clicked (INR id).
        query_requested(int): a point was double-clicked: query with this INR.
        selection_changed(list): the ids the gallery should narrow to: those inside a box or
            lasso, else the isolated ones; ``[]`` when neither is left.
        thumbnail_wanted(object): the hovered record has no thumbnail yet (connect to
            ``ThumbnailLoader.request``; answer with :meth:`set_thumbnail`).
    """

    selected = Signal(int)
    query_requested = Signal(int)
    selection_changed = Signal(list)
    thumbnail_wanted = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = OrbitCanvas(self)
        self.card = HoverCard(self.canvas)
        self.legend = QListWidget()
        self.legend.setObjectName("mapLegend")
        self.legend.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.legend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend.setIconSize(QSize(14, 14))
        self.legend.setAccessibleName("Map legend")
        self.legend.setToolTip("Colours: the values of the field the points are coloured by, with how many INRs each "
                               "· markers: implicit functions")
        self.colour_combo = QComboBox()
        self.colour_combo.setObjectName("mapColourBy")
        for field, name in COLOUR_FIELDS.items():
            self.colour_combo.addItem(name, field)
        self.colour_combo.setToolTip("Colour the points by a catalog field; fit quality (Chamfer, IoU) as a colour "
                                     "ramp with its values under the map")
        self.colour_combo.setAccessibleName("Colour the map points by")
        self.colour_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.colour_combo.currentIndexChanged.connect(lambda _i: self.set_colour_by(self.colour_combo.currentData()))
        self.ramp = RampBar()
        self.ramp.hide()
        self.arch_menu = QMenu(self)
        self.arch_button = QToolButton(popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.arch_button.setText("Architectures")
        self.arch_button.setObjectName("mapArchs")
        self.arch_button.setMenu(self.arch_menu)
        self.arch_button.setStyleSheet("QToolButton { padding: 3px 18px 3px 6px; } QToolButton::menu-indicator "
                                       "{ subcontrol-origin: padding; subcontrol-position: right center; right: 4px; }")
        self.arch_button.setAccessibleName("Architectures shown on the map")
        self.arch_button.setToolTip("Show or hide the points of each architecture")
        self.arch_boxes: dict[str, QAction] = {}
        self.legend_button = QToolButton()
        self.legend_button.setText("Legend")
        self.legend_button.setCheckable(True)
        self.legend_button.setChecked(True)
        self.legend_button.setObjectName("mapLegendToggle")
        self.legend_button.setAccessibleName("Show the map legend")
        self.legend_button.setToolTip("Show or hide the legend beside the map")
        self.legend_button.toggled.connect(self.legend.setVisible)
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        fit = QPushButton("Fit view")
        fit.setObjectName("mapFit")
        fit.setAccessibleName("Fit the map view")
        fit.setToolTip("Zoom and centre so every point shows (0, or double-click empty map space)")
        fit.clicked.connect(self.canvas.fit)
        bar = QHBoxLayout()
        colour_label = QLabel("Colour")
        colour_label.setObjectName("filterLabel")
        colour_label.setBuddy(self.colour_combo)
        bar.addWidget(colour_label)
        bar.addWidget(self.colour_combo)
        bar.addWidget(self.arch_button)
        bar.addWidget(self.legend_button)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(fit)
        self.selection_bar = self._build_selection_bar()
        plot = QVBoxLayout()
        plot.setSpacing(2)
        plot.addWidget(self.canvas, 1)
        plot.addWidget(self.ramp)
        body = QHBoxLayout()
        body.setSpacing(6)
        body.addLayout(plot, 1)
        body.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.selection_bar)
        layout.addLayout(body, 1)
        self._thumbs: OrderedDict[int, QPixmap] = OrderedDict()
        self._wanted: set[int] = set()
        self._provider: Callable[[int], QImage | None] | None = None
        self._selection: list[int] = []
        self._isolated: list[int] | None = None
        self._search = ""
        self._hover_pos = QPointF()
        self.canvas.clicked.connect(self.selected)
        self.canvas.double_clicked.connect(self.query_requested)
        self.canvas.box_selected.connect(self._box_selected)
        self.canvas.hovered.connect(self._hovered)
        self.set_points(np.zeros(0, np.int64), np.zeros((0, 2)), {})

    def _build_selection_bar(self) -> QWidget:
        widget = QWidget()
        widget.setObjectName("mapSelectionBar")
        self.selection_label = QLabel()
        self.selection_label.setObjectName("filterLabel")
        self.isolate_button = QPushButton("Isolate")
        self.isolate_button.setObjectName("mapIsolate")
        self.isolate_button.setToolTip("Show only the selected points on the map (and in the gallery)")
        self.isolate_button.setAccessibleName("Isolate the selected points")
        self.isolate_button.clicked.connect(self.isolate)
        self.show_all_button = QPushButton("Show all")
        self.show_all_button.setObjectName("mapShowAll")
        self.show_all_button.setToolTip("Clear the selection and the isolation: every point shows again")
        self.show_all_button.setAccessibleName("Show every point on the map")
        self.show_all_button.clicked.connect(self.show_all)
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.selection_label)
        row.addStretch(1)
        row.addWidget(self.isolate_button)
        row.addWidget(self.show_all_button)
        widget.hide()
        return widget

    # --- content ---------------------------------------------------------------------------
    def set_points(self, ids, xy, records: dict) -> None:
        """Show ``ids`` ``(N,)`` at ``xy`` ``(N, 2)``, or ``(N, 3)`` for a 3D map; ``records`` maps id -> InrRecord
        (others are left out).

        The colouring, the search highlight and an isolation carry over (a new projection
        of the same store keeps them); a box selection does not.
        """
        points = MapPoints(ids, xy, records)
        points.set_colour_by(self.colour_combo.currentData())
        self._selection = []
        self._wanted.clear()
        self.card.hide()
        hidden = {a for a, action in self.arch_boxes.items() if not action.isChecked()}
        for arch in hidden & set(points.archs):
            points.set_arch_visible(arch, False)
        if self._isolated is not None:
            points.isolate(points.rows(self._isolated))
        self.canvas.set_points(points)
        self.canvas.search_rows = points.matching(self._search)
        self._rebuild_arch_boxes(points.archs, hidden)
        self._show_colours()
        self._update_count()

    def set_colour_by(self, field: str) -> None:
        """Colour the points by a field of :data:`~app.models.map_points.COLOUR_FIELDS`."""
        i = self.colour_combo.findData(field)
        if i < 0:
            raise ValueError(f"cannot colour by {field!r}")
        if i != self.colour_combo.currentIndex():
            self.colour_combo.setCurrentIndex(i)  # comes back here through the signal
            return
        self.canvas.points.set_colour_by(field)
        self._show_colours()
        self.canvas.update()

    def colour_by(self) -> str:
        return self.colour_combo.currentData()

    def set_search(self, text: str) -> None:
        """Highlight the points matching the gallery's search (every word in name, category or shape id)."""
        self._search = text
        self.canvas.search_rows = self.canvas.points.matching(text)
        self._update_count()
        self.canvas.update()

    def isolate(self) -> None:
        """Narrow the map to the selected points (the Embedding Projector's "Isolate N points")."""
        if not self._selection:
            return
        self._isolated = list(self._selection)
        canvas = self.canvas
        canvas.box_rows = np.zeros(0, np.int64)
        self._selection = []
        canvas.points.isolate(canvas.points.rows(self._isolated))
        self._forget_hidden_marks()
        canvas.fit()
        self._update_count()
        self.selection_changed.emit(list(self._isolated))

    def isolate_ids(self, ids) -> None:
        """Narrow the map to these ids (as :meth:`isolate` does with a selection); ``None``: show all."""
        if ids is None:
            self.show_all()
            return
        self._selection = [int(i) for i in ids if int(i) in self.canvas.points.row_of]
        self.isolate()

    def isolated_ids(self) -> list[int] | None:
        return None if self._isolated is None else list(self._isolated)

    def show_all(self) -> None:
        """Clear the box selection and the isolation: every point (of the shown architectures) again."""
        had = bool(self._selection) or self._isolated is not None
        self._isolated, self._selection = None, []
        self.canvas.box_rows = np.zeros(0, np.int64)
        self.canvas.points.isolate(None)
        self.canvas.fit()
        self._update_count()
        if had:
            self.selection_changed.emit([])

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

    def hidden_archs(self) -> list[str]:
        return sorted(a for a, action in self.arch_boxes.items() if not action.isChecked())

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
    def _rebuild_arch_boxes(self, archs: list[str], hidden: Set[str] = frozenset()) -> None:
        self.arch_menu.clear()
        self.arch_boxes = {}
        for arch in archs:
            action = self.arch_menu.addAction(ARCH_NAMES.get(arch, arch))
            action.setObjectName(f"mapArch_{arch}")
            action.setCheckable(True)
            action.setChecked(arch not in hidden)
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

    def _show_colours(self) -> None:
        points = self.canvas.points
        fill_legend(self.legend, points)
        field = points.colour_by
        if field in CONTINUOUS and points.value_range is not None:
            lo, hi = points.value_range
            values = points.values(field)
            self.ramp.set_range(field, lo, hi, bool(np.nanmax(values) > hi) if np.isfinite(values).any() else False)
            self.ramp.show()
        else:
            self.ramp.hide()

    def _arch_toggled(self, arch: str, on: bool) -> None:
        self._update_arch_button()
        canvas = self.canvas
        canvas.points.set_arch_visible(arch, on)
        self._forget_hidden_marks()
        if len(canvas.box_rows):
            canvas.box_rows = canvas.box_rows[canvas.points.visible[canvas.box_rows]]
            self._box_selected([int(i) for i in canvas.points.ids[canvas.box_rows]])
        canvas.update()
        self._update_count()

    def _forget_hidden_marks(self) -> None:
        canvas = self.canvas
        for attr in ("selected_row", "hover_row"):
            row = getattr(canvas, attr)
            if row >= 0 and not canvas.points.visible[row]:
                setattr(canvas, attr, -1)
        self.card.hide()

    def _box_selected(self, ids: list) -> None:
        self._selection = list(ids)
        self._update_count()
        self.selection_changed.emit(list(ids) if ids or self._isolated is None else list(self._isolated))

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
        matches = self.canvas.search_rows
        if matches is not None:
            text += f" · {len(matches):,} match"
        self.count.setText(text)
        self.count.setToolTip("Points shown of all on the map; selected: in the box or lasso; match: the gallery "
                              "search's matches, ringed on the map (the rest dimmed)")
        n = len(self._selection)
        if n:
            self.selection_label.setText(f"{n:,} selected" + (" of the isolated points" if self._isolated else ""))
            self.isolate_button.setText(f"Isolate {n:,} point{'s' if n != 1 else ''}")
        elif self._isolated is not None:
            self.selection_label.setText(f"Isolated: {len(self._isolated):,} points")
        self.isolate_button.setVisible(bool(n))
        self.selection_bar.setVisible(bool(n) or self._isolated is not None)
