"""Shared fixtures: small ground truths and tiny configs so the suite stays fast on 2 cores."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import trimesh

from inret_engine.data.geometry import Normalization, ShapeGeometry
from inret_engine.data.loading import normalize
from inret_engine.data.sampling import GroundTruth, sample_ground_truth
from inret_engine.fields import HashGridConfig, MLPConfig, OctreeConfig, TriplaneConfig

# Tests see no shipped model unless they ask for one (monkeypatch.setenv("INRET_PRETRAINED", path)),
# so a store without encoders behaves the same whether or not resources/encoders holds one.
os.environ["INRET_PRETRAINED"] = "none"

TINY_CONFIGS = {
    "hash": HashGridConfig(log2_table=12, min_res=8, max_res=64, hidden_dim=32),
    "octree": OctreeConfig(max_level=4, hidden_dim=32),
    "triplane": TriplaneConfig(resolutions=(32,), hidden_dim=32),
    "mlp": MLPConfig(hidden_dim=32, hidden_layers=2),
}


def single_torch_thread():
    """Fixture body: torch on one thread for a module (many small ops: on a busy 2-core
    machine one thread beats two by far); conftests bind it with ``pytest.fixture``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def store_snapshot(root: Path) -> list[tuple[dict, bytes]]:
    """Every catalog row of the store at ``root`` (fit and creation times left out) with its file's bytes:
    what two builds of the same INRs must agree on, however they fitted them."""
    import dataclasses

    from inret_engine.store import Store

    with Store.open(root) as store:
        rows = []
        for rec in store.records():
            row = dataclasses.asdict(rec)
            for when in ("fit_seconds", "created"):  # measurements of the run, not of the INR
                row.pop(when, None)
            rows.append((row, (root / rec.file).read_bytes()))
    return sorted(rows, key=lambda r: r[0]["id"])


def dataset_root() -> Path:
    """Where real datasets live: $INRET_DATASETS, else ../shared/datasets beside the checkout."""
    env = os.environ.get("INRET_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def geometry_of(mesh: trimesh.Trimesh) -> ShapeGeometry:
    raw = ShapeGeometry(vertices=np.asarray(mesh.vertices, dtype=np.float64),
                        faces=np.asarray(mesh.faces, dtype=np.int64), normalization=Normalization.identity())
    return normalize(raw)


def small_gt(mesh: trimesh.Trimesh, seed: int = 0) -> GroundTruth:
    return sample_ground_truth(geometry_of(mesh), n_uniform=4000, n_surface=2000, n_near=6000,
                               n_eval_surface=2000, seed=seed)


@pytest.fixture(scope="session")
def sphere_gt() -> GroundTruth:
    return small_gt(trimesh.creation.icosphere(subdivisions=3, radius=1.0))


@pytest.fixture(scope="session")
def box_gt() -> GroundTruth:
    return small_gt(trimesh.creation.box(extents=(1.0, 0.6, 0.4)))


@pytest.fixture(scope="session")
def tiny_demo_store(tmp_path_factory) -> Path:
    """Demo shapes of 4 categories x 3, tiny hash-grid INRs of SDF, UDF and Occ (read-only for tests)."""
    from inret_engine.build import BuildOptions, build_store, resolve_sources
    from inret_engine.progress import run_to_end
    from inret_engine.store import Store

    root = tmp_path_factory.mktemp("tiny-demo") / "S"
    sources = resolve_sources("demo", categories=["chair", "mug", "airplane", "table"], per_category=3)
    opts = BuildOptions(configs=(TINY_CONFIGS["hash"],), steps=60)
    with Store.create(root) as store:
        run_to_end(build_store(store, sources, opts))
    return root
