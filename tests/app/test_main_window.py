"""The window opens a store, lists its INRs, runs engine jobs off the GUI thread and survives errors."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.workers import GeneratorWorker  # noqa: E402
from inret_engine.build import BuildOptions, build_store, resolve_sources  # noqa: E402
from inret_engine.store import Store  # noqa: E402


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store") / "S"
    opts = BuildOptions(archs=("triplane",), steps=10, per_category=1)
    with Store.create(root) as store:
        for _ in build_store(store, resolve_sources("demo", categories=["chair", "mug"], per_category=1), opts):
            pass
    return root


def test_open_store_lists_every_inr(qtbot, tiny_store):
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_store(tiny_store)
    assert window.model.rowCount() == 2 * 3
    assert "chair" in window.model.data(window.model.index(0))
    assert "6 INRs" in window.title.text()


def test_worker_reports_progress_and_result(qtbot):
    def job():
        for i in range(3):
            yield i
        return "done"
    worker = GeneratorWorker(job)
    seen = []
    worker.signals.progress.connect(seen.append)
    with qtbot.waitSignal(worker.signals.result, timeout=5000) as blocker:
        worker.run()
    assert seen == [0, 1, 2] and blocker.args == ["done"]


def test_worker_turns_exceptions_into_an_error_signal(qtbot):
    def job():
        yield 1
        raise ValueError("bad mesh")
    worker = GeneratorWorker(job)
    with qtbot.waitSignal(worker.signals.error, timeout=5000) as blocker:
        worker.run()
    assert "bad mesh" in blocker.args[0]


def test_a_failing_job_shows_a_dialog_and_the_window_carries_on(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    window = MainWindow()
    qtbot.addWidget(window)

    def job():
        raise ValueError("model.inr: truncated file")
        yield  # pragma: no cover

    worker = window.run_job(job, label="Loading", on_done=lambda _: None)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == ["model.inr: truncated file"]
    qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=5000)
    assert worker.cancelled is False
