"""Random views of a shape's distance lattice, as an INR of any architecture and function would show it.

Contrastive training needs two views of one shape that differ the way real queries
and store entries differ, and nothing else:

* **function**: an SDF or UDF INR shows the true distance; an occupancy INR only its
  inside, from which :func:`~.probe.occupancy_distance` rebuilds a coarser distance;
* **fitting error**: INRs are wrong by a little everywhere and by more far from the
  surface: white noise plus a smooth low-frequency field, both growing with distance;
* **pose**: one of the 48 cube symmetries (PCA alignment leaves axis order and signs
  ambiguous), and a small scale and shift (bounding-box normalisation of a slightly
  different shape).

Real INR lattices of the same shape (from a store) are used as views as they are.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .augment import SYMMETRIES
from .probe import proximity


def random_views(udf: torch.Tensor, occ_udf: torch.Tensor, gen: torch.Generator, *,
                 occ_rate: float = 0.33, noise: float = 0.01, smooth_noise: float = 0.03,
                 max_shift: float = 0.06, max_scale: float = 0.08, symmetries: bool = True) -> torch.Tensor:
    """One random view per shape: ``(B, R, R, R)`` distances -> ``(B, C, R, R, R)`` probe grids.

    Args:
        udf: true unsigned distances on the probe lattice.
        occ_udf: distances as an occupancy INR gives them (``nan`` where a shape has no inside).
        gen: random source (views are reproducible for a seed).
        occ_rate: share of views shown as an occupancy INR would (where the shape has an inside).
        noise, smooth_noise: fitting-error amplitudes near the surface (domain units).
        max_shift, max_scale: pose jitter.
        symmetries: apply one of the 48 cube symmetries.
    """
    B = udf.shape[0]
    d = udf.clone()
    occ = (torch.rand(B, generator=gen) < occ_rate) & ~occ_udf[:, 0, 0, 0].isnan()
    d[occ] = occ_udf[occ]
    d = _fitting_error(d, gen, noise, smooth_noise)
    d = _jitter(d, gen, max_shift, max_scale)
    grids = proximity(d)
    if symmetries:
        picks = torch.randint(len(SYMMETRIES), (B,), generator=gen)
        for k in picks.unique().tolist():
            rows = (picks == k).nonzero()[:, 0]
            grids[rows] = SYMMETRIES[k].grid(grids[rows])
    return grids


def _fitting_error(d: torch.Tensor, gen: torch.Generator, noise: float, smooth: float) -> torch.Tensor:
    B, R = d.shape[0], d.shape[-1]
    amp = torch.rand(B, 1, 1, 1, generator=gen)
    grow = 1.0 + 4.0 * d  # errors grow away from the surface
    white = torch.randn(d.shape, generator=gen) * noise
    coarse = torch.randn(B, 1, 4, 4, 4, generator=gen)
    low = F.interpolate(coarse, size=(R, R, R), mode="trilinear", align_corners=True)[:, 0] * smooth
    return (d + amp * grow * (white + low)).clamp_min(0)


def _jitter(d: torch.Tensor, gen: torch.Generator, max_shift: float, max_scale: float) -> torch.Tensor:
    """Resample ``d`` under ``x -> s * x + t`` (distances scale with ``s``)."""
    if max_shift <= 0 and max_scale <= 0:
        return d
    B = d.shape[0]
    s = 1.0 + (torch.rand(B, generator=gen) * 2 - 1) * max_scale
    t = (torch.rand(B, 3, generator=gen) * 2 - 1) * max_shift
    theta = torch.zeros(B, 3, 4)
    theta[:, 0, 0] = theta[:, 1, 1] = theta[:, 2, 2] = 1.0 / s
    theta[:, :, 3] = -t / s.unsqueeze(1)
    grid = F.affine_grid(theta, [B, 1, *d.shape[1:]], align_corners=False)  # identity theta -> identity
    out = F.grid_sample(d.unsqueeze(1), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out[:, 0] * s.view(B, 1, 1, 1)
