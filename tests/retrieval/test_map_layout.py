"""The t-SNE map: one point per indexed INR, deterministic, cached until the index changes."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from inret_engine.progress import Progress, run_to_end
from inret_engine.retrieval.index import EmbeddingIndex
from inret_engine.retrieval.map_layout import (
    MapResult,
    Projection,
    available_methods,
    cache_file,
    compute_map,
    default_perplexity,
    pca_layout,
    tsne_layout,
)
from inret_engine.retrieval.map_views import VIEWS_FILE, SavedView, load_views, save_views


def _clusters(n_per: int, k: int = 3, dim: int = 32, seed: int = 0) -> np.ndarray:
    """``k`` tight clusters of ``n_per`` unit vectors around orthogonal centres."""
    rng = np.random.default_rng(seed)
    centres = np.eye(k, dim) * 5.0
    return np.concatenate([c + rng.normal(scale=0.3, size=(n_per, dim)) for c in centres])


def _retriever(tmp_path, vectors: np.ndarray, first_id: int = 100):
    index = EmbeddingIndex.build(np.arange(first_id, first_id + len(vectors)), vectors, backend="exact")
    return SimpleNamespace(cache=tmp_path / "emb-test", ready_index=lambda: index, index=index)


def _run(retriever, **kw) -> tuple[list, MapResult]:
    """The job's progress records (and the result after them, as the tests read ``events[:-1]``) and its result."""
    events = []
    result = run_to_end(compute_map(retriever, **kw), events.append)
    assert isinstance(result, MapResult) and all(isinstance(e, Progress) for e in events)
    return events + [result], result


def test_map_has_one_point_per_indexed_id_and_separates_clusters(tmp_path):
    retriever = _retriever(tmp_path, _clusters(10))
    _, result = _run(retriever)
    assert result.xy.shape == (30, 2) and result.xy.dtype == np.float32
    assert np.array_equal(result.ids, np.arange(100, 130)) and not result.cached
    centres = np.stack([result.xy[i * 10:(i + 1) * 10].mean(0) for i in range(3)])
    spread = max(np.linalg.norm(result.xy[i * 10:(i + 1) * 10] - centres[i], axis=1).max() for i in range(3))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > spread  # each cluster stays apart from the others
    assert (tmp_path / "emb-test" / cache_file(Projection(), 30)).is_file()


def test_second_call_reads_the_cache(tmp_path, monkeypatch):
    retriever = _retriever(tmp_path, _clusters(6))
    _, first = _run(retriever)
    import inret_engine.retrieval.map_layout as em
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
    (tmp_path / "emb-test" / cache_file(Projection(), 15)).write_bytes(b"not an npz")
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
        run_to_end(compute_map(SimpleNamespace(cache=tmp_path, ready_index=missing)))


# --- PCA, projections, cache per projection ---------------------------------------------------
def test_pca_of_points_on_a_line_is_the_position_along_it():
    direction = np.array([3.0, 4.0, 0.0]) / 5.0
    t = np.array([-2.0, -1.0, 0.5, 1.0, 1.5])
    xy, explained = pca_layout(np.array([1.0, 2.0, 3.0]) + t[:, None] * direction)
    assert np.allclose(xy[:, 0], t - t.mean(), atol=1e-5)  # largest loading (y, 0.8) positive: same sign as t
    assert np.allclose(xy[:, 1], 0.0, atol=1e-5)
    assert np.allclose(explained, [1.0, 0.0])


def test_pca_components_pick_the_axes_and_their_variance():
    # variances 9, 4, 1 along z, x, y: PC1 is z, PC2 is x, PC3 is y
    points = np.array([[2.0, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 3], [0, 0, -3]])
    xy, explained = pca_layout(points, (2, 3))
    assert np.allclose(np.abs(xy[:, 0]), [2, 2, 0, 0, 0, 0], atol=1e-6)
    assert np.allclose(np.abs(xy[:, 1]), [0, 0, 1, 1, 0, 0], atol=1e-6)
    assert np.allclose(explained, [8 / 28, 2 / 28])
    xy, explained = pca_layout(points, (1, 4))  # past the rank: zeros that explain nothing
    assert np.allclose(np.abs(xy[:, 0]), [0, 0, 0, 0, 3, 3]) and np.allclose(xy[:, 1], 0) and explained[1] == 0


def test_each_projection_is_cached_under_its_own_parameters(tmp_path, monkeypatch):
    retriever = _retriever(tmp_path, _clusters(6))
    _, tsne = _run(retriever)
    _, pca = _run(retriever, projection=Projection("pca", components=(1, 2)))
    _, pca23 = _run(retriever, projection=Projection("pca", components=(2, 3)))
    assert not pca.cached and pca.projection.method == "pca" and pca.explained.shape == (2,)
    assert pca.explained[0] >= pca.explained[1] > 0 and not np.allclose(pca.xy, pca23.xy)
    import inret_engine.retrieval.map_layout as em
    monkeypatch.setattr(em, "tsne_layout", lambda *a, **k: pytest.fail("t-SNE ran again"))
    monkeypatch.setattr(em, "pca_layout", lambda *a, **k: pytest.fail("PCA ran again"))
    for projection, first in ((None, tsne), (Projection("pca"), pca), (Projection("pca", components=(2, 3)), pca23)):
        _, again = _run(retriever, projection=projection)
        assert again.cached and np.array_equal(again.xy, first.xy)
    assert np.allclose(_run(retriever, projection=Projection("pca"))[1].explained, pca.explained)
    names = sorted(p.name for p in (tmp_path / "emb-test").iterdir())
    assert names == ["map-pca-1-2.npz", "map-pca-2-3.npz", f"map-tsne-p{default_perplexity(18):.4g}-s0.npz"]


def test_umap_is_offered_only_where_it_is_installed():
    import importlib.util
    methods = available_methods()
    assert methods[:2] == ["tsne", "pca"]
    assert ("umap" in methods) == (importlib.util.find_spec("umap") is not None)


def test_projection_checks_and_round_trips():
    with pytest.raises(ValueError, match="unknown projection"):
        Projection("mds")
    p = Projection("pca", components=(2, 3))
    assert Projection.from_dict(p.to_dict()) == p and p.label() == "PCA (PC2 × PC3)"
    assert Projection().label() == "t-SNE (perplexity auto)" and Projection(perplexity=5).key(100) == "tsne-p5-s0"


def test_saved_views_round_trip_and_a_damaged_file_is_an_empty_list(tmp_path):
    views = [SavedView("chairs", Projection("pca", components=(1, 3)), "chamfer", (0.0, -1.0, 2.5, 3.0), (4, 5),
                       ("octree",), "hash encoder", 17),
             SavedView("all"), SavedView("turned", Projection("tsne", dims=3), orbit=(40.0, -15.0))]
    save_views(tmp_path, views)
    assert load_views(tmp_path) == views
    assert load_views(tmp_path / "nowhere") == []
    (tmp_path / VIEWS_FILE).write_text("{not json")
    assert load_views(tmp_path) == []
    good = views[1].to_dict()
    (tmp_path / VIEWS_FILE).write_text(json.dumps({"views": [{"box": [1, 2]}, good, {"name": "x", "box": [0, 0, 1,
                                                                                                          "nan"]}]}))
    assert load_views(tmp_path) == [views[1]]  # the malformed entries are skipped
    (tmp_path / VIEWS_FILE).write_text(json.dumps({"views": [{**good, "orbit": [1.0]}, {**good, "orbit": [0, "inf"]}]}))
    assert load_views(tmp_path) == []


# --- 3D ------------------------------------------------------------------------------------
def test_a_3d_projection_gives_three_coordinates_and_separates_clusters(tmp_path):
    retriever = _retriever(tmp_path, _clusters(20))
    _, result = _run(retriever, projection=Projection("tsne", dims=3))
    assert result.xy.shape == (60, 3) and result.xy.dtype == np.float32 and np.isfinite(result.xy).all()
    d = np.linalg.norm(result.xy[:, None] - result.xy[None], axis=-1) + np.diag(np.full(60, np.inf))
    label = np.repeat(np.arange(3), 20)
    votes = label[np.argsort(d, axis=1)[:, :3]]
    majority = np.array([np.bincount(v, minlength=3).argmax() for v in votes])
    assert np.array_equal(majority, label)  # most of each point's 3 nearest neighbours are of its own cluster
    assert np.ptp(result.xy[:, 2]) > 0  # a real third axis, not a flat map
    assert (tmp_path / "emb-test" / cache_file(Projection("tsne", dims=3), 60)).is_file()


def test_3d_and_2d_layouts_are_cached_apart(tmp_path, monkeypatch):
    retriever = _retriever(tmp_path, _clusters(6))
    _, flat = _run(retriever, projection=Projection("pca"))
    _, solid = _run(retriever, projection=Projection("pca", dims=3))
    assert flat.xy.shape == (18, 2) and solid.xy.shape == (18, 3) and solid.explained.shape == (3,)
    assert np.allclose(solid.xy[:, :2], flat.xy, atol=1e-5)  # PC1, PC2 the same; PC3 added
    assert np.allclose(solid.explained[:2], flat.explained) and solid.explained[2] > 0
    import inret_engine.retrieval.map_layout as em
    monkeypatch.setattr(em, "pca_layout", lambda *a, **k: pytest.fail("PCA ran again"))
    _, again = _run(retriever, projection=Projection("pca", dims=3))
    assert again.cached and again.xy.shape == (18, 3) and np.array_equal(again.xy, solid.xy)
    assert np.allclose(again.explained, solid.explained)
    assert sorted(p.name for p in (tmp_path / "emb-test").iterdir()) == ["map-pca-1-2-3-3d.npz", "map-pca-1-2.npz"]


def test_a_2d_file_under_a_3d_name_is_recomputed(tmp_path):
    retriever = _retriever(tmp_path, _clusters(5))
    _, flat = _run(retriever, projection=Projection("pca", components=(1, 2)))
    folder = tmp_path / "emb-test"
    (folder / cache_file(Projection("pca", dims=3), 15)).write_bytes((folder / cache_file(flat.projection, 15))
                                                                      .read_bytes())
    _, solid = _run(retriever, projection=Projection("pca", dims=3))
    assert not solid.cached and solid.xy.shape == (15, 3)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tiny_indexes_get_a_fixed_3d_layout(n):
    xyz = tsne_layout(np.random.default_rng(0).normal(size=(n, 8)), dims=3)
    assert xyz.shape == (n, 3) and np.isfinite(xyz).all()


def test_3d_projection_checks_and_round_trips():
    p = Projection("umap", neighbors=7, dims=3)
    assert Projection.from_dict(p.to_dict()) == p and p.label() == "UMAP 3D (7 neighbours)"
    assert Projection.from_dict({"method": "pca"}).dims == 2  # views saved before 3D existed
    assert Projection("pca", components=(2, 3, 4), dims=3).label() == "PCA 3D (PC2 × PC3 × PC4)"
    assert Projection("tsne", dims=3).key(100) == "tsne-p30-s0-3d" and Projection().key(100) == "tsne-p30-s0"
    for bad in ({"dims": 4}, {"dims": 3, "components": (1, 3)}, {"components": (1, 2, 3)}):
        with pytest.raises(ValueError):
            Projection("pca", **bad)
