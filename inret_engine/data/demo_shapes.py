"""Procedural demo shapes: recognisable categories with real variety.

The app's built-in demo store and many tests use these meshes, so they are our
own code and fully deterministic: instance ``index`` of a category is drawn
from ``numpy.random.default_rng(crc32("category:index"))`` and always gives
bit-identical vertices. Each category picks a style from a few families (a
chair's legs cycle through four legs, pedestal, three legs and sled) and
samples proportions and optional parts, so instances differ clearly while
staying recognisable. Meshes are y-up, centred on their bounding box, with
real-world proportions (metres; airplanes have a unit-length fuselage), built
from closed outward-oriented parts (inside = winding > 0.5). :func:`demo_probes`
gives points whose inside/outside answer is known by construction.

Example:
    >>> mesh = demo_mesh("chair", 3)
    >>> len(mesh.faces) < 6000
    True
    >>> demo_catalog(2)[:2]
    [('airplane', 'airplane_000'), ('airplane', 'airplane_001')]
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable

import numpy as np
import trimesh

from inret_engine.data import demo_parts as dp
from inret_engine.data.demo_parts import (
    Assembly,
    Probe,
    box,
    cylinder,
    ease,
    ellipsoid,
    lathe,
    pick,
    polar,
    rotate,
    scale,
    tube,
)
from inret_engine.data.demo_parts import uniform as _u

from ..errors import UsageError

DEMO_CATEGORIES: tuple[str, ...] = (
    "airplane", "bottle", "car", "chair", "lamp", "mug", "sofa", "table", "guitar",
)
"""Every category :func:`demo_mesh` can build."""

_GRID = 2.0**-24
"""Final vertices are snapped to this grid (about 6e-8 m)."""


# --------------------------------------------------------------------- airplane
_PLANES = {  # radius, half-span, root chord, taper, sweep deg, root LE x, wing y / radius
    "airliner": ((0.05, 0.06), (0.42, 0.55), (0.18, 0.24), (0.25, 0.4), (25, 35), (0.05, 0.12), -0.5),
    "bizjet": ((0.045, 0.055), (0.35, 0.45), (0.15, 0.2), (0.3, 0.45), (15, 28), (0.0, 0.08), -0.5),
    "prop": ((0.055, 0.07), (0.5, 0.6), (0.14, 0.18), (0.7, 1.0), (0, 5), (0.18, 0.25), 0.85),
    "fighter": ((0.045, 0.06), (0.25, 0.33), (0.4, 0.5), (0.06, 0.15), (45, 58), (0.12, 0.2), 0.0),
}


def _airplane(rng: np.random.Generator, index: int) -> Assembly:
    """Airliner, business jet, light propeller plane or delta-wing fighter, nose towards +x."""
    kind = ("airliner", "bizjet", "prop", "fighter")[index % 4]
    ranges = _PLANES[kind]
    r, span, chord, taper, sweep, x_le = (_u(rng, *rg) for rg in ranges[:6])
    wing_y, thick = ranges[6] * r, 0.022 * max(1.0, 2 * span)
    dihedral = math.radians(_u(rng, 0, 5)) if kind != "fighter" else 0.0
    s = Assembly()
    nose, tail = _u(rng, 0.08, 0.14) * (2 if kind == "fighter" else 1), _u(rng, 0.22, 0.3)
    profile = [(0.0, 0.0), (0.2 * r, 0.0), (0.55 * r, 0.4 * tail), (0.85 * r, 0.75 * tail), (r, tail)]
    profile += [(r * math.sqrt(1 - t * t), 1 - nose * (1 - t)) for t in (0.0, 0.5, 0.75, 0.9)] + [(0.0, 1.0)]
    s.add(dp.transform(lathe(profile, 24), np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 1.0]]), (-0.5, 0, 0)))
    s.add(*dp.mirrored_wing(dp.planform(x_le, chord, span, sweep, taper), wing_y, thick, dihedral))
    dp.plane_tail(s, rng, kind, r, thick)
    dp.plane_engines(s, rng, kind, r, (x_le, span, sweep, wing_y, thick, dihedral))
    mid_x = x_le - 0.5 * span * math.tan(math.radians(sweep)) - 0.5 * chord * (1 + taper) / 2
    c, sn = polar(dihedral)
    s.probe("fuselage", (0, 0, 0), True)
    s.probe("wing", (mid_x, wing_y + 0.5 * span * sn, 0.5 * span * c), True)
    s.probe("beside nose", (0.4, 0, 3 * r), False)
    return s


# ----------------------------------------------------------------------- bottle
def _bottle(rng: np.random.Generator, index: int) -> Assembly:
    """Solid wine, waisted soda, long-shouldered beer or round-bodied flask bottle."""
    kind = ("wine", "soda", "beer", "flask")[index % 4]
    radius, height = _u(rng, 0.03, 0.045), _u(rng, 0.24, 0.32)
    neck = radius * _u(rng, 0.3, 0.4)
    body_top, neck_base = height * _u(rng, 0.5, 0.62), height * _u(rng, 0.7, 0.8)
    profile = [(0.0, 0.0), (0.92 * radius, 0.0), (radius, 0.015 * height)]
    if kind == "soda":
        waist = _u(rng, 0.8, 0.9) * radius
        profile += ease(radius, waist, 0.015 * height, 0.3 * height, 3)
        profile += ease(waist, radius, 0.3 * height, body_top, 3)
    elif kind == "flask":
        radius = _u(rng, 0.06, 0.08)
        profile = [(0.0, 0.0), (0.45 * radius, 0.0)]
        profile += [(radius * polar(a)[1], radius * (1 - polar(a)[0])) for a in np.linspace(0.5, 2.7, 8)]
        body_top, neck_base = 2 * radius * 0.94, 2 * radius * 0.99
        height = neck_base + _u(rng, 0.09, 0.14)
        profile.append((neck, neck_base))
    else:
        profile.append((radius, body_top))
    if kind != "flask":
        profile += ease(radius, neck, body_top, neck_base, 5 if kind == "beer" else 4)
    lip = 1.3 * neck if kind == "soda" else 1.12 * neck
    profile += [(neck, height * 0.94), (lip, height * 0.945), (lip, height), (0.0, height)]
    s = Assembly()
    s.add(lathe(profile, 32))
    s.probe("body", (0, 0.3 * body_top, 0), True)
    s.probe("beside neck", (0.9 * max(radius, 2 * lip), 0.97 * height, 0), False)
    return s


# -------------------------------------------------------------------------- car
_CARS = {  # length, width, body h, cabin h, cabin rear / front (fractions of length),
    # windscreen run, rear-window run, wheel radius, clearance (fraction of wheel radius)
    "sedan": ((4.3, 5.0), (1.75, 1.9), (0.55, 0.65), (0.42, 0.5), (0.2, 0.26),
            (0.3, 0.36), (0.5, 0.7), (0.4, 0.6), (0.3, 0.34), (0.55, 0.65)),
    "hatchback": ((3.6, 4.3), (1.65, 1.8), (0.55, 0.65), (0.45, 0.55), (0.02, 0.04),
                (0.3, 0.36), (0.5, 0.7), (0.15, 0.3), (0.28, 0.32), (0.55, 0.65)),
    "suv": ((4.3, 4.9), (1.8, 2.0), (0.7, 0.85), (0.55, 0.65), (0.02, 0.04),
          (0.24, 0.3), (0.35, 0.5), (0.05, 0.15), (0.36, 0.42), (0.7, 0.85)),
    "coupe": ((4.0, 4.6), (1.75, 1.9), (0.45, 0.55), (0.33, 0.4), (0.15, 0.2),
            (0.3, 0.34), (0.55, 0.7), (0.5, 0.75), (0.3, 0.34), (0.5, 0.6)),
    "pickup": ((4.8, 5.4), (1.8, 2.0), (0.7, 0.85), (0.55, 0.65), (0.42, 0.48),
             (0.24, 0.3), (0.35, 0.5), (0.05, 0.1), (0.36, 0.42), (0.7, 0.85)),
}


def _car(rng: np.random.Generator, index: int) -> Assembly:
    """Sedan, hatchback, SUV, coupe or pickup: body and cabin slabs on four wheels, front towards +x."""
    kind = ("sedan", "hatchback", "suv", "coupe", "pickup")[index % 5]
    length, width, hb, hc, rear, front, ws, rr, rw, clr = (_u(rng, *rg) for rg in _CARS[kind])
    c, half = clr * rw, length / 2
    body = [(-half + 0.15, c), (half - 0.2, c), (half, c + 0.3 * hb), (half - 0.12, c + 0.85 * hb),
            (-half + 0.05, c + hb), (-half, c + 0.35 * hb)]
    xr, xf, top = -half + rear * length, half - front * length, c + hb + hc
    cabin = [(xr, c + hb - 0.05), (xf, c + hb - 0.05), (xf - ws, top), (xr + rr, top)]
    s = Assembly()
    s.add(dp.prism(body, (-width / 2, width / 2)), dp.prism(cabin, (-0.44 * width, 0.44 * width)))
    tyre = _u(rng, 0.2, 0.25)
    for x in (half - length * _u(rng, 0.17, 0.21), -half + length * _u(rng, 0.17, 0.22)):
        for sz in (-1, 1):
            inner, outer = sz * (width / 2 - 0.8 * tyre), sz * (width / 2 + 0.2 * tyre)
            s.add(cylinder((x, rw, inner), (x, rw, outer), rw, 24))
    if kind == "pickup":
        bed = xr + half
        for sz in (-1, 1):
            s.add(box((bed, 0.3, 0.1), (-half + bed / 2, c + hb + 0.12, sz * (width / 2 - 0.05))))
        s.add(box((0.1, 0.3, width), (-half + 0.05, c + hb + 0.12, 0)))
        s.probe("truck bed", (-half + bed / 2, c + hb + 0.15, 0), False)
    elif rng.random() < 0.3:
        roof = (xf - ws) - (xr + rr)
        s.add(box((_u(rng, 0.6, 0.9) * roof, 0.16, 0.55 * width), ((xr + rr + xf - ws) / 2, top + 0.07, 0)))
    s.probe("body", (0, c + hb / 2, 0), True)
    s.probe("under body", (0, c / 2, 0), False)
    s.probe("over hood", (half - 0.1, c + hb + 0.8 * hc, 0), False)
    return s


# ------------------------------------------------------------------------ chair
def _chair(rng: np.random.Generator, index: int) -> Assembly:
    """Seat, back (solid, slats or rails) and legs (four, pedestal, three, sled), maybe armrests."""
    width, depth = _u(rng, 0.42, 0.6), _u(rng, 0.4, 0.52)
    seat_y, seat_t = _u(rng, 0.4, 0.48), _u(rng, 0.04, 0.08)
    s = Assembly()
    s.add(box((width, seat_t, depth), (0, seat_y - seat_t / 2, 0)))
    dp.chair_back(s, rng, width, depth, seat_y)
    legs = (dp.legs_four, dp.legs_pedestal, dp.legs_three, dp.legs_sled)[index % 4]
    legs(s, rng, width, depth, seat_y - seat_t)
    if rng.random() < 0.5:
        arm_h, arm_w = _u(rng, 0.18, 0.26), _u(rng, 0.045, 0.06)
        for sx in (-1, 1):
            x = sx * (width / 2 - arm_w / 2)
            s.add(box((arm_w, 0.035, 0.85 * depth), (x, seat_y + arm_h, -0.075 * depth)))
            s.add(box((0.8 * arm_w, arm_h, 0.8 * arm_w), (x, seat_y + arm_h / 2, 0.3 * depth)))
    s.probe("seat", (0, seat_y - seat_t / 2, 0), True)
    s.probe("above seat", (0, seat_y + 0.12, 0.15 * depth), False)
    return s


# ------------------------------------------------------------------------ table
def _table(rng: np.random.Generator, index: int) -> Assembly:
    """Rectangular, round or oval top on four legs, a pedestal or two trestles."""
    height, thick = _u(rng, 0.45, 0.78), _u(rng, 0.035, 0.065)
    top = pick(rng, ("rect", "round", "oval"))
    s = Assembly()
    if top == "rect":
        hx, hz = _u(rng, 0.4, 0.9), _u(rng, 0.28, 0.5)
        s.add(box((2 * hx, thick, 2 * hz), (0, height - thick / 2, 0)))
    else:
        hx = _u(rng, 0.4, 0.65)
        hz = hx if top == "round" else hx * _u(rng, 0.6, 0.8)
        s.add(scale(dp.frustum(-thick / 2, thick / 2, 1.0, 1.0, 48), (hx, 1, hz), (0, height - thick / 2, 0)))
    under = height - thick
    legs = ("four", "pedestal", "trestle")[index % 3]
    if legs == "four":
        dp.table_legs_four(s, rng, hx, hz, under, top == "rect")
    elif legs == "pedestal":
        col = _u(rng, 0.04, 0.08)
        s.add(cylinder((0, 0, 0), (0, under + 0.01, 0), col, 20))
        foot = min(hx, hz) * _u(rng, 0.5, 0.7)
        if rng.random() < 0.5:
            s.add(dp.frustum(0, 0.04, foot, 0.8 * foot, 32))
        else:
            s.add(box((1.3 * hx, 0.05, 0.08), (0, 0.025, 0)), box((0.08, 0.05, 1.3 * hz), (0, 0.025, 0)))
    else:
        for sx in (-1, 1):
            s.add(box((0.05, under + 0.01, 1.2 * hz), (sx * 0.7 * hx, under / 2, 0)))
            s.add(box((0.08, 0.05, 1.5 * hz), (sx * 0.7 * hx, 0.025, 0)))
        s.add(box((1.4 * hx, 0.06, 0.05), (0, 0.25 * under, 0)))
    s.probe("top", (0, height - thick / 2, 0), True)
    s.probe("under top", (0.3 * hx, 0.5 * height, 0.3 * hz), False)
    return s


# ------------------------------------------------------------------------- sofa
def _sofa(rng: np.random.Generator, index: int) -> Assembly:
    """Base, 1-3 seat cushions and back, with box, rolled, low or no arms, maybe a chaise."""
    width, depth = _u(rng, 1.5, 2.4), _u(rng, 0.8, 1.0)
    leg = _u(rng, 0.06, 0.14) if rng.random() < 0.6 else 0.0
    seat, cushion = _u(rng, 0.38, 0.46), _u(rng, 0.1, 0.16)
    back_h, back_t = _u(rng, 0.72, 0.95), _u(rng, 0.16, 0.25)
    arms = ("box", "rolled", "none", "low")[index % 4]
    arm_w = 0.0 if arms == "none" else _u(rng, 0.12, 0.22)
    inner, base_top = width - 2 * arm_w, seat - cushion
    s = Assembly()
    s.add(box((width, base_top - leg, depth), (0, (base_top + leg) / 2, 0)))
    n = int(rng.integers(1, 4))
    for k in range(n):
        x = -inner / 2 + (k + 0.5) * inner / n
        size = (inner / n - 0.02, cushion + 0.01, depth - back_t)
        s.add(box(size, (x, seat - cushion / 2 - 0.005, back_t / 2)))
    s.add(box((inner, back_h - leg, back_t), (0, (back_h + leg) / 2, -depth / 2 + back_t / 2)))
    if rng.random() < 0.5:
        z = -depth / 2 + back_t / 2
        s.add(cylinder((-inner / 2, back_h, z), (inner / 2, back_h, z), back_t / 2, 16))
    if arms != "none":
        arm_h = seat + (_u(rng, 0.08, 0.12) if arms == "low" else _u(rng, 0.15, 0.3))
        for sx in (-1, 1):
            x = sx * (width / 2 - arm_w / 2)
            s.add(box((arm_w, arm_h - leg, depth), (x, (arm_h + leg) / 2, 0)))
            if arms == "rolled":
                s.add(cylinder((x, arm_h, -depth / 2), (x, arm_h, depth / 2), 0.6 * arm_w, 16))
    if rng.random() < 0.3:
        chaise, ext, side = inner / n if n > 1 else 0.45 * inner, _u(rng, 0.5, 0.8), pick(rng, (-1, 1))
        centre = (side * (inner / 2 - chaise / 2), (seat + leg) / 2, depth / 2 + ext / 2 - 0.01)
        s.add(box((chaise, seat - leg, ext), centre))
    if leg > 0:
        for sx in (-1, 1):
            for sz in (-1, 1):
                x, z = sx * (width / 2 - 0.08), sz * (depth / 2 - 0.08)
                s.add(cylinder((x, 0, z), (x, leg + 0.01, z), 0.03, 10))
        s.probe("under seat", (0, leg / 2, 0), False)
    s.probe("base", (0, (base_top + leg) / 2, 0), True)
    s.probe("above seat", (0, seat + 0.15, 0.2 * depth), False)
    return s


# ------------------------------------------------------------------------- lamp
def _lamp(rng: np.random.Generator, index: int) -> Assembly:
    """Table lamp, floor lamp, jointed desk lamp or mushroom lamp; every shade is hollow."""
    kind = ("table", "floor", "desk", "dome")[index % 4]
    s = Assembly()
    base_r, base_h = _u(rng, 0.08, 0.12) * (1.6 if kind == "floor" else 1.0), _u(rng, 0.025, 0.04)
    if kind == "table" and rng.random() < 0.5:
        jar_h = _u(rng, 0.18, 0.28)
        s.add(lathe([(0.0, 0.0), (0.6 * base_r, 0.0)] + ease(0.6 * base_r, base_r, 0.0, 0.4 * jar_h, 3)
                    + ease(base_r, 0.3 * base_r, 0.4 * jar_h, jar_h, 4) + [(0.0, jar_h)], 24))
        base_h = jar_h
    elif rng.random() < 0.3:
        s.add(box((2 * base_r, base_h, 1.6 * base_r), (0, base_h / 2, 0)))
    else:
        s.add(dp.frustum(0.0, base_h, base_r, 0.85 * base_r, 32))
    s.probe("base", (0, base_h / 2, 0), True)
    if kind == "desk":
        _desk_lamp_head(s, rng, base_h)
    elif kind == "dome":
        top, radius, depth = _u(rng, 0.35, 0.55), _u(rng, 0.14, 0.22), _u(rng, 0.09, 0.15)
        s.add(cylinder((0, base_h - 0.01, 0), (0, top, 0), _u(rng, 0.012, 0.018), 12))
        angles = np.linspace(0.0, math.pi / 2, 7)
        outer = [(radius * max(0.25, polar(a)[1]), depth * (1 - polar(a)[0])) for a in angles]
        s.add(scale(dp.cup(outer, 0.018, 0.02), (1, -1, 1), (0, top + depth, 0)))
        s.probe("under dome", (0.5 * radius, top - 0.6 * depth, 0), False)
    else:
        _lamp_shade(s, rng, base_h, kind == "floor")
    return s


def _lamp_shade(s: Assembly, rng: np.random.Generator, base_h: float, floor: bool) -> None:
    """Stem, bulb and an open drum, empire or coolie shade held by two spokes."""
    k = 1.4 if floor else 1.0
    bottom_r, shade_h = _u(rng, 0.14, 0.2) * k, _u(rng, 0.16, 0.24) * k
    top_r = bottom_r * pick(rng, (_u(rng, 0.9, 1.0), _u(rng, 0.55, 0.7), _u(rng, 0.25, 0.35)))
    y0 = _u(rng, 1.2, 1.45) if floor else base_h + _u(rng, 0.15, 0.3)
    wall, y1, stem_top = 0.03 if floor else 0.014, y0 + shade_h, y0 + 0.55 * shade_h
    s.add(lathe([(bottom_r, y0), (top_r, y1), (top_r - wall, y1), (bottom_r - wall, y0)], 32, closed=True))
    s.add(cylinder((0, base_h - 0.01, 0), (0, stem_top, 0), 0.018 if floor else 0.014, 12))
    s.add(ellipsoid((0, stem_top, 0), (0.035, 0.045, 0.035), 12, 6))
    inner = top_r - wall / 2
    spoke = 0.016 if floor else 0.008
    s.add(cylinder((-inner, y1 - wall, 0), (inner, y1 - wall, 0), spoke, 8))
    s.add(cylinder((0, y1 - wall, -inner), (0, y1 - wall, inner), spoke, 8))
    d = 0.45 * (bottom_r + top_r) / 2
    s.probe("inside shade", (d, y0 + 0.2 * shade_h, d), False)
    s.probe("shade wall", (bottom_r - wall / 2, y0 + 0.01, 0), True)


def _desk_lamp_head(s: Assembly, rng: np.random.Generator, base_h: float) -> None:
    """Two-segment arm ending in a cone shade that opens down and forwards."""
    lower, upper = _u(rng, 0.25, 0.35), _u(rng, 0.22, 0.32)
    c1, s1 = polar(_u(rng, -0.4, 0.1))
    c2, s2 = polar(_u(rng, 1.6, 2.3))
    elbow = np.array([s1 * lower, base_h + c1 * lower, 0.0])
    head = elbow + np.array([s2 * upper, c2 * upper, 0.0])
    foot = np.array([0.0, base_h - 0.01, 0.0])
    s.add(tube([tuple(foot), tuple((foot + elbow) / 2), tuple(elbow)], 0.01, 10))
    s.add(tube([tuple(elbow), tuple((elbow + head) / 2), tuple(head)], 0.01, 10))
    s.add(ellipsoid(elbow, (0.018, 0.018, 0.018), 10, 5))
    depth, mouth = _u(rng, 0.09, 0.13), _u(rng, 0.06, 0.09)
    outer = [(0.025, 0.0), (0.03, 0.02)] + ease(0.03, mouth, 0.02, depth, 4)
    c, sn = polar(_u(rng, 0.15, 0.6))
    rot = dp.align_y(np.array([sn, -c, 0.0]))
    s.add(dp.transform(dp.cup(outer, 0.01, 0.012, 24), rot, head))
    s.probe("inside shade", dp.apply(np.array([[0.0, 0.7 * depth, 0.0]]), rot, head)[0], False)


# -------------------------------------------------------------------------- mug
def _mug(rng: np.random.Generator, index: int) -> Assembly:
    """Straight, tapered, barrel or tall mug with an open cavity and a round or square handle."""
    kind = ("straight", "tapered", "barrel", "tall")[index % 4]
    radius, height = _u(rng, 0.04, 0.05), _u(rng, 0.085, 0.105)
    wall, floor = _u(rng, 0.006, 0.008), _u(rng, 0.008, 0.012)
    if kind == "tall":
        radius, height = 0.82 * radius, 1.4 * height
    shape: Callable[[float], float] = {
        "tapered": lambda t: 0.78 + 0.22 * t,
        "barrel": lambda t: 0.9 + 0.12 * polar(math.pi * t)[1],
    }.get(kind, lambda t: 1.0)
    ys = np.linspace(0.0, height, 9)
    outer = [(radius * shape(y / height), float(y)) for y in ys]
    s = Assembly()
    s.add(dp.cup(outer, wall, floor, 32))
    y_top, y_bot = height * _u(rng, 0.72, 0.85), height * _u(rng, 0.18, 0.32)
    r_top, r_bot = radius * shape(y_top / height), radius * shape(y_bot / height)
    attach, reach, r_handle = max(r_top, r_bot), _u(rng, 0.025, 0.038), _u(rng, 0.005, 0.007)
    mid, half = (y_top + y_bot) / 2, (y_top - y_bot) / 2
    if rng.random() < 0.5:
        angles = np.linspace(math.pi / 2, -math.pi / 2, 11)
        arc = [(attach + reach * polar(a)[0], mid + half * polar(a)[1], 0.0) for a in angles]
    else:
        box_path = ((0, y_top), (reach, y_top), (reach, y_bot), (0, y_bot))
        corners = [(attach + dx, y, 0.0) for dx, y in box_path]
        arc = list(dp.round_corners(corners, 0.4 * min(reach, half)))
    path = [(r_top - 0.3 * wall, y_top, 0.0), *arc, (r_bot - 0.3 * wall, y_bot, 0.0)]
    s.add(tube(path, r_handle, 12))
    r_mid = radius * shape(0.5)
    s.probe("cavity", (0, 0.6 * height, 0), False)
    s.probe("floor", (0, floor / 2, 0), True)
    s.probe("wall", (-(r_mid - wall / 2), 0.5 * height, 0), True)
    s.probe("handle loop", (attach + 0.4 * reach, mid, 0), False)
    return s


# ----------------------------------------------------------------------- guitar
_GUITARS = {  # lower bout half-width, upper bout half-width, body length, body depth, neck length
    "acoustic": ((0.18, 0.23), (0.13, 0.17), (0.46, 0.54), (0.1, 0.13), (0.4, 0.5)),
    "classical": ((0.17, 0.19), (0.13, 0.14), (0.46, 0.49), (0.09, 0.1), (0.34, 0.4)),
    "electric": ((0.15, 0.19), (0.12, 0.15), (0.38, 0.46), (0.04, 0.05), (0.4, 0.5)),
    "bass": ((0.17, 0.2), (0.13, 0.15), (0.44, 0.5), (0.04, 0.05), (0.72, 0.88)),
}


def _guitar(rng: np.random.Generator, index: int) -> Assembly:
    """Acoustic, classical, electric or bass guitar standing neck-up, top facing +z."""
    kind = ("acoustic", "classical", "electric", "bass")[index % 4]
    lower, upper, length, depth, neck = (_u(rng, *rg) for rg in _GUITARS[kind])
    b1, b2 = length * _u(rng, 0.3, 0.34), length * _u(rng, 0.23, 0.27)
    disc = cylinder((0, 0, -depth / 2), (0, 0, depth / 2), 1.0, 32)
    s = Assembly()
    s.add(scale(disc, (lower, b1, 1), (0, b1, 0)), scale(disc, (upper, b2, 1), (0, length - b2, 0)))
    waist = 2 * b1 - (2 * b1 + 2 * b2 - length) / 2
    s.add(scale(disc, (upper * _u(rng, 0.75, 0.85), 0.22 * length, 1), (0, waist, 0)))
    if kind in ("electric", "bass"):
        for sx, reach in ((-1, _u(rng, 0.04, 0.07)), (1, _u(rng, 0.0, 0.04))):
            s.add(scale(disc, (0.04, 0.08, 1), (sx * 0.7 * upper, length - 0.4 * b2 + reach, 0)))
    neck_w, neck_t = _u(rng, 0.045, 0.06), _u(rng, 0.03, 0.04)
    z = depth / 2 - neck_t / 2 if depth > neck_t else 0.0
    s.add(box((neck_w, neck + 0.04, neck_t), (0, length + neck / 2 - 0.02, z)))
    head_l = _u(rng, 0.15, 0.2)
    head = box((neck_w * _u(rng, 1.3, 1.8), head_l, 0.03), (0, length + neck + head_l / 2 - 0.01, z))
    s.add(rotate(head, "x", -_u(rng, 0.0, 0.25), (0, length + neck, z)))
    s.add(box((0.16, 0.035, 0.03), (0, 0.45 * b1, depth / 2)))
    s.probe("body", (0, b1, 0), True)
    s.probe("beside neck", (0.12, length + 0.6 * neck, 0), False)
    return s


# -------------------------------------------------------------------------- API
_BUILDERS: dict[str, Callable[[np.random.Generator, int], Assembly]] = {
    "airplane": _airplane, "bottle": _bottle, "car": _car, "chair": _chair, "lamp": _lamp,
    "mug": _mug, "sofa": _sofa, "table": _table, "guitar": _guitar,
}


def _check(category: str, index: int) -> None:
    if category not in _BUILDERS:
        raise UsageError(f"unknown demo category {category!r}; choose from {', '.join(DEMO_CATEGORIES)}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise UsageError(f"demo index must be an integer >= 0, got {index!r}")


@functools.lru_cache(maxsize=512)
def _build(category: str, index: int) -> tuple[np.ndarray, np.ndarray, tuple[Probe, ...]]:
    """Vertices, faces and probes of one instance, centred and snapped to ``_GRID``."""
    rng = np.random.default_rng(zlib.crc32(f"{category}:{index}".encode()))
    shape = _BUILDERS[category](rng, index)
    part = dp.merge(shape.parts)
    centre = np.round((part.vertices.min(axis=0) + part.vertices.max(axis=0)) / 2 / _GRID) * _GRID
    vertices = np.round((part.vertices - centre) / _GRID) * _GRID
    probes = tuple(Probe(p.label, p.point - centre, p.inside) for p in shape.probes)
    for array in (vertices, part.faces, *(p.point for p in probes)):
        array.setflags(write=False)
    return vertices, part.faces, probes


def demo_mesh(category: str, index: int) -> trimesh.Trimesh:
    """Instance ``index`` of a demo category.

    Args:
        category: One of :data:`DEMO_CATEGORIES`.
        index: Instance number, ``>= 0``. The same ``(category, index)`` always
            gives the same mesh, bit for bit, on any machine.

    Returns:
        A y-up triangle soup (metres; airplanes are unit length), centred on its bounding box, made of
        closed outward-oriented parts (inside where the winding number > 0.5),
        under 6,000 faces. Vertices are not welded across parts.

    Raises:
        ValueError: For an unknown category or a negative index.
    """
    _check(category, index)
    vertices, faces, _ = _build(category, int(index))
    return trimesh.Trimesh(vertices.copy(), faces.copy(), process=False)


def demo_probes(category: str, index: int) -> tuple[Probe, ...]:
    """Hand-picked points of :func:`demo_mesh` with their known inside/outside answer.

    For example a chair's seat centre (inside), a mug's cavity (outside) or the
    space under a table top (outside); coordinates are in the mesh's frame.
    """
    _check(category, index)
    return _build(category, int(index))[2]


def demo_catalog(per_category: int) -> list[tuple[str, str]]:
    """``[(category, name)]`` for the first ``per_category`` instances of each category.

    Sorted by category name, then index; names look like ``"chair_003"``.

    Raises:
        ValueError: If ``per_category`` is negative.
    """
    if per_category < 0:
        raise UsageError(f"per_category must be >= 0, got {per_category}")
    return [(c, f"{c}_{i:03d}") for c in sorted(DEMO_CATEGORIES) for i in range(per_category)]


def demo_mesh_by_name(name: str) -> trimesh.Trimesh:
    """Mesh for a catalogue name: ``"chair_003"`` gives ``demo_mesh("chair", 3)``.

    Raises:
        ValueError: If the name is not ``<category>_<digits>`` with a known category.
    """
    category, _, digits = str(name).rpartition("_")
    if category not in _BUILDERS or not (digits.isascii() and digits.isdigit()):
        raise UsageError(
            f"unknown demo shape {name!r}; expected '<category>_<index>' "
            f"with category in {', '.join(DEMO_CATEGORIES)}"
        )
    return demo_mesh(category, int(digits))
