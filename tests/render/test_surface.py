"""Surface extraction against analytic fields."""

import numpy as np
import torch

from inret_engine.functions import ImplicitFunction
from inret_engine.render.surface import lattice, sample_triangles, surface_points

R = 0.6


def sphere_sdf(x: torch.Tensor) -> torch.Tensor:
    return x.norm(dim=-1) - R


def test_lattice_is_c_order():
    pts = lattice(3)
    assert pts.shape == (27, 3)
    assert pts[1].tolist() == [-1.0, -1.0, 0.0] and pts[3].tolist() == [-1.0, 0.0, -1.0]


def test_sdf_surface_lies_on_the_sphere():
    pts = surface_points(sphere_sdf, 1, ImplicitFunction.SDF, n_points=2000, resolution=48)[0]
    assert len(pts) == 2000
    assert np.abs(np.linalg.norm(pts, axis=1) - R).max() < 0.01


def test_udf_projection_lands_on_the_sphere():
    pts = surface_points(lambda x: sphere_sdf(x).abs(), 1, ImplicitFunction.UDF, n_points=1500, resolution=48)[0]
    assert len(pts) > 1000
    assert np.abs(np.linalg.norm(pts, axis=1) - R).max() < 0.01


def test_occupancy_surface_and_empty_fields():
    logit = lambda x: 10.0 * (R - x.norm(dim=-1))  # noqa: E731 - occupancy INRs output logits
    pts = surface_points(logit, 1, ImplicitFunction.OCC, n_points=500, resolution=48)[0]
    assert np.abs(np.linalg.norm(pts, axis=1) - R).max() < 0.01
    empty = surface_points(lambda x: torch.ones(x.shape[:-1]), 1, ImplicitFunction.SDF, resolution=16)[0]
    assert empty.shape == (0, 3)


def test_sample_triangles_is_area_uniform():
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [3, 0, 1], [0, 3, 1]], float)
    f = np.array([[0, 1, 2], [3, 4, 5]])  # second triangle has 9x the area
    pts = sample_triangles(v, f, 10000, np.random.default_rng(0))
    on_second = (pts[:, 2] > 0.5).mean()
    assert abs(on_second - 0.9) < 0.02
