"""A trained INRet model, saved as safetensors + a JSON header. Two kinds:

* ``input="parameters"`` (the paper's): one Emb. Encoder per implicit function of one
  architecture config, reading the INR's feature grid and MLP weights, plus the
  decoder(s) used to train them;
* ``input="field"`` (the shared model): one encoder for every architecture, config and
  function, reading the INR's probe grid (see :mod:`.probe`). ``arch`` and ``config_id``
  are ``"any"``; a store needs only this one model and has one index.

The file's sha256 is the model's checksum; every cache built from it (embeddings,
index) is stored under that checksum so a retrained model never reuses stale caches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from ..errors import EncoderFileError, UsageError
from ..functions import ImplicitFunction
from ..store.atomic import atomic_write_bytes
from ..store.files import read_regular_file
from .networks import EmbeddingEncoder, ProbeEncoder, ShapeDecoder

FORMAT = "inret-encoder"
VERSION = 3  # 2: embeddings centred on the training mean (the `center` buffer); 3: spec.input
READABLE = (2, 3)
ANY = "any"


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
    input: str = "parameters"
    """``"parameters"`` (grid features + MLP weights of one config) or ``"field"`` (probe grids of any INR)."""

    @property
    def reads_field(self) -> bool:
        return self.input == "field"

    @property
    def name(self) -> str:
        """What to call the model in messages: ``"shared"`` or its architecture."""
        return "shared" if self.reads_field else self.arch

    def accepts(self, config_id: str, function: str) -> bool:
        """True when this model embeds INRs of ``config_id`` and ``function``."""
        return (self.config_id == ANY or self.config_id == config_id) and function in self.functions

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        d = dict(d)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown spec field(s) {', '.join(unknown)} (written by a newer version?)")
        d["functions"] = tuple(d["functions"])
        if not isinstance(d.get("arch"), str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", d["arch"]):
            raise ValueError(f"malformed architecture name {d.get('arch')!r}")  # it names installed files
        if d.get("input", "parameters") not in ("parameters", "field"):
            raise ValueError(f"unknown encoder input {d['input']!r}")
        return cls(**d)

    @classmethod
    def shared(cls, *, channels: int, resolution: int = 32, base_channels: int = 16,
               embed_dim: int = 1024) -> "ModelSpec":
        """The spec of a shared (``field``) model."""
        return cls(arch=ANY, config_id=ANY, functions=("sdf", "udf", "occ"), neuron_width=0,
                   grid_channels=channels, resolution=resolution, embed_dim=embed_dim,
                   base_channels=base_channels, unified=False, l2_weight=0.0, input="field")


class INRetModel(nn.Module):
    """Encoders keyed by function; decoders keyed by ``"udf"`` (unified) or by function."""

    center: torch.Tensor  # a buffer: (embed_dim,)

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        if spec.reads_field:  # one encoder for every INR; trained contrastively, no decoder
            if spec.grid_channels is None:
                raise ValueError("a model that reads the field needs its probe grid's channel count")
            self.encoders = nn.ModuleDict({ANY: ProbeEncoder(spec.grid_channels, spec.embed_dim,
                                                             spec.base_channels, spec.resolution)})
            self.decoders = nn.ModuleDict()
        else:
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
        self.note = ""
        """How the model was trained (kept in the file header)."""

    def encoder(self, function: ImplicitFunction | str) -> nn.Module:
        if self.spec.reads_field:
            return self.encoders[ANY]
        key = ImplicitFunction.parse(function).value
        if key not in self.encoders:
            raise UsageError(f"this model has no encoder for {key.upper()} INRs "
                             f"(it has {', '.join(self.encoders)})")
        return self.encoders[key]

    def embed(self, function: ImplicitFunction | str, neurons: torch.Tensor | None,
              grid: torch.Tensor | None) -> torch.Tensor:
        """Retrieval embeddings ``(B, embed_dim)``: the encoder's output minus :attr:`center`.

        A ``field`` model reads only ``grid`` (probe grids ``(B, C, R, R, R)``).
        """
        if self.spec.reads_field:
            if grid is None:
                raise ValueError("a shared model embeds probe grids; none given")
            return self.encoders[ANY](grid) - self.center
        if neurons is None:
            raise ValueError("the paper's encoders read the INR's neurons; none given")
        return self.encoder(function)(neurons, grid) - self.center

    def decoder_for(self, function: ImplicitFunction) -> tuple[ShapeDecoder, ImplicitFunction]:
        """The decoder trained with ``function``'s encoder and the function it predicts."""
        key, predicts = ("udf", ImplicitFunction.UDF) if self.spec.unified else (function.value, function)
        decoder = self.decoders[key]
        assert isinstance(decoder, ShapeDecoder)
        return decoder, predicts

    def save(self, path: Path, *, half: bool = False, note: str = "") -> str:
        """Write atomically; returns (and remembers) the checksum.

        Args:
            path: the file.
            half: store float weights as float16 (half the size; loading casts back).
            note: free text kept in the header (how the model was trained); default: the
                note the model was loaded with.
        """
        note = note or self.note
        header = {"format": FORMAT, "version": str(VERSION), "spec": json.dumps(self.spec.to_dict()),
                  "history": json.dumps(self.history[-200:])}
        if note:
            header["note"] = note
        state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
                 for k, v in self.state_dict().items()}
        data = save_tensors(state, metadata=header)
        atomic_write_bytes(Path(path), data)
        self.checksum = hashlib.sha256(data).hexdigest()
        return self.checksum

    @staticmethod
    def read_spec(path: Path) -> ModelSpec:
        """The spec of an encoder file from its header alone (no weights read: cheap at start-up)."""
        path = Path(path)
        try:
            head = _read_checked(path, header_only=True)
            return ModelSpec.from_dict(json.loads(_metadata(head)["spec"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise EncoderFileError(f"{path}: cannot read encoder: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> "INRetModel":
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such encoder file")
        try:
            data = _read_checked(path)
            meta = _metadata(data)
            spec = ModelSpec.from_dict(json.loads(meta["spec"]))
            model = cls(spec)
            try:
                tensors = load_tensors(data)
            except Exception as exc:  # noqa: BLE001 - safetensors' own error type: corrupt data
                raise ValueError(f"corrupted tensor data ({exc})") from None
            if bad := [k for k, t in tensors.items() if t.is_floating_point() and not bool(t.isfinite().all())]:
                raise ValueError(f"weights {bad[0]!r} hold NaN/Inf values")
            model.load_state_dict(tensors)
            history = json.loads(meta.get("history", "[]"))
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise EncoderFileError(f"{path}: cannot load encoder: {exc}") from None
        model.history = history if isinstance(history, list) else []
        model.note = str(meta.get("note", ""))
        model.checksum = hashlib.sha256(data).hexdigest()
        model.eval()
        return model


MAX_HEADER = 1 << 24
"""Largest JSON header :meth:`INRetModel.read_spec` reads (the history makes it grow)."""
MAX_FILE = 256 << 20
"""Largest encoder file read (the shipped one is 3 MB; DESIGN allows 25 MB of weights)."""


def _read_checked(path: Path, *, header_only: bool = False) -> bytes:
    """An encoder file's bytes (or its length field and header), from a regular file only,
    never more than :data:`MAX_FILE`; raises ``ValueError`` naming the problem."""
    data = read_regular_file(path, limit=MAX_FILE, head=8 + MAX_HEADER if header_only else None)
    if len(data) < 8:
        raise ValueError("truncated file")
    n = int.from_bytes(data[:8], "little")
    if not 0 < n <= min(MAX_HEADER, len(data) - 8):
        raise ValueError("not an INRet encoder file (no safetensors header)")
    return data[:8 + n] if header_only else data


def _metadata(data: bytes) -> dict:
    """The checked ``__metadata__`` of an encoder file's bytes (at least its header)."""
    n = int.from_bytes(data[:8], "little")
    head = json.loads(data[8:8 + n])
    meta = head.get("__metadata__", {}) if isinstance(head, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("not an INRet encoder file")
    if int(meta.get("version", 0)) > VERSION:
        raise ValueError(f"written by a newer version ({meta['version']}); upgrade")
    if int(meta.get("version", 0)) not in READABLE:
        raise ValueError(f"format {meta.get('version')} predates centred embeddings; retrain it "
                         "with inret train-encoder")
    return meta
