"""Encoder inputs of a store, loaded once: sampled grids, neuron sets and ground truth per shape."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import torch

from ..errors import UsageError
from ..fields import Field
from ..functions import ImplicitFunction
from ..store import InrRecord, ShapeINR, Store, stack_fields
from .inputs import GRID_RESOLUTION, read_weights, sample_grid
from .probe import probe_field

GT_POINTS_PER_SHAPE = 16384


@dataclasses.dataclass
class EncoderInputs:
    """What the Emb. Encoder reads from a batch of INRs."""

    neurons: torch.Tensor | None   # (B, n_neurons, width); None for probe inputs
    grid: torch.Tensor | None      # (B, C, R, R, R) or None for MLP-only INRs


def encoder_inputs(field: Field, function: ImplicitFunction | str, *, resolution: int = GRID_RESOLUTION,
                   probe: bool = False) -> EncoderInputs:
    """What an encoder reads from a batch of INRs of one config and function.

    With ``probe`` (a shared model): the INRs' probe grids; otherwise (the paper's
    encoders) their sampled feature grids and neuron sets.
    """
    if probe:
        return EncoderInputs(neurons=None, grid=probe_field(field, function, resolution))
    grid = sample_grid(field, resolution) if field.grid is not None else None
    return EncoderInputs(neurons=read_weights(field), grid=grid)


class LoadsINRs(Protocol):
    """What reading encoder inputs needs of a store: ``load(record)`` (a Ray worker passes INRs it was sent)."""

    def load(self, record: InrRecord) -> ShapeINR: ...


def load_inputs(store: LoadsINRs, records: Sequence[InrRecord], *, resolution: int = GRID_RESOLUTION,
                batch: int = 32, probe: bool = False) -> Iterator[tuple[list[InrRecord], EncoderInputs]]:
    """:func:`encoder_inputs` of records (all of one config and function), ``batch`` INRs at a time."""
    for i in range(0, len(records), batch):
        chunk = list(records[i:i + batch])
        field = stack_fields([store.load(r) for r in chunk])
        yield chunk, encoder_inputs(field, chunk[0].function, resolution=resolution, probe=probe)


def dominant_config(records: Sequence[InrRecord]) -> str:
    """The config id most records use (an encoder serves exactly one config)."""
    if not records:
        raise UsageError("no INRs to train on")
    return Counter(r.config_id for r in records).most_common(1)[0][0]


@dataclasses.dataclass
class TrainingSet:
    """Per shape: the inputs of its INR of every function, and ground-truth samples.

    Grids are kept in float16 to halve memory (a 32^3 x 8 grid is 0.5 MB that way).
    """

    shape_ids: list[str]
    functions: list[ImplicitFunction]
    neurons: dict[ImplicitFunction, torch.Tensor]            # (S, n, width)
    grids: dict[ImplicitFunction, torch.Tensor | None]       # (S, C, R, R, R) float16
    points: torch.Tensor                                     # (S, P, 3)
    targets: dict[str, torch.Tensor]                         # "udf" / "sdf" / "occ": (S, P)
    config_id: str
    labels: list[str]

    def __len__(self) -> int:
        return len(self.shape_ids)

    @classmethod
    def from_store(cls, store: Store, arch: str, functions: Sequence[ImplicitFunction], *,
                   split: str | None = "train", resolution: int = GRID_RESOLUTION,
                   seed: int = 0, progress=None) -> "TrainingSet":
        """Shapes of ``split`` that have an INR of ``arch`` for every one of ``functions``."""
        recs = [r for r in store.records(arch=arch, split=split) if r.function in {f.value for f in functions}]
        config_id = dominant_config(recs)
        by_shape: dict[str, dict[str, InrRecord]] = defaultdict(dict)
        for r in recs:
            if r.config_id == config_id:
                by_shape[r.shape_id][r.function] = r
        shape_ids = sorted(s for s, fs in by_shape.items() if all(f.value in fs for f in functions))
        if len(shape_ids) < 2:
            raise UsageError(f"need at least 2 {split or ''} shapes with {arch} INRs of "
                             f"{', '.join(f.value for f in functions)}; the store has {len(shape_ids)}")
        neurons, grids = {}, {}
        for fn in functions:
            ordered = [by_shape[s][fn.value] for s in shape_ids]
            parts_n: list[torch.Tensor] = []
            parts_g: list[torch.Tensor] = []
            for chunk, inputs in load_inputs(store, ordered, resolution=resolution):
                assert inputs.neurons is not None, "the paper's encoder inputs have neurons"
                parts_n.append(inputs.neurons)
                if inputs.grid is not None:
                    parts_g.append(inputs.grid.half())
                if progress:
                    progress(fn.value, len(chunk))
            neurons[fn] = torch.cat(parts_n)
            grids[fn] = torch.cat(parts_g) if parts_g else None
        points, targets = _ground_truth(store, shape_ids, seed)
        labels = [by_shape[s][functions[0].value].category for s in shape_ids]
        return cls(shape_ids, list(functions), neurons, grids, points, targets, config_id, labels)


def _ground_truth(store: Store, shape_ids: Sequence[str], seed: int):
    rng = np.random.default_rng(seed)
    pts, tgt = [], defaultdict(list)
    for sid in shape_ids:
        gt = store.ground_truth(sid)
        idx = rng.choice(len(gt.points), size=min(GT_POINTS_PER_SHAPE, len(gt.points)), replace=False)
        pts.append(torch.from_numpy(gt.points[idx]))
        tgt["udf"].append(torch.from_numpy(gt.udf[idx]))
        if gt.sdf is not None and gt.occ is not None:
            tgt["sdf"].append(torch.from_numpy(gt.sdf[idx]))
            tgt["occ"].append(torch.from_numpy(gt.occ[idx]))
    n = min(len(p) for p in pts)
    targets = {k: torch.stack([t[:n] for t in v]) for k, v in tgt.items() if len(v) == len(shape_ids)}
    return torch.stack([p[:n] for p in pts]), targets
