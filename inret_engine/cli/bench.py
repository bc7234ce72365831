"""``inret bench``: speed and quality figures printed and written as JSON (never timed tests)."""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ..build import resolve_sources
from ..data.loading import normalize
from ..data.sampling import sample_ground_truth
from ..fields import default_config, parse_architectures
from ..fit import FitSettings, chamfer_floor, fit, measure_quality
from ..functions import parse_functions
from ..progress import run_to_end
from . import bench_index, bench_query, bench_render


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks")
    bsub = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    f = bsub.add_parser("fit", help="INRs per second per architecture, with fit quality, on the demo shapes")
    f.add_argument("--arch", default="hash,octree,triplane,mlp")
    f.add_argument("--function", default="sdf,udf,occ")
    f.add_argument("--shapes", type=int, default=16, help="demo shapes fitted in one batch (default 16)")
    f.add_argument("--steps", type=int, default=None)
    f.add_argument("--json", default=None, help="write the figures here")
    f.set_defaults(run=run_fit)
    bench_render.add_render_bench(bsub)
    bench_index.add_index_bench(bsub)
    bench_query.add_query_bench(bsub)
    add_scale_bench(bsub)


def add_scale_bench(bsub) -> None:
    from ..benchmark.scale import ScaleSettings

    d = ScaleSettings()
    p = bsub.add_parser("scale", help="fitting and embedding locally and on Ray, hnswlib vs Milvus Lite at scale")
    p.add_argument("--json", default=None, help="write the figures here")
    p.add_argument("--parts", default=",".join(d.parts), help=f"what to measure (default {','.join(d.parts)})")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="measure on the Ray cluster at ADDRESS instead of local clusters of 1 and 2 workers")
    p.add_argument("--fit-shapes", type=int, default=d.fit_shapes, help=f"demo shapes fitted (default {d.fit_shapes})")
    p.add_argument("--batch", type=int, default=d.fit_batch, help=f"INRs per batch / Ray task (default {d.fit_batch})")
    p.add_argument("--arch", default=d.arch)
    p.add_argument("--function", default=d.function)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--sizes", default=",".join(str(n) for n in d.index_sizes),
                   help="index sizes (default 100000,1000000; a size that does not fit in memory is skipped)")
    p.add_argument("--backends", default=",".join(d.backends))
    p.add_argument("--queries", type=int, default=d.queries)
    p.add_argument("--ef-search", type=int, default=d.ef_search)
    p.add_argument("--index-threads", type=int, default=d.index_threads, help="hnswlib insertion threads")
    p.set_defaults(run=run_scale)


def run_scale(args: argparse.Namespace) -> int:
    from ..benchmark.scale import ScaleSettings
    from ..benchmark.scale import run_scale as measure

    def items(text: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in text.split(",") if t.strip())

    sizes = tuple(int(n) for n in items(args.sizes))
    settings = ScaleSettings(fit_shapes=args.fit_shapes, fit_batch=args.batch, arch=args.arch, function=args.function,
                             steps=args.steps, ray_address=args.ray, index_sizes=sizes,
                             queries=args.queries, ef_search=args.ef_search, index_threads=args.index_threads,
                             backends=items(args.backends), parts=items(args.parts))
    def save(report: dict) -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))

    measure(settings, log=lambda line: print(line, flush=True), save=save)
    if args.json:
        print(f"wrote {args.json}")
    return 0


def run_fit(args: argparse.Namespace) -> int:
    torch.manual_seed(0)
    per_category = -(-args.shapes // 8)
    sources = resolve_sources("demo", per_category=per_category)[: args.shapes]
    sources = sorted(sources, key=lambda s: (int(s.name.rsplit("_", 1)[1]), s.category))[: args.shapes]
    t0 = time.perf_counter()
    gts = [sample_ground_truth(normalize(s.load()), seed=0) for s in sources]
    gt_seconds = (time.perf_counter() - t0) / len(gts)
    keys = [s.shape_id for s in sources]
    results = []
    floor = float(np.mean([chamfer_floor(gt) for gt in gts]))
    print(f"{len(gts)} demo shapes, ground truth {gt_seconds:.2f} s/shape, torch threads {torch.get_num_threads()}, "
          f"Chamfer floor (two samples of the true surface) {floor:.4f}")
    # Warm-up: the first fit of a process pays for allocator growth and kernel set-up.
    run_to_end(fit(default_config(parse_architectures(args.arch)[0]), parse_functions(args.function)[0],
                   gts[:2], keys[:2], FitSettings(steps=5)))
    print(f"{'arch':<9}{'function':<9}{'INRs/s':>8}{'s/INR':>8}{'Chamfer':>9}{'IoU':>7}{'quality s':>10}")
    for kind in parse_architectures(args.arch):
        config = default_config(kind)
        for function in parse_functions(args.function):
            settings = FitSettings(steps=args.steps)
            start = time.perf_counter()
            field = run_to_end(fit(config, function, gts, keys, settings))
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            quality = measure_quality(field, function, gts)
            q_seconds = time.perf_counter() - start
            cd = float(np.mean([q.chamfer for q in quality]))
            ious = [q.iou for q in quality if q.iou is not None]
            row = {"arch": kind, "function": function.value, "config_id": config.config_id,
                   "inrs": len(gts), "steps": settings.steps_for(config),
                   "points_per_step": settings.points_per_step, "fit_seconds": seconds,
                   "inrs_per_second": len(gts) / seconds, "mean_chamfer": cd,
                   "max_chamfer": float(np.max([q.chamfer for q in quality])),
                   "mean_iou": float(np.mean(ious)) if ious else None, "quality_seconds": q_seconds}
            results.append(row)
            iou_text = f"{row['mean_iou']:.3f}" if ious else "-"
            print(f"{kind:<9}{function.value:<9}{row['inrs_per_second']:>8.2f}{seconds / len(gts):>8.2f}"
                  f"{cd:>9.4f}{iou_text:>7}{q_seconds:>10.1f}", flush=True)
    report = {"benchmark": "fit", "machine": platform.processor() or platform.machine(),
              "torch_threads": torch.get_num_threads(), "gt_seconds_per_shape": gt_seconds,
              "chamfer_floor": floor, "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0
