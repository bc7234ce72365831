"""Evidence for the dataset loader's up-axis rule: which axis is "up" in each file family of psb_shrec12.

    .venv/bin/python scripts/up_axis_evidence.py ../shared/datasets/psb_shrec12 \
        [--json benchmarks/psb-shrec12-up-axis.json]

Two pose-independent tests per mesh, counted per family (the manifest's ``source_benchmark``):

* ``area``: the axis the faces' area-weighted normals point along most. Man-made shapes carry
  most of their area in horizontal faces (tabletops, floors, seats, roofs, wings), so this is
  the up-axis more often than not (or, for long thin shapes, a side axis).
* ``sides``: the axes from the longest side of the bounding box to the shortest (``xyz``: a
  PCA-like pose, longest along x, thinnest along z).
* ``long`` for the tall classes (Bottle, Humanoid, Tree, PlantIndoors): the longest side of the
  bounding box, which for them is their height.

Each test is a per-mesh guess of the kind that was right only a third of the time when used on
its own; counted over a family it says which convention the family follows. The rule the loader
applies is per family (:data:`inret_engine.data.datasets.Z_UP_BENCHMARKS`), never per mesh.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from inret_engine.data.loading import load_shape  # noqa: E402

TALL = ("Bottle", "Humanoid", "Tree", "PlantIndoors")


def axes(path: Path) -> tuple[str, str, str]:
    """``(area axis, longest axis, the axes from longest to shortest side)`` of the mesh at ``path``, in its
    file coordinates."""
    geom = load_shape(path)
    tri = geom.vertices[geom.faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length: twice the face area
    sides = np.ptp(geom.vertices, 0)
    order = "".join("xyz"[k] for k in np.argsort(-sides, kind="stable"))
    return "xyz"[int(np.abs(normals).sum(0).argmax())], order[0], order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = list(csv.DictReader(open(args.root / "manifest.csv", newline="", encoding="utf-8")))
    area = collections.defaultdict(collections.Counter)
    tall = collections.defaultdict(collections.Counter)
    per_category = collections.defaultdict(collections.Counter)
    sides = collections.defaultdict(collections.Counter)
    for row in rows:
        family = row["source_benchmark"]
        a, long, order = axes(args.root / row["path"])
        area[family][a] += 1
        sides[family][order] += 1
        per_category[f"{family} {row['category']}"][a] += 1
        if row["category"] in TALL:
            tall[family][long] += 1
    result = {"dataset": str(args.root), "meshes": len(rows),
              "area_axis": {f: dict(sorted(c.items())) for f, c in sorted(area.items())},
              "tall_classes_longest_axis": {f: dict(sorted(c.items())) for f, c in sorted(tall.items())},
              "tall_classes": list(TALL),
              "sides_longest_to_shortest": {f: dict(c.most_common()) for f, c in sorted(sides.items())},
              "area_axis_per_category": {k: dict(sorted(c.items())) for k, c in sorted(per_category.items())}}
    print(json.dumps({k: v for k, v in result.items() if k != "area_axis_per_category"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
