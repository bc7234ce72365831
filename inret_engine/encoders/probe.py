"""The field probe: any shape INR read as a surface-proximity grid, the input of the shared encoder.

The paper's encoders read an INR's parameters (feature grid + MLP weights), so each
architecture and function needs its own encoder, and their spaces must be tied by
training. The probe reads the *function* the INR computes instead: the INR is evaluated
on the cell centres of an ``R^3`` lattice (one batched forward pass, no optimisation)
and its output becomes the unsigned distance to the surface it encodes:

* SDF: ``|sdf|``;  UDF: the value itself;
* Occ (logits): the Euclidean distance transform of the lattice cells where occupancy
  changes sign (the surface lies between them), half a cell added.

That is the paper's "distil into one reference architecture" taken to its closed form:
the reference architecture is a dense ``R^3`` distance grid, and reading an INR into it
is exact evaluation, ~1-5 ms for a grid INR on a CPU. Every architecture, function and
config (even ones no encoder has seen) lands in the same input space, so one encoder
embeds the whole store and one index answers every query.

Distances become truncated proximity channels ``max(0, 1 - d / c)`` (a TSDF's band,
unsigned) for a few widths ``c`` up to :data:`~inret_engine.functions.UDF_CLAMP`: a UDF
INR is trained to say only "far" beyond that distance (its values there are arbitrary),
so no function may show more than that if all of them are to share one space. Measured
on the 619 psb_shrec12 train meshes (leave-one-out category nearest neighbour over the
pooled grids): ``exp(-d / 0.08)`` 0.712, these two bands 0.691; on fitted hash INRs
the untruncated form sent UDF queries to SDF/Occ INRs at 0.17 / 0.07 mAP@1.

Example:
    >>> sphere = lambda x: x.norm(dim=-1) - 0.5
    >>> grid = probe_function(sphere, "sdf", resolution=8)
    >>> tuple(grid.shape)
    (1, 2, 8, 8, 8)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..device import device_of
from ..fields import Field
from ..functions import UDF_CLAMP, ImplicitFunction
from .inputs import lattice_centres, sample_grid

PROBE_RESOLUTION = 32
PROXIMITY_SCALES = (0.05, UDF_CLAMP)
"""Band width ``c`` of each proximity channel, in domain units (shapes span about 1.8)."""


def proximity(distance: torch.Tensor, scales: tuple[float, ...] = PROXIMITY_SCALES) -> torch.Tensor:
    """``(B, R, R, R)`` unsigned distances -> ``(B, len(scales), R, R, R)`` channels ``max(0, 1 - d / c)``."""
    d = distance.clamp_min(0).unsqueeze(1)
    return torch.cat([(1 - d / c).clamp_min(0) for c in scales], 1)


def occupancy_distance(logits: torch.Tensor) -> torch.Tensor:
    """Unsigned distance estimates from occupancy logits on a lattice: ``(B, R, R, R) -> (B, R, R, R)``.

    A cell is on the surface when its sign differs from one of its 6 neighbours; its own
    distance is where the logit crosses 0 between them, by linear interpolation (the
    nearest such crossing). Every other cell gets the distance to the nearest surface
    cell plus that cell's own distance. A lattice with no sign change (nothing inside, or
    all inside) gets 2 (the domain's size) everywhere.
    """
    from scipy.ndimage import distance_transform_edt

    values = logits.detach().float().cpu().numpy()
    B, R = values.shape[0], values.shape[-1]
    inside = values > 0
    own = np.full(values.shape, np.inf, dtype=np.float32)  # distance of a surface cell, in cells
    mag = np.abs(values)
    for axis in (1, 2, 3):
        first, second = [slice(None)] * 4, [slice(None)] * 4
        first[axis], second[axis] = slice(0, R - 1), slice(1, R)
        a, b = tuple(first), tuple(second)
        change = inside[a] != inside[b]
        t = mag[a] / np.maximum(mag[a] + mag[b], 1e-12)  # crossing, from the first cell
        own[a] = np.where(change, np.minimum(own[a], t), own[a])
        own[b] = np.where(change, np.minimum(own[b], 1 - t), own[b])
    out = np.full(values.shape, 2.0, dtype=np.float32)
    for i in range(B):
        surface = np.isfinite(own[i])
        if surface.any():
            dist, idx = distance_transform_edt(~surface, return_indices=True)
            out[i] = (dist + own[i][tuple(idx)]) * (2.0 / R)
    return torch.from_numpy(out).to(logits.device)


def to_distance(values: torch.Tensor, function: ImplicitFunction | str) -> torch.Tensor:
    """Lattice values of an INR of ``function`` -> unsigned distances, same shape ``(B, R, R, R)``."""
    function = ImplicitFunction.parse(function)
    if function is ImplicitFunction.OCC:
        return occupancy_distance(values)
    return values.abs() if function is ImplicitFunction.SDF else values.clamp_min(0)


@torch.no_grad()
def lattice_values(field: Field, resolution: int = PROBE_RESOLUTION, chunk: int = 32768) -> torch.Tensor:
    """Raw outputs of every INR of a batch at the lattice cell centres: ``(B, R, R, R)``.

    A grid INR's features come through :func:`~.inputs.sample_grid`, the lattice lookup the
    paper's encoders use (per-level sparse operators built once per config: 5-10x faster
    than a generic lookup at 32^3), then its own decoder; the output is the INR's own
    ``forward`` at those points.
    """
    pts = lattice_centres(resolution, device=device_of(field))
    field = field.eval()
    if field.grid is None:
        values = torch.cat([field(pts[i:i + chunk].expand(field.batch, -1, -1))
                            for i in range(0, len(pts), chunk)], 1)
    else:
        feats = sample_grid(field, resolution).flatten(2).transpose(1, 2)  # (B, R^3, C)
        if field.grid.config.concat_coords:
            feats = torch.cat([feats, pts.expand(field.batch, -1, -1)], -1)
        values = field.mlp(feats).squeeze(-1)
    return values.float().reshape(field.batch, resolution, resolution, resolution)


@torch.no_grad()
def probe_field(field: Field, function: ImplicitFunction | str, resolution: int = PROBE_RESOLUTION) -> torch.Tensor:
    """Probe grids of every INR of a batch: ``(B, len(PROXIMITY_SCALES), R, R, R)``.

    Args:
        field: a batch of INRs of any architecture (all of ``function``).
        function: what the INRs output.
        resolution: lattice cells per axis.
    """
    return proximity(to_distance(lattice_values(field, resolution), function))


@torch.no_grad()
def probe_function(fn: Callable[[torch.Tensor], torch.Tensor], function: ImplicitFunction | str,
                   resolution: int = PROBE_RESOLUTION) -> torch.Tensor:
    """The probe grid ``(1, C, R, R, R)`` of an unbatched callable field ``(N, 3) -> (N,)``."""
    values = fn(lattice_centres(resolution)).float().reshape(1, resolution, resolution, resolution)
    return proximity(to_distance(values, function))
