"""The built-in demo store: procedural shapes of every category, fitted on first run.

Grid INRs (hash, octree, triplane) of all three functions, plus SDF SIRENs: a SIREN
costs ten times a grid INR to fit on CPU, so the demo keeps one function of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from inret_engine.build import BuildOptions, build_store, resolve_sources
from inret_engine.functions import ImplicitFunction
from inret_engine.store import Store

PER_CATEGORY = 2
DEMO_BUILDS = (
    BuildOptions(archs=("hash", "octree", "triplane"), per_category=PER_CATEGORY),
    BuildOptions(archs=("mlp",), functions=(ImplicitFunction.SDF,), per_category=PER_CATEGORY),
)


def _sources():
    return resolve_sources("demo", per_category=PER_CATEGORY)


def expected_inrs() -> int:
    n = len(_sources())
    return sum(n * len(o.field_configs()) * len(o.functions) for o in DEMO_BUILDS)


def demo_is_complete(root: Path) -> bool:
    """True when every INR of the demo builds is in the store."""
    with Store.open(root) as store:
        return len(store.records()) >= expected_inrs()


def build_demo_job(root: Path) -> Callable[[], Iterator]:
    """A generator job (for a worker) that builds or completes the demo store."""
    def job():
        with Store.create(root) as store:
            for options in DEMO_BUILDS:
                yield from build_store(store, _sources(), options)
    return job
