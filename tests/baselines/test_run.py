"""A whole baseline run on a tiny store of demo shapes."""

import dataclasses

import numpy as np
import pytest
import torch

from inret_engine.baselines import BASELINES, run_baseline
from inret_engine.progress import run_to_end

from .conftest import TINY


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.slow
def test_run_separates_mugs_from_airplanes(store, name):
    records = [r for r in store.records() if r.category in ("mug", "airplane")]  # 3 shapes x SDF/UDF/Occ each
    stages = set()
    run = run_to_end(run_baseline(name, store, records, records, preset=TINY, seed=0), lambda p: stages.add(p.stage))
    assert run.name == name and run.architecture
    assert stages == {"convert", "train", "embed"}
    assert set(run.embeddings) == {r.id for r in records}
    vectors = np.stack([run.embeddings[r.id] for r in records])
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert run.convert_ms > 0 and run.embed_ms > 0 and run.train_seconds > 0
    # Nearest neighbour among the other shapes (a shape's own SDF/UDF/Occ INRs left out).
    sim = vectors @ vectors.T
    shapes = np.array([r.shape_id for r in records])
    sim[shapes[:, None] == shapes[None, :]] = -np.inf
    labels = np.array([r.category for r in records])
    assert (labels[sim.argmax(1)] == labels).mean() >= 0.8


def test_rerun_converts_nothing_reports_conversion_time_and_repeats_itself(store):
    records = [r for r in store.records(function="sdf") if r.category in ("mug", "chair")]
    short = dataclasses.replace(TINY, min_steps=2)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    first = run_to_end(run_baseline("pointcloud", store, records, records[:2], preset=short, seed=3))
    assert torch.equal(torch.rand(3), expected)  # the caller's random state is left alone
    again = run_to_end(run_baseline("pointcloud", store, records, records[:2], preset=short, seed=3))
    assert again.convert_ms > 0 and set(again.embeddings) == {r.id for r in records[:2]}
    for r in records[:2]:  # same seed, same embeddings
        np.testing.assert_allclose(again.embeddings[r.id], first.embeddings[r.id], atol=1e-6)


def test_unknown_baseline_is_refused(store):
    with pytest.raises(ValueError, match="unknown baseline"):
        run_to_end(run_baseline("voxels", store, store.records()[:2], store.records()[:2], preset=TINY))


def test_one_category_is_refused(store):
    mugs = [r for r in store.records() if r.category == "mug"]
    with pytest.raises(ValueError, match="at least 2 categories"):
        run_to_end(run_baseline("multiview", store, mugs, mugs, preset=TINY))
