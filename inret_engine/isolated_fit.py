"""Fitting a build's batches in a helper process, for builds that run beside a GUI.

A fit is thousands of small torch ops, each of which lets go of the GIL and waits to get it
back, so a build fitting on one of the browser's threads made the window wait its turn: the
first-start build and the half-hour of background fits after it were the flows where the GUI
thread stalled longest. :func:`child_fitter` is a :data:`~inret_engine.build.Fitter` that
fits each batch in a :class:`~inret_engine.helper_process.HelperProcess` with one torch
thread (one core for the fit, the other for the window) and streams its progress back over a
queue; the build's own thread only loads ground truths and writes what comes back.

Closing the stream (a cancelled build) kills the helper, so the batch stops now rather than
at its end; the next build starts a new one.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .fields import FieldConfig
from .fit import FitProgress
from .functions import ImplicitFunction
from .helper_process import HelperProcess
from .progress import run_to_end
from .store import Store

POLL_S = 0.1
"""How often the build's thread looks for progress while a batch fits."""

_progress: Any = None
"""In the helper: the queue its fits report to (a process can only inherit a queue)."""


def _start_helper(progress: Any) -> None:
    global _progress
    import torch

    _progress = progress
    torch.set_num_threads(1)


def _fit_in_child(j: int, config: FieldConfig, function: ImplicitFunction, gts: Sequence, keys: Sequence[str],
                  options: Any):
    """In the helper: fit one batch, put ``(j, FitProgress)`` on the queue as it goes, return the batch."""
    from .build import fit_batch

    return run_to_end(fit_batch(config, function, gts, keys, options), lambda record: _progress.put((j, record)))


class _Fitter:
    """The helper and its progress queue, made together on first use and dropped together."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pair: tuple[HelperProcess, Any] | None = None

    def get(self) -> tuple[HelperProcess, Any]:
        with self._lock:
            if self._pair is None:
                progress = multiprocessing.get_context("spawn").Queue()
                self._pair = HelperProcess(_start_helper, (progress,)), progress
            return self._pair

    def kill(self) -> None:
        """End a running fit now; a queue its process was killed while writing to is not used again."""
        with self._lock:
            pair, self._pair = self._pair, None
        if pair is not None:
            pair[0].stop(kill=True)
            pair[1].close()


FITTER = _Fitter()


def child_fitter(store: Store, jobs: list, options: Any) -> Iterator[tuple[int, FitProgress | Any]]:
    """Fit ``jobs`` one after another in the helper; yields ``(job number, FitProgress)`` while a
    batch fits and ``(job number, FittedBatch)`` once it is fitted (a :data:`~inret_engine.build.Fitter`)."""
    helper, progress = FITTER.get()
    try:
        for j, (config, function, shapes) in enumerate(jobs):
            gts = [store.ground_truth(s.shape_id) for s in shapes]
            future = helper.submit(_fit_in_child, j, config, function, gts, [s.shape_id for s in shapes], options)
            while not future.done():
                yield from _reported(progress, j, timeout=POLL_S)
            yield from _reported(progress, j, timeout=None)  # what it reported just before it returned
            yield j, future.result()
    except GeneratorExit:
        FITTER.kill()
        raise


def _reported(progress: Any, j: int, *, timeout: float | None) -> Iterator[tuple[int, FitProgress]]:
    """Batch ``j``'s records on the queue: the next one, waiting up to ``timeout``, or with
    ``timeout=None`` every one there now.

    A record of an earlier batch (its process's queue writer can lag behind the batch's
    result) is dropped.
    """
    while True:
        try:
            item = progress.get_nowait() if timeout is None else progress.get(timeout=timeout)
        except queue_module.Empty:
            return
        if item[0] == j:
            yield item
        if timeout is not None:  # one record per poll: the caller looks at its future in between
            return
