"""Training augmentation: the 48 axis permutations and flips of the cube, applied to a
sampled feature grid and to the decoder's query points together.

A signed permutation ``P`` maps the cell-centred lattice of :func:`lattice_centres` onto
itself, so the grid of the transformed shape ``P S`` is the sampled grid with its spatial
axes permuted and flipped: no resampling of the INR, no interpolation error. The
decoder's points move with it (``p' = P p``) and keep their ground-truth values. With a
hundred training shapes, seeing each in 48 poses keeps the Conv3D encoder from learning
the shapes by heart; PCA-aligned shapes differ by exactly these symmetries when their
principal axes come out swapped or flipped.

Example:
    >>> g = torch.arange(8.0).reshape(1, 1, 2, 2, 2)
    >>> flip_x = Symmetry((0, 1, 2), (-1, 1, 1))
    >>> flip_x.grid(g)[0, 0, :, 0, 0].tolist()
    [4.0, 0.0]
"""

from __future__ import annotations

import dataclasses
import itertools

import torch


@dataclasses.dataclass(frozen=True)
class Symmetry:
    """``p'_i = signs[i] * p[perm[i]]``: a rotation or reflection of the cube."""

    perm: tuple[int, int, int]
    signs: tuple[int, int, int]

    def points(self, xyz: torch.Tensor) -> torch.Tensor:
        """``(..., 3)`` points of the shape -> the same points of the transformed shape."""
        return xyz[..., list(self.perm)] * xyz.new_tensor(self.signs)

    def grid(self, grid: torch.Tensor) -> torch.Tensor:
        """``(B, C, R, R, R)`` lattice samples (axes x, y, z) -> those of the transformed shape."""
        out = grid.permute(0, 1, *(2 + a for a in self.perm))
        flips = [2 + i for i, s in enumerate(self.signs) if s < 0]
        return out.flip(flips) if flips else out


IDENTITY = Symmetry((0, 1, 2), (1, 1, 1))
SYMMETRIES = tuple(Symmetry((p[0], p[1], p[2]), (s[0], s[1], s[2])) for p in itertools.permutations(range(3))
                   for s in itertools.product((1, -1), repeat=3))
"""All 48: 6 axis orders x 8 sign patterns (identity first)."""


def random_symmetry(generator: torch.Generator) -> Symmetry:
    return SYMMETRIES[int(torch.randint(len(SYMMETRIES), (1,), generator=generator))]
