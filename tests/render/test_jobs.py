"""The panels' render jobs: a shape's INR per function, and pictures / meshes as counted progress records."""

from types import SimpleNamespace

import numpy as np
import pytest

from inret_engine.errors import StoreError
from inret_engine.fit import FitSettings, fit
from inret_engine.functions import ImplicitFunction
from inret_engine.progress import Progress, run_to_end
from inret_engine.render.jobs import MeshData, PanelImage, cutaway_job, mesh_job, siblings, slice_job
from inret_engine.store import ShapeINR

from ..conftest import TINY_CONFIGS


def rec(id_, function, config_id="tri-a", arch="triplane", shape_id="box"):
    return SimpleNamespace(id=id_, function=function, config_id=config_id, arch=arch, shape_id=shape_id)


def test_siblings_prefer_the_records_own_config_then_its_architecture():
    query = rec(1, "sdf")
    rows = [query, rec(2, "udf", "hash-a", "hash"), rec(3, "udf", "tri-b"), rec(4, "occ", "tri-a"),
            rec(5, "sdf", "tri-a")]
    store = SimpleNamespace(records=lambda shape_id: rows)
    assert {f: r.id for f, r in siblings(store, query).items()} == {"sdf": 1, "udf": 3, "occ": 4}


@pytest.fixture(scope="module")
def box_sdf(box_gt) -> ShapeINR:
    config = TINY_CONFIGS["triplane"]
    field = run_to_end(fit(config, ImplicitFunction.SDF, [box_gt], ["box"], FitSettings(steps=20)))
    return ShapeINR(config, ImplicitFunction.SDF, field.inr_tensors(0), labels={"name": "box"})


def loader(inr: ShapeINR):
    """A stand-in store: record ``"bad"`` is a damaged file, ``"bug"`` trips a bug, any other is ``inr``."""
    def load(record):
        if record.id == "bad":
            raise StoreError("damaged file\nmore detail")
        if record.id == "bug":
            raise ValueError("operands could not be broadcast")
        return inr
    return SimpleNamespace(load=load)


def test_a_cutaway_yields_slices_then_renders_and_counts_a_failed_inr_as_done(box_sdf):
    records = {"sdf": SimpleNamespace(id=1), "udf": SimpleNamespace(id="bad")}
    out = list(cutaway_job(loader(box_sdf), records, "x", 0.0, generation=7, size=24, resolution=17))
    assert all(isinstance(p, PanelImage) and isinstance(p, Progress) and p.generation == 7 for p in out)
    assert [(p.function, p.kind, p.done, p.total) for p in out] == [("sdf", "slice", 1, 4), ("udf", "error", 3, 4),
                                                                     ("sdf", "render", 4, 4)]
    assert out[1].message == "damaged file" and out[1].rgb is None
    assert out[0].rgb.shape == (24, 24, 3) and out[2].rgb.shape == (24, 24, 3)


def test_the_3d_views_slice_is_opaque_inside_and_see_through_outside(box_sdf):
    (image,) = slice_job(loader(box_sdf), SimpleNamespace(id=1), "z", 0.0, size=32)
    assert (image.kind, image.done, image.total, image.rgb.shape) == ("slice", 1, 1, (32, 32, 4))
    alpha = image.rgb[..., 3]
    assert alpha[16, 16] == 255 and alpha[0, 0] < 255  # the box's centre, a corner of the plane


def test_meshes_come_one_per_record_in_order(box_sdf):
    records = [SimpleNamespace(id=1), SimpleNamespace(id="bad")]
    good, bad = mesh_job(loader(box_sdf), records, generation=3, resolution=17)
    assert isinstance(good, MeshData) and (good.slot, good.done, good.total, good.generation) == (0, 1, 2, 3)
    assert good.vertices.dtype == np.float32 and good.faces.shape[1] == 3 and len(good.faces) > 0
    assert (bad.slot, bad.done, bad.vertices, bad.message) == (1, 2, None, "damaged file")


def test_a_bug_while_drawing_is_named_as_one_and_logged(box_sdf, caplog):
    records = [SimpleNamespace(id="bug"), SimpleNamespace(id=1)]
    broken, good = mesh_job(loader(box_sdf), records, resolution=17)
    assert broken.message == "bug: ValueError: operands could not be broadcast" and good.vertices is not None
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)
