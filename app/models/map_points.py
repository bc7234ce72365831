"""The map's model: points with labels, colours, visibility, and fast spatial look-ups.

:class:`MapPoints` holds plain numpy arrays aligned row by row (ids, coordinates, a
colour code, a marker code per implicit function, an architecture code) and answers the
questions the map asks on every mouse move or drag: which visible point is nearest to
here (a KD tree over the visible points), which visible points lie in this box or this
lasso (vectorised), which match a search. Points are coloured by any record field
(:data:`COLOUR_FIELDS`): a categorical field gets :data:`PALETTE` colours, a continuous
one (fit quality) a colour ramp, :data:`RAMP`. A point is visible when its architecture
is shown and, while the map is isolated to a set of points, it is one of them. No Qt
here, so it is tested on its own.

Example:
    >>> from types import SimpleNamespace as R
    >>> recs = {i: R(category="mug", function="sdf", arch="hash") for i in (7, 8)}
    >>> pts = MapPoints(np.array([7, 8]), np.array([[0.0, 0.0], [1.0, 0.0]]), recs)
    >>> pts.nearest(0.9, 0.1, radius=0.5), pts.in_box(-1, -1, 0.5, 1).tolist()
    (1, [0])
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

PALETTE = ("#4e9bea", "#f28e2b", "#5cc26b", "#e5484d", "#b48ae0", "#edc948", "#4fd1c5", "#ff9da7",
           "#c49a6c", "#a3acb9", "#2f6fd0", "#ff6f00", "#1f9e57", "#b71c5c", "#7e57c2", "#c0ca33",
           "#0097a7", "#f06292", "#8d6e63", "#ffffff")
"""Qualitative colours, legible on the dark theme; categories past 20 reuse them in order."""

RAMP = ("#414487", "#3b528b", "#33638d", "#2c728e", "#26828e", "#21918c", "#1fa088", "#28ae80", "#3fbc73",
        "#5ec962", "#84d44b", "#addc30", "#d8e219", "#fde725")
"""A viridis ramp (its darkest fifth left out: too dark on the map's background), low to high values."""
NO_VALUE = "#5d6573"
"""Colour of points whose record has no value for a continuous field (e.g. no fit quality measured)."""
COLOURS = PALETTE + RAMP + (NO_VALUE,)
"""Every colour a point can have; ``MapPoints.colour`` indexes this."""
RAMP_START = len(PALETTE)
NO_VALUE_CODE = len(COLOURS) - 1
COLOUR_FIELDS = {"category": "Category", "function": "Function", "arch": "Architecture", "split": "Split",
                 "chamfer": "Fit quality (Chamfer)", "iou": "Fit quality (IoU)"}
"""Record field -> name; :data:`CONTINUOUS` fields get the ramp, the others one colour per value."""
CONTINUOUS = {"chamfer": "lower is better", "iou": "higher is better"}

MARKERS = ("circle", "square", "triangle")
FUNCTION_MARKER = {"sdf": 0, "udf": 1, "occ": 2}
"""Marker code per implicit function: circle SDF, square UDF, triangle Occ."""


class MapPoints:
    """Points of the map, one per record, in the order given.

    Args:
        ids: ``(N,)`` INR ids.
        xy: ``(N, 2)`` map coordinates, or ``(N, 3)`` for a 3D map (then ``xy`` starts as the first two
            columns and a 3D view replaces it with what it shows from its angle, :meth:`set_xy`).
        records: ``id -> record`` (anything with ``category``, ``function``, ``arch``);
            ids without a record are left out.

    Attributes:
        ids, xy: the kept points, ``(N,)`` int64 and ``(N, 2)`` float64 (on screen: map units).
        xyz: a 3D map's ``(N, 3)`` float64 coordinates of the kept points; None for a 2D map.
        records: records aligned with ``ids``.
        categories, archs: sorted distinct labels; ``category_code``, ``arch_code`` index them.
        colour: ``(N,)`` index into :data:`COLOURS` (see :meth:`set_colour_by`; by category at first).
        colour_by: the field the colours show.
        legend: categorical colouring: ``(value, colour index, count)`` per value; continuous: empty.
        value_range: continuous colouring: ``(lo, hi)`` the ramp spans (higher values clip to hi); else None.
        marker: ``(N,)`` marker code (:data:`FUNCTION_MARKER`, unknown functions get a circle).
        visible: ``(N,)`` bool, False for points of hidden architectures or outside the isolated set.
    """

    def __init__(self, ids, xy, records: dict):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        xy = np.asarray(xy, dtype=np.float64)
        xy = xy.reshape(-1, 3 if xy.ndim == 2 and xy.shape[1] == 3 else 2)
        if len(ids) != len(xy):
            raise ValueError(f"{len(ids)} ids for {len(xy)} coordinates")
        keep = np.array([int(i) in records for i in ids], dtype=bool) if len(ids) else np.zeros(0, bool)
        keep &= np.isfinite(xy).all(1)
        self.ids = ids[keep]
        self.xyz = xy[keep] if xy.shape[1] == 3 else None
        self.xy = xy[keep][:, :2].copy()
        self.records = [records[int(i)] for i in self.ids]
        self.row_of = {int(i): row for row, i in enumerate(self.ids)}
        self.categories = sorted({r.category for r in self.records})
        self.archs = sorted({r.arch for r in self.records})
        cat_index = {c: k for k, c in enumerate(self.categories)}
        arch_index = {a: k for k, a in enumerate(self.archs)}
        self.category_code = np.array([cat_index[r.category] for r in self.records], dtype=np.int64)
        self.marker = np.array([FUNCTION_MARKER.get(r.function, 0) for r in self.records], dtype=np.int64)
        self.arch_code = np.array([arch_index[r.arch] for r in self.records], dtype=np.int64)
        self.visible = np.ones(len(self.ids), dtype=bool)
        self._hidden_archs: set[str] = set()
        self._isolated: np.ndarray | None = None
        self._haystack = [f"{getattr(r, 'name', '')}\n{r.category}\n{getattr(r, 'shape_id', '')}".lower()
                          for r in self.records]
        self.set_colour_by("category")
        self._rebuild()

    def __len__(self) -> int:
        return len(self.ids)

    # --- colours -------------------------------------------------------------------------
    def set_colour_by(self, field: str) -> None:
        """Colour by a record field of :data:`COLOUR_FIELDS` (``legend`` / ``value_range`` follow).

        Continuous fields span the ramp from the smallest value to the largest, or to the
        95th percentile when the largest is more than three times that (one bad fit would
        otherwise paint every other point the same colour); records without a value get
        :data:`NO_VALUE`.
        """
        if field not in COLOUR_FIELDS:
            raise ValueError(f"cannot colour by {field!r}; use one of {', '.join(COLOUR_FIELDS)}")
        self.colour_by = field
        values = [getattr(r, field, None) for r in self.records]
        if field in CONTINUOUS:
            v = np.array([np.nan if x is None else float(x) for x in values], dtype=np.float64)
            known = v[np.isfinite(v)]
            self.legend = []
            if len(known) == 0:
                self.value_range = None
                self.colour = np.full(len(v), NO_VALUE_CODE, np.int64)
                return
            lo, hi = float(known.min()), float(known.max())
            p95 = float(np.percentile(known, 95))
            if hi > 3 * p95 > lo:
                hi = p95
            self.value_range = (lo, hi)
            t = np.clip((v - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
            bins = np.round(np.nan_to_num(t) * (len(RAMP) - 1)).astype(np.int64)
            self.colour = np.where(np.isfinite(v), RAMP_START + bins, NO_VALUE_CODE)
            return
        names = ["" if x is None else str(x) for x in values]
        distinct = sorted(set(names))
        code = {name: k for k, name in enumerate(distinct)}
        codes = np.array([code[n] for n in names], dtype=np.int64)
        counts = np.bincount(codes, minlength=len(distinct)) if len(codes) else np.zeros(len(distinct), np.int64)
        self.value_range = None
        self.colour = codes % len(PALETTE)
        self.legend = [(name, k % len(PALETTE), int(counts[k])) for k, name in enumerate(distinct)]

    def values(self, field: str) -> np.ndarray:
        """``(N,)`` float values of a continuous field (NaN where a record has none)."""
        return np.array([np.nan if getattr(r, field, None) is None else float(getattr(r, field))
                         for r in self.records], dtype=np.float64)

    # --- visibility ----------------------------------------------------------------------
    def set_arch_visible(self, arch: str, visible: bool) -> None:
        """Show or hide every point of one architecture."""
        (self._hidden_archs.discard if visible else self._hidden_archs.add)(arch)
        self._update_visible()

    def hidden_archs(self) -> set[str]:
        return set(self._hidden_archs)

    def isolate(self, rows) -> None:
        """Show only these rows (the map's "Isolate"); ``None`` shows every row again."""
        if rows is None:
            self._isolated = None
        else:
            self._isolated = np.zeros(len(self.ids), dtype=bool)
            self._isolated[np.asarray(rows, dtype=np.int64)] = True
        self._update_visible()

    def isolated_rows(self) -> np.ndarray | None:
        """Rows of the isolated set, or None when the map is not isolated."""
        return None if self._isolated is None else np.flatnonzero(self._isolated)

    def _update_visible(self) -> None:
        hidden = [self.archs.index(a) for a in self._hidden_archs if a in self.archs]
        self.visible = ~np.isin(self.arch_code, hidden)
        if self._isolated is not None:
            self.visible &= self._isolated
        self._rebuild()

    def set_xy(self, xy: np.ndarray) -> None:
        """New ``(N, 2)`` screen-plane coordinates (a 3D map seen from another angle); look-ups follow."""
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape != self.xy.shape:
            raise ValueError(f"{xy.shape} coordinates for {self.xy.shape} points")
        self.xy = xy
        self._rebuild()

    def visible_rows(self) -> np.ndarray:
        return self._visible_rows

    def _rebuild(self) -> None:
        self._visible_rows = np.flatnonzero(self.visible)
        self._tree = cKDTree(self.xy[self._visible_rows]) if len(self._visible_rows) else None

    # --- look-ups ------------------------------------------------------------------------
    def nearest(self, x: float, y: float, radius: float) -> int:
        """Row of the visible point nearest ``(x, y)`` within ``radius`` (map units), or -1."""
        if self._tree is None:
            return -1
        dist, k = self._tree.query((x, y), k=1, distance_upper_bound=radius)
        return int(self._visible_rows[k]) if np.isfinite(dist) else -1

    def step(self, row: int, dx: float, dy: float) -> int:
        """The visible point an arrow key moves to from ``row``: nearest in direction ``(dx, dy)``, or -1.

        Points within 60 degrees of the direction count, scored by distance along it plus
        twice the distance across it (so the next point in line wins over a nearer one off to
        the side). From ``row < 0`` (nothing selected yet) it is -1: start with :meth:`nearest`.

        Example:
            >>> from types import SimpleNamespace as R
            >>> recs = {i: R(category="c", function="sdf", arch="hash") for i in range(4)}
            >>> pts = MapPoints(np.arange(4), np.array([[0.0, 0.0], [1.0, 0.1], [0.3, 1.0], [-2.0, 0.0]]), recs)
            >>> pts.step(0, 1, 0), pts.step(0, 0, 1), pts.step(0, -1, 0), pts.step(0, 0, -1)
            (1, 2, 3, -1)
        """
        if row < 0 or len(self._visible_rows) == 0:
            return -1
        u = np.array([dx, dy], dtype=np.float64)
        u /= max(float(np.linalg.norm(u)), 1e-12)
        rows = self._visible_rows[self._visible_rows != row]
        d = self.xy[rows] - self.xy[row]
        along = d @ u
        across = np.abs(d[:, 0] * u[1] - d[:, 1] * u[0])
        ok = (along > 1e-12) & (across <= along * np.sqrt(3.0))
        if not ok.any():
            return -1
        score = np.where(ok, along + 2.0 * across, np.inf)
        return int(rows[int(np.argmin(score))])

    def count_near(self, row: int, radius: float) -> int:
        """How many other visible points lie within ``radius`` of ``row`` (points drawn on top of it)."""
        if self._tree is None:
            return 0
        return max(0, len(self._tree.query_ball_point(self.xy[row], radius)) - int(self.visible[row]))

    def in_box(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Rows of visible points inside the box (corners in any order), ascending."""
        (xa, xb), (ya, yb) = sorted((x0, x1)), sorted((y0, y1))
        x, y = self.xy[:, 0], self.xy[:, 1]
        return np.flatnonzero(self.visible & (x >= xa) & (x <= xb) & (y >= ya) & (y <= yb))

    def in_polygon(self, polygon) -> np.ndarray:
        """Rows of visible points inside a closed ``(M, 2)`` polygon (a lasso; even-odd rule), ascending.

        Example:
            >>> from types import SimpleNamespace as R
            >>> recs = {i: R(category="c", function="sdf", arch="hash") for i in range(3)}
            >>> pts = MapPoints(np.arange(3), np.array([[0.2, 0.2], [0.9, 0.9], [2.0, 0.5]]), recs)
            >>> pts.in_polygon([[0, 0], [1, 0], [0, 1]]).tolist()  # the triangle below x + y = 1
            [0]
        """
        poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if len(poly) < 3:
            return np.zeros(0, np.int64)
        x, y = self.xy[:, 0:1], self.xy[:, 1:2]
        (x0, y0), (x1, y1) = poly.T[:, None, :], np.roll(poly, -1, axis=0).T[:, None, :]
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside = (crosses & (x < at)).sum(axis=1) % 2 == 1
        return np.flatnonzero(self.visible & inside)

    def matching(self, text: str) -> np.ndarray | None:
        """Rows whose name, category or shape id contain every word of ``text`` (as the gallery's search);
        None for an empty search (nothing to highlight)."""
        words = text.lower().split()
        if not words:
            return None
        return np.array([row for row, hay in enumerate(self._haystack) if all(w in hay for w in words)], np.int64)

    def rows(self, ids) -> np.ndarray:
        """Rows of the given ids that are on the map (unknown ids are skipped)."""
        return np.array([self.row_of[int(i)] for i in ids if int(i) in self.row_of], dtype=np.int64)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of the visible points (of all points when none is visible); unit box when empty."""
        pts = self.xy[self._visible_rows] if len(self._visible_rows) else self.xy
        if len(pts) == 0:
            return np.array([-1.0, -1.0]), np.array([1.0, 1.0])
        return pts.min(0), pts.max(0)
