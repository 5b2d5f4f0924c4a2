"""The node: an AE with the archive's handlers, its index and its file store."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from typing import Any

from pydicom.uid import AllTransferSyntaxes

from .. import AE, AllStoragePresentationContexts
from ..sop_class import Verification
from .config import NodeConfig
from .handlers import MODELS, RELEVANT_PATIENT, WORKLIST, NodeHandlers
from .index import Index
from .store import FileStore

LOGGER = logging.getLogger("dicomwire.node")
# Seconds a worker waits per association it runs before taking a new one (see
# AE.start_server): longer than an idle worker takes to wake on a loaded machine,
# short beside an association's own set-up over a network.
WORKER_ACCEPT_DELAY = 0.005


def build_ae(config: NodeConfig) -> AE:
    """The AE with every context the node serves (PS3.4 A, B, C, K, Q)."""
    ae = AE(config.ae_title)
    ae.maximum_associations = config.max_associations
    ae.maximum_pdu_size = config.max_pdu
    ae.require_calling_aet = list(config.allow_caller)
    ae.require_called_aet = config.check_called_ae
    # Keep what senders send, and send what C-GET receivers ask for first.
    ae.transfer_syntax_preference = "requestor"
    # Instances are kept as sent, so every transfer syntax pydicom knows is fine.
    everything = [str(t) for t in AllTransferSyntaxes]
    for cx in AllStoragePresentationContexts:
        # C-GET sends instances back on the same association: accept the
        # requestor's proposal to act as Storage SCP (PS3.7 D.3.3.4).
        ae.add_supported_context(cx.abstract_syntax, everything, scp_role=True)
    for uid in [str(Verification), *MODELS, WORKLIST, *RELEVANT_PATIENT]:
        ae.add_supported_context(uid)
    return ae


def tls_context(config: NodeConfig) -> ssl.SSLContext | None:
    if not config.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    if config.tls_ca:
        context.load_verify_locations(config.tls_ca)
        context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS
    return context


class Node:
    """A running archive; :meth:`stop` finishes what is in flight first."""

    def __init__(self, config: NodeConfig, listen_socket: socket.socket | None = None) -> None:
        """``listen_socket``: serve this listening socket (a worker's, see
        ``cli/serve_workers.py``) rather than open one on ``bind:port``."""
        self.config = config
        self.listen_socket = listen_socket
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = FileStore(config.data_dir, config.direct_io)
        self.index = Index(config.database_url, data_dir=config.data_dir)
        self.ae = build_ae(config)
        self.handlers = NodeHandlers(config, self.index, self.store)
        self.server: Any = None
        self._stopped = threading.Event()

    def start(self) -> None:
        self.server = self.ae.start_server(
            (self.config.bind, self.config.port),
            block=False,
            evt_handlers=self.handlers.handlers(),
            ssl_context=tls_context(self.config),
            listen_socket=self.listen_socket,
            # Workers share the socket: the least busy one should take each association.
            accept_delay=WORKER_ACCEPT_DELAY if self.listen_socket is not None else 0.0,
        )
        counts = self.index.counts()
        LOGGER.info(
            "%s listening on %s:%d, %d instances in %s",
            self.config.ae_title, self.config.bind or "*", self.config.port,
            counts.get("instances", 0), self.config.data_dir,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop accepting, let running associations end (up to the grace period)."""
        if self.server is None or self._stopped.is_set():
            return
        self._stopped.set()
        self.server.stop_accepting()
        if not self.server.wait(self.config.shutdown_grace):
            LOGGER.warning(
                "associations still open after %.0f s: aborting them", self.config.shutdown_grace
            )
        self.server.shutdown()
        self.index.close()
        LOGGER.info("stopped")
