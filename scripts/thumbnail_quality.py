"""Grain, pits and specks of demo fits, before and after the fixes: fit quality, normal error, specks, thumbnails.

    .venv/bin/python scripts/thumbnail_quality.py [--store ~/.local/share/inret/demo-store] \
        [--shapes mug_000,sofa_001,...] [--json benchmarks/thumbnail-quality.json] [--sheet FILE.png]

For each of hash SDF, hash UDF and triplane Occ it fits the shapes' INRs (the store's
ground truth, the default CPU budget of 150 steps) twice: at Adam eps 1e-8 on every grid (the
default) and at ``--eps`` (1e-5: smoother hash grids, opt-in through ``FitSettings.grid_eps``;
not the default, see :data:`inret_engine.fit.GRID_ADAM_EPS`), and measures

* ``chamfer`` / ``iou``: the fit quality a store records (:func:`inret_engine.fit.measure_quality`);
* ``normal_error_deg``: the mean angle between the INR's normal (central differences 0.01
  wide, about what a thumbnail resolves) and the mesh's face normal, at points of the INR's
  surface: grain and pits raise it, Chamfer hardly sees them;
* ``speck_nodes_dropped``: inside nodes of the 97^3 occupancy bake thumbnails use that
  :func:`~inret_engine.render.bake.drop_specks` removes.

The sheet shows the thumbnails rendered as before (normals half a voxel wide, no speck
filter) above those rendered as now, one row pair per INR kind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from inret_engine import fit as fitting  # noqa: E402
from inret_engine.build import source_geometry  # noqa: E402
from inret_engine.fields import Field, default_config  # noqa: E402
from inret_engine.functions import ImplicitFunction  # noqa: E402
from inret_engine.progress import run_to_end  # noqa: E402
from inret_engine.render import bake as baking  # noqa: E402
from inret_engine.render import image  # noqa: E402
from inret_engine.render.surface import surface_points  # noqa: E402
from inret_engine.render.thumbnails import thumbnail_image  # noqa: E402
from inret_engine.store import Store  # noqa: E402

KINDS = (("hash", "sdf"), ("hash", "udf"), ("triplane", "occ"))
SHAPES = "mug_000,sofa_001,bottle_000,car_000,chair_000,airplane_000"


def normal_error(one: Field, function: ImplicitFunction, points: np.ndarray, mesh) -> float:
    """Mean angle (degrees, sign-free) between ``one``'s normals at ``points`` and the nearest mesh faces'."""
    import trimesh
    from scipy.spatial import cKDTree

    dense, face = trimesh.sample.sample_surface(mesh, 200_000, seed=0)
    normals = mesh.face_normals[face[cKDTree(dense).query(points)[1]]]
    x, h = torch.as_tensor(points, dtype=torch.float32), 0.01
    with torch.no_grad():
        g = torch.stack([(one((x + h * e)[None]) - one((x - h * e)[None]))[0] for e in torch.eye(3)], -1).numpy()
    g /= np.linalg.norm(g, axis=1, keepdims=True) + 1e-12
    return float(np.degrees(np.arccos(np.abs((g * normals).sum(1)).clip(0, 1))).mean())


def measure(store: Store, kind: str, function: ImplicitFunction, names: list[str], eps: float | None) -> dict:
    import trimesh

    config = default_config(kind)
    shapes = [store.catalog.shape(f"demo/{n}") for n in names]
    gts = [store.ground_truth(s.shape_id) for s in shapes]
    start = time.perf_counter()
    field = run_to_end(fitting.fit(config, function, gts, names, fitting.FitSettings(grid_eps=eps)))
    seconds = time.perf_counter() - start
    quality = fitting.measure_quality(field, function, gts)
    points = surface_points(field, len(names), function, n_points=3000, resolution=128)
    ones = [Field.from_inr_tensors(config, [field.inr_tensors(i)]).eval() for i in range(len(names))]
    errors, specks = [], []
    for one, shape, pts in zip(ones, shapes, points):
        geom = source_geometry(shape)
        errors.append(normal_error(one, function, pts, trimesh.Trimesh(geom.vertices, geom.faces, process=False)))
        if function is ImplicitFunction.OCC:  # the bake thumbnails use, without and with the filter
            drop, baking.drop_specks = baking.drop_specks, lambda logits, *a, **k: logits
            try:
                logits = baking.bake(one, function).values
            finally:
                baking.drop_specks = drop
            cleaned = baking.drop_specks(logits)
            specks.append(int(((logits > 0) & (cleaned <= 0)).sum()))
    return {"fit_seconds": round(seconds, 1), "chamfer": [round(q.chamfer, 5) for q in quality],
            "iou": [None if q.iou is None else round(q.iou, 4) for q in quality],
            "normal_error_deg": [round(e, 1) for e in errors],
            "mean": {"chamfer": round(float(np.mean([q.chamfer for q in quality])), 5),
                     "iou": None if quality[0].iou is None else round(float(np.mean([q.iou for q in quality])), 4),
                     "normal_error_deg": round(float(np.mean(errors)), 2)},
            **({"speck_nodes_dropped": specks} if specks else {}), "_fields": ones}


def thumbnails(fields: list[Field], function: ImplicitFunction, *, old_render: bool) -> list[np.ndarray]:
    saved_step, saved_drop = dict(image.NORMAL_STEP), baking.drop_specks
    if old_render:
        image.NORMAL_STEP.update({f: 0.5 for f in image.NORMAL_STEP})
        baking.drop_specks = lambda logits, *a, **k: logits
    try:
        return [thumbnail_image(one, 128, function=function) for one in fields]
    finally:
        image.NORMAL_STEP.update(saved_step)
        baking.drop_specks = saved_drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=Path.home() / ".local/share/inret/demo-store")
    parser.add_argument("--shapes", default=SHAPES)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--sheet", type=Path)
    parser.add_argument("--eps", type=float, default=1e-5, help="grid Adam eps of the 'after' fits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    store, names = Store.open(args.store), args.shapes.split(",")
    result, rows = {"store": str(args.store), "shapes": names, "steps": 150}, []
    for kind, name in KINDS:
        function = ImplicitFunction.parse(name)
        before = measure(store, kind, function, names, 1e-8)
        after = measure(store, kind, function, names, args.eps)
        rows += [thumbnails(before.pop("_fields"), function, old_render=True),
                 thumbnails(after.pop("_fields"), function, old_render=False)]
        result[f"{kind} {name}"] = {"before": before, "after": after}
        print(kind, name, "before", before["mean"], "after", after["mean"], flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.sheet:
        from PIL import Image

        sheet = Image.new("RGB", (128 * len(names), 128 * len(rows)), (40, 44, 52))
        for r, row in enumerate(rows):
            for c, tile in enumerate(row):
                rgba = Image.fromarray(tile)
                sheet.paste(rgba, (128 * c, 128 * r), rgba)
        sheet.save(args.sheet)


if __name__ == "__main__":
    main()
