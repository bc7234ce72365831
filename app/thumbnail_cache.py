"""Gallery thumbnails off the GUI thread.

:class:`ThumbnailLoader` takes requests for INR records, and one worker (a
:class:`~app.workers.GeneratorWorker` in a private one-thread pool) serves them: cached
PNGs first, then renders, newest requests first. Requests made in one turn of the event
loop (one paint of the gallery) form a *burst* that keeps its order, so the rows on screen
now come before rows scrolled past, top-left first. The worker decodes PNG bytes to a
``QImage`` (safe off the GUI thread); the GUI side turns it into a ``QPixmap``.

Opening another store cancels pending work: the queue is dropped, the worker stops after
its current item, and anything it still reports for the old store is ignored.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from inret_engine.store import InrRecord

from .workers import GeneratorWorker, error_text, render_pool

THUMBNAIL_SIZE = 128
MAX_PENDING = 256
"""Requests kept waiting at most; a few screens of the gallery."""


class _RequestQueue:
    """Thread-safe request queue in two stages: to look up in the cache, then to render.

    Entries are ordered by ``(-burst, position in burst)``; a re-requested record moves
    to its newest position (its older entries are skipped when they surface). Past
    ``limit`` requests the oldest are dropped: rows long scrolled past are not worth a
    render now, and they ask again when they are painted again.
    """

    def __init__(self, limit: int = MAX_PENDING):
        self.limit = limit
        self._lock = threading.Lock()
        self._lookup: list[tuple] = []
        self._render: list[tuple] = []
        self._key: dict[int, tuple[int, int]] = {}
        self._age: deque[tuple[int, tuple[int, int]]] = deque()

    def push(self, record: InrRecord, key: tuple[int, int]) -> list[int]:
        """Queue ``record``; returns the ids of the oldest requests dropped to stay within ``limit``."""
        dropped = []
        with self._lock:
            self._key[record.id] = key
            heapq.heappush(self._lookup, (key, record.id, record))
            self._age.append((record.id, key))
            while len(self._key) > self.limit and self._age:
                rid, old = self._age.popleft()
                if self._key.get(rid) == old:
                    del self._key[rid]
                    dropped.append(rid)
            if len(self._age) > 4 * self.limit:  # forget superseded entries
                self._age = deque(e for e in self._age if self._key.get(e[0]) == e[1])
        return dropped

    def pop(self) -> tuple[InrRecord, bool] | None:
        """The next ``(record, looked_up)``: ``looked_up`` is False while it may be cached."""
        with self._lock:
            for heap, looked_up in ((self._lookup, False), (self._render, True)):
                while heap:
                    key, rid, record = heapq.heappop(heap)
                    if self._key.get(rid) == key:
                        if looked_up:
                            del self._key[rid]
                        return record, looked_up
            return None

    def defer(self, record: InrRecord) -> None:
        """Not in the cache: queue it for rendering at the same priority."""
        with self._lock:
            key = self._key.get(record.id)
            if key is not None:
                heapq.heappush(self._render, (key, record.id, record))

    def done(self, record_id: int) -> None:
        with self._lock:
            self._key.pop(record_id, None)

    def __contains__(self, record_id: int) -> bool:
        with self._lock:
            return record_id in self._key

    def __len__(self) -> int:
        with self._lock:
            return len(self._key)


def _serve(store, queue: _RequestQueue, size: int):
    """Worker job: yield ``(queue, record_id, QImage | None, error)`` until the queue is empty."""
    from inret_engine.render.thumbnails import cached_thumbnail, thumbnail_png

    while (item := queue.pop()) is not None:
        record, looked_up = item
        try:
            png = thumbnail_png(store, record, size) if looked_up else cached_thumbnail(store, record, size)
        except Exception as exc:  # noqa: BLE001 - one bad INR must not stop the gallery
            queue.done(record.id)
            yield queue, record.id, None, str(exc).split("\n")[0]
            continue
        if png is None:
            queue.defer(record)
            continue
        queue.done(record.id)
        image = QImage.fromData(png)  # the format is read from the header
        if image.isNull():
            yield queue, record.id, None, f"unreadable thumbnail for {record.name}"
        else:
            yield queue, record.id, image, ""


class ThumbnailLoader(QObject):
    """Serve thumbnails for a store, one render at a time.

    Signals:
        ready(int, QImage): the thumbnail of record id is available.
        failed(int, str): it could not be made (damaged file, ...).
        dropped(list): these record ids were dropped unserved (too many requests); ask again later.
        idle(): nothing is queued or in flight.
    """

    ready = Signal(int, QImage)
    failed = Signal(int, str)
    dropped = Signal(list)
    idle = Signal()

    def __init__(self, size: int = THUMBNAIL_SIZE, parent: QObject | None = None, *, max_pending: int = MAX_PENDING):
        super().__init__(parent)
        self.size = int(size)
        self.max_pending = max_pending
        self.store = None
        self.pool = render_pool(self)
        self._queue = _RequestQueue(max_pending)
        self._worker: GeneratorWorker | None = None
        self._worker_queue: _RequestQueue | None = None
        self._burst = 0
        self._in_burst = 0
        self._burst_open = False

    def set_store(self, store) -> None:
        """Serve this store from now on; drop what was pending for the previous one."""
        self.cancel()
        self.store = store

    def cancel(self) -> None:
        """Drop every pending request; the worker stops after its current item."""
        self._queue = _RequestQueue(self.max_pending)
        if self._worker is not None:
            self._worker.cancel()

    def request(self, record: InrRecord) -> None:
        """Ask for ``record``'s thumbnail; repeated requests only raise its priority."""
        if self.store is None:
            return
        if not self._burst_open:
            self._burst_open = True
            self._burst += 1
            self._in_burst = 0
            QTimer.singleShot(0, self._close_burst)
        self._in_burst += 1
        dropped = self._queue.push(record, (-self._burst, self._in_burst))
        if dropped:
            self.dropped.emit(dropped)
        if self._worker is None:
            self._start()

    def pending(self) -> int:
        """Requests queued or in flight."""
        return len(self._queue)

    def is_idle(self) -> bool:
        return self._worker is None and len(self._queue) == 0

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel()
        self.pool.waitForDone(timeout_ms)

    # --- worker plumbing -------------------------------------------------------------
    def _close_burst(self) -> None:
        self._burst_open = False

    def _start(self) -> None:
        # bound methods, not lambdas: Qt then drops queued results once this loader is deleted
        store, queue, size = self.store, self._queue, self.size
        worker = GeneratorWorker(lambda: _serve(store, queue, size), render=True)
        worker.signals.progress.connect(self._deliver)
        worker.signals.errored.connect(self._job_failed)
        worker.signals.finished.connect(self._finished)
        self._worker, self._worker_queue = worker, queue
        self.pool.start(worker)

    def _deliver(self, item: tuple) -> None:
        queue, record_id, image, error = item
        if queue is not self._queue:  # from a store since replaced
            return
        if image is None:
            self.failed.emit(record_id, error)
        else:
            self.ready.emit(record_id, image)

    def _job_failed(self, exc: BaseException) -> None:
        """The worker itself broke (not one INR): stop trying rather than restart it in a loop."""
        if self._worker_queue is self._queue:
            self._queue = _RequestQueue(self.max_pending)
            self.failed.emit(-1, error_text(exc))

    def _finished(self) -> None:
        self._worker = self._worker_queue = None
        if len(self._queue) and self.store is not None:
            self._start()
        else:
            self.idle.emit()
