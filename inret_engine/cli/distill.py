"""``inret distill``: turn any INR into one of a supported architecture so it can be embedded."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..distill import distill
from ..fields import default_config
from ..functions import ImplicitFunction
from ..store import load_shape_inr, save_shape_inr


def add_parser(sub) -> None:
    p = sub.add_parser("distill", help="distill an INR into a supported architecture (paper 7.3)")
    p.add_argument("inr", help="source .inr file (any architecture or config)")
    p.add_argument("--arch", required=True, help="target architecture: hash, octree, triplane or mlp")
    p.add_argument("--function", default=None, help="target function (default: the source's)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="the new .inr file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    source = load_shape_inr(Path(args.inr))
    target_function = ImplicitFunction.parse(args.function) if args.function else None
    inr = distill(source, None, default_config(args.arch), target_function=target_function,
                  steps=args.steps, seed=args.seed)
    save_shape_inr(Path(args.out), inr)
    cd = inr.fit.get("chamfer")
    quality = "no surface found" if cd is None else f"Chamfer to the source's surface {cd:.4f}"
    print(f"{args.inr} ({source.config.kind} {source.function.value}) -> {args.out} "
          f"({inr.config.kind} {inr.function.value}): {quality}")
    return 0
