"""Variable items of the A-ASSOCIATE PDUs: presentation contexts and user information.

Presentation context items follow PS3.8 sections 9.3.2.2 and 9.3.3.2; user
information sub-items follow PS3.8 Annex D and PS3.7 Annex D.3.3. The public
names are re-exported by ``dicomwire._core.pdu``; the helpers without a
leading underscore are shared with that module and are not a public API.

Parsers take a ``memoryview`` of an item's value, check every bound
explicitly and raise ``PDUError``; encoders raise ``ValueError``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dicomwire._core.errors import AbortReason, PDUError

APPLICATION_CONTEXT_NAME = "1.2.840.10008.3.1.1.1"  # PS3.7 Annex A.2.1

_ITEM_HEADER = struct.Struct(">BxH")  # item type, reserved, item length
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">L")
_PC_FIXED = struct.Struct(">BxBx")  # context ID, reserved, result (AC only), reserved
_ASYNC = struct.Struct(">HH")
_ROLE_FLAGS = struct.Struct(">BB")
_IDENTITY_RQ_FIXED = struct.Struct(">BBH")  # type, positive response requested, primary length

_AE_TITLE_SIZE = 16
# AE allows the default character repertoire except control characters and
# "\" (PS3.5 table 6.2-1): anything outside space..~, or a backslash.
_AE_TITLE_FORBIDDEN = re.compile(r"[^ -~]|\\")
_MAX_ITEM_VALUE = 0xFFFF
_MAX_VERSION_NAME = 16  # PS3.7 D.3.3.2.3

_ITEM_ABSTRACT_SYNTAX = 0x30
_ITEM_TRANSFER_SYNTAX = 0x40
_ITEM_PRESENTATION_CONTEXT_RQ = 0x20
_ITEM_PRESENTATION_CONTEXT_AC = 0x21
_ITEM_USER_INFORMATION = 0x50
_SUB_MAXIMUM_LENGTH = 0x51
_SUB_IMPLEMENTATION_CLASS_UID = 0x52
_SUB_ASYNC_WINDOW = 0x53
_SUB_ROLE_SELECTION = 0x54
_SUB_IMPLEMENTATION_VERSION_NAME = 0x55
_SUB_SOP_CLASS_EXTENDED = 0x56
_SUB_SOP_CLASS_COMMON_EXTENDED = 0x57
_SUB_USER_IDENTITY_RQ = 0x58
_SUB_USER_IDENTITY_AC = 0x59
_KNOWN_SUB_ITEMS = frozenset(range(_SUB_MAXIMUM_LENGTH, _SUB_USER_IDENTITY_AC + 1))


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class PresentationContextRQ:
    """Presentation context item of an A-ASSOCIATE-RQ (PS3.8 section 9.3.2.2)."""

    context_id: int
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PresentationContextAC:
    """Presentation context item of an A-ASSOCIATE-AC (PS3.8 section 9.3.3.2).

    ``result``: 0 acceptance, 1 user-rejection, 2 no-reason, 3 abstract syntax
    not supported, 4 transfer syntaxes not supported (PS3.8 Table 9-18).
    ``transfer_syntax`` is "" when the peer sent no transfer syntax sub-item,
    which some do when they reject the context.
    """

    context_id: int
    result: int
    transfer_syntax: str


@dataclass(frozen=True, slots=True)
class AsynchronousOperationsWindow:
    """Asynchronous Operations Window sub-item, 0x53 (PS3.7 section D.3.3.3)."""

    invoked: int
    performed: int


@dataclass(frozen=True, slots=True)
class RoleSelection:
    """SCP/SCU Role Selection sub-item, 0x54 (PS3.7 section D.3.3.4)."""

    sop_class_uid: str
    scu_role: bool
    scp_role: bool


@dataclass(frozen=True, slots=True)
class SOPClassExtendedNegotiation:
    """SOP Class Extended Negotiation sub-item, 0x56 (PS3.7 section D.3.3.5)."""

    sop_class_uid: str
    service_class_application_information: bytes


@dataclass(frozen=True, slots=True)
class SOPClassCommonExtendedNegotiation:
    """SOP Class Common Extended Negotiation sub-item, 0x57, version 0 (PS3.7 D.3.3.6)."""

    sop_class_uid: str
    service_class_uid: str
    related_general_sop_class_uids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserIdentityRQ:
    """User Identity Negotiation sub-item of a request, 0x58 (PS3.7 section D.3.3.7.1).

    ``identity_type``: 1 username, 2 username and passcode, 3 Kerberos ticket,
    4 SAML assertion, 5 JSON Web Token.
    """

    identity_type: int
    positive_response_requested: bool
    primary_field: bytes
    secondary_field: bytes = b""


@dataclass(frozen=True, slots=True)
class UserIdentityAC:
    """User Identity Negotiation sub-item of an acceptance, 0x59 (PS3.7 D.3.3.7.2)."""

    server_response: bytes


@dataclass(frozen=True, slots=True)
class UnknownSubItem:
    """A user information sub-item of a type this module does not know.

    Kept and re-encoded rather than rejected: PS3.7 Annex D.3.3 asks receivers
    to ignore sub-items they do not support.
    """

    item_type: int
    data: bytes


@dataclass(frozen=True, slots=True)
class UserInformation:
    """User Information item, 0x50 (PS3.8 section 9.3.2.3, Annex D; PS3.7 D.3.3).

    ``maximum_length`` None means the 0x51 sub-item is absent, 0 means no
    limit; ``implementation_class_uid`` "" means the 0x52 sub-item is absent.
    """

    maximum_length: int | None = None
    implementation_class_uid: str = ""
    implementation_version_name: str | None = None
    asynchronous_operations_window: AsynchronousOperationsWindow | None = None
    role_selections: tuple[RoleSelection, ...] = ()
    sop_class_extended: tuple[SOPClassExtendedNegotiation, ...] = ()
    sop_class_common_extended: tuple[SOPClassCommonExtendedNegotiation, ...] = ()
    user_identity_rq: UserIdentityRQ | None = None
    user_identity_ac: UserIdentityAC | None = None
    unknown: tuple[UnknownSubItem, ...] = ()


# --------------------------------------------------------------------------- primitives


def encode_item(item_type: int, value: bytes) -> bytes:
    """Prefix ``value`` with an item header (type, reserved, 16-bit length)."""
    if len(value) > _MAX_ITEM_VALUE:
        raise ValueError(f"item 0x{item_type:02X} value of {len(value)} bytes exceeds 65535")
    return _ITEM_HEADER.pack(item_type, len(value)) + value


def iter_items(view: memoryview, where: str) -> Iterator[tuple[int, memoryview]]:
    """Yield (item type, value) for consecutive items that must fill ``view``."""
    offset = 0
    end = len(view)
    while offset < end:
        if end - offset < _ITEM_HEADER.size:
            raise PDUError(f"{where} ends inside an item header")
        item_type, length = _ITEM_HEADER.unpack_from(view, offset)
        offset += _ITEM_HEADER.size
        if length > end - offset:
            raise PDUError(f"item 0x{item_type:02X} in {where} overruns its container")
        yield item_type, view[offset : offset + length]
        offset += length


def _prefixed(value: bytes, what: str) -> bytes:
    """Prefix with a 16-bit length, as the sub-items of PS3.7 D.3.3 do."""
    if len(value) > _MAX_ITEM_VALUE:
        raise ValueError(f"{what} of {len(value)} bytes exceeds 65535")
    return _U16.pack(len(value)) + value


def _take_prefixed(view: memoryview, offset: int, what: str) -> tuple[memoryview, int]:
    """Read a 16-bit-length-prefixed field; return it and the offset after it."""
    if len(view) - offset < _U16.size:
        raise PDUError(f"{what}: length field truncated")
    (length,) = _U16.unpack_from(view, offset)
    start = offset + _U16.size
    if length > len(view) - start:
        raise PDUError(f"{what} overruns its sub-item")
    return view[start : start + length], start + length


def _decode_ascii(view: memoryview | bytes, what: str) -> str:
    try:
        return bytes(view).decode("ascii")
    except UnicodeDecodeError:
        raise PDUError(f"{what} is not ASCII") from None


def decode_uid(view: memoryview | bytes, what: str) -> str:
    """Decode a UID field; tolerate the NUL or space padding some peers add."""
    return _decode_ascii(view, what).rstrip("\x00 ")


def encode_uid(uid: str) -> bytes:
    """Encode a UID; PS3.8 items carry UIDs without padding (PS3.8 Annex F)."""
    try:
        return uid.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"UID {uid!r} is not ASCII") from None


def decode_ae_title(raw: bytes) -> str:
    """Decode a 16-byte AE title field; "" when it is all spaces."""
    return _decode_ascii(raw, "AE title").strip(" \x00")


def encode_ae_title(title: str, *, allow_empty: bool = False) -> bytes:
    """Validate an AE title (PS3.5 AE value representation) and pad it to 16 bytes."""
    stripped = title.strip(" ")
    if not stripped and not allow_empty:
        raise ValueError("an AE title needs at least one non-space character")
    if len(stripped) > _AE_TITLE_SIZE:
        raise ValueError(f"AE title {title!r} is longer than 16 characters")
    if _AE_TITLE_FORBIDDEN.search(stripped):
        raise ValueError(f"AE title {title!r} has a character AE titles may not contain")
    return stripped.encode("ascii").ljust(_AE_TITLE_SIZE, b" ")


# ---------------------------------------------------------------- presentation contexts


def encode_presentation_context_rq(pc: PresentationContextRQ) -> bytes:
    """Encode a presentation context item of an A-ASSOCIATE-RQ (PS3.8 9.3.2.2)."""
    parts = [
        _PC_FIXED.pack(pc.context_id, 0),
        encode_item(_ITEM_ABSTRACT_SYNTAX, encode_uid(pc.abstract_syntax)),
    ]
    parts.extend(encode_item(_ITEM_TRANSFER_SYNTAX, encode_uid(ts)) for ts in pc.transfer_syntaxes)
    return encode_item(_ITEM_PRESENTATION_CONTEXT_RQ, b"".join(parts))


def encode_presentation_context_ac(pc: PresentationContextAC) -> bytes:
    """Encode a presentation context item of an A-ASSOCIATE-AC (PS3.8 9.3.3.2)."""
    # The transfer syntax sub-item is always sent, empty on rejection, since
    # PS3.8 9.3.3.2 says it is present but not significant when rejected.
    value = _PC_FIXED.pack(pc.context_id, pc.result) + encode_item(
        _ITEM_TRANSFER_SYNTAX, encode_uid(pc.transfer_syntax)
    )
    return encode_item(_ITEM_PRESENTATION_CONTEXT_AC, value)


def _unexpected_sub_item(item_type: int, where: str) -> PDUError:
    if item_type in (_ITEM_ABSTRACT_SYNTAX, _ITEM_TRANSFER_SYNTAX):
        return PDUError(
            f"repeated or misplaced sub-item 0x{item_type:02X} in {where}",
            reason=AbortReason.UNEXPECTED_PDU_PARAMETER,
        )
    return PDUError(
        f"unknown sub-item 0x{item_type:02X} in {where}",
        reason=AbortReason.UNRECOGNIZED_PDU_PARAMETER,
    )


def parse_presentation_context_rq(value: memoryview) -> PresentationContextRQ:
    """Decode the value of a 0x20 item (PS3.8 section 9.3.2.2)."""
    where = "presentation context (RQ)"
    if len(value) < _PC_FIXED.size:
        raise PDUError(f"{where} shorter than 4 bytes")
    context_id, _ = _PC_FIXED.unpack_from(value, 0)
    abstract_syntax: str | None = None
    transfer_syntaxes: list[str] = []
    for item_type, sub in iter_items(value[_PC_FIXED.size :], where):
        if item_type == _ITEM_TRANSFER_SYNTAX:
            transfer_syntaxes.append(decode_uid(sub, "transfer syntax name"))
        elif item_type == _ITEM_ABSTRACT_SYNTAX and abstract_syntax is None:
            abstract_syntax = decode_uid(sub, "abstract syntax name")
        else:
            raise _unexpected_sub_item(item_type, where)
    if abstract_syntax is None:
        raise PDUError(f"{where} {context_id} has no abstract syntax sub-item")
    # No transfer syntax at all is left to negotiation, which rejects the
    # context; aborting the whole association would be harsher than needed.
    return PresentationContextRQ(context_id, abstract_syntax, tuple(transfer_syntaxes))


def parse_presentation_context_ac(value: memoryview) -> PresentationContextAC:
    """Decode the value of a 0x21 item (PS3.8 section 9.3.3.2)."""
    where = "presentation context (AC)"
    if len(value) < _PC_FIXED.size:
        raise PDUError(f"{where} shorter than 4 bytes")
    context_id, result = _PC_FIXED.unpack_from(value, 0)
    transfer_syntax: str | None = None
    for item_type, sub in iter_items(value[_PC_FIXED.size :], where):
        if item_type == _ITEM_TRANSFER_SYNTAX and transfer_syntax is None:
            transfer_syntax = decode_uid(sub, "transfer syntax name")
        else:
            raise _unexpected_sub_item(item_type, where)
    return PresentationContextAC(context_id, result, transfer_syntax or "")


# ---------------------------------------------------------------- user information: encode


def _encode_version_name(name: str) -> bytes:
    raw = encode_uid(name)
    if not 1 <= len(raw) <= _MAX_VERSION_NAME:
        raise ValueError(f"implementation version name {name!r} must have 1 to 16 characters")
    return raw


def _encode_role(role: RoleSelection) -> bytes:
    value = _prefixed(encode_uid(role.sop_class_uid), "SOP class UID") + _ROLE_FLAGS.pack(
        int(role.scu_role), int(role.scp_role)
    )
    return encode_item(_SUB_ROLE_SELECTION, value)


def _encode_extended(ext: SOPClassExtendedNegotiation) -> bytes:
    value = (
        _prefixed(encode_uid(ext.sop_class_uid), "SOP class UID")
        + ext.service_class_application_information
    )
    return encode_item(_SUB_SOP_CLASS_EXTENDED, value)


def _encode_common_extended(ext: SOPClassCommonExtendedNegotiation) -> bytes:
    related = b"".join(
        _prefixed(encode_uid(uid), "related general SOP class UID")
        for uid in ext.related_general_sop_class_uids
    )
    value = b"".join(
        (
            _prefixed(encode_uid(ext.sop_class_uid), "SOP class UID"),
            _prefixed(encode_uid(ext.service_class_uid), "service class UID"),
            _prefixed(related, "related general SOP class identification"),
        )
    )
    # The byte after the item type is the sub-item version, 0 here (PS3.7 D.3.3.6),
    # which is what encode_item writes into its reserved byte.
    return encode_item(_SUB_SOP_CLASS_COMMON_EXTENDED, value)


def _encode_identity_rq(identity: UserIdentityRQ) -> bytes:
    primary = identity.primary_field
    if len(primary) > _MAX_ITEM_VALUE:
        raise ValueError("user identity primary field exceeds 65535 bytes")
    value = (
        _IDENTITY_RQ_FIXED.pack(
            identity.identity_type, int(identity.positive_response_requested), len(primary)
        )
        + primary
        + _prefixed(identity.secondary_field, "user identity secondary field")
    )
    return encode_item(_SUB_USER_IDENTITY_RQ, value)


def _encode_unknown(item: UnknownSubItem) -> bytes:
    if item.item_type in _KNOWN_SUB_ITEMS:
        raise ValueError(f"sub-item type 0x{item.item_type:02X} has its own class")
    return encode_item(item.item_type, item.data)


def encode_user_information(ui: UserInformation) -> bytes:
    """Encode the 0x50 item with its sub-items in PS3.7 Annex D.3.3 order."""
    parts: list[bytes] = []
    if ui.maximum_length is not None:
        parts.append(encode_item(_SUB_MAXIMUM_LENGTH, _U32.pack(ui.maximum_length)))
    if ui.implementation_class_uid:
        parts.append(
            encode_item(_SUB_IMPLEMENTATION_CLASS_UID, encode_uid(ui.implementation_class_uid))
        )
    window = ui.asynchronous_operations_window
    if window is not None:
        parts.append(encode_item(_SUB_ASYNC_WINDOW, _ASYNC.pack(window.invoked, window.performed)))
    parts.extend(_encode_role(role) for role in ui.role_selections)
    if ui.implementation_version_name is not None:
        parts.append(
            encode_item(
                _SUB_IMPLEMENTATION_VERSION_NAME,
                _encode_version_name(ui.implementation_version_name),
            )
        )
    parts.extend(_encode_extended(ext) for ext in ui.sop_class_extended)
    parts.extend(_encode_common_extended(ext) for ext in ui.sop_class_common_extended)
    if ui.user_identity_rq is not None:
        parts.append(_encode_identity_rq(ui.user_identity_rq))
    if ui.user_identity_ac is not None:
        response = _prefixed(ui.user_identity_ac.server_response, "server response")
        parts.append(encode_item(_SUB_USER_IDENTITY_AC, response))
    parts.extend(_encode_unknown(item) for item in ui.unknown)
    return encode_item(_ITEM_USER_INFORMATION, b"".join(parts))


# ---------------------------------------------------------------- user information: decode


def _require_length(value: memoryview, length: int, what: str) -> None:
    if len(value) != length:
        raise PDUError(f"{what} sub-item has length {len(value)} instead of {length}")


def _flag(byte: int, what: str) -> bool:
    if byte > 1:
        raise PDUError(f"{what} is {byte}, not 0 or 1")
    return byte == 1


def _parse_maximum_length(value: memoryview) -> int:
    _require_length(value, _U32.size, "maximum length")
    (length,) = _U32.unpack_from(value, 0)
    return int(length)


def _parse_implementation_class_uid(value: memoryview) -> str:
    return decode_uid(value, "implementation class UID")


def _parse_version_name(value: memoryview) -> str:
    return decode_uid(value, "implementation version name")


def _parse_async_window(value: memoryview) -> AsynchronousOperationsWindow:
    _require_length(value, _ASYNC.size, "asynchronous operations window")
    invoked, performed = _ASYNC.unpack_from(value, 0)
    return AsynchronousOperationsWindow(invoked, performed)


def _parse_role(value: memoryview) -> RoleSelection:
    uid, offset = _take_prefixed(value, 0, "role selection SOP class UID")
    if len(value) - offset != _ROLE_FLAGS.size:
        raise PDUError("role selection sub-item does not end with exactly two role bytes")
    scu, scp = _ROLE_FLAGS.unpack_from(value, offset)
    return RoleSelection(
        decode_uid(uid, "role selection SOP class UID"),
        _flag(scu, "SCU role"),
        _flag(scp, "SCP role"),
    )


def _parse_extended(value: memoryview) -> SOPClassExtendedNegotiation:
    uid, offset = _take_prefixed(value, 0, "extended negotiation SOP class UID")
    return SOPClassExtendedNegotiation(
        decode_uid(uid, "extended negotiation SOP class UID"), bytes(value[offset:])
    )


def _parse_common_extended(value: memoryview) -> SOPClassCommonExtendedNegotiation:
    sop, offset = _take_prefixed(value, 0, "common extended negotiation SOP class UID")
    service, offset = _take_prefixed(value, offset, "common extended negotiation service class")
    related, offset = _take_prefixed(value, offset, "related general SOP class identification")
    # Bytes after the related identification are reserved (PS3.7 Table D.3-12).
    uids: list[str] = []
    position = 0
    while position < len(related):
        uid, position = _take_prefixed(related, position, "related general SOP class UID")
        uids.append(decode_uid(uid, "related general SOP class UID"))
    return SOPClassCommonExtendedNegotiation(
        decode_uid(sop, "common extended negotiation SOP class UID"),
        decode_uid(service, "common extended negotiation service class UID"),
        tuple(uids),
    )


def _parse_identity_rq(value: memoryview) -> UserIdentityRQ:
    if len(value) < _IDENTITY_RQ_FIXED.size:
        raise PDUError("user identity sub-item shorter than 4 bytes")
    identity_type, positive, primary_length = _IDENTITY_RQ_FIXED.unpack_from(value, 0)
    offset = _IDENTITY_RQ_FIXED.size
    if primary_length > len(value) - offset:
        raise PDUError("user identity primary field overruns its sub-item")
    primary = bytes(value[offset : offset + primary_length])
    offset += primary_length
    secondary = b""
    # Tolerate peers that leave out the secondary length when it would be 0.
    if offset < len(value):
        field, offset = _take_prefixed(value, offset, "user identity secondary field")
        secondary = bytes(field)
    if offset != len(value):
        raise PDUError("user identity sub-item has trailing bytes")
    return UserIdentityRQ(
        identity_type, _flag(positive, "positive response requested"), primary, secondary
    )


def _parse_identity_ac(value: memoryview) -> UserIdentityAC:
    response, offset = _take_prefixed(value, 0, "user identity server response")
    if offset != len(value):
        raise PDUError("user identity server response sub-item has trailing bytes")
    return UserIdentityAC(bytes(response))


# Sub-items that may appear once, and those that may repeat, by the field they fill.
_SINGLE_SUB_ITEMS: dict[int, tuple[str, Callable[[memoryview], Any]]] = {
    _SUB_MAXIMUM_LENGTH: ("maximum_length", _parse_maximum_length),
    _SUB_IMPLEMENTATION_CLASS_UID: ("implementation_class_uid", _parse_implementation_class_uid),
    _SUB_ASYNC_WINDOW: ("asynchronous_operations_window", _parse_async_window),
    _SUB_IMPLEMENTATION_VERSION_NAME: ("implementation_version_name", _parse_version_name),
    _SUB_USER_IDENTITY_RQ: ("user_identity_rq", _parse_identity_rq),
    _SUB_USER_IDENTITY_AC: ("user_identity_ac", _parse_identity_ac),
}
_REPEATED_SUB_ITEMS: dict[int, tuple[str, Callable[[memoryview], Any]]] = {
    _SUB_ROLE_SELECTION: ("role_selections", _parse_role),
    _SUB_SOP_CLASS_EXTENDED: ("sop_class_extended", _parse_extended),
    _SUB_SOP_CLASS_COMMON_EXTENDED: ("sop_class_common_extended", _parse_common_extended),
}


def decode_user_information(value: memoryview) -> UserInformation:
    """Decode the value of a 0x50 item (PS3.8 Annex D, PS3.7 Annex D.3.3)."""
    single: dict[str, Any] = {}
    repeated: dict[str, list[Any]] = {name: [] for name, _ in _REPEATED_SUB_ITEMS.values()}
    unknown: list[UnknownSubItem] = []
    for item_type, sub in iter_items(value, "user information"):
        if item_type in _SINGLE_SUB_ITEMS:
            name, parse = _SINGLE_SUB_ITEMS[item_type]
            if name in single:
                raise PDUError(
                    f"user information repeats sub-item 0x{item_type:02X}",
                    reason=AbortReason.UNEXPECTED_PDU_PARAMETER,
                )
            single[name] = parse(sub)
        elif item_type in _REPEATED_SUB_ITEMS:
            name, parse = _REPEATED_SUB_ITEMS[item_type]
            repeated[name].append(parse(sub))
        else:
            unknown.append(UnknownSubItem(item_type, bytes(sub)))
    lists: dict[str, Any] = {name: tuple(items) for name, items in repeated.items()}
    return UserInformation(**single, **lists, unknown=tuple(unknown))
