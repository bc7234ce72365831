"""A stack of B independent MLPs evaluated together with batched matmuls.

Fitting thousands of INRs one by one wastes the machine; stacking their weights as
``(B, out, in)`` tensors lets one ``baddbmm`` per layer train a whole batch, and Adam's
per-element updates keep the INRs exactly independent.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class BatchedMLP(nn.Module):
    """B MLPs of identical shape.

    Args:
        dims: layer widths ``[in, hidden..., out]``.
        batch: number of MLPs B.
        activation: ``"relu"`` or ``"sine"`` (SIREN, with frequency ``omega0``).
        omega0: SIREN frequency of every sine layer.

    Shapes:
        ``forward(x)``: ``(B, N, dims[0]) -> (B, N, dims[-1])``.
    """

    def __init__(self, dims: list[int], batch: int, *, activation: str = "relu", omega0: float = 30.0):
        super().__init__()
        if activation not in ("relu", "sine"):
            raise ValueError(f"unknown activation {activation!r}")
        if len(dims) < 2:
            raise ValueError("an MLP needs at least an input and an output width")
        self.dims = list(dims)
        self.activation = activation
        self.omega0 = float(omega0)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.zeros(batch, o, i)) for i, o in zip(dims[:-1], dims[1:]))
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(batch, o)) for o in dims[1:])

    @property
    def batch(self) -> int:
        return self.weights[0].shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
            if k < last:
                x = torch.sin(self.omega0 * x) if self.activation == "sine" else torch.relu(x)
        return x

    @torch.no_grad()
    def init_shared(self, seed: int) -> None:
        """Give every MLP of the batch the same initial weights, drawn from ``seed``.

        The MLP weight encoder relies on INRs of one config sharing their
        initialisation (inr2vec), so the seed comes from the config, never the shape.
        """
        gen = torch.Generator().manual_seed(seed)
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            fan_in = w.shape[2]
            if self.activation == "sine":
                bound = 1.0 / fan_in if k == 0 else math.sqrt(6.0 / fan_in) / self.omega0
            else:
                bound = 1.0 / math.sqrt(fan_in)
            w0 = (torch.rand(w.shape[1:], generator=gen) * 2 - 1) * bound
            b0 = (torch.rand(b.shape[1:], generator=gen) * 2 - 1) / math.sqrt(fan_in)
            w.copy_(w0.expand_as(w))
            b.copy_(b0.expand_as(b))

    def inr_tensors(self, i: int, prefix: str = "mlp") -> dict[str, torch.Tensor]:
        """The weights of MLP ``i`` as named ``(out, in)`` / ``(out,)`` tensors."""
        out = {}
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            out[f"{prefix}.{k}.weight"] = w[i].detach().clone()
            out[f"{prefix}.{k}.bias"] = b[i].detach().clone()
        return out

    @torch.no_grad()
    def load_inr_tensors(self, i: int, tensors: dict[str, torch.Tensor], prefix: str = "mlp") -> None:
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            w[i].copy_(tensors[f"{prefix}.{k}.weight"])
            b[i].copy_(tensors[f"{prefix}.{k}.bias"])

    @staticmethod
    def expected_shapes(dims: list[int], prefix: str = "mlp") -> dict[str, tuple[int, ...]]:
        """Tensor name -> shape for one MLP of widths ``dims``."""
        shapes: dict[str, tuple[int, ...]] = {}
        for k, (i, o) in enumerate(zip(dims[:-1], dims[1:])):
            shapes[f"{prefix}.{k}.weight"] = (o, i)
            shapes[f"{prefix}.{k}.bias"] = (o,)
        return shapes
