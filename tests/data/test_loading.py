"""Loading, validation and normalisation of shapes, checked against analytic answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from inret_engine.data.geometry import BOUND, Normalization, ShapeGeometry, ShapeLoadError, principal_axes
from inret_engine.data.loading import load_normalized, load_shape, normalize
from inret_engine.data.sampling import sample_surface
from inret_engine.errors import InretError


def _geom(mesh: trimesh.Trimesh) -> ShapeGeometry:
    return ShapeGeometry(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64),
                         Normalization.identity())


def _extents(v: np.ndarray) -> np.ndarray:
    return v.max(axis=0) - v.min(axis=0)


def _irregular_mesh() -> ShapeGeometry:
    """Convex hull of random points: distinct principal variances, non-zero skew."""
    pts = np.random.default_rng(3).normal(size=(12, 3)) * [3.0, 1.5, 0.7]
    return _geom(trimesh.convex.convex_hull(pts))


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize("mesh", [trimesh.creation.icosphere(subdivisions=2, radius=3.0),
                                  trimesh.creation.box(extents=(2.0, 5.0, 1.0))])
def test_normalize_fits_bound_and_centres(mesh: trimesh.Trimesh) -> None:
    raw = _geom(mesh.copy().apply_translation((10.0, -4.0, 2.5)))
    out = normalize(raw)
    lo, hi = out.vertices.min(axis=0), out.vertices.max(axis=0)
    assert np.max(hi - lo) == pytest.approx(2 * BOUND, abs=1e-12)
    np.testing.assert_allclose(lo + hi, 0.0, atol=1e-12)
    np.testing.assert_allclose(out.normalization.apply(raw.vertices), out.vertices, atol=1e-12)
    np.testing.assert_allclose(out.normalization.invert(out.vertices), raw.vertices, atol=1e-12)
    assert out.faces is raw.faces


def test_normalize_box_expected_values() -> None:
    raw = _geom(trimesh.creation.box(extents=(2.0, 4.0, 1.0)))
    out = normalize(raw)
    np.testing.assert_allclose(_extents(out.vertices), [0.9, 1.8, 0.45], atol=1e-12)
    assert out.normalization.scale == pytest.approx(0.45)


def test_normalize_huge_coordinates_keeps_precision() -> None:
    base = _irregular_mesh()
    huge = ShapeGeometry(base.vertices * 2.3e8 + np.array([1e8, -3e8, 5e7]), base.faces, Normalization.identity())
    a, b = normalize(base), normalize(huge)
    np.testing.assert_allclose(b.vertices, a.vertices, atol=1e-6 * 2 * BOUND)
    np.testing.assert_allclose(b.normalization.invert(b.vertices), huge.vertices, rtol=1e-12)
    a, b = normalize(base, align=True), normalize(huge, align=True)
    np.testing.assert_allclose(b.vertices, a.vertices, atol=1e-6 * 2 * BOUND)


def test_normalize_composes_with_previous_normalization() -> None:
    raw = _irregular_mesh()
    first = normalize(raw, align=True)
    shift = Normalization.from_arrays(np.full(3, -1.0 / 3.0), 3.0, np.eye(3))
    moved = ShapeGeometry(shift.apply(first.vertices), first.faces, first.normalization.then(shift))
    np.testing.assert_allclose(moved.normalization.apply(raw.vertices), moved.vertices, atol=1e-12)
    out = normalize(moved)
    np.testing.assert_allclose(out.normalization.apply(raw.vertices), out.vertices, atol=1e-12)
    np.testing.assert_allclose(out.vertices, first.vertices, atol=1e-12)


def test_pca_alignment_of_rotated_box() -> None:
    box = trimesh.creation.box(extents=(1.0, 4.0, 2.0))
    rot = Rotation.random(random_state=7).as_matrix()
    raw = _geom(box.copy().apply_transform(np.block([[rot, np.array([[3.0], [-1.0], [2.0]])],
                                                     [np.zeros((1, 3)), np.ones((1, 1))]])))
    out = normalize(raw, align=True)
    np.testing.assert_allclose(_extents(out.vertices), [1.8, 0.9, 0.45], atol=1e-9)
    r = np.asarray(out.normalization.rotation)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(out.normalization.apply(raw.vertices), out.vertices, atol=1e-12)
    again = normalize(raw, align=True)
    np.testing.assert_array_equal(again.vertices, out.vertices)


def test_pca_alignment_is_rotation_invariant_for_generic_shape() -> None:
    raw = _irregular_mesh()
    rot = Rotation.random(random_state=11).as_matrix()
    moved = ShapeGeometry(raw.vertices @ rot.T + 5.0, raw.faces, Normalization.identity())
    a, b = normalize(raw, align=True), normalize(moved, align=True)
    np.testing.assert_allclose(b.vertices, a.vertices, atol=1e-9)
    # Monte Carlo moments of the aligned surface: variances decrease along x, y, z and the
    # third moment (skewness) is positive on each axis for this shape.
    s = sample_surface(a, 200_000, np.random.default_rng(0))
    c = s - s.mean(axis=0)
    var, skew = (c**2).mean(axis=0), (c**3).mean(axis=0) / (c**2).mean(axis=0) ** 1.5
    assert var[0] > var[1] > var[2]
    assert np.all(skew > 0.1)


def test_principal_axes_of_point_cloud_order_variances() -> None:
    pts = np.random.default_rng(0).normal(size=(2000, 3)) * [0.2, 3.0, 1.0]
    r = principal_axes(ShapeGeometry(pts, None, Normalization.identity()))
    np.testing.assert_allclose(np.abs(r), [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=0.05)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_normalization_dict_round_trip_and_identity() -> None:
    n = normalize(_irregular_mesh(), align=True).normalization
    back = Normalization.from_dict(json.loads(json.dumps(n.to_dict())))
    assert back == n
    p = np.array([[0.1, 0.2, 0.3]])
    np.testing.assert_array_equal(Normalization.identity().apply(p), p)
    with pytest.raises(ValueError):
        Normalization.from_dict({"center": [0, 0], "scale": 1.0, "rotation": np.eye(3).tolist()})


# --- loading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".off", ".stl", ".glb", ".obj", ".ply"])
def test_mesh_formats_round_trip(tmp_path, suffix: str) -> None:
    mesh = trimesh.creation.box(extents=(1.0, 2.0, 3.0))
    path = tmp_path / f"box{suffix}"
    mesh.export(path)
    geom = load_shape(path)
    assert not geom.is_point_cloud
    assert geom.vertices.dtype == np.float64 and geom.faces.dtype == np.int64
    assert len(geom.faces) == 12
    np.testing.assert_allclose(geom.bounds(), mesh.bounds, atol=1e-6)
    tri = geom.vertices[geom.faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
    assert area == pytest.approx(22.0, rel=1e-6)
    assert geom.normalization == Normalization.identity()


def test_glb_scene_is_concatenated_with_transforms(tmp_path) -> None:
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(), node_name="a")
    scene.add_geometry(trimesh.creation.box(), node_name="b",
                       transform=trimesh.transformations.translation_matrix((5, 0, 0)))
    path = tmp_path / "two.glb"
    scene.export(path)
    geom = load_shape(path)
    assert len(geom.faces) == 24
    np.testing.assert_allclose(geom.bounds(), [[-0.5, -0.5, -0.5], [5.5, 0.5, 0.5]], atol=1e-6)


def test_ply_cloud_versus_mesh(tmp_path) -> None:
    pts = np.random.default_rng(0).random((50, 3))
    trimesh.PointCloud(pts).export(tmp_path / "cloud.ply")
    trimesh.creation.icosphere(subdivisions=1).export(tmp_path / "mesh.ply")
    cloud = load_shape(tmp_path / "cloud.ply")
    assert cloud.is_point_cloud
    np.testing.assert_allclose(cloud.vertices, pts, atol=1e-6)
    assert not load_shape(tmp_path / "mesh.ply").is_point_cloud


def test_xyz_and_npy_clouds(tmp_path) -> None:
    pts = np.random.default_rng(1).random((20, 3))
    lines = ["# comment", "20"] + [f"{x} {y} {z} 0.5 0.5 0.5" for x, y, z in pts]
    (tmp_path / "c.xyz").write_text("\n".join(lines) + "\n")
    np.save(tmp_path / "c.npy", np.hstack([pts, np.ones((20, 3))]).astype(np.float32))
    xyz, npy = load_shape(tmp_path / "c.xyz"), load_shape(tmp_path / "c.npy")
    assert xyz.is_point_cloud and npy.is_point_cloud
    np.testing.assert_allclose(xyz.vertices, pts, atol=1e-12)
    np.testing.assert_allclose(npy.vertices, pts, atol=1e-6)
    assert npy.vertices.dtype == np.float64


def test_unreferenced_and_degenerate_faces_are_dropped(tmp_path) -> None:
    text = ("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nv 100 100 100\n"
            "f 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\nf 1 1 2\nf 1 2 1\n")
    (tmp_path / "t.obj").write_text(text)
    geom = load_shape(tmp_path / "t.obj")
    assert len(geom.vertices) == 4 and len(geom.faces) == 4
    np.testing.assert_allclose(geom.bounds(), [[0, 0, 0], [1, 1, 1]])


def test_load_normalized(tmp_path) -> None:
    trimesh.creation.box(extents=(3.0, 1.0, 1.0)).export(tmp_path / "b.off")
    geom = load_normalized(tmp_path / "b.off")
    np.testing.assert_allclose(_extents(geom.vertices), [1.8, 0.6, 0.6], atol=1e-9)


_BAD_FILES = {
    "empty.obj": "",
    "garbage.obj": "this is not\na mesh at all\n",
    "nan.obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nv nan 0 1\nf 1 2 3\nf 1 2 4\n",
    "flat.obj": "v 0 0 0\nv 1 0 0\nv 2 0 0\nv 3 0 0\nf 1 2 3\nf 2 3 4\n",
    "three.xyz": "0 0 0\n1 0 0\n0 1 0\n0 1 0\n",
    "words.xyz": "1 2 3\na b c\n",
    "empty.xyz": "",
    "garbage.ply": "ply\nformat nonsense\n",
}


@pytest.mark.parametrize("name", sorted(_BAD_FILES))
def test_bad_files_raise_naming_the_file(tmp_path, name: str) -> None:
    path = tmp_path / name
    path.write_text(_BAD_FILES[name])
    with pytest.raises(ShapeLoadError, match=name.replace(".", r"\.")):
        load_shape(path)


def test_bad_npy_missing_file_and_unknown_suffix(tmp_path) -> None:
    np.save(tmp_path / "flat.npy", np.zeros(10))
    (tmp_path / "shape.abc").write_text("v 0 0 0\n")
    for path, reason in [(tmp_path / "flat.npy", "expected"), (tmp_path / "nothere.obj", "no such file"),
                         (tmp_path / "shape.abc", "unknown suffix")]:
        with pytest.raises(ShapeLoadError, match=reason) as info:
            load_shape(path)
        assert path.name in str(info.value)
    assert issubclass(ShapeLoadError, InretError) and not issubclass(ShapeLoadError, ValueError)  # numpy's are bugs


def test_turn_upright_makes_z_y_keeps_handedness_and_records_the_turn() -> None:
    from inret_engine.data.loading import Z_UP_TO_Y_UP, turn_upright

    raw = ShapeGeometry(np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 3]]), None, Normalization.identity())
    turned = turn_upright(raw, "z")
    np.testing.assert_allclose(turned.vertices, [[0, 0, 0], [1, 0, 0], [0, 0, -1], [0, 3, 0]], atol=1e-12)
    assert np.linalg.det(Z_UP_TO_Y_UP) == pytest.approx(1.0)
    np.testing.assert_allclose(turned.normalization.apply(raw.vertices), turned.vertices, atol=1e-12)
    assert turn_upright(raw, "y") is raw
    with pytest.raises(ShapeLoadError, match="up-axis"):
        turn_upright(raw, "x")
