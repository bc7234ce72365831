"""How many INRs per second batched fitting makes, per architecture and function, with their quality.

(``inret bench fit`` prints it.) The demo shapes are fitted in one batch per
(architecture, function) after one untimed warm-up fit.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import numpy as np
import torch

from ..build import resolve_sources
from ..data.loading import normalize
from ..data.sampling import sample_ground_truth
from ..fields import default_config, parse_architectures
from ..fit import FitSettings, chamfer_floor, fit, measure_quality
from ..functions import parse_functions
from ..progress import run_to_end


def measure_fit(arch: str = "hash,octree,triplane,mlp", function: str = "sdf,udf,occ", shapes: int = 16,
                steps: int | None = None, log: Callable[[str], None] = print) -> dict:
    """Fit ``shapes`` demo shapes per (architecture, function) of the comma lists; returns the report.

    Args:
        arch: architectures, comma-separated.
        function: implicit functions, comma-separated.
        shapes: demo shapes fitted in one batch.
        steps: fit steps (default: per architecture).
        log: where the table's lines go.
    """
    torch.manual_seed(0)
    per_category = -(-shapes // 8)
    sources = resolve_sources("demo", per_category=per_category)[:shapes]
    sources = sorted(sources, key=lambda s: (int(s.name.rsplit("_", 1)[1]), s.category))[:shapes]
    t0 = time.perf_counter()
    gts = [sample_ground_truth(normalize(s.load()), seed=0) for s in sources]
    gt_seconds = (time.perf_counter() - t0) / len(gts)
    keys = [s.shape_id for s in sources]
    floor = float(np.mean([chamfer_floor(gt) for gt in gts]))
    log(f"{len(gts)} demo shapes, ground truth {gt_seconds:.2f} s/shape, torch threads {torch.get_num_threads()}, "
        f"Chamfer floor (two samples of the true surface) {floor:.4f}")
    # Warm-up: the first fit of a process pays for allocator growth and kernel set-up.
    run_to_end(fit(default_config(parse_architectures(arch)[0]), parse_functions(function)[0],
                   gts[:2], keys[:2], FitSettings(steps=5)))
    log(f"{'arch':<9}{'function':<9}{'INRs/s':>8}{'s/INR':>8}{'Chamfer':>9}{'IoU':>7}{'quality s':>10}")
    results = []
    for kind in parse_architectures(arch):
        config = default_config(kind)
        for fn in parse_functions(function):
            settings = FitSettings(steps=steps)
            start = time.perf_counter()
            field = run_to_end(fit(config, fn, gts, keys, settings))
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            quality = measure_quality(field, fn, gts)
            q_seconds = time.perf_counter() - start
            cd = float(np.mean([q.chamfer for q in quality]))
            ious = [q.iou for q in quality if q.iou is not None]
            row = {"arch": kind, "function": fn.value, "config_id": config.config_id,
                   "inrs": len(gts), "steps": settings.steps_for(config),
                   "points_per_step": settings.points_per_step, "fit_seconds": seconds,
                   "inrs_per_second": len(gts) / seconds, "mean_chamfer": cd,
                   "max_chamfer": float(np.max([q.chamfer for q in quality])),
                   "mean_iou": float(np.mean(ious)) if ious else None, "quality_seconds": q_seconds}
            results.append(row)
            iou_text = f"{row['mean_iou']:.3f}" if ious else "-"
            log(f"{kind:<9}{fn.value:<9}{row['inrs_per_second']:>8.2f}{seconds / len(gts):>8.2f}"
                f"{cd:>9.4f}{iou_text:>7}{q_seconds:>10.1f}")
    return {"benchmark": "fit", "machine": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(), "gt_seconds_per_shape": gt_seconds,
            "chamfer_floor": floor, "results": results}
