"""The map's hover card: a thumbnail, the name, then category / function / architecture."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from .gallery import ARCH_NAMES as GALLERY_ARCH_NAMES

ARCH_NAMES = {**GALLERY_ARCH_NAMES, "any": "shared"}
CARD_THUMB = 96


class HoverCard(QFrame):
    """A small card that follows the cursor: thumbnail, name, then category / function / architecture."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("mapHoverCard")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("#mapHoverCard { background: #23272e; border: 1px solid #3a414c; border-radius: 6px; }"
                           "QLabel { background: transparent; }")
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedSize(CARD_THUMB, CARD_THUMB)
        self.text = QLabel(textFormat=Qt.TextFormat.RichText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 8, 10, 8)
        layout.addWidget(self.image)
        layout.addWidget(self.text)
        self.hide()

    def show_record(self, record, pixmap: QPixmap | None, pos: QPointF, overlapping: int = 0) -> None:
        arch = ARCH_NAMES.get(record.arch, record.arch)
        more = f"<br><i>+{overlapping} more at this spot</i>" if overlapping else ""
        self.text.setText(f"<b style='color:#e3e7ee'>{record.name}</b><br>"
                          f"<span style='color:#9aa4b2'>{record.category}<br>{record.function.upper()} · {arch}"
                          f"<br>id {record.id}{more}</span>")
        if pixmap is None:
            self.image.setPixmap(QPixmap())
            self.image.setText("<span style='color:#6c7684'>no preview</span>")
        else:
            self.image.setPixmap(pixmap.scaled(CARD_THUMB, CARD_THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))
        self.adjustSize()
        parent = self.parentWidget()
        if parent is None:
            return
        area = parent.rect()
        x, y = int(pos.x()) + 16, int(pos.y()) + 16
        if x + self.width() > area.right():
            x = int(pos.x()) - 16 - self.width()
        if y + self.height() > area.bottom():
            y = int(pos.y()) - 16 - self.height()
        self.move(QPoint(max(0, x), max(0, y)))
        self.show()
        self.raise_()
