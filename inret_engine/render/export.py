"""Writing what the renderer makes: meshes (PLY / OBJ), point clouds (PLY) and PNG images.

:func:`inr_to_mesh` runs marching cubes on a baked lattice (:mod:`.bake`, accurate near
the surface). SDF and Occ meshes are closed at level 0 and face outwards. A UDF never
changes sign, so its mesh is the ``udf = level`` iso-surface (half a voxel by default):
a thin *double* layer, an offset sheet on each side of the true surface. Meshes are in
the INR's ``[-1, 1]^3`` frame. PNGs are written by a small zlib encoder, so the engine
needs no imaging library.

Example:
    >>> mesh = inr_to_mesh(lambda p: p.norm(dim=-1) - 0.5, "sdf", resolution=33)
    >>> mesh.is_watertight
    True
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import trimesh

from ..functions import ImplicitFunction
from ..store.atomic import atomic_write_bytes
from .bake import BakedField, bake
from .surface import mesh_from_lattice

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MESH_TYPES = (".ply", ".obj", ".stl", ".off", ".glb")


def inr_to_mesh(field, function: ImplicitFunction | str | None = None, resolution: int = 129, *,
                udf_level: float | None = None) -> trimesh.Trimesh:
    """Marching-cubes mesh of one INR.

    Args:
        field: ``ShapeINR``, batch-of-one ``Field``, :class:`BakedField` or ``(N, 3) -> (N,)`` callable.
        function: what ``field`` encodes (read from a ``ShapeINR`` / ``BakedField``).
        resolution: lattice nodes per axis (``R - 1`` divisible by 4; ignored for a ``BakedField``).
        udf_level: iso-level for a UDF; default half a voxel.

    Returns:
        ``trimesh.Trimesh`` in ``[-1, 1]^3`` (faces outward for SDF / Occ).

    Raises:
        ValueError: when the field has no surface at that level.
    """
    if hasattr(field, "to_field") and hasattr(field, "function"):
        function, field = field.function, field.to_field()
    if isinstance(field, BakedField):
        baked = field
    else:
        if function is None:
            raise ValueError("say which implicit function the field encodes (sdf, udf or occ)")
        baked = bake(field, function, resolution)
    function = baked.function
    level = 0.0 if function.is_signed else (0.5 * baked.voxel if udf_level is None else udf_level)
    mesh = mesh_from_lattice(baked.values.cpu().numpy(), level)
    if mesh is None:
        raise ValueError(f"the {function.value.upper()} INR has no surface at level {level:g}")
    vertices, faces = mesh
    if function is ImplicitFunction.OCC:  # marching cubes faces point towards higher values
        faces = faces[:, ::-1]
    return trimesh.Trimesh(vertices, np.ascontiguousarray(faces), process=False)


def write_mesh(mesh: trimesh.Trimesh, path: str | Path) -> Path:
    """Write ``mesh`` atomically; the suffix (``.ply``, ``.obj``, ...) picks the format."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_TYPES:
        raise ValueError(f"unsupported mesh format {suffix or path.name!r}; use one of {', '.join(MESH_TYPES)}")
    data = mesh.export(file_type=suffix[1:])
    if isinstance(data, dict):  # trimesh returns a dict only for formats with several files (not ours)
        raise ValueError(f"{suffix} export gave several files")
    atomic_write_bytes(path, data.encode() if isinstance(data, str) else data)
    return path


def write_points_ply(points: np.ndarray, path: str | Path) -> Path:
    """Write ``(N, 3)`` points as a binary PLY point cloud (atomically)."""
    pts = np.asarray(points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"points must be (N, 3), got {pts.shape}")
    header = ("ply\nformat binary_little_endian 1.0\n"
              f"element vertex {len(pts)}\nproperty float x\nproperty float y\nproperty float z\nend_header\n")
    atomic_write_bytes(Path(path), header.encode("ascii") + pts.astype("<f4").tobytes())
    return Path(path)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA.

    Example:
        >>> encode_png(np.zeros((2, 2, 3), np.uint8))[:8] == PNG_SIGNATURE
        True
    """
    a = np.ascontiguousarray(image)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape:
        raise ValueError(f"need a non-empty uint8 (H, W), (H, W, 3) or (H, W, 4) image, got {a.dtype} {a.shape}")
    h, w = a.shape[:2]
    color_type = {2: 0, 3: 2}[a.ndim] if a.ndim == 2 or a.shape[2] == 3 else 6
    rows = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, -1)], axis=1)  # filter byte 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write a uint8 image as PNG (atomically); see :func:`encode_png`."""
    atomic_write_bytes(Path(path), encode_png(image))
    return Path(path)
