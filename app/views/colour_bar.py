"""A slice's colour bar: the colour map with tick values, the surface mark and what the values are.

The colours and ticks come from :func:`inret_engine.render.slices.colour_bar`, so the bar
shows exactly the colours the slice above it is painted with.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

STRIP_PX = 10
MAX_WIDTH_PX = 360


def tick_text(value: float) -> str:
    """``0.05 -> "0.05"``, ``-0.125 -> "−0.125"``, ``0.0 -> "0"``."""
    text = f"{abs(value):.3f}".rstrip("0").rstrip(".")
    return ("−" if value < 0 and text != "0" else "") + text


class ColourBarWidget(QWidget):
    """Paints one :class:`~inret_engine.render.slices.ColourBar`: strip, ticks with values, a label line."""

    def __init__(self, function: str, parent: QWidget | None = None):
        super().__init__(parent)
        from inret_engine.render.slices import colour_bar

        self.bar = colour_bar(function, 256)
        rgb = np.ascontiguousarray(self.bar.rgb[None, :, :])
        self._strip = QImage(rgb.data, rgb.shape[1], 1, 3 * rgb.shape[1], QImage.Format.Format_RGB888).copy()
        self.small = QFont(self.font())
        self.small.setPointSizeF(max(7.0, self.small.pointSizeF() * 0.85))
        self.fm = QFontMetrics(self.small)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(f"Colour scale of the slice: {self.bar.label}; the mark is the surface level")
        self.setAccessibleName(f"{function.upper()} colour scale")
        self.setAccessibleDescription(", ".join(f"{tick_text(v)} at {p:.0%}" for v, p in self.bar.ticks))

    def ticks(self) -> list[str]:
        return [tick_text(v) for v, _ in self.bar.ticks]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(220, STRIP_PX + 2 * self.fm.height() + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(100, self.sizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(self.small)
        half = self.fm.horizontalAdvance("−0.125") / 2
        width = min(self.width() - 2 * half - 2, MAX_WIDTH_PX)
        strip = QRectF((self.width() - width) / 2, 2, width, STRIP_PX)
        p.drawImage(strip, self._strip)
        p.setPen(QPen(QColor("#3a414c"), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(strip)
        x = strip.left() + self.bar.surface * strip.width()  # the surface level, in the contour's colour
        p.setPen(QPen(QColor(*self.bar.contour), 2))
        p.drawLine(QLineF(x, strip.top() - 2, x, strip.bottom() + 2))
        p.setPen(QColor("#9aa4b2"))
        y = strip.bottom() + 2
        for text, tx in self.visible_ticks(strip.left(), strip.width()):
            p.drawLine(QLineF(tx, strip.bottom(), tx, strip.bottom() + 3))
            w = self.fm.horizontalAdvance(text)
            p.drawText(QRectF(tx - w / 2 - 1, y + 1, w + 2, self.fm.height()), Qt.AlignmentFlag.AlignCenter, text)
        p.setPen(QColor("#8c96a5"))
        p.drawText(QRectF(0, y + 1 + self.fm.height(), self.width(), self.fm.height()), Qt.AlignmentFlag.AlignCenter,
                   self.label_text(self.width()))
        p.end()

    def visible_ticks(self, left: float, width: float) -> list[tuple[str, float]]:
        """``(text, x)`` of the ticks whose values fit side by side (both ends always; inner ones if room)."""
        gap = self.fm.horizontalAdvance("  ")
        ticks = [(tick_text(v), left + pos * width) for v, pos in self.bar.ticks]
        half = [self.fm.horizontalAdvance(t) / 2 for t, _ in ticks]
        kept = [0]
        for k in range(1, len(ticks)):
            last = len(ticks) - 1
            clear_left = ticks[k][1] - half[k] >= ticks[kept[-1]][1] + half[kept[-1]] + gap
            clear_right = k == last or ticks[k][1] + half[k] + gap <= ticks[last][1] - half[last]
            if clear_left and clear_right:
                kept.append(k)
        return [ticks[k] for k in kept]

    def label_text(self, width: int) -> str:
        """The label, without its bracket when narrow, cut short only when even that does not fit."""
        for text in (self.bar.label, self.bar.label.split(" (")[0]):
            if self.fm.horizontalAdvance(text) <= width:
                return text
        return self.fm.elidedText(self.bar.label.split(" (")[0], Qt.TextElideMode.ElideRight, width)
