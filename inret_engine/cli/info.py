"""``inret info``: what a store holds and how well its INRs fit."""

from __future__ import annotations

import argparse
import json

from ..store import Store


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="counts and fit quality of a store")
    p.add_argument("store")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with Store.open(args.store) as store:
        summary = store.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['store']}: {summary['inrs']} INRs of {summary['shapes']} shapes")
    for key in ("by_arch", "by_function", "by_split", "by_category"):
        print(f"  {key[3:]:<9} " + ", ".join(f"{k} {v}" for k, v in summary[key].items()))
    functions = sorted({f for fs in summary["mean_chamfer"].values() for f in fs})
    if functions:
        print("  mean Chamfer (unit cube)  " + "".join(f"{f:>9}" for f in functions))
        for arch, fs in summary["mean_chamfer"].items():
            print(f"    {arch:<24}" + "".join(f"{fs.get(f, float('nan')):>9.4f}" for f in functions))
    for item in summary["skipped"]:
        print(f"  skipped {item['source']}: {item['reason']}")
    return 0
