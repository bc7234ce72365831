"""Training the shared encoder: contrastive learning over views of shapes (and labels, optionally).

Each step draws ``batch_shapes`` shapes and two views of each (see :mod:`.views`; a
shape with fitted INRs in the training store contributes one of its real INR probe
grids as a view instead, at ``inr_rate``). The NT-Xent loss (SimCLR) on the projection
head pulls a shape's two views together and pushes the other shapes apart: that is what
ties a shape's SDF, UDF and Occ INRs, its hash, octree, triplane and SIREN INRs, its
seeds and poses to one point, with no labels at all.

With ``labels`` the loss is supervised contrastive (SupCon): every view of the same
category is a positive. It starts from the shared model's weights (fine-tuning) and is
reported apart from the label-free figures.

Both objectives are generators like :func:`~.training.train`: they yield progress records
and the last one carries the model.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..device import resolve_device
from ..progress import Job
from .corpus import Corpus
from .model import INRetModel, ModelSpec
from .probe import PROBE_RESOLUTION, PROXIMITY_SCALES, proximity
from .training import TrainProgress
from .views import random_views


@dataclasses.dataclass(frozen=True)
class ContrastiveSettings:
    """How the shared encoder is trained."""

    steps: int = 3000
    """Optimiser steps."""
    batch_shapes: int = 64
    """Shapes per step (two views each)."""
    lr: float = 1e-3
    """Peak AdamW learning rate (cosine decay, 5% warm-up)."""
    weight_decay: float = 1e-4
    temperature: float = 0.1
    """Softmax temperature of NT-Xent / SupCon."""
    labels: bool = False
    """Supervised contrastive on the corpus categories (label-aware fine-tuning)."""
    inr_rate: float = 0.5
    """Chance that a view of a shape with fitted INRs is one of them."""
    symmetries: bool = False
    """Show views in any of the 48 cube poses (invariance must then be learned; off: PCA poses)."""
    base_channels: int = 16
    """Width of the learned Conv3D correction (0: none, the embedding is the pooled probe grid)."""
    embed_dim: int = 1024
    seed: int = 0


def nt_xent(z: torch.Tensor, groups: torch.Tensor, temperature: float) -> torch.Tensor:
    """Contrastive loss over ``(N, D)`` projections; rows with equal ``groups`` are positives.

    With two views per shape and ``groups`` = shape index this is SimCLR's NT-Xent;
    with category labels it is SupCon (Khosla et al. 2020, the "out" form).
    """
    z = F.normalize(z, dim=1)
    logits = z @ z.T / temperature
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    positives = (groups[:, None] == groups[None, :]) & ~self_mask
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    per_row = -(log_prob.masked_fill(~positives, 0).sum(1) / positives.sum(1).clamp_min(1))
    return per_row[positives.any(1)].mean()


def train_shared(corpus: Corpus, settings: ContrastiveSettings = ContrastiveSettings(), *,
                 inr_views: dict[int, torch.Tensor] | None = None, init: INRetModel | None = None,
                 device: torch.device | str | None = None, report_every: int = 25) -> Job[INRetModel]:
    """Train (or, from ``init``, fine-tune) a shared model on ``corpus``: a job that returns the model.

    Args:
        corpus: distance lattices and labels of the training shapes.
        settings: see :class:`ContrastiveSettings`.
        inr_views: corpus row -> ``(K, C, R, R, R)`` probe grids of that shape's fitted INRs.
        init: start from this model's weights (label-aware fine-tuning).
        device: where to train.
        report_every: steps between progress records.
    """
    torch.manual_seed(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    if init is not None and (init.spec.base_channels > 0 or settings.steps == 0):
        model = INRetModel(init.spec)
        model.load_state_dict(init.state_dict())
    elif init is not None:  # a probe-only model: add the (zero) learned correction, keep the centre
        model = INRetModel(dataclasses.replace(init.spec, base_channels=settings.base_channels))
        model.center.copy_(init.center)
    else:
        model = INRetModel(ModelSpec.shared(channels=len(PROXIMITY_SCALES), resolution=PROBE_RESOLUTION,
                                            base_channels=settings.base_channels, embed_dim=settings.embed_dim))
    device = resolve_device(device)
    model = model.to(device)
    label_ids = _label_ids(corpus.categories)
    inr_views = inr_views or {}
    start, loss = time.perf_counter(), torch.zeros(())
    if settings.steps > 0:
        opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(s, settings.steps))
    for step in range(1, settings.steps + 1):
        model.train()
        rows = torch.randperm(len(corpus), generator=gen)[: settings.batch_shapes]
        views = torch.cat([_views(corpus, rows, inr_views, settings, gen) for _ in range(2)])
        emb = model.encoder("any")(views.to(device))
        groups = (label_ids[rows] if settings.labels else torch.arange(len(rows))).repeat(2).to(device)
        loss = nt_xent(emb - emb.mean(0), groups, settings.temperature)  # retrieval compares centred embeddings
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % report_every == 0 or step == settings.steps:
            value = loss.item()
            model.history.append({"step": step, "loss": value, "seconds": round(time.perf_counter() - start, 1),
                                  "objective": "supcon" if settings.labels else "nt-xent"})
            yield TrainProgress.at(step, settings.steps, value, value)
    model.eval()
    model.center.copy_(mean_view_embedding(model, corpus, device))
    return model.cpu()


def _schedule(step: int, steps: int) -> float:
    """Learning-rate factor: linear warm-up over the first 5% of steps, then cosine decay to 0."""
    warm = max(1, steps // 20)
    return min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(step, steps) / max(steps, 1)))


def _views(corpus: Corpus, rows: torch.Tensor, inr_views: dict[int, torch.Tensor], settings: ContrastiveSettings,
           gen: torch.Generator) -> torch.Tensor:
    out = random_views(corpus.udf[rows], corpus.occ_udf[rows], gen, symmetries=settings.symmetries)
    for slot, row in enumerate(rows.tolist()):
        real = inr_views.get(row)
        if real is not None and float(torch.rand((), generator=gen)) < settings.inr_rate:
            out[slot] = real[int(torch.randint(len(real), (1,), generator=gen))]
    return out


def _label_ids(categories: Sequence[str]) -> torch.Tensor:
    names = {c: i for i, c in enumerate(sorted(set(categories)))}
    return torch.tensor([names[c] for c in categories])


@torch.no_grad()
def mean_view_embedding(model: INRetModel, corpus: Corpus, device, batch: int = 64) -> torch.Tensor:
    """Mean encoder output over one clean (true-distance, canonical pose) view of every shape."""
    total = torch.zeros(model.spec.embed_dim, device=device)
    for i in range(0, len(corpus), batch):
        total += model.encoder("any")(proximity(corpus.udf[i:i + batch]).to(device)).sum(0)
    return total / len(corpus)
