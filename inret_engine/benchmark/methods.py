"""The pieces each benchmark method is made of: trained encoders, embeddings, latency.

Encoders are cached in ``OUT/encoders/`` under a name that digests everything they
depend on (architecture, functions, training settings, the training shapes), so a rerun
of ``inret benchmark`` trains only what changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from ..device import default_device
from ..encoders.dataset import TrainingSet
from ..encoders.embed import embed_records
from ..encoders.model import INRetModel
from ..encoders.training import TrainProgress, TrainSettings, train
from ..functions import ImplicitFunction
from ..progress import Job, Progress, relay
from ..retrieval.index import EmbeddingIndex
from ..retrieval.retriever import Retriever
from ..store import InrRecord, ShapeINR, Store
from .scoring import Embedded


@dataclasses.dataclass(frozen=True)
class Regularisation:
    """The unified-latent-space switches of one ablation row (paper Tab. 4)."""

    name: str
    unified: bool
    l2_weight: float


NONE = Regularisation("none", unified=False, l2_weight=0.0)
L2_ONLY = Regularisation("l2", unified=False, l2_weight=1.0)
BOTH = Regularisation("both", unified=True, l2_weight=1.0)
ABLATION = (NONE, L2_ONLY, BOTH)


@dataclasses.dataclass
class Latency:
    """Mean per-query time of one method, in milliseconds (batch of one, CPU or CUDA)."""

    embed_ms: float
    search_ms: float
    convert_ms: float = 0.0

    @property
    def query_ms(self) -> float:
        return self.convert_ms + self.embed_ms + self.search_ms

    def to_dict(self) -> dict:
        return {"query_ms": self.query_ms, "convert_ms": self.convert_ms, "embed_ms": self.embed_ms,
                "search_ms": self.search_ms}


def encoder_path(folder: Path, arch: str, functions: Sequence[ImplicitFunction], settings: TrainSettings,
                 train_shapes: Sequence[str]) -> Path:
    """Where the encoder for exactly these inputs is cached."""
    key = json.dumps({"arch": arch, "functions": [f.value for f in functions],
                      "settings": dataclasses.asdict(settings), "shapes": sorted(train_shapes)}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    reg = "both" if settings.unified and settings.l2_weight else "l2" if settings.l2_weight else (
        "unified" if settings.unified else "none")
    return folder / f"{arch}-{'-'.join(f.value for f in functions)}-{reg}-{digest}.enc"


def trained_encoder(store: Store, folder: Path, arch: str, functions: Sequence[ImplicitFunction],
                    settings: TrainSettings, *, device: torch.device | None = None
                    ) -> Job[INRetModel]:
    """Train (or load from the cache) the encoders of ``arch``: a job that returns the model."""
    data = TrainingSet.from_store(store, arch, functions, split="train")
    path = encoder_path(folder, arch, functions, settings, data.shape_ids)
    label = f"{arch} {'/'.join(f.value for f in functions)} ({path.stem.split('-')[-2]})"
    if path.is_file():
        yield Progress("encoders", settings.steps, settings.steps, f"{label}: cached")
        return INRetModel.load(path)
    job = train(data, arch, settings, device=device or default_device(), report_every=25)
    def tagged(p: Progress) -> Progress:
        loss = f", loss {p.loss:.4f}" if isinstance(p, TrainProgress) else ""
        return Progress("encoders", p.done, p.total, f"{label} on {len(data)} shapes{loss}")

    model = yield from relay(job, tagged)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return INRetModel.load(path)


def embed(store: Store, model: INRetModel, records: Sequence[InrRecord], *,
          device: torch.device | None = None) -> Embedded:
    """Embeddings of ``records`` (in order) with their labels."""
    return Embedded.of_records(embed_records(store, model, records, device=device), records)


Q = TypeVar("Q")


def time_queries(queries: Sequence[Q], database: Embedded, embed_one: Callable[[Q], np.ndarray],
                 n: int) -> Latency:
    """Mean time to embed one query from its file and search an HNSW index of ``database``.

    Args:
        queries: items handed one at a time to ``embed_one`` (the first ``n`` are timed,
            after one untimed warm-up).
        database: what the query searches (an hnswlib index is built over it).
        embed_one: item -> ``(D,)`` embedding, including reading the INR file.
        n: queries timed.
    """
    index = EmbeddingIndex.build(np.arange(len(database)), database.vectors)
    chosen = list(queries)[: max(1, n)]
    embed_one(chosen[0])
    embed_s = search_s = 0.0
    for item in chosen:
        start = time.perf_counter()
        vector = embed_one(item)
        mid = time.perf_counter()
        index.search(vector, 10)
        embed_s += mid - start
        search_s += time.perf_counter() - mid
    return Latency(embed_ms=embed_s * 1000 / len(chosen), search_ms=search_s * 1000 / len(chosen))


def inr_embedder(store: Store, model: INRetModel) -> Callable[[InrRecord | ShapeINR], np.ndarray]:
    """Record (read from its file) or loaded INR -> embedding, one at a time as a user's query is."""
    retriever = Retriever(store, model)

    def embed_one(item: InrRecord | ShapeINR) -> np.ndarray:
        inr = store.load(item) if isinstance(item, InrRecord) else item
        return retriever.embed_inr(inr)
    return embed_one
