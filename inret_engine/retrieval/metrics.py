"""Retrieval metrics on ranked label lists, as the INRet paper reports them (Sec. 5.1, App. 8).

Every function takes, per query, the labels of the retrieved items best first, with the
query's own shape already left out (INRet: "we exclude the INR representing the same shape
from being retrieved"). A retrieved item is *relevant* when its label equals the query's.

Two kinds of averages are offered because our datasets are imbalanced:

* **over queries** (the plain mean; the SHREC'16 "micro" average and what the papers print);
* **per class** (:func:`per_class_average`: mean over classes of each class's mean over its
  queries; the SHREC'16 "macro" average), so large classes do not dominate.

``mAP@k`` follows inr2vec (De Luigi et al., ICLR 2023), which INRet cites for it. inr2vec's
published evaluation, ``get_recalls`` in ``CVLAB-Unibo/inr2vec``
``pcd_retrieval_and_classification/retrieval.py``, scores a query 1 when at least one of its
``k`` nearest neighbours (the query itself dropped) has the query's class and 0 otherwise, and
averages over queries (:func:`hit_at_k`, :func:`map_at_k`). That is why the papers' ``mAP@k``
grows quickly with ``k`` (INRet Tab. 8: 82.6 / 94.4 / 96.4 at k = 1 / 5 / 10). The textbook
average precision (:func:`average_precision_at_k`) is reported beside it as ``ap@k``; both
equal the nearest-neighbour accuracy at ``k = 1``.

Example:
    The third query's first same-class item is at rank 2: it counts for k = 3, not for k = 1.

    >>> ranked = [["chair", "table", "chair"], ["lamp", "lamp", "chair"], ["table", "lamp", "chair"]]
    >>> queries = ["chair", "lamp", "lamp"]
    >>> round(map_at_k(ranked, queries, 1), 4), map_at_k(ranked, queries, 3)
    (0.6667, 1.0)
    >>> round(mean_average_precision_at_k(ranked, queries, 3), 4)  # (5/6 + 1 + 1/2) / 3
    0.7778
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .index import Allowed, EmbeddingIndex

__all__ = ["average_precision_at_k", "evaluate_rankings", "hit_at_k", "map_at_k", "mean_average_precision_at_k",
           "per_class_average", "per_query_precision_recall_f1", "precision_recall_f1_at_k", "rank_with_index"]


def _check_k(k: int) -> int:
    if int(k) < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    return int(k)


def _relevance(ranked_labels: Sequence[Sequence[str]], query_labels: Sequence[str]) -> list[list[bool]]:
    if len(ranked_labels) != len(query_labels):
        raise ValueError(f"{len(ranked_labels)} rankings for {len(query_labels)} query labels")
    return [[label == q for label in ranked] for ranked, q in zip(ranked_labels, query_labels)]


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """inr2vec's per-query ``mAP@k`` term: 1.0 if any of the first ``k`` items is relevant, else 0.0.

    Example:
        >>> hit_at_k([False, True, False], 1), hit_at_k([False, True, False], 2)
        (0.0, 1.0)
    """
    k = _check_k(k)
    return 1.0 if any(bool(r) for r in list(relevant)[:k]) else 0.0


def average_precision_at_k(relevant: Sequence[bool], k: int) -> float:
    """Textbook average precision of one ranking, cut at ``k``.

    ``AP@k = (1 / |H|) * sum_{r in H} precision@r`` where ``H`` is the set of ranks ``r <= k``
    holding a relevant item and ``precision@r`` is the fraction of relevant items among the
    first ``r``; ``AP@k = 0`` when ``H`` is empty. The normaliser is the number of relevant
    items *retrieved* in the top ``k`` (not the class size), so a ranking whose only hit is
    at rank 1 scores 1.0. ``AP@1`` equals :func:`hit_at_k` at ``k = 1``.

    Example:
        ``[F, T, T]`` at k = 3: hits at ranks 2 and 3, precisions 1/2 and 2/3, AP = 7/12.

        >>> round(average_precision_at_k([False, True, True], 3), 4)
        0.5833
        >>> average_precision_at_k([False, True, True], 1)
        0.0
    """
    k = _check_k(k)
    flags = np.asarray(list(relevant)[:k], dtype=bool)
    if not flags.any():
        return 0.0
    ranks = np.flatnonzero(flags) + 1
    precisions = np.cumsum(flags)[ranks - 1] / ranks
    return float(precisions.mean())


def map_at_k(ranked_labels: Sequence[Sequence[str]], query_labels: Sequence[str], k: int) -> float:
    """``mAP@k`` as inr2vec and INRet report it: the mean over queries of :func:`hit_at_k`.

    That is, the fraction of queries with at least one same-class item among their first
    ``k`` results (the query's own shape excluded). ``mAP@1`` is the fraction of queries
    whose nearest neighbour has the query's class.

    Example:
        >>> map_at_k([["a", "b"], ["b", "a"]], ["a", "a"], 1), map_at_k([["a", "b"], ["b", "a"]], ["a", "a"], 2)
        (0.5, 1.0)
    """
    return float(np.mean([hit_at_k(r, k) for r in _relevance(ranked_labels, query_labels)])) if query_labels else 0.0


def mean_average_precision_at_k(ranked_labels: Sequence[Sequence[str]], query_labels: Sequence[str],
                                k: int) -> float:
    """The textbook mean over queries of :func:`average_precision_at_k` (reported as ``ap@k``).

    Example:
        >>> mean_average_precision_at_k([["a", "b"], ["b", "a"]], ["a", "a"], 2)
        0.75
    """
    rel = _relevance(ranked_labels, query_labels)
    return float(np.mean([average_precision_at_k(r, k) for r in rel])) if rel else 0.0


def per_query_precision_recall_f1(ranked_labels: Sequence[Sequence[str]], query_labels: Sequence[str], k: int,
                                  class_sizes: Mapping[str, int], *,
                                  own_items: int | Sequence[int] = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-query ``P@k``, ``R@k``, ``F1@k`` as in the SHREC'16/'17 ShapeNet Core55 retrieval track.

    For a query of class ``c`` with ``h`` relevant items among its first ``k`` results:

    * ``P = h / n`` with ``n = min(k, len(ranking))`` items retrieved (``n = k`` whenever the
      database holds at least ``k`` candidates; ``P = 0`` for an empty ranking);
    * ``R = h / (class_sizes[c] - own)``: the relevant items the database holds for this
      query, i.e. the class size less the query's own items that were excluded from the
      ranking (``own_items``: 1 when the query itself is in the database, 0 for a disjoint
      query set, 3 when its SDF/UDF/Occ INRs all are); ``R = 0`` when that is 0;
    * ``F1 = 2PR / (P + R)``, 0 when ``P + R = 0``.

    Args:
        ranked_labels: Per query, labels of its results best first.
        query_labels: ``(Q,)`` labels.
        k: Cut-off.
        class_sizes: Items per class in the database searched (query's own items included).
        own_items: Per query (or one number for all) excluded items of the query's class.

    Returns:
        Three ``(Q,)`` float64 arrays.

    Example:
        Class ``a`` has 3 database items, one of them the query itself; 1 of 2 results is relevant:

        >>> p, r, f = per_query_precision_recall_f1([["a", "b"]], ["a"], 2, {"a": 3, "b": 5})
        >>> float(p[0]), float(r[0]), float(f[0])
        (0.5, 0.5, 0.5)
    """
    k = _check_k(k)
    rel = _relevance(ranked_labels, query_labels)
    own = np.broadcast_to(np.asarray(own_items, dtype=np.int64), (len(rel),))
    p, r = np.zeros(len(rel)), np.zeros(len(rel))
    for i, (flags, label) in enumerate(zip(rel, query_labels)):
        if label not in class_sizes:
            raise ValueError(f"class_sizes has no entry for query class {label!r}")
        hits, retrieved = sum(flags[:k]), min(k, len(flags))
        relevant_total = int(class_sizes[label]) - int(own[i])
        if relevant_total < hits:
            raise ValueError(f"query {i} retrieved {hits} items of class {label!r} but class_sizes allows only "
                             f"{relevant_total} after removing its own {int(own[i])}")
        p[i] = hits / retrieved if retrieved else 0.0
        r[i] = hits / relevant_total if relevant_total > 0 else 0.0
    denom = p + r
    f1 = np.divide(2 * p * r, denom, out=np.zeros_like(denom), where=denom > 0)
    return p, r, f1


def precision_recall_f1_at_k(ranked_labels: Sequence[Sequence[str]], query_labels: Sequence[str], k: int,
                             class_sizes: Mapping[str, int], *,
                             own_items: int | Sequence[int] = 1) -> tuple[float, float, float]:
    """Means over queries of :func:`per_query_precision_recall_f1` (SHREC'16 "micro" averages).

    F1 is averaged per query (not recomputed from the mean P and R). With equal class sizes
    and a query set equal to the database (ShapeNet10 in the paper), P, R and F1 move together.

    Example:
        >>> ranked = [["a", "a"], ["b", "a"]]
        >>> tuple(round(x, 4) for x in precision_recall_f1_at_k(ranked, ["a", "a"], 2, {"a": 3, "b": 1}))
        (0.75, 0.75, 0.75)
    """
    p, r, f1 = per_query_precision_recall_f1(ranked_labels, query_labels, k, class_sizes, own_items=own_items)
    if len(p) == 0:
        return 0.0, 0.0, 0.0
    return float(p.mean()), float(r.mean()), float(f1.mean())


def per_class_average(values_per_query: Sequence[float] | np.ndarray, query_labels: Sequence[str]) -> float:
    """Mean over classes of the mean over each class's queries (SHREC'16 "macro" average).

    Example:
        Class ``a`` has three queries scoring 1, class ``b`` one query scoring 0: the mean over
        queries is 0.75, the per-class average (1 + 0) / 2 = 0.5.

        >>> per_class_average([1.0, 1.0, 1.0, 0.0], ["a", "a", "a", "b"])
        0.5
    """
    if len(values_per_query) != len(query_labels):
        raise ValueError(f"{len(values_per_query)} values for {len(query_labels)} query labels")
    by_class: dict[str, list[float]] = defaultdict(list)
    for value, label in zip(values_per_query, query_labels):
        by_class[label].append(float(value))
    return float(np.mean([np.mean(v) for v in by_class.values()])) if by_class else 0.0


def evaluate_rankings(ranked_labels: Sequence[Sequence[str]], query_labels: Sequence[str],
                      class_sizes: Mapping[str, int], ks: Iterable[int] = (1, 5, 10), *, pr_k: int = 10,
                      own_items: int | Sequence[int] = 1) -> dict[str, float | int]:
    """All retrieval figures of one run.

    Keys: ``map@k`` (inr2vec / INRet mAP, :func:`map_at_k`) and ``ap@k`` (textbook mean AP,
    :func:`mean_average_precision_at_k`) for each ``k`` in ``ks``; ``p@K``, ``r@K``, ``f1@K``
    at ``K = pr_k`` (:func:`per_query_precision_recall_f1`); each of these means over
    queries, and again with a ``_per_class`` suffix (:func:`per_class_average`); plus
    ``queries`` and ``classes`` (distinct query labels).

    Example:
        >>> out = evaluate_rankings([["a", "b"], ["a", "a"]], ["a", "b"], {"a": 3, "b": 2}, ks=(1,), pr_k=2)
        >>> out["map@1"], out["p@2"], out["r@2"], out["queries"]
        (0.5, 0.25, 0.25, 2)
    """
    rel = _relevance(ranked_labels, query_labels)
    out: dict[str, float | int] = {}

    def put(name: str, values: Sequence[float] | np.ndarray) -> None:
        out[name] = float(np.mean(values)) if len(values) else 0.0
        out[f"{name}_per_class"] = per_class_average(values, query_labels)

    for k in ks:
        put(f"map@{k}", [hit_at_k(r, k) for r in rel])
    for k in ks:
        put(f"ap@{k}", [average_precision_at_k(r, k) for r in rel])
    p, r, f1 = per_query_precision_recall_f1(ranked_labels, query_labels, pr_k, class_sizes, own_items=own_items)
    put(f"p@{pr_k}", p)
    put(f"r@{pr_k}", r)
    put(f"f1@{pr_k}", f1)
    out["queries"] = len(query_labels)
    out["classes"] = len(set(query_labels))
    return out


def rank_with_index(index: EmbeddingIndex, query_vectors: np.ndarray, query_ids: Sequence[int],
                    labels_by_id: Mapping[int, str], k: int, exclude_by_query: Sequence[Iterable[int]], *,
                    allowed: Allowed = None, exact: bool = False) -> list[list[str]]:
    """Labels of each query's ``k`` nearest stored embeddings, ready for the metrics above.

    Each query's own id and the ids in ``exclude_by_query[i]`` (e.g. the other INRs of the
    same shape) are never retrieved.

    Args:
        index: The :class:`~inret_engine.retrieval.index.EmbeddingIndex` searched.
        query_vectors: ``(Q, D)`` query embeddings.
        query_ids: ``(Q,)`` ids of the queries (they need not be in the index).
        labels_by_id: Label of every stored id.
        k: Results per query.
        exclude_by_query: ``Q`` collections of ids to leave out.
        allowed: Optional filter passed to :meth:`EmbeddingIndex.search` (e.g. one function).
        exact: Use the exact search even on an hnsw index (evaluation without ANN error).

    Returns:
        ``Q`` lists of up to ``k`` labels, best first.

    Example:
        >>> from inret_engine.retrieval.index import EmbeddingIndex
        >>> index = EmbeddingIndex.build(np.arange(3), np.eye(3), backend="exact")
        >>> rank_with_index(index, np.eye(3)[:1], [0], {0: "x", 1: "y", 2: "z"}, 1, [set()])
        [['y']]
    """
    query_vectors = np.asarray(query_vectors)
    if not (len(query_vectors) == len(query_ids) == len(exclude_by_query)):
        raise ValueError(f"{len(query_vectors)} query vectors, {len(query_ids)} ids and "
                         f"{len(exclude_by_query)} exclusion sets: they must match")
    ranked = []
    for vector, qid, excluded in zip(query_vectors, query_ids, exclude_by_query):
        result = index.search_one(vector, k, exclude={int(qid), *(int(i) for i in excluded)}, allowed=allowed,
                                  exact=exact)
        ranked.append([labels_by_id[int(i)] for i in result.ids])
    return ranked
