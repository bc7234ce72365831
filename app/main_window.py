"""The main window: panels plus a thin controller.

For now the window lists a store's INRs and shows the progress of opening or building
it; the gallery, results, 3D view, t-SNE map and cutaways join as their issues land.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QThreadPool
from PySide6.QtWidgets import (QLabel, QListView, QMainWindow, QMessageBox, QProgressBar, QVBoxLayout,
                               QWidget)

from inret_engine.store import Store

from .models.catalog_model import CatalogModel
from .workers import GeneratorWorker


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("INRet Browser")
        self.resize(1100, 720)
        self.store: Store | None = None
        self.model = CatalogModel()
        self.title = QLabel("No store open")
        self.title.setObjectName("storeTitle")
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setViewMode(QListView.IconMode)
        self.list.setGridSize(QSize(220, 60))
        self.list.setResizeMode(QListView.Adjust)
        self.list.setUniformItemSizes(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.progress)
        self.setCentralWidget(body)
        self.pool = QThreadPool.globalInstance()
        self._worker: GeneratorWorker | None = None

    # --- store ------------------------------------------------------------------------
    def open_store(self, root: Path) -> None:
        if self.store is not None:
            self.store.close()
        self.store = Store.open(root)
        records = self.store.records()
        self.model.set_records(records)
        self.title.setText(f"{root} — {len(records)} INRs")
        self.statusBar().showMessage(f"Opened {root}", 5000)

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

    def show_error(self, message: str) -> None:
        QMessageBox.critical(self, "INRet Browser", message.split("\n\n")[0])

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._worker is not None:
            self._worker.cancel()
        self.pool.waitForDone(5000)
        if self.store is not None:
            self.store.close()
        super().closeEvent(event)
