"""Distillation (paper 7.3): any INR, or any callable field, becomes an INR our encoders know.

The source is used as an oracle: points are drawn uniformly, on its surface and near it
(the same mix as for meshes), the oracle is evaluated there, and a fresh INR of the
target architecture is fitted to those values with the ordinary batched fitting.

Example:
    >>> from inret_engine.fields import default_config
    >>> sphere = lambda x: x.norm(dim=-1) - 0.5
    >>> inr = distill(sphere, ImplicitFunction.SDF, default_config("hash"), steps=5)
    >>> inr.function.value
    'sdf'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.spatial import cKDTree

from .data.sampling import GroundTruth, SampleCounts
from .errors import UsageError
from .fields import Field, FieldConfig
from .fit import FitSettings, fit, measure_quality
from .functions import ImplicitFunction
from .progress import Job, run_to_end
from .render.surface import surface_points
from .store import ShapeINR

PointFn = Callable[[torch.Tensor], torch.Tensor]
"""An unbatched field: ``(N, 3) -> (N,)``."""


def as_point_fn(source: "ShapeINR | Field | PointFn") -> PointFn:
    """An ``(N, 3) -> (N,)`` function from an INR, a batch-of-one field or a callable."""
    if isinstance(source, ShapeINR):
        source = source.to_field()
    if isinstance(source, Field):
        field = source.eval()
        return lambda x: field(x.unsqueeze(0))[0]
    return source


@torch.no_grad()
def _evaluate(fn: PointFn, points: np.ndarray, chunk: int = 65536) -> np.ndarray:
    pts = torch.as_tensor(points, dtype=torch.float32)
    return torch.cat([fn(pts[i:i + chunk]) for i in range(0, len(pts), chunk)]).numpy()


def oracle_ground_truth(source: PointFn, function: ImplicitFunction, *, n_uniform: int = 20_000,
                        n_surface: int = 10_000, n_near: int = 30_000, n_eval_surface: int = 10_000,
                        near_sigmas: tuple[float, float] = (0.01, 0.04), seed: int = 0) -> GroundTruth:
    """Ground truth read off a source field instead of a mesh.

    SDF sources give SDF, UDF and occupancy; occupancy sources (logits) give occupancy
    and a UDF from the distance to their surface samples; UDF sources give UDF only.
    """
    rng = np.random.default_rng(seed)
    batched = lambda x: torch.stack([source(p) for p in x])  # noqa: E731
    surf = surface_points(batched, 1, function, n_points=n_surface + n_eval_surface, seed=seed)[0]
    if len(surf) < 100:
        raise UsageError("the source field has no surface to distill (it never reaches its zero level)")
    surf = surf[rng.permutation(len(surf))]
    train_surf, eval_surf = surf[: len(surf) // 2], surf[len(surf) // 2:]
    train_surf = train_surf[rng.integers(0, len(train_surf), n_surface)]
    uniform = rng.uniform(-1.0, 1.0, (n_uniform, 3))
    sigma = np.repeat(np.asarray(near_sigmas), [n_near // 2, n_near - n_near // 2])[:, None]
    near = np.clip(train_surf[rng.integers(0, len(train_surf), n_near)] + rng.normal(size=(n_near, 3)) * sigma,
                   -1.0, 1.0)
    points = np.concatenate([uniform, train_surf, near]).astype(np.float32)
    values = _evaluate(source, points).astype(np.float32)
    sdf = occ = None
    if function is ImplicitFunction.SDF:
        sdf, udf, occ = values, np.abs(values), (values < 0).astype(np.float32)
    elif function is ImplicitFunction.UDF:
        udf = np.maximum(values, 0.0)
    else:
        occ = (values > 0).astype(np.float32)
        udf = cKDTree(surf).query(points)[0].astype(np.float32)
    udf[n_uniform:n_uniform + n_surface] = 0.0
    return GroundTruth(points=points, udf=udf, sdf=sdf, occ=occ, surface=eval_surf.astype(np.float32),
                       counts=(n_uniform, n_surface, n_near))


def distill(source: "ShapeINR | Field | PointFn", function: ImplicitFunction | None, target: FieldConfig, *,
            target_function: ImplicitFunction | None = None, steps: int | None = None,
            seed: int = 0) -> ShapeINR:
    """Fit a ``target``-architecture INR to ``source``.

    Args:
        source: the oracle (a loaded INR, a batch-of-one field, or a callable).
        function: what ``source`` outputs (read from a ``ShapeINR`` when None).
        target: architecture config of the new INR.
        target_function: function of the new INR (default: the source's); it must be one
            the source's ground truth provides (a UDF source cannot give an SDF).
        steps: fitting steps (architecture default when None).
        seed: sampling and fitting seed.

    Returns:
        The new INR, labels carried over, with its Chamfer distance to the source's surface.
    """
    inr = distill_many([source], function, target, target_function=target_function, steps=steps, seed=seed)[0]
    assert inr is not None, "without skip_failures a failure raises"
    return inr


def distill_many(sources: Sequence["ShapeINR | Field | PointFn"], function: ImplicitFunction | None,
                 target: FieldConfig, *, target_function: ImplicitFunction | None = None,
                 steps: int | None = None, seed: int = 0, skip_failures: bool = False) -> list[ShapeINR | None]:
    """:func:`distill` for many sources of one function, fitted together in one batch.

    Batching is what makes distilling a store affordable on a CPU: the fit of 16 INRs at
    once costs little more than the fit of one. With ``skip_failures`` a source that
    cannot be distilled (no surface) gives ``None`` in its place instead of an error.
    """
    return run_to_end(distill_steps(sources, function, target, target_function=target_function, steps=steps,
                                    seed=seed, skip_failures=skip_failures))


def distill_steps(sources: Sequence["ShapeINR | Field | PointFn"], function: ImplicitFunction | None,
                  target: FieldConfig, *, target_function: ImplicitFunction | None = None,
                  steps: int | None = None, seed: int = 0, skip_failures: bool = False,
                  samples: SampleCounts | None = None,
                  measure: bool = True) -> Job[list[ShapeINR | None]]:
    """:func:`distill_many` as a generator job, like :func:`~inret_engine.fit.fit`: yields the
    fit's progress records (cancellable between them) and returns the new INRs.

    Args:
        samples: ground-truth sample counts for :func:`oracle_ground_truth` (``n_uniform``,
            ``n_surface``, ``n_near``, ``n_eval_surface``); its defaults when None.
        measure: record the fit quality (Chamfer, IoU) in each INR's ``fit``; a query that
            only embeds the result skips it.
        Others: as for :func:`distill_many`.
    """
    sources = list(sources)
    if not sources:
        return []
    plans = [_plan(s, function) for s in sources]
    functions = {p[2] for p in plans}
    if len(functions) != 1:
        raise ValueError("distill_many needs sources of one implicit function, got "
                         f"{sorted(f.value for f in functions)}")
    function = functions.pop()
    target_function = target_function or function
    gts: dict[int, GroundTruth] = {}
    for i, source in enumerate(sources):
        try:
            gts[i] = oracle_ground_truth(as_point_fn(source), function, seed=seed, **(samples or {}))
        except UsageError:  # no surface to distill
            if not skip_failures:
                raise
    out: list[ShapeINR | None] = [None] * len(sources)
    if not gts:
        return out
    rows = list(gts)
    keys = [str(plans[i][0].get("shape_id", f"distilled-{i}")) for i in rows]
    batch = [gts[i] for i in rows]
    field = yield from fit(target, target_function, batch, keys, FitSettings(steps=steps, seed=seed))
    qualities = measure_quality(field, target_function, batch) if measure else [None] * len(rows)
    for j, (i, quality) in enumerate(zip(rows, qualities)):
        labels, normalization, _, origin = plans[i]
        record = {"distilled_from": origin, "seed": seed, **(quality.to_dict() if quality is not None else {})}
        out[i] = ShapeINR(config=target, function=target_function, tensors=field.inr_tensors(j), labels=labels,
                          normalization=normalization, fit=record)
    return out


def _plan(source, function: ImplicitFunction | None) -> tuple[dict, dict | None, ImplicitFunction, str]:
    """Labels, normalisation, function and a description of one distillation source."""
    if isinstance(source, ShapeINR):
        return (dict(source.labels), source.normalization, function or source.function,
                f"{source.config.config_id} {source.function.value}")
    if function is None:
        raise UsageError("say which implicit function the source field outputs")
    return {}, None, function, "callable"
