"""The shape-INR reader against hostile files: every mutation is refused with an
``InrFileError`` or accepted as an INR that evaluates to finite values, quickly.

Mutations are seeded, so a failure names a reproducible case: byte flips, truncations
and insertions anywhere in the file; each header value (architecture config, function,
labels, fit, normalisation) replaced by values of the wrong type or out of range; and
tensors scaled until they would overflow. Special files (a FIFO, a link to a device,
a directory) are refused before a byte is read.
"""

from __future__ import annotations

import copy
import json
import os
import random
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from inret_engine.fields import Field, HashGridConfig, MLPConfig, OctreeConfig, TriplaneConfig
from inret_engine.functions import ImplicitFunction
from inret_engine.store.inr_file import InrFileError, decode_inr, encode_inr
from inret_engine.store.shape_inr import ShapeINR, load_shape_inr, validate_header_and_tensors

CONFIGS = {
    "hash": HashGridConfig(levels=2, feature_dim=2, min_res=4, max_res=8, log2_table=8, hidden_dim=8),
    "octree": OctreeConfig(feature_dim=4, base_level=1, max_level=2, hidden_dim=8),
    "triplane": TriplaneConfig(feature_dim=4, resolutions=(8,), hidden_dim=8),
    "mlp": MLPConfig(hidden_dim=8, hidden_layers=2),
}
HOSTILE = [None, True, -1, 0, 1.5, 1e7, 2**63, 10**30, "x", "", [], [1, 2], {}, {"a": 1}, 1e300]
POINTS = torch.rand(1, 64, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
SECONDS_PER_FILE = 2.0


def _inr(arch: str) -> ShapeINR:
    config = CONFIGS[arch]
    sphere = np.random.default_rng(0).normal(size=(200, 3))
    sphere = 0.5 * sphere / np.linalg.norm(sphere, axis=1, keepdims=True)
    field = Field.create(config, 1, seed=0, surfaces=[sphere])
    return ShapeINR(config=config, function=ImplicitFunction.SDF, tensors=field.inr_tensors(0),
                    labels={"name": "ball", "category": "Sphere", "shape_id": "s0"},
                    normalization={"center": [0.0, 0.0, 0.0], "scale": 1.0,
                                   "rotation": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]},
                    fit={"steps": 10, "seed": 0, "chamfer": 0.01})


def _with_header(data: bytes, header: dict) -> bytes:
    """``data`` with its INR header replaced (no checks, as an attacker would write it)."""
    n = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8:8 + n])
    head["__metadata__"]["header"] = json.dumps(header)
    text = json.dumps(head).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + n:]


def _leaves(value: object, path: tuple = ()) -> list[tuple]:
    """Paths to every value of a JSON tree (objects and lists included)."""
    out = [path] if path else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _leaves(v, path + (i,))
    return out


def _replaced(tree: dict, path: tuple, value: object) -> dict:
    out = copy.deepcopy(tree)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _check(data: bytes, case: str) -> str:
    """Decodes one mutant; returns "refused" or "accepted" and fails on anything else."""
    start = time.perf_counter()
    try:
        inr = ShapeINR.from_file(decode_inr(data, name="m.inr", validate=validate_header_and_tensors))
    except InrFileError:
        outcome = "refused"
    else:
        values = inr.to_field()(POINTS)
        assert bool(torch.isfinite(values).all()), f"{case}: accepted, then evaluated to non-finite values"
        assert isinstance(inr.labels, dict) and isinstance(inr.fit, dict), case
        outcome = "accepted"
    assert time.perf_counter() - start < SECONDS_PER_FILE, f"{case}: took over {SECONDS_PER_FILE} s"
    return outcome


@pytest.mark.parametrize("arch", list(CONFIGS))
def test_every_header_value_mutated(arch: str) -> None:
    inr = _inr(arch)
    data = encode_inr(inr.header(), inr.tensors)
    header = inr.header()
    outcomes = []
    for path in _leaves(header):
        for value in HOSTILE:
            outcomes.append(_check(_with_header(data, _replaced(header, path, value)), f"{path}={value!r}"))
    assert "refused" in outcomes and "accepted" in outcomes  # e.g. a label of 1.5 is harmless


@pytest.mark.parametrize("arch", list(CONFIGS))
def test_random_bytes_mutated(arch: str) -> None:
    inr = _inr(arch)
    data = encode_inr(inr.header(), inr.tensors)
    rng = random.Random(arch)
    for i in range(150):
        mutant = bytearray(data)
        kind = i % 3
        at = rng.randrange(len(data))
        if kind == 0:
            for _ in range(rng.randint(1, 4)):
                mutant[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            mutant = mutant[:at]
        else:
            mutant[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        _check(bytes(mutant), f"{arch} byte mutation {i}")


@pytest.mark.parametrize("arch", list(CONFIGS))
@pytest.mark.parametrize("scale", [1e3, 1e12, 1e30, 3e38])
def test_huge_weights_refused_or_finite(arch: str, scale: float) -> None:
    inr = _inr(arch)
    tensors = {k: (v * scale).clamp(-3e38, 3e38) if v.is_floating_point() else v for k, v in inr.tensors.items()}
    outcome = _check(encode_inr(inr.header(), tensors), f"{arch} weights x{scale:g}")
    if scale >= 1e30:
        assert outcome == "refused"


def test_out_of_range_config_is_refused_before_any_allocation() -> None:
    inr = _inr("mlp")
    data = encode_inr(inr.header(), inr.tensors)
    for arch, expected in (({"kind": "mlp", "hidden_dim": 8, "hidden_layers": 10**7}, "hidden_layers"),
                           ({"kind": "hash", "log2_table": 34}, "log2_table"),
                           ({"kind": "mlp", "omega0": None}, "omega0"),
                           ({"kind": "octree", "max_level": 12}, "max_level"),
                           ({"kind": "triplane", "resolutions": [8] * 100}, "resolutions")):
        start = time.perf_counter()
        with pytest.raises(InrFileError, match=expected):
            decode_inr(_with_header(data, {**inr.header(), "arch": arch}), validate=validate_header_and_tensors)
        assert time.perf_counter() - start < 0.5


def test_out_of_range_number_in_json_is_refused() -> None:
    inr = _inr("mlp")
    data = encode_inr(inr.header(), inr.tensors)
    text = json.dumps(inr.header()).replace('"omega0": 30.0', '"omega0": 1e400')
    n = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8:8 + n])
    head["__metadata__"]["header"] = text
    body = json.dumps(head).encode()
    body += b" " * (-len(body) % 8)
    with pytest.raises(InrFileError, match="out of range"):
        decode_inr(struct.pack("<Q", len(body)) + body + data[8 + n:])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_special_files_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.inr"
    os.mkfifo(fifo)
    with pytest.raises(InrFileError, match="not a regular file"):
        load_shape_inr(fifo)  # would block forever if opened for a blocking read
    if Path("/dev/zero").exists():
        (tmp_path / "zero.inr").symlink_to("/dev/zero")
        with pytest.raises(InrFileError, match="not a regular file"):
            load_shape_inr(tmp_path / "zero.inr")  # would read until memory runs out
    (tmp_path / "folder.inr").mkdir()
    with pytest.raises(InrFileError, match="is a directory"):
        load_shape_inr(tmp_path / "folder.inr")


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    from inret_engine.store.shape_inr import save_shape_inr

    path = tmp_path / "a.inr"
    digest = save_shape_inr(path, _inr("hash"))
    assert load_shape_inr(path, sha256=digest).config == CONFIGS["hash"]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # a flipped bit in a weight: still a valid file, but not the one written
    path.write_bytes(bytes(data))
    load_shape_inr(path)  # valid on its own
    with pytest.raises(InrFileError, match="does not match the checksum"):
        load_shape_inr(path, sha256=digest)
