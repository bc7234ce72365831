"""Render jobs of one shape's INRs: cutaways, field slices and meshes, streamed as they are made.

Each job is a generator (STYLE.md, item 10) whose progress records carry the results:
one :class:`PanelImage` or :class:`MeshData` (a :class:`~inret_engine.progress.Progress`
counting pictures or meshes) as soon as each is ready. The browser's cutaway panel and 3D
view run them in a worker and turn the arrays into ``QImage`` / VTK objects on the GUI thread. The jobs only read
INR files (no SQLite): the catalog look-ups happen on the GUI thread before they start.

* :func:`siblings` picks a shape's SDF, UDF and Occ INRs, preferring one architecture.
* :func:`cutaway_job` yields field slices (fast) and then cut-open renders per function.
* :func:`mesh_job` yields one marching-cubes mesh per INR.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from typing import Protocol

import numpy as np

from ..errors import is_user_error
from ..progress import Progress

_log = logging.getLogger(__name__)

FUNCTIONS = ("sdf", "udf", "occ")


def siblings(store, record) -> dict[str, object]:
    """The INRs of ``record``'s shape, one per implicit function (``function -> record``).

    Where a shape has several INRs of one function (several architectures), the one of
    ``record``'s own config wins, then its architecture, then the first in the catalog.
    ``record`` itself always stands for its own function.
    """
    found: dict[str, object] = {}
    rank: dict[str, tuple[bool, bool, bool]] = {}
    for other in store.records(shape_id=record.shape_id):
        score = (other.id == record.id, other.config_id == record.config_id, other.arch == record.arch)
        if other.function not in found or score > rank[other.function]:
            found[other.function], rank[other.function] = other, score
    found[record.function] = record
    return {f: found[f] for f in FUNCTIONS if f in found}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PanelImage(Progress):
    """One picture for a panel column; ``done`` of ``total`` pictures of its job are out.

    Attributes:
        generation: which request of the panel it answers (older ones are dropped).
        function: ``"sdf"``, ``"udf"`` or ``"occ"``.
        kind: ``"slice"``, ``"render"`` or ``"error"``.
        rgb: ``(H, W, 3)`` uint8, or ``(H, W, 4)`` for the 3D view's slice (``None`` for an error).
        ms: time it took.
        message: the error, for ``kind == "error"``.
    """

    generation: int = 0
    function: str = ""
    kind: str = "slice"
    rgb: np.ndarray | None = None
    ms: float = 0.0


def cut_camera(axis: str):
    """A view from the removed side of a cut along ``axis``, so the cut face shows."""
    from .camera import Camera

    return {"x": Camera(azimuth=62.0, elevation=22.0), "y": Camera(azimuth=30.0, elevation=55.0),
            "z": Camera(azimuth=28.0, elevation=22.0)}[axis]


def _key(record):
    """Cache key: the catalog id, or the object itself for a query that is not in the store."""
    return record.id if getattr(record, "id", None) is not None else ("query", id(record))


def _baked(store, record, cache: dict, resolution: int):
    from .bake import bake

    key = _key(record)
    if key not in cache:
        inr = store.load(record)
        cache[key] = bake(inr.to_field(), inr.function, resolution)
    return cache[key]


def cutaway_job(store, records: dict, axis: str, offset: float, *, generation: int = 0, size: int = 256,
                resolution: int = 97, cache: dict | None = None) -> Iterator[PanelImage]:
    """Slices, then cut-open renders, of each INR in ``records`` (``function -> record``).

    Args:
        store: the store the records belong to (only its files are read), or anything with
            ``load(record) -> ShapeINR`` (a query that is not in the store).
        records: the INRs to show, e.g. from :func:`siblings`.
        axis, offset: the cut ``axis > offset`` is removed; the slice lies on that plane.
        generation: copied into every :class:`PanelImage`.
        size: image edge in pixels.
        resolution: lattice nodes per axis for baking.
        cache: ``record id -> BakedField``, filled here and reused by later calls.

    Renders use :meth:`Style.on_dark` (a dark neutral background, for the dark browser).

    Yields:
        A ``"slice"`` per function first (milliseconds each), then a ``"render"`` per
        function; an ``"error"`` instead for an INR that cannot be loaded or drawn.
    """
    from .image import Plane, render_inr
    from .shading import Style
    from .slices import field_slice, slice_image

    cache = {} if cache is None else cache
    failed: set[str] = set()
    total, done = 2 * len(records), 0  # a slice and a render each; an INR that fails counts as both

    def picture(function: str, kind: str, start: float, rgb=None, message: str = "") -> PanelImage:
        nonlocal done
        done += 2 if kind == "error" and function not in failed else 1
        return PanelImage("cutaway", done, total, message, generation=generation, function=function, kind=kind,
                          rgb=rgb, ms=(time.perf_counter() - start) * 1000)

    for function, record in records.items():
        start = time.perf_counter()
        try:
            baked = _baked(store, record, cache, resolution)
            rgb = slice_image(field_slice(baked, None, axis, offset, size), function)
        except Exception as exc:  # noqa: BLE001 - one bad INR must not hide the others
            yield picture(function, "error", start, message=_first_line(exc))
            failed.add(function)
            continue
        yield picture(function, "slice", start, rgb)
    for function, record in records.items():
        if function in failed:
            continue
        start = time.perf_counter()
        try:
            rgb = render_inr(cache[_key(record)], camera=cut_camera(axis), width=size, height=size,
                             cutaway=Plane.axis(axis, offset), style=Style.on_dark())
        except Exception as exc:  # noqa: BLE001
            failed.add(function)  # its slice is out: this error stands for the render only
            yield picture(function, "error", start, message=_first_line(exc))
            continue
        yield picture(function, "render", start, rgb)


class Labelled(Protocol):
    """What a mesh is drawn and captioned for: a catalog row or a query subject."""

    name: str
    function: str
    arch: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeshData(Progress):
    """A triangle mesh of one INR (``vertices (V, 3)`` float32 in ``[-1, 1]^3``, ``faces (F, 3)`` int64),
    the ``done``-th of ``total``; without arrays and with ``message`` set when it could not be made."""

    generation: int = 0
    slot: int = 0
    record: Labelled | None = None
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    ms: float = 0.0


def mesh_job(store, records: list, *, generation: int = 0, resolution: int = 97) -> Iterator[MeshData]:
    """Marching-cubes meshes of ``records``, in order (``slot`` = position in the list).

    SDF / Occ: the closed zero level set. UDF: the thin double sheet at half a voxel
    (:func:`~.export.inr_to_mesh`). A record that cannot be meshed
    yields a :class:`MeshData` without arrays and with ``message`` set.
    """
    from .export import inr_to_mesh

    for slot, record in enumerate(records):
        start = time.perf_counter()
        step = {"generation": generation, "slot": slot, "record": record}
        try:
            mesh = inr_to_mesh(store.load(record), resolution=resolution)
        except Exception as exc:  # noqa: BLE001
            yield MeshData("meshing", slot + 1, len(records), _first_line(exc), **step)
            continue
        yield MeshData("meshing", slot + 1, len(records), **step, vertices=np.asarray(mesh.vertices, np.float32),
                       faces=np.asarray(mesh.faces, np.int64), ms=(time.perf_counter() - start) * 1000)


def _first_line(exc: Exception) -> str:
    """What a panel shows for an INR it could not draw; a bug (not an :class:`InretError` or
    ``OSError``) is named as one and its traceback logged, while the other INRs are drawn."""
    text = str(exc).strip().split("\n")[0] or type(exc).__name__
    if is_user_error(exc):
        return text
    _log.error("drawing an INR failed", exc_info=exc)
    return f"bug: {type(exc).__name__}: {text}"


SLICE_OUTSIDE_ALPHA = 120
"""Opacity (of 255) of the 3D view's slice plane outside the shape."""
UDF_SOLID = 0.01
"""A UDF slice is opaque within twice this distance of the surface (it has no inside)."""


def slice_job(store, record, axis: str, offset: float, *, generation: int = 0, size: int = 128,
              cache: dict | None = None) -> Iterator[PanelImage]:
    """The coloured field slice of one INR on the plane ``axis = offset``, for the 3D view's slice plane.

    Colours as in the cutaways (:func:`~inret_engine.render.slices.slice_image`, the INR's own
    function), as ``(R, R, 4)`` RGBA: opaque on and inside the surface, see-through outside
    (:data:`SLICE_OUTSIDE_ALPHA`), so the shape behind the plane still shows. The layout is
    :func:`~inret_engine.render.slices.slice_points`'. ``cache`` (``record id -> ShapeINR``)
    keeps the loaded INR for the next offset.
    """
    from .slices import contour_mask, field_slice, slice_image

    cache = {} if cache is None else cache
    start = time.perf_counter()
    try:
        key = _key(record)
        if key not in cache:
            cache.clear()  # one INR at a time: the slider moves through one shape
            cache[key] = store.load(record)
        inr = cache[key]
        values = field_slice(inr, None, axis, offset, size)
        solid = contour_mask(values, inr.function) | (values < 0 if inr.function.is_signed else False)
        if inr.function.value == "udf":
            solid = solid | (values < 2 * UDF_SOLID)
        alpha = np.where(solid, 255, SLICE_OUTSIDE_ALPHA).astype(np.uint8)
        rgb = np.concatenate([slice_image(values, inr.function), alpha[..., None]], axis=-1)
    except Exception as exc:  # noqa: BLE001 - shown in the view, the app carries on
        yield PanelImage("slice", 1, 1, _first_line(exc), generation=generation,
                         function=getattr(record, "function", "?"), kind="error")
        return
    yield PanelImage("slice", 1, 1, generation=generation, function=inr.function.value, kind="slice", rgb=rgb,
                     ms=(time.perf_counter() - start) * 1000)
