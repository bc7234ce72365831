"""Progress bars for any engine job: one ``tqdm`` bar per counted stage, on stderr.

Every long engine job yields :class:`~inret_engine.progress.Progress` records and returns
its result, so one driver serves every command: ``result = run_with_bars(job)``.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Mapping
from typing import Any, TypeVar

from tqdm import tqdm

from ..progress import Progress, run_to_end

R = TypeVar("R")


def run_with_bars(job: Generator[Progress, Any, R], *, quiet: bool = False, notes: Mapping[str, str] | None = None,
                  units: Mapping[str, str] | None = None) -> R:
    """Run ``job`` to its end, drawing a bar per stage that has a count; return its result.

    Args:
        job: an engine job.
        quiet: draw no bars (notes are still written).
        notes: stages that are notes, not counts, and the word each is written with
            (``{"skip": "skipped"}`` writes ``skipped <message>`` on a line of its own).
        units: the unit of each stage's bar (``{"fitting": "INR"}``); ``it`` otherwise.
    """
    notes, units = notes or {}, units or {}
    bars: dict[str, tqdm] = {}

    def show(record: Progress) -> None:
        if record.stage in notes:
            tqdm.write(f"{notes[record.stage]} {record.message}", file=sys.stderr)
        elif not quiet and record.total > 0 and record.stage != "done":
            bar = bars.get(record.stage)
            if bar is None:
                bar = bars[record.stage] = tqdm(total=record.total, desc=record.stage,
                                                unit=units.get(record.stage, "it"), file=sys.stderr)
            bar.total = record.total
            bar.n = record.done
            bar.set_postfix_str(record.message, refresh=False)
            bar.refresh()

    try:
        return run_to_end(job, on_progress=show)
    finally:
        for bar in bars.values():
            bar.close()
