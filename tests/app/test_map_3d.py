"""The map's 3D projection: a layout with a third axis, turned with the mouse and keys, used like the flat map.

Model-to-view tests on a synthetic 3 x 3 x 3 cube of points, then the panel in the main
window on the tiny query store (the 3D layout computed by the real engine).
"""

import shutil

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from app.views.map_orbit import HOME, KEY_STEP, rotation  # noqa: E402
from app.views.map_tools import PCA_TRIPLES, ProjectionBar  # noqa: E402
from inret_engine.retrieval.map_layout import Projection, cache_file  # noqa: E402
from tests.app.test_map_exploration import drag, grid_map, shown_map_view  # noqa: E402
from tests.app.test_wiring import WAIT_MS, open_window  # noqa: E402


def cube_map():
    """27 points on a 3 x 3 x 3 lattice (0, 10, 20 on each axis), with the grid map's records."""
    ids, _, records = grid_map()
    ids = ids[:27]
    xyz = np.stack([ids % 3, (ids // 3) % 3, ids // 9], 1) * 10.0
    return ids, xyz, {i: records[i] for i in range(27)}


@pytest.fixture
def view(qtbot):
    return shown_map_view(qtbot, *cube_map())


def positions(view) -> np.ndarray:
    return np.array([[view.screen_pos(i).x(), view.screen_pos(i).y()] for i in range(27)])


def test_rotation_is_a_rotation_and_turns_x_into_depth():
    r = rotation(37.0, -21.0)
    assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
    assert np.allclose(rotation(90, 0) @ [1, 0, 0], [0, 0, -1], atol=1e-12)
    assert np.allclose(rotation(0, 90) @ [0, 1, 0], [0, 0, 1], atol=1e-12)


def test_a_3d_map_shows_every_point_inside_the_canvas_seen_from_the_first_angle(view):
    canvas = view.canvas
    assert canvas.is_3d and canvas.angles() == HOME and "27 INRs" in view.count.text()
    inside = canvas.rect().adjusted(5, 5, -5, -5)
    assert all(inside.contains(view.screen_pos(i)) for i in range(27))
    assert len({(p.x(), p.y()) for p in map(view.screen_pos, range(27))}) == 27  # from an angle none overlap
    assert "turn" in canvas.toolTip() and canvas.accessibleName().startswith("3D map")
    # far points are painted first and fainter
    order, fade = canvas.depth_cue(canvas.points.visible_rows())
    assert np.all(np.diff(canvas.point_depth[order]) >= 0) and fade.min() < 0.6 and fade.max() > 0.95
    view.set_points(*grid_map())  # a flat map again: the flat canvas, no depth
    assert not canvas.is_3d and canvas.depth_cue(np.arange(3))[1] is None and "turn" not in canvas.toolTip()


def test_turning_moves_the_points_and_keeps_them_in_view(qtbot, view):
    canvas = view.canvas
    canvas.orbit_to(0, 0)  # looking down z: the lattice's x and y, z only in depth
    front = positions(view)
    assert np.array_equal(front[0], front[9]) and np.array_equal(front[0], front[18])  # same x, y; z behind
    canvas.orbit_to(90, 0)  # from the side: z now runs across the screen
    side = positions(view)
    assert abs(side[0, 0] - side[18, 0]) > 100 and abs(side[0, 0] - side[2, 0]) <= 1
    inside = canvas.rect().adjusted(5, 5, -5, -5)
    for yaw, pitch in ((45, 45), (200, -80), (310, 30)):  # the unit-ball fit: no angle pushes a point out
        canvas.orbit_to(yaw, pitch)
        assert all(inside.contains(view.screen_pos(i)) for i in range(27))


def test_drag_turns_without_selecting_and_click_double_click_work_as_on_the_flat_map(qtbot, view):
    canvas = view.canvas
    before, angles = positions(view), canvas.angles()
    middle = QPoint(canvas.width() // 2, canvas.height() // 2)
    with qtbot.assertNotEmitted(view.selected):
        drag(qtbot, canvas, Qt.NoModifier, [middle, middle + QPoint(40, 0), middle + QPoint(80, 20)])
    assert canvas.angles() == pytest.approx(((angles[0] + 40) % 360, angles[1] + 10))
    assert not np.array_equal(positions(view), before)
    target = 13  # the lattice's centre point
    with qtbot.waitSignal(view.selected, timeout=2000) as picked:
        qtbot.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, view.screen_pos(target))
    assert picked.args == [target] and canvas.selected_row == canvas.points.row_of[target]
    with qtbot.waitSignal(view.query_requested, timeout=2000) as asked:
        qtbot.mouseDClick(canvas, Qt.LeftButton, Qt.NoModifier, view.screen_pos(target))
    assert asked.args == [target]


def test_keyboard_turns_picks_and_queries(qtbot, view):
    canvas = view.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key_Right, Qt.ShiftModifier)
    assert canvas.angles() == pytest.approx((HOME[0] + KEY_STEP, HOME[1]))
    qtbot.keyClick(canvas, Qt.Key_Up, Qt.ShiftModifier)
    assert canvas.angles() == pytest.approx((HOME[0] + KEY_STEP, HOME[1] - KEY_STEP))
    qtbot.keyClick(canvas, Qt.Key_R)
    assert canvas.angles() == HOME
    with qtbot.waitSignal(view.selected, timeout=2000) as first:
        qtbot.keyClick(canvas, Qt.Key_Left)  # the first arrow picks the point nearest the middle
    with qtbot.waitSignal(view.selected, timeout=2000) as second:
        qtbot.keyClick(canvas, Qt.Key_Left)
    picked = second.args[0]
    assert picked != first.args[0] and view.screen_pos(picked).x() < view.screen_pos(first.args[0]).x()
    with qtbot.waitSignal(view.query_requested, timeout=2000) as asked:
        qtbot.keyClick(canvas, Qt.Key_Return)
    assert asked.args == [picked]


def test_a_box_selects_what_is_seen_inside_it(qtbot, view):
    canvas = view.canvas
    canvas.orbit_to(0, 0)  # front view: the box around the lattice's left column holds x = 0 at every depth
    a, b = view.screen_pos(0), view.screen_pos(6)
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as boxed:
        drag(qtbot, canvas, Qt.ShiftModifier, [a + QPoint(-8, 8), a + QPoint(0, 0), b + QPoint(8, -8)])
    assert sorted(boxed.args[0]) == sorted(i for i in range(27) if i % 3 == 0)


def test_the_projection_bar_offers_3d_with_pca_triples(qtbot):
    bar = ProjectionBar()
    qtbot.addWidget(bar)
    assert bar.projection().dims == 2 and bar.dims.toolTip() and bar.dims.accessibleName()
    with qtbot.waitSignal(bar.changed, timeout=2000) as changed:
        bar.dims.setChecked(True)
    assert changed.args[0] == Projection("tsne", dims=3)
    bar.method.setCurrentIndex(bar.method.findData("pca"))
    assert bar.projection() == Projection("pca", components=(1, 2, 3), dims=3)
    assert [bar.components.itemText(k) for k in range(bar.components.count())][0] == "PC1 × PC2 × PC3"
    bar.components.setCurrentIndex(PCA_TRIPLES.index((2, 3, 4)))
    assert bar.projection().components == (2, 3, 4)
    bar.dims.setChecked(False)  # back to 2D: the pair starting at the same component
    assert bar.projection() == Projection("pca", components=(2, 3))
    assert bar.set_projection(Projection("pca", components=(1, 3, 4), dims=3)) and bar.dims.isChecked()
    assert bar.projection() == Projection("pca", components=(1, 3, 4), dims=3)


# --- in the window ---------------------------------------------------------------------
@pytest.fixture
def window(qtbot, query_store, tmp_path):
    root = tmp_path / "S"
    shutil.copytree(query_store, root)
    return open_window(qtbot, root)


def test_the_3d_map_of_the_store_is_computed_cached_queried_and_saved_with_its_angle(qtbot, window):
    panel, view = window.side.map, window.side.map.view
    panel.projection_bar.method.setCurrentIndex(panel.projection_bar.method.findData("pca"))
    panel.projection_bar.dims.setChecked(True)
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.dims == 3, timeout=WAIT_MS)
    assert panel.shown.xy.shape == (27, 3) and view.canvas.is_3d and len(view.visible_ids()) == 27
    assert (panel.retriever().cache / cache_file(Projection("pca", dims=3), 27)).is_file()
    xy = view.canvas.points.xy  # the point farthest (on screen) from any other: a double-click there is unambiguous
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.diag(np.full(len(xy), np.inf))
    target = int(view.canvas.points.ids[int(gaps.min(1).argmax())])
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as answered:
        qtbot.mouseDClick(view.canvas, Qt.LeftButton, Qt.NoModifier, view.screen_pos(target))
    assert answered.args[0].subject.id == target and view.canvas.query_row == view.canvas.points.row_of[target]
    view.canvas.orbit_to(100.0, 10.0)
    panel.save_view("turned")
    view.canvas.orbit_to(*HOME)
    panel.projection_bar.dims.setChecked(False)
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.dims == 2, timeout=WAIT_MS)
    assert not view.canvas.is_3d
    panel.restore_view(panel.saved_views[0])
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.dims == 3, timeout=WAIT_MS)
    assert view.canvas.is_3d and view.canvas.angles() == pytest.approx((100.0, 10.0))
