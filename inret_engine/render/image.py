"""Shaded images of one INR, with optional cutaways.

A cutaway removes the half-space on the positive side of a :class:`Plane`:

* SDF: trace ``max(sdf, plane)``, the CSG intersection with the kept half-space. The
  SDF's inside closes the shape, so the cut shows a flat *cap* (coloured ``style.cap``).
* UDF: trace ``max(udf, plane)``: on the removed side the value is at least the distance
  to the plane, so rays cross the removed half as empty space and stop on the first
  layer of the kept half, inner layers included (a car's seats, a mug's inner wall).
  A UDF has no inside, so there is no cap: that is what the view is for.
* Occ: ``min(logit, -k * plane)`` (inside > 0), capped like an SDF.

Rendering bakes the field first (:mod:`.bake`) unless ``baked=False``; pass a
:class:`~.bake.BakedField` to reuse a bake across frames (orbiting, moving the cut).

Example:
    >>> rgb = render_inr(lambda p: p.norm(dim=-1) - 0.5, "sdf", Camera(), 64, 64, baked=False)
    >>> rgb.shape, rgb.dtype
    ((64, 64, 3), dtype('uint8'))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..functions import ImplicitFunction
from .bake import DEFAULT_RESOLUTION, BakedField, bake, device_of
from .camera import Camera, rays
from .shading import DEFAULT_STYLE, Style, compose, depth_image, estimate_normals, light_direction, shade
from .tracing import PointFn, point_fn, ray_box, trace_surface

OCC_CUT_SLOPE = 50.0
"""Logits per unit of the half-space a cutaway intersects an occupancy field with."""

AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


@dataclasses.dataclass(frozen=True)
class Plane:
    """A cutting plane ``normal . x = offset``; points with ``normal . x > offset`` are removed.

    ``normal`` is normalised on use.

    Example:
        >>> Plane.axis("z", 0.1).distance(torch.tensor([[0.0, 0.0, 0.5]])).tolist()
        [0.4000000059604645]
    """

    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    offset: float = 0.0

    @classmethod
    def axis(cls, axis: str = "z", offset: float = 0.0) -> "Plane":
        """Remove where the coordinate ``axis`` exceeds ``offset``."""
        if axis not in AXES:
            raise ValueError(f"cut axis must be one of x, y, z, got {axis!r}")
        return cls(AXES[axis], float(offset))

    def distance(self, points: torch.Tensor) -> torch.Tensor:
        """``(..., 3) -> (...)`` signed distance, positive on the removed side."""
        n = torch.as_tensor(self.normal, dtype=points.dtype, device=points.device)
        norm = n.norm()
        if norm == 0:
            raise ValueError("a cutting plane needs a non-zero normal")
        return points @ (n / norm) - self.offset


@dataclasses.dataclass
class Frame:
    """A rendered view: colour, depth (``inf`` where missed), hit and cap masks, all ``(H, W, ...)``."""

    rgb: np.ndarray
    depth: np.ndarray
    hit_mask: np.ndarray
    cap_mask: np.ndarray


def prepare(source, function: ImplicitFunction | str | None = None, *, baked: bool = True,
            resolution: int = DEFAULT_RESOLUTION) -> tuple[PointFn, ImplicitFunction, BakedField | None]:
    """Turn what callers hold into a traceable ``(N, 3) -> (N,)`` function.

    Args:
        source: a :class:`~inret_engine.store.ShapeINR`, a batch-of-one ``Field``, a
            :class:`BakedField` or a ``(N, 3) -> (N,)`` callable.
        function: what ``source`` encodes (read from a ``ShapeINR`` / ``BakedField``).
        baked: bake a field that is not baked yet.
        resolution: lattice nodes per axis for baking.

    Returns:
        ``(fn, function, baked_field_or_None)``.
    """
    if hasattr(source, "to_field") and hasattr(source, "function"):
        function = _agree(source.function, function)
        source = source.to_field()
    if isinstance(source, BakedField):
        return source, _agree(source.function, function), source
    if function is None:
        raise ValueError("say which implicit function the field encodes (sdf, udf or occ)")
    function = ImplicitFunction.parse(function)
    if baked:
        b = bake(source, function, resolution)
        return b, function, b
    return point_fn(source), function, None


def _agree(declared, given) -> ImplicitFunction:
    declared = ImplicitFunction.parse(declared)
    if given is not None and ImplicitFunction.parse(given) is not declared:
        raise ValueError(f"the INR encodes {declared.value.upper()}, not {ImplicitFunction.parse(given).value.upper()}")
    return declared


def cut(fn: PointFn, function: ImplicitFunction, plane: Plane | None) -> PointFn:
    """``fn`` with the positive side of ``plane`` removed (see the module notes)."""
    if plane is None:
        return fn
    if function is ImplicitFunction.OCC:
        return lambda p: torch.minimum(fn(p), -OCC_CUT_SLOPE * plane.distance(p))
    return lambda p: torch.maximum(fn(p), plane.distance(p))


def cap_mask(fn: PointFn, function: ImplicitFunction, plane: Plane | None, points: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool: hit points on the cut face of a closed shape (never for a UDF)."""
    if plane is None or function is ImplicitFunction.UDF or len(points) == 0:
        return torch.zeros(len(points), dtype=torch.bool, device=points.device)
    values, d = fn(points), plane.distance(points)
    return (-OCC_CUT_SLOPE * d < values) if function is ImplicitFunction.OCC else (d > values)


NORMAL_STEP = {ImplicitFunction.SDF: 1.0, ImplicitFunction.OCC: 1.0, ImplicitFunction.UDF: 1.5}
"""Half-width of the central differences that give normals, in voxels of the field's lattice.

A baked field is trilinear per cell, so differences half a voxel wide see each cell's own
slope and a fitted field's grain at the lattice's finest scale: thumbnails looked pitted. One
voxel spans two cells (a UDF, whose normals are taken off its surface where a fitted one is
noisiest, 1.5). Looked at on 6 demo shapes of each function (``scripts/thumbnail_quality.py``).
"""


NORMAL_SMOOTHING = {ImplicitFunction.SDF: 1.0, ImplicitFunction.OCC: 1.5, ImplicitFunction.UDF: 1.5}
"""Width (Gaussian sigma, in voxels) of the blur of a baked lattice that normals are taken from.

Surfaces are traced on the lattice as baked, so silhouettes, thin parts and cuts stay where
the INR puts them; only shading reads the blurred copy. Fitted hash grids carry grain at
the lattice's finest scale, and fitted UDF and Occ fields bumps a little wider: lit as they
are, hash SDF bottles looked sand-blasted, UDF cars and Occ mugs hammered. Looked at on
demo INRs of every function, sigma 0 / 0.7 / 1 / 1.5 side by side; chair legs and airplane
tails keep their edges at these widths.
"""


def surface_normals(fn: PointFn, function: ImplicitFunction, points: torch.Tensor, dirs: torch.Tensor,
                    voxel: float) -> torch.Tensor:
    """``(N, 3)`` unit normals at hit points (central differences :data:`NORMAL_STEP` voxels wide).

    A UDF is not differentiable on its surface, and a baked one is blurred within a voxel
    or two of it, so its normals are taken before the hit, backed off along the ray until
    about 2.5 voxels from the surface (a first estimate gives the angle). Occ normals point
    down the logits.
    """
    h = NORMAL_STEP[function] * voxel
    if function is ImplicitFunction.UDF:
        first = estimate_normals(fn, points - 2.5 * voxel * dirs, h)
        cos = (first * dirs).sum(-1).abs().clamp_min(0.4).unsqueeze(-1)
        return estimate_normals(fn, points - 2.5 * voxel / cos * dirs, h)
    n = estimate_normals(fn, points, h)
    return -n if function is ImplicitFunction.OCC else n


@torch.no_grad()
def render_frame(source, function: ImplicitFunction | str | None = None, camera: Camera = Camera(),
                 width: int = 256, height: int = 256, *, baked: bool = True, resolution: int = DEFAULT_RESOLUTION,
                 cutaway: Plane | None = None, style: Style = DEFAULT_STYLE) -> Frame:
    """Trace, shade and assemble one view of an INR (see :func:`render_inr`); returns a :class:`Frame`."""
    fn, function, baked_field = prepare(source, function, baked=baked, resolution=resolution)
    device = device_of(baked_field if baked_field is not None else source)
    voxel = baked_field.voxel if baked_field is not None else 2.0 / (resolution - 1)
    r = rays(camera, width, height, device=device)
    box = baked_field.bounds if baked_field is not None else torch.tensor([[-1.0] * 3, [1.0] * 3])
    t_near, t_far = ray_box(r.origins, r.dirs, box[0].to(device), box[1].to(device))
    traced = cut(fn, function, cutaway)
    hits = trace_surface(traced, function, r.origins, r.dirs, voxel=voxel, t_near=t_near, t_far=t_far,
                         skip_fn=_skip(baked_field, cutaway, function))
    idx = torch.nonzero(hits.hit_mask).squeeze(1)
    points, dirs = hits.points[idx], r.dirs[idx]
    shading = traced if baked_field is None else cut(baked_field.smoothed(NORMAL_SMOOTHING[function]), function,
                                                      cutaway)
    normals = surface_normals(shading, function, points, dirs, voxel)
    base = torch.as_tensor(style.color(function), device=device).expand(len(idx), 3).clone()
    caps = cap_mask(fn, function, cutaway, points)
    base[caps] = torch.as_tensor(np.asarray(style.cap, dtype=np.float32) / 255.0, device=device)
    colors = shade(normals, dirs, base, light_direction(camera.basis(), style), style)
    cap_image = torch.zeros_like(hits.hit_mask)
    cap_image[idx[caps]] = True
    return Frame(rgb=compose(colors, hits.hit_mask, width, height, style.background),
                 depth=depth_image(hits.t, width, height),
                 hit_mask=hits.hit_mask.cpu().numpy().reshape(height, width),
                 cap_mask=cap_image.cpu().numpy().reshape(height, width))


def _skip(baked_field: BakedField | None, plane: Plane | None, function: ImplicitFunction) -> Callable | None:
    if baked_field is None or function is not ImplicitFunction.OCC:
        return None
    if plane is None:
        return baked_field.skip_distance
    return lambda p: torch.minimum(baked_field.skip_distance(p), plane.distance(p).abs())


def render_inr(source, function: ImplicitFunction | str | None = None, camera: Camera = Camera(),
               width: int = 256, height: int = 256, *, baked: bool = True, resolution: int = DEFAULT_RESOLUTION,
               cutaway: Plane | None = None, style: Style = DEFAULT_STYLE) -> np.ndarray:
    """Render one INR as a shaded RGB image.

    Args:
        source: ``ShapeINR``, batch-of-one ``Field``, :class:`BakedField` or ``(N, 3) -> (N,)`` callable.
        function: what ``source`` encodes (read from a ``ShapeINR`` / ``BakedField``).
        camera: view.
        width, height: image size in pixels.
        baked: trace a baked lattice (fast) rather than the network (exact, slow on CPU).
        resolution: lattice nodes per axis when baking here.
        cutaway: remove the positive side of this plane (SDF / Occ show a cap, UDF inner layers).
        style: colours and lights.

    Returns:
        ``(H, W, 3)`` uint8 RGB.

    Example:
        >>> img = render_inr(lambda p: p.norm(dim=-1) - 0.5, "sdf", cutaway=Plane.axis("z"))
        >>> img.shape
        (256, 256, 3)
    """
    return render_frame(source, function, camera, width, height, baked=baked, resolution=resolution,
                        cutaway=cutaway, style=style).rgb


def render_thumbnail(source, function: ImplicitFunction | str | None = None, *, size: int = 128,
                     camera: Camera = Camera(), **kwargs) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 view for galleries; other arguments as :func:`render_inr`."""
    return render_inr(source, function, camera, size, size, **kwargs)
