"""The built-in demo store: procedural shapes of every category, fitted on first run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from inret_engine.build import BuildOptions, build_store, resolve_sources
from inret_engine.store import Store

DEMO_OPTIONS = BuildOptions(archs=("hash", "octree", "triplane", "mlp"), per_category=3)


def _sources():
    return resolve_sources("demo", per_category=DEMO_OPTIONS.per_category)


def demo_is_complete(root: Path) -> bool:
    """True when every INR of the demo build is in the store."""
    with Store.open(root) as store:
        expected = len(_sources()) * len(DEMO_OPTIONS.field_configs()) * len(DEMO_OPTIONS.functions)
        return len(store.records()) >= expected


def build_demo_job(root: Path) -> Callable[[], Iterator]:
    """A generator job (for a worker) that builds or completes the demo store."""
    def job():
        with Store.create(root) as store:
            yield from build_store(store, _sources(), DEMO_OPTIONS)
    return job
