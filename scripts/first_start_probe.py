"""The longest GUI stall while the demo store builds in the background, and how soon a drop shows feedback.

    INRET_DEMO_STORE=/tmp/fresh xvfb-run -a .venv/bin/python scripts/first_start_probe.py \
        [--seconds 120] [--drop MESH --drop-at 20] [--json benchmarks/first-start-probe.json]

Opens the window as ``main.py`` does on the demo store (building whatever it lacks as
background work: on a fresh folder the first-run build, on a built one the extra
architectures and functions), with a 5 ms timer on the GUI thread recording the longest
gap between its ticks, per phase. At ``--drop-at`` seconds, or once the first category is
browsable if that is later, it queries with ``--drop`` as a dropped file does
(``controller.query_file``) and times, from that call,

* ``feedback_ms``: the first paint of the results header after it says "preparing NAME";
* ``answer_s``: the results arriving (while the background build goes on).

``first_browsable_s`` is when the first category's shapes are in the gallery (the store open).

Figures from a busy machine say so: the load average at the start is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--drop", type=Path)
    p.add_argument("--drop-at", type=float, default=20.0)
    p.add_argument("--json", type=Path)
    p.add_argument("--trace-stalls", type=Path, help="write every thread's stack here at each GUI freeze of 100 ms")
    p.add_argument("--in-process", action="store_true",
                   help="as before the fixes: the build samples and fits on its own thread of the window's process "
                        "instead of in helper processes (BuildOptions.isolated)")
    args = p.parse_args()

    from app.warm_up import hold_collector, warm_up

    hold_collector()  # as app.launch starts the browser
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from app.launch import _open_demo, default_demo_store, set_torch_threads
    from app.main_window import MainWindow
    from app.stall_probe import StallClock
    from inret_engine.demo import DemoPlan

    load = os.getloadavg()[0]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    start = time.perf_counter()
    window = MainWindow()
    window.show()
    state: dict[str, float | None] = {"loaded": None}
    stall = StallClock(status=window.statusBar().currentMessage, trace=args.trace_stalls, phase="start")
    stall.start()
    root = default_demo_store()
    drop: dict[str, float] = {}

    class HeaderPaint(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
            if (event.type() == QEvent.Type.Paint and "preparing" in window.results.header.text()
                    and "called" in drop and "feedback" not in drop):
                drop["feedback"] = time.perf_counter()
            return False

    painter = HeaderPaint()
    window.results.header.installEventFilter(painter)
    window.controller.results_ready.connect(lambda _o: drop.setdefault("answer", time.perf_counter())
                                            if "called" in drop else None)

    def loaded(_=None) -> None:
        state["loaded"] = time.perf_counter() - start

    def begin() -> None:
        set_torch_threads()
        stall.phase = "background build"
        _open_demo(window, root, loaded, extras=True, plan=DemoPlan.default(isolated=not args.in_process))
        warm_up(window)  # as app.launch
        browsable()

    def browsable() -> None:
        if window.store is None:
            QTimer.singleShot(100, browsable)
        else:
            state["browsable"] = time.perf_counter() - start

    def dropped() -> None:
        if window.store is None:  # nothing to compare with yet: drop once the first category is browsable
            QTimer.singleShot(200, dropped)
            return
        stall.phase = "drop during the background build"
        drop["called"] = time.perf_counter()
        drop["at_s"] = drop["called"] - start
        window.controller.query_file(args.drop)

    QTimer.singleShot(0, begin)
    if args.drop:
        QTimer.singleShot(int(args.drop_at * 1000), dropped)
    QTimer.singleShot(int(args.seconds * 1000), app.quit)
    app.exec()
    stall.stop()
    report = {"store": str(root), "seconds": args.seconds, "in_process": args.in_process,
              "load_average_1min": round(load, 2),
              "loaded_s": None if state["loaded"] is None else round(state["loaded"], 1),
              "first_browsable_s": round(state["browsable"] or 0, 1) if "browsable" in state else None,
              **stall.report()}
    if args.drop:
        report["drop"] = {"file": str(args.drop), "at_s": round(drop["at_s"], 1) if "at_s" in drop else None,
                          "feedback_ms": round((drop["feedback"] - drop["called"]) * 1000, 1)
                          if "feedback" in drop else None,
                          "answer_s": round(drop["answer"] - drop["called"], 1) if "answer" in drop else None}
    print(json.dumps(report, indent=1))
    if args.json:
        existing = json.loads(args.json.read_text()) if args.json.is_file() else []
        args.json.write_text(json.dumps([*existing, report], indent=1) + "\n")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
