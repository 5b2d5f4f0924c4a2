"""Acceptor side of extended negotiation (PS3.7 D.3.3.3, D.3.3.5-D.3.3.7).

Each item is put to the handler bound to its intervention event, in the
shape pynetdicom users know:

* ``EVT_USER_ID``: ``event.user_id_type``, ``event.primary_field``,
  ``event.secondary_field``; the handler returns ``(is_verified, response)``.
  Not verified rejects the association (A-ASSOCIATE-RJ permanent, service
  user, no reason). Without a handler the identity is not checked.
* ``EVT_SOP_EXTENDED``: ``event.app_info`` maps SOP class UID to the
  requestor's service-class application information; the handler returns
  the same kind of mapping with our answers. Without one, nothing is
  answered, which PS3.7 D.3.3.5 reads as "not supported".
* ``EVT_SOP_COMMON``: ``event.items`` maps SOP class UID to the common
  extended negotiation sub-item; the handler returns those it accepts (kept
  on ``assoc.acceptor.accepted_common_extended``). There is no answer item.
* ``EVT_ASYNC_OPS``: ``event.invoke_window``, ``event.perform_window``. We
  perform one operation at a time, so the answer is honestly (1, 1)
  whatever the handler prefers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .._core.negotiation import negotiate_async_window
from .._core.pdu import (
    AsynchronousOperationsWindow,
    SOPClassExtendedNegotiation,
    UserIdentityAC,
    UserInformation,
)
from ..events import (
    EVT_ASYNC_OPS,
    EVT_SOP_COMMON,
    EVT_SOP_EXTENDED,
    EVT_USER_ID,
    Event,
    get_handler,
)

LOGGER = logging.getLogger("dicomwire.acceptor")


@dataclass(frozen=True)
class ExtendedAnswer:
    """What the A-ASSOCIATE-AC says back, or that the association is refused."""

    rejected: bool = False
    user_identity: UserIdentityAC | None = None
    sop_class_extended: tuple[SOPClassExtendedNegotiation, ...] = ()
    asynchronous_operations_window: AsynchronousOperationsWindow | None = None


def negotiate_extended(assoc: Any, info: UserInformation) -> ExtendedAnswer:
    """Run each extended negotiation item past its handler."""
    verified, identity = _user_identity(assoc, info)
    if not verified:
        return ExtendedAnswer(rejected=True)
    _sop_common(assoc, info)
    return ExtendedAnswer(
        user_identity=identity,
        sop_class_extended=_sop_extended(assoc, info),
        asynchronous_operations_window=_async_window(assoc, info),
    )


def _call(assoc: Any, event_type: Any, **attrs: Any) -> Any:
    bound = get_handler(assoc.handlers, event_type)
    if bound is None:
        return None
    handler, args = bound
    return handler(Event(assoc, event_type, **attrs), *args)


def _user_identity(assoc: Any, info: UserInformation) -> tuple[bool, UserIdentityAC | None]:
    request = info.user_identity_rq
    if request is None or get_handler(assoc.handlers, EVT_USER_ID) is None:
        return True, None
    try:
        verified, response = _call(
            assoc,
            EVT_USER_ID,
            user_id_type=request.identity_type,
            primary_field=request.primary_field,
            secondary_field=request.secondary_field or None,
        )
    except Exception:
        LOGGER.exception("exception in the EVT_USER_ID handler: refusing the association")
        return False, None
    if not verified:
        LOGGER.info("user identity of %s not verified: rejecting", assoc.requestor.ae_title)
        return False, None
    if not request.positive_response_requested:
        return True, None
    # PS3.7 D.3.3.7.2: the server response is empty for username (and passcode).
    return True, UserIdentityAC(bytes(response or b""))


def _sop_extended(assoc: Any, info: UserInformation) -> tuple[SOPClassExtendedNegotiation, ...]:
    if not info.sop_class_extended:
        return ()
    app_info = {
        i.sop_class_uid: i.service_class_application_information for i in info.sop_class_extended
    }
    try:
        answers = _call(assoc, EVT_SOP_EXTENDED, app_info=app_info) or {}
    except Exception:
        LOGGER.exception("exception in the EVT_SOP_EXTENDED handler: answering nothing")
        return ()
    return tuple(
        SOPClassExtendedNegotiation(str(uid), bytes(data))
        for uid, data in answers.items()
        if uid in app_info and data is not None
    )


def _sop_common(assoc: Any, info: UserInformation) -> None:
    items = {i.sop_class_uid: i for i in info.sop_class_common_extended}
    accepted: dict[str, Any] = {}
    if items:
        try:
            accepted = dict(_call(assoc, EVT_SOP_COMMON, items=items) or {})
        except Exception:
            LOGGER.exception("exception in the EVT_SOP_COMMON handler: accepting none")
    assoc.acceptor.accepted_common_extended = {k: v for k, v in accepted.items() if k in items}


def _async_window(assoc: Any, info: UserInformation) -> AsynchronousOperationsWindow | None:
    proposed = info.asynchronous_operations_window
    if proposed is None:
        return None
    try:
        _call(
            assoc,
            EVT_ASYNC_OPS,
            invoke_window=proposed.invoked,
            perform_window=proposed.performed,
        )
    except Exception:
        LOGGER.exception("exception in the EVT_ASYNC_OPS handler")
    window = negotiate_async_window((proposed.invoked, proposed.performed))
    return None if window is None else AsynchronousOperationsWindow(*window)
