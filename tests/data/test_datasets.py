"""Dataset discovery on tiny fake trees of every layout, plus one check on the real dataset."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from inret_engine.data.datasets import ShapeSource, detect_layout, discover_shapes
from inret_engine.data.geometry import BOUND
from inret_engine.data.loading import load_normalized
from inret_engine.errors import UsageError

_TETRA = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"


def _write(path: Path, text: str = _TETRA) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _ids(sources: list[ShapeSource]) -> list[str]:
    return [s.shape_id for s in sources]


@pytest.fixture
def modelnet(tmp_path: Path) -> Path:
    for rel in ["Car/train/b", "Car/train/a", "Car/test/c", "chair/train/d", "chair/test/e", "chair/test/f",
                "Mug/val/g"]:
        _write(tmp_path / f"{rel}.obj")
    _write(tmp_path / "Car/train/.hidden.obj")
    _write(tmp_path / "Car/train/notes.txt", "not a shape")
    _write(tmp_path / ".git/train/x.obj")
    _write(tmp_path / "README.md", "readme")
    return tmp_path


def test_modelnet_layout_sorted_with_ids(modelnet: Path) -> None:
    assert detect_layout(modelnet) == "modelnet"
    sources = discover_shapes(modelnet)
    assert _ids(sources) == ["Car/test/c", "Car/train/a", "Car/train/b", "Mug/val/g",
                             "chair/test/e", "chair/test/f", "chair/train/d"]
    first = sources[0]
    assert (first.name, first.category, first.split) == ("c", "Car", "test")
    assert first.path == modelnet / "Car/test/c.obj"


def test_modelnet_filters(modelnet: Path) -> None:
    assert _ids(discover_shapes(modelnet, splits=["test"])) == ["Car/test/c", "chair/test/e", "chair/test/f"]
    # N of each category in every split asked for: test shapes sort first, train ones still come
    assert _ids(discover_shapes(modelnet, categories=["CHAIR", "car"], per_category=1)) == [
        "Car/test/c", "Car/train/a", "chair/test/e", "chair/train/d"]
    assert _ids(discover_shapes(modelnet, splits=["train", "test"], per_category=2)) == [
        "Car/test/c", "Car/train/a", "Car/train/b", "chair/test/e", "chair/test/f", "chair/train/d"]
    assert _ids(discover_shapes(modelnet, splits=["train"], categories=["car"], per_category=5)) == [
        "Car/train/a", "Car/train/b"]


def test_filter_errors_list_available_names(modelnet: Path) -> None:
    with pytest.raises(UsageError, match=r"Plane.*available.*'Car'.*'Mug'.*'chair'"):
        discover_shapes(modelnet, categories=["car", "Plane"])
    with pytest.raises(UsageError, match=r"unknown split.*'test'.*'train'.*'val'"):
        discover_shapes(modelnet, splits=["dev"])
    with pytest.raises(UsageError, match="no shapes left"):
        discover_shapes(modelnet, splits=["val"], categories=["car"])
    with pytest.raises(UsageError, match="per_category"):
        discover_shapes(modelnet, per_category=0)


def test_shapenet_layout(tmp_path: Path) -> None:
    for synset, model in [("03001627", "zz"), ("03001627", "aa"), ("02691156", "mm")]:
        _write(tmp_path / synset / model / "models" / "model_normalized.obj")
    _write(tmp_path / "02691156" / "broken" / "models" / "other.obj")
    assert detect_layout(tmp_path) == "shapenet"
    sources = discover_shapes(tmp_path)
    assert _ids(sources) == ["02691156/mm", "03001627/aa", "03001627/zz"]
    assert all(s.split == "" for s in sources)
    assert sources[1].name == "aa" and sources[1].category == "03001627"
    assert sources[1].path.name == "model_normalized.obj"


@pytest.mark.parametrize("use_model_dir", [False, True])
def test_pix3d_layout(tmp_path: Path, use_model_dir: bool) -> None:
    for cat, name in [("table", "IKEA_B"), ("chair", "IKEA_A"), ("chair", "IKEA_C")]:
        _write(tmp_path / "model" / cat / name / "model.obj")
    _write(tmp_path / "img" / "chair" / "0001.png", "png")
    root = tmp_path / "model" if use_model_dir else tmp_path
    assert detect_layout(root) == "pix3d"
    sources = discover_shapes(root, categories=["Chair"])
    assert _ids(sources) == ["chair/IKEA_A", "chair/IKEA_C"]
    assert sources[0].path == tmp_path / "model/chair/IKEA_A/model.obj"


def test_plain_layout_prefers_mesh_suffix_for_shared_stem(tmp_path: Path) -> None:
    _write(tmp_path / "cup" / "one.ply", "ply")
    _write(tmp_path / "cup" / "one.obj")
    _write(tmp_path / "cup" / "two.xyz", "0 0 0\n")
    _write(tmp_path / "bowl" / "three.npy", "")
    _write(tmp_path / "loose.off")
    assert detect_layout(tmp_path) == "plain"
    sources = discover_shapes(tmp_path)
    assert _ids(sources) == ["loose", "bowl/three", "cup/one", "cup/two"]
    assert sources[2].path.suffix == ".obj"
    assert [s.category for s in sources] == ["", "bowl", "cup", "cup"]
    with pytest.raises(UsageError, match="unknown split"):
        discover_shapes(tmp_path, splits=["train"])


def test_single_file_and_empty_folder(tmp_path: Path) -> None:
    f = _write(tmp_path / "shape.OBJ")
    assert detect_layout(f) == "file"
    assert discover_shapes(f) == [ShapeSource(path=f, name="shape", category="", split="", shape_id="shape")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no shape files"):
        discover_shapes(tmp_path / "empty")
    with pytest.raises(UsageError, match="no such"):
        discover_shapes(tmp_path / "missing")
    with pytest.raises(UsageError, match="not a shape file"):
        detect_layout(_write(tmp_path / "notes.txt", "x"))


def _datasets_root() -> Path:
    env = os.environ.get("INRET_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


@pytest.mark.dataset
def test_real_psb_shrec12() -> None:
    root = _datasets_root() / "psb_shrec12"
    if not root.is_dir():
        pytest.skip(f"dataset psb_shrec12 not found at {root} (set INRET_DATASETS to the datasets folder)")
    assert detect_layout(root) == "modelnet"
    sources = discover_shapes(root, splits=["test"], categories=["Car", "Jet", "Cup"], per_category=2)
    assert len(sources) == 6
    assert [s.category for s in sources] == ["Car", "Car", "Cup", "Cup", "Jet", "Jet"]
    assert all(s.split == "test" and s.shape_id == f"{s.category}/test/{s.name}" for s in sources)
    every = discover_shapes(root)  # SHREC'12 files (D<5 digits>) z-up by the manifest, PSB files (m<N>) y-up
    assert all(s.up_axis == ("z" if s.name.startswith("D") else "y") for s in every)
    assert sum(s.up_axis == "z" for s in every) == 248
    # Quadruped/m94 (~4.6e8 units) where present; otherwise the mesh farthest from the origin.
    hits = sorted(root.glob("Quadruped/*/m94.*"))
    if hits:
        path = hits[0]
    else:
        with open(root / "manifest.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        path = root / max(rows, key=lambda r: float(r["bbox_center_norm"]))["path"]
    geom = load_normalized(path, align=True)
    ext = geom.vertices.max(axis=0) - geom.vertices.min(axis=0)
    assert np.max(ext) == pytest.approx(2 * BOUND, abs=1e-9)
    np.testing.assert_allclose(geom.vertices.max(axis=0) + geom.vertices.min(axis=0), 0.0, atol=1e-9)


# --- up-axis: a rule per file family, read from the dataset's manifest ----------------------
def _manifest(root: Path, rows: list[tuple[str, str]]) -> None:
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "category", "source_benchmark", "split"])
        for path, family in rows:
            writer.writerow([path, path.split("/")[0], family, path.split("/")[1]])


def test_files_a_manifest_names_as_shrec12_are_z_up_the_others_y_up(modelnet: Path) -> None:
    _manifest(modelnet, [("Car/train/a.obj", "SHREC2012-Generic"), ("Car/train/b.obj", "PSB"),
                         ("chair/test/e.obj", "SHREC2012-Generic"), ("Car/test/missing.obj", "SHREC2012-Generic")])
    axes = {s.shape_id: s.up_axis for s in discover_shapes(modelnet)}
    assert axes == {"Car/test/c": "y", "Car/train/a": "z", "Car/train/b": "y", "Mug/val/g": "y",
                    "chair/test/e": "z", "chair/test/f": "y", "chair/train/d": "y"}


def test_no_manifest_or_an_unreadable_one_leaves_every_file_y_up(modelnet: Path) -> None:
    assert {s.up_axis for s in discover_shapes(modelnet)} == {"y"}
    (modelnet / "manifest.csv").write_bytes(b"\xff\xfe not csv \x00")
    assert {s.up_axis for s in discover_shapes(modelnet)} == {"y"}
    (modelnet / "manifest.csv").write_text("name,kind\nCar/train/a.obj,SHREC2012-Generic\n")  # other columns
    assert {s.up_axis for s in discover_shapes(modelnet)} == {"y"}


def test_a_z_up_source_is_built_upright_and_its_turn_recorded(modelnet: Path, tmp_path: Path) -> None:
    from inret_engine.build import resolve_sources, source_geometry

    tall = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 4\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"  # tallest along z
    _write(modelnet / "Car/train/a.obj", tall)
    _write(modelnet / "Car/train/b.obj", tall)
    _manifest(modelnet, [("Car/train/a.obj", "SHREC2012-Generic"), ("Car/train/b.obj", "PSB")])
    plain = resolve_sources(modelnet, categories=["Car"], splits=["train"])
    assert all(np.ptp(s.load().vertices, 0).argmax() == 2 for s in plain)  # by default files load as they lie
    sources = {s.shape_id: s for s in resolve_sources(modelnet, categories=["Car"], splits=["train"], upright=True)}
    upright, as_is = sources["Car/train/a"].load(), sources["Car/train/b"].load()
    assert np.ptp(upright.vertices, 0).argmax() == 1 and np.ptp(as_is.vertices, 0).argmax() == 2
    # read again from its file under the recorded normalisation (repair / refit): the same place
    from types import SimpleNamespace

    record = SimpleNamespace(source=str(modelnet / "Car/train/a.obj"), category="Car",
                             normalization=upright.normalization.to_dict())
    np.testing.assert_allclose(source_geometry(record).vertices, upright.vertices, atol=1e-12)
