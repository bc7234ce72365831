"""Encoder inputs follow each INR's own architecture; networks have the paper's shapes."""

import numpy as np
import pytest
import torch

from inret_engine.encoders.inputs import lattice_centres, neuron_width, read_weights, sample_grid
from inret_engine.encoders.model import INRetModel, ModelSpec
from inret_engine.encoders.networks import Conv3DEncoder, EmbeddingEncoder, ShapeDecoder, positional_encoding
from inret_engine.errors import EncoderFileError, UsageError
from inret_engine.fields import Field, OctreeConfig

from ..conftest import TINY_CONFIGS


def test_lattice_centres():
    pts = lattice_centres(4)
    assert pts.shape == (64, 3)
    assert pts[0].tolist() == [-0.75, -0.75, -0.75] and pts[1].tolist() == [-0.75, -0.75, -0.25]


@pytest.mark.parametrize("kind", ["hash", "octree", "triplane"])
def test_sample_grid_uses_the_inrs_own_lookup(kind):
    pts = np.random.default_rng(0).normal(size=(300, 3))
    surf = [0.3 * pts / np.linalg.norm(pts, axis=1, keepdims=True)] * 2  # a small sphere: corners stay empty
    field = Field.create(TINY_CONFIGS[kind], 2, keys=["a", "b"], surfaces=surf)
    grid = sample_grid(field, 8)
    assert grid.shape == (2, field.grid.out_dim, 8, 8, 8)
    pts = lattice_centres(8)
    direct = field.grid.interpolate(pts.expand(2, -1, -1))  # (B, R^3, C)
    assert torch.allclose(grid.flatten(2).transpose(1, 2), direct, rtol=1e-5, atol=1e-7)
    if kind == "octree":
        assert (grid == 0).any()  # absent voxels contribute zeros


def test_octree_shared_points_match_its_lookup_at_every_level():
    """The encoders' separable octree path equals ``interpolate`` on 32^3 and on a lattice no level divides."""
    gen = torch.Generator().manual_seed(0)
    pts = np.random.default_rng(1).uniform(-0.7, 0.7, size=(2000, 3))
    config = OctreeConfig()
    field = Field.create(config, 2, keys=["a", "b"], surfaces=[pts, pts[:500] * 0.5])
    with torch.no_grad():
        for feats in field.grid.features:
            feats.copy_(torch.randn(feats.shape, generator=gen))
    for resolution in (32, 20):
        direct = field.grid.interpolate(lattice_centres(resolution).expand(2, -1, -1))
        lattice = field.grid.interpolate_lattice(resolution)
        assert (direct != 0).any(dim=-1).float().mean() > 0.1
        assert torch.allclose(lattice, direct, atol=1e-5)


def test_read_weights_layout():
    field = Field.create(TINY_CONFIGS["hash"], 1)
    neurons = read_weights(field)
    dims = field.mlp.dims  # [in, hidden, 1]
    assert neurons.shape == (1, sum(dims[1:]), neuron_width(field))
    w0, b0 = field.mlp.weights[0][0], field.mlp.biases[0][0]
    row = neurons[0, 0]
    assert torch.equal(row[: dims[0]], w0[0]) and row[-2] == b0[0] and row[-1] == 0
    assert neurons[0, -1, -1] == 1.0  # last layer's position


def test_network_shapes():
    assert Conv3DEncoder(8)(torch.zeros(2, 8, 32, 32, 32)).shape == (2, 512)
    enc = EmbeddingEncoder(neuron_width=13, grid_channels=8)
    assert enc(torch.zeros(3, 65, 13), torch.zeros(3, 8, 32, 32, 32)).shape == (3, 1024)
    assert EmbeddingEncoder(neuron_width=130, grid_channels=None)(torch.zeros(2, 20, 130)).shape == (2, 1024)
    with pytest.raises(ValueError, match="feature grid"):
        enc(torch.zeros(3, 65, 13))
    assert ShapeDecoder()(torch.zeros(2, 1024), torch.zeros(2, 7, 3)).shape == (2, 7)
    assert positional_encoding(torch.zeros(5, 3), 6).shape == (5, 39)


def test_model_save_load_round_trip_and_checksum(tmp_path):
    spec = ModelSpec(arch="hash", config_id="hash-x", functions=("sdf", "udf"), neuron_width=13, grid_channels=8)
    model = INRetModel(spec).eval()
    sha = model.save(tmp_path / "m.enc")
    again = INRetModel.load(tmp_path / "m.enc")
    assert again.checksum == sha and again.spec == spec
    assert INRetModel.read_spec(tmp_path / "m.enc") == spec  # from the header alone
    x, g = torch.randn(2, 65, 13), torch.randn(2, 8, 32, 32, 32)
    assert torch.allclose(model.encoder("sdf")(x, g), again.encoder("sdf")(x, g))
    with pytest.raises(UsageError, match="no encoder for OCC"):
        again.encoder("occ")
    (tmp_path / "bad.enc").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(EncoderFileError, match="cannot load encoder"):
        INRetModel.load(tmp_path / "bad.enc")
    with pytest.raises(EncoderFileError, match="cannot read encoder"):
        INRetModel.read_spec(tmp_path / "bad.enc")


def test_hostile_encoder_files_are_refused_with_a_message(tmp_path):
    import os
    import struct

    good = INRetModel(ModelSpec(arch="hash", config_id="hash-x", functions=("sdf",), neuron_width=13,
                                grid_channels=8))
    data = (tmp_path / "m.enc").read_bytes() if good.save(tmp_path / "m.enc") else b""
    n = struct.unpack("<Q", data[:8])[0]
    cases = {"list.enc": struct.pack("<Q", 8) + b"[1,2,3] ", "short.enc": b"\x01\x02",
             "huge-length.enc": struct.pack("<Q", 2**63) + b"{}", "cut.enc": data[: 8 + n + 10],
             "nan.enc": data[: 8 + n] + b"\xff" * 64 + data[8 + n + 64:]}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    os.mkfifo(tmp_path / "pipe.enc")  # a blocking read would never return
    for name in [*cases, "pipe.enc"]:
        with pytest.raises(EncoderFileError, match="cannot load encoder"):
            INRetModel.load(tmp_path / name)
    for name in ("list.enc", "short.enc", "huge-length.enc", "pipe.enc"):  # the header alone is bad
        with pytest.raises(EncoderFileError, match="cannot read encoder"):
            INRetModel.read_spec(tmp_path / name)
    with pytest.raises(EncoderFileError, match="NaN"):
        INRetModel.load(tmp_path / "nan.enc")


def test_a_model_file_from_before_centring_is_refused_with_advice(tmp_path):
    from safetensors.torch import save as save_tensors
    spec = ModelSpec(arch="hash", config_id="hash-x", functions=("sdf",), neuron_width=13, grid_channels=8)
    state = {k: v for k, v in INRetModel(spec).state_dict().items() if k != "center"}
    import json
    (tmp_path / "old.enc").write_bytes(save_tensors(state, metadata={
        "format": "inret-encoder", "version": "1", "spec": json.dumps(spec.to_dict()), "history": "[]"}))
    with pytest.raises(EncoderFileError, match="retrain"):
        INRetModel.load(tmp_path / "old.enc")
    with pytest.raises(EncoderFileError, match="retrain"):
        INRetModel.read_spec(tmp_path / "old.enc")
