"""One baseline run: convert the INRs, train the encoder on the categories, embed the database.

Example:
    >>> BASELINES
    ('pointcloud', 'multiview')
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..device import default_device
from ..progress import Job, Progress
from ..store import InrRecord, Store
from .conversion import N_VIEWS, Conversion, convert_records, time_conversion
from .multiview import MultiViewCNN
from .pointcloud import PointNetPP
from .training import (
    PRESETS,
    Preset,
    augment_points,
    augment_views,
    embed_one_by_one,
    train_classifier,
    views_to_tensor,
)

BASELINES = ("pointcloud", "multiview")


@dataclasses.dataclass
class BaselineRun:
    """What :func:`run_baseline` measured and made.

    Attributes:
        name: ``"pointcloud"`` or ``"multiview"``.
        architecture: one line naming the network.
        embeddings: record id -> L2-normalised float32 vector, for every database record.
        convert_ms: mean measured conversion time per INR (INR -> points / views), uncached.
        embed_ms: mean network forward time per INR (batch 1, measured).
        train_seconds: wall-clock training time.
    """

    name: str
    architecture: str
    embeddings: dict[int, np.ndarray]
    convert_ms: float
    embed_ms: float
    train_seconds: float


@dataclasses.dataclass(frozen=True)
class _Parts:
    """What differs between the two baselines."""

    model: PointNetPP | MultiViewCNN
    architecture: str
    epochs: int
    to_input: Callable[[torch.Tensor], torch.Tensor]
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _conversion(name: str, preset: Preset) -> Conversion:
    """What baseline ``name`` converts each INR to."""
    if name == "pointcloud":
        return Conversion("points", preset.points, preset.resolution)
    return Conversion("views", preset.view_size, preset.resolution)


def _parts(name: str, preset: Preset, n_classes: int) -> _Parts:
    """Untrained network and training switches of baseline ``name``."""
    if name == "pointcloud":
        pn = preset.pointnet
        arch = (f"PointNet++ SSG-style: {preset.points} pts, SA {pn.centres[0]}/{pn.centres[1]} centres "
                f"(r {pn.radii[0]}/{pn.radii[1]}, k {pn.neighbours}), widths {pn.widths}, {pn.embed_dim}-d embedding")
        return _Parts(PointNetPP(pn, n_classes), arch, preset.point_epochs, lambda x: x.float(), augment_points)
    mv = preset.multiview
    arch = (f"MVCNN-style: {N_VIEWS} views {preset.view_size}px, shared CNN widths {mv.widths}, max view-pool, "
            f"{mv.embed_dim}-d embedding")
    return _Parts(MultiViewCNN(mv, n_classes), arch, preset.view_epochs, views_to_tensor, augment_views)


def run_baseline(name: str, store: Store, train: Sequence[InrRecord], database: Sequence[InrRecord], *,
                 preset: str | Preset = "quick", device: torch.device | None = None,
                 seed: int = 0) -> Job[BaselineRun]:
    """Convert train + database INRs, train the encoder on ``train``'s categories, embed ``database``:
    a job that yields progress (stages ``"convert"``, ``"train"``, ``"embed"``) and returns the run.

    The labels are ``record.category``; conversions are cached in the store, so a rerun
    only trains and embeds (``convert_ms`` is then measured on a few fresh conversions).

    Args:
        name: one of :data:`BASELINES`.
        store: holds the INRs; conversions are cached in it.
        train: INRs to train on, of at least 2 categories.
        database: INRs to embed (may overlap ``train``).
        preset: a name in :data:`~.training.PRESETS` or a :class:`~.training.Preset`.
        device: where conversion, training and embedding run (CUDA when present by default).
        seed: initialisation, shuffling and augmentation seed.

    Returns:
        The embeddings of ``database`` and the measured times.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        preset = PRESETS[preset]
    device = torch.device(device) if device is not None else default_device()
    categories = sorted({r.category for r in train})
    if len(categories) < 2:
        raise ValueError(f"training a classifier needs INRs of at least 2 categories, got {categories}")
    conversion = _conversion(name, preset)
    converted = yield from convert_records(store, [*train, *database], conversion, device=device)
    convert_ms = converted.ms or time_conversion(store, [*database, *train], conversion, device=device)

    inputs = torch.as_tensor(np.stack([converted.arrays[r.id] for r in train]))
    labels = torch.tensor([categories.index(r.category) for r in train])
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):  # seeded, caller's RNG kept
        torch.manual_seed(seed)
        parts = _parts(name, preset, len(categories))
        model = yield from train_classifier(parts.model, inputs, labels, epochs=parts.epochs, preset=preset,
                                            to_input=parts.to_input, augment=parts.augment, device=device,
                                            seed=seed)
    train_seconds = time.perf_counter() - start

    db = torch.as_tensor(np.stack([converted.arrays[r.id] for r in database]) if database else inputs[:0])
    vectors, embed_ms = embed_one_by_one(model.embed, db, to_input=parts.to_input, device=device)
    yield Progress("embed", len(database), len(database))
    return BaselineRun(name=name, architecture=parts.architecture,
                       embeddings={r.id: v for r, v in zip(database, vectors)},
                       convert_ms=float(np.mean(convert_ms)), embed_ms=embed_ms, train_seconds=train_seconds)

