"""The demo store builds in two phases, one category at a time, resumably; a plan says what it holds."""

from __future__ import annotations

import dataclasses

import pytest

import inret_engine.demo as demo
from inret_engine.build import BuildOptions
from inret_engine.functions import ImplicitFunction
from inret_engine.progress import run_to_end
from inret_engine.retrieval.retriever import Retriever
from inret_engine.store import Store


def small_plan() -> demo.DemoPlan:
    """The demo's plan on two shapes (a chair and a mug), with few fitting and training steps;
    the extras are octree SDFs."""
    default = demo.DemoPlan.default()
    essential = dataclasses.replace(default.essential,
                                    builds=tuple(dataclasses.replace(b, steps=10, batch=1)  # one category a batch
                                                for b in default.essential.builds))
    extras = demo.Phase("extras", (BuildOptions(archs=("octree",), functions=(ImplicitFunction.SDF,), steps=10),))
    return demo.DemoPlan(essential=essential, extras=extras, categories=("chair", "mug"), per_category=1,
                         encoder_steps=3)


@pytest.fixture
def small_demo() -> demo.DemoPlan:
    return small_plan()


@pytest.mark.slow
def test_phases_build_and_resume(small_demo, tmp_path):
    plan = small_demo
    essential, extras = plan.phases
    root = tmp_path / "demo"
    assert not demo.phase_is_complete(root, essential, plan)
    records = []
    assert run_to_end(demo.build_demo_job(root, plan, essential)(), on_progress=records.append) == root
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
    run_to_end(demo.build_demo_job(root, plan, extras)())
    assert demo.demo_is_complete(root, plan)
    with Store.open(root) as store:
        assert {r.arch for r in store.records()} == {"hash", "octree"}
        assert {m.spec.arch for m in Retriever.installed(store)} == {"hash", "octree"}
    run_to_end(demo.build_demo_job(root, plan)())  # complete: nothing to do, nothing duplicated
    with Store.open(root) as store:
        assert len(store.records()) == 2 + 2



@pytest.mark.slow
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
    run_to_end(demo.build_demo_job(root, plan)())
    assert demo.demo_is_complete(root, plan)
    with Store.open(root) as store:
        assert not (root / "models").exists()  # nothing installed: the shipped model serves the store
        (model,) = Retriever.installed(store)
        assert model.spec.reads_field
        index = Retriever(store, model).load_index()
        assert set(index.ids.tolist()) == {r.id for r in store.records()}  # hash and octree INRs together
        assert {r.arch for r in store.records()} == {"hash", "octree"}


def test_progress_records_say_what_the_status_bar_shows():
    phase = demo.PhaseProgress("Building the demo store (essential)", 12, 100, categories=("chair", "mug"),
                               seconds_left=100.0)
    assert phase.text() == "Building the demo store (essential) 12/100 chair, mug · about 2 min left"
    assert phase.fraction == 0.12
    ready = demo.CategoryReady("Building the demo store", 1, 2, category="chair", seconds_left=None)
    assert ready.text() == "Building the demo store 1/2 chair ready"
    assert [demo.duration_text(s) for s in (3, 62, 95, 600)] == ["5 s", "60 s", "2 min", "10 min"]
