"""The ``inret`` command: one entry point, one module per group of subcommands."""

from __future__ import annotations

import argparse
import sys

from . import bench, benchmark, build, check, distill, info, pretrain, render, retrieval


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inret", description="INRet: build, inspect and search INR stores.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build.add_parser(sub)
    info.add_parser(sub)
    check.add_parser(sub)
    bench.add_parser(sub)
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
    except (ValueError, FileNotFoundError) as exc:
        print(f"inret {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:  # e.g. an INR id the catalog does not have
        print(f"inret {args.command}: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
