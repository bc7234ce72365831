"""``inret render`` and ``inret export`` on a tiny store of one demo mug."""

import numpy as np
import pytest
import torch
import trimesh

from inret_engine.build import BuildOptions, build_store, resolve_sources
from inret_engine.cli.main import main
from inret_engine.functions import ImplicitFunction
from inret_engine.render.shading import DEFAULT_STYLE
from inret_engine.store import Store

from .render.test_export import decode_png


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Ids 1-3: the mug's triplane SDF, UDF and Occ INRs (60 steps: rough, but they have a surface)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: one thread beats two on a busy 2-core machine
    root = tmp_path_factory.mktemp("render") / "S"
    options = BuildOptions(archs=("triplane",), steps=60, functions=tuple(ImplicitFunction))
    with Store.create(root) as s:
        for _ in build_store(s, resolve_sources("demo", categories=["mug"], per_category=1), options):
            pass
        assert [r.function for r in s.records()] == ["sdf", "udf", "occ"]
    yield root
    torch.set_num_threads(threads)


def covered(path) -> float:
    image = decode_png(path.read_bytes())
    return float((image != np.asarray(DEFAULT_STYLE.background, np.uint8)).any(-1).mean())


@pytest.mark.parametrize("inr_id,extra", [(1, []), (2, ["--cutaway"]), (3, ["--cut-axis", "x", "--cut-offset", "0.1"])])
def test_render_writes_a_picture_of_the_shape(store, tmp_path, capsys, inr_id, extra):
    out = tmp_path / "img" / "a.png"
    assert main(["render", str(store), str(inr_id), "--out", str(out), "--size", "64", *extra]) == 0
    assert out.is_file() and decode_png(out.read_bytes()).shape == (64, 64, 3)
    assert 0.05 < covered(out) < 0.9
    assert "mug_000" in capsys.readouterr().out


def test_render_slice(store, tmp_path):
    out = tmp_path / "slice.png"
    assert main(["render", str(store), "1", "--out", str(out), "--slice", "z=0.0", "--size", "48"]) == 0
    image = decode_png(out.read_bytes())
    assert image.shape == (48, 48, 3) and (image == 0).all(-1).any()  # the black zero contour is drawn


def test_export_mesh_and_points(store, tmp_path, capsys):
    mesh, pts = tmp_path / "m.obj", tmp_path / "p.ply"
    assert main(["export", str(store), "1", "--mesh", str(mesh), "--points", str(pts), "--n-points", "300",
                 "--resolution", "49"]) == 0
    loaded = trimesh.load(mesh, force="mesh")
    assert len(loaded.faces) > 100 and np.abs(loaded.vertices).max() <= 1.0
    cloud = trimesh.load(pts)
    assert len(cloud.vertices) == 300 and np.abs(cloud.vertices).max() <= 1.0
    assert "300 surface points" in capsys.readouterr().out


def test_bad_requests_exit_with_code_2(store, tmp_path, capsys):
    assert main(["render", str(store), "99", "--out", str(tmp_path / "x.png")]) == 2
    assert "no INR with id 99" in capsys.readouterr().err
    assert main(["render", str(store), "1", "--out", str(tmp_path / "x.png"), "--slice", "w=1"]) == 2
    assert "--slice wants AXIS=OFFSET" in capsys.readouterr().err
    assert main(["export", str(store), "1"]) == 2
    assert "nothing to export" in capsys.readouterr().err
    assert main(["export", str(store), "1", "--mesh", str(tmp_path / "m.xyz")]) == 2
    assert "--mesh wants one of" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "nowhere"), "1", "--out", str(tmp_path / "x.png")]) == 2
    assert "not an INR store" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
