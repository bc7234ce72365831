"""Baking: evaluate an INR once on a lattice, then trace the lattice instead of the network.

Evaluating a hash-grid INR costs microseconds per point on CPU, and an interactive frame
needs millions of evaluations. :func:`bake` samples the field on an ``R^3`` lattice over
``[-1, 1]^3`` and :class:`BakedField` answers by trilinear interpolation (``grid_sample``),
tens of nanoseconds per point.

Only values near the surface matter for tracing, so the lattice is built coarse to fine
(a narrow band): every node of a coarse lattice is evaluated, then only cells that may
hold the surface are subdivided and their new nodes evaluated; elsewhere values are
trilinearly upsampled. A cell may hold the surface when a corner value is within
``margin`` half-diagonals of it (SDF / UDF, which are distances) or its corners change sign
or sit at small logits (Occ). The first level is dilated by one cell, so upsampled values
are used only at least a coarse cell away from the surface. ``dense=True`` evaluates
every node (the reference). A UDF's clamped far field (about ``UDF_CLAMP``) is baked as is.

An occupancy bake drops specks (:func:`drop_specks`): pieces of "inside" too small to be
a part of the shape, which a triplane's planes leave in free space where the shape's
silhouettes cross.

Example:
    >>> baked = bake(lambda p: p.norm(dim=-1) - 0.5, "sdf", resolution=33)
    >>> round(float(baked(torch.tensor([[0.5, 0.0, 0.0]]))[0]), 3)
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt, label
from torch import nn

from ..functions import ImplicitFunction
from .surface import lattice
from .tracing import point_fn

DEFAULT_RESOLUTION = 97
"""Lattice nodes per axis (96 cells, a voxel of about 0.021; ``(R - 1)`` divisible by 4)."""

OCC_BAND = 2.0
"""Occupancy cells whose smallest |logit| is below this are refined even without a sign change."""
SPECK_NODES = 64
"""An occupancy piece of fewer inside lattice nodes than this (a 4 x 4 x 4 block, about 0.08
units across at the default resolution) is a speck when it is also under :data:`SPECK_SHARE`.
Triplane Occ fits of the demo shapes leave hundreds of pieces of 1-26 nodes and a few of
27-47 (an airplane's largest speck: 41 nodes; its body: 7,535)."""
SPECK_SHARE = 0.01
"""... of the largest piece: a small separate part of a small shape is kept."""


class BakedField:
    """One INR's values on an ``(R, R, R)`` lattice over ``[-1, 1]^3``, interpolated trilinearly.

    Call it like a field: ``(..., 3) -> (...)`` (so ``(N, 3)`` and ``(B, N, 3)`` both work).

    Attributes:
        values: ``(R, R, R)`` float32 lattice values, C order (x slowest), as
            :func:`~.surface.sample_lattice`.
        function: what the values encode.
        bounds: ``(2, 3)`` box holding every cell that may contain the surface (padded);
            ``lo > hi`` when there is none. Tracers clip rays to it.
        skip: lower bound on the distance to the surface on its own lattice (Occ only).
        evaluated: how many field evaluations baking took.
    """

    def __init__(self, values: torch.Tensor, function: ImplicitFunction, *, bounds: torch.Tensor | None = None,
                 skip: torch.Tensor | None = None, evaluated: int = 0):
        if values.ndim != 3 or len(set(values.shape)) != 1 or values.shape[0] < 2:
            raise ValueError(f"baked values must be (R, R, R), got {tuple(values.shape)}")
        self.values = values.float()
        self.function = ImplicitFunction.parse(function)
        cube = torch.tensor([[-1.0] * 3, [1.0] * 3], device=values.device)
        self.bounds = cube if bounds is None else bounds.to(values.device)
        self.skip = skip
        self.evaluated = evaluated
        # grid_sample reads (x, y, z) as (W, H, D): store the lattice as (z, y, x).
        self._grid = self.values.permute(2, 1, 0).contiguous()[None, None]
        self._skip_grid = None if skip is None else skip.float().permute(2, 1, 0).contiguous()[None, None]
        self._smoothed: dict[float, BakedField] = {}

    @property
    def resolution(self) -> int:
        return self.values.shape[0]

    @property
    def voxel(self) -> float:
        """Lattice spacing in INR units."""
        return 2.0 / (self.resolution - 1)

    @property
    def device(self) -> torch.device:
        return self.values.device

    def smoothed(self, sigma: float) -> "BakedField":
        """This lattice blurred by a Gaussian ``sigma`` voxels wide (cached per ``sigma``): what
        renders take normals from (:data:`~inret_engine.render.image.NORMAL_SMOOTHING`)."""
        if sigma not in self._smoothed:
            self._smoothed[sigma] = BakedField(gaussian_blur(self.values, sigma), self.function, bounds=self.bounds,
                                               skip=self.skip)
        return self._smoothed[sigma]

    def to(self, device: torch.device | str) -> "BakedField":
        skip = None if self.skip is None else self.skip.to(device)
        return BakedField(self.values.to(device), self.function, bounds=self.bounds.to(device), skip=skip,
                          evaluated=self.evaluated)

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        return _sample(self._grid, points)

    def skip_distance(self, points: torch.Tensor) -> torch.Tensor:
        """``(..., 3) -> (...)`` lower bound on the distance to the surface (0 where unknown)."""
        if self._skip_grid is None:
            return torch.zeros(points.shape[:-1], device=points.device)
        return _sample(self._skip_grid, points)


def gaussian_blur(values: torch.Tensor, sigma: float) -> torch.Tensor:
    """``(R, R, R)`` values blurred by a Gaussian of ``sigma`` nodes (separable, edges replicated)."""
    radius = max(1, math.ceil(2 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=values.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    v = values.float()[None, None]
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = len(kernel)
        pad = [0] * 6
        pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = radius  # F.pad lists the last axis first
        v = F.conv3d(F.pad(v, pad, mode="replicate"), kernel.reshape(shape))
    return v[0, 0]


def _sample(grid: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    flat = points.reshape(1, 1, 1, -1, 3).to(grid.dtype)
    out = F.grid_sample(grid, flat, mode="bilinear", padding_mode="border", align_corners=True)
    return out.reshape(points.shape[:-1])


@torch.no_grad()
def bake(field: nn.Module | Callable, function: ImplicitFunction | str, resolution: int = DEFAULT_RESOLUTION, *,
         levels: int = 2, margin: float = 1.0, dense: bool = False, chunk: int = 65536,
         device: torch.device | str | None = None) -> BakedField:
    """Sample one INR on an ``R^3`` lattice, densely or as a narrow band (see the module notes).

    Args:
        field: a batch-of-one :class:`~inret_engine.fields.Field` or a ``(N, 3) -> (N,)`` callable.
        function: what the field encodes.
        resolution: nodes per axis ``R``; ``R - 1`` must be divisible by ``2**levels``.
        levels: coarse-to-fine refinements (0 = dense).
        margin: refine cells whose nearest corner value is within this many half-diagonals.
        dense: evaluate every node.
        chunk: points per field call.
        device: where to evaluate; default the field's device.

    Returns:
        :class:`BakedField` (float32, on ``device``).

    Example:
        >>> b = bake(lambda p: p.norm(dim=-1) - 0.5, "sdf", resolution=33, dense=True)
        >>> b.values.shape, b.evaluated
        (torch.Size([33, 33, 33]), 35937)
    """
    function = ImplicitFunction.parse(function)
    fn = point_fn(field)
    device = device or device_of(field)
    levels = 0 if dense else levels
    cells = resolution - 1
    if resolution < 3 or cells % (1 << levels) or (cells >> levels) < 2:
        raise ValueError(f"resolution {resolution}: need R - 1 divisible by {1 << levels} (e.g. 65, 97, 129)")
    n = (cells >> levels) + 1
    values = _evaluate(fn, lattice(n, device=device), chunk).reshape(n, n, n)
    known = torch.ones_like(values, dtype=torch.bool)
    evaluated = n ** 3
    for level in range(levels):
        flag = near_surface(values, function, margin)
        if level == 0:
            flag = _dilate(flag)
        values, known, count = _refine(fn, values, known, flag, chunk)
        evaluated += count
    last = flag if levels else near_surface(values, function, margin)
    if function is ImplicitFunction.OCC:  # the logit band is for refining; the box needs sign changes only
        values = drop_specks(values)
        last = near_surface(values, function, margin, band=0.0)
    bounds = _bounds(last, pad=1)
    skip = occupancy_skip(values) if function is ImplicitFunction.OCC else None
    return BakedField(values, function, bounds=bounds, skip=skip, evaluated=evaluated)


def device_of(field) -> torch.device:
    """Where a field lives: its parameters' device, a baked field's device, else CPU."""
    if isinstance(field, BakedField):
        return field.device
    if isinstance(field, nn.Module):
        p = next(field.parameters(), None)
        if p is not None:
            return p.device
    return torch.device("cpu")


def _evaluate(fn: Callable, points: torch.Tensor, chunk: int) -> torch.Tensor:
    if len(points) == 0:
        return torch.zeros(0, device=points.device)
    return torch.cat([fn(points[i:i + chunk]).float() for i in range(0, len(points), chunk)])


def _corner_reduce(values: torch.Tensor, op) -> torch.Tensor:
    """``op`` (``torch.minimum`` / ``maximum``) over the 8 corners of every cell: ``(R-1)^3``."""
    e, b = slice(1, None), slice(None, -1)
    out = values[b, b, b].clone()
    for x in (b, e):
        for y in (b, e):
            for z in (b, e):
                op(out, values[x, y, z], out=out)
    return out


def near_surface(values: torch.Tensor, function: ImplicitFunction, margin: float = 1.0,
                 band: float = OCC_BAND) -> torch.Tensor:
    """``(R-1)^3`` bool: cells of an ``R^3`` lattice over ``[-1, 1]^3`` that may hold the surface.

    SDF / UDF: a corner within ``margin`` half-diagonals; Occ: corners of both signs, or a
    corner logit within ``band`` of 0.
    """
    if function is ImplicitFunction.OCC:
        lo, hi = _corner_reduce(values, torch.minimum), _corner_reduce(values, torch.maximum)
        return ((lo <= 0) & (hi > 0)) | (torch.minimum(lo.abs(), hi.abs()) < band)
    half_diagonal = math.sqrt(3.0) / (values.shape[0] - 1)
    return _corner_reduce(values.abs(), torch.minimum) < margin * half_diagonal


def _dilate(flag: torch.Tensor) -> torch.Tensor:
    return F.max_pool3d(flag[None, None].float(), 3, stride=1, padding=1)[0, 0] > 0


def _cell_nodes(cells: torch.Tensor) -> torch.Tensor:
    """``(C, C, C)`` cell mask -> ``(C+1)^3`` mask of their corner nodes."""
    c = cells.shape[0]
    nodes = torch.zeros((c + 1,) * 3, dtype=torch.bool, device=cells.device)
    for x in (0, 1):
        for y in (0, 1):
            for z in (0, 1):
                nodes[x:x + c, y:y + c, z:z + c] |= cells
    return nodes


def _refine(fn, values, known, flag, chunk):
    """Halve the lattice spacing; evaluate the nodes of flagged cells not known yet, upsample the rest."""
    c = flag.shape[0]
    m = 2 * c + 1
    fine = F.interpolate(values[None, None], size=(m, m, m), mode="trilinear", align_corners=True)[0, 0]
    fine_known = torch.zeros_like(fine, dtype=torch.bool)
    fine_known[::2, ::2, ::2] = known
    cells = torch.nonzero(flag)
    offsets = torch.cartesian_prod(*[torch.arange(3, device=flag.device)] * 3)
    nodes = (2 * cells[:, None, :] + offsets[None]).reshape(-1, 3)
    lin = torch.unique((nodes[:, 0] * m + nodes[:, 1]) * m + nodes[:, 2])
    lin = lin[~fine_known.view(-1)[lin]]
    pts = torch.stack([lin // (m * m), (lin // m) % m, lin % m], -1).float() * (2.0 / (m - 1)) - 1.0
    fine.view(-1)[lin] = _evaluate(fn, pts, chunk)
    fine_known.view(-1)[lin] = True
    return fine, fine_known, len(lin)


def _bounds(flag: torch.Tensor, pad: int) -> torch.Tensor:
    idx = torch.nonzero(flag)
    if len(idx) == 0:
        return torch.tensor([[1.0] * 3, [-1.0] * 3], device=flag.device)
    h = 2.0 / flag.shape[0]
    lo = (idx.amin(0) - pad).float() * h - 1.0
    hi = (idx.amax(0) + 1 + pad).float() * h - 1.0
    return torch.stack([lo, hi]).clamp(-1.0, 1.0)


def drop_specks(logits: torch.Tensor, min_nodes: int = SPECK_NODES, share: float = SPECK_SHARE) -> torch.Tensor:
    """``(R, R, R)`` occupancy logits without specks: pieces of inside nodes (26-connected)
    smaller than ``min_nodes`` and than ``share`` of the largest piece are set to ``-OCC_BAND``.

    Example:
        >>> grid = torch.full((24, 24, 24), -1.0)
        >>> grid[2:20, 2:20, 2:20] = 1.0  # the shape: 5,832 nodes
        >>> grid[22, 22, 22] = 1.0        # a speck: 1 node
        >>> cleaned = drop_specks(grid)
        >>> int((cleaned > 0).sum()), float(cleaned[22, 22, 22])
        (5832, -2.0)
    """
    inside = (logits > 0).cpu().numpy()
    pieces, count = label(inside, structure=np.ones((3, 3, 3), dtype=bool))
    if count < 2:
        return logits
    sizes = np.bincount(pieces.ravel())[1:]
    small = np.flatnonzero((sizes < min_nodes) & (sizes < share * sizes.max())) + 1
    if len(small) == 0:
        return logits
    drop = torch.as_tensor(np.isin(pieces, small), device=logits.device)
    return torch.where(drop, torch.full_like(logits, -OCC_BAND), logits)


def occupancy_skip(logits: torch.Tensor) -> torch.Tensor:
    """``(R, R, R)`` lower bound on the distance from each node to the zero set of a logit lattice.

    The zero set of the trilinear interpolant lies in cells with corners of both signs. A
    distance transform gives each node its distance ``D`` to the nearest corner of such a
    cell; every point of a cell is within ``sqrt(3)/2`` voxels of one of its corners, and
    trilinear interpolation between nodes loses at most ``sqrt(3)`` voxels more, so
    ``D - 1.5 sqrt(3)`` voxels is a valid lower bound everywhere.
    """
    lo, hi = _corner_reduce(logits, torch.minimum), _corner_reduce(logits, torch.maximum)
    seeds = _cell_nodes((lo <= 0) & (hi > 0)).cpu().numpy()
    h = 2.0 / (logits.shape[0] - 1)
    if not seeds.any():
        return torch.full_like(logits, 2.0 * math.sqrt(3.0))
    dist = distance_transform_edt(~seeds)
    skip = np.clip(dist - 1.5 * math.sqrt(3.0), 0.0, None) * h
    return torch.as_tensor(skip, dtype=torch.float32, device=logits.device)
