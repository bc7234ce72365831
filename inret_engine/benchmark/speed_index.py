"""Speed of the embedding index: build time, search latency and hnsw recall on synthetic clustered embeddings.

The data imitate a store of INR embeddings: unit vectors scattered around ``clusters``
random directions (categories). Queries are fresh draws from the same clusters, searched one
at a time as the browser does. Recall@k compares the hnsw results with the exact search.
(``inret bench index`` prints it.)
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..retrieval.index import EmbeddingIndex, hnsw_available
from .synthetic import clustered_unit_vectors

Log = Callable[[str], None]


@dataclass(frozen=True)
class IndexBenchSettings:
    """What ``measure_index`` builds and times."""

    n: int = 100_000
    """Embeddings in the index."""
    dim: int = 1024
    """Embedding length."""
    queries: int = 200
    """Single-query searches timed."""
    k: int = 10
    clusters: int = 100
    """Synthetic categories."""
    latent: int = 16
    """Directions each cluster varies along (higher is harder for hnsw)."""
    ef_search: int = 64
    """hnsw ef at query time."""
    threads: int = 1
    """hnsw insertion threads (1 = reproducible graph)."""
    io: bool = False
    """Also time save and load in a temporary folder."""
    seed: int = 0


def latency_ms(fn: Callable[[int, np.ndarray], object], queries: np.ndarray) -> np.ndarray:
    """Milliseconds of ``fn(i, query)`` for each of ``queries`` (Q, D), one at a time, after one warm-up call.

    >>> latency_ms(lambda i, q: None, np.zeros((3, 2))).shape
    (3,)
    """
    fn(0, queries[0])
    times = np.empty(len(queries))
    for i, q in enumerate(queries):
        start = time.perf_counter()
        fn(i, q)
        times[i] = time.perf_counter() - start
    return times * 1e3


def _summary(ms: np.ndarray) -> dict:
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def _latencies(index: EmbeddingIndex, queries: np.ndarray, k: int, rng: np.random.Generator, log: Log) -> list[dict]:
    """Single-query latency of plain, excluding, filtered and exact searches."""
    n = len(index)
    own = [rng.choice(n, 3, replace=False).tolist() for _ in range(len(queries))]  # a shape's three INRs
    one_function = (np.arange(n) % 3) == 0  # one implicit function of three
    cases: list[tuple[str, Callable[[int, np.ndarray], object]]] = [
        (f"{index.backend} top-{k}", lambda i, q: index.search(q, k)),
        (f"{index.backend} top-{k}, exclude 3", lambda i, q: index.search(q, k, exclude=own[i])),
        (f"{index.backend} top-{k}, 1/3 allowed", lambda i, q: index.search(q, k, allowed=one_function)),
        (f"exact top-{k}", lambda i, q: index.search(q, k, exact=True))]
    rows = []
    log(f"  {'search (one query at a time)':<34}{'med ms':>9}{'p95 ms':>9}")
    for name, fn in cases:
        rows.append({"search": name, **_summary(latency_ms(fn, queries))})
        log(f"  {name:<34}{rows[-1]['median_ms']:>9.3f}{rows[-1]['p95_ms']:>9.3f}")
    return rows


def _ef_sweep(index: EmbeddingIndex, queries: np.ndarray, k: int, efs: list[int], log: Log) -> list[dict]:
    """Recall@k of hnsw against the exact search, and hnsw latency, for each ``ef_search``."""
    truth = index.search_many(queries, k, exact=True)
    default, sweep = index.ef_search, []
    for ef in efs:
        index.ef_search = ef
        found = index.search_many(queries, k)
        recall = float(np.mean([len(set(a.ids.tolist()) & set(b.ids.tolist())) / k for a, b in zip(found, truth)]))
        ms = latency_ms(lambda i, q: index.search(q, k), queries)
        sweep.append({"ef_search": ef, f"recall@{k}": recall, **_summary(ms)})
        log(f"ef_search {ef:>4}: recall@{k} vs exact {recall:.4f}, hnsw top-{k} median {np.median(ms):.3f} ms, "
            f"p95 {np.percentile(ms, 95):.3f} ms")
    index.ef_search = default
    return sweep


def measure_index(s: IndexBenchSettings, log: Log = print) -> dict:
    """Build an index of ``s.n`` synthetic embeddings and time its searches; returns the report (JSON-ready)."""
    if not hnsw_available():
        log("hnswlib is not installed: only the exact search can be measured")
    rng = np.random.default_rng(s.seed)
    start = time.perf_counter()
    data, _ = clustered_unit_vectors(s.n + s.queries, s.dim, s.clusters, rng, latent=s.latent)
    queries = data[s.n:].copy()  # held-out draws from the same clusters
    data = data[: s.n]
    log(f"{s.n} x {s.dim} float32 embeddings in {s.clusters} clusters ({s.latent}-d each) generated "
        f"in {time.perf_counter() - start:.1f} s; {s.queries} queries, k={s.k}, ef_search={s.ef_search}, "
        f"insertion threads {s.threads}")
    start = time.perf_counter()
    index = EmbeddingIndex.build(np.arange(s.n), data, ef_search=s.ef_search, threads=s.threads)
    build_s = time.perf_counter() - start
    del data
    log(f"built ({index.backend}) in {build_s:.1f} s")
    rows = _latencies(index, queries, s.k, rng, log)
    efs = sorted({s.ef_search, 2 * s.ef_search, 4 * s.ef_search})
    sweep = _ef_sweep(index, queries, s.k, efs, log) if index.backend == "hnsw" else []
    report = {"benchmark": "index", "machine": platform.processor() or platform.machine(), "n": s.n,
              "dim": s.dim, "clusters": s.clusters, "latent": s.latent, "queries": s.queries,
              "k": s.k, "backend": index.backend, "ef_construction": index.ef_construction, "M": index.M,
              "ef_search": index.ef_search, "insertion_threads": s.threads, "build_seconds": build_s,
              f"recall@{s.k}": sweep[0][f"recall@{s.k}"] if sweep else None, "search": rows,
              "ef_sweep": sweep}
    if s.io:
        report.update(_time_io(index, log))
    return report


def _time_io(index: EmbeddingIndex, log: Log) -> dict:
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
    log(f"save {save_s:.1f} s, load (with checksums) {load_s:.1f} s, {size / 2**20:.0f} MiB on disk")
    return {"save_seconds": save_s, "load_seconds": load_s, "bytes_on_disk": size}
