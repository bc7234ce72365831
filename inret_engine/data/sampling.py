"""Ground-truth samples for fitting shape INRs: UDF, SDF and occupancy at points.

Inside/outside comes from the generalised winding number (libigl's fast
winding number), which stays meaningful for the non-watertight polygon soups of
web datasets. Distances come from libigl's AABB tree for meshes and a k-d tree
for point clouds. Work is float64; results are float32.

Example:
    >>> import trimesh
    >>> from inret_engine.data.geometry import Normalization, ShapeGeometry
    >>> m = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    >>> geom = ShapeGeometry(m.vertices, m.faces.astype("int64"), Normalization.identity())
    >>> gt = sample_ground_truth(geom, n_uniform=1000, n_surface=500, n_near=1000, n_eval_surface=100)
    >>> gt.points.shape, gt.counts
    ((2500, 3), (1000, 500, 1000))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from .geometry import ShapeGeometry, face_areas


@dataclass
class GroundTruth:
    """Training samples and held-out surface samples of one shape.

    Attributes:
        points: (M, 3) float32 in ``[-1, 1]^3``, ordered uniform, surface, near-surface.
        udf: (M,) float32 unsigned distance to the surface (0 on surface samples).
        sdf: (M,) float32 signed distance, negative inside; ``None`` for clouds.
        occ: (M,) float32, 1 inside and 0 outside; ``None`` for clouds.
        surface: (S, 3) float32 surface samples not in ``points``, for evaluation.
        counts: ``(n_uniform, n_surface, n_near)``; they sum to M.
    """

    points: np.ndarray
    udf: np.ndarray
    sdf: np.ndarray | None
    occ: np.ndarray | None
    surface: np.ndarray
    counts: tuple[int, int, int]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for ``np.savez``/safetensors; ``None`` fields are omitted."""
        out = {"points": self.points, "udf": self.udf, "surface": self.surface,
               "counts": np.asarray(self.counts, dtype=np.int64)}
        if self.sdf is not None:
            out["sdf"] = self.sdf
        if self.occ is not None:
            out["occ"] = self.occ
        return out

    @classmethod
    def from_arrays(cls, d: Mapping[str, np.ndarray]) -> GroundTruth:
        """Inverse of :meth:`to_arrays` (also accepts an ``np.load`` npz file)."""
        keys = set(d.keys())

        def f32(key: str) -> np.ndarray | None:
            return np.asarray(d[key], dtype=np.float32) if key in keys else None

        def required(key: str) -> np.ndarray:
            if key not in keys:
                raise ValueError(f"ground truth arrays lack {key!r}")
            return np.asarray(d[key], dtype=np.float32)

        c = [int(v) for v in np.asarray(d["counts"]).reshape(3)]
        counts = (c[0], c[1], c[2])
        gt = cls(points=required("points").reshape(-1, 3), udf=required("udf"), sdf=f32("sdf"), occ=f32("occ"),
                 surface=required("surface").reshape(-1, 3), counts=counts)
        if sum(counts) != len(gt.points) or len(gt.udf) != len(gt.points):
            raise ValueError(f"inconsistent ground truth arrays: counts {counts}, {len(gt.points)} points")
        return gt


class SampleCounts(TypedDict, total=False):
    """Point counts of a ground truth, as :func:`sample_ground_truth` takes them (any subset)."""

    n_uniform: int
    n_surface: int
    n_near: int
    n_eval_surface: int


def sample_ground_truth(
    geom: ShapeGeometry,
    *,
    n_uniform: int = 40_000,
    n_surface: int = 20_000,
    n_near: int = 60_000,
    near_sigmas: Sequence[float] = (0.01, 0.04),
    n_eval_surface: int = 10_000,
    seed: int = 0,
) -> GroundTruth:
    """Sample points and their distance / inside values for a normalised shape.

    Uniform points fill ``[-1, 1]^3``; surface points are area-weighted uniform
    on the triangles (for a cloud: a subset of its points, resampled with
    replacement when it has too few); near-surface points are fresh surface
    samples plus Gaussian offsets, split evenly over ``near_sigmas`` and clipped
    to ``[-1, 1]``. Surface samples get ``udf = sdf = 0``; their ``occ`` is the
    winding-number test at the point itself (about half land on each side, so
    the fitted occupancy crosses 0.5 at the surface). ``surface`` holds separate
    held-out samples. Deterministic for a given ``seed``.

    Args:
        geom: Mesh or point cloud, normally inside ``[-BOUND, BOUND]^3``.
        n_uniform: Uniform samples in the cube.
        n_surface: Samples on the surface.
        n_near: Near-surface samples.
        near_sigmas: Standard deviations of the Gaussian offsets.
        n_eval_surface: Held-out surface samples.
        seed: Seed of the numpy Generator.

    Returns:
        float32 :class:`GroundTruth`; ``sdf``/``occ`` are ``None`` for clouds.
    """
    rng = np.random.default_rng(seed)
    uniform = rng.uniform(-1.0, 1.0, size=(n_uniform, 3))
    if geom.is_point_cloud:
        train_pool, held_out = _split_cloud(geom.vertices, n_surface, n_eval_surface, rng)
        surface = _resample(train_pool, n_surface, rng)
        near_base = _resample(train_pool, n_near, rng)
        surface_eval = _resample(held_out, n_eval_surface, rng)
    else:
        surface = sample_surface(geom, n_surface, rng)
        near_base = sample_surface(geom, n_near, rng)
        surface_eval = sample_surface(geom, n_eval_surface, rng)
    near = np.clip(near_base + _gaussian_offsets(n_near, near_sigmas, rng), -1.0, 1.0)
    # Values are computed at the float32 points that are stored.
    points = np.concatenate([uniform, surface, near]).astype(np.float32)
    p64 = points.astype(np.float64)
    off_surface = np.concatenate([np.arange(n_uniform), n_uniform + n_surface + np.arange(n_near)])
    udf = np.zeros(len(points))
    udf[off_surface] = unsigned_distance(geom, p64[off_surface])
    sdf = occ = None
    if not geom.is_point_cloud:
        inside = inside_mask(geom, p64)
        sdf = np.where(inside, -udf, udf).astype(np.float32)
        occ = inside.astype(np.float32)
    return GroundTruth(points=points, udf=udf.astype(np.float32), sdf=sdf, occ=occ,
                       surface=surface_eval.astype(np.float32), counts=(n_uniform, n_surface, n_near))


def sample_surface(geom: ShapeGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` area-weighted uniform samples (n, 3) float64 on a mesh's triangles."""
    if geom.faces is None:
        raise ValueError("sample_surface needs a mesh; this geometry is a point cloud")
    areas = face_areas(geom.vertices, geom.faces)
    cdf = np.cumsum(areas)
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    idx = np.minimum(idx, len(areas) - 1)
    r1, r2 = np.sqrt(rng.random(n)), rng.random(n)
    tri = geom.vertices[geom.faces[idx]]
    w = np.stack([1.0 - r1, r1 * (1.0 - r2), r1 * r2], axis=1)
    return np.einsum("nk,nki->ni", w, tri)


def inside_mask(geom: ShapeGeometry, points: np.ndarray) -> np.ndarray:
    """Inside test (N,) bool for points (N, 3) by the generalised winding number.

    A point is inside when ``|w| > 0.5``. Taking the magnitude makes shells
    whose triangles all face inwards count as solid, while an inverted inner
    shell inside an outer one still cancels it (its cavity has ``w = 0``), and
    overlapping parts add up (``w = 2``). Open meshes get a smooth, sensible
    in-between field.

    Raises:
        ValueError: ``geom`` is a point cloud (it has no inside).
    """
    import igl

    if geom.faces is None:
        raise ValueError("inside_mask needs a mesh; a point cloud has no inside")
    v = np.ascontiguousarray(geom.vertices, dtype=np.float64)
    f = np.ascontiguousarray(geom.faces, dtype=np.int64)
    q = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    return np.abs(igl.fast_winding_number(v, f, q)) > 0.5


def unsigned_distance(geom: ShapeGeometry, points: np.ndarray) -> np.ndarray:
    """Distance (N,) float64 from points (N, 3) to the mesh, or to the nearest cloud point."""
    q = np.ascontiguousarray(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    if len(q) == 0:
        return np.zeros(0)
    v = np.ascontiguousarray(geom.vertices, dtype=np.float64)
    if geom.faces is None:
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(v).query(q, k=1, workers=-1)
        return dist
    import igl

    sq, _, _ = igl.point_mesh_squared_distance(q, v, np.ascontiguousarray(geom.faces, dtype=np.int64))
    return np.sqrt(np.maximum(sq, 0.0))


def _gaussian_offsets(n: int, sigmas: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """(n, 3) Gaussian offsets, rows split as evenly as possible over ``sigmas``."""
    if not sigmas:
        raise ValueError("near_sigmas must hold at least one standard deviation")
    per = np.full(len(sigmas), n // len(sigmas))
    per[: n % len(sigmas)] += 1
    scale = np.repeat(np.asarray(sigmas, dtype=np.float64), per)
    return rng.standard_normal((n, 3)) * scale[:, None]


def _split_cloud(
    points: np.ndarray, n_train: int, n_eval: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (training pool, held-out pool) subsets of a cloud's points.

    With enough points the pools are exactly ``n_train`` and ``n_eval`` points;
    otherwise the cloud is split in proportion (each pool at least one point).
    """
    perm = rng.permutation(len(points))
    if len(points) >= n_train + n_eval:
        return points[perm[n_eval:n_eval + n_train]], points[perm[:n_eval]]
    k = int(round(len(points) * n_eval / max(n_train + n_eval, 1)))
    if n_eval > 0:
        k = min(max(k, 1), len(points) - 1)
    return points[perm[k:]], points[perm[:k]]


def _resample(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of ``pool``: a permutation prefix when possible, else with replacement."""
    if n <= len(pool):
        return pool[rng.permutation(len(pool))[:n]]
    return pool[rng.integers(0, len(pool), size=n)]
