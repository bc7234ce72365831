"""A 2D or 3D map of a store's embeddings (t-SNE, PCA or UMAP), cached beside the index.

:func:`compute_map` is a job (:mod:`inret_engine.progress`): it yields progress records
and returns a :class:`MapResult` with one ``(x, y)`` (or ``(x, y, z)`` for a 3D
projection, ``Projection(dims=3)``) per indexed INR. How the points are laid out is a
:class:`Projection`:

* ``tsne``: scikit-learn's t-SNE on cosine distances, started from PCA, seeded; its
  parameter is the perplexity (:func:`default_perplexity` when not given).
* ``pca``: the principal components of the (unit) embedding vectors; its parameter is
  which components are x and y (and z in 3D; 1-based), and the result says how much of
  the variance each explains.
* ``umap``: only where ``umap-learn`` is installed (:func:`available_methods`); its
  parameter is the number of neighbours.

Each layout is saved as ``map-<key>.npz`` in the retriever's cache folder, the key naming
the method and its parameters, together with the index size and a checksum of its ids,
and reused while those still match: adding INRs to the index (``inret embed``) makes the
next call recompute it. Switching between projections already computed is instant.

Saved views of a map (projection, colouring, zoom, ...) are in :mod:`.map_views`.

Example:
    >>> tsne_layout(np.eye(3, 8)).shape  # up to 3 points: a fixed layout, no t-SNE
    (3, 2)
    >>> tsne_layout(np.eye(3, 8), dims=3).shape
    (3, 3)
    >>> xy, explained = pca_layout(np.array([[0.0, 0], [1, 1], [2, 2], [3, 3]]))
    >>> [round(float(v), 3) for v in xy[:, 0]], np.round(explained, 3).tolist()
    ([-2.121, -0.707, 0.707, 2.121], [1.0, 0.0])
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
from pathlib import Path

import numpy as np

from ..progress import Job, Progress
from ..store.atomic import atomic_write_bytes

__all__ = [
    "METHODS",
    "MapResult",
    "Projection",
    "available_methods",
    "cache_file",
    "compute_map",
    "default_perplexity",
    "load_cached_map",
    "pca_layout",
    "tsne_layout",
    "umap_layout",
]

CACHE_VERSION = 2
MAX_PERPLEXITY = 30.0
"""scikit-learn's default; smaller stores get less (see :func:`default_perplexity`)."""
METHODS = {"tsne": "t-SNE", "pca": "PCA", "umap": "UMAP"}
"""Projection method -> display name."""


def available_methods() -> list[str]:
    """The projection methods this installation can compute: t-SNE and PCA, and UMAP if ``umap-learn`` is there."""
    return ["tsne", "pca"] + (["umap"] if importlib.util.find_spec("umap") is not None else [])


@dataclasses.dataclass(frozen=True)
class Projection:
    """How a map lays out the embeddings.

    Attributes:
        method: ``"tsne"``, ``"pca"`` or ``"umap"``.
        perplexity: t-SNE perplexity; ``None``: :func:`default_perplexity` of the point count.
        components: PCA: the principal components shown as x, y (and z), 1-based, one per dimension
            (``(1, 2)``: the two largest). With ``dims=3`` the default ``(1, 2)`` means ``(1, 2, 3)``.
        neighbors: UMAP ``n_neighbors``.
        seed: random state of t-SNE and UMAP (PCA has none).
        dims: 2 for a flat map, 3 for a 3D one (shown in a view the user orbits).

    Example:
        >>> Projection("pca", dims=3).components, Projection("pca", dims=3).key(10)
        ((1, 2, 3), 'pca-1-2-3-3d')
        >>> Projection("tsne", dims=3).label()
        't-SNE 3D (perplexity auto)'
    """

    method: str = "tsne"
    perplexity: float | None = None
    components: tuple[int, ...] = (1, 2)
    neighbors: int = 15
    seed: int = 0
    dims: int = 2

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown projection {self.method!r}; use one of {', '.join(METHODS)}")
        if self.dims not in (2, 3):
            raise ValueError(f"a map has 2 or 3 dimensions, not {self.dims!r}")
        components = tuple(int(c) for c in self.components)
        if self.dims == 3 and components == (1, 2):
            components = (1, 2, 3)
        if len(components) != self.dims or min(components) < 1:
            raise ValueError(f"PCA components are {self.dims} numbers from 1 up, not {self.components!r}")
        object.__setattr__(self, "components", components)
        object.__setattr__(self, "dims", int(self.dims))

    def key(self, n: int) -> str:
        """A file-name-safe name of the layout this gives for ``n`` points (the cache key)."""
        suffix = "-3d" if self.dims == 3 else ""  # 2D keys unchanged: maps cached before stay valid
        if self.method == "pca":
            return "pca-" + "-".join(str(c) for c in self.components) + suffix
        if self.method == "umap":
            return f"umap-n{min(self.neighbors, max(n - 1, 2))}-s{self.seed}{suffix}"
        perplexity = default_perplexity(n) if self.perplexity is None else float(self.perplexity)
        return f"tsne-p{perplexity:.4g}-s{self.seed}{suffix}"

    def label(self) -> str:
        """Words for a status line: ``"t-SNE (perplexity auto)"``, ``"PCA (PC1 × PC2)"``,
        ``"UMAP 3D (15 neighbours)"``."""
        name = METHODS[self.method] + (" 3D" if self.dims == 3 else "")
        if self.method == "pca":
            return f"{name} (" + " × ".join(f"PC{c}" for c in self.components) + ")"
        if self.method == "umap":
            return f"{name} ({self.neighbors} neighbours)"
        return f"{name} (perplexity {'auto' if self.perplexity is None else f'{self.perplexity:g}'})"

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "components": list(self.components)}

    @classmethod
    def from_dict(cls, data: dict) -> Projection:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` / ``TypeError`` for a malformed dict."""
        perplexity = data.get("perplexity")
        return cls(method=str(data.get("method", "tsne")),
                   perplexity=None if perplexity is None else float(perplexity),
                   components=tuple(int(c) for c in data.get("components", (1, 2))),
                   neighbors=int(data.get("neighbors", 15)), seed=int(data.get("seed", 0)),
                   dims=int(data.get("dims", 2)))


@dataclasses.dataclass(frozen=True, eq=False)
class MapResult:
    """A 2D or 3D layout of indexed INRs.

    Attributes:
        ids: ``(N,)`` int64 INR ids, in the index's order.
        xy: ``(N, D)`` float32 coordinates, ``D = projection.dims`` (only relative positions mean anything).
        cached: whether it was read from the cache rather than computed now.
        projection: how it was laid out.
        explained: PCA: the fraction of the variance each axis explains, ``(D,)``; else None.
    """

    ids: np.ndarray
    xy: np.ndarray
    cached: bool = False
    projection: Projection = Projection()
    explained: np.ndarray | None = None

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


def _fixed_layout(n: int, dims: int = 2) -> np.ndarray:
    angle = np.pi / 2 + 2 * np.pi * np.arange(n) / max(n, 1)
    xy = np.stack([np.cos(angle), np.sin(angle)], 1) if n > 1 else np.zeros((n, 2))
    return np.pad(xy, ((0, 0), (0, dims - 2))).astype(np.float32)


def tsne_layout(vectors: np.ndarray, *, perplexity: float | None = None, seed: int = 0,
                dims: int = 2) -> np.ndarray:
    """t-SNE of ``(N, D)`` vectors into ``dims`` (2 or 3) dimensions on cosine distance, PCA initialised;
    ``(N, dims)`` float32.

    Up to 3 points get a fixed layout (evenly on a unit circle, z = 0): t-SNE needs more.
    Coordinates are centred on the origin.

    Args:
        vectors: ``(N, D)`` embeddings (any scale: cosine ignores it).
        perplexity: t-SNE perplexity; :func:`default_perplexity` when ``None``. Clamped below ``N``.
        seed: random state, so the same input gives the same map.
        dims: 2 or 3 (scikit-learn's Barnes-Hut t-SNE goes up to 3).
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n <= 3:
        return _fixed_layout(n, dims)
    from sklearn.manifold import TSNE  # lazy: scikit-learn takes a second to import

    perplexity = default_perplexity(n) if perplexity is None else float(perplexity)
    perplexity = min(max(perplexity, 1.0), n - 1.0)
    tsne = TSNE(n_components=dims, perplexity=perplexity, metric="cosine", init="pca", random_state=seed,
                learning_rate="auto")
    xy = tsne.fit_transform(vectors).astype(np.float32)
    return xy - xy.mean(0, keepdims=True)


def pca_layout(vectors: np.ndarray, components: tuple[int, ...] = (1, 2)) -> tuple[np.ndarray, np.ndarray]:
    """Projection of ``(N, D)`` vectors onto two (or three) of their principal components.

    The vectors are centred (not rescaled: the index holds unit vectors, so this is the
    PCA of the cosine geometry). Each component's sign is fixed so that its largest
    loading is positive, so the same input always gives the same picture. A component
    past the data's rank (e.g. PC3 of two points) is all zeros and explains nothing.

    Args:
        vectors: ``(N, D)`` embeddings.
        components: 1-based indices of the components used as x and y (and z: ``K`` of them).

    Returns:
        ``(xy, explained)``: ``(N, K)`` float32 coordinates and ``(K,)`` fractions of the
        total variance the axes explain.

    Example:
        >>> xy, explained = pca_layout(np.array([[1.0, 0.0], [-1.0, 0.0]]))
        >>> xy.tolist(), explained.tolist()
        ([[1.0, 0.0], [-1.0, 0.0]], [1.0, 0.0])
    """
    x = np.asarray(vectors, dtype=np.float64)
    n, k_axes = len(x), len(components)
    if n == 0:
        return np.zeros((0, k_axes), np.float32), np.zeros(k_axes)
    x = x - x.mean(0, keepdims=True)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    flip = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(flip == 0, 1.0, flip)[:, None]
    variance = s ** 2
    total = float(variance.sum())
    xy, explained = np.zeros((n, k_axes)), np.zeros(k_axes)
    for axis, c in enumerate(components):
        k = int(c) - 1
        if k < len(s) and s[k] > 1e-12 * max(float(s[0]), 1e-300):
            xy[:, axis] = x @ vt[k]
            explained[axis] = variance[k] / total if total > 0 else 0.0
    return xy.astype(np.float32), explained


def umap_layout(vectors: np.ndarray, *, neighbors: int = 15, seed: int = 0, dims: int = 2) -> np.ndarray:
    """UMAP of ``(N, D)`` vectors into ``dims`` dimensions on cosine distance, ``(N, dims)``; needs ``umap-learn``
    (see :func:`available_methods`)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n <= 3:
        return _fixed_layout(n, dims)
    if importlib.util.find_spec("umap") is None:
        raise ValueError("UMAP needs the umap-learn package, which is not installed; use t-SNE or PCA")
    import umap  # lazy and optional

    xy = umap.UMAP(n_components=dims, n_neighbors=min(int(neighbors), n - 1), metric="cosine",
                   random_state=seed).fit_transform(vectors).astype(np.float32)
    return xy - xy.mean(0, keepdims=True)


def _layout(vectors: np.ndarray, projection: Projection) -> tuple[np.ndarray, np.ndarray | None]:
    if projection.method == "pca":
        return pca_layout(vectors, projection.components)
    if projection.method == "umap":
        return umap_layout(vectors, neighbors=projection.neighbors, seed=projection.seed, dims=projection.dims), None
    return tsne_layout(vectors, perplexity=projection.perplexity, seed=projection.seed, dims=projection.dims), None


# --- cache -------------------------------------------------------------------------------------
def cache_file(projection: Projection, n: int) -> str:
    """The cache file name of ``projection``'s layout of ``n`` points, e.g. ``map-tsne-p11.67-s0.npz``."""
    return f"map-{projection.key(n)}.npz"


def _ids_checksum(ids: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(ids, dtype="<i8").tobytes()).hexdigest()


def load_cached_map(cache: Path, ids: np.ndarray, projection: Projection = Projection()) -> MapResult | None:
    """The cached layout in ``cache`` if it was made for exactly these ids and this projection, else None.

    A missing, damaged or stale file is never an error: it only means "compute it".
    """
    path = Path(cache) / cache_file(projection, len(ids))
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = {k: data[k] for k in ("version", "count", "ids_sha256", "key")}
            cached_ids, xy, explained = data["ids"], data["xy"], data["explained"]
    except (OSError, KeyError, ValueError, EOFError):
        return None
    fresh = (int(meta["version"]) == CACHE_VERSION and int(meta["count"]) == len(ids)
             and str(meta["ids_sha256"]) == _ids_checksum(ids) and str(meta["key"]) == projection.key(len(ids))
             and xy.shape == (len(ids), projection.dims) and np.array_equal(cached_ids, ids) and np.isfinite(xy).all())
    if not fresh:
        return None
    return MapResult(cached_ids.astype(np.int64), xy.astype(np.float32), cached=True, projection=projection,
                     explained=explained.astype(np.float64) if explained.shape == (projection.dims,) else None)


def _save(cache: Path, result: MapResult) -> None:
    n = len(result.ids)
    explained = result.explained if result.explained is not None else np.zeros(0)
    buf = io.BytesIO()
    np.savez(buf, version=CACHE_VERSION, count=n, ids_sha256=_ids_checksum(result.ids),
             key=result.projection.key(n), ids=result.ids.astype("<i8"), xy=result.xy.astype("<f4"),
             explained=np.asarray(explained, "<f8"))
    Path(cache).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(Path(cache) / cache_file(result.projection, n), buf.getvalue())


def compute_map(retriever, projection: Projection | None = None, *, perplexity: float | None = None,
                seed: int = 0) -> Job[MapResult]:
    """Generator job: the 2D or 3D map of every INR in ``retriever``'s index, cached per projection.

    Args:
        retriever: a :class:`~inret_engine.retrieval.retriever.Retriever` (anything with ``ready_index()``
            returning an :class:`~inret_engine.retrieval.index.EmbeddingIndex`, and a ``cache`` folder).
        projection: how to lay the points out; ``None``: t-SNE with ``perplexity`` and ``seed``.
        perplexity, seed: t-SNE settings used when ``projection`` is ``None``.

    Yields:
        :class:`~inret_engine.progress.Progress` records: stage ``"loading"``, the method's
        name (``"t-SNE"``…) or ``"saving"``.

    Returns:
        The :class:`MapResult`, with ``cached=True`` when the cached layout still matched the index.

    Raises:
        ValueError: the retriever has no index yet (run ``inret embed``), or UMAP was asked
            for without ``umap-learn``.
    """
    projection = projection or Projection("tsne", perplexity=perplexity, seed=seed)
    yield Progress("loading", 0, 1)
    index = retriever.ready_index()
    ids = index.ids.astype(np.int64)
    result = load_cached_map(retriever.cache, ids, projection)
    if result is None:
        yield Progress(METHODS[projection.method], 0, len(ids))
        xy, explained = _layout(index.vectors(), projection)
        result = MapResult(ids, xy, projection=projection, explained=explained)
        yield Progress("saving", len(ids), len(ids))
        _save(retriever.cache, result)
    return result
