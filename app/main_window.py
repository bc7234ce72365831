"""The main window: panels plus a thin controller.

For now the window shows a store's INRs in the gallery and the progress of opening or
building it; the results, 3D view, t-SNE map and cutaways join as their issues land.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QVBoxLayout, QWidget

from inret_engine.store import InrRecord, Store

from .views.gallery import GalleryView
from .workers import GeneratorWorker


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("INRet Browser")
        self.resize(1100, 720)
        self.store: Store | None = None
        self.title = QLabel("No store open")
        self.title.setObjectName("storeTitle")
        self.gallery = GalleryView()
        self.model = self.gallery.model
        self.gallery.count_changed.connect(self._show_count)
        self.gallery.selected.connect(self._show_record)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 6, 12, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.gallery, 1)
        layout.addWidget(self.progress)
        self.setCentralWidget(body)
        self.count = QLabel(objectName="countLabel")
        self.statusBar().addPermanentWidget(self.count)
        self.statusBar().setSizeGripEnabled(False)
        self._actions()
        self.pool = QThreadPool.globalInstance()
        self._worker: GeneratorWorker | None = None

    def _actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, keys, slot in (("&Open Store…", "Ctrl+O", self.choose_store), ("&Reload", "F5", self.reload),
                                 ("&Quit", "Ctrl+Q", self.close)):
            file_menu.addAction(QAction(text, self, shortcut=QKeySequence(keys), triggered=slot))
        find = QAction("&Find…", self, shortcut=QKeySequence("Ctrl+F"), triggered=self.gallery.focus_search)
        self.menuBar().addMenu("&Edit").addAction(find)

    # --- store ------------------------------------------------------------------------
    def open_store(self, root: Path) -> None:
        store = Store.open(root)
        if self.store is not None:
            self.store.close()
        self.store = store
        self.gallery.set_store(store)
        self.title.setText(f"{Path(root).name} <span style='color:#7d8796; font-weight:normal; font-size:10pt'>"
                           f"&nbsp; {root} — {self.model.rowCount()} INRs</span>")
        self.statusBar().showMessage(f"Opened {root}", 5000)

    def choose_store(self) -> None:
        start = str(self.store.root) if self.store is not None else ""
        folder = QFileDialog.getExistingDirectory(self, "Open an INR store", start)
        if folder:
            self._try(lambda: self.open_store(Path(folder)))

    def reload(self) -> None:
        if self.store is not None:
            self._try(lambda: self.open_store(self.store.root))

    def _try(self, action: Callable[[], None]) -> None:
        try:
            action()
        except (ValueError, OSError) as exc:
            self.show_error(str(exc))

    def run_job(self, job: Callable[[], Iterator], *, label: str, on_done: Callable[[object], None]) -> GeneratorWorker:
        """Run an engine generator with a progress bar; errors become a dialog."""
        worker = GeneratorWorker(job)
        self.progress.setVisible(True)
        self.progress.setFormat(f"{label} %p%")
        worker.signals.progress.connect(self._on_progress)
        worker.signals.result.connect(on_done)
        worker.signals.error.connect(self.show_error)
        worker.signals.finished.connect(lambda: self.progress.setVisible(False))
        self._worker = worker
        self.pool.start(worker)
        return worker

    def _on_progress(self, event) -> None:
        total = max(int(getattr(event, "total", 0)), 1)
        self.progress.setMaximum(total)
        self.progress.setValue(int(getattr(event, "done", 0)))
        stage = getattr(event, "stage", "")
        self.statusBar().showMessage(f"{stage} {event.done}/{event.total} {getattr(event, 'message', '')}")

    def _show_count(self, shown: int, total: int) -> None:
        self.count.setText(f"{shown} of {total} INRs")

    def _show_record(self, rec: InrRecord) -> None:
        chamfer = "" if rec.chamfer is None else f" · Chamfer {rec.chamfer:.4f}"
        self.statusBar().showMessage(f"{rec.name} · {rec.category} · {rec.arch} {rec.function.upper()}{chamfer}")

    def show_error(self, message: str) -> None:
        QMessageBox.critical(self, "INRet Browser", message.split("\n\n")[0])

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._worker is not None:
            self._worker.cancel()
        self.gallery.shutdown()
        self.pool.waitForDone(5000)
        if self.store is not None:
            self.store.close()
        super().closeEvent(event)
