"""Integrity of a store: damage is found by ``inret check``, mended by ``--repair`` and by a
re-run of ``build-store``, and what cannot be mended is reported and left alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from inret_engine.build import BuildOptions, build_store, resolve_sources
from inret_engine.cli.main import main
from inret_engine.functions import ImplicitFunction
from inret_engine.progress import run_to_end
from inret_engine.repair import CheckReport, check_store
from inret_engine.store import InrFileError, Store, StoreError

from .conftest import TINY_CONFIGS

OPTIONS = BuildOptions(configs=(TINY_CONFIGS["hash"],), functions=(ImplicitFunction.SDF,), steps=20)
SOURCES = dict(categories=["chair", "mug"], per_category=2, splits=["train"])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repair") / "S"
    with Store.create(root) as store:
        for _ in build_store(store, resolve_sources("demo", **SOURCES), OPTIONS):
            pass
    return root


@pytest.fixture
def store_dir(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "S"))


def _damage(root: Path) -> dict[str, str]:
    """Flips a bit of one INR, overwrites another with garbage, deletes one ground truth."""
    with Store.open(root) as store:
        first, second = store.records()[:2]
        shape = store.catalog.shape(first.shape_id)
    flipped = bytearray((root / first.file).read_bytes())
    flipped[-5] ^= 0x04
    (root / first.file).write_bytes(bytes(flipped))
    (root / second.file).write_bytes(b"garbage")
    (root / shape.gt_file).unlink()
    return {"flipped": first.file, "garbage": second.file, "gt": shape.gt_file, "shape": shape.shape_id}


def _findings(root: Path, **kwargs) -> CheckReport:
    with (Store.create if kwargs.get("repair") else Store.open)(root) as store:
        return run_to_end(check_store(store, **kwargs))


def test_an_intact_store_checks_clean(store_dir: Path, capsys) -> None:
    assert main(["check", str(store_dir), "--quiet"]) == 0
    assert "0 problems" in capsys.readouterr().out


def test_damage_is_reported_and_refused_on_load(store_dir: Path) -> None:
    damaged = _damage(store_dir)
    report = _findings(store_dir)
    problems = {f.target: f.problem for f in report.findings}
    assert set(problems) == {damaged["flipped"], damaged["garbage"], damaged["shape"]}
    assert "checksum" in problems[damaged["flipped"]]
    assert "missing" in problems[damaged["shape"]]
    with Store.open(store_dir) as store:
        rec = next(r for r in store.records() if r.file == damaged["flipped"])
        with pytest.raises(InrFileError, match="does not match the checksum"):
            store.load(rec)
        with pytest.raises(StoreError, match="ground-truth file is missing"):
            store.ground_truth(damaged["shape"])


@pytest.mark.slow
def test_check_repair_mends_everything_and_keeps_the_old_files(store_dir: Path, capsys) -> None:
    damaged = _damage(store_dir)
    assert main(["check", str(store_dir), "--quiet"]) == 1
    out = store_dir.parent / "report.json"
    assert main(["check", str(store_dir), "--repair", "--steps", "10", "--quiet", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert len(report["findings"]) == 3 and all(f["repaired"] for f in report["findings"])
    assert report["set_aside"] == 2
    lost = sorted(p.name for p in (store_dir / "lost+found" / "inrs").iterdir())
    assert lost == sorted(Path(damaged[k]).name for k in ("flipped", "garbage"))
    with Store.open(store_dir) as store:
        assert len(store.records()) == 4
        for rec in store.records():
            store.load(rec)
        store.ground_truth(damaged["shape"])
    assert _findings(store_dir).findings == []
    capsys.readouterr()


@pytest.mark.slow
def test_build_store_rerun_refits_damaged_inrs_and_resamples_lost_ground_truth(store_dir: Path) -> None:
    damaged = _damage(store_dir)
    with Store.create(store_dir) as store:
        events = []
        summary = run_to_end(build_store(store, resolve_sources("demo", **SOURCES), OPTIONS), events.append)
        assert sum(e.stage == "repair" for e in events) == 3
        assert (summary.added, summary.existing) == (2, 2)  # the two damaged INRs fitted again, the others kept
        assert len(store.records()) == 4
        for rec in store.records():
            store.load(rec)
    assert _findings(store_dir).findings == []
    assert (store_dir / "lost+found" / "inrs" / Path(damaged["flipped"]).name).is_file()


def test_what_cannot_be_mended_is_reported_and_left(store_dir: Path) -> None:
    with Store.open(store_dir) as store:
        records = store.records()
    for rec in records:  # no healthy INR of the (non-default) config is left to read it from
        (store_dir / rec.file).write_bytes(b"garbage")
    report = _findings(store_dir, repair=True)
    assert len(report.findings) == 4 and not any(f.repaired for f in report.findings)
    assert all("architecture config" in f.outcome for f in report.findings)
    with Store.open(store_dir) as store:
        assert len(store.records()) == 4  # rows and files untouched
    assert not (store_dir / "lost+found").exists()
