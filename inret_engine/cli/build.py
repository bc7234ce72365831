"""``inret build-store``: fit INRs of a dataset, a single file or the demo shapes into a store."""

from __future__ import annotations

import argparse
import dataclasses

from ..build import BuildOptions, build_store, resolve_sources
from ..device import resolve_device
from ..errors import UsageError
from ..fields import parse_architectures
from ..functions import parse_functions
from ..store import Store
from .bars import run_with_bars


def add_parser(sub) -> None:
    p = sub.add_parser("build-store", help="fit INRs into a store (resumable)",
                       description="Fit INRs of SOURCE into STORE. Re-running skips what is already there, "
                                   "so an interrupted build resumes where it stopped.")
    p.add_argument("source", help="dataset folder, mesh / point-cloud file, or 'demo'")
    p.add_argument("--out", required=True, help="store folder (created if missing)")
    p.add_argument("--arch", default="hash,octree,triplane,mlp", help="architectures (default: all four)")
    p.add_argument("--function", default="sdf,udf,occ", help="implicit functions (default: all three)")
    p.add_argument("--split", default=None, help="splits to take, e.g. train,test")
    p.add_argument("--categories", default=None, help="categories to take, e.g. Car,Jet")
    p.add_argument("--per-category", type=int, default=None, help="first N shapes of each category")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps (default per architecture)")
    p.add_argument("--batch", type=int, default=16, help="INRs fitted together (default 16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N")
    p.add_argument("--align", action="store_true", help="PCA-align shapes before fitting")
    p.add_argument("--upright", action="store_true",
                   help="turn files the dataset names as z-up (psb_shrec12's SHREC'12 files) to y-up; off: "
                        "the shipped model was trained on the files as they lie")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="fit on a Ray cluster (the 'scale' extra): at ADDRESS (write --ray=ADDRESS), or a local one "
                        "started now; this process alone writes the store")
    p.add_argument("--workers", type=int, default=None,
                   help="with --ray and no address: worker slots of the local cluster (default: every core)")
    p.set_defaults(run=run)


def _fitter(args: argparse.Namespace):
    """The Ray fitter for ``--ray [ADDRESS]``, else None (fit in this process)."""
    if args.ray is None:
        return None
    from ..scale import require

    require("ray")
    from ..scale.fitting import ray_fitter  # lazy: Ray is an optional extra

    return ray_fitter(args.ray or None, workers=args.workers)


def _split(text: str | None) -> tuple[str, ...] | None:
    return tuple(t.strip() for t in text.split(",") if t.strip()) if text else None


def run(args: argparse.Namespace) -> int:
    options = BuildOptions(archs=tuple(parse_architectures(args.arch)),
                           functions=tuple(parse_functions(args.function)), splits=_split(args.split),
                           categories=_split(args.categories), per_category=args.per_category,
                           steps=args.steps, batch=args.batch, seed=args.seed, align=args.align,
                           device=str(resolve_device(args.device)))
    if args.batch < 1 or (args.steps is not None and args.steps < 1):
        raise UsageError("--batch and --steps must be positive")
    if args.ray is not None and args.device == "auto":  # each worker picks its own (CUDA where it has one)
        options = dataclasses.replace(options, device=None)
    sources = resolve_sources(args.source, splits=options.splits, categories=options.categories,
                              per_category=options.per_category, upright=args.upright)
    with Store.create(args.out) as store:
        summary = run_with_bars(build_store(store, sources, options, fitter=_fitter(args)), quiet=args.quiet,
                                notes={"skip": "skipped", "repair": "repairing"},
                                units={"sampling": "shape", "fitting": "INR"})
    print(f"{summary.added} INRs added, {summary.existing} already present, "
          f"{len(summary.skipped)} skipped, {summary.seconds:.1f} s -> {args.out}")
    for source, reason in summary.skipped:
        print(f"  skipped {source}: {reason}")
    return 0
