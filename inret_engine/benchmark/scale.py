"""``inret bench scale``: what fitting, embedding and indexing cost per item, locally and on Ray.

Three parts, each optional:

- **fit**: demo shapes fitted into a store (one architecture, one function) by the plain
  local build, the local build on one torch thread, and Ray clusters of 1 and 2 workers
  (or the cluster at an address); INRs per second, and whether the Ray stores are
  byte-identical to the one-thread local build.
- **embed**: the INRs just fitted, embedded with the shipped shared model in this process
  and on the same Ray clusters; INRs per second.
- **index**: synthetic clustered 1024-d unit vectors at each size; build time, single-query
  search latency (p50 / p95) and recall@k against the exact top-k, for the hnswlib
  backend and Milvus Lite. A size that does not fit in the free memory is skipped, with
  the figures that said so.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..build import BuildOptions, build_store, resolve_sources
from ..encoders.model import INRetModel
from ..encoders.pretrained import pretrained_path
from ..functions import ImplicitFunction
from ..progress import run_to_end
from ..retrieval.index import EmbeddingIndex, IndexFilter
from ..retrieval.retriever import Retriever
from ..store import Store
from .synthetic import clustered_unit_vectors

__all__ = ["ScaleSettings", "run_scale"]

Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class ScaleSettings:
    """What ``inret bench scale`` measures; mirrors its flags."""

    fit_shapes: int = 16  # demo shapes fitted per variant
    fit_batch: int = 4  # INRs per batch (a batch is one Ray task)
    arch: str = "hash"
    function: str = "sdf"
    steps: int | None = None  # fitting steps (None: the architecture's default)
    ray_address: str | None = None  # an existing cluster instead of local clusters
    ray_workers: tuple[int, ...] = (1, 2)  # local cluster sizes measured (none: no Ray variants)
    index_sizes: tuple[int, ...] = (100_000, 1_000_000)
    dim: int = 1024
    queries: int = 200
    k: int = 10
    clusters: int = 100
    ef_search: int = 64
    index_threads: int = 2  # hnswlib insertion threads
    backends: tuple[str, ...] = ("hnsw", "milvus")
    parts: tuple[str, ...] = ("fit", "embed", "index")
    seed: int = 0


def run_scale(settings: ScaleSettings, log: Log = print, save: Callable[[dict], None] | None = None) -> dict:
    """Runs the parts of ``settings``; returns the report (JSON-safe). ``save`` gets the
    report so far after each part and each index size (a long run keeps what it measured)."""
    report: dict[str, Any] = {"benchmark": "scale", "settings": dataclasses.asdict(settings), "machine": _machine()}
    save = save or (lambda _: None)
    work = Path(tempfile.mkdtemp(prefix="inret-bench-scale-"))
    try:
        if "fit" in settings.parts or "embed" in settings.parts:
            report.update(_fit_and_embed(settings, work, log))
            save(report)
        if "index" in settings.parts:
            report["index"] = []

            def emit(row: dict) -> None:
                report["index"].append(row)
                save(report)

            for n in settings.index_sizes:
                _index_size(settings, n, work, log, emit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    save(report)
    return report


def _machine() -> dict:
    versions = {}
    for name in ("ray", "pymilvus", "milvus_lite", "hnswlib"):
        try:
            versions[name] = getattr(__import__(name), "__version__", "?")
        except ImportError:
            versions[name] = None
    return {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "memory_gib": round(_meminfo("MemTotal") / 2**30, 1), "load_average_at_start": os.getloadavg(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(), **versions}


def _meminfo(key: str) -> int:
    """Bytes of a /proc/meminfo entry (0 where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --- fitting and embedding ----------------------------------------------------------------

def _fit_and_embed(settings: ScaleSettings, work: Path, log: Log) -> dict:
    n = settings.fit_shapes
    sources = resolve_sources("demo", per_category=-(-n // 8))
    sources = sorted(sources, key=lambda s: (int(s.name.rsplit("_", 1)[1]), s.category))[:n]
    options = BuildOptions(archs=(settings.arch,), functions=(ImplicitFunction.parse(settings.function),),
                           steps=settings.steps, batch=settings.fit_batch, seed=settings.seed, device="cpu")
    base = work / "ground-truth"
    start = time.perf_counter()
    with Store.create(base) as store:
        for _ in build_store(store, sources, dataclasses.replace(options, functions=())):
            pass
    gt_s = (time.perf_counter() - start) / n
    log(f"{n} demo shapes, ground truth {gt_s:.2f} s/shape; fitting {settings.arch} {settings.function}, "
        f"batches of {settings.fit_batch}")
    fits, embeds, hashes = [], [], {}
    model_path = pretrained_path()
    model = INRetModel.load(model_path) if model_path is not None and "embed" in settings.parts else None
    _warm_up(settings, base, work, sources[:2], options, model)
    threads = torch.get_num_threads()  # process-wide, on purpose: this run compares thread counts, one at a time
    for name, one_thread in ((f"local, {threads} torch threads", False), ("local, 1 torch thread", True)):
        if one_thread:
            torch.set_num_threads(1)
        try:
            fits.append(_timed_build(name, base, work, sources, options, None, log))
            hashes[name] = _store_hash(work / name)
            if model is not None:
                embeds.append(_timed_embed(name, work / name, model, None, log))
        finally:
            torch.set_num_threads(threads)
    for workers in ((None,) if settings.ray_address else settings.ray_workers):
        ray_rows = _ray_variant(settings, workers, base, work, sources, options, model, log)
        if ray_rows is None:
            break
        fit_row, embed_row, digest = ray_rows
        fit_row["identical_to_local_1_thread"] = digest == hashes["local, 1 torch thread"]
        fits.append(fit_row)
        if embed_row is not None:
            embeds.append(embed_row)
    out = {"fit": {"gt_seconds_per_shape": gt_s, "arch": settings.arch, "function": settings.function,
                   **_driver_costs(work / "local, 1 torch thread", work / "driver-costs", log), "variants": fits}}
    if model is not None and model_path is not None:
        out["embed"] = {"model": model_path.name, "variants": embeds}
    return out


def _driver_costs(source: Path, root: Path, log: Log) -> dict:
    """Seconds per INR of what only the driver does: read and check an INR file (before
    sending it to an embedding worker) and write one with its catalog row (after a fit)."""
    with Store.open(source) as src, Store.create(root) as dst:
        records = src.records()
        start = time.perf_counter()
        inrs = [src.load(r) for r in records]
        read = (time.perf_counter() - start) / len(records)
        shapes = {s.shape_id: s for s in src.catalog.shapes()}
        for shape in shapes.values():
            dst.catalog.add_shape(shape)
        start = time.perf_counter()
        for rec, inr in zip(records, inrs):
            dst.add_inr(inr, shape=shapes[rec.shape_id], chamfer=rec.chamfer, iou=rec.iou, fit_seconds=rec.fit_seconds)
        write = (time.perf_counter() - start) / len(records)
    log(f"  driver: read + check {read * 1e3:.1f} ms/INR, write file + row {write * 1e3:.1f} ms/INR")
    return {"driver_read_seconds_per_inr": read, "driver_write_seconds_per_inr": write}


def _warm_up(settings, base, work, sources, options, model) -> None:
    """One small fit and embed first, so the first variant does not pay for allocator
    growth, kernel set-up and thread pools alone."""
    root = work / "warm-up"
    shutil.copytree(base, root)
    with Store.open(root) as store:
        for _ in build_store(store, sources, dataclasses.replace(options, steps=5, batch=2)):
            pass
        if model is not None:
            for _ in Retriever(store, model).update():
                pass
    shutil.rmtree(root)


def _ray_variant(settings, workers, base, work, sources, options, model, log):
    """(fit row, embed row, store digest) on a Ray cluster, or None without Ray."""
    from ..scale import ray_available

    if not ray_available():
        log("ray is not installed: the Ray variants are skipped")
        return None
    from ..scale.cluster import connect
    from ..scale.embedding import ray_embedder
    from ..scale.fitting import ray_fitter

    start = time.perf_counter()
    ray = connect(settings.ray_address, num_cpus=workers)
    startup = time.perf_counter() - start
    slots = int(ray.cluster_resources().get("CPU", 0))
    name = f"ray, {slots} worker{'s' if slots != 1 else ''}"
    name += f" at {settings.ray_address}" if settings.ray_address else ""
    try:
        fit_row = _timed_build(name, base, work, sources, options, ray_fitter(settings.ray_address), log)
        fit_row["cluster_start_seconds"] = startup
        digest = _store_hash(work / name)
        embed_row = _timed_embed(name, work / name, model, ray_embedder(settings.ray_address), log) if model else None
    finally:
        ray.shutdown()
    return fit_row, embed_row, digest


def _timed_build(name: str, base: Path, work: Path, sources, options, fitter, log: Log) -> dict:
    root = work / name
    shutil.copytree(base, root)
    with Store.open(root) as store:
        start = time.perf_counter()
        run_to_end(build_store(store, sources, options, fitter=fitter))
        return _rate_row("fit", name, len(store.records()), time.perf_counter() - start, log)


def _timed_embed(name: str, root: Path, model: INRetModel, embedder, log: Log) -> dict:
    shutil.rmtree(root / "cache", ignore_errors=True)
    with Store.open(root) as store:
        start = time.perf_counter()
        index = run_to_end(Retriever(store, model).update(embedder=embedder))
        return _rate_row("embed", name, len(index), time.perf_counter() - start, log)


def _rate_row(part: str, name: str, count: int, seconds: float, log: Log) -> dict:
    """One variant's throughput row, logged as it is measured."""
    row = {"variant": name, "inrs": count, "seconds": seconds, "inrs_per_second": count / seconds}
    log(f"  {part:<5} {name:<32} {count} INRs in {seconds:6.1f} s = {row['inrs_per_second']:.2f} INRs/s")
    return row


def _store_hash(root: Path) -> str:
    """SHA-256 over every INR file's name and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted((root / "inrs").glob("*.inr")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


# --- index -------------------------------------------------------------------------------

def _index_size(settings: ScaleSettings, n: int, work: Path, log: Log, emit: Callable[[dict], None]) -> None:
    """Emits one row per backend at ``n`` vectors (a ``skipped`` row where memory says no)."""
    vector_bytes = n * settings.dim * 4
    need, free = 3.5 * vector_bytes + 2 * 2**30, _meminfo("MemAvailable")
    if free and need > free:
        log(f"index n={n}: skipped, needs about {need / 2**30:.1f} GiB, {free / 2**30:.1f} GiB available")
        for b in settings.backends:
            emit({"n": n, "backend": b, "skipped": f"needs about {need / 2**30:.1f} GiB (data, a copy, the graph), "
                  f"{free / 2**30:.1f} GiB available"})
        return
    rng = np.random.default_rng(settings.seed)
    start = time.perf_counter()
    data, labels = clustered_unit_vectors(n + settings.queries, settings.dim, settings.clusters, rng)
    queries = data[n:].copy()
    data = data[:n]
    truth = _exact_top_k(data, queries, settings.k)
    log(f"index n={n}: {n} x {settings.dim} vectors and exact top-{settings.k} of {settings.queries} queries in "
        f"{time.perf_counter() - start:.0f} s; {free / 2**30:.1f} GiB available before")
    for backend in settings.backends:
        measure = _hnsw_row if backend == "hnsw" else _milvus_row
        row = measure(settings, data, labels[:n], queries, truth, work)
        emit({"n": n, "dim": settings.dim, "backend": backend, **row})
        log(f"  {backend:<7} build {row['build_seconds']:8.1f} s (+{row.get('settle_seconds', 0):.0f} s settling), "
            f"search p50 {row['p50_ms']:.2f} ms, p95 {row['p95_ms']:.2f} ms, recall@{settings.k} {row['recall']:.4f}")
        gc.collect()


def _exact_top_k(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """``(Q, k)`` row numbers of the exact cosine top-k (data and queries normalised in place)."""
    for arr in (data, queries):
        for lo in range(0, len(arr), 65536):
            arr[lo:lo + 65536] /= np.linalg.norm(arr[lo:lo + 65536], axis=1, keepdims=True)
    best = np.full((len(queries), k), -np.inf, dtype=np.float32)
    rows = np.zeros((len(queries), k), dtype=np.int64)
    for lo in range(0, len(data), 65536):
        sims = queries @ data[lo:lo + 65536].T
        allsims = np.concatenate([best, sims], axis=1)
        allrows = np.concatenate([rows, np.broadcast_to(np.arange(lo, lo + sims.shape[1]), sims.shape)], axis=1)
        top = np.argpartition(-allsims, k - 1, axis=1)[:, :k]
        best, rows = np.take_along_axis(allsims, top, 1), np.take_along_axis(allrows, top, 1)
    return rows


def _latencies(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray, truth: np.ndarray) -> dict:
    """Single-query latency (after one warm-up) and recall@k of ``search(query) -> ids``."""
    search(queries[0])
    ms, recall = np.empty(len(queries)), np.empty(len(queries))
    for i, q in enumerate(queries):
        start = time.perf_counter()
        ids = search(q)
        ms[i] = (time.perf_counter() - start) * 1e3
        recall[i] = len(set(ids.tolist()) & set(truth[i].tolist())) / truth.shape[1]
    return {"p50_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean()),
            "recall": float(recall.mean())}


def _settle(*, every: float = 0.5, limit: float = 1800.0) -> float:
    """Seconds until Milvus Lite's background threads are idle after an ``add``.

    Milvus Lite compacts flushed segments and builds their FAISS indexes on a background
    thread after ``add`` returns; searches meanwhile run 10-100x slower (the build holds
    the cores). Its threads are named ``milvus_lite-*``; one is idle when it waits on its
    work queue. Two idle looks in a row, ``every`` seconds apart, count as settled.
    """
    import sys
    import threading

    start, idle_looks = time.perf_counter(), 0
    while time.perf_counter() - start < limit and idle_looks < 2:
        time.sleep(every)
        frames = sys._current_frames()
        busy = False
        for thread in threading.enumerate():
            ident = thread.ident
            frame = frames.get(ident) if ident is not None and thread.name.startswith("milvus_lite") else None
            if frame is not None and frame.f_code.co_name not in ("wait", "get", "_worker"):
                busy = True
        idle_looks = 0 if busy else idle_looks + 1
    return time.perf_counter() - start


def _hnsw_row(settings, data, labels, queries, truth, work) -> dict:
    start = time.perf_counter()
    index = EmbeddingIndex.build(np.arange(len(data)), data, ef_search=settings.ef_search,
                                 threads=settings.index_threads)
    build = time.perf_counter() - start
    row = {"build_seconds": build, **_latencies(lambda q: index.search_one(q, settings.k).ids, queries, truth),
           "settings": {"M": index.M, "ef_construction": index.ef_construction, "ef_search": index.ef_search,
                        "insertion_threads": settings.index_threads}}
    return row


def _milvus_row(settings, data, labels, queries, truth, work) -> dict:
    from ..scale import require

    require("milvus")
    from ..scale.milvus import MilvusBackend

    folder = work / f"milvus-{len(data)}"
    folder.mkdir()
    backend = MilvusBackend(str(folder / "bench.db"), data.shape[1], ef_search=settings.ef_search)
    n = len(data)
    fns = np.array(["sdf", "udf", "occ"])[np.arange(n) % 3].tolist()
    tags = {"function": fns, "arch": ["hash"] * n, "category": [f"c{c}" for c in labels.tolist()],
            "shape_id": [f"s{i // 3}" for i in range(n)]}
    start = time.perf_counter()
    backend.add(np.arange(n), data, tags)
    build = time.perf_counter() - start
    settle = _settle()
    row = {"build_seconds": build, "settle_seconds": settle,
           **_latencies(lambda q: backend.search(q, settings.k)[0].ids, queries, truth),
           "filtered_one_function": {key: v for key, v in _latencies(
               lambda q: backend.search(q, settings.k, IndexFilter(function="sdf"))[0].ids, queries[:50],
               truth[:50]).items() if key != "recall"},
           "settings": {"M": 16, "ef_construction": 200, "ef_search": settings.ef_search},
           "disk_bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())}
    backend.close()
    shutil.rmtree(folder, ignore_errors=True)
    return row
