"""``inret bench scale`` at a tiny size: every figure the report promises is there and sane."""

from __future__ import annotations

import json

import pytest

from inret_engine.benchmark.scale import ScaleSettings, run_scale
from inret_engine.cli.main import main
from inret_engine.scale import milvus_available


@pytest.mark.slow
def test_fit_part_without_ray_reports_local_throughput():
    report = run_scale(ScaleSettings(fit_shapes=2, fit_batch=1, arch="mlp", steps=3, ray_workers=(),
                                     parts=("fit",)), log=lambda line: None)
    rows = report["fit"]["variants"]
    assert [r["inrs"] for r in rows] == [2, 2]
    assert all(r["inrs_per_second"] > 0 for r in rows)


@pytest.mark.slow
def test_index_part_reports_build_latency_and_recall(tmp_path, capsys):
    backends = "hnsw,milvus" if milvus_available() else "hnsw"
    out = tmp_path / "scale.json"
    assert main(["bench", "scale", "--parts", "index", "--sizes", "600", "--queries", "8", "--backends", backends,
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["index"]
    assert [r["backend"] for r in rows] == backends.split(",")
    for row in rows:
        assert row["n"] == 600 and row["build_seconds"] > 0
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert row["recall"] >= 0.9  # at 600 vectors both graphs find (nearly) the exact top-10
    assert "recall@10" in capsys.readouterr().out
