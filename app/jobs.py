"""The browser's long engine jobs as generators of :class:`JobProgress` (no Qt).

Each job runs in a :class:`~app.workers.GeneratorWorker`: it yields progress between
steps (where it can be cancelled) and returns its result. They only string engine calls
together: a dropped ``.inr`` file is read with the safe reader and distilled where no
installed encoder knows its architecture; a dropped mesh or point cloud is sampled and
fitted into the encoder's architecture; encoders are trained and installed.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from inret_engine.data.geometry import Normalization, ShapeGeometry
from inret_engine.data.loading import MESH_SUFFIXES, POINT_SUFFIXES, load_shape, normalize
from inret_engine.functions import ImplicitFunction
from inret_engine.model_set import ModelSet, Target
from inret_engine.store import ShapeINR, Store, load_shape_inr

INR_SUFFIX = ".inr"
SHAPE_SUFFIXES = tuple(dict.fromkeys(MESH_SUFFIXES + POINT_SUFFIXES))
DROP_SUFFIXES = (INR_SUFFIX, *SHAPE_SUFFIXES)


@dataclasses.dataclass(frozen=True)
class JobProgress:
    """One progress record: ``done`` of ``total`` in ``stage`` (``total == 0``: busy, no count)."""

    stage: str
    done: int = 0
    total: int = 0
    message: str = ""


@dataclasses.dataclass(frozen=True)
class OnTheFly:
    """How hard to work on a dropped file: ground-truth sample counts and fitting steps.

    Smaller than a store build's defaults, so a query from a file takes seconds.
    ``None`` steps: the architecture's default.
    """

    n_uniform: int = 20_000
    n_surface: int = 10_000
    n_near: int = 30_000
    n_eval_surface: int = 2_000
    fit_steps: int | None = None
    distill_steps: int | None = None
    z_up: bool = False
    """Dropped meshes and clouds have z up (STL, CAD, ModelNet, SHREC'12): turned y-up like the demo shapes."""


def droppable(path: Path) -> bool:
    return Path(path).suffix.lower() in DROP_SUFFIXES


def query_inr_from_file(path: Path, encoders: ModelSet, settings: OnTheFly) -> Iterator[JobProgress]:
    """Job: a dropped file as an INR one of ``encoders`` can embed; returns ``(ShapeINR, note)``.

    Raises:
        InrFileError / ShapeLoadError / ValueError: a bad file, or no encoder that fits it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == INR_SUFFIX:
        yield JobProgress(f"Reading {path.name}")
        inr = load_shape_inr(path)
        if encoders.for_shape_inr(inr) is not None:
            return inr, ""
        target = encoders.target(inr.function, prefer=inr.config.kind)
        distilled = yield from distill_into(inr, target, settings)
        return distilled, f"distilled from {inr.config.kind} {inr.function.value.upper()}"
    if suffix in SHAPE_SUFFIXES:
        inr = yield from fit_shape(path, encoders, settings)
        return inr, f"fitted from {path.name}"
    raise ValueError(f"{path.name}: cannot query with a {suffix or 'suffix-less'} file; "
                     f"drop an .inr file, a mesh or a point cloud ({', '.join(DROP_SUFFIXES)})")


def fit_shape(path: Path, encoders: ModelSet, settings: OnTheFly) -> Iterator[JobProgress]:
    """Job: sample a mesh's (or point cloud's) ground truth and fit an INR an encoder knows."""
    from inret_engine.data.isolated import sample_in_child

    yield JobProgress(f"Loading {path.name}")
    geom = load_shape(path)
    if settings.z_up:  # (x, y, z) -> (x, z, -y), recorded in the normalisation like any other turn
        turn = Normalization.from_arrays(np.zeros(3), 1.0, np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]))
        geom = ShapeGeometry(turn.apply(geom.vertices), geom.faces, geom.normalization.then(turn))
    geom = normalize(geom, align=encoders.aligns_poses)  # placed as the store places its shapes
    function = ImplicitFunction.UDF if geom.is_point_cloud else ImplicitFunction.SDF
    target = encoders.target(function)
    yield JobProgress(f"Sampling {path.name}")
    # in a child process: libigl holds the GIL for seconds on a large mesh, which froze the window
    gt = sample_in_child(geom, n_uniform=settings.n_uniform, n_surface=settings.n_surface,
                         n_near=settings.n_near, n_eval_surface=settings.n_eval_surface)
    field = yield from _fit(f"Fitting {target.config.kind} {target.function.value.upper()}", target, gt,
                            path.stem, settings.fit_steps)
    labels = {"name": path.stem, "category": "?", "source": str(path)}
    return ShapeINR(config=target.config, function=target.function, tensors=field.inr_tensors(0), labels=labels,
                    normalization=geom.normalization.to_dict(), fit={"fitted_for_query": True})


def distill_into(source: ShapeINR, target: Target, settings: OnTheFly) -> Iterator[JobProgress]:
    """Job: :func:`inret_engine.distill.distill_steps` of one INR into ``target``, with progress."""
    from inret_engine.distill import distill_steps

    yield JobProgress(f"Distilling {source.config.kind} into {target.config.kind}: sampling the source")
    samples = {"n_uniform": settings.n_uniform, "n_surface": settings.n_surface, "n_near": settings.n_near,
               "n_eval_surface": settings.n_eval_surface}
    stage = f"Distilling into {target.config.kind} {target.function.value.upper()}"
    steps = distill_steps([source], source.function, target.config, target_function=target.function,
                          steps=settings.distill_steps, seed=0, samples=samples, measure=False)
    while True:
        try:
            record = next(steps)
        except StopIteration as done:
            return done.value[0]
        yield JobProgress(stage, record.step, record.total, f"loss {record.loss:.4f}")


def _fit(stage: str, target: Target, gt, key: str, steps: int | None) -> Iterator[JobProgress]:
    from inret_engine.fit import FitSettings, fit

    record = None
    for record in fit(target.config, target.function, [gt], [key], FitSettings(steps=steps)):
        yield JobProgress(stage, record.step, record.total, f"loss {record.loss:.4f}")
    return record.field


def render_png(inr: ShapeINR, size: int) -> bytes:
    """A thumbnail (PNG bytes) of an INR that is not in the store."""
    from inret_engine.render.export import encode_png
    from inret_engine.render.thumbnails import thumbnail_image

    return encode_png(thumbnail_image(inr, size))


# --- training ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainChoice:
    """What "Train Encoders…" trains: small defaults that finish in minutes on two CPU cores."""

    archs: tuple[str, ...]
    steps: int = 100
    batch_shapes: int = 8
    points: int = 512
    split: str | None = "train"


def trainable_archs(store: Store) -> dict[str, list[str]]:
    """Architecture -> functions of its INRs in the store (what an encoder could be trained on)."""
    out: dict[str, set[str]] = {}
    for r in store.records():
        out.setdefault(r.arch, set()).add(r.function)
    order = [f.value for f in ImplicitFunction]
    return {a: [f for f in order if f in fns] for a, fns in sorted(out.items())}


def train_encoders(store: Store, choice: TrainChoice) -> Iterator[JobProgress]:
    """Job: train one model per architecture, install it in the store; returns the installed paths."""
    from inret_engine.encoders.training import TrainSettings
    from inret_engine.retrieval.retriever import Retriever

    functions = trainable_archs(store)
    installed = []
    settings = TrainSettings(steps=choice.steps, batch_shapes=choice.batch_shapes, points=choice.points)
    for n, arch in enumerate(choice.archs, 1):
        if arch not in functions:
            raise ValueError(f"the store has no {arch} INRs to train an encoder on")
        yield JobProgress(f"Reading {arch} INRs ({n}/{len(choice.archs)})")
        data = _training_set(store, arch, functions[arch], choice.split)
        model = yield from _train(data, arch, settings, f"Training the {arch} encoder ({n}/{len(choice.archs)})")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{arch}.enc"
            model.save(path)
            installed.append(Retriever.install(store, path))
    return installed


def _training_set(store: Store, arch: str, functions: Sequence[str], split: str | None):
    """Shapes with an INR of every function; every split when the training split is too small."""
    from inret_engine.encoders.dataset import TrainingSet

    fns = [ImplicitFunction.parse(f) for f in functions]
    try:
        return TrainingSet.from_store(store, arch, fns, split=split)
    except ValueError:
        if split is None:
            raise
        return TrainingSet.from_store(store, arch, fns, split=None)


def _train(data, arch: str, settings, stage: str):
    from inret_engine.encoders.training import train

    record = None
    for record in train(data, arch, settings, report_every=max(1, settings.steps // 50)):
        yield JobProgress(stage, record.step, record.total, f"loss {record.loss:.4f}")
    return record.model


def build_store_job(source: str, out: Path, options) -> Iterator:
    """Job: ``inret build-store`` (an engine generator of ``BuildEvent``); returns the store folder."""
    from inret_engine.build import build_store, resolve_sources

    yield JobProgress(f"Finding shapes in {source}")
    sources = resolve_sources(source, categories=options.categories, per_category=options.per_category)
    with Store.create(Path(out)) as store:
        yield from build_store(store, sources, options)
    return Path(out)
