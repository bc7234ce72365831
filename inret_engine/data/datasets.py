"""Find the shape files of a dataset folder and label them by category and split.

Supported layouts (see :func:`detect_layout`):

* ``modelnet``: ``<category>/<split>/<file>`` with split folders train/test/val.
* ``shapenet``: ``<synset>/<model>/models/model_normalized.obj``.
* ``pix3d``: ``model/<category>/<name>/model.obj`` (root is the folder holding
  ``model/`` or ``model/`` itself).
* ``plain``: ``<category>/<file>`` (files directly in root get category ``""``).
* ``file``: root is one mesh or point-cloud file.

Up-axis (:attr:`ShapeSource.up_axis`, applied by :func:`~inret_engine.data.loading.load_upright`):
every file is y-up unless its dataset says otherwise, by a rule per file family, never a
guess per mesh (an automatic per-mesh guess was right for 33% of 240 psb_shrec12 files).
The one rule known here, :data:`Z_UP_BENCHMARKS`: a dataset whose ``manifest.csv`` names
each file's ``source_benchmark`` (psb_shrec12, see its SOURCE.md) has its
``SHREC2012-Generic`` files (``D<5 digits>.obj``) turned from z-up, its PSB files
(``m<N>.obj``) left y-up. Evidence, all 884 files, ``scripts/up_axis_evidence.py`` ->
``benchmarks/psb-shrec12-up-axis.json``: the axis the faces' area points along most (the
up-axis of tables, cars, planes, seats) is z for 153 of 248 SHREC'12 files (y: 57) and y for
297 of 636 PSB files (z: 208); PSB's tall classes stand along y (118 of 141). SHREC'12 files
sit in a PCA-like pose (longest side x for 199 of 248, sides in order x, y, z for 167), so
the turn stands up the shapes that are lower than they are long (most classes), while
tall, narrow ones (Bottle, Cup, HumanHead) lie along x before and after: righting those
would take their class label, which retrieval must not see.

Example:
    >>> sources = discover_shapes(Path("psb_shrec12"), splits=["test"], per_category=2)  # doctest: +SKIP
    >>> sources[0].shape_id                                                                # doctest: +SKIP
    'Biplane/test/D00057'
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import UsageError
from .loading import SHAPE_SUFFIXES

SPLIT_NAMES = ("train", "test", "val")
"""Folder names that mark a ModelNet-style split level."""
MANIFEST = "manifest.csv"
Z_UP_BENCHMARKS = frozenset({"SHREC2012-Generic"})
"""Values of a manifest's ``source_benchmark`` column whose files are z-up (see the module doc)."""


@dataclass(frozen=True)
class ShapeSource:
    """One shape file of a dataset.

    Attributes:
        path: The file.
        name: Model name (file stem, or model folder for ShapeNet/Pix3D).
        category: Category label (folder name); ``""`` when there is none.
        split: ``train``/``test``/``val``; ``""`` when the layout has none.
        shape_id: Stable id unique within the dataset, ``'/'``-separated,
            e.g. ``"Car/test/m1510"`` (``"<category>/<name>"`` for ShapeNet/Pix3D).
        up_axis: ``"y"``, or ``"z"`` where the dataset's rule says the file is z-up (module doc).
    """

    path: Path
    name: str
    category: str
    split: str
    shape_id: str
    up_axis: str = "y"


def detect_layout(root: str | Path) -> str:
    """Name the layout of ``root``: ``modelnet|shapenet|pix3d|plain|file``.

    Raises:
        ValueError: ``root`` does not exist or is a file with an unknown suffix.
    """
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() not in SHAPE_SUFFIXES:
            raise UsageError(f"{root}: not a shape file (suffix {root.suffix!r})")
        return "file"
    if not root.is_dir():
        raise UsageError(f"{root}: no such file or folder")
    if _pix3d_model_dir(root) is not None:
        return "pix3d"
    for sub in _visible_dirs(root):
        if any(d.name.lower() in SPLIT_NAMES for d in _visible_dirs(sub)):
            return "modelnet"
        if next(iter(sub.glob("*/models/model_normalized.obj")), None) is not None:
            return "shapenet"
    return "plain"


def discover_shapes(
    root: str | Path,
    *,
    splits: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    per_category: int | None = None,
) -> list[ShapeSource]:
    """List a dataset's shapes, filtered and sorted by (category, split, name).

    Args:
        root: Dataset folder or a single shape file.
        splits: Keep only these splits (case-insensitive); layouts without
            split folders accept only ``None``.
        categories: Keep only these categories (case-insensitive).
        per_category: Keep the first N of each category in each split after the
            filters (``--per-category 10`` over train and test gives 10 of each).

    Returns:
        Non-empty sorted list of sources.

    Raises:
        ValueError: Unknown root, unknown category or split names (the message
            lists the available ones), ``per_category < 1``, or no shapes.
    """
    root = Path(root)
    layout = detect_layout(root)
    z_up = z_up_files(root)
    found = sorted((replace(s, up_axis="z") if s.path.resolve() in z_up else s for s in _walk(root, layout)),
                   key=lambda s: (s.category, s.split, s.name, s.shape_id))
    if not found:
        raise UsageError(f"no shape files ({', '.join(SHAPE_SUFFIXES)}) found under {root} (layout {layout!r})")
    # Names are checked against the whole dataset, so a category missing only from the
    # chosen split is "no shapes left", not "unknown".
    keep_splits = None if splits is None else _resolve(found, "split", splits, root)
    keep_cats = None if categories is None else _resolve(found, "category", categories, root)
    found = [s for s in found if (keep_splits is None or s.split in keep_splits)
             and (keep_cats is None or s.category in keep_cats)]
    if per_category is not None:
        if per_category < 1:
            raise UsageError(f"per_category must be >= 1, got {per_category}")
        found = _first_per_category(found, per_category)
    if not found:
        raise UsageError(f"no shapes left under {root} after filtering (splits={splits}, categories={categories})")
    return found


def z_up_files(root: str | Path) -> frozenset[Path]:
    """The files under ``root`` its ``manifest.csv`` declares z-up (resolved paths; empty without a manifest).

    A manifest is a CSV with a ``path`` column (relative to ``root``) and a
    ``source_benchmark`` column; rows of :data:`Z_UP_BENCHMARKS` are z-up. An unreadable
    manifest declares nothing (every file stays y-up).
    """
    root = Path(root)
    try:
        with open(root / MANIFEST, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return frozenset()
    return frozenset((root / r["path"]).resolve() for r in rows
                     if r.get("source_benchmark") in Z_UP_BENCHMARKS and r.get("path"))


def _resolve(sources: list[ShapeSource], field: str, wanted: Sequence[str], root: Path) -> set[str]:
    """The values of ``field`` among ``sources`` that match ``wanted`` case-insensitively."""
    if isinstance(wanted, str):
        wanted = [wanted]
    available = sorted({getattr(s, field) for s in sources})
    lookup = {a.lower(): a for a in available}
    unknown = [w for w in wanted if w.lower() not in lookup]
    if unknown:
        shown = ", ".join(repr(a) for a in available) if available != [""] else "none (the layout has no such level)"
        raise UsageError(f"unknown {field} name(s) {unknown} for {root}; available: {shown}")
    return {lookup[w.lower()] for w in wanted}


def _first_per_category(sources: list[ShapeSource], n: int) -> list[ShapeSource]:
    """The first ``n`` sources of each (category, split), order kept."""
    taken: dict[tuple[str, str], int] = {}
    out = []
    for s in sources:
        key = (s.category, s.split)
        if taken.get(key, 0) < n:
            taken[key] = taken.get(key, 0) + 1
            out.append(s)
    return out


def _walk(root: Path, layout: str) -> Iterator[ShapeSource]:
    """Every source of ``root`` for ``layout``, unsorted."""
    if layout == "file":
        yield ShapeSource(path=root, name=root.stem, category="", split="", shape_id=root.stem)
    elif layout == "modelnet":
        for cat in _visible_dirs(root):
            for split_dir in _visible_dirs(cat):
                if split_dir.name.lower() in SPLIT_NAMES:
                    yield from _files_in(split_dir, root, cat.name, split_dir.name.lower())
    elif layout == "shapenet":
        for synset in _visible_dirs(root):
            for model in _visible_dirs(synset):
                f = model / "models" / "model_normalized.obj"
                if f.is_file():
                    yield ShapeSource(f, model.name, synset.name, "", f"{synset.name}/{model.name}")
    elif layout == "pix3d":
        model_dir = _pix3d_model_dir(root)
        if model_dir is None:
            return
        for cat in _visible_dirs(model_dir):
            for model in _visible_dirs(cat):
                f = model / "model.obj"
                if f.is_file():
                    yield ShapeSource(f, model.name, cat.name, "", f"{cat.name}/{model.name}")
    else:
        yield from _files_in(root, root, "", "")
        for cat in _visible_dirs(root):
            yield from _files_in(cat, root, cat.name, "")


def _files_in(folder: Path, root: Path, category: str, split: str) -> Iterator[ShapeSource]:
    """Shape files directly in ``folder``; of files sharing a stem, the preferred suffix wins.

    Preference follows :data:`SHAPE_SUFFIXES` order (meshes first), which keeps
    ``shape_id`` (the relative path without suffix) unique.
    """
    best: dict[str, Path] = {}
    for f in _visible(folder.iterdir()):
        suffix = f.suffix.lower()
        if not f.is_file() or suffix not in SHAPE_SUFFIXES:
            continue
        prev = best.get(f.stem)
        if prev is None or _rank(f) < _rank(prev):
            best[f.stem] = f
    for stem, f in best.items():
        rel = f.relative_to(root).with_suffix("").as_posix()
        yield ShapeSource(path=f, name=stem, category=category, split=split, shape_id=rel)


def _rank(path: Path) -> tuple[int, str]:
    """Sort key preferring earlier suffixes of :data:`SHAPE_SUFFIXES`."""
    return SHAPE_SUFFIXES.index(path.suffix.lower()), path.name


def _pix3d_model_dir(root: Path) -> Path | None:
    """The Pix3D ``model/`` folder for ``root`` (its parent or itself), or ``None``."""
    for cand in (root / "model", root):
        if cand.name == "model" and cand.is_dir() and next(iter(cand.glob("*/*/model.obj")), None) is not None:
            return cand
    return None


def _visible(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without hidden entries, sorted by name."""
    return sorted((p for p in paths if not p.name.startswith(".")), key=lambda p: p.name)


def _visible_dirs(folder: Path) -> list[Path]:
    """Visible sub-folders of ``folder``, sorted by name."""
    return [p for p in _visible(folder.iterdir()) if p.is_dir()]
