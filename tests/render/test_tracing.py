"""Tracers against analytic spheres, boxes and a thin plate."""

import math

import pytest
import torch

from inret_engine.errors import UsageError
from inret_engine.functions import ImplicitFunction
from inret_engine.render.bake import bake
from inret_engine.render.camera import Camera, circle_cameras, rays
from inret_engine.render.tracing import (
    damped_sphere_trace,
    ray_box,
    single,
    sphere_trace,
    trace_occupancy,
    trace_surface,
)

R = 0.6


def sphere_sdf(p: torch.Tensor) -> torch.Tensor:
    return p.norm(dim=-1) - R


def box_sdf(p: torch.Tensor, half=(0.5, 0.3, 0.2)) -> torch.Tensor:
    q = p.abs() - torch.tensor(half)
    return q.clamp_min(0).norm(dim=-1) + q.amax(-1).clamp_max(0)


def plate_udf(p: torch.Tensor) -> torch.Tensor:
    """Unsigned distance to the zero-thickness square |x|, |y| <= 0.5 in the plane z = 0."""
    dx = (p[:, 0].abs() - 0.5).clamp_min(0)
    dy = (p[:, 1].abs() - 0.5).clamp_min(0)
    return torch.sqrt(dx ** 2 + dy ** 2 + p[:, 2] ** 2)


def random_rays(n: int, seed: int = 0, radius: float = 2.5):
    g = torch.Generator().manual_seed(seed)
    o = torch.randn(n, 3, generator=g)
    o = radius * o / o.norm(dim=-1, keepdim=True)
    d = torch.rand(n, 3, generator=g) * 1.6 - 0.8 - o
    return o, d / d.norm(dim=-1, keepdim=True)


def analytic_sphere_t(o: torch.Tensor, d: torch.Tensor):
    """First intersection of unit rays with the sphere: ``(t, disc)``; a hit iff ``disc > 0``."""
    b = (o * d).sum(-1)
    disc = b ** 2 - ((o * o).sum(-1) - R ** 2)
    return -b - disc.clamp_min(0).sqrt(), disc


def test_ray_box_slab():
    o = torch.tensor([[0.0, 0.0, -3.0], [0.0, 2.0, -3.0], [0.5, 0.5, 0.5]])
    d = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    t0, t1 = ray_box(o, d)
    assert t0[0] == pytest.approx(2.0) and t1[0] == pytest.approx(4.0)
    assert t0[1] > t1[1]  # passes above the box
    assert t0[2] == 0.0 and t1[2] == pytest.approx(0.5)  # starts inside


def test_sphere_trace_matches_the_analytic_intersection():
    o, d = random_rays(3000)
    t_true, disc = analytic_sphere_t(o, d)
    hits = sphere_trace(sphere_sdf, o, d, eps=1e-4)
    clear = (disc > 0.01) | (disc < -0.01)  # leave out near-tangent rays
    assert torch.equal(hits.hit_mask[clear], (disc > 0)[clear])
    h = hits.hit_mask & clear
    assert h.sum() > 500 and (~hits.hit_mask & clear).sum() > 500
    assert (hits.t[h] - t_true[h]).abs().max() < 1e-3
    assert (hits.points[h].norm(dim=-1) - R).abs().max() < 1e-3
    assert torch.isinf(hits.t[~hits.hit_mask]).all()


def test_rays_beside_the_sphere_miss():
    o = torch.tensor([[R + 0.05, 0.0, -3.0], [0.0, -R - 0.05, -3.0], [R - 0.05, 0.0, -3.0]])
    d = torch.tensor([[0.0, 0.0, 1.0]]).expand(3, 3)
    assert sphere_trace(sphere_sdf, o, d).hit_mask.tolist() == [False, False, True]


def test_box_hits_lie_on_the_faces():
    o, d = random_rays(2000, seed=1)
    hits = sphere_trace(box_sdf, o, d, eps=1e-4, max_steps=128)
    p = hits.points[hits.hit_mask]
    assert len(p) > 300
    assert box_sdf(p).abs().max() < 1e-3
    on_face = (p.abs() / torch.tensor([0.5, 0.3, 0.2])).amax(-1)
    assert (on_face - 1).abs().max() < 5e-3


def test_damped_trace_stops_on_the_first_layer_of_a_thin_plate():
    g = torch.Generator().manual_seed(2)
    targets = torch.rand(500, 3, generator=g) * 0.9 - 0.45
    targets[:, 2] = 0.0
    for z0 in (0.9, -0.9):  # from above, then from below
        o = targets + torch.tensor([0.0, 0.0, z0]) + 0.3 * (torch.rand(500, 3, generator=g) - 0.5)
        d = (targets - o) / (targets - o).norm(dim=-1, keepdim=True)
        hits = damped_sphere_trace(plate_udf, o, d, damping=0.6, eps=1e-3, max_steps=200)
        assert hits.hit_mask.all()
        z = hits.points[:, 2] * math.copysign(1.0, z0)  # height on the ray's side of the plate
        assert (z >= 0).all() and (z < 2e-3).all()  # never through, never far above


def test_damped_trace_misses_beside_the_plate_and_finds_a_shell():
    o = torch.tensor([[0.7, 0.0, 0.9], [0.0, 0.0, 0.9]])
    d = torch.tensor([[0.0, 0.0, -1.0]]).expand(2, 3)
    assert damped_sphere_trace(plate_udf, o, d).hit_mask.tolist() == [False, True]
    o, d = random_rays(1000, seed=3)
    shell = lambda p: sphere_sdf(p).abs()  # noqa: E731
    hits = damped_sphere_trace(shell, o, d, eps=1e-4, max_steps=256)
    t_true, disc = analytic_sphere_t(o, d)
    h = hits.hit_mask & (disc > 0.01)
    assert (hits.t[h] - t_true[h]).abs().max() < 2e-3  # the outer side, never the inner one


def test_tracers_check_the_implicit_function():
    baked_udf = bake(lambda p: sphere_sdf(p).abs(), "udf", resolution=17)
    o, d = torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 1.0]])
    with pytest.raises(UsageError, match="sphere tracing needs an INR of SDF, got UDF"):
        sphere_trace(baked_udf, o, d)
    with pytest.raises(UsageError, match="damped sphere tracing needs an INR of UDF"):
        damped_sphere_trace(sphere_sdf, o, d, function=ImplicitFunction.SDF)
    with pytest.raises(UsageError, match="occupancy ray marching needs an INR of OCC"):
        trace_occupancy(sphere_sdf, o, d, function="sdf")
    with pytest.raises(ValueError, match="damping"):
        damped_sphere_trace(plate_udf, o, d, damping=1.5)


@pytest.mark.parametrize("baked", [True, False])
def test_occupancy_hits_the_sphere_within_a_voxel(baked):
    logits = lambda p: 10.0 * (R - p.norm(dim=-1))  # noqa: E731 - occupancy INRs output logits
    fn = bake(logits, "occ") if baked else logits
    o, d = random_rays(2000, seed=4)
    hits = trace_occupancy(fn, o, d, function=ImplicitFunction.OCC)
    t_true, disc = analytic_sphere_t(o, d)
    clear = disc.abs() > 0.02
    assert torch.equal(hits.hit_mask[clear], (disc > 0)[clear])
    voxel = 2.0 / 96
    h = hits.hit_mask & clear
    assert (hits.points[h].norm(dim=-1) - R).abs().max() < voxel
    assert (hits.t[h] - t_true[h]).abs().max() < 2 * voxel


def test_trace_surface_dispatches_by_function():
    o, d = torch.tensor([[0.0, 0.0, -3.0]]), torch.tensor([[0.0, 0.0, 1.0]])
    for function, fn in (("sdf", sphere_sdf), ("udf", lambda p: sphere_sdf(p).abs()),
                         ("occ", lambda p: -10 * sphere_sdf(p))):
        hits = trace_surface(fn, ImplicitFunction.parse(function), o, d)
        assert float(hits.t[0]) == pytest.approx(3.0 - R, abs=0.01), function


def test_single_picks_one_inr_of_a_batch():
    class Two(torch.nn.Module):
        batch = 2

        def forward(self, x):  # (B, N, 3) -> (B, N): INR b is the sphere of radius 0.3 * (b + 1)
            return x.norm(dim=-1) - torch.tensor([[0.3], [0.6]])

    p = torch.tensor([[0.6, 0.0, 0.0]])
    assert single(Two(), 1)(p).tolist() == [0.0]
    assert single(Two(), 0)(p).tolist() == pytest.approx([0.3])
    with pytest.raises(IndexError):
        single(Two(), 2)


def test_camera_rays_and_the_paper_circle():
    r = rays(Camera(azimuth=0.0, elevation=0.0, distance=3.0), 5, 3)
    assert r.origins.shape == (15, 3) and torch.allclose(r.dirs.norm(dim=-1), torch.ones(15))
    assert r.dirs[7].tolist() == pytest.approx([0.0, 0.0, -1.0], abs=1e-6)  # centre pixel
    assert r.dirs[0, 0] < 0 and r.dirs[0, 1] > 0  # top-left pixel looks left and up
    ortho = rays(Camera(azimuth=90.0, elevation=0.0, ortho_scale=1.0), 4, 4)
    assert torch.allclose(ortho.dirs, torch.tensor([-1.0, 0.0, 0.0]).expand(16, 3), atol=1e-6)
    cams = circle_cameras()
    assert len(cams) == 12 and cams[3].azimuth == 90.0
    pos = cams[0].position
    assert math.hypot(*pos) == pytest.approx(3.0) and pos[1] == pytest.approx(3.0 * math.sin(0.65))
