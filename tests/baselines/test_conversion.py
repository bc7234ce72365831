"""Converting INRs to points and views, and the cache in the store."""

import numpy as np
import pytest
import torch

from inret_engine.baselines import conversion
from inret_engine.baselines.conversion import Conversion, cache_folder, convert_records
from inret_engine.progress import run_to_end

CPU = torch.device("cpu")


@pytest.fixture
def counted(monkeypatch):
    """Counts real conversions."""
    calls = []
    real = conversion.convert

    def convert(*args, **kwargs):
        calls.append(args[1].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(conversion, "convert", convert)
    return calls


@pytest.mark.parametrize("conv", [Conversion("points", 128, 33), Conversion("views", 16, 33)])
def test_second_call_hits_the_cache(store, counted, conv):
    records = store.records(function="sdf")[:3]
    first = run_to_end(convert_records(store, records, conv, device=CPU))
    assert len(counted) == 3 and len(first.ms) == 3 and min(first.ms) > 0
    assert sorted(p.stem for p in cache_folder(store, conv).glob("*.npy")) == sorted(r.sha256 for r in records)
    done = []
    again = run_to_end(convert_records(store, [*records, records[0]], conv, device=CPU), done.append)
    assert len(counted) == 3 and again.ms == []
    assert [(p.stage, p.done, p.total) for p in done] == [("convert", 1, 3), ("convert", 2, 3), ("convert", 3, 3)]
    for r in records:
        assert again.arrays[r.id].shape == conv.shape
        np.testing.assert_array_equal(again.arrays[r.id], first.arrays[r.id])


def test_arrays_and_cache_layout(store):
    rec = store.records(function="sdf")[0]
    conv = Conversion("points", 128, 33)
    pts = run_to_end(convert_records(store, [rec], conv, device=CPU)).arrays[rec.id]
    assert pts.dtype == np.float32 and np.abs(pts).max() <= 1.0
    path = store.root / "cache" / "baselines" / "points-128-r33" / f"{rec.sha256}.npy"
    np.testing.assert_array_equal(np.load(path), pts)
    views = run_to_end(convert_records(store, [rec], Conversion("views", 16, 33), device=CPU)).arrays[rec.id]
    assert views.shape == (12, 16, 16, 3) and views.dtype == np.uint8


def test_a_damaged_cache_entry_is_converted_again(store, counted):
    rec = store.records(function="udf")[0]
    conv = Conversion("points", 64, 33)
    run_to_end(convert_records(store, [rec], conv, device=CPU))
    (cache_folder(store, conv) / f"{rec.sha256}.npy").write_bytes(b"not an array")
    assert run_to_end(convert_records(store, [rec], conv, device=CPU)).arrays[rec.id].shape == (64, 3)
    assert len(counted) == 2


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown conversion"):
        Conversion("mesh", 10)
