"""The INRet networks: Conv3D grid encoder, MLP weight encoder, their pair, and the shape decoder.

Paper 7.2: the Conv3D encoder has five stride-2 3D convolutions, channels doubling,
GroupNorm + ReLU, and a linear layer to 512; the weight encoder is a shared per-neuron
MLP (4 linear layers with BatchNorm + ReLU) max-pooled over neurons, 512-d for grid INRs
and 1024-d for MLP-only INRs (inr2vec). An INR embedding is their concatenation: 1024-d.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Conv3DEncoder(nn.Module):
    """``(B, C, R, R, R) -> (B, out_dim)``; R = 32 gives 1^3 after five stride-2 convs.

    Kernels are 3^3 (the paper's size is not legible in our copy); 4^3 cost 2.4x more
    on CPU for no gain we could measure.
    """

    def __init__(self, in_channels: int, out_dim: int = 512, base_channels: int = 16, resolution: int = 32):
        super().__init__()
        layers, c = [], in_channels
        for i in range(5):
            nxt = base_channels * 2 ** i
            layers += [nn.Conv3d(c, nxt, kernel_size=3, stride=2, padding=1),
                       nn.GroupNorm(min(8, nxt), nxt), nn.ReLU(inplace=True)]
            c = nxt
        self.convs = nn.Sequential(*layers)
        side = max(resolution // 32, 1)
        self.head = nn.Linear(c * side ** 3, out_dim)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(grid).flatten(1))


class WeightEncoder(nn.Module):
    """Shared per-neuron MLP + max-pool: ``(B, n_neurons, width) -> (B, out_dim)``."""

    def __init__(self, width: int, out_dim: int = 512):
        super().__init__()
        h = out_dim // 2
        dims = [width, h, h, out_dim, out_dim]
        layers = []
        for i, o in zip(dims[:-1], dims[1:]):
            layers += [nn.Conv1d(i, o, 1), nn.BatchNorm1d(o), nn.ReLU(inplace=True)]
        self.mlp = nn.Sequential(*layers)

    def forward(self, neurons: torch.Tensor) -> torch.Tensor:
        return self.mlp(neurons.transpose(1, 2)).amax(dim=2)


class EmbeddingEncoder(nn.Module):
    """The Emb. Encoder of one (architecture, function): 1024-d embeddings."""

    def __init__(self, *, neuron_width: int, grid_channels: int | None, embed_dim: int = 1024,
                 resolution: int = 32, base_channels: int = 16):
        super().__init__()
        self.grid_channels = grid_channels
        if grid_channels is None:
            self.conv = None
            self.weights = WeightEncoder(neuron_width, embed_dim)
        else:
            self.conv = Conv3DEncoder(grid_channels, embed_dim // 2, base_channels, resolution)
            self.weights = WeightEncoder(neuron_width, embed_dim - embed_dim // 2)

    def forward(self, neurons: torch.Tensor, grid: torch.Tensor | None = None) -> torch.Tensor:
        w = self.weights(neurons)
        if self.conv is None:
            return w
        if grid is None:
            raise ValueError("this encoder needs the INR's sampled feature grid")
        return torch.cat([self.conv(grid), w], 1)


def positional_encoding(x: torch.Tensor, frequencies: int) -> torch.Tensor:
    """NeRF encoding ``[x, sin(2^k pi x), cos(2^k pi x)]``: ``(..., 3) -> (..., 3 + 6 * frequencies)``."""
    scales = (2.0 ** torch.arange(frequencies, device=x.device, dtype=x.dtype)) * math.pi
    xs = (x.unsqueeze(-1) * scales).flatten(-2)
    return torch.cat([x, torch.sin(xs), torch.cos(xs)], -1)


class ShapeDecoder(nn.Module):
    """Predicts an implicit function value from ``[embedding, encoded xyz]`` (inr2vec's decoder).

    The first layer is split into an embedding part (computed once per INR) and a point
    part, which is the same maths as concatenating but far cheaper on CPU.

    Shapes:
        ``forward(emb, xyz)``: ``(B, E), (B, N, 3) -> (B, N)``.
    """

    def __init__(self, embed_dim: int = 1024, hidden: int = 128, layers: int = 3, frequencies: int = 6):
        super().__init__()
        self.frequencies = frequencies
        self.from_embedding = nn.Linear(embed_dim, hidden)
        self.from_point = nn.Linear(3 + 6 * frequencies, hidden, bias=False)
        body = []
        for _ in range(layers - 1):
            body += [nn.Linear(hidden, hidden), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*body, nn.Linear(hidden, 1))

    def forward(self, emb: torch.Tensor, xyz: torch.Tensor) -> torch.Tensor:
        h = self.from_embedding(emb).unsqueeze(1) + self.from_point(positional_encoding(xyz, self.frequencies))
        return self.body(torch.relu(h)).squeeze(-1)


class ProbeEncoder(nn.Module):
    """The shared encoder: ``(B, C, R, R, R)`` probe grids -> ``(B, C * (R / pool)^3)`` embeddings.

    The embedding is the probe grid average-pooled to ``(R / pool)^3`` cells (already a
    strong label-free shape descriptor: cosine over it finds a shape's category about as
    well as the true distance field does) plus a learned Conv3D correction whose last
    layer starts at zero, so training starts from that descriptor and can only move away
    from it where the contrastive objective gains. ``base_channels=0`` leaves the
    correction out: the embedding is then the pooled descriptor itself.
    """

    def __init__(self, channels: int, embed_dim: int = 1024, base_channels: int = 16, resolution: int = 32):
        super().__init__()
        cells = round((embed_dim / channels) ** (1 / 3))
        if channels * cells ** 3 != embed_dim or resolution % cells:
            raise ValueError(f"embed_dim {embed_dim} must be channels ({channels}) x a cube dividing {resolution}^3")
        self.pool = resolution // cells
        self.conv = Conv3DEncoder(channels, embed_dim, base_channels, resolution) if base_channels > 0 else None
        if self.conv is not None:
            nn.init.zeros_(self.conv.head.weight)
            nn.init.zeros_(self.conv.head.bias)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        pooled = nn.functional.avg_pool3d(grid, self.pool).flatten(1)
        return pooled if self.conv is None else pooled + self.conv(grid)
