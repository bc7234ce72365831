"""A dropped mesh is placed as the store placed its shapes (PCA-aligned stores align it too)."""

from types import SimpleNamespace

import numpy as np
import pytest

from app.jobs import OnTheFly, fit_shape
from inret_engine.data.geometry import Normalization, principal_axes
from inret_engine.data.loading import load_shape
from inret_engine.functions import ImplicitFunction
from inret_engine.model_set import Target, aligns_poses
from tests.conftest import TINY_CONFIGS

TURNED = Normalization.from_arrays(np.zeros(3), 1.0, np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]])).to_dict()
PLAIN = Normalization.identity().to_dict()


def fake_store(normalizations):
    shapes = [SimpleNamespace(normalization=n) for n in normalizations]
    return SimpleNamespace(catalog=SimpleNamespace(shapes=lambda: shapes))


@pytest.mark.parametrize("normalizations, aligned", [([], False), ([PLAIN] * 3, False), ([TURNED] * 3, True),
                                                     ([TURNED, TURNED, PLAIN], True), ([TURNED, PLAIN, PLAIN], False)])
def test_a_store_aligns_poses_when_most_shapes_were_turned(normalizations, aligned):
    assert aligns_poses(fake_store(normalizations)) is aligned


@pytest.mark.parametrize("aligned", [True, False])
def test_a_dropped_mesh_is_placed_as_the_stores_shapes(tmp_path, aligned):
    import trimesh

    path = tmp_path / "tall.stl"
    trimesh.creation.box(extents=(0.3, 0.5, 1.0)).export(path)  # z-up: longest along z
    encoders = SimpleNamespace(aligns_poses=aligned,
                               target=lambda f: Target(None, TINY_CONFIGS["hash"], ImplicitFunction(f)))
    job = fit_shape(path, encoders, OnTheFly(n_uniform=400, n_surface=400, n_near=400, n_eval_surface=100,
                                             fit_steps=1))
    try:
        while True:
            next(job)
    except StopIteration as done:
        inr = done.value
    rotation = np.asarray(inr.normalization["rotation"])
    expected = principal_axes(load_shape(path)) if aligned else np.eye(3)
    assert np.allclose(rotation, expected, atol=1e-6)
    if aligned:
        assert abs(rotation[0, 2]) == pytest.approx(1.0)  # the longest side (z in the file) becomes x, as in the store


def test_a_z_up_mesh_stands_up_when_the_query_menu_says_so(tmp_path):
    import trimesh

    path = tmp_path / "tall.stl"
    trimesh.creation.box(extents=(0.3, 0.5, 1.0)).export(path)  # z-up: tallest along z
    encoders = SimpleNamespace(aligns_poses=False,
                               target=lambda f: Target(None, TINY_CONFIGS["hash"], ImplicitFunction(f)))
    settings = OnTheFly(n_uniform=400, n_surface=400, n_near=400, n_eval_surface=100, fit_steps=1, z_up=True)
    job = fit_shape(path, encoders, settings)
    try:
        while True:
            next(job)
    except StopIteration as done:
        inr = done.value
    norm = Normalization.from_dict(inr.normalization)
    top = norm.apply(np.array([[0.0, 0.0, 0.5]]))[0]  # the file's top face centre
    assert top[1] == pytest.approx(0.9) and abs(top[0]) < 1e-9 and abs(top[2]) < 1e-9  # now on top, along +y
    assert np.allclose(norm.invert(norm.apply(load_shape(path).vertices)), load_shape(path).vertices)


def test_the_query_menu_turns_z_up_on_and_off(qtbot, bare_store):
    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    action = window.actions_by_name["z_up"]
    assert action.isCheckable() and not window.controller.on_the_fly.z_up
    action.trigger()
    assert window.controller.on_the_fly.z_up
    action.trigger()
    assert not window.controller.on_the_fly.z_up
