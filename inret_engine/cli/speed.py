"""``inret speed fit|render|index|query|scale``: speed figures printed and written as JSON (never timed tests).

Only arguments and printing live here; what is measured and how is in ``inret_engine/benchmark/speed_*.py``
and ``benchmark/scale.py``. One word, one measurement: ``inret speed`` times things; ``inret benchmark``
scores the paper's retrieval methods on a dataset; ``inret eval`` scores one store's retrieval;
``python -m app.stall_probe`` measures the browser's GUI stalls. (``inret bench`` is the old name of
``inret speed`` and still works.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _say(line: str) -> None:
    print(line, flush=True)


def _write(report: dict, path: str | None) -> None:
    if path:
        Path(path).write_text(json.dumps(report, indent=2))
        print(f"wrote {path}")


def add_parser(sub) -> None:
    p = sub.add_parser("speed", aliases=["bench"], help="how fast: fit, render, index, query, scale")
    bsub = p.add_subparsers(dest="speed", required=True, metavar="WHAT")
    f = bsub.add_parser("fit", help="INRs per second per architecture, with fit quality, on the demo shapes")
    f.add_argument("--arch", default="hash,octree,triplane,mlp")
    f.add_argument("--function", default="sdf,udf,occ")
    f.add_argument("--shapes", type=int, default=16, help="demo shapes fitted in one batch (default 16)")
    f.add_argument("--steps", type=int, default=None)
    f.add_argument("--json", default=None, help="write the figures here")
    f.set_defaults(run=run_fit)
    _add_render(bsub)
    _add_index(bsub)
    _add_query(bsub)
    _add_scale(bsub)


def _add_render(bsub) -> None:
    r = bsub.add_parser("render", help="bake / frame / thumbnail / cutaway / point-cloud / multi-view times of a "
                                       "hash-grid SDF INR")
    r.add_argument("--store", default=None, help="take the INR from this store instead of fitting a demo shape")
    r.add_argument("--id", type=int, default=None, help="catalog id in --store (default: its first hash SDF INR)")
    r.add_argument("--category", default="car", help="demo category to fit when no store is given (default car)")
    r.add_argument("--steps", type=int, default=None, help="fit steps (default per architecture)")
    r.add_argument("--resolution", type=int, default=97, help="bake lattice nodes per axis (default 97)")
    r.add_argument("--repeat", type=int, default=5, help="timed runs per measurement; the median is reported")
    r.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    r.add_argument("--json", default=None, help="write the figures here")
    r.set_defaults(run=run_render)


def _add_index(bsub) -> None:
    from ..benchmark.speed_index import IndexBenchSettings

    d = IndexBenchSettings()
    p = bsub.add_parser("index", help="embedding index: build time, search latency, hnsw recall (synthetic data)")
    p.add_argument("--n", type=int, default=d.n, help=f"embeddings in the index (default {d.n})")
    p.add_argument("--dim", type=int, default=d.dim, help=f"embedding length (default {d.dim})")
    p.add_argument("--queries", type=int, default=d.queries, help=f"single-query searches timed (default {d.queries})")
    p.add_argument("--k", type=int, default=d.k)
    p.add_argument("--clusters", type=int, default=d.clusters, help=f"synthetic categories (default {d.clusters})")
    p.add_argument("--latent", type=int, default=d.latent,
                   help=f"directions each cluster varies along (default {d.latent}; higher is harder for hnsw)")
    p.add_argument("--ef-search", type=int, default=d.ef_search, help=f"hnsw ef at query time (default {d.ef_search})")
    p.add_argument("--threads", type=int, default=d.threads, help="hnsw insertion threads (1 = reproducible graph)")
    p.add_argument("--io", action="store_true", help="also time save and load in a temporary folder")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--json", default=None, help="write the figures here")
    p.set_defaults(run=run_index)


def _add_query(bsub) -> None:
    q = bsub.add_parser("query", help="query latency per architecture: read, probe / sample, embed, search")
    q.add_argument("store")
    q.add_argument("--queries", type=int, default=20, help="INRs timed per architecture and function")
    q.add_argument("--threads", type=int, default=1, help="torch threads (default 1: a GUI query's budget)")
    q.add_argument("--json", default=None, help="write the figures here")
    q.set_defaults(run=run_query)


def _add_scale(bsub) -> None:
    from ..benchmark.scale import ScaleSettings

    d = ScaleSettings()
    p = bsub.add_parser("scale", help="fitting and embedding locally and on Ray, hnswlib vs Milvus Lite at scale")
    p.add_argument("--json", default=None, help="write the figures here")
    p.add_argument("--parts", default=",".join(d.parts), help=f"what to measure (default {','.join(d.parts)})")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="measure on the Ray cluster at ADDRESS instead of local clusters of 1 and 2 workers")
    p.add_argument("--fit-shapes", type=int, default=d.fit_shapes, help=f"demo shapes fitted (default {d.fit_shapes})")
    p.add_argument("--batch", type=int, default=d.fit_batch, help=f"INRs per batch / Ray task (default {d.fit_batch})")
    p.add_argument("--arch", default=d.arch)
    p.add_argument("--function", default=d.function)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--sizes", default=",".join(str(n) for n in d.index_sizes),
                   help="index sizes (default 100000,1000000; a size that does not fit in memory is skipped)")
    p.add_argument("--backends", default=",".join(d.backends))
    p.add_argument("--queries", type=int, default=d.queries)
    p.add_argument("--ef-search", type=int, default=d.ef_search)
    p.add_argument("--index-threads", type=int, default=d.index_threads, help="hnswlib insertion threads")
    p.set_defaults(run=run_scale)


def run_fit(args: argparse.Namespace) -> int:
    from ..benchmark.speed_fit import measure_fit

    _write(measure_fit(args.arch, args.function, args.shapes, args.steps, log=_say), args.json)
    return 0


def run_render(args: argparse.Namespace) -> int:
    import torch

    from ..benchmark.speed_render import hash_sdf_field, measure_render

    if args.threads:
        torch.set_num_threads(args.threads)
    field, what = hash_sdf_field(args.store, args.id, args.category, args.steps)
    _write(measure_render(field, what, args.resolution, args.repeat, log=_say), args.json)
    return 0


def run_index(args: argparse.Namespace) -> int:
    from ..benchmark.speed_index import IndexBenchSettings, measure_index

    settings = IndexBenchSettings(n=args.n, dim=args.dim, queries=args.queries, k=args.k, clusters=args.clusters,
                                  latent=args.latent, ef_search=args.ef_search, threads=args.threads, io=args.io,
                                  seed=args.seed)
    _write(measure_index(settings, log=_say), args.json)
    return 0


def run_query(args: argparse.Namespace) -> int:
    from ..benchmark.speed_query import measure_query

    _write(measure_query(args.store, args.queries, args.threads, log=_say), args.json)
    return 0


def run_scale(args: argparse.Namespace) -> int:
    from ..benchmark.scale import ScaleSettings
    from ..benchmark.scale import run_scale as measure

    def items(text: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in text.split(",") if t.strip())

    sizes = tuple(int(n) for n in items(args.sizes))
    settings = ScaleSettings(fit_shapes=args.fit_shapes, fit_batch=args.batch, arch=args.arch, function=args.function,
                             steps=args.steps, ray_address=args.ray, index_sizes=sizes,
                             queries=args.queries, ef_search=args.ef_search, index_threads=args.index_threads,
                             backends=items(args.backends), parts=items(args.parts))

    def save(report: dict) -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))

    measure(settings, log=_say, save=save)
    if args.json:
        print(f"wrote {args.json}")
    return 0
