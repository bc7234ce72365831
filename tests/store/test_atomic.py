"""Tests for inret_engine.store.atomic: write-then-rename and crash leftovers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from inret_engine.store.atomic import atomic_path, atomic_write_bytes, remove_stale_temps


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_bytes_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"first")
    assert target.read_bytes() == b"first"
    atomic_write_bytes(target, bytearray(b"second, longer"))
    assert target.read_bytes() == b"second, longer"
    atomic_write_bytes(target, memoryview(b""))
    assert target.read_bytes() == b""
    assert _temps(tmp_path) == []


def test_write_bytes_accepts_str_path(tmp_path: Path) -> None:
    atomic_write_bytes(str(tmp_path / "s.bin"), b"x")  # type: ignore[arg-type]
    assert (tmp_path / "s.bin").read_bytes() == b"x"


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_written_file_follows_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "perm.bin"
    atomic_write_bytes(target, b"x")
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_bytes_failed_rename_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []


def test_write_bytes_failed_write_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, 12345)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []


def test_atomic_path_temp_is_hidden_beside_target(tmp_path: Path) -> None:
    target = tmp_path / "cache.npy"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".") and tmp.name.endswith(".tmp")
        assert tmp.exists() and not target.exists()
        with open(tmp, "wb") as f:
            f.write(b"payload")
    assert target.read_bytes() == b"payload"
    assert _temps(tmp_path) == []


def test_atomic_path_replaces_existing(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_atomic_path_exception_keeps_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert _temps(tmp_path) == []


def test_atomic_path_exception_creates_no_target(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_writer_removed_temp(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(FileNotFoundError):
        with atomic_path(target) as tmp:
            tmp.unlink()
    assert target.read_text() == "old"


def test_remove_stale_temps(tmp_path: Path) -> None:
    (tmp_path / ".a.inr.1f2e3d4c5b6a.tmp").write_bytes(b"partial")
    (tmp_path / ".b.0123456789ab.tmp").write_bytes(b"")
    # Only the names atomic_path makes go: a user's own hidden .tmp files stay.
    keep = ["c.tmp", ".hidden", "d.inr", ".tmp", ".x.tmp.bak", ".b.tmp", ".notes.1f2e.tmp"]
    for name in keep:
        (tmp_path / name).write_bytes(b"keep")
    (tmp_path / ".dir.0123456789ab.tmp").mkdir()
    (tmp_path / ".link.0123456789ab.tmp").symlink_to(tmp_path / "d.inr")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".nested.0123456789ab.tmp").write_bytes(b"")
    assert remove_stale_temps(tmp_path) == 2
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == sorted([*keep, ".dir.0123456789ab.tmp", ".link.0123456789ab.tmp", "sub"])
    assert (tmp_path / "sub" / ".nested.0123456789ab.tmp").exists()
    assert remove_stale_temps(tmp_path) == 0


def test_remove_stale_temps_after_simulated_crash(tmp_path: Path) -> None:
    target = tmp_path / "m.inr"
    target.write_bytes(b"old")

    class Crash(BaseException):
        pass

    # A crash that kills the process mid-write skips all cleanup: emulate it by writing
    # a temp the way atomic_path names them and never renaming it.
    crashed = tmp_path / f".{target.name}.deadbeef0000.tmp"
    crashed.write_bytes(b"half")
    with pytest.raises(Crash):
        with atomic_path(target):
            raise Crash
    assert remove_stale_temps(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.inr"]
    assert target.read_bytes() == b"old"


def test_remove_stale_temps_age_and_missing_folder(tmp_path: Path) -> None:
    fresh = tmp_path / ".fresh.0123456789ab.tmp"
    old = tmp_path / ".old.0123456789ab.tmp"
    fresh.write_bytes(b"")
    old.write_bytes(b"")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert remove_stale_temps(tmp_path, older_than_s=60) == 1
    assert fresh.exists() and not old.exists()
    assert remove_stale_temps(tmp_path / "missing") == 0
