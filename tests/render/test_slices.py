"""Field slices against analytic fields."""

import numpy as np
import pytest
import torch

from inret_engine.render.bake import bake
from inret_engine.render.slices import colour_bar, contour_mask, field_slice, slice_image, slice_points

R = 0.5


def linear(p: torch.Tensor) -> torch.Tensor:
    return p[:, 0] + 2.0 * p[:, 1] + 3.0 * p[:, 2]


def sdf(p: torch.Tensor) -> torch.Tensor:
    return p.norm(dim=-1) - R


@pytest.mark.parametrize("axis,expected", [
    # value at pixel [i, j]: u_j to the right, v_i upwards, offset 0.3 along the axis.
    ("z", lambda u, v: u + 2 * v + 0.9),
    ("x", lambda u, v: 0.3 + 2 * v + 3 * u),   # u = z, v = y
    ("y", lambda u, v: u + 0.6 + 3 * v),        # u = x, v = z
])
def test_slice_values_match_the_field_at_known_pixels(axis, expected):
    values = field_slice(linear, "sdf", axis, 0.3, resolution=5)
    grid = np.linspace(-1, 1, 5)
    for i, j in [(0, 0), (0, 4), (4, 0), (2, 3), (1, 2)]:
        assert values[i, j] == pytest.approx(expected(grid[j], grid[::-1][i]), abs=1e-5), (axis, i, j)
    assert slice_points(axis, 0.3, 5)[0, 0].tolist() == pytest.approx(
        {"z": [-1, 1, 0.3], "x": [0.3, 1, -1], "y": [-1, 0.3, 1]}[axis])


def test_zero_contour_pixels_lie_on_the_circle():
    n = 129
    values = field_slice(sdf, "sdf", "z", 0.0, resolution=n)
    mask = contour_mask(values, "sdf")
    grid = np.linspace(-1, 1, n)
    x, y = np.meshgrid(grid, grid[::-1])
    r = np.hypot(x, y)[mask]
    pixel = 2 / (n - 1)
    angles = np.arctan2(y, x)[mask]
    assert (np.histogram(angles, bins=90, range=(-np.pi, np.pi))[0] > 0).all()  # a closed ring
    assert np.abs(r - R).max() <= 0.5 * pixel + 1e-6
    image = slice_image(values, "sdf")
    assert image.shape == (n, n, 3) and image.dtype == np.uint8
    assert (image[mask] == 0).all()  # black contour
    centre, corner = image[n // 2, n // 2].astype(int), image[0, 0].astype(int)
    assert centre[2] > centre[0] and corner[0] > corner[2]  # blue inside, orange outside


def test_slice_offset_changes_the_circle():
    values = field_slice(sdf, "sdf", "x", 0.3, resolution=65)
    grid = np.linspace(-1, 1, 65)
    u, v = np.meshgrid(grid, grid[::-1])
    expected = np.sqrt(0.09 + u ** 2 + v ** 2) - R
    assert np.abs(values - expected).max() < 1e-5


def test_udf_and_occ_slices():
    n = 101
    shell = field_slice(lambda p: sdf(p).abs(), "udf", "z", 0.0, resolution=n)
    mask = contour_mask(shell, "udf", level=0.02)
    grid = np.linspace(-1, 1, n)
    x, y = np.meshgrid(grid, grid[::-1])
    r = np.hypot(x, y)
    assert np.abs(r[mask] - R).max() <= 0.02 + 0.5 * 2 / (n - 1)
    assert mask[np.abs(r - R) < 0.01].all()
    image = slice_image(shell, "udf")
    assert (image[contour_mask(shell, "udf")] == (80, 240, 255)).all()
    assert image[0, 0].sum() > image[77, 50].sum() + 200  # light far away, dark 0.04 from the surface
    logits = field_slice(lambda p: -20 * sdf(p), "occ", "z", 0.0, resolution=n)
    occ = slice_image(logits, "occ")
    assert occ[n // 2, n // 2, 1] > occ[n // 2, n // 2, 0]  # inside: green
    assert tuple(occ[0, 0]) == (250, 250, 250)  # outside: white
    rim = contour_mask(logits, "occ")
    assert np.abs(r[rim] - R).max() <= 0.5 * 2 / (n - 1) + 1e-6


def test_slices_of_a_baked_field_and_bad_input():
    baked = bake(sdf, "sdf", resolution=33)
    values = field_slice(baked, axis="y", offset=0.0, resolution=33)
    assert values[16, 16] == pytest.approx(-R, abs=1e-6)
    with pytest.raises(ValueError, match="encodes SDF, not UDF"):
        field_slice(baked, "udf")
    with pytest.raises(ValueError, match="slice axis"):
        field_slice(sdf, "sdf", "w")


@pytest.mark.parametrize("function, low, high", [("sdf", (23, 64, 140), (150, 50, 20)),
                                                 ("udf", (12, 8, 40), (252, 240, 190)),
                                                 ("occ", (250, 250, 250), (20, 110, 50))])
def test_colour_bar_ends_are_the_colour_maps_ends(function, low, high):
    bar = colour_bar(function, 101)
    assert bar.rgb.shape == (101, 3) and bar.rgb.dtype == np.uint8
    assert tuple(bar.rgb[0]) == low and tuple(bar.rgb[-1]) == high
    assert [p for _, p in bar.ticks] == sorted(p for _, p in bar.ticks) and bar.ticks[0][1] == 0.0


@pytest.mark.parametrize("function", ["sdf", "udf"])
def test_colour_bar_ticks_sit_where_the_slice_paints_their_value(function):
    bar = colour_bar(function, 1001)
    for value, position in bar.ticks:
        k = int(round(position * 1000))
        assert bar.values[k] == pytest.approx(value, abs=2e-3)
        painted = slice_image(np.array([[value]]), function, contour=False)[0, 0]
        assert np.abs(bar.rgb[k].astype(int) - painted).max() <= 3, (value, position)


def test_colour_bar_marks_the_surface_level():
    assert colour_bar("sdf").surface == 0.5  # zero distance, in the middle of the diverging map
    assert colour_bar("udf").surface == pytest.approx(0.01 / 0.1)  # udf < 0.01 counts as surface
    assert colour_bar("occ").surface == 0.5  # logit 0: probability one half
    assert tuple(colour_bar("sdf", 3).rgb[1]) == (250, 250, 250)  # white at the surface
    assert colour_bar("sdf", limit=0.2).ticks[-1][0] == pytest.approx(0.2)
