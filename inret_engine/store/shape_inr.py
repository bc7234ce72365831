"""A shape INR as stored: architecture config, implicit function, labels and tensors.

This module ties the generic ``.inr`` container (:mod:`.inr_file`) to the
architectures: loading checks every tensor against the declared config, so a file
that parses but does not fit its own header is refused with the tensor's name.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path

import torch

from ..data.geometry import Normalization
from ..errors import InrFileError
from ..fields import Field, FieldConfig, check_inr_tensors, config_from_dict
from ..functions import ImplicitFunction
from .files import read_regular_file
from .inr_file import MAX_FILE_BYTES, InrFile, decode_inr, write_inr

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


MAX_LABEL_CHARS = 4096
"""Longest string a label or fit value may be."""


def validate_header_and_tensors(header: dict, tensors: dict[str, torch.Tensor]) -> None:
    """Validator for :func:`read_inr`: known architecture and function with every config value
    in range, labels and fit records as flat objects, a valid normalisation, and tensors
    that match the config and cannot overflow (see :func:`~inret_engine.fields.field.output_bound`).
    """
    config = config_from_dict(header["arch"])
    ImplicitFunction.parse(header["function"])
    for key in ("labels", "fit"):
        _check_flat_object(key, header.get(key))
    if (norm := header.get("normalization")) is not None:
        if not isinstance(norm, dict):
            raise ValueError(f"header 'normalization' is a {type(norm).__name__}, expected an object")
        Normalization.from_dict(norm)
    check_inr_tensors(config, tensors)


def _check_flat_object(key: str, value: object) -> None:
    """Refuses a ``labels`` / ``fit`` value that is not null or an object of short scalars."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise ValueError(f"header {key!r} is a {type(value).__name__}, expected an object")
    for name, item in value.items():
        if item is not None and not isinstance(item, (str, int, float)):
            raise ValueError(f"header {key}.{name} is a {type(item).__name__}, expected text or a number")
        if isinstance(item, str) and len(item) > MAX_LABEL_CHARS:
            raise ValueError(f"header {key}.{name} is longer than {MAX_LABEL_CHARS} characters")


def load_shape_inr(path: Path, *, sha256: str | None = None) -> ShapeINR:
    """Read and fully validate an ``.inr`` file (raises ``InrFileError`` naming the file).

    Args:
        path: The file.
        sha256: The digest the file must have (a store's catalog keeps one per INR): a file
            changed or damaged since it was written is refused before it is decoded.
    """
    path = Path(path)
    try:
        data = read_regular_file(path, limit=MAX_FILE_BYTES)
    except ValueError as e:
        raise InrFileError(path, str(e)) from None
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise InrFileError(path, "content does not match the checksum the store recorded (changed or "
                                 "damaged since it was written)")
    return ShapeINR.from_file(decode_inr(data, name=str(path), validate=validate_header_and_tensors))


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
