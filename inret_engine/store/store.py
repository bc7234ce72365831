"""An INR store: a folder holding ``catalog.sqlite``, ``inrs/*.inr`` and ``shapes/*.npz``.

Layout::

    STORE/
      catalog.sqlite        shapes, INRs (labels, checksums, fit quality), skipped sources
      inrs/<id>.inr         one safetensors file per INR
      shapes/<key>.npz      ground-truth samples per shape (reused by every INR of it)
      cache/                embeddings, indices, thumbnails, keyed by encoder checksum

Writes are atomic (temp file + rename, one SQLite transaction per row). Opening a
store removes what a crash can leave behind: temp files, and files no row names.

One writer at a time: :meth:`Store.create` (what builds use) holds an exclusive lock on
``STORE/.lock`` until closed, and recovery runs only when that lock is free, so a
browser opening a store mid-build never deletes the build's files in flight.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sqlite3
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.sampling import GroundTruth
from ..errors import InrFileError, StoreError
from .atomic import atomic_write_bytes, remove_stale_temps
from .catalog import Catalog, InrRecord, ShapeRecord
from .files import read_regular_file

if TYPE_CHECKING:  # the INR side loads torch: imported where an INR is read or written
    from .shape_inr import ShapeINR

CATALOG = "catalog.sqlite"


STORE_FOLDERS = ("inrs", "shapes", "cache")
INR_FILE = re.compile(r"inrs/[A-Za-z0-9_-][A-Za-z0-9._-]*\.inr")
"""What a row's ``file`` may be: a plain name in ``inrs/``."""
GT_FILE = re.compile(r"shapes/[A-Za-z0-9_-][A-Za-z0-9._-]*\.npz")
"""What a shape row's ``gt_file`` may be: a plain name in ``shapes/``."""
SHA256 = re.compile(r"[0-9a-f]{64}")
LOCK = ".lock"
LOST_AND_FOUND = "lost+found"
"""Where recovery puts files no catalog row names."""


def _blank(root: Path) -> bool:
    """True when ``root`` holds nothing but what :meth:`Store.create` makes before its catalog
    (empty store folders, the lock file): a create killed that early may be run again."""
    for entry in root.iterdir():
        if entry.name == LOCK:
            continue
        if not (entry.name in STORE_FOLDERS and entry.is_dir() and not entry.is_symlink()
                and not any(entry.iterdir())):
            return False
    return True


def _check_catalog_file(path: Path) -> None:
    """Refuse a catalog that is empty (opening it would make an empty store of a full folder)."""
    if path.is_file() and path.stat().st_size == 0:
        raise StoreError(f"{path} is empty: the catalog was lost or truncated; the store was left unchanged "
                         "(restore the file from a backup, or move the folder aside and rebuild)")


class Store:
    """Open with :meth:`open` (existing) or :meth:`create` (new or existing)."""

    def __init__(self, root: Path, catalog: Catalog, lock_fd: int | None = None, *, read_only: bool = False):
        self.root = Path(root)
        self.catalog = catalog
        self._lock_fd = lock_fd
        self.read_only = read_only

    @property
    def cache_dir(self) -> Path:
        """Where embeddings, indices, maps and thumbnails are cached: ``STORE/cache``, or for a
        store this user cannot write, a folder of the user's cache named after the store."""
        if not self.read_only:
            return self.root / "cache"
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        key = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]
        return base / "inret" / "read-only-stores" / f"{file_key(self.root.name or 'store')}-{key}"

    def require_writable(self, what: str) -> None:
        """Raises a StoreError naming ``what`` cannot be done when the store is read-only."""
        if self.read_only:
            raise StoreError(f"{self.root} is read-only for this user: cannot {what} (copy the store, "
                             "or ask its owner to do it)")

    # --- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path) -> "Store":
        """Open ``root`` for writing, making a new store there if it has none.

        An existing folder must be empty or a store already: a folder with other content
        and no catalog is refused, so nothing of it is taken for the debris of a crash.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root} exists and is not a folder")
        if root.is_dir() and not (root / CATALOG).exists() and not _blank(root):
            raise StoreError(f"{root} is not empty and is not an INR store (no {CATALOG}); "
                             "choose an empty or new folder")
        if (root / CATALOG).exists():
            _check_catalog_file(root / CATALOG)
        if _read_only(root):
            raise StoreError(f"{root} is read-only for this user: cannot write to it")
        root.mkdir(parents=True, exist_ok=True)
        for sub in STORE_FOLDERS:
            (root / sub).mkdir(exist_ok=True)
        fd = _try_lock(root)
        if fd is None:
            raise StoreError(f"{root} is being written by another process; wait for it to finish")
        try:
            store = cls(root, _open_catalog(root), lock_fd=fd)
            store.recover()
        except BaseException:
            _unlock(fd)
            raise
        return store

    @classmethod
    def open(cls, root: Path) -> "Store":
        root = Path(root)
        if not (root / CATALOG).is_file():
            raise StoreError(f"{root} is not an INR store (no {CATALOG}); build one with `inret build-store`")
        _check_catalog_file(root / CATALOG)
        return cls._open(root)

    @classmethod
    def _open(cls, root: Path) -> "Store":
        if _read_only(root):  # no lock, no recovery, caches in the user's folder
            return cls(root, _open_catalog(root, read_only=True), read_only=True)
        store = cls(root, _open_catalog(root))
        fd = _try_lock(root)
        if fd is not None:  # no writer at work: safe to clean up after a crash
            try:
                store.recover()
            finally:
                _unlock(fd)
        return store

    def close(self) -> None:
        self.catalog.close()
        if self._lock_fd is not None:
            _unlock(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def recover(self) -> dict[str, int]:
        """Bring the folder back in line with the catalog after a crash.

        Removes the store's own temp files and rows whose file is gone; ``.inr`` / ``.npz``
        files that no row names (a crash between file and row leaves one) are moved to
        ``lost+found/``, never deleted. Folders that are symbolic links are not touched.
        Returns counts of what was done.
        """
        removed: Counter[str] = Counter()
        for sub in STORE_FOLDERS:
            folder = self.root / sub
            if folder.is_symlink():
                raise StoreError(f"{folder} is a symbolic link; a store keeps its files in its own folders")
            folder.mkdir(exist_ok=True)
            removed["temps"] += remove_stale_temps(folder)
        known_inrs = {r.file for r in self.catalog.inrs()}
        for path in (self.root / "inrs").glob("*.inr"):
            if f"inrs/{path.name}" not in known_inrs:
                self._set_aside(path)
                removed["orphan_inrs"] += 1
        for rec in self.catalog.inrs():
            if not (self.root / rec.file).is_file():
                self.catalog.remove_inr(rec.id)
                removed["missing_inrs"] += 1
        known_shapes = {s.gt_file for s in self.catalog.shapes()}
        for path in (self.root / "shapes").glob("*.npz"):
            if f"shapes/{path.name}" not in known_shapes:
                self._set_aside(path)
                removed["orphan_shapes"] += 1
        for shape in self.catalog.shapes():
            if not (self.root / shape.gt_file).is_file() and not self.catalog.inrs(shape_id=shape.shape_id):
                self.catalog.remove_shape(shape.shape_id)
                removed["missing_shapes"] += 1
        return dict(removed)

    def _set_aside(self, path: Path) -> None:
        """Move a file no row names to ``lost+found/<folder>/`` (a name already there gets a suffix)."""
        dest_dir = self.root / LOST_AND_FOUND / path.parent.name
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest, n = dest_dir / path.name, 1
        while dest.exists():
            dest, n = dest_dir / f"{path.stem}.{n}{path.suffix}", n + 1
        os.replace(path, dest)

    # --- shapes ------------------------------------------------------------------------
    def add_shape(self, *, shape_id: str, name: str, category: str, split: str, source: str,
                  gt: GroundTruth, normalization: dict, is_point_cloud: bool) -> ShapeRecord:
        """Save a shape's ground truth (atomically), then its catalog row."""
        data = _npz_bytes(gt)
        rel = f"shapes/{file_key(shape_id)}.npz"
        atomic_write_bytes(self.root / rel, data)
        rec = ShapeRecord(shape_id=shape_id, name=name, category=category, split=split, source=source,
                          kind="points" if is_point_cloud else "mesh", normalization=normalization,
                          gt_file=rel, gt_sha256=hashlib.sha256(data).hexdigest())
        self.catalog.add_shape(rec)
        return rec

    def ground_truth(self, shape_id: str) -> GroundTruth:
        """A shape's ground-truth samples, checked against the catalog's checksum.

        Raises:
            KeyError: No such shape.
            StoreError: The file is missing, changed or unreadable (``inret check --repair``
                or ``inret build-store`` makes it again).
        """
        rec = self.catalog.shape(shape_id)
        if rec is None:
            raise KeyError(f"no shape {shape_id!r} in {self.root}")
        data = self._ground_truth_bytes(rec)
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                return GroundTruth.from_arrays({k: arrays[k] for k in arrays.files})
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise StoreError(f"{self.root / rec.gt_file}: cannot read ground truth ({exc})") from None

    def _ground_truth_bytes(self, rec: ShapeRecord) -> bytes:
        data, problem = self._read_ground_truth(rec)
        if problem:
            raise StoreError(f"{self.root / rec.gt_file}: {problem}; run `inret check {self.root} --repair` "
                             "or build the store again to sample it anew")
        return data

    def _read_ground_truth(self, rec: ShapeRecord) -> tuple[bytes, str | None]:
        """A shape's ground-truth bytes and what is wrong with them (None when they are the
        bytes recorded)."""
        path = self.root / rec.gt_file
        if not GT_FILE.fullmatch(rec.gt_file) or path.is_symlink():
            return b"", f"the catalog names {rec.gt_file!r}, not a file of the store's shapes/ folder"
        if not path.is_file():
            return b"", "ground-truth file is missing"
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != rec.gt_sha256:
            return data, "ground-truth file does not match the checksum the store recorded"
        return data, None

    def replace_ground_truth(self, shape_id: str, gt: GroundTruth) -> None:
        """Write a shape's ground truth anew (after it was lost or damaged) and record its checksum."""
        data = _npz_bytes(gt)
        rel = f"shapes/{file_key(shape_id)}.npz"
        atomic_write_bytes(self.root / rel, data)
        self.catalog.set_ground_truth(shape_id, rel, hashlib.sha256(data).hexdigest())

    # --- integrity -----------------------------------------------------------------------
    def shape_problem(self, rec: ShapeRecord) -> str | None:
        """What is wrong with a shape's ground-truth file (None when it is the file recorded)."""
        return self._read_ground_truth(rec)[1]

    def inr_problem(self, rec: InrRecord, *, decode: bool = True) -> str | None:
        """What is wrong with an INR's file: None when it holds the bytes the catalog recorded
        (and, with ``decode``, they still pass every check of the current reader)."""
        from .inr_file import MAX_FILE_BYTES
        from .shape_inr import load_shape_inr

        try:
            path = self.path_of(rec)
            if not decode:
                data = read_regular_file(path, limit=MAX_FILE_BYTES)
                return None if hashlib.sha256(data).hexdigest() == rec.sha256 else "content does not match " \
                    "the checksum the store recorded (changed or damaged since it was written)"
            load_shape_inr(path, sha256=rec.sha256)
        except InrFileError as exc:
            return exc.problem
        except (StoreError, ValueError) as exc:
            return str(exc)
        return None

    def retire_inr(self, rec: InrRecord) -> None:
        """Remove an INR's row and move its file (if any) to ``lost+found/`` (never deleted)."""
        path = self.root / rec.file
        self.catalog.remove_inr(rec.id)
        if INR_FILE.fullmatch(rec.file) and path.is_file() and not path.is_symlink():
            self._set_aside(path)

    # --- INRs --------------------------------------------------------------------------
    def add_inr(self, inr: ShapeINR, *, shape: ShapeRecord, chamfer: float | None = None,
                iou: float | None = None, fit_seconds: float | None = None) -> InrRecord:
        """Write the INR file, then commit its row (one transaction)."""
        from .shape_inr import save_shape_inr

        rel = f"inrs/{file_key(shape.shape_id)}.{inr.config.config_id}.{inr.function.value}.inr"
        sha = save_shape_inr(self.root / rel, inr)
        return self.catalog.add_inr(
            shape_id=shape.shape_id, name=shape.name, category=shape.category, split=shape.split,
            arch=inr.config.kind, config_id=inr.config.config_id, function=inr.function.value, file=rel,
            sha256=sha, chamfer=_finite_or_none(chamfer), iou=iou, fit_seconds=fit_seconds)

    def records(self, **filters) -> list[InrRecord]:
        """Catalog rows, filtered by ``arch``, ``function``, ``category``, ``split``, ``shape_id``."""
        return self.catalog.inrs(**filters)

    def load(self, record: InrRecord | int) -> ShapeINR:
        """Load and validate one INR file, refusing one whose bytes are not those the catalog
        recorded (an ``InrFileError`` naming the file)."""
        from .shape_inr import load_shape_inr

        if not isinstance(record, InrRecord):
            record = self.catalog.inr(record)
        try:
            return load_shape_inr(self.path_of(record), sha256=record.sha256)
        except InrFileError as exc:
            raise InrFileError(exc.path, f"{exc.problem}; `inret check {self.root} --repair` fits it "
                                         "again") from None

    def path_of(self, record: InrRecord) -> Path:
        """The file of a row, checked to be one of the store's own ``inrs/*.inr`` (a catalog
        value never names a file elsewhere: no absolute path, no ``..``, no link)."""
        if not INR_FILE.fullmatch(record.file) or (self.root / record.file).is_symlink():
            raise StoreError(f"catalog row {record.id} names {record.file!r}, not a file of the store's "
                             "inrs/ folder; run inret build-store again to refit it")
        return self.root / record.file

    def summary(self) -> dict:
        """Counts by architecture / function / category / split, and mean fit quality per arch x function."""
        recs = self.records()
        quality: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        ious: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for r in recs:
            if r.chamfer is not None:
                quality[r.arch][r.function].append(r.chamfer)
            if r.iou is not None:
                ious[r.arch][r.function].append(r.iou)
        return {
            "store": str(self.root),
            "inrs": len(recs),
            "shapes": len(self.catalog.shapes()),
            "by_arch": dict(Counter(r.arch for r in recs)),
            "by_function": dict(Counter(r.function for r in recs)),
            "by_category": dict(sorted(Counter(r.category for r in recs).items())),
            "by_split": dict(Counter(r.split for r in recs)),
            "mean_chamfer": {a: {f: float(np.mean(v)) for f, v in fs.items()} for a, fs in quality.items()},
            "mean_iou": {a: {f: float(np.mean(v)) for f, v in fs.items()} for a, fs in ious.items()},
            "skipped": [{"source": s, "reason": r} for s, r in self.catalog.skipped()],
        }


def _read_only(root: Path) -> bool:
    """True when this user cannot write the store folder or its catalog."""
    catalog = root / CATALOG
    return (root.is_dir() and not os.access(root, os.W_OK)) or (catalog.is_file() and not os.access(catalog, os.W_OK))


def _open_catalog(root: Path, *, read_only: bool = False) -> Catalog:
    """The store's catalog; one SQLite cannot read is a StoreError that changes nothing."""
    try:
        return Catalog(root / CATALOG, read_only=read_only)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{root / CATALOG} cannot be read ({exc}); the store was left unchanged "
                         "(restore the file from a backup, or move the folder aside and rebuild)") from None


def _try_lock(root: Path) -> int | None:
    """An exclusive lock on ``root/.lock``, or None when another process holds it."""
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, single writer assumed
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlock(fd: int) -> None:
    try:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_UN)
    except (ImportError, OSError):  # pragma: no cover
        pass
    os.close(fd)


def file_key(shape_id: str) -> str:
    """A file-name-safe, collision-free key for a shape id."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", shape_id).strip("._")[:80]
    return f"{safe}-{hashlib.sha256(shape_id.encode()).hexdigest()[:8]}"


def _npz_bytes(gt: GroundTruth) -> bytes:
    buf = io.BytesIO()
    arrays: dict[str, Any] = gt.to_arrays()  # (Any: numpy's stub reads ** as a possible allow_pickle)
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)
