"""The t-SNE map, the cutaway panel and the 3D view: model to view, signals, missing data, bad records.

Run headless (``xvfb-run -a python -m pytest tests/app/test_panels.py``). The 3D view test
needs an OpenGL window: it runs with ``QT_QPA_PLATFORM=xcb`` under xvfb-run and is
skipped under the default offscreen platform.
"""

import dataclasses
import time

import numpy as np
import pytest
import torch

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.views.cutaways import CutawayPanel  # noqa: E402
from app.views.embedding_map import EmbeddingMapView  # noqa: E402
from app.views.shape_view import ShapeView  # noqa: E402
from inret_engine.data.sampling import sample_ground_truth  # noqa: E402
from inret_engine.fit import FitSettings, fit  # noqa: E402
from inret_engine.functions import ImplicitFunction  # noqa: E402
from inret_engine.progress import run_to_end  # noqa: E402
from inret_engine.render.jobs import siblings  # noqa: E402
from inret_engine.store import InrRecord, ShapeINR, Store  # noqa: E402
from tests.conftest import TINY_CONFIGS, geometry_of  # noqa: E402

N = 10_000
ARCHS = ("hash", "mlp", "octree", "triplane")
CLUSTER = range(9000, 9990)
"""Ids of a tight cluster far from the rest (inside [60, 70]^2)."""
LONERS = range(9990, 10_000)
"""Ids of isolated points on a row at y = -60, 12 units apart."""


# --- fixtures ---------------------------------------------------------------------------
def synthetic_map() -> tuple[np.ndarray, np.ndarray, dict]:
    """10,000 points: a blob around the origin, a far cluster, and a row of isolated points."""
    rng = np.random.default_rng(0)
    xy = np.empty((N, 2))
    xy[:9000] = np.clip(rng.normal(scale=10.0, size=(9000, 2)), -30, 30)
    xy[9000:9990] = rng.uniform(60, 70, size=(990, 2))
    xy[9990:] = np.stack([-60.0 + 12.0 * np.arange(10), np.full(10, -60.0)], 1)
    records = {i: InrRecord(id=i, shape_id=f"synth/{i}", name=f"shape_{i:05d}", category=f"cat{i % 12}",
                            split="test", arch=ARCHS[i % 4], config_id=f"{ARCHS[i % 4]}-0",
                            function=("sdf", "udf", "occ")[i % 3], file=f"inrs/{i}.inr", sha256=f"{i:064x}",
                            chamfer=None, iou=None, fit_seconds=None, created=0.0) for i in range(N)}
    return np.arange(N), xy, records


@pytest.fixture
def map_view(qtbot):
    view = EmbeddingMapView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_points(*synthetic_map())
    return view


@pytest.fixture(scope="module")
def panel_store(tmp_path_factory):
    """A box with SDF, UDF and Occ INRs and a ring with only an SDF one (tiny triplanes, seconds)."""
    import trimesh

    root = tmp_path_factory.mktemp("panels") / "S"
    config = TINY_CONFIGS["triplane"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with Store.create(root) as store:
            shapes, gts = [], []
            for name, mesh in (("box", trimesh.creation.box(extents=(1.0, 0.6, 0.4))),
                               ("ring", trimesh.creation.torus(0.6, 0.2))):
                geom = geometry_of(mesh)
                gts.append(sample_ground_truth(geom, n_uniform=2000, n_surface=1000, n_near=2000, n_eval_surface=200))
                shapes.append(store.add_shape(shape_id=f"test/{name}", name=name, category=name, split="test",
                                              source="test", gt=gts[-1], normalization=geom.normalization.to_dict(),
                                              is_point_cloud=False))
            for function in ImplicitFunction:
                n = 2 if function is ImplicitFunction.SDF else 1  # the ring has an SDF INR only
                field = run_to_end(fit(config, function, gts[:n], [s.shape_id for s in shapes[:n]],
                                   FitSettings(steps=20, points_per_step=1024)))
                for i in range(n):
                    store.add_inr(ShapeINR(config, function, field.inr_tensors(i), labels={"name": shapes[i].name}),
                                  shape=shapes[i])
    finally:
        torch.set_num_threads(threads)
    store = Store.open(root)
    yield store
    store.close()


def record(store, name: str, function: str) -> InrRecord:
    return next(r for r in store.records(function=function) if r.name == name)


def canvas_pos(view: EmbeddingMapView, inr_id: int) -> QPoint:
    return view.screen_pos(inr_id)


# --- t-SNE map ------------------------------------------------------------------------
def test_map_holds_every_point_with_legend_and_arch_boxes(map_view):
    assert len(map_view.canvas.points) == N and len(map_view.visible_ids()) == N
    assert sorted(map_view.arch_boxes) == sorted(ARCHS)
    legend = [map_view.legend.item(i).text() for i in range(map_view.legend.count())]
    assert "cat0  (834)" in legend and any(t.startswith("UDF") for t in legend)
    assert "10,000 INRs" in map_view.count.text()
    for inr_id in LONERS:  # every point is drawn inside the canvas
        assert map_view.canvas.rect().contains(canvas_pos(map_view, inr_id))


def test_shift_drag_box_selects_exactly_the_points_inside(qtbot, map_view):
    canvas = map_view.canvas
    a, b = (QPoint(*map(int, canvas.to_screen(np.array(c)))) for c in ((58.0, 72.0), (72.0, 58.0)))
    with qtbot.waitSignal(map_view.selection_changed, timeout=2000) as blocker:
        qtbot.mousePress(canvas, Qt.LeftButton, Qt.ShiftModifier, a)
        qtbot.mouseMove(canvas, (a + b) / 2)
        qtbot.mouseMove(canvas, b)
        qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.ShiftModifier, b)
    assert blocker.args[0] == list(CLUSTER)
    assert map_view.selection() == list(CLUSTER) and "990 selected" in map_view.count.text()
    with qtbot.waitSignal(map_view.selection_changed, timeout=2000) as cleared:
        qtbot.mouseClick(canvas, Qt.LeftButton, pos=QPoint(5, 5))  # a click on empty space clears the box
    assert cleared.args[0] == [] and map_view.selection() == []


def test_click_selects_and_double_click_asks_for_a_query(qtbot, map_view):
    target = LONERS[3]
    with qtbot.waitSignal(map_view.selected, timeout=2000) as clicked:
        qtbot.mouseClick(map_view.canvas, Qt.LeftButton, pos=canvas_pos(map_view, target) + QPoint(2, -1))
    assert clicked.args == [target]
    with qtbot.waitSignal(map_view.query_requested, timeout=2000) as asked:
        qtbot.mouseDClick(map_view.canvas, Qt.LeftButton, pos=canvas_pos(map_view, LONERS[5]))
    assert asked.args == [LONERS[5]]
    with qtbot.assertNotEmitted(map_view.selected):
        qtbot.mouseClick(map_view.canvas, Qt.LeftButton, pos=canvas_pos(map_view, target) + QPoint(0, 30))


def test_unticking_an_architecture_hides_its_points(qtbot, map_view):
    mlp = [i for i in LONERS if ARCHS[i % 4] == "mlp"][0]
    map_view.arch_boxes["mlp"].trigger()  # an entry of the "Architectures" menu
    assert map_view.arch_button.text() == "Architectures: 3 of 4"
    visible = set(map_view.visible_ids())
    assert len(visible) == N - N // 4 and not any(ARCHS[i % 4] == "mlp" for i in visible)
    assert "7,500 of 10,000" in map_view.count.text()
    with qtbot.assertNotEmitted(map_view.selected):
        qtbot.mouseClick(map_view.canvas, Qt.LeftButton, pos=canvas_pos(map_view, mlp))
    map_view.set_arch_visible("mlp", True)
    assert len(map_view.visible_ids()) == N
    with qtbot.waitSignal(map_view.selected, timeout=2000) as clicked:
        qtbot.mouseClick(map_view.canvas, Qt.LeftButton, pos=canvas_pos(map_view, mlp))
    assert clicked.args == [mlp]


def test_arrow_keys_move_between_points_and_enter_queries(qtbot, map_view):
    canvas = map_view.canvas
    canvas.setFocus()
    with qtbot.waitSignal(map_view.selected, timeout=2000) as first:
        qtbot.keyClick(canvas, Qt.Key_Right)  # nothing picked yet: the point nearest the middle
    middle = canvas.points.nearest(*canvas.center, np.inf)
    assert first.args == [int(canvas.points.ids[middle])] and not map_view.card.isHidden()
    with qtbot.waitSignal(map_view.selected, timeout=2000):
        qtbot.mouseClick(canvas, Qt.LeftButton, pos=canvas_pos(map_view, LONERS[3]))
    for expected in (LONERS[4], LONERS[5]):  # the isolated row at y = -60, 12 units apart
        with qtbot.waitSignal(map_view.selected, timeout=2000) as step:
            qtbot.keyClick(canvas, Qt.Key_Right)
        assert step.args == [expected]
    with qtbot.waitSignal(map_view.selected, timeout=2000) as back:
        qtbot.keyClick(canvas, Qt.Key_Left)
    assert back.args == [LONERS[4]]
    with qtbot.waitSignal(map_view.query_requested, timeout=2000) as query:
        qtbot.keyClick(canvas, Qt.Key_Return)
    assert query.args == [LONERS[4]]
    scale = canvas.scale
    qtbot.keyClick(canvas, Qt.Key_Plus)
    assert canvas.scale == pytest.approx(scale * 1.25)
    qtbot.keyClick(canvas, Qt.Key_0)
    assert canvas.scale == pytest.approx(scale)


def _pixel(view: EmbeddingMapView, pos: QPoint) -> QColor:
    return view.canvas.grab().toImage().pixelColor(pos)


def test_highlight_rings_the_query_and_dims_the_rest(map_view):
    query, neighbours, other = LONERS[0], [LONERS[1], LONERS[2]], LONERS[7]
    before = _pixel(map_view, canvas_pos(map_view, other)).lightness()
    map_view.highlight(query, neighbours)
    assert map_view.canvas.points.ids[map_view.canvas.query_row] == query
    ring = _pixel(map_view, canvas_pos(map_view, query) + QPoint(11, 0))
    assert ring.red() > 200 and ring.green() > 150 and ring.blue() < 140  # the yellow query ring
    assert _pixel(map_view, canvas_pos(map_view, neighbours[0]) + QPoint(0, -7)).lightness() > 200  # white ring
    assert _pixel(map_view, canvas_pos(map_view, other)).lightness() < before  # dimmed
    map_view.highlight(None)
    assert map_view.canvas.query_row == -1
    assert _pixel(map_view, canvas_pos(map_view, other)).lightness() == before


def test_wheel_zooms_around_the_cursor_and_drag_pans(qtbot, map_view):
    canvas = map_view.canvas
    pos = QPointF(canvas_pos(map_view, LONERS[4]))
    anchor, scale = canvas.to_map(pos), canvas.scale
    event = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(), QPoint(0, 240), Qt.NoButton, Qt.NoModifier,
                        Qt.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)
    assert canvas.scale > 1.3 * scale and np.allclose(canvas.to_map(pos), anchor)
    start = canvas_pos(map_view, LONERS[4])
    qtbot.mousePress(canvas, Qt.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(20, 10))
    qtbot.mouseMove(canvas, start + QPoint(40, 20))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=start + QPoint(40, 20))
    assert canvas_pos(map_view, LONERS[4]) == start + QPoint(40, 20)


def test_hover_shows_a_card_and_asks_for_the_thumbnail(qtbot, map_view):
    target = LONERS[6]
    with qtbot.waitSignal(map_view.thumbnail_wanted, timeout=2000) as wanted:
        qtbot.mouseMove(map_view.canvas, canvas_pos(map_view, target))
    assert wanted.args[0].id == target
    assert map_view.card.isVisible() and f"shape_{target:05d}" in map_view.card.text.text()
    image = QImage(64, 64, QImage.Format_RGB32)
    image.fill(QColor("#4a86d6"))
    map_view.set_thumbnail(target, image)
    assert not map_view.card.image.pixmap().isNull()


def test_map_paint_and_hover_hit_test_times_at_10k_points(map_view, capsys):
    """Prints the figures (no timing asserts: the machine is shared)."""
    canvas = map_view.canvas
    image = QImage(canvas.size(), QImage.Format_ARGB32_Premultiplied)
    frames = []
    for _ in range(15):
        start = time.perf_counter()
        canvas.render(image)
        frames.append((time.perf_counter() - start) * 1000)
    rng = np.random.default_rng(1)
    spots = [QPointF(x, y) for x, y in rng.uniform(0, min(canvas.width(), canvas.height()), (2000, 2))]
    start = time.perf_counter()
    hits = sum(canvas.row_at(p) >= 0 for p in spots)
    hit_us = (time.perf_counter() - start) / len(spots) * 1e6
    with capsys.disabled():
        print(f"\n[map 10k] paint {np.median(frames):.2f} ms/frame (median of 15), "
              f"hover hit-test {hit_us:.1f} us/call ({hits} of {len(spots)} on a point)")
    assert hits > 0


# --- cutaway panel --------------------------------------------------------------------
@pytest.fixture
def cutaways(qtbot):
    panel = CutawayPanel(size=64, resolution=33, throttle_ms=10)
    qtbot.addWidget(panel)
    panel.resize(600, 500)
    yield panel
    panel.shutdown()


def test_siblings_prefer_the_records_own_inrs(panel_store):
    box = siblings(panel_store, record(panel_store, "box", "udf"))
    assert list(box) == ["sdf", "udf", "occ"] and all(r.name == "box" for r in box.values())
    assert list(siblings(panel_store, record(panel_store, "ring", "sdf"))) == ["sdf"]


@pytest.mark.slow
def test_cutaway_shows_sdf_and_udf_side_by_side(qtbot, cutaways, panel_store):
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.show_shape(panel_store, record(panel_store, "box", "sdf"))
        assert cutaways.renders["sdf"].image is None  # nothing rendered on the GUI thread
    for function in ("sdf", "udf"):
        assert cutaways.renders[function].image is not None and cutaways.slices[function].image is not None
        assert not cutaways.renders[function].isHidden()
    assert cutaways.renders["occ"].isHidden() and cutaways.show_occ.isEnabled()
    assert "no " not in cutaways.message.text().lower() and "box" in cutaways.message.text()
    before = cutaways.slices["sdf"].image.toImage()
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.set_plane("x", 0.3)
    assert cutaways.plane() == ("x", 0.3) and cutaways.slices["sdf"].image.toImage() != before
    cutaways.offset.setSliderDown(True)  # dragging: half-size previews, then full size on release
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.offset.setValue(10)
    assert cutaways.renders["sdf"].image.width() == 32
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.offset.setSliderDown(False)
    assert cutaways.renders["sdf"].image.width() == 64 and cutaways.plane() == ("x", 0.1)
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.show_occ.setChecked(True)
    assert not cutaways.renders["occ"].isHidden() and cutaways.renders["occ"].image is not None
    assert {"slice", "render"} <= set(cutaways.last_ms["sdf"])


def test_an_occ_record_shows_its_own_cutaway_on_a_dark_background_with_colour_bars(qtbot, cutaways, panel_store):
    from inret_engine.render.shading import Style

    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.show_shape(panel_store, record(panel_store, "box", "occ"))
    assert not cutaways.show_occ.isChecked() and not cutaways.show_occ.isEnabled()
    for function in ("sdf", "udf", "occ"):
        assert not cutaways.renders[function].isHidden() and cutaways.renders[function].image is not None
        assert not cutaways.bars[function].isHidden() and cutaways.bars[function].height() >= 20
    assert "selected" in cutaways.titles["occ"].text()
    corner = cutaways.renders["sdf"].image.toImage().pixelColor(0, 0)
    assert (corner.red(), corner.green(), corner.blue()) == Style.on_dark().background
    assert cutaways.bars["sdf"].ticks() == ["−0.5", "−0.1", "0", "0.1", "0.5"]
    assert cutaways.bars["udf"].ticks() == ["0", "0.025", "0.05", "0.075", "0.1"]
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.show_shape(panel_store, record(panel_store, "box", "sdf"))
    assert cutaways.renders["occ"].isHidden() and cutaways.show_occ.isEnabled()


def test_cutaway_says_which_function_is_missing(qtbot, cutaways, panel_store):
    with qtbot.waitSignal(cutaways.finished, timeout=60_000):
        cutaways.show_shape(panel_store, record(panel_store, "ring", "sdf"))
    assert "no UDF INR of ring" in cutaways.message.text()
    assert cutaways.renders["udf"].image is None and "No UDF INR" in cutaways.renders["udf"].text()
    assert cutaways.renders["sdf"].image is not None and not cutaways.show_occ.isEnabled()


def test_cutaway_shows_an_error_for_a_damaged_record(qtbot, cutaways, panel_store):
    bad = dataclasses.replace(record(panel_store, "box", "sdf"), file="inrs/gone.inr")
    with qtbot.waitSignal(cutaways.failed, timeout=60_000) as failed:
        cutaways.show_shape(panel_store, bad)
    qtbot.waitUntil(lambda: not cutaways.busy(), timeout=60_000)
    assert "gone.inr" in failed.args[0] and "Cannot show" in cutaways.renders["sdf"].text()
    assert "gone.inr" in cutaways.message.text()
    assert cutaways.renders["udf"].image is not None  # the good INR still shows


# --- 3D view --------------------------------------------------------------------------
def test_shape_view_falls_back_to_a_label_without_opengl(qtbot, panel_store):
    view = ShapeView(use_gl=False, resolution=33)
    qtbot.addWidget(view)
    assert not view.has_gl() and not view.fallback.isHidden() and "unavailable" in view.fallback.text()
    with qtbot.waitSignal(view.shown, timeout=60_000) as shown:
        view.show_record(panel_store, record(panel_store, "box", "sdf"))
    assert shown.args == [1] and view.actor_count() == 0 and "triangles" in view.fallback.text()
    bad = dataclasses.replace(record(panel_store, "box", "udf"), file="inrs/gone.inr")
    with qtbot.waitSignal(view.failed, timeout=60_000):
        view.show_pair(panel_store, record(panel_store, "box", "sdf"), bad)
    qtbot.waitUntil(lambda: "gone.inr" in view.status.text(), timeout=5000)


def test_shape_view_shows_meshes_and_releases_its_render_window(qtbot, panel_store):
    view = ShapeView(resolution=33)
    qtbot.addWidget(view)
    if not view.has_gl():
        view.shutdown()
        pytest.skip(f"no OpenGL here ({view.gl_error}); run with QT_QPA_PLATFORM=xcb under xvfb-run")
    view.resize(600, 400)
    view.show()
    with qtbot.waitSignal(view.shown, timeout=60_000):
        view.show_record(panel_store, record(panel_store, "box", "sdf"))
    assert view.actor_count() == 1
    with qtbot.waitSignal(view.shown, timeout=60_000) as shown:
        view.show_pair(panel_store, record(panel_store, "box", "sdf"), record(panel_store, "ring", "sdf"))
    assert shown.args == [2] and view.actor_count() == 2
    view.overlay.setChecked(True)
    assert view.actor_count() == 2
    view.close()
    assert view.plotter is None
    import pyvista.plotting.plotter as pv_plotter

    assert not [p for p in getattr(pv_plotter, "_ALL_PLOTTERS", {}).values() if getattr(p, "render_window", None)]


def _ndc(view: ShapeView, points: np.ndarray) -> np.ndarray:
    """Normalised device coordinates (-1..1 across the viewport) of world points, as the renderer projects them."""
    aspect = view.plotter.width() / view.plotter.height()
    m = view.plotter.camera.GetCompositeProjectionTransformMatrix(aspect, -1, 1)
    mat = np.array([[m.GetElement(i, j) for j in range(4)] for i in range(4)])
    h = np.c_[points, np.ones(len(points))] @ mat.T
    return h[:, :2] / h[:, 3:4]


def test_shape_view_frames_every_vertex_and_slices_the_shape(qtbot, panel_store):
    view = ShapeView(resolution=33)
    qtbot.addWidget(view)
    sdf = record(panel_store, "box", "sdf")
    view.resize(700, 300)  # a wide, short view: a fit to the bounding sphere then zoom cut shapes off
    view.show()
    with qtbot.waitSignal(view.shown, timeout=60_000):
        view.show_record(panel_store, sdf)
    with qtbot.waitSignal(view.slice_shown, timeout=60_000) as sliced:
        view.slice_box.setChecked(True)
    rgb = sliced.args[0]
    assert rgb.shape == (160, 160, 4) and rgb.dtype == np.uint8
    inside = rgb[80, 80].astype(int)  # the plane z = 0 through the box's middle: SDF blue inside, opaque
    assert inside[2] > inside[0] + 40 and inside[3] == 255 and rgb[2, 2, 3] < 255  # see-through outside
    with qtbot.waitSignal(view.slice_shown, timeout=60_000) as moved:
        view.slice_slider.setValue(90)  # z = 0.9: outside the box, orange all over
    assert view.slice_label.text() == "z = +0.90" and moved.args[0][80, 80, 0] > moved.args[0][80, 80, 2]
    if not view.has_gl():
        view.shutdown()
        pytest.skip(f"framing needs OpenGL ({view.gl_error}); run with QT_QPA_PLATFORM=xcb under xvfb-run")
    assert "inr-slice" in view.plotter.actors
    vertices = np.concatenate(view.drawn_points)
    ndc = _ndc(view, vertices)
    assert np.abs(ndc).max() <= 1.0 and np.abs(ndc).max() > 0.8  # all of it in view, and not lost in space
    view.resize(260, 420)  # a narrow view (the old fit-the-sphere-then-zoom cut the box's ends off: |x| 1.01)
    qtbot.waitUntil(lambda: view.plotter.width() < 300, timeout=5000)
    view.reset_camera()
    ndc = _ndc(view, np.concatenate(view.drawn_points))
    assert np.abs(ndc).max() <= 1.0 and np.abs(ndc).max() > 0.8
    with qtbot.waitSignal(view.slice_shown, timeout=5000) as off:
        view.slice_box.setChecked(False)
    assert off.args[0] is None and "inr-slice" not in view.plotter.actors
    view.close()
