"""What every service class shares: the request/response exchange and the
rules for turning a handler's answer into a response status (PS3.7 9.1,
PS3.7 Annex C).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pydicom import config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ..dimse.commands import Message
from ..dimse.fragment import ReceivedMessage
from ..dimse.status import is_known
from ..flat_codec import new_dataset

LOGGER = logging.getLogger("dicomwire.service")

# Response fields that a status Dataset returned by a handler may set, and
# that a status Dataset returned to an SCU carries (PS3.7 Annex C, E), with
# their tags and VRs: building the elements directly is ~10x faster than
# pydicom's keyword lookup, and it runs for every response an SCU gets.
STATUS_ELEMENTS = (
    ("Status", 0x00000900, "US"),
    ("ErrorComment", 0x00000902, "LO"),
    ("ErrorID", 0x00000903, "US"),
    ("OffendingElement", 0x00000901, "AT"),
    ("AffectedSOPInstanceUID", 0x00001000, "UI"),
    ("NumberOfRemainingSuboperations", 0x00001020, "US"),
    ("NumberOfCompletedSuboperations", 0x00001021, "US"),
    ("NumberOfFailedSuboperations", 0x00001022, "US"),
    ("NumberOfWarningSuboperations", 0x00001023, "US"),
)
STATUS_FIELDS = tuple(name for name, _, _ in STATUS_ELEMENTS)


def is_response(message: Message) -> bool:
    """Responses have bit 15 of the Command Field set (PS3.7 Annex E)."""
    return bool(message.COMMAND_FIELD & 0x8000)


def apply_status(status: Any, rsp: Message, service: str) -> None:
    """Set ``rsp.Status`` (and friends) from what a handler returned.

    An int is the status; a Dataset must contain ``Status`` and may set any
    other response field; anything else is a handler error. The failure
    codes are those users of the seeds rely on: 0xC001 for a Dataset
    without Status, 0xC002 for a status of the wrong type. A status the
    service class does not define is passed on, with a warning.
    """
    if isinstance(status, Dataset):
        if "Status" not in status:
            LOGGER.error("the handler returned a status Dataset without a Status element")
            rsp.Status = 0xC001  # type: ignore[attr-defined]
            return
        for elem in status:
            if elem.keyword and hasattr(rsp, elem.keyword):
                setattr(rsp, elem.keyword, _plain(elem.value))
            else:
                LOGGER.warning("status element %s is not a response field: ignored", elem.keyword)
    elif isinstance(status, int) and not isinstance(status, bool):
        rsp.Status = status  # type: ignore[attr-defined]
    else:
        LOGGER.error("the handler returned a status of type %s", type(status).__name__)
        rsp.Status = 0xC002  # type: ignore[attr-defined]
        return
    code = rsp.Status  # type: ignore[attr-defined]
    if not isinstance(code, int) or not 0 <= code <= 0xFFFF:
        LOGGER.error("status %r is not a 16-bit value", code)
        rsp.Status = 0xC002  # type: ignore[attr-defined]
    elif not is_known(service, code):
        LOGGER.warning("unknown status value returned by the handler: 0x%04X", code)


def _plain(value: Any) -> Any:
    """pydicom MultiValue/str subclasses -> plain Python values for the codec."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return tuple(int(v) for v in value)
    return value


def status_dataset(rsp: Message) -> Dataset:
    """The Dataset an SCU method returns: Status and the other status fields.

    Built with :func:`~dicomwire.flat_codec.new_dataset`: an SCU gets one
    per response (thousands for a large C-FIND), and ``Dataset()`` alone
    costs more than the rest of this function.
    """
    elements: dict[BaseTag, DataElement | RawDataElement] = {}
    for name, tag, vr in STATUS_ELEMENTS:
        value = getattr(rsp, name, None)
        if value is None:
            continue
        if vr == "US" and type(value) is int and 0 <= value <= 0xFFFF:
            # A plain 16-bit int is already what pydicom would convert it
            # to: skipping its conversion and checks saves ~3 us per response.
            elem = DataElement(tag, vr, value, already_converted=True,
                               validation_mode=config.IGNORE)
        else:
            elem = DataElement(tag, vr, list(value) if isinstance(value, tuple) else value)
        elements[BaseTag(tag)] = elem
    return new_dataset(elements)


def require_established(assoc: Any, what: str) -> None:
    if not assoc.is_established:
        raise RuntimeError(
            f"the association with the peer must be established before sending a {what} request"
        )


def exchange(
    assoc: Any,
    context_id: int,
    request: Message,
    data_set: Any = None,
    on_other: Callable[[ReceivedMessage], None] | None = None,
) -> ReceivedMessage | None:
    """Send ``request`` and wait for its first response.

    Requests that arrive meanwhile (C-STORE sub-operations during a C-GET)
    are served by the association's dispatcher. The DIMSE timeout runs from
    the last message received. ``None``: timeout, abort or release.
    """
    assoc.send_message(context_id, request, data_set)
    return await_response(assoc, request.MessageID, on_other)  # type: ignore[attr-defined]


def await_response(
    assoc: Any,
    message_id: int,
    on_other: Callable[[ReceivedMessage], None] | None = None,
) -> ReceivedMessage | None:
    """Wait for the next response to ``message_id`` (see :func:`exchange`)."""
    while assoc.is_established:
        timeout = assoc.dimse_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        received: ReceivedMessage | None = assoc.receive_message(deadline)
        if received is None:
            return None
        command = received.command
        if not is_response(command):
            assoc.dispatch(received)
        elif getattr(command, "MessageIDBeingRespondedTo", None) == message_id:
            return received
        elif on_other is not None:
            on_other(received)
        else:
            LOGGER.warning(
                "ignoring a response to unknown message ID %s",
                getattr(command, "MessageIDBeingRespondedTo", None),
            )
    return None
