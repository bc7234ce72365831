"""A private copy of the tiny demo store (conversions are cached in it) and one torch thread."""

import shutil

import pytest

from inret_engine.baselines import Preset
from inret_engine.baselines.multiview import MultiViewSettings
from inret_engine.baselines.pointcloud import PointNetSettings
from inret_engine.store import Store

from ..conftest import single_torch_thread

TINY = Preset(points=256, view_size=32, resolution=33,
              pointnet=PointNetSettings(centres=(64, 16), neighbours=8, widths=((16, 16), (32, 32), (32, 64)),
                                        embed_dim=32),
              multiview=MultiViewSettings(widths=(8, 16, 32), embed_dim=32),
              point_epochs=1, view_epochs=1, min_steps=100, batch=6)
"""Small enough that a whole baseline run on 18 INRs takes a few seconds."""


one_thread = pytest.fixture(autouse=True, scope="module", name="one_thread")(single_torch_thread)


@pytest.fixture
def store(tiny_demo_store, tmp_path):
    """A writable copy of ``tiny_demo_store`` (which other tests only read)."""
    root = tmp_path / "S"
    shutil.copytree(tiny_demo_store, root, ignore=shutil.ignore_patterns(".lock"))
    with Store.open(root) as s:
        yield s
