"""The multi-view baseline's encoder: an MVCNN-style network with max view-pooling.

INRet (section 4, App. 7.4) renders 12 views at 224 x 224 on a circle around the shape
and encodes them with View-GCN trained on the category labels, keeping its 1536-d
global feature as the embedding. This module builds the simpler MVCNN member of that
family (Su et al. 2015), in plain torch:

* one small 2D CNN shared by all views: stages of ``conv3x3 (stride 2) -> BatchNorm ->
  ReLU -> conv3x3 -> BatchNorm -> ReLU``, then a global average pool per view;
* view-pooling: the element-wise max over the views;
* a head ``Linear -> BatchNorm -> ReLU -> Dropout -> Linear``; the embedding is the
  feature entering the last ``Linear`` (the classifier).

How it differs from View-GCN: View-GCN runs an ImageNet-pretrained ResNet-18 (or VGG) per
view, builds a k-NN graph over the camera positions, and applies hierarchical graph
convolutions with local and non-local message passing and selective view sampling,
concatenating pooled features of three graph levels (3 x 512 = 1536). Here there is no
view graph and no pretraining (this machine has no network to fetch weights), the CNN is
a few stages trained from scratch, and views are pooled by a single max, so the order of
the views does not matter. Views are smaller than the paper's 224 px by default (see
:mod:`.training`).

Example:
    >>> net = MultiViewCNN(MultiViewSettings(widths=(8, 16)), n_classes=3)
    >>> net.embed(torch.rand(2, 12, 3, 32, 32)).shape
    torch.Size([2, 128])
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class MultiViewSettings:
    """Sizes of :class:`MultiViewCNN`.

    Attributes:
        widths: channels of the CNN stages; each stage halves the image size.
        embed_dim: width of the embedding (the head's hidden layer).
        dropout: dropout before the classifier.
    """

    widths: tuple[int, ...] = (16, 32, 64, 128)
    embed_dim: int = 128
    dropout: float = 0.4


def conv_bn(in_channels: int, out_channels: int, stride: int) -> list[nn.Module]:
    """``conv3x3 -> BatchNorm -> ReLU`` layers."""
    return [nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class MultiViewCNN(nn.Module):
    """Shared per-view CNN, max over views, classifier head (see the module notes)."""

    def __init__(self, settings: MultiViewSettings, n_classes: int):
        super().__init__()
        s = settings
        layers: list[nn.Module] = []
        channels = 3
        for w in s.widths:
            layers += conv_bn(channels, w, 2) + conv_bn(w, w, 1)
            channels = w
        self.cnn = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.hidden = nn.Sequential(nn.Linear(channels, s.embed_dim, bias=False), nn.BatchNorm1d(s.embed_dim),
                                    nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(s.dropout), nn.Linear(s.embed_dim, n_classes))

    def embed(self, views: torch.Tensor) -> torch.Tensor:
        """``(B, V, 3, H, W)`` float views in ``[0, 1]`` -> ``(B, embed_dim)`` features (not normalised)."""
        b, v = views.shape[:2]
        per_view = self.cnn((views.flatten(0, 1) - 0.5) / 0.25)
        return self.hidden(per_view.reshape(b, v, -1).amax(1))

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        """``(B, V, 3, H, W)`` views -> ``(B, n_classes)`` logits."""
        return self.classifier(self.embed(views))
