"""Batched fitting of many INRs of one architecture config at once.

All INRs of a batch share a config and an implicit function; their parameters are
stacked, so one forward/backward pass trains all of them. The loss is the **sum** of the
per-INR mean losses, and Adam's updates are per element, so each INR trains exactly as
it would alone. Per-INR random streams (keyed by the INR's key and the seed) make a
fit independent of which other shapes share its batch.

Fitting is a job (:mod:`inret_engine.progress`, STYLE.md item 10): it yields
:class:`FitProgress` records, where the caller shows progress and may stop, and returns
the fitted field (``run_to_end(fit(...))``).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from . import functions as fns
from .data.sampling import GroundTruth
from .device import resolve_device
from .fields import Field, FieldConfig, MLPConfig
from .functions import ImplicitFunction
from .progress import Job, Progress
from .render.surface import surface_points
from .shape_metrics import chamfer_distance, iou


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """How long and how hard to fit.

    ``steps=None`` picks the architecture's default (grids converge much faster than a
    SIREN). Learning rates: grid features train at ``lr_grid``, MLP weights at ``lr_mlp``
    (a SIREN uses ``lr_siren``).
    """

    steps: int | None = None
    points_per_step: int = 2048
    lr_grid: float = 2e-2
    lr_mlp: float = 5e-3
    lr_siren: float = 5e-4
    seed: int = 0
    uniform_share: float | None = None
    """Share of each step's points drawn from the uniform (free-space) samples. None: the
    architecture's default for the function (:func:`default_uniform_share`)."""
    grid_eps: float | None = None
    """Adam's ``eps`` for the grid features. None: the architecture's default (:data:`GRID_ADAM_EPS`)."""

    def steps_for(self, config: FieldConfig) -> int:
        if self.steps is not None:
            return self.steps
        return 400 if isinstance(config, MLPConfig) else 150


@dataclasses.dataclass(frozen=True, kw_only=True)
class FitProgress(Progress):
    """``done`` of ``total`` fitting steps, with the batch's mean loss at that step."""

    loss: float


@dataclasses.dataclass(frozen=True)
class FitQuality:
    """How well an INR reproduces its shape (unit-cube units: the shape scaled to side 1)."""

    chamfer: float
    iou: float | None

    def to_dict(self) -> dict:
        """JSON-safe: a missing surface (``inf`` Chamfer) becomes ``None``."""
        return {k: (None if v is None or not np.isfinite(v) else float(v))
                for k, v in dataclasses.asdict(self).items()}


def fit(config: FieldConfig, function: ImplicitFunction, targets: Sequence[GroundTruth],
        keys: Sequence[str], settings: FitSettings = FitSettings(), *,
        device: torch.device | str | None = None, report_every: int = 10) -> Job[Field]:
    """Fit one INR per ground truth: a job that yields progress and returns the ``B``-INR field.

    Args:
        config: architecture config shared by the batch.
        function: implicit function to fit (SDF / Occ need inside/outside ground truth).
        targets: one ground truth per INR.
        keys: one stable key per INR (its shape id): seeds its grid and its point stream.
        settings: steps, points per step, learning rates, seed.
        device: where to train (None: CUDA when present, else the CPU).
        report_every: yield a record every this many steps (and after the last).

    Returns:
        The fitted :class:`~inret_engine.fields.Field` of ``B = len(targets)`` INRs, in
        eval mode, on the CPU.
    """
    if len(targets) != len(keys) or not targets:
        raise ValueError("fit needs one key per ground truth, and at least one of each")
    device = resolve_device(device)
    points = [torch.as_tensor(gt.points, dtype=torch.float32) for gt in targets]
    values = [torch.as_tensor(fns.target(function, gt.sdf, gt.udf, gt.occ), dtype=torch.float32)
              for gt in targets]
    field = Field.create(config, len(targets), seed=settings.seed, keys=keys,
                         surfaces=[gt.surface for gt in targets]).to(device)
    optimizer = _optimizer(field, settings)
    total = settings.steps_for(config)
    schedule = _schedule(optimizer, config, total)
    gens = [torch.Generator().manual_seed(zlib.crc32(f"points:{settings.seed}:{k}".encode())) for k in keys]
    # Each INR's whole stream of sample indices is drawn up front (from its own generator,
    # so the fit does not depend on its batch mates); one batched gather per step follows.
    # Pools are padded to a common length, indices never reach the padding.
    n = settings.points_per_step
    pool = max(len(p) for p in points)
    share = settings.uniform_share if settings.uniform_share is not None else default_uniform_share(config, function)
    stream = torch.stack([_index_stream(len(p), gt.counts[0], total, n, share, g)
                          for p, gt, g in zip(points, targets, gens)], 1)
    all_points = torch.stack([nn.functional.pad(p, (0, 0, 0, pool - len(p))) for p in points])
    all_values = torch.stack([nn.functional.pad(v, (0, pool - len(v))) for v in values])
    batch_rows = torch.arange(len(points)).unsqueeze(1)
    for step in range(1, total + 1):
        idx = stream[step - 1]  # (B, n)
        x = all_points[batch_rows, idx].to(device)
        y = all_values[batch_rows, idx].to(device)
        per_inr = fns.loss(function, field(x), y)
        optimizer.zero_grad(set_to_none=True)
        per_inr.sum().backward()
        optimizer.step()
        schedule.step()
        if step % report_every == 0 or step == total:
            loss = float(per_inr.detach().mean())
            yield FitProgress("fitting", step, total, f"loss {loss:.4f}", loss=loss)
    field.eval()
    return field.cpu()


OCC_UNIFORM_SHARE = {"triplane": 0.85, "hash": 0.7}
"""Occupancy fits of these grids draw this share of their points from free space.

A third of the pool is uniform; at that share, a triplane's planes carry the shape's
silhouettes into empty space (each free-space point shares two of its three plane
features with points of the shape) and occupancy crosses 0.5 there: floating specks.
Measured on 6 psb_shrec12 train meshes (IoU, Chamfer): triplane 0.734 / 0.0181 -> 0.880 /
0.0165 at 0.85; hash 0.896 / 0.0096 -> 0.970 / 0.0101 at 0.7. SDF and UDF fits lose surface
detail with more free-space points (hash SDF IoU 0.84 -> 0.79 at 0.7 on 4 demo shapes), and
octree occupancy gains nothing (its empty space has no voxels), so they keep the pool's mix.
"""


def default_uniform_share(config: FieldConfig, function: ImplicitFunction) -> float | None:
    """The share of free-space points a fit of ``config`` and ``function`` draws (None: the pool's mix)."""
    return OCC_UNIFORM_SHARE.get(config.kind) if function is ImplicitFunction.OCC else None


def _index_stream(pool: int, n_uniform: int, steps: int, n: int, uniform_share: float | None,
                  gen: torch.Generator) -> torch.Tensor:
    """``(steps, n)`` indices into one INR's samples, the first ``n_uniform`` of which are uniform."""
    if uniform_share is None or not 0 < n_uniform < pool:
        return torch.randint(pool, (steps, n), generator=gen)
    k = round(uniform_share * n)
    uniform = torch.randint(n_uniform, (steps, k), generator=gen)
    rest = n_uniform + torch.randint(pool - n_uniform, (steps, n - k), generator=gen)
    return torch.cat([uniform, rest], 1)


def _schedule(optimizer: torch.optim.Optimizer, config: FieldConfig, total: int):
    """Cosine decay to zero for SIRENs; a constant rate for grid INRs.

    Measured (16 demo shapes, default budget): the decay lifted SIREN IoU on real meshes
    (SDF 0.86 -> 0.89, Occ 0.87 -> 0.95) but cost grid INRs (hash SDF IoU 0.88 -> 0.82).
    """
    if isinstance(config, MLPConfig):
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total, eta_min=0.0)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


GRID_ADAM_EPS: dict[str, float] = {}
"""Adam ``eps`` of the grid features per architecture (absent: torch's 1e-8). Empty on purpose.

A hash grid's fine levels get sparse, tiny gradients; Adam divides them by their own
running size, so at the default eps an entry moves a whole learning-rate step on noise and
the surface comes out grainy. ``FitSettings(grid_eps=1e-5)`` smooths it (6 demo hash SDFs
at 150 steps: normal error 28.9 -> 21.1 degrees, IoU 0.901 -> 0.900;
``scripts/thumbnail_quality.py``), but it is not the default: INRs fitted so hold grid
features of another scale than every store fitted before, and the paper's encoders, which
read the weights, fail on them. On the quick benchmark, SIREN test INRs distilled into hash
grids and queried with the hash encoder of a store fitted at 1e-8 scored mAP@1 0.08 at 1e-5
against 0.52 at 1e-8. A drop or a distillation must be fitted as the store's INRs were.
"""


def _optimizer(field: Field, settings: FitSettings) -> torch.optim.Optimizer:
    mlp_lr = settings.lr_siren if isinstance(field.config, MLPConfig) else settings.lr_mlp
    groups = [{"params": list(field.mlp.parameters()), "lr": mlp_lr}]
    if field.grid is not None:
        eps = settings.grid_eps if settings.grid_eps is not None else GRID_ADAM_EPS.get(field.config.kind, 1e-8)
        groups.append({"params": list(field.grid.parameters()), "lr": settings.lr_grid, "eps": eps})
    try:  # the fused kernel runs the update in one pass per tensor (CPU and CUDA)
        return torch.optim.Adam(groups, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(groups)


BOUND_SIDE = 1.8
"""Longest bounding-box side of a normalised shape (``2 * data.geometry.BOUND``)."""


def measure_quality(field: Field, function: ImplicitFunction, targets: Sequence[GroundTruth], *,
                    resolution: int = 64, n_points: int = 10000) -> list[FitQuality]:
    """Chamfer distance of each INR's surface to its ground-truth surface, plus IoU for SDF / Occ.

    Chamfer uses ``n_points`` samples of the INR's zero level set (:func:`surface_points`)
    against the held-out ground-truth surface samples, divided by the shape's longest
    side so that it reads in unit-cube units. IoU compares inside/outside on the uniform
    ground-truth points. An INR without a surface gets ``inf`` Chamfer.

    Two independent 10,000-point samples of the same surface are already about 0.006
    apart by this measure (see :func:`chamfer_floor`), so values near that are perfect.
    """
    surfaces = surface_points(field, field.batch, function, n_points=n_points, resolution=resolution)
    inside = None
    if function.is_signed and all(gt.occ is not None for gt in targets):
        n_uniform = min(gt.counts[0] for gt in targets)
        uniform = torch.stack([torch.as_tensor(gt.points[:n_uniform], dtype=torch.float32) for gt in targets])
        with torch.no_grad():
            inside = fns.to_occupancy(function, field(uniform)).numpy() > 0.5
    out = []
    for i, (gt, pts) in enumerate(zip(targets, surfaces)):
        cd = chamfer_distance(pts, gt.surface[:n_points]) / BOUND_SIDE
        score = None if inside is None or gt.occ is None else iou(inside[i], gt.occ[: inside.shape[1]] > 0.5)
        out.append(FitQuality(chamfer=cd, iou=score))
    return out


def chamfer_floor(gt: GroundTruth, n_points: int = 10000) -> float:
    """Chamfer between two independent samples of the true surface: the best any INR can score."""
    n_uniform, n_surface, _ = gt.counts
    train_surface = gt.points[n_uniform:n_uniform + min(n_surface, n_points)]
    return chamfer_distance(train_surface, gt.surface[:n_points]) / BOUND_SIDE
