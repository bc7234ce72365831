import os
import shutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def app_torch_threads():
    """Torch's threads as the app sets them at start-up (once, on the main thread, before any worker).

    Without it a worker thread starts with the process default: 6 gallery thumbnails took 96 s
    with 2 threads and 6.6 s with 1 on a 2-core machine under load (load average 9).
    """
    from app.launch import set_torch_threads

    set_torch_threads()


QUERY_CATEGORIES = ("chair", "mug", "airplane")
QUERY_PER_CATEGORY = 3


def _tiny_hash_store(root):
    """Demo shapes of 3 categories x 3, tiny hash-grid INRs of SDF, UDF and Occ, no encoder.

    Small ground truths (a tenth of the default points) and fits without the quality
    measurement (which costs more than the fit at this size): about 10 s on a busy 2-core machine.
    """
    import torch

    from inret_engine.build import BuildOptions, build_store, resolve_sources
    from inret_engine.progress import run_to_end
    from inret_engine.store import Store
    from tests.conftest import TINY_CONFIGS

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops on a busy 2-core machine: one thread is 2-3x faster
    sources = resolve_sources("demo", categories=list(QUERY_CATEGORIES), per_category=QUERY_PER_CATEGORY)
    options = BuildOptions(configs=(TINY_CONFIGS["hash"],), steps=15, gt_scale=0.1, measure_quality=False)
    try:
        with Store.create(root) as store:
            run_to_end(build_store(store, sources, options))
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
            run_to_end(Retriever(store, model).update())
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
