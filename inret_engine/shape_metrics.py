"""Shape and retrieval metrics as small pure functions on arrays."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def chamfer_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric Chamfer distance: the mean of the two directed mean nearest-neighbour distances.

    ``CD(A, B) = (mean_{a in A} min_b |a - b| + mean_{b in B} min_a |a - b|) / 2``, in the
    units of the inputs (Euclidean, not squared). Empty input gives ``inf``.

    Args:
        a: ``(N, 3)`` points.
        b: ``(M, 3)`` points.

    Example:
        >>> chamfer_distance(np.zeros((1, 3)), np.array([[0.0, 0.0, 2.0]]))
        2.0
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    if len(a) == 0 or len(b) == 0:
        return float("inf")
    d_ab, _ = cKDTree(b).query(a)
    d_ba, _ = cKDTree(a).query(b)
    return float(0.5 * (d_ab.mean() + d_ba.mean()))


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks of equal shape (1.0 when both are empty)."""
    pred = np.asarray(pred, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    union = np.logical_or(pred, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, truth).sum() / union)
