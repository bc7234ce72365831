"""Baking, shading and cutaways against analytic spheres."""

import numpy as np
import pytest
import torch

from inret_engine.functions import ImplicitFunction
from inret_engine.render import image
from inret_engine.render.bake import BakedField, bake, gaussian_blur, near_surface
from inret_engine.render.camera import Camera
from inret_engine.render.image import Plane, prepare, render_frame, render_inr, render_thumbnail, surface_normals
from inret_engine.render.shading import DEFAULT_STYLE, Style, depth_to_gray
from inret_engine.render.tracing import sphere_trace

R = 0.6
FRONT = Camera(azimuth=0.0, elevation=0.0, distance=3.0, ortho_scale=1.0)  # parallel rays down -z, from z = 3


def sdf(p):
    return p.norm(dim=-1) - R


def shell(p):
    return sdf(p).abs()


def logits(p):
    return 10.0 * (R - p.norm(dim=-1))


@pytest.fixture(scope="module")
def sample_points():
    return torch.rand(20000, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("function,fn", [("sdf", sdf), ("udf", shell), ("occ", logits)])
def test_baked_field_agrees_with_the_exact_field(function, fn, sample_points):
    baked = bake(fn, function, resolution=65)
    voxel = baked.voxel
    err = (baked(sample_points) - fn(sample_points)).abs()
    near = sdf(sample_points).abs() < voxel
    slope = 10.0 if function == "occ" else 1.0
    assert err[near].max() < slope * voxel  # the surface is where it should be, within a voxel
    assert err.max() < slope * 4 * voxel  # upsampled far values stay close too
    assert baked.evaluated < 0.5 * 65 ** 3  # only a band around the surface was evaluated
    lo, hi = baked.bounds
    assert (lo <= -R).all() and (hi >= R).all() and (lo > -R - 8 * voxel).all()  # a tight box


def test_dense_bake_is_exact_at_nodes_and_checks_resolution():
    baked = bake(sdf, "sdf", resolution=17, dense=True)
    assert baked.evaluated == 17 ** 3
    node = torch.tensor([[-1.0, 0.25, 0.5]])
    assert baked(node).item() == pytest.approx(sdf(node).item(), abs=1e-6)
    with pytest.raises(ValueError, match="divisible by 4"):
        bake(sdf, "sdf", resolution=64)
    empty = bake(lambda p: p[:, 0] * 0 + 1.0, "sdf", resolution=17)
    assert not near_surface(empty.values, ImplicitFunction.SDF).any()
    assert (empty.bounds[0] > empty.bounds[1]).all()  # nothing to trace


@pytest.mark.parametrize("function,fn", [("sdf", sdf), ("udf", shell), ("occ", logits)])
def test_baked_render_matches_the_exact_render(function, fn):
    baked = render_frame(fn, function, Camera(), 64, 64, baked=True)
    exact = render_frame(fn, function, Camera(), 64, 64, baked=False)
    agree = (baked.hit_mask == exact.hit_mask).mean()
    assert agree > 0.98 and exact.hit_mask.mean() > 0.1
    both = baked.hit_mask & exact.hit_mask
    gap = np.abs(baked.depth[both] - exact.depth[both])
    voxel = 2 / 96
    assert np.median(gap) < 0.5 * voxel and np.quantile(gap, 0.95) < 1.5 * voxel  # grazing rays differ more
    assert baked.rgb.shape == (64, 64, 3) and baked.rgb.dtype == np.uint8


def test_sphere_normals_are_radial():
    o = torch.tensor([[0.1, 0.2, -3.0], [0.3, -0.2, -3.0], [-0.4, 0.0, -3.0]])
    d = torch.tensor([[0.0, 0.0, 1.0]]).expand(3, 3)
    hits = sphere_trace(sdf, o, d)
    p = hits.points
    radial = p / p.norm(dim=-1, keepdim=True)
    for function, fn in ((ImplicitFunction.SDF, sdf), (ImplicitFunction.OCC, logits)):
        n = surface_normals(fn, function, p, d, voxel=0.002)
        assert (n * radial).sum(-1).min() > 0.999
    n = surface_normals(shell, ImplicitFunction.UDF, p, d, voxel=0.002)  # taken just before the hit
    assert (n * radial).sum(-1).min() > 0.995


def test_gaussian_blur_keeps_a_linear_field_and_damps_grain():
    g = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, 33)[:, None, None].expand(33, 33, 33)
    noise = 0.01 * torch.randn(33, 33, 33, generator=g)
    blurred = gaussian_blur(x + noise, 1.0)
    inner = (slice(4, -4),) * 3
    assert torch.allclose(gaussian_blur(x.contiguous(), 1.0)[inner], x[inner], atol=1e-5)
    assert (blurred - x)[inner].std() < noise[inner].std() / 3


def _grainy_sphere(resolution: int = 65, amplitude_voxels: float = 0.3) -> BakedField:
    """A sphere's SDF lattice with noise at the lattice's own scale, as fitted hash grids have."""
    exact = bake(sdf, "sdf", resolution=resolution, dense=True)
    g = torch.Generator().manual_seed(1)
    grain = amplitude_voxels * exact.voxel * torch.randn(exact.values.shape, generator=g)
    return BakedField(exact.values + grain, "sdf")


def test_renders_shade_a_blurred_copy_of_the_bake_and_trace_the_bake_as_it_is(monkeypatch):
    grainy = _grainy_sphere()
    smooth = render_frame(grainy, camera=FRONT, width=96, height=96)
    monkeypatch.setitem(image.NORMAL_SMOOTHING, ImplicitFunction.SDF, 0.05)  # next to no blur
    raw = render_frame(grainy, camera=FRONT, width=96, height=96)
    assert (smooth.hit_mask == raw.hit_mask).all() and np.array_equal(smooth.depth, raw.depth)  # same surface

    def roughness(frame) -> float:
        """Mean brightness change between neighbouring lit pixels."""
        gray = frame.rgb.astype(float).mean(-1)
        both = frame.hit_mask[1:, :] & frame.hit_mask[:-1, :]
        return float(np.abs(np.diff(gray, axis=0))[both].mean())

    assert roughness(smooth) < 0.6 * roughness(raw)


@pytest.mark.parametrize("baked", [True, False])
def test_sdf_cutaway_shows_a_flat_cap(baked):
    frame = render_frame(sdf, "sdf", FRONT, 64, 64, baked=baked, cutaway=Plane.axis("z", 0.1), resolution=65)
    # Rays straight down -z meet the cap at z = 0.1 (depth 2.9) inside the disc of radius sqrt(R^2 - 0.1^2).
    assert np.allclose(frame.depth[frame.cap_mask], 2.9, atol=2e-3)
    centres = (np.arange(64) + 0.5) / 32 - 1
    radius = np.hypot(centres[None, :], centres[:, None])
    disc = np.sqrt(R ** 2 - 0.1 ** 2)
    assert frame.cap_mask[radius < disc - 0.03].all() and not frame.cap_mask[radius > disc + 0.03].any()
    colors = frame.rgb[frame.cap_mask].astype(int)
    assert (colors[:, 0] > colors[:, 2]).all()  # red cap on a blue shape


@pytest.mark.parametrize("baked", [True, False])
def test_udf_shell_cut_open_shows_the_far_inner_side(baked):
    frame = render_frame(shell, "udf", FRONT, 64, 64, baked=baked, cutaway=Plane.axis("z", 0.1))
    assert not frame.cap_mask.any()
    # The central ray passes the cut at z = 0.1 and stops on the far side of the shell, z = -R.
    centres = (np.arange(64) + 0.5) / 32 - 1
    x, y = np.meshgrid(centres, centres[::-1])
    inner = np.hypot(x, y) < np.sqrt(R ** 2 - 0.1 ** 2) - 0.03  # rays through the opening
    assert frame.hit_mask[inner].all()
    z = 3.0 - frame.depth[inner]  # hit height: the far side of the shell, z = -sqrt(R^2 - r^2)
    far = -np.sqrt(R ** 2 - x[inner] ** 2 - y[inner] ** 2)
    assert np.abs(z - far).max() < 2 / 96 and (z < 0).all()


def test_occ_cutaway_is_capped_and_colours_follow_the_function():
    frame = render_frame(logits, "occ", FRONT, 48, 48, cutaway=Plane.axis("z", 0.1), resolution=49)
    assert frame.cap_mask[24, 24] and np.isclose(frame.depth[24, 24], 2.9, atol=0.01)
    mid = {}
    for function, fn in (("sdf", sdf), ("udf", shell), ("occ", logits)):
        mid[function] = render_inr(fn, function, FRONT, 16, 16, baked=False)[8, 8].astype(int)
    assert mid["sdf"][2] > mid["sdf"][0] and mid["udf"][0] > mid["udf"][2] and mid["occ"][1] > mid["occ"][0]
    thumb = render_thumbnail(sdf, "sdf", size=32, resolution=49)
    assert thumb.shape == (32, 32, 3) and tuple(thumb[0, 0]) == DEFAULT_STYLE.background
    recoloured = render_inr(sdf, "sdf", FRONT, 16, 16, baked=False, style=Style().with_colors(sdf=(0, 255, 0)))
    assert recoloured[8, 8, 1] > recoloured[8, 8, 0]


def test_the_dark_style_keeps_the_shape_and_darkens_only_the_background():
    light = render_frame(sdf, "sdf", FRONT, 24, 24, baked=False, cutaway=Plane.axis("z", 0.1))
    dark = render_frame(sdf, "sdf", FRONT, 24, 24, baked=False, cutaway=Plane.axis("z", 0.1), style=Style.on_dark())
    assert tuple(dark.rgb[0, 0]) == Style.on_dark().background and max(Style.on_dark().background) < 64
    assert (dark.hit_mask == light.hit_mask).all()
    assert (dark.rgb[dark.hit_mask] == light.rgb[light.hit_mask]).all()


def test_prepare_needs_and_checks_the_function():
    with pytest.raises(ValueError, match="say which implicit function"):
        prepare(sdf)
    baked = bake(sdf, "sdf", resolution=17)
    with pytest.raises(ValueError, match="encodes SDF, not UDF"):
        prepare(baked, "udf")
    assert prepare(baked)[1] is ImplicitFunction.SDF
    assert Plane.axis("x", 0.2).distance(torch.tensor([[1.0, 5.0, 5.0]])).item() == pytest.approx(0.8)
    with pytest.raises(ValueError, match="cut axis"):
        Plane.axis("w")


def test_depth_to_gray_puts_near_bright_and_background_black():
    frame = render_frame(sdf, "sdf", FRONT, 32, 32, baked=False)
    gray = depth_to_gray(frame.depth)
    assert gray[0, 0] == 0 and gray[16, 16] == gray.max()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_render_matches_cpu():
    cuda_sdf = bake(sdf, "sdf", resolution=49, device="cuda")
    assert cuda_sdf.values.is_cuda
    on_gpu = render_frame(cuda_sdf, None, Camera(), 48, 48, cutaway=Plane.axis("z", 0.1))
    on_cpu = render_frame(cuda_sdf.to("cpu"), None, Camera(), 48, 48, cutaway=Plane.axis("z", 0.1))
    assert (on_gpu.hit_mask == on_cpu.hit_mask).mean() > 0.99 and on_gpu.cap_mask.any()
