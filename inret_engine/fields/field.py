"""A batch of shape INRs of one architecture config: optional feature grid + MLP.

``Field`` is what fitting trains, what files are loaded into and what renderers and
encoders evaluate. One INR is simply a batch of one.

Example:
    >>> from inret_engine.fields import HashGridConfig, Field
    >>> field = Field.create(HashGridConfig(), batch=2, seed=0)
    >>> field(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5])
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .base import FeatureGrid, FieldConfig, GridConfig, check_shapes
from .batched_mlp import BatchedMLP
from .hash_grid import HashGrid, HashGridConfig
from .mlp import MLPConfig
from .octree import Octree, OctreeConfig
from .triplane import Triplane, TriplaneConfig

GRID_CLASSES: dict[type[GridConfig], type[FeatureGrid]] = {
    HashGridConfig: HashGrid, OctreeConfig: Octree, TriplaneConfig: Triplane}
GRID_FEATURE_STD = 0.01
MAX_OUTPUT_BOUND = 1e30
"""Largest bound on any activation (see :func:`output_bound`) an INR may have: float32
overflows at 3.4e38, so below this nothing it computes can become Inf or NaN."""


def feature_generators(seed: int, keys: Sequence[str]) -> list[torch.Generator]:
    """One generator per INR, from the fit seed and the INR's own key (not its batch slot)."""
    return [torch.Generator().manual_seed(zlib.crc32(f"{seed}:{k}".encode())) for k in keys]


class Field(nn.Module):
    """B INRs of one config evaluated together.

    Shapes:
        ``forward(coords)``: ``(B, N, 3)`` in ``[-1, 1]^3`` -> ``(B, N)`` values.
    """

    def __init__(self, config: FieldConfig, mlp: BatchedMLP, grid: FeatureGrid | None = None):
        super().__init__()
        self.config = config
        self.mlp = mlp
        self.grid = grid
        self._concat_coords = isinstance(config, GridConfig) and config.concat_coords

    @property
    def batch(self) -> int:
        return self.mlp.batch

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        if self.grid is None:
            return self.mlp(coords).squeeze(-1)
        feats = self.grid.interpolate(coords)
        if self._concat_coords:
            feats = torch.cat([feats, coords], -1)
        return self.mlp(feats).squeeze(-1)

    @classmethod
    def create(cls, config: FieldConfig, batch: int, *, seed: int = 0, keys: Sequence[str] | None = None,
               surfaces: Sequence[np.ndarray] | None = None) -> "Field":
        """Freshly initialised INRs ready to fit.

        Args:
            config: architecture config.
            batch: number of INRs.
            seed: fit seed; with ``keys`` it fixes each INR's grid initialisation.
            keys: one stable key per INR (e.g. its shape id); defaults to ``"0".."B-1"``.
            surfaces: per-INR ``(P, 3)`` surface samples, needed by the octree to place voxels.
        """
        keys = [str(i) for i in range(batch)] if keys is None else list(keys)
        if len(keys) != batch:
            raise ValueError("need one key per INR")
        mlp = _make_mlp(config, batch)
        mlp.init_shared(config.mlp_seed)
        grid: FeatureGrid | None = None
        if isinstance(config, GridConfig):
            if isinstance(config, OctreeConfig):
                if surfaces is None or len(surfaces) != batch:
                    raise ValueError("an octree INR needs one surface sample set per INR")
                grid = Octree.from_surfaces(config, list(surfaces))
            else:
                grid = GRID_CLASSES[type(config)](config, batch)
            grid.init_features(feature_generators(seed, keys), GRID_FEATURE_STD)
        return cls(config, mlp, grid)

    def inr_tensors(self, i: int) -> dict[str, torch.Tensor]:
        """All tensors of INR ``i``, named as in its ``.inr`` file."""
        out = self.mlp.inr_tensors(i)
        if self.grid is not None:
            out.update({f"grid.{k}": v for k, v in self.grid.inr_tensors(i).items()})
        return out

    @classmethod
    def from_inr_tensors(cls, config: FieldConfig, tensors: Sequence[dict[str, torch.Tensor]]) -> "Field":
        """Stack INRs loaded from files (all of ``config``) into one batch."""
        for t in tensors:
            check_inr_tensors(config, t)
        mlp = _make_mlp(config, len(tensors))
        for i, t in enumerate(tensors):
            mlp.load_inr_tensors(i, t)
        grid: FeatureGrid | None = None
        if isinstance(config, GridConfig):
            grid_tensors = [{k[5:]: v for k, v in t.items() if k.startswith("grid.")} for t in tensors]
            grid = GRID_CLASSES[type(config)].from_inr_tensors(config, grid_tensors)
        return cls(config, mlp, grid)


def _make_mlp(config: FieldConfig, batch: int) -> BatchedMLP:
    if isinstance(config, MLPConfig):
        return BatchedMLP(config.mlp_dims(), batch, activation="sine", omega0=config.omega0)
    if isinstance(config, GridConfig):
        return BatchedMLP(config.decoder_dims(), batch, activation="relu")
    raise ValueError(f"unsupported architecture config {type(config).__name__}")


def check_inr_tensors(config: FieldConfig, tensors: dict[str, torch.Tensor]) -> None:
    """Raise ``ValueError`` naming the first tensor that does not fit ``config``; also rejects extras."""
    if isinstance(config, MLPConfig):
        dims = config.mlp_dims()
    elif isinstance(config, GridConfig):
        dims = config.decoder_dims()
    else:
        raise ValueError(f"unsupported architecture config {type(config).__name__}")
    check_shapes(BatchedMLP.expected_shapes(dims), tensors)
    if isinstance(config, GridConfig):
        GRID_CLASSES[type(config)].check_tensors(config, tensors)
    known = set(BatchedMLP.expected_shapes(dims))
    extra = [k for k in tensors if k not in known and not k.startswith("grid.")]
    if not isinstance(config, GridConfig):
        extra += [k for k in tensors if k.startswith("grid.")]
    if extra:
        raise ValueError(f"unexpected tensor {extra[0]!r} for a {config.kind} INR")
    if (bound := output_bound(config, tensors)) > MAX_OUTPUT_BOUND:
        raise ValueError(f"weights so large that the INR's values can overflow (bound {bound:.3g}); "
                         "the file is damaged or was not written by a fit")


def output_bound(config: FieldConfig, tensors: dict[str, torch.Tensor]) -> float:
    """An upper bound on the magnitude of every activation of an INR, at any point.

    Grid features enter the decoder as concatenations or sums of table rows, so the input
    is bounded by the largest grid value times the number of grid tensors (plus 1 for the
    coordinates); each layer ``x -> W x + b`` grows a bound ``B`` to
    ``max_row_sum(|W|) B + max|b|``; ReLU keeps it and a sine resets it to 1 (its argument,
    ``omega0`` times the pre-activation, is bounded too). Computed in float64 from tensors
    already checked to fit ``config``; cost linear in the MLP's size.
    """
    grid = [t for name, t in tensors.items() if name.startswith("grid.") and t.is_floating_point()]
    bound = 1.0 + sum(float(t.abs().max()) if t.numel() else 0.0 for t in grid)
    omega0 = config.omega0 if isinstance(config, MLPConfig) else None  # sine layers
    worst = bound
    k = 0
    while f"mlp.{k}.weight" in tensors:
        w, b = tensors[f"mlp.{k}.weight"].double(), tensors[f"mlp.{k}.bias"].double()
        row_sum = float(w.abs().sum(1).max()) if w.numel() else 0.0
        bound = row_sum * bound + (float(b.abs().max()) if b.numel() else 0.0)
        if omega0 is not None:
            worst = max(worst, omega0 * bound)
            if f"mlp.{k + 1}.weight" in tensors:
                bound = 1.0
        worst = max(worst, bound)
        k += 1
    return worst
