"""The demo store builds in two phases; the window shows at once, each category as it is ready."""

from __future__ import annotations

import dataclasses

import pytest

import app.demo as demo
from app.launch import _open_demo
from app.main_window import MainWindow
from inret_engine.build import BuildOptions
from inret_engine.functions import ImplicitFunction
from inret_engine.retrieval.retriever import Retriever
from inret_engine.store import Store


@pytest.fixture
def small_demo() -> demo.DemoPlan:
    """The demo's plan on two shapes (a chair and a mug), with few fitting and training steps;
    the extras are octree SDFs."""
    default = demo.DemoPlan.default()
    essential = dataclasses.replace(default.essential,
                                    builds=tuple(dataclasses.replace(b, steps=10, batch=1)  # one category a batch
                                                for b in default.essential.builds))
    extras = demo.Phase("extras", (BuildOptions(archs=("octree",), functions=(ImplicitFunction.SDF,), steps=10),))
    return demo.DemoPlan(essential=essential, extras=extras, categories=("chair", "mug"), per_category=1,
                         encoder_steps=3)


def test_phases_build_and_resume(small_demo, tmp_path):
    plan = small_demo
    essential, extras = plan.phases
    root = tmp_path / "demo"
    assert not demo.phase_is_complete(root, essential, plan)
    records = []
    gen = demo.build_demo_job(root, plan, essential)()
    while True:
        try:
            records.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    assert result == root
    ready = [r for r in records if isinstance(r, demo.CategoryReady)]
    assert [(r.category, r.done, r.total) for r in ready] == [("chair", 1, 2), ("mug", 2, 2)]
    percents = [r.done for r in records if isinstance(r, demo.PhaseProgress)]
    groups = demo._category_groups(plan.sources(), 16)  # whole categories, as many as a batch holds
    assert [(cats, [s.name for s in shapes]) for cats, shapes in groups] == [
        (("chair", "mug"), ["chair_000", "mug_000"])]
    assert percents == sorted(percents) and 0 < percents[-1] <= 100  # the overall percentage only grows
    assert demo.phase_is_complete(root, essential, plan) and not demo.phase_is_complete(root, extras, plan)
    with Store.open(root) as store:
        assert {(r.arch, r.function) for r in store.records()} == {("hash", "sdf")}
        assert len(store.records()) == 2  # two shapes: the window opens on hash SDFs
        (model,) = Retriever.installed(store)
        index = Retriever(store, model).load_index()
        assert index is not None and set(index.ids.tolist()) == {r.id for r in store.records()}
    list_result(demo.build_demo_job(root, plan, extras))
    assert demo.demo_is_complete(root, plan)
    with Store.open(root) as store:
        assert {r.arch for r in store.records()} == {"hash", "octree"}
        assert {m.spec.arch for m in Retriever.installed(store)} == {"hash", "octree"}
    list_result(demo.build_demo_job(root, plan))  # complete: nothing to do, nothing duplicated
    with Store.open(root) as store:
        assert len(store.records()) == 2 + 2


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


def list_result(job):
    gen = job()
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def test_with_a_shipped_model_nothing_is_trained(small_demo, tmp_path, monkeypatch):
    """The shipped shared model embeds every phase's INRs: no encoder training, one index for all."""
    from inret_engine.encoders.model import INRetModel, ModelSpec

    shipped = tmp_path / "shared.enc"
    model = INRetModel(ModelSpec.shared(channels=2, resolution=32, base_channels=4, embed_dim=128))
    model.center.fill_(0.01)  # as training leaves it: the mean embedding, never zero
    model.save(shipped)
    monkeypatch.setenv("INRET_PRETRAINED", str(shipped))
    monkeypatch.setattr(demo, "train_encoders", lambda *a, **k: pytest.fail("the demo trained an encoder"))
    plan = small_demo
    root = tmp_path / "demo"
    list_result(demo.build_demo_job(root, plan))
    assert demo.demo_is_complete(root, plan)
    with Store.open(root) as store:
        assert not (root / "models").exists()  # nothing installed: the shipped model serves the store
        (model,) = Retriever.installed(store)
        assert model.spec.reads_field
        index = Retriever(store, model).load_index()
        assert set(index.ids.tolist()) == {r.id for r in store.records()}  # hash and octree INRs together
        assert {r.arch for r in store.records()} == {"hash", "octree"}


def test_the_first_run_panel_never_holds_the_window_wide(qtbot):
    from app.demo import CategoryReady, PhaseProgress
    from app.views.first_run import FirstRunView

    view = FirstRunView()
    qtbot.addWidget(view)
    categories = ["airplane", "bottle", "car", "chair", "guitar", "lamp", "mug", "sofa", "table"]
    view.start(categories)
    view.show_progress(PhaseProgress("Building the demo store (essential)", 12, 100, ("airplane", "bottle"), 100.0))
    assert [view.state(c) for c in categories[:3]] == ["fitting", "fitting", "waiting"]
    assert view.progress.value() == 12 and "about 2 min left" in view.progress.format()
    for k, category in enumerate(categories[:4], 1):
        view.show_progress(CategoryReady(category, k, len(categories), 100.0))
    assert "4 of 9 categories ready" in view.title.text() and view.state("car") == "ready"
    assert view.minimumSizeHint().width() < 400  # wraps at 1024x700 instead of widening the window
