"""Route a received DIMSE request to its service class (PS3.7 section 9).

The acceptor loop calls this for every request; a requestor calls it for
requests that arrive while it waits (C-STORE sub-operations of a C-GET).
"""

from __future__ import annotations

import logging
from typing import Any

from ..dimse import commands as c
from ..dimse.fragment import ReceivedMessage
from ..sop_class import uid_to_service_class
from .query_retrieve import serve_c_find, serve_c_get, serve_c_move
from .storage import serve_c_store
from .verification import serve_c_echo

LOGGER = logging.getLogger("dicomwire.service")

# Status 0x0211, "Refused: Unrecognized operation" (PS3.7 C.5.4).
UNRECOGNIZED_OPERATION = 0x0211

_RESPONSE_FOR: dict[type[c.Message], type[c.Message]] = {
    c.C_FIND_RQ: c.C_FIND_RSP,
    c.C_GET_RQ: c.C_GET_RSP,
    c.C_MOVE_RQ: c.C_MOVE_RSP,
}


def dispatch_request(assoc: Any, received: ReceivedMessage) -> None:
    """Serve one request received on ``assoc``."""
    command = received.command
    if isinstance(command, c.C_CANCEL_RQ):
        assoc.mark_cancelled(command.MessageIDBeingRespondedTo)
        return
    context = assoc.context(received.context_id)
    if context is None:
        assoc.link.abort_provider(
            f"message on presentation context {received.context_id}, which was not accepted"
        )
        assoc.process_upper()
        return
    service = uid_to_service_class(str(context.abstract_syntax))
    if isinstance(command, c.C_ECHO_RQ):
        serve_c_echo(assoc, received, context)
    elif isinstance(command, c.C_STORE_RQ):
        serve_c_store(
            assoc, received, context, "non_patient" if service == "non_patient" else "storage"
        )
    elif isinstance(command, c.C_FIND_RQ):
        serve_c_find(assoc, received, context, _table(service, "qr_find", _FIND_SERVICES))
    elif isinstance(command, c.C_GET_RQ):
        serve_c_get(assoc, received, context, _table(service, "qr_get", _RETRIEVE_SERVICES))
    elif isinstance(command, c.C_MOVE_RQ):
        serve_c_move(assoc, received, context, _table(service, "qr_move", _RETRIEVE_SERVICES))
    else:
        _refuse(assoc, received)


# Service classes whose SOP classes are used with C-FIND, and with C-GET/C-MOVE.
_FIND_SERVICES = frozenset({
    "qr_find", "modality_worklist", "relevant_patient", "substance_administration",
    "hanging_protocol", "defined_procedure", "color_palette", "implant_template",
})  # fmt: skip
_RETRIEVE_SERVICES = frozenset({
    "qr_get", "qr_move", "hanging_protocol", "defined_procedure", "color_palette",
    "implant_template",
})  # fmt: skip


def _table(service: str, default: str, allowed: frozenset[str]) -> str:
    """The status table to answer with; a private SOP class gets the Q/R one."""
    return service if service in allowed else default


def _refuse(assoc: Any, received: ReceivedMessage) -> None:
    """Answer a request no service here implements with 0x0211."""
    command = received.command
    response_type = _RESPONSE_FOR.get(type(command))
    LOGGER.warning(
        "no service for %s: answering 0x%04X", type(command).__name__, UNRECOGNIZED_OPERATION
    )
    if response_type is None:
        assoc.link.abort_provider(f"unsupported DIMSE message {type(command).__name__}")
        assoc.process_upper()
        return
    response = response_type(
        MessageIDBeingRespondedTo=command.MessageID,  # type: ignore[call-arg,attr-defined]
        AffectedSOPClassUID=command.AffectedSOPClassUID,  # type: ignore[attr-defined]
        Status=UNRECOGNIZED_OPERATION,
    )
    assoc.send_message(received.context_id, response)
