"""``inret bench index``: build time, search latency and hnsw recall on synthetic clustered embeddings.

The data imitate a store of INR embeddings: unit vectors scattered around ``--clusters``
random directions (categories). Queries are fresh draws from the same clusters, searched one
at a time as the browser does. Recall@k compares the hnsw results with the exact search.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..benchmark.synthetic import clustered_unit_vectors
from ..retrieval.index import EmbeddingIndex, hnsw_available


def add_index_bench(bsub) -> None:
    p = bsub.add_parser("index", help="embedding index: build time, search latency, hnsw recall (synthetic data)")
    p.add_argument("--n", type=int, default=100_000, help="embeddings in the index (default 100000)")
    p.add_argument("--dim", type=int, default=1024, help="embedding length (default 1024)")
    p.add_argument("--queries", type=int, default=200, help="single-query searches timed (default 200)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--clusters", type=int, default=100, help="synthetic categories (default 100)")
    p.add_argument("--latent", type=int, default=16,
                   help="directions each cluster varies along (default 16; higher is harder for hnsw)")
    p.add_argument("--ef-search", type=int, default=64, help="hnsw ef at query time (default 64)")
    p.add_argument("--threads", type=int, default=1, help="hnsw insertion threads (1 = reproducible graph)")
    p.add_argument("--io", action="store_true", help="also time save and load in a temporary folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the figures here")
    p.set_defaults(run=run_index)


def _latency_ms(fn, queries: np.ndarray) -> np.ndarray:
    """Milliseconds of ``fn(i, query)`` for each query, one at a time, after one warm-up call."""
    fn(0, queries[0])
    times = np.empty(len(queries))
    for i, q in enumerate(queries):
        start = time.perf_counter()
        fn(i, q)
        times[i] = time.perf_counter() - start
    return times * 1e3


def _summary(ms: np.ndarray) -> dict:
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def _latencies(index: EmbeddingIndex, queries: np.ndarray, k: int, rng: np.random.Generator) -> list[dict]:
    """Single-query latency of plain, excluding, filtered and exact searches."""
    n = len(index)
    own = [rng.choice(n, 3, replace=False).tolist() for _ in range(len(queries))]  # a shape's three INRs
    one_function = (np.arange(n) % 3) == 0  # one implicit function of three
    cases = [(f"{index.backend} top-{k}", lambda i, q: index.search(q, k)),
             (f"{index.backend} top-{k}, exclude 3", lambda i, q: index.search(q, k, exclude=own[i])),
             (f"{index.backend} top-{k}, 1/3 allowed", lambda i, q: index.search(q, k, allowed=one_function)),
             (f"exact top-{k}", lambda i, q: index.search(q, k, exact=True))]
    rows = []
    print(f"  {'search (one query at a time)':<34}{'med ms':>9}{'p95 ms':>9}")
    for name, fn in cases:
        rows.append({"search": name, **_summary(_latency_ms(fn, queries))})
        print(f"  {name:<34}{rows[-1]['median_ms']:>9.3f}{rows[-1]['p95_ms']:>9.3f}", flush=True)
    return rows


def _ef_sweep(index: EmbeddingIndex, queries: np.ndarray, k: int, efs: list[int]) -> list[dict]:
    """Recall@k of hnsw against the exact search, and hnsw latency, for each ``ef_search``."""
    truth = index.search(queries, k, exact=True)
    default, sweep = index.ef_search, []
    for ef in efs:
        index.ef_search = ef
        found = index.search(queries, k)
        recall = float(np.mean([len(set(a.ids.tolist()) & set(b.ids.tolist())) / k for a, b in zip(found, truth)]))
        ms = _latency_ms(lambda i, q: index.search(q, k), queries)
        sweep.append({"ef_search": ef, f"recall@{k}": recall, **_summary(ms)})
        print(f"ef_search {ef:>4}: recall@{k} vs exact {recall:.4f}, hnsw top-{k} median {np.median(ms):.3f} ms, "
              f"p95 {np.percentile(ms, 95):.3f} ms", flush=True)
    index.ef_search = default
    return sweep


def run_index(args: argparse.Namespace) -> int:
    if not hnsw_available():
        print("hnswlib is not installed: only the exact search can be measured")
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    data, _ = clustered_unit_vectors(args.n + args.queries, args.dim, args.clusters, rng, latent=args.latent)
    queries = data[args.n:].copy()  # held-out draws from the same clusters
    data = data[: args.n]
    print(f"{args.n} x {args.dim} float32 embeddings in {args.clusters} clusters ({args.latent}-d each) generated "
          f"in {time.perf_counter() - start:.1f} s; {args.queries} queries, k={args.k}, ef_search={args.ef_search}, "
          f"insertion threads {args.threads}", flush=True)
    start = time.perf_counter()
    index = EmbeddingIndex.build(np.arange(args.n), data, ef_search=args.ef_search, threads=args.threads)
    build_s = time.perf_counter() - start
    del data
    print(f"built ({index.backend}) in {build_s:.1f} s", flush=True)
    rows = _latencies(index, queries, args.k, rng)
    efs = sorted({args.ef_search, 2 * args.ef_search, 4 * args.ef_search})
    sweep = _ef_sweep(index, queries, args.k, efs) if index.backend == "hnsw" else []
    report = {"benchmark": "index", "machine": platform.processor() or platform.machine(), "n": args.n,
              "dim": args.dim, "clusters": args.clusters, "latent": args.latent, "queries": args.queries,
              "k": args.k, "backend": index.backend, "ef_construction": index.ef_construction, "M": index.M,
              "ef_search": index.ef_search, "insertion_threads": args.threads, "build_seconds": build_s,
              f"recall@{args.k}": sweep[0][f"recall@{args.k}"] if sweep else None, "search": rows,
              "ef_sweep": sweep}
    if args.io:
        report.update(_time_io(index))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def _time_io(index: EmbeddingIndex) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="inret-bench-index-"))
    try:
        start = time.perf_counter()
        index.save(folder)
        save_s = time.perf_counter() - start
        size = sum(p.stat().st_size for p in folder.iterdir())
        start = time.perf_counter()
        EmbeddingIndex.load(folder)
        load_s = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"save {save_s:.1f} s, load (with checksums) {load_s:.1f} s, {size / 2**20:.0f} MiB on disk")
    return {"save_seconds": save_s, "load_seconds": load_s, "bytes_on_disk": size}
