"""The SCU side of C-FIND, C-GET and C-MOVE (PS3.7 9.1.2-9.1.4, PS3.4 Annex C).

Each operation is a generator of ``(status, identifier)`` pairs, one per
response, as users of the seeds expect: nothing is sent until the first
iteration, and iteration ends after the final (non-Pending) response.
While a C-GET runs, the C-STORE sub-operations the SCP sends arrive on the
same association and are served by its ``EVT_C_STORE`` handler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from ..dimse.commands import C_CANCEL_RQ, C_FIND_RQ, C_GET_RQ, C_MOVE_RQ, Message
from ..dimse.fragment import ReceivedMessage
from ..dimse.status import Category, category
from ..events import DatasetDecodeError, decode_dataset
from .base import await_response, require_established, status_dataset
from .encoding import encode_dataset

LOGGER = logging.getLogger("dicomwire.service")

_ROOT = "1.2.840.10008.5.1.4.1.2"
# The one-letter query models of pynetdicom's earlier API, which the seeds use.
QUERY_MODELS: dict[str, dict[str, str]] = {
    "find": {
        "P": f"{_ROOT}.1.1",  # Patient Root Query/Retrieve Information Model - FIND
        "S": f"{_ROOT}.2.1",  # Study Root
        "O": f"{_ROOT}.3.1",  # Patient/Study Only (retired)
        "W": "1.2.840.10008.5.1.4.31",  # Modality Worklist Information Model - FIND
    },
    "get": {
        "P": f"{_ROOT}.1.3",
        "S": f"{_ROOT}.2.3",
        "O": f"{_ROOT}.3.3",
        "C": f"{_ROOT}.4.3",  # Composite Instance Root Retrieve - GET
        "B": f"{_ROOT}.5.3",  # Composite Instance Retrieve Without Bulk Data - GET
    },
    "move": {
        "P": f"{_ROOT}.1.2",
        "S": f"{_ROOT}.2.2",
        "O": f"{_ROOT}.3.2",
        "C": f"{_ROOT}.4.2",  # Composite Instance Root Retrieve - MOVE
    },
}

Responses = Iterator[tuple[Dataset, Dataset | None]]


def resolve_query_model(query_model: str | bytes | UID, operation: str) -> str:
    """A SOP class UID for ``query_model``: a UID, or one of the short codes."""
    if isinstance(query_model, bytes):
        query_model = query_model.decode("ascii")
    model = str(query_model).strip()
    codes = QUERY_MODELS[operation]
    if model in codes:
        return codes[model]
    if model and all(part.isdigit() for part in model.split(".")):
        return model
    raise ValueError(
        f"unknown query model {query_model!r} for C-{operation.upper()}: give a SOP class "
        f"UID or one of {', '.join(sorted(codes))}"
    )


def send_c_find(
    assoc: Any, identifier: Dataset, query_model: Any, msg_id: int | None, priority: int
) -> Responses:
    """C-FIND (PS3.7 9.1.2): yields (status, matching identifier or None)."""
    sop_class = resolve_query_model(query_model, "find")
    request = C_FIND_RQ(0, sop_class, priority)
    yield from _operation(assoc, request, identifier, msg_id, "C-FIND")


def send_c_get(
    assoc: Any, identifier: Dataset, query_model: Any, msg_id: int | None, priority: int
) -> Responses:
    """C-GET (PS3.7 9.1.3): yields (status, identifier); sub-operations arrive meanwhile."""
    sop_class = resolve_query_model(query_model, "get")
    request = C_GET_RQ(0, sop_class, priority)
    yield from _operation(assoc, request, identifier, msg_id, "C-GET")


def send_c_move(
    assoc: Any,
    identifier: Dataset,
    move_aet: str | bytes,
    query_model: Any,
    msg_id: int | None,
    priority: int,
) -> Responses:
    """C-MOVE (PS3.7 9.1.4): yields (status, identifier) as the move progresses."""
    if isinstance(move_aet, bytes):
        move_aet = move_aet.decode("ascii")
    destination = move_aet.strip()
    if not 1 <= len(destination) <= 16:
        raise ValueError(f"the move destination is an AE title of 1-16 characters: {move_aet!r}")
    sop_class = resolve_query_model(query_model, "move")
    request = C_MOVE_RQ(0, sop_class, priority, destination)
    yield from _operation(assoc, request, identifier, msg_id, "C-MOVE")


def _operation(
    assoc: Any, request: Message, identifier: Dataset, msg_id: int | None, what: str
) -> Responses:
    require_established(assoc, what)
    sop_class = request.AffectedSOPClassUID  # type: ignore[attr-defined]
    contexts = assoc.find_contexts(sop_class, "scu")
    if not contexts:
        raise ValueError(f"the peer accepted no presentation context for {sop_class}")
    context = contexts[0]
    syntax = str(context.transfer_syntax[0])
    request.MessageID = msg_id or assoc.next_message_id()  # type: ignore[attr-defined]
    message_id: int = request.MessageID  # type: ignore[attr-defined]
    # One UID for every response: building one validates it with a regex.
    syntax_uid = UID(syntax)
    data = encode_dataset(identifier, syntax)
    assoc.operations[message_id] = context.context_id
    try:
        assoc.send_message(context.context_id, request, data)
        while True:
            received = await_response(assoc, message_id)
            if received is None:
                yield Dataset(), None
                return
            status = status_dataset(received.command)
            yield status, _identifier(received, syntax_uid)
            # From the command, not the Dataset: its keyword lookup costs
            # more than the test, once per response.
            if category(received.command.Status) is not Category.PENDING:  # type: ignore[attr-defined]
                return
    finally:
        assoc.operations.pop(message_id, None)


def _identifier(received: ReceivedMessage, syntax: UID) -> Dataset | None:
    """The response's data set, decoded; ``None`` when absent or undecodable."""
    if not received.command.has_data_set:
        return None
    data = received.data_set
    if data is None and received.data_set_path is not None:
        with open(received.data_set_path, "rb") as fh:
            data = fh.read()
    if not data:
        return None
    try:
        return decode_dataset(data, syntax)
    except DatasetDecodeError as exc:
        LOGGER.error("cannot decode the identifier of a response: %s", exc)
        return None


def send_c_cancel(assoc: Any, msg_id: int, context_id: int | None) -> None:
    """C-CANCEL (PS3.7 9.3.2.3): ask the SCP to stop the operation ``msg_id``.

    ``context_id`` defaults to the context the operation runs on.
    """
    require_established(assoc, "C-CANCEL")
    if context_id is None:
        context_id = assoc.operations.get(msg_id)
        if context_id is None:
            raise ValueError(f"no C-FIND/C-GET/C-MOVE with message ID {msg_id} is running")
    assoc.send_message(context_id, C_CANCEL_RQ(msg_id))
