"""A helper process for work that must not share this interpreter's GIL.

A GUI runs its engine jobs on threads, and Python runs one thread at a time: libigl's
distance queries hold the GIL for a whole call (1.2-1.8 s on a 10k-face mesh), and a fit is
thousands of small torch ops that each take it back, so the window waits its turn. Work sent
to a :class:`HelperProcess` holds only the helper's GIL; the caller waits on a future, which
lets go of its own.

The helper is spawned (no Qt state is forked) on first use, kept for the next call, and
replaced when it dies. Every helper stops when the interpreter exits.

Example:
    >>> import math
    >>> helper = HelperProcess()
    >>> helper.call(math.sqrt, 16.0)  # doctest: +SKIP
    4.0
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

_helpers: weakref.WeakSet[HelperProcess] = weakref.WeakSet()


class HelperProcess:
    """One spawned worker process, started on first use and replaced when it dies.

    Args:
        initializer, initargs: run once in each new helper (as ``ProcessPoolExecutor``'s),
            e.g. to hand it a queue, which a process can only inherit.
    """

    def __init__(self, initializer: Callable[..., None] | None = None, initargs: tuple = ()):
        self._initializer, self._initargs = initializer, initargs
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        _helpers.add(self)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in the helper; its result (or exception) comes back pickled."""
        return self._get().submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`submit` and wait; a helper that died (killed, out of memory) is replaced and the call
        made once more."""
        for attempt in (0, 1):
            executor = self._get()
            try:
                return executor.submit(fn, *args, **kwargs).result()
            except BrokenProcessPool:
                self._drop(executor)
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def pids(self) -> list[int]:
        """The helper's process ids (none before the first call or after :meth:`stop`)."""
        with self._lock:
            return [process.pid for process in self._processes(self._executor)]

    def stop(self, *, kill: bool = False) -> None:
        """Stop the helper (a new one starts on the next call). ``kill`` ends a running call at once
        instead of letting it finish in the background."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        if kill:
            for process in self._processes(executor):  # Python 3.14's terminate_workers(), by hand
                process.terminate()
        executor.shutdown(wait=kill, cancel_futures=True)

    # --- internals -------------------------------------------------------------------------
    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=self._initializer, initargs=self._initargs)
            return self._executor

    def _drop(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _processes(executor: ProcessPoolExecutor | None) -> list:
        # the executor's own map of its worker processes; no public accessor before Python 3.14
        return list((getattr(executor, "_processes", None) or {}).values()) if executor is not None else []


def _stop_all() -> None:
    for helper in list(_helpers):
        helper.stop()


atexit.register(_stop_all)
