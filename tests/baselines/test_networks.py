"""Farthest point sampling, ball query and the shapes through both encoders."""

import torch

from inret_engine.baselines.multiview import MultiViewCNN
from inret_engine.baselines.pointcloud import PointNetPP, SetAbstraction, ball_query, farthest_point_sample
from inret_engine.baselines.training import augment_points, augment_views

from .conftest import TINY


def test_fps_on_a_line_picks_the_ends_then_halves():
    line = torch.zeros(1, 11, 3)
    line[0, :, 0] = torch.arange(11.0)
    # From 0: the far end, the middle, then the first of the two farthest (2 and 3 tie at 2 from {0, 5}).
    assert farthest_point_sample(line, 5).tolist() == [[0, 10, 5, 2, 7]]


def test_fps_finds_the_corners_of_a_cube_among_inner_points():
    corners = torch.tensor([[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)])
    inner = torch.rand(200, 3, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8
    # Starting from the centre, every corner (sqrt(3) away, 2 from other corners) beats any inner point.
    cloud = torch.cat([torch.zeros(1, 3), corners, inner])[None]
    idx = farthest_point_sample(cloud, 9)[0]
    assert idx[0] == 0 and sorted(idx[1:].tolist()) == list(range(1, 9))


def test_fps_is_distinct_and_covers_better_than_random():
    gen = torch.Generator().manual_seed(1)
    cloud = torch.randn(2, 1000, 3, generator=gen)
    idx = farthest_point_sample(cloud, 64)
    assert all(len(set(row.tolist())) == 64 for row in idx)

    def covering_radius(sub):  # the farthest any point is from the chosen ones
        return torch.cdist(cloud[0], cloud[0, sub]).amin(1).max()

    assert covering_radius(idx[0]) < 0.7 * covering_radius(torch.randperm(1000, generator=gen)[:64])


def test_ball_query_keeps_neighbours_inside_the_radius_and_pads_with_the_nearest():
    line = torch.zeros(1, 6, 3)
    line[0, :, 0] = torch.tensor([0.0, 0.1, 0.25, 0.5, 1.0, 3.0])
    nb = ball_query(line, line[:, [0, 5]], radius=0.3, k=4)
    assert nb[0, 0].tolist() == [0, 1, 2, 0]  # 0.5 is outside: replaced by the centre itself
    assert nb[0, 1].tolist() == [5, 5, 5, 5]  # an isolated point groups only itself


def test_shapes_through_the_point_encoder():
    net = PointNetPP(TINY.pointnet, n_classes=5)
    points = augment_points(torch.rand(3, TINY.points, 3), torch.Generator().manual_seed(0))
    assert points.shape == (3, TINY.points, 3)
    sa = net.sa[0]
    xyz, feats = sa(points, None)
    assert xyz.shape == (3, 64, 3) and feats.shape == (3, 64, 16)
    assert net(points).shape == (3, 5)
    assert net.embed(points).shape == (3, TINY.pointnet.embed_dim)
    glob = SetAbstraction(16, (8,))
    assert glob(xyz, feats)[1].shape == (3, 1, 8)


def test_shapes_through_the_multiview_encoder():
    net = MultiViewCNN(TINY.multiview, n_classes=4)
    views = augment_views(torch.rand(2, 12, 3, 32, 32), torch.Generator().manual_seed(0))
    assert views.shape == (2, 12, 3, 32, 32)
    assert net(views).shape == (2, 4)
    assert net.embed(views).shape == (2, TINY.multiview.embed_dim)
    net.eval()
    with torch.no_grad():  # max view-pooling: the order of the views does not matter
        assert torch.allclose(net.embed(views), net.embed(views.flip(1)), atol=1e-6)
