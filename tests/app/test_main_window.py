"""The window opens a store, lists its INRs, runs jobs off the GUI thread, survives errors."""

import pytest

pytest.importorskip("PySide6")

import threading  # noqa: E402
import time  # noqa: E402

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.workers import BUG_NOTE, FOREGROUND, RENDERS, GeneratorWorker, JobRunner, error_text  # noqa: E402
from inret_engine.errors import InrFileError, NotFoundError  # noqa: E402


def test_open_store_lists_every_inr(qtbot, bare_store):
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.runner.idle, timeout=120_000):  # the shipped model embeds 27 INRs
        window.open_store(bare_store)
    assert window.model.rowCount() == 9 * 3
    assert window.model.data(window.model.index(0)).startswith(window.store.records()[0].name + "\n")
    assert "27 INRs" in window.title.text()


def test_a_reload_keeps_the_store_that_running_jobs_read(qtbot, bare_store):
    """A demo category made ready reloads the window while the models' embedding job still
    reads the store: closing it under that job raised 'Cannot operate on a closed database'."""
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.runner.idle, timeout=120_000):
        window.open_store(bare_store)
    store = window.store
    with qtbot.waitSignal(window.runner.idle, timeout=120_000):
        window.reload()
    assert window.store is store and len(store.records()) == 27  # still open: a job holding it reads on
    assert window.model.rowCount() == 27


def test_worker_reports_progress_and_result(qtbot):
    def job():
        yield from range(3)
        return "done"
    worker = GeneratorWorker(job)
    seen = []
    worker.signals.progress.connect(seen.append)
    with qtbot.waitSignal(worker.signals.result, timeout=5000) as blocker:
        worker.run()
    assert seen == [0, 1, 2] and blocker.args == ["done"]


def test_the_result_is_what_the_job_returns_never_its_last_record(qtbot):
    def job():
        yield "a record"
    worker = GeneratorWorker(job)
    with qtbot.waitSignal(worker.signals.result, timeout=5000) as blocker:
        worker.run()
    assert blocker.args == [None]


def test_background_workers_pause_while_a_foreground_job_runs(qtbot, monkeypatch):
    events, release = [], threading.Event()

    def foreground():
        events.append("fg start")
        release.wait(5)
        events.append("fg end")
        yield

    def background():
        for i in range(2):
            events.append(f"bg {i}")
            yield i

    fg = GeneratorWorker(foreground, foreground=True)
    bg = GeneratorWorker(background, background=True)
    threads = [threading.Thread(target=fg.run)]
    threads[0].start()
    while not FOREGROUND.busy():
        time.sleep(0.001)
    waited, original = threading.Event(), FOREGROUND.wait_clear

    def wait_clear(timeout: float) -> bool:  # records that the background worker was held back
        clear = original(timeout)
        if not clear:
            waited.set()
        return clear

    monkeypatch.setattr(FOREGROUND, "wait_clear", wait_clear)
    threads.append(threading.Thread(target=bg.run))
    threads[1].start()
    assert waited.wait(5)  # the background worker asked and was told to wait ...
    assert events == ["fg start"]  # ... before its first record
    release.set()
    for t in threads:
        t.join(5)
    assert events == ["fg start", "fg end", "bg 0", "bg 1"] and not FOREGROUND.busy()


def test_a_waiting_background_worker_can_be_cancelled(qtbot):
    with FOREGROUND.held():
        bg = GeneratorWorker(lambda: iter([1, 2]), background=True)
        results = []
        bg.signals.result.connect(results.append)
        t = threading.Thread(target=bg.run)
        t.start()
        bg.cancel()
        t.join(2)
        assert not t.is_alive() and bg.done and results == []


def test_render_workers_take_their_steps_one_at_a_time_and_stay_cancellable(qtbot):
    inside, overlaps, lock = [0], [], threading.Lock()

    def render(name):
        for i in range(4):
            with lock:
                inside[0] += 1
                overlaps.append(inside[0])
            time.sleep(0.01)  # a step that lets go of the GIL, as a torch render does
            with lock:
                inside[0] -= 1
            yield f"{name} {i}"

    workers = [GeneratorWorker(lambda n=n: render(n), render=True) for n in "ab"]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(overlaps) == 8 and max(overlaps) == 1 and all(w.done for w in workers)
    assert not RENDERS.locked()
    with RENDERS:  # another render's step runs: a waiting render worker still stops when cancelled
        waiting = GeneratorWorker(lambda: render("c"), render=True)
        t = threading.Thread(target=waiting.run)
        t.start()
        waiting.cancel()
        t.join(2)
        assert not t.is_alive() and waiting.done and len(overlaps) == 8


def test_worker_hands_over_the_exception_object(qtbot):
    error = ValueError("bad mesh")

    def job():
        yield 1
        raise error
    worker = GeneratorWorker(job)
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as blocker:
        worker.run()
    assert blocker.args[0] is error and blocker.args[0].__traceback__ is not None


def test_user_errors_read_as_they_are_and_bugs_say_so_and_are_logged(caplog):
    assert error_text(InrFileError("model.inr", "truncated file")) == "model.inr: truncated file"
    assert error_text(NotFoundError("no INR with id 7")) == "no INR with id 7"
    assert error_text(FileNotFoundError(2, "No such file or directory", "a.ply")).endswith("'a.ply'")
    assert error_text("Open a store first.") == "Open a store first."  # a message the app worded
    assert not caplog.records
    try:
        {}["missing"]
    except KeyError as exc:
        text = error_text(exc)
    assert text.startswith("KeyError: 'missing'") and BUG_NOTE in text
    (record,) = caplog.records
    assert record.levelname == "ERROR" and record.exc_info[1].__traceback__ is not None


@pytest.mark.parametrize(("error", "expected"), [
    (InrFileError("model.inr", "truncated file"), "model.inr: truncated file"),  # a user error: its own words
    (ValueError("operands could not be broadcast"), f"ValueError: operands could not be broadcast\n\n{BUG_NOTE}"),
])
def test_a_failing_job_shows_a_dialog_and_the_window_carries_on(qtbot, monkeypatch, error, expected):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    window = MainWindow()
    qtbot.addWidget(window)

    def job():
        raise error
        yield  # pragma: no cover

    worker = window.run_job(job, label="Loading", on_done=lambda _: None)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == [expected]
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


def test_user_jobs_run_before_a_background_job_ends_which_pauses_meanwhile(qtbot):
    import threading

    runner = JobRunner()
    log, release, stop_bg = [], threading.Event(), threading.Event()

    def background():
        i = 0
        while not stop_bg.is_set():
            log.append("bg")
            if i == 2:
                release.wait(5)  # a user job is queued by now
            i += 1
            yield i
        return "bg done"

    def user(name):
        def run():
            log.append(f"{name} start")
            yield name
            log.append(f"{name} end")
            return name
        return run

    shown, results = [], []
    runner.started.connect(shown.append)
    bg = runner.start(background, label="Building", background=True, on_done=results.append)
    qtbot.waitUntil(lambda: log.count("bg") >= 3, timeout=5000)
    runner.start(user("drop"), label="Preparing a.ply", on_done=results.append)
    runner.start(user("map"), label="Map", on_done=results.append)
    release.set()
    qtbot.waitUntil(lambda: results[:2] == ["drop", "map"], timeout=10_000)  # not behind the 400 steps
    for name in ("drop", "map"):  # the background job pauses while a user job runs
        assert log[log.index(f"{name} start") + 1] == f"{name} end"
    assert "bg done" not in results and shown[:3] == ["Building", "Preparing a.ply", "Map"]
    qtbot.waitUntil(lambda: shown[-1] == "Building", timeout=5000)  # the background job shows again
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.cancel()
    assert bg.cancelled and "bg done" not in results
    stop_bg.set()


def test_cancel_stops_the_shown_job_only_and_keeps_the_waiting_ones(qtbot):
    import threading
    import time

    runner = JobRunner()
    stop_bg, results = threading.Event(), []

    def background():
        while not stop_bg.is_set():
            time.sleep(0.01)
            yield "bg"
        return "bg done"

    def endless():
        while True:
            time.sleep(0.01)
            yield "tick"

    def quick():
        yield "q"
        return "quick"

    bg = runner.start(background, label="Building", background=True, on_done=results.append)
    user = runner.start(endless, label="Endless", on_done=results.append)
    runner.start(quick, label="Quick", on_done=results.append)
    qtbot.waitUntil(lambda: runner.label == "Endless", timeout=5000)
    runner.cancel()  # the job the status bar shows: the endless user job, nothing else
    qtbot.waitUntil(lambda: "quick" in results, timeout=5000)  # the waiting job kept its turn
    assert user.cancelled and not bg.cancelled and runner.label == "Building"
    with qtbot.waitSignal(runner.idle, timeout=5000):
        stop_bg.set()
    assert results == ["quick", "bg done"]


def test_window_size_option_is_checked():
    from app.launch import parse_args

    assert parse_args(["--size", "1600x1000"]).size == (1600, 1000)
    with pytest.raises(SystemExit):
        parse_args(["--size", "big"])


def test_torch_threads_are_set_once_at_start_up_and_hold_in_every_worker_thread():
    from pathlib import Path

    import torch

    from app.launch import TORCH_THREADS, set_torch_threads

    set_torch_threads()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    assert seen == [TORCH_THREADS] == [torch.get_num_threads()]
    app_dir = Path(__file__).resolve().parents[2] / "app"
    callers = sorted(p.name for p in app_dir.rglob("*.py") if "set_num_threads(" in p.read_text())
    assert callers == ["launch.py"]  # never from a worker thread, where it would change later jobs' threads
