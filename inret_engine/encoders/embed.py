"""Embedding INRs with a trained model, in batches, on CUDA when present."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..device import default_device
from ..errors import UsageError
from ..store import InrRecord
from .dataset import LoadsINRs, load_inputs
from .model import INRetModel


def embeddable(model: INRetModel, record: InrRecord) -> bool:
    """True when ``model`` has an encoder for this INR's config and function."""
    return model.spec.accepts(record.config_id, record.function)


@torch.no_grad()
def embed_records(store: LoadsINRs, model: INRetModel, records: Sequence[InrRecord], *, batch: int = 32,
                  device: torch.device | None = None,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """``(N, embed_dim)`` float32 retrieval embeddings (centred, not normalised), in ``records`` order."""
    device = device or default_device()
    model = model.to(device).eval()
    out = np.zeros((len(records), model.spec.embed_dim), dtype=np.float32)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)  # one config and function per batch
    for i, rec in enumerate(records):
        if not embeddable(model, rec):
            raise UsageError(f"INR {rec.id} ({rec.arch} {rec.config_id}, {rec.function}) does not match this "
                             f"model ({model.spec.arch} {model.spec.config_id}); distill it first")
        groups[(rec.config_id, rec.function)].append(i)
    done = 0
    for (_, function), rows in groups.items():
        offset = 0
        for chunk, inputs in load_inputs(store, [records[i] for i in rows], resolution=model.spec.resolution,
                                         batch=batch, probe=model.spec.reads_field):
            neurons = None if inputs.neurons is None else inputs.neurons.to(device)
            grid = None if inputs.grid is None else inputs.grid.to(device)
            out[rows[offset:offset + len(chunk)]] = model.embed(function, neurons, grid).cpu().numpy()
            offset += len(chunk)
            done += len(chunk)
            if progress:
                progress(done, len(records))
    return out
