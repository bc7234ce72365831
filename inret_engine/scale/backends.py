"""Index backends of a store: hnswlib (the default) and Milvus, behind one interface.

A store's embeddings are cached once per model, in ``cache/emb-<checksum>/`` beside the
hnswlib index (:class:`~inret_engine.retrieval.retriever.Retriever`); that cache stays the source of
truth. Choosing Milvus (``inret embed STORE --backend milvus``) indexes the cached vectors
in a Milvus collection (by default Milvus Lite in ``cache/emb-<checksum>/milvus.db``) and
records the choice in ``backend.json``; later embeds add only the new INRs, and switching
back and forth re-indexes from the cache, never re-embeds.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from ..retrieval.index import LABEL_FIELDS, EmbeddingIndex, IndexBackend, IndexFilter, SearchResult
from ..store import InrRecord, ShapeINR

__all__ = ["BACKENDS", "HnswBackend", "chosen_backend", "open_backend", "query_backend", "set_backend"]

BACKENDS = ("hnsw", "milvus")
_CHOICE = "backend.json"
_MILVUS_FILE = "milvus.db"


class HnswBackend:
    """The default backend: an :class:`EmbeddingIndex` with label arrays aligned with its ids;
    a filter becomes the boolean mask the index's search takes."""

    name = "hnsw"

    def __init__(self, index: EmbeddingIndex, labels: dict[str, list[str]] | None = None) -> None:
        if labels is None and len(index):
            raise ValueError("an index that holds vectors needs their labels")
        self.index = index
        self._labels = {f: np.array(labels[f] if labels else [], dtype=object) for f in LABEL_FIELDS}

    def __len__(self) -> int:
        return len(self.index)

    def add(self, ids: np.ndarray, vectors: np.ndarray, labels: dict[str, list[str]]) -> None:
        self.index.add(ids, vectors)
        for f in LABEL_FIELDS:
            self._labels[f] = np.concatenate([self._labels[f], np.array(labels[f], dtype=object)])

    def search(self, queries: np.ndarray, k: int, where: IndexFilter | None = None) -> list[SearchResult]:
        allowed = None
        if where is not None and where != IndexFilter():
            allowed = np.ones(len(self.index), dtype=bool)
            for name, value in (("function", where.function), ("arch", where.arch), ("category", where.category)):
                if value is not None:
                    allowed &= self._labels[name] == value
            if where.exclude_shape is not None:
                allowed &= self._labels["shape_id"] != where.exclude_shape
        return self.index.search_many(queries, k, allowed=allowed)

    def close(self) -> None:
        pass


def labels_of(records: list[InrRecord | None]) -> dict[str, list[str]]:
    """The label columns of catalog rows (``arch``, ``function``, ``category``, ``shape_id``)."""
    return {f: [str(getattr(r, f)) if r is not None else "" for r in records] for f in LABEL_FIELDS}


def _choice(cache: Path) -> dict:
    path = Path(cache) / _CHOICE
    return json.loads(path.read_text()) if path.is_file() else {}


def chosen_backend(cache: Path) -> tuple[str, str | None]:
    """The backend recorded for a model's cache, and its Milvus URI (None: the default file);
    hnsw when none is recorded."""
    choice = _choice(cache)
    name = choice.get("backend", "hnsw")
    return name, (choice.get("milvus") or {}).get("uri") if name == "milvus" else None


def set_backend(cache: Path, name: str, uri: str | None = None, synced: dict | None = None) -> None:
    """Records ``name`` for a model's cache; for Milvus also its URI and how much of the cache
    it holds (kept while hnsw is chosen, so switching back adds only what is new)."""
    from ..store.atomic import atomic_write_bytes

    if name not in BACKENDS:
        raise ValueError(f"unknown index backend {name!r}; choose one of {', '.join(BACKENDS)}")
    data = _choice(cache)
    data["backend"] = name
    if name == "milvus":
        data["milvus"] = {"uri": uri, "synced": synced}
    atomic_write_bytes(Path(cache) / _CHOICE, (json.dumps(data, indent=2) + "\n").encode())


def open_backend(retriever, name: str | None = None, uri: str | None = None) -> IndexBackend:
    """The retriever's index as backend ``name`` (default: the one recorded for its cache),
    brought up to date with the cached embeddings; the choice is recorded.

    Milvus gets the cached vectors it lacks (the cache is append-only: the first rows it
    was given are remembered with a checksum of their ids; any mismatch re-indexes all).
    """
    index = retriever.ready_index()
    recorded, recorded_uri = chosen_backend(retriever.cache)
    name = name or recorded
    rows = retriever.rows()
    ids = index.ids
    if name == "hnsw":
        set_backend(retriever.cache, "hnsw")
        return HnswBackend(index, labels_of([rows.get(int(i)) for i in ids]))
    if name != "milvus":
        raise ValueError(f"unknown index backend {name!r}; choose one of {', '.join(BACKENDS)}")
    from .milvus import MilvusBackend

    uri = uri or recorded_uri or (_choice(retriever.cache).get("milvus") or {}).get("uri")
    backend = MilvusBackend(uri or str(retriever.cache / _MILVUS_FILE), index.dim)
    synced = _synced(retriever.cache, uri)
    start = synced["count"] if synced and synced["ids_sha256"] == _ids_sha(ids[: synced["count"]]) else 0
    if start == 0 and len(backend):
        backend.drop()  # holds something else: start again from the cache
        backend = MilvusBackend(uri or str(retriever.cache / _MILVUS_FILE), index.dim)
    if start < len(ids):
        todo = ids[start:]
        vectors = index.vectors()[start:]
        backend.add(todo, vectors, labels_of([rows.get(int(i)) for i in todo]))
    set_backend(retriever.cache, "milvus", uri, {"count": len(ids), "ids_sha256": _ids_sha(ids)})
    return backend


def _synced(cache: Path, uri: str | None) -> dict | None:
    milvus = _choice(cache).get("milvus") or {}
    return milvus.get("synced") if milvus.get("uri") == uri else None


def _ids_sha(ids: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(ids, dtype="<i8").tobytes()).hexdigest()


def query_backend(retriever, backend: IndexBackend, query: InrRecord | ShapeINR, k: int = 10, *,
                  function: str = "same", arch: str | None = None, category: str | None = None,
                  exclude_shape: str | None = None):
    """:meth:`Retriever.query <inret_engine.retrieval.retriever.Retriever.query>` through ``backend``,
    with an architecture filter besides function and category."""
    from ..retrieval.retriever import Hit, QueryResult

    vector, wanted, exclude_shape, embed_ms = retriever.query_vector(query, function=function,
                                                                     exclude_shape=exclude_shape)
    where = IndexFilter(function=wanted, arch=arch, category=category, exclude_shape=exclude_shape)
    start = time.perf_counter()
    result = backend.search(np.asarray(vector)[None], k, where)[0]
    search_ms = (time.perf_counter() - start) * 1000
    rows = retriever.rows()
    hits = [Hit(rows[int(i)], float(s)) for i, s in zip(result.ids, result.scores) if int(i) in rows]
    return QueryResult(hits, embed_ms, search_ms)


