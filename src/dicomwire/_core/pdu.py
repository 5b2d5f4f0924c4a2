"""The seven Upper Layer PDUs (PS3.8 section 9.3): values, encoder, decoder, reader.

PDUs are frozen dataclasses so they can be compared, hashed and passed between
threads without copies. ``encode_pdu`` turns one into bytes, ``decode_pdu``
does the reverse for one whole PDU, and ``PDUReader`` cuts a byte stream into
PDUs, refusing a length field above its configured maximum as soon as the
6-byte header is seen, so a peer can never make it wait for (and hold) more.

The decoder never lets a low-level exception escape: everything a peer can
get wrong surfaces as ``PDUError`` carrying the A-ABORT reason it deserves.
Encoder misuse (a value this process built wrongly) raises ``ValueError``.
The presentation-context and user-information items live in ``pdu_items``
and are re-exported here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

from dicomwire._core.errors import AbortReason, PDUError, PDUTooLarge
from dicomwire._core.pdu_items import (
    APPLICATION_CONTEXT_NAME,
    AsynchronousOperationsWindow,
    PresentationContextAC,
    PresentationContextRQ,
    RoleSelection,
    SOPClassCommonExtendedNegotiation,
    SOPClassExtendedNegotiation,
    UnknownSubItem,
    UserIdentityAC,
    UserIdentityRQ,
    UserInformation,
    decode_ae_title,
    decode_uid,
    decode_user_information,
    encode_ae_title,
    encode_item,
    encode_presentation_context_ac,
    encode_presentation_context_rq,
    encode_uid,
    encode_user_information,
    iter_items,
    parse_presentation_context_ac,
    parse_presentation_context_rq,
)

__all__ = [
    "APPLICATION_CONTEXT_NAME",
    "A_ABORT",
    "A_ASSOCIATE_AC",
    "A_ASSOCIATE_RJ",
    "A_ASSOCIATE_RQ",
    "A_RELEASE_RP",
    "A_RELEASE_RQ",
    "PDU",
    "P_DATA_TF",
    "AsynchronousOperationsWindow",
    "PDUReader",
    "PDUType",
    "PDVEntry",
    "PresentationContextAC",
    "PresentationContextRQ",
    "PresentationDataValue",
    "RoleSelection",
    "SOPClassCommonExtendedNegotiation",
    "SOPClassExtendedNegotiation",
    "UnknownSubItem",
    "UserIdentityAC",
    "UserIdentityRQ",
    "UserInformation",
    "decode_pdu",
    "encode_pdu",
    "pdata_header",
]


class PDUType(IntEnum):
    """PDU type codes (PS3.8 section 9.3.1, Table 9-11 and following)."""

    A_ASSOCIATE_RQ = 0x01
    A_ASSOCIATE_AC = 0x02
    A_ASSOCIATE_RJ = 0x03
    P_DATA_TF = 0x04
    A_RELEASE_RQ = 0x05
    A_RELEASE_RP = 0x06
    A_ABORT = 0x07


# All PDU fields are big endian (PS3.8 section 9.3.1).
_PDU_HEADER = struct.Struct(">BxL")  # type, reserved, PDU length
# protocol version, reserved, called AE, calling AE, 32 reserved bytes
_ASSOCIATE_FIXED = struct.Struct(">H2x16s16s32x")
_RJ_BODY = struct.Struct(">xBBB")  # reserved, result, source, reason/diag
_ABORT_BODY = struct.Struct(">2xBB")  # reserved, reserved, source, reason/diag
_PDV_HEADER = struct.Struct(">LBB")  # item length, context ID, message control header
_PDATA_HEADER = struct.Struct(">BxLLBB")  # PDU header + one PDV header

_HEADER_SIZE = _PDU_HEADER.size
_PDV_HEADER_SIZE = _PDV_HEADER.size
_PDATA_HEADER_SIZE = _PDATA_HEADER.size
_FIXED_BODY_LENGTH = 4  # A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT bodies
_PDATA_HARD_CAP = 64 << 20  # applies when no maximum was negotiated
# Receive buffer of a PDUReader: a few dozen 16 KiB PDUs per recv_into(),
# small enough to stay in the CPU cache between the kernel's copy and ours.
_READ_BUFFER_SIZE = 256 * 1024
# What a reader starts with: enough for an association request and small
# DIMSE messages. Allocating the full buffer for every association cost some
# 60 µs (a fresh mapping to fault in and zero) that an associate + C-ECHO +
# release never used; the first read that fills this one grows it instead.
_INITIAL_BUFFER_SIZE = 16 * 1024
_MAX_U32 = 0xFFFFFFFF

_ITEM_APPLICATION_CONTEXT = 0x10
_ITEM_PRESENTATION_CONTEXT_RQ = 0x20
_ITEM_PRESENTATION_CONTEXT_AC = 0x21
_ITEM_USER_INFORMATION = 0x50

# Message control header bits (PS3.8 Annex E.2).
_MCH_COMMAND = 0x01
_MCH_LAST = 0x02


@dataclass(frozen=True, slots=True)
class A_ASSOCIATE_RQ:
    """A-ASSOCIATE-RQ PDU (PS3.8 section 9.3.2)."""

    called_ae_title: str
    calling_ae_title: str
    presentation_contexts: tuple[PresentationContextRQ, ...]
    user_information: UserInformation
    application_context: str = APPLICATION_CONTEXT_NAME
    protocol_version: int = 1


@dataclass(frozen=True, slots=True)
class A_ASSOCIATE_AC:
    """A-ASSOCIATE-AC PDU (PS3.8 section 9.3.3).

    The AE titles are reserved fields echoed from the request (PS3.8 9.3.3,
    "not tested when received"), so the encoder accepts empty titles here.
    """

    called_ae_title: str
    calling_ae_title: str
    presentation_contexts: tuple[PresentationContextAC, ...]
    user_information: UserInformation
    application_context: str = APPLICATION_CONTEXT_NAME
    protocol_version: int = 1


@dataclass(frozen=True, slots=True)
class A_ASSOCIATE_RJ:
    """A-ASSOCIATE-RJ PDU (PS3.8 section 9.3.4, Table 9-21)."""

    result: int
    source: int
    reason: int


@dataclass(frozen=True, slots=True)
class PresentationDataValue:
    """One PDV item of a P-DATA-TF (PS3.8 section 9.3.5.1 and Annex E.2).

    ``is_command`` and ``is_last`` are bits 0 and 1 of the message control
    header. ``data`` is ``bytes``, except from a zero-copy read
    (:meth:`PDUReader.next_pdu`), where it is a read-only view of the
    reader's buffer that the receiver must consume before reading on.
    """

    context_id: int
    is_command: bool
    is_last: bool
    data: bytes | memoryview


@dataclass(frozen=True, slots=True)
class P_DATA_TF:
    """P-DATA-TF PDU (PS3.8 section 9.3.5): one or more PDVs."""

    pdvs: tuple[PresentationDataValue, ...]


@dataclass(frozen=True, slots=True)
class A_RELEASE_RQ:
    """A-RELEASE-RQ PDU (PS3.8 section 9.3.6)."""


@dataclass(frozen=True, slots=True)
class A_RELEASE_RP:
    """A-RELEASE-RP PDU (PS3.8 section 9.3.7)."""


@dataclass(frozen=True, slots=True)
class A_ABORT:
    """A-ABORT PDU (PS3.8 section 9.3.8, Table 9-26)."""

    source: int
    reason: int


#: One received PDV as :meth:`PDUReader.read_pdata` hands it on: presentation
#: context ID, message control header bits 0 (command) and 1 (last) (PS3.8
#: Annex E.2), and the fragment as a read-only view of the receive buffer.
PDVEntry: TypeAlias = tuple[int, int, memoryview]

PDU: TypeAlias = (
    A_ASSOCIATE_RQ
    | A_ASSOCIATE_AC
    | A_ASSOCIATE_RJ
    | P_DATA_TF
    | A_RELEASE_RQ
    | A_RELEASE_RP
    | A_ABORT
)


# --------------------------------------------------------------------------- encoding


def _wrap(pdu_type: int, body: bytes) -> bytes:
    if len(body) > _MAX_U32:
        raise ValueError("PDU body longer than the 32-bit length field allows")
    return _PDU_HEADER.pack(pdu_type, len(body)) + body


def _encode_associate(pdu: A_ASSOCIATE_RQ | A_ASSOCIATE_AC) -> bytes:
    is_rq = isinstance(pdu, A_ASSOCIATE_RQ)
    parts = [
        _ASSOCIATE_FIXED.pack(
            pdu.protocol_version,
            encode_ae_title(pdu.called_ae_title, allow_empty=not is_rq),
            encode_ae_title(pdu.calling_ae_title, allow_empty=not is_rq),
        ),
        encode_item(_ITEM_APPLICATION_CONTEXT, encode_uid(pdu.application_context)),
    ]
    if isinstance(pdu, A_ASSOCIATE_RQ):
        parts.extend(encode_presentation_context_rq(pc) for pc in pdu.presentation_contexts)
        pdu_type = PDUType.A_ASSOCIATE_RQ
    else:
        parts.extend(encode_presentation_context_ac(pc) for pc in pdu.presentation_contexts)
        pdu_type = PDUType.A_ASSOCIATE_AC
    parts.append(encode_user_information(pdu.user_information))
    return _wrap(pdu_type, b"".join(parts))


def _encode_p_data(pdu: P_DATA_TF) -> bytes:
    if not pdu.pdvs:
        raise ValueError("a P-DATA-TF needs at least one PDV")
    parts: list[bytes | memoryview] = []
    for pdv in pdu.pdvs:
        control = (_MCH_COMMAND if pdv.is_command else 0) | (_MCH_LAST if pdv.is_last else 0)
        parts.append(_PDV_HEADER.pack(len(pdv.data) + 2, pdv.context_id, control))
        parts.append(pdv.data)
    return _wrap(PDUType.P_DATA_TF, b"".join(parts))


# Bodies that never vary are built once.
_RELEASE_RQ_BYTES = _PDU_HEADER.pack(PDUType.A_RELEASE_RQ, 4) + bytes(4)
_RELEASE_RP_BYTES = _PDU_HEADER.pack(PDUType.A_RELEASE_RP, 4) + bytes(4)


def encode_pdu(pdu: PDU) -> bytes:
    """Return the wire form of ``pdu`` (PS3.8 section 9.3).

    Raises ``ValueError`` when a field cannot be represented (an AE title that
    is too long, a number out of range, a P-DATA-TF without PDVs...).
    """
    try:
        match pdu:
            case A_ASSOCIATE_RQ() | A_ASSOCIATE_AC():
                return _encode_associate(pdu)
            case P_DATA_TF():
                return _encode_p_data(pdu)
            case A_ASSOCIATE_RJ(result, source, reason):
                return _wrap(PDUType.A_ASSOCIATE_RJ, _RJ_BODY.pack(result, source, reason))
            case A_RELEASE_RQ():
                return _RELEASE_RQ_BYTES
            case A_RELEASE_RP():
                return _RELEASE_RP_BYTES
            case A_ABORT(source, reason):
                return _wrap(PDUType.A_ABORT, _ABORT_BODY.pack(source, reason))
    except struct.error as exc:
        # struct reports out-of-range integers; to callers that is a bad value.
        raise ValueError(f"cannot encode {type(pdu).__name__}: {exc}") from exc
    raise TypeError(f"not a PDU: {pdu!r}")


def pdata_header(context_id: int, is_command: bool, is_last: bool, length: int) -> bytes:
    """Return the 12 bytes preceding the data of a single-PDV P-DATA-TF.

    PDU header (PS3.8 9.3.5) + PDV item length, context ID and message control
    header (PS3.8 9.3.5.1, Annex E.2), so a driver can send this followed by a
    slice of an existing buffer without copying the fragment.
    """
    control = (_MCH_COMMAND if is_command else 0) | (_MCH_LAST if is_last else 0)
    try:
        return _PDATA_HEADER.pack(
            PDUType.P_DATA_TF, length + _PDV_HEADER_SIZE, length + 2, context_id, control
        )
    except struct.error as exc:
        raise ValueError(f"cannot build a P-DATA-TF header: {exc}") from exc


# --------------------------------------------------------------------------- decoding


def _decode_associate_fields(
    body: memoryview, pdu_name: str, context_item: int
) -> tuple[int, str, str, str, list[memoryview], UserInformation]:
    """Parse what A-ASSOCIATE-RQ and -AC share; presentation contexts stay raw."""
    if len(body) < _ASSOCIATE_FIXED.size:
        raise PDUError(f"{pdu_name} shorter than its fixed fields")
    version, called, calling = _ASSOCIATE_FIXED.unpack_from(body, 0)
    application_context: str | None = None
    contexts: list[memoryview] = []
    user_info: UserInformation | None = None
    for item_type, value in iter_items(body[_ASSOCIATE_FIXED.size :], pdu_name):
        if item_type == context_item:
            contexts.append(value)
        elif item_type == _ITEM_APPLICATION_CONTEXT:
            if application_context is not None:
                raise PDUError(
                    f"{pdu_name} has two application context items",
                    reason=AbortReason.UNEXPECTED_PDU_PARAMETER,
                )
            application_context = decode_uid(value, "application context name")
        elif item_type == _ITEM_USER_INFORMATION:
            if user_info is not None:
                raise PDUError(
                    f"{pdu_name} has two user information items",
                    reason=AbortReason.UNEXPECTED_PDU_PARAMETER,
                )
            user_info = decode_user_information(value)
        elif item_type in (_ITEM_PRESENTATION_CONTEXT_RQ, _ITEM_PRESENTATION_CONTEXT_AC):
            raise PDUError(
                f"{pdu_name} holds a presentation context item of type 0x{item_type:02X}",
                reason=AbortReason.UNEXPECTED_PDU_PARAMETER,
            )
        else:
            raise PDUError(
                f"{pdu_name} holds an unknown item type 0x{item_type:02X}",
                reason=AbortReason.UNRECOGNIZED_PDU_PARAMETER,
            )
    if application_context is None:
        raise PDUError(f"{pdu_name} has no application context item")
    # PS3.8 makes the user information item mandatory, but a missing one is
    # better judged by negotiation (no maximum length) than aborted here.
    return (
        version,
        decode_ae_title(called),
        decode_ae_title(calling),
        application_context,
        contexts,
        user_info if user_info is not None else UserInformation(),
    )


def _decode_associate_rq(body: memoryview) -> A_ASSOCIATE_RQ:
    version, called, calling, app, raw, ui = _decode_associate_fields(
        body, "A-ASSOCIATE-RQ", _ITEM_PRESENTATION_CONTEXT_RQ
    )
    contexts = tuple(parse_presentation_context_rq(value) for value in raw)
    return A_ASSOCIATE_RQ(called, calling, contexts, ui, app, version)


def _decode_associate_ac(body: memoryview) -> A_ASSOCIATE_AC:
    version, called, calling, app, raw, ui = _decode_associate_fields(
        body, "A-ASSOCIATE-AC", _ITEM_PRESENTATION_CONTEXT_AC
    )
    contexts = tuple(parse_presentation_context_ac(value) for value in raw)
    return A_ASSOCIATE_AC(called, calling, contexts, ui, app, version)


def _decode_associate_rj(body: memoryview) -> A_ASSOCIATE_RJ:
    result, source, reason = _RJ_BODY.unpack_from(body, 0)
    return A_ASSOCIATE_RJ(result, source, reason)


def _decode_p_data(body: memoryview, zero_copy: bool = False) -> P_DATA_TF:
    # The hot path: one unpack per PDV and at most one copy of each fragment;
    # none with ``zero_copy``, the data then being views of ``body``.
    pdvs: list[PresentationDataValue] = []
    offset = 0
    end = len(body)
    unpack = _PDV_HEADER.unpack_from
    while offset < end:
        if end - offset < _PDV_HEADER_SIZE:
            raise PDUError("P-DATA-TF ends inside a PDV item header")
        length, context_id, control = unpack(body, offset)
        if length < 2:
            raise PDUError(f"PDV item length {length} is below the minimum of 2")
        stop = offset + 4 + length
        if stop > end:
            raise PDUError("PDV item overruns the P-DATA-TF")
        data: bytes | memoryview = body[offset + _PDV_HEADER_SIZE : stop]
        if not zero_copy:
            data = bytes(data)
        pdvs.append(
            PresentationDataValue(
                context_id, bool(control & _MCH_COMMAND), bool(control & _MCH_LAST), data
            )
        )
        offset = stop
    if not pdvs:
        raise PDUError("P-DATA-TF without any PDV item")
    return P_DATA_TF(tuple(pdvs))


def _decode_pdata_entries(body: memoryview, append: Callable[[PDVEntry], None]) -> None:
    """The PDVs of a P-DATA-TF body other than one single PDV, as entries."""
    try:
        pdvs = _decode_p_data(body, zero_copy=True).pdvs
    except (struct.error, IndexError, ValueError) as exc:
        raise PDUError(f"malformed P_DATA_TF: {exc}") from exc
    for pdv in pdvs:
        control = (_MCH_COMMAND if pdv.is_command else 0) | (_MCH_LAST if pdv.is_last else 0)
        assert isinstance(pdv.data, memoryview)  # zero_copy: views, never bytes
        append((pdv.context_id, control, pdv.data))


def _decode_release_rq(body: memoryview) -> A_RELEASE_RQ:
    return A_RELEASE_RQ()


def _decode_release_rp(body: memoryview) -> A_RELEASE_RP:
    return A_RELEASE_RP()


def _decode_abort(body: memoryview) -> A_ABORT:
    source, reason = _ABORT_BODY.unpack_from(body, 0)
    return A_ABORT(source, reason)


_DECODERS: dict[int, Callable[[memoryview], PDU]] = {
    PDUType.A_ASSOCIATE_RQ: _decode_associate_rq,
    PDUType.A_ASSOCIATE_AC: _decode_associate_ac,
    PDUType.A_ASSOCIATE_RJ: _decode_associate_rj,
    PDUType.P_DATA_TF: _decode_p_data,
    PDUType.A_RELEASE_RQ: _decode_release_rq,
    PDUType.A_RELEASE_RP: _decode_release_rp,
    PDUType.A_ABORT: _decode_abort,
}

_FIXED_LENGTH_TYPES = frozenset(
    {PDUType.A_ASSOCIATE_RJ, PDUType.A_RELEASE_RQ, PDUType.A_RELEASE_RP, PDUType.A_ABORT}
)


def _check_header(pdu_type: int, length: int) -> None:
    """Reject what the 6-byte header alone shows to be wrong."""
    if pdu_type not in _DECODERS:
        raise PDUError(f"unknown PDU type 0x{pdu_type:02X}", reason=AbortReason.UNRECOGNIZED_PDU)
    if pdu_type in _FIXED_LENGTH_TYPES and length != _FIXED_BODY_LENGTH:
        raise PDUError(f"{PDUType(pdu_type).name} with PDU length {length} instead of 4")


def _decode_body(pdu_type: int, body: memoryview) -> PDU:
    try:
        return _DECODERS[pdu_type](body)
    except (struct.error, IndexError, ValueError) as exc:
        # Every parser checks its bounds explicitly; this is the safety net
        # that keeps the "only PDUError escapes" promise should one be missed.
        raise PDUError(f"malformed {PDUType(pdu_type).name}: {exc}") from exc


def _as_byte_view(data: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def decode_pdu(data: bytes | bytearray | memoryview) -> PDU:
    """Decode one whole PDU, 6-byte header included (PS3.8 section 9.3).

    Raises ``PDUError`` (with the A-ABORT reason to send) for any malformed
    input, including a PDU length that disagrees with ``len(data)``.
    """
    view = _as_byte_view(data)
    if len(view) < _HEADER_SIZE:
        raise PDUError("fewer than 6 bytes: no PDU header")
    pdu_type, length = _PDU_HEADER.unpack_from(view, 0)
    _check_header(pdu_type, length)
    if length != len(view) - _HEADER_SIZE:
        raise PDUError(f"PDU length {length} but {len(view) - _HEADER_SIZE} bytes follow")
    return _decode_body(pdu_type, view[_HEADER_SIZE:])


class PDUReader:
    """Incremental PDU reader (PS3.8 section 9.3): receive bytes, take PDUs.

    Lengths are checked when the 6-byte header arrives, so a peer cannot make
    this buffer more than the configured maximum. ``max_pdata_length`` is the
    largest P-DATA-TF PDU length (variable part) accepted: the driver sets it
    to the Maximum Length it announced (PS3.8 Annex D.1) once negotiated; 0
    means unlimited by negotiation and falls back to a 64 MiB cap.
    After ``next_pdu`` raises, the reader must not be used again.

    Bytes come in two ways. ``feed`` copies them in. ``get_buffer`` and
    ``buffer_updated`` let a driver ``recv_into`` the reader's own buffer
    (the shape of :class:`asyncio.BufferedProtocol`), so that a P-DATA
    payload is never copied on its way to the DIMSE layer: with
    ``next_pdu(zero_copy=True)`` a PDV's data is a read-only view of that
    buffer, valid until the next ``get_buffer`` or ``feed``.
    """

    __slots__ = (
        "_buffer",
        "_capacity",
        "_end",
        "_readable",
        "_start",
        "_writable",
        "max_other_length",
        "max_pdata_length",
    )
    _buffer: bytearray
    _writable: memoryview
    _readable: memoryview

    def __init__(
        self,
        max_pdata_length: int,
        max_other_length: int = 1 << 20,
        buffer_size: int | None = None,
    ) -> None:
        if buffer_size is None:
            # Room for several whole PDUs, so that few partial ones are moved
            # to the front of the buffer between two reads.
            buffer_size = max(_READ_BUFFER_SIZE, min(4 * (max_pdata_length + 6), 4 << 20))
            initial = _INITIAL_BUFFER_SIZE
        else:
            initial = buffer_size
        if buffer_size < _HEADER_SIZE:
            raise ValueError(f"buffer_size {buffer_size} cannot hold a PDU header")
        self.max_pdata_length = max_pdata_length
        self.max_other_length = max_other_length
        self._capacity = buffer_size
        # Received bytes not yet returned as PDUs live in _buffer[_start:_end].
        self._start = self._end = 0
        self._allocate(initial)

    def _allocate(self, size: int) -> None:
        """Switch to a new buffer of ``size`` bytes, keeping the unread bytes.

        A new object rather than a resize: views handed out earlier keep the
        old one alive instead of making the resize fail.
        """
        buffer = bytearray(size)
        pending = self._end - self._start
        if pending:
            buffer[:pending] = self._readable[self._start : self._end]
        self._buffer = buffer
        self._writable = memoryview(buffer)
        self._readable = self._writable.toreadonly()
        self._start, self._end = 0, pending

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes, in any chunking (one copy)."""
        source = _as_byte_view(data)
        offset, size = 0, len(source)
        while offset < size:
            target = self.get_buffer()
            count = min(len(target), size - offset)
            target[:count] = source[offset : offset + count]
            self.buffer_updated(count)
            offset += count

    def get_buffer(self) -> memoryview:
        """Return a non-empty writable view to receive the next bytes into.

        Views returned by earlier ``next_pdu(zero_copy=True)`` calls are
        invalid from here on: their bytes may be moved or overwritten.
        """
        start, end, size = self._start, self._end, len(self._buffer)
        if start == end:
            # All consumed, as after every whole request: the whole buffer.
            self._start = self._end = 0
            if size > self._capacity or (end == size < self._capacity):
                # A big PDU has gone: free its memory. Or the last read filled
                # the small starting buffer: more is coming, take the full size.
                self._allocate(self._capacity)
            return self._writable
        need = self._pending_length()
        if start and (size - end < size >> 2 or start + need > size):
            # Move the unread tail (at most one partial PDU when the driver
            # parses after every read) to the front; memoryview assignment
            # is a memmove, so overlapping is fine.
            pending = end - start
            self._writable[:pending] = self._writable[start:end]
            self._start, self._end = 0, pending
            end = pending
        free = size - end
        if free == 0 or (need > size and free < size >> 2):
            # Grow with what arrives, never to a size merely announced.
            grown = min(2 * size, need) if need > size else 2 * size
            self._allocate(max(grown, self._capacity) if size < self._capacity else grown)
        return self._writable[self._end :]

    def buffer_updated(self, count: int) -> None:
        """Record that ``count`` bytes were written into the last ``get_buffer`` view."""
        if not 0 <= count <= len(self._buffer) - self._end:
            raise ValueError(f"{count} bytes do not fit the buffer that was handed out")
        self._end += count

    def _pending_length(self) -> int:
        """Total size of the PDU at the front, or the header size if not known yet."""
        if self._end - self._start < _HEADER_SIZE:
            return _HEADER_SIZE
        return _HEADER_SIZE + int.from_bytes(self._buffer[self._start + 2 : self._start + 6], "big")

    def bytes_buffered(self) -> int:
        """Return how many received bytes are not yet part of a returned PDU."""
        return self._end - self._start

    def _limit(self, pdu_type: int) -> int:
        if pdu_type == PDUType.P_DATA_TF:
            return self.max_pdata_length if self.max_pdata_length > 0 else _PDATA_HARD_CAP
        return self.max_other_length

    def next_pdu(self, zero_copy: bool = False) -> PDU | None:
        """Return the next whole PDU, or ``None`` until one is buffered.

        Raises ``PDUTooLarge`` as soon as a header announces a length above
        the limit, and ``PDUError`` for any other malformed PDU. With
        ``zero_copy`` a P-DATA-TF's PDV data are views of the receive buffer
        (see the class docstring); otherwise they are ``bytes``.
        """
        start = self._start
        available = self._end - start
        if available < _HEADER_SIZE:
            return None
        pdu_type, length = _PDU_HEADER.unpack_from(self._buffer, start)
        total = _HEADER_SIZE + length
        if pdu_type == PDUType.P_DATA_TF and available >= total and length:
            # The hot path: a whole P-DATA-TF, checked as below but in one go.
            limit = self.max_pdata_length if self.max_pdata_length > 0 else _PDATA_HARD_CAP
            if length <= limit:
                body = self._readable[start + _HEADER_SIZE : start + total]
                try:
                    pdu: PDU = _decode_p_data(body, zero_copy)
                except (struct.error, IndexError, ValueError) as exc:
                    raise PDUError(f"malformed P_DATA_TF: {exc}") from exc
                self._start = start + total
                return pdu
        _check_header(pdu_type, length)
        limit = self._limit(pdu_type)
        if length > limit:
            raise PDUTooLarge(
                f"{PDUType(pdu_type).name} PDU length {length} exceeds the maximum {limit}",
                reason=AbortReason.INVALID_PDU_PARAMETER_VALUE,
            )
        if available < total:
            return None
        pdu = _decode_body(pdu_type, self._readable[start + _HEADER_SIZE : start + total])
        self._start = start + total
        return pdu

    def read_pdata(self, out: list[PDVEntry]) -> bool:
        """Decode every whole P-DATA-TF at the front of the buffer into ``out``.

        The receive hot path (PS3.8 9.3.5, Annex E.2): one :data:`PDVEntry`
        per PDV, its data a view of the receive buffer valid as long as those
        of ``next_pdu(zero_copy=True)``, and no PDU object at all. Stops at
        the first thing that is not a whole P-DATA-TF within the limit (a
        partial PDU, another type, a length above the limit) and leaves it to
        :meth:`next_pdu`, which reports it as it always does. A malformed
        P-DATA-TF raises ``PDUError`` once the PDVs of the whole PDUs before
        it are in ``out``; none of its own are.

        Returns True when it stopped at the start of a P-DATA-TF within the
        limit whose rest has not arrived: ``next_pdu`` would return ``None``.
        """
        buffer, readable = self._buffer, self._readable
        start, end = self._start, self._end
        limit = self.max_pdata_length if self.max_pdata_length > 0 else _PDATA_HARD_CAP
        unpack = _PDATA_HEADER.unpack_from
        append = out.append
        # Locals, not the enum and module constants: this loop runs per PDU.
        pdata, header = int(PDUType.P_DATA_TF), _PDATA_HEADER_SIZE
        try:
            # The PDU header and the first PDV header in one unpack.
            while end - start >= header:
                pdu_type, length, pdv_length, context_id, control = unpack(buffer, start)
                stop = start + _HEADER_SIZE + length
                if pdu_type != pdata or not length or length > limit:
                    return False
                if stop > end:
                    return True
                if pdv_length == length - 4 and pdv_length >= 2:
                    # One PDV filling the PDU, as nearly every sender does it;
                    # bits 2-7 of the control header are reserved (Annex E.2).
                    append((context_id, control & 3, readable[start + header : stop]))
                else:
                    _decode_pdata_entries(readable[start + _HEADER_SIZE : stop], append)
                start = stop
            return False
        finally:
            self._start = start
