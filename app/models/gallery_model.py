"""The gallery's models: one row per INR record, and a filter over them.

:class:`GalleryModel` never renders: the first time a row's ``DecorationRole`` is read
(the row is being painted, so it is on screen) it emits ``thumbnail_wanted(record)``
once, and shows a neutral placeholder until :meth:`GalleryModel.set_thumbnail` brings
the image. Pixmaps are kept in a bounded LRU, so a 10,000-row store does not hold
10,000 pixmaps; an evicted row asks again when it is painted again (a cache hit on disk).

:class:`GalleryFilter` narrows rows by category / function / architecture / split and
a case-insensitive search over name, category and shape id (every word must match).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from inret_engine.store import InrRecord

RecordRole = Qt.ItemDataRole.UserRole + 1
ThumbnailStateRole = Qt.ItemDataRole.UserRole + 2
"""``"ready"``, ``"pending"`` or ``"failed"``."""

FILTER_FIELDS = ("category", "function", "arch", "split")
PIXMAP_CACHE = 2000


class GalleryModel(QAbstractListModel):
    """INR records with display text, tooltip, record and lazily loaded thumbnails."""

    thumbnail_wanted = Signal(object)

    def __init__(self, records: list[InrRecord] | None = None, parent=None, *, thumb_size: int = 128,
                 pixmap_cache: int = PIXMAP_CACHE):
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.pixmap_cache = pixmap_cache
        self._records: list[InrRecord] = []
        self._haystack: list[str] = []
        self._row_of: dict[int, int] = {}
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._wanted: set[int] = set()
        self._failed: dict[int, str] = {}
        self._placeholders: dict[str, QPixmap] = {}
        self.set_records(records or [])

    # --- content -------------------------------------------------------------------------
    def set_records(self, records: list[InrRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self._haystack = [f"{r.name}\n{r.category}\n{r.shape_id}".lower() for r in self._records]
        self._row_of = {r.id: row for row, r in enumerate(self._records)}
        self._pixmaps.clear()
        self._wanted.clear()
        self._failed.clear()
        self.endResetModel()

    def records(self) -> list[InrRecord]:
        return list(self._records)

    def record(self, row: int) -> InrRecord:
        return self._records[row]

    def row_of(self, record_id: int) -> int | None:
        """The row of a catalog id, or None."""
        return self._row_of.get(int(record_id))

    def haystack(self, row: int) -> str:
        """Lower-case text the search looks in."""
        return self._haystack[row]

    def values(self, field: str) -> list[str]:
        """Sorted distinct values of one record field (for filter choices)."""
        return sorted({getattr(r, field) for r in self._records} - {"", None})

    # --- thumbnails ----------------------------------------------------------------------
    def set_thumbnail(self, record_id: int, image: QImage) -> None:
        """Slot for the loader: keep the image as a pixmap (GUI thread) and repaint its row."""
        row = self._row_of.get(record_id)
        if row is None:
            return
        self._pixmaps[record_id] = QPixmap.fromImage(image)
        self._pixmaps.move_to_end(record_id)
        while len(self._pixmaps) > self.pixmap_cache:
            old, _ = self._pixmaps.popitem(last=False)
            self._wanted.discard(old)
        self._changed(row)

    def set_thumbnail_failed(self, record_id: int, message: str = "") -> None:
        row = self._row_of.get(record_id)
        if row is None:
            return
        self._failed[record_id] = message or "no preview"
        self._changed(row)

    def forget_requests(self, record_ids: list[int]) -> None:
        """Slot for the loader: these requests were dropped; ask again when the rows are painted."""
        self._wanted.difference_update(record_ids)

    def thumbnail(self, row: int) -> QPixmap | None:
        """The row's thumbnail if it has arrived (no request is made)."""
        return self._pixmaps.get(self._records[row].id)

    def _changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole, ThumbnailStateRole])

    def _decoration(self, rec: InrRecord) -> QPixmap:
        pixmap = self._pixmaps.get(rec.id)
        if pixmap is not None:
            self._pixmaps.move_to_end(rec.id)
            return pixmap
        if rec.id in self._failed:
            return self._placeholder("failed")
        if rec.id not in self._wanted:
            self._wanted.add(rec.id)
            self.thumbnail_wanted.emit(rec)
        return self._placeholder("pending")

    def _placeholder(self, state: str) -> QPixmap:
        if state not in self._placeholders:
            self._placeholders[state] = placeholder_pixmap(self.thumb_size, failed=state == "failed")
        return self._placeholders[state]

    # --- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rec = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{rec.name}\n{rec.category} · {rec.function.upper()} · {rec.arch}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(rec)
        if role == RecordRole:
            return rec
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(rec, self._failed.get(rec.id))
        if role == ThumbnailStateRole:
            return "ready" if rec.id in self._pixmaps else "failed" if rec.id in self._failed else "pending"
        return None


class GalleryFilter(QSortFilterProxyModel):
    """Rows of a :class:`GalleryModel` matching every set filter and every search word."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fields: dict[str, str] = {}
        self._words: tuple[str, ...] = ()
        self._ids: frozenset[int] | None = None

    def set_field(self, field: str, value: str | None) -> None:
        """Keep rows whose ``field`` (one of :data:`FILTER_FIELDS`) equals ``value``; ``None`` = all."""
        if field not in FILTER_FIELDS:
            raise ValueError(f"cannot filter on {field!r}; use one of {', '.join(FILTER_FIELDS)}")
        if self._fields.get(field) != value:
            self._refilter(lambda: self._fields.__setitem__(field, value) if value else self._fields.pop(field, None))

    def set_search(self, text: str) -> None:
        words = tuple(text.lower().split())
        if words != self._words:
            self._refilter(lambda: setattr(self, "_words", words))

    def set_ids(self, ids) -> None:
        """Keep only rows with these catalog ids (a selection made elsewhere, e.g. on the map); ``None``: all."""
        ids = None if ids is None else frozenset(int(i) for i in ids)
        if ids != self._ids:
            self._refilter(lambda: setattr(self, "_ids", ids))

    def ids(self) -> frozenset[int] | None:
        return self._ids

    def filters(self) -> dict[str, str]:
        return dict(self._fields)

    def record(self, row: int) -> InrRecord:
        return self._gallery().record(self.mapToSource(self.index(row, 0)).row())

    def _gallery(self) -> GalleryModel:
        source = self.sourceModel()
        assert isinstance(source, GalleryModel), "a GalleryFilter filters a GalleryModel"
        return source

    def _refilter(self, change) -> None:
        if hasattr(self, "endFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802 - Qt API
        source = self._gallery()
        rec = source.record(row)
        if self._ids is not None and rec.id not in self._ids:
            return False
        for field, value in self._fields.items():
            if getattr(rec, field) != value:
                return False
        if self._words:
            hay = source.haystack(row)
            return all(w in hay for w in self._words)
        return True


def tooltip(rec: InrRecord, error: str | None = None) -> str:
    chamfer = "n/a" if rec.chamfer is None else f"{rec.chamfer:.4f}"
    lines = [f"<b>{rec.name}</b>", f"shape {rec.shape_id}",
             f"{rec.category} · split {rec.split or '-'}",
             f"{rec.arch} ({rec.config_id}) · {rec.function.upper()}", f"Chamfer {chamfer}"]
    if rec.iou is not None:
        lines.append(f"IoU {rec.iou:.3f}")
    if error:
        lines.append(f"<span style='color:#e07a6e'>{error}</span>")
    return "<br>".join(lines)


def placeholder_pixmap(size: int, *, failed: bool = False) -> QPixmap:
    """A quiet tile shown until a thumbnail arrives (or when it cannot be made)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(0x8a, 0x50, 0x4a) if failed else QColor(0x3a, 0x40, 0x4a))
    p.setBrush(Qt.BrushStyle.NoBrush)
    r = size * 0.18
    box = pixmap.rect().adjusted(int(size * 0.3), int(size * 0.3), -int(size * 0.3), -int(size * 0.3))
    p.drawRoundedRect(box, r * 0.4, r * 0.4)
    if failed:
        p.drawLine(box.topLeft(), box.bottomRight())
    else:
        p.drawEllipse(box.center(), int(r * 0.5), int(r * 0.5))
    p.end()
    return pixmap
