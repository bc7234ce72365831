"""``inret render`` and ``inret export``: images, slices, meshes and point clouds of stored INRs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import NotFoundError, UsageError
from ..store import Store


def add_parser(sub) -> None:
    r = sub.add_parser("render", help="render a stored INR (or a slice of its field) to PNG",
                       description="Render INR ID (the catalog id, see `inret info`) of STORE as a shaded "
                                   "PNG, optionally cut open, or with --slice an image of its field on a plane.")
    r.add_argument("store")
    r.add_argument("id", type=int, help="catalog id of the INR")
    r.add_argument("--out", required=True, help="PNG file to write")
    r.add_argument("--size", type=int, default=256, help="pixels per side (default 256)")
    r.add_argument("--azimuth", type=float, default=35.0, help="degrees around +y (default 35)")
    r.add_argument("--elevation", type=float, default=25.0, help="degrees above the xz plane (default 25)")
    r.add_argument("--cutaway", action="store_true", help="cut the shape open (SDF/Occ show a cap, UDF inner layers)")
    r.add_argument("--cut-axis", choices=("x", "y", "z"), default=None, help="remove where this axis > offset "
                   "(default z; implies --cutaway)")
    r.add_argument("--cut-offset", type=float, default=None, help="where the cut plane lies (default 0; implies "
                   "--cutaway)")
    r.add_argument("--slice", default=None, metavar="AXIS=OFFSET", help="write the field on a plane, e.g. z=0.1")
    r.add_argument("--resolution", type=int, default=97, help="bake lattice nodes per axis (default 97)")
    r.add_argument("--exact", action="store_true", help="trace the network itself, not a baked lattice (slow)")
    r.set_defaults(run=run_render)

    e = sub.add_parser("export", help="export a stored INR as a mesh or a point cloud",
                       description="Write INR ID of STORE as a marching-cubes mesh (PLY/OBJ; a UDF gives a thin "
                                   "double layer) and/or a surface point cloud (PLY).")
    e.add_argument("store")
    e.add_argument("id", type=int, help="catalog id of the INR")
    e.add_argument("--mesh", default=None, help="mesh file to write (.ply or .obj)")
    e.add_argument("--points", default=None, help="point-cloud PLY to write")
    e.add_argument("--n-points", type=int, default=2048, help="points in the cloud (default 2048)")
    e.add_argument("--resolution", type=int, default=129, help="marching-cubes lattice nodes per axis (default 129)")
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(run=run_export)


def load_inr(store_path: str, inr_id: int):
    """The ``ShapeINR`` with catalog id ``inr_id``; :class:`UsageError` (exit code 2) when there is none."""
    with Store.open(Path(store_path)) as store:
        try:
            record = store.catalog.inr(inr_id)
        except NotFoundError:
            ids = [r.id for r in store.records()]
            known = f"ids {min(ids)}-{max(ids)}" if ids else "no INRs"
            raise UsageError(f"no INR with id {inr_id} in {store_path} (it holds {known})") from None
        return store.load(record)


def parse_slice(text: str) -> tuple[str, float]:
    """``"z=0.1"`` -> ``("z", 0.1)``."""
    axis, sep, value = text.partition("=")
    axis = axis.strip().lower()
    try:
        offset = float(value)
    except ValueError:
        offset = None
    if not sep or axis not in ("x", "y", "z") or offset is None:
        raise UsageError(f"--slice wants AXIS=OFFSET with AXIS in x, y, z (e.g. z=0.1), got {text!r}")
    return axis, offset


def _output(path: str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def run_render(args: argparse.Namespace) -> int:
    from ..render.camera import Camera
    from ..render.export import write_png
    from ..render.image import Plane, render_inr
    from ..render.slices import field_slice, slice_image

    if args.size < 8 or args.size > 4096:
        raise UsageError("--size must lie in 8..4096")
    inr = load_inr(args.store, args.id)
    out = _output(args.out)
    if args.slice:
        axis, offset = parse_slice(args.slice)
        values = field_slice(inr, axis=axis, offset=offset, resolution=args.size)
        write_png(out, slice_image(values, inr.function))
        print(f"{inr.function.value.upper()} slice {axis}={offset:g} of INR {args.id} -> {out}")
        return 0
    cut = None
    if args.cutaway or args.cut_axis or args.cut_offset is not None:
        cut = Plane.axis(args.cut_axis or "z", args.cut_offset or 0.0)
    camera = Camera(azimuth=args.azimuth, elevation=args.elevation)
    rgb = render_inr(inr, camera=camera, width=args.size, height=args.size, baked=not args.exact,
                     resolution=args.resolution, cutaway=cut)
    write_png(out, rgb)
    what = "" if cut is None else f" cut at {args.cut_axis or 'z'}={args.cut_offset or 0.0:g}"
    print(f"{inr.function.value.upper()} INR {args.id} ({inr.labels.get('name', '?')}){what} -> {out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..render.export import MESH_TYPES, inr_to_mesh, write_mesh, write_points_ply
    from ..render.points import surface_point_cloud

    if not args.mesh and not args.points:
        raise UsageError("nothing to export: give --mesh FILE and/or --points FILE")
    if args.mesh and Path(args.mesh).suffix.lower() not in MESH_TYPES:
        raise UsageError(f"--mesh wants one of {', '.join(MESH_TYPES)}, got {args.mesh!r}")
    inr = load_inr(args.store, args.id)
    if args.mesh:
        mesh = inr_to_mesh(inr, resolution=args.resolution)
        path = write_mesh(mesh, _output(args.mesh))
        print(f"mesh of INR {args.id}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces -> {path}")
    if args.points:
        if args.n_points < 1:
            raise UsageError("--n-points must be positive")
        pts = surface_point_cloud(inr, n=args.n_points, seed=args.seed)
        if len(pts) == 0:
            raise UsageError(f"INR {args.id} has no surface to sample")
        path = write_points_ply(pts, _output(args.points))
        print(f"{len(pts)} surface points of INR {args.id} -> {path}")
    return 0
