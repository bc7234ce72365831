"""Building a store: resolve sources, sample ground truth, fit INRs in batches, save.

The build is resumable by construction: a shape whose ground truth is in the store is
not sampled again, and an INR whose (shape, config, function) row exists is not fitted
again, so re-running after a crash (even ``kill -9``) completes the store. A build is a
job (:mod:`inret_engine.progress`): it yields :class:`~inret_engine.progress.Progress`
records (stages ``sampling``, ``fitting``; notes ``skip``, ``repair``, ``done``) that a CLI
or a GUI worker shows, and returns a :class:`BuildSummary`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch

from .data.datasets import discover_shapes
from .data.demo_shapes import DEMO_CATEGORIES, demo_catalog, demo_mesh
from .data.geometry import Normalization, ShapeGeometry, ShapeLoadError
from .data.isolated import sample_in_child
from .data.loading import load_shape, load_upright, normalize
from .data.sampling import GroundTruth, SampleCounts, sample_ground_truth
from .errors import UsageError
from .fields import FieldConfig, default_config
from .fit import FitProgress, FitQuality, FitSettings, fit, measure_quality
from .functions import ImplicitFunction
from .progress import Job, Progress, relay
from .store import ShapeINR, ShapeRecord, Store

DEMO = "demo"
DEMO_PER_CATEGORY = 6


@dataclasses.dataclass(frozen=True)
class SourceShape:
    """A shape to put in a store, not loaded yet."""

    shape_id: str
    name: str
    category: str
    split: str
    source: str
    load: Callable[[], ShapeGeometry]


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """What to build; mirrors ``inret build-store``'s flags."""

    archs: tuple[str, ...] = ("hash", "octree", "triplane", "mlp")
    functions: tuple[ImplicitFunction, ...] = tuple(ImplicitFunction)
    splits: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    per_category: int | None = None
    steps: int | None = None
    batch: int = 16
    seed: int = 0
    align: bool = False
    configs: tuple[FieldConfig, ...] | None = None  # overrides ``archs`` with explicit configs
    device: str | None = None  # where to fit: None = CUDA when present, else the CPU
    gt_scale: float = 1.0  # ground-truth point counts times this (tests build stores from small ground truths)
    isolated: bool = False  # sample and fit in helper processes (data/isolated.py, isolated_fit.py): a GUI's builds
    measure_quality: bool = True  # Chamfer / IoU of every fit for its catalog row (costs more than a tiny fit)

    def field_configs(self) -> list[FieldConfig]:
        return list(self.configs) if self.configs else [default_config(a) for a in self.archs]


@dataclasses.dataclass
class BuildSummary:
    """What a build did: INRs added, INRs already there, sources skipped (with why), seconds."""

    added: int = 0
    existing: int = 0
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def resolve_sources(source: str | Path, *, splits: Sequence[str] | None = None,
                    categories: Sequence[str] | None = None,
                    per_category: int | None = None, upright: bool = False) -> list[SourceShape]:
    """Shapes named by ``source``: ``"demo"``, a dataset folder, or one mesh / point-cloud file.

    ``upright``: turn files the dataset names as z-up (:mod:`~inret_engine.data.datasets`)
    to y-up. Off by default: the shipped model was trained on psb_shrec12 as its files lie,
    and with the turn it retrieved worse (72 test shapes, hash SDF, no ``--align``: mAP@1
    0.486 as the files lie, 0.292 turned). A store must be built one way throughout.
    """
    if str(source) == DEMO:
        return _demo_sources(splits, categories, per_category)
    out = []
    for s in discover_shapes(Path(source), splits=splits, categories=categories, per_category=per_category):
        out.append(SourceShape(shape_id=s.shape_id, name=s.name, category=s.category, split=s.split,
                               source=str(s.path), load=partial(load_upright, s.path, s.up_axis if upright else "y")))
    return out


def demo_split(index: int) -> str:
    """Every third demo instance is a test shape."""
    return "test" if index % 3 == 2 else "train"


def _demo_sources(splits, categories, per_category) -> list[SourceShape]:
    n = per_category or DEMO_PER_CATEGORY
    wanted = {c.lower() for c in categories} if categories else None
    if wanted and not wanted <= set(DEMO_CATEGORIES):
        raise UsageError(f"unknown demo categories {sorted(wanted - set(DEMO_CATEGORIES))}; "
                         f"available: {', '.join(DEMO_CATEGORIES)}")
    out = []
    for category, name in demo_catalog(n):
        index = int(name.rsplit("_", 1)[1])
        split = demo_split(index)
        if (wanted and category not in wanted) or (splits and split not in splits):
            continue
        out.append(SourceShape(shape_id=f"demo/{name}", name=name, category=category, split=split,
                               source=f"demo:{name}", load=partial(_demo_geometry, category, index)))
    if not out:
        raise UsageError("no demo shapes match the split/category filters")
    return out


def source_geometry(shape: ShapeRecord) -> ShapeGeometry:
    """A stored shape read again from its source (a file, or ``demo:NAME``), placed by the
    normalisation the catalog recorded for it, so new samples line up with its INRs."""
    if shape.source.startswith("demo:"):
        category, index = shape.category, int(shape.source.rsplit("_", 1)[1])
        raw = _demo_geometry(category, index)
    else:
        raw = load_shape(shape.source)
    norm = Normalization.from_dict(shape.normalization)
    return ShapeGeometry(vertices=norm.apply(raw.vertices), faces=raw.faces, normalization=norm)


def fit_shapes(store: Store, config: FieldConfig, function: ImplicitFunction, shapes: list[ShapeRecord],
               options: BuildOptions) -> Iterator[Progress]:
    """Fits and stores INRs of one config and function for ``shapes`` (their ground truth is
    in the store), ``options.batch`` at a time; yields ``fitting`` progress."""
    done = 0
    for i in range(0, len(shapes), options.batch):
        batch = shapes[i:i + options.batch]
        for _, event in local_fitter(store, [(config, function, batch)], options):
            if isinstance(event, FittedBatch):
                store_batch(store, config, function, batch, event, options)
                done += len(batch)
                yield Progress("fitting", done, len(shapes), f"{config.kind} {function.value}")


def _demo_geometry(category: str, index: int) -> ShapeGeometry:
    mesh = demo_mesh(category, index)
    return ShapeGeometry(vertices=np.asarray(mesh.vertices, dtype=np.float64),
                         faces=np.asarray(mesh.faces, dtype=np.int64), normalization=Normalization.identity())


def build_store(store: Store, sources: Sequence[SourceShape], options: BuildOptions = BuildOptions(),
                fitter: Fitter | None = None) -> Job[BuildSummary]:
    """Add every missing ground truth and INR of ``sources`` to ``store``: a job that yields
    progress and returns a :class:`BuildSummary`.

    ``fitter`` fits the pending batches (default :func:`local_fitter`, in this process, or with
    ``options.isolated`` :func:`~inret_engine.isolated_fit.child_fitter`, in a helper process;
    the ``scale`` extra has one that sends them to a Ray cluster). Whichever fits, this
    generator alone writes INR files and catalog rows, in job order.
    """
    if fitter is None and options.isolated:
        from .isolated_fit import child_fitter

        fitter = child_fitter
    summary = BuildSummary()
    start = time.perf_counter()
    yield from _sample_shapes(store, sources, options, summary)
    found = [store.catalog.shape(s.shape_id) for s in sources]
    shapes = [s for s in found if s is not None]
    yield from _retire_damaged(store, shapes, options)
    jobs = _pending_jobs(store, shapes, options, summary)
    total = sum(len(batch) for _, _, batch in jobs)
    done = 0
    yield Progress("fitting", 0, total)
    for j, event in (fitter or local_fitter)(store, jobs, options):
        config, function, batch = jobs[j]
        if isinstance(event, FittedBatch):
            store_batch(store, config, function, batch, event, options)  # the driver alone writes
            done += len(batch)
            summary.added += len(batch)
            yield Progress("fitting", done, total, f"{config.kind} {function.value}")
        else:
            frac = event.done / event.total
            yield Progress("fitting", done + int(frac * len(batch) * 0.99), total,
                           f"{config.kind} {function.value} {event.message}")
    summary.seconds = time.perf_counter() - start
    summary.skipped = store.catalog.skipped()
    yield Progress("done", total, total, f"{summary.added} INRs added")
    return summary


def _sample_shapes(store: Store, sources, options, summary) -> Iterator[Progress]:
    """Samples every source without ground truth, and again any whose file was lost or damaged."""
    todo = []
    for src in sources:
        rec = store.catalog.shape(src.shape_id)
        problem = store.shape_problem(rec) if rec is not None else None
        if problem:
            yield Progress("repair", 0, 0, f"{src.name}: {problem}; sampling it again")
        if rec is None or problem:
            todo.append(src)
    yield Progress("sampling", 0, len(todo))
    for k, src in enumerate(todo, 1):
        try:
            geom = normalize(src.load(), align=options.align)
            sample = sample_in_child if options.isolated else sample_ground_truth
            gt = sample(geom, seed=options.seed, **_gt_sizes(options.gt_scale))
        except (ShapeLoadError, ValueError, MemoryError) as exc:
            store.catalog.add_skipped(src.source, str(exc))
            yield Progress("skip", k, len(todo), f"{src.source}: {exc}")
            continue
        if store.catalog.shape(src.shape_id) is not None:
            store.replace_ground_truth(src.shape_id, gt)
        else:
            store.add_shape(shape_id=src.shape_id, name=src.name, category=src.category, split=src.split,
                            source=src.source, gt=gt, normalization=geom.normalization.to_dict(),
                            is_point_cloud=geom.is_point_cloud)
        yield Progress("sampling", k, len(todo), src.name)


def _gt_sizes(scale: float) -> SampleCounts:
    """Point counts of a ground truth at ``scale`` times the defaults (``{}`` at 1: the defaults).

    >>> _gt_sizes(0.1)
    {'n_uniform': 4000, 'n_surface': 2000, 'n_near': 6000, 'n_eval_surface': 1000}
    """
    if scale == 1.0:
        return {}
    def n(full: int) -> int:
        return max(1, round(full * scale))

    return SampleCounts(n_uniform=n(40_000), n_surface=n(20_000), n_near=n(60_000), n_eval_surface=n(10_000))


def _retire_damaged(store: Store, shapes: list[ShapeRecord], options: BuildOptions) -> Iterator[Progress]:
    """Moves aside (to ``lost+found/``) every INR of the build whose file is not the one its
    row recorded, so it is fitted again; yields a ``repair`` note for each."""
    wanted = {(c.config_id, f.value) for c in options.field_configs() for f in options.functions}
    ids = {s.shape_id for s in shapes}
    for rec in store.records():
        if rec.shape_id in ids and (rec.config_id, rec.function) in wanted:
            if problem := store.inr_problem(rec, decode=False):
                store.retire_inr(rec)
                yield Progress("repair", 0, 0, f"{rec.file}: {problem}; fitting it again")


def _pending_jobs(store: Store, shapes: list[ShapeRecord], options: BuildOptions, summary: BuildSummary):
    jobs = []
    for config in options.field_configs():
        for function in options.functions:
            todo = []
            for shape in shapes:
                if store.catalog.has_inr(shape.shape_id, config.config_id, function.value):
                    summary.existing += 1
                elif shape.kind == "points" and function.is_signed:
                    store.catalog.add_skipped(f"{shape.source} [{function.value}]",
                                              "a point cloud gives no inside/outside: only UDF INRs are fitted")
                else:
                    todo.append(shape)
            for i in range(0, len(todo), options.batch):
                jobs.append((config, function, todo[i:i + options.batch]))
    return jobs


@dataclasses.dataclass
class FittedBatch:
    """The fitted INRs of one batch, before anything is written: what a fitter hands the
    driver. ``tensors[i]`` are INR ``i``'s tensors as named in its ``.inr`` file."""

    tensors: list[dict[str, torch.Tensor]]
    quality: list[FitQuality]
    steps: int
    loss: float
    seconds: float  # fitting seconds per INR


FitJob = tuple[FieldConfig, ImplicitFunction, list[ShapeRecord]]
Fitter = Callable[[Store, list[FitJob], BuildOptions], Iterator[tuple[int, "FitProgress | FittedBatch"]]]
"""Fits a build's batches: a stream of ``(job number, record)``, where a record is a batch's
fit progress or, once, its :class:`FittedBatch` (batches finish one by one, on a cluster
out of order of submission, and the driver writes each as it comes, in job order)."""


def fit_batch(config: FieldConfig, function: ImplicitFunction, gts: Sequence[GroundTruth], keys: Sequence[str],
              options: BuildOptions) -> Job[FittedBatch]:
    """Fits one batch (no store involved): a job that yields fit progress and returns the batch."""
    settings = FitSettings(steps=options.steps, seed=options.seed)
    start = time.perf_counter()
    job, loss = fit(config, function, gts, keys, settings, device=options.device), float("nan")
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            field = stop.value
            break
        if isinstance(record, FitProgress):
            loss = record.loss
        yield record
    seconds = (time.perf_counter() - start) / len(gts)
    quality = (measure_quality(field, function, gts) if options.measure_quality
               else [FitQuality(chamfer=float("nan"), iou=None)] * len(gts))
    tensors = [{k: v.clone() for k, v in field.inr_tensors(i).items()} for i in range(len(gts))]
    return FittedBatch(tensors, quality, settings.steps_for(config), loss, seconds)


def _numbered(j: int, record: Progress) -> tuple[int, FitProgress | FittedBatch]:
    assert isinstance(record, FitProgress), "fit yields FitProgress"
    return j, record


def local_fitter(store: Store, jobs: list[FitJob], options: BuildOptions
                 ) -> Iterator[tuple[int, FitProgress | FittedBatch]]:
    """Fits ``jobs`` one after another in this process; yields ``(job number, progress)`` while
    a batch fits and ``(job number, FittedBatch)`` once it is fitted."""
    for j, (config, function, shapes) in enumerate(jobs):
        gts = [store.ground_truth(s.shape_id) for s in shapes]
        job = fit_batch(config, function, gts, [s.shape_id for s in shapes], options)
        fitted = yield from relay(job, partial(_numbered, j))
        yield j, fitted


def store_batch(store: Store, config: FieldConfig, function: ImplicitFunction, shapes: list[ShapeRecord],
                fitted: FittedBatch, options: BuildOptions) -> None:
    """Writes the INR files and catalog rows of one fitted batch, in ``shapes`` order."""
    for shape, tensors, q in zip(shapes, fitted.tensors, fitted.quality, strict=True):
        inr = ShapeINR(config=config, function=function, tensors=tensors,
                       labels={"name": shape.name, "category": shape.category, "split": shape.split,
                               "shape_id": shape.shape_id, "source": shape.source},
                       normalization=shape.normalization,
                       fit={"steps": fitted.steps, "seed": options.seed, "loss": fitted.loss, **q.to_dict()})
        store.add_inr(inr, shape=shape, chamfer=q.chamfer, iou=q.iou, fit_seconds=fitted.seconds)
