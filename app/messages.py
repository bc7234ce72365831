"""Words the browser shows people: similarity scores and why a file cannot be used (no Qt).

Scores are cosine similarities of two embeddings in the one space the encoders share;
:func:`similarity_text` shows one as a whole percentage (``0.283 -> "28%"``), which
reads at a glance and keeps the sign (a negative cosine means "less alike than two
unrelated shapes"). :data:`SIMILARITY_HELP` is the legend the results strip shows.

A dropped or chosen file that cannot be a query gets one plain sentence naming the file
and what is wrong, then what to do (:func:`refused_file_message` for a file type the
browser does not read, :func:`file_problem_message` for an accepted type that fails to
load). The engine's own wording stays available as a short technical note.
"""

from __future__ import annotations

import re
from pathlib import Path

from inret_engine.data.loading import MESH_SUFFIXES, POINT_SUFFIXES
from inret_engine.store import Store

SIMILARITY_HELP = ("Similarity is the cosine similarity of two shapes' embeddings (the vectors the encoder maps each "
                   "INR to; the shared model puts every architecture and implicit function in one space), shown as "
                   "a percentage: 100% = the same direction (most alike), 0% = unrelated, below 0% = less alike "
                   "than unrelated shapes. Compare scores within one query; they are not probabilities.")
"""The legend of :func:`similarity_text`."""

ACCEPTED = (f"an INR file (.inr), a mesh ({' '.join(MESH_SUFFIXES)}) "
            f"or a point cloud ({' '.join(s for s in POINT_SUFFIXES if s not in MESH_SUFFIXES or s == '.ply')})")
"""The file types a query accepts, in words (from the engine's own suffix lists)."""

_OTHER_KINDS = {
    **dict.fromkeys((".stp", ".step", ".igs", ".iges", ".sat", ".x_t", ".sldprt", ".f3d", ".ipt", ".catpart"),
                    ("a CAD model", "export it from your CAD program as a mesh (STL or OBJ) and drop that file")),
    **dict.fromkeys((".fbx", ".blend", ".dae", ".3ds", ".max", ".usd", ".usda", ".usdz", ".ma", ".mb", ".c4d",
                     ".3mf", ".wrl", ".vrml", ".x3d"),
                    ("a 3D scene in a format the browser does not read",
                     "export the shape as OBJ, PLY, STL or glTF (.glb) and drop that file")),
    **dict.fromkeys((".doc", ".docx", ".odt", ".pdf", ".txt", ".rtf", ".md", ".xls", ".xlsx", ".csv", ".ppt",
                     ".pptx", ".html", ".htm"),
                    ("a document, not a 3D shape", "drop a 3D shape file instead")),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".svg", ".heic"),
                    ("an image, not a 3D shape", "drop a 3D shape file instead (shapes cannot be made from images)")),
    **dict.fromkeys((".zip", ".tar", ".gz", ".tgz", ".7z", ".rar", ".xz", ".bz2"),
                    ("an archive", "unpack it and drop one of the shape files inside")),
    **dict.fromkeys((".pt", ".pth", ".ckpt", ".safetensors", ".h5", ".hdf5", ".npz", ".pkl", ".pickle"),
                    ("a model or data file in a format the browser does not read",
                     "save the INR with INRet (inret build-store, inret distill) as an .inr file")),
    ".enc": ("an encoder, not a shape", "install it with `inret embed STORE --encoder FILE`, then query with a shape"),
}
"""Suffix -> (what the file is, what to do) for types people are likely to drop by mistake."""


def similarity_text(score: float) -> str:
    """A cosine similarity as a whole percentage: ``0.283 -> "28%"``, ``-0.05 -> "−5%"``.

    Example:
        >>> similarity_text(0.283), similarity_text(1.0), similarity_text(-0.051)
        ('28%', '100%', '−5%')
    """
    percent = round(float(score) * 100.0)
    return f"−{-percent}%" if percent < 0 else f"{percent}%"


def similarity_tooltip(score: float) -> str:
    """One line for a result's tooltip: the percentage and the raw cosine."""
    return f"similarity {similarity_text(score)} (cosine {float(score):.4f} of the two embeddings)"


def refused_file_message(path: Path | str) -> str:
    """Why ``path`` cannot be a query (a type the browser does not read, a folder), and what to do.

    Example:
        >>> refused_file_message("report.docx").splitlines()[0]
        'report.docx cannot be used as a query: it is a document, not a 3D shape.'
    """
    path = Path(path)
    if path.is_dir():
        return (f"{path.name} is a folder, not a shape file.\nDrop one file, or open the folder as a store with "
                f"File ▸ Open Store (Ctrl+O). A query takes {ACCEPTED}.")
    suffix = path.suffix.lower()
    what, todo = _OTHER_KINDS.get(suffix, (f"a {suffix} file, a type the browser does not read" if suffix
                                           else "a file without a type suffix", "drop a 3D shape file instead"))
    return (f"{path.name} cannot be used as a query: it is {what}.\n"
            f"What to do: {todo}. A query takes {ACCEPTED}.")


def file_problem_message(path: Path | str, problem: str) -> str:
    """Why a file of an accepted type could not be read, in words, then what to do.

    Args:
        path: the file.
        problem: the engine's message (e.g. an ``InrFileError``'s ``problem``), kept as a
            short technical note with large numbers left out.

    Example:
        >>> print(file_problem_message("x.inr", "oversize header (7837008598389945438 bytes, limit 16777216)"))
        x.inr could not be read: the file is damaged or is not an INR file.
        What to do: drop an .inr file saved by INRet (inret build-store, inret distill), or the mesh or point cloud the shape came from.
        (Technical note: oversize header.)
    """
    path = Path(path)
    note = _short(problem)
    if path.suffix.lower() == ".inr":
        if "newer version" in problem:
            what = "it was written by a newer version of INRet"
            todo = "update INRet Browser, or drop the mesh or point cloud the shape came from"
        else:
            what = "the file is damaged or is not an INR file"
            todo = ("drop an .inr file saved by INRet (inret build-store, inret distill), or the mesh or point "
                    "cloud the shape came from")
    else:
        kind = "mesh or point cloud" if path.suffix.lower() == ".ply" else (
            "mesh" if path.suffix.lower() in MESH_SUFFIXES else "point cloud")
        what = f"the {kind} could not be used"
        todo = ("check that the file opens in a 3D viewer (it may be damaged, empty or in another format "
                f"than its name says), or export the shape again as {ACCEPTED}")
    return f"{path.name} could not be read: {what}.\nWhat to do: {todo}.\n(Technical note: {note}.)"


def _short(problem: str) -> str:
    """The engine's message without the file name it starts with and without byte counts in brackets."""
    text = str(problem).strip().splitlines()[0] if str(problem).strip() else "unknown problem"
    text = re.sub(r"^\S+\.(inr|obj|off|ply|stl|glb|gltf|xyz|npy|pts):\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*\([^()]*\d{7,}[^()]*\)", "", text)  # "(7837008598389945438 bytes, ...)" helps nobody
    return text.rstrip(". ") or "unknown problem"


NO_ENCODER = "This store has no trained encoder yet, so there is nothing to compare shapes with."


def no_encoder_advice(store: Store | None = None) -> str:
    """How to get an encoder for ``store``: the menu action, or the two commands to run."""
    root, arch = "STORE", "hash"
    if store is not None:
        root = str(store.root)
        archs = {r.arch for r in store.records()}
        arch = "hash" if "hash" in archs or not archs else sorted(archs)[0]
    return (f"{NO_ENCODER}\nUse Tools ▸ Train Encoders… (Ctrl+T), or from a shell:\n"
            f"inret train-encoder {root} --arch {arch} --out {arch}.enc\n"
            f"inret embed {root} --encoder {arch}.enc")
