"""Gallery thumbnails: one small shaded view per INR, cached as PNG in the store.

A thumbnail is rendered with :func:`~.image.render_frame` (as ``render_thumbnail`` does,
but keeping the hit mask for an alpha channel) at ``supersample`` times its size and
box-filtered down, so silhouettes are anti-aliased. Misses are transparent (RGBA,
premultiplied averaging), so the gallery picks its own tile colour. A quick low-resolution
pass first finds the shape, and the camera is framed onto it. SDF, UDF and Occ INRs each
render with their own tracer and colour. The renderer is imported on the first render
only: serving cached thumbnails needs neither scipy nor trimesh.

The PNG is cached at ``STORE/cache/thumbnails/<sha256[:16]>-<size>-r<RENDER_VERSION>.png``,
keyed by the INR file's checksum and the renderer's version: a refitted INR gets a new
thumbnail, an unchanged one is never rendered twice, and a renderer that draws differently
(:data:`RENDER_VERSION`) renders them again. Writes are atomic, so a crash leaves no half-written PNG.

Example:
    >>> png = thumbnail_png(store, store.records()[0], size=64)  # doctest: +SKIP
    >>> png[:8] == PNG_MAGIC  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..store.atomic import atomic_write_bytes
from ..store.catalog import InrRecord
from ..store.store import SHA256, StoreError
from .camera import Camera

__all__ = ["THUMBNAIL_CAMERA", "cached_thumbnail", "framed", "thumbnail_image", "thumbnail_path", "thumbnail_png"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
"""The first bytes of every PNG file (as :data:`.export.PNG_SIGNATURE`, without importing the renderer)."""

THUMBNAIL_CAMERA = Camera(azimuth=35.0, elevation=25.0, distance=3.0, ortho_scale=1.75)
"""Orthographic three-quarter view from above, wide enough for all of ``[-1, 1]^3``;
:func:`thumbnail_image` re-aims and zooms it onto each shape (see :func:`framed`)."""

FRAMING_PASS = 48
"""Edge in pixels of the quick render that finds where the shape is."""

FRAME_MARGIN = 1.08
"""Room around the framed surface box, as a factor of its projected half-extent."""

SUPERSAMPLE = 2
"""Rays per pixel along each axis."""

RENDER_VERSION = 3
"""Raised when thumbnails come out differently, so cached ones are drawn again (2: normals one
voxel wide, 1.5 for UDFs, and occupancy specks dropped; 3: normals from a blurred copy of the
bake, :data:`~inret_engine.render.image.NORMAL_SMOOTHING`; the old PNGs are left, unused)."""


def thumbnail_path(store, record: InrRecord, size: int = 128) -> Path:
    """Where the cached PNG of ``record`` at ``size`` pixels lives (it may not exist yet).

    Raises:
        StoreError: the row's checksum is not a hex digest (it names the file, so it must
            not be able to name one outside the cache).
    """
    if not SHA256.fullmatch(record.sha256):
        raise StoreError(f"catalog row {record.id} has a malformed checksum {record.sha256[:80]!r}")
    return Path(store.cache_dir) / "thumbnails" / f"{record.sha256[:16]}-{int(size)}-r{RENDER_VERSION}.png"


def cached_thumbnail(store, record: InrRecord, size: int = 128) -> bytes | None:
    """The cached PNG bytes, or ``None`` when this thumbnail has not been rendered yet."""
    path = thumbnail_path(store, record, size)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return data if data.startswith(PNG_MAGIC) else None


def thumbnail_png(store, record: InrRecord, size: int = 128) -> bytes:
    """PNG bytes of a ``size x size`` RGBA thumbnail of one INR, from the cache or rendered.

    Args:
        store: an open :class:`~inret_engine.store.Store` (only its folder and loader are used,
            so this may run on a worker thread).
        record: the catalog row of the INR.
        size: edge length in pixels.

    Returns:
        PNG bytes (8-bit RGBA).

    Raises:
        InrFileError: when the INR file is damaged.
    """
    cached = cached_thumbnail(store, record, size)
    if cached is not None:
        return cached
    from .export import encode_png  # the renderer loads only when something must be rendered

    png = encode_png(thumbnail_image(store.load(record), size))
    path = thumbnail_path(store, record, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, png)
    return png


def thumbnail_image(source, size: int = 128, *, camera: Camera = THUMBNAIL_CAMERA,
                    supersample: int = SUPERSAMPLE, function=None) -> np.ndarray:
    """Render ``(size, size, 4)`` uint8 RGBA: shaded surface, transparent where rays miss.

    Args:
        source: a ``ShapeINR`` (or anything :func:`~.image.render_frame` takes, with ``function``).
        size: edge length in pixels.
        camera: an orthographic view that sees the whole shape; it is then framed onto it.
        supersample: rays per pixel along each axis (1 = aliased).
        function: what ``source`` encodes, when it cannot say itself.

    Example:
        >>> img = thumbnail_image(lambda p: p.norm(dim=-1) - 0.5, 32, function="sdf")
        >>> img.shape, int(img[16, 16, 3]), int(img[0, 0, 3])
        ((32, 32, 4), 255, 0)
    """
    from .image import prepare, render_frame  # scipy, trimesh: loaded on the first render only

    s = max(1, int(supersample))
    fn, function, _ = prepare(source, function)
    seen = render_frame(fn, function, camera, FRAMING_PASS, FRAMING_PASS).hit_mask
    frame = render_frame(fn, function, framed(camera, seen), size * s, size * s)
    alpha = frame.hit_mask.astype(np.float32)[..., None]
    premultiplied = np.concatenate([frame.rgb.astype(np.float32) * alpha, alpha * 255.0], axis=-1)
    pooled = premultiplied.reshape(size, s, size, s, 4).mean(axis=(1, 3))
    a = pooled[..., 3:4]
    rgb = np.where(a > 0, pooled[..., :3] * 255.0 / np.maximum(a, 1e-6), 0.0)
    return np.concatenate([rgb, a], axis=-1).round().clip(0, 255).astype(np.uint8)


def framed(camera: Camera, hit_mask: np.ndarray, margin: float = FRAME_MARGIN) -> Camera:
    """Re-aim and zoom an orthographic ``camera`` onto what it sees.

    Args:
        camera: an orthographic camera (``ortho_scale`` set).
        hit_mask: ``(H, W)`` bool hits of a (small) render through ``camera``.
        margin: room around the hits, as a factor of their half-extent.

    Returns:
        The camera moved in its image plane to centre the hits and zoomed to frame them
        (0.5% of hits at each extreme are ignored, so a stray speck does not shrink the
        shape); unchanged when nothing was hit.

    Example:
        >>> mask = np.zeros((8, 8), bool)
        >>> mask[0:4, 2:6] = True  # a square in the top half
        >>> cam = framed(Camera(azimuth=0.0, elevation=0.0, ortho_scale=1.0), mask, margin=1.0)
        >>> [round(c, 3) for c in cam.target], round(cam.ortho_scale, 3)
        ([0.0, 0.5, 0.0], 0.5)
    """
    if camera.ortho_scale is None:
        raise ValueError("framing needs an orthographic camera")
    rows, cols = np.nonzero(hit_mask)
    if len(rows) == 0:
        return camera
    h, w = hit_mask.shape
    half_h = camera.ortho_scale
    u = ((cols + 0.5) / w * 2.0 - 1.0) * half_h * w / h
    v = (1.0 - (rows + 0.5) / h * 2.0) * half_h
    (u0, u1), (v0, v1) = np.quantile(u, [0.005, 0.995]), np.quantile(v, [0.005, 0.995])
    right, up, _ = camera.basis()
    target = np.asarray(camera.target) + 0.5 * (u0 + u1) * right + 0.5 * (v0 + v1) * up
    pixel = 2.0 * half_h / h  # a hit pixel covers its whole width, not just its centre
    half = 0.5 * (max(u1 - u0, v1 - v0) + pixel) * margin
    return dataclasses.replace(camera, target=(float(target[0]), float(target[1]), float(target[2])),
                               ortho_scale=float(half))
