"""Normals, shading and image assembly for traced hits.

Normals come from central differences on a tetrahedron of 4 samples (4 evaluations per
point instead of 6). Shading is Lambert under a light fixed to the camera (upper left,
so every view is lit) plus a rim term that outlines silhouettes; surfaces are shaded two
sided, since a UDF has no outside. Each implicit function has its own base colour
(SDF blue, UDF orange, Occ green, configurable through :class:`Style`).

Example:
    >>> n = estimate_normals(lambda p: p.norm(dim=-1) - 0.5, torch.tensor([[0.5, 0.0, 0.0]]))
    >>> [round(v, 3) for v in n[0].tolist()]
    [1.0, 0.0, 0.0]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..functions import ImplicitFunction

RGB = tuple[int, int, int]

DEFAULT_COLORS: dict[str, RGB] = {"sdf": (74, 134, 214), "udf": (236, 139, 44), "occ": (78, 168, 92)}

DARK_BACKGROUND: RGB = (36, 38, 42)
"""A neutral dark grey: renders on it neither glare in a dark interface nor lose dark shading."""

TETRAHEDRON = torch.tensor([[1.0, -1.0, -1.0], [-1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, 1.0, 1.0]])


@dataclasses.dataclass(frozen=True)
class Style:
    """Colours and lighting of a rendered INR.

    Attributes:
        colors: base colour per implicit function value (``"sdf"``, ``"udf"``, ``"occ"``).
        cap: colour of the face a cutaway cuts through a closed (SDF / Occ) shape.
        background: colour where rays miss.
        ambient, diffuse, rim: light weights; ``rim`` brightens grazing angles.
        light: light direction in camera space ``(right, up, towards the viewer)``.
    """

    colors: tuple[tuple[str, RGB], ...] = tuple(DEFAULT_COLORS.items())
    cap: RGB = (206, 72, 72)
    background: RGB = (246, 246, 248)
    ambient: float = 0.28
    diffuse: float = 0.72
    rim: float = 0.3
    light: tuple[float, float, float] = (-0.45, 0.6, 0.66)

    @classmethod
    def on_dark(cls) -> "Style":
        """For images shown in a dark interface (the browser's cutaways): a dark neutral grey background."""
        return cls(background=DARK_BACKGROUND)

    def color(self, function: ImplicitFunction | str) -> np.ndarray:
        """``(3,)`` float base colour in ``[0, 1]`` for ``function``."""
        key = ImplicitFunction.parse(function).value
        return np.asarray(dict(self.colors)[key], dtype=np.float32) / 255.0

    def with_colors(self, **colors: RGB) -> "Style":
        """A copy with some function colours replaced, e.g. ``style.with_colors(sdf=(0, 0, 255))``."""
        merged = {**dict(self.colors), **colors}
        return dataclasses.replace(self, colors=tuple(merged.items()))


DEFAULT_STYLE = Style()


def estimate_normals(fn: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, h: float = 1e-3) -> torch.Tensor:
    """Unit gradient direction of ``fn`` at ``points`` by tetrahedral central differences.

    Args:
        fn: ``(N, 3) -> (N,)`` field.
        points: ``(N, 3)``.
        h: difference step (about half a voxel for a baked field).

    Returns:
        ``(N, 3)`` unit vectors along ``grad fn`` (outward for an SDF; flip for logits).
        Not differentiable.
    """
    if points.shape[0] == 0:
        return points.clone()
    k = TETRAHEDRON.to(points.device, points.dtype)
    with torch.no_grad():
        samples = fn((points.unsqueeze(1) + h * k).reshape(-1, 3)).reshape(-1, 4)
    grad = samples @ k
    return grad / grad.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def light_direction(basis: tuple[np.ndarray, np.ndarray, np.ndarray], style: Style = DEFAULT_STYLE) -> np.ndarray:
    """World-space unit direction towards the light for a camera ``(right, up, forward)`` basis."""
    right, up, forward = basis
    lx, ly, lz = style.light
    d = lx * right + ly * up - lz * forward
    return d / np.linalg.norm(d)


def shade(normals: torch.Tensor, dirs: torch.Tensor, base: np.ndarray | torch.Tensor, light: np.ndarray,
          style: Style = DEFAULT_STYLE) -> torch.Tensor:
    """Two-sided Lambert + rim shading.

    Args:
        normals: ``(N, 3)`` unit normals (either orientation).
        dirs: ``(N, 3)`` unit view rays (from the eye).
        base: ``(3,)`` or ``(N, 3)`` base colours in ``[0, 1]``.
        light: ``(3,)`` unit direction towards the light.
        style: light weights.

    Returns:
        ``(N, 3)`` colours in ``[0, 1]``.
    """
    facing = (normals * dirs).sum(-1, keepdim=True)
    n = torch.where(facing > 0, -normals, normals)
    l_vec = torch.as_tensor(light, dtype=n.dtype, device=n.device)
    lambert = (n @ l_vec).clamp_min(0.0).unsqueeze(-1)
    rim = (1.0 - (n * dirs).sum(-1, keepdim=True).abs()).clamp(0.0, 1.0) ** 3
    base = torch.as_tensor(base, dtype=n.dtype, device=n.device)
    return (base * (style.ambient + style.diffuse * lambert) + style.rim * rim).clamp(0.0, 1.0)


def compose(colors: torch.Tensor, hit_mask: torch.Tensor, width: int, height: int,
            background: tuple[int, int, int] = DEFAULT_STYLE.background) -> np.ndarray:
    """Scatter ``(M, 3)`` hit colours in ``[0, 1]`` into an RGB uint8 image ``(H, W, 3)``.

    ``hit_mask`` is ``(H * W,)`` bool with ``M`` true entries, row-major from the top left.
    """
    image = np.empty((height * width, 3), dtype=np.uint8)
    image[:] = np.asarray(background, dtype=np.uint8)
    mask = hit_mask.cpu().numpy()
    image[mask] = (colors.detach().cpu().numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
    return image.reshape(height, width, 3)


def depth_image(t: torch.Tensor, width: int, height: int) -> np.ndarray:
    """``(H * W,)`` ray distances -> ``(H, W)`` float32 depth image (``inf`` where missed)."""
    return t.detach().float().cpu().numpy().reshape(height, width)


def depth_to_gray(depth: np.ndarray) -> np.ndarray:
    """``(H, W)`` depth -> uint8 grey, near bright and far dark, background black."""
    finite = np.isfinite(depth)
    out = np.zeros(depth.shape, dtype=np.uint8)
    if finite.any():
        lo, hi = depth[finite].min(), depth[finite].max()
        scaled = 1.0 - (depth[finite] - lo) / max(hi - lo, 1e-6)
        out[finite] = (40 + 215 * scaled).astype(np.uint8)
    return out
