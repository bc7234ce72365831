"""Reading files no file can stall or bloat: regular files only, never past a size cap.

Torch-free, so the catalog side of a store imports it without loading torch.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["read_regular_file"]


def read_regular_file(path: Path, *, limit: int, head: int | None = None) -> bytes:
    """The content of a regular file of at most ``limit`` bytes, read without blocking
    (only its first ``head`` bytes when given).

    Devices (a link to ``/dev/zero``), pipes and sockets are refused before a byte is
    read, and never more than ``limit + 1`` bytes are read, so no file can stall the
    reader or make it allocate more than the limit.

    Raises:
        ValueError: The problem, without the file name (missing, a directory, not a
            regular file, too large, unreadable).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ValueError("file not found") from None
    except IsADirectoryError:
        raise ValueError("is a directory, not a file") from None
    except OSError as e:
        raise ValueError(f"cannot read file ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ValueError("is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("is not a regular file (a device, pipe or socket); only files are read")
        if st.st_size > limit:
            raise ValueError(f"file too large ({st.st_size} bytes, limit {limit})")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1 if head is None else min(head, limit + 1))
    except OSError as e:
        raise ValueError(f"cannot read file ({e.strerror or e})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"file too large (over the {limit}-byte limit)")
    return data
