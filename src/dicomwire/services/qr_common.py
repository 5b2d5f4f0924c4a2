"""What the SCPs of C-FIND, C-GET and C-MOVE share (PS3.7 9.1.2-9.1.4).

Every query/retrieve-like service class (PS3.4 Annexes C, K, Q, U, V, X,
BB, HH) runs the same way on the SCP side: decode the request's
Identifier, hand it to the handler bound to ``EVT_C_FIND`` /
``EVT_C_GET`` / ``EVT_C_MOVE``, and turn what the handler *yields* into
responses. :class:`Operation` holds one such request while it runs; the
status codes dicomwire answers with itself when the request or the
handler is unusable are those of ``dimse.status`` (Cxxx, "unable to
process", PS3.7 Annex C.5), the same values pynetdicom users know.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from pydicom.dataset import Dataset
from pydicom.uid import UID

from .._core.errors import StateError
from ..dimse.commands import C_FIND_RSP, C_GET_RSP, C_MOVE_RSP
from ..dimse.fragment import ReceivedMessage
from ..dimse.status import Category, category, lookup
from ..events import (
    EVT_C_FIND,
    EVT_C_GET,
    EVT_C_MOVE,
    DatasetDecodeError,
    Event,
    EventType,
    decode_dataset,
    get_handler,
)
from ..presentation import PresentationContext
from .base import apply_status
from .encoding import encode_dataset

LOGGER = logging.getLogger("dicomwire.service")

# Any: the response classes share the fields used here, not a base declaring them.
_RESPONSE: Final[dict[str, Any]] = {
    "find": C_FIND_RSP,
    "get": C_GET_RSP,
    "move": C_MOVE_RSP,
}
_EVENT: Final[dict[str, EventType]] = {"find": EVT_C_FIND, "get": EVT_C_GET, "move": EVT_C_MOVE}

# dicomwire's own failures (dimse.status _FIND_OWN/_GET_OWN/_MOVE_OWN):
# the Identifier could not be decoded, the handler raised (or none is
# bound), the handler yielded something that is not a usable result.
DECODE_FAILED: Final = {"find": 0xC310, "get": 0xC410, "move": 0xC510}
HANDLER_FAILED: Final = {"find": 0xC311, "get": 0xC411, "move": 0xC511}
BAD_YIELD: Final = {"find": 0xC312, "get": 0xC412, "move": 0xC512}

# ErrorComment (0000,0902) is an LO: at most 64 characters (PS3.5 6.2).
_LO_MAX: Final = 64


class _Marker:
    """A sentinel that names itself in reprs and logs."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: :func:`pull` found the handler's generator exhausted.
EXHAUSTED: Final = _Marker("EXHAUSTED")
#: :func:`pull` caught an exception raised by the handler (already logged).
RAISED: Final = _Marker("RAISED")


def pull(results: Iterator[Any]) -> Any:
    """The handler's next yield, :data:`EXHAUSTED` or :data:`RAISED`.

    Only the handler's own code runs inside the ``try``: an error in the
    service is never mistaken for a handler failure.
    """
    try:
        return next(results)
    except StopIteration:
        return EXHAUSTED
    except Exception:
        LOGGER.exception("exception in the handler while producing its next result")
        return RAISED


def close_quietly(results: Iterator[Any] | None) -> None:
    """Close the handler's generator so that its ``finally`` blocks run now."""
    close = getattr(results, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        LOGGER.exception("exception in the handler while it was being closed")


def as_pair(item: Any) -> tuple[Any, Any] | None:
    """``(status, data set)`` if ``item`` is a 2-item tuple or list, else None."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    return None


def looks_like_status(value: Any) -> bool:
    """An int (not a bool) or a Dataset: what a handler may give as a status."""
    return isinstance(value, Dataset) or (isinstance(value, int) and not isinstance(value, bool))


@dataclass
class Operation:
    """One C-FIND, C-GET or C-MOVE request being served.

    ``kind`` is "find", "get" or "move"; ``service`` the status-table key of
    the service class (``dimse.status.STATUS_TABLES``).
    """

    assoc: Any
    received: ReceivedMessage
    context: PresentationContext
    service: str
    kind: str
    # Set when a send found the connection gone: nothing more can be answered.
    lost: bool = field(default=False, init=False)

    @property
    def request(self) -> Any:
        return self.received.command

    # Cached: both are read for every response, and neither changes while
    # the operation runs.
    @cached_property
    def message_id(self) -> int:
        return int(self.request.MessageID)

    @cached_property
    def syntax(self) -> str:
        """The transfer syntax negotiated for the context (PS3.8 7.1.1.13)."""
        return str(self.context.transfer_syntax[0])

    @property
    def name(self) -> str:
        return f"C-{self.kind.upper()}"

    def alive(self) -> bool:
        """Whether responses can still be sent (the peer may have aborted)."""
        return bool(self.assoc.is_established) and not self.lost

    def cancelled(self) -> bool:
        """Whether a C-CANCEL-RQ for this request arrived (PS3.7 9.3.2.3)."""
        return bool(self.assoc.is_cancelled(self.message_id))

    # -- responses ------------------------------------------------------------

    def response(self, status: int = 0x0000, comment: str | None = None) -> Any:
        """A fresh response to this request (PS3.7 Tables 9.3-4, 9.3-6, 9.3-10)."""
        rsp = _RESPONSE[self.kind](
            MessageIDBeingRespondedTo=self.message_id,
            AffectedSOPClassUID=self.request.AffectedSOPClassUID,
            Status=status,
        )
        if comment:
            rsp.ErrorComment = comment[:_LO_MAX]
        return rsp

    def classify(self, status: Any) -> tuple[Any, Category]:
        """A response carrying the handler's ``status``, and its category.

        :func:`~dicomwire.services.base.apply_status` gives 0xC001/0xC002 for
        an unusable status. A code the service class does not define is
        taken by the general rules of PS3.7 Annex C (so it ends the
        operation, as in the reference behaviour).
        """
        rsp = self.response()
        apply_status(status, rsp, self.service)
        hit = lookup(self.service, rsp.Status)
        return rsp, hit[0] if hit is not None else category(rsp.Status)

    def encode(self, ds: Any) -> bytes | None:
        """``ds`` in the context's transfer syntax; None if it cannot be."""
        if not isinstance(ds, Dataset):
            return None
        try:
            return encode_dataset(ds, self.syntax)
        except Exception as exc:
            LOGGER.error("cannot encode the data set yielded by the handler: %s", exc)
            return None

    def send(self, rsp: Any, data: bytes | None = None) -> None:
        """Send one response on the request's presentation context."""
        if not self.alive():
            LOGGER.debug("%s: the association ended; response 0x%04X dropped",
                          self.name, rsp.Status)
            return
        try:
            self.assoc.send_message(self.received.context_id, rsp, data)
        except (StateError, OSError) as exc:
            # The peer aborted or closed while the handler worked (the abort
            # may have been read by a cancel check): end quietly, the
            # association's own loop reports the abort.
            LOGGER.debug("%s (message ID %s): the connection is gone: %s",
                        self.name, self.message_id, exc)
            self.lost = True

    def finish(self, rsp: Any, data: bytes | None = None, detail: str = "") -> None:
        """Send the final response and log the operation's outcome once."""
        self.send(rsp, data)
        hit = lookup(self.service, rsp.Status)
        meaning = hit[1] if hit is not None else "unknown status"
        LOGGER.info(
            "%s (message ID %s) from %s: 0x%04X %s%s",
            self.name,
            self.message_id,
            getattr(self.assoc.requestor, "ae_title", "?"),
            rsp.Status,
            meaning,
            f" ({detail})" if detail else "",
        )

    def fail(self, code: int, comment: str | None = None) -> None:
        """End the operation with one of dicomwire's own failure statuses."""
        self.finish(self.response(code, comment), detail=comment or "")

    # -- the request ----------------------------------------------------------

    def start(self, **attrs: Any) -> Iterator[Any] | None:
        """Decode the Identifier, call the handler and return its iterator.

        None when the operation already ended with a failure response:
        undecodable Identifier (0xC310/0xC410/0xC510), no handler bound or
        handler raising on the call (0xC311/0xC411/0xC511). ``attrs`` become
        attributes of the :class:`~dicomwire.events.Event`.
        """
        identifier = self._identifier()
        if identifier is None:
            return None
        event_type = _EVENT[self.kind]
        bound = get_handler(self.assoc.handlers, event_type)
        if bound is None:
            LOGGER.error("no handler is bound to %s: refusing the %s", event_type, self.name)
            self.fail(HANDLER_FAILED[self.kind], f"no handler bound to {event_type}")
            return None
        handler, args = bound
        event = self._event(event_type, identifier, attrs)
        try:
            results: Iterator[Any] = iter(handler(event, *args))
            return results
        except Exception:
            LOGGER.exception("exception in the %s handler", event_type)
            self.fail(HANDLER_FAILED[self.kind], "exception in the handler")
            return None

    def _event(self, event_type: EventType, identifier: Dataset, attrs: dict[str, Any]) -> Event:
        request = self.request
        assoc = self.assoc
        message_id = self.message_id
        event = Event(
            assoc,
            event_type,
            context=self.context.as_tuple,
            request=request,
            message_id=message_id,
            _data=self.received.data_set,
            dataset_path=self.received.data_set_path,
            _cancel_check=lambda: bool(assoc.is_cancelled(message_id)),
            **attrs,
        )
        # Decoded once, here: the handler's event.identifier is the same object.
        event._decoded = identifier
        return event

    def _identifier(self) -> Dataset | None:
        """The request's Identifier, decoded; None after answering a failure."""
        code = DECODE_FAILED[self.kind]
        data = self.received.data_set
        try:
            if data is None and self.received.data_set_path is not None:
                with open(self.received.data_set_path, "rb") as fh:
                    data = fh.read()
            if data is None:
                raise DatasetDecodeError("the request carries no Identifier")
            identifier = decode_dataset(data, UID(self.syntax))
        except (DatasetDecodeError, OSError) as exc:
            LOGGER.error("failed to decode the %s Identifier: %s", self.name, exc)
            self.fail(code, "Unable to decode the dataset")
            return None
        if LOGGER.isEnabledFor(logging.DEBUG):
            LOGGER.debug("%s Identifier:\n%s", self.name, identifier)
        return identifier

    def cleanup(self) -> None:
        """Remove the Identifier's spool file, if the reassembler made one."""
        path = self.received.data_set_path
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
