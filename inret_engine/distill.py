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

from collections.abc import Callable

import numpy as np
import torch
from scipy.spatial import cKDTree

from .data.sampling import GroundTruth
from .fields import Field, FieldConfig
from .fit import FitSettings, fit_to_end, measure_quality
from .functions import ImplicitFunction
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
        raise ValueError("the source field has no surface to distill (it never reaches its zero level)")
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
    labels, normalization, origin = {}, None, "callable"
    if isinstance(source, ShapeINR):
        function = function or source.function
        labels, normalization = dict(source.labels), source.normalization
        origin = f"{source.config.config_id} {source.function.value}"
    if function is None:
        raise ValueError("say which implicit function the source field outputs")
    target_function = target_function or function
    gt = oracle_ground_truth(as_point_fn(source), function, seed=seed)
    key = str(labels.get("shape_id", "distilled"))
    field = fit_to_end(target, target_function, [gt], [key], FitSettings(steps=steps, seed=seed))
    (quality,) = measure_quality(field, target_function, [gt])
    fit = {"distilled_from": origin, "seed": seed, **quality.to_dict()}
    return ShapeINR(config=target, function=target_function, tensors=field.inr_tensors(0), labels=labels,
                    normalization=normalization, fit=fit)
