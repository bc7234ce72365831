"""A query from a file: an .inr used as it is or distilled, a mesh fitted and placed as the store
placed its shapes (PCA-aligned stores align it too), and clear errors for what cannot be used."""

from types import SimpleNamespace

import numpy as np
import pytest

from inret_engine.data.geometry import Normalization, principal_axes
from inret_engine.data.loading import load_shape
from inret_engine.errors import InrFileError, NotFoundError, UsageError
from inret_engine.functions import ImplicitFunction
from inret_engine.model_set import Target, aligns_poses
from inret_engine.progress import Progress, run_to_end
from inret_engine.query_file import OnTheFly, fit_shape, inr_from_file, queryable
from inret_engine.store import ShapeINR, save_shape_inr
from tests.conftest import TINY_CONFIGS

TURNED = Normalization.from_arrays(np.zeros(3), 1.0, np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]])).to_dict()
PLAIN = Normalization.identity().to_dict()
FEW = OnTheFly(n_uniform=400, n_surface=400, n_near=400, n_eval_surface=100, fit_steps=1, distill_steps=2)


def fake_store(normalizations):
    shapes = [SimpleNamespace(normalization=n) for n in normalizations]
    return SimpleNamespace(catalog=SimpleNamespace(shapes=lambda: shapes))


@pytest.mark.parametrize("normalizations, aligned", [([], False), ([PLAIN] * 3, False), ([TURNED] * 3, True),
                                                     ([TURNED, TURNED, PLAIN], True), ([TURNED, PLAIN, PLAIN], False)])
def test_a_store_aligns_poses_when_most_shapes_were_turned(normalizations, aligned):
    assert aligns_poses(fake_store(normalizations)) is aligned


@pytest.mark.parametrize("aligned", [True, False])
def test_a_dropped_mesh_is_placed_as_the_stores_shapes(tmp_path, aligned):
    import trimesh

    path = tmp_path / "tall.stl"
    trimesh.creation.box(extents=(0.3, 0.5, 1.0)).export(path)  # z-up: longest along z
    encoders = SimpleNamespace(aligns_poses=aligned,
                               target=lambda f: Target(None, TINY_CONFIGS["hash"], ImplicitFunction(f)))
    inr = run_to_end(fit_shape(path, encoders, FEW))
    rotation = np.asarray(inr.normalization["rotation"])
    expected = principal_axes(load_shape(path)) if aligned else np.eye(3)
    assert np.allclose(rotation, expected, atol=1e-6)
    if aligned:
        assert abs(rotation[0, 2]) == pytest.approx(1.0)  # the longest side (z in the file) becomes x, as in the store


def test_a_z_up_mesh_stands_up_when_the_query_menu_says_so(tmp_path):
    import trimesh

    path = tmp_path / "tall.stl"
    trimesh.creation.box(extents=(0.3, 0.5, 1.0)).export(path)  # z-up: tallest along z
    encoders = SimpleNamespace(aligns_poses=False,
                               target=lambda f: Target(None, TINY_CONFIGS["hash"], ImplicitFunction(f)))
    settings = OnTheFly(n_uniform=400, n_surface=400, n_near=400, n_eval_surface=100, fit_steps=1, z_up=True)
    inr = run_to_end(fit_shape(path, encoders, settings))
    norm = Normalization.from_dict(inr.normalization)
    top = norm.apply(np.array([[0.0, 0.0, 0.5]]))[0]  # the file's top face centre
    assert top[1] == pytest.approx(0.9) and abs(top[0]) < 1e-9 and abs(top[2]) < 1e-9  # now on top, along +y
    assert np.allclose(norm.invert(norm.apply(load_shape(path).vertices)), load_shape(path).vertices)


def models_reading(kind: str):
    """A stand-in model set whose one model reads ``kind`` INRs (any function)."""
    return SimpleNamespace(aligns_poses=False,
                           for_shape_inr=lambda inr: "retriever" if inr.config.kind == kind else None,
                           target=lambda f, prefer=None: Target(None, TINY_CONFIGS[kind], ImplicitFunction(f)))


@pytest.fixture(scope="module")
def octree_file(tmp_path_factory, box_gt):
    from inret_engine.fit import FitSettings, fit

    job = fit(TINY_CONFIGS["octree"], ImplicitFunction.SDF, [box_gt], ["box"], FitSettings(steps=3))
    field = run_to_end(job)
    inr = ShapeINR(config=TINY_CONFIGS["octree"], function=ImplicitFunction.SDF, tensors=field.inr_tensors(0),
                   labels={"name": "box", "shape_id": "box"}, normalization=PLAIN, fit={})
    path = tmp_path_factory.mktemp("inr") / "box.inr"
    save_shape_inr(path, inr)
    return path


def test_an_inr_a_model_reads_is_used_as_it_is(octree_file):
    records = []
    inr, note = run_to_end(inr_from_file(octree_file, models_reading("octree"), FEW), on_progress=records.append)
    assert (inr.config.kind, inr.labels["name"], note) == ("octree", "box", "")
    assert [r.stage for r in records] == ["Reading box.inr"]


def test_an_inr_no_model_reads_is_distilled_into_one_it_does(octree_file):
    records = []
    inr, note = run_to_end(inr_from_file(octree_file, models_reading("hash"), FEW), on_progress=records.append)
    assert inr.config == TINY_CONFIGS["hash"] and inr.function is ImplicitFunction.SDF
    assert note == "distilled from octree SDF" and inr.labels["shape_id"] == "box"
    assert all(isinstance(r, Progress) for r in records)
    counted = [r for r in records if r.total]
    assert counted and counted[-1].stage == "Distilling into hash SDF" and counted[-1].done == counted[-1].total == 2


def test_a_mesh_is_fitted_and_a_point_cloud_becomes_a_udf(tmp_path):
    import trimesh

    trimesh.creation.icosphere(subdivisions=2).export(tmp_path / "ball.ply")
    inr, note = run_to_end(inr_from_file(tmp_path / "ball.ply", models_reading("hash"), FEW))
    assert (inr.config.kind, inr.function, note) == ("hash", ImplicitFunction.SDF, "fitted from ball.ply")
    assert inr.labels == {"name": "ball", "category": "?", "source": str(tmp_path / "ball.ply")}
    np.save(tmp_path / "cloud.npy", np.random.default_rng(0).normal(size=(500, 3)))
    cloud, _ = run_to_end(inr_from_file(tmp_path / "cloud.npy", models_reading("hash"), FEW))
    assert cloud.function is ImplicitFunction.UDF


def test_files_that_cannot_be_queried_say_why(tmp_path):
    models = models_reading("hash")
    (tmp_path / "notes.txt").write_text("hello")
    assert not queryable(tmp_path / "notes.txt") and queryable(tmp_path / "Box.STL")
    with pytest.raises(UsageError, match=r"notes.txt: cannot query with a .txt file; give an .inr file"):
        run_to_end(inr_from_file(tmp_path / "notes.txt", models))
    with pytest.raises(NotFoundError, match="missing.inr: no such file"):
        run_to_end(inr_from_file(tmp_path / "missing.inr", models))
    (tmp_path / "bad.inr").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(InrFileError, match="bad.inr"):
        run_to_end(inr_from_file(tmp_path / "bad.inr", models))
