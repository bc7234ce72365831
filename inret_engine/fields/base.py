"""Shared pieces of the INR architectures: config base, feature-grid base, lattice maths.

Coordinates live in the INR domain ``[-1, 1]^3``. A grid of resolution ``r`` has
``r`` cells and ``r + 1`` corners per axis; corner ``(x, y, z)`` has the C-order linear
index ``(x * (r + 1) + y) * (r + 1) + z`` everywhere in this package (octree corner
tables, the dense levels of the hash grid, the encoders' sampling lattices).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

import torch
from torch import nn

from ..errors import UsageError

# The 8 corners of a cell as (dx, dy, dz) offsets, in C order.
CORNER_OFFSETS = torch.tensor([[dx, dy, dz] for dx in (0, 1) for dy in (0, 1) for dz in (0, 1)])


Limits = dict[str, tuple[float, float]]
MAX_TUPLE_ITEMS = 8
"""Most items a tuple-valued config field (e.g. triplane levels) may hold."""


@dataclasses.dataclass(frozen=True)
class FieldConfig:
    """Base of every architecture config: a frozen dataclass that round-trips through JSON.

    Every value is checked when a config is made (so also when one is read from a file):
    its type must be that of the field's default (an int field takes no bool or float) and
    it must lie in the class's ``LIMITS``, bounds wide enough for every published INR of
    the kind and narrow enough that nothing built from a config costs more than its file
    has paid for.
    """

    kind: ClassVar[str] = ""
    LIMITS: ClassVar[Limits] = {}

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _checked_value(self.kind, f.name, getattr(self, f.name), f.default, self.LIMITS.get(f.name))
            object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """Checks between fields (e.g. ``min_res <= max_res``); raises ``ValueError``."""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FieldConfig":
        data = dict(data)
        kind = data.pop("kind", cls.kind)
        if kind != cls.kind:
            raise UsageError(f"config of kind {kind!r} given to {cls.__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UsageError(f"{cls.kind} config has unknown keys: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    @property
    def config_id(self) -> str:
        """Short stable id of this exact config (names caches and the shared MLP seed)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return f"{self.kind}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"

    @property
    def mlp_seed(self) -> int:
        """Seed of the MLP initialisation shared by all INRs of this config."""
        return int(self.config_id.rsplit("-", 1)[1], 16)


@dataclasses.dataclass(frozen=True)
class GridConfig(FieldConfig):
    """Decoder settings shared by the feature-grid architectures.

    One hidden layer of 64, as Kaolin Wisp's defaults for these grids: the grid holds
    the detail, the decoder only reads it out.
    """

    LIMITS: ClassVar[Limits] = {"hidden_dim": (1, 1024), "hidden_layers": (0, 16)}

    hidden_dim: int = 64
    hidden_layers: int = 1
    concat_coords: bool = True

    @property
    def feature_out_dim(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def decoder_dims(self) -> list[int]:
        in_dim = self.feature_out_dim + (3 if self.concat_coords else 0)
        return [in_dim] + [self.hidden_dim] * self.hidden_layers + [1]


def _checked_value(kind: str, name: str, value: object, default: object,
                   limits: tuple[float, float] | None) -> object:
    """``value`` for config field ``name`` after its type and range checks (ints given for a
    float field become floats; lists for a tuple field become tuples)."""
    where = f"{kind} config value {name}={value!r}"
    if isinstance(default, tuple):
        if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= MAX_TUPLE_ITEMS:
            raise UsageError(f"{where} must be a list of 1 to {MAX_TUPLE_ITEMS} integers")
        return tuple(_checked_value(kind, name, v, default[0], limits) for v in value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise UsageError(f"{where} must be true or false")
        return value
    if isinstance(default, int):
        if type(value) is not int:
            raise UsageError(f"{where} must be an integer")
    elif isinstance(default, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise UsageError(f"{where} must be a finite number")
        value = float(value)
    if limits is not None and isinstance(value, (int, float)) and not limits[0] <= value <= limits[1]:
        raise UsageError(f"{where} is outside [{limits[0]:g}, {limits[1]:g}]")
    return value


C = TypeVar("C", bound=GridConfig)


class FeatureGrid(nn.Module, ABC, Generic[C]):
    """A batch of B feature grids of one config (``C``, the kind's config class).

    Subclasses hold their parameters for all B INRs and look features up for all
    of them at once.
    """

    config: C

    @property
    def out_dim(self) -> int:
        return self.config.feature_out_dim

    @abstractmethod
    def interpolate(self, coords: torch.Tensor) -> torch.Tensor:
        """Features at points: ``(B, N, 3)`` in ``[-1, 1]`` -> ``(B, N, out_dim)``."""

    @abstractmethod
    def inr_tensors(self, i: int) -> dict[str, torch.Tensor]:
        """The grid tensors of INR ``i`` (names without the ``grid.`` prefix)."""

    @abstractmethod
    def init_features(self, generators: list[torch.Generator], std: float = 0.01) -> None:
        """Draw every INR's features from N(0, ``std``), INR ``i`` from ``generators[i]``."""

    @classmethod
    @abstractmethod
    def from_inr_tensors(cls, config: C, tensors: list[dict[str, torch.Tensor]]) -> "FeatureGrid[C]":
        """Stack the grids of several INRs of ``config`` into one batch."""

    @staticmethod
    @abstractmethod
    def check_tensors(config: C, tensors: dict[str, torch.Tensor]) -> None:
        """Raise ``ValueError`` naming the tensor when shapes or dtypes disagree with ``config``."""


def cell_coords(coords: torch.Tensor, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell and position inside it for a lattice of ``resolution`` cells per axis.

    Args:
        coords: ``(..., 3)`` points in ``[-1, 1]`` (clamped).
        resolution: number of cells per axis.

    Returns:
        ``cell`` ``(..., 3)`` long in ``[0, resolution - 1]`` and ``frac`` ``(..., 3)`` in ``[0, 1]``.
    """
    u = (coords.clamp(-1.0, 1.0) + 1.0) * (0.5 * resolution)
    cell = u.floor().clamp(0, resolution - 1)
    return cell.long(), u - cell


def trilinear_weights(frac: torch.Tensor) -> torch.Tensor:
    """Weights of the 8 cell corners (C order): ``(..., 3) -> (..., 8)``."""
    fx, fy, fz = frac.unbind(-1)
    wx = torch.stack([1 - fx, fx], -1)
    wy = torch.stack([1 - fy, fy], -1)
    wz = torch.stack([1 - fz, fz], -1)
    return (wx[..., :, None, None] * wy[..., None, :, None] * wz[..., None, None, :]).flatten(-3)


def corner_index(cell: torch.Tensor, resolution: int) -> torch.Tensor:
    """Linear C-order indices of the 8 corners of each cell: ``(..., 3) -> (..., 8)``."""
    side = resolution + 1
    base = (cell[..., 0] * side + cell[..., 1]) * side + cell[..., 2]
    step = CORNER_OFFSETS.to(cell.device) @ torch.tensor([side * side, side, 1], device=cell.device)
    return base.unsqueeze(-1) + step


def gather_rows(table: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``table[rows]`` for a ``(R, F)`` table; plain indexing has the fastest CPU backward."""
    return table[rows]


def check_shapes(expected: dict[str, tuple[int, ...]], tensors: dict[str, torch.Tensor],
                 dtype: torch.dtype = torch.float32) -> None:
    """Raise ``ValueError`` naming the first tensor that is missing or mis-shaped."""
    for name, shape in expected.items():
        if name not in tensors:
            raise ValueError(f"tensor {name!r} is missing")
        t = tensors[name]
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"tensor {name!r} has shape {tuple(t.shape)}, expected {tuple(shape)}")
        if t.dtype != dtype:
            raise ValueError(f"tensor {name!r} has dtype {t.dtype}, expected {dtype}")
