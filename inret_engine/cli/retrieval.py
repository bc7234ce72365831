"""``inret train-encoder``, ``embed``, ``query`` and ``eval``: the retrieval half of the CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from ..device import resolve_device
from ..encoders.contrastive import ContrastiveSettings, train_shared
from ..encoders.dataset import TrainingSet
from ..encoders.model import INRetModel
from ..encoders.pretrained import corpus_from_store, pretrained_path
from ..encoders.training import TrainSettings, train
from ..errors import UsageError
from ..functions import parse_functions
from ..model_set import ModelSet
from ..progress import Progress, relay, run_to_end
from ..query_file import QUERY_SUFFIXES, OnTheFly, inr_from_file
from ..retrieval.evaluation import evaluate
from ..retrieval.results import QueryOutcome, QuerySubject, export_results, results_document, results_table
from ..retrieval.results import run_query as query_subject
from ..retrieval.retriever import Retriever
from ..store import Store
from .bars import run_with_bars


def add_parsers(sub) -> None:
    t = sub.add_parser("train-encoder", help="fine-tune the shared encoder on a store, or train the paper's "
                                             "encoders of one architecture (--arch)")
    t.add_argument("store")
    t.add_argument("--arch", default=None,
                   help="train the paper's per-architecture encoders (hash, octree, triplane or mlp) instead of "
                        "fine-tuning the shared one")
    t.add_argument("--labels", default=None, choices=["category"],
                   help="shared encoder: supervised contrastive on this label (label-aware fine-tuning)")
    t.add_argument("--init", default=None,
                   help="shared encoder: start from this model (default: the shipped one; 'none': from scratch)")
    t.add_argument("--functions", default="sdf,udf,occ")
    t.add_argument("--unified", dest="unified", action="store_true", default=True,
                   help="one decoder predicting UDF for every function (default)")
    t.add_argument("--no-unified", dest="unified", action="store_false", help="a decoder per function")
    t.add_argument("--l2", type=float, default=1.0, help="weight of the L2 tie between a shape's embeddings")
    t.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N")
    t.add_argument("--steps", type=int, default=None,
                   help=f"optimiser steps (default {TrainSettings.steps}; shared fine-tuning "
                        f"{FINE_TUNE_STEPS})")
    t.add_argument("--split", default="train", help="split to train on ('all' for every INR)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="model file to write (.enc)")
    t.set_defaults(run=run_train)

    e = sub.add_parser("embed", help="embed a store's INRs with a model and build its index")
    e.add_argument("store")
    e.add_argument("--encoder", default=None,
                   help="model file to install and use (default: the store's own, else the shipped shared model)")
    e.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="embed on a Ray cluster (the 'scale' extra): at ADDRESS (write --ray=ADDRESS), or a local one "
                        "started now")
    e.add_argument("--workers", type=int, default=None,
                   help="with --ray and no address: worker slots of the local cluster (default: every core)")
    _backend_arguments(e, "index backend to use from now on: hnsw or milvus (re-indexes from the cached embeddings)")
    e.set_defaults(run=run_embed)

    q = sub.add_parser("query", help="the INRs most similar to an .inr file, a mesh or a point cloud",
                       description="The INRs of STORE most similar to FILE: an .inr file (distilled into an "
                                   "architecture an installed model reads when none reads its own), or a mesh or "
                                   "point cloud (fitted into one on the fly). Progress goes to stderr.")
    q.add_argument("store")
    q.add_argument("query", metavar="FILE", help=f"the query: {', '.join(QUERY_SUFFIXES)}")
    q.add_argument("-k", type=int, default=10)
    q.add_argument("--function", default="any",
                   help="any (default: one space holds every function), same, sdf, udf or occ")
    q.add_argument("--include-self", action="store_true",
                   help="keep INRs of the query's own shape (by its shape id label) in the results")
    q.add_argument("--json", action="store_true", help="print the results as JSON (the browser's export layout)")
    q.add_argument("--export", default=None, metavar="PATH",
                   help="also write the results to PATH (.csv or .json), as the browser's Export does")
    q.add_argument("--z-up", action="store_true",
                   help="a mesh or point cloud with z up (STL, CAD, ModelNet, SHREC'12): turned y-up first")
    q.add_argument("--steps", type=int, default=None,
                   help="fitting or distillation steps for a FILE that needs them (default: the architecture's)")
    q.add_argument("--arch", default=None, help="only INRs of this architecture")
    q.add_argument("--category", default=None, help="only INRs of this category")
    _backend_arguments(q, "index backend (default: the one chosen with inret embed --backend, else hnsw)")
    q.set_defaults(run=run_query)

    v = sub.add_parser("eval", help="retrieval metrics on the store's test split")
    v.add_argument("store")
    v.add_argument("--encoder", default=None,
                   help="model file (default: the store's own, else the shipped shared model)")
    v.add_argument("--split", default="test")
    v.add_argument("--json", default=None, help="write the metrics here")
    v.set_defaults(run=run_eval)


FINE_TUNE_STEPS = 600


def run_train(args: argparse.Namespace) -> int:
    if args.arch is None:
        return run_fine_tune(args)
    functions = parse_functions(args.functions)
    settings = TrainSettings(steps=args.steps or TrainSettings.steps, unified=args.unified, l2_weight=args.l2,
                             seed=args.seed)
    with Store.open(args.store) as store:
        data = TrainingSet.from_store(store, args.arch, functions, split=None if args.split == "all" else args.split)
    print(f"training {args.arch} encoders for {', '.join(f.value for f in functions)} on {len(data)} shapes "
          f"(unified decoder {'on' if args.unified else 'off'}, L2 weight {args.l2})", file=sys.stderr)
    model = train_with_bar(train(data, args.arch, settings, device=resolve_device(args.device)), settings.steps,
                           lambda e: f"decoder {e.decoder_loss:.4f} L2 {e.l2_loss:.4f}")
    checksum = model.save(Path(args.out))
    print(f"wrote {args.out} (checksum {checksum[:12]})")
    return 0


def run_fine_tune(args: argparse.Namespace) -> int:
    """The shared encoder, fine-tuned on a store's own INRs (with its labels when asked)."""
    init_path = pretrained_path() if args.init is None else (None if args.init == "none" else Path(args.init))
    init = INRetModel.load(init_path) if init_path is not None else None
    if init is not None and not init.spec.reads_field:
        raise UsageError(f"{init_path} is a per-architecture encoder; --init needs a shared model")
    with Store.open(args.store) as store:
        corpus, views = corpus_from_store(store, split=None if args.split == "all" else args.split)
    settings = ContrastiveSettings(steps=args.steps or FINE_TUNE_STEPS, labels=args.labels is not None,
                                   seed=args.seed, lr=3e-4 if init is not None else ContrastiveSettings.lr)
    print(f"{'fine-tuning' if init is not None else 'training'} the shared encoder on {len(corpus)} shapes "
          f"({sum(len(v) for v in views.values())} INRs, "
          f"{'supervised on ' + args.labels if args.labels else 'self-supervised'})", file=sys.stderr)
    device = resolve_device(args.device)
    model = train_with_bar(train_shared(corpus, settings, inr_views=views, init=init, device=device), settings.steps,
                           lambda e: f"loss {e.loss:.3f}")
    checksum = model.save(Path(args.out))
    print(f"wrote {args.out} (checksum {checksum[:12]}); install it with inret embed {args.store} --encoder {args.out}")
    return 0


def _backend_arguments(p, help_text: str) -> None:
    p.add_argument("--backend", default=None, choices=["hnsw", "milvus"], help=help_text)
    p.add_argument("--milvus-uri", default=None,
                   help="with --backend milvus: a Milvus server (http://host:19530) or a .db file "
                        "(default: Milvus Lite in the store's cache)")


def run_embed(args: argparse.Namespace) -> int:
    embedder = None
    if args.ray is not None:
        from ..scale import require

        require("ray")
        from ..scale.embedding import ray_embedder  # lazy: Ray is an optional extra

        embedder = ray_embedder(args.ray or None, workers=args.workers)
    with Store.open(args.store) as store:
        if args.encoder is not None:
            Retriever.install(store, Path(args.encoder))
        retriever = Retriever(store, _model(store, args.encoder))
        run_with_bars(retriever.update(embedder=embedder), units={"embedding": "INR"})
        print(f"{len(retriever.ready_index())} INRs embedded and indexed in {retriever.cache}")
        if args.backend is not None:
            backend = _open_backend(retriever, args.backend, args.milvus_uri)
            print(f"index backend: {backend.name} ({len(backend)} INRs)")
            backend.close()
    return 0


def _open_backend(retriever: Retriever, name: str | None, uri: str | None):
    if name == "milvus" or uri is not None:
        from ..scale import require

        require("milvus")
    from ..scale.backends import open_backend

    return open_backend(retriever, name, uri)


def run_query(args: argparse.Namespace) -> int:
    if args.k < 1 or (args.steps is not None and args.steps < 1):
        raise UsageError("-k and --steps must be positive")
    requested = time.perf_counter()
    settings = OnTheFly(fit_steps=args.steps, distill_steps=args.steps, z_up=args.z_up)
    with Store.open(args.store) as store:
        models = ModelSet.load(store)
        for problem in models.problems:
            print(f"skipped a model: {problem}", file=sys.stderr)
        if not models:
            raise UsageError(f"{store.root} has no encoder and no shipped model was found; "
                             "train one (inret train-encoder) and install it (inret embed --encoder)")
        inr, note = run_with_bars(relay(inr_from_file(Path(args.query), models, settings), _say_uncounted))
        if note:
            print(f"{Path(args.query).name}: {note}", file=sys.stderr)
        retriever = models.for_shape_inr(inr)
        if retriever is None:
            raise UsageError(f"no model of {store.root} embeds {inr.config.kind} {inr.function.value.upper()} INRs")
        _bring_up_to_date(retriever)  # a new store (or new INRs) is embedded on the first query
        subject = QuerySubject.of_inr(inr, str(args.query))
        if args.include_self:
            subject = dataclasses.replace(subject, shape_id=None)
        if args.backend is None and args.milvus_uri is None and args.arch is None and _recorded(retriever) == "hnsw":
            outcome = query_subject(retriever, subject, args.k, args.function, requested, category=args.category)
        else:
            from ..scale.backends import query_backend

            backend = _open_backend(retriever, args.backend, args.milvus_uri)
            result = query_backend(retriever, backend, inr, args.k, function=args.function, arch=args.arch,
                                   category=args.category, exclude_shape=subject.shape_id)
            backend.close()
            outcome = QueryOutcome.of(subject, result, args.function, args.k, requested)
    if args.export:
        print(f"wrote {export_results(outcome, Path(args.export))}", file=sys.stderr)
    if args.json:
        print(json.dumps(results_document(outcome), indent=2))
        return 0
    print(f"query {args.query}: embed {outcome.embed_ms:.1f} ms, search {outcome.search_ms:.2f} ms")
    if outcome.hits:
        print(results_table(outcome))
    return 0


def _say_uncounted(record: Progress) -> Progress:
    """Write a record without a count (reading, sampling) as a line on stderr; bars show the others."""
    if not record.total:
        print(record.text(), file=sys.stderr)
    return record


def run_eval(args: argparse.Namespace) -> int:
    with Store.open(args.store) as store:
        retriever = Retriever(store, _model(store, args.encoder))
        _bring_up_to_date(retriever)
        report = evaluate(retriever, split=args.split)
    for arch, part in (report.get("per_arch") or {report["arch"]: report}).items():
        _print_function_tables(f"{arch} on the {args.split} split", part)
    if "arch_matrix" in report:
        archs = list(report["arch_matrix"])
        print(f"all architectures ({report['arch_function'].upper()} INRs), query \\ retrieved, mAP@1: "
              f"average {report['arch_average']:.3f}, diagonal {report['arch_diagonal']:.3f}")
        print(" " * 10 + "".join(f"{g:>10}" for g in archs))
        for q in archs:
            print(f"{q:<10}" + "".join(f"{report['arch_matrix'][q][g]:>10.3f}" for g in archs))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def _recorded(retriever: Retriever) -> str:
    """The index backend recorded for the retriever's cache (hnsw when none is)."""
    from ..scale.backends import chosen_backend  # imports neither Ray nor pymilvus

    return chosen_backend(retriever.cache)[0]


def train_with_bar(job, steps: int, postfix) -> INRetModel:
    """Run a training job with a progress bar (``postfix(record)`` beside the count); returns the model."""
    with tqdm(total=steps, desc="training", unit="step", file=sys.stderr) as bar:
        def show(record: Progress) -> None:
            bar.n = record.done
            bar.set_postfix_str(postfix(record))
            bar.refresh()

        return run_to_end(job, on_progress=show)


def _bring_up_to_date(retriever: Retriever) -> None:
    """Embed and index whatever the cache lacks, with a progress bar when there is work."""
    run_with_bars(retriever.update(), units={"embedding": "INR"})


def _model(store: Store, path: str | None) -> INRetModel:
    """The model file named, else the store's first model (its own, or the shipped shared one)."""
    if path is not None:
        return INRetModel.load(Path(path))
    files = Retriever.model_files(store)
    if not files:
        raise UsageError(f"{store.root} has no encoder and no shipped model was found; pass --encoder")
    return INRetModel.load(files[0])


def _print_function_tables(title: str, report: dict) -> None:
    fns = report["functions"]
    print(f"{title}: same-function mAP@1 {report['same_function_map@1']:.3f}, 3x3 average {report['average']:.3f}")
    print("query \\ retrieved " + "".join(f"{g:>8}" for g in fns))
    for q in fns:
        print(f"{q:<18}" + "".join(f"{report['matrix'][q][g]:>8.3f}" for g in fns))
    for f in fns:
        m = report["same_function"][f]
        print(f"{f}: mAP@1/5/10 {m['map@1']:.3f}/{m['map@5']:.3f}/{m['map@10']:.3f}  "
              f"P/R/F1@10 {m['p@10']:.3f}/{m['r@10']:.3f}/{m['f1@10']:.3f}  per-class mAP@1 {m['map@1_per_class']:.3f}")
