"""``inret benchmark`` end to end on demo shapes with tiny INRs, and its scoring on hand-made cases."""

import json

import numpy as np
import pytest

from inret_engine.benchmark import PRESETS, Embedded, Preset, cross_function_table, get_preset, score
from inret_engine.benchmark.report import format_report, goals
from inret_engine.cli.main import main
from inret_engine.encoders.training import TrainSettings
from inret_engine.errors import UsageError

from .conftest import TINY_CONFIGS

SMOKE = Preset("smoke", ("chair", "mug"), train_per_category=4, test_per_category=2, grid_archs=("hash",),
               configs=(TINY_CONFIGS["hash"], TINY_CONFIGS["mlp"]), fit_steps=60, align=False,
               encoder=TrainSettings(steps=8, batch_shapes=4, points=128), latency_queries=2, baselines=False)
METHOD_KEYS = {"map@1", "map@5", "map@10", "f1@10", "query_ms"}


def test_score_excludes_the_query_shape_and_reads_categories():
    db = Embedded(np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]), ["a", "a", "b", "b"], ["s0", "s1", "s2", "s3"])
    own = score(db, db, k=2)
    assert own["map@1"] == 1.0 and own["queries"] == 4
    # A query of shape s0 that looks like a "b": its own shape is never its answer.
    q = Embedded(np.array([[0.0, 1.0]]), ["a"], ["s0"])
    assert score(q, db, k=1)["map@1"] == 0.0


def test_cross_function_table_is_query_by_retrieved():
    v = np.eye(2)
    same = Embedded(v, ["a", "b"], ["s0", "s1"])
    other = Embedded(v[::-1].copy(), ["a", "b"], ["s2", "s3"])
    t = cross_function_table({"sdf": same, "udf": other}, k=1)
    assert t["matrix"]["sdf"]["udf"] == 0.0 and t["matrix"]["udf"]["sdf"] == 0.0
    assert t["average"] == pytest.approx(0.0)
    assert set(t["matrix"]) == {"sdf", "udf"}


def test_unknown_preset_is_refused():
    with pytest.raises(UsageError, match="quick"):
        get_preset("fastest")


@pytest.mark.slow
def test_benchmark_command_writes_every_table_and_reuses_its_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(PRESETS, "smoke", SMOKE)
    out = tmp_path / "bench"
    assert main(["benchmark", "demo", "--out", str(out), "--preset", "smoke"]) == 0
    report = json.loads((out / "benchmark-smoke.json").read_text())
    text = capsys.readouterr().out
    assert "Same-function retrieval" in text and "L2 + unified decoder" in text
    assert set(report["methods"]) == {"inret_hash", "inr2vec", "inret_mlp_distilled_hash"}
    for name, m in report["methods"].items():
        assert METHOD_KEYS <= set(m), name
        assert all(0.0 <= m[k] <= 1.0 for k in ("map@1", "map@5", "map@10", "f1@10")), name
        assert m["map@1"] <= m["map@5"] <= m["map@10"] and m["query_ms"] > 0
        assert m["queries"] == 4
    assert m["convert_ms"] > 0  # the distilled method pays for its distillation
    assert set(report["cross_function"]) == {"none", "l2", "both"}
    for table in report["cross_function"].values():
        assert set(table["matrix"]) == {"sdf", "udf", "occ"}
        assert table["average"] == pytest.approx(np.mean([v for row in table["matrix"].values()
                                                         for v in row.values()]))
    assert report["shapes"] == {"train": 8, "test": 4} and report["inrs"] == 12 * 3 + 12
    encoders = sorted(p.name for p in (out / "encoders").iterdir())
    assert len(encoders) == 4  # hash none / l2 / both and the SIREN one
    # A second run trains nothing and fits nothing: every stage comes from OUT.
    assert main(["benchmark", "demo", "--out", str(out), "--preset", "smoke", "--json", str(tmp_path / "r.json")]) == 0
    again = json.loads((tmp_path / "r.json").read_text())
    assert sorted(p.name for p in (out / "encoders").iterdir()) == encoders
    assert again["methods"]["inret_hash"]["map@1"] == report["methods"]["inret_hash"]["map@1"]
    assert again["cross_function"] == report["cross_function"]
    assert again["seconds"]["store"] < report["seconds"]["store"]
    assert all(isinstance(ok, bool) for _, ok in goals(again)) and "goals:" in format_report(again)
