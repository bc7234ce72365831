"""``inret train-encoder``, ``embed``, ``query`` and ``eval``: the retrieval half of the CLI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from ..encoders.dataset import TrainingSet
from ..encoders.model import INRetModel
from ..encoders.training import TrainSettings, train
from ..evaluation import evaluate
from ..functions import parse_functions
from ..retrieval import Retriever
from ..store import Store, load_shape_inr


def add_parsers(sub) -> None:
    t = sub.add_parser("train-encoder", help="train the INRet encoders of one architecture")
    t.add_argument("store")
    t.add_argument("--arch", required=True, help="hash, octree, triplane or mlp")
    t.add_argument("--functions", default="sdf,udf,occ")
    t.add_argument("--unified", dest="unified", action="store_true", default=True,
                   help="one decoder predicting UDF for every function (default)")
    t.add_argument("--no-unified", dest="unified", action="store_false", help="a decoder per function")
    t.add_argument("--l2", type=float, default=1.0, help="weight of the L2 tie between a shape's embeddings")
    t.add_argument("--steps", type=int, default=TrainSettings.steps)
    t.add_argument("--split", default="train", help="split to train on ('all' for every INR)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="model file to write (.enc)")
    t.set_defaults(run=run_train)

    e = sub.add_parser("embed", help="embed a store's INRs with a model and build its index")
    e.add_argument("store")
    e.add_argument("--encoder", required=True)
    e.set_defaults(run=run_embed)

    q = sub.add_parser("query", help="the INRs most similar to an .inr file")
    q.add_argument("store")
    q.add_argument("query", help=".inr file")
    q.add_argument("-k", type=int, default=10)
    q.add_argument("--function", default="same", help="same (default), any, sdf, udf or occ")
    q.add_argument("--include-self", action="store_true",
                   help="keep INRs of the query's own shape (by its shape id label) in the results")
    q.add_argument("--json", action="store_true")
    q.set_defaults(run=run_query)

    v = sub.add_parser("eval", help="retrieval metrics on the store's test split")
    v.add_argument("store")
    v.add_argument("--encoder", required=True)
    v.add_argument("--split", default="test")
    v.add_argument("--json", default=None, help="write the metrics here")
    v.set_defaults(run=run_eval)


def run_train(args: argparse.Namespace) -> int:
    functions = parse_functions(args.functions)
    settings = TrainSettings(steps=args.steps, unified=args.unified, l2_weight=args.l2, seed=args.seed)
    with Store.open(args.store) as store:
        data = TrainingSet.from_store(store, args.arch, functions, split=None if args.split == "all" else args.split)
    print(f"training {args.arch} encoders for {', '.join(f.value for f in functions)} on {len(data)} shapes "
          f"(unified decoder {'on' if args.unified else 'off'}, L2 weight {args.l2})", file=sys.stderr)
    with tqdm(total=settings.steps, desc="training", unit="step", file=sys.stderr) as bar:
        for event in train(data, args.arch, settings):
            bar.n = event.step
            bar.set_postfix_str(f"decoder {event.decoder_loss:.4f} L2 {event.l2_loss:.4f}")
            bar.refresh()
    checksum = event.model.save(Path(args.out))
    print(f"wrote {args.out} (checksum {checksum[:12]})")
    return 0


def run_embed(args: argparse.Namespace) -> int:
    with Store.open(args.store) as store:
        Retriever.install(store, Path(args.encoder))
        retriever = Retriever(store, INRetModel.load(Path(args.encoder)))
        with tqdm(desc="embedding", unit="INR", file=sys.stderr) as bar:
            for event in retriever.update():
                bar.total = event.total
                bar.n = event.done
                bar.refresh()
        print(f"{len(retriever.ready_index())} INRs embedded and indexed in {retriever.cache}")
    return 0


def run_query(args: argparse.Namespace) -> int:
    inr = load_shape_inr(Path(args.query))
    with Store.open(args.store) as store:
        retriever = Retriever.for_record(store, inr)
        own = None if args.include_self else inr.labels.get("shape_id")
        result = retriever.query(inr, args.k, function=args.function, exclude_shape=own)
    rows = [{"rank": i + 1, "id": h.record.id, "name": h.record.name, "category": h.record.category,
             "function": h.record.function, "arch": h.record.arch, "score": round(h.score, 4)}
            for i, h in enumerate(result.hits)]
    if args.json:
        print(json.dumps({"query": str(args.query), "embed_ms": result.embed_ms, "search_ms": result.search_ms,
                          "results": rows}, indent=2))
        return 0
    print(f"query {args.query}: embed {result.embed_ms:.1f} ms, search {result.search_ms:.2f} ms")
    for r in rows:
        print(f"{r['rank']:>3}  {r['score']:.3f}  {r['name']:<20} {r['category']:<16} {r['function']:<4} {r['arch']}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    with Store.open(args.store) as store:
        retriever = Retriever(store, INRetModel.load(Path(args.encoder)))
        for _ in retriever.update():
            pass
        report = evaluate(retriever, split=args.split)
    fns = report["functions"]
    print(f"{report['arch']} on the {args.split} split: same-function mAP@1 {report['same_function_map@1']:.3f}, "
          f"3x3 average {report['average']:.3f}")
    print("query \\ retrieved " + "".join(f"{g:>8}" for g in fns))
    for q in fns:
        print(f"{q:<18}" + "".join(f"{report['matrix'][q][g]:>8.3f}" for g in fns))
    for f in fns:
        m = report["same_function"][f]
        print(f"{f}: mAP@1/5/10 {m['map@1']:.3f}/{m['map@5']:.3f}/{m['map@10']:.3f}  "
              f"P/R/F1@10 {m['p@10']:.3f}/{m['r@10']:.3f}/{m['f1@10']:.3f}  per-class mAP@1 {m['map@1_per_class']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0
