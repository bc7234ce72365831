"""A store fitted on a local Ray cluster is the store a local build makes: same rows, same bytes."""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import pytest
import torch

pytest.importorskip("ray")

from inret_engine.build import BuildOptions, build_store, resolve_sources  # noqa: E402
from inret_engine.scale.fitting import fit_task, ray_fitter  # noqa: E402
from inret_engine.store import Store  # noqa: E402

from ..conftest import store_snapshot  # noqa: E402

SOURCES = dict(categories=["chair", "mug"], per_category=2)
OPTIONS = BuildOptions(archs=("hash", "mlp"), functions=tuple(BuildOptions().functions[:2]), steps=8, batch=2,
                       seed=3)


def _options() -> BuildOptions:
    fields = {f.name for f in dataclasses.fields(BuildOptions)}
    return dataclasses.replace(OPTIONS, device="cpu") if "device" in fields else OPTIONS


def _build(root: Path, fitter=None) -> None:
    with Store.create(root) as store:
        for _ in build_store(store, resolve_sources("demo", **SOURCES), _options(), fitter=fitter):
            pass


@pytest.fixture(scope="module")
def local_store(tmp_path_factory) -> Path:
    """The reference: a local build with one torch thread (a hash-grid fit with more threads
    is not bit-reproducible even locally)."""
    root = tmp_path_factory.mktemp("local") / "store"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _build(root)
    finally:
        torch.set_num_threads(threads)
    return root


@pytest.mark.slow
def test_ray_build_matches_local_build(ray_cluster, local_store, tmp_path):
    _build(tmp_path / "ray", ray_fitter())
    local, remote = store_snapshot(local_store), store_snapshot(tmp_path / "ray")
    assert len(local) == 2 * 2 * 2 * 2  # shapes x archs x functions
    assert [r for r, _ in remote] == [r for r, _ in local]
    assert [b for _, b in remote] == [b for _, b in local]


@pytest.mark.slow
def test_worker_killed_mid_task_is_retried(ray_cluster, local_store, tmp_path):
    marker = tmp_path / "killed-once"

    def dies_once(*args):
        if not marker.exists():  # the first task to start kills its own worker process
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return fit_task(*args)

    _build(tmp_path / "ray", ray_fitter(task=dies_once))
    assert marker.exists()
    assert store_snapshot(tmp_path / "ray") == store_snapshot(local_store)


@pytest.mark.slow
def test_stopped_driver_resumes_to_the_same_store(ray_cluster, local_store, tmp_path):
    root = tmp_path / "ray"
    with Store.create(root) as store:
        events = build_store(store, resolve_sources("demo", **SOURCES), _options(), fitter=ray_fitter())
        for event in events:
            if event.stage == "fitting" and event.done >= 4:
                break  # the driver stops after two committed batches (as if killed)
        events.close()
    with Store.open(root) as store:
        assert 0 < len(store.records()) < 16
    _build(root, ray_fitter())
    assert store_snapshot(root) == store_snapshot(local_store)

