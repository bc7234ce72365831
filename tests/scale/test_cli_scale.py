"""The README's scale commands: build-store --ray, embed --ray --backend milvus, query with filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ray")

from inret_engine.scale import milvus_available  # noqa: E402
from inret_engine.store import Store  # noqa: E402


@pytest.mark.slow
def test_cli_build_store_with_ray_then_query_through_milvus(ray_cluster, tmp_path, capsys, monkeypatch):
    """The README's commands: build with --ray, embed with --ray choosing Milvus Lite, query."""
    from inret_engine.cli.main import main

    shipped = Path(__file__).resolve().parents[2] / "resources" / "encoders" / "inret-shared.enc"
    if not shipped.is_file():
        pytest.skip(f"{shipped} is absent")
    monkeypatch.setenv("INRET_PRETRAINED", str(shipped))
    store = str(tmp_path / "S")
    assert main(["build-store", "demo", "--out", store, "--categories", "mug,chair", "--per-category", "2",
                 "--arch", "mlp", "--function", "sdf", "--steps", "5", "--ray"]) == 0
    assert "4 INRs added" in capsys.readouterr().out
    backend = ["--backend", "milvus"] if milvus_available() else []
    assert main(["embed", store, "--ray", *backend]) == 0
    out = capsys.readouterr().out
    assert "4 INRs embedded" in out
    with Store.open(store) as s:
        first = s.path_of(s.records()[0])
    assert main(["query", store, str(first), "-k", "2", "--category", "chair", "--arch", "mlp", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["results"]
    assert 1 <= len(hits) <= 2 and all(h["category"] == "chair" and h["arch"] == "mlp" for h in hits)

