"""``dicomwire get HOST PORT -k KEY... -od DIR``: C-GET, like DCMTK's getscu (PS3.4 C.4.3).

The instances come back on the same association as C-STORE requests, so
the association proposes, besides the Query/Retrieve GET context, one
context per storage SOP class it can receive, each with SCP role
selection (PS3.7 D.3.3.4). Every instance is written as received, bit for
bit, with the same durable writer and folder layouts as ``listen``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import (
    add_network_options,
    association,
    configure_ae,
    progress_line,
    require_context,
    setup_logging,
)
from .listen import add_output_options, create_folder, make_store_handler
from .qr import Received, add_query_options, follow_retrieve, identifier, summary

EXAMPLES = """\
examples:
  dicomwire get -aec PACS pacs.local 104 -k QueryRetrieveLevel=STUDY \\
      -k StudyInstanceUID=1.2.840.113619.2.1 -od ./study
  dicomwire get -S pacs.local 104 -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=1.2.3 \\
      -k SeriesInstanceUID=1.2.3.4 -od ./series --layout patient +xa

The exit code is non-zero when any sub-operation failed or the C-GET itself failed.
"""

# PS3.8 9.3.2.2: at most 128 presentation contexts, one of which is the GET context.
MAX_STORAGE_CONTEXTS = 127


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "get",
        help="retrieve instances with C-GET (like getscu)",
        description="Retrieve matching instances over the same association with C-GET.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        prefix_chars="-+",
    )
    parser.add_argument("host", help="the peer's host name or address")
    parser.add_argument("port", type=int, help="the peer's port")
    add_query_options(parser, "PSO", default="P")
    add_output_options(parser)
    add_accept_all(parser)
    add_network_options(parser)
    parser.set_defaults(run=run)


def add_accept_all(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "+xa",
        "--accept-all",
        action="store_true",
        help="propose the common compressed transfer syntaxes (JPEG, JPEG-LS, JPEG 2000, "
        "RLE) as well as the uncompressed ones, so compressed instances come as stored",
    )


def storage_syntaxes(accept_all: bool) -> list[str]:
    """Transfer syntaxes to propose for storage: uncompressed, plus compressed ones on +xa.

    Explicit VR Little Endian comes first, as getscu proposes it: a peer
    that takes the first one it supports then keeps the VRs of private
    elements, which Implicit VR would lose.
    """
    from pydicom import uid

    syntaxes = [
        uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian,
        uid.DeflatedExplicitVRLittleEndian, uid.ExplicitVRBigEndian,
    ]  # fmt: skip
    if accept_all:
        # Image compression only: proposing the video syntaxes too would make
        # the A-ASSOCIATE-RQ over 100 KB for 120 contexts.
        syntaxes += [
            uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless,
            uid.JPEGLosslessSV1, uid.JPEGLSLossless, uid.JPEGLSNearLossless,
            uid.JPEG2000Lossless, uid.JPEG2000, uid.HTJ2KLossless, uid.HTJ2KLosslessRPCL,
            uid.HTJ2K, uid.RLELossless,
        ]  # fmt: skip
    return [str(ts) for ts in syntaxes]


def run(args: argparse.Namespace) -> int:
    from .. import StoragePresentationContexts, build_role, evt
    from ..ae import AE
    from ..services.qr_scu import QUERY_MODELS

    setup_logging(args)
    query = identifier(args)
    get_class = QUERY_MODELS["get"][args.model]
    root = Path(args.output_directory)
    create_folder(root)
    ae = AE(args.calling_aet)
    configure_ae(ae, args)
    ae.add_requested_context(get_class)
    storage = [str(cx.abstract_syntax) for cx in StoragePresentationContexts]
    storage = storage[:MAX_STORAGE_CONTEXTS]
    syntaxes = storage_syntaxes(args.accept_all)
    for sop_class in storage:
        ae.add_requested_context(sop_class, syntaxes)
    roles = [build_role(sop_class, scp_role=True) for sop_class in storage]
    received = Received()
    handler = make_store_handler(root, args.layout, received.add)
    with association(ae, args, roles, [(evt.EVT_C_STORE, handler)]) as assoc:
        require_context(assoc, get_class)
        responses = assoc.send_c_get(query, args.model)
        result = follow_retrieve(responses, assoc, "C-GET", progress_line(args))
    print(f"{summary(result, 'get', 'qr_get')}; {received.text(root)}", file=sys.stderr)
    return 1 if result.failed() else 0
