"""``inret bench query``: what one query costs, per architecture and function, with a store's model.

A query as a user makes it: read the ``.inr`` file, build the INR, probe or sample it,
embed it, search the store's HNSW index for 10 neighbours. Each part is timed on its
own, ``--queries`` INRs per (architecture, function), after one untimed warm-up.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ..encoders.dataset import encoder_inputs
from ..errors import UsageError
from ..retrieval.retriever import Retriever
from ..store import Store


def add_query_bench(bsub) -> None:
    q = bsub.add_parser("query", help="query latency per architecture: read, probe / sample, embed, search")
    q.add_argument("store")
    q.add_argument("--queries", type=int, default=20, help="INRs timed per architecture and function")
    q.add_argument("--threads", type=int, default=1, help="torch threads (default 1: a GUI query's budget)")
    q.add_argument("--json", default=None, help="write the figures here")
    q.set_defaults(run=run_query_bench)


def run_query_bench(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    rows = []
    with Store.open(args.store) as store:
        files = Retriever.model_files(store)
        if not files:
            raise UsageError(f"{args.store} has no model and no shipped one was found")
        retriever = Retriever.for_record(store, store.records()[0])
        for _ in retriever.update():
            pass
        index = retriever.ready_index()
        print(f"model {files[0].name}, {len(index)} INRs indexed, torch threads {args.threads}")
        print(f"{'arch':<10}{'function':<9}{'read':>7}{'probe':>8}{'embed':>8}{'search':>8}{'total ms':>10}")
        groups = sorted({(r.arch, r.function) for r in retriever.records()})
        for arch, function in groups:
            recs = [r for r in retriever.records() if r.arch == arch and r.function == function][: args.queries + 1]
            times = np.array([_time_one(store, retriever, index, r) for r in recs])[1:]  # first: warm-up
            if not len(times):
                continue
            mean = times.mean(0)
            row = {"arch": arch, "function": function, "queries": len(times), "read_ms": mean[0],
                   "probe_ms": mean[1], "embed_ms": mean[2], "search_ms": mean[3], "total_ms": mean.sum(),
                   "p95_total_ms": float(np.percentile(times.sum(1), 95))}
            rows.append(row)
            print(f"{arch:<10}{function:<9}{mean[0]:>7.1f}{mean[1]:>8.1f}{mean[2]:>8.1f}{mean[3]:>8.2f}"
                  f"{mean.sum():>10.1f}", flush=True)
    report = {"benchmark": "query", "model": files[0].name, "machine": platform.processor() or platform.machine(),
              "torch_threads": args.threads, "results": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


@torch.no_grad()
def _time_one(store: Store, retriever: Retriever, index, record) -> list[float]:
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
