"""The map tab: the t-SNE map view fed with the open store's embeddings.

:class:`MapPanel` puts an encoder chooser above an
:class:`~app.views.embedding_map.EmbeddingMapView` and keeps it filled: when a store opens
it waits for the embeddings, then runs :func:`inret_engine.embedding_map.compute_map`
through the window's :class:`~app.workers.JobRunner` (progress and Cancel in the status
bar; the layout is cached on disk per encoder, so a reopened store shows at once). Each
encoder has its own embedding space, hence its own map; the chooser shows only when a
store has several. A query's highlight and the selected point are remembered, so they
survive a map that arrives later or a switch of encoder.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .encoder_set import NO_ENCODER
from .jobs import JobProgress
from .views.embedding_map import ARCH_NAMES, EmbeddingMapView
from .workers import JobRunner

NO_STORE = "Open a store to see its map"
WAITING = "Waiting for the embeddings…"
NO_ENCODER_MAP = f"No map yet. {NO_ENCODER}\nTools ▸ Train Encoders… (Ctrl+T) trains one; the map follows."
NO_EMBEDDINGS = "No map: the embeddings could not be brought up to date (Reload with F5 to try again)"


def map_job(retriever):
    """:func:`compute_map` with progress records the status bar reads well (t-SNE has no count)."""
    from inret_engine.embedding_map import MapProgress, compute_map

    arch = ARCH_NAMES.get(retriever.model.spec.arch, retriever.model.spec.arch)
    for item in compute_map(retriever):
        if isinstance(item, MapProgress):
            total = 0 if item.stage == "t-SNE" else item.total
            yield JobProgress(f"Map of the {arch} embeddings: {item.stage}", item.done, total)
        else:
            return item


class MapPanel(QWidget):
    """Encoder chooser + t-SNE map of the open store.

    Signals:
        loaded(object): a map is on screen (the ``MapResult``).
        message(str): a status-bar line (how long a new map took).
    """

    loaded = Signal(object)
    message = Signal(str)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.view = EmbeddingMapView()
        self.chooser = QComboBox(objectName="mapEncoder")
        self.chooser.setToolTip("Each encoder embeds its own architecture's INRs in its own space: one map each")
        self.chooser.setAccessibleName("Map of which encoder")
        self.chooser_bar = QWidget()
        bar = QHBoxLayout(self.chooser_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Map of", objectName="filterLabel"))
        bar.addWidget(self.chooser)
        bar.addStretch(1)
        self.chooser_bar.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.chooser_bar)
        layout.addWidget(self.view, 1)
        self.store = None
        self.records: dict = {}
        self.encoders = None
        self.shown = None
        """The ``MapResult`` on screen, or None."""
        self._maps: dict[int, object] = {}
        self._serial = 0
        self._computing: int | None = None
        self._waiting = False
        self._highlight: tuple[int | None, list[int]] = (None, [])
        self._selected: int | None = None
        self.chooser.currentIndexChanged.connect(self._chosen)
        runner.idle.connect(self._runner_idle)
        self._clear(NO_STORE)

    # --- feeding ---------------------------------------------------------------------------
    def set_store(self, store, records) -> None:
        """A store was opened (``records``: its rows) or closed (``None``); wait for its encoders."""
        self.store, self.records, self.encoders = store, {r.id: r for r in records}, None
        self._waiting = store is not None
        self._maps, self._highlight, self._selected = {}, (None, []), None
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

    # --- internals -------------------------------------------------------------------------
    def _fill_chooser(self) -> None:
        previous = self.chooser.currentText()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for r in self.encoders.retrievers if self.encoders else []:
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
        self._serial += 1
        if i in self._maps:
            self._show(self._maps[i])
            return
        arch = ARCH_NAMES.get(retriever.model.spec.arch, retriever.model.spec.arch)
        self._clear(f"Computing the map of the {arch} embeddings (t-SNE)…")
        serial, started, maps = self._serial, time.perf_counter(), self._maps
        self._computing = serial
        self.runner.start(lambda: map_job(retriever), label="Map (t-SNE)",
                          on_done=lambda result: self._computed(serial, maps, i, result, started),
                          on_error=lambda text: self._failed(serial, text))

    def _computed(self, serial: int, maps: dict, i: int, result, started: float) -> None:
        maps[i] = result  # kept even when another map was chosen meanwhile (same encoders: same dict)
        if serial != self._serial:
            return
        self._computing = None
        self._show(result)
        if not result.cached:  # a cached map is no news
            self.message.emit(f"Map of {len(result):,} INRs computed in {time.perf_counter() - started:.1f} s (t-SNE)")

    def _failed(self, serial: int, text: str) -> None:
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
        self.loaded.emit(result)
