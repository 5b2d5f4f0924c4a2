"""Options shared by the tools, spelled as DCMTK spells them where it has them."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import ssl
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .progress import ProgressLine


class CLIError(Exception):
    """A mistake or failure to report as one line, with a non-zero exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_network_options(parser: argparse.ArgumentParser, *, called: bool = True) -> None:
    """-aet/-aec, timeouts, max PDU and verbosity (DCMTK: echoscu, storescu...)."""
    group = parser.add_argument_group("network")
    group.add_argument(
        "-aet",
        "--calling-aet",
        default="DICOMWIRE",
        metavar="TITLE",
        help="our AE title (default: %(default)s), e.g. -aet MYSCU",
    )
    if called:
        group.add_argument(
            "-aec",
            "--called-aet",
            default="ANY-SCP",
            metavar="TITLE",
            help="the peer's AE title (default: %(default)s), e.g. -aec PACS",
        )
    group.add_argument(
        "-to",
        "--connection-timeout",
        type=float,
        default=None,
        metavar="SEC",
        help="TCP connection timeout in seconds (default: none), e.g. -to 5",
    )
    group.add_argument(
        "-ta",
        "--acse-timeout",
        type=float,
        default=30.0,
        metavar="SEC",
        help="association negotiation timeout in seconds (default: %(default)s), e.g. -ta 10",
    )
    group.add_argument(
        "-td",
        "--dimse-timeout",
        type=float,
        default=30.0,
        metavar="SEC",
        help="seconds to wait for each DIMSE message (default: %(default)s), e.g. -td 120 "
        "for a slow archive",
    )
    group.add_argument(
        "-pdu",
        "--max-pdu",
        type=int,
        default=262144,
        metavar="BYTES",
        help="maximum PDU length we receive (default: %(default)s), e.g. -pdu 16384",
    )
    add_tls_options(parser)
    add_verbosity(parser)


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    """TLS (PS3.15 B.1). Long options only: DCMTK's ``--key`` is the query key (-k)."""
    group = parser.add_argument_group("TLS (any --tls-* option implies --tls)")
    group.add_argument(
        "--tls",
        action="store_true",
        help="use TLS, verifying the peer against the system's CAs or --tls-ca",
    )
    group.add_argument(
        "--tls-cert",
        dest="cert",
        metavar="FILE",
        help="our certificate (PEM), e.g. --tls-cert me.pem --tls-key me.key",
    )
    group.add_argument("--tls-key", dest="key", metavar="FILE", help="our private key (PEM)")
    group.add_argument(
        "--tls-ca",
        dest="ca",
        metavar="FILE",
        help="CA certificates to verify the peer with (PEM); a server then requires "
        "client certificates, e.g. --tls-ca site-ca.pem",
    )
    group.add_argument(
        "--no-verify",
        action="store_true",
        help="do not verify the peer's certificate (testing only)",
    )


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="say what happens")
    parser.add_argument(
        "-d", "--debug", action="store_true", help="debug output, and a traceback on errors"
    )


def setup_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname).1s: %(message)s", stream=sys.stderr)
    if not (args.verbose or args.debug):
        # Association failures are reported as one CLI line, not as log noise too.
        logging.getLogger("dicomwire").setLevel(logging.CRITICAL)


def progress_line(args: argparse.Namespace) -> ProgressLine:
    """The tool's status line: drawn on a terminal, but not among -v/-d log lines."""
    return ProgressLine(enabled=False if (args.verbose or args.debug) else None)


def tls_context(args: argparse.Namespace, server: bool) -> ssl.SSLContext | None:
    if not (getattr(args, "tls", False) or args.cert or args.key or args.ca):
        return None
    purpose = ssl.Purpose.CLIENT_AUTH if server else ssl.Purpose.SERVER_AUTH
    try:
        context = ssl.create_default_context(purpose, cafile=args.ca)
        if args.cert:
            context.load_cert_chain(args.cert, args.key)
    except (OSError, ssl.SSLError) as exc:
        raise CLIError(f"TLS setup failed: {exc}") from exc
    if args.no_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif server and args.ca:
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def configure_ae(ae: object, args: argparse.Namespace) -> None:
    ae.connection_timeout = args.connection_timeout  # type: ignore[attr-defined]
    ae.acse_timeout = args.acse_timeout  # type: ignore[attr-defined]
    ae.dimse_timeout = args.dimse_timeout  # type: ignore[attr-defined]
    ae.maximum_pdu_size = args.max_pdu  # type: ignore[attr-defined]


REJECT_REASONS = {
    (1, 1): "no reason given",
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognized",
    (1, 7): "called AE title not recognized",
    (2, 1): "no reason given",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}


def describe_failure(assoc: object, host: str, port: int) -> str:
    """One line saying why an association did not come up."""
    rejection = getattr(assoc, "rejection", None)
    if getattr(assoc, "is_rejected", False) and rejection:
        result, source, reason = rejection
        kind = "permanently" if result == 1 else "transiently"
        why = REJECT_REASONS.get((source, reason), f"source {source}, reason {reason}")
        return f"association rejected {kind} by {host}:{port}: {why}"
    why = getattr(assoc, "abort_reason", "") or "no answer"
    return f"association with {host}:{port} failed: {why}"


def open_association(
    ae: Any,
    args: argparse.Namespace,
    ext_neg: Sequence[Any] = (),
    evt_handlers: Sequence[Any] = (),
) -> Any:
    """Associate with ``args.host:args.port`` as the tools do, or raise CLIError."""
    context = tls_context(args, server=False)
    tls = (context, None if args.no_verify else args.host) if context else None
    assoc = ae.associate(
        args.host,
        args.port,
        ae_title=args.called_aet,
        max_pdu=args.max_pdu,
        tls_args=tls,
        ext_neg=list(ext_neg),
        evt_handlers=list(evt_handlers),
    )
    if not assoc.is_established:
        raise CLIError(describe_failure(assoc, args.host, args.port))
    return assoc


@contextlib.contextmanager
def association(
    ae: Any,
    args: argparse.Namespace,
    ext_neg: Sequence[Any] = (),
    evt_handlers: Sequence[Any] = (),
) -> Iterator[Any]:
    """An established association for the ``with`` block, released after it.

    If the block fails or is interrupted (Ctrl-C) the association is
    aborted instead: a release would wait for a peer that may still be
    busy sending responses.
    """
    assoc = open_association(ae, args, ext_neg, evt_handlers)
    try:
        yield assoc
    except BaseException:
        if assoc.is_established:
            assoc.abort()
        raise
    if assoc.is_established:
        assoc.release()


def require_context(assoc: Any, abstract_syntax: str) -> None:
    """Release and raise CLIError unless the peer accepted ``abstract_syntax``."""
    if assoc.find_contexts(abstract_syntax, "scu"):
        return
    assoc.release()
    raise CLIError(f"the peer accepted no presentation context for {uid_name(abstract_syntax)}")


def uid_name(uid: str) -> str:
    """``Patient Root Query/Retrieve Information Model - FIND (1.2.840...)``."""
    from pydicom.uid import UID

    name = UID(uid).name
    return f"{name} ({uid})" if name != uid else uid


def describe_status(status: Any, service: str) -> str:
    """``0xA801 (Refused: Move Destination unknown): comment`` for a response status."""
    from ..dimse.status import lookup

    code = int(status.Status)
    hit = lookup(service, code)
    text = f"0x{code:04X}" + (f" ({hit[1]})" if hit else "")
    comment = str(status.get("ErrorComment", "") or "").strip()
    return f"{text}: {comment}" if comment else text


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_until_stopped(stop: Callable[[], None]) -> None:
    """Wait for Ctrl-C or SIGTERM, then call ``stop`` (servers: listen, serve).

    SIGINT is handled explicitly too: a shell starts background jobs with
    SIGINT ignored, and Python would keep ignoring it.
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _interrupt)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
