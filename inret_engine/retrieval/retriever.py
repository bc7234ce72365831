"""Retrieval over a store: cached embeddings, a persisted index, and queries.

A :class:`Retriever` pairs a store with one trained model. Embeddings of every INR the
model can encode are cached in ``STORE/cache/emb-<model checksum>/`` beside an hnswlib
index; new INRs are embedded and added incrementally. Models live in ``STORE/models/``
(copied there by :meth:`Retriever.install`), so a store carries what it needs; a store
with none uses the shipped shared model (one model, one index for every INR).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from ..encoders.dataset import encoder_inputs
from ..encoders.embed import embed_records, embeddable
from ..encoders.model import INRetModel, ModelSpec
from ..encoders.pretrained import pretrained_path
from ..errors import EncoderFileError, UsageError
from ..functions import ImplicitFunction
from ..progress import Job, Progress
from ..store import InrRecord, ShapeINR, Store
from ..store.atomic import atomic_path
from .index import EmbeddingIndex

MODELS = "models"


@dataclasses.dataclass(frozen=True)
class Hit:
    record: InrRecord
    score: float


@dataclasses.dataclass
class QueryResult:
    hits: list[Hit]
    embed_ms: float
    search_ms: float


Embedder = Callable[[Store, INRetModel, list[list[InrRecord]]], Iterator[np.ndarray]]


def local_embedder(store: Store, model: INRetModel, chunks: list[list[InrRecord]]) -> Iterator[np.ndarray]:
    """``(len(chunk), embed_dim)`` embeddings of each chunk in turn, in this process."""
    for chunk in chunks:
        yield embed_records(store, model, chunk)


class Retriever:
    def __init__(self, store: Store, model: INRetModel):
        if model.checksum is None:
            raise ValueError("the model has no checksum: save or load it from a file first")
        self.store = store
        self.model = model
        self.cache = store.cache_dir / f"emb-{model.checksum[:16]}"
        self.index: EmbeddingIndex | None = None
        self._rows: dict[int, InrRecord] | None = None
        self._label_cache: tuple[np.ndarray, ...] | None = None

    # --- models in a store ------------------------------------------------------------
    @staticmethod
    def install(store: Store, model_path: Path) -> Path:
        """Copy a model file into ``STORE/models/<arch>-<checksum>.enc``; returns the path."""
        store.require_writable("install an encoder into it")
        model = INRetModel.load(model_path)
        assert model.checksum is not None, "a loaded model knows its checksum"
        dest = store.root / MODELS / f"{model.spec.arch}-{model.checksum[:12]}.enc"
        dest.parent.mkdir(exist_ok=True)
        if not dest.exists():
            with atomic_path(dest) as tmp:
                shutil.copyfile(model_path, tmp)
        return dest

    @staticmethod
    def model_files(store: Store) -> list[Path]:
        """The store's own model files (``STORE/models/*.enc``), then the shipped shared model.

        The shipped model is left out when the store has a shared model of its own (one
        fine-tuned on its labels, say); beside per-architecture models it serves the INRs
        they do not know. A header that cannot be read counts as not shared.
        """
        folder = store.root / MODELS
        own = sorted(folder.glob("*.enc")) if folder.is_dir() else []
        shipped = pretrained_path()
        if shipped is None or any(_reads_field(p) for p in own):
            return own
        return own + [shipped]

    @classmethod
    def installed(cls, store: Store) -> list[INRetModel]:
        return [INRetModel.load(p) for p in cls.model_files(store)]

    @classmethod
    def installed_specs(cls, store: Store) -> list[ModelSpec]:
        """The specs of :meth:`installed` models, read from the file headers (no weights)."""
        return [INRetModel.read_spec(p) for p in cls.model_files(store)]

    # --- embeddings -------------------------------------------------------------------
    def records(self) -> list[InrRecord]:
        return list(self.rows().values())

    def rows(self) -> dict[int, InrRecord]:
        """Catalog rows this model encodes, by id (cached; :meth:`update` refreshes it)."""
        if self._rows is None:
            self._rows = {r.id: r for r in self.store.records() if embeddable(self.model, r)}
        return self._rows

    def update(self, embedder: Embedder | None = None) -> Job[EmbeddingIndex]:
        """Embed every INR not in the cache yet, add it to the index and save both: a job
        that yields ``embedding`` progress and returns the index.

        ``embedder`` embeds the chunks (default :func:`local_embedder`; the ``scale`` extra's
        sends them to Ray workers); this process alone adds and saves, in chunk order.
        """
        self._rows = None
        self._label_cache = None
        index = self.load_index()
        have = set(index.ids.tolist()) if index is not None else set()
        todo = [r for r in self.records() if r.id not in have]
        yield Progress("embedding", 0, len(todo))
        if index is None:
            index = EmbeddingIndex(self.model.spec.embed_dim)
        chunks, done = [todo[start:start + 64] for start in range(0, len(todo), 64)], 0
        for chunk, vectors in zip(chunks, (embedder or local_embedder)(self.store, self.model, chunks)):
            index.add(np.array([r.id for r in chunk], dtype=np.int64), vectors)
            done += len(chunk)
            yield Progress("embedding", done, len(todo))
        if todo or not (self.cache / "index.json").is_file():
            index.save(self.cache)
        self.index = index
        return index

    def load_index(self) -> EmbeddingIndex | None:
        if self.index is None and (self.cache / "index.json").is_file():
            self.index = EmbeddingIndex.load(self.cache)
        return self.index

    def ready_index(self) -> EmbeddingIndex:
        index = self.load_index()
        if index is None:
            raise UsageError(f"{self.store.root} has no embeddings for this model yet; run inret embed")
        return index

    def _labels(self, index: EmbeddingIndex) -> tuple[np.ndarray, ...]:
        """Function, category and shape of every indexed id, aligned with ``index.ids``.

        Cached per index size, so a query filters with array comparisons instead of a
        Python pass over the catalog.
        """
        if self._label_cache is None or len(self._label_cache[0]) != len(index):
            rows = self.rows()
            ids = index.ids
            recs = [rows.get(int(i)) for i in ids]
            self._label_cache = (ids, *(np.array([getattr(r, f, "") if r else "" for r in recs], dtype=object)
                                        for f in ("function", "category", "shape_id")))
        return self._label_cache

    @torch.no_grad()
    def embed_inr(self, inr: ShapeINR) -> np.ndarray:
        """Embedding of an INR that is not (necessarily) in the store: ``(embed_dim,)``."""
        if not self.model.spec.accepts(inr.config.config_id, inr.function.value):
            raise UsageError(f"this model encodes {self.model.spec.config_id} INRs, not "
                             f"{inr.config.config_id}; distill the INR first")
        inputs = encoder_inputs(inr.to_field(), inr.function, resolution=self.model.spec.resolution,
                                probe=self.model.spec.reads_field)
        return self.model.embed(inr.function, inputs.neurons, inputs.grid)[0].numpy()

    # --- queries ----------------------------------------------------------------------
    def query_vector(self, query: InrRecord | ShapeINR, *, function: str = "same",
                     exclude_shape: str | None = None) -> tuple[np.ndarray, str | None, str | None, float]:
        """What a query asks, whatever index answers it: ``(vector, function wanted or None for
        any, shape id to leave out, milliseconds spent embedding)``.

        A catalog row's embedding comes from the index (embedded now if missing) and its own
        shape is left out unless ``exclude_shape`` says otherwise; a loaded INR is embedded now.
        """
        start = time.perf_counter()
        if isinstance(query, InrRecord):
            vector = self.ready_index().vector(query.id)
            vector = self.embed_inr(self.store.load(query)) if vector is None else vector
            exclude_shape = query.shape_id if exclude_shape is None else exclude_shape
            query_function = query.function
        else:
            vector = self.embed_inr(query)
            query_function = query.function.value
        embed_ms = (time.perf_counter() - start) * 1000
        wanted = None if function == "any" else (query_function if function == "same"
                                                 else ImplicitFunction.parse(function).value)
        return vector, wanted, exclude_shape, embed_ms

    def query(self, query: InrRecord | ShapeINR, k: int = 10, *, function: str = "same",
              exclude_shape: str | None = None, category: str | None = None) -> QueryResult:
        """Top-``k`` INRs most similar to ``query``.

        Args:
            query: a catalog row (embedding from the cache) or a loaded INR (embedded now).
            k: results wanted.
            function: ``"same"`` (the query's own function), ``"any"``, or ``"sdf"/"udf"/"occ"``.
            exclude_shape: leave out INRs of this shape id (a row's own shape by default).
            category: keep only this category.
        """
        index = self.ready_index()
        vector, wanted, exclude_shape, embed_ms = self.query_vector(query, function=function,
                                                                    exclude_shape=exclude_shape)
        rows = self.rows()
        _, fns, cats, shapes = self._labels(index)
        allowed = shapes != exclude_shape
        if wanted is not None:
            allowed &= fns == wanted
        if category is not None:
            allowed &= cats == category
        start = time.perf_counter()
        result = index.search_one(vector, k, allowed=allowed)
        search_ms = (time.perf_counter() - start) * 1000
        hits = [Hit(rows[int(i)], float(s)) for i, s in zip(result.ids, result.scores) if int(i) in rows]
        return QueryResult(hits, embed_ms, search_ms)


def _reads_field(path: Path) -> bool:
    try:
        return INRetModel.read_spec(path).reads_field
    except EncoderFileError:
        return False
