"""Beyond one machine (the optional ``scale`` extra: ``pip install -e .[scale]``).

- :mod:`.cluster` connects to a Ray cluster, or starts a small local one.
- :mod:`.fitting` and :mod:`.embedding` send fitting and embedding batches to Ray workers;
  the driver alone writes INR files, catalog rows and caches, so a store built this way
  is the same store, resumable and crash-safe as a local build.
- :mod:`.backends` is the index backend interface (hnswlib, the default, and Milvus);
  :mod:`.milvus` holds the Milvus backend (Milvus Lite in a file of the store's cache, or a
  server by URI).

Nothing here imports Ray or pymilvus at import time: without the extra the rest of the
engine is unchanged, and these modules say what to install when asked for them.
"""

from __future__ import annotations

import importlib.util

__all__ = ["milvus_available", "ray_available", "require"]


def _found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules (None there)
        return False


def ray_available() -> bool:
    """Whether Ray is installed (found without importing it)."""
    return _found("ray")


def milvus_available() -> bool:
    """Whether pymilvus and Milvus Lite (for local files) are installed."""
    return _found("pymilvus") and _found("milvus_lite")


def require(what: str) -> None:
    """Raises a user-facing error naming the extra when ``what`` (``"ray"`` or ``"milvus"``) is missing."""
    ok = ray_available() if what == "ray" else milvus_available()
    if not ok:
        from ..errors import UsageError  # lazy: keep this package import-light

        package = "ray" if what == "ray" else "pymilvus and milvus-lite"
        raise UsageError(f"{what} needs the optional 'scale' extra ({package}): pip install -e '.[scale]'")
