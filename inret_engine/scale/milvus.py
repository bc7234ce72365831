"""Milvus as an index backend: Milvus Lite in a local file, or a Milvus server by URI.

The same client code (pymilvus ``MilvusClient``) serves both: a path ending in ``.db``
opens Milvus Lite (an embedded engine, a folder of WAL + Parquet segments + FAISS
indexes), ``http://host:19530`` a server or cluster. Vectors are L2-normalised before they
are stored, so the COSINE scores Milvus returns are those the hnswlib index gives; the
label fields are scalar columns searched with a Milvus filter expression.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..retrieval.index import LABEL_FIELDS, IndexFilter, SearchResult
from . import require

__all__ = ["COLLECTION", "MilvusBackend", "filter_expression"]

COLLECTION = "inret_embeddings"
_VECTOR = "vector"
_BATCH = 2000  # rows per insert call: bounds the client's per-call copy of the vectors
_LABEL_LENGTH = {"function": 16, "arch": 64, "category": 256, "shape_id": 1024}


def filter_expression(where: IndexFilter | None) -> str:
    """The Milvus boolean expression of a filter (``""`` when it allows everything)."""
    if where is None:
        return ""
    parts = [f"{name} == {json.dumps(value)}" for name, value in
             (("function", where.function), ("arch", where.arch), ("category", where.category)) if value is not None]
    if where.exclude_shape is not None:
        parts.append(f"shape_id != {json.dumps(where.exclude_shape)}")
    return " and ".join(parts)


class MilvusBackend:
    """An :class:`~inret_engine.retrieval.index.IndexBackend` in a Milvus collection.

    Args:
        uri: ``path/to/file.db`` (Milvus Lite) or ``http://host:19530`` (a server).
        dim: Embedding length.
        collection: Collection name.
        M, ef_construction: HNSW graph degree and build-time candidate list.
        ef_search: HNSW query-time candidate list (raised to ``k`` when smaller).
        index_type: ``"HNSW"`` (default) or any dense index Milvus knows (``"FLAT"``...).
    """

    name = "milvus"

    def __init__(self, uri: str, dim: int, *, collection: str = COLLECTION, M: int = 16,
                 ef_construction: int = 200, ef_search: int = 64, index_type: str = "HNSW") -> None:
        require("milvus")
        from pymilvus import MilvusClient

        self.uri, self.dim, self.collection, self.ef_search = str(uri), int(dim), collection, int(ef_search)
        self.client: Any = MilvusClient(self.uri)
        if not self.client.has_collection(collection):
            self._create(M, ef_construction, index_type)
        else:
            have = self._stored_dim()
            if have != self.dim:
                raise ValueError(f"Milvus collection {collection} at {uri} holds {have}-d vectors, not {self.dim}-d")
        self.client.load_collection(collection)

    def _create(self, M: int, ef_construction: int, index_type: str) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field(_VECTOR, DataType.FLOAT_VECTOR, dim=self.dim)
        for name in LABEL_FIELDS:
            schema.add_field(name, DataType.VARCHAR, max_length=_LABEL_LENGTH[name])
        params = self.client.prepare_index_params()
        params.add_index(field_name=_VECTOR, index_type=index_type, metric_type="COSINE",
                         params={"M": M, "efConstruction": ef_construction} if index_type == "HNSW" else {})
        self.client.create_collection(self.collection, schema=schema, index_params=params)

    def _stored_dim(self) -> int:
        info = self.client.describe_collection(self.collection)
        field = next(f for f in info["fields"] if f["name"] == _VECTOR)
        return int(field["params"]["dim"])

    def __len__(self) -> int:
        return int(self.client.get_collection_stats(self.collection)["row_count"])

    def __repr__(self) -> str:
        return f"MilvusBackend(uri={self.uri!r}, collection={self.collection!r}, dim={self.dim})"

    def add(self, ids: np.ndarray, vectors: np.ndarray, labels: dict[str, list[str]]) -> None:
        """Upserts (an id already stored is replaced, so a repeated add after a crash is harmless)
        and flushes, so the rows are on disk when this returns."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = _unit_rows(vectors, self.dim)
        if len(ids) != len(vectors) or any(len(labels[f]) != len(ids) for f in LABEL_FIELDS):
            raise ValueError(f"{len(ids)} ids, {len(vectors)} vectors and labels of lengths "
                             f"{[len(labels[f]) for f in LABEL_FIELDS]} do not match")
        for lo in range(0, len(ids), _BATCH):
            rows = [{"id": int(ids[i]), _VECTOR: vectors[i], **{f: str(labels[f][i]) for f in LABEL_FIELDS}}
                    for i in range(lo, min(lo + _BATCH, len(ids)))]
            self.client.upsert(self.collection, rows)
        self.client.flush(self.collection)

    def search(self, queries: np.ndarray, k: int, where: IndexFilter | None = None) -> list[SearchResult]:
        queries = _unit_rows(queries, self.dim)
        if k <= 0 or len(queries) == 0:
            return [SearchResult(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in queries]
        hits = self.client.search(self.collection, data=list(queries), limit=int(k), filter=filter_expression(where),
                                  output_fields=["id"], anns_field=_VECTOR,
                                  search_params={"params": {"ef": max(self.ef_search, int(k))}})
        out = []
        for row in hits:
            ids = np.array([int(h["id"]) for h in row], dtype=np.int64)
            scores = np.array([float(h["distance"]) for h in row], dtype=np.float64)
            order = np.lexsort((ids, -scores))  # score descending, ties by ascending id (as EmbeddingIndex)
            out.append(SearchResult(ids=ids[order], scores=scores[order].astype(np.float32)))
        return out

    def drop(self) -> None:
        """Deletes the collection (a re-index starts from scratch)."""
        self.client.drop_collection(self.collection)

    def close(self) -> None:
        self.client.close()


def _unit_rows(x: np.ndarray, dim: int) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    arr = arr[None, :] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"vectors must have shape (N, {dim}); got {np.shape(x)}")
    norms = np.linalg.norm(arr.astype(np.float64), axis=1)
    if not np.all(np.isfinite(norms) & (norms > 0)):
        raise ValueError("cosine search needs non-zero finite vectors")
    return (arr / norms[:, None]).astype(np.float32)
