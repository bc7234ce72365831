"""What start-up leaves until the window is up: the collector's heap, and modules only some actions need.

Two things froze the window at moments nobody chose (measured on a quiet 2-core machine
with ``python -m app.stall_probe --trace-stalls``):

* CPython's cyclic garbage collector stops every thread while it scans, and a scan of the
  oldest generation walks every tracked object: after start-up the browser holds about
  420,000 (torch, the Qt bindings, VTK), and one such scan took 159 ms.
* torch builds its first optimiser by importing ``torch._dynamo`` (0.8 s of sympy and
  friends). The first fit in the app (a dropped mesh) paid for it, and the garbage it made
  set off a full scan: a 172 ms freeze while "preparing" the drop, and 1.3 s more wait.

So start-up runs with the collector off (:func:`hold_collector`; it makes modules, not
garbage, and the imports get 0.3 s quicker); once the window is up, the store open and the
window quiet (what it shows has arrived: the imports took the CPU from that, 2.7 -> 3.9 s to
a settled window with another process busy on the second core), :func:`warm_up` imports
:data:`LATE_MODULES` in a worker, still with the collector off,
then :func:`settle_heap` moves everything alive into the permanent generation that no
scan walks (``gc.freeze``) and turns the collector back on. A later full scan walks only
what the session made since.

Objects frozen stay for the process's life even when they become garbage, so the heap is
settled once, at the end of start-up, never in the middle of a session.
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from inret_engine.progress import Progress

from .workers import GeneratorWorker

if TYPE_CHECKING:
    from .main_window import MainWindow

LATE_MODULES = ("pyvistaqt", "torch._dynamo")
"""Imported in the background after start-up: the 3D view's VTK widget (0.9 s), and what torch's
first optimiser imports (0.8 s). Either would freeze the window the first time it is needed."""


def hold_collector() -> None:
    """Turn the cyclic collector off for start-up (call first, before the heavy imports)."""
    gc.disable()


def settle_heap() -> None:
    """Freeze every object alive now out of the collector's scans, and turn the collector on."""
    gc.freeze()
    gc.enable()


def import_late_modules(names: tuple[str, ...] = LATE_MODULES) -> Iterator[Progress]:
    """Job: import ``names`` one by one (a module that fails to import is left to its first user)."""
    for k, name in enumerate(names):
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the feature that needs it says so when used (e.g. the 3D view's fallback label)
        yield Progress("warming up", k + 1, len(names), name)


_started: list[GeneratorWorker] = []
"""Workers :func:`warm_up` started: a running worker's Python object must outlive the call."""


def warm_up(window: MainWindow, *, poll_ms: int = 200, patience_s: float = 20.0) -> None:
    """Once the window is quiet (:meth:`~app.main_window.MainWindow.is_quiet`, polled every
    ``poll_ms``; at the latest after ``patience_s``), import :data:`LATE_MODULES` in a worker,
    then settle the heap (the collector stays held till then). Nothing starts once the window
    is closed.

    The worker runs in the window's job pool, without a line in the job bar, and does not wait
    for user jobs: what it imports is what their first fit or 3D view would otherwise import,
    on their own time (a drop meanwhile waits on the same import lock instead of importing
    twice). Closing the window waits for it, as for every job of that pool.
    """
    deadline = time.monotonic() + patience_s

    def poll() -> None:
        if not window.isVisible():
            settle_heap()  # closed before it was quiet: nothing to warm up for
        elif window.is_quiet() or time.monotonic() > deadline:
            worker = GeneratorWorker(import_late_modules)
            worker.signals.finished.connect(settle_heap)
            _started.append(worker)
            window.runner.pool.start(worker)
        else:
            QTimer.singleShot(poll_ms, poll)

    poll()
