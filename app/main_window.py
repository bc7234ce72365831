"""The main window: panels plus a thin controller.

Layout (top to bottom): a menu bar; a "Query" tool bar (retrieve selector, k, query the
selected shape); the gallery on the left (with a line saying when a box selection on the
map narrows it) beside the side panels (the t-SNE map above Cutaways and 3D tabs of the
selected shape, see :mod:`app.panels`); the results strip along the bottom; a status bar
with the shape count, the last query's latency and the running job (progress and Cancel).
The query logic lives in :class:`~app.controller.QueryController`; the window only wires
panels to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMessageBox, QSpinBox, QSplitter, QVBoxLayout, QWidget

from inret_engine.errors import InretError, NotFoundError
from inret_engine.query_file import queryable
from inret_engine.retrieval.results import DEFAULT_K, RETRIEVE_MODES, QueryOutcome
from inret_engine.store import InrRecord, Store

from .actions import install_actions
from .controller import QueryController
from .panels import SidePanels
from .views.first_run import FirstRunView
from .views.gallery import GalleryView
from .views.job_bar import JobBar
from .views.results import ResultsView
from .workers import GeneratorWorker, JobRunner, error_text


class MainWindow(QMainWindow):
    """Gallery, side panels, results strip; a :class:`QueryController` does the querying.

    Signals:
        record_selected(object): the shape to show in detail changed (a gallery card became
            current, a result card was clicked): an ``InrRecord``, or the ``QuerySubject`` of
            a query that is not in the store (it carries the loaded INR as ``.inr``).
        store_changed(object): a store was opened (``Store``) or closed (``None``).
    """

    record_selected = Signal(object)
    store_changed = Signal(object)

    def __init__(self):
        super().__init__()
        self.setWindowTitle("INRet Browser")
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.store: Store | None = None
        self._selected_query = None
        self.runner = JobRunner(QThreadPool.globalInstance(), self)
        self.controller = QueryController(self.runner, self)
        self._build_panels()
        self._build_status_bar()
        self.actions_by_name = install_actions(self)
        self._wire()

    # --- layout --------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.title = QLabel("No store open")
        self.title.setObjectName("storeTitle")
        self.gallery = GalleryView()
        self.model = self.gallery.model
        self.map_filter = QLabel(textFormat=Qt.TextFormat.RichText)
        self.map_filter.setObjectName("mapFilter")
        self.map_filter.setToolTip("A box selection on the map (Shift+drag) narrows the gallery; Show all, or a "
                                   "click on empty map space, clears it")
        self.map_filter.hide()
        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(0, 0, 0, 0)
        self.first_run = FirstRunView()
        layout.addWidget(self.title)
        layout.addWidget(self.first_run, 1)
        layout.addWidget(self.map_filter)
        layout.addWidget(self.gallery, 1)
        self.side = SidePanels(self)
        self.panels: dict[str, QWidget] = self.side.panels
        self.map_filter.linkActivated.connect(lambda _link: self.side.clear_map_selection())
        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.addWidget(left)
        self.top_split.addWidget(self.side)
        self.top_split.setStretchFactor(0, 1)
        self.top_split.setStretchFactor(1, 1)
        self.top_split.setSizes([700, 700])
        self.results = ResultsView()
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.addWidget(self.top_split)
        self.main_split.addWidget(self.results)
        self.main_split.setStretchFactor(0, 1)
        self.main_split.setCollapsible(1, False)
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(12, 6, 12, 6)
        outer.addWidget(self.main_split)
        self.setCentralWidget(body)
        for view in (self.gallery.list, self.results.list):  # drops are the window's, not the lists'
            view.setAcceptDrops(False)

        bar = self.addToolBar("Query")
        bar.setObjectName("queryToolBar")
        bar.setMovable(False)
        self.retrieve = QComboBox()
        self.retrieve.setObjectName("retrieveMode")
        for mode, label in RETRIEVE_MODES:
            self.retrieve.addItem(label, mode)
        self.retrieve.setToolTip("Which INRs to retrieve: of any function, of the query's own function, or of one "
                                 "function (SDF, UDF, Occ)")
        self.retrieve.setAccessibleName("Retrieve")
        self.k_spin = QSpinBox(minimum=1, maximum=200, value=DEFAULT_K)
        self.k_spin.setObjectName("kSpin")
        self.k_spin.setToolTip("How many similar shapes (nearest neighbours) to show")
        self.k_spin.setAccessibleName("Number of results")
        retrieve_label, k_label = QLabel(" Retrieve "), QLabel("  Results ")
        retrieve_label.setBuddy(self.retrieve)
        k_label.setBuddy(self.k_spin)
        bar.addWidget(retrieve_label)
        bar.addWidget(self.retrieve)
        bar.addWidget(k_label)
        bar.addWidget(self.k_spin)
        bar.addSeparator()
        self.query_bar = bar

    def _build_status_bar(self) -> None:
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        self.count.setToolTip("INRs shown in the gallery (after filters, search and map selection) of all INRs")
        self.latency = QLabel()
        self.latency.setObjectName("latencyLabel")
        self.job_bar = JobBar(self.runner)
        self.progress = self.job_bar.progress
        status = self.statusBar()
        status.addPermanentWidget(self.job_bar)
        status.addPermanentWidget(self.latency)
        status.addPermanentWidget(self.count)
        status.setSizeGripEnabled(False)

    def _wire(self) -> None:
        c = self.controller
        self.gallery.count_changed.connect(self._show_count)
        self.gallery.selected.connect(self._select)
        self.gallery.activated.connect(c.query_record)
        self.results.selected.connect(self._select)
        self.results.activated.connect(self._query_result)
        self.retrieve.currentIndexChanged.connect(lambda _i: c.set_mode(self.retrieve.currentData()))
        self.k_spin.valueChanged.connect(c.set_k)
        c.preparing.connect(self.results.show_preparing)
        c.query_started.connect(self.results.show_query)
        c.query_started.connect(self._select_query)
        c.results_ready.connect(self.results.show_outcome)
        c.results_ready.connect(self._show_latency)
        c.query_image.connect(self.results.set_query_image)
        c.notice.connect(self.results.set_notice)
        c.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.error.connect(self.show_error)
        self.runner.failed.connect(self.show_error)
        self.side.wire()

    def query_id(self, inr_id: int) -> None:
        """Make the store INR with this catalog id the query (e.g. a double-clicked map point)."""
        record = self._record(inr_id)
        if record is not None:
            self.controller.query_record(record)

    def select_id(self, inr_id: int) -> None:
        """Show the store INR with this catalog id in the detail panels (e.g. a clicked map point).

        The gallery follows: its card becomes current where the filters show it.
        """
        record = self._record(inr_id)
        if record is not None:
            self.gallery.show_current(record.id)
            self._select(record)

    def show_only_ids(self, ids) -> None:
        """Narrow the gallery to these catalog ids (a box / lasso selection); empty or ``None``: all."""
        self.gallery.show_only(list(ids) if ids else None)
        self._show_count(self.gallery.shown(), self.model.rowCount())

    def _record(self, inr_id: int) -> InrRecord | None:
        try:
            return None if self.store is None else self.store.catalog.inr(int(inr_id))
        except NotFoundError:
            return None

    # --- store ---------------------------------------------------------------------------
    def open_store(self, root: Path) -> None:
        """Open ``root`` (raises :class:`~inret_engine.errors.InretError` / ``OSError`` when it is not a store).

        Opening the open store again (a reload: F5, a demo category made ready) keeps its
        connection, which jobs still running may be reading; the catalog is read live, so the
        views see every row added since. Another store replaces it and the old one is closed.
        """
        if self.store is not None and Path(root).resolve() == self.store.root.resolve():
            store = self.store
        else:
            store = Store.open(root)
            if self.store is not None:
                self.store.close()
        self.store = store
        self.show_only_ids(None)  # a map selection names the old store's ids
        self.gallery.set_store(store)
        self.results.set_store(store)
        self.controller.set_store(store)
        self.title.setText(f"{Path(root).name} <span style='color:#7d8796; font-weight:normal; font-size:10pt'>"
                           f"&nbsp; {self.model.rowCount()} INRs</span>")
        self.title.setToolTip(f"The open store: {root}")
        self.setWindowTitle(f"{Path(root).name} — INRet Browser")
        self.statusBar().showMessage(f"Opened {root}", 5000)
        self.store_changed.emit(store)

    def try_open(self, root: Path) -> None:
        self._try(lambda: self.open_store(Path(root)))

    def reload(self) -> None:
        if self.store is not None:
            self.try_open(self.store.root)

    def _try(self, action: Callable[[], None]) -> None:
        try:
            action()
        except (InretError, OSError) as exc:  # what a user can fix; anything else is a bug and shows as one
            self.show_error(exc)

    def run_job(self, job: Callable[[], Iterator], *, label: str, on_done: Callable[[object], None],
                background: bool = False, on_progress: Callable[[object], None] | None = None) -> GeneratorWorker:
        """Run an engine generator with progress and Cancel in the status bar; errors become a dialog.

        ``background``: work nobody waits on (building a store), which pauses while a user job runs.
        """
        return self.runner.start(job, label=label, on_done=on_done, background=background, on_progress=on_progress)

    # --- reactions -----------------------------------------------------------------------
    def _select(self, item) -> None:
        if isinstance(item, InrRecord):
            chamfer = "" if item.chamfer is None else f" · Chamfer {item.chamfer:.4f}"
            self.statusBar().showMessage(f"{item.name} · {item.category} · {item.arch} {item.function.upper()}"
                                         f"{chamfer}")
        self.record_selected.emit(item)

    def _select_query(self, subject) -> None:
        """A new query becomes the selection, as a click on it would: its cutaways and 3D view show.

        The same query asked again (k or the retrieve mode changed) leaves the user's selection alone.
        """
        if subject is self._selected_query:
            return
        self._selected_query = subject
        if subject.record is not None:
            self.select_id(subject.record.id)
        else:
            self._select(subject)

    def _query_result(self, item) -> None:
        if isinstance(item, InrRecord):
            self.controller.query_record(item)

    def query_selected(self) -> None:
        record = self.gallery.current_record()
        if record is not None:
            self.controller.query_record(record)

    def _show_count(self, shown: int, total: int) -> None:
        self.count.setText(f"{shown} of {total} INRs")
        ids = self.gallery.proxy.ids()
        self.map_filter.setVisible(ids is not None)
        if ids is not None:
            narrower = "" if shown == len(ids) else f" ({shown} of them match the filters)"
            self.map_filter.setText(f"<b>{len(ids)}</b> selected on the map{narrower} &nbsp; "
                                    "<a href='all' style='color:#7fb2f0'>Show all</a>")

    def _show_latency(self, outcome: QueryOutcome) -> None:
        self.latency.setText(f"query {outcome.embed_ms + outcome.search_ms:.1f} ms "
                             f"(embed {outcome.embed_ms:.1f} + search {outcome.search_ms:.1f})")
        self.latency.setToolTip("How long the last query took: embedding the query shape, then searching the "
                                "index, in milliseconds")

    def show_error(self, error: BaseException | str) -> None:
        """A dialog saying what went wrong: a message, a user error's own words, or that a bug happened
        (whose traceback :func:`~app.workers.error_text` logs)."""
        QMessageBox.critical(self, "INRet Browser", error_text(error))

    # --- drag and drop -------------------------------------------------------------------
    @staticmethod
    def _dropped_files(mime) -> list[Path]:
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        # any local file: one that cannot be a query is refused on drop, with a message saying why
        if self._dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        files = self._dropped_files(event.mimeData())
        if not files:
            return
        event.acceptProposedAction()
        usable = [f for f in files if queryable(f) and not f.is_dir()]
        if not usable:
            self.controller.query_file(files[0])  # says why it cannot be used
            if len(files) > 1:
                self.statusBar().showMessage(f"None of the {len(files)} dropped files can be a query", 8000)
            return
        self.controller.query_file(usable[0])
        if len(files) > 1:
            others = ", ".join(f.name for f in files if f != usable[0])
            self.statusBar().showMessage(f"Querying with {usable[0].name}; one file at a time ({others} left out)",
                                         8000)

    def is_quiet(self) -> bool:
        """No job runs, no panel renders, no thumbnail is pending: what the window shows has all arrived."""
        loaders = (self.gallery.loader, self.results.loader)
        return not self.runner.busy() and not self.side.busy() and all(loader.is_idle() for loader in loaders)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.runner.cancel_all()
        self.side.shutdown()
        self.gallery.shutdown()
        self.results.shutdown()
        self.controller.shutdown()
        self.runner.wait_for_done(5000)
        if self.store is not None:
            self.store.close()
        super().closeEvent(event)
