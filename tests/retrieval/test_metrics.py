"""Retrieval metrics against hand-computed values on small hand-made rankings."""

from __future__ import annotations

import numpy as np
import pytest

from inret_engine.retrieval.index import EmbeddingIndex
from inret_engine.retrieval.metrics import (
    average_precision_at_k,
    evaluate_rankings,
    hit_at_k,
    map_at_k,
    mean_average_precision_at_k,
    per_class_average,
    per_query_precision_recall_f1,
    precision_recall_f1_at_k,
    rank_with_index,
)

C = "C"  # a filler class that no query belongs to

# Five queries on an imbalanced toy set: four of class A, one of class B. The database holds
# 5 A items and 3 B items, each query among them (own_items = 1), so A has 4 relevant, B 2.
RANKED = [
    ["A", C, "A", C, C, C, C, C, C, C],      # q0: hits at ranks 1, 3
    [C, C, "A", "A", C, C, C, C, C, C],      # q1: hits at ranks 3, 4
    [C, C, C, C, C, C, "A", C, C, C],        # q2: hit at rank 7
    ["A", "A", "A", "A", C, C, C, C, C, C],  # q3: hits at ranks 1-4
    [C] * 10,                                # q4 (class B): no hit
]
QUERIES = ["A", "A", "A", "A", "B"]
SIZES = {"A": 5, "B": 3, C: 40}


def test_hit_and_average_precision_of_single_rankings():
    q0, q1 = ([label == "A" for label in ranking] for ranking in RANKED[:2])
    assert [hit_at_k(q1, k) for k in (1, 2, 3)] == [0.0, 0.0, 1.0]
    assert average_precision_at_k(q0, 1) == 1.0
    assert average_precision_at_k(q0, 10) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision_at_k(q1, 3) == pytest.approx(1 / 3)
    assert average_precision_at_k(q1, 10) == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert average_precision_at_k([False] * 10, 10) == 0.0
    assert average_precision_at_k([True], 10) == 1.0  # k beyond the list
    with pytest.raises(ValueError, match="k must be"):
        average_precision_at_k(q0, 0)


def test_map_follows_inr2vec_hit_rate():
    assert map_at_k(RANKED, QUERIES, 1) == pytest.approx(2 / 5)  # q0, q3
    assert map_at_k(RANKED, QUERIES, 5) == pytest.approx(3 / 5)  # + q1
    assert map_at_k(RANKED, QUERIES, 10) == pytest.approx(4 / 5)  # + q2
    # the textbook mean AP differs beyond k = 1
    assert mean_average_precision_at_k(RANKED, QUERIES, 1) == pytest.approx(2 / 5)
    assert mean_average_precision_at_k(RANKED, QUERIES, 5) == pytest.approx((5 / 6 + 5 / 12 + 0 + 1 + 0) / 5)
    assert mean_average_precision_at_k(RANKED, QUERIES, 10) == pytest.approx((5 / 6 + 5 / 12 + 1 / 7 + 1 + 0) / 5)
    with pytest.raises(ValueError, match="2 rankings for 1 query labels"):
        map_at_k(RANKED[:2], QUERIES[:1], 1)


def test_precision_recall_f1_at_10():
    p, r, f1 = per_query_precision_recall_f1(RANKED, QUERIES, 10, SIZES)
    np.testing.assert_allclose(p, [0.2, 0.2, 0.1, 0.4, 0.0])
    np.testing.assert_allclose(r, [2 / 4, 2 / 4, 1 / 4, 4 / 4, 0.0])
    np.testing.assert_allclose(f1, [2 / 7, 2 / 7, 1 / 7, 4 / 7, 0.0])  # 2PR/(P+R), e.g. 0.2/0.7
    mean = precision_recall_f1_at_k(RANKED, QUERIES, 10, SIZES)
    assert mean == pytest.approx((0.18, 0.45, 9 / 35))
    # a query set disjoint from the database: nothing of the class is excluded
    _, r_disjoint, _ = per_query_precision_recall_f1(RANKED, QUERIES, 10, SIZES, own_items=0)
    np.testing.assert_allclose(r_disjoint, [2 / 5, 2 / 5, 1 / 5, 4 / 5, 0.0])


def test_precision_recall_refuses_inconsistent_class_sizes():
    with pytest.raises(ValueError, match="no entry for query class 'B'"):
        per_query_precision_recall_f1(RANKED, QUERIES, 10, {"A": 5})
    with pytest.raises(ValueError, match="allows only 2"):
        per_query_precision_recall_f1(RANKED, QUERIES, 10, {"A": 3, "B": 3})


def test_per_class_average_differs_from_the_mean_on_an_imbalanced_set():
    hits = [1.0, 0.0, 0.0, 1.0, 0.0]
    assert np.mean(hits) == pytest.approx(0.4)
    assert per_class_average(hits, QUERIES) == pytest.approx((0.5 + 0.0) / 2)
    assert per_class_average([0.2, 0.4], ["x", "x"]) == pytest.approx(0.3)


def test_evaluate_rankings_reports_every_figure():
    out = evaluate_rankings(RANKED, QUERIES, SIZES)
    assert out["queries"] == 5 and out["classes"] == 2
    expected = {
        "map@1": 0.4, "map@5": 0.6, "map@10": 0.8,
        "map@1_per_class": 0.25, "map@5_per_class": 0.375, "map@10_per_class": 0.5,
        "ap@5": (5 / 6 + 5 / 12 + 1) / 5,
        "ap@5_per_class": (5 / 6 + 5 / 12 + 1) / 4 / 2,
        "p@10": 0.18, "r@10": 0.45, "f1@10": 9 / 35,
        "p@10_per_class": 0.9 / 4 / 2, "r@10_per_class": 2.25 / 4 / 2, "f1@10_per_class": 9 / 7 / 4 / 2,
    }
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key


def test_rank_with_index_excludes_the_query_and_its_own_shape():
    # two shapes per class, two INRs per shape (ids 10*shape + function); class by shape
    shape_of = {sid: sid // 10 for sid in (0, 1, 10, 11, 20, 21, 30, 31)}
    labels = {sid: "round" if shape_of[sid] < 2 else "square" for sid in shape_of}
    base = {0: [1.0, 0.0, 0.0], 1: [0.9, 0.3, 0.0], 2: [0.0, 1.0, 0.1], 3: [0.0, 0.8, 0.5]}
    ids = np.array(sorted(shape_of))
    vectors = np.array([np.array(base[shape_of[i]]) + 0.01 * (i % 10) for i in ids])
    index = EmbeddingIndex.build(ids, vectors, backend="exact")
    own = [{sid for sid in ids if shape_of[sid] == shape_of[q]} for q in (0, 20)]
    ranked = rank_with_index(index, vectors[[0, 4]], [0, 20], labels, 3, own)
    assert ranked == [["round", "round", "square"], ["square", "square", "round"]]
    assert map_at_k(ranked, ["round", "square"], 1) == 1.0
    with pytest.raises(ValueError, match="must match"):
        rank_with_index(index, vectors[:2], [0], labels, 3, own)
