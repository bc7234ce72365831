"""The map's drawing surface: points, zoom and pan, hover, click, box and lasso selection.

Every point is one fragment of a small sprite atlas (one row per colour, one
column per marker), so a frame is a numpy fill of an ``(N, 10)`` array and a single
``QPainter.drawPixmapFragments`` call: 10,000 points paint in a few milliseconds. The few
emphasised points (query, neighbours, clicked, hovered, search matches) are drawn on top
with ordinary QPainter calls; while a search, a selection or a query is shown the other
points are dimmed. Hit-testing goes through :class:`~app.models.map_points.MapPoints`.

Mouse: wheel zooms around the cursor, drag pans, Shift+drag draws a selection box,
Ctrl+drag a free-hand lasso, click picks a point, double-click asks for a query (on empty
space it refits the view).

Keyboard (Tab gives the map focus): the arrow keys pick the nearest point in that
direction (the first press the point nearest the middle), Enter queries with the picked
point, + and - zoom, 0 fits the view, Esc clears a box selection. A picked point is
announced like a click (``clicked``) and like a hover (``hovered``, so its card shows).
"""

from __future__ import annotations

import time
from typing import cast

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from ..models.map_points import COLOURS, MapPoints

BACKGROUND = QColor("#15181d")
MARKER_PX = 8
"""Marker size in logical pixels (a sprite cell is 2 px larger, for the outline)."""
HIT_PX = 7.0
"""Hover / click radius in logical pixels."""
DIM_OPACITY = 0.22
DRAG_PX = 4
SEARCH_RINGS = 300
"""Search matches get a ring of their own up to this many (more would only clutter the map)."""
ARROWS = {Qt.Key.Key_Left: (-1.0, 0.0), Qt.Key.Key_Right: (1.0, 0.0), Qt.Key.Key_Up: (0.0, 1.0),
          Qt.Key.Key_Down: (0.0, -1.0)}
"""Arrow key -> direction on the map (y up)."""


def marker_path(painter: QPainter, marker: int, cx: float, cy: float, size: float) -> None:
    """Draws one marker (0 circle, 1 square, 2 triangle) of ``size`` px centred at ``(cx, cy)``."""
    h = size / 2
    if marker == 1:
        painter.drawRect(QRectF(cx - h * 0.9, cy - h * 0.9, 1.8 * h, 1.8 * h))
    elif marker == 2:
        painter.drawPolygon(QPolygonF([QPointF(cx, cy - h * 1.05), QPointF(cx + h * 1.05, cy + h * 0.85),
                                       QPointF(cx - h * 1.05, cy + h * 0.85)]))
    else:
        painter.drawEllipse(QPointF(cx, cy), h, h)


def sprite_atlas(dpr: float) -> tuple[QPixmap, int]:
    """Markers in every colour of :data:`COLOURS`, each in a square cell.

    Returns the atlas and the cell size in pixels.
    """
    cell = int(round((MARKER_PX + 2) * dpr))
    atlas = QPixmap(cell * 3, cell * len(COLOURS))
    atlas.fill(Qt.GlobalColor.transparent)
    p = QPainter(atlas)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(10, 12, 16, 200), max(1.0, dpr)))
    for row, colour in enumerate(COLOURS):
        p.setBrush(QColor(colour))
        for marker in range(3):
            marker_path(p, marker, (marker + 0.5) * cell, (row + 0.5) * cell, MARKER_PX * dpr)
    p.end()
    return atlas, cell


class MapCanvas(QWidget):
    """Paints a :class:`MapPoints` and turns mouse input into signals (ids, not rows).

    Signals:
        clicked(int): a point was clicked.
        double_clicked(int): a point was double-clicked.
        box_selected(list): ids inside a Shift+drag box or a Ctrl+drag lasso (empty when a click cleared it).
        hovered(int, QPointF): row under the cursor (-1 for none) and the cursor position.
    """

    clicked = Signal(int)
    double_clicked = Signal(int)
    box_selected = Signal(list)
    hovered = Signal(int, QPointF)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(160, 120)
        self.setAccessibleName("Map of the store's embeddings")
        self.setToolTip("Each point is an INR. Click: select · double-click or Enter: query · wheel or +/-: zoom · "
                        "drag: pan · Shift+drag: select a box · Ctrl+drag: lasso · arrow keys: move between points · "
                        "0: fit")
        self.points = MapPoints(np.zeros(0), np.zeros((0, 2)), {})
        self.center, self.scale = np.zeros(2), 1.0
        self.selected_row = self.hover_row = self.query_row = -1
        self.neighbour_rows = np.zeros(0, np.int64)
        self.box_rows = np.zeros(0, np.int64)
        self.search_rows: np.ndarray | None = None
        """Rows matching the search (None: no search)."""
        self.last_paint_ms = 0.0
        self.message = "No map yet"
        self._atlas: tuple[QPixmap, int, float] | None = None
        self._fragments = np.zeros((0, 10))
        self._press: QPointF | None = None
        self._press_center = self.center
        self._band: QRectF | None = None
        self._lasso: list[QPointF] | None = None
        self._dragging = False
        self._auto_fit = True  # refit on resize until the user zooms or pans

    # --- content and view ----------------------------------------------------------------
    def set_points(self, points: MapPoints) -> None:
        self.points = points
        self.selected_row = self.hover_row = self.query_row = -1
        self.neighbour_rows = self.box_rows = np.zeros(0, np.int64)
        self.search_rows = None
        self.fit()

    def fit(self) -> None:
        """Zoom and centre so every visible point shows, with a margin."""
        lo, hi = self.points.bounds()
        self.center = (lo + hi) / 2
        span = np.maximum(hi - lo, 1e-6)
        room = np.maximum([self.width() - 40, self.height() - 40], 10)
        self.scale = float(min(room / span))
        self._auto_fit = True
        self.update()

    def view_box(self) -> tuple[float, float, float, float]:
        """The map area on screen, ``(x0, y0, x1, y1)`` in map units (bottom-left, top-right)."""
        (x0, y0), (x1, y1) = self.to_map(QPointF(0, self.height())), self.to_map(QPointF(self.width(), 0))
        return float(x0), float(y0), float(x1), float(y1)

    def set_view_box(self, box) -> None:
        """Zoom and centre so the map area ``(x0, y0, x1, y1)`` fills the canvas (keeping the aspect)."""
        x0, y0, x1, y1 = (float(v) for v in box)
        self.center = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        span = np.maximum([abs(x1 - x0), abs(y1 - y0)], 1e-9)
        self.scale = float(min(np.array([max(self.width(), 1), max(self.height(), 1)]) / span))
        self._auto_fit = False
        self.update()

    def to_screen(self, xy: np.ndarray) -> np.ndarray:
        """``(..., 2)`` map coordinates to widget pixels (y up on the map, down on screen)."""
        out = (np.asarray(xy, dtype=np.float64) - self.center) * self.scale
        out[..., 1] *= -1
        return out + (self.width() / 2, self.height() / 2)

    def to_map(self, pos: QPointF) -> np.ndarray:
        return self.center + np.array([pos.x() - self.width() / 2, self.height() / 2 - pos.y()]) / self.scale

    def row_at(self, pos: QPointF) -> int:
        """Row of the visible point under ``pos`` (widget pixels), or -1."""
        x, y = self.to_map(pos)
        return self.points.nearest(x, y, HIT_PX / self.scale)

    def emphasised(self) -> np.ndarray | None:
        """Rows drawn at full strength while others are dimmed (box selection, search matches, query
        and hits); None when nothing is emphasised (every point at full strength)."""
        extra = [self.query_row] if self.query_row >= 0 else []
        parts = [self.box_rows, self.neighbour_rows, np.array(extra, np.int64)]
        if self.search_rows is not None:
            parts.append(self.search_rows)
        elif not any(len(p) for p in parts):
            return None
        return np.concatenate(parts)

    # --- painting ------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        start = time.perf_counter()
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        self._paint_points(p)
        if len(self.points) == 0:
            p.setPen(QColor("#6c7684"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_search(p)
        self._paint_highlight(p)
        for row, colour in ((self.selected_row, "#ffffff"), (self.hover_row, "#ffe08a")):
            if 0 <= row < len(self.points) and self.points.visible[row]:
                self._ring(p, row, 8.0, QColor(colour), 2.0)
        if self._band is not None:
            p.setPen(QPen(QColor("#7fb2f0"), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(61, 124, 201, 50))
            p.drawRect(self._band)
        if self._lasso is not None and len(self._lasso) > 1:
            p.setPen(QPen(QColor("#7fb2f0"), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(61, 124, 201, 50))
            p.drawPolygon(QPolygonF(self._lasso))
        if self.hasFocus():
            p.setPen(QPen(QColor("#3d7cc9"), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        p.end()
        self.last_paint_ms = (time.perf_counter() - start) * 1000

    def _paint_points(self, p: QPainter) -> None:
        rows = self.points.visible_rows()
        if len(rows) == 0:
            return
        dpr = self.devicePixelRatioF()
        if self._atlas is None or self._atlas[2] != dpr:
            self._atlas = (*sprite_atlas(dpr), dpr)
        atlas, cell, _ = self._atlas
        xy = self.to_screen(self.points.xy[rows])
        margin = MARKER_PX
        on = ((xy[:, 0] > -margin) & (xy[:, 0] < self.width() + margin)
              & (xy[:, 1] > -margin) & (xy[:, 1] < self.height() + margin))
        rows, xy = rows[on], xy[on]
        order, fade = self.depth_cue(rows)
        rows, xy = rows[order], xy[order]
        n = len(rows)
        if n == 0:
            return
        if len(self._fragments) < n:
            self._fragments = np.zeros((max(n, 2 * len(self._fragments)), 10))
        f = self._fragments[:n]  # x, y, sourceLeft, sourceTop, width, height, scaleX, scaleY, rotation, opacity
        f[:, 0:2] = xy
        f[:, 2] = self.points.marker[rows] * cell
        f[:, 3] = self.points.colour[rows] * cell
        f[:, 4:6] = cell
        f[:, 6:8] = 1.0 / dpr
        f[:, 8] = 0.0
        strong = self.emphasised()
        f[:, 9] = 1.0 if strong is None else np.where(np.isin(rows, strong), 1.0, DIM_OPACITY)
        if fade is not None:
            f[:, 9] *= fade[order]
        fragments = cast(QPainter.PixmapFragment, shiboken6.wrapInstance(f.ctypes.data, QPainter.PixmapFragment))
        p.drawPixmapFragments(fragments, n, atlas)

    def depth_cue(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Paint order of ``rows`` (indices into it, back to front) and an opacity factor per row (or None).

        A flat map paints in row order at full strength; a 3D view paints far points first
        and fainter (:class:`~app.views.map_orbit.OrbitCanvas`).
        """
        return np.arange(len(rows)), None

    def _paint_search(self, p: QPainter) -> None:
        rows = self.search_rows
        if rows is None or not 0 < len(rows) <= SEARCH_RINGS:
            return
        for row in rows[self.points.visible[rows]]:
            self._ring(p, int(row), 6.5, QColor("#7fe0ff"), 1.4)

    def _paint_highlight(self, p: QPainter) -> None:
        if self.query_row < 0:
            return
        q = self.to_screen(self.points.xy[self.query_row])
        p.setPen(QPen(QColor(255, 255, 255, 110), 1.2))
        for row in self.neighbour_rows:
            n = self.to_screen(self.points.xy[row])
            p.drawLine(QPointF(*q), QPointF(*n))
        for row in self.neighbour_rows:
            self._ring(p, int(row), 7.0, QColor("#ffffff"), 1.6)
        self._ring(p, self.query_row, 11.0, QColor("#ffd23f"), 3.0)

    def _ring(self, p: QPainter, row: int, radius: float, colour: QColor, width: float) -> None:
        x, y = self.to_screen(self.points.xy[row])
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 160), width + 2))
        p.drawEllipse(QPointF(x, y), radius, radius)
        p.setPen(QPen(colour, width))
        p.drawEllipse(QPointF(x, y), radius, radius)

    # --- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._press, self._press_center, self._dragging = event.position(), self.center.copy(), False
        if event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._band = QRectF(event.position(), event.position())
        elif event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._lasso = [event.position()]

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        if self._press is not None and event.buttons():
            delta = pos - self._press
            self._dragging |= abs(delta.x()) + abs(delta.y()) > DRAG_PX
            if self._band is not None:
                self._band = QRectF(self._press, pos).normalized()
            elif self._lasso is not None:
                self._lasso.append(pos)
            elif self._dragging:
                self._auto_fit = False
                self.center = self._press_center - np.array([delta.x(), -delta.y()]) / self.scale
            self.update()
            return
        self._set_hover(self.row_at(pos), pos)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        pos, band, lasso, dragging = event.position(), self._band, self._lasso, self._dragging
        self._press, self._band, self._lasso, self._dragging = None, None, None, False
        if band is not None and dragging:
            a, b = self.to_map(band.topLeft()), self.to_map(band.bottomRight())
            self.box_rows = self.points.in_box(a[0], a[1], b[0], b[1])
            self.box_selected.emit([int(i) for i in self.points.ids[self.box_rows]])
        elif lasso is not None and dragging:
            self.box_rows = self.points.in_polygon([self.to_map(q) for q in lasso + [pos]])
            self.box_selected.emit([int(i) for i in self.points.ids[self.box_rows]])
        elif not dragging and event.button() == Qt.MouseButton.LeftButton:
            row = self.row_at(pos)
            if row >= 0:
                self.selected_row = row
                self.clicked.emit(int(self.points.ids[row]))
            elif len(self.box_rows):
                self.clear_box()
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt API
        row = self.row_at(event.position())
        if row >= 0:
            self.double_clicked.emit(int(self.points.ids[row]))
        else:
            self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        anchor = self.to_map(pos)
        self._auto_fit = False
        self.scale *= 1.0015 ** event.angleDelta().y()
        self.center = anchor - np.array([pos.x() - self.width() / 2, self.height() / 2 - pos.y()]) / self.scale
        self.update()

    def leaveEvent(self, _event) -> None:  # noqa: N802 - Qt API
        self._set_hover(-1, QPointF())

    def event(self, event) -> bool:
        # Esc clears a box selection even though the window binds Esc to "cancel the job":
        # accepting the override sends the key here instead of to the shortcut.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape and len(self.box_rows):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if key == Qt.Key.Key_Escape and len(self.box_rows):
            self.clear_box()
        elif key in ARROWS:
            self.pick_towards(*ARROWS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and 0 <= self.selected_row < len(self.points):
            self.double_clicked.emit(int(self.points.ids[self.selected_row]))
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            self._auto_fit = False
            self.scale *= 1.25 if key != Qt.Key.Key_Minus else 0.8
            self.update()
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)

    def pick_towards(self, dx: float, dy: float) -> int:
        """Pick the nearest visible point in direction ``(dx, dy)`` (map axes, y up) from the picked one.

        With nothing picked (or the picked point hidden), picks the point nearest the middle
        of the view. Emits ``clicked`` and ``hovered`` for it, scrolls it into view and returns
        its row (-1 when there is no visible point; nothing changes then).
        """
        start = self.selected_row if 0 <= self.selected_row < len(self.points) else -1
        if start >= 0 and not self.points.visible[start]:
            start = -1
        if start < 0:
            row = self.points.nearest(self.center[0], self.center[1], np.inf)
        else:
            row = self.points.step(start, dx, dy)
        if row < 0:
            return -1
        self.selected_row = row
        x, y = self.to_screen(self.points.xy[row])
        margin = 2 * MARKER_PX
        if not (margin <= x <= self.width() - margin and margin <= y <= self.height() - margin):
            self._auto_fit = False
            self.center = self.points.xy[row].copy()
            x, y = self.to_screen(self.points.xy[row])
        self.hover_row = row
        self.clicked.emit(int(self.points.ids[row]))
        self.hovered.emit(row, QPointF(x, y))
        self.update()
        return row

    def focusInEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().focusOutEvent(event)
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._auto_fit:
            self.fit()
        super().resizeEvent(event)

    def clear_box(self) -> None:
        self.box_rows = np.zeros(0, np.int64)
        self.box_selected.emit([])
        self.update()

    def _set_hover(self, row: int, pos: QPointF) -> None:
        if row != self.hover_row or row >= 0:
            changed = row != self.hover_row
            self.hover_row = row
            self.hovered.emit(row, pos)
            if changed:
                self.update()
