"""Embedding a store's new INRs on Ray workers; the driver adds them to the index and saves.

:func:`ray_embedder` returns an :data:`~inret_engine.retrieval.retriever.Embedder` for
:meth:`Retriever.update <inret_engine.retrieval.retriever.Retriever.update>`. The driver reads and
validates each chunk's INR files (checksums against the catalog) and sends the loaded
INRs; the model goes to the cluster once. Workers need no access to the store's folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..encoders.embed import embed_records
from ..encoders.model import INRetModel
from ..store import InrRecord, ShapeINR, Store
from .cluster import connect, gpus_per_task

__all__ = ["embed_task", "ray_embedder"]


class _Loaded:
    """Stands in for the store on a worker: ``load(record)`` returns the INR the driver sent."""

    def __init__(self, inrs: dict[int, ShapeINR]) -> None:
        self._inrs = inrs

    def load(self, record: InrRecord) -> ShapeINR:
        return self._inrs[record.id]


def embed_task(model: INRetModel, records: list[InrRecord], inrs: list[ShapeINR], threads: int) -> np.ndarray:
    """What a worker runs: :func:`~inret_engine.encoders.embed.embed_records` of one chunk
    (CUDA when the worker has a GPU).

    ``threads`` sets torch's intra-op threads for the whole worker process, on purpose: a
    Ray worker process runs one task at a time, and this task is all it does.
    """
    import torch

    torch.set_num_threads(max(1, int(threads)))
    return embed_records(_Loaded({r.id: inr for r, inr in zip(records, inrs)}), model, records)


def ray_embedder(address: str | None = None, *, workers: int | None = None, threads: int = 1,
                 in_flight: int | None = None, max_retries: int = 3):
    """An embedder that sends each chunk to a Ray worker; arguments as
    :func:`~inret_engine.scale.fitting.ray_fitter`."""

    def run(store: Store, model: INRetModel, chunks: list[list[InrRecord]]) -> Iterator[np.ndarray]:
        if not chunks:
            return
        ray = connect(address, num_cpus=workers)
        remote = ray.remote(embed_task).options(num_cpus=1, num_gpus=gpus_per_task(ray), max_retries=max_retries)
        model_ref = ray.put(model.cpu())
        window = in_flight or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending: dict[int, Any] = {}
        submitted = 0
        try:
            for j in range(len(chunks)):
                while submitted < len(chunks) and submitted - j < window:
                    chunk = chunks[submitted]
                    pending[submitted] = remote.remote(model_ref, chunk, [store.load(r) for r in chunk], threads)
                    submitted += 1
                yield ray.get(pending.pop(j))
        finally:
            for ref in pending.values():
                ray.cancel(ref, force=True)

    return run
