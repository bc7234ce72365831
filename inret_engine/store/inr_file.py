"""The ``.inr`` file: one INR's header and tensors in a safetensors container.

Layout (plain safetensors): an 8-byte little-endian header length, a JSON header mapping
tensor names to ``{dtype, shape, data_offsets}`` plus ``__metadata__``, then the tensor bytes.
``__metadata__`` holds ``"format": "inret-inr"``, ``"version": "1"`` and ``"header"``, a JSON
object with at least ``"arch"`` (dict) and ``"function"`` (str). Loading never unpickles
anything: the safetensors header is parsed and checked here before any tensor is built, and
every problem raises an :class:`InrFileError` naming the file and the problem.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "model.inr"
    >>> header = {"arch": {"kind": "mlp", "hidden": 4}, "function": "sdf"}
    >>> digest = write_inr(path, header, {"mlp.0.weight": torch.zeros(4, 3)})
    >>> inr = read_inr(path)
    >>> inr.header["function"], tuple(inr.tensors["mlp.0.weight"].shape)
    ('sdf', (4, 3))
    >>> digest == file_sha256(path)
    True
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import safetensors.torch
import torch

from inret_engine.errors import InretError, InrFileError
from inret_engine.store.atomic import atomic_write_bytes
from inret_engine.store.files import read_regular_file

__all__ = ["ALLOWED_DTYPES", "FORMAT", "MAX_FILE_BYTES", "MAX_HEADER_BYTES", "VERSION", "InrFile",
           "InrFileError", "decode_inr", "encode_inr", "file_sha256", "read_inr", "read_regular_file",
           "write_inr"]

FORMAT = "inret-inr"
VERSION = 1
MAX_HEADER_BYTES = 1 << 20
MAX_FILE_BYTES = 512 << 20
ALLOWED_DTYPES = frozenset({torch.float32, torch.float16, torch.bfloat16, torch.int32, torch.int64,
                            torch.uint8, torch.bool})
# safetensors dtype code -> (torch dtype, bytes per element), for the allowed dtypes only.
_CODES = {
    "F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
    "I32": (torch.int32, 4), "I64": (torch.int64, 8), "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}
_PICKLE_MSG = "is a Python pickle (or torch.save archive), which is never loaded: refusing"
_ZIP_MSG = "is a zip archive (the torch.save format), which is never loaded: refusing"
_MAGICS = ((b"PK\x03\x04", _ZIP_MSG), (b"PK\x05\x06", _ZIP_MSG),
           (b"\x93NUMPY", "is a NumPy .npy array, not an INR file"),
           (b"\x1f\x8b", "is a gzip-compressed file, not an INR file"),
           (b"\x89HDF\r\n\x1a\n", "is an HDF5 file, not an INR file"))
Validator = Callable[[dict, dict[str, torch.Tensor]], None]


class _Bad(Exception):
    """Internal: one problem found in the content, before the file name is attached."""


@dataclass
class InrFile:
    """A decoded ``.inr`` file.

    Attributes:
        header: The INR header (architecture config, implicit function, normalisation,
            labels); always has ``"arch"`` (dict) and ``"function"`` (str).
        tensors: Name -> contiguous CPU tensor, e.g. ``"mlp.0.weight"`` of shape (H, D).
    """

    header: dict
    tensors: dict[str, torch.Tensor]


def _check_inr_header(header: object) -> dict:
    """``header``; raises _Bad unless it is a dict with ``arch`` (dict) and ``function`` (str)."""
    if not isinstance(header, dict):
        raise _Bad(f"header is a {type(header).__name__}, expected a JSON object")
    if not isinstance(header.get("arch"), dict):
        raise _Bad("header lacks an 'arch' object (the architecture config)")
    if not isinstance(header.get("function"), str):
        raise _Bad("header lacks a 'function' string (the implicit function)")
    return header


def _prepare_tensor(name: object, tensor: object) -> torch.Tensor:
    """Checks one tensor for writing and returns a contiguous CPU copy of it."""
    if not isinstance(name, str) or not name or name == "__metadata__":
        raise ValueError(f"invalid tensor name {name!r}")
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor {name!r} is a {type(tensor).__name__}, not a torch.Tensor")
    if tensor.dtype not in ALLOWED_DTYPES:
        raise ValueError(f"tensor {name!r} has dtype {tensor.dtype}, which .inr files do not allow")
    if tensor.layout != torch.strided:
        raise ValueError(f"tensor {name!r} is {tensor.layout}, only dense tensors can be stored")
    out = tensor.detach().to("cpu").clone(memory_format=torch.contiguous_format)
    if out.is_floating_point() and not bool(torch.isfinite(out).all()):
        raise ValueError(f"tensor {name!r} holds NaN/Inf values")
    return out


def encode_inr(header: dict, tensors: Mapping[str, torch.Tensor]) -> bytes:
    """Validates an INR and serialises it to the bytes of an ``.inr`` file.

    Args:
        header: JSON-serialisable dict with at least ``"arch"`` (dict) and ``"function"``
            (str); floats must be finite.
        tensors: Name -> tensor of any shape, dtype in :data:`ALLOWED_DTYPES`, on any
            device; floating tensors must be finite. Copies are stored, inputs untouched.

    Returns:
        The file content. Equal inputs (in any dict order) give equal bytes.

    Raises:
        ValueError: If the header or a tensor is invalid, or the file would be too large.
        TypeError: If ``tensors`` is not a mapping of ``torch.Tensor``.
    """
    try:
        _check_inr_header(header)
    except _Bad as e:
        raise ValueError(str(e)) from None
    try:
        header_json = json.dumps(header, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"header is not JSON-serialisable with finite numbers: {e}") from None
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors is a {type(tensors).__name__}, expected a name -> tensor mapping")
    prepared = {name: _prepare_tensor(name, tensors[name]) for name in sorted(tensors, key=str)}
    metadata = {"format": FORMAT, "version": str(VERSION), "header": header_json}
    data = _canonical(safetensors.torch.save(prepared, metadata=metadata))
    header_len = struct.unpack("<Q", data[:8])[0]
    if header_len > MAX_HEADER_BYTES:
        raise ValueError(f"safetensors header of {header_len} bytes exceeds {MAX_HEADER_BYTES}")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"INR of {len(data)} bytes exceeds the {MAX_FILE_BYTES}-byte limit")
    return data


def _canonical(data: bytes) -> bytes:
    """Sorts the JSON header's keys (safetensors emits metadata in hash-map order) for stable bytes."""
    header_len = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8 : 8 + header_len])
    text = json.dumps(head, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + header_len :]


def write_inr(path: Path, header: dict, tensors: Mapping[str, torch.Tensor]) -> str:
    """Encodes an INR (see :func:`encode_inr`) and writes it to ``path`` atomically.

    Args:
        path: The target ``.inr`` file; its folder must exist. Replaced if present.
        header: The INR header; tensors: name -> tensor (both as for :func:`encode_inr`).

    Returns:
        The sha256 hex digest of the bytes written.
    """
    data = encode_inr(header, tensors)
    atomic_write_bytes(Path(path), data)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """Returns the sha256 hex digest of a file's content (read in chunks)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_inr(path: Path, *, validate: Validator | None = None) -> InrFile:
    """Reads and fully checks an ``.inr`` file. Never unpickles anything.

    Args:
        path: The file.
        validate: Optional ``validate(header, tensors)`` run last, e.g. to check each
            tensor's shape against ``header["arch"]``; a ValueError, KeyError or TypeError
            it raises becomes an :class:`InrFileError` carrying its message.

    Returns:
        The decoded header and tensors.

    Raises:
        InrFileError: For any problem: missing, a directory, too large, truncated, a pickle,
            corrupted, wrong format or version, disallowed dtype, NaN/Inf, or ``validate``.
    """
    path = Path(path)
    try:
        data = read_regular_file(path, limit=MAX_FILE_BYTES)
    except ValueError as e:
        raise InrFileError(path, str(e)) from None
    return decode_inr(data, name=str(path), validate=validate)


def decode_inr(data: bytes, *, name: str = "<bytes>", validate: Validator | None = None) -> InrFile:
    """Decodes and fully checks the bytes of an ``.inr`` file (see :func:`read_inr`).

    Args:
        data: The file content.
        name: How error messages name the source.
        validate: Optional final check, as for :func:`read_inr`.

    Returns:
        The decoded header and tensors; raises :class:`InrFileError` for any problem.
    """
    data = bytes(data)
    try:
        meta = _parse_container(data)
        tensors = _load_tensors(data)
        header = _parse_inr_header(meta)
        _check_values(tensors)
    except _Bad as e:
        raise InrFileError(name, str(e)) from None
    if validate is not None:
        try:
            validate(header, tensors)
        except InrFileError:
            raise
        except KeyError as e:  # str(KeyError("x")) would add quotes
            raise InrFileError(name, str(e.args[0]) if e.args else "missing key") from None
        except (InretError, ValueError, TypeError) as e:  # TypeError: header values of the wrong type
            raise InrFileError(name, str(e)) from None
    return InrFile(header=header, tensors=tensors)


def _sniff(data: bytes) -> None:
    """Names a pickle, zip or other known non-safetensors file by its leading bytes."""
    header_len = struct.unpack("<Q", data[:8])[0]
    if 8 + header_len <= len(data) and data[8:9] == b"{":
        return  # A plausible safetensors layout, whatever its first byte happens to be.
    for magic, message in _MAGICS:
        if data.startswith(magic):
            raise _Bad(message)
    if data[0] == 0x80 and 1 <= data[1] <= 5:  # PROTO opcode + protocol number
        raise _Bad(_PICKLE_MSG)
    if data[:1] in (b"(", b"}", b"]", b"c") and data.endswith(b"."):  # protocol 0/1
        raise _Bad(_PICKLE_MSG)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """``json.loads`` hook that refuses duplicate keys."""
    if len(out := dict(pairs)) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constant(token: str) -> None:
    """``json.loads`` hook that refuses NaN/Infinity literals."""
    raise ValueError(f"non-finite number {token}")


def _finite_float(token: str) -> float:
    """``json.loads`` hook that refuses numbers beyond float range (``1e400`` would be Inf)."""
    if not math.isfinite(value := float(token)):
        raise ValueError(f"number {token[:20]} is out of range")
    return value


def _loads(text: str) -> object:
    """``json.loads`` refusing duplicate keys and non-finite numbers; any failure is ValueError."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                          parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _parse_container(data: bytes) -> dict[str, str]:
    """Checks the safetensors layout and returns ``__metadata__``; builds no tensor."""
    size = len(data)
    if size > MAX_FILE_BYTES:
        raise _Bad(f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
    if size == 0:
        raise _Bad("empty file")
    if size < 8:
        raise _Bad(f"truncated file ({size} bytes, fewer than the 8-byte length field)")
    _sniff(data)
    header_len = struct.unpack("<Q", data[:8])[0]
    if (header_len > MAX_HEADER_BYTES or 8 + header_len > size) and size > 8 and data[8:9] != b"{":
        raise _Bad("not an INR file (it does not start with a safetensors header: is it a mesh, "
                   "an image or a file of another program?)")
    if header_len > MAX_HEADER_BYTES:
        raise _Bad(f"oversize header ({header_len} bytes, limit {MAX_HEADER_BYTES})")
    if 8 + header_len > size:
        raise _Bad(f"truncated file or oversize header (header length says {header_len} bytes, "
                   f"{size - 8} present)")
    try:
        raw = _loads(data[8 : 8 + header_len].decode("utf-8"))
    except ValueError as e:  # UnicodeDecodeError is a ValueError too
        raise _Bad(f"corrupted header (not valid UTF-8 JSON: {e})") from None
    if not isinstance(raw, dict):
        raise _Bad("corrupted header (not a JSON object)")
    meta = _check_metadata(raw.pop("__metadata__", None))
    _check_layout(raw, data_len=size - 8 - header_len)
    return meta


def _check_metadata(meta: object) -> dict[str, str]:
    """Checks ``__metadata__`` holds this format and a version this code can read."""
    if meta is None:
        raise _Bad(f"not an INR file (no safetensors metadata; expected format {FORMAT!r})")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _Bad("corrupted header (metadata is not a string-to-string object)")
    if meta.get("format") != FORMAT:
        raise _Bad(f"not an INR file (format {meta.get('format')!r}, expected {FORMAT!r})")
    version = meta.get("version")
    if version is None or not (version.isascii() and version.isdigit()) or int(version) < 1:
        raise _Bad(f"corrupted header (missing or invalid format version {version!r})")
    if int(version) > VERSION:
        raise _Bad(f"written by a newer version ({int(version)}); upgrade to read it")
    return meta


def _is_int_list(value: object, length: int | None = None) -> bool:
    """True for a list of non-negative ints (not bools), of ``length`` items if given."""
    return (isinstance(value, list) and (length is None or len(value) == length)
            and all(type(v) is int and v >= 0 for v in value))


def _check_layout(entries: dict, *, data_len: int) -> None:
    """Checks dtypes, shapes and data offsets of every tensor entry against the data."""
    spans = []
    for name, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _Bad(f"corrupted header (entry for tensor {name!r} is malformed)")
        code = entry["dtype"]
        if not isinstance(code, str) or code not in _CODES:
            allowed = ", ".join(_CODES)
            raise _Bad(f"tensor {name!r} has dtype {code!r}, which is not allowed ({allowed})")
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not _is_int_list(shape) or not _is_int_list(offsets, 2):
            raise _Bad(f"corrupted header (shape or offsets of tensor {name!r} are invalid)")
        begin, end = offsets
        expected = math.prod(shape) * _CODES[code][1]
        if end - begin != expected:
            raise _Bad(f"corrupted header (tensor {name!r} of shape {tuple(shape)} and dtype {code} "
                       f"needs {expected} bytes, its offsets span {end - begin})")
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            kind = "overlap" if begin < position else "leave a gap"
            raise _Bad(f"corrupted header (data offsets of tensor {name!r} {kind})")
        position = end
    if data_len < position:
        raise _Bad(f"truncated file (header says {position} bytes of tensor data, {data_len} present)")
    if data_len > position:
        extra = data_len - position
        raise _Bad(f"trailing bytes ({extra} bytes after the {position} bytes of tensor data)")


def _load_tensors(data: bytes) -> dict[str, torch.Tensor]:
    """Builds the tensors with safetensors from already-checked bytes."""
    try:
        tensors = safetensors.torch.load(data)
    except Exception as e:  # noqa: BLE001 - any failure here means corrupt data
        raise _Bad(f"corrupted tensor data ({e})") from None
    for name, t in tensors.items():
        if t.dtype == torch.bool and bool((t.view(torch.uint8) > 1).any()):
            raise _Bad(f"corrupted tensor data (bool tensor {name!r} holds bytes other than 0/1)")
    return tensors


def _parse_inr_header(meta: dict[str, str]) -> dict:
    """Parses the INR header JSON kept in the metadata and checks its required keys."""
    text = meta.get("header")
    if text is None:
        raise _Bad("INR header is missing from the metadata")
    try:
        header = _loads(text)
    except ValueError as e:
        raise _Bad(f"INR header is not valid JSON ({e})") from None
    return _check_inr_header(header)


def _check_values(tensors: dict[str, torch.Tensor]) -> None:
    """Refuses floating tensors holding NaN or Inf."""
    for name, t in sorted(tensors.items()):
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise _Bad(f"tensor {name!r} holds NaN/Inf values")
