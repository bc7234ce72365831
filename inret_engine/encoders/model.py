"""A trained INRet model: one Emb. Encoder per implicit function of one architecture config,
plus the decoder(s) used to train them, saved as safetensors + a JSON header.

The file's sha256 is the model's checksum; every cache built from it (embeddings,
index) is stored under that checksum so a retrained model never reuses stale caches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from ..functions import ImplicitFunction
from ..store.atomic import atomic_write_bytes
from .networks import EmbeddingEncoder, ShapeDecoder

FORMAT = "inret-encoder"
VERSION = 2  # 2: embeddings centred on the training mean (the `center` buffer)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild the networks."""

    arch: str
    config_id: str
    functions: tuple[str, ...]
    neuron_width: int
    grid_channels: int | None
    resolution: int = 32
    embed_dim: int = 1024
    base_channels: int = 16
    decoder_hidden: int = 128
    unified: bool = True
    l2_weight: float = 1.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        d = dict(d)
        d["functions"] = tuple(d["functions"])
        return cls(**d)


class INRetModel(nn.Module):
    """Encoders keyed by function; decoders keyed by ``"udf"`` (unified) or by function."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        self.encoders = nn.ModuleDict({
            f: EmbeddingEncoder(neuron_width=spec.neuron_width, grid_channels=spec.grid_channels,
                                embed_dim=spec.embed_dim, resolution=spec.resolution,
                                base_channels=spec.base_channels)
            for f in spec.functions})
        heads = ["udf"] if spec.unified else list(spec.functions)
        self.decoders = nn.ModuleDict({h: ShapeDecoder(spec.embed_dim, spec.decoder_hidden) for h in heads})
        # Mean training embedding, subtracted before cosine search: raw embeddings share a
        # large common component (cosine ~1 between any two), which drowns the differences.
        self.register_buffer("center", torch.zeros(spec.embed_dim))
        self.checksum: str | None = None
        self.history: list[dict] = []

    def encoder(self, function: ImplicitFunction | str) -> EmbeddingEncoder:
        key = ImplicitFunction.parse(function).value
        if key not in self.encoders:
            raise ValueError(f"this model has no encoder for {key.upper()} INRs "
                             f"(it has {', '.join(self.encoders)})")
        return self.encoders[key]

    def embed(self, function: ImplicitFunction | str, neurons: torch.Tensor,
              grid: torch.Tensor | None) -> torch.Tensor:
        """Retrieval embeddings ``(B, embed_dim)``: the encoder's output minus :attr:`center`."""
        return self.encoder(function)(neurons, grid) - self.center

    def decoder_for(self, function: ImplicitFunction) -> tuple[ShapeDecoder, ImplicitFunction]:
        """The decoder trained with ``function``'s encoder and the function it predicts."""
        if self.spec.unified:
            return self.decoders["udf"], ImplicitFunction.UDF
        return self.decoders[function.value], function

    def save(self, path: Path) -> str:
        """Write atomically; returns (and remembers) the checksum."""
        header = {"format": FORMAT, "version": str(VERSION), "spec": json.dumps(self.spec.to_dict()),
                  "history": json.dumps(self.history[-200:])}
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        data = save_tensors(state, metadata=header)
        atomic_write_bytes(Path(path), data)
        self.checksum = hashlib.sha256(data).hexdigest()
        return self.checksum

    @staticmethod
    def read_spec(path: Path) -> ModelSpec:
        """The spec of an encoder file from its header alone (no weights read: cheap at start-up)."""
        path = Path(path)
        try:
            with path.open("rb") as f:
                n = int.from_bytes(f.read(8), "little")
                head = f.read(n) if 0 < n <= MAX_HEADER else b""
            return ModelSpec.from_dict(json.loads(_metadata(n.to_bytes(8, "little") + head)["spec"]))
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read encoder: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> "INRetModel":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such encoder file")
        data = path.read_bytes()
        try:
            meta = _metadata(data)
            spec = ModelSpec.from_dict(json.loads(meta["spec"]))
            model = cls(spec)
            model.load_state_dict(load_tensors(data))
        except (ValueError, KeyError, RuntimeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot load encoder: {exc}") from None
        model.history = json.loads(meta.get("history", "[]"))
        model.checksum = hashlib.sha256(data).hexdigest()
        model.eval()
        return model


MAX_HEADER = 1 << 24
"""Largest JSON header :meth:`INRetModel.read_spec` reads (the history makes it grow)."""


def _metadata(data: bytes) -> dict:
    """The checked ``__metadata__`` of an encoder file's bytes (at least its header)."""
    n = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8:8 + n]).get("__metadata__", {})
    if meta.get("format") != FORMAT:
        raise ValueError("not an INRet encoder file")
    if int(meta.get("version", 0)) > VERSION:
        raise ValueError(f"written by a newer version ({meta['version']}); upgrade")
    if int(meta.get("version", 0)) < VERSION:
        raise ValueError(f"format {meta.get('version')} predates centred embeddings; retrain it "
                         "with inret train-encoder")
    return meta
