"""Triplane feature grid (EG3D), batched over B INRs.

Three axis-aligned planes (xy, xz, yz) per level hold ``feature_dim`` channels; a point's
feature is the **sum** of the bilinear samples of the three planes, summed again over
levels (the paper's EG3D setting uses one level).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .base import FeatureGrid, GridConfig, check_shapes

# Coordinate pairs (plane axes) of the xy, xz and yz planes.
PLANE_AXES = ((0, 1), (0, 2), (1, 2))


@dataclasses.dataclass(frozen=True)
class TriplaneConfig(GridConfig):
    """EG3D-like triplane; ``resolutions`` lists the texels per side of each level."""

    kind = "triplane"
    LIMITS = {**GridConfig.LIMITS, "feature_dim": (1, 64), "resolutions": (2, 2048)}

    feature_dim: int = 8
    resolutions: tuple[int, ...] = (128,)

    @property
    def feature_out_dim(self) -> int:
        return self.feature_dim


class Triplane(FeatureGrid[TriplaneConfig]):
    """B triplanes; level ``k`` holds planes ``(B, 3, F, R_k, R_k)``."""

    def __init__(self, config: TriplaneConfig, batch: int):
        super().__init__()
        self.config = config
        self.planes = nn.ParameterList(
            nn.Parameter(torch.zeros(batch, 3, config.feature_dim, r, r)) for r in config.resolutions)

    @torch.no_grad()
    def init_features(self, generators: list[torch.Generator], std: float = 0.01) -> None:
        for i, gen in enumerate(generators):
            for planes in self.planes:
                planes[i].copy_(torch.randn(planes.shape[1:], generator=gen) * std)

    def interpolate(self, coords: torch.Tensor) -> torch.Tensor:
        B, N, _ = coords.shape
        # grid_sample's x indexes the last (width) axis: plane (a, b) is stored [F, b, a].
        uv = torch.stack([coords[..., list(ax)] for ax in PLANE_AXES], 1)  # (B, 3, N, 2)
        uv = uv.reshape(B * 3, N, 1, 2)
        out = coords.new_zeros(B, N, self.config.feature_dim)
        for planes in self.planes:
            F, R = planes.shape[2], planes.shape[3]
            s = nn.functional.grid_sample(planes.reshape(B * 3, F, R, R), uv, mode="bilinear",
                                          padding_mode="border", align_corners=True)
            out = out + s.view(B, 3, F, N).sum(1).transpose(1, 2)
        return out

    def inr_tensors(self, i: int) -> dict[str, torch.Tensor]:
        return {f"level{k}.planes": p[i].detach().clone() for k, p in enumerate(self.planes)}

    @classmethod
    def from_inr_tensors(cls, config: TriplaneConfig, tensors: list[dict[str, torch.Tensor]]) -> "Triplane":
        grid = cls(config, len(tensors))
        with torch.no_grad():
            for k, planes in enumerate(grid.planes):
                planes.copy_(torch.stack([t[f"level{k}.planes"] for t in tensors]))
        return grid

    @staticmethod
    def check_tensors(config: TriplaneConfig, tensors: dict[str, torch.Tensor]) -> None:
        check_shapes({f"grid.level{k}.planes": (3, config.feature_dim, r, r)
                      for k, r in enumerate(config.resolutions)}, tensors)
