"""Crash-safe file writes: write to a temporary file, fsync, then rename into place.

A reader of the target path sees either the complete old content or the complete new
content, never a partial file. A crash between creating the temporary file and the rename
leaves a hidden ``.<name>.<random>.tmp`` file beside the target;
:func:`remove_stale_temps` deletes those when a store is reopened.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(folder / "a.bin", b"hello")
    >>> with atomic_path(folder / "b.txt") as tmp:
    ...     _ = tmp.write_text("world")
    >>> sorted(p.name for p in folder.iterdir())
    ['a.bin', 'b.txt']
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "remove_stale_temps"]

_TEMP_PREFIX = "."
_TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.tmp", re.DOTALL)
_IS_WINDOWS = os.name == "nt"


def _create_temp(path: Path) -> tuple[Path, int]:
    """Creates a new, empty temporary file beside ``path`` and opens it for writing.

    The file is created with ``O_EXCL`` and mode 0o666 so that the process umask applies,
    giving the final file the same permissions an ordinary ``open(path, "w")`` would.

    Args:
        path: The target the temporary file will later replace.

    Returns:
        The temporary path and an OS-level file descriptor open for writing.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f"{_TEMP_PREFIX}{path.name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a unique temporary file beside {path}")


def _fsync_file(path: Path) -> None:
    """Flushes a closed file's content to disk.

    Args:
        path: The file to flush.
    """
    fd = os.open(path, os.O_RDWR if _IS_WINDOWS else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Flushes a folder's entries to disk so a rename survives a power cut (best effort).

    Args:
        folder: The folder holding the renamed file. Errors are ignored: some platforms
            and file systems do not allow opening or syncing a directory.
    """
    if _IS_WINDOWS:
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(tmp: Path) -> None:
    """Removes a temporary file, ignoring a file that is already gone.

    Args:
        tmp: The temporary file.
    """
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass


def _commit(tmp: Path, path: Path) -> None:
    """Renames a fully written temporary file over ``path`` and syncs the folder.

    Args:
        tmp: The temporary file, already fsynced.
        path: The target.
    """
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` atomically.

    The bytes go to a temporary file in the same folder (name ``.<name>.<random>.tmp``),
    which is flushed, fsynced and renamed over ``path`` with :func:`os.replace`; the folder
    is then fsynced (best effort). On any failure the temporary file is removed, the
    exception propagates, and ``path`` is left as it was.

    Args:
        path: The target file. Its folder must exist.
        data: The complete new content (bytes, bytearray or memoryview).

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "x.bin"
        >>> atomic_write_bytes(target, b"abc")
        >>> target.read_bytes()
        b'abc'
    """
    path = Path(path)
    tmp, fd = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _commit(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yields a temporary path to write by any means, then moves it over ``path``.

    The temporary file already exists (empty) in the same folder as ``path``, so writers
    that open it with ``"w"``/``"wb"`` work. On a clean exit it is fsynced and renamed over
    ``path``; if the block raises, the temporary file is removed, ``path`` is untouched and
    the exception is re-raised.

    Note that writers which append their own extension (``numpy.save`` adds ``.npy`` to
    a path that lacks it) must be given an open file object instead of the path.

    Args:
        path: The target file. Its folder must exist.

    Yields:
        The temporary path to write.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "notes.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    tmp, fd = _create_temp(path)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        _commit(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def remove_stale_temps(folder: Path, *, older_than_s: float = 0.0) -> int:
    """Deletes temporary files left in ``folder`` by writes that crashed before renaming.

    Only regular files directly in ``folder`` named as :func:`atomic_path` names them
    (``.<name>.<12 hex digits>.tmp``) are removed; links and sub-folders are not touched,
    so a user's own ``.notes.tmp`` survives.

    Args:
        folder: The folder to clean. A missing folder counts as clean.
        older_than_s: Only remove temporary files last modified at least this many
            seconds ago. The default 0 removes all of them, which is right when no other
            process writes to the folder (e.g. when a store is opened).

    Returns:
        The number of files removed.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".a.inr.1f2e3d4c5b6a.tmp").write_bytes(b"partial")
        >>> _ = (folder / ".notes.tmp").write_bytes(b"mine")
        >>> remove_stale_temps(folder)
        1
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    now = time.time()
    removed = 0
    for entry in os.scandir(folder):
        if not _TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if older_than_s > 0 and now - entry.stat(follow_symlinks=False).st_mtime < older_than_s:
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        removed += 1
    return removed
