"""The gallery: rows and labels, filters and search, lazy cached thumbnails, activation, 10k rows."""

import time

import pytest
import torch

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

import inret_engine.render.thumbnails as engine_thumbnails  # noqa: E402
from app.models.gallery_model import GalleryModel, RecordRole, ThumbnailStateRole  # noqa: E402
from app.thumbnail_cache import ThumbnailLoader, _RequestQueue  # noqa: E402
from app.views.gallery import GalleryView  # noqa: E402
from inret_engine.build import BuildOptions, build_store, resolve_sources  # noqa: E402
from inret_engine.render.export import PNG_SIGNATURE  # noqa: E402
from inret_engine.store import InrRecord, Store  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("gallery") / "S"
    opts = BuildOptions(archs=("triplane",), steps=20)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops on a busy 2-core machine: one thread is 2-3x faster
    try:
        with Store.create(root) as s:
            for _ in build_store(s, resolve_sources("demo", categories=["chair", "mug"], per_category=1), opts):
                pass
    finally:
        torch.set_num_threads(threads)
    s = Store.open(root)
    yield s
    s.close()


def synthetic(n: int) -> list[InrRecord]:
    """``n`` records cycling through 10 categories, 3 functions, 4 architectures and 2 splits."""
    cats, funcs, archs = [f"cat{i}" for i in range(10)], ("sdf", "udf", "occ"), ("hash", "octree", "triplane", "mlp")
    return [InrRecord(id=i + 1, shape_id=f"synth/{cats[i % 10]}_{i:05d}", name=f"{cats[i % 10]}_{i:05d}",
                      category=cats[i % 10], split="test" if i % 5 == 0 else "train", arch=archs[i % 4],
                      config_id=f"{archs[i % 4]}-0", function=funcs[i % 3], file=f"inrs/{i}.inr",
                      sha256=f"{i:064x}", chamfer=0.01, iou=None, fit_seconds=None, created=0.0)
            for i in range(n)]


def rows(view: GalleryView) -> list[InrRecord]:
    return [view.proxy.index(r, 0).data(RecordRole) for r in range(view.proxy.rowCount())]


@pytest.fixture
def view(qtbot):
    v = GalleryView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    yield v
    v.shutdown()


def test_model_rows_and_labels(store):
    records = store.records()
    model = GalleryModel(records)
    assert model.rowCount() == len(records) == 2 * 3
    for row, rec in enumerate(records):
        index = model.index(row)
        text = index.data(Qt.DisplayRole)
        assert text.startswith(rec.name + "\n")
        assert all(part in text for part in (rec.category, rec.function.upper(), rec.arch))
        assert rec.shape_id in index.data(Qt.ToolTipRole)
        assert index.data(RecordRole) == rec
    assert model.values("category") == ["chair", "mug"]
    assert model.values("function") == ["occ", "sdf", "udf"]


def test_filters_and_search_narrow_the_rows(qtbot, view, store):
    counts = []
    view.count_changed.connect(lambda shown, total: counts.append((shown, total)))
    view.set_records(store.records())
    assert view.shown() == 6 and counts[-1] == (6, 6)
    view.set_filter("category", "mug")
    assert {r.category for r in rows(view)} == {"mug"} and view.shown() == 3
    view.set_filter("function", "udf")
    assert [(r.category, r.function) for r in rows(view)] == [("mug", "udf")]
    view.set_filter("arch", "triplane")
    assert view.shown() == 1 and counts[-1] == (1, 6)
    for field in ("category", "function", "arch"):
        view.set_filter(field, None)
    view.search.setText("  CHAIR ")
    assert {r.category for r in rows(view)} == {"chair"} and view.shown() == 3
    view.search.setText("demo/mug")  # shape ids are searched too
    assert {r.shape_id for r in rows(view)} == {"demo/mug_000"}
    view.search.setText("mug zebra")  # every word must match
    assert view.shown() == 0 and counts[-1] == (0, 6)
    view.search.clear()
    assert view.shown() == 6


def test_split_filter_and_choices(view):
    view.set_records(synthetic(50))
    assert [view.combos["split"].itemData(i) for i in range(view.combos["split"].count())] == [None, "test", "train"]
    view.set_filter("split", "test")
    assert view.shown() == 10 and {r.split for r in rows(view)} == {"test"}
    view.set_records(synthetic(20))  # a reload keeps the chosen filter
    assert view.shown() == 4
    with pytest.raises(ValueError, match="no category"):
        view.set_filter("category", "unicorn")


@pytest.mark.slow
def test_thumbnails_arrive_lazily_and_are_cached(qtbot, view, store, monkeypatch):
    renders = []
    real = engine_thumbnails.thumbnail_image
    monkeypatch.setattr(engine_thumbnails, "thumbnail_image", lambda *a, **k: renders.append(1) or real(*a, **k))
    records = store.records()
    view.show()
    qtbot.waitExposed(view)
    view.set_store(store)
    states = lambda: [view.model.index(r).data(ThumbnailStateRole) for r in range(6)]  # noqa: E731
    qtbot.waitUntil(lambda: states() == ["ready"] * 6, timeout=60_000)
    assert len(renders) == 6
    pixmap = view.model.thumbnail(0)
    assert (pixmap.width(), pixmap.height()) == (128, 128)
    for rec in records:
        png = engine_thumbnails.cached_thumbnail(store, rec, 128)
        assert png is not None and png.startswith(PNG_SIGNATURE)
        path = store.root / "cache" / "thumbnails" / f"{rec.sha256[:16]}-128-r{engine_thumbnails.RENDER_VERSION}.png"
        assert path.is_file() and engine_thumbnails.thumbnail_path(store, rec, 128) == path

    loader = ThumbnailLoader(128)
    loader.set_store(store)
    got = {}
    loader.ready.connect(lambda rid, image: got.__setitem__(rid, image))
    with qtbot.waitSignal(loader.idle, timeout=20_000):
        for rec in records + records:  # repeated requests are served once
            loader.request(rec)
    assert sorted(got) == sorted(r.id for r in records) and len(renders) == 6
    assert all(not image.isNull() and image.hasAlphaChannel() for image in got.values())
    loader.shutdown()


def test_requests_serve_the_newest_burst_first_in_order_and_drop_the_oldest():
    a, b, c, d = synthetic(4)
    queue = _RequestQueue(limit=3)
    assert queue.push(a, (-1, 1)) == [] and queue.push(b, (-1, 2)) == []  # first paint: a, b
    assert queue.push(c, (-2, 1)) == [] and queue.push(a, (-2, 2)) == []  # next paint: c, a again
    assert queue.push(d, (-3, 1)) == [b.id]  # over the limit: the oldest request goes
    order = []
    while (item := queue.pop()) is not None:
        record, looked_up = item
        if looked_up:
            order.append(record.name)
            queue.done(record.id)
        else:
            queue.defer(record)  # pretend nothing is cached: every record goes on to render
    assert order == [d.name, c.name, a.name] and len(queue) == 0


def test_opening_another_store_drops_pending_work(qtbot, store):
    loader = ThumbnailLoader(128)
    got = []
    loader.ready.connect(lambda rid, _image: got.append(rid))
    loader.set_store(store)
    for rec in store.records():
        loader.request(rec)
    loader.set_store(None)
    assert loader.pending() == 0
    qtbot.waitUntil(loader.is_idle, timeout=20_000)
    assert got == []  # at most the item in flight was made, and nothing reached the GUI
    loader.shutdown()


def test_activation_and_selection_emit_the_record(qtbot, view, store):
    view.set_records(store.records())
    view.show()
    qtbot.waitExposed(view)
    index = view.proxy.index(4, 0)
    rect = view.list.visualRect(index)
    assert rect.isValid()
    with qtbot.waitSignal(view.selected, timeout=2000) as selected:
        qtbot.mouseClick(view.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert selected.args == [store.records()[4]]
    with qtbot.waitSignal(view.activated, timeout=2000) as activated:
        qtbot.mouseDClick(view.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert activated.args == [store.records()[4]]
    view.list.setFocus()
    with qtbot.waitSignal(view.activated, timeout=2000) as activated:
        qtbot.keyClick(view.list, Qt.Key_Return)
    assert activated.args == [store.records()[4]]


def test_ten_thousand_rows_scroll_and_filter_and_request_only_what_is_painted(qtbot, view):
    wanted = []
    view.model.thumbnail_wanted.connect(wanted.append)
    view.show()
    qtbot.waitExposed(view)
    records = synthetic(10_000)
    start = time.perf_counter()
    view.set_records(records)
    qtbot.waitUntil(lambda: len(wanted) > 0, timeout=5000)
    view.list.scrollToBottom()
    qtbot.waitUntil(lambda: records[-1] in wanted, timeout=5000)
    view.search.setText("cat3")
    view.set_filter("function", "udf")
    view.list.scrollToBottom()
    view.list.viewport().repaint()
    elapsed = time.perf_counter() - start
    assert view.shown() == sum(r.category == "cat3" and r.function == "udf" for r in records) == 333
    assert elapsed < 2.0, f"10k rows took {elapsed:.2f}s"  # a sanity bound, not a benchmark
    # only painted rows asked for a thumbnail, each once
    assert len(wanted) == len({r.id for r in wanted}) < 300


def test_window_counts_filtered_rows_and_ctrl_f_focuses_the_search(qtbot, store):
    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_store(store.root)
    assert window.count.text() == "6 of 6 INRs"
    window.gallery.set_filter("category", "mug")
    assert window.count.text() == "3 of 6 INRs"
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.gallery.list.setFocus()
    qtbot.keyClick(window, Qt.Key_F, Qt.ControlModifier)
    qtbot.waitUntil(window.gallery.search.hasFocus, timeout=2000)
