"""The shared model: probe grids of any INR, views, the contrastive loss, one space for a store."""

import numpy as np
import pytest
import torch
import trimesh

from inret_engine.data.geometry import Normalization, ShapeGeometry
from inret_engine.encoders.augment import SYMMETRIES
from inret_engine.encoders.contrastive import ContrastiveSettings, nt_xent, train_shared
from inret_engine.encoders.corpus import Corpus, mesh_lattice
from inret_engine.encoders.embed import embed_records
from inret_engine.encoders.inputs import lattice_centres
from inret_engine.encoders.model import INRetModel, ModelSpec
from inret_engine.encoders.pretrained import corpus_from_store, pretrained_path
from inret_engine.encoders.probe import PROXIMITY_SCALES, occupancy_distance, probe_function, proximity, to_distance
from inret_engine.encoders.views import random_views
from inret_engine.functions import UDF_CLAMP
from inret_engine.model_set import ModelSet
from inret_engine.progress import run_to_end
from inret_engine.retrieval.evaluation import evaluate
from inret_engine.retrieval.retriever import Retriever
from inret_engine.store import Store

R = 16


def _sphere_values(function: str) -> torch.Tensor:
    d = lattice_centres(R).norm(dim=-1) - 0.5
    values = {"sdf": d, "udf": d.abs(), "occ": -d * 50}[function]
    return values.reshape(1, R, R, R)


@pytest.mark.parametrize("function", ["sdf", "udf"])
def test_distance_functions_give_the_true_distance(function):
    true = (lattice_centres(R).norm(dim=-1) - 0.5).abs().reshape(1, R, R, R)
    assert torch.allclose(to_distance(_sphere_values(function), function), true)


def test_occupancy_distance_is_close_to_the_truth_near_the_surface():
    true = (lattice_centres(R).norm(dim=-1) - 0.5).abs().reshape(1, R, R, R)
    est = to_distance(_sphere_values("occ"), "occ")
    band = true < UDF_CLAMP
    cell = 2.0 / R
    assert (est - true)[band].abs().max() <= cell  # never a cell off where the probe looks
    assert (est - true)[band].abs().mean() <= cell / 4  # the crossing is interpolated, not rounded to a cell
    assert torch.all(occupancy_distance(torch.ones(1, 4, 4, 4)) == 2.0)  # no surface: far everywhere


def test_proximity_channels_are_truncated_bands():
    d = torch.tensor([0.0, 0.025, 0.075, 10.0]).reshape(1, 4, 1, 1)
    p = proximity(d, scales=(0.05, 0.1))
    assert p.shape == (1, 2, 4, 1, 1)
    assert torch.allclose(p[0, :, :, 0, 0], torch.tensor([[1.0, 0.5, 0.0, 0.0], [1.0, 0.75, 0.25, 0.0]]))
    # nothing beyond the UDF clamp shows: a UDF INR's far values are arbitrary
    assert PROXIMITY_SCALES[-1] <= UDF_CLAMP


def test_probe_of_a_callable_matches_across_functions():
    sphere = lambda x: x.norm(dim=-1) - 0.5  # noqa: E731
    sdf = probe_function(sphere, "sdf", resolution=R)
    udf = probe_function(lambda x: sphere(x).abs(), "udf", resolution=R)
    occ = probe_function(lambda x: -sphere(x) * 50, "occ", resolution=R)
    assert torch.allclose(sdf, udf)
    assert (sdf - occ).abs().mean() < 0.1


def test_mesh_lattice_of_a_box():
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    geom = ShapeGeometry(np.asarray(box.vertices, dtype=np.float64), np.asarray(box.faces, dtype=np.int64),
                         Normalization.identity())
    udf, inside = mesh_lattice(geom, R)
    pts = lattice_centres(R).numpy().reshape(R, R, R, 3)
    truth_inside = np.all(np.abs(pts) < 0.5, axis=-1)
    assert np.array_equal(inside, truth_inside)
    centre = udf[R // 2, R // 2, R // 2]
    assert abs(centre - (0.5 - 1.0 / R)) < 1e-5  # the cell centre nearest the origin is 1/R off it


def _ring_corpus(n: int = 6) -> Corpus:
    """Spheres of growing radius, two categories: small and large."""
    pts = lattice_centres(R).norm(dim=-1).reshape(R, R, R)
    radii = torch.linspace(0.3, 0.8, n)
    udf = torch.stack([(pts - r).abs() for r in radii])
    inside = torch.stack([pts < r for r in radii])
    cats = ["small" if r < 0.55 else "large" for r in radii]
    return Corpus.from_lattices([f"s{i}" for i in range(n)], cats, udf, inside)


def test_views_are_reproducible_and_in_range():
    corpus = _ring_corpus()
    a = random_views(corpus.udf, corpus.occ_udf, torch.Generator().manual_seed(3))
    b = random_views(corpus.udf, corpus.occ_udf, torch.Generator().manual_seed(3))
    assert a.shape == (6, 2, R, R, R) and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1


def test_views_without_noise_or_pose_are_the_clean_probe():
    corpus = _ring_corpus()
    v = random_views(corpus.udf, corpus.occ_udf, torch.Generator().manual_seed(0), occ_rate=0.0, noise=0.0,
                     smooth_noise=0.0, max_shift=0.0, max_scale=0.0, symmetries=False)
    assert torch.allclose(v, proximity(corpus.udf), atol=1e-6)


def test_nt_xent_prefers_matching_pairs():
    a = torch.eye(4)
    matched = nt_xent(torch.cat([a, a]), torch.arange(4).repeat(2), 0.1)
    shuffled = nt_xent(torch.cat([a, a[[1, 0, 3, 2]]]), torch.arange(4).repeat(2), 0.1)
    assert matched < 0.01 < shuffled
    # SupCon: rows of one label are all positives
    labels = torch.tensor([0, 0, 1, 1]).repeat(2)
    assert nt_xent(torch.cat([a, a]), labels, 0.1) > matched


def test_spec_round_trip_and_unknown_keys():
    spec = ModelSpec.shared(channels=2, resolution=R, base_channels=4, embed_dim=16)
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert spec.accepts("any-config", "occ") and spec.reads_field
    with pytest.raises(ValueError, match="unknown spec field"):
        ModelSpec.from_dict({**spec.to_dict(), "surprise": 1})
    with pytest.raises(ValueError, match="malformed architecture"):  # it becomes part of a file name
        ModelSpec.from_dict({**spec.to_dict(), "arch": "../../evil"})


@pytest.fixture(scope="module")
def shared_model(tiny_demo_store, tmp_path_factory):
    """A tiny shared model trained briefly on the tiny demo store's own INRs."""
    torch.set_num_threads(1)
    with Store.open(tiny_demo_store) as store:
        corpus, views = corpus_from_store(store, split=None)
    settings = ContrastiveSettings(steps=30, batch_shapes=8, base_channels=4, embed_dim=128)
    events = []
    model = run_to_end(train_shared(corpus, settings, inr_views=views, report_every=10), events.append)
    path = tmp_path_factory.mktemp("shared") / "shared.enc"
    model.save(path, half=True, note="test")
    return path, corpus, views, events


def test_store_corpus_holds_every_shape_and_its_inrs(shared_model):
    _, corpus, views, events = shared_model
    assert len(corpus) == 12 and set(corpus.categories) == {"chair", "mug", "airplane", "table"}
    assert all(len(v) == 3 for v in views.values()) and len(views) == 12  # SDF, UDF and Occ of each
    assert [e.done for e in events] == [10, 20, 30] and events[-1].loss < events[0].loss + 1.0


def test_one_shared_model_embeds_and_indexes_the_whole_store(shared_model, tiny_demo_store, tmp_path, monkeypatch):
    path, *_ = shared_model
    model = INRetModel.load(path)
    assert model.spec.reads_field and next(model.parameters()).dtype == torch.float32
    import shutil
    root = tmp_path / "S"
    shutil.copytree(tiny_demo_store, root)
    monkeypatch.setenv("INRET_PRETRAINED", str(path))
    assert pretrained_path() == path
    with Store.open(root) as store:
        assert Retriever.model_files(store) == [path]  # no model of its own: the shipped one
        retriever = ModelSet.load(store).for_record(store.records()[0])
        for _ in retriever.update():
            pass
        assert len(retriever.ready_index()) == len(store.records())  # one index, all functions
        rec = store.records(function="occ")[0]
        hits = retriever.query(rec, 5, function="any").hits
        assert {h.record.function for h in hits} <= {"sdf", "udf", "occ"} and len(hits) == 5
        assert all(h.record.shape_id != rec.shape_id for h in hits)
        twice = embed_records(store, model, [rec, store.records(function="sdf")[0], rec])
        assert np.array_equal(twice[0], twice[2]) and np.abs(twice).sum(1).min() > 0  # every row filled
        vec = embed_records(store, model, [rec])[0]
        assert np.allclose(vec, retriever.embed_inr(store.load(rec)), atol=1e-4)
        report = evaluate(retriever, split="test")
        # a shared model of the store's own (e.g. fine-tuned on its labels) replaces the shipped one
        own = Retriever.install(store, path)
        assert Retriever.model_files(store) == [own]
    assert set(report["functions"]) == {"sdf", "udf", "occ"} and 0 <= report["average"] <= 1


def test_symmetries_keep_probe_grids_valid():
    g = proximity(_ring_corpus().udf[:1])
    for sym in SYMMETRIES[:8]:
        assert torch.allclose(sym.grid(g), g, atol=1e-6)  # a centred sphere is symmetric


@pytest.mark.parametrize("arch", ["hash", "octree", "triplane", "mlp"])
def test_lattice_values_are_the_inrs_own_outputs(arch):
    from inret_engine.encoders.probe import lattice_values
    from inret_engine.fields import Field

    from ..conftest import TINY_CONFIGS

    surfaces = [np.random.default_rng(0).uniform(-0.5, 0.5, (200, 3))] * 2
    field = Field.create(TINY_CONFIGS[arch], batch=2, seed=0, surfaces=surfaces).eval()
    with torch.no_grad():
        direct = field(lattice_centres(R).expand(2, -1, -1)).reshape(2, R, R, R)
    assert torch.allclose(lattice_values(field, R), direct, atol=1e-5)


def test_the_shipped_model_serves_what_per_architecture_models_do_not(shared_model, tmp_path, monkeypatch):
    path, *_ = shared_model
    monkeypatch.setenv("INRET_PRETRAINED", str(path))
    paper = tmp_path / "hash.enc"
    INRetModel(ModelSpec(arch="hash", config_id="hash-x", functions=("sdf",), neuron_width=10,
                         grid_channels=8, base_channels=2, embed_dim=16, decoder_hidden=8)).save(paper)
    with Store.create(tmp_path / "S") as store:
        own = Retriever.install(store, paper)
        assert Retriever.model_files(store) == [own, path]
        specs = Retriever.installed_specs(store)
        assert specs[0].accepts("hash-x", "sdf") and not specs[0].accepts("octree-y", "sdf")
        assert specs[1].accepts("octree-y", "occ")
