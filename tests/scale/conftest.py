"""Fixtures of the scale tests: one small local Ray cluster for the whole session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster of 2 worker slots (machines here have 2 cores), shut down at the end."""
    ray = pytest.importorskip("ray")
    from inret_engine.scale.cluster import connect

    connect(None, num_cpus=2)
    yield ray
    ray.shutdown()
