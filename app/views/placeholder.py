"""A quiet stand-in for a side panel that has not landed yet (map, cutaways, 3D view)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderPanel(QWidget):
    """Says what will be here; :meth:`app.main_window.MainWindow.set_panel` swaps in the real widget."""

    def __init__(self, title: str, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"placeholder_{title.lower()}")
        self.title = title
        label = QLabel(f"<b>{title}</b><br><span style='color:#7d8796'>{what}<br>(coming soon)</span>")
        label.setAlignment(Qt.AlignCenter)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
