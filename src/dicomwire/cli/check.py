"""``dicomwire check``: does the node's index agree with its files? ``--repair`` makes it.

Reports index rows whose file is missing or unreadable, files that are not
indexed, and temporary files of interrupted stores (harmless: they never
count as a difference). Exit status 0 when index and files agree (after the
repair, with ``--repair``), 1 when they do not. Run ``--repair`` with the
node stopped. See dicomwire.node.check.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import CLIError, add_verbosity, setup_logging
from .serve import add_node_options, load_config


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "check",
        help="compare the node's index with its files (and repair with --repair)",
        description="Check the archive, e.g. after a crash: dicomwire check --data-dir DIR "
        "[--repair]. Exit status 0: consistent; 1: differences left.",
    )
    add_node_options(parser)
    parser.add_argument(
        "--repair", action="store_true",
        help="index files that are not indexed, drop rows without a readable file, "
             "delete temporary files (stop the node first)",
    )  # fmt: skip
    add_verbosity(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..node.check import check
    from ..node.index import Index
    from ..node.store import FileStore

    setup_logging(args)
    config = load_config(args)
    if not config.data_dir.is_dir():
        raise CLIError(f"{config.data_dir}: no such folder")
    try:
        index = Index(config.database_url, data_dir=config.data_dir)
    except Exception as exc:
        raise CLIError(f"cannot open the index: {exc}") from exc
    try:
        result = check(index, FileStore(config.data_dir), repair=args.repair, report=print)
    finally:
        index.close()
    for line in result.repaired:
        print(f"repaired: {line}")
    state = "consistent" if result.consistent else "NOT consistent"
    print(
        f"{state}: {len(result.missing)} indexed but missing, {len(result.unindexed)} not "
        f"indexed, {result.left} unusable or conflicting, {len(result.temp_files)} temporary"
    )
    return 0 if result.consistent else 1
