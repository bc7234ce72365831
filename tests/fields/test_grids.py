"""Feature grids against hand-computed answers."""

import numpy as np
import pytest
import torch

from inret_engine.errors import UsageError
from inret_engine.fields import (
    Field,
    HashGrid,
    HashGridConfig,
    MLPConfig,
    Octree,
    OctreeConfig,
    Triplane,
    TriplaneConfig,
    check_inr_tensors,
    config_from_dict,
)
from inret_engine.fields.base import cell_coords, corner_index, trilinear_weights
from inret_engine.fields.hash_grid import PRIMES, cell_corner_rows, hash_index
from inret_engine.fields.octree import build_voxels, voxel_corners


def test_trilinear_weights_match_hand_computation():
    w = trilinear_weights(torch.tensor([[0.25, 0.5, 1.0]]))[0]
    # C order corners: (dx, dy, dz) = 000, 001, 010, 011, 100, 101, 110, 111
    expected = [0.75 * 0.5 * 0, 0.75 * 0.5 * 1, 0.75 * 0.5 * 0, 0.75 * 0.5 * 1,
                0.25 * 0.5 * 0, 0.25 * 0.5 * 1, 0.25 * 0.5 * 0, 0.25 * 0.5 * 1]
    assert torch.allclose(w, torch.tensor(expected))
    assert torch.allclose(trilinear_weights(torch.rand(100, 3)).sum(-1), torch.ones(100))


def test_cell_coords_cover_the_domain_edges():
    cell, frac = cell_coords(torch.tensor([[-1.0, 0.0, 1.0]]), 4)
    assert cell.tolist() == [[0, 2, 3]]
    assert torch.allclose(frac, torch.tensor([[0.0, 0.0, 1.0]]))


def test_corner_index_is_c_order():
    idx = corner_index(torch.tensor([[1, 2, 3]]), 4)[0]
    side = 5
    expected = [((1 + dx) * side + 2 + dy) * side + 3 + dz for dx in (0, 1) for dy in (0, 1) for dz in (0, 1)]
    assert idx.tolist() == expected


def test_hash_index_dense_and_hashed():
    corners = torch.tensor([[3, 4, 5]])
    assert hash_index(corners, 16, 1 << 14).item() == (3 * 17 + 4) * 17 + 5
    h = (3 * PRIMES[0]) ^ (4 * PRIMES[1]) ^ (5 * PRIMES[2])
    assert hash_index(corners, 512, 1 << 14).item() == h % (1 << 14)
    cells = torch.randint(0, 500, (200, 3))
    from inret_engine.fields.base import CORNER_OFFSETS
    assert torch.equal(cell_corner_rows(cells, 512, 1 << 14), hash_index(cells[:, None] + CORNER_OFFSETS, 512, 1 << 14))


def test_hash_grid_interpolates_linear_table_exactly():
    """A table holding a linear function of the corner position reproduces it at any point."""
    cfg = HashGridConfig(levels=1, min_res=4, max_res=4, feature_dim=1, log2_table=8)
    grid = HashGrid(cfg, batch=1)
    side = 5
    with torch.no_grad():
        for x in range(side):
            for y in range(side):
                for z in range(side):
                    grid.table[0, 0, (x * side + y) * side + z, 0] = x + 2 * y - z
    pts = torch.rand(1, 50, 3) * 2 - 1
    u = (pts + 1) * 2  # lattice units
    expected = u[..., 0] + 2 * u[..., 1] - u[..., 2]
    assert torch.allclose(grid.interpolate(pts)[..., 0], expected, atol=1e-5)


def test_hash_grid_concatenates_levels():
    cfg = HashGridConfig()
    assert cfg.resolutions() == [16, 50, 161, 512]
    grid = HashGrid(cfg, batch=2)
    assert grid.interpolate(torch.zeros(2, 7, 3)).shape == (2, 7, 8)


def test_triplane_sums_the_three_planes():
    cfg = TriplaneConfig(feature_dim=1, resolutions=(3,))
    tri = Triplane(cfg, batch=1)
    with torch.no_grad():
        tri.planes[0][0, 0].fill_(1.0)   # xy plane
        tri.planes[0][0, 1].fill_(2.0)   # xz plane
        tri.planes[0][0, 2].fill_(4.0)   # yz plane
    assert torch.allclose(tri.interpolate(torch.rand(1, 10, 3) * 2 - 1), torch.full((1, 10, 1), 7.0))


def test_triplane_plane_axes():
    cfg = TriplaneConfig(feature_dim=1, resolutions=(2,))
    tri = Triplane(cfg, batch=1)
    with torch.no_grad():
        tri.planes[0][0, 0, 0] = torch.tensor([[0.0, 1.0], [0.0, 1.0]])  # varies along width = x
    pts = torch.tensor([[[-1.0, 0.3, 0.2], [1.0, -0.5, 0.9]]])
    assert torch.allclose(tri.interpolate(pts)[0, :, 0], torch.tensor([0.0, 1.0]))


def test_octree_zero_outside_voxels_and_sum_inside():
    cfg = OctreeConfig(feature_dim=1, base_level=1, max_level=2, dilation=0)
    surface = np.array([[0.6, 0.6, 0.6]])  # one voxel per level, in the +++ corner
    vox = build_voxels(surface, cfg)
    assert vox[2].tolist() == [(3 * 4 + 3) * 4 + 3] and vox[1].tolist() == [(1 * 2 + 1) * 2 + 1]
    tree = Octree(cfg, [vox])
    with torch.no_grad():
        tree.features[0].fill_(1.0)
        tree.features[1].fill_(10.0)
    inside = torch.tensor([[[0.7, 0.7, 0.7]]])       # in both levels' voxels
    coarse_only = torch.tensor([[[0.2, 0.2, 0.2]]])  # level-1 voxel exists, level-2 voxel absent
    outside = torch.tensor([[[-0.5, -0.5, -0.5]]])
    assert tree.interpolate(inside).item() == pytest.approx(11.0)
    assert tree.interpolate(coarse_only).item() == pytest.approx(1.0)
    assert tree.interpolate(outside).item() == 0.0


def test_octree_voxels_form_an_octree():
    cfg = OctreeConfig()
    vox = build_voxels(np.random.default_rng(0).uniform(-0.8, 0.8, (500, 3)), cfg)
    for level in range(cfg.base_level + 1, cfg.max_level + 1):
        r = 1 << level
        cells = np.stack([vox[level] // (r * r), (vox[level] // r) % r, vox[level] % r], -1) // 2
        parents = (cells[:, 0] * (r // 2) + cells[:, 1]) * (r // 2) + cells[:, 2]
        assert set(parents.tolist()) <= set(vox[level - 1].tolist())
    assert len(voxel_corners(np.array([0]), 2)) == 8


@pytest.mark.parametrize("config", [HashGridConfig(), OctreeConfig(), TriplaneConfig(), MLPConfig(hidden_dim=32)])
def test_field_round_trips_through_tensors_and_config(config):
    surfaces = [np.random.default_rng(i).uniform(-0.8, 0.8, (400, 3)) for i in range(3)]
    field = Field.create(config, 3, seed=1, keys=["a", "b", "c"], surfaces=surfaces)
    x = torch.rand(3, 64, 3) * 2 - 1
    tensors = [field.inr_tensors(i) for i in range(3)]
    again = Field.from_inr_tensors(config_from_dict(config.to_dict()), tensors)
    assert torch.allclose(again(x), field(x), atol=1e-6)
    single = Field.from_inr_tensors(config, [tensors[1]])
    assert torch.allclose(single(x[1:2]), field(x)[1:2], atol=1e-5)


@pytest.mark.parametrize("config", [HashGridConfig(), TriplaneConfig(), MLPConfig(hidden_dim=32)])
def test_inrs_of_a_config_share_the_mlp_init_but_not_grid_features(config):
    a = Field.create(config, 2, seed=0, keys=["x", "y"])
    b = Field.create(config, 1, seed=0, keys=["y"])
    assert torch.equal(a.mlp.weights[0][0], a.mlp.weights[0][1])
    assert torch.equal(a.mlp.weights[0][0], b.mlp.weights[0][0])
    if a.grid is not None:
        pa = list(a.grid.parameters())[0]
        pb = list(b.grid.parameters())[0]
        assert not torch.equal(pa[0], pa[1])
        assert torch.equal(pa[1], pb[0])  # an INR's init depends on its key, not its batch slot
        assert 0.005 < float(pa.detach().std()) < 0.02


def test_check_inr_tensors_names_the_bad_tensor():
    config = HashGridConfig()
    tensors = Field.create(config, 1).inr_tensors(0)
    check_inr_tensors(config, tensors)
    bad = dict(tensors, **{"mlp.0.weight": torch.zeros(64, 3)})
    with pytest.raises(ValueError, match="mlp.0.weight"):
        check_inr_tensors(config, bad)
    with pytest.raises(ValueError, match="grid.table"):
        check_inr_tensors(config, {k: v for k, v in tensors.items() if k != "grid.table"})
    with pytest.raises(ValueError, match="unexpected"):
        check_inr_tensors(config, dict(tensors, extra=torch.zeros(1)))


def test_config_from_dict_refuses_unknowns():
    with pytest.raises(UsageError, match="unknown architecture"):
        config_from_dict({"kind": "nerf"})
    with pytest.raises(UsageError, match="unknown keys"):
        config_from_dict({"kind": "hash", "levels": 4, "bogus": 1})
    assert config_from_dict(OctreeConfig(max_level=6).to_dict()) == OctreeConfig(max_level=6)
    assert MLPConfig.paper().hidden_dim == 512
