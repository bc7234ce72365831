"""The built-in demo store: procedural shapes of every category, fitted and indexed on first run.

It is built in two phases so that a fresh machine shows shapes quickly:

1. **essential** — hash-grid SDF INRs of six shapes of every demo category, built one
   category at a time: after each, the category's INRs are embedded and indexed and a
   :class:`CategoryReady` record lets the window show and query them at once.
2. **extras** — hash-grid UDF and Occ INRs, octree and triplane INRs of all three
   functions and SDF SIRENs (a SIREN costs ten times a grid INR to fit on CPU); this runs
   in the background while the window is in use, and the gallery reloads when it ends.

The shipped shared model embeds every INR into one index (nothing is trained); a store
left by an older version without it still trains per-architecture encoders.

Both phases are resumable: an interrupted build continues where it stopped. What is
built is a :class:`DemoPlan` (the default one, or a smaller one for tests). The build is a
job (:mod:`inret_engine.progress`): besides the build's own records it yields
:class:`PhaseProgress` (overall percentage, categories being fitted, time left) and
:class:`CategoryReady`, and returns the store folder.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from .build import BuildOptions, SourceShape, build_store, resolve_sources
from .fields import default_config
from .functions import ImplicitFunction
from .model_set import TrainChoice, train_encoders
from .progress import Job, Progress
from .retrieval.retriever import Retriever
from .store import Store

PER_CATEGORY = 6
ENCODER_STEPS = 300
"""Encoder training steps (old stores without the shipped model): enough for the demo's categories."""


@dataclasses.dataclass(frozen=True)
class Phase:
    name: str
    builds: tuple[BuildOptions, ...]
    by_category: bool = False
    """Build one category after another, indexing and announcing each (the first phase)."""

    @property
    def archs(self) -> tuple[str, ...]:
        return tuple(a for b in self.builds for a in b.archs)


_SDF, _UDF, _OCC = ImplicitFunction.SDF, ImplicitFunction.UDF, ImplicitFunction.OCC


@dataclasses.dataclass(frozen=True)
class DemoPlan:
    """What the demo store holds: its shapes (``demo`` categories, ``per_category`` each),
    its two phases, and the encoder steps for stores without the shipped model."""

    essential: Phase
    extras: Phase
    categories: tuple[str, ...] | None = None
    per_category: int = PER_CATEGORY
    encoder_steps: int = ENCODER_STEPS

    @classmethod
    def default(cls, *, isolated: bool = True) -> "DemoPlan":
        """The demo the browser builds; ``isolated``: sample and fit in helper processes, as a
        build beside the window must (``BuildOptions.isolated``)."""
        n, gui = PER_CATEGORY, isolated
        return cls(
            essential=Phase("essential", (BuildOptions(archs=("hash",), functions=(_SDF,), per_category=n,
                                                       isolated=gui),), by_category=True),
            extras=Phase("extras", (BuildOptions(archs=("hash",), functions=(_UDF, _OCC), per_category=n, isolated=gui),
                                    BuildOptions(archs=("octree", "triplane"), per_category=n, isolated=gui),
                                    BuildOptions(archs=("mlp",), functions=(_SDF,), per_category=n, isolated=gui))))

    @property
    def phases(self) -> tuple[Phase, Phase]:
        return self.essential, self.extras

    def sources(self) -> list[SourceShape]:
        return resolve_sources("demo", categories=self.categories, per_category=self.per_category)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PhaseProgress(Progress):
    """A phase's overall progress: ``done`` percent of ``total`` (100), the ``categories``
    being fitted and the time left (None until the pace is known); ``message`` says both."""

    categories: tuple[str, ...] = ()
    seconds_left: float | None = None

    def __post_init__(self) -> None:
        if not self.message:
            left = "" if not self.seconds_left else f" · about {duration_text(self.seconds_left)} left"
            object.__setattr__(self, "message", ", ".join(self.categories) + left)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CategoryReady(Progress):
    """A first-phase record: ``category``'s INRs are in the store and indexed (browse and query
    them now). ``done`` of ``total`` categories are ready; ``seconds_left`` is an estimate."""

    category: str
    seconds_left: float | None = None

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", f"{self.category} ready")


def expected_inrs(plan: DemoPlan, phases: tuple[Phase, ...] | None = None) -> int:
    n = len(plan.sources())
    return sum(n * len(o.field_configs()) * len(o.functions) for p in (phases or plan.phases) for o in p.builds)


def phase_is_complete(root: Path, phase: Phase, plan: DemoPlan) -> bool:
    """Every INR of the phase is in the store and every architecture of it has an encoder."""
    if not (Path(root) / "catalog.sqlite").is_file():
        return False
    with Store.open(root) as store:
        records = store.records()
        missing = _unencoded(store, phase.archs)
    n = len(plan.sources())
    for b in phase.builds:
        have = sum(1 for r in records if r.arch in b.archs and r.function in {f.value for f in b.functions})
        if have < n * len(b.field_configs()) * len(b.functions):
            return False
    return not missing


def _unencoded(store: Store, archs: tuple[str, ...]) -> tuple[str, ...]:
    """The architectures no model of the store (or the shipped shared model) embeds."""
    specs = Retriever.installed_specs(store)
    return tuple(a for a in archs if not any(s.accepts(default_config(a).config_id, "sdf") for s in specs))


def demo_is_complete(root: Path, plan: DemoPlan) -> bool:
    return all(phase_is_complete(root, p, plan) for p in plan.phases)


def build_demo_job(root: Path, plan: DemoPlan, phase: Phase | None = None) -> Callable[[], Job[Path]]:
    """A job (for a worker) that builds or completes one phase (or all) of the demo store; returns ``root``."""
    phases = plan.phases if phase is None else (phase,)

    def job():
        with Store.create(root) as store:
            for p in phases:
                yield from _build_phase(store, p, plan)
        return Path(root)
    return job


def _build_phase(store: Store, phase: Phase, plan: DemoPlan) -> Job[None]:
    sources = plan.sources()
    batch = min(o.batch for o in phase.builds)
    groups = _category_groups(sources, batch) if phase.by_category else [((), sources)]
    clock = _Clock(total=len(sources))
    ready = 0
    n_categories = len({s.category for s in sources})
    for k, (categories, group) in enumerate(groups, 1):
        for b, options in enumerate(phase.builds):
            share = len(group) / len(phase.builds)  # of the phase's shapes, this build's part of this group
            for event in build_store(store, group, options):
                if event.stage in ("sampling", "fitting") and event.total:
                    part = 0.3 * event.done / event.total if event.stage == "sampling" else \
                        0.3 + 0.7 * event.done / event.total
                    clock.at(clock.before + (b + part) * share)
                    yield PhaseProgress(f"Building the demo store ({phase.name})", round(clock.fraction * 100), 100,
                                        categories=categories, seconds_left=clock.seconds_left())
                elif event.stage in ("skip", "repair"):
                    yield event
        clock.finish(len(group))
        missing = _unencoded(store, phase.archs)
        if missing and k == len(groups):  # an old store without the shipped model: train on every category
            choice = TrainChoice(archs=missing, steps=plan.encoder_steps, split=None)
            yield from train_encoders(store, choice)
        yield from _index(store, phase)
        for category in categories:
            ready += 1
            yield CategoryReady("Building the demo store", ready, n_categories, category=category,
                                seconds_left=clock.seconds_left())


def _index(store: Store, phase: Phase) -> Job[None]:
    for model in Retriever.installed(store):
        if model.spec.reads_field or model.spec.arch in phase.archs:
            for event in Retriever(store, model).update():
                yield Progress(f"Indexing the {model.spec.name} embeddings", event.done, event.total)


def _category_groups(sources: list[SourceShape], batch: int) -> list[tuple[tuple[str, ...], list[SourceShape]]]:
    """Whole categories in build order, as many together as one fitting batch holds.

    Fitting a batch costs about the same for 6 INRs as for 16 on a CPU (per-step overhead
    dominates: 74 s for both, measured), so one category per batch would take 2.5 times
    as long in all; whole categories per batch keep the first ones quick to appear.
    """
    by_category: dict[str, list[SourceShape]] = {}
    for s in sources:
        by_category.setdefault(s.category, []).append(s)
    groups: list[tuple[tuple[str, ...], list[SourceShape]]] = []
    for category, shapes in by_category.items():
        if groups and len(groups[-1][1]) + len(shapes) <= batch:
            groups[-1] = (groups[-1][0] + (category,), groups[-1][1] + shapes)
        else:
            groups.append(((category,), list(shapes)))
    return groups


@dataclasses.dataclass
class _Clock:
    """Overall progress in shapes and the time left, from the pace so far."""

    total: int
    before: float = 0.0
    now: float = 0.0
    start: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float:
        return min(1.0, self.now / self.total) if self.total else 1.0

    def at(self, shapes_done: float) -> None:
        self.now = shapes_done

    def finish(self, shapes: int) -> None:
        self.before += shapes
        self.now = self.before

    def seconds_left(self) -> float | None:
        if self.fraction < 0.05 or self.fraction >= 1.0:
            return None if self.fraction < 1.0 else 0.0
        return (time.monotonic() - self.start) * (1 - self.fraction) / self.fraction


def duration_text(seconds: float) -> str:
    """``"25 s"`` or ``"4 min"``: a time left, rounded as people say it."""
    return f"{max(5, round(seconds / 5) * 5):.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
