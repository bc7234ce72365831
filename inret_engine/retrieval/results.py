"""A query and its results as plain data, and the one layout results are printed and exported in.

A :class:`QuerySubject` is what is being asked about: a store row, or an INR that is not
in the store (an ``.inr`` file, a mesh fitted on the fly, a distilled INR). It carries the
same label fields as an :class:`~inret_engine.store.InrRecord` (``name``, ``category``,
``function``, ``arch``) so views can paint both alike. A :class:`QueryOutcome` is what a
query found; :func:`result_rows` and :func:`results_document` turn it into the rows and the
JSON document that both ``inret query`` and the browser's Export write.

Example:
    >>> from inret_engine.store import InrRecord
    >>> row = InrRecord(7, "mug_001", "mug_001", "mug", "test", "hash", "hash-abc", "sdf", "inrs/7.inr", "",
    ...                 None, None, None, 0.0)
    >>> query = QuerySubject("mug_000", "mug", "sdf", "hash", source="mug_000.inr")
    >>> outcome = QueryOutcome(query, [Hit(row, 0.93751234)], "any", 1, embed_ms=2.0, search_ms=0.1)
    >>> result_rows(outcome)[0]["score"], result_rows(outcome)[0]["category_match"]
    (0.937512, True)
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path

from ..errors import UsageError
from ..store import InrRecord, ShapeINR
from .retriever import Hit, QueryResult, Retriever

RETRIEVE_MODES = (("any", "Any function"), ("same", "Same function"), ("sdf", "SDF"), ("udf", "UDF"), ("occ", "Occ"))
"""``(mode, label)`` of the "retrieve" choice; the mode is :meth:`Retriever.query`'s ``function``.

The first is the default: the shared model puts every function in one space, so a query
sees the whole store."""

DEFAULT_K = 10

FIELDS = ("rank", "id", "name", "shape_id", "category", "category_match", "function", "arch", "config_id",
          "score")
"""The columns of a result row (:func:`result_rows`), in the order a CSV export writes them."""


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
    def of_record(cls, record: InrRecord, source: str = "store") -> QuerySubject:
        return cls(record.name, record.category, record.function, record.arch, record=record, source=source,
                   shape_id=record.shape_id)

    @classmethod
    def of_inr(cls, inr: ShapeINR, source: str, *, name: str | None = None) -> QuerySubject:
        labels = inr.labels or {}
        return cls(name or str(labels.get("name") or Path(source).stem), str(labels.get("category") or ""),
                   inr.function.value, inr.config.kind, inr=inr, source=source, shape_id=labels.get("shape_id"))

    @classmethod
    def distilled(cls, record: InrRecord, inr: ShapeINR) -> QuerySubject:
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
        requested: ``time.perf_counter()`` when the user asked (double-click, drop, command).
    """

    subject: QuerySubject
    hits: list[Hit]
    mode: str
    k: int
    embed_ms: float
    search_ms: float
    requested: float = 0.0

    @classmethod
    def of(cls, subject: QuerySubject, result: QueryResult, mode: str, k: int, requested: float) -> QueryOutcome:
        """The outcome of ``result`` (from :meth:`Retriever.query` or an index backend)."""
        return cls(subject, result.hits, mode, k, result.embed_ms, result.search_ms, requested)

    def matches(self, hit: Hit) -> bool | None:
        """Whether a result has the query's category; ``None`` when the query has none."""
        return hit.record.category == self.subject.category if self.subject.labelled else None


def run_query(retriever: Retriever, subject: QuerySubject, k: int, mode: str, requested: float, *,
              category: str | None = None) -> QueryOutcome:
    """Run one query: a store row by its cached embedding, else the subject's INR (embedded now).

    Args:
        retriever: one whose model encodes the subject (see :class:`~inret_engine.model_set.ModelSet`).
        subject: the query; INRs of its ``shape_id`` are left out.
        k: results wanted.
        mode: the "retrieve" choice (:data:`RETRIEVE_MODES`).
        requested: ``time.perf_counter()`` when it was asked for.
        category: keep only results of this category.
    """
    what = subject.record if subject.inr is None else subject.inr
    if what is None:
        raise UsageError(f"nothing to query for {subject.name}")
    exclude = subject.shape_id if subject.shape_id is not None else ""
    result = retriever.query(what, k, function=mode, exclude_shape=exclude, category=category)
    return QueryOutcome.of(subject, result, mode, k, requested)


def elapsed_ms(since: float) -> float:
    """Milliseconds from ``since`` (a ``time.perf_counter()``) to now."""
    return (time.perf_counter() - since) * 1000.0


def result_rows(outcome: QueryOutcome) -> list[dict]:
    """One dict per hit, best first, with the columns of :data:`FIELDS` (score rounded to 6 places)."""
    return [{"rank": i, "id": h.record.id, "name": h.record.name, "shape_id": h.record.shape_id,
             "category": h.record.category, "category_match": outcome.matches(h), "function": h.record.function,
             "arch": h.record.arch, "config_id": h.record.config_id, "score": round(float(h.score), 6)}
            for i, h in enumerate(outcome.hits, 1)]


def results_document(outcome: QueryOutcome) -> dict:
    """The JSON layout of a query's results: ``query`` (labels, id, source), ``retrieve``, ``k``,
    ``embed_ms``, ``search_ms`` (3 places) and ``results`` (:func:`result_rows`)."""
    s = outcome.subject
    return {"query": {"id": s.id, "name": s.name, "category": s.category, "function": s.function,
                      "arch": s.arch, "source": s.source},
            "retrieve": outcome.mode, "k": outcome.k, "embed_ms": round(outcome.embed_ms, 3),
            "search_ms": round(outcome.search_ms, 3), "results": result_rows(outcome)}


def export_results(outcome: QueryOutcome, path: Path) -> Path:
    """Write the results as ``.csv`` (one row per hit) or ``.json`` (:func:`results_document`).

    Raises:
        UsageError: another suffix.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(results_document(outcome), indent=2))
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(result_rows(outcome))
    else:
        raise UsageError(f"{path.name}: results are exported as .csv or .json")
    return path


def results_table(outcome: QueryOutcome) -> str:
    """The rows as text, one line per hit: rank, score, name, category, function, architecture."""
    return "\n".join(f"{r['rank']:>3}  {r['score']:>6.3f}  {r['name']:<20} {r['category']:<16} {r['function']:<4} "
                     f"{r['arch']}" for r in result_rows(outcome))
