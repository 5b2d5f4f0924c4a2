"""TCP and TLS transport for the DICOM Upper Layer (PS3.8 section 9.1).

Thin on purpose: open, accept, send gathered buffers, receive into a reused
buffer, close. Every socket error is turned into :class:`TransportError` so
the association layer deals with one exception type.
"""

from __future__ import annotations

import math
import select
import socket
import ssl
import struct
from collections.abc import Sequence

from .._core.errors import DicomwireError

Buffer = bytes | bytearray | memoryview

# Gather at most this many buffers in one sendmsg(); Linux allows 1024 (IOV_MAX).
_IOV_MAX = 512


class TransportError(DicomwireError):
    """The connection could not be opened, or failed while in use."""


_TIMEVAL = struct.Struct("@ll")  # struct timeval: seconds, microseconds


def set_kernel_timeout(sock: socket.socket, option: int, seconds: float | None) -> None:
    """Set SO_RCVTIMEO or SO_SNDTIMEO on a blocking socket; None: wait for ever.

    A blocking call then fails with EAGAIN (BlockingIOError) once ``seconds``
    pass without data, in one system call instead of poll() and the call.
    """
    if seconds is None:
        whole, micro = 0, 0  # all zero is "no timeout" to the kernel
    else:
        micro_total = max(1, math.ceil(seconds * 1_000_000))
        whole, micro = divmod(micro_total, 1_000_000)
    sock.setsockopt(socket.SOL_SOCKET, option, _TIMEVAL.pack(whole, micro))


def configure(sock: socket.socket) -> None:
    """Disable Nagle (every DIMSE exchange is request/response) and keep-alive."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def connect(
    address: str,
    port: int,
    *,
    timeout: float | None,
    bind_address: tuple[str, int] = ("", 0),
    tls: tuple[ssl.SSLContext, str | None] | None = None,
) -> socket.socket:
    """Open a TCP (optionally TLS) connection to the peer (PS3.8 9.1.2)."""
    try:
        sock = socket.create_connection(
            (address, port),
            timeout=timeout,
            source_address=bind_address if bind_address != ("", 0) else None,
        )
    except OSError as exc:
        raise TransportError(f"cannot connect to {address}:{port}: {_describe(exc)}") from exc
    configure(sock)
    if tls is None:
        return sock
    context, hostname = tls
    try:
        return context.wrap_socket(sock, server_hostname=hostname)
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        raise TransportError(f"TLS handshake with {address}:{port} failed: {exc}") from exc


def listen(address: tuple[str, int], backlog: int = 128) -> socket.socket:
    """A listening socket; ``("", port)`` listens on every IPv4 interface."""
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise TransportError(f"cannot listen on {host or '*'}:{port}: {_describe(exc)}") from exc
    return sock


def send_buffers(
    sock: socket.socket, buffers: Sequence[Buffer], timeout: float | None = None
) -> None:
    """Write every buffer, in order, with as few system calls as possible.

    When a send cannot write a byte (EAGAIN: a non-blocking socket, or a
    blocking one whose SO_SNDTIMEO passed, as the association driver sets
    it) this waits for room itself, up to ``timeout`` seconds (None: for
    ever; 0: fail at once); a Python socket timeout applies as usual.
    """
    if isinstance(sock, ssl.SSLSocket):
        # SSLSocket has no sendmsg(); small buffers are joined to save records.
        for buf in _coalesce(buffers):
            sock.sendall(buf)
        return
    sent = 0
    if len(buffers) <= _IOV_MAX:
        # The common case in one call: everything fits the socket buffer.
        try:
            sent = sock.sendmsg(buffers)
        except BlockingIOError:
            pass
        except OSError as exc:
            raise TransportError(f"sending failed: {_describe(exc)}") from exc
        if sent == sum(map(len, buffers)):
            return
    pending = _advance([memoryview(b).cast("B") for b in buffers if len(b)], sent)
    while pending:
        try:
            sent = sock.sendmsg(pending[:_IOV_MAX])
        except BlockingIOError:
            _wait_writable(sock, timeout)
            continue
        except OSError as exc:
            raise TransportError(f"sending failed: {_describe(exc)}") from exc
        pending = _advance(pending, sent)


def _wait_writable(sock: socket.socket, timeout: float | None) -> None:
    """Block until ``sock`` can take more bytes; TransportError after ``timeout``."""
    poller = select.poll()
    poller.register(sock, select.POLLOUT)
    if not poller.poll(poll_milliseconds(timeout)):
        raise TransportError("sending failed: timed out")


def poll_milliseconds(timeout: float | None) -> int:
    """A timeout in seconds as ``poll()`` takes it: whole ms rounded up, -1 for none.

    Rounding up means a wait never ends before its deadline.
    """
    if timeout is None:
        return -1
    return max(0, math.ceil(timeout * 1000))


def _advance(pending: list[memoryview], sent: int) -> list[memoryview]:
    """Drop ``sent`` bytes from the front of ``pending`` (partial sendmsg)."""
    index = 0
    while index < len(pending) and sent >= len(pending[index]):
        sent -= len(pending[index])
        index += 1
    rest = pending[index:]
    if rest and sent:
        rest[0] = rest[0][sent:]
    return rest


def _coalesce(buffers: Sequence[Buffer]) -> list[Buffer]:
    out: list[Buffer] = []
    small: list[Buffer] = []
    for buf in buffers:
        if len(buf) < 16384:
            small.append(buf)
            continue
        if small:
            out.append(b"".join(small))
            small = []
        out.append(buf)
    if small:
        out.append(b"".join(small))
    return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
