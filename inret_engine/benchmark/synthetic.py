"""Synthetic embeddings for index benchmarks (``inret bench index``, ``inret bench scale``)."""

from __future__ import annotations

import numpy as np

__all__ = ["clustered_unit_vectors"]


def clustered_unit_vectors(n: int, dim: int, clusters: int, rng: np.random.Generator, *, latent: int = 16,
                           spread: float = 1.0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``(n, dim)`` float32 points around random unit centres, and their ``(n,)`` cluster numbers.

    Each cluster varies mostly along its own ``latent`` random directions (a point is
    ``centre + spread * (B_c z) / sqrt(latent) + noise * e / sqrt(dim)`` with ``z``, ``e``
    standard normal and ``B_c`` orthonormal-ish ``(dim, latent)``), like learned embeddings of
    one category; cosine to the centre is about 0.7 and clusters overlap at their edges.
    Purely isotropic noise in 1024-d would make all neighbours within a cluster near-ties,
    a degenerate case no real encoder produces.
    """
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    bases = rng.standard_normal((clusters, dim, latent), dtype=np.float32) / np.float32(np.sqrt(dim))
    labels = rng.integers(0, clusters, n)
    out = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, 8192):
        hi = min(n, lo + 8192)
        z = rng.standard_normal((hi - lo, latent), dtype=np.float32) * np.float32(spread / np.sqrt(latent))
        out[lo:hi] = centres[labels[lo:hi]] + np.einsum("ndl,nl->nd", bases[labels[lo:hi]], z)
        out[lo:hi] += rng.standard_normal((hi - lo, dim), dtype=np.float32) * np.float32(noise / np.sqrt(dim))
    return out, labels
