"""A build that samples and fits in helper processes (a GUI's builds) makes the store a local build makes."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import torch

from inret_engine.build import BuildOptions, build_store, resolve_sources
from inret_engine.fit import FitProgress
from inret_engine.isolated_fit import FITTER
from inret_engine.progress import Progress
from inret_engine.store import Store

from .conftest import TINY_CONFIGS, store_snapshot

SOURCES = dict(categories=["chair", "mug"], per_category=2)
OPTIONS = BuildOptions(configs=(TINY_CONFIGS["hash"], TINY_CONFIGS["mlp"]),
                       functions=tuple(BuildOptions().functions[:2]), steps=8, batch=2, seed=3, device="cpu",
                       gt_scale=0.1)


def _build(root: Path, options: BuildOptions, sources=SOURCES) -> list[Progress]:
    with Store.create(root) as store:
        return list(build_store(store, resolve_sources("demo", **sources), options))


@pytest.mark.slow
def test_an_isolated_build_writes_the_rows_and_bytes_of_a_local_one(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the helper fits with one thread; so must the reference, to be bit-reproducible
    try:
        _build(tmp_path / "local", OPTIONS)
    finally:
        torch.set_num_threads(threads)
    records = _build(tmp_path / "isolated", dataclasses.replace(OPTIONS, isolated=True))
    assert store_snapshot(tmp_path / "isolated") == store_snapshot(tmp_path / "local")
    fitting = [r for r in records if r.stage == "fitting"]
    assert fitting[-1].done == fitting[-1].total == 16
    assert len(fitting) > 8 + 1  # the batches' own progress came back from the helper, not just one record each
    assert all(not isinstance(r, FitProgress) for r in records)  # ... as the build's records, as locally


@pytest.mark.slow
def test_cancelling_an_isolated_build_kills_its_fit_at_once(tmp_path):
    options = dataclasses.replace(OPTIONS, configs=(TINY_CONFIGS["hash"],), functions=OPTIONS.functions[:1],
                                  steps=100_000, isolated=True)
    one = dict(categories=["mug"], per_category=1)
    with Store.create(tmp_path / "S") as store:
        job = build_store(store, resolve_sources("demo", **one), options)
        for record in job:
            if record.stage == "fitting" and record.message:  # the helper reports: its fit runs
                break
        helper, _ = FITTER.get()
        (pid,) = helper.pids()
        start = time.perf_counter()
        job.close()
        assert time.perf_counter() - start < 10
        assert helper.pids() == []
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        assert store.records() == []  # nothing half-written
    records = _build(tmp_path / "again", dataclasses.replace(options, steps=8), one)  # a new helper serves the next
    assert records[-1].stage == "done"
