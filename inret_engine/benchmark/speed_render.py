"""How fast one INR is baked, rendered and converted for the baselines (``inret bench render`` prints it)."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ..errors import UsageError
from ..fields import Field

GOALS = {"bake": 1.0, "frame 256x256": 0.150, "thumbnail 128x128": 0.040}
"""Seconds the interactive paths should stay under (a baked hash-grid SDF INR, 2 CPU cores)."""


def hash_sdf_field(store: str | Path | None = None, inr_id: int | None = None, category: str = "car",
                   steps: int | None = None) -> tuple[Field, str]:
    """``(field, description)``: a stored hash SDF INR (``inr_id``, or the store's first), or one fitted to a
    demo shape of ``category`` now.

    Raises:
        UsageError: the store holds no hash-grid SDF INR, or ``inr_id`` is not an SDF INR.
    """
    from ..functions import ImplicitFunction
    if store:
        from ..store import Store
        with Store.open(Path(store)) as opened:
            recs = ([opened.catalog.inr(inr_id)] if inr_id is not None
                    else opened.records(arch="hash", function="sdf"))
            if not recs:
                raise UsageError(f"{store} holds no hash-grid SDF INR; pass --id")
            inr = opened.load(recs[0])
        if inr.function is not ImplicitFunction.SDF:
            raise UsageError(f"INR {recs[0].id} is {inr.function.value.upper()}; the bench renders an SDF INR")
        return inr.to_field(), f"store {store} id {recs[0].id} ({recs[0].name}, {recs[0].arch})"
    from ..build import resolve_sources
    from ..data.loading import normalize
    from ..data.sampling import sample_ground_truth
    from ..fields import default_config
    from ..fit import FitSettings, fit
    from ..progress import run_to_end
    src = resolve_sources("demo", categories=[category], per_category=1)[0]
    gt = sample_ground_truth(normalize(src.load()), seed=0)
    start = time.perf_counter()
    field = run_to_end(fit(default_config("hash"), ImplicitFunction.SDF, [gt], [src.shape_id],
                           FitSettings(steps=steps)))
    return field, f"demo {src.name}, hash SDF fitted in {time.perf_counter() - start:.1f} s"


def median_seconds(fn: Callable[[], object], repeat: int, warm_up: bool = True) -> float:
    """Median wall time of ``repeat`` calls of ``fn`` (after one untimed call when ``warm_up``).

    >>> median_seconds(lambda: None, 3) < 1.0
    True
    """
    if warm_up:  # first-call allocations and lazy imports are not what we measure
        fn()
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_render(field: Field, what: str, resolution: int = 97, repeat: int = 5,
                   log: Callable[[str], None] = print) -> dict:
    """Median times of bake, frame, thumbnail, cutaway, point cloud and multi-view of an SDF ``field``.

    Args:
        field: one SDF INR (batch of 1); ``what`` describes it in the report.
        resolution: bake lattice nodes per axis.
        repeat: timed runs per measurement (the slow conversions run half as many).
        log: where the table's lines go.

    Returns:
        The report (JSON-ready), each measurement with its goal where it has one.
    """
    from ..functions import ImplicitFunction
    from ..render.bake import bake
    from ..render.camera import Camera
    from ..render.image import Plane, render_frame, render_thumbnail
    from ..render.points import multiview_images, surface_point_cloud

    sdf = ImplicitFunction.SDF
    baked = bake(field, sdf, resolution)
    cam = Camera()
    cut = Plane.axis("z", 0.0)
    runs: dict[str, tuple[Callable[[], object], int]] = {
        "bake": (lambda: bake(field, sdf, resolution), repeat),
        "frame 256x256": (lambda: render_frame(baked, camera=cam), repeat),
        "thumbnail 128x128": (lambda: render_thumbnail(baked), repeat),
        "cutaway 256x256": (lambda: render_frame(baked, camera=cam, cutaway=cut), repeat),
        "point cloud 2048 (with bake)": (lambda: surface_point_cloud(field, sdf, 2048), max(1, repeat // 2)),
        "multi-view 12x224^2 (with bake)": (lambda: multiview_images(field, sdf), max(1, repeat // 2)),
        "frame 256x256 exact (no bake)": (lambda: render_frame(field, sdf, cam, baked=False), 1),
    }
    frame = render_frame(baked, camera=cam)
    log(f"{what}; bake {baked.evaluated} field evaluations ({baked.resolution}^3 lattice = "
        f"{baked.resolution ** 3}), {frame.hit_mask.mean():.0%} of the frame covered; "
        f"torch threads {torch.get_num_threads()}")
    log(f"{'measurement':<34}{'ms':>9}{'goal ms':>9}  met")
    results = []
    for name, (fn, runs_of) in runs.items():
        seconds = median_seconds(fn, runs_of, warm_up=runs_of > 1)
        goal = GOALS.get(name)
        met = None if goal is None else seconds < goal
        results.append({"name": name, "seconds": seconds, "goal_seconds": goal, "met": met, "runs": runs_of})
        goal_text = f"{goal * 1000:>9.0f}  {'yes' if met else 'NO'}" if goal else f"{'-':>9}"
        log(f"{name:<34}{seconds * 1000:>9.1f}{goal_text}")
    return {"benchmark": "render", "machine": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(), "inr": what, "resolution": baked.resolution,
            "bake_evaluations": baked.evaluated, "results": results}
