"""Meshes, point clouds and PNGs written by the renderer."""

import struct
import zlib

import numpy as np
import pytest
import trimesh

from inret_engine.render.export import (
    PNG_SIGNATURE,
    encode_png,
    inr_to_mesh,
    write_mesh,
    write_png,
    write_points_ply,
)

R = 0.6


def sdf(p):
    return p.norm(dim=-1) - R


def decode_png(data: bytes) -> np.ndarray:
    """A minimal decoder for what :func:`encode_png` writes (8-bit, filter 0, one IDAT)."""
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(tag + body)
        chunks[tag] = body
        pos += 12 + length
    w, h, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * channels)
    assert depth == 8 and (rows[:, 0] == 0).all() and b"IEND" in chunks
    return rows[:, 1:].reshape(h, w, channels).squeeze(-1) if channels == 1 else rows[:, 1:].reshape(h, w, channels)


@pytest.mark.parametrize("function,fn", [("sdf", sdf), ("occ", lambda p: 10 * (R - p.norm(dim=-1)))])
def test_closed_meshes_sit_on_the_sphere_and_face_outwards(function, fn):
    mesh = inr_to_mesh(fn, function, resolution=65)
    radius = np.linalg.norm(mesh.vertices, axis=1)
    assert np.abs(radius - R).max() < 0.005  # linear interpolation along lattice edges
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * R ** 3, rel=0.02)  # positive: outward faces


def test_udf_mesh_is_a_thin_double_layer():
    mesh = inr_to_mesh(lambda p: sdf(p).abs(), "udf", resolution=65)
    voxel = 2 / 64
    offset = np.linalg.norm(mesh.vertices, axis=1) - R
    # Level half a voxel; where a lattice edge straddles the surface, |d| is V-shaped along
    # it and linear interpolation misplaces the vertex by up to a voxel.
    assert np.abs(offset).max() < voxel
    assert (offset < -0.25 * voxel).mean() > 0.3 and (offset > 0.25 * voxel).mean() > 0.3  # two layers
    with pytest.raises(ValueError, match="no surface"):
        inr_to_mesh(lambda p: sdf(p).abs() + 0.2, "udf", resolution=17)


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_written_meshes_reload(tmp_path, suffix):
    mesh = inr_to_mesh(sdf, "sdf", resolution=33)
    path = write_mesh(mesh, tmp_path / f"sphere{suffix}")
    back = trimesh.load(path, force="mesh", process=False)
    assert len(back.faces) == len(mesh.faces)
    assert np.abs(np.linalg.norm(back.vertices, axis=1) - R).max() < 0.01
    with pytest.raises(ValueError, match="unsupported mesh format"):
        write_mesh(mesh, tmp_path / "sphere.xyz")


def test_points_ply_reloads(tmp_path):
    pts = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    cloud = trimesh.load(write_points_ply(pts, tmp_path / "pts.ply"))
    assert isinstance(cloud, trimesh.PointCloud)
    assert np.array_equal(np.asarray(cloud.vertices, np.float32), pts)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        write_points_ply(np.zeros((4, 2)), tmp_path / "bad.ply")


def test_png_roundtrip(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    path = write_png(tmp_path / "x.png", rgb)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert np.array_equal(decode_png(data), rgb)
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(decode_png(encode_png(gray)), gray)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(rgb.astype(np.float32))


def test_png_opens_in_qt(tmp_path):
    qtgui = pytest.importorskip("PySide6.QtGui")
    rgb = np.zeros((6, 9, 3), np.uint8)
    rgb[:, :, 0] = 200
    rgb[2, 3] = (10, 20, 30)
    image = qtgui.QImage(str(write_png(tmp_path / "q.png", rgb)))
    assert not image.isNull() and (image.width(), image.height()) == (9, 6)
    pixel = image.pixelColor(3, 2)
    assert (pixel.red(), pixel.green(), pixel.blue()) == (10, 20, 30)
    assert image.pixelColor(0, 0).red() == 200
