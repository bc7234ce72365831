"""Read meshes and point clouds from disk and normalise them into the INR domain.

Meshes go through trimesh (scenes are flattened with their transforms); point
clouds come from PLY files without faces, whitespace text (``.xyz``, ``.pts``)
and ``.npy`` arrays. Everything is float64 and validated: a file that cannot be
used raises :class:`ShapeLoadError` naming the file and the reason.

Shapes are placed y-up. A file whose dataset says it is z-up (see
:mod:`~inret_engine.data.datasets`: psb_shrec12's SHREC'12 files) is turned upright by
:func:`turn_upright`, ``(x, y, z) -> (x, z, -y)``; the turn is part of the recorded
normalisation, so a shape read again from its file lands where it did.

Example:
    >>> geom = load_normalized("chair.obj", align=True)          # doctest: +SKIP
    >>> geom.vertices.min(), geom.vertices.max()                  # doctest: +SKIP
    (-0.9, 0.9)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .geometry import BOUND, Normalization, ShapeGeometry, ShapeLoadError, face_areas, principal_axes

MESH_SUFFIXES = (".obj", ".off", ".ply", ".stl", ".glb", ".gltf")
POINT_SUFFIXES = (".ply", ".xyz", ".npy", ".pts")
SHAPE_SUFFIXES = tuple(dict.fromkeys(MESH_SUFFIXES + POINT_SUFFIXES))
"""Every suffix :func:`load_shape` accepts, meshes first."""
UP_AXES = ("y", "z")
"""The up-axes a file can be declared to have; ``y`` is the INR domain's up."""
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""The turn ``(x, y, z) -> (x, z, -y)``: a proper rotation (det +1), so a z-up shape stands y-up and keeps its
handedness (a right-handed chair does not become a left-handed one)."""


def load_shape(path: str | os.PathLike[str]) -> ShapeGeometry:
    """Load a mesh or point cloud in raw file coordinates.

    A PLY with faces is a mesh; without faces it is a point cloud. A mesh file
    that holds vertices but no faces is returned as a point cloud too.
    Unreferenced vertices, faces with repeated indices and zero-area faces are
    dropped from meshes.

    Args:
        path: File with one of :data:`SHAPE_SUFFIXES`.

    Returns:
        Geometry with (V, 3) float64 vertices, (F, 3) int64 faces or ``None``,
        and the identity normalization.

    Raises:
        ShapeLoadError: Missing file, unknown suffix, parse failure, no
            geometry, non-finite coordinates, fewer than 4 distinct points, zero
            extent, or a mesh whose total face area is 0.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SHAPE_SUFFIXES:
        raise ShapeLoadError(f"{path}: unknown suffix {path.suffix!r}; expected one of {', '.join(SHAPE_SUFFIXES)}")
    if not path.is_file():
        raise ShapeLoadError(f"{path}: no such file")
    if suffix in (".xyz", ".pts"):
        vertices, faces = _read_text_points(path), None
    elif suffix == ".npy":
        vertices, faces = _read_npy_points(path), None
    else:
        vertices, faces = _read_trimesh(path)
    return _validated(path, vertices, faces)


def normalize(geom: ShapeGeometry, *, align: bool = False) -> ShapeGeometry:
    """Centre the bounding box at 0 and scale the longest side to ``2 * BOUND``.

    With ``align`` the shape is first rotated onto its principal axes (see
    :func:`~inret_engine.data.geometry.principal_axes`), then bbox-centred and
    scaled. All arithmetic is float64 so raw coordinates near 1e8 keep their
    precision. The returned ``normalization`` composes ``geom.normalization``
    with this step, so it maps the raw file coordinates to the new vertices.

    Args:
        geom: Mesh or cloud with a non-zero extent.
        align: Rotate onto principal axes first.

    Returns:
        New geometry (faces shared, vertices (V, 3) float64) inside
        ``[-BOUND, BOUND]^3``.
    """
    v = np.asarray(geom.vertices, dtype=np.float64)
    rotation = principal_axes(geom) if align else np.eye(3)
    lo, hi = v.min(axis=0), v.max(axis=0)
    mid = 0.5 * (lo + hi)
    rotated = (v - mid) @ rotation.T  # centring first keeps huge coordinates exact
    rlo, rhi = rotated.min(axis=0), rotated.max(axis=0)
    extent = float(np.max(rhi - rlo))
    if not extent > 0:
        raise ShapeLoadError("cannot normalise a shape with zero extent")
    center = mid + (0.5 * (rlo + rhi)) @ rotation
    step = Normalization.from_arrays(center, 2.0 * BOUND / extent, rotation)
    out = step.apply(v)
    return ShapeGeometry(vertices=out, faces=geom.faces, normalization=geom.normalization.then(step))


def turn_upright(geom: ShapeGeometry, up_axis: str = "y") -> ShapeGeometry:
    """``geom`` turned so that its ``up_axis`` becomes y (the turn recorded in its normalisation).

    Args:
        geom: Mesh or cloud in any coordinates.
        up_axis: ``"y"`` (nothing to do) or ``"z"`` (turned by :data:`Z_UP_TO_Y_UP`).

    Example:
        >>> raw = ShapeGeometry(np.array([[0.0, 0, 0], [0, 0, 2.0]]), None, Normalization.identity())
        >>> turn_upright(raw, "z").vertices.tolist()  # the z-up pole now points along +y
        [[0.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """
    if up_axis not in UP_AXES:
        raise ShapeLoadError(f"unknown up-axis {up_axis!r}; expected one of {', '.join(UP_AXES)}")
    if up_axis == "y":
        return geom
    turn = Normalization.from_arrays(np.zeros(3), 1.0, Z_UP_TO_Y_UP)
    return ShapeGeometry(turn.apply(geom.vertices), geom.faces, geom.normalization.then(turn))


def load_upright(path: str | os.PathLike[str], up_axis: str = "y") -> ShapeGeometry:
    """:func:`load_shape` then :func:`turn_upright` (raw scale and position, y-up)."""
    return turn_upright(load_shape(path), up_axis)


def load_normalized(path: str | os.PathLike[str], *, align: bool = False, up_axis: str = "y") -> ShapeGeometry:
    """:func:`load_upright` then :func:`normalize`."""
    return normalize(load_upright(path, up_axis), align=align)


def _read_trimesh(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Vertices (V, 3) and faces (F, 3) or ``None`` from any trimesh-readable file."""
    import trimesh

    try:
        loaded = trimesh.load(str(path), process=False)
    except Exception as exc:  # trimesh raises many types on bad input
        raise ShapeLoadError(f"{path}: cannot parse: {type(exc).__name__}: {exc}") from None
    parts = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
    meshes = [p for p in parts if isinstance(p, trimesh.Trimesh) and len(p.faces)]
    if meshes:
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
        vertices = np.concatenate([np.asarray(m.vertices, dtype=np.float64) for m in meshes])
        faces = np.concatenate([np.asarray(m.faces, dtype=np.int64) + o for m, o in zip(meshes, offsets)])
        return vertices, faces
    points = [np.asarray(p.vertices, dtype=np.float64).reshape(-1, 3) for p in parts
              if isinstance(p, (trimesh.Trimesh, trimesh.PointCloud))]
    points = [p for p in points if len(p)]
    if not points:
        raise ShapeLoadError(f"{path}: no faces and no points (empty or unreadable file)")
    return np.concatenate(points), None


def _read_text_points(path: Path) -> np.ndarray:
    """First three columns of a whitespace text file; lines with < 3 tokens are skipped."""
    rows = []
    try:
        with open(path, encoding="utf-8", errors="strict") as fh:
            for line_no, line in enumerate(fh, 1):
                tokens = line.split("#", 1)[0].replace(",", " ").split()
                if len(tokens) < 3:
                    continue
                try:
                    rows.append([float(t) for t in tokens[:3]])
                except ValueError:
                    raise ShapeLoadError(f"{path}: cannot parse line {line_no}: {line.strip()[:60]!r}") from None
    except UnicodeDecodeError:
        raise ShapeLoadError(f"{path}: cannot parse: not a text file") from None
    if not rows:
        raise ShapeLoadError(f"{path}: no points (no line with three numbers)")
    return np.asarray(rows, dtype=np.float64)


def _read_npy_points(path: Path) -> np.ndarray:
    """An (N, >=3) numeric array; the first three columns are the points."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ShapeLoadError(f"{path}: cannot parse .npy: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] < 3 or not np.issubdtype(arr.dtype, np.number):
        raise ShapeLoadError(f"{path}: expected a numeric (N, 3) array, got {arr.dtype} {arr.shape}")
    return np.asarray(arr[:, :3], dtype=np.float64)


def _validated(path: Path, vertices: np.ndarray, faces: np.ndarray | None) -> ShapeGeometry:
    """Check and clean raw arrays; raise :class:`ShapeLoadError` naming ``path``."""
    vertices = np.ascontiguousarray(vertices, dtype=np.float64).reshape(-1, 3)
    if len(vertices) == 0:
        raise ShapeLoadError(f"{path}: no faces and no points")
    if not np.all(np.isfinite(vertices)):
        bad = int(np.count_nonzero(~np.isfinite(vertices).all(axis=1)))
        raise ShapeLoadError(f"{path}: {bad} vertices have non-finite (NaN/inf) coordinates")
    if faces is not None:
        vertices, faces = _clean_faces(path, vertices, faces)
    if len(np.unique(vertices, axis=0)) < 4:
        raise ShapeLoadError(f"{path}: fewer than 4 distinct points")
    if not np.any(np.ptp(vertices, axis=0) > 0):
        raise ShapeLoadError(f"{path}: degenerate shape with zero extent")
    return ShapeGeometry(vertices=vertices, faces=faces, normalization=Normalization.identity())


def _clean_faces(path: Path, vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop invalid, repeated-index and zero-area faces and unreferenced vertices."""
    faces = np.asarray(faces, dtype=np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ShapeLoadError(f"{path}: faces must be triangles, got shape {faces.shape}")
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ShapeLoadError(f"{path}: face indices out of range for {len(vertices)} vertices")
    distinct = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces = faces[distinct]
    areas = face_areas(vertices, faces)
    faces = faces[np.isfinite(areas) & (areas > 0)]
    if len(faces) == 0:
        raise ShapeLoadError(f"{path}: mesh has zero total face area")
    used, inverse = np.unique(faces, return_inverse=True)
    return vertices[used], inverse.reshape(-1, 3).astype(np.int64)
