"""Scoring any method's embeddings the same way: exact cosine ranking, own shape left out.

Every method of the benchmark (INRet, inr2vec, distilled MLPs, point clouds, images)
ends as query vectors and database vectors with category labels and shape ids; this
module ranks and scores them with the metrics of :mod:`inret_engine.retrieval.metrics`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..retrieval.index import EmbeddingIndex
from ..retrieval.metrics import evaluate_rankings, rank_with_index

K = 10


@dataclasses.dataclass
class Embedded:
    """Embeddings with what scoring needs to know about each row.

    Attributes:
        vectors: ``(N, D)`` embeddings (normalised here, any scale accepted).
        categories: ``N`` category labels (relevance).
        shape_ids: ``N`` shape ids (a query never retrieves its own shape).
    """

    vectors: np.ndarray
    categories: list[str]
    shape_ids: list[str]

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if not (len(self.vectors) == len(self.categories) == len(self.shape_ids)):
            raise ValueError(f"{len(self.vectors)} vectors, {len(self.categories)} categories and "
                             f"{len(self.shape_ids)} shape ids: they must match")

    def __len__(self) -> int:
        return len(self.vectors)

    @classmethod
    def of_records(cls, vectors: np.ndarray | Sequence[np.ndarray], records: Sequence) -> "Embedded":
        return cls(np.asarray(vectors, dtype=np.float32), [r.category for r in records], [r.shape_id for r in records])


def database_index(database: Embedded) -> EmbeddingIndex:
    """An exact index over the database rows, ids ``0..N-1``."""
    return EmbeddingIndex.build(np.arange(len(database)), database.vectors, backend="exact")


def score(queries: Embedded, database: Embedded, k: int = K) -> dict:
    """mAP@1/5/10, P/R/F1@k and their per-class averages of ``queries`` against ``database``.

    A query's own shape is excluded from its ranking (paper 8.2); a database row is
    relevant when its category is the query's.

    Example:
        >>> db = Embedded(np.eye(3), ["a", "a", "b"], ["s0", "s1", "s2"])
        >>> q = Embedded(np.eye(3)[:1] + 0.1, ["a"], ["s0"])
        >>> score(q, db, k=2)["map@1"]
        1.0
    """
    if not len(queries) or not len(database):
        raise ValueError("nothing to score: no queries or an empty database")
    index = database_index(database)
    rows_of_shape: dict[str, set[int]] = {}
    for row, shape in enumerate(database.shape_ids):
        rows_of_shape.setdefault(shape, set()).add(row)
    own = [rows_of_shape.get(s, set()) for s in queries.shape_ids]
    labels = dict(enumerate(database.categories))
    ranked = rank_with_index(index, queries.vectors, [-1] * len(queries), labels, k, own)
    return evaluate_rankings(ranked, queries.categories, Counter(database.categories), pr_k=k,
                             own_items=[int(bool(o)) for o in own])


def cross_function_table(embedded: dict[str, Embedded], k: int = K) -> dict:
    """The 3x3 table: every function's INRs query every function's INRs.

    Returns ``{"matrix": {q: {g: map@1}}, "average": mean of the matrix, "same_function":
    mean of its diagonal, "table": {q: {g: full metrics}}}``.
    """
    functions = list(embedded)
    table = {q: {g: score(embedded[q], embedded[g], k) for g in functions} for q in functions}
    matrix = {q: {g: table[q][g]["map@1"] for g in functions} for q in functions}
    return {"matrix": matrix, "average": float(np.mean([matrix[q][g] for q in functions for g in functions])),
            "same_function": float(np.mean([matrix[f][f] for f in functions])), "table": table}
