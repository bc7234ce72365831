"""Embeddings cached per model, queries with filters, the 3x3 evaluation, and the CLI around them."""

import json
import shutil

import numpy as np
import pytest

from inret_engine.cli.main import main
from inret_engine.encoders.dataset import TrainingSet
from inret_engine.encoders.training import TrainSettings, train
from inret_engine.functions import ImplicitFunction
from inret_engine.model_set import ModelSet
from inret_engine.progress import run_to_end
from inret_engine.retrieval.evaluation import evaluate
from inret_engine.retrieval.retriever import Retriever
from inret_engine.store import Store


@pytest.fixture(scope="module")
def model_path(tiny_demo_store, tmp_path_factory):
    with Store.open(tiny_demo_store) as store:
        data = TrainingSet.from_store(store, "hash", list(ImplicitFunction), split="train")
    model = run_to_end(train(data, "hash", TrainSettings(steps=20, batch_shapes=4, points=256)))
    path = tmp_path_factory.mktemp("model") / "hash.enc"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def own_store(tiny_demo_store, tmp_path_factory):
    """A copy of the tiny demo store that this module installs models into (the session's stays as built)."""
    root = tmp_path_factory.mktemp("retrieval") / "S"
    shutil.copytree(tiny_demo_store, root)
    return root


@pytest.fixture()
def retriever(own_store, model_path):
    store = Store.open(own_store)
    Retriever.install(store, model_path)
    r = ModelSet.load(store).for_record(store.records()[0])
    list(r.update())
    yield r
    store.close()


def test_update_embeds_everything_once_and_caches(retriever):
    assert len(retriever.ready_index()) == len(retriever.store.records())
    events = []
    index = run_to_end(retriever.update(), events.append)
    assert [(e.stage, e.done, e.total) for e in events] == [("embedding", 0, 0)]  # nothing left to embed
    assert np.array_equal(np.sort(index.ids), np.sort(retriever.ready_index().ids))
    again = Retriever(retriever.store, retriever.model)
    assert np.array_equal(np.sort(again.ready_index().ids), np.sort(retriever.ready_index().ids))


def test_query_by_record_filters_and_excludes_its_own_shape(retriever):
    query = retriever.store.records(function="sdf")[0]
    result = retriever.query(query, 5)
    assert len(result.hits) == 5
    assert all(h.record.function == "sdf" and h.record.shape_id != query.shape_id for h in result.hits)
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
    anyf = retriever.query(query, 30, function="any")
    assert {h.record.function for h in anyf.hits} == {"sdf", "udf", "occ"}
    udf = retriever.query(query, 3, function="udf", category="mug")
    assert all(h.record.function == "udf" and h.record.category == "mug" for h in udf.hits)


def test_query_with_a_loaded_inr_matches_its_cached_embedding(retriever):
    rec = retriever.store.records(function="udf")[1]
    by_row = retriever.query(rec, 3)
    by_file = retriever.query(retriever.store.load(rec), 3, exclude_shape=rec.shape_id)
    assert [h.record.id for h in by_row.hits] == [h.record.id for h in by_file.hits]
    assert np.allclose([h.score for h in by_row.hits], [h.score for h in by_file.hits], atol=1e-4)


def test_evaluate_reports_the_3x3_table(retriever):
    report = evaluate(retriever, split="test")
    assert report["functions"] == ["sdf", "udf", "occ"]
    assert set(report["matrix"]["sdf"]) == {"sdf", "udf", "occ"}
    for q in report["functions"]:
        for g in report["functions"]:
            assert 0.0 <= report["matrix"][q][g] <= 1.0
    assert report["same_function"]["sdf"]["queries"] == 4  # one test shape per category


@pytest.mark.slow
def test_cli_train_embed_query_eval(own_store, tmp_path, capsys):
    enc = tmp_path / "m.enc"
    assert main(["train-encoder", str(own_store), "--arch", "hash", "--steps", "5", "--out", str(enc)]) == 0
    assert main(["embed", str(own_store), "--encoder", str(enc)]) == 0
    with Store.open(own_store) as store:
        rec = store.records(function="sdf", split="test")[0]
        inr_file = store.root / rec.file
    capsys.readouterr()
    assert main(["query", str(own_store), str(inr_file), "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["results"]) == 3 and out["results"][0]["rank"] == 1
    assert main(["eval", str(own_store), "--encoder", str(enc), "--json", str(tmp_path / "e.json")]) == 0
    assert "average" in json.loads((tmp_path / "e.json").read_text())
    assert main(["train-encoder", str(own_store), "--arch", "octree", "--out", str(enc)]) == 2
    assert "no INRs" in capsys.readouterr().err
