"""Points on an INR's surface: marching cubes for SDF / Occ, gradient projection for UDF.

A UDF never changes sign, so marching cubes at its zero level finds nothing; instead
lattice points close to the surface are pulled onto it along the field's gradient,
``p <- p - f(p) * grad f / |grad f|`` (the NDF projection).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from skimage.measure import marching_cubes

from ..functions import ImplicitFunction

FieldFn = Callable[[torch.Tensor], torch.Tensor]
"""Batched field: ``(B, N, 3) -> (B, N)``."""


def lattice(resolution: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(R**3, 3)`` lattice points over ``[-1, 1]^3`` in C order (x slowest)."""
    t = torch.linspace(-1.0, 1.0, resolution, device=device)
    return torch.stack(torch.meshgrid(t, t, t, indexing="ij"), -1).reshape(-1, 3)


@torch.no_grad()
def sample_lattice(field: FieldFn, batch: int, resolution: int, *, chunk: int = 65536,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Field values on the lattice: ``(B, R, R, R)``, evaluated ``chunk`` points at a time."""
    pts = lattice(resolution, device=device)
    out = [field(pts[i:i + chunk].expand(batch, -1, -1)) for i in range(0, len(pts), chunk)]
    return torch.cat(out, 1).reshape(batch, resolution, resolution, resolution)


def mesh_from_lattice(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Marching cubes of ``(R, R, R)`` lattice values; vertices in ``[-1, 1]^3``, or None if no crossing."""
    if not (values.min() < level < values.max()):
        return None
    r = values.shape[0]
    verts, faces, _, _ = marching_cubes(values, level=level, spacing=(2.0 / (r - 1),) * 3)
    return verts - 1.0, faces.astype(np.int64)


def sample_triangles(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform by area on a triangle mesh: ``(V, 3), (F, 3) -> (n, 3)``."""
    tri = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if area.sum() <= 0:
        return np.zeros((0, 3))
    idx = rng.choice(len(faces), size=n, p=area / area.sum())
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tri[idx]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])


def project_to_surface(field: FieldFn, points: torch.Tensor, *, steps: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Pull points of each INR onto its zero level set along the gradient.

    Args:
        field: batched SDF or UDF.
        points: ``(B, N, 3)`` starting points near the surface.
        steps: projection iterations.

    Returns:
        Projected points ``(B, N, 3)`` and ``|f|`` there ``(B, N)`` (small where it worked).
    """
    p = points.detach().clone()
    for _ in range(steps):
        p.requires_grad_(True)
        with torch.enable_grad():
            f = field(p)
            (g,) = torch.autograd.grad(f.sum(), p)
        g = g / g.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        p = (p - f.unsqueeze(-1) * g).detach().clamp(-1.0, 1.0)
    with torch.no_grad():
        residual = field(p).abs()
    return p, residual


def surface_points(field: FieldFn, batch: int, function: ImplicitFunction, *, n_points: int = 5000,
                   resolution: int = 64, seed: int = 0) -> list[np.ndarray]:
    """``n_points`` surface samples of each of the ``batch`` INRs (an empty array where none is found).

    SDF / Occ: marching cubes at the function's level on a ``resolution^3`` lattice, then
    area-uniform samples. UDF: lattice points within 1.5 voxels, jittered, projected,
    kept where the residual is below a quarter voxel.
    """
    rng = np.random.default_rng(seed)
    values = sample_lattice(field, batch, resolution).cpu().numpy()
    if function is not ImplicitFunction.UDF:
        out = []
        for v in values:
            mesh = mesh_from_lattice(v, function.level)
            out.append(np.zeros((0, 3)) if mesh is None else sample_triangles(*mesh, n_points, rng))
        return out
    voxel = 2.0 / (resolution - 1)
    grid = lattice(resolution).numpy()
    starts = []
    for v in values:
        near = grid[v.reshape(-1) < 1.5 * voxel]
        if len(near) == 0:
            near = grid[np.argsort(v.reshape(-1))[:64]]
        pick = near[rng.integers(0, len(near), size=2 * n_points)]
        starts.append(pick + rng.normal(scale=0.3 * voxel, size=pick.shape))
    pts, res = project_to_surface(field, torch.as_tensor(np.stack(starts), dtype=torch.float32))
    out = []
    for p, r in zip(pts.numpy(), res.numpy()):
        good = p[r < 0.25 * voxel]
        out.append(good[:n_points] if len(good) else np.zeros((0, 3)))
    return out
