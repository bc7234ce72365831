"""Unified training maps a shape's SDF, UDF and Occ INRs next to each other."""

import numpy as np
import pytest

from inret_engine.encoders.dataset import TrainingSet
from inret_engine.encoders.embed import embed_records
from inret_engine.encoders.model import INRetModel
from inret_engine.encoders.training import TrainSettings, train
from inret_engine.functions import ImplicitFunction
from inret_engine.progress import run_to_end
from inret_engine.store import Store

FUNCTIONS = tuple(ImplicitFunction)


@pytest.fixture(scope="module")
def demo_store(tiny_demo_store):
    return tiny_demo_store


def _own_shape_nearest(store, model) -> float:
    recs = store.records(arch="hash")
    emb = embed_records(store, model, recs)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    sim = emb @ emb.T
    sid = np.array([r.shape_id for r in recs])
    ok = []
    for i in range(len(recs)):
        same = (sid == sid[i]) & (np.arange(len(recs)) != i)
        ok.append(sim[i, same].min() > sim[i, sid != sid[i]].max())
    return float(np.mean(ok))


def test_training_set_groups_a_shapes_three_inrs(demo_store):
    with Store.open(demo_store) as store:
        data = TrainingSet.from_store(store, "hash", FUNCTIONS, split=None)
    assert len(data) == 12 and data.functions == list(FUNCTIONS)
    assert data.grids[ImplicitFunction.SDF].shape[:2] == (12, 8)
    assert data.points.shape[0] == 12 and set(data.targets) == {"udf", "sdf", "occ"}


@pytest.mark.slow
def test_unified_training_puts_a_shapes_inrs_together(demo_store, tmp_path):
    settings = TrainSettings(steps=150, batch_shapes=8, points=512, lr=1e-3)
    with Store.open(demo_store) as store:
        data = TrainingSet.from_store(store, "hash", FUNCTIONS, split=None)
        records = []
        model = run_to_end(train(data, "hash", settings, report_every=50), records.append)
        assert records[-1].l2_loss < records[0].l2_loss
        unified = _own_shape_nearest(store, model)
        plain = run_to_end(train(data, "hash", TrainSettings(steps=150, batch_shapes=8, points=512, lr=1e-3,
                                                             unified=False, l2_weight=0.0)))
        separate = _own_shape_nearest(store, plain)
        model.save(tmp_path / "m.enc")
        again = INRetModel.load(tmp_path / "m.enc")
        assert np.allclose(embed_records(store, again, store.records(arch="hash")[:3]),
                           embed_records(store, model, store.records(arch="hash")[:3]), atol=1e-5)
    assert unified >= 0.9, unified
    assert unified > separate, (unified, separate)
