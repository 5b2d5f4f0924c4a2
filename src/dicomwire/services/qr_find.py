"""The C-FIND SCP of every query service class (PS3.7 9.1.2, PS3.4 C.4.1).

Query/Retrieve FIND (Annex C), Modality Worklist (Annex K), Relevant
Patient Information (Annex Q), Substance Administration (Annex V) and the
FIND of Hanging Protocol, Color Palette, Implant Template and Defined
Procedure Protocol (Annexes U, X, BB, HH) all behave alike: the handler
bound to ``EVT_C_FIND`` yields ``(status, identifier)`` pairs; each
Pending pair becomes a C-FIND-RSP carrying the identifier, any other
status ends the operation, and an exhausted handler ends it with Success.

Relevant Patient Information Query differs (PS3.4 Q.4.2): the SCP
returns at most one match, and answers Failure 0xC100 when it finds more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ..dimse.fragment import ReceivedMessage
from ..dimse.status import Category
from ..presentation import PresentationContext
from .qr_common import (
    BAD_YIELD,
    EXHAUSTED,
    HANDLER_FAILED,
    RAISED,
    Operation,
    as_pair,
    close_quietly,
    pull,
)

LOGGER = logging.getLogger("dicomwire.service")

# PS3.4 Table Q.2-1: "Failure: more than one match found".
MORE_THAN_ONE_MATCH = 0xC100
# Services whose SCP returns at most one match.
_SINGLE_MATCH = frozenset({"relevant_patient"})


def serve_c_find(
    assoc: Any, received: ReceivedMessage, context: PresentationContext, service: str
) -> None:
    """Answer a C-FIND-RQ through the handler bound to ``EVT_C_FIND``.

    The handler yields ``(status, identifier)``; status is an int or a
    Dataset with Status (and optionally other response fields, PS3.7
    Annex C). Statuses dicomwire answers itself:

    * 0xC310: the request's Identifier cannot be decoded;
    * 0xC311: no handler is bound, or it raised;
    * 0xC312: it yielded something that is not a ``(status, identifier)``
      pair, or a Pending identifier that is not an encodable Dataset;
    * 0xC001 / 0xC002: its status is unusable (see ``apply_status``);
    * 0xFE00: a C-CANCEL arrived and the handler did not answer it itself
      before being asked for its next result (PS3.7 9.3.2.3);
    * 0xC100 (Relevant Patient Information only): a second match.
    """
    op = Operation(assoc, received, context, service, "find")
    try:
        results = op.start()
        if results is None:
            return
        try:
            _find(op, results, single=service in _SINGLE_MATCH)
        finally:
            close_quietly(results)
    finally:
        op.cleanup()


def _find(op: Operation, results: Iterator[Any], single: bool) -> None:
    """Relay the handler's matches; with ``single``, hold one back until sure.

    Holding the one match of a Relevant Patient query until the handler
    is exhausted means the SCU never receives a match followed by the
    "more than one match" failure (PS3.4 Q.4.2: at most one match).
    """
    held: list[tuple[Any, bytes]] = []
    sent = 0
    while op.alive():
        step = _next_result(op, results)
        if step is None:
            break
        rsp, data = step
        if data is None:
            if _sends_held(rsp):
                _send_all(op, held)
            op.finish(rsp, detail=f"after {sent + len(held)} matches")
            return
        if not single:
            op.send(rsp, data)
            sent += 1
        elif held:
            LOGGER.warning("%s: more than one match for a single-match query", op.name)
            op.fail(MORE_THAN_ONE_MATCH, "more than one match found")
            return
        else:
            held.append((rsp, data))
    else:
        LOGGER.info("%s (message ID %s): the association ended", op.name, op.message_id)
        return
    _send_all(op, held)
    op.finish(op.response(0x0000), detail=f"{sent + len(held)} matches")


def _sends_held(rsp: Any) -> bool:
    """A held match is still sent before a final Success (or Warning)."""
    code = int(rsp.Status)
    return code == 0x0000 or 0xB000 <= code <= 0xBFFF


def _send_all(op: Operation, held: list[tuple[Any, bytes]]) -> None:
    for rsp, data in held:
        op.send(rsp, data)
    held.clear()


def _next_result(op: Operation, results: Iterator[Any]) -> tuple[Any, bytes | None] | None:
    """The next response: ``(pending, identifier)``, ``(final, None)`` or None at the end.

    A cancel is looked for after the handler yields a match and before it
    is sent: a handler watching ``event.is_cancelled`` answers the cancel
    itself, and one that ignores it still sends no further match.
    """
    item = pull(results)
    if item is EXHAUSTED:
        return None
    if item is RAISED:
        return op.response(HANDLER_FAILED["find"], "exception in the handler"), None
    pair = as_pair(item)
    if pair is None:
        LOGGER.error("the EVT_C_FIND handler yielded %r, not (status, identifier)",
                     type(item).__name__)
        return op.response(BAD_YIELD["find"], "handler yielded an invalid result"), None
    rsp, kind = op.classify(pair[0])
    if kind is not Category.PENDING:
        return rsp, None
    if op.cancelled():
        LOGGER.debug("%s: C-CANCEL received, the handler did not end the operation", op.name)
        return op.response(0xFE00), None
    data = op.encode(pair[1])
    if not data:
        # An empty encoding is no identifier either: a Pending response needs one.
        LOGGER.error("the EVT_C_FIND handler yielded a Pending identifier that cannot be sent")
        return op.response(BAD_YIELD["find"], "handler yielded an invalid identifier"), None
    if LOGGER.isEnabledFor(logging.DEBUG):
        LOGGER.debug("C-FIND match:\n%s", pair[1])
    return rsp, data
