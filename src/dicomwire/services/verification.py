"""Verification Service Class (PS3.4 Annex A) over C-ECHO (PS3.7 9.1.5)."""

from __future__ import annotations

import logging
from typing import Any

from pydicom.dataset import Dataset

from ..dimse.commands import C_ECHO_RQ, C_ECHO_RSP
from ..dimse.fragment import ReceivedMessage
from ..events import EVT_C_ECHO, Event, get_handler
from .base import exchange, require_established, status_dataset

LOGGER = logging.getLogger("dicomwire.service")

VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"


def send_c_echo(assoc: Any, msg_id: int | None = None) -> Dataset:
    """Send a C-ECHO-RQ and return the response status (empty if none came)."""
    require_established(assoc, "C-ECHO")
    contexts = assoc.find_contexts(VERIFICATION_SOP_CLASS, "scu")
    if not contexts:
        raise ValueError("the peer accepted no presentation context for Verification")
    request = C_ECHO_RQ(
        MessageID=msg_id or assoc.next_message_id(),
        AffectedSOPClassUID=VERIFICATION_SOP_CLASS,
    )
    response = exchange(assoc, contexts[0].context_id, request)
    return status_dataset(response.command) if response is not None else Dataset()


def serve_c_echo(assoc: Any, received: ReceivedMessage, context: Any) -> None:
    """Answer a C-ECHO-RQ.

    The handler bound to ``EVT_C_ECHO`` may return an int or a Dataset with
    Status; when there is none, or it fails or answers something unusable,
    the response is Success, as PS3.7 9.3.5.2 expects of a C-ECHO.
    """
    request = received.command
    response = C_ECHO_RSP(
        MessageIDBeingRespondedTo=request.MessageID,  # type: ignore[attr-defined]
        AffectedSOPClassUID=request.AffectedSOPClassUID,  # type: ignore[attr-defined]
        Status=0x0000,
    )
    bound = get_handler(assoc.handlers, EVT_C_ECHO)
    if bound is not None:
        handler, args = bound
        event = Event(
            assoc,
            EVT_C_ECHO,
            context=context.as_tuple,
            request=request,
            message_id=getattr(request, "MessageID", None),
        )
        try:
            _apply_echo_status(handler(event, *args), response)
        except Exception:
            LOGGER.exception("exception in the EVT_C_ECHO handler: answering Success")
            response.Status = 0x0000
    assoc.send_message(received.context_id, response)


def _apply_echo_status(status: Any, response: C_ECHO_RSP) -> None:
    if isinstance(status, Dataset):
        if "Status" not in status:
            raise AttributeError("the status Dataset has no Status element")
        for elem in status:
            if elem.keyword and hasattr(response, elem.keyword):
                setattr(response, elem.keyword, elem.value)
    elif isinstance(status, int) and not isinstance(status, bool):
        response.Status = status
    elif status is not None:
        raise TypeError(f"invalid status of type {type(status).__name__}")
