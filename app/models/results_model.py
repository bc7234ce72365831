"""The results strip's model: the query first, then its neighbours best first.

Row 0 is the :class:`~inret_engine.retrieval.results.QuerySubject`; rows 1..k are the hits. Text is there as
soon as a query is answered; thumbnails arrive later, as with the gallery: the first
read of a row's ``DecorationRole`` emits ``thumbnail_wanted(record)`` once, and a
placeholder shows until :meth:`ResultsModel.set_thumbnail` brings the image. A query
that is not in the store has no record to render from; its image comes through
:meth:`ResultsModel.set_query_image`.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from inret_engine.retrieval.results import QueryOutcome, QuerySubject
from inret_engine.retrieval.retriever import Hit
from inret_engine.store import InrRecord

from ..messages import similarity_text, similarity_tooltip
from .gallery_model import RecordRole, ThumbnailStateRole, placeholder_pixmap, tooltip

ScoreRole = Qt.ItemDataRole.UserRole + 10
"""Cosine similarity of a hit (``None`` on the query row)."""
MatchRole = Qt.ItemDataRole.UserRole + 11
"""``True`` where a hit's category is the query's (``None`` on the query row, or when the query has none)."""
IsQueryRole = Qt.ItemDataRole.UserRole + 12
RankRole = Qt.ItemDataRole.UserRole + 13
ItemRole = Qt.ItemDataRole.UserRole + 14
"""What a row shows: the ``QuerySubject`` on row 0, the hit's ``InrRecord`` after."""


class ResultsModel(QAbstractListModel):
    """A query and its hits, with lazily loaded thumbnails."""

    thumbnail_wanted = Signal(object)

    def __init__(self, parent=None, *, thumb_size: int = 128):
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.subject: QuerySubject | None = None
        self.outcome: QueryOutcome | None = None
        self._hits: list[Hit] = []
        self._pixmaps: dict[int, QPixmap] = {}
        self._query_pixmap: QPixmap | None = None
        self._wanted: set[int] = set()
        self._failed: dict[int, str] = {}
        self._placeholders = {s: placeholder_pixmap(thumb_size, failed=s == "failed") for s in ("pending", "failed")}

    # --- content -----------------------------------------------------------------------
    def set_query(self, subject: QuerySubject) -> None:
        """Show the query alone (its results are on their way); keeps thumbnails already here."""
        if self.subject is not None and subject is not self.subject and not self._same_shape(subject):
            self._query_pixmap = None
        self.beginResetModel()
        self.subject, self.outcome, self._hits = subject, None, []
        self.endResetModel()

    def set_outcome(self, outcome: QueryOutcome) -> None:
        """Show the query and its hits."""
        if outcome.subject is not self.subject:
            self.set_query(outcome.subject)
        self.beginResetModel()
        self.outcome, self._hits = outcome, list(outcome.hits)
        keep = {h.record.id for h in self._hits} | ({self.subject.id} if self.subject is not None else set())
        self._pixmaps = {i: p for i, p in self._pixmaps.items() if i in keep}
        self._wanted &= keep
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self.subject, self.outcome, self._hits, self._query_pixmap = None, None, [], None
        self._pixmaps.clear()
        self._wanted.clear()
        self._failed.clear()
        self.endResetModel()

    def hits(self) -> list[Hit]:
        return list(self._hits)

    def item(self, row: int) -> QuerySubject | InrRecord:
        if row > 0:
            return self._hits[row - 1].record
        if self.subject is None:
            raise IndexError("no query is shown")
        return self.subject

    def _same_shape(self, subject: QuerySubject) -> bool:
        return subject.id is not None and self.subject is not None and subject.id == self.subject.id

    # --- thumbnails --------------------------------------------------------------------
    def set_thumbnail(self, record_id: int, image: QImage) -> None:
        """Slot for the loader: keep the image and repaint the rows showing that INR."""
        self._wanted.discard(record_id)
        self._failed.pop(record_id, None)
        self._pixmaps[record_id] = QPixmap.fromImage(image)
        self._changed_rows(record_id)

    def set_thumbnail_failed(self, record_id: int, message: str = "") -> None:
        self._failed[record_id] = message or "no preview"
        self._changed_rows(record_id)

    def forget_requests(self, record_ids: list[int]) -> None:
        self._wanted.difference_update(record_ids)

    def set_query_image(self, subject: QuerySubject, image: QImage) -> None:
        """The rendered thumbnail of a query that is not in the store."""
        if subject is self.subject and not image.isNull():
            self._query_pixmap = QPixmap.fromImage(image)
            self._changed(0)

    def _changed_rows(self, record_id: int) -> None:
        for row in range(self.rowCount()):
            rec = self.item(row)
            if getattr(rec, "id", None) == record_id:
                self._changed(row)

    def _changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole, ThumbnailStateRole])

    def _decoration(self, row: int) -> QPixmap:
        item = self.item(row)
        rid = getattr(item, "id", None)
        if rid is None:  # a query from outside the store
            return self._query_pixmap or self._placeholders["pending"]
        if rid in self._pixmaps:
            return self._pixmaps[rid]
        if rid in self._failed:
            return self._placeholders["failed"]
        if rid not in self._wanted:
            self._wanted.add(rid)
            self.thumbnail_wanted.emit(item.record if isinstance(item, QuerySubject) else item)
        return self._placeholders["pending"]

    def _state(self, row: int) -> str:
        rid = getattr(self.item(row), "id", None)
        if rid is None:
            return "ready" if self._query_pixmap is not None else "pending"
        return "ready" if rid in self._pixmaps else "failed" if rid in self._failed else "pending"

    # --- Qt model API ------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() or self.subject is None else 1 + len(self._hits)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.subject is None:
            return None
        row = index.row()
        item = self.item(row)
        hit = self._hits[row - 1] if row else None
        if role == Qt.ItemDataRole.DisplayRole:
            score = "query" if hit is None else f"#{row} {similarity_text(hit.score)} similar"
            return f"{item.name}\n{score} · {item.category} · {item.function.upper()} · {item.arch}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(row)
        if role in (RecordRole, ItemRole):
            return item if role == ItemRole or hit is not None else self.subject.record or self.subject
        if role == ScoreRole:
            return None if hit is None else hit.score
        if role == MatchRole:
            return None if hit is None or self.outcome is None else self.outcome.matches(hit)
        if role == IsQueryRole:
            return hit is None
        if role == RankRole:
            return row
        if role == ThumbnailStateRole:
            return self._state(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, hit)
        return None

    def _tooltip(self, item, hit: Hit | None) -> str:
        if hit is not None:
            return (f"#{self.index_of(hit)} · {similarity_tooltip(hit.score)}<br>"
                    + tooltip(hit.record, self._failed.get(hit.record.id)))
        if item.record is not None:
            return "<b>Query</b><br>" + tooltip(item.record)
        return f"<b>Query</b> {item.name}<br>{item.arch} · {item.function.upper()}<br>from {item.source}"

    def index_of(self, hit: Hit) -> int:
        return self._hits.index(hit) + 1
