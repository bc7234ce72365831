"""Cosine-similarity index over embeddings: an hnswlib graph when available, exact search always.

Vectors are L2-normalised on the way in and kept (float32) beside the optional hnswlib graph,
so every score returned is the exact cosine similarity recomputed from the stored vectors
(in float64, then rounded to float32): the ``"hnsw"`` and ``"exact"`` backends give the same
score for the same id, and differ only in which ids an approximate search finds.

Internally the graph labels are row numbers (insertion order); callers only see their own
``int64`` ids. Ties in score are broken by ascending id.

Example:
    >>> index = EmbeddingIndex.build(np.array([10, 11, 12]), np.eye(3), backend="exact")
    >>> hit = index.search(np.array([1.0, 0.1, 0.0]), k=2, exclude=[10])
    >>> hit.ids.tolist(), [round(float(s), 3) for s in hit.scores]
    ([11, 12], [0.1, 0.0])
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import StoreError

__all__ = ["FORMAT_VERSION", "LABEL_FIELDS", "EmbeddingIndex", "IndexBackend", "IndexFilter", "SearchResult",
           "hnsw_available"]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_FORMAT_NAME = "inret-embedding-index"
_META, _VECTORS, _IDS, _GRAPH = "index.json", "vectors.npy", "ids.npy", "hnsw.bin"
_BACKENDS = ("auto", "hnsw", "exact")
_EXACT_CHUNK = 1 << 24  # similarity-matrix entries per chunk in batched exact search (64 MiB)
_GRAPH_CHECK_ROWS = 32  # stored vectors compared with the loaded graph's copy

Allowed = Callable[[int], bool] | np.ndarray | set | frozenset | None


def hnsw_available() -> bool:
    """Whether the optional ``hnswlib`` accelerator can be imported."""
    try:
        import hnswlib  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True, eq=False)
class SearchResult:
    """Up to ``k`` neighbours of one query, best first.

    Attributes:
        ids: ``(k',)`` int64 ids, ``k' <= k``.
        scores: ``(k',)`` float32 cosine similarities, descending.
    """

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


LABEL_FIELDS = ("function", "arch", "category", "shape_id")  # what a backend stores beside each vector


@dataclass(frozen=True)
class IndexFilter:
    """Which stored INRs a backend search may return (``None``: any).

    Attributes:
        function: Only INRs of this implicit function (``"sdf"``, ``"udf"``, ``"occ"``).
        arch: Only INRs of this architecture (``"hash"``, ``"mlp"``...).
        category: Only INRs of this category.
        exclude_shape: Never INRs of this shape id (a query's own shape).
    """

    function: str | None = None
    arch: str | None = None
    category: str | None = None
    exclude_shape: str | None = None


class IndexBackend(Protocol):
    """A cosine index over embeddings with per-INR labels (:data:`LABEL_FIELDS`).

    Two implementations: :class:`~inret_engine.scale.backends.HnswBackend` (this module's
    :class:`EmbeddingIndex`, the default) and :class:`~inret_engine.scale.milvus.MilvusBackend`
    (Milvus Lite in a file, or a Milvus server by URI). The same adds and the same filtered
    searches give the same top-k on both, up to the approximation of each graph.
    """

    name: str

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray, labels: dict[str, list[str]]) -> None:
        """Adds ``vectors`` ``(N, D)`` under ``ids`` ``(N,)`` with ``labels[f]`` (N strings) per label field."""

    def search(self, queries: np.ndarray, k: int, where: IndexFilter | None = None) -> list[SearchResult]:
        """Top-``k`` per query row of ``queries`` ``(Q, D)`` among the INRs ``where`` allows."""

    def close(self) -> None: ...


class _RowFilter:
    """The ``allowed`` argument of a search, applied to row numbers.

    Accepts a callable ``id -> bool``, a boolean mask aligned with the index's ids, or a
    set / integer array of allowed ids.
    """

    def __init__(self, allowed: Allowed, ids: np.ndarray) -> None:
        self._ids = ids
        self._fn: Callable[[int], bool] | None = None
        self._mask: np.ndarray | None = None
        if callable(allowed):
            self._fn = allowed
            return
        if isinstance(allowed, (set, frozenset)):
            allowed = np.fromiter((int(i) for i in allowed), dtype=np.int64, count=len(allowed))
        arr = np.asarray(allowed)
        if arr.dtype == bool:
            if arr.shape != ids.shape:
                raise ValueError(f"allowed mask has shape {arr.shape}; expected {ids.shape}, one flag per "
                                 "stored id in the order of index.ids")
            self._mask = arr.copy()
        elif arr.size == 0 or np.issubdtype(arr.dtype, np.integer):
            self._mask = np.isin(ids, arr.astype(np.int64).ravel())
        else:
            raise TypeError("allowed must be a callable id -> bool, a boolean mask, or a set/array of ids; "
                            f"got {type(allowed).__name__} of dtype {arr.dtype}")

    @property
    def count(self) -> int | None:
        """How many rows pass, when known without calling a Python predicate per row."""
        return None if self._mask is None else int(self._mask.sum())

    def test(self, rows: np.ndarray) -> np.ndarray:
        """``(m,)`` bool: which of ``rows`` pass."""
        if self._mask is not None:
            return self._mask[rows]
        fn = self._fn
        assert fn is not None, "a filter is a mask or a callable"
        return np.fromiter((bool(fn(int(i))) for i in self._ids[rows]), dtype=bool, count=len(rows))

    def mask(self) -> np.ndarray:
        """``(N,)`` bool over all rows (evaluates a callable once per row, then caches)."""
        if self._mask is None:
            self._mask = self.test(np.arange(len(self._ids)))
        return self._mask


def _normalised_rows(x: Any, dim: int, what: str, ids: np.ndarray | None = None,
                     out: np.ndarray | None = None) -> np.ndarray:
    """``(M, dim)`` float32 unit rows (written into ``out`` when given), normalised in float64
    chunks to bound memory; refuses zero-length or non-finite rows."""
    arr = np.asarray(x)
    arr = arr[None, :] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{what} must have shape (N, {dim}) or ({dim},); got {np.shape(x)}")
    out = np.empty(arr.shape, dtype=np.float32) if out is None else out
    for lo in range(0, len(arr), 8192):
        chunk = arr[lo:lo + 8192].astype(np.float64)
        norms = np.linalg.norm(chunk, axis=1)
        bad = ~np.isfinite(norms) | (norms <= 0.0)
        if bad.any():
            row = lo + int(np.flatnonzero(bad)[0])
            label = f"id {int(ids[row])}" if ids is not None else f"row {row}"
            problem = "has zero length (no direction to compare)" if norms[row - lo] == 0 else "is not finite"
            raise ValueError(f"{what}: the vector for {label} {problem}; cosine search needs a non-zero finite "
                             "vector")
        out[lo:lo + len(chunk)] = chunk / norms[:, None]
    return out


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


class EmbeddingIndex:
    """Incremental cosine-similarity index with an hnswlib graph and an exact fallback.

    Args:
        dim: Embedding length.
        backend: ``"hnsw"`` (needs hnswlib), ``"exact"`` (normalised matrix product), or
            ``"auto"``: hnsw when hnswlib imports, exact otherwise.
        ef_construction: hnsw build-time candidate list size.
        M: hnsw graph degree.
        ef_search: hnsw query-time candidate list size (raised to the fetch size when larger).
        seed: hnsw level-generator seed.
        threads: Threads for hnsw insertion. 1 (default) gives the same graph for the same
            insertion order on every run; more threads build faster but not reproducibly.

    The index is safe to share between threads (one internal lock).
    """

    def __init__(self, dim: int, *, backend: str = "auto", ef_construction: int = 200, M: int = 16,
                 ef_search: int = 64, seed: int = 0, threads: int = 1) -> None:
        if int(dim) <= 0:
            raise ValueError(f"dim must be positive; got {dim}")
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}; got {backend!r}")
        if backend == "hnsw" and not hnsw_available():
            raise ImportError("backend='hnsw' needs hnswlib (pip install hnswlib); use backend='exact' or 'auto'")
        self.dim = int(dim)
        self.backend = "exact" if backend == "exact" or not hnsw_available() else "hnsw"
        self.ef_construction, self.M, self.ef_search = int(ef_construction), int(M), int(ef_search)
        self.seed, self.threads = int(seed), max(1, int(threads))
        self._vectors = np.empty((0, self.dim), dtype=np.float32)  # capacity rows; first _count used
        self._ids = np.empty(0, dtype=np.int64)
        self._row_of: dict[int, int] = {}
        self._count = 0
        self._graph: Any = None
        self._lock = threading.RLock()
        if self.backend == "hnsw":
            self._graph = self._new_graph(capacity=1024)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, **kw: Any) -> EmbeddingIndex:
        """An index holding ``vectors`` ``(N, D)`` under ``ids`` ``(N,)``; ``kw`` go to the constructor."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be (N, D); got shape {vectors.shape}")
        index = cls(vectors.shape[1], **kw)
        index._reserve(len(vectors))
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"EmbeddingIndex(dim={self.dim}, backend={self.backend!r}, count={self._count})"

    @property
    def ids(self) -> np.ndarray:
        """``(N,)`` int64 ids in insertion order (a copy)."""
        return self._ids[: self._count].copy()

    def vectors(self) -> np.ndarray:
        """``(N, D)`` float32 L2-normalised vectors in insertion order (a copy)."""
        return self._vectors[: self._count].copy()

    def vector(self, item: int) -> np.ndarray | None:
        """The stored (normalised) vector of one id, or None; no copy of the whole index."""
        with self._lock:
            row = self._row_of.get(int(item))
            return None if row is None else self._vectors[row].copy()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Adds ``vectors`` ``(N, D)`` (any scale; stored L2-normalised) under ``ids`` ``(N,)``.

        Raises:
            ValueError: mismatched lengths, a repeated id (within the batch or already
                stored), or a zero-length / non-finite vector. Nothing is added then.
        """
        ids_arr = np.asarray(ids)
        if ids_arr.ndim != 1 or not (ids_arr.size == 0 or np.issubdtype(ids_arr.dtype, np.integer)):
            raise ValueError(f"ids must be a 1-D integer array; got shape {ids_arr.shape} dtype {ids_arr.dtype}")
        ids_arr = ids_arr.astype(np.int64)
        raw = np.asarray(vectors)
        raw = raw.reshape(1, -1) if raw.ndim == 1 else raw
        if len(raw) != len(ids_arr):
            raise ValueError(f"{len(ids_arr)} ids for {len(raw)} vectors")
        uniq, counts = np.unique(ids_arr, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"duplicate id {int(uniq[counts > 1][0])} in the batch")
        with self._lock:
            taken = [int(i) for i in ids_arr if int(i) in self._row_of]
            if taken:
                raise ValueError(f"id {taken[0]} is already in the index ({len(taken)} of the batch are)")
            start, stop = self._count, self._count + len(ids_arr)
            self._reserve(stop)  # rows past _count are free: a failure below leaves the index as it was
            vecs = _normalised_rows(raw, self.dim, "add", ids_arr, out=self._vectors[start:stop])
            if self._graph is not None and len(ids_arr):
                self._graph.add_items(vecs, np.arange(start, stop), num_threads=self.threads)
            self._ids[start:stop] = ids_arr
            self._row_of.update(zip(ids_arr.tolist(), range(start, stop)))
            self._count = stop

    def _reserve(self, rows: int) -> None:
        """Grows the vector buffer (and the graph) to hold at least ``rows`` rows."""
        if rows > len(self._vectors):
            capacity = max(rows, 2 * len(self._vectors))
            grown = np.empty((capacity, self.dim), dtype=np.float32)
            grown[: self._count] = self._vectors[: self._count]
            ids = np.empty(capacity, dtype=np.int64)
            ids[: self._count] = self._ids[: self._count]
            self._vectors, self._ids = grown, ids
        if self._graph is not None and rows > self._graph.get_max_elements():
            self._graph.resize_index(max(rows, 2 * self._graph.get_max_elements()))

    def _new_graph(self, capacity: int) -> Any:
        import hnswlib

        graph = hnswlib.Index(space="ip", dim=self.dim)  # rows are unit vectors: ip ranks as cosine
        graph.init_index(max_elements=max(1, capacity), ef_construction=self.ef_construction, M=self.M,
                         random_seed=self.seed)
        graph.set_ef(self.ef_search)
        return graph

    def _rebuild_graph(self) -> None:
        """Builds the graph again from the stored vectors, in insertion order (same graph as before)."""
        self._graph = self._new_graph(capacity=max(self._count, 1024))
        if self._count:
            self._graph.add_items(self._vectors[: self._count], np.arange(self._count), num_threads=self.threads)

    def search(self, query: np.ndarray, k: int, *, exclude: Iterable[int] = (), allowed: Allowed = None,
               exact: bool = False) -> SearchResult | list[SearchResult]:
        """The ``k`` stored vectors most cosine-similar to each query.

        Args:
            query: ``(D,)`` for one query, or ``(Q, D)``; any non-zero scale.
            k: Results wanted per query; fewer come back when fewer ids are eligible.
            exclude: Ids that never appear (e.g. the query's own INRs); unknown ids are ignored.
            allowed: Optional filter: a callable ``id -> bool``, a boolean mask aligned with
                :attr:`ids`, or a set / integer array of allowed ids.
            exact: Force the exact search even on an hnsw index (evaluation, recall checks).

        Returns:
            One :class:`SearchResult` for a ``(D,)`` query, a list of ``Q`` for ``(Q, D)``.

        The hnsw path over-fetches (``k`` + excluded, scaled up by the filter's selectivity,
        growing 4x while too few pass) and falls back to the exact search once the fetch
        would exceed an eighth of the index; hnswlib's own ``filter`` callback is not used
        because it can return fewer than ``k`` results under selective filters.
        """
        if int(k) < 0:
            raise ValueError(f"k must be >= 0; got {k}")
        single = np.ndim(query) == 1
        queries = _normalised_rows(query, self.dim, "search query")
        with self._lock:
            n = self._count
            excluded = np.array(sorted({self._row_of[int(i)] for i in exclude if int(i) in self._row_of}),
                                dtype=np.int64)
            filt = None if allowed is None else _RowFilter(allowed, self._ids[:n])
            if int(k) == 0 or n == 0:
                empty = SearchResult(np.empty(0, np.int64), np.empty(0, np.float32))
                results = [empty] * len(queries)
            elif self._graph is None or exact:
                results = self._exact_search(queries, int(k), excluded, filt)
            else:
                results = [self._hnsw_search_one(q, int(k), excluded, filt) for q in queries]
        return results[0] if single else results

    def search_one(self, query: np.ndarray, k: int, *, exclude: Iterable[int] = (), allowed: Allowed = None,
                   exact: bool = False) -> SearchResult:
        """:meth:`search` for one ``(D,)`` query."""
        result = self.search(np.asarray(query).reshape(-1), k, exclude=exclude, allowed=allowed, exact=exact)
        assert isinstance(result, SearchResult)
        return result

    def search_many(self, queries: np.ndarray, k: int, *, exclude: Iterable[int] = (), allowed: Allowed = None,
                    exact: bool = False) -> list[SearchResult]:
        """:meth:`search` for ``(Q, D)`` queries: one result per row."""
        results = self.search(np.atleast_2d(queries), k, exclude=exclude, allowed=allowed, exact=exact)
        assert isinstance(results, list)
        return results

    def _finalise(self, q: np.ndarray, rows: np.ndarray, k: int) -> SearchResult:
        """Exact float64 cosines of candidate ``rows``, best ``k`` by (score desc, id asc)."""
        rows = np.asarray(rows, dtype=np.int64)
        scores = self._vectors[rows].astype(np.float64) @ q.astype(np.float64)
        ids = self._ids[rows]
        order = np.lexsort((ids, -scores))[:k]
        return SearchResult(ids=ids[order].copy(), scores=scores[order].astype(np.float32))

    def _exact_search(self, queries: np.ndarray, k: int, excluded: np.ndarray,
                      filt: _RowFilter | None) -> list[SearchResult]:
        n = self._count
        eligible = np.ones(n, dtype=bool) if filt is None else filt.mask().copy()
        eligible[excluded] = False
        n_ok = int(eligible.sum())
        if n_ok == 0:
            return [SearchResult(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in queries]
        # over-select a little so float32 near-ties at the k-th place are settled by the float64 rescoring
        take = min(n_ok, k + 8)
        vectors = self._vectors[:n]
        results = []
        step = max(1, _EXACT_CHUNK // n)
        for lo in range(0, len(queries), step):
            sims = queries[lo:lo + step] @ vectors.T
            sims[:, ~eligible] = -np.inf
            top = np.argpartition(-sims, take - 1, axis=1)[:, :take]
            for q, rows in zip(queries[lo:lo + step], top):
                rows = rows[eligible[rows]]
                results.append(self._finalise(q, rows, k))
        return results

    def _hnsw_search_one(self, q: np.ndarray, k: int, excluded: np.ndarray, filt: _RowFilter | None) -> SearchResult:
        n = self._count
        known = None if filt is None else filt.count
        if known is not None and known <= k:  # the answer is every allowed row: no graph search needed
            return self._exact_search(q[None], k, excluded, filt)[0]
        fetch = k + len(excluded)
        if filt is not None:
            fetch = math.ceil(fetch * (1.5 * n / known if known else 2.0))
        limit = n // 8
        while True:
            fetch = min(fetch, n)
            if fetch > limit:
                return self._exact_search(q[None], k, excluded, filt)[0]
            self._graph.set_ef(max(self.ef_search, fetch))
            try:
                rows, _ = self._graph.knn_query(q[None], k=fetch, num_threads=1)
            except RuntimeError:  # the graph walk found fewer than `fetch` items
                return self._exact_search(q[None], k, excluded, filt)[0]
            rows = rows[0].astype(np.int64)
            keep = ~np.isin(rows, excluded)
            if filt is not None:
                keep &= filt.test(rows)
            if keep.sum() >= k or fetch == n:
                return self._finalise(q, rows[keep], k)
            fetch *= 4

    def save(self, folder: Path) -> None:
        """Writes ``index.json``, ``vectors.npy``, ``ids.npy`` and (hnsw) ``hnsw.bin`` into ``folder``.

        Each file is written to a temporary file, fsynced and renamed into place, ``index.json``
        last; it carries the count, dim, backend, settings and SHA-256 checksums of the other
        files' contents, so :meth:`load` detects a set of files that do not belong together.
        """
        from ..store.atomic import atomic_path, atomic_write_bytes  # lazy: the store package imports torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            vectors, ids = self._vectors[: self._count], self._ids[: self._count]
            meta = {"format": _FORMAT_NAME, "format_version": FORMAT_VERSION, "dim": self.dim,
                    "count": self._count, "backend": self.backend, "ef_construction": self.ef_construction,
                    "M": self.M, "ef_search": self.ef_search, "seed": self.seed,
                    "ids_sha256": _sha256(ids.astype("<i8").tobytes()),
                    "vectors_sha256": _sha256(vectors.astype("<f4").tobytes()), "hnsw_sha256": None}
            for name, arr in ((_VECTORS, vectors.astype("<f4")), (_IDS, ids.astype("<i8"))):
                with atomic_path(folder / name) as tmp, open(tmp, "wb") as f:
                    np.save(f, arr, allow_pickle=False)
            if self._graph is not None:
                with atomic_path(folder / _GRAPH) as tmp:
                    self._graph.save_index(str(tmp))
                    meta["hnsw_sha256"] = _file_sha256(tmp)
            else:
                (folder / _GRAPH).unlink(missing_ok=True)
            atomic_write_bytes(folder / _META, (json.dumps(meta, indent=2) + "\n").encode())

    @classmethod
    def load(cls, folder: Path, *, backend: str | None = None, threads: int = 1) -> EmbeddingIndex:
        """Reads an index written by :meth:`save`.

        Args:
            folder: The index folder.
            backend: Override the saved backend (``None`` keeps it; an hnsw index loads as
                exact, with a warning, where hnswlib is missing).
            threads: Threads for a graph rebuild.

        Raises:
            FileNotFoundError: ``index.json``, ``vectors.npy`` or ``ids.npy`` is missing.
            StoreError: the files are damaged or disagree (format, count, dim, checksums).

        A missing, damaged or mismatched ``hnsw.bin`` is never fatal: the graph is rebuilt
        from ``vectors.npy`` (same graph, as insertion is single-threaded and seeded) and a
        warning is logged.
        """
        folder = Path(folder)
        meta = _read_meta(folder)
        vectors, ids = _read_arrays(folder, meta)
        wanted = backend or meta["backend"]
        if wanted == "hnsw" and not hnsw_available():
            logger.warning("index in %s was saved with hnsw but hnswlib is missing; using exact search", folder)
            wanted = "exact"
        index = cls(meta["dim"], backend=wanted, ef_construction=meta["ef_construction"], M=meta["M"],
                    ef_search=meta["ef_search"], seed=meta["seed"], threads=threads)
        index._graph = None
        index._vectors, index._ids, index._count = vectors, ids, len(ids)
        index._row_of = dict(zip(ids.tolist(), range(len(ids))))
        if index.backend == "hnsw":
            problem = index._attach_saved_graph(folder, meta) if meta["backend"] == "hnsw" else None
            if problem:
                logger.warning("%s in %s %s; rebuilding the graph from %s (%d vectors)", _GRAPH, folder, problem,
                               _VECTORS, len(ids))
            if index._graph is None:
                index._rebuild_graph()
        return index

    def _attach_saved_graph(self, folder: Path, meta: dict) -> str | None:
        """Loads ``hnsw.bin`` if it matches the vectors; returns what was wrong otherwise."""
        import hnswlib

        path = folder / _GRAPH
        if not path.is_file():
            return "is missing"
        if _file_sha256(path) != meta.get("hnsw_sha256"):
            return "does not match its checksum in index.json (damaged or from another save)"
        graph = hnswlib.Index(space="ip", dim=self.dim)
        try:
            graph.load_index(str(path), max_elements=max(self._count, 1))
        except (RuntimeError, MemoryError, ValueError) as exc:
            return f"could not be read ({exc})"
        if graph.get_current_count() != self._count or graph.dim != self.dim:
            return f"holds {graph.get_current_count()} vectors of dim {graph.dim}, not {self._count} of {self.dim}"
        if not np.array_equal(np.sort(np.asarray(graph.get_ids_list(), dtype=np.int64)), np.arange(self._count)):
            return "has labels that are not the rows 0..N-1"
        check = np.linspace(0, self._count - 1, min(self._count, _GRAPH_CHECK_ROWS)).astype(np.int64)
        if len(check) and not np.array_equal(np.asarray(graph.get_items(check), dtype=np.float32),
                                             self._vectors[check]):
            return "holds vectors that differ from vectors.npy"
        graph.set_ef(self.ef_search)
        self._graph = graph
        return None


def _read_meta(folder: Path) -> dict:
    path = folder / _META
    if not path.is_file():
        raise FileNotFoundError(f"no embedding index in {folder} ({_META} is missing)")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT_NAME:
        raise StoreError(f"{path} is not an INRet embedding index")
    if meta.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"{path} has format version {meta.get('format_version')}; this build reads "
                         f"version {FORMAT_VERSION}")
    required = ("dim", "count", "backend", "ef_construction", "M", "ef_search", "seed", "ids_sha256",
                "vectors_sha256")
    missing = [key for key in required if key not in meta]
    if missing or meta["backend"] not in ("hnsw", "exact"):
        raise StoreError(f"{path} lacks {missing or 'a valid backend'}")
    return meta


def _read_arrays(folder: Path, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """``vectors`` ``(N, D)`` float32 and ``ids`` ``(N,)`` int64, checked against ``index.json``."""
    arrays = {}
    for name in (_VECTORS, _IDS):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"embedding index in {folder} is incomplete: {name} is missing")
        try:
            arrays[name] = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise StoreError(f"{path} could not be read: {exc}") from exc
    vectors, ids = arrays[_VECTORS], arrays[_IDS]
    count, dim = meta["count"], meta["dim"]
    if vectors.dtype != np.float32 or vectors.shape != (count, dim):
        raise StoreError(f"{folder / _VECTORS} holds {vectors.dtype} {vectors.shape}; index.json says "
                         f"float32 ({count}, {dim})")
    if ids.dtype != np.int64 or ids.shape != (count,):
        raise StoreError(f"{folder / _IDS} holds {ids.dtype} {ids.shape}; index.json says int64 ({count},)")
    if _sha256(ids.astype("<i8").tobytes()) != meta["ids_sha256"]:
        raise StoreError(f"{folder / _IDS} does not match the checksum in index.json (files from different saves?)")
    if _sha256(vectors.astype("<f4").tobytes()) != meta["vectors_sha256"]:
        raise StoreError(f"{folder / _VECTORS} does not match the checksum in index.json "
                         "(files from different saves?)")
    if len(np.unique(ids)) != len(ids):
        raise StoreError(f"{folder / _IDS} repeats an id")
    return np.ascontiguousarray(vectors), np.ascontiguousarray(ids)
