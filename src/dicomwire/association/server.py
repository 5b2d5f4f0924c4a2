"""The association server: accept connections, one thread per association.

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
from typing import TYPE_CHECKING, Any

from .._core.connection import Connection, ConnectionConfig, Role
from ..dimse.fragment import Reassembler
from ..events import EventType, Handler, HandlerRegistry
from ..transport.tcp import configure, listen
from .acceptor import serve
from .association import Association
from .link import Link

if TYPE_CHECKING:
    from ..ae import AE

LOGGER = logging.getLogger("dicomwire.server")


class AssociationServer:
    """Listens on one address and serves each association in its own thread."""

    def __init__(
        self,
        ae: AE,
        address: tuple[str, int],
        handlers: HandlerRegistry,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ae = ae
        self.handlers = handlers
        self.ssl_context = ssl_context
        self.socket = listen(address)
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: dict[threading.Thread, Association] = {}
        self._loop_thread: threading.Thread | None = None

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return host, port

    @property
    def active_associations(self) -> list[Association]:
        with self._lock:
            return [a for t, a in self._threads.items() if t.is_alive()]

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
                    if key.fileobj is self.socket:
                        self._accept()

    def _accept(self) -> None:
        try:
            sock, address = self.socket.accept()
        except OSError:
            return
        configure(sock)
        with self._lock:
            over_limit = self._count_alive() >= self.ae.maximum_associations
            assoc = Association(self.ae, "acceptor", self.handlers.copy())
            thread = threading.Thread(
                target=self._run,
                args=(assoc, sock, address, over_limit),
                name=f"dicomwire-assoc-{address[1]}",
                daemon=True,
            )
            self._threads[thread] = assoc
        thread.start()

    def _count_alive(self) -> int:
        for thread in [t for t in self._threads if not t.is_alive()]:
            del self._threads[thread]
        return len(self._threads)

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
            threads = list(self._threads)
        for thread in threads:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(left)
        return not self.active_associations

    def shutdown(self) -> None:
        """Stop accepting, abort every active association, wait for the threads."""
        self.stop_accepting()
        for assoc in self.active_associations:
            assoc.abort_from_outside()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)
        self._wake_r.close()
        self._wake_w.close()
        self.ae._server_stopped(self)

    def server_close(self) -> None:
        """Alias kept for users of socketserver-style servers."""
        self.shutdown()
