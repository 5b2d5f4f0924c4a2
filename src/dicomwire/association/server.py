"""The association server: accept connections, one thread per association.

Each association runs in a thread of its own, taken from a
:class:`~.workers.WorkerPool` that keeps a few finished threads for the next
associations instead of starting a new one every time.

The accept loop blocks in ``select`` on the listening socket and a wake-up
socket pair, so :meth:`AssociationServer.shutdown` stops it at once without
any polling interval.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from .._core.connection import Connection, ConnectionConfig, Role
from ..dimse.fragment import Reassembler
from ..events import EventType, Handler, HandlerRegistry
from ..transport.tcp import configure, listen
from .acceptor import serve
from .association import Association
from .link import Link
from .workers import WorkerPool

if TYPE_CHECKING:
    from ..ae import AE

LOGGER = logging.getLogger("dicomwire.server")
_MAX_ACCEPT_DELAY = 0.05  # a busy server still accepts within this (seconds)


class AssociationServer:
    """Listens on one address and serves each association in its own thread."""

    def __init__(
        self,
        ae: AE,
        address: tuple[str, int],
        handlers: HandlerRegistry,
        ssl_context: ssl.SSLContext | None = None,
        listen_socket: socket.socket | None = None,
        accept_delay: float = 0.0,
    ) -> None:
        self.ae = ae
        self.accept_delay = accept_delay
        self.handlers = handlers
        self.ssl_context = ssl_context
        self.socket = listen(address) if listen_socket is None else listen_socket
        # Other processes may accept on the same socket: the one that loses a
        # connection must go back to select(), where shutdown can reach it,
        # not block in accept().
        self.socket.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # Each running association, with the event set when its thread is done.
        self._active: dict[Association, threading.Event] = {}
        self._workers = WorkerPool(f"dicomwire-assoc-{self.server_address[1]}")
        self._loop_thread: threading.Thread | None = None

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return host, port

    @property
    def active_associations(self) -> list[Association]:
        with self._lock:
            return list(self._active)

    def bind(self, event: EventType, handler: Handler, args: Sequence[Any] = ()) -> None:
        """Bind a handler for associations accepted from now on, and running ones."""
        self.handlers.bind(event, handler, args)
        for assoc in self.active_associations:
            assoc.bind(event, handler, args)

    def unbind(self, event: EventType, handler: Handler) -> None:
        self.handlers.unbind(event, handler)
        for assoc in self.active_associations:
            assoc.unbind(event, handler)

    def start(self) -> None:
        """Run the accept loop in a background thread."""
        self._loop_thread = threading.Thread(
            target=self.serve_forever,
            name=f"dicomwire-server-{self.server_address[1]}",
            daemon=True,
        )
        self._loop_thread.start()

    def serve_forever(self) -> None:
        """Accept connections until :meth:`shutdown` (blocks the caller)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and self._accept_due():
                        self._accept()

    def _accept_due(self) -> bool:
        """Whether to accept now: at once when idle; with ``accept_delay``, only
        after waiting that long per running association, so that a less busy
        server on the same socket (another process) takes the connection first.
        Whoever loses finds nothing to accept and goes back to ``select``."""
        delay = min(self.accept_delay * len(self._active), _MAX_ACCEPT_DELAY)
        return delay <= 0 or not self._stopping.wait(delay)

    def _accept(self) -> None:
        try:
            sock, address = self.socket.accept()
        except OSError:
            return
        configure(sock)
        with self._lock:
            over_limit = len(self._active) >= self.ae.maximum_associations
            assoc = Association(self.ae, "acceptor", self.handlers.copy())
            self._active[assoc] = threading.Event()
        try:
            self._workers.submit(partial(self._serve_one, assoc, sock, address, over_limit))
        except RuntimeError as exc:  # no thread could be started: refuse this one only
            LOGGER.error("cannot serve %s: %s", address[0], exc)
            sock.close()
            self._finished(assoc)

    def _serve_one(
        self, assoc: Association, sock: socket.socket, address: Any, over_limit: bool
    ) -> None:
        # Named after the peer's port as before, for logs and thread dumps.
        threading.current_thread().name = f"dicomwire-assoc-{address[1]}"
        try:
            self._run(assoc, sock, address, over_limit)
        finally:
            self._finished(assoc)

    def _finished(self, assoc: Association) -> None:
        with self._lock:
            done = self._active.pop(assoc, None)
        if done is not None:
            done.set()

    def _run(self, assoc: Association, sock: socket.socket, address: Any, over_limit: bool) -> None:
        assoc.requestor.address, assoc.requestor.port = address[0], address[1]
        try:
            if self.ssl_context is not None:
                sock.settimeout(self.ae.acse_timeout)
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            LOGGER.error("TLS handshake with %s failed: %s", address[0], exc)
            sock.close()
            return
        conn = Connection(
            Role.ACCEPTOR,
            ConnectionConfig(
                max_pdu_length=self.ae.maximum_pdu_size,
                artim_timeout=self.ae.acse_timeout,
                acse_timeout=self.ae.acse_timeout,
                network_timeout=self.ae.network_timeout,
            ),
        )
        link = Link(sock, conn, Reassembler(spool_threshold=self.ae.spool_threshold))
        serve(assoc, link, over_limit)

    def stop_accepting(self) -> None:
        """Close the listening socket; running associations go on."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._loop_thread is not None and self._loop_thread is not threading.current_thread():
            self._loop_thread.join()
        self.socket.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running associations to end; False if some still run."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            running = list(self._active.values())
        for done in running:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done.wait(left)
        return not self.active_associations

    def shutdown(self) -> None:
        """Stop accepting, abort every active association, wait for the threads."""
        self.stop_accepting()
        for assoc in self.active_associations:
            assoc.abort_from_outside()
        with self._lock:
            running = list(self._active.values())
        for done in running:
            done.wait(timeout=10)
        self._workers.close()
        self._wake_r.close()
        self._wake_w.close()
        self.ae._server_stopped(self)

    def server_close(self) -> None:
        """Alias kept for users of socketserver-style servers."""
        self.shutdown()
