"""The map's canvas for 3D layouts too: points seen from an angle the user turns (the Embedding Projector's 3D).

:class:`OrbitCanvas` is a :class:`~app.views.map_canvas.MapCanvas`; given a flat map it is
exactly that. Given a 3D map (``MapPoints.xyz``, from a ``Projection(dims=3)``) it scales
the points into the unit ball around their centroid, turns them by a yaw (about the
vertical axis) and a pitch (about the horizontal one), and hands the plane it sees to
:meth:`MapPoints.set_xy <app.models.map_points.MapPoints.set_xy>` as the map's 2D
coordinates. Everything the flat map does — colours, markers, hover cards, click to select,
double-click or Enter to query, box and lasso selection (of what is seen), search rings,
the query's lines to its hits, arrow keys between points — then works on what is on
screen. Far points are painted first and fainter, and a small axis cross in the corner
shows the angle. It is orthographic and painted with QPainter (no OpenGL), so it runs
headless, as the tests do.

Mouse: drag turns the view, right- or middle-drag pans, wheel zooms, Shift+drag box,
Ctrl+drag lasso. Keyboard: Shift+arrow keys turn it by 15 degrees, R goes back to the
first angle, and the flat map's keys (arrows, Enter, +/-, 0) work as there.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from ..models.map_points import MapPoints
from .map_canvas import ARROWS, DRAG_PX, MapCanvas

HOME = (30.0, -20.0)
"""The first angle: yaw, pitch in degrees (a little from the side and above, so depth shows)."""
KEY_STEP = 15.0
"""Degrees per Shift+arrow key press."""
DRAG_DEG_PER_PX = 0.5
FAR_OPACITY = 0.45
"""Opacity factor of the farthest points (the nearest get 1)."""
TIP_3D = ("Each point is an INR, in a 3D layout. Drag: turn · right-drag: pan · wheel or +/-: zoom · click: select · "
          "double-click or Enter: query · Shift+drag: select a box · Ctrl+drag: lasso · arrow keys: move between "
          "points · Shift+arrow keys: turn · R: first angle · 0: fit")


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """``(3, 3)`` rotation that turns by ``yaw`` degrees about y, then ``pitch`` degrees about x.

    Rows are the screen's x (right), y (up) and depth (towards the viewer) in map axes.

    Example:
        >>> np.round(rotation(90, 0) @ [1.0, 0, 0], 6).tolist()  # x turned a quarter about y: into the screen
        [0.0, 0.0, -1.0]
    """
    a, b = np.radians(yaw), np.radians(pitch)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return rx @ ry


class OrbitCanvas(MapCanvas):
    """A map canvas that also shows 3D maps, turned with the mouse or the keyboard (see the module doc)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.flat_tip = self.toolTip()
        self.yaw, self.pitch = HOME
        self.point_depth = np.zeros(0)
        """``(N,)`` depth of each point towards the viewer, in [-1, 1] (3D only)."""
        self._unit = np.zeros((0, 3))
        self._press_angles = HOME

    @property
    def is_3d(self) -> bool:
        return self.points.xyz is not None

    def set_points(self, points: MapPoints) -> None:
        """Show ``points``; a 3D map keeps the angle it was seen from (a new projection of the same store)."""
        if points.xyz is not None and len(points):
            centred = points.xyz - points.xyz.mean(0)
            radius = float(np.linalg.norm(centred, axis=1).max())
            self._unit = centred / (radius if radius > 0 else 1.0)
        else:
            self._unit = np.zeros((len(points), 3))
        self.points = points
        if points.xyz is not None:
            self._project()
        self.setToolTip(TIP_3D if points.xyz is not None else self.flat_tip)
        self.setAccessibleName("3D map of the store's embeddings" if points.xyz is not None
                               else "Map of the store's embeddings")
        super().set_points(points)

    def orbit_to(self, yaw: float, pitch: float) -> None:
        """Look from ``yaw``, ``pitch`` degrees (pitch kept within +-89: the view never turns upside down)."""
        self.yaw, self.pitch = float(yaw) % 360.0, float(np.clip(pitch, -89.0, 89.0))
        if self.is_3d:
            self._project()
            self.update()

    def orbit_by(self, d_yaw: float, d_pitch: float) -> None:
        self.orbit_to(self.yaw + d_yaw, self.pitch + d_pitch)

    def angles(self) -> tuple[float, float]:
        return self.yaw, self.pitch

    def _project(self) -> None:
        turned = self._unit @ rotation(self.yaw, self.pitch).T
        self.point_depth = turned[:, 2]
        self.points.set_xy(turned[:, :2])
        if self.hover_row >= 0:
            self._set_hover(-1, QPointF())  # the card would point at where the point was

    # --- view ----------------------------------------------------------------------------
    def fit(self) -> None:
        """Flat: as the map. 3D: the unit ball fills the view, so turning never pushes a point out."""
        if not self.is_3d:
            super().fit()
            return
        self.center = np.zeros(2)
        self.scale = float(max(min(self.width() - 40, self.height() - 40), 10)) / 2.0
        self._auto_fit = True
        self.update()

    def depth_cue(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if not self.is_3d or len(self.point_depth) != len(self.points):
            return super().depth_cue(rows)
        depth = self.point_depth[rows]
        return np.argsort(depth, kind="stable"), FAR_OPACITY + (1 - FAR_OPACITY) * (depth + 1) / 2

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        if self.is_3d and len(self.points):
            p = QPainter(self)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_axes(p)
            p.end()

    def _paint_axes(self, p: QPainter) -> None:
        """A small cross of the layout's three axes in the bottom-left corner, turned like the points."""
        origin, length = QPointF(30, self.height() - 30), 18.0
        turn = rotation(self.yaw, self.pitch)
        for axis in np.argsort(turn[2]):  # far axes first
            x, y = turn[0, axis] * length, -turn[1, axis] * length
            colour = QColor(("#e5484d", "#5cc26b", "#4e9bea")[axis])
            p.setPen(QPen(colour, 2))
            p.drawLine(origin, origin + QPointF(x, y))
            p.drawText(origin + QPointF(x * 1.35 - 3, y * 1.35 + 4), "123"[axis])

    # --- input ---------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().mousePressEvent(event)
        self._press_angles = (self.yaw, self.pitch)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        turning = (self.is_3d and self._press is not None and event.buttons() == Qt.MouseButton.LeftButton
                   and self._band is None and self._lasso is None)
        if not turning:
            super().mouseMoveEvent(event)
            return
        delta = event.position() - self._press
        self._dragging |= abs(delta.x()) + abs(delta.y()) > DRAG_PX
        if self._dragging:
            self.orbit_to(self._press_angles[0] + delta.x() * DRAG_DEG_PER_PX,
                          self._press_angles[1] + delta.y() * DRAG_DEG_PER_PX)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if self.is_3d and key in ARROWS and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            dx, dy = ARROWS[key]
            self.orbit_by(dx * KEY_STEP, -dy * KEY_STEP)
        elif self.is_3d and key == Qt.Key.Key_R:
            self.orbit_to(*HOME)
        else:
            super().keyPressEvent(event)
