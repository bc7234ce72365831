"""Tests for inret_engine.store.inr_file: round trips and one test per refusal."""

from __future__ import annotations

import hashlib
import json
import pathlib
import pickle
import random
import struct
from pathlib import Path

import pytest
import safetensors.torch
import torch

from inret_engine.store.inr_file import (
    MAX_HEADER_BYTES,
    InrFile,
    InrFileError,
    decode_inr,
    encode_inr,
    file_sha256,
    read_inr,
    write_inr,
)

HEADER = {
    "arch": {"kind": "mlp", "in_dim": 3, "hidden": 4, "layers": 2},
    "function": "sdf",
    "normalisation": {"center": [0.5, -0.25, 0.0], "scale": 1.75},
    "labels": {"name": "chair_01", "category": "Chair", "source": "psb"},
}


def _tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "mlp.0.weight": torch.randn(4, 3, generator=g),
        "mlp.0.bias": torch.tensor([0.0, -0.0, 1e-38, -3.5]),
        "mlp.1.weight": torch.randn(1, 4, generator=g).half(),
        "grid.table": torch.randn(8, 2, generator=g).bfloat16(),
        "grid.offsets": torch.tensor([0, 8, 16], dtype=torch.int32),
        "grid.res": torch.tensor(1 << 40, dtype=torch.int64),
        "octree.codes": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "octree.mask": torch.tensor([[True, False], [False, True]]),
        "empty": torch.zeros(0, 3),
    }


def _bits(t: torch.Tensor) -> bytes:
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _assert_same(loaded: InrFile, header: dict, tensors: dict[str, torch.Tensor]) -> None:
    assert loaded.header == header
    assert set(loaded.tensors) == set(tensors)
    for name, t in tensors.items():
        got = loaded.tensors[name]
        assert got.dtype == t.dtype and got.shape == t.shape, name
        assert _bits(got) == _bits(t), name


def _check_exact(header: dict, tensors: dict[str, torch.Tensor]) -> None:
    """A strict validate callback: names, dtypes, shapes and header as written."""
    if header != HEADER:
        raise ValueError("header differs from the one written")
    expected = _tensors()
    if set(tensors) != set(expected):
        raise KeyError(f"tensor names {sorted(tensors)} differ")
    for name, t in expected.items():
        got = tensors[name]
        if got.dtype != t.dtype or got.shape != t.shape:
            raise ValueError(f"tensor {name!r} has shape {tuple(got.shape)}, expected {tuple(t.shape)}")


def _craft(entries: dict, metadata: dict | None, data: bytes = b"") -> bytes:
    """Builds raw safetensors bytes from a hand-written header."""
    head = dict(entries)
    if metadata is not None:
        head["__metadata__"] = metadata
    text = json.dumps(head).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def _meta(header: dict | str | None = None, **overrides: str) -> dict[str, str]:
    text = header if isinstance(header, str) else json.dumps(header or HEADER)
    return {"format": "inret-inr", "version": "1", "header": text, **overrides}


def _refused(data: bytes, match: str) -> None:
    with pytest.raises(InrFileError, match=match) as info:
        decode_inr(data, name="model.inr")
    assert str(info.value).startswith("model.inr: ") and info.value.path == Path("model.inr")


def test_round_trip_bit_exact(tmp_path: Path) -> None:
    path = tmp_path / "model.inr"
    digest = write_inr(path, HEADER, tensors := _tensors())
    _assert_same(loaded := read_inr(path, validate=_check_exact), HEADER, tensors)
    assert all(t.is_contiguous() and t.device.type == "cpu" for t in loaded.tensors.values())
    assert digest == file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_encode_is_deterministic_and_decodes() -> None:
    data = encode_inr(HEADER, _tensors())
    reordered = dict(reversed(list(HEADER.items())))
    for _ in range(5):  # safetensors writes metadata in hash-map order: must not leak out
        assert data == encode_inr(reordered, dict(reversed(list(_tensors().items()))))
    _assert_same(decode_inr(data), HEADER, _tensors())


def test_write_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "model.inr"
    write_inr(path, HEADER, {"a": torch.ones(2)})
    digest = write_inr(path, {**HEADER, "function": "udf"}, {"b": torch.zeros(3)})
    loaded = read_inr(path)
    assert loaded.header["function"] == "udf" and set(loaded.tensors) == {"b"} and digest == file_sha256(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.inr"]


def test_non_contiguous_and_shared_storage_inputs() -> None:
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    tensors = {"t": base.t(), "row": base[1], "all": base}
    loaded = decode_inr(encode_inr(HEADER, tensors))
    for name, t in tensors.items():
        assert torch.equal(loaded.tensors[name], t)


def test_header_length_with_pickle_like_first_byte_still_loads() -> None:
    # A valid file whose header length is 128 mod 256 starts with byte 0x80, the pickle
    # PROTO opcode; it must not be mistaken for a pickle.
    for pad in range(300):
        header = {**HEADER, "labels": {"name": "x" * pad}}
        data = encode_inr(header, {"w": torch.ones(2)})
        if data[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length of 128 mod 256")
    assert decode_inr(data).header == header


def test_error_pickles_with_path_and_problem() -> None:
    err = InrFileError(Path("m.inr"), "empty file")
    back = pickle.loads(pickle.dumps(err))
    assert (back.path, back.problem, str(back)) == (Path("m.inr"), "empty file", "m.inr: empty file")


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ({"function": "sdf"}, "arch"),
        ({"arch": {}}, "function"),
        ({"arch": [], "function": "sdf"}, "arch"),
        ({**HEADER, "scale": float("nan")}, "finite"),
        ({**HEADER, "bad": object()}, "JSON"),
        ([], "JSON object"),
    ],
)
def test_encode_refuses_bad_header(header: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        encode_inr(header, {"w": torch.ones(1)})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tensors", "error", "match"),
    [
        ({"w": torch.tensor([1.0, float("nan")])}, ValueError, "NaN/Inf"),
        ({"w": torch.tensor([float("-inf")]).half()}, ValueError, "NaN/Inf"),
        ({"w": torch.ones(2, dtype=torch.float64)}, ValueError, "dtype"),
        ({"w": torch.ones(2, dtype=torch.int8)}, ValueError, "dtype"),
        ({"w": [1.0, 2.0]}, TypeError, "not a torch.Tensor"),
        ({"": torch.ones(1)}, ValueError, "name"),
        ({"__metadata__": torch.ones(1)}, ValueError, "name"),
    ],
)
def test_encode_refuses_bad_tensor(tensors: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        encode_inr(HEADER, tensors)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InrFileError, match="file not found") as info:
        read_inr(tmp_path / "nope.inr")
    assert info.value.path == tmp_path / "nope.inr" and str(tmp_path / "nope.inr") in str(info.value)


def test_directory_path(tmp_path: Path) -> None:
    with pytest.raises(InrFileError, match="is a directory"):
        read_inr(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.inr").write_bytes(b"")
    with pytest.raises(InrFileError, match="empty file"):
        read_inr(tmp_path / "empty.inr")


def test_truncated_at_every_byte() -> None:
    data = encode_inr(HEADER, _tensors())
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    for cut in range(len(data)):
        with pytest.raises(InrFileError) as info:
            decode_inr(data[:cut], name="model.inr")
        if header_end < cut:
            assert "truncated file (header says" in info.value.problem, cut
        elif 8 <= cut:
            assert "truncated" in info.value.problem, cut


def test_trailing_bytes() -> None:
    _refused(encode_inr(HEADER, _tensors()) + b"\x00" * 5, "trailing bytes")


def test_random_header_byte_corruption_never_passes_silently() -> None:
    data = encode_inr(HEADER, _tensors())
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    rng = random.Random(1234)
    refused = 0
    for pos in range(header_end):
        bad = bytearray(data)
        bad[pos] ^= rng.randrange(1, 256)
        try:
            loaded = decode_inr(bytes(bad), name="model.inr", validate=_check_exact)
        except InrFileError as e:
            assert str(e).startswith("model.inr: ")
            refused += 1
            continue
        _assert_same(loaded, HEADER, _tensors())  # only harmless changes (e.g. whitespace)
    assert refused > 0.9 * header_end


def test_corrupted_header_json() -> None:
    data = bytearray(encode_inr(HEADER, _tensors()))
    data[8] = 0xFF
    _refused(bytes(data), r"corrupted header \(not valid UTF-8 JSON")
    _refused(_craft({}, None)[:8] + b"[1, 2, 3]       ", "corrupted header")


def test_oversize_header() -> None:
    payload = b"{" + b" " * 100
    _refused(struct.pack("<Q", MAX_HEADER_BYTES + 1) + payload, "oversize header")
    _refused(struct.pack("<Q", 2**64 - 1) + payload, "oversize header")
    _refused(struct.pack("<Q", 1000) + payload, "oversize header")


def test_wrong_shape_via_validate(tmp_path: Path) -> None:
    path = tmp_path / "model.inr"
    write_inr(path, HEADER, {"mlp.0.weight": torch.zeros(64, 3)})

    def validate(header: dict, tensors: dict[str, torch.Tensor]) -> None:
        shape = tuple(tensors["mlp.0.weight"].shape)
        if shape != (64, 11):
            raise ValueError(f"tensor 'mlp.0.weight' has shape {shape}, expected (64, 11)")

    with pytest.raises(InrFileError) as info:
        read_inr(path, validate=validate)
    assert str(info.value) == f"{path}: tensor 'mlp.0.weight' has shape (64, 3), expected (64, 11)"


def test_validate_key_error_message() -> None:
    def validate(header: dict, tensors: dict[str, torch.Tensor]) -> None:
        tensors["mlp.9.weight"]

    with pytest.raises(InrFileError) as info:
        decode_inr(encode_inr(HEADER, {"w": torch.ones(1)}), name="m.inr", validate=validate)
    assert str(info.value) == "m.inr: mlp.9.weight"


def test_validate_type_error_becomes_inr_file_error() -> None:
    def validate(header: dict, tensors: dict[str, torch.Tensor]) -> None:
        header["arch"]["hidden"] + 1  # a hostile file may put a string here

    data = encode_inr({"arch": {"hidden": "many"}, "function": "sdf"}, {"w": torch.ones(1)})
    with pytest.raises(InrFileError, match="str"):
        decode_inr(data, validate=validate)


def test_validate_other_errors_propagate() -> None:
    def validate(header: dict, tensors: dict[str, torch.Tensor]) -> None:
        raise RuntimeError("a bug in the validator, not a bad file")

    with pytest.raises(RuntimeError, match="bug"):
        decode_inr(encode_inr(HEADER, {"w": torch.ones(1)}), validate=validate)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_nan_inf_tensor(value: float, dtype: torch.dtype) -> None:
    table = torch.zeros(4, 2, dtype=dtype)
    table[2, 1] = value
    data = safetensors.torch.save({"grid.table": table, "w": torch.ones(2)}, metadata=_meta())
    _refused(data, r"tensor 'grid.table' holds NaN/Inf values")


class Evil:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_evil_payload_is_real(tmp_path: Path) -> None:
    marker = tmp_path / "proof"
    pickle.loads(pickle.dumps(Evil(marker)))
    assert marker.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_refused_and_never_loaded(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.inr"
    path.write_bytes(pickle.dumps({"w": Evil(marker)}, protocol=protocol))
    with pytest.raises(InrFileError) as info:
        read_inr(path)
    assert "is a Python pickle (or torch.save archive), which is never loaded" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("zipfile", [True, False])
def test_torch_save_refused_and_never_loaded(tmp_path: Path, zipfile: bool) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.inr"
    torch.save({"w": torch.ones(3), "evil": Evil(marker)}, path,
               _use_new_zipfile_serialization=zipfile)
    with pytest.raises(InrFileError, match="never loaded: refusing"):
        read_inr(path)
    assert not marker.exists()


def test_other_magic_named() -> None:
    _refused(b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}", "NumPy")
    _refused(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "gzip")


def test_wrong_format_and_missing_metadata() -> None:
    tensor = {"w": torch.ones(2)}
    _refused(safetensors.torch.save(tensor, metadata=_meta(format="other")),
             "not an INR file \\(format 'other'")
    _refused(safetensors.torch.save(tensor), "no safetensors metadata")


def test_newer_version() -> None:
    data = safetensors.torch.save({"w": torch.ones(2)}, metadata=_meta(version="2"))
    _refused(data, r"written by a newer version \(2\); upgrade")
    _refused(safetensors.torch.save({"w": torch.ones(2)}, metadata=_meta(version="one")),
             "version")


@pytest.mark.parametrize("dtype", [torch.float64, torch.int8, torch.int16])
def test_disallowed_dtype(dtype: torch.dtype) -> None:
    data = safetensors.torch.save({"w": torch.ones(2, dtype=dtype)}, metadata=_meta())
    _refused(data, "tensor 'w' has dtype '(F64|I8|I16)', which is not allowed")


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ({"function": "sdf"}, "'arch'"),
        ({"arch": {"kind": "mlp"}}, "'function'"),
        ({"arch": "mlp", "function": "sdf"}, "'arch'"),
    ],
)
def test_missing_arch_or_function(header: dict, match: str) -> None:
    _refused(safetensors.torch.save({"w": torch.ones(1)}, metadata=_meta(header)), match)


def test_inr_header_not_json() -> None:
    data = safetensors.torch.save({"w": torch.ones(1)}, metadata=_meta("{oops"))
    _refused(data, "INR header is not valid JSON")
    data = safetensors.torch.save({"w": torch.ones(1)}, metadata=_meta('"text"'))
    _refused(data, "header is a str, expected a JSON object")
    meta = _meta()
    del meta["header"]
    _refused(safetensors.torch.save({"w": torch.ones(1)}, metadata=meta), "header is missing")


@pytest.mark.parametrize(
    ("entries", "data_len", "match"),
    [
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, 4, "needs 8 bytes"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
          "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, 6, "overlap"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, 8, "gap"),
        ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, 4, "invalid"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}, 4, "invalid"),
        ({"a": {"dtype": "F32", "shape": [1]}}, 4, "malformed"),
        ({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, 2, "bytes other than 0/1"),
    ],
)
def test_bad_offsets_and_shapes(entries: dict, data_len: int, match: str) -> None:
    _refused(_craft(entries, _meta(), b"\x07" * data_len), match)


def test_duplicate_keys_in_header() -> None:
    entry = '{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    text = f'{{"a": {entry}, "a": {entry}, "__metadata__": {json.dumps(_meta())}}}'.encode()
    _refused(struct.pack("<Q", len(text)) + text + b"\x00" * 4, "corrupted header")
