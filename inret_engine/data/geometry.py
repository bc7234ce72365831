"""Shape geometry containers and the similarity transform that normalises them.

A :class:`ShapeGeometry` is a triangle mesh or a point cloud in float64. Its
:class:`Normalization` records the transform that took the raw file coordinates
to the stored ones, so fitted INRs can always be mapped back to the source file.

Example:
    >>> import numpy as np
    >>> n = Normalization(center=(1.0, 0.0, 0.0), scale=2.0, rotation=Normalization.identity().rotation)
    >>> n.apply(np.array([[2.0, 0.0, 0.0]]))
    array([[2., 0., 0.]])
    >>> n.invert(n.apply(np.array([[3.0, 4.0, 5.0]])))
    array([[3., 4., 5.]])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ShapeLoadError  # noqa: F401 - re-exported: loaders raise it from here

BOUND = 0.9
"""Normalised shapes fit in ``[-BOUND, BOUND]^3``: longest bounding-box side ``2 * BOUND``."""

_IDENTITY3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


@dataclass(frozen=True)
class Normalization:
    """Similarity transform ``x_norm = ((x - center) * scale) @ rotation.T``.

    Attributes:
        center: Point subtracted first, in raw coordinates.
        scale: Uniform scale factor applied after centring (> 0).
        rotation: 3x3 row-major proper rotation (identity without PCA alignment).
    """

    center: tuple[float, float, float]
    scale: float
    rotation: tuple[tuple[float, float, float], ...]

    @classmethod
    def identity(cls) -> Normalization:
        """The transform that leaves coordinates unchanged."""
        return cls(center=(0.0, 0.0, 0.0), scale=1.0, rotation=_IDENTITY3)

    @classmethod
    def from_arrays(cls, center: np.ndarray, scale: float, rotation: np.ndarray) -> Normalization:
        """Build from numpy values: ``center`` (3,), ``rotation`` (3, 3)."""
        c = np.asarray(center, dtype=np.float64).reshape(3)
        r = np.asarray(rotation, dtype=np.float64).reshape(3, 3)
        return cls(
            center=(float(c[0]), float(c[1]), float(c[2])),
            scale=float(scale),
            rotation=tuple((float(row[0]), float(row[1]), float(row[2])) for row in r),
        )

    @property
    def center_array(self) -> np.ndarray:
        """``center`` as a (3,) float64 array."""
        return np.asarray(self.center, dtype=np.float64)

    @property
    def rotation_matrix(self) -> np.ndarray:
        """``rotation`` as a (3, 3) float64 array."""
        return np.asarray(self.rotation, dtype=np.float64).reshape(3, 3)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map raw points (N, 3) to normalised points (N, 3), float64."""
        p = np.asarray(points, dtype=np.float64)
        return ((p - self.center_array) * self.scale) @ self.rotation_matrix.T

    def invert(self, points: np.ndarray) -> np.ndarray:
        """Map normalised points (N, 3) back to raw coordinates (N, 3), float64."""
        p = np.asarray(points, dtype=np.float64)
        return (p @ self.rotation_matrix) / self.scale + self.center_array

    def then(self, other: Normalization) -> Normalization:
        """The composition ``other.apply(self.apply(x))`` as one transform."""
        r0, r1 = self.rotation_matrix, other.rotation_matrix
        center = self.center_array + (other.center_array @ r0) / self.scale
        return Normalization.from_arrays(center, self.scale * other.scale, r1 @ r0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of plain floats and lists."""
        return {
            "center": [float(v) for v in self.center],
            "scale": float(self.scale),
            "rotation": [[float(v) for v in row] for row in self.rotation],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Normalization:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on malformed input."""
        try:
            norm = cls.from_arrays(np.asarray(d["center"]), float(d["scale"]), np.asarray(d["rotation"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed normalization dict {dict(d)!r}: {exc}") from None
        if not norm.scale > 0 or not np.all(np.isfinite(norm.rotation_matrix)):
            raise ValueError(f"malformed normalization dict {dict(d)!r}: scale must be > 0")
        return norm


@dataclass
class ShapeGeometry:
    """A triangle mesh or a point cloud.

    Attributes:
        vertices: (V, 3) float64 positions (mesh vertices or cloud points).
        faces: (F, 3) int64 triangle indices, or ``None`` for a point cloud.
        normalization: Transform applied to reach these coordinates from the
            raw file (identity when raw).
    """

    vertices: np.ndarray
    faces: np.ndarray | None
    normalization: Normalization

    @property
    def is_point_cloud(self) -> bool:
        """True when the geometry has no faces."""
        return self.faces is None

    def bounds(self) -> np.ndarray:
        """Bounding box as (2, 3): row 0 min corner, row 1 max corner."""
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Triangle areas (F,) for ``vertices`` (V, 3) and ``faces`` (F, 3)."""
    tri = vertices[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return 0.5 * np.linalg.norm(cross, axis=1)


def principal_axes(geom: ShapeGeometry) -> np.ndarray:
    """Proper rotation (3, 3) whose rows are the shape's principal axes.

    The covariance is area-weighted over the triangles (exact integral over each
    triangle) for meshes and over the points for clouds. Rows are ordered by
    decreasing variance. Each axis is signed so the surface's third central
    moment along it is positive; an axis with a negligible third moment keeps the
    sign that makes its largest component positive. If the result is a
    reflection, the axis with the least decisive sign is flipped (det = +1).

    Args:
        geom: Mesh or point cloud.

    Returns:
        (3, 3) float64 rotation ``R``; ``x @ R.T`` expresses ``x`` in the axes.
    """
    lo, hi = geom.vertices.min(axis=0), geom.vertices.max(axis=0)
    extent = float(np.max(hi - lo)) or 1.0
    v = (geom.vertices - 0.5 * (lo + hi)) / extent
    if geom.faces is None:
        corners, weights = v[:, None, :], np.full(len(v), 1.0 / len(v))
    else:
        corners = v[geom.faces]
        areas = face_areas(v, geom.faces)
        weights = areas / areas.sum()
    mean = weights @ corners.mean(axis=1)
    c = corners - mean  # (E, k, 3)
    if c.shape[1] == 3:
        s = c.sum(axis=1)
        second = np.einsum("e,eki,ekj->ij", weights, c, c) + np.einsum("e,ei,ej->ij", weights, s, s)
        cov = second / 12.0
    else:
        cov = np.einsum("e,ei,ej->ij", weights, c[:, 0], c[:, 0])
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    axes = evecs[:, order].T  # rows, decreasing variance
    third = np.array([_third_moment(c @ a, weights) for a in axes])
    std = np.sqrt(np.maximum(evals[order], 1e-300))
    skew = third / std**3
    decisive = np.abs(skew) > 1e-6
    for i, a in enumerate(axes):
        flip = skew[i] < 0 if decisive[i] else a[np.argmax(np.abs(a))] < 0
        if flip:
            axes[i] = -a
    if np.linalg.det(axes) < 0:
        weakest = int(np.argmin(np.where(decisive, np.abs(skew), 0.0)))
        axes[weakest] = -axes[weakest]
    return axes


def _third_moment(u: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of ``u^3`` over elements, ``u`` (E, k) linear on each element.

    For a triangle (k=3) the exact mean of a linear function cubed is
    ``h3(u_a, u_b, u_c) / 10`` (complete homogeneous symmetric polynomial).
    """
    if u.shape[1] == 1:
        return float(weights @ u[:, 0] ** 3)
    a, b, c = u[:, 0], u[:, 1], u[:, 2]
    h3 = (
        a**3 + b**3 + c**3
        + a * a * (b + c) + b * b * (a + c) + c * c * (a + b)
        + a * b * c
    )
    return float(weights @ h3) / 10.0
