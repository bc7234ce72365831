"""Ground-truth sampling checked against analytic spheres and boxes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial.distance import cdist

from inret_engine.data.geometry import Normalization, ShapeGeometry
from inret_engine.data.sampling import GroundTruth, inside_mask, sample_ground_truth, unsigned_distance

R = 0.5
SMALL = dict(n_uniform=3000, n_surface=1000, n_near=4000, n_eval_surface=500)


def _mesh(mesh: trimesh.Trimesh) -> ShapeGeometry:
    return ShapeGeometry(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64),
                         Normalization.identity())


@pytest.fixture(scope="module")
def sphere() -> ShapeGeometry:
    return _mesh(trimesh.creation.icosphere(subdivisions=4, radius=R))


@pytest.fixture(scope="module")
def sphere_gt(sphere: ShapeGeometry) -> GroundTruth:
    return sample_ground_truth(sphere, **SMALL, seed=1)


def test_layout_dtypes_and_ranges(sphere_gt: GroundTruth) -> None:
    gt = sphere_gt
    assert gt.counts == (3000, 1000, 4000)
    assert gt.points.shape == (8000, 3) and gt.surface.shape == (500, 3)
    for a in (gt.points, gt.udf, gt.sdf, gt.occ, gt.surface):
        assert a.dtype == np.float32
    assert np.all(np.abs(gt.points) <= 1.0)
    assert np.all(gt.udf >= 0)


def test_sphere_distances_and_signs(sphere_gt: GroundTruth) -> None:
    gt = sphere_gt
    r = np.linalg.norm(gt.points.astype(np.float64), axis=1)
    # Polyhedral error of a level-4 icosphere of radius 0.5 is below 1e-3.
    np.testing.assert_allclose(gt.udf, np.abs(r - R), atol=2e-3)
    clear = np.abs(r - R) > 2e-3
    np.testing.assert_array_equal(np.sign(gt.sdf[clear]), np.sign(r[clear] - R))
    np.testing.assert_array_equal(gt.occ[clear], (r[clear] < R).astype(np.float32))
    np.testing.assert_allclose(np.abs(gt.sdf), gt.udf)


def test_surface_points_and_held_out_surface(sphere_gt: GroundTruth) -> None:
    n_u, n_s, _ = sphere_gt.counts
    surf = slice(n_u, n_u + n_s)
    assert np.all(sphere_gt.udf[surf] == 0) and np.all(sphere_gt.sdf[surf] == 0)
    assert set(np.unique(sphere_gt.occ[surf])) <= {0.0, 1.0}
    np.testing.assert_allclose(np.linalg.norm(sphere_gt.points[surf], axis=1), R, atol=2e-3)
    np.testing.assert_allclose(np.linalg.norm(sphere_gt.surface, axis=1), R, atol=2e-3)
    assert cdist(sphere_gt.surface[:100], sphere_gt.points).min() > 0


def test_near_surface_offsets_follow_sigmas(sphere: ShapeGeometry) -> None:
    gt = sample_ground_truth(sphere, n_uniform=0, n_surface=0, n_near=20_000, near_sigmas=(0.01, 0.04),
                             n_eval_surface=0, seed=2)
    # The offset along the normal is N(0, sigma): its mean absolute value is sigma * sqrt(2 / pi).
    half = np.sqrt(2 / np.pi)
    assert gt.udf[:10_000].mean() == pytest.approx(0.01 * half, rel=0.05)
    assert gt.udf[10_000:].mean() == pytest.approx(0.04 * half, rel=0.05)


def test_deterministic_per_seed(sphere: ShapeGeometry) -> None:
    a = sample_ground_truth(sphere, n_uniform=100, n_surface=50, n_near=100, n_eval_surface=20, seed=5)
    b = sample_ground_truth(sphere, n_uniform=100, n_surface=50, n_near=100, n_eval_surface=20, seed=5)
    c = sample_ground_truth(sphere, n_uniform=100, n_surface=50, n_near=100, n_eval_surface=20, seed=6)
    for key, value in a.to_arrays().items():
        np.testing.assert_array_equal(value, b.to_arrays()[key])
    assert not np.array_equal(a.points, c.points)


def test_arrays_round_trip_through_npz(tmp_path, sphere_gt: GroundTruth) -> None:
    np.savez(tmp_path / "gt.npz", **sphere_gt.to_arrays())
    with np.load(tmp_path / "gt.npz") as data:
        back = GroundTruth.from_arrays(data)
    assert back.counts == sphere_gt.counts
    np.testing.assert_array_equal(back.sdf, sphere_gt.sdf)
    np.testing.assert_array_equal(back.surface, sphere_gt.surface)


def _box_without_side() -> ShapeGeometry:
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    top = box.face_normals[:, 2] > 0.5
    assert top.sum() == 2
    return _mesh(trimesh.Trimesh(box.vertices, box.faces[~top], process=False))


def test_open_box_still_has_an_inside() -> None:
    geom = _box_without_side()
    q = np.array([[0.0, 0.0, 0.0], [0.1, -0.2, -0.3], [0.0, 0.0, 0.9], [0.9, 0.9, 0.9], [-0.9, 0.0, 0.0]])
    np.testing.assert_array_equal(inside_mask(geom, q), [True, True, False, False, False])
    np.testing.assert_allclose(unsigned_distance(geom, q[:2]), [0.5, 0.2])


def test_hollow_box_with_inverted_inner_shell() -> None:
    outer = trimesh.creation.box(extents=(1.6, 1.6, 1.6))
    inner = trimesh.creation.box(extents=(0.8, 0.8, 0.8))
    inner.invert()
    geom = _mesh(trimesh.util.concatenate([outer, inner]))
    q = np.array([[0.0, 0.0, 0.0], [0.2, 0.1, 0.0], [0.6, 0.0, 0.0], [0.0, -0.7, 0.3], [0.95, 0.0, 0.0]])
    np.testing.assert_array_equal(inside_mask(geom, q), [False, False, True, True, False])
    gt = sample_ground_truth(geom, **SMALL, seed=0)
    cavity = np.all(np.abs(gt.points) < 0.35, axis=1)
    assert cavity.sum() > 50 and np.all(gt.sdf[cavity] > 0) and np.all(gt.occ[cavity] == 0)


def test_inverted_and_overlapping_shells_count_as_inside() -> None:
    a = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    b = a.copy().apply_translation((0.5, 0.0, 0.0))
    inverted = a.copy()
    inverted.invert()
    q = np.array([[0.3, 0.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(inside_mask(_mesh(trimesh.util.concatenate([a, b])), q), [True, True, False])
    np.testing.assert_array_equal(inside_mask(_mesh(inverted), q), [True, True, False])


def test_point_cloud_gives_udf_only() -> None:
    pts = np.random.default_rng(0).normal(size=(300, 3))
    pts = 0.5 * pts / np.linalg.norm(pts, axis=1, keepdims=True)
    cloud = ShapeGeometry(pts, None, Normalization.identity())
    gt = sample_ground_truth(cloud, n_uniform=200, n_surface=100, n_near=200, n_eval_surface=50, seed=0)
    assert gt.sdf is None and gt.occ is None
    assert set(gt.to_arrays()) == {"points", "udf", "surface", "counts"}
    np.testing.assert_allclose(gt.udf, cdist(gt.points.astype(np.float64), pts).min(axis=1), atol=1e-7)
    assert np.all(gt.udf[200:300] == 0)
    held_out = cdist(gt.surface.astype(np.float64), gt.points[200:300].astype(np.float64)).min(axis=1)
    assert np.all(held_out > 0)
    with pytest.raises(ValueError, match="point cloud"):
        inside_mask(cloud, pts)
    back = GroundTruth.from_arrays(gt.to_arrays())
    assert back.sdf is None and back.occ is None


def test_small_point_cloud_is_resampled() -> None:
    pts = np.random.default_rng(1).random((30, 3)) - 0.5
    gt = sample_ground_truth(ShapeGeometry(pts, None, Normalization.identity()), n_uniform=10, n_surface=100,
                             n_near=50, n_eval_surface=40, seed=0)
    assert gt.points.shape == (160, 3) and gt.surface.shape == (40, 3)
    train = {tuple(p) for p in gt.points[10:110]}
    assert not train & {tuple(p) for p in gt.surface}
