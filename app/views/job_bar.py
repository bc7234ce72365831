"""The status-bar strip that shows the running job: its label, a progress bar and Cancel."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from ..workers import JobRunner

LABEL_MAX_PX = 420
"""The job's label is cut short (with "…", the whole text in its tooltip) beyond this width."""


class ElidedLabel(QLabel):
    """One line of plain text that shortens itself with "…" to the width it gets; the tooltip holds it all.

    Its minimum width is a few characters, so a long job name never holds the window wide.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, **kwargs):
        super().__init__(parent, **kwargs)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = str(text)
        self.setToolTip(self._full)
        self.setAccessibleName(self._full)
        self.updateGeometry()
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.fontMetrics().horizontalAdvance("Abcdefgh…"), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.width() - 2)
        super().setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))


class JobBar(QWidget):
    """Label + progress bar + Cancel, bound to a :class:`JobRunner`; hidden while nothing runs.

    A progress record is read by duck typing: ``done``, ``total`` (0 = busy, no count),
    ``stage`` and ``message`` where present (engine and app records all have them).
    """

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.label = ElidedLabel()
        self.label.setObjectName("jobLabel")
        self.label.setMaximumWidth(LABEL_MAX_PX)
        self.progress = QProgressBar()
        self.progress.setObjectName("jobProgress")
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName("Progress of the running job")
        self.progress.setToolTip("Progress of the running job")
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("jobCancel")
        self.cancel.setToolTip("Stop the running job (Esc)")
        self.cancel.setAccessibleName("Cancel the running job")
        self.cancel.clicked.connect(runner.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label, 1)
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
