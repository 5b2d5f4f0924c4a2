"""Events and the handlers bound to them (the ``evt`` namespace).

Two kinds, as users of pynetdicom know them:

* *Intervention* events ask the handler for an answer: ``EVT_C_ECHO`` and
  ``EVT_C_STORE`` return a status, ``EVT_C_FIND``/``EVT_C_GET``/``EVT_C_MOVE``
  yield responses, ``EVT_USER_ID`` decides on an identity. One handler per
  event; binding another replaces it.
* *Notification* events only tell: association life cycle, PDUs and DIMSE
  messages sent and received. Any number of handlers; an exception in one is
  logged and does not disturb the association.

Handlers are bound as ``(event, handler)`` or ``(event, handler, [args])``;
extra args are passed after the :class:`Event`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset
from pydicom.uid import UID

from .file_meta import encode_file_meta_values, file_meta_dataset
from .flat_codec import IMPLICIT_VR, decode_flat

LOGGER = logging.getLogger("dicomwire.events")


# eq=False: compared and hashed by identity, from C. There is one instance
# per kind, made below, and handler lookups hash them on every message.
@dataclass(frozen=True, eq=False)
class EventType:
    """One kind of event; compare by identity or name."""

    name: str
    description: str
    is_intervention: bool

    @property
    def is_notification(self) -> bool:
        return not self.is_intervention

    def __str__(self) -> str:
        return self.name


def _intervention(name: str, description: str) -> EventType:
    return EventType(name, description, True)


def _notification(name: str, description: str) -> EventType:
    return EventType(name, description, False)


# Intervention events (PS3.7 DIMSE services and PS3.7 D.3.3 negotiation items)
EVT_C_ECHO = _intervention("EVT_C_ECHO", "C-ECHO request received")
EVT_C_STORE = _intervention("EVT_C_STORE", "C-STORE request received")
EVT_C_FIND = _intervention("EVT_C_FIND", "C-FIND request received")
EVT_C_GET = _intervention("EVT_C_GET", "C-GET request received")
EVT_C_MOVE = _intervention("EVT_C_MOVE", "C-MOVE request received")
EVT_USER_ID = _intervention("EVT_USER_ID", "User identity negotiation received")
EVT_SOP_EXTENDED = _intervention("EVT_SOP_EXTENDED", "SOP class extended negotiation received")
EVT_SOP_COMMON = _intervention("EVT_SOP_COMMON", "SOP class common extended negotiation received")
EVT_ASYNC_OPS = _intervention("EVT_ASYNC_OPS", "Asynchronous operations window received")

# Notification events
EVT_CONN_OPEN = _notification("EVT_CONN_OPEN", "Connection with remote opened")
EVT_CONN_CLOSE = _notification("EVT_CONN_CLOSE", "Connection with remote closed")
EVT_REQUESTED = _notification("EVT_REQUESTED", "Association requested")
EVT_ACCEPTED = _notification("EVT_ACCEPTED", "Association request accepted")
EVT_REJECTED = _notification("EVT_REJECTED", "Association request rejected")
EVT_ESTABLISHED = _notification("EVT_ESTABLISHED", "Association established")
EVT_RELEASED = _notification("EVT_RELEASED", "Association released")
EVT_ABORTED = _notification("EVT_ABORTED", "Association aborted")
EVT_PDU_RECV = _notification("EVT_PDU_RECV", "PDU received")
EVT_PDU_SENT = _notification("EVT_PDU_SENT", "PDU sent")
EVT_DIMSE_RECV = _notification("EVT_DIMSE_RECV", "Complete DIMSE message received")
EVT_DIMSE_SENT = _notification("EVT_DIMSE_SENT", "DIMSE message sent")

INTERVENTION_EVENTS = (
    EVT_C_ECHO,
    EVT_C_STORE,
    EVT_C_FIND,
    EVT_C_GET,
    EVT_C_MOVE,
    EVT_USER_ID,
    EVT_SOP_EXTENDED,
    EVT_SOP_COMMON,
    EVT_ASYNC_OPS,
)
NOTIFICATION_EVENTS = (
    EVT_CONN_OPEN,
    EVT_CONN_CLOSE,
    EVT_REQUESTED,
    EVT_ACCEPTED,
    EVT_REJECTED,
    EVT_ESTABLISHED,
    EVT_RELEASED,
    EVT_ABORTED,
    EVT_PDU_RECV,
    EVT_PDU_SENT,
    EVT_DIMSE_RECV,
    EVT_DIMSE_SENT,
)

Handler = Callable[..., Any]
HandlerSpec = tuple[EventType, Handler] | tuple[EventType, Handler, Sequence[Any]]


class DatasetDecodeError(Exception):
    """The received data set could not be decoded (leads to 0xC210/0xC310...)."""


class Event:
    """What a handler receives: the association, the event and its details.

    Attributes common to all events: ``assoc``, ``event``, ``timestamp``.
    DIMSE request events add ``context`` (a presentation context tuple whose
    ``transfer_syntax`` is the negotiated one), ``request`` (the DIMSE
    message, fields named as in PS3.7 Annex E), ``message_id``, and the data
    set accessors below. Anything else passed when the event is triggered is
    available as an attribute of the same name.
    """

    def __init__(self, assoc: Any, event: EventType, **attrs: Any) -> None:
        self.assoc = assoc
        self.event = event
        self.timestamp = datetime.now()
        self._decoded: Dataset | None = None
        self._data: bytes | None = attrs.pop("_data", None)
        self.dataset_path: str | None = attrs.pop("dataset_path", None)
        self._cancel_check: Callable[[], bool] | None = attrs.pop("_cancel_check", None)
        for key, value in attrs.items():
            setattr(self, key, value)

    # -- the data set of a C-STORE request (or identifier of C-FIND/GET/MOVE)

    def encoded_dataset(self, include_meta: bool = False) -> bytes:
        """The data set as received, in the negotiated transfer syntax.

        With ``include_meta`` the bytes form a complete DICOM file (PS3.10
        section 7.1: preamble, ``DICM``, file meta information), ready to be
        written to disk bit for bit as the peer sent it.
        """
        data = self._raw()
        if not include_meta:
            return data
        return self.encoded_file_meta() + data

    def encoded_file_meta(self) -> bytes:
        """Preamble, ``DICM`` and :attr:`file_meta` encoded (PS3.10 7.1): how a file starts."""
        return encode_file_meta_values(self._file_meta_values())

    def _raw(self) -> bytes:
        if self._data is not None:
            return self._data
        if self.dataset_path is not None:
            with open(self.dataset_path, "rb") as fh:
                return fh.read()
        return b""

    @property
    def dataset(self) -> Dataset:
        """The data set decoded with pydicom on first access (then cached)."""
        if self._decoded is None:
            context = getattr(self, "context", None)
            syntax = UID(context.transfer_syntax) if context else UID("1.2.840.10008.1.2")
            self._decoded = decode_dataset(self._raw(), syntax)
            if self.event is EVT_C_STORE:
                self._decoded.file_meta = self.file_meta
        return self._decoded

    @property
    def identifier(self) -> Dataset:
        """The decoded Identifier of a C-FIND, C-GET or C-MOVE request."""
        return self.dataset

    @property
    def file_meta(self) -> FileMetaDataset:
        """File meta information for the received instance (PS3.10 7.1)."""
        return file_meta_dataset(self._file_meta_values())

    def _file_meta_values(self) -> dict[int, object]:
        """The file meta information by element number of group 0002."""
        from . import IMPLEMENTATION_UID, IMPLEMENTATION_VERSION

        request = getattr(self, "request", None)
        context = getattr(self, "context", None)
        values: dict[int, object] = {0x0001: b"\x00\x01"}
        if request is not None:
            values[0x0002] = request.AffectedSOPClassUID
            values[0x0003] = request.AffectedSOPInstanceUID
        if context is not None:
            values[0x0010] = context.transfer_syntax
        values[0x0012] = IMPLEMENTATION_UID
        values[0x0013] = IMPLEMENTATION_VERSION
        calling = getattr(getattr(self.assoc, "requestor", None), "ae_title", "")
        if calling:
            values[0x0016] = calling
        return values

    @property
    def is_cancelled(self) -> bool:
        """True once a C-CANCEL for this request's message ID has arrived."""
        return self._cancel_check() if self._cancel_check is not None else False

    def __repr__(self) -> str:
        return f"<Event {self.event.name} at {self.timestamp:%H:%M:%S.%f}>"


def decode_dataset(data: bytes, transfer_syntax: UID) -> Dataset:
    """Decode a data set in ``transfer_syntax``; raise :class:`DatasetDecodeError`.

    Every element is checked so that a corrupt value is found now, not
    later inside a handler (the same check the seeds' services make). Flat
    little-endian data sets (C-FIND identifiers) take
    :func:`~dicomwire.flat_codec.decode_flat`, which makes those checks
    without converting every value; the rest are read and converted by pydicom.
    """
    try:
        implicit = IMPLICIT_VR.get(transfer_syntax)
        if implicit is not None:
            flat = decode_flat(data, implicit)
            if flat is not None:
                return flat
        if transfer_syntax.is_deflated:
            import zlib

            data = zlib.decompress(data, -zlib.MAX_WBITS)
        ds = read_dataset(
            BytesIO(data),
            is_implicit_VR=transfer_syntax.is_implicit_VR,
            is_little_endian=transfer_syntax.is_little_endian,
        )
        _check_lengths(ds)
        for _elem in ds:
            pass
    except Exception as exc:
        raise DatasetDecodeError(f"cannot decode the data set: {exc}") from exc
    ds.set_original_encoding(transfer_syntax.is_implicit_VR, transfer_syntax.is_little_endian)
    return ds


def _check_lengths(ds: Dataset) -> None:
    """pydicom reads a truncated value without complaint; a peer's data set
    whose last value is shorter than its length field is corrupt."""
    for tag in ds.keys():
        raw = ds.get_item(tag)
        if not isinstance(raw, RawDataElement) or raw.length == 0xFFFFFFFF:
            continue
        if raw.value is not None and len(raw.value) != raw.length:
            raise ValueError(
                f"element {tag} announces {raw.length} bytes but only {len(raw.value)} follow"
            )


class HandlerRegistry:
    """The handlers bound for one AE server or one association."""

    def __init__(self, specs: Iterable[HandlerSpec] | None = None) -> None:
        self._handlers: dict[EventType, list[tuple[Handler, tuple[Any, ...]]]] = {}
        for spec in specs or ():
            self.bind(*_unpack(spec))

    def bind(self, event: EventType, handler: Handler, args: Sequence[Any] = ()) -> None:
        """Bind ``handler``; for an intervention event it replaces any other."""
        entry = (handler, tuple(args))
        if event.is_intervention:
            self._handlers[event] = [entry]
            return
        bound = self._handlers.setdefault(event, [])
        if all(h is not handler for h, _ in bound):
            bound.append(entry)

    def unbind(self, event: EventType, handler: Handler) -> None:
        """Remove ``handler`` from ``event`` if it is bound."""
        bound = self._handlers.get(event, [])
        self._handlers[event] = [(h, a) for h, a in bound if h is not handler]

    def get(self, event: EventType) -> list[tuple[Handler, tuple[Any, ...]]]:
        return self._handlers.get(event, [])

    def has(self, event: EventType) -> bool:
        return bool(self._handlers.get(event))

    def copy(self) -> HandlerRegistry:
        clone = HandlerRegistry()
        clone._handlers = {k: list(v) for k, v in self._handlers.items()}
        return clone

    def items(self) -> list[tuple[EventType, list[tuple[Handler, tuple[Any, ...]]]]]:
        return list(self._handlers.items())


def _unpack(spec: HandlerSpec) -> tuple[EventType, Handler, Sequence[Any]]:
    if len(spec) == 2:
        return spec[0], spec[1], ()
    if len(spec) == 3:
        return spec[0], spec[1], spec[2]
    raise ValueError(f"a handler is bound as (event, handler) or (event, handler, args): {spec!r}")


def notify(registry: HandlerRegistry, assoc: Any, event: EventType, **attrs: Any) -> None:
    """Call every handler of a notification event; their errors are logged only."""
    handlers = registry.get(event)
    if not handlers:
        return
    evt = Event(assoc, event, **attrs)
    for handler, args in handlers:
        try:
            handler(evt, *args)
        except Exception:
            LOGGER.exception("exception in the handler bound to %s", event.name)


def get_handler(
    registry: HandlerRegistry, event: EventType
) -> tuple[Handler, tuple[Any, ...]] | None:
    """The one handler of an intervention event, if bound."""
    handlers = registry.get(event)
    return handlers[0] if handlers else None
