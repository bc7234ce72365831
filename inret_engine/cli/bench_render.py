"""``inret bench render``: how fast one INR is baked, rendered and converted for the baselines."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ..errors import UsageError

GOALS = {"bake": 1.0, "frame 256x256": 0.150, "thumbnail 128x128": 0.040}
"""Seconds the interactive paths should stay under (a baked hash-grid SDF INR, 2 CPU cores)."""


def add_render_bench(bsub) -> None:
    r = bsub.add_parser("render", help="bake / frame / thumbnail / cutaway / point-cloud / multi-view times of a "
                                       "hash-grid SDF INR")
    r.add_argument("--store", default=None, help="take the INR from this store instead of fitting a demo shape")
    r.add_argument("--id", type=int, default=None, help="catalog id in --store (default: its first hash SDF INR)")
    r.add_argument("--category", default="car", help="demo category to fit when no store is given (default car)")
    r.add_argument("--steps", type=int, default=None, help="fit steps (default per architecture)")
    r.add_argument("--resolution", type=int, default=97, help="bake lattice nodes per axis (default 97)")
    r.add_argument("--repeat", type=int, default=5, help="timed runs per measurement; the median is reported")
    r.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    r.add_argument("--json", default=None, help="write the figures here")
    r.set_defaults(run=run_render_bench)


def _inr_field(args: argparse.Namespace):
    """``(field, description)``: a stored hash SDF INR, or one fitted to a demo shape now."""
    from ..functions import ImplicitFunction
    if args.store:
        from ..store import Store
        with Store.open(Path(args.store)) as store:
            recs = [store.catalog.inr(args.id)] if args.id is not None else store.records(arch="hash", function="sdf")
            if not recs:
                raise UsageError(f"{args.store} holds no hash-grid SDF INR; pass --id")
            inr = store.load(recs[0])
        if inr.function is not ImplicitFunction.SDF:
            raise UsageError(f"INR {recs[0].id} is {inr.function.value.upper()}; the bench renders an SDF INR")
        return inr.to_field(), f"store {args.store} id {recs[0].id} ({recs[0].name}, {recs[0].arch})"
    from ..build import resolve_sources
    from ..data.loading import normalize
    from ..data.sampling import sample_ground_truth
    from ..fields import default_config
    from ..fit import FitSettings, fit
    from ..progress import run_to_end
    src = resolve_sources("demo", categories=[args.category], per_category=1)[0]
    gt = sample_ground_truth(normalize(src.load()), seed=0)
    start = time.perf_counter()
    field = run_to_end(fit(default_config("hash"), ImplicitFunction.SDF, [gt], [src.shape_id],
                           FitSettings(steps=args.steps)))
    return field, f"demo {src.name}, hash SDF fitted in {time.perf_counter() - start:.1f} s"


def _median_seconds(fn: Callable[[], object], repeat: int, warm_up: bool = True) -> float:
    if warm_up:  # first-call allocations and lazy imports are not what we measure
        fn()
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_render_bench(args: argparse.Namespace) -> int:
    from ..functions import ImplicitFunction
    from ..render.bake import bake
    from ..render.camera import Camera
    from ..render.image import Plane, render_frame, render_thumbnail
    from ..render.points import multiview_images, surface_point_cloud

    if args.threads:
        torch.set_num_threads(args.threads)
    field, what = _inr_field(args)
    sdf = ImplicitFunction.SDF
    baked = bake(field, sdf, args.resolution)
    cam = Camera()
    cut = Plane.axis("z", 0.0)
    runs = {
        "bake": (lambda: bake(field, sdf, args.resolution), args.repeat),
        "frame 256x256": (lambda: render_frame(baked, camera=cam), args.repeat),
        "thumbnail 128x128": (lambda: render_thumbnail(baked), args.repeat),
        "cutaway 256x256": (lambda: render_frame(baked, camera=cam, cutaway=cut), args.repeat),
        "point cloud 2048 (with bake)": (lambda: surface_point_cloud(field, sdf, 2048), max(1, args.repeat // 2)),
        "multi-view 12x224^2 (with bake)": (lambda: multiview_images(field, sdf), max(1, args.repeat // 2)),
        "frame 256x256 exact (no bake)": (lambda: render_frame(field, sdf, cam, baked=False), 1),
    }
    frame = render_frame(baked, camera=cam)
    print(f"{what}; bake {baked.evaluated} field evaluations ({baked.resolution}^3 lattice = "
          f"{baked.resolution ** 3}), {frame.hit_mask.mean():.0%} of the frame covered; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'measurement':<34}{'ms':>9}{'goal ms':>9}  met")
    results = []
    for name, (fn, repeat) in runs.items():
        seconds = _median_seconds(fn, repeat, warm_up=repeat > 1)
        goal = GOALS.get(name)
        met = None if goal is None else seconds < goal
        results.append({"name": name, "seconds": seconds, "goal_seconds": goal, "met": met, "runs": repeat})
        goal_text = f"{goal * 1000:>9.0f}  {'yes' if met else 'NO'}" if goal else f"{'-':>9}"
        print(f"{name:<34}{seconds * 1000:>9.1f}{goal_text}", flush=True)
    report = {"benchmark": "render", "machine": platform.processor() or platform.machine(),
              "torch_threads": torch.get_num_threads(), "inr": what, "resolution": baked.resolution,
              "bake_evaluations": baked.evaluated, "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0
