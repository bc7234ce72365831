"""The demo store builds in two phases and the window opens after the first."""

from __future__ import annotations

import dataclasses

import pytest

import app.demo as demo
from app.launch import _open_demo
from app.main_window import MainWindow
from inret_engine.build import BuildOptions, resolve_sources
from inret_engine.functions import ImplicitFunction
from inret_engine.retrieval import Retriever
from inret_engine.store import Store


@pytest.fixture
def small_demo(monkeypatch):
    """The demo's phases on two shapes, with few fitting and training steps; the extras are octree SDFs."""
    monkeypatch.setattr(demo, "_sources", lambda: resolve_sources("demo", categories=["chair", "mug"], per_category=1))
    monkeypatch.setattr(demo, "ENCODER_STEPS", 3)
    extras = demo.Phase("extras", (BuildOptions(archs=("octree",), functions=(ImplicitFunction.SDF,)),))
    short = [demo.Phase(p.name, tuple(dataclasses.replace(b, steps=10) for b in p.builds))
             for p in (demo.ESSENTIAL, extras)]
    monkeypatch.setattr(demo, "ESSENTIAL", short[0])
    monkeypatch.setattr(demo, "EXTRAS", short[1])
    monkeypatch.setattr(demo, "PHASES", tuple(short))
    return short


def test_phases_build_and_resume(small_demo, tmp_path):
    essential, extras = small_demo
    root = tmp_path / "demo"
    assert not demo.phase_is_complete(root, essential)
    result = list_result(demo.build_demo_job(root, essential))
    assert result == root
    assert demo.phase_is_complete(root, essential) and not demo.phase_is_complete(root, extras)
    with Store.open(root) as store:
        assert {(r.arch, r.function) for r in store.records()} == {("hash", "sdf")}
        assert len(store.records()) == 2  # two shapes: the window opens on hash SDFs
        (model,) = Retriever.installed(store)
        index = Retriever(store, model).load_index()
        assert index is not None and set(index.ids.tolist()) == {r.id for r in store.records()}
    list_result(demo.build_demo_job(root, extras))
    assert demo.demo_is_complete(root)
    with Store.open(root) as store:
        assert {r.arch for r in store.records()} == {"hash", "octree"}
        assert {m.spec.arch for m in Retriever.installed(store)} == {"hash", "octree"}
    list_result(demo.build_demo_job(root))  # complete: nothing to do, nothing duplicated
    with Store.open(root) as store:
        assert len(store.records()) == 2 + 2


def test_window_opens_after_the_essential_phase(small_demo, qtbot, tmp_path):
    root = tmp_path / "demo"
    window = MainWindow()
    qtbot.addWidget(window)
    opened = []
    _open_demo(window, root, lambda: opened.append(window.store.root))
    qtbot.waitUntil(lambda: bool(opened), timeout=120_000)
    assert opened == [root]
    assert {r.arch for r in window.store.records()} == {"hash"}  # the extras are still being built
    qtbot.waitUntil(lambda: demo.demo_is_complete(root) and not window.runner.busy(), timeout=240_000)
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
    essential, extras = small_demo
    root = tmp_path / "demo"
    list_result(demo.build_demo_job(root))
    assert demo.demo_is_complete(root)
    with Store.open(root) as store:
        assert not (root / "models").exists()  # nothing installed: the shipped model serves the store
        (model,) = Retriever.installed(store)
        assert model.spec.reads_field
        index = Retriever(store, model).load_index()
        assert set(index.ids.tolist()) == {r.id for r in store.records()}  # hash and octree INRs together
        assert {r.arch for r in store.records()} == {"hash", "octree"}
