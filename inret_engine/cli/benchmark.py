"""``inret benchmark``: every method of the paper on one dataset, tables printed, JSON written."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..benchmark import get_preset, run_benchmark
from ..benchmark.report import format_report
from ..progress import Progress, run_to_end
from ..store.atomic import atomic_write_bytes


def add_parser(sub) -> None:
    b = sub.add_parser("benchmark", help="fit, train and score INRet, inr2vec and the baselines in one run",
                       description="Builds (or resumes) OUT/store from DATASET, trains every encoder the "
                                   "tables need (cached in OUT/encoders), prints the same-function table, the "
                                   "cross-function tables and query latency, and writes the figures as JSON.")
    b.add_argument("dataset", help="dataset folder (ModelNet/ShapeNet/plain layout with train/test) or 'demo'")
    b.add_argument("--out", required=True, help="working folder; a store already there is reused")
    b.add_argument("--preset", default="quick",
                   help="quick (10 categories, < 45 min on 2 cores), standard (every category and shape) or full")
    b.add_argument("--categories", default=None, help="comma-separated categories instead of the preset's")
    b.add_argument("--json", default=None, help="report file (default OUT/benchmark-PRESET.json)")
    b.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    categories = tuple(c.strip() for c in args.categories.split(",") if c.strip()) if args.categories else None
    preset = get_preset(args.preset, categories)
    out = Path(args.out)
    last_line, last_time = "", 0.0

    def show(item: Progress) -> None:  # a line per stage, then at most one every 5 s: a log, not a bar
        nonlocal last_line, last_time
        line = f"[{item.stage}] {item.done}/{item.total} {item.message}"
        now = time.monotonic()
        if item.stage.split()[0] != last_line.split(" ")[0].strip("[]") or now - last_time > 5 or \
                item.done == item.total:
            print(line, file=sys.stderr, flush=True)
            last_line, last_time = line, now

    report = run_to_end(run_benchmark(args.dataset, out, preset), on_progress=show)
    path = Path(args.json) if args.json else out / f"benchmark-{preset.name}.json"
    atomic_write_bytes(path, json.dumps(report, indent=2).encode())
    print(format_report(report))
    print(f"\nwrote {path}")
    return 0
