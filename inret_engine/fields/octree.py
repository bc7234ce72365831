"""Sparse voxel octree feature grid (NGLOD), batched over B INRs.

Level ``l`` (``base_level <= l <= max_level``) is a lattice of ``2**l`` cells per axis of
which only the voxels near the shape's surface exist. Features (``feature_dim``) are
stored at the corners of existing voxels; a point's feature at a level is the trilinear
interpolation of its voxel's 8 corners, or **zero when the voxel is absent**, and the
levels are **summed**. The voxel set is built from surface samples, dilated by
``dilation`` voxels at the finest level, and closed upwards (a parent exists wherever a
child does), which makes it an octree.

Per INR and level the file holds ``level{l}.voxels`` (sorted C-order voxel indices,
int32) and ``level{l}.features`` (``(n_corners, F)``, one row per corner of those voxels
in sorted C-order corner index).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
from torch import nn

from .base import FeatureGrid, GridConfig, cell_coords, corner_index, gather_rows, trilinear_weights


@dataclasses.dataclass(frozen=True)
class OctreeConfig(GridConfig):
    """NGLOD-like octree: features from ``base_level`` to ``max_level`` (paper: 2..6, dim 8)."""

    kind = "octree"
    # Levels above 7 would need dense per-level masks and lattices of 128^3+ cells whatever
    # the file holds; NGLOD itself stops at 6.
    LIMITS = {**GridConfig.LIMITS, "feature_dim": (1, 32), "base_level": (0, 7), "max_level": (0, 7),
              "dilation": (0, 4)}

    feature_dim: int = 8
    base_level: int = 2
    max_level: int = 5
    dilation: int = 1

    def check(self) -> None:
        if self.max_level < self.base_level:
            raise ValueError(f"octree config max_level={self.max_level} is below base_level={self.base_level}")

    @property
    def feature_out_dim(self) -> int:
        return self.feature_dim

    @property
    def level_range(self) -> range:
        return range(self.base_level, self.max_level + 1)


def build_voxels(surface: np.ndarray, config: OctreeConfig) -> dict[int, np.ndarray]:
    """Voxel sets of every level from surface samples.

    Args:
        surface: ``(P, 3)`` points in ``[-1, 1]^3``.
        config: the octree config.

    Returns:
        ``{level: sorted int64 C-order voxel indices}``.
    """
    if len(surface) == 0:
        raise ValueError("an octree needs surface points to place its voxels")
    res = 1 << config.max_level
    cells = np.clip(np.floor((np.asarray(surface, np.float64) + 1.0) * 0.5 * res), 0, res - 1).astype(np.int64)
    cells = np.unique(cells, axis=0)
    d = config.dilation
    if d > 0:
        r = np.arange(-d, d + 1)
        offsets = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
        cells = np.unique(np.clip((cells[:, None, :] + offsets).reshape(-1, 3), 0, res - 1), axis=0)
    voxels = {}
    for level in config.level_range:
        c = np.unique(cells >> (config.max_level - level), axis=0)
        r_l = 1 << level
        voxels[level] = np.sort((c[:, 0] * r_l + c[:, 1]) * r_l + c[:, 2])
    return voxels


@functools.lru_cache(maxsize=16)
def _lattice_lookup(r: int, resolution: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear-interpolation weights ``(R, r+1)`` of ``R`` cell centres along one axis of a
    level with ``r`` cells, and the level voxel (C order) of every ``R^3`` lattice point."""
    t = (torch.arange(resolution, dtype=torch.float32) + 0.5) * (2.0 / resolution) - 1.0
    cell, frac = cell_coords(t.unsqueeze(-1), r)
    cell, frac = cell[:, 0], frac[:, 0]
    weights = torch.zeros(resolution, r + 1)
    rows = torch.arange(resolution)
    weights[rows, cell] = 1.0 - frac
    weights[rows, cell + 1] += frac
    voxel = ((cell[:, None, None] * r + cell[None, :, None]) * r + cell[None, None, :]).reshape(-1)
    return weights.to(device), voxel.to(device)


def voxel_corners(voxels: np.ndarray, level: int) -> np.ndarray:
    """Sorted unique C-order corner indices of the given voxels of ``level``."""
    r = 1 << level
    cells = np.stack([voxels // (r * r), (voxels // r) % r, voxels % r], -1)
    return np.unique(corner_index(torch.from_numpy(cells), r).numpy())


class Octree(FeatureGrid[OctreeConfig]):
    """B sparse octrees with per-level corner feature tables.

    Buffers per level: ``mask{l}`` ``(B, r^3)`` voxel existence and ``rows{l}``
    ``(B, (r+1)^3)`` row of each corner in the flat parameter ``features[l]``.
    """

    def __init__(self, config: OctreeConfig, voxels: list[dict[int, np.ndarray]]):
        super().__init__()
        self.config = config
        self.features = nn.ParameterList()
        self.row_offsets: list[list[int]] = []
        for level in config.level_range:
            r = 1 << level
            mask = torch.zeros(len(voxels), r ** 3, dtype=torch.bool)
            rows = torch.zeros(len(voxels), (r + 1) ** 3, dtype=torch.long)
            offsets = [0]
            for i, per_level in enumerate(voxels):
                vox = per_level[level]
                mask[i, torch.from_numpy(vox)] = True
                corners = torch.from_numpy(voxel_corners(vox, level))
                rows[i, corners] = torch.arange(len(corners)) + offsets[-1]
                offsets.append(offsets[-1] + len(corners))
            self.register_buffer(f"mask{level}", mask, persistent=False)
            self.register_buffer(f"rows{level}", rows, persistent=False)
            self.features.append(nn.Parameter(torch.zeros(offsets[-1], config.feature_dim)))
            self.row_offsets.append(offsets)

    @classmethod
    def from_surfaces(cls, config: OctreeConfig, surfaces: list[np.ndarray]) -> "Octree":
        """Preset: one octree per surface sample set."""
        return cls(config, [build_voxels(s, config) for s in surfaces])

    @torch.no_grad()
    def init_features(self, generators: list[torch.Generator], std: float = 0.01) -> None:
        for feats, offsets in zip(self.features, self.row_offsets):
            for i, gen in enumerate(generators):
                n = offsets[i + 1] - offsets[i]
                feats[offsets[i]:offsets[i + 1]].copy_(torch.randn(n, feats.shape[1], generator=gen) * std)

    def interpolate(self, coords: torch.Tensor) -> torch.Tensor:
        B, N, _ = coords.shape
        out = coords.new_zeros(B, N, self.config.feature_dim)
        for k, level in enumerate(self.config.level_range):
            r = 1 << level
            cell, frac = cell_coords(coords, r)
            vox = ((cell[..., 0] * r + cell[..., 1]) * r + cell[..., 2]).view(B, N)
            present = getattr(self, f"mask{level}").gather(1, vox)
            corners = corner_index(cell, r).view(B, N * 8)
            rows = getattr(self, f"rows{level}").gather(1, corners)
            feats = gather_rows(self.features[k], rows.view(B, N, 8))
            w = trilinear_weights(frac) * present.unsqueeze(-1)
            out = out + (feats * w.unsqueeze(-1)).sum(2)
        return out

    @torch.no_grad()
    def interpolate_lattice(self, resolution: int) -> torch.Tensor:
        """:meth:`interpolate` at the cell centres of an ``R^3`` lattice over ``[-1, 1]^3``
        (C order, x slowest), for every INR: ``(B, R^3, C)``.

        Much faster than the point lookup (the encoders' input, 32^3 points): a voxel's
        presence is constant inside it, so each level is its corner features scattered
        into a dense ``(r+1)^3`` grid, interpolated onto the lattice one axis at a time
        (trilinear weights are separable), times the presence of the voxel each lattice
        point falls in. Absent corners read row 0 of the table; they only belong to absent
        voxels, whose presence zeroes them.
        """
        B, R = self.batch, resolution
        out: torch.Tensor | None = None
        for k, level in enumerate(self.config.level_range):
            r = 1 << level
            weights, voxel = _lattice_lookup(r, R, self.features[k].device)
            side = r + 1
            x = self.features[k][getattr(self, f"rows{level}")].view(B, side, side, side, -1)
            x = torch.einsum("bijkc,zk->bijzc", x, weights)
            x = torch.einsum("bijzc,yj->biyzc", x, weights)
            x = torch.einsum("biyzc,xi->bxyzc", x, weights).reshape(B, R ** 3, -1)
            x = x * getattr(self, f"mask{level}")[:, voxel].unsqueeze(-1)
            out = x if out is None else out + x
        assert out is not None, "an octree has at least one level"
        return out

    @property
    def batch(self) -> int:
        return getattr(self, f"mask{self.config.base_level}").shape[0]

    def inr_tensors(self, i: int) -> dict[str, torch.Tensor]:
        out = {}
        for k, level in enumerate(self.config.level_range):
            mask = getattr(self, f"mask{level}")[i]
            out[f"level{level}.voxels"] = mask.nonzero().squeeze(1).to(torch.int32)
            a, b = self.row_offsets[k][i], self.row_offsets[k][i + 1]
            out[f"level{level}.features"] = self.features[k][a:b].detach().clone()
        return out

    @classmethod
    def from_inr_tensors(cls, config: OctreeConfig, tensors: list[dict[str, torch.Tensor]]) -> "Octree":
        voxels = [{lv: t[f"level{lv}.voxels"].long().numpy() for lv in config.level_range} for t in tensors]
        grid = cls(config, voxels)
        with torch.no_grad():
            for k, level in enumerate(config.level_range):
                grid.features[k].copy_(torch.cat([t[f"level{level}.features"] for t in tensors]))
        return grid

    @staticmethod
    def check_tensors(config: OctreeConfig, tensors: dict[str, torch.Tensor]) -> None:
        for level in config.level_range:
            vname, fname = f"grid.level{level}.voxels", f"grid.level{level}.features"
            for name in (vname, fname):
                if name not in tensors:
                    raise ValueError(f"tensor {name!r} is missing")
            vox = tensors[vname]
            if vox.dtype != torch.int32 or vox.dim() != 1:
                raise ValueError(f"tensor {vname!r} must be a 1-D int32 voxel list")
            r = 1 << level
            v = vox.long()
            if len(v) and (v.min() < 0 or v.max() >= r ** 3 or not bool((v[1:] > v[:-1]).all())):
                raise ValueError(f"tensor {vname!r} must hold sorted unique voxel indices below {r ** 3}")
            n_corners = len(voxel_corners(v.numpy(), level))
            feats = tensors[fname]
            if feats.dtype != torch.float32 or tuple(feats.shape) != (n_corners, config.feature_dim):
                raise ValueError(f"tensor {fname!r} has shape {tuple(feats.shape)}, expected "
                                 f"({n_corners}, {config.feature_dim}) for its {len(v)} voxels")


__all__ = ["Octree", "OctreeConfig", "build_voxels", "voxel_corners"]
