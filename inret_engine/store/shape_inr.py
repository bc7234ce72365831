"""A shape INR as stored: architecture config, implicit function, labels and tensors.

This module ties the generic ``.inr`` container (:mod:`.inr_file`) to the
architectures: loading checks every tensor against the declared config, so a file
that parses but does not fit its own header is refused with the tensor's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import torch

from ..fields import Field, FieldConfig, check_inr_tensors, config_from_dict
from ..functions import ImplicitFunction
from .inr_file import InrFile, read_inr, write_inr

FORMAT_NOTE = "INRet shape INR; tensors named as in inret_engine.fields"


@dataclasses.dataclass
class ShapeINR:
    """One INR: what it is (config, function), what it shows (labels) and its weights."""

    config: FieldConfig
    function: ImplicitFunction
    tensors: dict[str, torch.Tensor]
    labels: dict = dataclasses.field(default_factory=dict)
    normalization: dict | None = None
    fit: dict = dataclasses.field(default_factory=dict)

    def header(self) -> dict:
        return {"arch": self.config.to_dict(), "function": self.function.value, "labels": self.labels,
                "normalization": self.normalization, "fit": self.fit, "note": FORMAT_NOTE}

    def to_field(self) -> Field:
        """A batch-of-one field ready to evaluate."""
        return Field.from_inr_tensors(self.config, [self.tensors])

    @classmethod
    def from_file(cls, inr: InrFile) -> "ShapeINR":
        h = inr.header
        return cls(config=config_from_dict(h["arch"]), function=ImplicitFunction.parse(h["function"]),
                   tensors=inr.tensors, labels=h.get("labels") or {},
                   normalization=h.get("normalization"), fit=h.get("fit") or {})


def validate_header_and_tensors(header: dict, tensors: dict[str, torch.Tensor]) -> None:
    """Validator for :func:`read_inr`: known architecture and function, tensors matching them."""
    config = config_from_dict(header["arch"])
    ImplicitFunction.parse(header["function"])
    check_inr_tensors(config, tensors)


def load_shape_inr(path: Path) -> ShapeINR:
    """Read and fully validate an ``.inr`` file (raises ``InrFileError`` naming the file)."""
    return ShapeINR.from_file(read_inr(Path(path), validate=validate_header_and_tensors))


def save_shape_inr(path: Path, inr: ShapeINR) -> str:
    """Write atomically; returns the file's sha256."""
    validate_header_and_tensors(inr.header(), inr.tensors)
    return write_inr(Path(path), inr.header(), inr.tensors)


def stack_fields(inrs: Sequence[ShapeINR]) -> Field:
    """One batched field from INRs that share a config."""
    if not inrs:
        raise ValueError("nothing to stack")
    config = inrs[0].config
    if any(i.config != config for i in inrs):
        raise ValueError("INRs of different configs cannot share a batch")
    return Field.from_inr_tensors(config, [i.tensors for i in inrs])
