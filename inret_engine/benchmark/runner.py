"""``inret benchmark``: the paper's tables from a mesh dataset in one run (paper 5.2-5.4).

Stages, each resumable from ``OUT``:

1. **Store** (``OUT/store``): ground truth and INRs of the train and test shapes: every
   grid architecture and a SIREN (MLP-only INR) with the same-function function, plus
   all three functions for the cross-function architecture.
2. **Same-function retrieval** on the test split (each test INR queries the others):
   INRet on every grid architecture; inr2vec (the weight encoder on SIRENs, a decoder per
   function); INRet on SIRENs distilled into the cross-function architecture, queried
   against that architecture's INRs; point-cloud and multi-view baselines converted from
   the cross-function architecture's INRs.
3. **Cross-function tables** for the cross-function architecture, trained with no
   regularisation, the L2 tie only, and both (L2 + the unified UDF decoder).

Every method also reports ``query_ms``: reading one INR file, embedding it (converting,
distilling) and searching an HNSW index of the test INRs, one query at a time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..build import DEMO, BuildOptions, build_store, resolve_sources
from ..device import default_device
from ..distill import distill_many
from ..encoders.model import INRetModel
from ..encoders.pretrained import pretrained_path
from ..functions import ImplicitFunction
from ..progress import Job, Progress, relay
from ..store import InrRecord, ShapeINR, Store
from .methods import ABLATION, BOTH, NONE, Latency, embed, inr_embedder, time_queries, trained_encoder
from .presets import Preset
from .scoring import Embedded, cross_function_table, score

DISTILL_BATCH = 16


@dataclasses.dataclass
class Context:
    store: Store
    out: Path
    preset: Preset
    device: torch.device
    report: dict

    def test_records(self, arch: str, function: ImplicitFunction) -> list[InrRecord]:
        config_id = self.preset.config(arch).config_id
        return [r for r in self.store.records(arch=arch, split="test", function=function.value)
                if r.config_id == config_id]

    def add_method(self, name: str, metrics: dict, latency: Latency, **extra) -> None:
        keep = {k: metrics[k] for k in ("map@1", "map@5", "map@10", "f1@10", "p@10", "r@10", "map@1_per_class",
                                         "queries", "classes")}
        self.report["methods"][name] = {**keep, **latency.to_dict(), **extra}


def run_benchmark(dataset: str | Path, out: Path, preset: Preset, *,
                  device: torch.device | None = None) -> Job[dict]:
    """Run every stage: a job that yields progress and returns the report (a JSON-ready dict)."""
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"dataset": str(dataset), "preset": preset.name, "device": str(device or default_device()),
              "categories": list(preset.categories) if preset.categories else "all", "methods": {},
              "cross_function": {}, "seconds": {}}
    with Store.create(out / "store") as store:
        ctx = Context(store, out, preset, device or default_device(), report)
        stages: list[tuple[str, Callable[[Context], Iterator[Progress]]]] = [
            ("store", partial(_build, dataset=dataset)), ("shared", _shared), ("inret", _inret_grids),
            ("inr2vec", _inr2vec), ("distilled", _distilled), ("ablation", _ablation), ("baselines", _baselines)]
        for name, stage in stages:
            t0 = time.perf_counter()
            yield from stage(ctx)
            report["seconds"][name] = round(time.perf_counter() - t0, 1)
    report["seconds"]["total"] = round(time.perf_counter() - start, 1)
    return report


def _build(ctx: Context, dataset) -> Iterator[Progress]:
    p = ctx.preset
    if str(dataset) == DEMO:  # demo instances are split by index: every third one is a test shape
        n = (p.train_per_category + p.test_per_category
             if p.train_per_category is not None and p.test_per_category is not None else None)
        sources = resolve_sources(dataset, categories=p.categories, per_category=n)
    else:
        sources = []
        for split, n in (("train", p.train_per_category), ("test", p.test_per_category)):
            sources += resolve_sources(dataset, splits=[split], categories=p.categories, per_category=n)
    archs = (*p.grid_archs, "mlp")
    for i, arch in enumerate(archs, 1):
        options = BuildOptions(configs=(p.config(arch),), functions=p.functions_for(arch), align=p.align,
                               steps=p.fit_steps)
        yield from (Progress(f"store {event.stage}", event.done, event.total, f"[{i}/{len(archs)}] {event.message}")
                    for event in build_store(ctx.store, sources, options) if event.stage in ("sampling", "fitting"))
    recs = ctx.store.records()
    ctx.report["shapes"] = {s: len({r.shape_id for r in recs if r.split == s}) for s in ("train", "test")}
    ctx.report["inrs"] = len(recs)
    ctx.report["skipped"] = [list(s) for s in ctx.store.catalog.skipped()]


def _model(ctx: Context, arch: str, functions, reg=BOTH) -> Job[INRetModel]:
    settings = dataclasses.replace(ctx.preset.encoder, unified=reg.unified, l2_weight=reg.l2_weight)
    return (yield from trained_encoder(ctx.store, ctx.out / "encoders", arch, tuple(functions), settings,
                                       device=ctx.device))


def _same_function(ctx: Context, name: str, arch: str, reg=BOTH, **extra) -> Job[INRetModel]:
    """Train ``arch``'s encoders, score its same-function test retrieval, time its queries."""
    p = ctx.preset
    model = yield from _model(ctx, arch, p.functions_for(arch), reg)
    records = ctx.test_records(arch, p.same_function)
    db = embed(ctx.store, model, records, device=ctx.device)
    latency = time_queries(records, db, inr_embedder(ctx.store, model), p.latency_queries)
    ctx.add_method(name, score(db, db), latency, arch=arch, function=p.same_function.value, **extra)
    return model


def _inret_grids(ctx: Context) -> Iterator[Progress]:
    for arch in ctx.preset.grid_archs:
        model = yield from _same_function(ctx, f"inret_{arch}", arch)
        if arch == ctx.preset.cross_arch:
            ctx.report["cross_function"]["both"] = _cross_table(ctx, model, arch)


def _cross_table(ctx: Context, model, arch: str) -> dict:
    embedded = {f.value: embed(ctx.store, model, ctx.test_records(arch, f), device=ctx.device)
                for f in ImplicitFunction if ctx.test_records(arch, f)}
    table = cross_function_table(embedded)
    return {k: table[k] for k in ("matrix", "average", "same_function")}


def _shared(ctx: Context) -> Iterator[Progress]:
    """The shipped shared model: every architecture and function in one space, no training.

    Same-function retrieval per architecture (SIRENs included, no distillation), the 3x3
    cross-function table of the cross architecture, and the all-architectures table
    (query architecture x retrieved architecture, same function).
    """
    path = pretrained_path()
    if path is None:
        ctx.report["shared"] = {"skipped": "no shipped shared model (resources/encoders/inret-shared.enc)"}
        return
    model = INRetModel.load(path)
    p, fn = ctx.preset, ctx.preset.same_function
    embedded = {}
    archs = [a for a in (*p.grid_archs, "mlp") if ctx.test_records(a, fn)]
    for i, arch in enumerate(archs):
        yield Progress("shared", i, len(archs), f"shipped model on {arch} {fn.value.upper()} INRs")
        records = ctx.test_records(arch, fn)
        embedded[arch] = embed(ctx.store, model, records, device=ctx.device)
        latency = time_queries(records, embedded[arch], inr_embedder(ctx.store, model), p.latency_queries)
        ctx.add_method(f"shared_{arch}", score(embedded[arch], embedded[arch]), latency, arch=arch,
                       function=fn.value, model=path.name)
    ctx.report["cross_function"]["shared"] = _cross_table(ctx, model, p.cross_arch)
    table = cross_function_table(embedded)
    ctx.report["all_architectures"] = {"function": fn.value, "matrix": table["matrix"],
                                       "average": table["average"], "same_architecture": table["same_function"]}


def _inr2vec(ctx: Context) -> Iterator[Progress]:
    """inr2vec: the 1024-d weight encoder on SIRENs, a decoder per function, no tie."""
    model = yield from _same_function(ctx, "inr2vec", "mlp", NONE)
    if len(ctx.preset.functions_for("mlp")) > 1:
        ctx.report["cross_function"]["inr2vec"] = _cross_table(ctx, model, "mlp")


def _distilled(ctx: Context) -> Iterator[Progress]:
    """SIREN test INRs distilled into the cross architecture, queried against its INRs."""
    p = ctx.preset
    arch, fn = p.cross_arch, p.same_function
    model = yield from _model(ctx, arch, p.functions_for(arch))
    all_sources = ctx.test_records("mlp", fn)
    attempts: list[ShapeINR | None] = []
    t0 = time.perf_counter()
    for i in range(0, len(all_sources), DISTILL_BATCH):
        chunk = [ctx.store.load(r) for r in all_sources[i:i + DISTILL_BATCH]]
        attempts += distill_many(chunk, fn, p.config(arch), steps=p.fit_steps, skip_failures=True)
        yield Progress("distilling", len(attempts), len(all_sources), f"SIREN -> {arch}")
    batch_ms = (time.perf_counter() - t0) * 1000 / max(1, len(all_sources))
    sources = [r for r, d in zip(all_sources, attempts) if d is not None]
    distilled = [d for d in attempts if d is not None]
    if not distilled:
        raise ValueError(f"none of the {len(all_sources)} SIREN test INRs could be distilled (no surface)")
    db_records = ctx.test_records(arch, fn)
    db = embed(ctx.store, model, db_records, device=ctx.device)
    embed_one = inr_embedder(ctx.store, model)
    queries = Embedded.of_records([embed_one(d) for d in distilled], sources)
    one = time.perf_counter()
    distill_many([ctx.store.load(sources[0])], fn, p.config(arch), steps=p.fit_steps)
    single_ms = (time.perf_counter() - one) * 1000
    latency = time_queries(distilled, db, embed_one, p.latency_queries)
    latency.convert_ms = single_ms
    chamfer = [float(c) for d in distilled if (c := d.fit.get("chamfer")) is not None]
    ctx.add_method(f"inret_mlp_distilled_{arch}", score(queries, db), latency, arch=arch, function=fn.value,
                   distill_ms_batched=batch_ms, distill_chamfer=sum(chamfer) / max(1, len(chamfer)),
                   distill_failed=len(all_sources) - len(sources))


def _ablation(ctx: Context) -> Iterator[Progress]:
    arch = ctx.preset.cross_arch
    for reg in ABLATION:
        if reg.name in ctx.report["cross_function"]:
            continue
        model = yield from _model(ctx, arch, ImplicitFunction, reg)
        ctx.report["cross_function"][reg.name] = _cross_table(ctx, model, arch)


def _baselines(ctx: Context) -> Iterator[Progress]:
    p = ctx.preset
    if not p.baselines:
        return
    from ..baselines import BASELINES, run_baseline

    fn = p.same_function
    train_recs = [r for r in ctx.store.records(arch=p.cross_arch, split="train", function=fn.value)
                  if r.config_id == p.config(p.cross_arch).config_id]
    db_records = ctx.test_records(p.cross_arch, fn)
    for name in BASELINES:
        job = run_baseline(name, ctx.store, train_recs, db_records,
                           preset=p.name if p.name in ("quick", "full") else "quick", device=ctx.device)
        run = yield from relay(job, partial(_prefixed, name))
        db = Embedded.of_records([run.embeddings[r.id] for r in db_records], db_records)
        search = time_queries(range(len(db)), db, partial(_row, db), p.latency_queries)
        latency = Latency(embed_ms=run.embed_ms, search_ms=search.search_ms, convert_ms=run.convert_ms)
        ctx.add_method(name, score(db, db), latency, arch=p.cross_arch, function=fn.value,
                       network=run.architecture, train_seconds=run.train_seconds)



def _prefixed(name: str, record: Progress) -> Progress:
    return Progress(f"{name} {record.stage}", record.done, record.total)


def _row(db: Embedded, i: int) -> np.ndarray:
    return db.vectors[i]
