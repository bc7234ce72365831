"""Occupancy specks dropped at bake time, small real parts kept; normals wide enough to ignore lattice-scale grain."""

import torch

from inret_engine.functions import ImplicitFunction
from inret_engine.render.bake import SPECK_NODES, bake, drop_specks
from inret_engine.render.image import NORMAL_STEP, render_frame, surface_normals
from inret_engine.render.surface import lattice


def _ball(p: torch.Tensor, centre, radius: float) -> torch.Tensor:
    """Occupancy logits (inside > 0) of a ball, 40 per unit of depth."""
    return 40.0 * (radius - (p - torch.tensor(centre)).norm(dim=-1))


def test_a_speck_in_free_space_is_dropped_and_a_small_real_part_kept():
    node = -1 + 82 * 2 / 96  # a lattice node of the default 97^3 bake
    body = lambda p: _ball(p, (-0.3, 0.0, 0.0), 0.45)  # noqa: E731
    speck = lambda p: _ball(p, (node, node, node), 0.012)  # noqa: E731 - inside at one lattice node
    part = lambda p: _ball(p, (0.6, -0.5, 0.0), 0.12)  # noqa: E731 - a wheel-sized separate part
    field = lambda p: torch.maximum(torch.maximum(body(p), speck(p)), part(p))  # noqa: E731
    logits = field(lattice(97)).reshape(97, 97, 97)  # what a bake sees before its filter
    assert float(logits[82, 82, 82]) > 0
    cleaned = drop_specks(logits)
    assert float(cleaned[82, 82, 82]) < 0  # the speck is gone
    assert int(((logits > 0) & (cleaned <= 0)).sum()) == 1  # and nothing else
    baked = bake(field, "occ")  # the bake every render uses drops it too, and keeps the part
    assert float(baked(torch.tensor([[node] * 3]))[0]) < 0 and float(baked(torch.tensor([[0.6, -0.5, 0.0]]))[0]) > 0


def test_only_small_pieces_of_a_big_shape_count_as_specks():
    grid = torch.full((20, 20, 20), -1.0)
    grid[1:4, 1:4, 1:4] = 1.0  # 27 nodes, alone: the largest piece, kept
    assert torch.equal(drop_specks(grid), grid)
    grid[8:19, 8:19, 8:19] = 1.0  # 1,331 nodes: the 27 are under SPECK_NODES but over 1% of it (13)...
    assert torch.equal(drop_specks(grid), grid)  # ...so they are kept: a part of a small shape
    grid[3, 3, 3] = -1.0
    grid[1, 1, 1] = grid[1, 2, 1] = -1.0  # 24 nodes left of the small piece: still over 1%, kept
    assert torch.equal(drop_specks(grid), grid) and SPECK_NODES > 27
    assert int((drop_specks(grid, share=0.05) > 0).sum()) == 1331  # at a 5% share they go


def test_normals_of_a_grainy_sphere_follow_the_sphere_at_the_chosen_width():
    rng = torch.Generator().manual_seed(0)
    bumps = torch.randn(97, 97, 97, generator=rng) * 0.004  # lattice-scale grain on an exact sphere
    from inret_engine.render.bake import BakedField

    nodes = lattice(97)
    values = (nodes.norm(dim=-1) - 0.6).reshape(97, 97, 97) + bumps
    baked = BakedField(values, "sdf")
    dirs = torch.nn.functional.normalize(torch.randn(400, 3, generator=rng), dim=-1)
    points = 0.6 * dirs
    errors = {}
    for width in (0.5, NORMAL_STEP[ImplicitFunction.SDF]):
        saved = NORMAL_STEP[ImplicitFunction.SDF]
        NORMAL_STEP[ImplicitFunction.SDF] = width
        try:
            n = surface_normals(baked, ImplicitFunction.SDF, points, -dirs, baked.voxel)
        finally:
            NORMAL_STEP[ImplicitFunction.SDF] = saved
        errors[width] = float(torch.rad2deg(torch.acos((n * dirs).sum(-1).clamp(-1, 1))).mean())
    assert errors[NORMAL_STEP[ImplicitFunction.SDF]] < 0.7 * errors[0.5]
    frame = render_frame(baked, "sdf", width=32, height=32)
    assert frame.hit_mask.any()
