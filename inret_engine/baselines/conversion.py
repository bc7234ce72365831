"""Converting store INRs to the baselines' inputs, cached in the store.

A point cloud is :func:`~inret_engine.render.points.surface_point_cloud` (random-ray
sphere tracing, marching cubes for occupancy); the views are
:func:`~inret_engine.render.points.multiview_images` (12 cameras on a circle). Each result
is cached as ``STORE/cache/baselines/<kind>-<size>/<record sha256>.npy``, written
atomically, so a second run loads instead of converting. The key is the INR file's
checksum: an INR that is refitted gets a new entry.

Example:
    >>> Conversion("points", 2048).folder
    'points-2048'
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..progress import Job, Progress
from ..render.bake import DEFAULT_RESOLUTION
from ..render.points import multiview_images, surface_point_cloud
from ..store import InrRecord, Store
from ..store.atomic import atomic_write_bytes

N_VIEWS = 12
"""Views per shape, as in the paper (App. 7.4)."""

KINDS = ("points", "views")


@dataclasses.dataclass(frozen=True)
class Conversion:
    """What one INR becomes.

    Attributes:
        kind: ``"points"`` (an ``(size, 3)`` float32 cloud) or ``"views"``
            (``(N_VIEWS, size, size, 3)`` uint8 images).
        size: points per cloud, or pixels per side of a view.
        resolution: lattice nodes per axis of the bake that is traced.
    """

    kind: str
    size: int
    resolution: int = DEFAULT_RESOLUTION

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown conversion {self.kind!r}; choose from {', '.join(KINDS)}")

    @property
    def folder(self) -> str:
        """Cache folder name; a bake resolution other than the default is part of it."""
        suffix = "" if self.resolution == DEFAULT_RESOLUTION else f"-r{self.resolution}"
        return f"{self.kind}-{self.size}{suffix}"

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.size, 3) if self.kind == "points" else (N_VIEWS, self.size, self.size, 3)


@dataclasses.dataclass
class Converted:
    """Converted inputs of some records.

    Attributes:
        arrays: record id -> array of :attr:`Conversion.shape`.
        ms: wall-clock milliseconds of each conversion done now (cache hits excluded).
    """

    arrays: dict[int, np.ndarray]
    ms: list[float]


def cache_folder(store: Store, conversion: Conversion) -> Path:
    return store.cache_dir / "baselines" / conversion.folder


def convert(store: Store, record: InrRecord, conversion: Conversion, device: torch.device) -> np.ndarray:
    """One record's INR as points or views, uncached; an INR without a surface gives zeros."""
    inr = store.load(record)
    field = inr.to_field().to(device)
    if conversion.kind == "points":
        out = surface_point_cloud(field, inr.function, n=conversion.size, resolution=conversion.resolution)
        return out if len(out) else np.zeros(conversion.shape, np.float32)
    return multiview_images(field, inr.function, N_VIEWS, conversion.size, resolution=conversion.resolution)


def convert_records(store: Store, records: Sequence[InrRecord], conversion: Conversion, *,
                    device: torch.device) -> Job[Converted]:
    """Each record's converted INR, from the cache where it is there, else converted and cached:
    a job that yields ``convert`` progress (one record at a time) and returns them.

    Args:
        store: holds the INRs and the cache.
        records: INRs to convert (duplicates are converted once).
        conversion: what to make.
        device: where tracing runs.

    Returns:
        The arrays of every record, and the times of the conversions that were not cached.
    """
    folder = cache_folder(store, conversion)
    folder.mkdir(parents=True, exist_ok=True)
    unique = list({r.id: r for r in records}.values())
    out, ms = {}, []
    for i, rec in enumerate(unique):
        path = folder / f"{rec.sha256}.npy"
        cached = _load(path, conversion.shape)
        if cached is None:
            start = time.perf_counter()
            cached = convert(store, rec, conversion, device)
            ms.append((time.perf_counter() - start) * 1e3)
            _save(path, cached)
        out[rec.id] = cached
        yield Progress("convert", i + 1, len(unique))
    return Converted(out, ms)


def time_conversion(store: Store, records: Sequence[InrRecord], conversion: Conversion, *,
                    device: torch.device, n: int = 3) -> list[float]:
    """Milliseconds to convert the first ``n`` records anew (for when all of them were cached)."""
    ms = []
    for rec in records[:n]:
        start = time.perf_counter()
        convert(store, rec, conversion, device)
        ms.append((time.perf_counter() - start) * 1e3)
    return ms


def _load(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """A cached array, or None when it is missing or unreadable or has the wrong shape."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr if arr.shape == shape else None


def _save(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
