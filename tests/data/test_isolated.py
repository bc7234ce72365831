"""Sampling in a helper process gives what sampling in this one gives, and survives its helper's death."""

import os
import signal

import numpy as np
import trimesh

from inret_engine.data import isolated
from inret_engine.data.sampling import sample_ground_truth

from ..conftest import geometry_of

COUNTS = dict(n_uniform=500, n_surface=300, n_near=500, n_eval_surface=100, seed=3)


def test_the_child_samples_what_this_process_samples():
    geom = geometry_of(trimesh.creation.box(extents=(1.0, 0.5, 0.3)))
    here, there = sample_ground_truth(geom, **COUNTS), isolated.sample_in_child(geom, **COUNTS)
    for name, value in here.to_arrays().items():
        assert np.array_equal(value, there.to_arrays()[name]), name


def test_a_dead_helper_is_replaced():
    geom = geometry_of(trimesh.creation.icosphere(subdivisions=1))
    isolated.sample_in_child(geom, **COUNTS)
    (pid,) = isolated.SAMPLER.pids()
    os.kill(pid, signal.SIGKILL)
    again = isolated.sample_in_child(geom, **COUNTS)  # the broken pool is dropped, a new child answers
    assert len(again.points) == 500 + 300 + 500 and isolated.SAMPLER.pids() != [pid]
    isolated.SAMPLER.stop()
    assert isolated.SAMPLER.pids() == []
