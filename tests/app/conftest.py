import os
import shutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

import app.launch as _launch  # noqa: E402

_launch.protect_singletons()  # PySide6 6.12 on CPython < 3.12 leaks refs to None/True (see app/launch.py)

QUERY_CATEGORIES = ("chair", "mug", "airplane")
QUERY_PER_CATEGORY = 3


def _tiny_hash_store(root):
    """Demo shapes of 3 categories x 3, tiny hash-grid INRs of SDF, UDF and Occ, no encoder.

    Small ground truths and fits without the quality measurement (which costs more than
    the fit at this size): about 10 s on a busy 2-core machine.
    """
    import torch

    from inret_engine.build import resolve_sources
    from inret_engine.data.loading import normalize
    from inret_engine.data.sampling import sample_ground_truth
    from inret_engine.fit import FitSettings, fit
    from inret_engine.functions import ImplicitFunction
    from inret_engine.progress import run_to_end
    from inret_engine.store import ShapeINR, Store
    from tests.conftest import TINY_CONFIGS

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops on a busy 2-core machine: one thread is 2-3x faster
    config = TINY_CONFIGS["hash"]
    try:
        with Store.create(root) as store:
            shapes, gts = [], []
            for src in resolve_sources("demo", categories=list(QUERY_CATEGORIES), per_category=QUERY_PER_CATEGORY):
                geom = normalize(src.load())
                gt = sample_ground_truth(geom, n_uniform=4000, n_surface=2000, n_near=6000, n_eval_surface=1000)
                shapes.append(store.add_shape(shape_id=src.shape_id, name=src.name, category=src.category,
                                              split=src.split, source=src.source, gt=gt,
                                              normalization=geom.normalization.to_dict(), is_point_cloud=False))
                gts.append(gt)
            for function in ImplicitFunction:
                field = run_to_end(fit(config, function, gts, [s.shape_id for s in shapes], FitSettings(steps=15)))
                for i, shape in enumerate(shapes):
                    labels = {"name": shape.name, "category": shape.category, "split": shape.split,
                              "shape_id": shape.shape_id, "source": shape.source}
                    store.add_inr(ShapeINR(config, function, field.inr_tensors(i), labels, shape.normalization),
                                  shape=shape)
    finally:
        torch.set_num_threads(threads)
    return root


def _train_tiny_encoder(root, out):
    import torch

    from inret_engine.encoders.dataset import TrainingSet
    from inret_engine.encoders.training import TrainSettings, train
    from inret_engine.functions import ImplicitFunction
    from inret_engine.progress import run_to_end
    from inret_engine.retrieval.retriever import Retriever
    from inret_engine.store import Store

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with Store.open(root) as store:
            data = TrainingSet.from_store(store, "hash", list(ImplicitFunction), split=None)
            model = run_to_end(train(data, "hash", TrainSettings(steps=5, batch_shapes=4, points=256)))
            model.save(out)
            Retriever.install(store, out)
            list(Retriever(store, model).update())
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="session")
def bare_store(tmp_path_factory):
    """A tiny store without an encoder (read-only: copy it before changing it)."""
    return _tiny_hash_store(tmp_path_factory.mktemp("bare") / "S")


@pytest.fixture(scope="session")
def query_store(bare_store, tmp_path_factory):
    """The tiny store with a tiny trained hash encoder installed and every INR embedded."""
    root = tmp_path_factory.mktemp("query") / "S"
    shutil.copytree(bare_store, root)
    _train_tiny_encoder(root, tmp_path_factory.mktemp("encoder") / "hash.enc")
    return root
