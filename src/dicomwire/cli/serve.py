"""``dicomwire serve``: the archive node (Storage, Query/Retrieve, Worklist).

Settings come from flags, ``DICOMWIRE_*`` environment variables and a TOML
file (``--config``), in that order of precedence; see dicomwire.node.config.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import CLIError, add_verbosity, run_until_stopped, setup_logging


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the archive node (Storage + Query/Retrieve + Worklist SCP)",
        description="Run the node, e.g.: dicomwire serve --port 11112 --known-ae VIEWER=host:104",
    )
    add_node_options(parser)
    parser.add_argument("--ae-title", metavar="TITLE", help="our AE title (default DICOMWIRE)")
    parser.add_argument("--port", type=int, help="port to listen on (default 11112)")
    parser.add_argument("--bind", metavar="ADDR", help="address to listen on (default: all)")
    parser.add_argument(
        "--known-ae",
        action="append",
        metavar="AET=HOST:PORT",
        help="a C-MOVE destination; repeat for more",
    )
    parser.add_argument(
        "--allow-caller",
        action="append",
        metavar="AET",
        help="accept associations only from this calling AE; repeatable",
    )
    parser.add_argument(
        "--max-associations", type=int, metavar="N", help="concurrent associations (default 32)"
    )
    parser.add_argument(
        "--on-duplicate",
        choices=("keep", "replace", "reject"),
        help="an instance already stored: keep the old one (default), "
        "replace it, or refuse the new one",
    )
    parser.add_argument(
        "--check-called-ae",
        action="store_true",
        default=None,
        help="refuse associations whose called AE title is not ours",
    )
    parser.add_argument(
        "--require-user-identity",
        action="store_true",
        default=None,
        help="refuse operations (not C-ECHO) on associations without a "
        "verified user identity (users and tokens: see --config)",
    )
    parser.add_argument(
        "--no-direct-io",
        dest="direct_io",
        action="store_false",
        default=None,
        help="write stored files through the page cache, not with O_DIRECT "
        "(both are fsynced before the store is acknowledged)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="node processes sharing the port and the archive (default 1; "
        "about one per CPU core spreads a busy node over the cores)",
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="our TLS certificate (PEM)")
    parser.add_argument("--tls-key", metavar="FILE", help="its private key (PEM)")
    parser.add_argument(
        "--tls-ca", metavar="FILE", help="CA to verify client certificates with (mutual TLS)"
    )
    add_verbosity(parser)
    parser.set_defaults(run=run)


def add_node_options(parser: argparse.ArgumentParser) -> None:
    """Where the archive is: shared by serve and worklist."""
    parser.add_argument("--config", metavar="FILE", help="a TOML file of settings")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="files and the default SQLite index (default ./dicomwire-data)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///path or postgresql://user@host/db (default: SQLite in the data folder)",
    )


FLAG_KEYS = (
    "ae_title",
    "port",
    "bind",
    "data_dir",
    "database",
    "known_ae",
    "allow_caller",
    "max_associations",
    "on_duplicate",
    "tls_cert",
    "tls_key",
    "tls_ca",
    "check_called_ae",
    "require_user_identity",
    "direct_io",
    "workers",
)


def load_config(args: argparse.Namespace) -> Any:
    from ..node.config import ConfigError, load

    flags = {key: getattr(args, key, None) for key in FLAG_KEYS}
    try:
        return load(flags, args.config)
    except ConfigError as exc:
        raise CLIError(str(exc)) from exc



def run(args: argparse.Namespace) -> int:
    import logging

    from ..node.app import Node
    from . import serve_workers

    setup_logging(args)
    if not (args.verbose or args.debug):
        # The node's one line per association and operation is its log.
        logging.getLogger("dicomwire.node").setLevel(logging.INFO)
        logging.getLogger().setLevel(logging.INFO)
    config = load_config(args)
    number = serve_workers.worker_number()
    if number is None and config.workers > 1:
        return serve_workers.supervise(config, args.argv)
    listen_socket = None
    if number is not None:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(f"%(levelname).1s: w{number}: %(message)s"))
        listen_socket = serve_workers.worker_socket()
        serve_workers.watch_supervisor()
    try:
        node = Node(config, listen_socket)
        node.start()
    except Exception as exc:
        raise CLIError(f"cannot start: {exc}") from exc
    run_until_stopped(node.stop)
    return 0
