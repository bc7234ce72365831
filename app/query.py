"""A query and its results as plain data, running one, and exporting the results (no Qt).

A :class:`QuerySubject` is what is being asked about: a store row, or an INR that is not
in the store (a dropped ``.inr`` file, a mesh fitted on the fly, a distilled INR). It
carries the same label fields as an :class:`~inret_engine.store.InrRecord` (``name``,
``category``, ``function``, ``arch``) so views can paint both alike.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path

from inret_engine.retrieval.retriever import Hit, Retriever
from inret_engine.store import InrRecord, ShapeINR

RETRIEVE_MODES = (("any", "Any function"), ("same", "Same function"), ("sdf", "SDF"), ("udf", "UDF"), ("occ", "Occ"))
"""``(mode, label)`` of the "retrieve" selector; the mode is :meth:`Retriever.query`'s ``function``.

The first is the default: the shared model puts every function in one space, so a query
sees the whole store."""

DEFAULT_K = 10


@dataclasses.dataclass(frozen=True, eq=False)
class QuerySubject:
    """The shape a query asks about.

    Attributes:
        name, category, function, arch: labels, as on a catalog row.
        record: the catalog row when the shape is in the store.
        inr: the loaded INR when it is not, or the distilled copy of a row no encoder knows
            (the query then embeds ``inr``; ``record`` still names and pictures it).
        source: where it came from, for the user (``"gallery"``, a file path, ...).
        shape_id: INRs of this shape are left out of the results.
    """

    name: str
    category: str
    function: str
    arch: str
    record: InrRecord | None = None
    inr: ShapeINR | None = None
    source: str = ""
    shape_id: str | None = None

    @classmethod
    def of_record(cls, record: InrRecord, source: str = "store") -> "QuerySubject":
        return cls(record.name, record.category, record.function, record.arch, record=record, source=source,
                   shape_id=record.shape_id)

    @classmethod
    def of_inr(cls, inr: ShapeINR, source: str, *, name: str | None = None) -> "QuerySubject":
        labels = inr.labels or {}
        return cls(name or str(labels.get("name") or Path(source).stem), str(labels.get("category") or ""),
                   inr.function.value, inr.config.kind, inr=inr, source=source, shape_id=labels.get("shape_id"))

    @classmethod
    def distilled(cls, record: InrRecord, inr: ShapeINR) -> "QuerySubject":
        """A store INR no encoder knows, queried through its distilled copy ``inr``."""
        return cls(record.name, record.category, inr.function.value, f"{record.arch} → {inr.config.kind}",
                   record=record, inr=inr, source=f"{record.name}, distilled", shape_id=record.shape_id)

    @property
    def labelled(self) -> bool:
        """Whether the query has a category to compare results with (a dropped mesh has none)."""
        return bool(self.category) and self.category != "?"

    @property
    def id(self) -> int | None:
        """The catalog id, when the shape is in the store."""
        return None if self.record is None else self.record.id


@dataclasses.dataclass(frozen=True, eq=False)
class QueryOutcome:
    """What a query found.

    Attributes:
        subject: the query.
        hits: best first.
        mode: the "retrieve" choice it ran with (``same``, ``sdf``, ``udf``, ``occ``, ``any``).
        k: results asked for.
        embed_ms, search_ms: the engine's own timings.
        requested: ``time.perf_counter()`` when the user asked (double-click, drop, ...).
    """

    subject: QuerySubject
    hits: list[Hit]
    mode: str
    k: int
    embed_ms: float
    search_ms: float
    requested: float

    def matches(self, hit: Hit) -> bool | None:
        """Whether a result has the query's category; ``None`` when the query has none."""
        return hit.record.category == self.subject.category if self.subject.labelled else None


def run_query(retriever: Retriever, subject: QuerySubject, k: int, mode: str, requested: float) -> QueryOutcome:
    """Run one query (on a worker thread): a store row by its cached embedding, else the INR."""
    what = subject.record if subject.inr is None else subject.inr
    if what is None:
        raise ValueError(f"nothing to query for {subject.name}")
    exclude = subject.shape_id if subject.shape_id is not None else ""
    result = retriever.query(what, k, function=mode, exclude_shape=exclude)
    return QueryOutcome(subject, result.hits, mode, k, result.embed_ms, result.search_ms, requested)


def elapsed_ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


# --- export ----------------------------------------------------------------------------
FIELDS = ("rank", "id", "name", "shape_id", "category", "category_match", "function", "arch", "config_id",
          "score")


def result_rows(outcome: QueryOutcome) -> list[dict]:
    """One dict per hit, best first (the columns of :data:`FIELDS`)."""
    return [{"rank": i, "id": h.record.id, "name": h.record.name, "shape_id": h.record.shape_id,
             "category": h.record.category, "category_match": outcome.matches(h), "function": h.record.function,
             "arch": h.record.arch, "config_id": h.record.config_id, "score": round(float(h.score), 6)}
            for i, h in enumerate(outcome.hits, 1)]


def export_results(outcome: QueryOutcome, path: Path) -> Path:
    """Write the results as ``.csv`` (one row per hit) or ``.json`` (query, timings, hits).

    Raises:
        ValueError: another suffix.
    """
    path = Path(path)
    rows = result_rows(outcome)
    s = outcome.subject
    if path.suffix.lower() == ".json":
        doc = {"query": {"id": s.id, "name": s.name, "category": s.category, "function": s.function,
                         "arch": s.arch, "source": s.source},
               "retrieve": outcome.mode, "k": outcome.k, "embed_ms": round(outcome.embed_ms, 3),
               "search_ms": round(outcome.search_ms, 3), "results": rows}
        path.write_text(json.dumps(doc, indent=2))
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    else:
        raise ValueError(f"{path.name}: export writes .csv or .json")
    return path
