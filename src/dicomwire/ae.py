"""The Application Entity: contexts, settings, ``associate()`` and ``start_server()``.

An AE (PS3.7 section 6, PS3.8 section 7.1) is the local DICOM application:
it proposes presentation contexts as an association requestor
(:meth:`AE.associate`) and supports them as an acceptor
(:meth:`AE.start_server`).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Sequence
from typing import Any

from pydicom.uid import UID

from .association.association import Association
from .association.requestor import request_association
from .association.server import AssociationServer
from .events import HandlerRegistry, HandlerSpec
from .presentation import DEFAULT_TRANSFER_SYNTAXES, PresentationContext, build_context

LOGGER = logging.getLogger("dicomwire.ae")

IMPLEMENTATION_UID = UID("2.25.238454812926425338405326453914526094311")
"""dicomwire's Implementation Class UID (PS3.7 D.3.3.2), a UUID-derived UID."""
IMPLEMENTATION_VERSION = "DICOMWIRE_010"
"""dicomwire's Implementation Version Name (PS3.7 D.3.3.2.3): at most 16 characters."""

_MAX_REQUESTED = 128  # PS3.8 9.3.2.2: odd context IDs 1..255


def _ae_title(value: str | bytes) -> str:
    """Validate an AE title (PS3.5 Table 6.2-1, VR AE): 1-16 characters, no controls."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="strict")
    if not isinstance(value, str):
        raise TypeError("an AE title is a str (or ASCII bytes)")
    title = value.strip()
    if not 1 <= len(title) <= 16:
        raise ValueError(f"an AE title has 1 to 16 significant characters: {value!r}")
    if "\\" in title or any(ord(ch) < 0x20 or ord(ch) > 0x7E for ch in title):
        raise ValueError(f"an AE title may not contain backslash or control characters: {value!r}")
    return title


class AE:
    """A DICOM Application Entity (PS3.7 section 6).

    Settings users of pynetdicom know: ``acse_timeout``, ``dimse_timeout``,
    ``network_timeout``, ``connection_timeout`` (seconds or ``None``),
    ``maximum_associations``, ``maximum_pdu_size`` (our Maximum Length
    Received, 0 for no limit), ``require_calling_aet`` (allowed calling AE
    titles, empty for any) and ``require_called_aet``. Also
    ``spool_threshold``: received data sets larger than this many bytes are
    written to a temporary file instead of being held in memory; and
    ``transfer_syntax_preference``: ``"acceptor"`` (default) takes the first
    of our supported transfer syntaxes that was proposed, ``"requestor"``
    the first proposed that we support.
    """

    def __init__(self, ae_title: str | bytes = "DICOMWIRE") -> None:
        self._ae_title = _ae_title(ae_title)
        self.implementation_class_uid: str = IMPLEMENTATION_UID
        self.implementation_version_name: str | None = IMPLEMENTATION_VERSION
        self.acse_timeout: float | None = 30.0
        self.dimse_timeout: float | None = 30.0
        self.network_timeout: float | None = 60.0
        self.connection_timeout: float | None = None
        self.maximum_associations = 10
        self.maximum_pdu_size = 262144
        self.spool_threshold = 32 * 1024 * 1024
        # Whose order picks a context's transfer syntax: "acceptor" (ours, as
        # DCMTK storescp and pynetdicom do) or "requestor" (an archive's choice).
        self.transfer_syntax_preference = "acceptor"
        self._require_calling_aet: list[str] = []
        self.require_called_aet = False
        self._requested: list[PresentationContext] = []
        self._supported: dict[str, PresentationContext] = {}
        self._servers: list[AssociationServer] = []
        self._lock = threading.Lock()

    # -- identity -------------------------------------------------------------

    @property
    def ae_title(self) -> str:
        """This AE's title, as a str; bytes are accepted when setting it."""
        return self._ae_title

    @ae_title.setter
    def ae_title(self, value: str | bytes) -> None:
        self._ae_title = _ae_title(value)

    @property
    def require_calling_aet(self) -> list[str]:
        """Calling AE titles allowed to associate; empty allows any."""
        return list(self._require_calling_aet)

    @require_calling_aet.setter
    def require_calling_aet(self, titles: Sequence[str | bytes]) -> None:
        self._require_calling_aet = [_ae_title(t) for t in titles]

    # -- presentation contexts ----------------------------------------------

    @property
    def requested_contexts(self) -> list[PresentationContext]:
        """Contexts proposed by :meth:`associate` when none are given."""
        return list(self._requested)

    @requested_contexts.setter
    def requested_contexts(self, contexts: Sequence[PresentationContext]) -> None:
        if len(contexts) > _MAX_REQUESTED:
            raise ValueError(f"at most {_MAX_REQUESTED} presentation contexts can be requested")
        self._requested = [cx.copy() for cx in contexts]

    def add_requested_context(
        self, abstract_syntax: str | bytes | UID, transfer_syntax: Any = None
    ) -> None:
        """Propose ``abstract_syntax`` with ``transfer_syntax`` (PS3.8 9.3.2.2)."""
        if len(self._requested) >= _MAX_REQUESTED:
            raise ValueError(f"at most {_MAX_REQUESTED} presentation contexts can be requested")
        syntaxes = DEFAULT_TRANSFER_SYNTAXES if transfer_syntax is None else transfer_syntax
        self._requested.append(build_context(abstract_syntax, syntaxes))

    def remove_requested_context(
        self, abstract_syntax: str | bytes | UID, transfer_syntax: Any = None
    ) -> None:
        """Withdraw a proposed context, or only some of its transfer syntaxes."""
        uid = build_context(abstract_syntax).abstract_syntax
        self._requested = _without(self._requested, uid, transfer_syntax)

    @property
    def supported_contexts(self) -> list[PresentationContext]:
        """Contexts accepted by servers, sorted by abstract syntax.

        The list holds the AE's own objects: setting ``scu_role``/``scp_role``
        on them changes what the AE answers to role selection.
        """
        return [self._supported[k] for k in sorted(self._supported)]

    @supported_contexts.setter
    def supported_contexts(self, contexts: Sequence[PresentationContext]) -> None:
        self._supported = {}
        for cx in contexts:
            self.add_supported_context(
                cx.abstract_syntax, cx.transfer_syntax, cx.scu_role, cx.scp_role
            )

    def add_supported_context(
        self,
        abstract_syntax: str | bytes | UID,
        transfer_syntax: Any = None,
        scu_role: bool | None = None,
        scp_role: bool | None = None,
    ) -> None:
        """Accept ``abstract_syntax`` in ``transfer_syntax``; roles as in PS3.7 D.3.3.4."""
        syntaxes = DEFAULT_TRANSFER_SYNTAXES if transfer_syntax is None else transfer_syntax
        new = build_context(abstract_syntax, syntaxes)
        key = str(new.abstract_syntax)
        existing = self._supported.get(key)
        if existing is not None:
            for ts in new.transfer_syntax:
                existing.add_transfer_syntax(ts)
            new = existing
        new.scu_role, new.scp_role = scu_role, scp_role
        self._supported[key] = new

    def remove_supported_context(
        self, abstract_syntax: str | bytes | UID, transfer_syntax: Any = None
    ) -> None:
        """Stop supporting a context, or only some of its transfer syntaxes."""
        uid = build_context(abstract_syntax).abstract_syntax
        kept = _without(list(self._supported.values()), uid, transfer_syntax)
        self._supported = {str(cx.abstract_syntax): cx for cx in kept}

    # -- requestor ----------------------------------------------------------

    def associate(
        self,
        addr: str,
        port: int,
        contexts: Sequence[PresentationContext] | None = None,
        ae_title: str | bytes = "ANY-SCP",
        max_pdu: int = 16382,
        ext_neg: Sequence[Any] | None = None,
        bind_address: tuple[str, int] = ("", 0),
        tls_args: tuple[ssl.SSLContext, str | None] | None = None,
        evt_handlers: Sequence[HandlerSpec] | None = None,
    ) -> Association:
        """Request an association with the AE at ``addr``:``port`` (PS3.8 7.1).

        Returns the :class:`Association` whatever happened; check
        ``is_established`` (or ``is_rejected``/``is_aborted``) before use.
        """
        if not isinstance(addr, str):
            raise TypeError("addr is the peer's host name or IP address as a str")
        proposed = list(contexts) if contexts is not None else self._requested
        if not proposed:
            raise RuntimeError("no requested presentation contexts: add some first")
        return request_association(
            self,
            addr,
            int(port),
            proposed,
            _ae_title(ae_title),
            max_pdu,
            list(ext_neg or ()),
            bind_address,
            tls_args,
            HandlerRegistry(evt_handlers),
        )

    # -- acceptor -----------------------------------------------------------

    def start_server(
        self,
        address: tuple[str, int],
        block: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        evt_handlers: Sequence[HandlerSpec] | None = None,
        *,
        listen_socket: socket.socket | None = None,
        accept_delay: float = 0.0,
    ) -> AssociationServer | None:
        """Listen for associations on ``address`` (PS3.8 9.1.1).

        ``block=True`` serves in the calling thread until interrupted (Ctrl-C)
        and returns ``None``; ``block=False`` serves in the background and
        returns the server, whose ``shutdown()`` stops it.

        ``listen_socket`` (dicomwire's own): serve a socket that is already
        bound and listening instead of opening one on ``address``, such as
        one inherited from a process that shares it between several
        servers, or from systemd socket activation. Several servers may
        accept on one socket; each takes the connections it gets to first.
        ``accept_delay`` (seconds, dicomwire's own) evens that out: a
        server waits that long per association it is already running
        before it accepts (at most 50 ms), so an idle one gets there first.
        """
        if not self._supported:
            raise ValueError(
                "no supported presentation contexts: add some before starting a server"
            )
        registry = HandlerRegistry(evt_handlers)
        server = AssociationServer(
            self, address, registry, ssl_context, listen_socket, accept_delay
        )
        with self._lock:
            self._servers.append(server)
        if not block:
            server.start()
            return server
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            LOGGER.info("interrupted: stopping the server")
        finally:
            server.shutdown()
        return None

    def shutdown(self) -> None:
        """Stop every server this AE started."""
        for server in list(self._servers):
            server.shutdown()

    def _server_stopped(self, server: AssociationServer) -> None:
        with self._lock:
            if server in self._servers:
                self._servers.remove(server)

    @property
    def active_associations(self) -> list[Association]:
        """Associations currently served by this AE's servers."""
        return [a for s in list(self._servers) for a in s.active_associations]

    def __repr__(self) -> str:
        return f"<AE {self.ae_title!r}>"


def _without(
    contexts: list[PresentationContext], uid: UID, transfer_syntax: Any
) -> list[PresentationContext]:
    """``contexts`` less ``uid`` (all of it, or only the given transfer syntaxes)."""
    if transfer_syntax is None:
        return [cx for cx in contexts if cx.abstract_syntax != uid]
    drop = {
        str(t) for t in ([transfer_syntax] if isinstance(transfer_syntax, str) else transfer_syntax)
    }
    kept = []
    for cx in contexts:
        if cx.abstract_syntax == uid:
            cx.transfer_syntax = [t for t in cx.transfer_syntax if str(t) not in drop]
            if not cx.transfer_syntax:
                continue
        kept.append(cx)
    return kept
