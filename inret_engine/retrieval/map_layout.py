"""A 2D map of a store's embeddings (t-SNE, PCA or UMAP), cached beside the index; saved map views.

:func:`compute_map` is a generator job (STYLE.md, item 10): it yields :class:`MapProgress`
records and finally a :class:`MapResult` with one ``(x, y)`` per indexed INR. How the
points are laid out is a :class:`Projection`:

* ``tsne``: scikit-learn's t-SNE on cosine distances, started from PCA, seeded; its
  parameter is the perplexity (:func:`default_perplexity` when not given).
* ``pca``: the principal components of the (unit) embedding vectors; its parameter is
  which two components are x and y (1-based), and the result says how much of the
  variance each explains.
* ``umap``: only where ``umap-learn`` is installed (:func:`available_methods`); its
  parameter is the number of neighbours.

Each layout is saved as ``map-<key>.npz`` in the retriever's cache folder, the key naming
the method and its parameters, together with the index size and a checksum of its ids,
and reused while those still match: adding INRs to the index (``inret embed``) makes the
next call recompute it. Switching between projections already computed is instant.

A :class:`SavedView` names a projection, a colouring, a zoom box, an isolated set of
points, the hidden architectures and the query shown; :func:`load_views` / :func:`save_views` keep a
store's list in ``map-views.json`` in its cache folder.

Example:
    >>> tsne_layout(np.eye(3, 8)).shape  # up to 3 points: a fixed layout, no t-SNE
    (3, 2)
    >>> xy, explained = pca_layout(np.array([[0.0, 0], [1, 1], [2, 2], [3, 3]]))
    >>> [round(float(v), 3) for v in xy[:, 0]], np.round(explained, 3).tolist()
    ([-2.121, -0.707, 0.707, 2.121], [1.0, 0.0])
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..store.atomic import atomic_write_bytes

__all__ = [
    "METHODS",
    "VIEWS_FILE",
    "MapProgress",
    "MapResult",
    "Projection",
    "SavedView",
    "available_methods",
    "cache_file",
    "compute_map",
    "default_perplexity",
    "load_cached_map",
    "load_views",
    "pca_layout",
    "save_views",
    "tsne_layout",
    "umap_layout",
]

CACHE_VERSION = 2
MAX_PERPLEXITY = 30.0
"""scikit-learn's default; smaller stores get less (see :func:`default_perplexity`)."""
METHODS = {"tsne": "t-SNE", "pca": "PCA", "umap": "UMAP"}
"""Projection method -> display name."""
VIEWS_FILE = "map-views.json"


def available_methods() -> list[str]:
    """The projection methods this installation can compute: t-SNE and PCA, and UMAP if ``umap-learn`` is there."""
    return ["tsne", "pca"] + (["umap"] if importlib.util.find_spec("umap") is not None else [])


@dataclasses.dataclass(frozen=True)
class Projection:
    """How a map lays out the embeddings.

    Attributes:
        method: ``"tsne"``, ``"pca"`` or ``"umap"``.
        perplexity: t-SNE perplexity; ``None``: :func:`default_perplexity` of the point count.
        components: PCA: the principal components shown as x and y, 1-based (``(1, 2)``: the two largest).
        neighbors: UMAP ``n_neighbors``.
        seed: random state of t-SNE and UMAP (PCA has none).
    """

    method: str = "tsne"
    perplexity: float | None = None
    components: tuple[int, int] = (1, 2)
    neighbors: int = 15
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown projection {self.method!r}; use one of {', '.join(METHODS)}")
        if len(self.components) != 2 or min(self.components) < 1:
            raise ValueError(f"PCA components are two numbers from 1 up, not {self.components!r}")
        object.__setattr__(self, "components", tuple(int(c) for c in self.components))

    def key(self, n: int) -> str:
        """A file-name-safe name of the layout this gives for ``n`` points (the cache key)."""
        if self.method == "pca":
            return f"pca-{self.components[0]}-{self.components[1]}"
        if self.method == "umap":
            return f"umap-n{min(self.neighbors, max(n - 1, 2))}-s{self.seed}"
        perplexity = default_perplexity(n) if self.perplexity is None else float(self.perplexity)
        return f"tsne-p{perplexity:.4g}-s{self.seed}"

    def label(self) -> str:
        """Words for a status line: ``"t-SNE (perplexity auto)"``, ``"PCA (PC1 × PC2)"``, ``"UMAP (15 neighbours)"``."""
        if self.method == "pca":
            return f"PCA (PC{self.components[0]} × PC{self.components[1]})"
        if self.method == "umap":
            return f"UMAP ({self.neighbors} neighbours)"
        return f"t-SNE (perplexity {'auto' if self.perplexity is None else f'{self.perplexity:g}'})"

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "components": list(self.components)}

    @classmethod
    def from_dict(cls, data: dict) -> Projection:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` / ``TypeError`` for a malformed dict."""
        perplexity = data.get("perplexity")
        return cls(method=str(data.get("method", "tsne")),
                   perplexity=None if perplexity is None else float(perplexity),
                   components=tuple(int(c) for c in data.get("components", (1, 2))),
                   neighbors=int(data.get("neighbors", 15)), seed=int(data.get("seed", 0)))


@dataclasses.dataclass(frozen=True)
class MapProgress:
    """Where :func:`compute_map` is: ``stage`` is ``"loading"``, the method's name (``"t-SNE"``…) or ``"saving"``."""

    stage: str
    done: int
    total: int


@dataclasses.dataclass(frozen=True, eq=False)
class MapResult:
    """A 2D layout of indexed INRs.

    Attributes:
        ids: ``(N,)`` int64 INR ids, in the index's order.
        xy: ``(N, 2)`` float32 coordinates (only relative positions mean anything).
        cached: whether it was read from the cache rather than computed now.
        projection: how it was laid out.
        explained: PCA: the fraction of the variance each axis explains, ``(2,)``; else None.
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


def _fixed_layout(n: int) -> np.ndarray:
    angle = np.pi / 2 + 2 * np.pi * np.arange(n) / max(n, 1)
    xy = np.stack([np.cos(angle), np.sin(angle)], 1) if n > 1 else np.zeros((n, 2))
    return xy.astype(np.float32)


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
        return _fixed_layout(n)
    from sklearn.manifold import TSNE  # lazy: scikit-learn takes a second to import

    perplexity = default_perplexity(n) if perplexity is None else float(perplexity)
    perplexity = min(max(perplexity, 1.0), n - 1.0)
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed,
                learning_rate="auto")
    xy = tsne.fit_transform(vectors).astype(np.float32)
    return xy - xy.mean(0, keepdims=True)


def pca_layout(vectors: np.ndarray, components: tuple[int, int] = (1, 2)) -> tuple[np.ndarray, np.ndarray]:
    """Projection of ``(N, D)`` vectors onto two of their principal components.

    The vectors are centred (not rescaled: the index holds unit vectors, so this is the
    PCA of the cosine geometry). Each component's sign is fixed so that its largest
    loading is positive, so the same input always gives the same picture. A component
    past the data's rank (e.g. PC3 of two points) is all zeros and explains nothing.

    Args:
        vectors: ``(N, D)`` embeddings.
        components: 1-based indices of the components used as x and y.

    Returns:
        ``(xy, explained)``: ``(N, 2)`` float32 coordinates and ``(2,)`` fractions of the
        total variance the two axes explain.

    Example:
        >>> xy, explained = pca_layout(np.array([[1.0, 0.0], [-1.0, 0.0]]))
        >>> xy.tolist(), explained.tolist()
        ([[1.0, 0.0], [-1.0, 0.0]], [1.0, 0.0])
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros((0, 2), np.float32), np.zeros(2)
    x = x - x.mean(0, keepdims=True)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    flip = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(flip == 0, 1.0, flip)[:, None]
    variance = s ** 2
    total = float(variance.sum())
    xy, explained = np.zeros((n, 2)), np.zeros(2)
    for axis, c in enumerate(components):
        k = int(c) - 1
        if k < len(s) and s[k] > 1e-12 * max(float(s[0]), 1e-300):
            xy[:, axis] = x @ vt[k]
            explained[axis] = variance[k] / total if total > 0 else 0.0
    return xy.astype(np.float32), explained


def umap_layout(vectors: np.ndarray, *, neighbors: int = 15, seed: int = 0) -> np.ndarray:
    """2D UMAP of ``(N, D)`` vectors on cosine distance; needs ``umap-learn`` (see :func:`available_methods`)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n <= 3:
        return _fixed_layout(n)
    if importlib.util.find_spec("umap") is None:
        raise ValueError("UMAP needs the umap-learn package, which is not installed; use t-SNE or PCA")
    import umap  # lazy and optional

    xy = umap.UMAP(n_components=2, n_neighbors=min(int(neighbors), n - 1), metric="cosine",
                   random_state=seed).fit_transform(vectors).astype(np.float32)
    return xy - xy.mean(0, keepdims=True)


def _layout(vectors: np.ndarray, projection: Projection) -> tuple[np.ndarray, np.ndarray | None]:
    if projection.method == "pca":
        return pca_layout(vectors, projection.components)
    if projection.method == "umap":
        return umap_layout(vectors, neighbors=projection.neighbors, seed=projection.seed), None
    return tsne_layout(vectors, perplexity=projection.perplexity, seed=projection.seed), None


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
             and xy.shape == (len(ids), 2) and np.array_equal(cached_ids, ids) and np.isfinite(xy).all())
    if not fresh:
        return None
    return MapResult(cached_ids.astype(np.int64), xy.astype(np.float32), cached=True, projection=projection,
                     explained=explained.astype(np.float64) if explained.shape == (2,) else None)


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
                seed: int = 0) -> Iterator[MapProgress | MapResult]:
    """Generator job: the 2D map of every INR in ``retriever``'s index, cached per projection.

    Args:
        retriever: a :class:`~inret_engine.retrieval.retriever.Retriever` (anything with ``ready_index()``
            returning an :class:`~inret_engine.retrieval.index.EmbeddingIndex`, and a ``cache`` folder).
        projection: how to lay the points out; ``None``: t-SNE with ``perplexity`` and ``seed``.
        perplexity, seed: t-SNE settings used when ``projection`` is ``None``.

    Yields:
        :class:`MapProgress` records, then one :class:`MapResult` (also the generator's
        return value), with ``cached=True`` when the cached layout still matched the index.

    Raises:
        ValueError: the retriever has no index yet (run ``inret embed``), or UMAP was asked
            for without ``umap-learn``.
    """
    projection = projection or Projection("tsne", perplexity=perplexity, seed=seed)
    yield MapProgress("loading", 0, 1)
    index = retriever.ready_index()
    ids = index.ids.astype(np.int64)
    result = load_cached_map(retriever.cache, ids, projection)
    if result is None:
        yield MapProgress(METHODS[projection.method], 0, len(ids))
        xy, explained = _layout(index.vectors(), projection)
        result = MapResult(ids, xy, projection=projection, explained=explained)
        yield MapProgress("saving", len(ids), len(ids))
        _save(retriever.cache, result)
    yield result
    return result


# --- saved views -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SavedView:
    """A named map view: what the map shows and how, to come back to later.

    Attributes:
        name: what the user called it.
        projection: the layout.
        colour_by: the record field the points are coloured by (``"category"``, ``"chamfer"``…).
        box: the visible map area ``(x0, y0, x1, y1)`` in map units, or None for "fit everything".
        isolated: ids the map was narrowed to, or None for all.
        hidden_archs: architectures whose points were hidden.
        encoder: which encoder's map (the chooser's text; empty: the first).
        query: the catalog id of the store INR that was the query, or None.
    """

    name: str
    projection: Projection = Projection()
    colour_by: str = "category"
    box: tuple[float, float, float, float] | None = None
    isolated: tuple[int, ...] | None = None
    hidden_archs: tuple[str, ...] = ()
    encoder: str = ""
    query: int | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "projection": self.projection.to_dict(), "colour_by": self.colour_by,
                "box": None if self.box is None else list(self.box),
                "isolated": None if self.isolated is None else list(self.isolated),
                "hidden_archs": list(self.hidden_archs), "encoder": self.encoder, "query": self.query}

    @classmethod
    def from_dict(cls, data: dict) -> SavedView:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` / ``TypeError`` / ``KeyError`` when malformed."""
        box = data.get("box")
        if box is not None:
            box = tuple(float(v) for v in box)
            if len(box) != 4 or not all(math.isfinite(v) for v in box):
                raise ValueError(f"a view's box is four finite numbers, not {data.get('box')!r}")
        isolated, query = data.get("isolated"), data.get("query")
        return cls(name=str(data["name"]), projection=Projection.from_dict(data.get("projection") or {}),
                   colour_by=str(data.get("colour_by", "category")), box=box,
                   isolated=None if isolated is None else tuple(int(i) for i in isolated),
                   hidden_archs=tuple(str(a) for a in data.get("hidden_archs", ())),
                   encoder=str(data.get("encoder", "")), query=None if query is None else int(query))


def load_views(folder: Path) -> list[SavedView]:
    """The saved views in ``folder / map-views.json``; a missing or damaged file (or entry) is skipped, not an error."""
    try:
        data = json.loads((Path(folder) / VIEWS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    views = []
    for entry in data.get("views", []) if isinstance(data, dict) else []:
        try:
            views.append(SavedView.from_dict(entry))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return views


def save_views(folder: Path, views: list[SavedView]) -> None:
    """Writes ``views`` to ``folder / map-views.json`` (atomically: a crash leaves the old list or the new)."""
    text = json.dumps({"version": 1, "views": [v.to_dict() for v in views]}, indent=1)
    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(Path(folder) / VIEWS_FILE, text.encode("utf-8"))
