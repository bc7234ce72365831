"""Point clouds and multi-view images for the baselines, on analytic shapes."""

import numpy as np
import pytest
import torch

from inret_engine.render.bake import bake
from inret_engine.render.points import multiview_images, surface_point_cloud
from inret_engine.render.shading import DEFAULT_STYLE

R = 0.6


def sdf(p):
    return p.norm(dim=-1) - R


def box_sdf(p, half=(0.7, 0.4, 0.25)):
    q = p.abs() - torch.tensor(half)
    return q.clamp_min(0).norm(dim=-1) + q.amax(-1).clamp_max(0)


@pytest.mark.parametrize("function,fn,tol", [
    ("sdf", sdf, 1e-3),                              # traced, then projected onto the exact field
    ("udf", lambda p: sdf(p).abs(), 2e-3),
    ("occ", lambda p: 10 * (R - p.norm(dim=-1)), 2 / 64),  # marching cubes of the lattice: within a voxel
])
def test_points_lie_on_the_sphere(function, fn, tol):
    pts = surface_point_cloud(fn, function, n=1024, seed=1, resolution=65)
    assert pts.shape == (1024, 3) and pts.dtype == np.float32
    assert np.abs(np.linalg.norm(pts, axis=1) - R).max() < tol
    assert (np.sign(pts) > 0).mean(axis=0) == pytest.approx([0.5] * 3, abs=0.1)  # all around the shape


def test_points_are_seeded_and_first_hits_only():
    baked = bake(box_sdf, "sdf", resolution=65)
    a = surface_point_cloud(box_sdf, "sdf", n=512, seed=3, baked=baked)
    b = surface_point_cloud(box_sdf, "sdf", n=512, seed=3, baked=baked)
    assert np.array_equal(a, b)
    assert np.abs(box_sdf(torch.as_tensor(a)).numpy()).max() < 1e-3
    # Rays only reach the outside of a UDF shell: nothing from its inner side.
    shell = surface_point_cloud(lambda p: sdf(p).abs(), "udf", n=512, seed=0, resolution=65)
    assert np.linalg.norm(shell, axis=1).min() > R - 0.01


def test_no_surface_gives_no_points():
    empty = surface_point_cloud(lambda p: p[:, 0] * 0 + 0.5, "sdf", n=64, resolution=17, max_rounds=2)
    assert empty.shape == (0, 3)


def test_multiview_sees_the_object_in_every_view():
    images = multiview_images(box_sdf, "sdf", resolution=49)
    assert images.shape == (12, 224, 224, 3) and images.dtype == np.uint8
    background = np.asarray(DEFAULT_STYLE.background, np.uint8)
    covered = (images != background).any(-1).mean(axis=(1, 2))
    assert (covered > 0.05).all() and (covered < 0.9).all()
    assert not np.array_equal(images[0], images[3])  # a box looks different from the side
