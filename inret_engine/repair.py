"""Checking a store against its catalog, and mending what can be mended.

:func:`check_store` reads every file the catalog names and reports each problem: a
catalog SQLite finds inconsistent, ground truth that is missing or not the bytes
recorded, INR files that are missing, changed, or fail the current reader's checks.
With ``repair`` it then mends them with what the store itself holds:

- ground truth is sampled again from the shape's source (a mesh file or a demo shape)
  under the normalisation the catalog recorded, so the INRs of the shape stay aligned;
- a damaged INR is moved to ``lost+found/`` (never deleted) and fitted again from the
  ground truth, with its architecture config taken from a healthy INR of the same config
  id, or the architecture's default when the id is the default's.

What cannot be mended (a source file that is gone, a config no file still holds) is
reported and left as it was.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator

from .build import BuildOptions, fit_shapes, source_geometry
from .data.geometry import ShapeLoadError
from .data.sampling import sample_ground_truth
from .fields import ARCHITECTURES, FieldConfig
from .functions import ImplicitFunction
from .progress import Job, Progress
from .store import InrRecord, Store
from .store.store import LOST_AND_FOUND


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem: what (``catalog``, ``shape`` or ``inr``), which (a shape id or a file),
    the problem in words, and what became of it (``""`` before any repair)."""

    kind: str
    target: str
    problem: str
    outcome: str = ""

    @property
    def repaired(self) -> bool:
        return self.outcome.startswith("repaired")


@dataclasses.dataclass
class CheckReport:
    """What :func:`check_store` saw: counts checked, findings, files in ``lost+found/``."""

    shapes: int = 0
    inrs: int = 0
    findings: list[Finding] = dataclasses.field(default_factory=list)
    set_aside: int = 0

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if not f.repaired]

    def to_dict(self) -> dict:
        return {"shapes": self.shapes, "inrs": self.inrs, "set_aside": self.set_aside,
                "findings": [dataclasses.asdict(f) | {"repaired": f.repaired} for f in self.findings]}


def check_store(store: Store, *, repair: bool = False, steps: int | None = None) -> Job[CheckReport]:
    """Checks (and with ``repair`` mends) ``store``: a job that yields progress and returns the report.

    Args:
        store: An open store; opened with :meth:`Store.create` (the writer's lock) to repair.
        repair: Mend what can be mended (see the module docstring).
        steps: Fitting steps for refitted INRs (the fitting default when None).
    """
    report = CheckReport()
    if (status := store.catalog.integrity()) != "ok":
        report.findings.append(Finding("catalog", str(store.catalog.path), f"SQLite integrity check: {status}",
                                       "not repairable here: restore the catalog from a backup"))
    shapes = store.catalog.shapes()
    report.shapes = len(shapes)
    for k, shape in enumerate(shapes, 1):
        if problem := store.shape_problem(shape):
            outcome = _resample(store, shape) if repair else ""
            report.findings.append(Finding("shape", shape.shape_id, problem, outcome))
        yield Progress("checking shapes", k, len(shapes), shape.name)
    records = store.records()
    report.inrs = len(records)
    damaged: list[tuple[InrRecord, str]] = []
    for k, rec in enumerate(records, 1):
        if problem := store.inr_problem(rec):
            damaged.append((rec, problem))
        yield Progress("checking INRs", k, len(records), rec.name)
    if repair and damaged:
        yield from _refit(store, damaged, report, steps)
    else:
        report.findings += [Finding("inr", rec.file, problem) for rec, problem in damaged]
    report.set_aside = sum(1 for p in (store.root / LOST_AND_FOUND).rglob("*") if p.is_file())
    yield Progress("done", 1, 1, f"{len(report.findings)} problems, {len(report.unresolved)} unresolved")
    return report


def _resample(store: Store, shape) -> str:
    """Samples a shape's ground truth again from its source; returns the outcome in words."""
    try:
        geom = source_geometry(shape)
        store.replace_ground_truth(shape.shape_id, sample_ground_truth(geom, seed=0))
    except (ShapeLoadError, ValueError, OSError) as exc:
        return f"not repaired: its source cannot be read again ({exc})"
    return "repaired: ground truth sampled again from its source"


def _refit(store: Store, damaged: list[tuple[InrRecord, str]], report: CheckReport,
           steps: int | None) -> Iterator[Progress]:
    """Moves damaged INRs aside and fits them again, batched by (config, function)."""
    groups: dict[tuple[FieldConfig, ImplicitFunction], list] = defaultdict(list)
    configs: dict[str, FieldConfig | None] = {}
    bad = {rec.id for rec, _ in damaged}
    for rec, problem in damaged:
        if rec.config_id not in configs:
            configs[rec.config_id] = _config_for(store, rec, bad)
        config = configs[rec.config_id]
        shape = store.catalog.shape(rec.shape_id)
        why = ("no healthy INR of the store holds its architecture config" if config is None
               else "its shape has no usable ground truth" if shape is None or store.shape_problem(shape)
               else "")
        if why or config is None:
            report.findings.append(Finding("inr", rec.file, problem, f"not repaired: {why}"))
            continue
        store.retire_inr(rec)
        groups[(config, ImplicitFunction.parse(rec.function))].append((rec, shape, problem))
    for (config, function), items in groups.items():
        options = BuildOptions(configs=(config,), functions=(function,), steps=steps)
        yield from fit_shapes(store, config, function, [shape for _, shape, _ in items], options)
        for rec, _, problem in items:
            outcome = "repaired: fitted again (the old file is in lost+found/)"
            report.findings.append(Finding("inr", rec.file, problem, outcome))


def _config_for(store: Store, rec: InrRecord, damaged: set[int]) -> FieldConfig | None:
    """The architecture config of ``rec``'s config id, from the defaults or a healthy INR
    (one not in ``damaged``)."""
    default = ARCHITECTURES.get(rec.arch)
    if default is not None and default().config_id == rec.config_id:
        return default()
    for other in store.records(arch=rec.arch):
        if other.config_id == rec.config_id and other.id not in damaged:
            return store.load(other).config
    return None
