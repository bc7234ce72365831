"""The t-SNE map: one point per indexed INR, deterministic, cached until the index changes."""

from types import SimpleNamespace

import numpy as np
import pytest

from inret_engine.embedding_map import (CACHE_FILE, MapProgress, MapResult, compute_map, default_perplexity,
                                        tsne_layout)
from inret_engine.index import EmbeddingIndex


def _clusters(n_per: int, k: int = 3, dim: int = 32, seed: int = 0) -> np.ndarray:
    """``k`` tight clusters of ``n_per`` unit vectors around orthogonal centres."""
    rng = np.random.default_rng(seed)
    centres = np.eye(k, dim) * 5.0
    return np.concatenate([c + rng.normal(scale=0.3, size=(n_per, dim)) for c in centres])


def _retriever(tmp_path, vectors: np.ndarray, first_id: int = 100):
    index = EmbeddingIndex.build(np.arange(first_id, first_id + len(vectors)), vectors, backend="exact")
    return SimpleNamespace(cache=tmp_path / "emb-test", ready_index=lambda: index, index=index)


def _run(retriever, **kw) -> tuple[list, MapResult]:
    events = list(compute_map(retriever, **kw))
    assert isinstance(events[-1], MapResult)
    assert all(isinstance(e, MapProgress) for e in events[:-1])
    return events, events[-1]


def test_map_has_one_point_per_indexed_id_and_separates_clusters(tmp_path):
    retriever = _retriever(tmp_path, _clusters(10))
    _, result = _run(retriever)
    assert result.xy.shape == (30, 2) and result.xy.dtype == np.float32
    assert np.array_equal(result.ids, np.arange(100, 130)) and not result.cached
    centres = np.stack([result.xy[i * 10:(i + 1) * 10].mean(0) for i in range(3)])
    spread = max(np.linalg.norm(result.xy[i * 10:(i + 1) * 10] - centres[i], axis=1).max() for i in range(3))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > spread  # each cluster stays apart from the others
    assert (tmp_path / "emb-test" / CACHE_FILE).is_file()


def test_second_call_reads_the_cache(tmp_path, monkeypatch):
    retriever = _retriever(tmp_path, _clusters(6))
    _, first = _run(retriever)
    import inret_engine.embedding_map as em
    monkeypatch.setattr(em, "tsne_layout", lambda *a, **k: pytest.fail("t-SNE ran again on an unchanged index"))
    events, again = _run(retriever)
    assert again.cached and np.array_equal(again.xy, first.xy) and np.array_equal(again.ids, first.ids)
    assert [e.stage for e in events[:-1]] == ["loading"]


def test_same_index_same_map(tmp_path):
    vectors = _clusters(8)
    _, a = _run(_retriever(tmp_path / "a", vectors))
    _, b = _run(_retriever(tmp_path / "b", vectors))
    assert np.allclose(a.xy, b.xy, atol=1e-5)


def test_a_grown_index_makes_the_cache_stale(tmp_path):
    retriever = _retriever(tmp_path, _clusters(6))
    _, before = _run(retriever)
    retriever.index.add(np.array([500, 501]), np.random.default_rng(1).normal(size=(2, 32)))
    _, after = _run(retriever)
    assert not after.cached and len(after) == 20 and after.ids[-2:].tolist() == [500, 501]
    _, cached = _run(retriever)
    assert cached.cached and len(cached) == 20
    _, other = _run(retriever, perplexity=4.0)  # other settings: recomputed too
    assert not other.cached


def test_a_damaged_cache_is_recomputed(tmp_path):
    retriever = _retriever(tmp_path, _clusters(5))
    _run(retriever)
    (tmp_path / "emb-test" / CACHE_FILE).write_bytes(b"not an npz")
    _, result = _run(retriever)
    assert not result.cached and result.xy.shape == (15, 2)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_indexes_get_a_fixed_layout(n):
    xy = tsne_layout(np.random.default_rng(0).normal(size=(n, 8)))
    assert xy.shape == (n, 2) and np.isfinite(xy).all()
    if n > 1:
        d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
        assert d[~np.eye(n, dtype=bool)].min() > 0.5  # distinct, spread points


def test_default_perplexity_stays_below_the_point_count():
    for n in (4, 5, 10, 36, 91, 10_000):
        assert 2.0 <= default_perplexity(n) < n and default_perplexity(n) <= 30.0


def test_no_index_is_a_clear_error(tmp_path):
    def missing():
        raise ValueError("no embeddings for this model yet; run inret embed")
    with pytest.raises(ValueError, match="inret embed"):
        list(compute_map(SimpleNamespace(cache=tmp_path, ready_index=missing)))
