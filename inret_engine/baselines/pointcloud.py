"""The point-cloud baseline's encoder: a small PointNet++ set-abstraction network.

INRet (section 4, App. 7.4) encodes 2,048 sphere-traced surface points with PointNeXt-S
trained on the category labels and keeps its 512-d backbone output as the embedding.
This module builds a smaller member of the same family, in plain torch (no CUDA ops):

* two set-abstraction (SA) levels, each: farthest point sampling of centres, ball query
  (the ``k`` nearest points, those outside the radius replaced by the nearest one),
  relative coordinates divided by the radius (PointNeXt's normalisation) concatenated
  with the neighbours' features, a shared MLP (1x1 conv + BatchNorm + ReLU) and a max
  over the neighbours;
* a global SA (shared MLP on every remaining point, max over all of them);
* a head ``Linear -> BatchNorm -> ReLU -> Dropout -> Linear``; the embedding is the
  feature entering the last ``Linear`` (the classifier).

How it differs from PointNeXt-S (``pointnext-s.yaml`` for ModelNet40): PointNeXt-S has a
stem MLP, four strided SA stages (2048 -> 1024 -> 512 -> 256 -> 128 points, widths 64 to
512, radius 0.15 growing x1.5 per stage) with two-layer residual SA MLPs and a height
channel as input; here there are two SA stages (2048 -> 256 -> 64 points with 16 neighbours
in the quick preset, 2048 -> 512 -> 128 with 32 in the full one), MLPs without residuals,
narrower widths, xyz only, and the global feature is 256-d in the quick preset rather
than 512. Like PointNeXt-S it has no InvResMLP blocks (those come with PointNeXt-B and
larger). Training keeps a light part of PointNeXt's recipe (AdamW, cosine
schedule, label smoothing, random rotation about the up axis, scaling and jitter), see
:mod:`.training`.

Example:
    >>> net = PointNetPP(PointNetSettings(centres=(64, 16), neighbours=8), n_classes=3)
    >>> net.embed(torch.rand(2, 256, 3)).shape
    torch.Size([2, 128])
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class PointNetSettings:
    """Sizes of :class:`PointNetPP`.

    Attributes:
        centres: centres kept by the two SA levels (farthest point sampling).
        radii: ball radius of the two SA levels (shapes fill ``[-0.9, 0.9]^3``).
        neighbours: points grouped per centre.
        widths: output channels of the shared MLP layers of SA 1, SA 2 and the global SA.
        embed_dim: width of the embedding (the head's hidden layer).
        dropout: dropout before the classifier.
    """

    centres: tuple[int, int] = (256, 64)
    radii: tuple[float, float] = (0.2, 0.4)
    neighbours: int = 16
    widths: tuple[tuple[int, ...], ...] = ((32, 32, 64), (64, 64, 128), (128, 256))
    embed_dim: int = 128
    dropout: float = 0.4


def farthest_point_sample(points: torch.Tensor, m: int) -> torch.Tensor:
    """Indices of ``m`` points chosen greedily, each the farthest from those already chosen.

    Starts from point 0 (clouds from random rays come in random order).

    Args:
        points: ``(B, N, 3)``.
        m: points to keep, at most ``N``.

    Returns:
        ``(B, m)`` int64 indices into ``N``, distinct while the cloud has ``m`` distinct points.

    Example:
        >>> line = torch.arange(11.0)[None, :, None].expand(1, 11, 3)
        >>> farthest_point_sample(line, 4).tolist()
        [[0, 10, 5, 2]]
    """
    b, n, _ = points.shape
    if not 0 < m <= n:
        raise ValueError(f"cannot keep {m} of {n} points")
    idx = torch.zeros(b, m, dtype=torch.long, device=points.device)
    nearest = torch.full((b, n), float("inf"), device=points.device)
    far = torch.zeros(b, dtype=torch.long, device=points.device)
    rows = torch.arange(b, device=points.device)
    for i in range(m):
        idx[:, i] = far
        centre = points[rows, far]
        nearest = torch.minimum(nearest, (points - centre[:, None]).square().sum(-1))
        far = nearest.argmax(-1)
    return idx


def ball_query(points: torch.Tensor, centres: torch.Tensor, radius: float, k: int) -> torch.Tensor:
    """The ``k`` nearest points of each centre, those farther than ``radius`` replaced by the nearest.

    Args:
        points: ``(B, N, 3)``.
        centres: ``(B, S, 3)``.
        radius: ball radius.
        k: neighbours per centre, at most ``N``.

    Returns:
        ``(B, S, k)`` int64 indices into ``N``.
    """
    d2 = torch.cdist(centres, points).square()
    near, idx = d2.topk(k, dim=-1, largest=False)
    return torch.where(near > radius * radius, idx[..., :1], idx)


def gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` per batch: ``(B, N, C)`` and ``(B, ...)`` indices -> ``(B, ..., C)``."""
    b = x.shape[0]
    flat = idx.reshape(b, -1)
    out = torch.gather(x, 1, flat[..., None].expand(-1, -1, x.shape[-1]))
    return out.reshape(*idx.shape, x.shape[-1])


def shared_mlp(in_channels: int, widths: tuple[int, ...]) -> nn.Sequential:
    """1x1 convolutions with BatchNorm and ReLU on ``(B, C, S, K)``."""
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Conv2d(in_channels, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        in_channels = w
    return nn.Sequential(*layers)


class SetAbstraction(nn.Module):
    """Sample centres, group neighbours, shared MLP, max over each group.

    With ``centres=None`` it is the global SA: one group holding every point (absolute xyz).
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...], centres: int | None = None,
                 radius: float = 1.0, neighbours: int = 32):
        super().__init__()
        self.centres, self.radius, self.neighbours = centres, radius, neighbours
        self.mlp = shared_mlp(in_channels + 3, widths)
        self.out_channels = widths[-1]

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, N, 3)`` points and ``(B, N, C)`` features (or None) -> ``(B, S, 3)``, ``(B, S, C')``."""
        if self.centres is None:
            grouped = xyz[:, None] if feats is None else torch.cat([xyz, feats], -1)[:, None]
            centres = xyz.new_zeros(xyz.shape[0], 1, 3)
        else:
            centres = gather(xyz, farthest_point_sample(xyz, self.centres))
            nb = ball_query(xyz, centres, self.radius, self.neighbours)
            grouped = (gather(xyz, nb) - centres[:, :, None]) / self.radius
            if feats is not None:
                grouped = torch.cat([grouped, gather(feats, nb)], -1)
        out = self.mlp(grouped.permute(0, 3, 1, 2)).amax(-1)
        return centres, out.transpose(1, 2)


class PointNetPP(nn.Module):
    """Two SA levels, a global SA and a classifier head (see the module notes)."""

    def __init__(self, settings: PointNetSettings, n_classes: int):
        super().__init__()
        s = settings
        self.sa = nn.ModuleList()
        channels = 0
        for i, widths in enumerate(s.widths):
            local = i < len(s.centres)
            self.sa.append(SetAbstraction(channels, widths, s.centres[i] if local else None,
                                          s.radii[i] if local else 1.0, s.neighbours))
            channels = widths[-1]
        self.hidden = nn.Sequential(nn.Linear(channels, s.embed_dim, bias=False), nn.BatchNorm1d(s.embed_dim),
                                    nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(s.dropout), nn.Linear(s.embed_dim, n_classes))

    def embed(self, points: torch.Tensor) -> torch.Tensor:
        """``(B, N, 3)`` points -> ``(B, embed_dim)`` features entering the classifier (not normalised)."""
        xyz, feats = points, None
        for sa in self.sa:
            xyz, feats = sa(xyz, feats)
        assert feats is not None, "a PointNet++ has at least one set-abstraction layer"
        return self.hidden(feats[:, 0])

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """``(B, N, 3)`` points -> ``(B, n_classes)`` logits."""
        return self.classifier(self.embed(points))
