"""Orbit cameras and their primary rays.

Shapes are y-up (the demo shapes, ShapeNet and most PSB models), so a camera orbits the
y axis: ``azimuth`` turns from +z towards +x, ``elevation`` lifts above the xz plane.
Image row 0 is the top of the picture.

Example:
    >>> cam = Camera(azimuth=30.0, elevation=20.0)
    >>> r = rays(cam, 64, 48)
    >>> r.origins.shape, r.dirs.shape
    (torch.Size([3072, 3]), torch.Size([3072, 3]))
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

PAPER_ELEVATION_RAD = 0.65
"""INRet App. 7.4: 12 views "at a 0.65 elevation" on a circle 3 units away. We read 0.65
as radians (about 37.2 degrees): as degrees the views would be nearly edge-on."""

DEFAULT_FOV_DEG = 40.0
"""Vertical field of view: at distance 3 it shows +-1.1 units around the target, which
frames a shape normalised into ``[-0.9, 0.9]^3`` from the default view (a shape filling
the cube's corners could touch the edges from some sides)."""

MULTIVIEW_FOV_DEG = 50.0
"""Field of view of :func:`circle_cameras`: at distance 3 it shows +-1.4 units, room for
any normalised shape from any azimuth (the paper does not give one)."""


@dataclasses.dataclass(frozen=True)
class Camera:
    """A camera on a sphere around ``target``, looking at it.

    Attributes:
        azimuth: degrees around +y, from +z towards +x.
        elevation: degrees above the xz plane (kept within +-89.9).
        distance: distance from ``target``.
        fov_deg: vertical field of view of a perspective camera.
        ortho_scale: if set, an orthographic camera showing ``2 * ortho_scale`` world
            units vertically (``fov_deg`` is then ignored).
        target: the point looked at.
    """

    azimuth: float = 35.0
    elevation: float = 25.0
    distance: float = 3.0
    fov_deg: float = DEFAULT_FOV_DEG
    ortho_scale: float | None = None
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def position(self) -> np.ndarray:
        """``(3,)`` camera centre in world coordinates."""
        az = math.radians(self.azimuth)
        el = math.radians(max(-89.9, min(89.9, self.elevation)))
        offset = np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])
        return np.asarray(self.target, dtype=np.float64) + self.distance * offset

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit ``(right, up, forward)`` vectors, each ``(3,)``; forward points at the target."""
        forward = np.asarray(self.target, dtype=np.float64) - self.position
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        return right, np.cross(right, forward), forward


@dataclasses.dataclass
class Rays:
    """A bundle of rays: ``origins (N, 3)`` and unit ``dirs (N, 3)``."""

    origins: torch.Tensor
    dirs: torch.Tensor

    def __len__(self) -> int:
        return self.origins.shape[0]


def rays(camera: Camera, width: int, height: int, *, device: torch.device | str = "cpu") -> Rays:
    """One ray through the centre of each pixel, row-major from the top-left pixel.

    Args:
        camera: where to look from.
        width: image width ``W`` in pixels.
        height: image height ``H`` in pixels.
        device: where the tensors live.

    Returns:
        :class:`Rays` with ``origins`` and unit ``dirs`` of shape ``(H * W, 3)`` (float32).

    Example:
        >>> r = rays(Camera(azimuth=0.0, elevation=0.0), 3, 3)
        >>> r.dirs[4].tolist()  # centre pixel looks straight down -z
        [0.0, 0.0, -1.0]
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    right, up, forward = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in camera.basis())
    u = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2.0 - 1.0
    v = 1.0 - (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2.0
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    uu, vv = uu.reshape(-1, 1), vv.reshape(-1, 1)
    half_h = camera.ortho_scale if camera.ortho_scale is not None else math.tan(math.radians(camera.fov_deg) / 2)
    half_w = half_h * width / height
    centre = torch.as_tensor(camera.position, dtype=torch.float32, device=device)
    if camera.ortho_scale is not None:
        origins = centre + uu * half_w * right + vv * half_h * up
        dirs = forward.expand_as(origins).clone()
    else:
        dirs = forward + uu * half_w * right + vv * half_h * up
        dirs = dirs / dirs.norm(dim=-1, keepdim=True)
        origins = centre.expand_as(dirs).clone()
    return Rays(origins, dirs)


def circle_cameras(n: int = 12, *, elevation_deg: float = math.degrees(PAPER_ELEVATION_RAD),
                   distance: float = 3.0, fov_deg: float = MULTIVIEW_FOV_DEG) -> list[Camera]:
    """``n`` cameras evenly spaced in azimuth on a circle, as for INRet's multi-view baseline.

    Defaults follow the paper (App. 7.4): 12 views, 3 units away, elevation 0.65 rad
    (about 37.2 degrees; see :data:`PAPER_ELEVATION_RAD`), a :data:`MULTIVIEW_FOV_DEG` lens.

    Example:
        >>> [c.azimuth for c in circle_cameras(4)]
        [0.0, 90.0, 180.0, 270.0]
    """
    if n < 1:
        raise ValueError("need at least one view")
    return [Camera(azimuth=360.0 * i / n, elevation=elevation_deg, distance=distance, fov_deg=fov_deg)
            for i in range(n)]


def fit_distance(points: np.ndarray, center, direction, *, fov_deg: float, aspect: float = 1.0,
                 up=(0.0, 1.0, 0.0), margin: float = 0.05) -> float:
    """How far from ``center`` a perspective camera must stand to see every point.

    The camera sits at ``center + distance * direction`` (``direction`` need not be unit
    length), looks at ``center`` with ``up`` as its up hint, and has a vertical field of
    view ``fov_deg`` and a width / height ``aspect``. A point ``q`` (relative to ``center``)
    is in view when ``|q . up'| <= depth * tan(fov / 2)`` and ``|q . right| <= depth * aspect * tan(fov / 2)``,
    with ``depth = distance - q . direction``; the smallest such distance is returned,
    with ``margin`` (a fraction of the half-view) left free on every side. Unlike fitting
    the bounding sphere, this frames a tall shape in a wide view (or the reverse) as
    tightly as it can without cutting anything off.

    Args:
        points: ``(N, 3)`` points to frame (e.g. mesh vertices).
        center: ``(3,)`` the point looked at.
        direction: ``(3,)`` from ``center`` towards the camera.
        fov_deg: vertical field of view in degrees.
        aspect: viewport width / height.
        up: the world's up direction (it must not be parallel to ``direction``).
        margin: fraction of each half-view kept empty.

    Example:
        >>> pts = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])
        >>> round(fit_distance(pts, (0, 0, 0), (0, 0, 1), fov_deg=90.0, margin=0.0), 6)  # tan(45 deg) = 1
        1.0
    """
    f = np.asarray(direction, dtype=np.float64)
    f = f / np.linalg.norm(f)
    right = np.cross(-f, np.asarray(up, dtype=np.float64))
    right /= np.linalg.norm(right)
    up_vec = np.cross(right, -f)
    q = np.asarray(points, dtype=np.float64).reshape(-1, 3) - np.asarray(center, dtype=np.float64)
    if len(q) == 0:
        return 1.0
    t_v = math.tan(math.radians(fov_deg) / 2) * (1.0 - margin)
    t_h = t_v * aspect
    need = q @ f + np.maximum(np.abs(q @ up_vec) / t_v, np.abs(q @ right) / t_h)
    return float(max(need.max(), 1e-6))
