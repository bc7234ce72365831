"""Long engine work off the GUI thread (STYLE.md, item 10).

An engine job is a generator of progress records. :class:`GeneratorWorker` runs it in
the Qt thread pool, re-emits each record as ``progress``, and stops between records
when cancelled. The worker never touches a widget: everything reaches the GUI thread
through queued signals.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal


class WorkerSignals(QObject):
    progress = Signal(object)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Run ``job()`` (a generator function) and emit its records.

    ``result`` carries the value returned by the generator (its ``StopIteration.value``),
    or the last record when it returns nothing.
    """

    def __init__(self, job: Callable[[], Iterator[Any]]):
        super().__init__()
        self.job = job
        self.signals = WorkerSignals()
        self._cancelled = False
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def run(self) -> None:
        last = None
        try:
            gen = self.job()
            while not self._cancelled:
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
            self.signals.finished.emit()
