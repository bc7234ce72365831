"""Long engine work off the GUI thread (STYLE.md, item 10).

An engine job is a generator of progress records. :class:`GeneratorWorker` runs it in
the Qt thread pool, re-emits each record as ``progress``, and stops between records
when cancelled. The worker never touches a widget: everything reaches the GUI thread
through queued signals.

Python runs one thread at a time (the GIL), and a torch fit or render is thousands of
small ops that each let go of it and wait to get it back: three such threads on two
cores made a 6 s fit of a dropped mesh take 80-110 s. So work a user waits on (a query,
a dropped file) is *foreground*, renders nobody waits on are *background*, and a
background worker pauses between its items while any foreground job runs
(:data:`FOREGROUND`).
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from contextlib import contextmanager
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal


def render_pool(parent: QObject) -> QThreadPool:
    """A one-thread pool for renders nobody waits on (thumbnails, cutaways, meshes).

    Its thread runs at idle priority (``SCHED_IDLE`` on Linux), so on a 2-core machine a
    burst of renders never takes the CPU from the GUI thread or from a query.
    """
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    pool.setThreadPriority(QThread.IdlePriority)
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


class WorkerSignals(QObject):
    progress = Signal(object)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Run ``job()`` (a generator function) and emit its records.

    ``result`` carries the value returned by the generator (its ``StopIteration.value``),
    or the last record when it returns nothing. A ``foreground`` worker holds
    :data:`FOREGROUND` while it runs; a ``background`` one waits for it to be clear
    before each record (and stays cancellable meanwhile).
    """

    def __init__(self, job: Callable[[], Iterator[Any]], *, foreground: bool = False, background: bool = False):
        super().__init__()
        if foreground and background:
            raise ValueError("a worker is foreground or background, not both")
        self.job = job
        self.foreground, self.background = foreground, background
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

    def _run(self) -> None:
        last = None
        try:
            gen = self.job()
            while not self._cancelled:
                self._yield_to_foreground()
                if self._cancelled:
                    continue  # the loop ends through its else: closed, no result
                try:
                    last = next(gen)
                except StopIteration as stop:
                    last = stop.value if stop.value is not None else last
                    break
                self.signals.progress.emit(last)
            else:
                gen.close()
                return
            self.signals.result.emit(last)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a dialog, never a crash
            self.signals.error.emit(f"{exc}\n\n{traceback.format_exc(limit=3)}")
        finally:
            self.done = True
            self.signals.finished.emit()


class JobRunner(QObject):
    """Runs engine jobs one at a time in a thread pool, so long work never overlaps on two cores.

    A job started while another runs waits its turn. The window binds a progress bar and a
    cancel button to the signals; whoever starts a job gets its result through ``on_done``.

    Signals:
        started(str): a job began; its label.
        progress(object): a record the running job yielded.
        failed(str): the running job raised; the message (first paragraph is for the user).
        idle(): nothing is running or waiting.
    """

    started = Signal(str)
    progress = Signal(object)
    failed = Signal(str)
    idle = Signal()

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.current: GeneratorWorker | None = None
        self.label = ""
        self._waiting: deque[tuple[GeneratorWorker, str, Callable | None, Callable | None]] = deque()

    def start(self, job: Callable[[], Iterator[Any]], *, label: str, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None, foreground: bool = False) -> GeneratorWorker:
        """Queue ``job``; ``on_done(result)`` or ``on_error(message)`` (default: ``failed``) follow on the GUI thread.

        ``foreground``: someone waits on it (a dropped file): background renders pause meanwhile.
        """
        worker = GeneratorWorker(job, foreground=foreground)
        self._waiting.append((worker, label, on_done, on_error))
        if self.current is None:
            self._next()
        return worker

    def busy(self) -> bool:
        return self.current is not None

    def cancel(self) -> None:
        """Stop the running job at its next progress record and drop the waiting ones."""
        self._waiting.clear()
        if self.current is not None:
            self.current.cancel()

    def _next(self) -> None:
        while self._waiting:
            worker, label, on_done, on_error = self._waiting.popleft()
            if worker.cancelled:
                continue
            self.current, self.label = worker, label
            worker.signals.progress.connect(self.progress)
            if on_done is not None:
                worker.signals.result.connect(on_done)
            worker.signals.error.connect(on_error or self.failed)
            worker.signals.finished.connect(self._finished)
            self.started.emit(label)
            self.pool.start(worker)
            return
        self.idle.emit()

    def _finished(self) -> None:
        self.current, self.label = None, ""
        self._next()
