"""The results strip: the query card, then its top-k neighbours side by side.

Each card shows a thumbnail rendered from the INR (through a
:class:`~app.thumbnail_cache.ThumbnailLoader` of its own, so results never wait behind gallery
thumbnails), the name, the similarity (the cosine of the embeddings as a percentage, with
a legend beside the header), the category with a clear mark where it is
the query's, the implicit function (a badge) and the architecture. Text appears as soon
as a query is answered; thumbnails stream in after.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QListView, QVBoxLayout, QWidget

from inret_engine.retrieval.results import RETRIEVE_MODES, QueryOutcome, QuerySubject

from ..messages import SIMILARITY_HELP, similarity_text
from ..models.results_model import IsQueryRole, ItemRole, MatchRole, ResultsModel, ScoreRole
from ..thumbnail_cache import THUMBNAIL_SIZE, ThumbnailLoader
from .gallery import ARCH_NAMES, CARD, CardDelegate

COLORS = {"query": "#d9a441", "match": "#6cc788", "miss": "#d98579", "score": "#9cc3f0"}


SIMILARITY_LEGEND = "<span style='color:#7d8796'>% = similarity (cosine of the embeddings)</span>"
"""The short legend beside the results header; its tooltip is :data:`~app.messages.SIMILARITY_HELP`."""

HINT_HEIGHT = 52
"""The results strip's height while it only shows :data:`HOW_TO_QUERY` (a card strip's worth of
empty space went to the gallery and the side panels instead: a taller map)."""
HOW_TO_QUERY = ("Double-click a shape in the gallery or on the map, or drop an .inr, mesh or point-cloud file "
                "on the window, to find similar shapes.")


class ResultCardDelegate(CardDelegate):
    """A gallery card with a rank badge, the score, a category match mark and the architecture."""

    def __init__(self, thumb_size: int = THUMBNAIL_SIZE, parent=None):
        super().__init__(thumb_size, parent)
        self._size = self._size + QSize(0, self.meta_fm.height())
        self._index: QModelIndex | QPersistentModelIndex = QModelIndex()

    def paint(self, p: QPainter, option, index: QModelIndex | QPersistentModelIndex) -> None:
        self._index = index
        super().paint(p, option, index)
        card = option.rect.adjusted(3, 3, -3, -3)
        stage = QRect(card.left() + self.PAD - 3, card.top() + self.PAD - 3, self.thumb, self.thumb)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        query = bool(index.data(IsQueryRole))
        if query:
            p.setPen(QColor(COLORS["query"]))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(card.adjusted(0, 0, -1, -1), 7, 7)
        self._paint_badge(p, "QUERY" if query else f"#{index.row()}", stage,
                          QColor(COLORS["query"]) if query else QColor("#c9d3e0"))
        p.restore()

    def _paint_badge(self, p: QPainter, text: str, stage: QRect, colour: QColor) -> None:
        rect = QRect(0, 0, self.tag_fm.horizontalAdvance(text) + 10, self.tag_fm.height() + 2)
        rect.moveTopLeft(stage.topLeft() + QPoint(5, 5))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 150))
        p.drawRoundedRect(rect, 4, 4)
        p.setFont(self.tag_font)
        p.setPen(colour)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_text(self, p: QPainter, rec, rect: QRect, selected: bool) -> None:
        """Name; ``score ✓ category`` (or ``query · category``); architecture and function."""
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip
        name_h, meta_h = self.name_fm.height(), self.meta_fm.height()
        p.setFont(self.name_font)
        p.setPen(QColor("white" if selected else CARD["name"]))
        p.drawText(QRect(rect.left(), rect.top(), rect.width(), name_h), left,
                   self.name_fm.elidedText(rec.name, Qt.TextElideMode.ElideRight, rect.width()))
        line = QRect(rect.left(), rect.top() + name_h, rect.width(), meta_h)
        p.setFont(self.meta_font)
        score, match = self._index.data(ScoreRole), self._index.data(MatchRole)
        x = line.left()
        mark_colour = CARD["meta"]
        if score is None:
            x = self._draw(p, "query  ", line, x, COLORS["query"])
        else:
            x = self._draw(p, f"{similarity_text(score)}  ", line, x, COLORS["score"])
            if match is not None:
                mark_colour = COLORS["match" if match else "miss"]
                x = self._draw(p, "✓ " if match else "✗ ", line, x, mark_colour)
        category = rec.category if rec.category and rec.category != "?" else "no category"
        elided = self.meta_fm.elidedText(category, Qt.TextElideMode.ElideRight, max(10, line.right() - x))
        self._draw(p, elided, line, x, mark_colour)
        arch = f"{ARCH_NAMES.get(rec.arch, rec.arch)} · {rec.function.upper()}"
        p.setPen(QColor("#c9d3e0" if selected else CARD["meta"]))
        p.drawText(line.translated(0, meta_h), left,
                   self.meta_fm.elidedText(arch, Qt.TextElideMode.ElideRight, rect.width()))

    def _draw(self, p: QPainter, text: str, line: QRect, x: int, colour: str) -> int:
        p.setPen(QColor(colour))
        p.drawText(QRect(x, line.top(), line.right() - x, line.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip, text)
        return x + self.meta_fm.horizontalAdvance(text)


class ResultsView(QWidget):
    """Header + one row of result cards + a notice shown instead of cards when there are none.

    Signals:
        selected(object): a card was clicked: an ``InrRecord``, or the ``QuerySubject`` of a
            query that is not in the store.
        activated(object): a card was double-clicked (or Enter): the same objects; the window
            makes a store INR the next query.
    """

    selected = Signal(object)
    activated = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, thumb_size: int = THUMBNAIL_SIZE):
        super().__init__(parent)
        self.model = ResultsModel(self, thumb_size=thumb_size)
        self.loader = ThumbnailLoader(thumb_size, parent=self)
        self.model.thumbnail_wanted.connect(self.loader.request)
        self.loader.ready.connect(self.model.set_thumbnail)
        self.loader.failed.connect(self.model.set_thumbnail_failed)
        self.loader.dropped.connect(self.model.forget_requests)

        self.header = QLabel("Results", wordWrap=True)  # wraps, never holds the window wide
        self.header.setObjectName("resultsHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.legend = QLabel(SIMILARITY_LEGEND, textFormat=Qt.TextFormat.RichText)
        self.legend.setObjectName("resultsLegend")
        self.legend.setToolTip(SIMILARITY_HELP)
        self.legend.setAccessibleName("How similarity is scored")
        self.legend.setAccessibleDescription(SIMILARITY_HELP)
        self.list = QListView()
        self.list.setObjectName("results")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMouseTracking(True)
        self.list.setAccessibleName("Results")
        self.list.setToolTip("The query, then the shapes most similar to it. Click: show it in the side panels · "
                             "double-click or Enter: query with it")
        self.delegate = ResultCardDelegate(thumb_size, self.list)
        self.list.setItemDelegate(self.delegate)
        cell = self.delegate.sizeHint(None, QModelIndex()) + QSize(4, 4)
        self.list.setGridSize(cell)
        self.strip_height = cell.height() + self.list.horizontalScrollBar().sizeHint().height() + 6
        """The strip's height with cards in it; before any query it is :data:`HINT_HEIGHT`, the rest goes above."""
        self.list.setFixedHeight(self.strip_height)
        self.list.setModel(self.model)
        self.list.activated.connect(lambda index: self._emit(self.activated, index))
        self.list.clicked.connect(lambda index: self._emit(self.selected, index))
        self.notice = QLabel(self.list.viewport())
        self.notice.setObjectName("resultsNotice")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.legend)
        layout.addLayout(top)
        layout.addWidget(self.list)
        self.set_notice("")

    # --- content -----------------------------------------------------------------------
    def set_store(self, store) -> None:
        self.loader.set_store(store)
        self.model.clear()
        self.header.setText("Results")
        self.set_notice("")

    def show_query(self, subject: QuerySubject) -> None:
        """The query card at once; its results follow with :meth:`show_outcome`."""
        self.model.set_query(subject)
        self.header.setText(f"Results <span style='color:#7d8796'>— {subject.name}: searching…</span>")
        self.set_notice("")

    def show_preparing(self, name: str) -> None:
        """A dropped file is being prepared: say so at once (the query card follows when it is ready)."""
        self.header.setText(f"Results <span style='color:#7d8796'>— preparing <b>{name}</b>…</span>")
        self.set_notice(f"Preparing {name}: reading it and, for a mesh or point cloud, fitting it as an INR "
                        "(a few seconds). Its similar shapes appear here next.")

    def show_outcome(self, outcome: QueryOutcome) -> None:
        self.model.set_outcome(outcome)
        s = outcome.subject
        mode = dict(RETRIEVE_MODES)[outcome.mode].lower()
        labels = (f"{s.category}, {s.function.upper()}" if s.labelled
                  else f"{s.function.upper()}, from {Path(s.source).name}")
        shared = (f"; {sum(bool(outcome.matches(h)) for h in outcome.hits)} of {len(outcome.hits)} share its category"
                  if s.labelled else "")
        self.header.setText(f"Results <span style='color:#7d8796'>— {len(outcome.hits)} nearest to <b>{s.name}</b> "
                            f"({labels}), {mode}{shared}</span>")
        self.set_notice("" if outcome.hits else "No INRs of that function to compare with.")
        self.list.scrollToTop()

    def set_query_image(self, subject: QuerySubject, image) -> None:
        self.model.set_query_image(subject, image)

    def set_notice(self, text: str) -> None:
        """Text over the strip (advice, "no results"); ``""`` shows the how-to hint before any query, else hides it."""
        text = text or (HOW_TO_QUERY if self.model.rowCount() == 0 else "")
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.list.setFixedHeight(HINT_HEIGHT if text == HOW_TO_QUERY else self.strip_height)
        self._place_notice()
        if text and self.model.subject is not None and self.model.outcome is None:  # a query that cannot run
            self.header.setText(f"Results <span style='color:#7d8796'>— {self.model.subject.name}</span>")

    def shutdown(self) -> None:
        self.loader.shutdown()

    # --- reactions ---------------------------------------------------------------------
    def _emit(self, signal, index: QModelIndex) -> None:
        item = index.data(ItemRole)
        if item is not None:
            signal.emit(item.record if isinstance(item, QuerySubject) and item.record is not None else item)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._place_notice()
        return super().eventFilter(watched, event)

    def _place_notice(self) -> None:
        rect = self.list.viewport().rect()
        if self.model.rowCount():  # beside the query card
            rect.setLeft(self.list.gridSize().width() + 12)
        self.notice.setGeometry(rect.adjusted(12, 6, -12, -6))
