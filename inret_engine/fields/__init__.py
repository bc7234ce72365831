"""INR architectures as batched PyTorch modules, and the ``kind -> config`` registry.

Kinds: ``mlp`` (SIREN), ``octree`` (NGLOD-like), ``triplane`` (EG3D-like), ``hash``
(Instant-NGP-like). All plain PyTorch.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .base import FieldConfig, GridConfig
from .field import Field, check_inr_tensors
from .hash_grid import HashGrid, HashGridConfig
from .mlp import MLPConfig
from .octree import Octree, OctreeConfig
from .triplane import Triplane, TriplaneConfig

ARCHITECTURES: dict[str, type[FieldConfig]] = {
    "hash": HashGridConfig,
    "octree": OctreeConfig,
    "triplane": TriplaneConfig,
    "mlp": MLPConfig,
}


def config_from_dict(data: dict[str, Any]) -> FieldConfig:
    """Rebuild a config from its ``to_dict()`` form; unknown kinds and keys are refused."""
    kind = data.get("kind")
    if kind not in ARCHITECTURES:
        raise UsageError(f"unknown architecture {kind!r}; expected one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[kind].from_dict(data)


def default_config(kind: str) -> FieldConfig:
    """The CPU-friendly default config of an architecture kind."""
    if kind not in ARCHITECTURES:
        raise UsageError(f"unknown architecture {kind!r}; expected one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[kind]()


def parse_architectures(text: str) -> list[str]:
    """``"hash,octree"`` -> ``["hash", "octree"]`` with checks."""
    kinds = [k.strip().lower() for k in text.split(",") if k.strip()]
    for k in kinds:
        default_config(k)
    if not kinds:
        raise UsageError("no architecture given")
    return list(dict.fromkeys(kinds))


__all__ = [
    "ARCHITECTURES", "Field", "FieldConfig", "GridConfig", "HashGrid", "HashGridConfig", "MLPConfig",
    "Octree", "OctreeConfig", "Triplane", "TriplaneConfig", "check_inr_tensors", "config_from_dict",
    "default_config", "parse_architectures",
]
