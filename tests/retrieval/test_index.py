"""EmbeddingIndex: hnsw against the exact search, filters, growth, and crash-safe persistence."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

import inret_engine.retrieval.index as index_module
from inret_engine.errors import StoreError
from inret_engine.retrieval.index import EmbeddingIndex, SearchResult

DIM = 32


def clustered(n: int, seed: int = 0, clusters: int = 20, spread: float = 0.3) -> np.ndarray:
    """``(n, DIM)`` points around ``clusters`` random centres (not normalised)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM))
    return centres[rng.integers(0, clusters, n)] + spread * rng.standard_normal((n, DIM))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids (not 0..N-1, to catch row/id mix-ups), 1500 vectors and 25 queries."""
    ids = np.arange(1500, dtype=np.int64) * 7 + 3
    return ids, clustered(1500), clustered(25, seed=1)


@pytest.fixture(scope="module")
def hnsw_index(data) -> EmbeddingIndex:
    ids, vectors, _ = data
    return EmbeddingIndex.build(ids, vectors, backend="hnsw", ef_search=300)


@pytest.fixture(scope="module")
def exact_index(data) -> EmbeddingIndex:
    ids, vectors, _ = data
    return EmbeddingIndex.build(ids, vectors, backend="exact")


def assert_same(a: SearchResult, b: SearchResult) -> None:
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.scores, b.scores)


def brute_force(vectors: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int, ok=None) -> tuple[np.ndarray, np.ndarray]:
    """Float64 cosine ranking written out longhand."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = unit @ (q / np.linalg.norm(q))
    ok = np.ones(len(ids), bool) if ok is None else ok
    order = [i for i in np.argsort(-cos, kind="stable") if ok[i]][:k]
    return ids[order], cos[order]


def test_hnsw_gives_the_exact_top_k_on_small_clustered_data(data, hnsw_index, exact_index, monkeypatch):
    ids, vectors, queries = data

    def no_fallback(*_args, **_kw):
        raise AssertionError("the hnsw path fell back to the exact search")

    monkeypatch.setattr(hnsw_index, "_exact_search", no_fallback)
    for q in queries:
        fast, slow = hnsw_index.search(q, 10), exact_index.search(q, 10)
        assert_same(fast, slow)
        want_ids, want_cos = brute_force(vectors, ids, q, 10)
        np.testing.assert_array_equal(slow.ids, want_ids)
        np.testing.assert_allclose(slow.scores, want_cos, atol=1e-6)


def test_scores_are_float32_cosines_in_descending_order(data, hnsw_index):
    ids, vectors, queries = data
    result = hnsw_index.search(queries[0] * 123.0, 20)  # the query's scale does not matter
    assert result.ids.dtype == np.int64 and result.scores.dtype == np.float32 and len(result) == 20
    assert np.all(np.diff(result.scores) <= 0)
    rows = np.searchsorted(ids, result.ids)
    cos = vectors[rows] @ queries[0] / np.linalg.norm(vectors[rows], axis=1) / np.linalg.norm(queries[0])
    np.testing.assert_allclose(result.scores, cos, atol=1e-6)


def test_batch_queries_give_one_result_each(hnsw_index, data):
    _, _, queries = data
    results = hnsw_index.search(queries[:4], 5)
    assert isinstance(results, list) and len(results) == 4
    for q, r in zip(queries[:4], results):
        assert_same(r, hnsw_index.search(q, 5))


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_exclude_removes_ids_and_keeps_the_rest_of_the_ranking(backend, hnsw_index, exact_index, data):
    index = hnsw_index if backend == "hnsw" else exact_index
    q = data[2][3]
    full = index.search(q, 13)
    dropped = {int(full.ids[0]), int(full.ids[4]), 10**9}  # an unknown id is ignored
    result = index.search(q, 10, exclude=dropped)
    assert not dropped & set(result.ids.tolist())
    np.testing.assert_array_equal(result.ids, [i for i in full.ids if i not in dropped][:10])


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_allowed_filter_forms_agree_with_a_brute_force_ranking(backend, hnsw_index, exact_index, data):
    index = hnsw_index if backend == "hnsw" else exact_index
    ids, vectors, queries = data
    keep = (ids // 7) % 3 == 0  # a third of the index, like one implicit function of three
    allowed_ids = set(ids[keep].tolist())
    forms = [keep, allowed_ids, ids[keep], lambda i: i in allowed_ids]
    want_ids, _ = brute_force(vectors, ids, queries[5], 10, ok=keep)
    for allowed in forms:
        result = index.search(queries[5], 10, allowed=allowed)
        np.testing.assert_array_equal(result.ids, want_ids)


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_filters_that_leave_fewer_than_k_return_fewer(backend, hnsw_index, exact_index, data):
    index = hnsw_index if backend == "hnsw" else exact_index
    ids, vectors, queries = data
    few = {int(ids[10]), int(ids[700]), int(ids[1400])}
    result = index.search(queries[0], 10, allowed=few)
    assert set(result.ids.tolist()) == few and np.all(np.diff(result.scores) <= 0)
    result = index.search(queries[0], 10, allowed=lambda i: i in few, exclude=[int(ids[700])])
    assert set(result.ids.tolist()) == few - {int(ids[700])}
    assert len(index.search(queries[0], 10, allowed=few, exclude=few)) == 0
    assert len(index.search(queries[0], 10, allowed=set())) == 0


def test_bad_allowed_arguments_are_refused(exact_index, data):
    with pytest.raises(ValueError, match="allowed mask"):
        exact_index.search(data[2][0], 3, allowed=np.ones(4, dtype=bool))
    with pytest.raises(TypeError, match="allowed must be"):
        exact_index.search(data[2][0], 3, allowed=np.ones(4, dtype=np.float32))


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_incremental_add_grows_and_finds_new_items(backend):
    index = EmbeddingIndex(DIM, backend=backend, ef_search=200)
    first, second = clustered(900, seed=3), clustered(400, seed=4)  # 1300 > initial graph capacity 1024
    index.add(np.arange(900), first)
    index.add(np.arange(900, 1300), second)
    assert len(index) == 1300 and index.ids.tolist() == list(range(1300))
    hit = index.search(second[123], 1)
    assert hit.ids.tolist() == [1023] and hit.scores[0] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(np.linalg.norm(index.vectors(), axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_duplicate_ids_are_refused_and_nothing_is_added(backend):
    index = EmbeddingIndex.build(np.arange(5), clustered(5), backend=backend)
    with pytest.raises(ValueError, match="already in the index"):
        index.add(np.array([9, 3]), clustered(2, seed=2))
    with pytest.raises(ValueError, match="duplicate id 8"):
        index.add(np.array([8, 8]), clustered(2, seed=2))
    assert len(index) == 5
    index.add(np.array([9]), clustered(1, seed=2))
    assert len(index) == 6


def test_zero_and_non_finite_vectors_are_refused_with_a_clear_message():
    index = EmbeddingIndex(DIM, backend="exact")
    vectors = clustered(3)
    vectors[1] = 0.0
    with pytest.raises(ValueError, match="id 11 has zero length"):
        index.add(np.array([10, 11, 12]), vectors)
    vectors[1] = np.nan
    with pytest.raises(ValueError, match="id 11 is not finite"):
        index.add(np.array([10, 11, 12]), vectors)
    index.add(np.array([1]), clustered(1))
    with pytest.raises(ValueError, match="zero length"):
        index.search(np.zeros(DIM), 1)
    with pytest.raises(ValueError, match=r"shape \(N, 32\)"):
        index.search(np.ones(DIM + 1), 1)
    with pytest.raises(ValueError, match="3 ids for 2 vectors"):
        index.add(np.array([5, 6, 7]), clustered(2))


def test_small_k_and_empty_cases():
    index = EmbeddingIndex(DIM, backend="hnsw")
    assert len(index.search(np.ones(DIM), 5)) == 0  # empty index
    index.add(np.arange(4), clustered(4))
    assert len(index.search(np.ones(DIM), 0)) == 0
    assert sorted(index.search(np.ones(DIM), 50).ids.tolist()) == [0, 1, 2, 3]  # k > N
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.ones(DIM), -1)


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_save_load_round_trip_gives_bit_identical_results(backend, hnsw_index, exact_index, data, tmp_path):
    index = hnsw_index if backend == "hnsw" else exact_index
    index.save(tmp_path)
    expected = {"index.json", "vectors.npy", "ids.npy"} | ({"hnsw.bin"} if backend == "hnsw" else set())
    assert {p.name for p in tmp_path.iterdir()} == expected  # no temporary files left
    loaded = EmbeddingIndex.load(tmp_path)
    assert loaded.backend == backend and len(loaded) == len(index) and loaded.ef_search == index.ef_search
    np.testing.assert_array_equal(loaded.ids, index.ids)
    np.testing.assert_array_equal(loaded.vectors(), index.vectors())
    for q in data[2]:
        assert_same(loaded.search(q, 10, exclude=[int(data[0][0])]), index.search(q, 10, exclude=[int(data[0][0])]))


def test_damaged_or_missing_graph_is_rebuilt_with_identical_results(hnsw_index, data, tmp_path, caplog):
    hnsw_index.save(tmp_path)
    graph = tmp_path / "hnsw.bin"
    damaged = bytearray(graph.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    for breakage in (bytes(damaged), graph.read_bytes()[:1000], None):
        hnsw_index.save(tmp_path)
        if breakage is None:
            graph.unlink()
        else:
            graph.write_bytes(breakage)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="inret_engine.retrieval.index"):
            loaded = EmbeddingIndex.load(tmp_path)
        assert "rebuilding the graph" in caplog.text
        assert loaded.backend == "hnsw"
        for q in data[2][:10]:
            assert_same(loaded.search(q, 10), hnsw_index.search(q, 10))


def test_mismatched_files_raise_a_clear_value_error(tmp_path):
    a = EmbeddingIndex.build(np.arange(20), clustered(20, seed=5), backend="exact")
    b = EmbeddingIndex.build(np.arange(20) + 100, clustered(20, seed=6), backend="exact")
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    (tmp_path / "a" / "ids.npy").write_bytes((tmp_path / "b" / "ids.npy").read_bytes())
    with pytest.raises(StoreError, match="ids.npy does not match the checksum"):
        EmbeddingIndex.load(tmp_path / "a")
    a.save(tmp_path / "a")
    (tmp_path / "a" / "vectors.npy").write_bytes((tmp_path / "b" / "vectors.npy").read_bytes())
    with pytest.raises(StoreError, match="vectors.npy does not match the checksum"):
        EmbeddingIndex.load(tmp_path / "a")
    a.save(tmp_path / "a")
    meta = json.loads((tmp_path / "a" / "index.json").read_text())
    (tmp_path / "a" / "index.json").write_text(json.dumps({**meta, "count": 21}))
    with pytest.raises(StoreError, match=r"index.json says float32 \(21, 32\)"):
        EmbeddingIndex.load(tmp_path / "a")
    (tmp_path / "a" / "index.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(StoreError, match="format version 99"):
        EmbeddingIndex.load(tmp_path / "a")
    (tmp_path / "a" / "index.json").write_text("{ not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        EmbeddingIndex.load(tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="index.json is missing"):
        EmbeddingIndex.load(tmp_path / "nowhere")


def test_backend_override_and_missing_hnswlib(data, exact_index, tmp_path, monkeypatch, caplog):
    exact_index.save(tmp_path / "exact")
    upgraded = EmbeddingIndex.load(tmp_path / "exact", backend="hnsw")  # graph built from vectors.npy
    assert upgraded.backend == "hnsw"
    assert_same(upgraded.search(data[2][0], 5), exact_index.search(data[2][0], 5))
    upgraded.save(tmp_path / "hnsw")
    monkeypatch.setattr(index_module, "hnsw_available", lambda: False)
    assert EmbeddingIndex(DIM).backend == "exact"
    with pytest.raises(ImportError, match="needs hnswlib"):
        EmbeddingIndex(DIM, backend="hnsw")
    with caplog.at_level(logging.WARNING, logger="inret_engine.retrieval.index"):
        fallback = EmbeddingIndex.load(tmp_path / "hnsw")
    assert fallback.backend == "exact" and "hnswlib is missing" in caplog.text
    assert_same(fallback.search(data[2][0], 5), exact_index.search(data[2][0], 5))


def test_bench_index_command_runs_at_a_tiny_size(tmp_path, capsys):
    from inret_engine.cli.main import main

    out = tmp_path / "bench.json"
    assert main(["bench", "index", "--n", "400", "--dim", "16", "--queries", "5", "--clusters", "4",
                 "--io", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n"] == 400 and report["recall@10"] is not None and len(report["search"]) == 4
    assert "recall@10 vs exact" in capsys.readouterr().out


def test_the_default_backend_filters_by_labels_like_a_mask(data, hnsw_index):
    """HnswBackend (the IndexBackend over EmbeddingIndex) turns an IndexFilter into the
    boolean mask EmbeddingIndex.search takes; no optional package is involved."""
    from inret_engine.retrieval.index import IndexFilter
    from inret_engine.scale.backends import HnswBackend

    ids = hnsw_index.ids
    labels = {"function": [("sdf", "udf", "occ")[i % 3] for i in range(len(ids))],
              "arch": [("hash", "mlp")[i % 2] for i in range(len(ids))],
              "category": [f"c{i % 5}" for i in range(len(ids))],
              "shape_id": [f"s{i // 3}" for i in range(len(ids))]}
    backend = HnswBackend(hnsw_index, labels)
    queries = data[2][:3]
    where = IndexFilter(function="udf", arch="mlp", exclude_shape="s0")
    mask = np.array([labels["function"][i] == "udf" and labels["arch"][i] == "mlp" and labels["shape_id"][i] != "s0"
                     for i in range(len(ids))])
    for got, want in zip(backend.search(queries, 5, where), hnsw_index.search(queries, 5, allowed=mask)):
        assert got.ids.tolist() == want.ids.tolist()
    assert all(len(r) == 0 for r in backend.search(queries, 5, IndexFilter(category="none")))
