"""Presets, augmentation, and the supervised training and embedding of the two baseline encoders.

Both encoders are trained as category classifiers (cross-entropy with label smoothing,
AdamW, cosine learning-rate decay); the retrieval embedding is the feature entering the
classifier, L2-normalised. Augmentation is light, so that a couple of hundred training
shapes are not simply memorised:

* points: a random rotation about the up axis (y), a random scale per axis in
  ``[0.85, 1.15]`` and Gaussian jitter (sigma 0.01, clipped at 0.03);
* views: all 12 views of a shape mirrored left-right together (a mirrored shape seen
  from mirrored cameras; view order does not matter after max-pooling) and shifted by a
  few pixels. A rotation about the up axis by a multiple of 30 degrees only permutes the
  views, which max-pooling ignores already.

Example:
    >>> PRESETS["quick"].view_size
    64
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from ..progress import Job, Progress
from ..render.bake import DEFAULT_RESOLUTION
from .multiview import MultiViewSettings
from .pointcloud import PointNetSettings


@dataclasses.dataclass(frozen=True)
class Preset:
    """Settings of one baseline run.

    Attributes:
        points: points per cloud (2,048 as in the paper).
        view_size: pixels per side of each of the 12 views. The paper uses 224; the quick
            preset renders 64, which keeps the silhouettes and shading that tell the
            categories apart while conversion and a from-scratch CNN stay within a few
            minutes on 2 CPU cores (a 224 view costs 12x the pixels of a 64 one).
        resolution: lattice nodes per axis of the bake that conversion traces. The quick
            preset uses 65 (a voxel of 0.031, below a 64 px view's pixel of 0.044 at the
            shape; points are projected onto the exact INR surface anyway): baking is most of
            the conversion time.
        pointnet: sizes of the point-cloud encoder.
        multiview: sizes of the multi-view encoder.
        point_epochs: training epochs of the point-cloud encoder.
        view_epochs: training epochs of the multi-view encoder.
        min_steps: at least this many optimiser steps (more epochs on a small training set).
        batch: shapes per step.
        lr: peak AdamW learning rate (cosine decay to 1% of it).
        weight_decay: AdamW weight decay.
        label_smoothing: of the cross-entropy.
    """

    points: int = 2048
    view_size: int = 64
    resolution: int = 65
    pointnet: PointNetSettings = PointNetSettings()
    multiview: MultiViewSettings = MultiViewSettings()
    point_epochs: int = 20
    view_epochs: int = 20
    min_steps: int = 200
    batch: int = 16
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1


PRESETS: dict[str, Preset] = {
    "quick": Preset(),
    "full": Preset(view_size=224, resolution=DEFAULT_RESOLUTION,
                   pointnet=PointNetSettings(centres=(512, 128), neighbours=32, embed_dim=512,
                                             widths=((64, 64, 128), (128, 128, 256), (256, 512))),
                   multiview=MultiViewSettings(widths=(32, 64, 128, 256, 512), embed_dim=512),
                   point_epochs=150, view_epochs=60, batch=32),
}
"""``quick``: fits the CPU budget of ``inret benchmark`` (both baselines, ~300 INRs, a few
minutes on 2 cores). ``full``: wider networks, paper-size views, more epochs; meant for a GPU."""


def augment_points(points: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random rotation about y, per-axis scale and clipped jitter of ``(B, N, 3)`` points."""
    b = points.shape[0]
    theta = torch.rand(b, generator=gen) * 2 * math.pi
    c, s = torch.cos(theta), torch.sin(theta)
    zero, one = torch.zeros(b), torch.ones(b)
    rot = torch.stack([c, zero, s, zero, one, zero, -s, zero, c], -1).reshape(b, 3, 3)
    scale = 0.85 + 0.3 * torch.rand(b, 1, 3, generator=gen)
    jitter = (0.01 * torch.randn(points.shape, generator=gen)).clamp(-0.03, 0.03)
    dev = points.device
    return (points @ rot.to(dev).transpose(1, 2)) * scale.to(dev) + jitter.to(dev)


def augment_views(views: torch.Tensor, gen: torch.Generator, max_shift: int = 4) -> torch.Tensor:
    """Mirror all views of some shapes left-right and shift each shape's views: ``(B, V, 3, H, W)``."""
    out = []
    for i in range(views.shape[0]):
        v = views[i]
        if torch.rand(1, generator=gen).item() < 0.5:
            v = v.flip(-1)
        dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=gen).tolist()
        out.append(v.roll((dy, dx), dims=(-2, -1)))
    return torch.stack(out)


def views_to_tensor(views: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``(B, V, H, W, 3)`` uint8 images -> ``(B, V, 3, H, W)`` float in ``[0, 1]``."""
    return torch.as_tensor(views).permute(0, 1, 4, 2, 3).float() / 255.0


Net = TypeVar("Net", bound=nn.Module)


def train_classifier(model: Net, inputs: torch.Tensor, labels: torch.Tensor, *, epochs: int,
                     preset: Preset, to_input: Callable[[torch.Tensor], torch.Tensor],
                     augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor], device: torch.device,
                     seed: int = 0) -> Job[Net]:
    """Train ``model`` to predict ``labels`` from augmented ``inputs``: a job that yields
    ``train`` progress (one record per epoch) and returns the model in eval mode.

    Args:
        model: a classifier ``(B, ...) -> (B, n_classes)`` logits.
        inputs: ``(N, ...)`` stored inputs (on the CPU).
        labels: ``(N,)`` int64 class indices.
        epochs: passes over the data (more when that is fewer than ``preset.min_steps`` steps).
        preset: batch size, minimum steps, learning rate, weight decay, label smoothing.
        to_input: stored batch -> float network input, on the batch's device.
        augment: ``(input batch, generator) -> augmented batch``.
        device: where training runs.
        seed: shuffling and augmentation seed.
    """
    n = len(inputs)
    if n < 2:
        raise ValueError("need at least 2 training shapes")
    gen = torch.Generator().manual_seed(seed)
    batch = min(preset.batch, n)
    steps_per_epoch = n // batch
    epochs = max(epochs, math.ceil(preset.min_steps / steps_per_epoch))
    model = model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=preset.lr, weight_decay=preset.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps_per_epoch, eta_min=preset.lr * 0.01)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=preset.label_smoothing)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for step in range(steps_per_epoch):
            idx = order[step * batch:(step + 1) * batch]
            x = augment(to_input(inputs[idx].to(device)), gen)
            loss = loss_fn(model(x), labels[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        yield Progress("train", epoch + 1, epochs)
    return model.eval()


@torch.no_grad()
def embed_one_by_one(embed: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, *,
                     to_input: Callable[[torch.Tensor], torch.Tensor],
                     device: torch.device) -> tuple[np.ndarray, float]:
    """L2-normalised embeddings of each input at batch 1, and the mean forward time.

    Args:
        embed: ``(1, ...) -> (1, D)`` of a model in eval mode.
        inputs: ``(N, ...)`` stored inputs.
        to_input: stored batch -> float network input.
        device: where the model lives.

    Returns:
        ``(N, D)`` float32 unit vectors, and milliseconds per forward (input transfer included).
    """
    out, total = [], 0.0
    for i in range(len(inputs)):
        _sync(device)
        start = time.perf_counter()
        e = embed(to_input(inputs[i:i + 1].to(device)))
        _sync(device)
        total += time.perf_counter() - start
        out.append(torch.nn.functional.normalize(e, dim=-1).cpu().numpy()[0])
    return np.asarray(out, np.float32), total * 1e3 / max(len(inputs), 1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
