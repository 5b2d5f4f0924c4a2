"""DIMSE command sets: the C-* and N-* messages and their group 0000 codec.

A DIMSE message is a command set, optionally followed by a data set
(PS3.7 section 6.3.1). The command set is always encoded in Implicit VR
Little Endian whatever transfer syntax the presentation context uses
(PS3.7 section 6.3.1), with the elements of the command dictionary
(PS3.7 Annex E, Table E.1-1) in ascending tag order and the Command Group
Length (0000,0000) first.

The message classes follow the message-field tables of PS3.7 section 9.3
(DIMSE-C) and section 10.3 (DIMSE-N), and are named after the standard's
messages (``C_STORE_RQ`` is the C-STORE-RQ message). They are mutable
dataclasses on purpose: a service builds a response and fills it in field
by field, the way users of pynetdicom primitives expect.

The DIMSE-N messages are generated from a table, so a type checker sees
them as ``type[Any]``: construct them with keyword arguments.

This module is stdlib-only and does no I/O; pydicom is deliberately not
used here because a command set is tiny, fixed in shape, and decoded once
per message on the hot path.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import Any, ClassVar, Final

from dicomwire._core.errors import DIMSEError, LocalError

__all__ = [
    "C_CANCEL_RQ",
    "C_ECHO_RQ",
    "C_ECHO_RSP",
    "C_FIND_RQ",
    "C_FIND_RSP",
    "C_GET_RQ",
    "C_GET_RSP",
    "C_MOVE_RQ",
    "C_MOVE_RSP",
    "C_STORE_RQ",
    "C_STORE_RSP",
    "MESSAGE_TYPES",
    "NO_DATA_SET",
    "N_ACTION_RQ",
    "N_ACTION_RSP",
    "N_CREATE_RQ",
    "N_CREATE_RSP",
    "N_DELETE_RQ",
    "N_DELETE_RSP",
    "N_EVENT_REPORT_RQ",
    "N_EVENT_REPORT_RSP",
    "N_GET_RQ",
    "N_GET_RSP",
    "N_SET_RQ",
    "N_SET_RSP",
    "CommandEncodeError",
    "CommandSetError",
    "Message",
    "Priority",
    "decode_command",
    "encode_command",
]


class Priority(IntEnum):
    """Priority (0000,0700) values (PS3.7 Annex E, Table E.1-1)."""

    LOW = 2
    MEDIUM = 0
    HIGH = 1


#: Command Data Set Type (0000,0800) value meaning "no data set" (PS3.7 Annex E).
#: Any other value means a data set follows the command set.
NO_DATA_SET: Final = 0x0101
# The value we send when a data set is present; DCMTK sends 0x0000 or 0x0102
# and peers must accept anything but 0x0101, so the choice does not matter.
_DATA_SET_PRESENT: Final = 0x0000
_PRIORITY_MEDIUM: Final = Priority.MEDIUM


class CommandSetError(DIMSEError):
    """A command set that cannot be decoded (PS3.7 section 6.3.1, Annex E).

    Carries whatever identifies the message, when it could be read, so an
    SCP can still send a failure response to the right request and an SCU
    can fail the right pending operation.
    """

    def __init__(
        self,
        message: str,
        *,
        message_id: int | None = None,
        command_field: int | None = None,
        message_id_being_responded_to: int | None = None,
    ) -> None:
        super().__init__(message)
        #: Message ID (0000,0110) of the broken message, if readable.
        self.message_id = message_id
        #: Command Field (0000,0100), if readable.
        self.command_field = command_field
        #: Message ID Being Responded To (0000,0120), if readable.
        self.message_id_being_responded_to = message_id_being_responded_to


class CommandEncodeError(LocalError, ValueError):
    """A message cannot be encoded: a mandatory field is missing or a value is out of range."""


# ---------------------------------------------------------------------------
# Message classes (PS3.7 sections 9.3 and 10.3)
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Message:
    """Base of every DIMSE message (PS3.7 section 6.3.1).

    ``has_data_set`` mirrors Command Data Set Type (0000,0800). ``extra``
    holds group 0000 elements this codec does not map to a field (retired
    or unknown ones, or known ones that do not belong to this message type)
    as tag -> raw value bytes; they are kept so that nothing a peer sent is
    lost, and are encoded back (in tag order) if present.
    """

    COMMAND_FIELD: ClassVar[int]
    _: KW_ONLY
    has_data_set: bool = False
    extra: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class _Response(Message):
    """Fields shared by every response: the status fields of PS3.7 Annex C.

    Affected SOP Class UID is a user option in every response (PS3.7
    Tables 9.1-1 to 9.1-5 and 10.1-1 to 10.1-6), so it may be None. The
    keyword-only fields are the optional status-related fields of Annex C
    that a handler's status Dataset may set on any response.
    """

    MessageIDBeingRespondedTo: int
    AffectedSOPClassUID: str | None
    _: KW_ONLY
    AffectedSOPInstanceUID: str | None = None
    OffendingElement: tuple[int, ...] | None = None
    ErrorComment: str | None = None
    ErrorID: int | None = None
    AttributeIdentifierList: tuple[int, ...] | None = None


@dataclass(slots=True)
class C_ECHO_RQ(Message):
    """C-ECHO-RQ (PS3.7 section 9.3.5.1, Table 9.3-12)."""

    COMMAND_FIELD: ClassVar[int] = 0x0030
    MessageID: int
    AffectedSOPClassUID: str


@dataclass(slots=True)
class C_ECHO_RSP(_Response):
    """C-ECHO-RSP (PS3.7 section 9.3.5.2, Table 9.3-13)."""

    COMMAND_FIELD: ClassVar[int] = 0x8030
    Status: int


@dataclass(slots=True)
class C_STORE_RQ(Message):
    """C-STORE-RQ (PS3.7 section 9.3.1.1, Table 9.3-1); the data set is the instance."""

    COMMAND_FIELD: ClassVar[int] = 0x0001
    MessageID: int
    AffectedSOPClassUID: str
    AffectedSOPInstanceUID: str
    Priority: int = _PRIORITY_MEDIUM
    MoveOriginatorApplicationEntityTitle: str | None = None
    MoveOriginatorMessageID: int | None = None
    _: KW_ONLY
    has_data_set: bool = True


@dataclass(slots=True)
class C_STORE_RSP(_Response):
    """C-STORE-RSP (PS3.7 section 9.3.1.2, Table 9.3-2)."""

    COMMAND_FIELD: ClassVar[int] = 0x8001
    # Redeclared without a default so that it is positional here, as in the
    # standard's field order; still a user option (U), hence None allowed.
    AffectedSOPInstanceUID: str | None
    Status: int


@dataclass(slots=True)
class C_FIND_RQ(Message):
    """C-FIND-RQ (PS3.7 section 9.3.2.1, Table 9.3-3); the data set is the Identifier."""

    COMMAND_FIELD: ClassVar[int] = 0x0020
    MessageID: int
    AffectedSOPClassUID: str
    Priority: int
    _: KW_ONLY
    has_data_set: bool = True


@dataclass(slots=True)
class C_FIND_RSP(_Response):
    """C-FIND-RSP (PS3.7 section 9.3.2.2, Table 9.3-4); an Identifier follows when Pending."""

    COMMAND_FIELD: ClassVar[int] = 0x8020
    Status: int


@dataclass(slots=True)
class C_GET_RQ(Message):
    """C-GET-RQ (PS3.7 section 9.3.3.1, Table 9.3-5); the data set is the Identifier."""

    COMMAND_FIELD: ClassVar[int] = 0x0010
    MessageID: int
    AffectedSOPClassUID: str
    Priority: int
    _: KW_ONLY
    has_data_set: bool = True


@dataclass(slots=True)
class _SubOperationsResponse(_Response):
    """Status and sub-operation counters of C-GET-RSP / C-MOVE-RSP (PS3.7 9.3.3.2, 9.3.4.2)."""

    Status: int
    NumberOfRemainingSuboperations: int | None = None
    NumberOfCompletedSuboperations: int | None = None
    NumberOfFailedSuboperations: int | None = None
    NumberOfWarningSuboperations: int | None = None


@dataclass(slots=True)
class C_GET_RSP(_SubOperationsResponse):
    """C-GET-RSP (PS3.7 section 9.3.3.2, Table 9.3-6)."""

    COMMAND_FIELD: ClassVar[int] = 0x8010


@dataclass(slots=True)
class C_MOVE_RQ(Message):
    """C-MOVE-RQ (PS3.7 section 9.3.4.1, Table 9.3-9); the data set is the Identifier."""

    COMMAND_FIELD: ClassVar[int] = 0x0021
    MessageID: int
    AffectedSOPClassUID: str
    Priority: int
    MoveDestination: str
    _: KW_ONLY
    has_data_set: bool = True


@dataclass(slots=True)
class C_MOVE_RSP(_SubOperationsResponse):
    """C-MOVE-RSP (PS3.7 section 9.3.4.2, Table 9.3-10)."""

    COMMAND_FIELD: ClassVar[int] = 0x8021


@dataclass(slots=True)
class C_CANCEL_RQ(Message):
    """C-CANCEL-RQ (PS3.7 section 9.3.2.3, Table 9.3-7); never carries a data set."""

    COMMAND_FIELD: ClassVar[int] = 0x0FFF
    MessageIDBeingRespondedTo: int


# The DIMSE-N messages are rarely used by this toolkit's services, but a
# peer may send them, so decode must know their shape. They are generated
# from PS3.7 section 10.3 (Tables 10.3-1 to 10.3-12): (field, required).
_NRow = tuple[str, int, tuple[tuple[str, bool], ...], bool]
_N_REQUESTS: Final[tuple[_NRow, ...]] = (
    ("N_EVENT_REPORT_RQ", 0x0100, (("AffectedSOPClassUID", True),
     ("AffectedSOPInstanceUID", True), ("EventTypeID", True)), False),
    ("N_GET_RQ", 0x0110, (("RequestedSOPClassUID", True),
     ("RequestedSOPInstanceUID", True), ("AttributeIdentifierList", False)), False),
    ("N_SET_RQ", 0x0120, (("RequestedSOPClassUID", True),
     ("RequestedSOPInstanceUID", True)), True),
    ("N_ACTION_RQ", 0x0130, (("RequestedSOPClassUID", True),
     ("RequestedSOPInstanceUID", True), ("ActionTypeID", True)), False),
    ("N_CREATE_RQ", 0x0140, (("AffectedSOPClassUID", True),
     ("AffectedSOPInstanceUID", False)), False),
    ("N_DELETE_RQ", 0x0150, (("RequestedSOPClassUID", True),
     ("RequestedSOPInstanceUID", True)), False),
)
# Responses: the shared _Response fields plus Status and these optional ones.
_N_RESPONSES: Final[tuple[tuple[str, int, tuple[str, ...]], ...]] = (
    ("N_EVENT_REPORT_RSP", 0x8100, ("EventTypeID",)),
    ("N_GET_RSP", 0x8110, ()),
    ("N_SET_RSP", 0x8120, ()),
    ("N_ACTION_RSP", 0x8130, ("ActionTypeID",)),
    ("N_CREATE_RSP", 0x8140, ()),
    ("N_DELETE_RSP", 0x8150, ()),
)


def _n_message(
    name: str, command_field: int, base: type[Message], fields: list[Any], data_set: bool
) -> type[Message]:
    """Create one DIMSE-N message dataclass from its row in the tables above."""
    fields.append(("has_data_set", bool, field(default=data_set, kw_only=True)))
    cls = dataclasses.make_dataclass(
        name,
        fields,
        bases=(base,),
        slots=True,
        namespace={
            "COMMAND_FIELD": command_field,
            "__doc__": f"{name.replace('_', '-')} (PS3.7 section 10.3).",
        },
    )
    cls.__module__ = __name__
    return cls


def _field_type(name: str) -> str:
    # Only used as the annotation text of the generated N-* classes.
    return {"UI": "str", "AT": "tuple[int, ...]"}.get(_NAME_VR[name], "int")


def _build_n_messages() -> dict[str, type[Message]]:
    built: dict[str, type[Message]] = {}
    for name, cf, columns, data_set in _N_REQUESTS:
        fields: list[Any] = [("MessageID", int)]
        fields += [(f, _field_type(f)) for f, required in columns if required]
        fields += [
            (f, f"{_field_type(f)} | None", field(default=None))
            for f, required in columns
            if not required
        ]
        built[name] = _n_message(name, cf, Message, fields, data_set)
    for name, cf, optional in _N_RESPONSES:
        fields = [("Status", int)]
        fields += [(f, "int | None", field(default=None)) for f in optional]
        built[name] = _n_message(name, cf, _Response, fields, False)
    return built


# ---------------------------------------------------------------------------
# Command dictionary (PS3.7 Annex E, Table E.1-1)
# ---------------------------------------------------------------------------

# Element number -> (keyword, VR). All command elements are in group 0000.
# Retired elements (Annex E.2) are deliberately absent: they land in `extra`.
_DICTIONARY: Final[Mapping[int, tuple[str, str]]] = MappingProxyType({
    0x0000: ("CommandGroupLength", "UL"),
    0x0002: ("AffectedSOPClassUID", "UI"),
    0x0003: ("RequestedSOPClassUID", "UI"),
    0x0100: ("CommandField", "US"),
    0x0110: ("MessageID", "US"),
    0x0120: ("MessageIDBeingRespondedTo", "US"),
    0x0600: ("MoveDestination", "AE"),
    0x0700: ("Priority", "US"),
    0x0800: ("CommandDataSetType", "US"),
    0x0900: ("Status", "US"),
    0x0901: ("OffendingElement", "AT"),
    0x0902: ("ErrorComment", "LO"),
    0x0903: ("ErrorID", "US"),
    0x1000: ("AffectedSOPInstanceUID", "UI"),
    0x1001: ("RequestedSOPInstanceUID", "UI"),
    0x1002: ("EventTypeID", "US"),
    0x1005: ("AttributeIdentifierList", "AT"),
    0x1008: ("ActionTypeID", "US"),
    0x1020: ("NumberOfRemainingSuboperations", "US"),
    0x1021: ("NumberOfCompletedSuboperations", "US"),
    0x1022: ("NumberOfFailedSuboperations", "US"),
    0x1023: ("NumberOfWarningSuboperations", "US"),
    0x1030: ("MoveOriginatorApplicationEntityTitle", "AE"),
    0x1031: ("MoveOriginatorMessageID", "US"),
})
_NAME_TAG: Final = {name: tag for tag, (name, _) in _DICTIONARY.items()}
_NAME_VR: Final = {name: vr for name, vr in _DICTIONARY.values()}
_TAG_GROUP_LENGTH: Final = 0x0000
_TAG_COMMAND_FIELD: Final = 0x0100
_TAG_MESSAGE_ID: Final = 0x0110
_TAG_RESPONDED_TO: Final = 0x0120
_TAG_DATA_SET_TYPE: Final = 0x0800
# Elements the codec writes itself rather than from a message field.
_CODEC_TAGS: Final = frozenset({_TAG_GROUP_LENGTH, _TAG_COMMAND_FIELD, _TAG_DATA_SET_TYPE})

_N_MESSAGES: Final = _build_n_messages()
# Generated classes are invisible to a type checker; typing them as
# type[Any] lets typed code construct them (by keyword) and read fields.
N_EVENT_REPORT_RQ: Final[type[Any]] = _N_MESSAGES["N_EVENT_REPORT_RQ"]
N_EVENT_REPORT_RSP: Final[type[Any]] = _N_MESSAGES["N_EVENT_REPORT_RSP"]
N_GET_RQ: Final[type[Any]] = _N_MESSAGES["N_GET_RQ"]
N_GET_RSP: Final[type[Any]] = _N_MESSAGES["N_GET_RSP"]
N_SET_RQ: Final[type[Any]] = _N_MESSAGES["N_SET_RQ"]
N_SET_RSP: Final[type[Any]] = _N_MESSAGES["N_SET_RSP"]
N_ACTION_RQ: Final[type[Any]] = _N_MESSAGES["N_ACTION_RQ"]
N_ACTION_RSP: Final[type[Any]] = _N_MESSAGES["N_ACTION_RSP"]
N_CREATE_RQ: Final[type[Any]] = _N_MESSAGES["N_CREATE_RQ"]
N_CREATE_RSP: Final[type[Any]] = _N_MESSAGES["N_CREATE_RSP"]
N_DELETE_RQ: Final[type[Any]] = _N_MESSAGES["N_DELETE_RQ"]
N_DELETE_RSP: Final[type[Any]] = _N_MESSAGES["N_DELETE_RSP"]

#: Message class for each Command Field value (PS3.7 Annex E, (0000,0100)).
_C_MESSAGES: Final[tuple[type[Message], ...]] = (
    C_STORE_RQ, C_STORE_RSP, C_GET_RQ, C_GET_RSP, C_FIND_RQ, C_FIND_RSP,
    C_MOVE_RQ, C_MOVE_RSP, C_ECHO_RQ, C_ECHO_RSP, C_CANCEL_RQ,
)
MESSAGE_TYPES: Final[Mapping[int, type[Message]]] = MappingProxyType({
    cls.COMMAND_FIELD: cls for cls in (*_C_MESSAGES, *_N_MESSAGES.values())
})


# ---------------------------------------------------------------------------
# Per-class codec plans
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one message class maps to elements, computed once per class."""

    # (element, field name, encoder) in ascending tag order, including the
    # two elements the codec writes itself (Command Field, Command Data Set
    # Type), which have no field name and no encoder.
    elements: tuple[tuple[int, str, Callable[[int, Any], bytes] | None], ...]
    # element -> (field name, value decoder), for this class's fields only.
    decoders: Mapping[int, tuple[str, Callable[[bytes, int, int], object]]]
    # Must not be None on encode; must be present on decode unless in `fill`.
    required: frozenset[str]
    # Decode's value for a field without default whose element is absent
    # but tolerated (user options of responses, Priority).
    fill: Mapping[str, object]


_PLANS: dict[type[Message], _Plan] = {}
# Fields the standard marks as a user option (U) in every response, but
# which are positional (no default) in some response classes.
_OPTIONAL_IN_RESPONSES: Final = frozenset({"AffectedSOPClassUID", "AffectedSOPInstanceUID"})


def _plan(cls: type[Message]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _make_plan(cls)
    return plan


def _make_plan(cls: type[Message]) -> _Plan:
    names = [f.name for f in dataclasses.fields(cls) if f.name in _NAME_TAG]
    no_default = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    optional = _OPTIONAL_IN_RESPONSES if issubclass(cls, _Response) else frozenset()
    fill: dict[str, object] = dict.fromkeys(optional & no_default)
    if "Priority" in no_default:
        # Priority is mandatory in requests, but PS3.4 does not require SCPs
        # to process it, so a peer that leaves it out is not worth failing.
        fill["Priority"] = Priority.MEDIUM
    elements: list[tuple[int, str, Callable[[int, Any], bytes] | None]] = sorted(
        [(_NAME_TAG[n], n, _ENCODERS[_NAME_VR[n]]) for n in names]
        + [(_TAG_COMMAND_FIELD, "", None), (_TAG_DATA_SET_TYPE, "", None)],
        key=lambda element: element[0],
    )
    return _Plan(
        elements=tuple(elements),
        # A plain dict: looked up once per element of every decoded message.
        decoders={
            _NAME_TAG[n]: (n, _decode_priority if n == "Priority" else _DECODERS[_NAME_VR[n]])
            for n in names
        },
        required=frozenset(n for n in names if n in no_default and n not in optional),
        fill=MappingProxyType(fill),
    )


def _required_fields(cls: type[Message]) -> frozenset[str]:
    """Names of the fields encode refuses as None (for tests)."""
    return _plan(cls).required


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------

_HEADER: Final = struct.Struct("<HHI")  # group, element, value length
_US_ELEMENT: Final = struct.Struct("<HHIH")
_UL_ELEMENT: Final = struct.Struct("<HHII")
_AT_VALUE: Final = struct.Struct("<HH")


def _encode_us(elem: int, value: Any) -> bytes:
    return _US_ELEMENT.pack(0, elem, 2, value)


def _encode_text(elem: int, raw: bytes, pad: bytes) -> bytes:
    if len(raw) & 1:
        raw += pad  # PS3.5 section 6.2: values have even length
    return _HEADER.pack(0, elem, len(raw)) + raw


# Encoded UI elements by (element, value): the same SOP Class UID goes out
# with every message; cleared when full so it stays small.
_UI_CACHE: dict[tuple[int, str], bytes] = {}


def _encode_ui(elem: int, value: Any) -> bytes:
    key = (elem, value)
    encoded = _UI_CACHE.get(key)
    if encoded is None:
        encoded = _encode_text(elem, value.encode("ascii"), b"\0")
        if len(_UI_CACHE) >= 1024:
            _UI_CACHE.clear()
        _UI_CACHE[key] = encoded
    return encoded


def _encode_ae(elem: int, value: Any) -> bytes:
    return _encode_text(elem, value.encode("ascii"), b" ")


def _encode_lo(elem: int, value: Any) -> bytes:
    # Error comments often come from exception text; replacing what falls
    # outside the default repertoire beats failing to send the response.
    return _encode_text(elem, value.encode("ascii", "replace"), b" ")


def _encode_at(elem: int, value: Any) -> bytes:
    raw = b"".join([_AT_VALUE.pack(tag >> 16, tag & 0xFFFF) for tag in value])
    return _HEADER.pack(0, elem, len(raw)) + raw


# Command Data Set Type (0000,0800) elements, indexed by has_data_set.
_DATA_SET_TYPE_BYTES: Final = (
    _encode_us(_TAG_DATA_SET_TYPE, NO_DATA_SET),
    _encode_us(_TAG_DATA_SET_TYPE, _DATA_SET_PRESENT),
)

_ENCODERS: Final[Mapping[str, Callable[[int, Any], bytes]]] = MappingProxyType({
    "US": _encode_us,
    "UI": _encode_ui,
    "AE": _encode_ae,
    "LO": _encode_lo,
    "AT": _encode_at,
})


def encode_command(msg: Message) -> bytes:
    """Encode a message's command set (PS3.7 section 6.3.1, section 9.3 / 10.3, Annex E).

    Implicit VR Little Endian, Command Group Length first, then the elements
    in ascending tag order; fields that are None are left out. Raises
    :class:`CommandEncodeError` if a mandatory field is None or a value does
    not fit its VR.
    """
    cls = type(msg)
    plan = _PLANS.get(cls) or _plan(cls)
    chunks: list[tuple[int, bytes]] = []
    try:
        for elem, name, encode in plan.elements:
            if encode is None:
                if elem == _TAG_COMMAND_FIELD:
                    chunks.append((elem, _encode_us(elem, cls.COMMAND_FIELD)))
                else:
                    chunks.append((elem, _DATA_SET_TYPE_BYTES[msg.has_data_set]))
                continue
            value = getattr(msg, name)
            if value is None:
                if name in plan.required:
                    raise CommandEncodeError(f"{cls.__name__}.{name} is mandatory")
                continue
            chunks.append((elem, encode(elem, value)))
    except (struct.error, UnicodeEncodeError, AttributeError, TypeError) as exc:
        raise CommandEncodeError(f"cannot encode {cls.__name__}: {exc}") from exc
    if msg.extra:
        chunks = _merge_extra(chunks, msg.extra, plan.decoders)
    body = b"".join([chunk for _, chunk in chunks])
    return _UL_ELEMENT.pack(0, _TAG_GROUP_LENGTH, 4, len(body)) + body


def _merge_extra(
    chunks: list[tuple[int, bytes]], extra: Mapping[int, bytes], field_tags: Mapping[int, object]
) -> list[tuple[int, bytes]]:
    """Add the raw `extra` elements in tag order; message fields win over them."""
    for tag, raw in extra.items():
        if not 0 <= tag <= 0xFFFF:
            raise CommandEncodeError(f"extra element {tag:#010x} is not in group 0000")
        if tag in field_tags or tag in _CODEC_TAGS:
            continue
        chunks.append((tag, _encode_text(tag, bytes(raw), b"\0")))
    chunks.sort(key=lambda item: item[0])
    return chunks


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

# Where each element's value lies in the command set: element -> (start, end).
_Spans = dict[int, tuple[int, int]]


def _split_elements(data: bytes) -> tuple[_Spans, str | None]:
    """Locate every element's value, stopping at the first fault.

    Returns what was read so far together with a description of the fault,
    so that the caller can still report the message's IDs. Lengths come
    from each element header; Command Group Length is never trusted.
    """
    spans: _Spans = {}
    unpack = _HEADER.unpack_from
    offset, end = 0, len(data)
    while offset < end:
        if end - offset < 8:
            return spans, f"truncated element header at offset {offset}"
        group, elem, length = unpack(data, offset)
        if group != 0:
            return spans, f"element ({group:04X},{elem:04X}) is not a command element"
        if length & 1:
            # Covers undefined length (0xFFFFFFFF) too, which PS3.7 does not allow here.
            return spans, f"odd value length {length} for (0000,{elem:04X})"
        start = offset + 8
        offset = start + length
        if offset > end:
            return spans, f"value of (0000,{elem:04X}) overruns the command set"
        if elem in spans:
            return spans, f"(0000,{elem:04X}) appears twice"
        spans[elem] = (start, offset)
    return spans, None


def _us_at(data: bytes, span: tuple[int, int] | None) -> int | None:
    """A US value, or None if absent or not 2 bytes long (zero length = no value)."""
    if span is None or span[1] - span[0] != 2:
        return None
    return data[span[0]] | data[span[0] + 1] << 8


# Value decoders: (data, start, end) -> value, None for "no value";
# ValueError for a malformed one.


def _decode_us(data: bytes, start: int, end: int) -> int | None:
    if end - start == 2:
        return data[start] | data[start + 1] << 8
    if end == start:
        return None
    raise ValueError(f"value length {end - start}, US needs 2")


_PRIORITIES: Final[Mapping[int, Priority]] = {p.value: p for p in Priority}


def _decode_priority(data: bytes, start: int, end: int) -> int | None:
    value = _decode_us(data, start, end)
    # An odd priority is the SCP's business, not a decode error: keep the int.
    return None if value is None else _PRIORITIES.get(value, value)


def _decode_text(data: bytes, start: int, end: int) -> str:
    # UI is padded with NUL, AE and LO with spaces; peers mix them up, so strip both.
    return data[start:end].decode("ascii", "replace").strip(" \0")


def _decode_at(data: bytes, start: int, end: int) -> tuple[int, ...]:
    if (end - start) % 4:
        raise ValueError(f"value length {end - start}, AT needs a multiple of 4")
    return tuple((g << 16) | e for g, e in _AT_VALUE.iter_unpack(data[start:end]))


_DECODERS: Final[Mapping[str, Callable[[bytes, int, int], object]]] = MappingProxyType({
    "US": _decode_us,
    "UI": _decode_text,
    "AE": _decode_text,
    "LO": _decode_text,
    "AT": _decode_at,
})


def _ids(data: bytes, spans: _Spans) -> dict[str, int | None]:
    """What identifies a broken message, for :class:`CommandSetError`."""
    return {
        "message_id": _us_at(data, spans.get(_TAG_MESSAGE_ID)),
        "command_field": _us_at(data, spans.get(_TAG_COMMAND_FIELD)),
        "message_id_being_responded_to": _us_at(data, spans.get(_TAG_RESPONDED_TO)),
    }


def decode_command(data: bytes | bytearray | memoryview) -> Message:
    """Decode a command set into its message (PS3.7 section 6.3.1, Annex E).

    Elements unknown to the command dictionary, or not part of this message
    type, are kept raw in ``Message.extra``. Raises :class:`CommandSetError`
    (a :class:`DIMSEError`) on a truncated or overrunning element, an odd
    length, a missing or unknown Command Field, a missing mandatory element
    or a US value of the wrong length.
    """
    # A command set is a few hundred bytes: one copy into bytes makes every
    # later slice and unpack cheaper than working through a memoryview.
    raw = data if type(data) is bytes else bytes(data)
    spans, fault = _split_elements(raw)
    if fault is not None:
        raise CommandSetError(fault, **_ids(raw, spans))
    command_field = _us_at(raw, spans.get(_TAG_COMMAND_FIELD))
    data_set_type = _us_at(raw, spans.get(_TAG_DATA_SET_TYPE))
    try:
        if command_field is None:
            raise ValueError("no Command Field (0000,0100)")
        cls = MESSAGE_TYPES.get(command_field)
        if cls is None:
            raise ValueError(f"unknown Command Field {command_field:#06x}")
        if data_set_type is None:
            raise ValueError("no Command Data Set Type (0000,0800)")
        return _build(cls, raw, spans, data_set_type != NO_DATA_SET)
    except ValueError as exc:
        raise CommandSetError(str(exc), **_ids(raw, spans)) from exc


def _build(cls: type[Message], data: bytes, spans: _Spans, has_data_set: bool) -> Message:
    plan = _PLANS.get(cls) or _plan(cls)
    decoders = plan.decoders
    kwargs: dict[str, Any] = {}
    extra: dict[int, bytes] = {}
    for elem, (start, end) in spans.items():
        decoder = decoders.get(elem)
        if decoder is None:
            if elem not in _CODEC_TAGS:
                extra[elem] = data[start:end]
            continue
        name, decode = decoder
        # The two commonest kinds of element, decoded here without a call.
        if decode is _decode_us and end - start == 2:
            kwargs[name] = data[start] | data[start + 1] << 8
            continue
        if decode is _decode_text:
            kwargs[name] = data[start:end].decode("ascii", "replace").strip(" \0")
            continue
        try:
            value = decode(data, start, end)
        except ValueError as exc:
            raise ValueError(f"{cls.__name__}.{name}: {exc}") from None
        if value is not None:
            kwargs[name] = value
    for name, value in plan.fill.items():
        kwargs.setdefault(name, value)
    if not kwargs.keys() >= plan.required:
        missing = plan.required.difference(kwargs)
        raise ValueError(f"{cls.__name__}: mandatory {', '.join(sorted(missing))} missing")
    return cls(**kwargs, has_data_set=has_data_set, extra=extra)
