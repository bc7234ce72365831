"""A 2D map of a store's embeddings: t-SNE coordinates, cached beside the index.

:func:`compute_map` is a generator job (STYLE.md, item 10): it yields :class:`MapProgress`
records and finally a :class:`MapResult` with one ``(x, y)`` per indexed INR. The layout is
scikit-learn's t-SNE on cosine distances, started from PCA, seeded, so the same index gives
the same map. It is saved as ``tsne.npz`` in the retriever's cache folder together with the
index size, a checksum of its ids and the settings, and reused while those still match:
adding INRs to the index (``inret embed``) makes the next call recompute it.

Example:
    >>> tsne_layout(np.eye(3, 8)).shape  # up to 3 points: a fixed layout, no t-SNE
    (3, 2)
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .store.atomic import atomic_write_bytes

__all__ = ["CACHE_FILE", "MapProgress", "MapResult", "compute_map", "default_perplexity", "load_cached_map",
           "tsne_layout"]

CACHE_FILE = "tsne.npz"
CACHE_VERSION = 1
MAX_PERPLEXITY = 30.0
"""scikit-learn's default; smaller stores get less (see :func:`default_perplexity`)."""


@dataclasses.dataclass(frozen=True)
class MapProgress:
    """Where :func:`compute_map` is: ``stage`` is ``"loading"``, ``"t-SNE"`` or ``"saving"``."""

    stage: str
    done: int
    total: int


@dataclasses.dataclass(frozen=True, eq=False)
class MapResult:
    """A 2D layout of indexed INRs.

    Attributes:
        ids: ``(N,)`` int64 INR ids, in the index's order.
        xy: ``(N, 2)`` float32 coordinates (t-SNE units; only relative positions mean anything).
        cached: whether it was read from ``tsne.npz`` rather than computed now.
    """

    ids: np.ndarray
    xy: np.ndarray
    cached: bool = False

    def __len__(self) -> int:
        return len(self.ids)


def default_perplexity(n: int) -> float:
    """A perplexity that suits ``n`` points: ``(n - 1) / 3`` clamped to ``[2, 30]``.

    t-SNE needs ``perplexity < n``; around a third of the points keeps small demo stores
    from collapsing into a ring, and 30 (scikit-learn's default) serves large stores.

    Example:
        >>> default_perplexity(36), default_perplexity(10_000)
        (11.666666666666666, 30.0)
    """
    return float(min(MAX_PERPLEXITY, max(2.0, (n - 1) / 3.0)))


def tsne_layout(vectors: np.ndarray, *, perplexity: float | None = None, seed: int = 0) -> np.ndarray:
    """2D t-SNE of ``(N, D)`` vectors on cosine distance, PCA initialised; ``(N, 2)`` float32.

    Up to 3 points get a fixed layout (evenly on a unit circle): t-SNE needs more.
    Coordinates are centred on the origin.

    Args:
        vectors: ``(N, D)`` embeddings (any scale: cosine ignores it).
        perplexity: t-SNE perplexity; :func:`default_perplexity` when ``None``. Clamped below ``N``.
        seed: random state, so the same input gives the same map.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n <= 3:
        angle = np.pi / 2 + 2 * np.pi * np.arange(n) / max(n, 1)
        xy = np.stack([np.cos(angle), np.sin(angle)], 1) if n > 1 else np.zeros((n, 2))
        return xy.astype(np.float32)
    from sklearn.manifold import TSNE  # lazy: scikit-learn takes a second to import

    perplexity = default_perplexity(n) if perplexity is None else float(perplexity)
    perplexity = min(max(perplexity, 1.0), n - 1.0)
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed,
                learning_rate="auto")
    xy = tsne.fit_transform(vectors).astype(np.float32)
    return xy - xy.mean(0, keepdims=True)


def _ids_checksum(ids: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(ids, dtype="<i8").tobytes()).hexdigest()


def load_cached_map(cache: Path, ids: np.ndarray, *, perplexity: float, seed: int) -> MapResult | None:
    """The cached map in ``cache / tsne.npz`` if it was made for exactly these ids and settings, else None.

    A missing, damaged or stale file is never an error: it only means "compute it".
    """
    path = Path(cache) / CACHE_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = {k: data[k] for k in ("version", "count", "ids_sha256", "perplexity", "seed")}
            cached_ids, xy = data["ids"], data["xy"]
    except (OSError, KeyError, ValueError):
        return None
    fresh = (int(meta["version"]) == CACHE_VERSION and int(meta["count"]) == len(ids)
             and str(meta["ids_sha256"]) == _ids_checksum(ids) and int(meta["seed"]) == seed
             and np.isclose(float(meta["perplexity"]), perplexity)
             and xy.shape == (len(ids), 2) and np.array_equal(cached_ids, ids) and np.isfinite(xy).all())
    return MapResult(cached_ids.astype(np.int64), xy.astype(np.float32), cached=True) if fresh else None


def _save(cache: Path, result: MapResult, *, perplexity: float, seed: int) -> None:
    buf = io.BytesIO()
    np.savez(buf, version=CACHE_VERSION, count=len(result.ids), ids_sha256=_ids_checksum(result.ids),
             perplexity=perplexity, seed=seed, ids=result.ids.astype("<i8"), xy=result.xy.astype("<f4"))
    Path(cache).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(Path(cache) / CACHE_FILE, buf.getvalue())


def compute_map(retriever, *, perplexity: float | None = None, seed: int = 0) -> Iterator[MapProgress | MapResult]:
    """Generator job: the t-SNE map of every INR in ``retriever``'s index, cached.

    Args:
        retriever: a :class:`~inret_engine.retrieval.Retriever` (anything with ``ready_index()``
            returning an :class:`~inret_engine.index.EmbeddingIndex`, and a ``cache`` folder).
        perplexity: t-SNE perplexity; :func:`default_perplexity` of the index size when ``None``.
        seed: t-SNE random state.

    Yields:
        :class:`MapProgress` records, then one :class:`MapResult` (also the generator's
        return value), with ``cached=True`` when ``tsne.npz`` still matched the index.

    Raises:
        ValueError: the retriever has no index yet (run ``inret embed``).
    """
    yield MapProgress("loading", 0, 1)
    index = retriever.ready_index()
    ids = index.ids.astype(np.int64)
    perplexity = default_perplexity(len(ids)) if perplexity is None else float(perplexity)
    result = load_cached_map(retriever.cache, ids, perplexity=perplexity, seed=seed)
    if result is None:
        yield MapProgress("t-SNE", 0, len(ids))
        xy = tsne_layout(index.vectors(), perplexity=perplexity, seed=seed)
        result = MapResult(ids, xy)
        yield MapProgress("saving", len(ids), len(ids))
        _save(retriever.cache, result, perplexity=perplexity, seed=seed)
    yield result
    return result
