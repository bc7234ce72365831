"""The shared model shipped with the project, and how it is (re)made.

``resources/encoders/inret-shared.enc`` is a shared (``field``) model: a store with no
encoder of its own uses it, so ``build-store`` then ``query`` (or the browser) works
with no training step. ``INRET_PRETRAINED=FILE`` points at another one (``none``
disables it). ``inret pretrain`` rebuilds it; ``resources/encoders/README.md`` records
the command, data and figures of the shipped file.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import torch

from ..errors import UsageError
from ..progress import Job
from ..store import Store
from .corpus import Corpus, build_corpus, load_corpus
from .dataset import load_inputs
from .probe import PROBE_RESOLUTION, lattice_values, occupancy_distance, to_distance

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "encoders" / "inret-shared.enc"


def pretrained_path() -> Path | None:
    """The shipped (or ``INRET_PRETRAINED``) model file, or ``None`` when there is none."""
    override = os.environ.get("INRET_PRETRAINED")
    if override is not None:
        return None if override.lower() in ("", "none", "0") else Path(override)
    return SHIPPED if SHIPPED.is_file() else None


def corpus_from_sources(sources: Sequence, cache: Path, *, align: bool = True
                        ) -> Job[Corpus]:
    """Mesh lattices of ``sources`` (cached in ``cache``): a job that returns their :class:`Corpus`."""
    yield from build_corpus(sources, cache, align=align)
    wanted = {(s.category, s.name) for s in sources}
    full = load_corpus(cache)
    return full.subset([i for i, key in enumerate(zip(full.categories, full.names)) if key in wanted])


@torch.no_grad()
def store_views(store: Store, corpus: Corpus, *, split: str | None = "train",
                batch: int = 32) -> dict[int, torch.Tensor]:
    """Probe grids of a store's INRs, by the corpus row of their shape (matched by category and name).

    Every architecture and function of a shape becomes one more real view of it.
    """
    row_of = {key: i for i, key in enumerate(zip(corpus.categories, corpus.names))}
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for rec in store.records(split=split):
        if (rec.category, rec.name) in row_of:
            groups[(rec.config_id, rec.function)].append(rec)
    views: dict[int, list[torch.Tensor]] = defaultdict(list)
    for recs in groups.values():
        for chunk, inputs in load_inputs(store, recs, resolution=PROBE_RESOLUTION, batch=batch, probe=True):
            assert inputs.grid is not None, "probe inputs are grids"
            for rec, grid in zip(chunk, inputs.grid):
                views[row_of[(rec.category, rec.name)]].append(grid.half())
    return {row: torch.stack(v).float() for row, v in views.items()}


@torch.no_grad()
def corpus_from_store(store: Store, *, split: str | None = "train", batch: int = 32
                      ) -> tuple[Corpus, dict[int, torch.Tensor]]:
    """A corpus read off a store's own INRs (no meshes needed), and their probe grids as views.

    A shape's distance lattice comes from its SDF INR (else its UDF INR), its occupancy
    distances from the SDF's sign (else its Occ INR); shapes with neither SDF nor UDF
    INR are left out. Used to fine-tune the shared model on a store (``train-encoder``).
    """
    by_shape: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for rec in store.records(split=split):
        by_shape[rec.shape_id][rec.function].append(rec)
    shape_ids = sorted(s for s, fns in by_shape.items() if fns.get("sdf") or fns.get("udf"))
    if len(shape_ids) < 2:
        raise UsageError(f"need at least 2 {split or ''} shapes with an SDF or UDF INR; the store has "
                         f"{len(shape_ids)}")
    names, cats, udfs, occs = [], [], [], []
    for sid in shape_ids:
        fns = by_shape[sid]
        base = (fns.get("sdf") or fns["udf"])[0]
        values = lattice_values(store.load(base).to_field())
        udfs.append(to_distance(values, base.function)[0])
        signed = values if base.function == "sdf" else (
            lattice_values(store.load(fns["occ"][0]).to_field()) if fns.get("occ") else None)
        occ = None if signed is None else occupancy_distance(signed)[0]
        occs.append(occ if occ is not None and bool((occ < 2.0).any()) else torch.full_like(udfs[-1], float("nan")))
        names.append(base.name)
        cats.append(base.category)
    corpus = Corpus(names, cats, torch.stack(udfs), torch.stack(occs))
    return corpus, store_views(store, corpus, split=split, batch=batch)
