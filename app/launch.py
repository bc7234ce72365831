"""Start-up: parse arguments, open (or first build) a store, show the window.

Heavy modules load after the window exists, so the window appears quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from inret_engine.errors import InretError, NotFoundError

TORCH_THREADS = 1
"""Torch's CPU threads in the app: its torch work is many small ops (renders, small fits), where
one thread beat two on a busy 2-core machine, and the GUI thread keeps a core."""


def set_torch_threads(n: int = TORCH_THREADS) -> None:
    """Set torch's intra-op threads for the whole app, once, on the GUI thread, before any job runs.

    ``torch.set_num_threads`` is not a per-thread setting, nor quite a process-wide one: it
    sets the calling thread's count and the count every thread that has not run a torch op
    yet starts with, while threads already running torch keep theirs. Called from a worker
    (as the thumbnail loader once did), the threads of every later job changed with it, in
    an order that depended on which job ran first. Called here, first, every thread has ``n``.
    """
    import torch

    torch.set_num_threads(n)


def default_demo_store() -> Path:
    """Where the built-in demo store lives: ``$INRET_DEMO_STORE`` or the user's data folder."""
    env = os.environ.get("INRET_DEMO_STORE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "inret" / "demo-store"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="main.py", description="INRet Browser: find similar shapes in an INR store.")
    p.add_argument("store", nargs="?", help="store folder (default: the built-in demo store, built on first run)")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window once loaded, then exit")
    p.add_argument("--query", metavar="NAME_OR_ID",
                   help="once the store is open, query with this INR (catalog id, name or shape id; "
                        "a name shared by several INRs picks the SDF one) or with an .inr / mesh / point-cloud file")
    p.add_argument("--select", metavar="NAME_OR_ID",
                   help="select this INR as a click would (after --query's results; a result is then shown "
                        "beside its query in the 3D tab)")
    p.add_argument("--panel", choices=("cutaways", "3d", "map"), default="cutaways",
                   help="which tab shows the selected shape (default: cutaways); map: the map's tab, where a "
                        "short window shows the map as a tab")
    p.add_argument("--size", metavar="WxH", type=_window_size, help="window size, e.g. 1600x1000 (for screenshots)")
    return p.parse_args(argv)


def _window_size(text: str) -> tuple[int, int]:
    """``"1600x1000"`` -> ``(1600, 1000)``."""
    w, _, h = text.lower().partition("x")
    if not (w.isdigit() and h.isdigit() and min(int(w), int(h)) >= 200):
        raise argparse.ArgumentTypeError(f"{text!r} is not a window size like 1600x1000 (at least 200x200)")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from .warm_up import hold_collector, warm_up

    hold_collector()  # start-up makes modules, not garbage; app.warm_up says why and when it comes back on
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("INRet Browser")
    style = Path(__file__).resolve().parents[1] / "resources" / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text())

    from .main_window import MainWindow

    window = MainWindow()
    if args.size:
        window.resize(*args.size)
    window.show()
    window.side.show_panel(args.panel)

    def loaded(_=None) -> None:
        if args.query:
            _query_when_open(window, args.query)
        if args.select:
            _select_when_open(window, args.select, after_query=bool(args.query))
        if args.screenshot:
            _screenshot_when_idle(window, args.screenshot, app.quit, wait_for_query=bool(args.query))

    def start() -> None:
        set_torch_threads()  # before the first job: every worker thread starts with this count
        root = Path(args.store) if args.store else default_demo_store()
        try:
            if args.store:
                window.open_store(root)
                loaded()
            else:
                _open_demo(window, root, loaded, extras=not args.screenshot)
        except (InretError, OSError) as exc:  # what a user can fix; anything else is a bug and shows as one
            window.show_error(exc)
            if args.screenshot:
                app.quit()
        finally:
            warm_up(window)

    QTimer.singleShot(0, start)
    return app.exec()


def _open_demo(window, root: Path, loaded, *, extras: bool = True, plan=None) -> None:
    """Open the demo store, building what it lacks.

    On a first start the window shows at once with the first-run panel; the essential
    phase runs as background work (a query or a dropped file goes first), one category
    at a time, and each category is browsable and searchable as soon as it is indexed.
    ``loaded()`` follows when the whole essential phase is in. Then, with the window in
    use, the extra architectures and functions are built in the background.
    """
    from inret_engine.demo import CategoryReady, DemoPlan, build_demo_job, phase_is_complete

    plan = plan or DemoPlan.default()

    def add_extras() -> None:
        if extras and not phase_is_complete(root, plan.extras, plan):
            window.run_job(build_demo_job(root, plan, plan.extras), background=True,
                           label="Adding UDF and Occ, octree, triplane and SIREN INRs to the demo",
                           on_done=lambda _: _extras_added(window))

    if phase_is_complete(root, plan.essential, plan):
        window.open_store(root)
        loaded()
        add_extras()
        return

    def progress(record) -> None:
        window.first_run.show_progress(record)
        if isinstance(record, CategoryReady):
            _category_ready(window, root)

    def essential_done(_) -> None:
        window.first_run.finish()
        window.gallery.setVisible(True)
        if window.store is None:
            window.open_store(root)
        loaded()
        add_extras()

    window.first_run.start(list(dict.fromkeys(s.category for s in plan.sources())))
    window.title.setText("Demo store <span style='color:#7d8796; font-weight:normal; font-size:10pt'>"
                         "&nbsp; first start</span>")
    window.gallery.setVisible(False)
    window.run_job(build_demo_job(root, plan, plan.essential), background=True, on_progress=progress,
                   label="Building the demo store (first run)", on_done=essential_done)


def _category_ready(window, root: Path) -> None:
    """A category became browsable: open the store, or show the new shapes without wiping a query."""
    window.gallery.setVisible(True)
    if window.store is None:
        window.open_store(root)
    elif window.controller.outcome is None and window.controller.subject is None:
        window.reload()
    else:
        window.gallery.set_store(window.store)
        window.controller.refresh_encoders()


def _extras_added(window) -> None:
    """Show the new INRs: reload at once unless that would wipe a query the user is looking at."""
    if window.controller.outcome is None and window.controller.subject is None:
        window.reload()
        window.statusBar().showMessage("The demo store now has UDF, Occ, octree, triplane and SIREN INRs too", 8000)
    else:
        window.statusBar().showMessage("The demo store now has UDF, Occ, octree, triplane and SIREN INRs too: "
                                       "Reload (F5) to see them")


SCREENSHOT_TIMEOUT_S = 60.0


def find_record(store, key: str):
    """The INR named by ``key``: a catalog id, a name or a shape id (SDF first where several share it)."""
    records = store.records()
    if key.isdigit():
        match = [r for r in records if r.id == int(key)]
    else:
        match = [r for r in records if key in (r.name, r.shape_id)]
    if not match:
        raise NotFoundError(f"no INR with id, name or shape id {key!r} in {store.root}")
    return sorted(match, key=lambda r: (r.function != "sdf", r.id))[0]


def _query_when_open(window, key: str) -> None:
    """Query with a store INR (id, name, shape id) or, when ``key`` is a file, with that file."""
    from inret_engine.query_file import queryable

    if queryable(Path(key)) and Path(key).is_file():
        window.controller.query_file(Path(key))
        return
    try:
        window.controller.query_record(find_record(window.store, key))
    except NotFoundError as exc:
        window.statusBar().showMessage(str(exc))


def _select_when_open(window, key: str, *, after_query: bool) -> None:
    """Select a store INR (id, name, shape id) as a click would; after the query's results when there is one."""
    from PySide6.QtCore import Qt

    try:
        record = find_record(window.store, key)
    except NotFoundError as exc:
        window.statusBar().showMessage(str(exc))
        return
    if after_query:
        window.controller.results_ready.connect(lambda _outcome: window.select_id(record.id),
                                                Qt.ConnectionType.SingleShotConnection)
    else:
        window.select_id(record.id)


def _screenshot_when_idle(window, path: str, done, timeout_s: float = SCREENSHOT_TIMEOUT_S, *,
                          wait_for_query: bool = False) -> None:
    """Grab the window once the visible thumbnails (and the query's results) have arrived, then ``done()``.

    Gives up waiting after ``timeout_s`` and grabs what there is.
    """
    import time

    from PySide6.QtCore import QTimer

    controller = window.controller
    deadline = time.monotonic() + timeout_s
    settle = {"polls": 0}

    def quiet() -> bool:
        answered = not wait_for_query or controller.outcome is not None or bool(controller.encoders is not None
                                                                               and not controller.encoders)
        return answered and window.is_quiet()

    def poll() -> None:
        # a few quiet polls in a row: the first paint has asked for the visible rows and all arrived
        settle["polls"] = settle["polls"] + 1 if quiet() else 0
        if settle["polls"] >= 3 or time.monotonic() > deadline:
            window.grab().save(path)
            done()
        else:
            QTimer.singleShot(100, poll)

    QTimer.singleShot(300, poll)
