"""A training corpus for the shared encoder: true distance lattices of meshes, no INR needed.

The shared encoder reads probe grids (see :mod:`.probe`), which an INR only
approximates; the exact grid of a mesh is cheap to compute (one closest-point and one
winding-number query per lattice cell). So every mesh of a dataset's train split gives
training views without fitting anything, and the fitted INRs of a store add views with
real fitting error. One ``.npz`` per shape is cached in a folder of the caller's choice.

Each entry holds ``udf`` (``(R, R, R)`` float16 distances, shape normalised as
``build-store --align`` does) and ``inside`` (``(R, R, R)`` bool, winding number).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from ..data.geometry import ShapeGeometry
from ..data.loading import normalize
from ..data.sampling import inside_mask, unsigned_distance
from ..errors import ShapeLoadError, UsageError
from ..progress import Progress
from ..store.atomic import atomic_path
from .inputs import lattice_centres
from .probe import PROBE_RESOLUTION, occupancy_distance


@dataclasses.dataclass
class Corpus:
    """Lattices of many shapes, each ``(S, R, R, R)``, and their labels.

    Attributes:
        udf: true unsigned distances (float32).
        occ_udf: the distances an occupancy INR of the shape would give (see
            :func:`~.probe.occupancy_distance`); ``nan`` for shapes with no inside.
    """

    names: list[str]
    categories: list[str]
    udf: torch.Tensor
    occ_udf: torch.Tensor

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows: Sequence[int]) -> "Corpus":
        rows = list(rows)
        return Corpus([self.names[i] for i in rows], [self.categories[i] for i in rows],
                      self.udf[rows], self.occ_udf[rows])

    @classmethod
    def from_lattices(cls, names: Sequence[str], categories: Sequence[str], udf: torch.Tensor,
                      inside: torch.Tensor) -> "Corpus":
        solid = inside.flatten(1).any(1) & ~inside.flatten(1).all(1)
        occ = torch.full_like(udf, float("nan"))
        if solid.any():
            # an occupancy INR's logits grow with the distance to its surface: signed distance stands in
            occ[solid] = occupancy_distance(torch.where(inside[solid], udf[solid], -udf[solid]))
        return cls(list(names), list(categories), udf, occ)


def mesh_lattice(geom: ShapeGeometry, resolution: int = PROBE_RESOLUTION) -> tuple[np.ndarray, np.ndarray]:
    """``(udf, inside)`` of a normalised shape on the probe lattice, each ``(R, R, R)``."""
    pts = lattice_centres(resolution).double().numpy()
    udf = unsigned_distance(geom, pts).reshape((resolution,) * 3)
    if geom.faces is None:
        inside = np.zeros_like(udf, dtype=bool)
    else:
        inside = inside_mask(geom, pts).reshape((resolution,) * 3)
    return udf.astype(np.float32), inside


def build_corpus(sources: Sequence, cache: Path, *, align: bool = True,
                 resolution: int = PROBE_RESOLUTION) -> Iterator[Progress]:
    """Compute (or find cached) lattices of ``sources``; yields ``mesh lattices`` progress.

    Args:
        sources: :class:`~inret_engine.build.SourceShape` items (``load()``, ``source``,
            ``name``, ``category``, ``split``), e.g. from ``resolve_sources``.
        cache: folder of the per-shape ``.npz`` entries.
        align: PCA-align shapes first (as ``build-store --align``).
        resolution: lattice cells per axis.

    Sources that fail to load are skipped: a ``skip`` record names each, and why.
    """
    cache.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(sources, 1):
        path = entry_path(cache, src, align, resolution)
        if not path.is_file():
            try:
                udf, inside = mesh_lattice(normalize(src.load(), align=align), resolution)
            except (ShapeLoadError, ValueError) as exc:  # a mesh that cannot be used is skipped
                yield Progress("skip", i, len(sources), f"{src.name}: {exc}")
                continue
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, udf=udf.astype(np.float16), inside=inside, category=src.category,
                         name=src.name, split=src.split)
        yield Progress("mesh lattices", i, len(sources), src.name)


def entry_path(cache: Path, src, align: bool, resolution: int) -> Path:
    key = hashlib.sha256(f"{src.source}|{align}|{resolution}".encode()).hexdigest()[:16]
    return cache / f"{src.category}-{src.name}-{key}.npz"


def load_corpus(cache: Path, *, split: str | None = None) -> Corpus:
    """Every cached entry of ``cache`` (of ``split`` when given), sorted by file name."""
    names, cats, udfs, insides = [], [], [], []
    for path in sorted(cache.glob("*.npz")):
        with np.load(path) as z:
            if split is not None and str(z["split"]) != split:
                continue
            names.append(str(z["name"]))
            cats.append(str(z["category"]))
            udfs.append(torch.from_numpy(z["udf"].astype(np.float32)))
            insides.append(torch.from_numpy(z["inside"]))
    if not names:
        raise UsageError(f"{cache}: no corpus entries{f' of split {split}' if split else ''}")
    return Corpus.from_lattices(names, cats, torch.stack(udfs), torch.stack(insides))
