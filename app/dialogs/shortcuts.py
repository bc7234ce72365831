"""Help ▸ Keyboard Shortcuts: every menu shortcut (read from the actions), then keys and mouse of the panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PANEL_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Gallery", "Arrow keys", "Move between shapes"),
    ("Gallery", "Enter", "Find shapes similar to the selected one"),
    ("Gallery", "Double-click", "Find shapes similar to this one"),
    ("Map", "Tab", "Move the keyboard focus to the map (and on to the next control)"),
    ("Map", "Arrow keys", "Select the nearest point in that direction"),
    ("Map", "Enter / double-click", "Find shapes similar to the selected point"),
    ("Map", "+ / − / wheel", "Zoom in / out"),
    ("Map", "0 / double-click empty space", "Fit every point in the view"),
    ("Map", "Shift+drag", "Select the points in a box (the gallery shows only them)"),
    ("Map", "Ctrl+drag", "Select the points in a free-hand lasso; then Isolate shows only them, Show all every point"),
    ("Map", "Esc", "Clear the box selection"),
    ("3D map", "Drag / Shift+arrow keys", "Turn the view (the 3D toggle beside the projection lays the map out in 3D)"),
    ("3D map", "Right-drag", "Pan"),
    ("3D map", "R", "Back to the first angle"),
    ("3D", "Drag / Shift+drag / wheel",
     "Rotate / pan / zoom; Slice plane cuts the shape open, its slider moves the cut"),
    ("Results", "Click / double-click", "Select a result / find shapes similar to it"),
    ("Window", "Drop a file", "Query with an .inr, mesh or point-cloud file"),
)
"""``(where, keys, what)`` rows that are not menu actions."""


def shortcut_rows(actions: dict[str, QAction]) -> list[tuple[str, str, str]]:
    """``(menu, keys, what)`` for every action that has a shortcut, in menu order."""
    rows = []
    for action in actions.values():
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if keys:
            menu = action.property("menu") or ""
            rows.append((menu, " or ".join(dict.fromkeys(keys)), action.text().replace("&", "").rstrip("…")))
    return rows


class ShortcutsDialog(QDialog):
    """A read-only table of shortcuts: the menus' (from ``actions``), then :data:`PANEL_KEYS`."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions) + list(PANEL_KEYS)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setObjectName("shortcutTable")
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "What it does"])
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setToolTip("Every keyboard shortcut and mouse gesture of the browser")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setToolTip("Close this list (Esc)")
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 520)

    def rows(self) -> list[tuple[str, str, str]]:
        return [(self._text(r, 0), self._text(r, 1), self._text(r, 2)) for r in range(self.table.rowCount())]

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""
