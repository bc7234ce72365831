"""Long engine work off the GUI thread (STYLE.md, item 10).

An engine job is a generator: it yields progress records and returns its result
(:mod:`inret_engine.progress`). :class:`GeneratorWorker` runs it in the Qt thread pool,
re-emits each record as ``progress`` and its return value as ``result``, and stops between
records when cancelled. A job that raises hands the exception object itself to
``errored`` (as superqt's workers do), so the GUI can tell what a user can fix
(:class:`~inret_engine.errors.InretError`, ``OSError``: their message, as it is) from a bug
(said to be one, its traceback logged): :func:`error_text`. The worker never touches a
widget: everything reaches the GUI thread through queued signals.

Python runs one thread at a time (the GIL), and a torch fit or render is thousands of
small ops that each let go of it and wait to get it back: three such threads on two
cores made a 6 s fit of a dropped mesh take 80-110 s. So work a user waits on (a query,
a dropped file) is *foreground*, renders nobody waits on are *background*, and a
background worker pauses between its items while any foreground job runs
(:data:`FOREGROUND`).

Renders nobody waits on run in pools of their own (gallery and results thumbnails, the
cutaways, the 3D view's meshes and slice), and were free to run all at once: three render
threads and a background fit kept the GUI thread waiting for the GIL for 100-160 ms when a
drop's results arrived during the first-start build (``--trace-stalls`` showed the GUI
thread waiting to enter its own timer slot). A render worker (``render=True``) therefore
takes :data:`RENDERS` for each of its steps: one render step at a time across the app.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from inret_engine.errors import is_user_error

log = logging.getLogger(__name__)

BUG_NOTE = "This is a bug in INRet Browser, not something you did; the details are in the log."


def error_text(exc: BaseException | str) -> str:
    """What the user reads about ``exc``: a user error's own message; for a bug, that it is one.

    A bug's traceback goes to the log (stderr by default), once, here. A string is a message
    the app already worded and is returned as it is.
    """
    if isinstance(exc, str):
        return exc
    if is_user_error(exc):
        return str(exc) or type(exc).__name__
    log.error("bug: %s: %s", type(exc).__name__, exc, exc_info=exc)
    return f"{type(exc).__name__}: {exc}\n\n{BUG_NOTE}"


def render_pool(parent: QObject) -> QThreadPool:
    """A one-thread pool for renders nobody waits on (thumbnails, cutaways, meshes).

    Its thread keeps the normal priority. At idle priority (``SCHED_IDLE``, as it once ran) a
    render holding the GIL got no CPU while two other processes kept both cores busy (the
    first-start build's fit and any other program), and the GUI thread, waiting for that GIL,
    froze for up to 1.8 s. Renders give way to user work through :data:`FOREGROUND` and to
    each other through :data:`RENDERS` instead.
    """
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    return pool


class ForegroundGate:
    """How many foreground jobs run; background workers wait for none."""

    def __init__(self):
        self._running = 0
        self._cond = threading.Condition()

    @contextmanager
    def held(self):
        with self._cond:
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def busy(self) -> bool:
        with self._cond:
            return self._running > 0

    def wait_clear(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for no foreground job; True when there is none."""
        with self._cond:
            return self._cond.wait_for(lambda: self._running == 0, timeout)


FOREGROUND = ForegroundGate()

RENDERS = threading.Lock()
"""Held by a render worker for each step (one thumbnail, one cutaway image, one mesh)."""


class WorkerSignals(QObject):
    """``progress(record)``, ``result(value returned)``, ``errored(exception)``, ``finished()``."""

    progress = Signal(object)
    result = Signal(object)
    errored = Signal(object)
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Run ``job()`` (a generator function) and emit its records.

    ``result`` carries the value the generator returned (``None`` when it returns nothing);
    a cancelled job emits no result. ``errored`` carries the exception the job raised.
    A ``foreground`` worker holds :data:`FOREGROUND` while it runs; a ``background`` one
    waits for it to be clear before each record (and stays cancellable meanwhile). A
    ``render`` worker is a background one that also holds :data:`RENDERS` for each step.
    """

    def __init__(self, job: Callable[[], Iterator[Any]], *, foreground: bool = False, background: bool = False,
                 render: bool = False):
        super().__init__()
        background = background or render
        if foreground and background:
            raise ValueError("a worker is foreground or background, not both")
        self.job = job
        self.foreground, self.background, self.render = foreground, background, render
        self.signals = WorkerSignals()
        self._cancelled = False
        self.done = False
        """True once ``run`` has returned (whoever holds the worker may let it go)."""
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def run(self) -> None:
        if self.foreground:
            with FOREGROUND.held():
                self._run()
        else:
            self._run()

    def _yield_to_foreground(self) -> None:
        while self.background and not self._cancelled and not FOREGROUND.wait_clear(0.05):
            pass

    def _take_turn(self) -> bool:
        """Wait for no foreground job and, for a render worker, take :data:`RENDERS`; False once cancelled."""
        self._yield_to_foreground()
        if self.render:
            while not RENDERS.acquire(timeout=0.05):
                if self._cancelled:
                    return False
            if self._cancelled:
                RENDERS.release()
        return not self._cancelled

    def _run(self) -> None:
        try:
            gen = self.job()
            while not self._cancelled:
                if not self._take_turn():
                    continue  # cancelled: the loop ends through its else: closed, no result
                try:
                    record = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                finally:
                    if self.render:
                        RENDERS.release()
                self.signals.progress.emit(record)
            else:
                if isinstance(gen, Generator):
                    gen.close()
                return
            self.signals.result.emit(result)
        except Exception as exc:  # noqa: BLE001 - any failure reaches the GUI thread, never a crash
            self.signals.errored.emit(exc)
        finally:
            self.done = True
            self.signals.finished.emit()


class JobRunner(QObject):
    """Runs engine jobs in two lanes, so what a user asks for never waits behind background work.

    - **User jobs** (the default: embedding a store, a dropped file, a map, training) run
      one at a time, in order, as foreground work.
    - **Background jobs** (``background=True``: building or completing a store) run one at
      a time in their own lane and pause between progress records while a user job runs.

    The status bar shows one job: the running user job, else the background one. Cancel
    stops that job only; jobs waiting their turn keep their place.

    Signals:
        started(str): the job shown changed (a job began, or a background job shows again
            after a user job); its label.
        progress(object): a record the shown job yielded.
        failed(object): a job without its own ``on_error`` raised; the exception (see :func:`error_text`).
        idle(): nothing is running or waiting in either lane.
    """

    started = Signal(str)
    progress = Signal(object)
    failed = Signal(object)
    idle = Signal()

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.background_pool = QThreadPool(self)
        self.background_pool.setMaxThreadCount(1)
        self._lanes: dict[bool, _Lane] = {False: _Lane(), True: _Lane()}

    @property
    def current(self) -> GeneratorWorker | None:
        """The running user job (None when there is none)."""
        return self._lanes[False].worker

    @property
    def background(self) -> GeneratorWorker | None:
        """The running background job (None when there is none)."""
        return self._lanes[True].worker

    @property
    def label(self) -> str:
        """The label of the job shown (the user job first)."""
        lane = self._shown()
        return lane.label if lane is not None else ""

    def start(self, job: Callable[[], Iterator[Any]], *, label: str, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None, background: bool = False,
              on_progress: Callable[[Any], None] | None = None, foreground: bool = True) -> GeneratorWorker:
        """Queue ``job`` in its lane; ``on_done(result)`` or ``on_error(exception)`` (default:
        ``failed``) and every ``on_progress(record)`` follow on the GUI thread.

        ``foreground`` is kept for callers that said so; every user job is foreground.
        """
        worker = GeneratorWorker(job, foreground=not background, background=background)
        lane = self._lanes[background]
        lane.waiting.append(_Queued(worker, label, on_done, on_error, on_progress))
        if lane.worker is None:
            self._next(background)
        return worker

    def busy(self) -> bool:
        """True while a job of either lane runs."""
        return any(lane.worker is not None for lane in self._lanes.values())

    def cancel(self) -> None:
        """Stop the job shown in the status bar at its next progress record; others keep their turn."""
        lane = self._shown()
        if lane is not None and lane.worker is not None:
            lane.worker.cancel()

    def cancel_all(self) -> None:
        """Stop every job and forget the waiting ones (the window is closing)."""
        for lane in self._lanes.values():
            lane.waiting.clear()
            if lane.worker is not None:
                lane.worker.cancel()

    def wait_for_done(self, msecs: int) -> None:
        self.pool.waitForDone(msecs)
        self.background_pool.waitForDone(msecs)

    def _shown(self) -> "_Lane | None":
        for background in (False, True):
            if self._lanes[background].worker is not None:
                return self._lanes[background]
        return None

    def _next(self, background: bool) -> None:
        lane = self._lanes[background]
        while lane.waiting:
            item = lane.waiting.popleft()
            if item.worker.cancelled:
                continue
            lane.worker, lane.label = item.worker, item.label
            signals = item.worker.signals
            signals.progress.connect(lambda record, w=item.worker: self._progress(w, record))
            if item.on_progress is not None:
                signals.progress.connect(item.on_progress)
            if item.on_done is not None:
                signals.result.connect(item.on_done)
            signals.errored.connect(item.on_error or self.failed)
            signals.finished.connect(lambda b=background: self._finished(b))
            if self._shown() is lane:
                self.started.emit(item.label)
            (self.background_pool if background else self.pool).start(item.worker)
            return
        if not self.busy():
            self.idle.emit()

    def _progress(self, worker: GeneratorWorker, record: Any) -> None:
        lane = self._shown()
        if lane is not None and lane.worker is worker:
            self.progress.emit(record)

    def _finished(self, background: bool) -> None:
        lane = self._lanes[background]
        lane.worker, lane.label = None, ""
        if not background and not lane.waiting and self._lanes[True].worker is not None:
            self.started.emit(self._lanes[True].label)  # the background job shows again
        self._next(background)


@dataclasses.dataclass
class _Queued:
    worker: GeneratorWorker
    label: str
    on_done: Callable | None
    on_error: Callable | None
    on_progress: Callable | None


@dataclasses.dataclass
class _Lane:
    """One lane of :class:`JobRunner`: its running worker and label, and what waits."""

    worker: GeneratorWorker | None = None
    label: str = ""
    waiting: deque = dataclasses.field(default_factory=deque)
