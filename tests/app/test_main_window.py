"""The window opens a store, lists its INRs, runs jobs off the GUI thread, survives errors."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.workers import GeneratorWorker, JobRunner  # noqa: E402


def test_open_store_lists_every_inr(qtbot, bare_store):
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.runner.idle, timeout=30_000):  # looking for encoders: none here
        window.open_store(bare_store)
    assert window.model.rowCount() == 9 * 3
    assert window.model.data(window.model.index(0)).startswith(window.store.records()[0].name + "\n")
    assert "27 INRs" in window.title.text()


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


def test_runner_runs_jobs_one_at_a_time_in_order(qtbot):
    runner = JobRunner()
    order = []

    def job(name):
        def run():
            order.append(f"{name} start")
            yield name
            order.append(f"{name} end")
            return name
        return run

    results = []
    with qtbot.waitSignal(runner.idle, timeout=5000):
        for name in "abc":
            runner.start(job(name), label=name, on_done=results.append)
    assert results == ["a", "b", "c"]
    assert order == ["a start", "a end", "b start", "b end", "c start", "c end"]
