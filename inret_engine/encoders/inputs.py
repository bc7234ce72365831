"""What an encoder reads from an INR: its feature grid on a fixed lattice, and its MLP weights.

Grid sampling follows the INR's own architecture (paper 3.2): the lattice points are
looked up through the grid's own ``interpolate``, so octree levels are summed with
zeros for absent voxels, triplane planes and levels are summed, and hash-grid levels
are concatenated using the INR's own hash function and table. Mixing these up costs
15-54 mAP points (paper Tab. 14), which is why no encoder re-implements the lookup.

MLP weights are read as in inr2vec: every neuron of every layer is one vector, its
weight row followed by its bias, zero-padded to a common length, plus the layer's
position in the network, so the weight encoder sees a set of neurons.
"""

from __future__ import annotations

import functools

import torch

from ..fields import Field, GridConfig
from ..fields.hash_grid import HashGrid, HashGridConfig
from ..fields.octree import Octree

GRID_RESOLUTION = 32


def lattice_centres(resolution: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(R**3, 3)`` cell-centre points of an ``R^3`` lattice over ``[-1, 1]^3``, C order (x slowest)."""
    t = (torch.arange(resolution, device=device, dtype=torch.float32) + 0.5) * (2.0 / resolution) - 1.0
    return torch.stack(torch.meshgrid(t, t, t, indexing="ij"), -1).reshape(-1, 3)


@torch.no_grad()
def sample_grid(field: Field, resolution: int = GRID_RESOLUTION, chunk: int = 16384) -> torch.Tensor:
    """Feature-grid samples of every INR of a batch.

    Args:
        field: a batch of grid INRs.
        resolution: lattice cells per axis.
        chunk: lattice points evaluated at once.

    Returns:
        ``(B, C, R, R, R)`` features, ``C`` = the grid's output width.
    """
    if field.grid is None:
        raise ValueError("an MLP-only INR has no feature grid to sample")
    if isinstance(field.grid, HashGrid):
        feats = field.grid.interpolate_with(_hash_operators(field.grid.config, resolution))
        return feats.transpose(1, 2).reshape(field.batch, -1, resolution, resolution, resolution).contiguous()
    pts = lattice_centres(resolution)
    if isinstance(field.grid, Octree):
        feats = field.grid.interpolate_lattice(resolution)
        return feats.transpose(1, 2).reshape(field.batch, -1, resolution, resolution, resolution).contiguous()
    parts = [field.grid.interpolate(pts[i:i + chunk].expand(field.batch, -1, -1))
             for i in range(0, len(pts), chunk)]
    feats = torch.cat(parts, 1)  # (B, R^3, C)
    return feats.transpose(1, 2).reshape(field.batch, -1, resolution, resolution, resolution).contiguous()


@functools.lru_cache(maxsize=8)
def _hash_operators(config: HashGridConfig, resolution: int) -> tuple[torch.Tensor, ...]:
    """The lattice lookup of a hash-grid config, built once (about 10 MB for 32^3 x 4 levels)."""
    return HashGrid(config, 1).lattice_operators(lattice_centres(resolution))


def neuron_width(field_or_dims) -> int:
    """Length of one neuron vector: widest layer input + bias + layer position."""
    dims = field_or_dims.mlp.dims if isinstance(field_or_dims, Field) else list(field_or_dims)
    return max(dims[:-1]) + 2


@torch.no_grad()
def read_weights(field: Field) -> torch.Tensor:
    """Neuron vectors of every INR's MLP: ``(B, n_neurons, width)``.

    Row ``j`` of layer ``k`` becomes ``[W_k[j, :], 0-padding, b_k[j], k / (L - 1)]``.
    """
    mlp = field.mlp
    width = neuron_width(mlp.dims)
    layers = len(mlp.weights)
    rows = []
    for k, (w, b) in enumerate(zip(mlp.weights, mlp.biases)):
        B, out, inp = w.shape
        vec = w.new_zeros(B, out, width)
        vec[..., :inp] = w
        vec[..., width - 2] = b
        vec[..., width - 1] = k / max(layers - 1, 1)
        rows.append(vec)
    return torch.cat(rows, 1)


def is_grid_config(config) -> bool:
    return isinstance(config, GridConfig)
