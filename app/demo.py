"""The built-in demo store: procedural shapes of every category, fitted and indexed on first run.

It is built in two phases so that a fresh machine reaches a usable window quickly:

1. **essential** — hash-grid SDF INRs of six shapes of every demo category and their
   index. The window opens on the store when this phase ends; a query already shows
   five same-category answers where the shapes are alike.
2. **extras** — hash-grid UDF and Occ INRs, octree and triplane INRs of all three
   functions and SDF SIRENs (a SIREN costs ten times a grid INR to fit on CPU); this runs
   in the background while the window is in use, and the gallery reloads when it ends.

The shipped shared model embeds every INR into one index (nothing is trained); a store
left by an older version without it still trains per-architecture encoders.

Both phases are resumable: an interrupted build continues where it stopped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

from inret_engine.build import BuildOptions, build_store, resolve_sources
from inret_engine.fields import default_config
from inret_engine.functions import ImplicitFunction
from inret_engine.retrieval import Retriever
from inret_engine.store import Store

from .jobs import JobProgress, TrainChoice, train_encoders

PER_CATEGORY = 6
ENCODER_STEPS = 300
"""Encoder training steps: enough for the demo's few categories to separate."""


@dataclasses.dataclass(frozen=True)
class Phase:
    name: str
    builds: tuple[BuildOptions, ...]

    @property
    def archs(self) -> tuple[str, ...]:
        return tuple(a for b in self.builds for a in b.archs)


_SDF, _UDF, _OCC = ImplicitFunction.SDF, ImplicitFunction.UDF, ImplicitFunction.OCC
ESSENTIAL = Phase("essential", (BuildOptions(archs=("hash",), functions=(_SDF,), per_category=PER_CATEGORY),))
EXTRAS = Phase("extras", (BuildOptions(archs=("hash",), functions=(_UDF, _OCC), per_category=PER_CATEGORY),
                          BuildOptions(archs=("octree", "triplane"), per_category=PER_CATEGORY),
                          BuildOptions(archs=("mlp",), functions=(_SDF,), per_category=PER_CATEGORY)))
PHASES = (ESSENTIAL, EXTRAS)


def _sources():
    return resolve_sources("demo", per_category=PER_CATEGORY)


def expected_inrs(phases: tuple[Phase, ...] = PHASES) -> int:
    n = len(_sources())
    return sum(n * len(o.field_configs()) * len(o.functions) for p in phases for o in p.builds)


def phase_is_complete(root: Path, phase: Phase) -> bool:
    """Every INR of the phase is in the store and every architecture of it has an encoder."""
    if not (Path(root) / "catalog.sqlite").is_file():
        return False
    with Store.open(root) as store:
        records = store.records()
        missing = _unencoded(store, phase.archs)
    n = len(_sources())
    for b in phase.builds:
        have = sum(1 for r in records if r.arch in b.archs and r.function in {f.value for f in b.functions})
        if have < n * len(b.field_configs()) * len(b.functions):
            return False
    return not missing


def _unencoded(store: Store, archs: tuple[str, ...]) -> tuple[str, ...]:
    """The architectures no model of the store (or the shipped shared model) embeds."""
    specs = Retriever.installed_specs(store)
    return tuple(a for a in archs if not any(s.accepts(default_config(a).config_id, "sdf") for s in specs))


def demo_is_complete(root: Path) -> bool:
    return all(phase_is_complete(root, p) for p in PHASES)


def build_demo_job(root: Path, phase: Phase | None = None) -> Callable[[], Iterator]:
    """A generator job (for a worker) that builds or completes one phase (or all) of the demo store."""
    phases = PHASES if phase is None else (phase,)

    def job():
        with Store.create(root) as store:
            for p in phases:
                yield from _build_phase(store, p)
        return Path(root)
    return job


def _build_phase(store: Store, phase: Phase) -> Iterator:
    for options in phase.builds:
        yield from build_store(store, _sources(), options)
    missing = _unencoded(store, phase.archs)
    if missing:
        choice = TrainChoice(archs=missing, steps=ENCODER_STEPS, split=None)
        yield from train_encoders(store, choice)
    for model in Retriever.installed(store):
        if model.spec.reads_field or model.spec.arch in phase.archs:
            for event in Retriever(store, model).update():
                yield JobProgress(f"Indexing the {model.spec.name} embeddings", event.done, event.total)
