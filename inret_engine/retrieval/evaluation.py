"""The paper's retrieval evaluation on a store's test split (paper 5.1, 8.2).

Every test INR of function ``q`` queries the test INRs of function ``g`` (its own shape
left out); a retrieved INR is relevant when it shares the query's category. The 3x3
table over (query function, retrieved function) shows whether the latent space is
unified; its diagonal is same-function retrieval.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..errors import UsageError
from .index import EmbeddingIndex
from .metrics import evaluate_rankings
from .retriever import Retriever

FUNCTIONS = ("sdf", "udf", "occ")


def evaluate(retriever: Retriever, *, split: str = "test", k: int = 10) -> dict:
    """Metrics per (query function, retrieved function) and the averages the paper reports.

    With a model that embeds several architectures (the shared model) the report also
    holds, per architecture, its own same-function and 3x3 tables (``per_arch``) and the
    all-architectures table (``arch_matrix``: query architecture x retrieved architecture,
    same function), with its average (``arch_average``).
    """
    index = retriever.ready_index()
    vectors = dict(zip(index.ids.tolist(), index.vectors()))
    recs = [r for r in retriever.records() if r.split == split and r.id in vectors]
    if not recs:
        raise UsageError(f"no embedded {split} INRs to evaluate")
    archs = sorted({r.arch for r in recs})
    cell = _Cells(retriever, vectors, k)
    if len(archs) == 1:
        report = _function_tables(cell, recs)
        report["arch"] = retriever.model.spec.arch if retriever.model.spec.arch != "any" else archs[0]
        report["split"] = split
        return report
    per_arch = {a: _function_tables(cell, [r for r in recs if r.arch == a]) for a in archs}
    fn = max(FUNCTIONS, key=lambda f: sum(r.function == f for r in recs))  # the function most INRs share
    by_arch = {a: [r for r in recs if r.arch == a and r.function == fn] for a in archs}
    by_arch = {a: rs for a, rs in by_arch.items() if rs}
    arch_matrix = {q: {g: cell(by_arch[q], by_arch[g])["map@1"] for g in by_arch} for q in by_arch}
    report = dict(per_arch[max(archs, key=lambda a: len(per_arch[a]["functions"]))])
    report.update({"arch": "all", "split": split, "archs": archs, "per_arch": per_arch, "arch_function": fn,
                   "arch_matrix": arch_matrix,
                   "arch_average": float(np.mean([v for row in arch_matrix.values() for v in row.values()])),
                   "arch_diagonal": float(np.mean([arch_matrix[a][a] for a in arch_matrix]))})
    return report


class _Cells:
    """Retrieval metrics of one (queries, database) pair of record lists, exact search."""

    def __init__(self, retriever: Retriever, vectors: dict, k: int):
        self.retriever, self.vectors, self.k = retriever, vectors, k

    def __call__(self, queries: list, db: list) -> dict:
        sizes = Counter(r.category for r in db)
        queries = [r for r in queries if sizes[r.category]]  # a class the database lacks has no answer
        sub = EmbeddingIndex.build(np.array([r.id for r in db]), np.stack([self.vectors[r.id] for r in db]),
                                   backend="exact")
        db_shapes = {r.shape_id for r in db}
        shape_ids = {r.id: r.shape_id for r in db}
        ranked = []
        rows = self.retriever.rows()
        for r in queries:
            own = {i for i, s in shape_ids.items() if s == r.shape_id}
            res = sub.search_one(self.vectors[r.id], self.k, exclude=own)
            ranked.append([rows[int(i)].category for i in res.ids])
        return evaluate_rankings(ranked, [r.category for r in queries], sizes, pr_k=self.k,
                                 own_items=[int(r.shape_id in db_shapes) for r in queries])


def _function_tables(cell: _Cells, recs: list) -> dict:
    """The same-function metrics and the 3x3 cross-function table of ``recs``."""
    present = [f for f in FUNCTIONS if any(r.function == f for r in recs)]
    groups = {f: [r for r in recs if r.function == f] for f in present}
    table = {q: {g: cell(groups[q], groups[g]) for g in present} for q in present}
    same = [table[f][f]["map@1"] for f in present]
    cross = [table[q][g]["map@1"] for q in present for g in present]
    return {"functions": present,
            "same_function": {f: table[f][f] for f in present},
            "matrix": {q: {g: table[q][g]["map@1"] for g in present} for q in present},
            "same_function_map@1": float(np.mean(same)), "average": float(np.mean(cross)),
            "table": table}
