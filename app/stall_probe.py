"""How fast the browser answers a double-click, and how long the GUI thread ever stalls.

Run under a display (``xvfb-run -a python -m app.stall_probe STORE``) on a store with an
installed, embedded encoder. The window opens the store, waits for the embeddings, then
double-clicks ``--queries`` gallery cards (real mouse events on the list), one at a time,
and times each from the double-click event to

* ``answer``: ``results_ready`` handled (the results model holds the hits), and
* ``painted``: the results strip's first paint after that (what the user sees: names,
  scores and categories; thumbnails stream in afterwards).

Meanwhile a 5 ms timer on the GUI thread records the longest gap between its ticks
(a freeze), from opening the store to the end (:class:`StallClock`; ``--trace-stalls FILE``
writes every thread's stack there at each freeze of 100 ms).

The window starts as ``main.py`` starts it: collector held during start-up, then
:func:`app.warm_up.warm_up` once the store is open.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _run_until(done, timeout_s: float) -> bool:
    """Run the Qt event loop until ``done()`` (polled every millisecond) or the timeout; returns ``done()``.

    Waiting in ``QEventLoop.exec`` lets other threads take the GIL; ``QTest.qWait`` and a
    ``processEvents`` loop do not, which made a worker's fit look 25 times slower.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer(interval=1)

    def on_poll() -> None:
        if done():
            loop.quit()

    poll.timeout.connect(on_poll)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    poll.start()
    if not done():
        loop.exec()
    poll.stop()
    return done()


@dataclass
class StallClock:
    """How long the GUI thread is ever held up: the longest gap between ticks of a 5 ms timer on it.

    Per ``phase`` (set by the caller as the flow goes on), every gap over 100 ms listed with
    when it was and what the status bar said (``status()``), and the longest pause of
    CPython's cyclic collector (it stops every thread; ``gc.callbacks``). With ``trace``,
    each tick re-arms ``faulthandler``'s watchdog, a C thread that needs no GIL, so a GUI
    thread held up for 100 ms writes every thread's Python stack there: the GUI thread's own
    work, or the worker whose C call holds the GIL. (That is how the collector's full scans
    and torch's first-optimiser import were found: :mod:`app.warm_up`.)
    """

    status: Callable[[], str] = lambda: ""
    trace: Path | None = None
    phase: str = "opening"
    longest: dict[str, float] = field(default_factory=dict)
    long: list[str] = field(default_factory=list)
    collector_max: float = 0.0
    _start: float = field(default_factory=time.perf_counter)
    _last: float = 0.0
    _collecting: float = 0.0
    _timer: Any = None
    _trace_file: Any = None

    @property
    def max(self) -> float:
        return max(self.longest.values(), default=0.0)

    def start(self) -> None:
        from PySide6.QtCore import QTimer

        self._last = time.perf_counter()
        self._timer = QTimer(interval=5)
        self._timer.timeout.connect(self._tick)
        gc.callbacks.append(self._collector)
        if self.trace is not None:
            self._trace_file = open(self.trace, "w")  # noqa: SIM115 - faulthandler writes to it until stop()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.callbacks.remove(self._collector)
        if self._trace_file is not None:
            faulthandler.cancel_dump_traceback_later()
            self._trace_file.close()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self._last
        self.longest[self.phase] = max(self.longest.get(self.phase, 0.0), gap)
        if gap > 0.1:
            said = self.status()[:60]
            self.long.append(f"{gap * 1000:.0f} ms at {now - self._start:.1f} s while {self.phase}"
                             + (f" ({said!r})" if said else ""))
        self._last = now
        if self._trace_file is not None:
            faulthandler.dump_traceback_later(0.1, file=self._trace_file)

    def _collector(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._collecting = time.perf_counter()
        else:
            self.collector_max = max(self.collector_max, time.perf_counter() - self._collecting)

    def report(self) -> dict[str, object]:
        return {"longest_stall_ms": {k: round(v * 1000) for k, v in self.longest.items()},
                "longest_collector_pause_ms": round(self.collector_max * 1000), "stalls_over_100ms": self.long}


def _summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {"median_ms": round(statistics.median(values), 1), "p95_ms": round(p95, 1), "max_ms": round(values[-1], 1)}


def _percentiles(values: list[float]) -> str:
    s = _summary(values)
    return f"median {s['median_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, max {s['max_ms']:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.stall_probe", description=__doc__.split("\n\n")[0])
    p.add_argument("store")
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--drop", metavar="FILE", help="then query with this file (an .inr, a mesh or a point cloud), "
                   "as if dropped, and time it")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--trace-stalls", metavar="FILE", help="write every thread's stack to FILE whenever the GUI "
                   "thread stalls for 100 ms (faulthandler)")
    args = p.parse_args(argv)

    from PySide6.QtCore import QEvent, QObject, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from .warm_up import hold_collector, warm_up

    hold_collector()  # as app.launch starts the browser
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.k_spin.setValue(args.k)
    window.show()
    QTest.qWaitForWindowExposed(window)

    stall = StallClock(status=window.statusBar().currentMessage,
                       trace=Path(args.trace_stalls) if args.trace_stalls else None)
    stall.start()
    start = time.perf_counter()
    window.open_store(Path(args.store))
    warm_up(window)  # as app.launch
    if not _run_until(lambda: window.controller.ready, 600):
        print("the encoders never became ready (is an encoder installed?)", file=sys.stderr)
        return 1
    report: dict[str, object] = {"store": str(args.store), "inrs": window.model.rowCount(), "k": args.k,
                                 "open_seconds": round(time.perf_counter() - start, 2)}
    encoders = window.controller.encoders
    print(f"store open and embeddings up to date after {time.perf_counter() - start:.1f} s "
          f"({window.model.rowCount()} INRs, encoders: {encoders.describe() if encoders else 'none'})")

    class PaintClock(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.armed = False
            self.at: float | None = None

        def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
            if self.armed and event.type() == QEvent.Type.Paint:
                self.at, self.armed = time.perf_counter(), False
            return False

    clock = PaintClock()
    window.results.list.viewport().installEventFilter(clock)
    answered: dict[str, float] = {}

    def on_results(_outcome) -> None:
        answered["at"] = time.perf_counter()
        clock.armed = True

    window.controller.results_ready.connect(on_results)
    stall.phase = "querying"
    view = window.gallery.list
    rows = window.gallery.proxy.rowCount()
    answers: list[float] = []
    paints: list[float] = []
    for n in range(args.queries):
        index = view.model().index((n * 7919) % rows, 0)
        view.scrollTo(index)
        _run_until(lambda: False, 0.05)  # let the scroll settle
        centre = view.visualRect(index).center()
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
        answered.clear()
        clock.at = None
        t0 = time.perf_counter()
        QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
        if not _run_until(lambda: clock.at is not None, 30) or clock.at is None:
            print(f"query {n}: no results within 30 s", file=sys.stderr)
            continue
        answers.append((answered["at"] - t0) * 1000)
        paints.append((clock.at - t0) * 1000)
    _run_until(lambda: False, 0.2)
    print(f"{len(paints)} double-clicks, k={args.k}")
    print(f"  double-click -> results in the model: {_percentiles(answers)}")
    print(f"  double-click -> first paint of the results strip: {_percentiles(paints)}")
    if args.drop:
        stall.phase = f"preparing {Path(args.drop).name}"
        answered.clear()
        t0 = time.perf_counter()
        window.controller.query_file(Path(args.drop))
        _run_until(lambda: "at" in answered, 300)
        drop_seconds = round(time.perf_counter() - t0, 2)
        report["drop_seconds"] = drop_seconds
        print(f"  {Path(args.drop).name} -> results: {drop_seconds:.1f} s")
    stall.stop()
    print(f"  longest GUI-thread stall while opening, embedding and querying: {stall.max * 1000:.0f} ms")
    print(f"  longest pause of the garbage collector: {stall.collector_max * 1000:.0f} ms")
    if stall.long:
        print(f"  stalls over 100 ms: {'; '.join(stall.long)}")
    report.update(queries=len(paints), answer=_summary(answers) if answers else None,
                  first_paint=_summary(paints) if paints else None, **stall.report())
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
