"""``dicomwire echo HOST PORT``: C-ECHO, like DCMTK's echoscu (PS3.4 Annex A)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import (
    CLIError,
    add_network_options,
    association,
    configure_ae,
    require_context,
    setup_logging,
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "echo",
        help="verify a peer with C-ECHO (like echoscu)",
        description="Send C-ECHO requests. Example: dicomwire echo -aec PACS pacs.local 104",
    )
    parser.add_argument("host", help="the peer's host name or address")
    parser.add_argument("port", type=int, help="the peer's port")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="send N echoes on one association (default: 1)",
    )
    add_network_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..ae import AE
    from ..sop_class import Verification

    setup_logging(args)
    ae = AE(args.calling_aet)
    configure_ae(ae, args)
    ae.add_requested_context(Verification)
    with association(ae, args) as assoc:
        require_context(assoc, Verification)
        for _ in range(max(1, args.repeat)):
            status = assoc.send_c_echo()
            if "Status" not in status:
                raise CLIError(f"no C-ECHO response: {assoc.abort_reason or 'association lost'}")
            if status.Status != 0:
                raise CLIError(f"C-ECHO failed with status 0x{status.Status:04X}")
    if args.verbose:
        print(f"C-ECHO to {args.host}:{args.port}: success x{max(1, args.repeat)}")
    return 0
