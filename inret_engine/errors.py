"""What users can cause, as one family of exceptions; anything else is a bug.

The CLI and the app catch :class:`InretError` once, at their boundary, and show its
message; every other exception reaches them as a bug (a traceback, a bug report). No
subclass derives from a builtin such as ``ValueError``: a ``ValueError`` from numpy or
torch is a bug and must not pass for a user's mistake where ``InretError`` is caught.

Example:
    >>> try:
    ...     raise UsageError("--batch must be positive")
    ... except InretError as exc:
    ...     print(f"error: {exc}")
    error: --batch must be positive
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EncoderFileError", "InrFileError", "InretError", "NotFoundError", "ShapeLoadError", "StoreError",
           "UsageError"]


class InretError(Exception):
    """Base of every error a user can cause: bad input, a damaged file, an unusable store."""


class UsageError(InretError):
    """A bad argument, option or value: an unknown architecture, a negative batch size."""


class NotFoundError(InretError):
    """Something named that does not exist: an INR id, a shape, a category."""


class StoreError(InretError):
    """A folder is not a usable store, or a store cannot do what was asked."""


class ShapeLoadError(InretError):
    """A shape file cannot be used; the message names the file and the reason."""


class EncoderFileError(InretError):
    """An encoder (``.enc``) file that cannot be read; the message names the file."""


class InrFileError(InretError):
    """An ``.inr`` file that cannot be loaded; ``str(e)`` names the file and the problem.

    Example: ``model.inr: truncated file (header says 1204 bytes of tensor data, 380 present)``.

    Attributes:
        path: The file (or the ``name`` given to ``decode_inr``).
        problem: The problem alone, without the file name.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.problem))


def is_user_error(exc: BaseException) -> bool:
    """True for what a user can cause or fix (an :class:`InretError`, or an ``OSError``: a
    missing file, a full disk); False for a bug, which should show as one.

    >>> is_user_error(UsageError("no such preset")), is_user_error(OSError(28, "No space")), is_user_error(KeyError(1))
    (True, True, False)
    """
    return isinstance(exc, (InretError, OSError))
