"""Training the Emb. Encoders of one architecture (paper 3.2, 3.3, 7.2).

Each step takes a batch of training shapes; for every implicit function it encodes
that shape's INR with the function's encoder. The decoder loss asks a shape decoder to
reproduce the shape from the embedding: with ``unified`` a single decoder always
predicts the UDF (L1) whatever the INR's function, otherwise each function has its own
decoder for its own values. With ``l2_weight > 0`` the embeddings of the same shape's
INRs are pulled together: the mean Euclidean distance ``||e_f - e_g||_2`` over all pairs of
functions (paper eq. 4). A mean *squared* difference per dimension was 1,000x weaker and
left a shape's SDF, UDF and Occ embeddings apart on unseen shapes. The
paper needs both to map SDF, UDF and Occ INRs into one space; ``inret train-encoder``
exposes both switches for the ablation.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import torch

from .. import functions as fns
from ..device import resolve_device
from ..progress import Job, Progress
from .augment import IDENTITY, random_symmetry
from .dataset import TrainingSet
from .inputs import GRID_RESOLUTION
from .model import INRetModel, ModelSpec


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    steps: int = 600
    batch_shapes: int = 8
    points: int = 512
    lr: float = 1e-3
    weight_decay: float = 1e-2
    unified: bool = True
    l2_weight: float = 1.0
    seed: int = 0
    resolution: int = GRID_RESOLUTION
    augment: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainProgress(Progress):
    """``done`` of ``total`` training steps, with the step's losses (total, decoder, L2 tie)."""

    loss: float
    decoder_loss: float
    l2_loss: float = 0.0

    @classmethod
    def at(cls, step: int, total: int, loss: float, decoder_loss: float, l2_loss: float = 0.0) -> "TrainProgress":
        """The record of ``step``, its message stating the losses."""
        return cls("training", step, total, f"loss {loss:.4f} decoder {decoder_loss:.4f} L2 {l2_loss:.4f}",
                   loss=loss, decoder_loss=decoder_loss, l2_loss=l2_loss)


def make_model(data: TrainingSet, arch: str, settings: TrainSettings) -> INRetModel:
    fn0 = data.functions[0]
    grid = data.grids[fn0]
    spec = ModelSpec(arch=arch, config_id=data.config_id, functions=tuple(f.value for f in data.functions),
                     neuron_width=data.neurons[fn0].shape[-1],
                     grid_channels=None if grid is None else grid.shape[1], resolution=settings.resolution,
                     unified=settings.unified, l2_weight=settings.l2_weight)
    return INRetModel(spec)


def train(data: TrainingSet, arch: str, settings: TrainSettings = TrainSettings(), *,
          device: torch.device | str | None = None, report_every: int = 10) -> Job[INRetModel]:
    """Train encoders (and decoders) on ``data``: a job that yields progress and returns the model (on the CPU)."""
    torch.manual_seed(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    device = resolve_device(device)
    model = make_model(data, arch, settings).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings.steps, eta_min=settings.lr * 0.05)
    start = time.perf_counter()
    n_shapes = len(data)
    for step in range(1, settings.steps + 1):
        model.train()
        shapes = torch.randperm(n_shapes, generator=gen)[: settings.batch_shapes]
        dec, l2 = _losses(model, data, shapes, settings, gen, device)
        loss = dec + settings.l2_weight * l2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % report_every == 0 or step == settings.steps:
            rec = {"step": step, "loss": loss.item(), "decoder": dec.item(), "l2": l2.item(),
                   "seconds": time.perf_counter() - start}
            model.history.append(rec)
            yield TrainProgress.at(step, settings.steps, rec["loss"], rec["decoder"], rec["l2"])
    model.eval()
    model.center.copy_(mean_embedding(model, data, device))
    return model.cpu()


def _losses(model: INRetModel, data: TrainingSet, shapes: torch.Tensor, settings: TrainSettings,
            gen: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    idx = torch.randint(data.points.shape[1], (len(shapes), settings.points), generator=gen)
    xyz = torch.gather(data.points[shapes], 1, idx.unsqueeze(-1).expand(-1, -1, 3))
    sym = random_symmetry(gen) if settings.augment else IDENTITY
    xyz = sym.points(xyz).to(device)
    embeddings = {}
    dec_loss = torch.zeros((), device=device)
    for fn in data.functions:
        grid = data.grids[fn]
        emb = model.encoder(fn)(data.neurons[fn][shapes].to(device),
                                None if grid is None else sym.grid(grid[shapes].float()).to(device))
        embeddings[fn] = emb
        decoder, predicts = model.decoder_for(fn)
        target = torch.gather(data.targets[predicts.value][shapes], 1, idx).to(device)
        dec_loss = dec_loss + fns.loss(predicts, decoder(emb, xyz), target).mean()
    l2 = torch.zeros((), device=device)
    pairs = list(itertools.combinations(data.functions, 2))
    for a, b in pairs:
        l2 = l2 + (embeddings[a] - embeddings[b]).norm(dim=1).mean()
    if pairs:
        l2 = l2 / len(pairs)
    return dec_loss / len(data.functions), l2


@torch.no_grad()
def mean_embedding(model: INRetModel, data: TrainingSet, device, batch: int = 32) -> torch.Tensor:
    """Mean encoder output over every training INR (all functions): the model's ``center``."""
    total, count = torch.zeros(model.spec.embed_dim, device=device), 0
    for fn in data.functions:
        grid = data.grids[fn]
        for i in range(0, len(data), batch):
            g = None if grid is None else grid[i:i + batch].float().to(device)
            total += model.encoder(fn)(data.neurons[fn][i:i + batch].to(device), g).sum(0)
            count += min(batch, len(data) - i)
    return total / count
