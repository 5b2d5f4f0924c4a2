"""``dicomwire listen PORT -od DIR``: a Storage SCP writing files, like storescp.

Every instance is written bit for bit as received (file meta + the data set
bytes in the negotiated transfer syntax), to a temporary file that is
fsynced and renamed into place before Success is answered (PS3.4 B.2.3: an
instance acknowledged must have been kept).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..node.direct_io import DirectWriter, fsync_folder, in_new_folder
from .common import (
    CLIError,
    add_tls_options,
    add_verbosity,
    run_until_stopped,
    setup_logging,
    tls_context,
)

LOGGER = logging.getLogger("dicomwire.listen")

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WRITER = DirectWriter()  # received files are fsynced anyway: skip the page cache


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "listen",
        help="receive DICOM instances into a folder (like storescp)",
        description="Run a Storage SCP. Example: dicomwire listen 11112 -od ./received",
    )
    parser.add_argument("port", type=int, help="the port to listen on")
    add_output_options(parser)
    parser.add_argument(
        "-aet",
        "--ae-title",
        default="DICOMWIRE",
        metavar="TITLE",
        help="our AE title (default: %(default)s)",
    )
    parser.add_argument(
        "--bind", default="", metavar="ADDR", help="address to listen on (default: all)"
    )
    parser.add_argument(
        "-pdu",
        "--max-pdu",
        type=int,
        default=262144,
        metavar="BYTES",
        help="maximum PDU length we receive (default: %(default)s)",
    )
    parser.add_argument(
        "--max-associations",
        type=int,
        default=10,
        metavar="N",
        help="concurrent associations allowed (default: %(default)s)",
    )
    add_tls_options(parser)
    add_verbosity(parser)
    parser.set_defaults(run=run)


def add_output_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """-od and --layout: where received instances go (listen, get, move --port)."""
    parser.add_argument(
        "-od",
        "--output-directory",
        default=".",
        metavar="DIR",
        help="where received files go, created if needed (default: the current folder), "
        "e.g. -od ./received",
    )
    parser.add_argument(
        "--layout",
        choices=("flat", "patient"),
        default="flat",
        help="flat (default): DIR/<SOPInstanceUID>.dcm; patient: "
        "DIR/<PatientID>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm, e.g. --layout patient",
    )


def instance_path(root: Path, event: Any, layout: str) -> Path:
    """Where an instance goes; no value from the peer is used unchecked."""
    sop_instance = str(event.request.AffectedSOPInstanceUID)
    if not _UID.match(sop_instance) or len(sop_instance) > 64:
        raise ValueError(f"invalid SOP Instance UID {sop_instance!r}")
    if layout == "flat":
        return root / f"{sop_instance}.dcm"
    ds = event.dataset
    patient = _SAFE.sub("_", str(ds.get("PatientID", "") or "UNKNOWN")).strip("._") or "UNKNOWN"
    parts = [patient[:64]]
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
        uid = str(ds.get(keyword, ""))
        parts.append(uid if _UID.match(uid) else "UNKNOWN")
    return root.joinpath(*parts, f"{sop_instance}.dcm")


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp, fsync, rename)."""
    make_temp = functools.partial(
        tempfile.mkstemp, dir=path.parent, prefix=".incoming-", suffix=".part"
    )
    fd, temp = in_new_folder(path.parent, make_temp)  # the folder's first instance makes it
    os.close(fd)  # opened again by the writer, directly where the filesystem allows
    try:
        _WRITER.write_file(temp, lambda: (data,))
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    fsync_folder(path.parent)


def make_store_handler(
    root: Path, layout: str, on_stored: Callable[[Path, int], None] | None = None
) -> Any:
    """An EVT_C_STORE handler writing each instance under ``root`` by ``layout``.

    ``on_stored(path, size)`` is called after each instance is durably written
    (from the association's thread: it must be thread-safe for a server).
    """

    def handle_store(event: Any) -> int:
        try:
            path = instance_path(root, event, layout)
        except ValueError as exc:
            LOGGER.error("refusing instance: %s", exc)
            return 0xA900  # Error: data set does not match SOP class (PS3.4 B.2.3)
        data = event.encoded_dataset(include_meta=True)
        try:
            write_durably(path, data)
        except OSError as exc:
            LOGGER.error("cannot write %s: %s", path, exc)
            return 0xA700  # Refused: out of resources
        LOGGER.info("stored %s", path)
        if on_stored is not None:
            on_stored(path, len(data))
        return 0x0000

    return handle_store


def start_storage_scp(
    ae_title: str,
    address: tuple[str, int],
    handler: Any,
    max_pdu: int,
    max_associations: int = 10,
    ssl_context: Any = None,
) -> Any:
    """A Storage SCP in the background accepting every storage SOP class.

    Every transfer syntax pydicom knows is accepted, so compressed images
    are kept as sent. Returns the server (``shutdown()`` stops it).
    """
    from pydicom.uid import AllTransferSyntaxes

    from .. import AllStoragePresentationContexts, evt
    from ..ae import AE
    from ..sop_class import Verification

    ae = AE(ae_title)
    ae.maximum_pdu_size = max_pdu
    ae.maximum_associations = max_associations
    syntaxes = [str(t) for t in AllTransferSyntaxes]
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, syntaxes)
    ae.add_supported_context(Verification)
    try:
        return ae.start_server(
            address,
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, handler)],
            ssl_context=ssl_context,
        )
    except Exception as exc:
        raise CLIError(f"cannot listen on port {address[1]}: {exc}") from exc


def create_folder(root: Path) -> None:
    """Create the output folder, or raise CLIError."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {root}: {exc}") from exc



def run(args: argparse.Namespace) -> int:
    setup_logging(args)
    root = Path(args.output_directory)
    create_folder(root)
    server = start_storage_scp(
        args.ae_title,
        (args.bind, args.port),
        make_store_handler(root, args.layout),
        max_pdu=args.max_pdu,
        max_associations=args.max_associations,
        ssl_context=tls_context(args, server=True),
    )
    print(
        f"listening on {args.bind or '*'}:{args.port} as {args.ae_title}, writing to {root}",
        file=sys.stderr,
    )
    run_until_stopped(server.shutdown)
    return 0
