"""Distillation reproduces its oracle in another architecture."""

import numpy as np
import pytest
import torch

from inret_engine.cli.main import main
from inret_engine.distill import distill, distill_many, oracle_ground_truth
from inret_engine.errors import UsageError
from inret_engine.fields import Field
from inret_engine.fit import FitProgress, FitSettings, fit
from inret_engine.functions import ImplicitFunction as IF
from inret_engine.progress import run_to_end
from inret_engine.store import ShapeINR, load_shape_inr, save_shape_inr

from .conftest import TINY_CONFIGS

R = 0.5


def sphere(x: torch.Tensor) -> torch.Tensor:
    return x.norm(dim=-1) - R


def test_oracle_ground_truth_matches_the_analytic_field():
    gt = oracle_ground_truth(sphere, IF.SDF, n_uniform=2000, n_surface=1000, n_near=2000, n_eval_surface=1000)
    r = np.linalg.norm(gt.points, axis=1)
    assert np.allclose(gt.sdf, r - R, atol=1e-5)
    assert np.allclose(gt.occ, (r < R).astype(np.float32))
    n_u, n_s, _ = gt.counts
    assert np.abs(r[n_u:n_u + n_s] - R).max() < 0.01 and (gt.udf[n_u:n_u + n_s] == 0).all()
    assert np.abs(np.linalg.norm(gt.surface, axis=1) - R).max() < 0.01
    udf_only = oracle_ground_truth(lambda x: sphere(x).abs(), IF.UDF, n_uniform=500, n_surface=500, n_near=500)
    assert udf_only.sdf is None and udf_only.occ is None


def test_distill_a_callable_into_a_grid_inr():
    inr = distill(sphere, IF.SDF, TINY_CONFIGS["triplane"], steps=120)
    assert inr.function is IF.SDF and inr.config == TINY_CONFIGS["triplane"]
    assert inr.fit["chamfer"] < 0.03
    field = inr.to_field()
    pts = torch.randn(1, 200, 3)
    pts = 0.7 * pts / pts.norm(dim=-1, keepdim=True)  # outside the sphere, at radius 0.7
    with torch.no_grad():
        assert (field(pts) > 0.05).float().mean() > 0.9


@pytest.mark.slow
def test_cli_distills_an_mlp_inr_into_a_hash_grid(sphere_gt, tmp_path, capsys):
    mlp = run_to_end(fit(TINY_CONFIGS["mlp"], IF.SDF, [sphere_gt], ["s"], FitSettings(steps=150, lr_siren=1e-3)))
    source = ShapeINR(config=mlp.config, function=IF.SDF, tensors=mlp.inr_tensors(0),
                      labels={"name": "ball", "category": "sphere", "shape_id": "x/ball"})
    save_shape_inr(tmp_path / "ball.inr", source)
    out = tmp_path / "ball-hash.inr"
    assert main(["distill", str(tmp_path / "ball.inr"), "--arch", "triplane", "--steps", "60",
                 "--out", str(out)]) == 0
    assert "triplane sdf" in capsys.readouterr().out
    result = load_shape_inr(out)
    assert result.config.kind == "triplane" and result.labels["category"] == "sphere"
    assert result.fit["distilled_from"].startswith("mlp-")
    assert isinstance(result.to_field(), Field)


def test_a_field_without_surface_cannot_be_distilled():
    with pytest.raises(UsageError, match="no surface"):
        oracle_ground_truth(lambda x: torch.ones(x.shape[0]), IF.SDF)


def test_distill_many_fits_a_batch_and_can_skip_a_source_without_surface():
    empty = lambda x: x.norm(dim=-1) + 1.0  # noqa: E731 - positive everywhere: no surface
    small = lambda x: x.norm(dim=-1) - 0.3  # noqa: E731
    with pytest.raises(UsageError, match="no surface"):
        distill_many([sphere, empty], IF.SDF, TINY_CONFIGS["triplane"], steps=20)
    out = distill_many([sphere, empty, small], IF.SDF, TINY_CONFIGS["triplane"], steps=120, skip_failures=True)
    assert out[1] is None and out[0] is not None and out[2] is not None
    assert out[0].fit["chamfer"] < 0.05 and out[2].fit["chamfer"] < 0.05


def test_distill_steps_is_a_progress_generator_with_the_same_result():
    from inret_engine.distill import distill_steps

    config = TINY_CONFIGS["hash"]
    samples = {"n_uniform": 2000, "n_surface": 1000, "n_near": 2000, "n_eval_surface": 500}
    records = []
    (inr,) = run_to_end(distill_steps([sphere], IF.SDF, config, steps=20, samples=samples), records.append)
    assert records and all(isinstance(r, FitProgress) for r in records)
    assert records[-1].done == records[-1].total == 20
    assert "chamfer" in inr.fit and inr.fit["distilled_from"] == "callable"
    (quick,) = run_to_end(distill_steps([sphere], IF.SDF, config, steps=20, samples=samples, measure=False))
    assert "chamfer" not in quick.fit
    # same seed, same INR (to float noise: a hash grid's scatter-add order varies on 2 threads)
    assert all(torch.allclose(inr.tensors[k], quick.tensors[k], atol=1e-3) for k in inr.tensors)
