"""``inret check``: verify every file of a store against its catalog, and mend what it can."""

from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from ..repair import check_store
from ..store import Store
from .bars import run_with_bars


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="verify a store's files against its catalog (and --repair them)",
                       description="Read every file STORE's catalog names and report what is missing, "
                                   "changed or invalid. With --repair, sample lost ground truth again from "
                                   "its source and fit damaged INRs again (their files go to lost+found/). "
                                   "Exit status 0: no problem left; 1: problems remain.")
    p.add_argument("store")
    p.add_argument("--repair", action="store_true", help="mend what can be mended")
    p.add_argument("--steps", type=int, default=None, help="fitting steps for refitted INRs (default per architecture)")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be positive")
    opener = Store.create if args.repair else Store.open
    with opener(args.store) as store:
        report = run_with_bars(check_store(store, repair=args.repair, steps=args.steps), quiet=args.quiet)
    print(f"{args.store}: {report.shapes} shapes and {report.inrs} INRs checked, "
          f"{len(report.findings)} problems, {len(report.unresolved)} unresolved")
    for f in report.findings:
        print(f"  {f.kind} {f.target}: {f.problem}" + (f" -> {f.outcome}" if f.outcome else ""))
    if report.set_aside:
        print(f"  {report.set_aside} files in {args.store}/lost+found/ (set aside, never deleted; "
              "remove them when you have looked at them)")
    if report.unresolved and not args.repair:
        print(f"run `inret check {args.store} --repair` to mend what can be mended")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report.to_dict(), out, indent=2)
    return 1 if report.unresolved else 0
