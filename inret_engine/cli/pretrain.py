"""``inret pretrain``: (re)make the shared model shipped in ``resources/encoders``.

The corpus is the true distance lattices of every shape of the given sources (dataset
folders or ``demo``; the train split by default), plus, with ``--store``, the probe grids
of the INRs that those stores hold for the same shapes (every architecture, function
and seed becomes one more view of its shape).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ..build import resolve_sources
from ..device import resolve_device
from ..encoders.contrastive import ContrastiveSettings, train_shared
from ..encoders.model import INRetModel
from ..encoders.pretrained import corpus_from_sources, store_views
from ..store import Store
from .bars import run_with_bars

DEFAULT_CACHE = Path.home() / ".cache" / "inret" / "corpus"


def add_parser(sub) -> None:
    p = sub.add_parser("pretrain", help="train the shared encoder of every architecture and function",
                       description="Train the shared (field-probe) model on mesh lattices and INR views.")
    p.add_argument("sources", nargs="+", help="dataset folders or 'demo'")
    p.add_argument("--out", required=True, help="model file to write (.enc)")
    p.add_argument("--split", default="train", help="split of the dataset folders to train on (default train)")
    p.add_argument("--store", action="append", default=[], help="store whose INRs of these shapes are views too")
    p.add_argument("--steps", type=int, default=ContrastiveSettings.steps)
    p.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N")
    p.add_argument("--labels", action="store_true", help="supervised contrastive on the categories")
    p.add_argument("--init", type=Path, default=None, help="start from this shared model (fine-tuning)")
    p.add_argument("--lr", type=float, default=ContrastiveSettings.lr)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the file size)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"mesh lattices cache (default {DEFAULT_CACHE})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sources = []
    for src in args.sources:
        sources += resolve_sources(src, splits=None if src == "demo" else [args.split])
    corpus = run_with_bars(corpus_from_sources(sources, args.cache), notes={"skip": "skipped"},
                           units={"mesh lattices": "shape"})
    views: dict = {}
    for path in args.store:
        with Store.open(path) as store:
            for row, grids in store_views(store, corpus, split=None).items():
                views[row] = torch.cat([views[row], grids]) if row in views else grids
    settings = ContrastiveSettings(steps=args.steps, labels=args.labels, seed=args.seed, lr=args.lr,
                                   base_channels=ContrastiveSettings.base_channels if args.steps else 0)
    init = INRetModel.load(args.init) if args.init is not None else None
    print(f"training the shared encoder on {len(corpus)} shapes, {sum(len(v) for v in views.values())} INR views "
          f"({'supervised' if args.labels else 'self-supervised'} contrastive, {settings.steps} steps)",
          file=sys.stderr)
    device = resolve_device(args.device)
    model = run_with_bars(train_shared(corpus, settings, inr_views=views, init=init, device=device),
                          units={"training": "step"})
    note = (f"inret pretrain {' '.join(args.sources)} --split {args.split} --steps {args.steps} --seed {args.seed}"
            + "".join(f" --store {s}" for s in args.store) + (" --labels" if args.labels else "")
            + (f" --init {args.init.name} --lr {args.lr}" if args.init else "")
            + f"; {len(corpus)} shapes, {sum(len(v) for v in views.values())} INR views")
    checksum = model.save(Path(args.out), half=args.half, note=note)
    print(f"wrote {args.out} (checksum {checksum[:12]})")
    return 0
