"""The requestor side: connect, propose, and take the acceptor's answer."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._core.connection import (
    AbortIndication,
    AssociateAccepted,
    AssociateRejected,
    Connection,
    ConnectionConfig,
    Role,
)
from .._core.negotiation import negotiate_as_requestor
from .._core.pdu import (
    A_ASSOCIATE_RQ,
    AsynchronousOperationsWindow,
    PresentationContextRQ,
    RoleSelection,
    SOPClassCommonExtendedNegotiation,
    SOPClassExtendedNegotiation,
    UserIdentityRQ,
    UserInformation,
)
from ..dimse.fragment import Reassembler
from ..events import (
    EVT_ACCEPTED,
    EVT_CONN_OPEN,
    EVT_ESTABLISHED,
    EVT_REJECTED,
    EVT_REQUESTED,
    HandlerRegistry,
)
from ..presentation import PresentationContext
from ..transport.tcp import TransportError, connect
from .association import Association
from .link import Link

if TYPE_CHECKING:
    from ..ae import AE

LOGGER = logging.getLogger("dicomwire.requestor")


def request_association(
    ae: AE,
    address: str,
    port: int,
    contexts: Sequence[PresentationContext],
    called_aet: str,
    max_pdu: int,
    ext_neg: Sequence[Any],
    bind_address: tuple[str, int],
    tls_args: tuple[ssl.SSLContext, str | None] | None,
    handlers: HandlerRegistry,
) -> Association:
    """Open the connection and negotiate; the result's flags say how it went."""
    assoc = Association(ae, "requestor", handlers)
    assoc.requestor.ae_title = ae.ae_title
    assoc.acceptor.ae_title = called_aet
    assoc.acceptor.address, assoc.acceptor.port = address, port
    # pynetdicom-style negotiation objects (dicomwire.pdu_primitives) turn
    # into the PDU sub-items; the sub-items themselves are taken as they are.
    ext_neg = [item.to_item() if hasattr(item, "to_item") else item for item in ext_neg]
    proposed = _number(contexts, ext_neg)
    request = A_ASSOCIATE_RQ(
        called_ae_title=called_aet,
        calling_ae_title=ae.ae_title,
        presentation_contexts=tuple(
            PresentationContextRQ(
                cx.context_id or 0,
                str(cx.abstract_syntax),
                tuple(str(t) for t in cx.transfer_syntax),
            )
            for cx in proposed
        ),
        user_information=_user_information(ae, max_pdu, ext_neg),
    )
    assoc.requestor.user_information = request.user_information
    assoc.requestor.maximum_length = max_pdu
    conn = Connection(Role.REQUESTOR, _config(ae, max_pdu))
    conn.send(request)  # EVT1 -> AE-1: connect the transport
    try:
        sock = connect(
            address, port, timeout=ae.connection_timeout, bind_address=bind_address, tls=tls_args
        )
    except TransportError as exc:
        LOGGER.error("association request failed: %s", exc)
        assoc.abort_reason = str(exc)
        assoc.is_aborted = True
        return assoc
    link = Link(sock, conn, Reassembler(spool_threshold=ae.spool_threshold))
    assoc._attach(link)
    assoc.requestor.address, assoc.requestor.port = sock.getsockname()[:2]
    assoc._notify(EVT_CONN_OPEN, address=(address, port))
    conn.transport_connected(time.monotonic())  # EVT2 -> AE-2: send the RQ
    link.flush()
    assoc._notify(EVT_REQUESTED, request=request)
    _await_answer(assoc, link, request, proposed)
    return assoc


def _config(ae: AE, max_pdu: int) -> ConnectionConfig:
    return ConnectionConfig(
        max_pdu_length=max_pdu,
        artim_timeout=ae.acse_timeout,
        acse_timeout=ae.acse_timeout,
        network_timeout=ae.network_timeout,
    )


def _number(
    contexts: Sequence[PresentationContext], ext_neg: Sequence[Any]
) -> list[PresentationContext]:
    """Copies of the contexts with IDs 1, 3, 5... (PS3.8 9.3.2.2: odd, unique)."""
    if not contexts:
        raise ValueError("at least one presentation context must be requested")
    if len(contexts) > 128:
        raise ValueError("no more than 128 presentation contexts may be requested")
    roles = {r.sop_class_uid: r for r in ext_neg if isinstance(r, RoleSelection)}
    numbered = []
    for index, cx in enumerate(contexts):
        copy = cx.copy()
        copy.context_id = 2 * index + 1
        role = roles.get(str(cx.abstract_syntax))
        if role is not None:
            copy.scu_role, copy.scp_role = role.scu_role, role.scp_role
        numbered.append(copy)
    return numbered


def _user_information(ae: AE, max_pdu: int, ext_neg: Sequence[Any]) -> UserInformation:
    windows = [i for i in ext_neg if isinstance(i, AsynchronousOperationsWindow)]
    identities = [i for i in ext_neg if isinstance(i, UserIdentityRQ)]
    known = (
        AsynchronousOperationsWindow,
        UserIdentityRQ,
        RoleSelection,
        SOPClassExtendedNegotiation,
        SOPClassCommonExtendedNegotiation,
    )
    unknown = [i for i in ext_neg if not isinstance(i, known)]
    if unknown:
        raise TypeError(f"unsupported extended negotiation item: {unknown[0]!r}")
    return UserInformation(
        maximum_length=max_pdu,
        implementation_class_uid=ae.implementation_class_uid,
        implementation_version_name=ae.implementation_version_name,
        asynchronous_operations_window=windows[0] if windows else None,
        role_selections=tuple(i for i in ext_neg if isinstance(i, RoleSelection)),
        sop_class_extended=tuple(i for i in ext_neg if isinstance(i, SOPClassExtendedNegotiation)),
        sop_class_common_extended=tuple(
            i for i in ext_neg if isinstance(i, SOPClassCommonExtendedNegotiation)
        ),
        user_identity_rq=identities[0] if identities else None,
    )


def _await_answer(
    assoc: Association, link: Link, request: A_ASSOCIATE_RQ, proposed: list[PresentationContext]
) -> None:
    event = link.next_upper(None)  # the ACSE timeout bounds this wait
    if isinstance(event, AssociateAccepted):
        _accepted(assoc, link, event, request, proposed)
    elif isinstance(event, AssociateRejected):
        rj = event.response
        assoc.rejection = (rj.result, rj.source, rj.reason)
        assoc.is_rejected = True
        LOGGER.error("association rejected: result %d, source %d, reason %d", *assoc.rejection)
        assoc._notify(EVT_REJECTED)
        link.close()
    else:
        why = event.description if isinstance(event, AbortIndication) else "connection closed"
        LOGGER.error("association request failed: %s", why)
        assoc.abort_reason = why
        assoc.is_aborted = True
        link.close()


def _accepted(
    assoc: Association,
    link: Link,
    event: AssociateAccepted,
    request: A_ASSOCIATE_RQ,
    proposed: list[PresentationContext],
) -> None:
    ac = event.response
    info = ac.user_information
    assoc.acceptor.maximum_length = info.maximum_length or 0
    assoc.acceptor.implementation_class_uid = info.implementation_class_uid
    assoc.acceptor.implementation_version_name = info.implementation_version_name
    assoc.acceptor.user_information = info
    link.peer_max_pdu = info.maximum_length or 0
    outcomes = negotiate_as_requestor(
        request.presentation_contexts,
        ac.presentation_contexts,
        request.user_information.role_selections,
        info.role_selections,
    )
    by_id = {cx.context_id: cx for cx in proposed}
    for outcome in outcomes:
        cx = by_id[outcome.context_id]
        cx.result = outcome.result
        cx.as_scu, cx.as_scp = outcome.as_scu, outcome.as_scp
        if outcome.result == 0:
            cx.transfer_syntax = [outcome.transfer_syntax]
            assoc.accepted_contexts.append(cx)
        else:
            assoc.rejected_contexts.append(cx)
    assoc.is_established = True
    assoc._notify(EVT_ACCEPTED)
    assoc._notify(EVT_ESTABLISHED)
