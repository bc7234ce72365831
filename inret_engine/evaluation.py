"""The paper's retrieval evaluation on a store's test split (paper 5.1, 8.2).

Every test INR of function ``q`` queries the test INRs of function ``g`` (its own shape
left out); a retrieved INR is relevant when it shares the query's category. The 3x3
table over (query function, retrieved function) shows whether the latent space is
unified; its diagonal is same-function retrieval.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .index import EmbeddingIndex
from .retrieval import Retriever
from .retrieval_metrics import evaluate_rankings

FUNCTIONS = ("sdf", "udf", "occ")


def evaluate(retriever: Retriever, *, split: str = "test", k: int = 10) -> dict:
    """Metrics per (query function, retrieved function) and the averages the paper reports."""
    index = retriever.ready_index()
    vectors = dict(zip(index.ids.tolist(), index.vectors()))
    recs = [r for r in retriever.records() if r.split == split and r.id in vectors]
    present = [f for f in FUNCTIONS if any(r.function == f for r in recs)]
    if not present:
        raise ValueError(f"no embedded {split} INRs to evaluate")
    table: dict[str, dict[str, dict]] = {}
    for q in present:
        queries = [r for r in recs if r.function == q]
        table[q] = {}
        for g in present:
            db = [r for r in recs if r.function == g]
            sub = EmbeddingIndex.build(np.array([r.id for r in db]), np.stack([vectors[r.id] for r in db]),
                                       backend="exact")
            sizes = Counter(r.category for r in db)
            db_shapes = {r.shape_id for r in db}
            shape_ids = {r.id: r.shape_id for r in db}
            ranked = []
            for r in queries:
                own = {i for i, s in shape_ids.items() if s == r.shape_id}
                res = sub.search(vectors[r.id], k, exclude=own)
                ranked.append([retriever.rows()[int(i)].category for i in res.ids])
            table[q][g] = evaluate_rankings(ranked, [r.category for r in queries], sizes, pr_k=k,
                                            own_items=[int(r.shape_id in db_shapes) for r in queries])
    same = [table[f][f]["map@1"] for f in present]
    cross = [table[q][g]["map@1"] for q in present for g in present]
    return {"arch": retriever.model.spec.arch, "functions": present, "split": split,
            "same_function": {f: table[f][f] for f in present},
            "matrix": {q: {g: table[q][g]["map@1"] for g in present} for q in present},
            "same_function_map@1": float(np.mean(same)), "average": float(np.mean(cross)),
            "table": table}
