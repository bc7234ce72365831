"""The 48 cube symmetries move a sampled grid and the decoder's points consistently."""

import pytest
import torch

from inret_engine.encoders.augment import IDENTITY, SYMMETRIES, Symmetry
from inret_engine.encoders.inputs import lattice_centres

R = 6


def field(p: torch.Tensor) -> torch.Tensor:
    """A field with no symmetry at all, so any mistake in an axis shows."""
    x, y, z = p.unbind(-1)
    return x + 2.0 * y ** 2 + 3.0 * z ** 3 + x * y - 0.5 * y * z


def sampled(fn) -> torch.Tensor:
    return fn(lattice_centres(R)).reshape(1, 1, R, R, R)


def test_there_are_48_distinct_symmetries_identity_first():
    assert len(set(SYMMETRIES)) == 48 and SYMMETRIES[0] == IDENTITY


@pytest.mark.parametrize("sym", SYMMETRIES, ids=lambda s: f"{s.perm}{s.signs}")
def test_transformed_grid_is_the_grid_of_the_transformed_shape(sym: Symmetry):
    # The transformed shape's field g satisfies g(P p) = f(p), i.e. g(q) = f(P^-1 q).
    lattice = lattice_centres(R)
    moved = sym.points(lattice)
    values_at_moved = field(lattice)  # g at the moved points equals f at the originals
    grid_g = sym.grid(sampled(field)).reshape(-1)
    # Look up g at each moved point in the transformed grid: it must be f at the original.
    cell = ((moved + 1.0) * R / 2.0 - 0.5).round().long()
    flat = (cell[:, 0] * R + cell[:, 1]) * R + cell[:, 2]
    assert torch.allclose(grid_g[flat], values_at_moved, atol=1e-5)


def test_points_and_grid_keep_batch_and_channels():
    g = torch.randn(2, 3, R, R, R)
    sym = Symmetry((2, 0, 1), (-1, 1, -1))
    assert sym.grid(g).shape == g.shape
    assert torch.equal(IDENTITY.grid(g), g)
    assert sym.points(torch.zeros(4, 5, 3)).shape == (4, 5, 3)
