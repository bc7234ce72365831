"""The map's exploration tools: colour by any field, search highlight, lasso, isolate, projections, saved views.

Model-to-view tests on a small synthetic map, then the panel in the main window on the
tiny query store (projection switches and saved views go through the real engine).
"""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app.models.map_points import NO_VALUE_CODE, PALETTE, RAMP, RAMP_START, MapPoints  # noqa: E402
from app.views.embedding_map import EmbeddingMapView  # noqa: E402
from app.views.map_tools import PCA_PAIRS  # noqa: E402
from inret_engine.retrieval.map_layout import Projection, cache_file  # noqa: E402
from inret_engine.retrieval.map_views import VIEWS_FILE, load_views  # noqa: E402
from inret_engine.store import InrRecord  # noqa: E402
from tests.app.test_wiring import WAIT_MS, open_window  # noqa: E402

ARCHS = ("hash", "octree")
FUNCTIONS = ("sdf", "udf", "occ")


def grid_map() -> tuple[np.ndarray, np.ndarray, dict]:
    """36 points on a 6 x 6 grid (x, y in 0..50 step 10); chamfer = id / 1000, none for id 35."""
    ids = np.arange(36)
    xy = np.stack([(ids % 6) * 10.0, (ids // 6) * 10.0], 1)
    records = {int(i): InrRecord(id=int(i), shape_id=f"s/{i}", name=f"{('mug', 'chair', 'lamp')[i % 3]}_{i:03d}",
                                 category=("mug", "chair", "lamp")[i % 3], split=("train", "test")[i % 2],
                                 arch=ARCHS[i % 2], config_id="c", function=FUNCTIONS[i % 3], file=f"{i}.inr",
                                 sha256="0", chamfer=None if i == 35 else i / 1000, iou=None, fit_seconds=None,
                                 created=0.0) for i in ids}
    return ids, xy, records


def shown_map_view(qtbot, ids, xy, records) -> EmbeddingMapView:
    """A 700 x 560 map view on screen showing these points (also the 3D map tests' view)."""
    v = EmbeddingMapView()
    qtbot.addWidget(v)
    v.resize(700, 560)
    v.show()
    qtbot.waitExposed(v)
    v.set_points(ids, xy, records)
    return v


@pytest.fixture
def view(qtbot):
    return shown_map_view(qtbot, *grid_map())


def at(view, inr_id: int) -> QPoint:
    return view.screen_pos(inr_id)


def legend(view) -> list[str]:
    return [view.legend.item(i).text() for i in range(view.legend.count())]


# --- model ------------------------------------------------------------------------------
def test_colour_by_a_categorical_field_gives_one_palette_colour_per_value():
    points = MapPoints(*grid_map())
    points.set_colour_by("split")
    assert [(v, n) for v, _, n in points.legend] == [("test", 18), ("train", 18)]
    assert points.colour[0] == points.colour[2] != points.colour[1] and points.colour.max() < len(PALETTE)


def test_colour_by_fit_quality_spans_the_ramp_and_greys_missing_values():
    points = MapPoints(*grid_map())
    points.set_colour_by("chamfer")
    assert points.value_range == (0.0, 0.034) and points.legend == []
    assert points.colour[0] == RAMP_START and points.colour[34] == RAMP_START + len(RAMP) - 1
    assert points.colour[35] == NO_VALUE_CODE
    assert list(points.colour[:35]) == sorted(points.colour[:35])  # colour follows the value


def test_one_outlier_does_not_flatten_the_ramp():
    ids, xy, records = grid_map()
    records[0] = InrRecord(**{**records[0].to_dict(), "chamfer": 5.0})
    points = MapPoints(ids, xy, records)
    points.set_colour_by("chamfer")
    _, hi = points.value_range
    assert hi < 0.05 and points.colour[0] == RAMP_START + len(RAMP) - 1  # clipped to the top colour


def test_search_matches_and_lasso_and_isolation_on_the_model():
    points = MapPoints(*grid_map())
    assert points.matching("") is None and points.matching("MUG 00").tolist() == [0, 3, 6, 9]
    triangle = [[-5, -5], [20, -5], [-5, 20]]  # x + y < 15 around the origin corner
    assert sorted(points.in_polygon(triangle).tolist()) == [0, 1, 6]
    points.isolate([0, 1, 6])
    assert points.visible_rows().tolist() == [0, 1, 6] and points.nearest(50, 50, 100) in (0, 1, 6)
    points.isolate(None)
    assert len(points.visible_rows()) == 36


# --- view -------------------------------------------------------------------------------
def test_colour_combo_recolours_and_shows_a_bar_with_values_for_fit_quality(qtbot, view):
    assert view.colour_by() == "category" and "mug  (12)" in legend(view) and view.ramp.isHidden()
    view.colour_combo.setCurrentIndex(view.colour_combo.findData("function"))
    assert view.canvas.points.colour_by == "function" and "SDF  (12)" in legend(view)
    view.colour_combo.setCurrentIndex(view.colour_combo.findData("chamfer"))
    assert view.ramp.isVisible() and view.ramp.ticks() == ["0", "0.017", "0.034"]
    assert "none  (1)" in legend(view) and "Chamfer" in view.ramp.label
    top = view.canvas.grab().toImage().pixelColor(at(view, 34))
    bottom = view.canvas.grab().toImage().pixelColor(at(view, 0))
    assert top.lightness() > bottom.lightness() + 40  # the worst fit is yellow, the best dark blue


def test_search_rings_the_matches_and_dims_the_rest(view):
    image = view.canvas.grab().toImage()
    before = image.pixelColor(at(view, 1)).lightness()
    view.set_search("mug")
    assert sorted(view.canvas.points.ids[view.canvas.search_rows].tolist()) == list(range(0, 36, 3))
    assert "12 match" in view.count.text()
    image = view.canvas.grab().toImage()
    assert image.pixelColor(at(view, 1)).lightness() < before - 40  # a chair, dimmed
    ring = [image.pixelColor(at(view, 0) + QPoint(dx, 0)) for dx in range(4, 10)]
    assert any(c.blue() > 150 and c.blue() > c.red() + 60 for c in ring)  # a mug, ringed in cyan
    view.set_search("")
    assert view.canvas.search_rows is None and "match" not in view.count.text()


def drag(qtbot, canvas, modifier, points: list[QPoint]) -> None:
    qtbot.mousePress(canvas, Qt.LeftButton, modifier, points[0])
    for p in points[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.LeftButton, modifier, points[-1])


def test_ctrl_drag_lasso_selects_inside_then_isolate_and_show_all(qtbot, view):
    canvas = view.canvas
    corner = [canvas.to_screen(np.array(p)) for p in ((-5, -5), (20, -5), (-5, 20))]
    path = [QPoint(int(x), int(y)) for x, y in corner] + [QPoint(int(corner[0][0]), int(corner[0][1]))]
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as lasso:
        drag(qtbot, canvas, Qt.ControlModifier, path)
    assert sorted(lasso.args[0]) == [0, 1, 6]
    assert view.selection_bar.isVisible() and view.isolate_button.text() == "Isolate 3 points"
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as isolated:
        qtbot.mouseClick(view.isolate_button, Qt.LeftButton)
    assert sorted(isolated.args[0]) == [0, 1, 6] and sorted(view.visible_ids()) == [0, 1, 6]
    assert "3 of 36 INRs" in view.count.text() and "Isolated: 3 points" in view.selection_label.text()
    assert view.isolate_button.isHidden() and view.show_all_button.isVisible()
    for inr_id in (0, 1, 6):  # refitted: the isolated points fill the canvas
        assert canvas.rect().adjusted(10, 10, -10, -10).contains(at(view, inr_id))
    assert canvas.scale > 1.5 * 10.0  # zoomed in well past the whole-map fit
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as cleared:
        qtbot.mouseClick(view.show_all_button, Qt.LeftButton)
    assert cleared.args[0] == [] and len(view.visible_ids()) == 36 and not view.selection_bar.isVisible()


def test_isolation_and_colouring_survive_a_new_layout_of_the_same_points(view):
    view.set_colour_by("split")
    view.isolate_ids([3, 4, 5])
    ids, xy, records = grid_map()
    view.set_points(ids, xy[::-1].copy(), records)  # another projection
    assert sorted(view.visible_ids()) == [3, 4, 5] and view.canvas.points.colour_by == "split"


# --- in the window: projections and saved views ----------------------------------------
@pytest.fixture
def window(qtbot, query_store, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    root = tmp_path / "S"
    shutil.copytree(query_store, root)
    w = open_window(qtbot, root)
    yield w
    assert shown == []


def test_pca_is_computed_cached_and_says_its_variance(qtbot, window):
    panel = window.side.map
    messages = []
    panel.message.connect(messages.append)
    bar = panel.projection_bar
    bar.method.setCurrentIndex(bar.method.findData("pca"))
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.method == "pca", timeout=WAIT_MS)
    assert len(panel.view.visible_ids()) == 27 and panel.shown.explained[0] >= panel.shown.explained[1] > 0
    assert any(m.startswith("PCA of 27 INRs: PC1 explains") for m in messages)
    cache = panel.retriever().cache
    assert (cache / cache_file(Projection("pca"), 27)).is_file()
    bar.components.setCurrentIndex(PCA_PAIRS.index((2, 3)))
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.components == (2, 3), timeout=WAIT_MS)
    import app.map_panel

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.map_panel, "map_job", lambda *a: pytest.fail("a map seen before was computed again"))
        bar.method.setCurrentIndex(bar.method.findData("tsne"))  # back to t-SNE: from memory, no job
        assert panel.shown.projection.method == "tsne"
    bar.perplexity.setValue(5)
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.perplexity == 5.0, timeout=WAIT_MS)


def test_a_saved_view_is_kept_in_the_store_and_restores_projection_colours_isolation_and_zoom(qtbot, window):
    panel, view = window.side.map, window.side.map.view
    bar = panel.projection_bar
    bar.method.setCurrentIndex(bar.method.findData("pca"))
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.method == "pca", timeout=WAIT_MS)
    view.set_colour_by("function")
    some = sorted(view.visible_ids())[:9]
    view.isolate_ids(some)
    assert window.gallery.shown() == 9  # the isolated points narrow the gallery
    box = view.canvas.view_box()
    query = some[0]
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        window.query_id(query)
    panel.save_view("nine by function")
    saved = json.loads((window.store.cache_dir / VIEWS_FILE).read_text())
    assert [v["name"] for v in saved["views"]] == ["nine by function"] and saved["views"][0]["query"] == query
    view.show_all()
    view.set_colour_by("category")
    bar.method.setCurrentIndex(bar.method.findData("tsne"))
    assert window.gallery.shown() == 27 and panel.shown.projection.method == "tsne"

    window.reload()  # the views come back from the store
    qtbot.waitUntil(lambda: panel.shown is not None, timeout=WAIT_MS)
    assert [v.name for v in panel.saved_views] == ["nine by function"]
    names = [a.text() for a in panel.views_button.menu().actions()]
    assert "nine by function" in names
    assert window.controller.outcome is None  # a reload forgets the query; the view brings it back
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as answered:
        panel.restore_view(panel.saved_views[0])
    assert answered.args[0].subject.id == query
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.projection.method == "pca", timeout=WAIT_MS)
    assert bar.method.currentData() == "pca" and view.colour_by() == "function"
    assert sorted(view.visible_ids()) == some and window.gallery.shown() == 9
    assert np.allclose(view.canvas.view_box(), box, rtol=0.05, atol=1e-3)
    panel.delete_view("nine by function")
    assert load_views(window.store.cache_dir) == [] and panel.saved_views == []


def test_the_gallery_search_is_highlighted_on_the_map(qtbot, window):
    window.gallery.search.setText("chair")
    view = window.side.map.view
    matches = view.canvas.points.ids[view.canvas.search_rows]
    assert len(matches) == 9 and all(window.store.catalog.inr(int(i)).category == "chair" for i in matches)
