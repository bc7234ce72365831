"""Saved views of the map: what it shows and how, kept per store in ``map-views.json``.

A :class:`SavedView` names a projection, a colouring, a zoom box, an isolated set of
points, the hidden architectures, the query shown and, for a 3D map, the angle it is seen
from; :func:`load_views` / :func:`save_views` keep a store's list in ``map-views.json`` in
its cache folder.

Example:
    >>> view = SavedView("chairs", Projection("pca", dims=3), orbit=(30.0, -20.0))
    >>> SavedView.from_dict(view.to_dict()) == view
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from ..store.atomic import atomic_write_bytes
from .map_layout import Projection

__all__ = ["VIEWS_FILE", "SavedView", "load_views", "save_views"]

VIEWS_FILE = "map-views.json"


@dataclasses.dataclass(frozen=True)
class SavedView:
    """A named map view: what the map shows and how, to come back to later.

    Attributes:
        name: what the user called it.
        projection: the layout.
        colour_by: the record field the points are coloured by (``"category"``, ``"chamfer"``…).
        box: the visible map area ``(x0, y0, x1, y1)`` in map units, or None for "fit everything".
        isolated: ids the map was narrowed to, or None for all.
        hidden_archs: architectures whose points were hidden.
        encoder: which encoder's map (the chooser's text; empty: the first).
        query: the catalog id of the store INR that was the query, or None.
        orbit: a 3D map's view angles ``(yaw, pitch)`` in degrees, or None (2D, or the default angle).
    """

    name: str
    projection: Projection = Projection()
    colour_by: str = "category"
    box: tuple[float, float, float, float] | None = None
    isolated: tuple[int, ...] | None = None
    hidden_archs: tuple[str, ...] = ()
    encoder: str = ""
    query: int | None = None
    orbit: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "projection": self.projection.to_dict(), "colour_by": self.colour_by,
                "box": None if self.box is None else list(self.box),
                "isolated": None if self.isolated is None else list(self.isolated),
                "hidden_archs": list(self.hidden_archs), "encoder": self.encoder, "query": self.query,
                "orbit": None if self.orbit is None else list(self.orbit)}

    @classmethod
    def from_dict(cls, data: dict) -> SavedView:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` / ``TypeError`` / ``KeyError`` when malformed."""
        box = data.get("box")
        if box is not None:
            box = tuple(float(v) for v in box)
            if len(box) != 4 or not all(math.isfinite(v) for v in box):
                raise ValueError(f"a view's box is four finite numbers, not {data.get('box')!r}")
        isolated, query, orbit = data.get("isolated"), data.get("query"), data.get("orbit")
        if orbit is not None:
            orbit = tuple(float(v) for v in orbit)
            if len(orbit) != 2 or not all(math.isfinite(v) for v in orbit):
                raise ValueError(f"a view's orbit is two finite angles, not {data.get('orbit')!r}")
        return cls(name=str(data["name"]), projection=Projection.from_dict(data.get("projection") or {}),
                   colour_by=str(data.get("colour_by", "category")), box=box,
                   isolated=None if isolated is None else tuple(int(i) for i in isolated),
                   hidden_archs=tuple(str(a) for a in data.get("hidden_archs", ())),
                   encoder=str(data.get("encoder", "")), query=None if query is None else int(query),
                   orbit=orbit)


def load_views(folder: Path) -> list[SavedView]:
    """The saved views in ``folder / map-views.json``; a missing or damaged file (or entry) is skipped, not an error."""
    try:
        data = json.loads((Path(folder) / VIEWS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    views = []
    for entry in data.get("views", []) if isinstance(data, dict) else []:
        try:
            views.append(SavedView.from_dict(entry))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return views


def save_views(folder: Path, views: list[SavedView]) -> None:
    """Writes ``views`` to ``folder / map-views.json`` (atomically: a crash leaves the old list or the new)."""
    text = json.dumps({"version": 1, "views": [v.to_dict() for v in views]}, indent=1)
    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(Path(folder) / VIEWS_FILE, text.encode("utf-8"))
