"""The one progress contract of every long engine job.

A long job (fit, train, distill, build, embed, map, benchmark) is a generator: it yields
:class:`Progress` records between steps, where a caller may stop it, and *returns* its
result, which :func:`run_to_end` (or ``yield from``) hands back. Records that carry more
numbers (a fit's loss, a phase's time left) are subclasses, so every consumer (the CLI's
bar, the browser's status bar) reads ``stage``, ``done``, ``total`` and ``message``
without knowing which job it drives.

>>> def count(n):
...     for i in range(n):
...         yield Progress("counting", i + 1, n)
...     return "done"
>>> run_to_end(count(3), on_progress=lambda p: print(p.text()))
counting 1/3
counting 2/3
counting 3/3
'done'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from typing import Any, TypeVar

R = TypeVar("R")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` in ``stage`` (``total == 0``: busy, no count), and a short note."""

    stage: str
    done: int = 0
    total: int = 0
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """``done / total`` in [0, 1], or None when there is no count."""
        return min(1.0, max(0.0, self.done / self.total)) if self.total > 0 else None

    def text(self) -> str:
        """One line: ``stage done/total message``."""
        count = f" {self.done}/{self.total}" if self.total > 0 else ""
        note = f" {self.message}" if self.message else ""
        return f"{self.stage}{count}{note}"


Job = Generator[Progress, Any, R]
"""A long job: yields :class:`Progress`, returns its result."""


def run_to_end(job: Generator[Progress, Any, R], on_progress: Callable[[Progress], None] | None = None) -> R:
    """Drive ``job`` to its end, passing each record to ``on_progress``; return its result."""
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(record)


def relay(job: Generator[Progress, Any, R], wrap: Callable[[Progress], T]) -> Generator[T, Any, R]:
    """``job`` with each record passed through ``wrap`` (relabelled, tagged); returns its result.

    ``yield from relay(job, wrap)`` is ``yield from job`` for a caller that reports its
    sub-jobs' progress in its own terms.

    >>> def inner():
    ...     yield Progress("fitting", 1, 2)
    ...     return 42
    >>> run_to_end(relay(inner(), lambda p: Progress(f"store {p.stage}", p.done, p.total)),
    ...            on_progress=lambda p: print(p.text()))
    store fitting 1/2
    42
    """
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            return stop.value
        yield wrap(record)
