"""``dicomwire move HOST PORT -aem DEST -k KEY...``: C-MOVE, like DCMTK's movescu (PS3.4 C.4.2).

The peer sends the matching instances to the AE titled DEST over
associations of its own, so it must know DEST's address. With ``+P PORT``
(``--port``), as in movescu, dicomwire also runs that destination itself:
a Storage SCP on PORT writing what arrives into ``-od DIR``; DEST then
defaults to our own AE title (``-aet``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import (
    CLIError,
    add_network_options,
    association,
    configure_ae,
    progress_line,
    require_context,
    setup_logging,
    tls_context,
)
from .listen import add_output_options, create_folder, make_store_handler, start_storage_scp
from .qr import Received, add_query_options, follow_retrieve, identifier, summary

EXAMPLES = """\
examples:
  dicomwire move -aec PACS -aem WORKSTATION pacs.local 104 \\
      -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=1.2.840.113619.2.1
  dicomwire move -aet ME -aec PACS pacs.local 104 +P 11113 -od ./incoming \\
      -k QueryRetrieveLevel=PATIENT -k PatientID=12345

With +P the peer must know our AE title (here ME) as a destination at this
host and PORT. The exit code is non-zero when any sub-operation failed or
the C-MOVE itself failed (for example 0xA801: the peer does not know DEST).
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "move",
        help="have a peer send instances somewhere with C-MOVE (like movescu)",
        description="Ask a Query/Retrieve SCP to send matching instances to an AE with C-MOVE.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        prefix_chars="-+",
    )
    parser.add_argument("host", help="the peer's host name or address")
    parser.add_argument("port", type=int, help="the peer's port")
    add_query_options(parser, "PSO", default="P")
    parser.add_argument(
        "-aem",
        "--move-destination",
        metavar="TITLE",
        help="the AE title the peer sends the instances to; required unless +P is given "
        "(then our own -aet), e.g. -aem WORKSTATION",
    )
    incoming = parser.add_argument_group("receiving the instances ourselves (+P)")
    incoming.add_argument(
        "+P",
        "--port",
        dest="incoming_port",
        type=int,
        metavar="PORT",
        help="run the move destination here: a Storage SCP on PORT writing to -od, "
        "e.g. +P 11113 -od ./incoming",
    )
    add_output_options(incoming)
    add_network_options(parser)
    parser.set_defaults(run=run)


def destination(args: argparse.Namespace) -> str:
    """The move destination AE title (PS3.7 9.1.4.1.7), checked before associating."""
    title = args.move_destination
    if title is None:
        if args.incoming_port is None:
            raise CLIError("give the move destination with -aem TITLE (or receive here with +P)", 2)
        title = args.calling_aet
    title = str(title).strip()
    if not 1 <= len(title) <= 16 or "\\" in title:
        raise CLIError(f"the move destination must be an AE title of 1-16 characters: {title!r}", 2)
    return title


def run(args: argparse.Namespace) -> int:
    from ..ae import AE
    from ..services.qr_scu import QUERY_MODELS

    setup_logging(args)
    dest = destination(args)
    query = identifier(args)
    move_class = QUERY_MODELS["move"][args.model]
    ae = AE(args.calling_aet)
    configure_ae(ae, args)
    ae.add_requested_context(move_class)
    received = Received()
    server = _start_destination(args, dest, received) if args.incoming_port else None
    try:
        with association(ae, args) as assoc:
            require_context(assoc, move_class)
            responses = assoc.send_c_move(query, dest, args.model)
            result = follow_retrieve(responses, assoc, "C-MOVE", progress_line(args))
    finally:
        if server is not None:
            server.shutdown()
    line = summary(result, f"move to {dest}", "qr_move")
    if server is not None:
        line += f"; {received.text(args.output_directory)}"
    print(line, file=sys.stderr)
    return 1 if result.failed() else 0


def _start_destination(args: argparse.Namespace, dest: str, received: Received) -> Any:
    """Our own Storage SCP on +P PORT, answering as ``dest``."""
    root = Path(args.output_directory)
    create_folder(root)
    ssl_context = None
    if args.tls or args.cert or args.ca:
        if not args.cert:
            raise CLIError("TLS on the +P port needs a certificate: give --tls-cert", 2)
        ssl_context = tls_context(args, server=True)
    return start_storage_scp(
        dest,
        ("", args.incoming_port),
        make_store_handler(root, args.layout, received.add),
        max_pdu=args.max_pdu,
        ssl_context=ssl_context,
    )
