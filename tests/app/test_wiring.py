"""The side panels wired into the main window: map <-> gallery, map -> queries, selection -> cutaways / 3D."""

import shutil
import time

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.map_panel import NO_ENCODER_MAP  # noqa: E402
from app.views.cutaways import CutawayPanel  # noqa: E402
from app.views.embedding_map import EmbeddingMapView  # noqa: E402
from app.views.shape_view import ShapeView  # noqa: E402
from inret_engine.retrieval.results import QuerySubject  # noqa: E402

WAIT_MS = 60_000


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    return shown


def pickable(window, function: str):
    """A record of ``function`` whose map point is the one a click at its position hits (points may overlap)."""
    view = window.side.map.view
    for record in window.store.records(function=function):
        row = view.canvas.row_at(QPointF(view.screen_pos(record.id)))
        if row >= 0 and int(view.canvas.points.ids[row]) == record.id:
            return record
    pytest.fail(f"every {function} point on the map lies under another one")


def open_window(qtbot, root):
    window = MainWindow()
    qtbot.addWidget(window)
    side = window.side
    side.cutaways.image_size, side.cutaways.resolution = 48, 25  # tiny images: the wiring is under test
    side.shape_view.resolution = 25
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    started = time.perf_counter()
    window.open_store(root)
    qtbot.waitUntil(lambda: window.side.map.shown is not None, timeout=WAIT_MS)
    window.map_seconds = time.perf_counter() - started
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=WAIT_MS)
    return window


@pytest.fixture
def window(qtbot, query_store, errors):
    w = open_window(qtbot, query_store)
    yield w
    assert errors == []


def test_the_side_panels_are_the_real_panels(window):
    panels = window.panels
    assert isinstance(panels["map"].view, EmbeddingMapView)
    assert isinstance(panels["cutaways"], CutawayPanel) and isinstance(panels["3d"], ShapeView)
    details = window.side.details
    assert [details.tabText(i) for i in range(details.count())] == ["Cutaways", "3D"]


def test_the_map_gets_every_embedded_inr_after_the_store_opens(qtbot, window, query_store):
    view, result = window.side.map.view, window.side.map.shown
    ids = {r.id for r in window.store.records()}  # the tiny hash encoder embeds every INR of the store
    assert set(view.visible_ids()) == ids and set(result.ids.tolist()) == ids
    assert np.isfinite(result.xy).all() and "27 INRs" in view.count.text()
    assert view.canvas.message == "" and not window.side.map.chooser_bar.isVisibleTo(window)
    print(f"\n[wiring] store open -> map on screen: {window.map_seconds:.2f} s "
          f"({'cached' if result.cached else 't-SNE'})")
    started = time.perf_counter()
    window.reload()  # the layout is cached beside the index: a reload shows it without t-SNE
    assert window.side.map.shown is None
    qtbot.waitUntil(lambda: window.side.map.shown is not None, timeout=WAIT_MS)
    assert window.side.map.shown.cached and set(view.visible_ids()) == ids
    print(f"[wiring] reload -> map from its cache: {time.perf_counter() - started:.2f} s")


def test_a_box_selection_on_the_map_narrows_the_gallery_and_show_all_clears_it(qtbot, window):
    view = window.side.map.view
    canvas = view.canvas
    pts = canvas.points
    centre = pts.xy.mean(0)
    left = pts.xy[:, 0] < centre[0]  # the left half of the map, by a real Shift+drag
    wanted = sorted(int(i) for i in pts.ids[left])
    a = QPoint(2, 2)
    b = QPoint(int(canvas.to_screen(centre)[0]), canvas.height() - 2)
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as box:
        qtbot.mousePress(canvas, Qt.LeftButton, Qt.ShiftModifier, a)
        qtbot.mouseMove(canvas, (a + b) / 2)
        qtbot.mouseMove(canvas, b)
        qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.ShiftModifier, b)
    assert sorted(box.args[0]) == wanted and 0 < len(wanted) < 27
    gallery = window.gallery
    assert sorted(gallery.proxy.record(r).id for r in range(gallery.shown())) == wanted
    assert window.map_filter.isVisible() and f"{len(wanted)}</b> selected on the map" in window.map_filter.text()
    assert window.count.text() == f"{len(wanted)} of 27 INRs"
    functions = [window.store.catalog.inr(i).function for i in wanted]
    narrowing = next(f for f in ("sdf", "udf", "occ") if functions.count(f) < len(wanted))  # the map decides which
    gallery.set_filter("function", narrowing)  # the other filters still apply on top
    kept = functions.count(narrowing)
    assert gallery.shown() == kept and f"({kept} of them match the filters)" in window.map_filter.text()
    gallery.set_filter("function", None)
    window.map_filter.linkActivated.emit("all")  # "Show all"
    assert gallery.shown() == 27 and view.selection() == [] and not window.map_filter.isVisible()


def test_esc_on_the_map_clears_its_box_though_esc_also_cancels_jobs(qtbot, window):
    canvas = window.side.map.view.canvas
    a, b = QPoint(2, 2), QPoint(canvas.width() - 2, canvas.height() - 2)
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.ShiftModifier, a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.ShiftModifier, b)
    assert window.map_filter.isVisible()
    window.activateWindow()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key_Escape)  # without the override the window's "Cancel job" shortcut takes it
    assert not window.map_filter.isVisible() and window.gallery.shown() == 27


def test_a_double_click_on_the_map_queries_and_the_map_rings_the_hits(qtbot, window):
    view = window.side.map.view
    record = pickable(window, "udf")
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as answered:
        qtbot.mouseDClick(view.canvas, Qt.LeftButton, pos=view.screen_pos(record.id))
    outcome = answered.args[0]
    assert outcome.subject.record == record and outcome.hits
    first = window.results.model.item(0)
    assert isinstance(first, QuerySubject) and first.record == record
    canvas, hit_ids = view.canvas, [h.record.id for h in outcome.hits]
    assert int(canvas.points.ids[canvas.query_row]) == record.id
    assert sorted(int(i) for i in canvas.points.ids[canvas.neighbour_rows]) == sorted(hit_ids)


def test_a_click_on_the_map_selects_the_shape_everywhere(qtbot, window):
    view, side = window.side.map.view, window.side
    record = pickable(window, "sdf")
    with qtbot.waitSignal(side.cutaways.finished, timeout=WAIT_MS):
        with qtbot.waitSignal(window.record_selected, timeout=5000) as selected:
            qtbot.mouseClick(view.canvas, Qt.LeftButton, pos=view.screen_pos(record.id))
    assert selected.args == [record] and window.gallery.current_record() == record  # the gallery follows
    assert int(view.canvas.points.ids[view.canvas.selected_row]) == record.id
    assert side.cutaways.records["sdf"] == record and side.cutaways.records["udf"].shape_id == record.shape_id


def test_a_gallery_selection_shows_its_cutaways_then_its_3d_view(qtbot, window):
    side, gallery = window.side, window.gallery
    row = 7
    record = gallery.proxy.record(row)
    with qtbot.waitSignal(side.cutaways.finished, timeout=WAIT_MS):
        gallery.list.setCurrentIndex(gallery.proxy.index(row, 0))
    shown = side.cutaways.records
    assert shown[record.function] == record and set(shown) == {"sdf", "udf", "occ"}
    assert {r.shape_id for r in shown.values()} == {record.shape_id}
    for function in ("sdf", "udf"):
        assert side.cutaways.renders[function].image is not None and side.cutaways.slices[function].image is not None
    assert record.name in side.cutaways.message.text()
    view = side.map.view
    assert int(view.canvas.points.ids[view.canvas.selected_row]) == record.id
    with qtbot.waitSignal(side.shape_view.shown, timeout=WAIT_MS) as meshed:  # the 3D tab catches up when opened
        side.details.setCurrentIndex(1)
    assert meshed.args == [1] and side.shape_view.meshes[0].record == record


def test_a_selected_result_shows_beside_its_query_in_3d(qtbot, window):
    side = window.side
    side.details.setCurrentIndex(1)
    query = window.store.records(function="sdf")[0]
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as answered:
        window.controller.query_record(query)
    hit = answered.args[0].hits[0].record
    assert not side.pair.isEnabled()
    with qtbot.waitSignal(side.shape_view.shown, timeout=WAIT_MS) as meshed:
        window.results.selected.emit(hit)  # as a click on the result card
    assert side.pair.isEnabled() and meshed.args == [2]
    assert [m.record for m in side.shape_view.meshes] == [answered.args[0].subject, hit]
    with qtbot.waitSignal(side.shape_view.shown, timeout=WAIT_MS) as alone:
        side.pair.setChecked(False)
    assert alone.args == [1] and side.shape_view.meshes[0].record == hit


def test_a_query_becomes_the_selection_so_its_cutaways_show(qtbot, window):
    side = window.side
    record = window.store.records(function="occ")[2]
    with qtbot.waitSignal(side.cutaways.finished, timeout=WAIT_MS):
        with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as answered:
            window.controller.query_record(record)  # as --query NAME does: no click on it first
    assert side.current == record and window.gallery.current_record() == record
    occ = side.cutaways.renders["occ"]
    assert not occ.isHidden() and occ.image is not None  # an Occ INR shows its own function
    assert "selected" in side.cutaways.titles["occ"].text() and "selected" not in side.cutaways.titles["sdf"].text()
    hit = answered.args[0].hits[0].record
    window.results.selected.emit(hit)  # the user picks a result, then asks for fewer results
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        window.k_spin.setValue(3)
    assert side.current == hit


def test_a_query_from_a_file_shows_its_own_cutaway(qtbot, window, tmp_path):
    side = window.side
    record = window.store.records(function="udf")[4]
    dropped = tmp_path / "mine.inr"
    shutil.copyfile(window.store.root / record.file, dropped)
    with qtbot.waitSignal(side.cutaways.finished, timeout=WAIT_MS):
        window.controller.query_file(dropped)
        assert "preparing" in window.results.header.text() and "mine.inr" in window.results.header.text()
        assert "Preparing mine.inr" in window.results.notice.text()  # at once, before the file is read
    subject = window.controller.subject
    assert subject.record is None and side.current is subject
    assert list(side.cutaways.records) == ["udf"] and side.cutaways.renders["udf"].image is not None
    assert side.cutaways.renders["sdf"].isHidden() and "not in the store" in side.cutaways.message.text()


def test_hovering_a_map_point_brings_its_thumbnail(qtbot, window):
    view = window.side.map.view
    record = window.store.records()[3]
    assert record.id not in view._thumbs
    with qtbot.waitSignal(window.gallery.loader.ready, timeout=WAIT_MS,
                          check_params_cb=lambda inr_id, _image: inr_id == record.id):
        view.thumbnail_wanted.emit(record)  # as the hover card does for a point without a thumbnail
    assert not view._thumbs[record.id].isNull()


@pytest.mark.slow
def test_a_store_without_an_encoder_says_so_on_the_map(qtbot, bare_store, query_store, errors, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.runner.idle, timeout=WAIT_MS):
        window.open_store(bare_store)
    assert window.side.map.shown is None and window.side.map.view.canvas.message == NO_ENCODER_MAP
    record = window.store.records(function="occ")[0]
    with qtbot.waitSignal(window.side.cutaways.finished, timeout=WAIT_MS):  # the panels still work
        window.select_id(record.id)
    assert window.side.cutaways.records["occ"] == record
    window.open_store(query_store)  # another store: the panels start over, the map follows
    assert window.side.current is None and window.side.cutaways.records == {}
    qtbot.waitUntil(lambda: window.side.map.shown is not None, timeout=WAIT_MS)
    assert errors == []


def test_a_cancelled_map_says_how_to_get_it(qtbot, query_store, errors, tmp_path):
    root = tmp_path / "S"
    shutil.copytree(query_store, root)
    for cached in root.rglob("map-*.npz"):  # force a t-SNE run
        cached.unlink()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_store(root)
    qtbot.waitUntil(lambda: window.runner.label == "Map (t-SNE)", timeout=WAIT_MS)
    with qtbot.waitSignal(window.runner.idle, timeout=WAIT_MS):
        window.runner.cancel()
    if window.side.map.shown is None:  # the job may have finished before the cancel reached it
        assert "cancelled" in window.side.map.view.canvas.message
    assert errors == []
