"""What one query costs, per architecture and function, with a store's model (``inret bench query`` prints it).

A query as a user makes it: read the ``.inr`` file, build the INR, probe or sample it,
embed it, search the store's HNSW index for 10 neighbours. Each part is timed on its
own, ``queries`` INRs per (architecture, function), after one untimed warm-up.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..encoders.dataset import encoder_inputs
from ..errors import UsageError
from ..model_set import ModelSet
from ..retrieval.index import EmbeddingIndex
from ..retrieval.retriever import Retriever
from ..store import Store
from ..store.catalog import InrRecord


def measure_query(store_path: str | Path, queries: int = 20, threads: int = 1,
                  log: Callable[[str], None] = print) -> dict:
    """Mean read / probe / embed / search milliseconds per (architecture, function); returns the report.

    Args:
        store_path: a store with an installed, embedded model.
        queries: INRs timed per architecture and function.
        threads: torch threads (1: a GUI query's budget).
        log: where the table's lines go.

    Raises:
        UsageError: the store has no model, or none embeds its INRs.
    """
    torch.set_num_threads(threads)
    rows = []
    with Store.open(Path(store_path)) as store:
        files = Retriever.model_files(store)
        if not files:
            raise UsageError(f"{store_path} has no model and no shipped one was found")
        retriever = ModelSet.load(store).for_record(store.records()[0])
        if retriever is None:
            raise UsageError(f"no model of {store_path} embeds its INRs; run inret embed --encoder")
        for _ in retriever.update():
            pass
        index = retriever.ready_index()
        log(f"model {files[0].name}, {len(index)} INRs indexed, torch threads {threads}")
        log(f"{'arch':<10}{'function':<9}{'read':>7}{'probe':>8}{'embed':>8}{'search':>8}{'total ms':>10}")
        groups = sorted({(r.arch, r.function) for r in retriever.records()})
        for arch, function in groups:
            recs = [r for r in retriever.records() if r.arch == arch and r.function == function][: queries + 1]
            times = np.array([_time_one(store, retriever, index, r) for r in recs])[1:]  # first: warm-up
            if not len(times):
                continue
            mean = times.mean(0)
            row = {"arch": arch, "function": function, "queries": len(times), "read_ms": mean[0],
                   "probe_ms": mean[1], "embed_ms": mean[2], "search_ms": mean[3], "total_ms": mean.sum(),
                   "p95_total_ms": float(np.percentile(times.sum(1), 95))}
            rows.append(row)
            log(f"{arch:<10}{function:<9}{mean[0]:>7.1f}{mean[1]:>8.1f}{mean[2]:>8.1f}{mean[3]:>8.2f}"
                f"{mean.sum():>10.1f}")
    return {"benchmark": "query", "model": files[0].name, "machine": platform.processor() or platform.machine(),
            "torch_threads": threads, "results": rows}


@torch.no_grad()
def _time_one(store: Store, retriever: Retriever, index: EmbeddingIndex, record: InrRecord) -> list[float]:
    """``[read, probe, embed, search]`` milliseconds of one query."""
    model = retriever.model
    t0 = time.perf_counter()
    inr = store.load(record)
    field = inr.to_field()
    t1 = time.perf_counter()
    inputs = encoder_inputs(field, inr.function, resolution=model.spec.resolution, probe=model.spec.reads_field)
    t2 = time.perf_counter()
    vector = model.embed(inr.function, inputs.neurons, inputs.grid)[0].numpy()
    t3 = time.perf_counter()
    index.search(vector, 10)
    t4 = time.perf_counter()
    return [1000 * (t1 - t0), 1000 * (t2 - t1), 1000 * (t3 - t2), 1000 * (t4 - t3)]
