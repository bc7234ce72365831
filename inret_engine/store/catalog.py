"""The SQLite catalog of a store: one row per shape and one per INR.

Every write is one transaction; SQLite's journal makes a crash leave either the old
or the new state. Files are written (atomically) before their row is committed, so a
row always names a complete file; a file without a row is an orphan the store removes
when it is opened.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, StoreError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shapes (
    shape_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    split TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,               -- "mesh" or "points"
    normalization TEXT NOT NULL,      -- JSON of data.geometry.Normalization
    gt_file TEXT NOT NULL,
    gt_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inrs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shape_id TEXT NOT NULL REFERENCES shapes(shape_id),
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    split TEXT NOT NULL,
    arch TEXT NOT NULL,
    config_id TEXT NOT NULL,
    function TEXT NOT NULL,
    file TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    chamfer REAL,
    iou REAL,
    fit_seconds REAL,
    created REAL NOT NULL,
    UNIQUE (shape_id, config_id, function)
);
CREATE TABLE IF NOT EXISTS skipped (
    source TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS inrs_by_filter ON inrs (function, arch, category, split);
"""


@dataclasses.dataclass(frozen=True)
class InrRecord:
    """One catalog row: an INR file and its labels."""

    id: int
    shape_id: str
    name: str
    category: str
    split: str
    arch: str
    config_id: str
    function: str
    file: str
    sha256: str
    chamfer: float | None
    iou: float | None
    fit_seconds: float | None
    created: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ShapeRecord:
    """One shape the store has ground truth for."""

    shape_id: str
    name: str
    category: str
    split: str
    source: str
    kind: str
    normalization: dict
    gt_file: str
    gt_sha256: str


class Catalog:
    """Thin typed access to ``catalog.sqlite``."""

    def __init__(self, path: Path, *, read_only: bool = False):
        """Opens (creating when missing and not ``read_only``) the catalog at ``path``.

        ``read_only`` opens it immutable, for a store this user cannot write: SQLite then
        neither locks it nor makes the journal files it could not create.
        """
        self.path = Path(path)
        self._lock = threading.RLock()  # one connection, used by the GUI thread and workers
        if read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails now if not a database
        else:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None and read_only:
            raise sqlite3.DatabaseError("no schema version: not an INR store catalog")
        if row is None:
            with self.transaction():
                self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: catalog schema {row[0]} is newer than this program's "
                             f"({SCHEMA_VERSION}); upgrade INRet Browser")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def _all(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        """Every row of a query, fetched while this connection is held."""
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple | list = ()) -> tuple | None:
        with self._lock:
            return self.db.execute(sql, args).fetchone()

    def integrity(self) -> str:
        """SQLite's own consistency check of the file: ``"ok"`` or the problems it lists."""
        return "; ".join(row[0] for row in self._all("PRAGMA quick_check"))

    def transaction(self):
        return _Transaction(self.db, self._lock)

    # --- shapes -----------------------------------------------------------------------
    def add_shape(self, rec: ShapeRecord) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO shapes VALUES (?,?,?,?,?,?,?,?,?)",
                (rec.shape_id, rec.name, rec.category, rec.split, rec.source, rec.kind,
                 json.dumps(rec.normalization), rec.gt_file, rec.gt_sha256))
            self.db.execute("DELETE FROM skipped WHERE source=?", (rec.source,))

    def shape(self, shape_id: str) -> ShapeRecord | None:
        row = self._one("SELECT * FROM shapes WHERE shape_id=?", (shape_id,))
        return None if row is None else _shape(row)

    def shapes(self) -> list[ShapeRecord]:
        return [_shape(r) for r in self._all("SELECT * FROM shapes ORDER BY shape_id")]

    def set_ground_truth(self, shape_id: str, gt_file: str, gt_sha256: str) -> None:
        """Point a shape's row at a new ground-truth file (its INR rows stay)."""
        with self.transaction():
            self.db.execute("UPDATE shapes SET gt_file=?, gt_sha256=? WHERE shape_id=?",
                            (gt_file, gt_sha256, shape_id))

    def remove_shape(self, shape_id: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM shapes WHERE shape_id=?", (shape_id,))

    # --- INRs ---------------------------------------------------------------------------
    def add_inr(self, **fields: Any) -> InrRecord:
        fields.setdefault("created", time.time())
        names = [f.name for f in dataclasses.fields(InrRecord) if f.name != "id"]
        with self.transaction():
            cur = self.db.execute(
                f"INSERT INTO inrs ({','.join(names)}) VALUES ({','.join('?' * len(names))})",
                [fields.get(n) for n in names])
            row_id = cur.lastrowid
        assert row_id is not None, "an INSERT sets lastrowid"
        return self.inr(row_id)

    def inr(self, inr_id: int) -> InrRecord:
        row = self._one("SELECT * FROM inrs WHERE id=?", (int(inr_id),))
        if row is None:
            raise NotFoundError(f"no INR with id {inr_id} in {self.path.parent}")
        return InrRecord(*row)

    def has_inr(self, shape_id: str, config_id: str, function: str) -> bool:
        q = "SELECT 1 FROM inrs WHERE shape_id=? AND config_id=? AND function=?"
        return self._one(q, (shape_id, config_id, function)) is not None

    def inrs(self, *, arch: str | None = None, function: str | None = None, category: str | None = None,
             split: str | None = None, shape_id: str | None = None) -> list[InrRecord]:
        where, args = [], []
        for col, val in (("arch", arch), ("function", function), ("category", category),
                         ("split", split), ("shape_id", shape_id)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        sql = "SELECT * FROM inrs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [InrRecord(*r) for r in self._all(sql, args)]

    def remove_inr(self, inr_id: int) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM inrs WHERE id=?", (int(inr_id),))

    # --- skipped sources ----------------------------------------------------------------
    def add_skipped(self, source: str, reason: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO skipped VALUES (?,?,?)", (source, reason, time.time()))

    def skipped(self) -> list[tuple[str, str]]:
        return [(s, r) for s, r in self._all("SELECT source, reason FROM skipped ORDER BY source")]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception), holding the
    connection's lock throughout so no other thread's statement lands inside it."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock):
        self.db = db
        self.lock = lock

    def __enter__(self):
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self.lock.release()
        return False


def _shape(row: tuple) -> ShapeRecord:
    values = list(row)
    values[6] = json.loads(values[6])
    return ShapeRecord(*values)
