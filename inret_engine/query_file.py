"""A query from a file: any ``.inr``, mesh or point cloud made into an INR the store's models embed.

An ``.inr`` file is read with the safe reader; where no installed model reads its
architecture (or function), it is distilled into one that does
(:func:`~inret_engine.distill.distill_steps`). A mesh or point cloud is placed as the
store places its shapes, sampled, and fitted into a model's architecture on the fly. Both
are jobs (:mod:`inret_engine.progress`): they yield :class:`~inret_engine.progress.Progress`
records and return ``(ShapeINR, note)``, the note saying what was done ("" for an INR used
as it is). The browser runs them for a dropped file, ``inret query`` for its FILE argument.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .data.geometry import Normalization, ShapeGeometry
from .data.loading import MESH_SUFFIXES, POINT_SUFFIXES, load_shape, normalize
from .data.sampling import SampleCounts
from .errors import NotFoundError, UsageError
from .functions import ImplicitFunction
from .model_set import ModelSet, Target
from .progress import Job, Progress, relay
from .store import ShapeINR, load_shape_inr

INR_SUFFIX = ".inr"
SHAPE_SUFFIXES = tuple(dict.fromkeys(MESH_SUFFIXES + POINT_SUFFIXES))
QUERY_SUFFIXES = (INR_SUFFIX, *SHAPE_SUFFIXES)
"""What a query can be made from: an INR file, a mesh, a point cloud."""


@dataclasses.dataclass(frozen=True)
class OnTheFly:
    """How hard to work on a query file: ground-truth sample counts and fitting steps.

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
    """Meshes and clouds have z up (STL, CAD, ModelNet, SHREC'12): turned y-up like the demo shapes."""

    def samples(self) -> SampleCounts:
        """The ground-truth sample counts, as keyword arguments of the samplers."""
        return SampleCounts(n_uniform=self.n_uniform, n_surface=self.n_surface, n_near=self.n_near,
                            n_eval_surface=self.n_eval_surface)


def queryable(path: Path) -> bool:
    """Whether ``path``'s suffix is one a query can be made from (:data:`QUERY_SUFFIXES`).

    >>> queryable(Path("chair.OBJ")), queryable(Path("notes.txt"))
    (True, False)
    """
    return Path(path).suffix.lower() in QUERY_SUFFIXES


def inr_from_file(path: Path, models: ModelSet, settings: OnTheFly = OnTheFly()) -> Job[tuple[ShapeINR, str]]:
    """Job: ``path`` as an INR one of ``models`` embeds; returns ``(ShapeINR, note)``.

    Raises:
        NotFoundError: no such file.
        InrFileError: an ``.inr`` file that cannot be read safely.
        ShapeLoadError: a mesh or point cloud that cannot be loaded.
        UsageError: another kind of file, or no installed model that can take it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not queryable(path):
        raise UsageError(f"{path.name}: cannot query with a {suffix or 'suffix-less'} file; "
                         f"give an .inr file, a mesh or a point cloud ({', '.join(QUERY_SUFFIXES)})")
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    if suffix == INR_SUFFIX:
        yield Progress(f"Reading {path.name}")
        inr = load_shape_inr(path)
        if models.for_shape_inr(inr) is not None:
            return inr, ""
        target = models.target(inr.function, prefer=inr.config.kind)
        distilled = yield from distill_into(inr, target, settings)
        return distilled, f"distilled from {inr.config.kind} {inr.function.value.upper()}"
    inr = yield from fit_shape(path, models, settings)
    return inr, f"fitted from {path.name}"


def fit_shape(path: Path, models: ModelSet, settings: OnTheFly) -> Job[ShapeINR]:
    """Job: sample a mesh's (or point cloud's) ground truth and fit an INR a model embeds.

    The shape is normalised as the store's shapes were (PCA-aligned when the store is,
    :attr:`ModelSet.aligns_poses`); a mesh becomes an SDF INR, a point cloud a UDF one.
    """
    from .data.isolated import sample_in_child
    from .fit import FitSettings, fit

    yield Progress(f"Loading {path.name}")
    geom = load_shape(path)
    if settings.z_up:  # (x, y, z) -> (x, z, -y), recorded in the normalisation like any other turn
        turn = Normalization.from_arrays(np.zeros(3), 1.0, np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]))
        geom = ShapeGeometry(turn.apply(geom.vertices), geom.faces, geom.normalization.then(turn))
    geom = normalize(geom, align=models.aligns_poses)  # placed as the store places its shapes
    function = ImplicitFunction.UDF if geom.is_point_cloud else ImplicitFunction.SDF
    target = models.target(function)
    yield Progress(f"Sampling {path.name}")
    # in a child process: libigl holds the GIL for seconds on a large mesh, which froze the window
    gt = sample_in_child(geom, **settings.samples())
    stage = f"Fitting {target.config.kind} {target.function.value.upper()}"
    job = fit(target.config, target.function, [gt], [path.stem], FitSettings(steps=settings.fit_steps))
    field = yield from relay(job, lambda p: dataclasses.replace(p, stage=stage))
    labels = {"name": path.stem, "category": "?", "source": str(path)}
    return ShapeINR(config=target.config, function=target.function, tensors=field.inr_tensors(0), labels=labels,
                    normalization=geom.normalization.to_dict(), fit={"fitted_for_query": True})


def distill_into(source: ShapeINR, target: Target, settings: OnTheFly) -> Job[ShapeINR]:
    """Job: :func:`~inret_engine.distill.distill_steps` of one INR into ``target``'s architecture."""
    from .distill import distill_steps

    yield Progress(f"Distilling {source.config.kind} into {target.config.kind}: sampling the source")
    stage = f"Distilling into {target.config.kind} {target.function.value.upper()}"
    steps = distill_steps([source], source.function, target.config, target_function=target.function,
                          steps=settings.distill_steps, seed=0, samples=settings.samples(), measure=False)
    (inr,) = yield from relay(steps, lambda p: dataclasses.replace(p, stage=stage))
    assert inr is not None, "a distillation that fails raises"
    return inr
