"""The query flow: double-click -> results, drops of .inr / mesh / bad files, export, encoders."""

import csv
import json
import shutil
import time

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.models.gallery_model import ThumbnailStateRole  # noqa: E402
from app.models.results_model import IsQueryRole, MatchRole, ScoreRole  # noqa: E402
from inret_engine.model_set import TrainChoice  # noqa: E402
from inret_engine.query_file import OnTheFly  # noqa: E402
from inret_engine.retrieval.results import QuerySubject  # noqa: E402
from inret_engine.store import InrRecord, Store  # noqa: E402

WAIT_MS = 60_000
TINY = OnTheFly(n_uniform=3000, n_surface=1500, n_near=3000, n_eval_surface=500, fit_steps=20, distill_steps=20)


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    return shown


def open_window(qtbot, root, k=5):
    window = MainWindow()
    qtbot.addWidget(window)
    window.controller.on_the_fly = TINY
    window.k_spin.setValue(k)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.runner.idle, timeout=WAIT_MS):
        window.open_store(root)
    return window


@pytest.fixture
def window(qtbot, query_store, errors):
    w = open_window(qtbot, query_store)
    assert w.controller.ready
    return w


def double_click_row(qtbot, view, row):
    """Press, release, then the double-click event (QTest.mouseDClick alone sends only the last)."""
    index = view.model().index(row, 0)
    view.scrollTo(index)
    centre = view.visualRect(index).center()
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, centre)
    QTest.mouseDClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, centre)


def drop(window, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    for kind in (QDropEvent.Type.DragEnter, QDropEvent.Type.Drop):
        event = QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier, kind)
        QApplication.sendEvent(window, event)
        assert event.isAccepted(), kind


def shown_items(window):
    model = window.results.model
    return [model.item(r) for r in range(model.rowCount())]


def test_double_click_shows_the_query_first_then_k_neighbours(qtbot, window, errors):
    row = 4
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        double_click_row(qtbot, window.gallery.list, row)
    outcome = blocker.args[0]
    query = window.gallery.proxy.record(row)
    items = shown_items(window)
    assert isinstance(items[0], QuerySubject) and items[0].record == query
    assert len(items) == 1 + 5 and outcome.subject.record == query
    hits = items[1:]
    assert all(isinstance(h, InrRecord) for h in hits)
    assert window.controller.mode == "any"  # one space: by default a query sees every function
    assert all(h.shape_id != query.shape_id for h in hits)
    model = window.results.model
    scores = [model.index(r).data(ScoreRole) for r in range(1, 6)]
    assert scores == sorted(scores, reverse=True)
    assert model.index(0).data(IsQueryRole) and not model.index(1).data(IsQueryRole)
    assert [model.index(r).data(MatchRole) for r in range(1, 6)] == [h.category == query.category for h in hits]
    assert "search" in window.latency.text() and errors == []


def test_retrieve_selector_and_k_requery(qtbot, window):
    record = window.store.records(function="sdf")[0]
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        window.controller.query_record(record)
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.retrieve.setCurrentIndex(window.retrieve.findData("udf"))
    assert {h.record.function for h in blocker.args[0].hits} == {"udf"}
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.retrieve.setCurrentIndex(window.retrieve.findData("any"))
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.k_spin.setValue(20)
    hits = blocker.args[0].hits
    assert len(hits) == 20 and {h.record.function for h in hits} == {"sdf", "udf", "occ"}


def test_result_click_selects_and_double_click_requeries(qtbot, window):
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        window.controller.query_record(window.store.records()[0])
    second = window.results.model.item(2)
    view = window.results.list
    with qtbot.waitSignal(window.record_selected, timeout=5000) as blocker:
        centre = view.visualRect(view.model().index(2, 0)).center()
        QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, centre)
    assert blocker.args == [second]
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        double_click_row(qtbot, view, 2)
    assert blocker.args[0].subject.record == second


def test_drop_an_inr_file_queries_with_it(qtbot, window, tmp_path):
    record = window.store.records(function="udf")[3]
    dropped = tmp_path / "dropped.inr"
    shutil.copyfile(window.store.root / record.file, dropped)
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        drop(window, dropped)
    outcome = blocker.args[0]
    assert outcome.subject.inr is not None and outcome.subject.record is None
    assert outcome.subject.name == record.name and outcome.subject.function == "udf"
    assert len(outcome.hits) == 5 and all(h.record.shape_id != record.shape_id for h in outcome.hits)
    assert shown_items(window)[0] is outcome.subject


@pytest.mark.slow
def test_drop_an_inr_of_an_architecture_no_encoder_knows_distills_it(qtbot, window, tmp_path):
    from inret_engine.fit import FitSettings, fit
    from inret_engine.functions import ImplicitFunction
    from inret_engine.progress import run_to_end
    from inret_engine.store import ShapeINR, save_shape_inr
    from tests.conftest import TINY_CONFIGS

    with Store.open(window.store.root) as store:
        gt = store.ground_truth(store.records()[0].shape_id)
    field = run_to_end(fit(TINY_CONFIGS["triplane"], ImplicitFunction.SDF, [gt], ["x"], FitSettings(steps=20)))
    path = tmp_path / "triplane.inr"
    save_shape_inr(path, ShapeINR(field.config, ImplicitFunction.SDF, field.inr_tensors(0), {"name": "odd"}))
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        drop(window, path)
    subject = blocker.args[0].subject
    assert subject.inr.config.kind == "hash" and subject.inr.fit["distilled_from"].startswith("triplane-")
    assert subject.name == "odd" and len(blocker.args[0].hits) == 5


@pytest.mark.slow
def test_a_store_inr_no_encoder_knows_is_distilled_once_then_queried(qtbot, query_store, errors, tmp_path):
    from inret_engine.fit import FitSettings, fit
    from inret_engine.functions import ImplicitFunction
    from inret_engine.progress import run_to_end
    from inret_engine.store import ShapeINR
    from tests.conftest import TINY_CONFIGS

    root = tmp_path / "S"
    shutil.copytree(query_store, root)
    with Store.open(root) as store:  # one triplane INR beside the hash ones: no encoder knows it
        shape = store.catalog.shape(store.records()[0].shape_id)
        field = run_to_end(fit(TINY_CONFIGS["triplane"], ImplicitFunction.SDF, [store.ground_truth(shape.shape_id)],
                           [shape.shape_id], FitSettings(steps=30)))
        odd = store.add_inr(ShapeINR(field.config, ImplicitFunction.SDF, field.inr_tensors(0),
                                     {"name": shape.name, "category": shape.category, "shape_id": shape.shape_id}),
                            shape=shape)
    window = open_window(qtbot, root)
    jobs = []
    window.runner.started.connect(jobs.append)
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.controller.query_record(odd)
    subject = blocker.args[0].subject
    assert subject.record == odd and subject.inr.config.kind == "hash" and subject.arch == "triplane → hash"
    assert all(h.record.shape_id != odd.shape_id for h in blocker.args[0].hits) and len(blocker.args[0].hits) == 5
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        window.controller.query_record(odd)  # again: the distilled copy is reused
    assert len([j for j in jobs if j.startswith("Distilling")]) == 1 and errors == []


@pytest.mark.parametrize("name, function", [("box.obj", "sdf"), ("scan.xyz", "udf")])
def test_drop_a_mesh_or_point_cloud_fits_an_inr_and_queries(qtbot, window, tmp_path, name, function):
    import trimesh

    box = trimesh.creation.box(extents=(1.0, 0.5, 0.3))
    path = tmp_path / name
    if name.endswith(".xyz"):  # a scan: points only, so only a UDF can be fitted
        np.savetxt(path, box.sample(3000, seed=0))
    else:
        box.export(path)
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        drop(window, path)
    outcome = blocker.args[0]
    assert outcome.subject.name == path.stem and outcome.subject.arch == "hash"
    assert outcome.subject.function == function and len(outcome.hits) == 5
    assert {h.record.function for h in outcome.hits} == {function}
    with qtbot.waitSignal(window.controller.query_image, timeout=WAIT_MS):
        pass  # its thumbnail is rendered from the fitted INR, after the results
    assert window.results.model.index(0).data(ThumbnailStateRole) == "ready"


def test_enter_queries_the_selected_card_once(qtbot, window):
    view = window.gallery.list
    view.setFocus()
    view.setCurrentIndex(view.model().index(3, 0))
    answers = []
    window.controller.results_ready.connect(answers.append)
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        QTest.keyClick(view, Qt.Key_Return)
    # every query runs on the job runner: once it is idle, a second answer would have arrived
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=WAIT_MS)
    assert len(answers) == 1 and answers[0].subject.record == window.gallery.current_record()


def test_a_bad_file_shows_an_error_dialog_and_the_app_carries_on(qtbot, window, errors, tmp_path):
    bad = tmp_path / "x.inr"
    bad.write_bytes(np.random.default_rng(0).bytes(600))
    drop(window, bad)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert "x.inr" in errors[0]
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        double_click_row(qtbot, window.gallery.list, 0)
    assert len(errors) == 1


@pytest.mark.parametrize("name, says", [("report.docx", "it is a document, not a 3D shape"),
                                        ("bracket.stp", "export it from your CAD program as a mesh")])
def test_a_dropped_file_of_another_type_is_refused_with_a_message(qtbot, window, errors, tmp_path, name, says):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not a shape")
    with qtbot.assertNotEmitted(window.runner.started):
        drop(window, path)
    assert len(errors) == 1 and errors[0].startswith(f"{name} cannot be used as a query:") and says in errors[0]
    assert ".inr" in errors[0] and ".obj" in errors[0]


def test_an_inr_with_a_corrupt_header_gets_a_plain_message(qtbot, window, errors, tmp_path):
    bad = tmp_path / "chair.inr"
    bad.write_bytes((7837008598389945438).to_bytes(8, "little") + b"{}" * 100)
    drop(window, bad)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert errors[0].startswith("chair.inr could not be read: the file is damaged or is not an INR file.")
    assert "What to do:" in errors[0] and "7837008598389945438" not in errors[0]


def test_scores_read_as_percentages_with_a_legend(qtbot, window):
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.controller.query_record(window.store.records()[2])
    hit = blocker.args[0].hits[0]
    model = window.results.model
    assert f"{round(hit.score * 100)}% similar" in model.index(1).data(Qt.DisplayRole).replace("−", "-")
    assert f"cosine {hit.score:.4f}" in model.index(1).data(Qt.ToolTipRole)
    assert "cosine similarity" in window.results.legend.toolTip() and "%" in window.results.legend.text()
    assert window.minimumSizeHint().width() <= 1024  # the header and its legend wrap rather than widen the window


def test_export_writes_the_hits_as_csv_and_json(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.controller.query_record(window.store.records()[2])
    hits = blocker.args[0].hits
    window.controller.export(tmp_path / "r.csv")
    window.controller.export(tmp_path / "r.json")
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [int(r["id"]) for r in rows] == [h.record.id for h in hits]
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, 6)]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["query"]["id"] == window.store.records()[2].id and doc["k"] == 5
    assert [r["score"] for r in doc["results"]] == pytest.approx([h.score for h in hits], abs=1e-5)


def test_a_store_without_an_encoder_says_how_to_get_one_and_training_fixes_it(qtbot, bare_store, errors, tmp_path):
    root = tmp_path / "S"
    shutil.copytree(bare_store, root)
    window = open_window(qtbot, root)
    assert not window.controller.ready and "Train Encoders" in window.results.notice.text()
    double_click_row(qtbot, window.gallery.list, 0)
    assert errors == [] and "Train Encoders" in window.results.notice.text()
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS) as blocker:
        window.controller.train(TrainChoice(archs=("hash",), steps=3, batch_shapes=4, points=128))
    assert len(blocker.args[0].hits) == 5 and window.controller.ready  # the waiting query ran
    assert list((root / "models").glob("hash-*.enc")) and not window.results.notice.isVisible()


def test_cancel_stops_a_running_job_and_the_window_goes_idle(qtbot, window):
    seen = []

    def job():  # a slow job: a step every 10 ms on the worker thread
        for i in range(10_000):
            seen.append(i)
            yield i
            time.sleep(0.01)

    worker = window.run_job(job, label="Counting", on_done=lambda _: seen.append("done"))
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=5000)
    with qtbot.waitSignal(window.runner.idle, timeout=5000):
        window.actions_by_name["cancel"].trigger()
    assert worker.cancelled and "done" not in seen and not window.job_bar.isVisible()


@pytest.mark.slow
def test_build_store_dialog_builds_and_opens_the_store(qtbot, window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QDialog

    from app.actions import build_store
    from app.dialogs.build_store import BuildStoreDialog

    def fill(dialog):
        dialog.demo.setChecked(True)
        dialog.out.setText(str(tmp_path / "built"))
        dialog.functions[next(iter(dialog.functions))].setChecked(False)  # SDF off
        dialog.functions[list(dialog.functions)[2]].setChecked(False)  # Occ off
        dialog.categories.setText("mug")
        dialog.per_category.setValue(1)
        dialog.steps.setValue(5)
        return QDialog.Accepted

    monkeypatch.setattr(BuildStoreDialog, "exec", fill)
    with qtbot.waitSignal(window.store_changed, timeout=WAIT_MS) as blocker:
        build_store(window)
    assert blocker.args[0].root == tmp_path / "built"
    assert [(r.category, r.arch, r.function) for r in window.store.records()] == [("mug", "hash", "udf")]


def test_save_screenshot_writes_a_png(qtbot, window, tmp_path):
    from app.actions import save_screenshot

    save_screenshot(window, str(tmp_path / "shot.png"))
    assert (tmp_path / "shot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_before_any_query_the_results_strip_says_how_to_query_in_one_short_line(qtbot, window):
    from app.views.results import HINT_HEIGHT

    results = window.results
    assert not results.notice.isHidden() and "Double-click" in results.notice.text()
    assert results.list.height() == HINT_HEIGHT < results.strip_height  # the rest of the window goes above
    with qtbot.waitSignal(window.controller.results_ready, timeout=WAIT_MS):
        double_click_row(qtbot, window.gallery.list, 0)
    assert results.list.height() == results.strip_height and results.notice.isHidden()
    cell = results.list.visualRect(results.model.index(0, 0))
    assert cell.height() > 0 and cell.bottom() <= results.list.viewport().height()  # whole cards


def test_the_query_menu_turns_z_up_on_and_off(qtbot, bare_store):
    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    action = window.actions_by_name["z_up"]
    assert action.isCheckable() and not window.controller.on_the_fly.z_up
    action.trigger()
    assert window.controller.on_the_fly.z_up
    action.trigger()
    assert not window.controller.on_the_fly.z_up
