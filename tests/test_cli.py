"""The ``inret`` command end to end: build-store (with kill -9 and resume), info, bench."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inret_engine.cli.main import main
from inret_engine.store import Store

from .conftest import dataset_root

FAST = ["--arch", "triplane", "--steps", "30", "--quiet"]


@pytest.mark.slow
def test_build_store_from_demo_then_info(tmp_path, capsys):
    out = tmp_path / "S"
    rc = main(["build-store", "demo", "--out", str(out), "--categories", "chair,mug", "--per-category", "1",
               "--function", "sdf,udf", *FAST])
    assert rc == 0
    assert "4 INRs added" in capsys.readouterr().out
    # Re-running adds nothing: everything is already there.
    assert main(["build-store", "demo", "--out", str(out), "--categories", "chair,mug", "--per-category", "1",
                 "--function", "sdf,udf", *FAST]) == 0
    assert "0 INRs added, 4 already present" in capsys.readouterr().out
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["inrs"] == 4 and info["by_function"] == {"sdf": 2, "udf": 2}
    assert set(info["by_category"]) == {"chair", "mug"}
    assert 0 < info["mean_chamfer"]["triplane"]["sdf"] < 0.1
    assert main(["info", str(out)]) == 0
    assert "mean Chamfer" in capsys.readouterr().out


def test_bad_meshes_are_skipped_with_a_reason(tmp_path, capsys):
    src = tmp_path / "data" / "cup"
    src.mkdir(parents=True)
    import trimesh
    trimesh.creation.cylinder(radius=0.3, height=1.0).export(src / "good.obj")
    (src / "broken.obj").write_text("v 0 0 0\nv nan 1 1\nf 1 2 3\n")
    (src / "empty.obj").write_text("")
    rc = main(["build-store", str(tmp_path / "data"), "--out", str(tmp_path / "S"), "--function", "sdf", *FAST])
    assert rc == 0
    out = capsys.readouterr().out
    assert "1 INRs added" in out and "2 skipped" in out
    assert "broken.obj" in out and "empty.obj" in out


def test_point_clouds_give_udf_only(tmp_path, capsys):
    import numpy as np
    pts = np.random.default_rng(0).normal(size=(3000, 3))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    np.save(tmp_path / "ball.npy", pts)
    assert main(["build-store", str(tmp_path / "ball.npy"), "--out", str(tmp_path / "S"),
                 "--function", "sdf,udf", *FAST]) == 0
    out = capsys.readouterr().out
    assert "1 INRs added" in out and "only UDF" in out


def test_clear_errors_for_bad_arguments(tmp_path, capsys):
    assert main(["build-store", "demo", "--out", str(tmp_path / "S"), "--arch", "nerf"]) == 2
    assert "unknown architecture 'nerf'" in capsys.readouterr().err
    assert main(["info", str(tmp_path)]) == 2
    assert "not an INR store" in capsys.readouterr().err
    assert main(["build-store", "demo", "--out", str(tmp_path / "S"), "--categories", "spaceship"]) == 2
    assert "spaceship" in capsys.readouterr().err


def test_a_full_disk_or_a_failing_catalog_is_a_message_not_a_traceback(tmp_path, capsys, monkeypatch):
    import errno

    import inret_engine.build as build_module

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "S" / "inrs" / "x.inr"))

    monkeypatch.setattr(build_module, "sample_ground_truth", full_disk)
    assert main(["build-store", "demo", "--out", str(tmp_path / "S"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "the disk is full" in err and "x.inr" in err and "run the same command again" in err

    def broken_catalog(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(build_module, "sample_ground_truth", broken_catalog)
    assert main(["build-store", "demo", "--out", str(tmp_path / "S"), *FAST]) == 2
    assert "catalog failed (database or disk is full)" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_9_mid_build_then_resume_completes_a_consistent_store(tmp_path):
    out = tmp_path / "S"
    cmd = [sys.executable, "-m", "inret_engine.cli.main", "build-store", "demo", "--out", str(out),
           "--categories", "chair,table,lamp", "--per-category", "2", "--function", "sdf,occ",
           "--batch", "1", *FAST]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for _ in range(2):  # kill twice: once early, once later
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and _inr_rows(out) < 2 + 3 * _ and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, f"the build ended before it was killed: {proc.communicate()[1][-2000:]}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Store.open(out) as store:
        records = store.records()
        assert len(records) == 6 * 2
        for rec in records:
            store.load(rec)  # every file complete and valid
        files = sorted(p.name for p in (out / "inrs").iterdir())
        assert files == sorted(Path(r.file).name for r in records)
        assert len({(r.shape_id, r.function) for r in records}) == 12


def _inr_rows(store: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{store / 'catalog.sqlite'}?mode=ro", uri=True, timeout=0.1)
        try:
            return db.execute("SELECT COUNT(*) FROM inrs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_bench_fit_writes_json(tmp_path, capsys):
    path = tmp_path / "fit.json"
    assert main(["bench", "fit", "--arch", "triplane", "--function", "sdf", "--shapes", "2", "--steps", "10",
                 "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    (row,) = report["results"]
    assert row["arch"] == "triplane" and row["inrs"] == 2 and row["inrs_per_second"] > 0
    assert "INRs/s" in capsys.readouterr().out


@pytest.mark.dataset
def test_build_store_on_the_shared_dataset(tmp_path, capsys):
    root = dataset_root() / "psb_shrec12"
    if not root.is_dir():
        pytest.skip(f"dataset not found at {root} (set INRET_DATASETS)")
    assert main(["build-store", str(root), "--out", str(tmp_path / "S"), "--split", "test", "--categories",
                 "Cup", "--per-category", "1", "--function", "sdf", *FAST]) == 0
    assert "1 INRs added" in capsys.readouterr().out


@pytest.mark.slow
def test_a_new_store_is_searchable_with_the_shipped_model(tmp_path, capsys, monkeypatch):
    """build-store, then query / eval / bench query: no train-encoder, no embed step."""
    from inret_engine.encoders.model import INRetModel, ModelSpec

    shipped = tmp_path / "shared.enc"
    model = INRetModel(ModelSpec.shared(channels=2, base_channels=0))
    model.center.fill_(0.01)
    model.save(shipped)
    monkeypatch.setenv("INRET_PRETRAINED", str(shipped))
    out = tmp_path / "S"
    assert main(["build-store", "demo", "--out", str(out), "--categories", "chair,mug,table", "--per-category", "3",
                 "--function", "sdf,occ", *FAST]) == 0
    capsys.readouterr()
    with Store.open(out) as store:
        query = store.root / store.records(function="occ")[0].file
    assert main(["query", str(out), str(query), "-k", "4", "--function", "any", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["results"]) == 4 and {r["function"] for r in result["results"]} <= {"sdf", "occ"}
    report = tmp_path / "eval.json"
    assert main(["eval", str(out), "--json", str(report)]) == 0
    assert "triplane on the test split" in capsys.readouterr().out
    assert set(json.loads(report.read_text())["matrix"]) == {"sdf", "occ"}
    bench = tmp_path / "bench.json"
    assert main(["bench", "query", str(out), "--queries", "2", "--json", str(bench)]) == 0
    rows = json.loads(bench.read_text())["results"]
    assert {(r["arch"], r["function"]) for r in rows} == {("triplane", "sdf"), ("triplane", "occ")}
    assert all(r["total_ms"] > 0 for r in rows)


@pytest.mark.slow
def test_pretrain_then_label_aware_fine_tuning(tmp_path, capsys, tiny_demo_store):
    """inret pretrain makes a shared model from meshes; train-encoder --labels fine-tunes it on a store."""
    import shutil

    from inret_engine.encoders.model import INRetModel

    base = tmp_path / "base.enc"
    assert main(["pretrain", "demo", "--steps", "0", "--half", "--cache", str(tmp_path / "corpus"),
                 "--out", str(base)]) == 0
    model = INRetModel.load(base)
    assert model.spec.reads_field and model.spec.base_channels == 0 and "inret pretrain demo" in model.note
    store = tmp_path / "S"
    shutil.copytree(tiny_demo_store, store)
    tuned = tmp_path / "tuned.enc"
    assert main(["train-encoder", str(store), "--labels", "category", "--init", str(base), "--split", "all",
                 "--steps", "3", "--out", str(tuned)]) == 0
    fine = INRetModel.load(tuned)
    assert fine.spec.base_channels > 0 and fine.history[-1]["objective"] == "supcon"
    assert main(["embed", str(store), "--encoder", str(tuned)]) == 0
    assert "36 INRs embedded" in capsys.readouterr().out  # 12 shapes x SDF, UDF, Occ: one index


@pytest.mark.slow
def test_query_with_any_file_distills_or_fits_it_and_writes_the_browsers_rows(tmp_path, capsys):
    """A store whose one model reads triplane INRs: an octree INR file is distilled, a z-up mesh fitted,
    and the rows printed, exported and shown by the browser are one layout."""
    import csv
    import shutil

    import trimesh

    from inret_engine.retrieval.results import FIELDS

    out, model = tmp_path / "S", tmp_path / "m.enc"
    assert main(["build-store", "demo", "--out", str(out), "--categories", "chair,mug", "--per-category", "2",
                 "--function", "sdf", *FAST]) == 0
    assert main(["train-encoder", str(out), "--arch", "triplane", "--functions", "sdf", "--steps", "2",
                 "--split", "all", "--out", str(model)]) == 0
    assert main(["embed", str(out), "--encoder", str(model)]) == 0
    assert main(["build-store", "demo", "--out", str(out), "--categories", "chair", "--per-category", "1",
                 "--function", "sdf", "--arch", "octree", "--steps", "30", "--quiet"]) == 0  # no model reads it
    with Store.open(out) as store:
        (source,) = store.records(arch="octree")
        shutil.copyfile(store.path_of(source), tmp_path / "q.inr")
    capsys.readouterr()

    assert main(["query", str(out), str(tmp_path / "q.inr"), "-k", "3", "--steps", "2", "--json",
                 "--export", str(tmp_path / "r.csv")]) == 0
    printed = capsys.readouterr()
    doc = json.loads(printed.out)
    assert "q.inr: distilled from octree SDF" in printed.err
    assert doc["query"] == {"id": None, "name": source.name, "category": source.category, "function": "sdf",
                            "arch": "triplane", "source": str(tmp_path / "q.inr")}
    assert (doc["retrieve"], doc["k"], len(doc["results"])) == ("any", 3, 3)  # four shapes, its own left out
    assert all(r["shape_id"] != source.shape_id for r in doc["results"])
    assert [r["rank"] for r in doc["results"]] == [1, 2, 3] and list(doc["results"][0]) == list(FIELDS)
    with (tmp_path / "r.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["id"], r["score"]) for r in rows] == [(str(r["id"]), str(r["score"])) for r in doc["results"]]

    trimesh.creation.box(extents=(0.3, 0.5, 1.0)).export(tmp_path / "tall.stl")
    assert main(["query", str(out), str(tmp_path / "tall.stl"), "-k", "2", "--z-up", "--steps", "2"]) == 0
    printed = capsys.readouterr()
    assert "Sampling tall.stl" in printed.err and "tall.stl: fitted from tall.stl" in printed.err
    lines = printed.out.splitlines()
    assert lines[0].startswith(f"query {tmp_path / 'tall.stl'}: embed") and len(lines) == 3

    (tmp_path / "notes.txt").write_text("not a shape")
    assert main(["query", str(out), str(tmp_path / "notes.txt")]) == 2
    assert "notes.txt: cannot query with a .txt file" in capsys.readouterr().err
    (tmp_path / "bad.inr").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert main(["query", str(out), str(tmp_path / "bad.inr")]) == 2
    assert "inret query: error:" in capsys.readouterr().err
