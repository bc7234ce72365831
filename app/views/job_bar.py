"""The status-bar strip that shows the running job: its label, a progress bar and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ..workers import JobRunner


class JobBar(QWidget):
    """Label + progress bar + Cancel, bound to a :class:`JobRunner`; hidden while nothing runs.

    A progress record is read by duck typing: ``done``, ``total`` (0 = busy, no count),
    ``stage`` and ``message`` where present (engine and app records all have them).
    """

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.label = QLabel(objectName="jobLabel")
        self.progress = QProgressBar(objectName="jobProgress")
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(True)
        self.cancel = QPushButton("Cancel", objectName="jobCancel")
        self.cancel.setToolTip("Stop the running job (Esc)")
        self.cancel.clicked.connect(runner.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel)
        runner.started.connect(self._started)
        runner.progress.connect(self.show_progress)
        runner.idle.connect(self._idle)
        self.setVisible(False)

    def _started(self, label: str) -> None:
        self.label.setText(label)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.setVisible(True)

    def show_progress(self, event) -> None:
        total, done = int(getattr(event, "total", 0) or 0), int(getattr(event, "done", 0) or 0)
        stage = str(getattr(event, "stage", "") or self.runner.label)
        message = str(getattr(event, "message", "") or "")
        self.label.setText(stage if not message else f"{stage} — {message}")
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{done}/{total}")
        else:
            self.progress.setRange(0, 0)

    def _idle(self) -> None:
        self.setVisible(False)
        self.progress.setVisible(False)
