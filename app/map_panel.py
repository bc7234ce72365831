"""The map tab: the map view fed with the open store's embeddings, its projection and saved views.

:class:`MapPanel` puts an encoder chooser, the projection controls (t-SNE / PCA / UMAP and
their parameter, :class:`~app.views.map_tools.ProjectionBar`) and the saved-views menu
above an :class:`~app.views.embedding_map.EmbeddingMapView` and keeps it filled: when a
store opens it waits for the embeddings, then runs
:func:`inret_engine.retrieval.map_layout.compute_map` through the window's
:class:`~app.workers.JobRunner` (progress and Cancel in the status bar; each layout is
cached on disk per encoder and projection, so a reopened store or a projection seen
before shows at once). Each encoder has its own embedding space, hence its own map; the
chooser shows only when a store has several. A query's highlight and the selected point
are remembered, so they survive a map that arrives later or a switch of encoder or
projection. A 3D projection (the bar's "3D" toggle) is shown in the same view, turned with the
mouse. A saved view (projection, colouring, zoom, isolated points, hidden
architectures, the query of a store INR, a 3D map's angle) is kept in the store's cache folder,
``map-views.json``; restoring one asks for its query again (``query_wanted``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from inret_engine.progress import Progress, relay

from .messages import NO_ENCODER
from .models.map_points import COLOUR_FIELDS
from .views.embedding_map import ARCH_NAMES, EmbeddingMapView
from .views.map_tools import ProjectionBar, ViewsButton
from .workers import JobRunner, error_text

if TYPE_CHECKING:
    from inret_engine.model_set import ModelSet

NO_STORE = "Open a store to see its map"
WAITING = "Waiting for the embeddings…"
NO_ENCODER_MAP = f"No map yet. {NO_ENCODER}\nTools ▸ Train Encoders… (Ctrl+T) trains one; the map follows."
NO_EMBEDDINGS = "No map: the embeddings could not be brought up to date (Reload with F5 to try again)"


def map_job(retriever, projection=None):
    """:func:`compute_map` with progress records the status bar reads well (a projection has no count)."""
    from inret_engine.retrieval.map_layout import METHODS, compute_map

    arch = ARCH_NAMES.get(retriever.model.spec.arch, retriever.model.spec.arch)
    return (yield from relay(compute_map(retriever, projection), lambda p: Progress(
        f"Map of the {arch} embeddings: {p.stage}", p.done, 0 if p.stage in METHODS.values() else p.total)))


class MapPanel(QWidget):
    """Encoder chooser, projection controls and saved views + the map of the open store.

    Signals:
        loaded(object): a map is on screen (the ``MapResult``).
        message(str): a status-bar line (how long a new map took).
        query_wanted(int): a restored view had this store INR as its query: query it again.
    """

    loaded = Signal(object)
    message = Signal(str)
    query_wanted = Signal(int)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.view = EmbeddingMapView()
        self.chooser = QComboBox()
        self.chooser.setObjectName("mapEncoder")
        self.chooser.setToolTip("Each encoder embeds its own architecture's INRs in its own space: one map each")
        self.chooser.setAccessibleName("Map of which encoder")
        self.chooser_bar = QWidget()
        bar = QHBoxLayout(self.chooser_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Map of")
        title.setObjectName("filterLabel")
        bar.addWidget(title)
        bar.addWidget(self.chooser)
        self.chooser_bar.hide()
        self.projection_bar = ProjectionBar()
        self.views_button = ViewsButton()
        top = QHBoxLayout()
        top.addWidget(self.chooser_bar)
        top.addWidget(self.projection_bar)
        top.addStretch(1)
        top.addWidget(self.view.selection_bar)  # "Isolate N points" / "Show all" here: a map row saved
        top.addWidget(self.views_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.store = None
        self.records: dict = {}
        self.encoders: ModelSet | None = None
        self.shown = None
        """The ``MapResult`` on screen, or None."""
        self._maps: dict[tuple, object] = {}
        """``(encoder index, Projection) -> MapResult`` computed since the encoders were loaded."""
        self.saved_views: list = []
        self._pending_view = None
        self._serial = 0
        self._computing: int | None = None
        self._waiting = False
        self._highlight: tuple[int | None, list[int]] = (None, [])
        self._selected: int | None = None
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.projection_bar.changed.connect(lambda _p: self._chosen(self.chooser.currentIndex()))
        self.views_button.save_requested.connect(self.save_view)
        self.views_button.restore_requested.connect(self.restore_view)
        self.views_button.delete_requested.connect(self.delete_view)
        runner.idle.connect(self._runner_idle)
        self._clear(NO_STORE)

    # --- feeding ---------------------------------------------------------------------------
    def set_store(self, store, records) -> None:
        """A store was opened (``records``: its rows) or closed (``None``); wait for its encoders."""
        self.store, self.records, self.encoders = store, {r.id: r for r in records}, None
        self._waiting = store is not None
        self._maps, self._highlight, self._selected = {}, (None, []), None
        self._pending_view = None
        self.view.isolate_ids(None)  # an isolation names the old store's ids
        self._load_views()
        self._fill_chooser()
        self._clear(NO_STORE if store is None else WAITING)

    def set_encoders(self, encoders) -> None:
        """The store's encoders are loaded and embedded (``None``: that failed): compute the chosen map."""
        self.encoders, self._maps, self._waiting = encoders, {}, False
        self._fill_chooser()
        if encoders is None or not encoders:
            self._clear(NO_ENCODER_MAP if encoders is not None else NO_EMBEDDINGS)
            return
        self._chosen(self.chooser.currentIndex())

    def retriever(self):
        """The retriever whose map is chosen, or None."""
        i = self.chooser.currentIndex()
        return self.encoders.retrievers[i] if self.encoders and 0 <= i < len(self.encoders.retrievers) else None

    # --- marks -----------------------------------------------------------------------------
    def select(self, inr_id: int | None) -> None:
        self._selected = inr_id
        self.view.select(inr_id)

    def show_query(self, query_id: int | None, hit_ids: list[int], retriever=None) -> None:
        """Ring the query, emphasise its hits; switch to the map of ``retriever`` (the one that answered)."""
        self._highlight = (query_id, list(hit_ids))
        if retriever is not None and self.encoders and retriever in self.encoders.retrievers:
            i = self.encoders.retrievers.index(retriever)
            if i != self.chooser.currentIndex():
                self.chooser.setCurrentIndex(i)  # shows the marks once that map is in
                return
        self.view.highlight(*self._highlight)

    # --- saved views -----------------------------------------------------------------------
    def current_view(self, name: str):
        """The view on screen as a :class:`~inret_engine.retrieval.map_views.SavedView` named ``name``."""
        from inret_engine.retrieval.map_views import SavedView

        isolated, query = self.view.isolated_ids(), self._highlight[0]
        return SavedView(name, self.projection_bar.projection(), self.view.colour_by(),
                         box=self.view.canvas.view_box() if len(self.view.canvas.points) else None,
                         isolated=None if isolated is None else tuple(isolated),
                         hidden_archs=tuple(self.view.hidden_archs()),
                         encoder=self.chooser.currentText() if self.chooser.count() > 1 else "",
                         query=int(query) if query is not None and int(query) in self.records else None,
                         orbit=self.view.canvas.angles() if self.view.canvas.is_3d else None)

    def save_view(self, name: str) -> None:
        """Save the view on screen under ``name`` (replacing one of that name) in the store's cache folder."""
        if self.store is None:
            return
        view = self.current_view(name)
        self.saved_views = [v for v in self.saved_views if v.name != name] + [view]
        self._write_views(f"Saved the map view “{name}”")

    def delete_view(self, name: str) -> None:
        self.saved_views = [v for v in self.saved_views if v.name != name]
        self._write_views(f"Deleted the map view “{name}”")

    def restore_view(self, view) -> None:
        """Show a saved view: its encoder's map in its projection (computed if need be), then its colours,
        hidden architectures, isolated points and zoom."""
        if not self.projection_bar.set_projection(view.projection):
            self.message.emit(f"The view “{view.name}” needs {view.projection.label()}, which is not available here")
            return
        self.view.set_colour_by(view.colour_by if view.colour_by in COLOUR_FIELDS else "category")
        self._pending_view = view
        if view.query is not None and view.query in self.records:
            self.query_wanted.emit(view.query)
        i = self.chooser.findText(view.encoder) if view.encoder else -1
        if i >= 0 and i != self.chooser.currentIndex():
            self.chooser.setCurrentIndex(i)  # -> _chosen
        else:
            self._chosen(self.chooser.currentIndex())

    def _apply_pending_view(self) -> None:
        view, self._pending_view = self._pending_view, None
        if view is None:
            return
        for arch in self.view.arch_boxes:
            self.view.set_arch_visible(arch, arch not in view.hidden_archs)
        self.view.isolate_ids(None if view.isolated is None else list(view.isolated))
        if view.orbit is not None:
            self.view.canvas.orbit_to(*view.orbit)
        if view.box is not None:
            self.view.canvas.set_view_box(view.box)
        self.message.emit(f"Map view “{view.name}”: {view.projection.label()}")

    def _load_views(self) -> None:
        from inret_engine.retrieval.map_views import load_views

        self.saved_views = load_views(self.store.cache_dir) if self.store is not None else []
        self.views_button.set_views(self.saved_views)
        self.views_button.setEnabled(self.store is not None)

    def _write_views(self, done: str) -> None:
        from inret_engine.retrieval.map_views import save_views

        if self.store is None:
            return
        try:
            save_views(self.store.cache_dir, self.saved_views)
        except OSError as exc:
            self.message.emit(f"Could not save the map views: {exc}")
        else:
            self.message.emit(done)
        self.views_button.set_views(self.saved_views)

    # --- internals -------------------------------------------------------------------------
    def _fill_chooser(self) -> None:
        previous = self.chooser.currentText()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        retrievers = self.encoders.retrievers if self.encoders is not None else []
        for r in retrievers:
            spec = r.model.spec
            self.chooser.addItem(f"{ARCH_NAMES.get(spec.arch, spec.arch)} encoder "
                                 f"({', '.join(f.upper() for f in spec.functions)})")
        self.chooser.setCurrentIndex(max(0, self.chooser.findText(previous)))
        self.chooser.blockSignals(False)
        self.chooser_bar.setVisible(self.chooser.count() > 1)

    def _clear(self, text: str) -> None:
        self._set_points(np.zeros(0, np.int64), np.zeros((0, 2)))
        self.shown = None
        self.view.set_message(text)

    def _set_points(self, ids, xy) -> None:
        if self.view.selection():
            self.view.canvas.clear_box()  # says "selection cleared", so the gallery shows every row again
        self.view.set_points(ids, xy, self.records)

    def _chosen(self, i: int) -> None:
        retriever = self.retriever()
        if retriever is None:
            return
        from inret_engine.retrieval.map_layout import METHODS

        self._serial += 1
        projection = self.projection_bar.projection()
        key = (i, projection)
        if key in self._maps:
            self._show(self._maps[key])
            return
        arch = ARCH_NAMES.get(retriever.model.spec.arch, retriever.model.spec.arch)
        self._clear(f"Computing the map of the {arch} embeddings ({projection.label()})…")
        serial, started, maps = self._serial, time.perf_counter(), self._maps
        self._computing = serial
        self.runner.start(lambda: map_job(retriever, projection), label=f"Map ({METHODS[projection.method]})",
                          on_done=lambda result: self._computed(serial, maps, key, result, started),
                          on_error=lambda exc: self._failed(serial, exc))

    def _computed(self, serial: int, maps: dict, key: tuple, result, started: float) -> None:
        maps[key] = result  # kept even when another map was chosen meanwhile (same encoders: same dict)
        if serial != self._serial:
            return
        self._computing = None
        self._show(result)
        if not result.cached and result.explained is None:  # a cached map is no news; PCA says its variance
            self.message.emit(f"Map of {len(result):,} INRs computed in {time.perf_counter() - started:.1f} s "
                              f"({result.projection.label()})")

    def _failed(self, serial: int, exc: BaseException) -> None:
        text = error_text(exc)  # a bug is logged even when the map it was for is no longer wanted
        if serial == self._serial:
            self._computing = None
            self._clear(f"No map: {text.split(chr(10))[0]}")

    def _runner_idle(self) -> None:
        """Nothing runs or waits, yet the map (or the embedding before it) never came: it was cancelled."""
        if self._waiting:
            self._waiting = False
            self._clear("No map: embedding was cancelled. Reload (F5) to try again.")
        elif self._computing is not None and self._computing == self._serial:
            self._computing = None
            self._clear("Map cancelled: Reload (F5) to compute it.")

    def _show(self, result) -> None:
        self._set_points(result.ids, result.xy)
        self.view.set_message("" if len(result) else "No INR of this encoder is embedded yet")
        self.shown = result
        self.view.select(self._selected)
        self.view.highlight(*self._highlight)
        self._apply_pending_view()
        if result.explained is not None:
            parts = [f"PC{c} {share:.0%}" for c, share in zip(result.projection.components, result.explained)]
            parts[0] = parts[0].replace(" ", " explains ", 1)
            self.message.emit(f"PCA of {len(result):,} INRs: {', '.join(parts)} of the variance")
        self.loaded.emit(result)
