"""The models a store is searched with, as one set: its own and the shipped shared one; training more.

A store may hold several trained models (one per architecture config, each with an
encoder per implicit function), or none and use the shipped shared model.
:class:`ModelSet` loads them one by one, so a stale or damaged model file is reported
instead of hiding the good ones, and answers the two questions a query asks: which
retriever embeds this INR, and into which architecture an INR that no model knows should
be distilled (or a dropped mesh fitted). :func:`train_encoders` trains per-architecture
models on a store's INRs and installs them (the browser's "Train Encoders…").
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from .encoders.model import INRetModel
from .errors import InretError, UsageError
from .fields import FieldConfig, default_config
from .functions import ImplicitFunction
from .progress import Job, Progress, relay
from .retrieval.retriever import Retriever
from .store import InrRecord, ShapeINR, Store


def _restaged(stage: str, record: Progress) -> Progress:
    return dataclasses.replace(record, stage=stage)


@dataclasses.dataclass(frozen=True)
class Target:
    """Where an INR no model knows goes: a retriever, the architecture config it encodes, a function."""

    retriever: Retriever
    config: FieldConfig
    function: ImplicitFunction


def aligns_poses(store) -> bool:
    """Whether ``store``'s shapes were turned onto their principal axes when it was built
    (``inret build-store --align``): most recorded normalisations rotate.

    A shape dropped on the browser is placed the same way (:func:`inret_engine.query_file.fit_shape`), so
    it is compared with, and shown like, the store's shapes: unaligned, a z-up mesh dropped
    on an aligned store kept its file's pose while every store shape had been turned.
    """
    import numpy as np

    turned = [not np.allclose(np.asarray(s.normalization.get("rotation", np.eye(3)), dtype=np.float64), np.eye(3))
              for s in store.catalog.shapes() if isinstance(s.normalization, dict)]
    return bool(turned) and sum(turned) * 2 > len(turned)


class ModelSet:
    """Retrievers for the models installed in ``STORE/models``.

    Attributes:
        store: the open store.
        retrievers: one per model that loaded.
        problems: one line per model file that did not load (stale format, damaged file).
    """

    def __init__(self, store: Store, retrievers: list[Retriever], problems: list[str] | None = None):
        self.store = store
        self.retrievers = retrievers
        self.problems = list(problems or [])
        self._configs: dict[str, FieldConfig | None] = {}
        self._aligns: bool | None = None

    @property
    def aligns_poses(self) -> bool:
        """:func:`aligns_poses` of the store (read once)."""
        if self._aligns is None:
            self._aligns = aligns_poses(self.store)
        return self._aligns

    @classmethod
    def load(cls, store: Store) -> "ModelSet":
        """Load every ``*.enc`` in the store's model folder; bad ones become :attr:`problems`."""
        retrievers, problems = [], []
        for path in Retriever.model_files(store):
            try:
                retrievers.append(Retriever(store, INRetModel.load(path)))
            except (InretError, OSError) as exc:  # a damaged or foreign model file: said, not fatal
                problems.append(str(exc))
        return cls(store, retrievers, problems)

    def __bool__(self) -> bool:
        return bool(self.retrievers)

    def describe(self) -> str:
        """``"hash (SDF, UDF, OCC), mlp (SDF)"``, or ``"shared (every architecture and function)"``."""
        return ", ".join("shared (every architecture and function)" if r.model.spec.reads_field else
                         f"{r.model.spec.arch} ({', '.join(f.upper() for f in r.model.spec.functions)})"
                         for r in self.retrievers)

    def update(self) -> Job[None]:
        """Bring every model's embeddings and index up to date (see :meth:`Retriever.update`)."""
        for n, retriever in enumerate(self.retrievers, 1):
            label = f"Embedding with the {retriever.model.spec.name} encoder ({n}/{len(self.retrievers)})"
            for event in retriever.update():
                yield Progress(label, event.done, event.total)
            self.config_of(retriever)  # resolve configs here, off the GUI thread

    # --- choosing a model -------------------------------------------------------------
    def for_inr(self, config_id: str, function: str) -> Retriever | None:
        """The retriever whose model encodes INRs of this config and function, if any."""
        for r in self.retrievers:
            if r.model.spec.accepts(config_id, function):
                return r
        return None

    def for_record(self, record: InrRecord) -> Retriever | None:
        return self.for_inr(record.config_id, record.function)

    def for_shape_inr(self, inr: ShapeINR) -> Retriever | None:
        return self.for_inr(inr.config.config_id, inr.function.value)

    def target(self, function: ImplicitFunction, *, prefer: str | None = None) -> Target:
        """The model (and its INR config) to distill or fit a ``function`` source into.

        The source's own function is kept where a model encodes it; an SDF or Occ source
        can also become a UDF INR (its distances are known), never the other way round.

        Args:
            function: what the source outputs.
            prefer: an architecture kind to prefer among equally good models.

        Raises:
            ValueError: no installed model can take such a source.
        """
        wanted = [function] + ([ImplicitFunction.UDF] if function.is_signed else [])
        ranked = sorted(self.retrievers, key=lambda r: r.model.spec.arch != prefer)
        for fn in wanted:
            for r in ranked:
                config = self.config_of(r) if fn.value in r.model.spec.functions else None
                if config is not None:
                    return Target(r, config, fn)
        have = self.describe() or "none"
        raise UsageError(f"no installed encoder can take a {function.value.upper()} INR (encoders: {have}); "
                         "train one (Tools ▸ Train Encoders…, or inret train-encoder)")

    def config_of(self, retriever: Retriever) -> FieldConfig | None:
        """The architecture config a model encodes: read from one of the store's INRs of it.

        A model only names its config by id; the full config comes from an INR that uses it
        (or the architecture's default config, when its id matches). ``None`` when neither.
        """
        config_id = retriever.model.spec.config_id
        if retriever.model.spec.reads_field:  # the shared model embeds any INR: fit the fastest kind
            return default_config("hash")
        if config_id not in self._configs:
            config = None
            records = [r for r in self.store.records(arch=retriever.model.spec.arch) if r.config_id == config_id]
            if records:
                config = self.store.load(records[0]).config
            elif default_config(retriever.model.spec.arch).config_id == config_id:
                config = default_config(retriever.model.spec.arch)
            self._configs[config_id] = config
        return self._configs[config_id]


# --- training models for a store ---------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainChoice:
    """What to train for a store: small defaults that finish in minutes on two CPU cores."""

    archs: tuple[str, ...]
    steps: int = 100
    batch_shapes: int = 8
    points: int = 512
    split: str | None = "train"
    """Train on this split; on every split when it holds too few shapes. None: every split."""


def trainable_archs(store: Store) -> dict[str, list[str]]:
    """Architecture -> functions of its INRs in the store (what an encoder could be trained on)."""
    out: dict[str, set[str]] = {}
    for r in store.records():
        out.setdefault(r.arch, set()).add(r.function)
    order = [f.value for f in ImplicitFunction]
    return {a: [f for f in order if f in fns] for a, fns in sorted(out.items())}


def train_encoders(store: Store, choice: TrainChoice) -> Job[list[Path]]:
    """Job: train one model per architecture of ``choice`` and install it in the store.

    Returns:
        The installed model files (``STORE/models/*.enc``).

    Raises:
        UsageError: the store has no INRs of an architecture asked for.
    """
    from .encoders.training import TrainSettings, train

    functions = trainable_archs(store)
    installed = []
    settings = TrainSettings(steps=choice.steps, batch_shapes=choice.batch_shapes, points=choice.points)
    for n, arch in enumerate(choice.archs, 1):
        if arch not in functions:
            raise UsageError(f"the store has no {arch} INRs to train an encoder on")
        yield Progress(f"Reading {arch} INRs ({n}/{len(choice.archs)})")
        data = _training_set(store, arch, functions[arch], choice.split)
        stage = f"Training the {arch} encoder ({n}/{len(choice.archs)})"
        model = yield from relay(train(data, arch, settings, report_every=max(1, settings.steps // 50)),
                                 partial(_restaged, stage))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{arch}.enc"
            model.save(path)
            installed.append(Retriever.install(store, path))
    return installed


def _training_set(store: Store, arch: str, functions: Sequence[str], split: str | None):
    """Shapes with an INR of every function; every split when the training split is too small."""
    from .encoders.dataset import TrainingSet

    fns = [ImplicitFunction.parse(f) for f in functions]
    try:
        return TrainingSet.from_store(store, arch, fns, split=split)
    except UsageError:
        if split is None:
            raise
        return TrainingSet.from_store(store, arch, fns, split=None)
