"""Batched fitting: it converges, it is deterministic, and INRs of a batch are independent."""

import pytest
import torch

from inret_engine.errors import UsageError
from inret_engine.fields import Field
from inret_engine.fit import FitProgress, FitSettings, fit, measure_quality
from inret_engine.functions import ImplicitFunction as IF
from inret_engine.progress import run_to_end

from .conftest import TINY_CONFIGS

FAST = FitSettings(steps=120, points_per_step=2048)


@pytest.mark.parametrize("kind", ["hash", "octree", "triplane"])
@pytest.mark.slow
def test_grid_inrs_fit_a_sphere_sdf(kind, sphere_gt):
    field = run_to_end(fit(TINY_CONFIGS[kind], IF.SDF, [sphere_gt], ["s"], FAST))
    (q,) = measure_quality(field, IF.SDF, [sphere_gt], resolution=48, n_points=2000)
    assert q.chamfer < 0.03
    assert q.iou > 0.9


@pytest.mark.parametrize("function", [IF.UDF, IF.OCC])
def test_other_functions_fit(function, box_gt):
    field = run_to_end(fit(TINY_CONFIGS["triplane"], function, [box_gt], ["b"], FAST))
    (q,) = measure_quality(field, function, [box_gt], resolution=48, n_points=2000)
    assert q.chamfer < 0.04
    assert (q.iou is None) == (function is IF.UDF)


def test_siren_fits_a_sphere(sphere_gt):
    settings = FitSettings(steps=300, points_per_step=2048, lr_siren=1e-3)
    field = run_to_end(fit(TINY_CONFIGS["mlp"], IF.SDF, [sphere_gt], ["s"], settings))
    (q,) = measure_quality(field, IF.SDF, [sphere_gt], resolution=48, n_points=2000)
    assert q.chamfer < 0.035
    assert q.iou > 0.9


def test_fit_yields_progress_and_returns_the_field(sphere_gt):
    records = []
    field = run_to_end(fit(TINY_CONFIGS["hash"], IF.SDF, [sphere_gt], ["s"], FitSettings(steps=30), report_every=10),
                       records.append)
    assert [(r.stage, r.done, r.total) for r in records] == [("fitting", 10, 30), ("fitting", 20, 30),
                                                              ("fitting", 30, 30)]
    assert all(isinstance(r, FitProgress) for r in records) and records[-1].loss < records[0].loss
    assert isinstance(field, Field) and field.batch == 1 and not field.training


def test_fit_is_deterministic_and_batch_independent(sphere_gt, box_gt):
    settings = FitSettings(steps=20, points_per_step=512)
    config = TINY_CONFIGS["hash"]
    both = run_to_end(fit(config, IF.SDF, [sphere_gt, box_gt], ["s", "b"], settings))
    again = run_to_end(fit(config, IF.SDF, [sphere_gt, box_gt], ["s", "b"], settings))
    alone = run_to_end(fit(config, IF.SDF, [box_gt], ["b"], settings))
    for name, t in both.inr_tensors(1).items():
        assert torch.equal(t, again.inr_tensors(1)[name])
        # Alone vs in a batch differs only by float rounding in the batched matmuls.
        assert torch.allclose(t, alone.inr_tensors(0)[name], atol=1e-4), name
    x = torch.rand(1, 500, 3) * 2 - 1
    with torch.no_grad():
        assert (both(x.expand(2, -1, -1))[1] - alone(x)[0]).abs().max() < 1e-5


def test_signed_functions_need_inside_outside(sphere_gt):
    import dataclasses
    cloud = dataclasses.replace(sphere_gt, sdf=None, occ=None)
    with pytest.raises(UsageError, match="point cloud"):
        run_to_end(fit(TINY_CONFIGS["hash"], IF.SDF, [cloud], ["c"], FitSettings(steps=1)))


def test_occupancy_fits_of_triplanes_and_hash_grids_draw_more_free_space_points():
    import torch

    from inret_engine.fit import _index_stream, default_uniform_share
    from inret_engine.functions import ImplicitFunction as IF

    assert default_uniform_share(TINY_CONFIGS["triplane"], IF.OCC) == 0.85
    assert default_uniform_share(TINY_CONFIGS["hash"], IF.OCC) == 0.7
    assert default_uniform_share(TINY_CONFIGS["octree"], IF.OCC) is None
    assert default_uniform_share(TINY_CONFIGS["triplane"], IF.SDF) is None
    gen = torch.Generator().manual_seed(0)
    stream = _index_stream(1000, 300, steps=50, n=100, uniform_share=0.7, gen=gen)
    assert stream.shape == (50, 100) and int((stream < 300).sum(1).min()) == 70  # exactly 70 uniform a step
    assert int(stream.max()) < 1000 and int(stream.min()) >= 0
    mixed = _index_stream(1000, 300, steps=50, n=100, uniform_share=None, gen=gen)
    assert 20 < float((mixed < 300).float().sum(1).mean()) < 40  # the pool's own mix: about 30%
