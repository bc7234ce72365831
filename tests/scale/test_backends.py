"""Milvus Lite and hnswlib behind one interface: same top-k, filters, incremental adds, switching."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from inret_engine.encoders.model import INRetModel
from inret_engine.retrieval.index import EmbeddingIndex, IndexFilter
from inret_engine.retrieval.retriever import Retriever
from inret_engine.scale.backends import HnswBackend, chosen_backend, labels_of, open_backend, query_backend
from inret_engine.scale.milvus import filter_expression
from inret_engine.store import Store

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "encoders" / "inret-shared.enc"


@pytest.fixture(scope="module")
def embedded_store(tiny_demo_store, tmp_path_factory) -> Path:
    """A copy of the tiny demo store (36 INRs) embedded with the shipped shared model."""
    if not SHIPPED.is_file():
        pytest.skip(f"{SHIPPED} is absent")
    root = tmp_path_factory.mktemp("embedded") / "S"
    shutil.copytree(tiny_demo_store, root)
    with Store.open(root) as store:
        list(Retriever(store, INRetModel.load(SHIPPED)).update())
    return root


@pytest.fixture()
def retriever(embedded_store, tmp_path):
    root = tmp_path / "S"
    shutil.copytree(embedded_store, root)
    store = Store.open(root)
    yield Retriever(store, INRetModel.load(SHIPPED))
    store.close()


FILTERS = [IndexFilter(), IndexFilter(function="udf"), IndexFilter(category="mug"),
           IndexFilter(arch="hash", function="sdf", exclude_shape="demo/chair_000"),
           IndexFilter(category="nothing-like-this")]


def test_filter_expressions_quote_their_values():
    assert filter_expression(None) == ""
    expression = filter_expression(IndexFilter(function="sdf", exclude_shape='a"b'))
    assert expression == 'function == "sdf" and shape_id != "a\\"b"'


def test_milvus_lite_answers_the_same_top_k_as_hnsw(retriever):
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    hnsw = open_backend(retriever, "hnsw")
    milvus = open_backend(retriever, "milvus")
    index = retriever.ready_index()
    assert len(milvus) == len(hnsw) == len(index) == 36
    queries = index.vectors()[::5]
    for where in FILTERS:
        for a, b in zip(hnsw.search(queries, 5, where), milvus.search(queries, 5, where)):
            assert a.ids.tolist() == b.ids.tolist(), where
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    milvus.close()


def test_query_through_either_backend_gives_the_same_hits(retriever):
    pytest.importorskip("pymilvus")
    rec = retriever.records()[4]
    results = {}
    for name in ("hnsw", "milvus"):
        backend = open_backend(retriever, name)
        hits = query_backend(retriever, backend, rec, k=6, function="any", arch="hash").hits
        results[name] = [h.record.id for h in hits]
        assert all(h.record.shape_id != rec.shape_id for h in hits)
        backend.close()
    plain = retriever.query(rec, k=6, function="any")
    assert results["milvus"] == results["hnsw"] == [h.record.id for h in plain.hits]


@pytest.mark.parametrize("name", ["hnsw", "milvus"])
def test_incremental_adds_end_where_one_add_of_everything_does(retriever, name, tmp_path):
    index = retriever.ready_index()
    ids, vectors = index.ids, index.vectors()
    labels = labels_of([retriever.rows()[int(i)] for i in ids])
    if name == "hnsw":
        whole, parts = HnswBackend(EmbeddingIndex(index.dim)), HnswBackend(EmbeddingIndex(index.dim))
    else:
        pytest.importorskip("pymilvus")
        from inret_engine.scale.milvus import MilvusBackend

        whole = MilvusBackend(str(tmp_path / "a.db"), index.dim)
        parts = MilvusBackend(str(tmp_path / "b.db"), index.dim)
    whole.add(ids, vectors, labels)
    for lo in range(0, len(ids), 10):
        parts.add(ids[lo:lo + 10], vectors[lo:lo + 10], {f: v[lo:lo + 10] for f, v in labels.items()})
    assert len(parts) == len(whole) == len(ids)
    for where in FILTERS:
        for a, b in zip(whole.search(vectors[:4], 7, where), parts.search(vectors[:4], 7, where)):
            assert a.ids.tolist() == b.ids.tolist()


def test_switching_backend_reindexes_from_the_cache_without_embedding(retriever, monkeypatch):
    pytest.importorskip("pymilvus")
    import inret_engine.retrieval.retriever as retrieval
    from inret_engine.scale import backends
    from inret_engine.scale.milvus import MilvusBackend

    def no_embedding(*args, **kwargs):
        raise AssertionError("switching backend must not embed again")

    monkeypatch.setattr(retrieval, "embed_records", no_embedding)
    assert chosen_backend(retriever.cache) == ("hnsw", None)
    open_backend(retriever, "milvus").close()
    assert chosen_backend(retriever.cache) == ("milvus", None)
    assert open_backend(retriever, "hnsw").name == "hnsw"
    assert chosen_backend(retriever.cache)[0] == "hnsw"
    added = []
    real_add = MilvusBackend.add
    monkeypatch.setattr(MilvusBackend, "add", lambda self, ids, *a: (added.append(len(ids)), real_add(self, ids, *a)))
    backend = open_backend(retriever)  # hnsw recorded now: hnsw again
    assert backend.name == "hnsw"
    open_backend(retriever, "milvus").close()
    assert added == []  # Milvus still holds every cached vector: nothing to add
    backend = open_backend(retriever)
    assert backend.name == "milvus" and len(backend) == 36
    backends.set_backend(retriever.cache, "milvus", None, {"count": 36, "ids_sha256": "not these ids"})
    backend = open_backend(retriever)
    assert len(backend) == 36 and added == [36]  # a collection that does not match is dropped, rebuilt from the cache
    backend.close()


@pytest.mark.slow
def test_ray_embedding_gives_the_local_embeddings(ray_cluster, embedded_store, tmp_path):
    from inret_engine.scale.embedding import ray_embedder

    root = tmp_path / "S"
    shutil.copytree(embedded_store, root)
    local = EmbeddingIndex.load(next((root / "cache").glob("emb-*")))
    for cache in (root / "cache").glob("emb-*"):
        shutil.rmtree(cache)
    with Store.open(root) as store:
        r = Retriever(store, INRetModel.load(SHIPPED))
        events = list(r.update(embedder=ray_embedder()))
        assert events[-1].done == events[-1].total == 36
        remote = r.ready_index()
    assert remote.ids.tolist() == local.ids.tolist()
    np.testing.assert_allclose(remote.vectors(), local.vectors(), atol=1e-5)
