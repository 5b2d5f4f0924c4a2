"""The acceptor side: answer an A-ASSOCIATE-RQ, then serve requests.

``serve()`` runs in the association's own thread from the moment the
transport connection is accepted until it is closed (PS3.8 9.2, Sta2 to
Sta1).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .._core.connection import AssociateIndication
from .._core.negotiation import SupportedContext, negotiate_as_acceptor
from .._core.pdu import (
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    APPLICATION_CONTEXT_NAME,
    UserInformation,
)
from .._core.pdu_items import encode_ae_title
from ..events import (
    EVT_ACCEPTED,
    EVT_CONN_CLOSE,
    EVT_CONN_OPEN,
    EVT_ESTABLISHED,
    EVT_REJECTED,
    EVT_REQUESTED,
)
from ..presentation import PresentationContext
from .association import Association
from .extended import ExtendedAnswer, negotiate_extended
from .link import Link

if TYPE_CHECKING:
    from ..ae import AE

LOGGER = logging.getLogger("dicomwire.acceptor")

AssociateAnswer = A_ASSOCIATE_AC | A_ASSOCIATE_RJ

# A-ASSOCIATE-RJ (result, source, reason) values, PS3.8 Table 9-21.
RJ_NO_REASON = (1, 1, 1)
RJ_APPLICATION_CONTEXT = (1, 1, 2)
RJ_CALLING_AE = (1, 1, 3)
RJ_CALLED_AE = (1, 1, 7)
RJ_LOCAL_LIMIT = (2, 3, 2)


def serve(assoc: Association, link: Link, over_limit: bool = False) -> None:
    """Run one accepted transport connection to its end."""
    assoc._attach(link)
    assoc._notify(EVT_CONN_OPEN, address=(assoc.requestor.address, assoc.requestor.port))
    try:
        link.conn.transport_connected(time.monotonic())
        link.flush()
        event = link.next_upper(None)  # bounded by ARTIM (PS3.8 9.1.5)
        if isinstance(event, AssociateIndication):
            if _answer(assoc, link, event.request, over_limit):
                _serve_established(assoc)
        else:
            LOGGER.debug("no A-ASSOCIATE-RQ: %s", event)
    except Exception:
        LOGGER.exception("unexpected error on the association: aborting it")
        assoc.abort()
    finally:
        link.close()
        assoc._notify(EVT_CONN_CLOSE)


def _answer(assoc: Association, link: Link, request: A_ASSOCIATE_RQ, over_limit: bool) -> bool:
    """Send A-ASSOCIATE-AC or -RJ; True when the association is established."""
    _record_requestor(assoc, request)
    assoc._notify(EVT_REQUESTED, request=request)
    rejection = RJ_LOCAL_LIMIT if over_limit else _rejection(assoc.ae, request)
    extended = ExtendedAnswer()
    if rejection is None:
        extended = negotiate_extended(assoc, request.user_information)
        rejection = RJ_NO_REASON if extended.rejected else None
    if rejection is not None:
        LOGGER.info("rejecting association from %s: %s", request.calling_ae_title, rejection)
        assoc.rejection = rejection
        link.send_pdu(A_ASSOCIATE_RJ(*rejection))
        assoc.is_rejected = True
        assoc._notify(EVT_REJECTED)
        # Sta13: wait for the requestor to close (ARTIM bounds the wait).
        while link.next_upper(None) is not None:
            pass
        return False
    link.send_pdu(_accept(assoc, request, extended))
    link.peer_max_pdu = assoc.requestor.maximum_length
    assoc.is_established = True
    assoc._notify(EVT_ACCEPTED)
    assoc._notify(EVT_ESTABLISHED)
    return True


def _record_requestor(assoc: Association, request: A_ASSOCIATE_RQ) -> None:
    info = request.user_information
    assoc.requestor.ae_title = request.calling_ae_title
    assoc.requestor.maximum_length = info.maximum_length or 0
    assoc.requestor.implementation_class_uid = info.implementation_class_uid
    assoc.requestor.implementation_version_name = info.implementation_version_name
    assoc.requestor.user_information = info
    assoc.acceptor.ae_title = assoc.ae.ae_title


def _rejection(ae: AE, request: A_ASSOCIATE_RQ) -> tuple[int, int, int] | None:
    if request.application_context != APPLICATION_CONTEXT_NAME:
        return RJ_APPLICATION_CONTEXT
    # A title with characters the AE VR forbids (PS3.5 6.2: controls, "\\")
    # names no AE: it cannot be recognized (PS3.8 Table 9-21), and it could
    # not be echoed in an A-ASSOCIATE-AC either.
    if not _valid_title(request.called_ae_title):
        return RJ_CALLED_AE
    if not _valid_title(request.calling_ae_title):
        return RJ_CALLING_AE
    if ae.require_called_aet and request.called_ae_title != ae.ae_title:
        return RJ_CALLED_AE
    allowed = ae.require_calling_aet
    if allowed and request.calling_ae_title not in allowed:
        return RJ_CALLING_AE
    return None


def _valid_title(title: str) -> bool:
    try:
        encode_ae_title(title, allow_empty=True)
    except ValueError:
        return False
    return True


def _accept(
    assoc: Association, request: A_ASSOCIATE_RQ, extended: ExtendedAnswer
) -> A_ASSOCIATE_AC:
    ae = assoc.ae
    supported = {
        str(cx.abstract_syntax): SupportedContext(
            str(cx.abstract_syntax),
            tuple(str(ts) for ts in cx.transfer_syntax),
            cx.scu_role,
            cx.scp_role,
        )
        for cx in ae.supported_contexts
    }
    info = request.user_information
    items, role_replies, outcomes = negotiate_as_acceptor(
        request.presentation_contexts,
        supported,
        info.role_selections,
        prefer_requestor=ae.transfer_syntax_preference == "requestor",
    )
    for outcome in outcomes:
        cx = PresentationContext()
        cx.context_id = outcome.context_id
        cx.abstract_syntax = outcome.abstract_syntax
        cx.transfer_syntax = [outcome.transfer_syntax] if outcome.transfer_syntax else []
        cx.result = outcome.result
        cx.as_scu, cx.as_scp = outcome.as_scu, outcome.as_scp
        (assoc.accepted_contexts if outcome.result == 0 else assoc.rejected_contexts).append(cx)
    reply = UserInformation(
        maximum_length=ae.maximum_pdu_size,
        implementation_class_uid=ae.implementation_class_uid,
        implementation_version_name=ae.implementation_version_name,
        asynchronous_operations_window=extended.asynchronous_operations_window,
        role_selections=role_replies,
        sop_class_extended=extended.sop_class_extended,
        user_identity_ac=extended.user_identity,
    )
    assoc.acceptor.maximum_length = ae.maximum_pdu_size
    assoc.acceptor.implementation_class_uid = ae.implementation_class_uid
    assoc.acceptor.implementation_version_name = ae.implementation_version_name
    assoc.acceptor.user_information = reply
    return A_ASSOCIATE_AC(
        called_ae_title=request.called_ae_title,
        calling_ae_title=request.calling_ae_title,
        presentation_contexts=items,
        user_information=reply,
    )


def _serve_established(assoc: Association) -> None:
    """Serve requests until the association is released or aborted."""
    link = assoc.link
    while assoc.is_established:
        received = assoc.receive_message(None)
        if received is None:
            continue
        assoc.dispatch(received)
    if assoc.is_released:
        # Sta13 after A-RELEASE-RP: the requestor closes; ARTIM bounds the wait.
        while link.next_upper(None) is not None:
            pass
