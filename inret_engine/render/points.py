"""Converting an INR to the inputs of the point-cloud and multi-view baselines.

Following INRet (section 5, App. 7.4): point clouds of SDF / UDF INRs come from tracing
rays cast from random points on a sphere around the shape towards random targets inside
the cube (sphere tracing, damped for a UDF), keeping the hits until there are enough;
an occupancy INR cannot be sphere traced, so its points are sampled on the marching-cubes
mesh of its lattice. Multi-view images are 12 shaded renders from cameras on a circle.

Tracing runs on a baked lattice (:mod:`.bake`) and the hits are then pulled onto the
exact INR's surface by two gradient projection steps
(:func:`~.surface.project_to_surface`), so the points are as accurate as the network.

Example:
    >>> pts = surface_point_cloud(lambda p: p.norm(dim=-1) - 0.5, "sdf", n=256)
    >>> pts.shape
    (256, 3)
"""

from __future__ import annotations

import numpy as np
import torch

from ..functions import ImplicitFunction
from .bake import DEFAULT_RESOLUTION, BakedField, device_of
from .camera import circle_cameras
from .image import prepare, render_inr
from .shading import DEFAULT_STYLE, Style
from .surface import mesh_from_lattice, project_to_surface, sample_triangles
from .tracing import point_fn, ray_box, trace_surface

RAY_SPHERE_RADIUS = 1.7
"""Rays start on this sphere (it encloses the ``[-0.9, 0.9]^3`` shapes with room to spare)."""


def surface_point_cloud(field, function: ImplicitFunction | str | None = None, n: int = 2048, *, seed: int = 0,
                        baked: BakedField | None = None, resolution: int = DEFAULT_RESOLUTION,
                        rays_per_round: int = 4096, max_rounds: int = 32, polish: bool = True) -> np.ndarray:
    """``n`` points on one INR's surface.

    Args:
        field: ``ShapeINR``, batch-of-one ``Field``, :class:`BakedField` or ``(N, 3) -> (N,)`` callable.
        function: what ``field`` encodes (read from a ``ShapeINR`` / ``BakedField``).
        n: number of points.
        seed: seeds the rays (or the mesh sampling); same seed, same points.
        baked: a bake of ``field`` to reuse; baked here when ``None``.
        resolution: lattice nodes per axis when baking here.
        rays_per_round: rays traced at a time.
        max_rounds: give up after this many rounds of rays.
        polish: project SDF / UDF hits onto the exact field's surface.

    Returns:
        ``(n, 3)`` float32 points in ``[-1, 1]^3`` (hits are resampled with replacement
        when fewer than ``n`` were found); ``(0, 3)`` if the INR has no surface.
    """
    if hasattr(field, "to_field") and hasattr(field, "function"):
        function, field = field.function, field.to_field()
    if baked is None:
        _, function, baked = prepare(field, function, baked=True, resolution=resolution)
    assert baked is not None, "prepare(baked=True) bakes"
    function = baked.function
    rng = np.random.default_rng(seed)
    if function is ImplicitFunction.OCC:
        mesh = mesh_from_lattice(baked.values.cpu().numpy(), 0.0)
        return np.zeros((0, 3), np.float32) if mesh is None else sample_triangles(*mesh, n, rng).astype(np.float32)
    pts = _ray_hits(baked, function, n, rng, rays_per_round, max_rounds)
    if len(pts) == 0:
        return np.zeros((0, 3), np.float32)
    if len(pts) < n:
        pts = pts[rng.integers(0, len(pts), size=n)]
    pts = pts[:n]
    if polish:
        pts = _polish(field, pts)
    return pts.astype(np.float32)


def _ray_hits(baked: BakedField, function: ImplicitFunction, n: int, rng: np.random.Generator,
              rays_per_round: int, max_rounds: int) -> np.ndarray:
    """Hits of random rays from the sphere of radius :data:`RAY_SPHERE_RADIUS` into the cube."""
    found, count = [], 0
    device = baked.device
    for _ in range(max_rounds):
        starts = rng.normal(size=(rays_per_round, 3))
        starts *= RAY_SPHERE_RADIUS / np.linalg.norm(starts, axis=1, keepdims=True)
        dirs = rng.uniform(-1.0, 1.0, size=(rays_per_round, 3)) - starts
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        o = torch.as_tensor(starts, dtype=torch.float32, device=device)
        d = torch.as_tensor(dirs, dtype=torch.float32, device=device)
        t_near, t_far = ray_box(o, d, baked.bounds[0], baked.bounds[1])
        hits = trace_surface(baked, function, o, d, voxel=baked.voxel, t_near=t_near, t_far=t_far)
        found.append(hits.points[hits.hit_mask].cpu().numpy())
        count += len(found[-1])
        if count >= n:
            break
    return np.concatenate(found) if found else np.zeros((0, 3))


def _polish(field, pts: np.ndarray) -> np.ndarray:
    """Two projection steps onto the exact field's zero level set; keeps a point where it got worse."""
    fn = point_fn(field)

    def batched(x: torch.Tensor) -> torch.Tensor:
        return fn(x.reshape(-1, 3)).reshape(x.shape[:-1])

    start = torch.as_tensor(pts, dtype=torch.float32, device=device_of(field))[None]
    moved, residual = project_to_surface(batched, start, steps=2)
    with torch.no_grad():
        before = batched(start).abs()
    better = (residual <= before)[0].cpu().numpy()
    out = pts.copy()
    out[better] = moved[0].cpu().numpy()[better]
    return out


def multiview_images(field, function: ImplicitFunction | str | None = None, n_views: int = 12, size: int = 224, *,
                     baked: BakedField | None = None, resolution: int = DEFAULT_RESOLUTION,
                     style: Style = DEFAULT_STYLE) -> np.ndarray:
    """Shaded views from :func:`~.camera.circle_cameras` (INRet's View-GCN input).

    Args:
        field: ``ShapeINR``, batch-of-one ``Field``, :class:`BakedField` or ``(N, 3) -> (N,)`` callable.
        function: what ``field`` encodes (read from a ``ShapeINR`` / ``BakedField``).
        n_views: cameras on the circle (12 in the paper).
        size: pixels per side (224 in the paper).
        baked: a bake of ``field`` to reuse; baked here when ``None``.
        resolution: lattice nodes per axis when baking here.
        style: colours and lights.

    Returns:
        ``(n_views, size, size, 3)`` uint8.
    """
    if baked is None:
        _, function, baked = prepare(field, function, baked=True, resolution=resolution)
    return np.stack([render_inr(baked, None, cam, size, size, style=style) for cam in circle_cameras(n_views)])
