"""The parts the procedural demo shapes are built from.

Three layers: primitives (box, cylinder, lathe, prism, tube, cup...), each a
:class:`Part`, a closed triangle surface with outward normals, so its
generalised winding number is 1 inside and 0 outside (overlapping parts are
fine downstream, where winding > 0.5 is inside); a small :class:`Assembly` that
collects parts and probe points; and object parts shared by the categories in
:mod:`inret_engine.data.demo_shapes` (wings, tails, engines, chair backs and legs,
table legs), which add to an assembly from a random generator.

Reproducibility: trig tables come from Python's :mod:`math` and are snapped to
a binary grid, and every transform is written as element-wise numpy arithmetic
(no BLAS matrix products, whose rounding can depend on the CPU), so the same
parameters give the same vertices on any machine.

Example:
    >>> part = cylinder((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), radius=0.1)
    >>> signed_volume(part) > 0
    True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

_TRIG_GRID = 2.0**30


class Part(NamedTuple):
    """A closed triangle surface.

    Attributes:
        vertices: ``(V, 3)`` float64 positions.
        faces: ``(F, 3)`` int64 vertex indices, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    faces: np.ndarray


@dataclasses.dataclass(frozen=True)
class Probe:
    """A hand-picked point with its known inside/outside answer.

    Attributes:
        label: What the point is, e.g. ``"seat"`` or ``"mug cavity"``.
        point: ``(3,)`` position in the same frame as the mesh.
        inside: True where the winding number must exceed 0.5.
    """

    label: str
    point: np.ndarray
    inside: bool


def _snap(values: ArrayLike) -> np.ndarray:
    """Round trig values to a binary grid so libm differences vanish."""
    return np.round(np.asarray(values, dtype=np.float64) * _TRIG_GRID) / _TRIG_GRID


def _circle(sections: int) -> np.ndarray:
    """``(sections, 2)`` table of ``(cos, sin)`` around the unit circle."""
    angles = [2.0 * math.pi * k / sections for k in range(sections)]
    return _snap([[math.cos(a), math.sin(a)] for a in angles])


def signed_volume(part: Part) -> float:
    """Signed enclosed volume; positive for an outward-oriented closed part."""
    v0, v1, v2 = (part.vertices[part.faces[:, k]] for k in range(3))
    return float(np.sum(np.einsum("ij,ij->i", v0, np.cross(v1, v2)))) / 6.0


def _oriented(vertices: ArrayLike, faces: ArrayLike) -> Part:
    """Flip all faces where needed so the part encloses positive volume."""
    part = Part(np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64))
    if signed_volume(part) < 0:
        part = Part(part.vertices, part.faces[:, ::-1].copy())
    return part


def polar(angle: float) -> tuple[float, float]:
    """``(cos, sin)`` of ``angle``, snapped like every other trig value here."""
    c, s = _snap([math.cos(angle), math.sin(angle)])
    return float(c), float(s)


def rotation(axis: str, angle: float) -> np.ndarray:
    """``(3, 3)`` right-handed rotation by ``angle`` radians about ``"x"``, ``"y"`` or ``"z"``."""
    c, s = polar(angle)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    matrix = np.eye(3)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = c, -s, s, c
    return matrix


def apply(points: np.ndarray, matrix: np.ndarray, offset: ArrayLike = (0, 0, 0)) -> np.ndarray:
    """``matrix @ p + offset`` for each row of ``points`` ``(N, 3)``, element-wise."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    m, o = matrix, np.asarray(offset, dtype=np.float64).reshape(3)
    cols = [p[:, 0] * m[i, 0] + p[:, 1] * m[i, 1] + p[:, 2] * m[i, 2] + o[i] for i in range(3)]
    return np.stack(cols, axis=1)


def transform(part: Part, matrix: np.ndarray, offset: ArrayLike = (0, 0, 0)) -> Part:
    """Apply a linear map and translation; re-orients if the map is a reflection."""
    return _oriented(apply(part.vertices, matrix, offset), part.faces)


def rotate(part: Part, axis: str, angle: float, pivot: ArrayLike = (0, 0, 0)) -> Part:
    """Rotate ``part`` about an axis through ``pivot``."""
    pivot = np.asarray(pivot, dtype=np.float64)
    moved = Part(part.vertices - pivot, part.faces)
    return transform(moved, rotation(axis, angle), pivot)


def scale(part: Part, factors: Sequence[float], offset: ArrayLike = (0, 0, 0)) -> Part:
    """Scale per axis (negative factors mirror), then translate."""
    return transform(part, np.diag(np.asarray(factors, dtype=np.float64)), offset)


def lathe(profile: ArrayLike, sections: int = 32, closed: bool = False) -> Part:
    """Surface of revolution about the +y axis.

    Args:
        profile: ``(K, 2)`` points ``(radius, y)``. An open profile must start and
            end on the axis (radius 0) and encloses a solid (bottle, cup with its
            cavity open at the top). Interior points need radius > 0.
        sections: Segments around the axis.
        closed: The profile is a loop with every radius > 0, giving a ring
            (lamp shade, tyre).

    Returns:
        The closed, outward-oriented part.
    """
    circle = _circle(sections)
    rows, poles, chunks, count = [], [], [], 0
    for radius, y in np.asarray(profile, dtype=np.float64):
        poles.append(radius == 0.0)
        if radius == 0.0:
            chunks.append(np.array([[0.0, y, 0.0]]))
            rows.append(np.full(sections, count))
            count += 1
        else:
            ring = np.stack([radius * circle[:, 0], np.full(sections, y), radius * circle[:, 1]], axis=1)
            chunks.append(ring)
            rows.append(np.arange(count, count + sections))
            count += sections
    pairs = [(k, k + 1) for k in range(len(rows) - 1)] + ([(len(rows) - 1, 0)] if closed else [])
    faces = []
    for a, b in pairs:
        ra, rb = rows[a], rows[b]
        ra1, rb1 = np.roll(ra, -1), np.roll(rb, -1)
        if not poles[b]:
            faces.append(np.stack([ra, rb, rb1], axis=1))
        if not poles[a]:
            faces.append(np.stack([ra, rb1, ra1], axis=1))
    return _oriented(np.concatenate(chunks), np.concatenate(faces))


def box(size: Sequence[float], center: Sequence[float] = (0, 0, 0)) -> Part:
    """Axis-aligned box of extents ``size`` around ``center``."""
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    vertices = corners * np.asarray(size, dtype=np.float64) + np.asarray(center, dtype=np.float64)
    faces = [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
             [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
    return _oriented(vertices, faces)


def align_y(direction: np.ndarray) -> np.ndarray:
    """Rotation taking +y onto the unit vector ``direction`` (Rodrigues)."""
    dx, dy, dz = (float(v) for v in direction)
    if dy < -1.0 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    k = 1.0 / (1.0 + dy)
    # Axis y x d = (dz, 0, -dx); closed form of R = I + [v]x + [v]x^2 / (1 + c).
    return np.array([
        [1.0 - dx * dx * k, dx, -dx * dz * k],
        [-dx, dy, -dz],
        [-dx * dz * k, dz, 1.0 - dz * dz * k],
    ])


def cylinder(p0: ArrayLike, p1: ArrayLike, radius: float, sections: int = 24) -> Part:
    """Capped cylinder whose axis runs from ``p0`` to ``p1``."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    axis = p1 - p0
    length = math.sqrt(float(np.sum(axis * axis)))
    part = lathe([(0.0, 0.0), (radius, 0.0), (radius, length), (0.0, length)], sections)
    return transform(part, align_y(axis / length), p0)


def frustum(y0: float, y1: float, r0: float, r1: float, sections: int = 32) -> Part:
    """Solid cone frustum about the y axis from height ``y0`` (radius ``r0``) to ``y1``."""
    return lathe([(0.0, y0), (r0, y0), (r1, y1), (0.0, y1)], sections)


def ellipsoid(center: ArrayLike, radii: Sequence[float], sections: int = 24, rings: int = 12) -> Part:
    """Ellipsoid with semi-axes ``radii`` around ``center``."""
    angles = [math.pi * k / rings for k in range(rings + 1)]
    profile = _snap([[math.sin(a), -math.cos(a)] for a in angles])
    profile[0, 0] = profile[-1, 0] = 0.0
    return scale(lathe(profile, sections), radii, center)


def prism(polygon: Sequence[Sequence[float]], depth: tuple[float, float], axes: str = "xyz") -> Part:
    """Extrude a strictly convex polygon.

    Args:
        polygon: ``(K, 2)`` corners of a strictly convex polygon in the plane of
            the first two named axes, in either winding order.
        depth: ``(w0, w1)`` extent along the third named axis.
        axes: Which world axis each local coordinate ``(u, v, w)`` becomes,
            e.g. ``"xzy"`` draws the polygon in the x-z plane and extrudes along y.

    Returns:
        The closed, outward-oriented part.
    """
    poly = np.asarray(polygon, dtype=np.float64)
    k = len(poly)
    local = np.concatenate([np.column_stack([poly, np.full(k, w)]) for w in depth])
    vertices = np.zeros_like(local)
    for src, name in enumerate(axes):
        vertices[:, "xyz".index(name)] = local[:, src]
    faces = [[0, i + 1, i] for i in range(1, k - 1)] + [[k, k + i, k + i + 1] for i in range(1, k - 1)]
    for i in range(k):
        j = (i + 1) % k
        faces += [[i, j, k + j], [i, k + j, k + i]]
    return _oriented(vertices, faces)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of two 3-vectors in a fixed summation order (no BLAS)."""
    return float(a[0] * b[0] + a[1] * b[1] + a[2] * b[2])


def tube(path: ArrayLike, radius: float, sections: int = 12) -> Part:
    """Capped tube of circular section swept along a smooth polyline ``(N, 3)``."""
    path = np.asarray(path, dtype=np.float64)
    tangents = np.gradient(path, axis=0)
    tangents /= np.sqrt(np.sum(tangents * tangents, axis=1, keepdims=True))
    seed = np.array([0.0, 0.0, 1.0]) if abs(tangents[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    circle = _circle(sections)
    normal, rings = seed, []
    for point, tangent in zip(path, tangents):
        normal = normal - _dot(normal, tangent) * tangent
        normal = normal / math.sqrt(_dot(normal, normal))
        binormal = np.cross(tangent, normal)
        rings.append(point + radius * (circle[:, :1] * normal + circle[:, 1:] * binormal))
    n = len(path)
    vertices = np.concatenate(rings + [path[:1], path[-1:]])
    idx = np.arange(n * sections).reshape(n, sections)
    faces = []
    for a, b in zip(idx[:-1], idx[1:]):
        faces += [np.stack([a, b, np.roll(b, -1)], 1), np.stack([a, np.roll(b, -1), np.roll(a, -1)], 1)]
    start, end = n * sections, n * sections + 1
    faces.append(np.stack([np.full(sections, start), idx[0], np.roll(idx[0], -1)], 1))
    faces.append(np.stack([np.full(sections, end), np.roll(idx[-1], -1), idx[-1]], 1))
    return _oriented(vertices, np.concatenate(faces))


def cup(outer: ArrayLike, wall: float, floor: float, sections: int = 32) -> Part:
    """Solid-walled vessel open at the top, its cavity outside the surface.

    Args:
        outer: ``(K, 2)`` outer profile ``(radius, y)``, radius > 0, y rising from
            the bottom (y = 0 at the first point) to the rim.
        wall: Wall thickness, measured radially.
        floor: Height of the cavity floor above the bottom.
        sections: Segments around the axis.

    Returns:
        A closed part whose winding number is 0 in the cavity.
    """
    outer = np.asarray(outer, dtype=np.float64)
    inner = [(r - wall, y) for r, y in outer[::-1] if y > floor]
    floor_radius = float(np.interp(floor, outer[:, 1], outer[:, 0])) - wall
    profile = [(0.0, outer[0, 1]), *map(tuple, outer), *inner, (floor_radius, floor), (0.0, floor)]
    return lathe(profile, sections)


def round_corners(points: ArrayLike, radius: float, steps: int = 4) -> np.ndarray:
    """Replace each interior corner of a polyline ``(N, 3)`` by a quadratic arc."""
    pts = np.asarray(points, dtype=np.float64)
    out = [pts[0]]
    for prev, corner, nxt in zip(pts[:-2], pts[1:-1], pts[2:]):
        a = corner + (prev - corner) * (radius / math.sqrt(_dot(prev - corner, prev - corner)))
        b = corner + (nxt - corner) * (radius / math.sqrt(_dot(nxt - corner, nxt - corner)))
        for k in range(steps + 1):
            t = k / steps
            out.append((1 - t) ** 2 * a + 2 * t * (1 - t) * corner + t**2 * b)
    out.append(pts[-1])
    return np.array(out)


def merge(parts: Sequence[Part]) -> Part:
    """Concatenate parts into one triangle soup (no vertex welding)."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    vertices = np.concatenate([p.vertices for p in parts])
    faces = np.concatenate([p.faces + off for p, off in zip(parts, offsets)])
    return Part(vertices, faces)


# ------------------------------------------------------------ assembly helpers
class Assembly:
    """Parts and probe points collected while building one demo shape."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.probes: list[Probe] = []

    def add(self, *parts: Part) -> None:
        """Append closed parts (they may overlap)."""
        self.parts.extend(parts)

    def probe(self, label: str, point: Sequence[float], inside: bool) -> None:
        """Record a point whose inside/outside answer is known by construction."""
        self.probes.append(Probe(label, np.asarray(point, dtype=np.float64), inside))


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """One draw from ``U(lo, hi)`` as a Python float."""
    return float(rng.uniform(lo, hi))


def pick(rng: np.random.Generator, options: tuple):
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def ease(r0: float, r1: float, y0: float, y1: float, n: int = 4) -> list:
    """Profile points easing from ``(r0, y0)`` to ``(r1, y1)`` (cosine shoulder)."""
    out = []
    for k in range(1, n + 1):
        t = (1 - polar(math.pi * k / n)[0]) / 2
        out.append((r0 + (r1 - r0) * t, y0 + (y1 - y0) * k / n))
    return out


# ---------------------------------------------------------------- object parts
def planform(x_le: float, chord: float, span: float, sweep: float, taper: float) -> list:
    """Half-wing outline in the x-z plane: root leading edge ``x_le``, sweep in degrees."""
    tip = x_le - span * math.tan(math.radians(sweep))
    return [(x_le, 0.0), (x_le - chord, 0.0), (tip - taper * chord, span), (tip, span)]


def mirrored_wing(poly: list, y: float, thick: float, dihedral: float) -> list[Part]:
    """Left and right wing slabs of a half-wing outline at height ``y``."""
    wing = rotate(prism(poly, (y - thick / 2, y + thick / 2), "xzy"), "x", -dihedral, (0, y, 0))
    return [wing, scale(wing, (1, 1, -1))]


def plane_tail(s: Assembly, rng: np.random.Generator, kind: str, r: float, thick: float) -> None:
    """Fin(s) and tailplane (conventional or T-tail) of a unit-length fuselage of radius ``r``."""
    fin_h, fin_c = uniform(rng, 0.12, 0.2), uniform(rng, 0.1, 0.16)
    fin_x = -0.5 + fin_c + uniform(rng, 0.03, 0.06)
    tip = fin_x - 0.4 * fin_h
    fin = [(fin_x, 0.0), (fin_x - fin_c, 0.0), (tip - 0.55 * fin_c, fin_h), (tip, fin_h)]
    twin = kind == "fighter" and rng.random() < 0.6
    for z in (-0.8 * r, 0.8 * r) if twin else (0.0,):
        s.add(prism(fin, (z - thick / 2, z + thick / 2), "xyz"))
    if kind == "fighter" and rng.random() < 0.5:
        return
    t_tail = kind == "bizjet" or (kind == "airliner" and rng.random() < 0.25)
    y = fin_h - thick / 2 if t_tail else 0.0
    x = fin_x - 0.4 * fin_h if t_tail else fin_x - 0.01
    stab_span, stab_c = uniform(rng, 0.14, 0.2), uniform(rng, 0.08, 0.12)
    s.add(*mirrored_wing(planform(x, stab_c, stab_span, uniform(rng, 15, 35), 0.5), y, thick, 0.0))


def plane_engines(s: Assembly, rng: np.random.Generator, kind: str, r: float, wing: tuple) -> None:
    """Under-wing nacelles, rear-mounted jets or a nose propeller, by ``kind``."""
    x_le, span, sweep, wing_y, thick, dihedral = wing
    rn, ln = uniform(rng, 0.022, 0.03), uniform(rng, 0.1, 0.14)
    if kind == "airliner":
        c, sn = polar(dihedral)
        for frac in (0.33, 0.62) if rng.random() < 0.4 else (uniform(rng, 0.3, 0.38),):
            z = frac * span
            lead = x_le - z * math.tan(math.radians(sweep)) + 0.4 * ln
            y = wing_y + z * sn - thick / 2 - 0.8 * rn
            for zz in (z * c, -z * c):
                s.add(cylinder((lead, y, zz), (lead - ln, y, zz), rn, 16))
    elif kind == "bizjet":
        for z in (r + 0.9 * rn, -r - 0.9 * rn):
            s.add(cylinder((-0.5 + 0.22 + ln, 0.3 * r, z), (-0.5 + 0.22, 0.3 * r, z), rn, 16))
    elif kind == "prop":
        blades, length = int(rng.integers(2, 4)), uniform(rng, 0.12, 0.16)
        s.add(ellipsoid((0.5, 0, 0), (0.06, 0.4 * r, 0.4 * r), 12, 6))
        for k in range(blades):
            blade = box((0.025, length, 0.035), (0.53, length / 2, 0))
            s.add(rotate(blade, "x", 2 * math.pi * k / blades, (0.53, 0, 0)))


def chair_back(s: Assembly, rng: np.random.Generator, width: float, depth: float, seat_y: float) -> None:
    """Solid, slatted or railed chair back on the rear edge of the seat, tilted backwards."""
    height, thick = uniform(rng, 0.35, 0.6), uniform(rng, 0.035, 0.06)
    z, style = -depth / 2 + thick / 2, pick(rng, ("solid", "slats", "rails"))
    if style == "solid":
        parts = [box((width, height, thick), (0, seat_y + height / 2, z))]
    else:
        post, n, mid = 0.04, int(rng.integers(2, 5)), seat_y + height / 2
        parts = [box((post, height, thick), (sx * (width / 2 - post / 2), mid, z)) for sx in (-1, 1)]
        parts.append(box((width, 0.08, thick), (0, seat_y + height - 0.04, z)))
        inner = width - 2 * post
        for k in range(n):
            if style == "slats":
                x = -inner / 2 + (k + 0.5) * inner / n
                parts.append(box((0.04, height - 0.06, 0.8 * thick), (x, mid - 0.03, z)))
            else:
                y = seat_y + (k + 1) * (height - 0.08) / (n + 1)
                parts.append(box((width, 0.035, 0.8 * thick), (0, y, z)))
    tilt = uniform(rng, 0.0, 0.25)
    s.add(*(rotate(p, "x", -tilt, (0, seat_y, -depth / 2)) for p in parts))


def legs_four(s: Assembly, rng: np.random.Generator, width: float, depth: float, top: float) -> None:
    """Four square or (splayed) round chair legs up to ``top``, maybe with stretchers."""
    thick, inset, round_legs = uniform(rng, 0.03, 0.05), uniform(rng, 0.0, 0.03), rng.random() < 0.5
    splay = uniform(rng, 0.0, 0.05) if round_legs else 0.0
    hx, hz = width / 2 - thick / 2 - inset, depth / 2 - thick / 2 - inset
    for sx in (-1, 1):
        for sz in (-1, 1):
            if round_legs:
                foot = (sx * (hx + splay), 0, sz * (hz + splay))
                s.add(cylinder(foot, (sx * hx, top + 0.01, sz * hz), thick / 2, 12))
            else:
                s.add(box((thick, top + 0.01, thick), (sx * hx, (top + 0.01) / 2, sz * hz)))
    if rng.random() < 0.5:
        y = uniform(rng, 0.1, 0.2)
        s.add(*(box((0.025, 0.025, 2 * hz), (sx * hx, y, 0)) for sx in (-1, 1)))
        s.add(box((2 * hx, 0.025, 0.025), (0, y, 0)))


def legs_three(s: Assembly, rng: np.random.Generator, width: float, depth: float, top: float) -> None:
    """Three splayed round legs: two at the front, one at the back."""
    radius, splay = uniform(rng, 0.016, 0.024), uniform(rng, 0.1, 0.25)
    for x, z in ((-0.4 * width, 0.4 * depth), (0.4 * width, 0.4 * depth), (0.0, -0.42 * depth)):
        s.add(cylinder((x * (1 + splay), 0, z * (1 + splay)), (x, top + 0.01, z), radius, 12))


def legs_pedestal(s: Assembly, rng: np.random.Generator, width: float, depth: float, top: float) -> None:
    """Office-chair column with a 4- or 5-arm star base on casters."""
    n, reach, col = int(rng.integers(4, 6)), uniform(rng, 0.24, 0.32), uniform(rng, 0.025, 0.035)
    s.add(cylinder((0, 0.06, 0), (0, top + 0.01, 0), col, 16), box((0.2, 0.05, 0.2), (0, top - 0.02, 0)))
    for k in range(n):
        c, sn = polar(2 * math.pi * (k + 0.5) / n)
        s.add(cylinder((0, 0.07, 0), (reach * c, 0.05, reach * sn), 0.02, 8))
        s.add(ellipsoid((reach * c, 0.025, reach * sn), (0.025, 0.025, 0.025), 8, 4))


def legs_sled(s: Assembly, rng: np.random.Generator, width: float, depth: float, top: float) -> None:
    """Two bent-tube sled runners, one on each side."""
    radius = uniform(rng, 0.012, 0.018)
    for sx in (-1, 1):
        x = sx * (width / 2 - 0.03)
        ends = ((top + 0.01, 0.4), (radius, 0.5), (radius, -0.5), (top + 0.01, -0.4))
        corners = [(x, y, f * depth) for y, f in ends]
        s.add(tube(round_corners(corners, 0.06), radius, 10))


def table_legs_four(
    s: Assembly, rng: np.random.Generator, hx: float, hz: float, under: float, rect: bool
) -> None:
    """Four legs under a top of half-extents ``hx, hz``; a rectangular top may get an apron and a shelf."""
    thick = uniform(rng, 0.04, 0.07)
    lx, lz = (hx - thick / 2 - 0.04, hz - thick / 2 - 0.04) if rect else (0.5 * hx, 0.5 * hz)
    round_legs = rng.random() < 0.5
    for sx in (-1, 1):
        for sz in (-1, 1):
            if round_legs:
                s.add(cylinder((sx * lx, 0, sz * lz), (sx * lx, under + 0.01, sz * lz), thick / 2, 12))
            else:
                s.add(box((thick, under + 0.01, thick), (sx * lx, (under + 0.01) / 2, sz * lz)))
    if rect and rng.random() < 0.5:
        apron = uniform(rng, 0.06, 0.1)
        y = under - apron / 2 + 0.005
        s.add(*(box((2 * lx, apron, 0.03), (0, y, sz * lz)) for sz in (-1, 1)))
        s.add(*(box((0.03, apron, 2 * lz), (sx * lx, y, 0)) for sx in (-1, 1)))
    if rect and rng.random() < 0.4:
        s.add(box((2 * lx, 0.035, 2 * lz), (0, 0.15 * under, 0)))
