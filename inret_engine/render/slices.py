"""Axis-aligned slices of an INR's field, as values and as colour images.

A slice through ``axis = offset`` is a ``(R, R)`` array: row 0 is the top of the image.
Image axes per slice axis (``u`` left to right, ``v`` bottom to top):

====  =====  =====
axis    u      v
====  =====  =====
x       z      y
y       x      z
z       x      y
====  =====  =====

Colour maps: SDF diverging (blue inside, orange outside, white at 0, on a square-root
scale so the thin insides of real shapes still read blue, with faint bands every 0.05
so the distance structure shows), UDF sequential (dark at the surface, light
at and beyond ``UDF_CLAMP``), Occ sequential in probability ``sigmoid(logit)``. The
surface is drawn in a contrasting colour (black, cyan, magenta): the zero contour for
SDF and Occ (logit 0),
and ``udf < level`` (0.01 by default) for a UDF.

A :func:`colour_bar` is the same colouring along a line of values, with tick values, so
a viewer can say what a colour means.

Example:
    >>> values = field_slice(lambda p: p.norm(dim=-1) - 0.5, "sdf", "z", 0.0, resolution=65)
    >>> slice_image(values, "sdf").shape
    (65, 65, 3)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..functions import UDF_CLAMP, ImplicitFunction
from .bake import device_of
from .tracing import point_fn

SLICE_AXES = {"x": (2, 1, 0), "y": (0, 2, 1), "z": (0, 1, 2)}
"""``axis -> (u, v, normal)`` coordinate indices."""

UDF_LEVEL = 0.01
SDF_LIMIT = 0.5
BAND_PERIOD = 0.05

_SDF_STOPS = (np.array([-1.0, -0.5, 0.0, 0.5, 1.0]),
              np.array([[23, 64, 140], [90, 150, 220], [250, 250, 250], [240, 150, 70], [150, 50, 20]]))
_UDF_STOPS = (np.array([0.0, 0.25, 0.5, 0.75, 1.0]),
              np.array([[12, 8, 40], [90, 20, 110], [190, 60, 80], [245, 150, 60], [252, 240, 190]]))
_OCC_STOPS = (np.array([0.0, 0.5, 1.0]), np.array([[250, 250, 250], [150, 205, 150], [20, 110, 50]]))
_CONTOUR = {ImplicitFunction.SDF: (0, 0, 0), ImplicitFunction.UDF: (80, 240, 255), ImplicitFunction.OCC: (220, 30, 140)}


def slice_points(axis: str = "z", offset: float = 0.0, resolution: int = 256, *, extent: float = 1.0,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """``(R, R, 3)`` sample points of a slice: pixel ``[i, j]`` is at ``u = u_j``, ``v = v_i``.

    ``u`` runs over ``linspace(-extent, extent, R)`` left to right, ``v`` the same top (``+extent``)
    to bottom.
    """
    if axis not in SLICE_AXES:
        raise ValueError(f"slice axis must be one of x, y, z, got {axis!r}")
    if resolution < 2:
        raise ValueError("a slice needs at least 2x2 pixels")
    iu, iv, inormal = SLICE_AXES[axis]
    u = torch.linspace(-extent, extent, resolution, device=device)
    vv, uu = torch.meshgrid(u.flip(0), u, indexing="ij")
    pts = torch.empty(resolution, resolution, 3, device=device)
    pts[..., iu], pts[..., iv], pts[..., inormal] = uu, vv, float(offset)
    return pts


@torch.no_grad()
def field_slice(field, function: ImplicitFunction | str | None = None, axis: str = "z", offset: float = 0.0,
                resolution: int = 256, *, extent: float = 1.0) -> np.ndarray:
    """The INR's raw values on a slice (SDF / UDF distances, Occ logits).

    Args:
        field: ``ShapeINR``, batch-of-one ``Field``, baked field or ``(N, 3) -> (N,)`` callable.
        function: what ``field`` encodes (checked against a ``ShapeINR`` / baked field).
        axis: ``"x"``, ``"y"`` or ``"z"``.
        offset: where the slice cuts that axis.
        resolution: pixels per side ``R``.
        extent: half-width of the slice (1.0 covers the INR's domain).

    Returns:
        ``(R, R)`` float32; see :func:`slice_points` for the layout.
    """
    if hasattr(field, "to_field") and hasattr(field, "function"):
        _same(field.function, function)
        field = field.to_field()
    _same(getattr(field, "function", None), function)
    fn = point_fn(field)
    pts = slice_points(axis, offset, resolution, extent=extent, device=device_of(field)).reshape(-1, 3)
    values = torch.cat([fn(pts[i:i + 65536]).float() for i in range(0, len(pts), 65536)])
    return values.reshape(resolution, resolution).cpu().numpy()


def _same(declared, given) -> None:
    if declared is None or given is None:
        return
    if ImplicitFunction.parse(declared) is not ImplicitFunction.parse(given):
        raise ValueError(f"the INR encodes {ImplicitFunction.parse(declared).value.upper()}, "
                         f"not {ImplicitFunction.parse(given).value.upper()}")


def contour_mask(values: np.ndarray, function: ImplicitFunction | str, level: float | None = None) -> np.ndarray:
    """``(R, R)`` bool: pixels on the surface.

    SDF / Occ: of each pair of 4-neighbours on opposite sides of ``level`` (default 0),
    the one closer to it. UDF: pixels below ``level`` (default 0.01), plus such crossings.
    """
    function = ImplicitFunction.parse(function)
    if level is None:
        level = UDF_LEVEL if function is ImplicitFunction.UDF else 0.0
    d = np.asarray(values, dtype=np.float64) - level
    mask = d < 0 if function is ImplicitFunction.UDF else np.zeros(d.shape, dtype=bool)
    for axis in (0, 1):
        a, b = [slice(None)] * 2, [slice(None)] * 2
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        da, db = d[tuple(a)], d[tuple(b)]
        cross = (da < 0) != (db < 0)
        mask[tuple(a)] |= cross & (np.abs(da) <= np.abs(db))
        mask[tuple(b)] |= cross & (np.abs(db) < np.abs(da))
    return mask


def _ramp(t: np.ndarray, stops: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    x, colors = stops
    return np.stack([np.interp(t, x, colors[:, c]) for c in range(3)], -1)


def slice_image(values: np.ndarray, function: ImplicitFunction | str, *, level: float | None = None,
                limit: float | None = None, contour: bool = True) -> np.ndarray:
    """Colour a slice of raw values.

    Args:
        values: ``(R, R)`` from :func:`field_slice`.
        function: what the values encode.
        level: surface level for the contour (default 0, or 0.01 for a UDF).
        limit: value mapped to the end of the colour map (SDF default 0.5, UDF
            ``UDF_CLAMP``, beyond which a fitted UDF means only "far"; Occ uses probabilities).
        contour: draw the surface.

    Returns:
        ``(R, R, 3)`` uint8 RGB.
    """
    function = ImplicitFunction.parse(function)
    v = np.asarray(values, dtype=np.float64)
    if function is ImplicitFunction.SDF:
        t = np.clip(v / (limit or SDF_LIMIT), -1.0, 1.0)
        rgb = _ramp(np.sign(t) * np.sqrt(np.abs(t)), _SDF_STOPS)  # sqrt: thin insides still read blue
        rgb *= (0.9 + 0.1 * np.cos(2.0 * np.pi * v / BAND_PERIOD))[..., None]
    elif function is ImplicitFunction.UDF:
        rgb = _ramp(np.clip(v / (limit or UDF_CLAMP), 0.0, 1.0), _UDF_STOPS)
    else:
        rgb = _ramp(1.0 / (1.0 + np.exp(-np.clip(v, -60, 60))), _OCC_STOPS)
    out = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    if contour:
        out[contour_mask(v, function, level)] = _CONTOUR[function]
    return out


_TICKS = {ImplicitFunction.SDF: (-1.0, -0.2, 0.0, 0.2, 1.0), ImplicitFunction.UDF: (0.0, 0.25, 0.5, 0.75, 1.0),
          ImplicitFunction.OCC: (0.0, 0.25, 0.5, 0.75, 1.0)}
"""Tick values as fractions of the limit (SDF, UDF) or as probabilities (Occ)."""
_BAR_LABELS = {ImplicitFunction.SDF: "signed distance (− inside)",
               ImplicitFunction.UDF: "unsigned distance (end: far)",
               ImplicitFunction.OCC: "probability of inside"}


@dataclasses.dataclass(frozen=True)
class ColourBar:
    """The colours of :func:`slice_image` along a line of values, left (low) to right (high).

    Attributes:
        rgb: ``(L, 3)`` uint8, exactly what :func:`slice_image` paints for :attr:`values`.
        values: ``(L,)`` the value at each position (distances; Occ: probabilities).
        ticks: ``(value, position)`` pairs, position in ``[0, 1]`` along the bar.
        surface: position of the surface level (where the slice draws its contour).
        contour: RGB of the contour line in the slice.
        label: what the values are, in words.
    """

    rgb: np.ndarray
    values: np.ndarray
    ticks: tuple[tuple[float, float], ...]
    surface: float
    contour: tuple[int, int, int]
    label: str


def colour_bar(function: ImplicitFunction | str, length: int = 256, *, limit: float | None = None,
               level: float | None = None) -> ColourBar:
    """The colour map of a slice of ``function`` as a bar with tick values (the slice's legend).

    Args:
        function: what the slice shows.
        length: colours along the bar ``L`` (at least 2).
        limit, level: as for :func:`slice_image` (the value at the bar's ends; the surface level).

    Returns:
        A :class:`ColourBar`. SDF runs from ``-limit`` to ``+limit`` on the slice's
        square-root scale (0 in the middle), UDF from 0 to ``limit`` (``UDF_CLAMP``), Occ
        over probabilities 0 to 1.

    Example:
        >>> bar = colour_bar("sdf", 5)
        >>> bar.rgb.shape, bar.values.round(3).tolist(), bar.surface
        ((5, 3), [-0.5, -0.125, 0.0, 0.125, 0.5], 0.5)
        >>> [(v, round(p, 3)) for v, p in colour_bar("udf").ticks][:3]
        [(0.0, 0.0), (0.025, 0.25), (0.05, 0.5)]
    """
    function = ImplicitFunction.parse(function)
    if length < 2:
        raise ValueError("a colour bar needs at least 2 colours")
    pos = np.linspace(0.0, 1.0, length)
    if function is ImplicitFunction.SDF:  # the slice's square-root scale: t = sign(v) sqrt(|v| / limit)
        lim = limit or SDF_LIMIT
        t = 2 * pos - 1
        values = raw = np.sign(t) * t ** 2 * lim
        ticks = tuple((round(f * lim, 6), float((np.sign(f) * np.sqrt(abs(f)) + 1) / 2)) for f in _TICKS[function])
        lv = level or 0.0
        surface = (np.sign(lv) * np.sqrt(min(1.0, abs(lv) / lim)) + 1) / 2
    elif function is ImplicitFunction.UDF:
        lim = limit or UDF_CLAMP
        values = raw = pos * lim
        ticks = tuple((round(f * lim, 6), f) for f in _TICKS[function])
        surface = min(1.0, (UDF_LEVEL if level is None else level) / lim)
    else:
        values = pos
        raw = np.log(np.clip(pos, 1e-9, 1 - 1e-9) / np.clip(1 - pos, 1e-9, 1))  # the logits slice_image expects
        ticks = tuple((f, f) for f in _TICKS[function])
        surface = 1.0 / (1.0 + np.exp(-(level or 0.0)))
    rgb = slice_image(raw[None, :], function, limit=limit, contour=False)[0]
    return ColourBar(rgb, values, ticks, float(surface), _CONTOUR[function], _BAR_LABELS[function])
