"""Camera framing against analytic answers."""

import math

import numpy as np
import pytest

from inret_engine.render.camera import fit_distance


def test_points_above_and_below_fill_the_vertical_view_exactly():
    pts = np.array([[0.0, 0.5, 0.0], [0.0, -0.5, 0.0]])
    d = fit_distance(pts, (0, 0, 0), (0, 0, 2), fov_deg=60.0, margin=0.0)
    assert d == pytest.approx(0.5 / math.tan(math.radians(30)))


def test_a_point_nearer_the_camera_needs_that_much_more_room():
    # at depth d - 1 the point 1 above the axis must fit: d - 1 = 1 / tan(45 deg)
    d = fit_distance(np.array([[0.0, 1.0, 1.0]]), (0, 0, 0), (0, 0, 1), fov_deg=90.0, margin=0.0)
    assert d == pytest.approx(2.0)


def test_a_wide_view_fits_a_tall_shape_by_its_height_and_a_wide_shape_by_its_width():
    tall = np.array([[0.2, 1.0, 0.0], [-0.2, -1.0, 0.0]])
    wide = tall[:, [1, 0, 2]]
    d_tall = fit_distance(tall, (0, 0, 0), (0, 0, 1), fov_deg=90.0, aspect=2.0, margin=0.0)
    d_wide = fit_distance(wide, (0, 0, 0), (0, 0, 1), fov_deg=90.0, aspect=2.0, margin=0.0)
    assert d_tall == pytest.approx(1.0) and d_wide == pytest.approx(0.5)  # width has twice the room


def test_every_point_projects_inside_the_view_with_the_margin():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(500, 3)) * [0.4, 0.9, 0.3]
    direction = np.array([1.0, 0.75, 2.2])
    fov, aspect, margin = 30.0, 1.6, 0.05
    d = fit_distance(pts, (0, 0, 0), direction, fov_deg=fov, aspect=aspect, margin=margin)
    f = direction / np.linalg.norm(direction)
    right = np.cross(-f, [0, 1, 0])
    right /= np.linalg.norm(right)
    up = np.cross(right, -f)
    depth = d - pts @ f
    t = math.tan(math.radians(fov / 2)) * (1 - margin)
    x, y = (pts @ right) / (depth * t * aspect), (pts @ up) / (depth * t)
    assert np.abs(x).max() <= 1 + 1e-9 and np.abs(y).max() <= 1 + 1e-9
    assert max(np.abs(x).max(), np.abs(y).max()) == pytest.approx(1.0)  # and as tight as that allows
