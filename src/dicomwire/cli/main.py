"""``dicomwire``: one command, DCMTK-shaped subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .common import CLIError

COMMANDS = ("echo", "store", "find", "get", "move", "listen", "serve", "worklist", "check")


def build_parser() -> argparse.ArgumentParser:
    from . import check, echo, find, get, listen, move, serve, store, worklist

    parser = argparse.ArgumentParser(
        prog="dicomwire",
        description="DICOM networking tools: verify, send, query, retrieve and receive "
        "DICOM instances. 'dicomwire COMMAND --help' explains each command's options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    echo.register(sub)
    store.register(sub)
    find.register(sub)
    get.register(sub)
    move.register(sub)
    listen.register(sub)
    serve.register(sub)
    worklist.register(sub)
    check.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; errors are one line on stderr and a non-zero exit."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # serve --workers runs it again
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.run(args)
        return code
    except CLIError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"dicomwire {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the promise: one readable line, never a traceback
        if getattr(args, "debug", False):
            raise
        print(f"dicomwire {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
