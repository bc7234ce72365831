"""The gallery: a filter bar over a grid of INR thumbnails.

One :class:`GalleryView` holds the model, the filter and the thumbnail loader; it paints
each row with :class:`CardDelegate` (thumbnail above a name and a metadata line with the
implicit function as a coloured tag). Rows are uniform and the delegate paints straight
from the model, so 10,000 rows scroll like 10.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QStyle, QStyledItemDelegate, QVBoxLayout, QWidget

from inret_engine.render.shading import DEFAULT_COLORS
from inret_engine.store import InrRecord

from ..models.gallery_model import GalleryFilter, GalleryModel, RecordRole
from ..thumbnail_cache import THUMBNAIL_SIZE, ThumbnailLoader
from .filter_bar import FilterBar

ARCH_NAMES = {"hash": "hash grid", "mlp": "MLP"}
CARD = {"bg": "#1b1e23", "hover": "#242830", "selected": "#26405c", "border": "#3d7cc9",
        "stage": "#20242a", "name": "#e3e7ee", "meta": "#8c96a5"}



def _arch_name(kind: str) -> str:
    """``"hash"`` -> its display name (unknown kinds as they are)."""
    return ARCH_NAMES.get(kind, kind)


class CardDelegate(QStyledItemDelegate):
    """Paints a card: thumbnail on a soft stage with a function badge, the name, then ``category · arch``."""

    PAD = 8

    def __init__(self, thumb_size: int = THUMBNAIL_SIZE, parent=None):
        super().__init__(parent)
        self.thumb = thumb_size
        self.name_font = QFont()
        self.name_font.setWeight(QFont.Weight.DemiBold)
        self.meta_font = QFont()
        self.meta_font.setPointSizeF(max(7.0, self.meta_font.pointSizeF() * 0.88))
        self.tag_font = QFont(self.meta_font)
        self.tag_font.setWeight(QFont.Weight.Bold)
        self.name_fm, self.meta_fm, self.tag_fm = (QFontMetrics(f) for f in (self.name_font, self.meta_font,
                                                                              self.tag_font))
        line = self.name_fm.height() + self.meta_fm.height()
        self._size = QSize(self.thumb + 2 * self.PAD, self.thumb + 2 * self.PAD + line + 6)

    def sizeHint(self, option, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 - Qt API
        return self._size

    def paint(self, p: QPainter, option, index: QModelIndex | QPersistentModelIndex) -> None:
        rec: InrRecord = index.data(RecordRole)
        if rec is None:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        p.setPen(QColor(CARD["border"]) if selected else Qt.PenStyle.NoPen)
        p.setBrush(QColor(CARD["selected" if selected else "hover" if hover else "bg"]))
        p.drawRoundedRect(card, 7, 7)
        stage = QRect(card.left() + self.PAD - 3, card.top() + self.PAD - 3, self.thumb, self.thumb)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(CARD["stage"]) if not selected else QColor(0, 0, 0, 40))
        p.drawRoundedRect(stage, 5, 5)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None:
            p.drawPixmap(stage, pixmap)
        self._paint_tag(p, rec.function, stage)
        text = QRect(stage.left() + 2, stage.bottom() + 5, self.thumb - 4, card.bottom() - stage.bottom() - 5)
        self._paint_text(p, rec, text, selected)
        p.restore()

    def _paint_tag(self, p: QPainter, function: str, stage: QRect) -> None:
        """The implicit function as a small coloured badge in the stage's top-right corner."""
        tag = function.upper()
        rect = QRect(0, 0, self.tag_fm.horizontalAdvance(tag) + 10, self.tag_fm.height() + 2)
        rect.moveTopRight(stage.topRight() + QPoint(-5, 5))
        colour = QColor(*DEFAULT_COLORS.get(function, (120, 120, 120)))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(colour.red() // 4, colour.green() // 4, colour.blue() // 4, 210))
        p.drawRoundedRect(rect, 4, 4)
        p.setFont(self.tag_font)
        p.setPen(colour.lighter(140))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, tag)

    def _paint_text(self, p: QPainter, rec: InrRecord, rect: QRect, selected: bool) -> None:
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip
        name_h = self.name_fm.height()
        p.setFont(self.name_font)
        p.setPen(QColor("white" if selected else CARD["name"]))
        name = self.name_fm.elidedText(rec.name, Qt.TextElideMode.ElideRight, rect.width())
        p.drawText(QRect(rect.left(), rect.top(), rect.width(), name_h), left, name)
        p.setFont(self.meta_font)
        p.setPen(QColor("#c9d3e0" if selected else CARD["meta"]))
        meta = self.meta_fm.elidedText(f"{rec.category} · {ARCH_NAMES.get(rec.arch, rec.arch)}",
                                       Qt.TextElideMode.ElideRight, rect.width())
        p.drawText(QRect(rect.left(), rect.top() + name_h, rect.width(), self.meta_fm.height()), left, meta)


class GalleryView(QWidget):
    """Filter bar + thumbnail grid over a store's INRs.

    Signals:
        activated(InrRecord): double-click or Enter on a card.
        selected(InrRecord): the current card changed.
        count_changed(int, int): rows shown after filtering, rows in the store.
    """

    activated = Signal(object)
    selected = Signal(object)
    count_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, *, thumb_size: int = THUMBNAIL_SIZE):
        super().__init__(parent)
        self.model = GalleryModel(thumb_size=thumb_size, parent=self)
        self.proxy = GalleryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.loader = ThumbnailLoader(thumb_size, parent=self)
        self.model.thumbnail_wanted.connect(self.loader.request)
        self.loader.ready.connect(self.model.set_thumbnail)
        self.loader.failed.connect(self.model.set_thumbnail_failed)
        self.loader.dropped.connect(self.model.forget_requests)
        self._quiet = False

        self.bar = FilterBar()
        self.search, self.combos = self.bar.search, self.bar.combos
        self.bar.search_changed.connect(self.proxy.set_search)
        self.bar.filter_changed.connect(self._filter_changed)

        self.list = QListView()
        self.list.setObjectName("gallery")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setMouseTracking(True)
        self.list.setAccessibleName("Gallery of INRs")
        self.list.setToolTip("Every INR of the store. Click to see it in the side panels; double-click or Enter "
                             "to find similar shapes")
        self.delegate = CardDelegate(thumb_size, self.list)
        self.list.setItemDelegate(self.delegate)
        self.cell = self.delegate.sizeHint(None, QModelIndex()) + QSize(4, 4)
        self.list.setGridSize(self.cell)
        self.list.verticalScrollBar().setSingleStep(24)
        self.list.setModel(self.proxy)
        self.list.activated.connect(self._activated)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.empty = QLabel("No INRs match these filters", self.list.viewport())
        self.empty.setObjectName("galleryEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.list.viewport().installEventFilter(self)
        for signal in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.layoutChanged):
            signal.connect(self._count_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.bar)
        layout.addWidget(self.list, 1)

    # --- content ---------------------------------------------------------------------
    def set_store(self, store) -> None:
        """Show ``store``'s INRs (``None`` clears); pending thumbnails of the previous store are dropped."""
        self.loader.set_store(store)
        self.set_records([] if store is None else store.records())

    def set_records(self, records: list[InrRecord]) -> None:
        self.model.set_records(records)
        for field, combo in self.combos.items():
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(self.bar.all_text(field), None)
            names: Callable[[str], str] = {"function": str.upper, "arch": _arch_name}.get(field, str)
            for value in self.model.values(field):
                combo.addItem(names(value), value)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)
            self.proxy.set_field(field, combo.currentData())
        self.bar.refit()
        self._count_changed()

    def set_filter(self, field: str, value: str | None) -> None:
        """Pick ``value`` (``None`` = All) in a filter's combo box."""
        combo = self.combos[field]
        i = combo.findData(value)
        if i < 0:
            raise ValueError(f"no {field} {value!r} in this store")
        combo.setCurrentIndex(i)

    def show_only(self, ids: list[int] | None) -> None:
        """Narrow the rows to these catalog ids (on top of the filters and search); ``None``: all."""
        self.proxy.set_ids(ids)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def current_record(self) -> InrRecord | None:
        index = self.list.currentIndex()
        return index.data(RecordRole) if index.isValid() else None

    def shown(self) -> int:
        return self.proxy.rowCount()

    def show_current(self, record_id: int) -> bool:
        """Make this catalog id's card current and scroll to it, without emitting ``selected``.

        For a selection made elsewhere (a map point). False when the card is filtered out.
        """
        row = self.model.row_of(record_id)
        index = self.proxy.mapFromSource(self.model.index(row)) if row is not None else QModelIndex()
        if not index.isValid():
            self.list.selectionModel().clear()  # Enter must not query a card that is no longer the selection
            return False
        self._quiet = True
        try:
            self.list.setCurrentIndex(index)
        finally:
            self._quiet = False
        QTimer.singleShot(0, self._scroll_to_current)  # after the list has laid out pending rows
        return True

    def shutdown(self) -> None:
        self.loader.shutdown()

    # --- reactions -------------------------------------------------------------------
    def _filter_changed(self, field: str) -> None:
        self.proxy.set_field(field, self.combos[field].currentData())

    def _activated(self, index: QModelIndex) -> None:
        rec = index.data(RecordRole)
        if rec is not None:
            self.activated.emit(rec)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        rec = current.data(RecordRole) if current.isValid() else None
        if rec is not None and not self._quiet:
            self.selected.emit(rec)

    def _count_changed(self, *_) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.empty.setVisible(total > 0 and shown == 0)
        self.count_changed.emit(shown, total)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self.empty.setGeometry(self.list.viewport().rect())
            self._fit_columns(event.size().width())
        return super().eventFilter(watched, event)

    def _fit_columns(self, width: int) -> None:
        """Share the spare width between the columns, so the grid fills the view edge to edge.

        The list lays out in its viewport less a scroll bar's width (the style's, wider than the
        themed bar): a grid filling ``width`` exactly would wrap the last column to the next row.
        """
        extent = self.list.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        width -= max(0, extent - self.list.verticalScrollBar().width()) + 2
        columns = max(1, width // self.cell.width())
        grid = QSize(max(self.cell.width(), width // columns), self.cell.height())
        if grid != self.list.gridSize():
            self.list.setGridSize(grid)
            if self.list.currentIndex().isValid():  # the cards moved: keep the current one in sight
                QTimer.singleShot(0, self._scroll_to_current)

    def _scroll_to_current(self) -> None:
        if self.list.currentIndex().isValid():
            self.list.scrollTo(self.list.currentIndex())
