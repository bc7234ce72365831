"""The demo store's first start: the window shows at once, each category as it is ready."""

from __future__ import annotations

import pytest

import inret_engine.demo as demo
from app.launch import _open_demo
from app.main_window import MainWindow

from ..test_demo import small_plan


@pytest.fixture
def small_demo() -> demo.DemoPlan:
    return small_plan()


@pytest.mark.slow
def test_the_window_shows_each_category_as_it_is_ready(small_demo, qtbot, tmp_path):
    plan = small_demo
    root = tmp_path / "demo"
    window = MainWindow()
    qtbot.addWidget(window)
    opened, counts = [], []
    _open_demo(window, root, lambda: opened.append(window.store.root), plan=plan)
    assert window.first_run.isVisibleTo(window) and window.store is None  # at once, before any shape exists
    assert [window.first_run.state(c) for c in ("chair", "mug")] == ["fitting", "waiting"]
    qtbot.waitUntil(lambda: window.store is not None, timeout=120_000)  # the first category is in
    counts.append(len(window.store.records()))
    assert window.first_run.state("chair") == "ready" and not opened  # the phase goes on
    qtbot.waitUntil(lambda: bool(opened), timeout=120_000)
    assert counts == [1] and opened == [root] and not window.first_run.isVisibleTo(window)
    assert {r.arch for r in window.store.records()} == {"hash"}  # the extras are still being built
    qtbot.waitUntil(lambda: demo.demo_is_complete(root, plan) and not window.runner.busy(), timeout=240_000)
    qtbot.waitUntil(lambda: {r.arch for r in window.store.records()} == {"hash", "octree"},
                    timeout=10_000)  # reloaded by itself: no query was on screen
    window.close()


def test_the_first_run_panel_never_holds_the_window_wide(qtbot):
    from app.views.first_run import FirstRunView
    from inret_engine.demo import CategoryReady, PhaseProgress

    view = FirstRunView()
    qtbot.addWidget(view)
    categories = ["airplane", "bottle", "car", "chair", "guitar", "lamp", "mug", "sofa", "table"]
    view.start(categories)
    view.show_progress(PhaseProgress("Building the demo store (essential)", 12, 100, categories=("airplane", "bottle"),
                                     seconds_left=100.0))
    assert [view.state(c) for c in categories[:3]] == ["fitting", "fitting", "waiting"]
    assert view.progress.value() == 12 and "about 2 min left" in view.progress.format()
    for k, category in enumerate(categories[:4], 1):
        view.show_progress(CategoryReady("Building the demo store", k, len(categories), category=category,
                                         seconds_left=100.0))
    assert "4 of 9 categories ready" in view.title.text() and view.state("car") == "ready"
    assert view.minimumSizeHint().width() < 400  # wraps at 1024x700 instead of widening the window
