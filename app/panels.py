"""The side panels of the main window and their wiring: the map above, the selected shape below.

:class:`SidePanels` stacks the t-SNE map (:class:`~app.map_panel.MapPanel`) over a tab
widget of detail panels for the selected shape: its SDF / UDF cutaways
(:class:`~app.views.cutaways.CutawayPanel`) and a 3D view
(:class:`~app.views.shape_view.ShapeView`), which can show a selected result beside its
query. Where the panel is too short for both (a 1024x700 or 1366x768 window), the map
becomes a third tab, "Map", and moves back above the tabs when the window grows.
:meth:`SidePanels.wire` connects them to the window:

* a shape selected in the gallery, the results strip or on the map goes to the detail
  panels, and the map marks it; only the visible detail tab works on it (the other
  catches up when its tab is opened), each in its own worker;
* a double-clicked map point becomes the query; an answered query rings its query and
  hits on the map (switching to the map of the encoder that answered);
* a box selection on the map (or the points it isolates) narrows the gallery
  (:meth:`MainWindow.show_only_ids`); the gallery's search is highlighted on the map;
* the map's hover card gets thumbnails from the gallery's loader;
* a store opened, reloaded or closed resets all three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from inret_engine.retrieval.results import QuerySubject
from inret_engine.store import InrRecord

from .map_panel import MapPanel
from .views.cutaways import CutawayPanel
from .views.panel_style import CHECKBOX_QSS
from .views.shape_view import ShapeView

if TYPE_CHECKING:
    from .main_window import MainWindow


class InrSource:
    """What the 3D view's mesh job loads from: store rows, and queries that are not in the store.

    A :class:`QuerySubject` without a catalog row (a dropped file) carries its INR; one with
    a row (a store INR, maybe queried through a distilled copy) shows the row's own INR.
    """

    def __init__(self, store):
        self.store = store

    def load(self, item):
        if isinstance(item, QuerySubject):
            if item.record is None:
                return item.inr
            item = item.record
        return self.store.load(item)


def record_of(item) -> InrRecord | None:
    """The catalog row behind a selected item (a row, or a query that is in the store)."""
    return item if isinstance(item, InrRecord) else getattr(item, "record", None)


STACK_MIN_PX = 520
"""Below this height the map becomes a third tab beside Cutaways and 3D instead of sitting above them
(stacked, each would get less than about 260 px: too little for a map or a cutaway)."""


class SidePanels(QSplitter):
    """The map above Cutaways and 3D tabs of the selected shape; on a short screen, the map as a tab.

    Attributes:
        map: the :class:`MapPanel` (its view is ``map.view``).
        cutaways, shape_view: the detail panels.
        details: their tab widget (with a "Map" tab too when not ``stacked``).
        stacked: whether the map sits above the tabs (the panel is at least :data:`STACK_MIN_PX` tall).
        pair: "beside its query" check box of the 3D tab.
        current: the selected item (``InrRecord`` or ``QuerySubject``), or None.
    """

    def __init__(self, window: MainWindow, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setObjectName("sidePanels")
        self.main = window  # (QWidget.window() is Qt's: the top-level widget)
        self.map = MapPanel(window.runner)
        self.cutaways = CutawayPanel()
        self.shape_view = ShapeView()
        self.pair = QCheckBox("Beside its query")
        self.pair.setChecked(True)
        self.pair.setObjectName("shapePair")
        self.pair.setStyleSheet(CHECKBOX_QSS)
        self.pair.setEnabled(False)
        self.pair.setToolTip("Show a selected result next to its query (select a result in the strip below)")
        self.pair.setAccessibleName("Show a selected result beside its query")
        three_d = QWidget()
        box = QVBoxLayout(three_d)
        box.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        note = QLabel("A selected result")
        note.setObjectName("filterLabel")
        bar.addWidget(note)
        bar.addWidget(self.pair)
        bar.addStretch(1)
        box.addLayout(bar)
        box.addWidget(self.shape_view, 1)
        self.details = QTabWidget()
        self.details.setObjectName("detailPanels")
        self.details.setAccessibleName("Selected shape")
        self.details.addTab(self.cutaways, "Cutaways")
        self.details.setTabToolTip(0, "The selected shape cut open by a plane, with its field on that plane")
        self.details.addTab(three_d, "3D")
        self.details.setTabToolTip(1, "The selected shape as a rotatable mesh")
        self.details.tabBar().setAccessibleName("Panels of the selected shape")
        self.details.tabBar().setToolTip("Cutaways, 3D view (and the map, on a short window)")
        self.addWidget(self.map)
        self.addWidget(self.details)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 1)
        self.stacked = True
        self._sized = False
        self.setChildrenCollapsible(False)
        self.current = None
        self._shown: dict[str, tuple] = {}
        """What each detail panel last got: ``"cutaways"`` / ``"3d"`` -> ``(item, paired query)``."""
        self._thumbs_asked: set[int] = set()
        """Ids whose thumbnails the map's hover card asked the gallery's loader for."""

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._sized and self.stacked:  # half and half, whatever the size hints say (then the user's choice)
            self._sized = True
            half = sum(self.sizes()) // 2
            self.setSizes([half, half])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.set_stacked(event.size().height() >= STACK_MIN_PX)
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """What the map as a tab needs: a short window switches to it rather than being held taller."""
        pages = [self.map.minimumSizeHint(), self.cutaways.minimumSizeHint(), self.shape_view.minimumSizeHint()]
        bar = self.details.tabBar().sizeHint().height()
        return QSize(max(p.width() for p in pages), max(p.height() for p in pages) + bar + 8)

    def show_panel(self, name: str) -> None:
        """Bring ``"cutaways"``, ``"3d"`` or ``"map"`` to the front (the map only needs it when it is a tab)."""
        page = self.panels[name] if name != "3d" else self.details.widget(1)
        if page is not None and self.details.indexOf(page) >= 0:
            self.details.setCurrentWidget(page)

    def set_stacked(self, stacked: bool) -> None:
        """The map above the detail tabs (``True``) or as their third tab, "Map"."""
        if stacked == self.stacked:
            return
        self.stacked = stacked
        if stacked:
            on_map = self.details.currentWidget() is self.map
            self.details.removeTab(self.details.indexOf(self.map))
            self.insertWidget(0, self.map)
            self.map.show()
            if on_map:
                self.details.setCurrentWidget(self.cutaways)
            half = max(2, self.height()) // 2
            self.setSizes([half, half])
        else:
            self.details.addTab(self.map, "Map")  # takes it out of the splitter
            self.details.setTabToolTip(self.details.indexOf(self.map), "The t-SNE map of the store's embeddings")

    @property
    def panels(self) -> dict[str, QWidget]:
        return {"map": self.map, "cutaways": self.cutaways, "3d": self.shape_view}

    def wire(self) -> None:
        w, view = self.main, self.map.view
        view.selected.connect(w.select_id)
        view.query_requested.connect(w.query_id)
        view.selection_changed.connect(w.show_only_ids)
        view.thumbnail_wanted.connect(self._thumbnail_wanted)
        w.gallery.bar.search_changed.connect(view.set_search)
        w.gallery.loader.ready.connect(self._thumbnail_ready)
        w.record_selected.connect(self.show_item)
        w.store_changed.connect(self.set_store)
        w.controller.encoders_loaded.connect(self.map.set_encoders)
        w.controller.results_ready.connect(self.show_outcome)
        self.map.message.connect(lambda text: w.statusBar().showMessage(text, 8000))
        self.map.query_wanted.connect(w.query_id)
        self.details.currentChanged.connect(self._update_details)
        self.pair.toggled.connect(self._update_details)

    # --- reactions -------------------------------------------------------------------------
    def set_store(self, store) -> None:
        """A store was opened, reloaded (``Store``) or closed (``None``): start over."""
        self.current, self._shown = None, {}
        self._thumbs_asked.clear()
        self.cutaways.clear()
        self.shape_view.clear()
        self.pair.setEnabled(False)
        self.map.set_store(store, self.main.model.records() if store is not None else [])

    def show_item(self, item) -> None:
        """Show a selected shape (a row, or a query) in the visible detail panel; mark it on the map."""
        self.current = item
        record = record_of(item)
        self.map.select(None if record is None else record.id)
        self._update_details()

    def show_outcome(self, outcome) -> None:
        """Ring the query and its hits on the map (the map of the encoder that answered)."""
        subject, encoders = outcome.subject, self.main.controller.encoders
        retriever = None
        if encoders:
            retriever = (encoders.for_shape_inr(subject.inr) if subject.inr is not None
                         else encoders.for_record(subject.record))
        self.map.show_query(subject.id, [h.record.id for h in outcome.hits], retriever)
        self._update_details()

    def clear_map_selection(self) -> None:
        """Drop the map's box selection and isolation; the gallery shows every row again."""
        self.map.view.show_all()

    def busy(self) -> bool:
        """Whether a detail panel is still working on the selection."""
        return self.cutaways.busy() or self.shape_view.pool.activeThreadCount() > 0

    def shutdown(self) -> None:
        """Stop the detail panels' workers and release the 3D view's render window."""
        self.cutaways.shutdown()
        self.shape_view.shutdown()

    # --- internals -------------------------------------------------------------------------
    def _thumbnail_wanted(self, record) -> None:
        self._thumbs_asked.add(record.id)
        self.main.gallery.loader.request(record)

    def _thumbnail_ready(self, inr_id: int, image) -> None:
        if inr_id in self._thumbs_asked:  # the gallery's own thumbnails stay the gallery's
            self._thumbs_asked.discard(inr_id)
            self.map.view.set_thumbnail(inr_id, image)

    def _paired_query(self):
        """The query of the current results when the selected item is one of its hits, else None."""
        outcome, item = self.main.controller.outcome, self.current
        if outcome is None or not isinstance(item, InrRecord) or outcome.subject.id == item.id:
            return None
        return outcome.subject if any(h.record.id == item.id for h in outcome.hits) else None

    def _update_details(self, *_) -> None:
        query = self._paired_query()
        self.pair.setEnabled(query is not None)
        store, item = self.main.store, self.current
        if store is None or item is None:
            return
        page = self.details.currentWidget()
        if page is self.map:
            return
        key = "cutaways" if page is self.cutaways else "3d"
        want = (item, query if key == "3d" and self.pair.isChecked() else None)
        if self._shown.get(key) == want:
            return
        self._shown[key] = want
        if key == "cutaways":
            self._show_cutaways(store, item)
        elif want[1] is not None:
            self.shape_view.show_pair(InrSource(store), want[1], item)
        else:
            self.shape_view.show_record(InrSource(store), item)

    def _show_cutaways(self, store, item) -> None:
        record = record_of(item)
        if record is None:  # a query from a file: its own INR
            self.cutaways.show_subject(InrSource(store), item)
            return
        self.cutaways.show_shape(store, record)
