"""A list model over a store's catalog rows."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from inret_engine.store import InrRecord

RecordRole = Qt.UserRole + 1


class CatalogModel(QAbstractListModel):
    """One row per INR: display text, tooltip, and the record under ``RecordRole``."""

    def __init__(self, records: list[InrRecord] | None = None, parent=None):
        super().__init__(parent)
        self._records = list(records or [])

    def set_records(self, records: list[InrRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def record(self, row: int) -> InrRecord:
        return self._records[row]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        rec = self._records[index.row()]
        if role == Qt.DisplayRole:
            return f"{rec.name}\n{rec.category} · {rec.function.upper()} · {rec.arch}"
        if role == Qt.ToolTipRole:
            cd = "n/a" if rec.chamfer is None else f"{rec.chamfer:.4f}"
            return f"{rec.shape_id}\nsplit {rec.split or '-'}\nChamfer {cd}"
        if role == RecordRole:
            return rec
        return None
