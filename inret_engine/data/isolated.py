"""Ground-truth sampling in a separate process, for callers that share the interpreter with a GUI.

libigl's winding numbers and distance queries hold Python's GIL for their whole run: on
a 10k-face mesh, 1.2-1.8 s during which no other thread of the process runs (measured:
the browser's window froze for 1.9 s while a dropped mesh was prepared). In a child
process they hold only the child's GIL; the caller waits on a future, which lets go of
its own. One child is started on first use (spawned, so no Qt state is forked) and kept
for the next call.

Example:
    >>> import trimesh
    >>> from inret_engine.data.loading import normalize
    >>> from inret_engine.data.geometry import Normalization, ShapeGeometry
    >>> box = trimesh.creation.box()
    >>> geom = normalize(ShapeGeometry(box.vertices, box.faces, Normalization.identity()))
    >>> gt = sample_in_child(geom, n_uniform=100, n_surface=100, n_near=100, n_eval_surface=50)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .geometry import ShapeGeometry
from .sampling import GroundTruth, sample_ground_truth

__all__ = ["sample_in_child", "shutdown"]

_lock = threading.Lock()
_executor: ProcessPoolExecutor | None = None


def sample_in_child(geom: ShapeGeometry, **kwargs) -> GroundTruth:
    """:func:`~inret_engine.data.sampling.sample_ground_truth` run in the helper process.

    Same arguments and result; errors raised there are raised here. A helper process that
    died (killed, out of memory) is replaced, and the call is made once more.
    """
    for attempt in (0, 1):
        executor = _get_executor()
        try:
            return executor.submit(sample_ground_truth, geom, **kwargs).result()
        except BrokenProcessPool:
            _drop(executor)
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def shutdown() -> None:
    """Stop the helper process (it is started again on the next call)."""
    with _lock:
        global _executor
        if _executor is not None:
            _executor.shutdown(wait=False, cancel_futures=True)
            _executor = None


def _get_executor() -> ProcessPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _executor


def _drop(executor: ProcessPoolExecutor) -> None:
    global _executor
    with _lock:
        if _executor is executor:
            _executor = None
    executor.shutdown(wait=False, cancel_futures=True)


atexit.register(shutdown)
