"""What the map's colours and markers mean: the legend list and, for a continuous field, a colour bar.

:func:`fill_legend` lists the values of the field the points are coloured by (with how
many INRs each) and the function markers; colouring by fit quality lists only how many
INRs have no value, and :class:`RampBar` under the map shows the colour ramp with values.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QLinearGradient, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QSizePolicy, QWidget

from ..models.map_points import COLOUR_FIELDS, CONTINUOUS, MARKERS, NO_VALUE, PALETTE, RAMP, MapPoints
from .colour_bar import tick_text
from .map_canvas import marker_path

FUNCTION_NAMES = (("SDF", 0), ("UDF", 1), ("Occ", 2))
LEGEND_MAX_PX = 260
STRIP_PX = 10
DISPLAY = {"arch": {"hash": "hash grid", "octree": "octree", "triplane": "triplane", "mlp": "SIREN MLP",
                    "any": "shared"},
           "function": {"sdf": "SDF", "udf": "UDF", "occ": "Occ"}}
"""How some field values read in the legend (others are shown as they are; an empty value as "none")."""


def legend_icon(colour: str, marker: int) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(10, 12, 16), 1))
    p.setBrush(QColor(colour))
    marker_path(p, marker, 7, 7, 10)
    p.end()
    return QIcon(pix)


def value_text(field: str, value: str) -> str:
    return DISPLAY.get(field, {}).get(value, value) or "none"


def fill_legend(legend: QListWidget, points: MapPoints) -> None:
    """The legend of ``points``' colouring and of the function markers; as wide as its longest entry."""
    legend.clear()

    def header(text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setForeground(QColor("#8c96a5"))
        legend.addItem(item)

    def entry(colour: str, marker: int, text: str) -> None:
        item = QListWidgetItem(legend_icon(colour, marker), text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        legend.addItem(item)

    field = points.colour_by
    header(COLOUR_FIELDS[field].split(" (")[0])
    if field in CONTINUOUS:
        missing = int(np.count_nonzero(~np.isfinite(points.values(field)))) if len(points) else 0
        if points.value_range is not None:
            lo, hi = points.value_range
            entry(RAMP[0], 0, f"low  {tick_text(lo)}")
            entry(RAMP[-1], 0, f"high  {tick_text(hi)}")
        if missing:
            entry(NO_VALUE, 0, f"none  ({missing})")
    for value, colour, count in points.legend:
        entry(PALETTE[colour], 0, f"{value_text(field, value)}  ({count})")
    header("Function")
    for name, marker in FUNCTION_NAMES:
        entry("#c9d1dc", marker, f"{name}  ({MARKERS[marker]})")
    fm = legend.fontMetrics()
    texts = [legend.item(i).text() for i in range(legend.count())]
    widest = max((fm.horizontalAdvance(t) for t in texts), default=60)
    scroll = legend.verticalScrollBar().sizeHint().width()
    legend.setFixedWidth(min(LEGEND_MAX_PX, widest + legend.iconSize().width() + 34 + scroll))


class RampBar(QWidget):
    """The colour ramp of a continuous colouring, with values at its ends and middle and what they are."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.small = QFont(self.font())
        self.small.setPointSizeF(max(7.0, self.small.pointSizeF() * 0.85))
        self.fm = QFontMetrics(self.small)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Map colour scale")
        self.label, self.lo, self.hi, self.clipped = "", 0.0, 1.0, False

    def set_range(self, field: str, lo: float, hi: float, clipped: bool) -> None:
        """Show the ramp from ``lo`` to ``hi`` of ``field``; ``clipped``: larger values exist and get the top colour."""
        self.label = f"{COLOUR_FIELDS[field]}: {CONTINUOUS[field]}"
        self.lo, self.hi, self.clipped = lo, hi, clipped
        self.setToolTip(f"Point colours: {self.label}. " + ("Values above the right end get its colour (a few "
                                                            "outliers would otherwise flatten the scale). "
                                                            if clipped else "") + "Grey: no value measured")
        self.setAccessibleDescription(", ".join(self.ticks()))
        self.update()

    def ticks(self) -> list[str]:
        mid = (self.lo + self.hi) / 2
        return [tick_text(self.lo), tick_text(mid), ("≥ " if self.clipped else "") + tick_text(self.hi)]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(220, STRIP_PX + 2 * self.fm.height() + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(120, self.sizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setFont(self.small)
        margin = self.fm.horizontalAdvance("≥ 0.000") / 2 + 2
        strip = QRectF(margin, 2, max(10.0, self.width() - 2 * margin), STRIP_PX)
        gradient = QLinearGradient(strip.topLeft(), strip.topRight())
        for k, colour in enumerate(RAMP):
            gradient.setColorAt(k / (len(RAMP) - 1), QColor(colour))
        p.fillRect(strip, gradient)
        p.setPen(QPen(QColor("#3a414c"), 1))
        p.drawRect(strip)
        p.setPen(QColor("#c9d1dc"))
        y = strip.bottom() + 2
        for text, at in zip(self.ticks(), (0.0, 0.5, 1.0)):
            x = strip.left() + at * strip.width()
            w = self.fm.horizontalAdvance(text)
            p.drawText(QRectF(x - w / 2 - 1, y, w + 2, self.fm.height()), Qt.AlignmentFlag.AlignCenter, text)
        p.setPen(QColor("#8c96a5"))
        label_rect = QRectF(0, y + self.fm.height(), self.width(), self.fm.height())
        p.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, self.label)
        p.end()
