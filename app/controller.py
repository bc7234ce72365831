"""The query flow: a thin controller between the panels and the engine.

:class:`QueryController` owns no widget. Panels call its slots (a double-clicked card, a
dropped file, the "retrieve" selector, k) and listen to its signals. Opening a store
brings every installed encoder's embeddings up to date in a worker; queries asked for
meanwhile wait and run when it is done (the latest one only). Queries run on their own
one-thread pool, so a long job (training, fitting) never delays them; everything long
runs through the shared :class:`~app.workers.JobRunner` with progress and cancel.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from inret_engine.data.geometry import ShapeLoadError
from inret_engine.errors import InretError, UsageError, is_user_error
from inret_engine.model_set import ModelSet, TrainChoice, train_encoders
from inret_engine.query_file import OnTheFly, distill_into, inr_from_file, queryable
from inret_engine.render.thumbnails import thumbnail_image
from inret_engine.retrieval.results import (
    DEFAULT_K,
    RETRIEVE_MODES,
    QueryOutcome,
    QuerySubject,
    elapsed_ms,
    export_results,
    run_query,
)
from inret_engine.store import InrFileError, InrRecord, ShapeINR, Store

from .messages import NO_ENCODER, file_problem_message, no_encoder_advice, refused_file_message
from .thumbnail_cache import THUMBNAIL_SIZE
from .workers import GeneratorWorker, JobRunner


class QueryController(QObject):
    """Queries over one store.

    Signals:
        query_started(QuerySubject): a query was asked for; show its card now.
        results_ready(QueryOutcome): its results (on the GUI thread).
        query_image(QuerySubject, QImage): a thumbnail of a query that is not in the store.
        ready_changed(bool): whether queries can run now (embeddings are up to date).
        encoders_loaded(object): the store's encoders were (re)loaded and their embeddings are
            up to date: the ``ModelSet`` (empty when there is none), or ``None`` when that failed.
        notice(str): a lasting explanation, e.g. how to get an encoder ("" clears it).
        message(str): a transient status-bar message.
        error(str): a failure to show in a dialog (first paragraph for the user).
    """

    preparing = Signal(str)
    """A dropped file is being read (and fitted or distilled) before it can be the query: its name."""
    query_started = Signal(object)
    results_ready = Signal(object)
    query_image = Signal(object, QImage)
    ready_changed = Signal(bool)
    encoders_loaded = Signal(object)
    notice = Signal(str)
    message = Signal(str)
    error = Signal(object)
    """Something went wrong: a message the app worded (``str``) or the exception a job raised
    (:func:`~app.workers.error_text` tells a user's problem from a bug)."""

    def __init__(self, runner: JobRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.pool, self.render_pool = QThreadPool(self), QThreadPool(self)  # a render never delays a query
        self.pool.setMaxThreadCount(1)
        self.render_pool.setMaxThreadCount(1)
        self.store: Store | None = None
        self.encoders: ModelSet | None = None
        self.ready = False
        self.mode, self.k = RETRIEVE_MODES[0][0], DEFAULT_K
        self.on_the_fly = OnTheFly()
        self.subject: QuerySubject | None = None
        self.outcome: QueryOutcome | None = None
        self._pending: tuple[QuerySubject, float] | None = None
        self._serial = 0
        self._image: tuple[QuerySubject, QImage] | None = None
        self._distilled: dict[int, ShapeINR] = {}
        """Distilled copies of store INRs no encoder knows, by catalog id (a re-query reuses them)."""
        self._live: list[GeneratorWorker] = []

    # --- store and encoders ----------------------------------------------------------
    def set_store(self, store: Store | None) -> None:
        """Use ``store`` from now on; embeds what its encoders have not embedded yet."""
        self.store, self.encoders, self.subject, self.outcome = store, None, None, None
        self._distilled.clear()
        self._pending = None
        self._set_ready(False)
        if store is not None:
            self.refresh_encoders()

    def refresh_encoders(self) -> None:
        """Reload the store's models and bring their embeddings up to date (in a worker)."""
        store = self.store
        assert store is not None, "models are loaded for an open store"
        self._set_ready(False)

        def job():
            encoders = ModelSet.load(store)
            yield from encoders.update()
            return encoders

        self.runner.start(job, label="Embedding", on_done=lambda e: self._encoders_loaded(store, e),
                          on_error=self._update_failed)

    def _encoders_loaded(self, store: Store, encoders: ModelSet) -> None:
        if store is not self.store:
            return
        self.encoders = encoders
        self._distilled.clear()  # a new encoder may take some of them as they are
        self.encoders_loaded.emit(encoders)
        problems = "\n".join(encoders.problems)
        if not encoders:
            self.notice.emit(no_encoder_advice(store) + (f"\n\n{problems}" if problems else ""))
            self.message.emit(NO_ENCODER)
            self._pending = None
            return
        self.notice.emit("")
        self.message.emit(f"Encoders ready: {encoders.describe()}" + (f" — skipped: {problems}" if problems else ""))
        self._set_ready(True)
        if self._pending is not None:
            subject, requested = self._pending
            self._pending = None
            self._ask(subject, requested)

    def _update_failed(self, exc: BaseException) -> None:
        self._pending = None
        self.encoders_loaded.emit(None)
        self.error.emit(f"Could not bring the embeddings up to date: {exc}" if is_user_error(exc) else exc)

    def _set_ready(self, ready: bool) -> None:
        if ready != self.ready:
            self.ready = ready
            self.ready_changed.emit(ready)

    # --- asking ------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """The "retrieve" choice (``same``, ``sdf``, ``udf``, ``occ``, ``any``); re-runs the query."""
        if mode not in dict(RETRIEVE_MODES):
            raise ValueError(f"unknown retrieve mode {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self.requery()

    def set_k(self, k: int) -> None:
        if int(k) != self.k:
            self.k = max(1, int(k))
            self.requery()

    def requery(self) -> None:
        if self.subject is not None:
            self._ask(self.subject, time.perf_counter())

    def query_record(self, record: InrRecord) -> None:
        """Make a store row the query (a double-click on a gallery card, a result, a map point)."""
        distilled = self._distilled.get(record.id)
        subject = QuerySubject.of_record(record) if distilled is None else QuerySubject.distilled(record, distilled)
        self._ask(subject, time.perf_counter())

    def query_inr(self, inr: ShapeINR, source: str) -> None:
        """Query with a loaded INR that is not in the store."""
        self._ask(QuerySubject.of_inr(inr, source), time.perf_counter())

    def query_file(self, path: Path) -> None:
        """Query with a dropped ``.inr``, mesh or point-cloud file (distilled or fitted first)."""
        path = Path(path)
        if not queryable(path) or path.is_dir():
            self.error.emit(refused_file_message(path))
            return
        if self.store is None:
            self.error.emit("Open a store first: a query needs shapes to compare with.")
            return
        if not self.ready:
            self.message.emit(f"{path.name} waits for the encoders")
        store = self.store

        def prepared(result) -> None:
            inr, note = result
            if store is self.store:
                self.query_inr(inr, str(path))
                if note:
                    self.message.emit(f"{path.name}: {note}")

        self.runner.start(lambda: self._file_job(path, store), label=f"Preparing {path.name}", on_done=prepared,
                          on_error=self.error.emit)
        self.preparing.emit(path.name)

    def _file_job(self, path: Path, store: Store):
        # jobs run one at a time: the embedding job started with the store has finished by now
        encoders = self.encoders
        if encoders is None:
            raise UsageError("the encoders are not loaded (embedding was cancelled or failed): reload the store (F5)")
        if not encoders:
            raise UsageError(NO_ENCODER)
        try:
            return (yield from inr_from_file(path, encoders, self.on_the_fly))
        except InrFileError as exc:  # what the user can fix gets words; anything else is a bug and shows as one
            raise InretError(file_problem_message(path, exc.problem)) from exc
        except (ShapeLoadError, OSError) as exc:
            raise InretError(file_problem_message(path, str(exc))) from exc

    def _ask(self, subject: QuerySubject, requested: float) -> None:
        self.subject = subject
        self.query_started.emit(subject)
        if self.store is None:
            return
        if not self.ready:
            self._pending = (subject, requested)
            if self.encoders is not None and not self.encoders:
                self.notice.emit(no_encoder_advice(self.store))
            else:
                self.message.emit(f"{subject.name} waits for the embeddings to be up to date")
            return
        retriever = self._retriever_for(subject)
        if retriever is None:
            return
        self._serial += 1
        serial, k, mode = self._serial, self.k, self.mode

        def job():
            return serial, run_query(retriever, subject, k, mode, requested)
            yield  # pragma: no cover - a generator for GeneratorWorker

        self._start(job, self._answered)
        if subject.record is None:
            self._show_query_thumbnail(subject)

    def _retriever_for(self, subject: QuerySubject):
        """The retriever for a query; a store INR no encoder knows is distilled first (a job)."""
        assert self.encoders is not None, "queries run once the models are loaded"
        if subject.inr is not None:
            retriever = self.encoders.for_shape_inr(subject.inr)
            if retriever is None:
                self.error.emit(f"no installed encoder embeds {subject.arch} {subject.function.upper()} INRs")
            return retriever
        assert subject.record is not None, "a query subject holds an INR or a catalog row"
        retriever = self.encoders.for_record(subject.record)
        if retriever is None:
            self._distill_record(subject.record)
        return retriever

    def _distill_record(self, record: InrRecord) -> None:
        store, encoders, settings = self.store, self.encoders, self.on_the_fly
        assert store is not None and encoders is not None, "a distillation needs the store and its models"
        self.message.emit(f"No encoder for {record.arch} {record.function.upper()} INRs: distilling {record.name}")

        def job():
            source = store.load(record)
            return (yield from distill_into(source, encoders.target(source.function, prefer=record.arch), settings))

        def done(inr: ShapeINR) -> None:
            if store is self.store:
                self._distilled[record.id] = inr
                self._ask(QuerySubject.distilled(record, inr), time.perf_counter())

        self.runner.start(job, label=f"Distilling {record.name}", on_done=done, on_error=self.error.emit)

    def _answered(self, answer: tuple[int, QueryOutcome]) -> None:
        serial, outcome = answer
        if serial != self._serial:  # a newer query was asked meanwhile
            return
        self.outcome = outcome
        self.results_ready.emit(outcome)
        total = elapsed_ms(outcome.requested)
        self.message.emit(f"{outcome.subject.name}: {len(outcome.hits)} results — embed {outcome.embed_ms:.1f} ms, "
                          f"search {outcome.search_ms:.1f} ms ({total:.0f} ms to results)")

    def _show_query_thumbnail(self, subject: QuerySubject) -> None:
        """Render a thumbnail of a query that is not in the store (on its own thread)."""
        if self._image is not None and self._image[0] is subject:
            self.query_image.emit(subject, self._image[1])
            return

        def job():
            rgba = np.ascontiguousarray(thumbnail_image(subject.inr, THUMBNAIL_SIZE))
            image = QImage(rgba.data, rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1], QImage.Format.Format_RGBA8888)
            return subject, image.copy()
            yield  # pragma: no cover - a generator for GeneratorWorker

        self._start(job, self._rendered, self.render_pool)

    def _rendered(self, answer: tuple[QuerySubject, QImage]) -> None:
        self._image = answer
        self.query_image.emit(*answer)

    def _start(self, job, on_done, pool: QThreadPool | None = None) -> None:
        """Run ``job`` on the query thread (or ``pool``); bound slots only, so nothing arrives once this is deleted.

        The pool does not own the worker: it is held here until it has finished. A query
        (on the query thread) is foreground work: background renders pause while it runs.
        """
        worker = GeneratorWorker(job, foreground=pool is None)
        worker.signals.result.connect(on_done)
        worker.signals.errored.connect(self.error)
        self._live = [w for w in self._live if not w.done] + [worker]
        (pool or self.pool).start(worker)

    # --- training and export -----------------------------------------------------------
    def train(self, choice: TrainChoice) -> GeneratorWorker | None:
        """Train encoders (a job with progress and cancel), install them, then embed the store."""
        if self.store is None:
            self.error.emit("Open a store first.")
            return None
        store = self.store

        def done(paths) -> None:
            if store is self.store:
                self.message.emit(f"Installed {', '.join(Path(p).name for p in paths)}")
                self.refresh_encoders()

        return self.runner.start(lambda: train_encoders(store, choice), label="Training encoders", on_done=done,
                                 on_error=self.error.emit)

    def export(self, path: Path) -> Path:
        """Write the current results to ``path`` (``.csv`` or ``.json``)."""
        if self.outcome is None:
            raise UsageError("no results to export yet: double-click a shape first")
        return export_results(self.outcome, path)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self._pending = None
        self.store = None  # results of jobs still in flight now belong to no store: they are dropped
        self.pool.waitForDone(timeout_ms)
        self.render_pool.waitForDone(timeout_ms)
