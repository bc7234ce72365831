"""The gallery's search box and filter menus, arranged to fit the width they get.

Wide: the search box and the four filters on one row. Narrower: the search box on its
own row and the filters beneath it, four, two or one to a row. The search box is never
narrower than its hint text, and each filter menu is as wide as its longest entry, so
nothing is cut off at any window size; :meth:`FilterBar.minimumSizeHint` reports the
narrowest arrangement, so the bar never holds the window wider than that.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLineEdit, QWidget

from ..models.gallery_model import FILTER_FIELDS

FILTER_NAMES = {"category": "categories", "function": "functions", "arch": "architectures", "split": "splits"}
"""Plural names for the "All …" entry of each filter."""
FILTER_TIPS = {"category": "Show only INRs of one category",
               "function": "Show only INRs of one implicit function: SDF (signed distance), UDF (unsigned "
                           "distance) or Occ (occupancy)",
               "arch": "Show only INRs of one architecture (hash grid, octree, triplane, MLP)",
               "split": "Show only INRs of the train or the test split"}
SEARCH_HINT = "Search name, category or shape id  (Ctrl+F)"
SPACING = 8


class FilterBar(QWidget):
    """A search box and one combo box per filter field.

    Signals:
        search_changed(str): the search text.
        filter_changed(str): a filter's choice changed (the field name).

    Attributes:
        search: the search box.
        combos: ``field -> QComboBox``; item data is the value, ``None`` for "All …".
        columns: filters per row in the current arrangement (0: one row with the search box).
    """

    search_changed = Signal(str)
    filter_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(placeholderText=SEARCH_HINT)
        self.search.setObjectName("gallerySearch")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only INRs whose name, category or shape id contains every word typed here "
                               "(Ctrl+F)")
        self.search.setAccessibleName("Search the gallery")
        self.search.textChanged.connect(self.search_changed)
        self.combos: dict[str, QComboBox] = {}
        for field in FILTER_FIELDS:
            combo = QComboBox()
            combo.setObjectName(f"filter_{field}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setToolTip(FILTER_TIPS[field])
            combo.setAccessibleName(f"Filter by {FILTER_NAMES[field][:-1]}")
            combo.currentIndexChanged.connect(lambda _i, f=field: self.filter_changed.emit(f))
            self.combos[field] = combo
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(SPACING)
        self.columns: int | None = None
        self._update_search_width()
        self._arrange(0)

    def all_text(self, field: str) -> str:
        return f"All {FILTER_NAMES[field]}"

    def refit(self) -> None:
        """The filters' entries changed: pick the arrangement for the current width again."""
        self.updateGeometry()
        self._arrange(self._columns_for(self.width()))

    # --- layout ----------------------------------------------------------------------------
    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """As narrow as the one-filter-per-row arrangement, as tall as the current one."""
        widest = max([self.search.minimumWidth()] + [c.sizeHint().width() for c in self.combos.values()])
        return QSize(widest, self.grid.minimumSize().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._arrange(self._columns_for(event.size().width()))

    def _update_search_width(self) -> None:
        fm = self.search.fontMetrics()
        self.search.setMinimumWidth(fm.horizontalAdvance(SEARCH_HINT) + 56)  # frame, padding, clear button

    def _columns_for(self, width: int) -> int:
        """0 (one row with the search box), else the most filters per row that fit ``width``."""
        hints = sorted((c.sizeHint().width() for c in self.combos.values()), reverse=True)
        if self.search.minimumWidth() + sum(hints) + SPACING * len(hints) <= width:
            return 0
        for n in (4, 2):
            if n * hints[0] + SPACING * (n - 1) <= width:
                return n
        return 1

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for widget in (self.search, *self.combos.values()):
            self.grid.removeWidget(widget)
        for k in range(6):
            self.grid.setColumnStretch(k, 0)
        combos = list(self.combos.values())
        if columns == 0:
            self.grid.addWidget(self.search, 0, 0)
            self.grid.setColumnStretch(0, 1)
            for k, combo in enumerate(combos, 1):
                self.grid.addWidget(combo, 0, k)
        else:
            self.grid.addWidget(self.search, 0, 0, 1, columns)
            for k, combo in enumerate(combos):
                self.grid.addWidget(combo, 1 + k // columns, k % columns)
            for k in range(columns):
                self.grid.setColumnStretch(k, 1)
        self.updateGeometry()
