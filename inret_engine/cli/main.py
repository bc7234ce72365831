"""The ``inret`` command: one entry point, one module per group of subcommands."""

from __future__ import annotations

import argparse
import errno
import sqlite3
import sys

from ..errors import InretError
from . import benchmark, build, check, distill, info, pretrain, render, retrieval, speed


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inret", description="INRet: build, inspect and search INR stores.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build.add_parser(sub)
    info.add_parser(sub)
    check.add_parser(sub)
    speed.add_parser(sub)
    render.add_parser(sub)
    retrieval.add_parsers(sub)
    pretrain.add_parser(sub)
    distill.add_parser(sub)
    benchmark.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except InretError as exc:  # what a user can cause; anything else is a bug and shows as one
        print(f"inret {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the machine, not the program: a full disk, a permission, an I/O error
        print(f"inret {args.command}: error: {_os_problem(exc)}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # a catalog damaged or made unwritable while in use
        print(f"inret {args.command}: error: the store's catalog failed ({exc}); every change before it "
              "is kept: run `inret check STORE` once the cause is fixed", file=sys.stderr)
        return 2


def _os_problem(exc: OSError) -> str:
    """An OSError in words, with what to do about the common ones."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk is full{where}; nothing written so far is lost (every write is atomic): "
                "free some space and run the same command again to carry on")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied{where}: this user cannot write there"
    return f"{exc.strerror or exc}{where}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
