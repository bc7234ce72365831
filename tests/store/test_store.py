"""The store: add, list, filter, load, and recovery from what a crash leaves behind."""

import shutil
import sqlite3

import pytest
import torch

from inret_engine.fields import Field
from inret_engine.functions import ImplicitFunction
from inret_engine.store import InrFileError, ShapeINR, Store, StoreError

from ..conftest import TINY_CONFIGS


def _add(store, gt, shape_id="s/a", kind="hash", function=ImplicitFunction.SDF, category="box"):
    shape = store.add_shape(shape_id=shape_id, name=shape_id.split("/")[-1], category=category, split="test",
                            source=f"file:{shape_id}", gt=gt, normalization={"scale": 1.0},
                            is_point_cloud=False)
    config = TINY_CONFIGS[kind]
    field = Field.create(config, 1, surfaces=[gt.surface])
    inr = ShapeINR(config=config, function=function, tensors=field.inr_tensors(0),
                   labels={"name": shape.name, "category": category})
    return store.add_inr(inr, shape=shape, chamfer=0.01, iou=0.9, fit_seconds=0.5), field


def test_add_list_filter_load(tmp_path, box_gt):
    with Store.create(tmp_path / "S") as store:
        rec, field = _add(store, box_gt)
        _add(store, box_gt, shape_id="s/b", kind="octree", function=ImplicitFunction.UDF, category="cup")
        assert [r.arch for r in store.records()] == ["hash", "octree"]
        assert [r.name for r in store.records(function="udf")] == ["b"]
        assert store.records(category="nothing") == []
        loaded = store.load(rec.id)
        assert loaded.function is ImplicitFunction.SDF and loaded.labels["category"] == "box"
        x = torch.rand(1, 32, 3) * 2 - 1
        assert torch.allclose(loaded.to_field()(x), field(x), atol=1e-6)
        gt = store.ground_truth("s/a")
        assert gt.points.shape == box_gt.points.shape
        summary = store.summary()
        assert summary["inrs"] == 2 and summary["by_arch"] == {"hash": 1, "octree": 1}
        assert summary["mean_chamfer"]["hash"]["sdf"] == pytest.approx(0.01)


def test_reopen_and_duplicate_rows_refused(tmp_path, box_gt):
    with Store.create(tmp_path / "S") as store:
        _add(store, box_gt)
        with pytest.raises(sqlite3.IntegrityError):
            _add(store, box_gt)
    with Store.open(tmp_path / "S") as store:
        assert len(store.records()) == 1


def test_open_refuses_a_folder_that_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="not an INR store"):
        Store.open(tmp_path)


def test_recover_sets_orphans_aside_and_removes_temps(tmp_path, box_gt):
    root = tmp_path / "S"
    with Store.create(root) as store:
        rec, _ = _add(store, box_gt)
    (root / "inrs" / "orphan.inr").write_bytes(b"half a file")
    (root / "inrs" / ".x.inr.0123456789ab.tmp").write_bytes(b"crashed write")
    (root / "shapes" / "orphan.npz").write_bytes(b"x")
    with Store.open(root) as store:
        assert [p.name for p in (root / "inrs").iterdir()] == [rec.file.split("/")[1]]
        assert not (root / "shapes" / "orphan.npz").exists()
        assert len(store.records()) == 1
    # files no row names are moved aside, never deleted: the store did not make them all
    assert (root / "lost+found" / "inrs" / "orphan.inr").read_bytes() == b"half a file"
    assert (root / "lost+found" / "shapes" / "orphan.npz").read_bytes() == b"x"


def test_an_empty_or_garbage_catalog_is_refused_and_nothing_moves(tmp_path, box_gt):
    root = tmp_path / "S"
    with Store.create(root) as store:
        rec, _ = _add(store, box_gt)
    inr = root / rec.file
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (root / name).unlink(missing_ok=True)
    (root / "catalog.sqlite").write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        Store.open(root)
    with pytest.raises(StoreError, match="empty"):
        Store.create(root)
    (root / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot be read"):
        Store.open(root)
    with pytest.raises(StoreError, match="cannot be read"):
        Store.create(root)  # what build-store uses: a traceback before
    assert inr.is_file() and not (root / "lost+found").exists()


def test_a_read_only_store_is_read_without_writing_a_byte(tmp_path, box_gt, monkeypatch):
    import inret_engine.store.store as store_module

    root = tmp_path / "S"
    with Store.create(root) as store:
        rec, _ = _add(store, box_gt)
    before = {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}
    # Tests run as root, whom permissions do not stop: stand in for a folder this user cannot write.
    monkeypatch.setattr(store_module, "_read_only", lambda folder: True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    with Store.open(root) as store:
        assert store.read_only and [r.id for r in store.records()] == [rec.id]
        store.load(rec)
        assert store.cache_dir.is_relative_to(tmp_path / "user-cache")
        with pytest.raises(StoreError, match="read-only"):
            store.require_writable("install an encoder into it")
    with pytest.raises(StoreError, match="read-only"):
        Store.create(root)
    assert {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()} == before


def test_read_only_means_this_user_cannot_write(tmp_path, monkeypatch):
    import os

    import inret_engine.store.store as store_module

    (tmp_path / "catalog.sqlite").write_bytes(b"x")
    assert not store_module._read_only(tmp_path)
    monkeypatch.setattr(os, "access", lambda path, mode: mode != os.W_OK)
    assert store_module._read_only(tmp_path)


def test_create_refuses_a_full_folder_that_is_not_a_store(tmp_path):
    folder = tmp_path / "photos"
    (folder / "inrs").mkdir(parents=True)
    (folder / "inrs" / "mine.inr").write_bytes(b"someone else's file")
    with pytest.raises(StoreError, match="not empty"):
        Store.create(folder)
    assert (folder / "inrs" / "mine.inr").is_file()
    Store.create(tmp_path / "new").close()  # a new or empty folder is fine
    early = tmp_path / "killed-early"  # what a create killed before its catalog leaves
    for sub in ("inrs", "shapes", "cache"):
        (early / sub).mkdir(parents=True)
    (early / ".lock").write_bytes(b"")
    Store.create(early).close()


def test_a_symlinked_store_folder_is_not_touched(tmp_path, box_gt):
    root = tmp_path / "S"
    with Store.create(root) as store:
        _add(store, box_gt)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.npz").write_bytes(b"keep me")
    shutil.rmtree(root / "shapes")
    (root / "shapes").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symbolic link"):
        Store.open(root)
    assert (elsewhere / "precious.npz").read_bytes() == b"keep me"


def test_a_corrupted_inr_in_a_store_is_refused_by_name(tmp_path, box_gt):
    with Store.create(tmp_path / "S") as store:
        rec, _ = _add(store, box_gt)
        path = store.root / rec.file
        data = bytearray(path.read_bytes())
        path.write_bytes(bytes(data[: len(data) // 2]))
        with pytest.raises(InrFileError, match=path.name):
            store.load(rec)


def test_a_file_whose_tensors_disagree_with_its_header_is_refused(tmp_path, box_gt):
    from inret_engine.store.inr_file import write_inr
    config = TINY_CONFIGS["hash"]
    tensors = Field.create(config, 1).inr_tensors(0)
    tensors["grid.table"] = tensors["grid.table"][:, :10]
    write_inr(tmp_path / "bad.inr", {"arch": config.to_dict(), "function": "sdf"}, tensors)
    from inret_engine.store import load_shape_inr
    with pytest.raises(InrFileError, match="grid.table"):
        load_shape_inr(tmp_path / "bad.inr")


def test_one_writer_at_a_time_and_readers_never_clean_up_under_a_writer(tmp_path, box_gt):
    root = tmp_path / "S"
    writer = Store.create(root)
    try:
        with pytest.raises(StoreError, match="being written by another process"):
            Store.create(root)
        in_flight = root / "inrs" / ".x.inr.0123456789ab.tmp"
        in_flight.write_bytes(b"a build writing right now")
        with Store.open(root) as reader:
            assert reader.records() == []
        assert in_flight.exists()  # the reader left the writer's temp file alone
    finally:
        writer.close()
    with Store.open(root):
        assert not in_flight.exists()  # no writer now: recovery cleans up


def test_catalog_values_never_name_files_outside_the_store(tmp_path, box_gt):
    from inret_engine.render.thumbnails import thumbnail_path

    root = tmp_path / "S"
    with Store.create(root) as store:
        rec, _ = _add(store, box_gt)
    outside = tmp_path / "outside.inr"
    outside.write_bytes((root / rec.file).read_bytes())
    db = sqlite3.connect(root / "catalog.sqlite")
    with db:
        db.execute("UPDATE inrs SET file = ?, sha256 = ? WHERE id = ?",
                   ("inrs/../../outside.inr", "../../../x", rec.id))
    db.close()
    with Store.open(root) as store:
        bad = store.records()[0]
        with pytest.raises(StoreError, match="not a file of the store"):
            store.load(bad)
        with pytest.raises(StoreError, match="malformed checksum"):
            thumbnail_path(store, bad)


def test_one_catalog_serves_threads_reading_and_writing_at_once(tmp_path, box_gt):
    """The app shares one store between the GUI thread and workers: statements of one
    thread must never land inside another thread's transaction."""
    import threading

    with Store.create(tmp_path / "S") as store:
        errors, stop = [], threading.Event()

        def read() -> None:
            try:
                while not stop.is_set():
                    for rec in store.records():
                        store.catalog.inr(rec.id)
                    store.catalog.shapes()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        def write(k: int) -> None:
            try:
                for i in range(12):
                    store.catalog.add_skipped(f"source-{k}-{i}", "a reason")
                    _add(store, box_gt, shape_id=f"s/{k}-{i}")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(2)]
        writers = [threading.Thread(target=write, args=(k,)) for k in range(2)]
        for t in threads + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in threads:
            t.join()
        assert errors == [] and len(store.records()) == 24 and len(store.catalog.skipped()) == 24
