"""PDU codec and reader (PS3.8 section 9.3): round trips, known answers, malformed input."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomwire._core.errors import AbortReason, PDUError, PDUTooLarge
from dicomwire._core.pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    APPLICATION_CONTEXT_NAME,
    P_DATA_TF,
    PDU,
    AsynchronousOperationsWindow,
    PDUReader,
    PDUType,
    PresentationContextAC,
    PresentationContextRQ,
    PresentationDataValue,
    RoleSelection,
    SOPClassCommonExtendedNegotiation,
    SOPClassExtendedNegotiation,
    UnknownSubItem,
    UserIdentityAC,
    UserIdentityRQ,
    UserInformation,
    decode_pdu,
    encode_pdu,
    pdata_header,
)

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- strategies

# The AE repertoire: printable ASCII except the backslash.
_AE_ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "\\")
ae_titles = st.text(alphabet=_AE_ALPHABET, min_size=1, max_size=16).map(str.strip).filter(bool)
uids = (
    st.lists(st.integers(0, 10**8).map(str), min_size=1, max_size=16)
    .map(".".join)
    .filter(lambda uid: len(uid) <= 64)
)
context_ids = st.integers(0, 127).map(lambda n: 2 * n + 1)
u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
blobs = st.binary(max_size=48)
version_names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", min_size=1, max_size=16)

contexts_rq = st.builds(
    PresentationContextRQ, context_ids, uids, st.lists(uids, min_size=1, max_size=4).map(tuple)
)
contexts_ac = st.builds(PresentationContextAC, context_ids, st.integers(0, 4), uids | st.just(""))

user_information = st.builds(
    UserInformation,
    maximum_length=st.none() | st.integers(0, 0xFFFFFFFF),
    implementation_class_uid=uids | st.just(""),
    implementation_version_name=st.none() | version_names,
    asynchronous_operations_window=st.none() | st.builds(AsynchronousOperationsWindow, u16, u16),
    role_selections=st.lists(
        st.builds(RoleSelection, uids, st.booleans(), st.booleans()), max_size=3
    ).map(tuple),
    sop_class_extended=st.lists(
        st.builds(SOPClassExtendedNegotiation, uids, blobs), max_size=3
    ).map(tuple),
    sop_class_common_extended=st.lists(
        st.builds(
            SOPClassCommonExtendedNegotiation,
            uids,
            uids,
            st.lists(uids, max_size=3).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
    user_identity_rq=st.none()
    | st.builds(UserIdentityRQ, st.integers(1, 5), st.booleans(), blobs, blobs),
    user_identity_ac=st.none() | st.builds(UserIdentityAC, blobs),
    unknown=st.lists(
        st.builds(UnknownSubItem, u8.filter(lambda t: not 0x51 <= t <= 0x59), blobs),
        max_size=2,
    ).map(tuple),
)

associate_rqs = st.builds(
    A_ASSOCIATE_RQ,
    ae_titles,
    ae_titles,
    st.lists(contexts_rq, max_size=12).map(tuple),
    user_information,
    uids | st.just(APPLICATION_CONTEXT_NAME),
    u16,
)
associate_acs = st.builds(
    A_ASSOCIATE_AC,
    ae_titles | st.just(""),
    ae_titles | st.just(""),
    st.lists(contexts_ac, max_size=12).map(tuple),
    user_information,
    uids | st.just(APPLICATION_CONTEXT_NAME),
    u16,
)
pdvs = st.builds(PresentationDataValue, u8, st.booleans(), st.booleans(), st.binary(max_size=300))
p_data = st.builds(P_DATA_TF, st.lists(pdvs, min_size=1, max_size=5).map(tuple))
simple_pdus = st.one_of(
    st.builds(A_ASSOCIATE_RJ, u8, u8, u8),
    st.just(A_RELEASE_RQ()),
    st.just(A_RELEASE_RP()),
    st.builds(A_ABORT, u8, u8),
)
any_pdu: st.SearchStrategy[PDU] = st.one_of(associate_rqs, associate_acs, p_data, simple_pdus)


# --------------------------------------------------------------------------- helpers


def read_all(reader: PDUReader) -> list[PDU]:
    out: list[PDU] = []
    while (pdu := reader.next_pdu()) is not None:
        out.append(pdu)
    return out


def item(item_type: int, value: bytes) -> bytes:
    return bytes((item_type, 0)) + struct.pack(">H", len(value)) + value


def associate_bytes(pdu_type: int, variable: bytes) -> bytes:
    fixed = b"\x00\x01\x00\x00" + b"ANY-SCP".ljust(16) + b"ECHOSCU".ljust(16) + bytes(32)
    return struct.pack(">BxL", pdu_type, len(fixed) + len(variable)) + fixed + variable


APP_CONTEXT_ITEM = item(0x10, APPLICATION_CONTEXT_NAME.encode())
MINIMAL_UI_ITEM = item(0x50, item(0x51, b"\x00\x00\x40\x00"))


def verification_context_item(context_id: int = 1) -> bytes:
    return item(
        0x20,
        bytes((context_id, 0, 0, 0))
        + item(0x30, VERIFICATION.encode())
        + item(0x40, IMPLICIT_LE.encode()),
    )


def expect_error(data: bytes, reason: int = AbortReason.INVALID_PDU_PARAMETER_VALUE) -> PDUError:
    with pytest.raises(PDUError) as info:
        decode_pdu(data)
    assert info.value.reason == reason
    reader = PDUReader(0)
    reader.feed(data)
    with pytest.raises(PDUError) as info2:
        reader.next_pdu()
    assert info2.value.reason == reason
    return info.value


# --------------------------------------------------------------------------- properties


@THOROUGH
@given(any_pdu)
def test_round_trip(pdu: PDU) -> None:
    encoded = encode_pdu(pdu)
    assert decode_pdu(encoded) == pdu
    assert decode_pdu(memoryview(encoded)) == pdu
    assert encoded[0] == PDUType[type(pdu).__name__]


@FAST
@given(st.lists(any_pdu, min_size=1, max_size=5), st.data())
def test_reader_any_chunking(pdus: list[PDU], data: st.DataObject) -> None:
    stream = b"".join(encode_pdu(p) for p in pdus)
    cuts = data.draw(
        st.lists(st.integers(0, len(stream)), max_size=min(40, len(stream))).map(sorted)
    )
    reader = PDUReader(0)
    out: list[PDU] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        reader.feed(memoryview(stream)[start:cut])
        start = cut
        out.extend(read_all(reader))
    assert out == pdus
    assert reader.bytes_buffered() == 0


@settings(max_examples=15, deadline=None)
@given(st.lists(any_pdu, min_size=1, max_size=3))
def test_reader_one_byte_at_a_time(pdus: list[PDU]) -> None:
    stream = b"".join(encode_pdu(p) for p in pdus)
    reader = PDUReader(0)
    out: list[PDU] = []
    for index in range(len(stream)):
        reader.feed(stream[index : index + 1])
        out.extend(read_all(reader))
    assert out == pdus


@FAST
@given(context_ids, st.booleans(), st.booleans(), st.binary(max_size=500))
def test_pdata_header(context_id: int, is_command: bool, is_last: bool, data: bytes) -> None:
    header = pdata_header(context_id, is_command, is_last, len(data))
    assert len(header) == 12
    expected = P_DATA_TF((PresentationDataValue(context_id, is_command, is_last, data),))
    assert header + data == encode_pdu(expected)
    assert decode_pdu(header + data) == expected


@THOROUGH
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_pdu_error(data: bytes) -> None:
    reader = PDUReader(1024, max_other_length=1024)
    reader.feed(data)
    with contextlib.suppress(PDUError):
        read_all(reader)
    with contextlib.suppress(PDUError):
        decode_pdu(data)


@THOROUGH
@given(any_pdu, st.data())
def test_mutated_pdus_only_raise_pdu_error(pdu: PDU, data: st.DataObject) -> None:
    # Random bytes rarely get past the header; corrupting real PDUs reaches
    # every item parser.
    raw = bytearray(encode_pdu(pdu))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(u8)
    raw = raw[: data.draw(st.integers(0, len(raw)))] if data.draw(st.booleans()) else raw
    # Also with the PDU length patched to fit, so truncation reaches the items.
    consistent = bytearray(raw)
    if len(consistent) >= 6:
        consistent[2:6] = struct.pack(">L", len(consistent) - 6)
    for candidate in (bytes(raw), bytes(consistent)):
        with contextlib.suppress(PDUError):
            decode_pdu(candidate)
        reader = PDUReader(0)
        reader.feed(candidate)
        with contextlib.suppress(PDUError):
            read_all(reader)


# --------------------------------------------------------------------------- known answers

ECHOSCU_IMPL_UID = "1.2.276.0.7230010.3.0.3.6.7"
ECHOSCU_RQ = bytes.fromhex(
    "01 00 000000cd"  # A-ASSOCIATE-RQ, PDU length 205
    "0001 0000"  # protocol version 1, reserved
) + (
    b"ANY-SCP         "
    b"ECHOSCU         "
    + bytes(32)
    + b"\x10\x00\x00\x15" + b"1.2.840.10008.3.1.1.1"
    + b"\x20\x00\x00\x2e" + b"\x01\x00\x00\x00"
    + b"\x30\x00\x00\x11" + b"1.2.840.10008.1.1"
    + b"\x40\x00\x00\x11" + b"1.2.840.10008.1.2"
    + b"\x50\x00\x00\x3a"
    + b"\x51\x00\x00\x04" + b"\x00\x00\x40\x00"
    + b"\x52\x00\x00\x1b" + b"1.2.276.0.7230010.3.0.3.6.7"
    + b"\x55\x00\x00\x0f" + b"OFFIS_DCMTK_367"
)  # fmt: skip

ECHOSCU_EXPECTED = A_ASSOCIATE_RQ(
    called_ae_title="ANY-SCP",
    calling_ae_title="ECHOSCU",
    presentation_contexts=(PresentationContextRQ(1, VERIFICATION, (IMPLICIT_LE,)),),
    user_information=UserInformation(
        maximum_length=16384,
        implementation_class_uid=ECHOSCU_IMPL_UID,
        implementation_version_name="OFFIS_DCMTK_367",
    ),
)


def test_known_echoscu_associate_rq() -> None:
    assert len(ECHOSCU_RQ) == 6 + 205
    assert decode_pdu(ECHOSCU_RQ) == ECHOSCU_EXPECTED
    assert encode_pdu(ECHOSCU_EXPECTED) == ECHOSCU_RQ


def test_known_abort_release_rj() -> None:
    assert encode_pdu(A_ABORT(2, 6)) == b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x06"
    assert decode_pdu(b"\x07\x00\x00\x00\x00\x04\xff\xff\x00\x00") == A_ABORT(0, 0)
    assert encode_pdu(A_RELEASE_RQ()) == b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00"
    assert encode_pdu(A_RELEASE_RP()) == b"\x06\x00\x00\x00\x00\x04\x00\x00\x00\x00"
    assert decode_pdu(b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00") == A_RELEASE_RQ()
    assert encode_pdu(A_ASSOCIATE_RJ(1, 1, 3)) == b"\x03\x00\x00\x00\x00\x04\x00\x01\x01\x03"


def test_known_pdata() -> None:
    raw = b"\x04\x00\x00\x00\x00\x0a" + b"\x00\x00\x00\x06\x03\x03" + b"ABCD"
    assert decode_pdu(raw) == P_DATA_TF((PresentationDataValue(3, True, True, b"ABCD"),))
    assert pdata_header(3, True, True, 4) == raw[:12]
    assert pdata_header(5, False, False, 0)[-2:] == b"\x05\x00"


# --------------------------------------------------------------------------- lenient decoding


def test_ac_context_without_transfer_syntax_decodes_empty() -> None:
    pc = item(0x21, b"\x01\x00\x03\x00")
    ac = decode_pdu(associate_bytes(0x02, APP_CONTEXT_ITEM + pc + MINIMAL_UI_ITEM))
    assert isinstance(ac, A_ASSOCIATE_AC)
    assert ac.presentation_contexts == (PresentationContextAC(1, 3, ""),)
    # and re-encoding emits an empty transfer syntax sub-item
    assert item(0x21, b"\x01\x00\x03\x00" + item(0x40, b"")) in encode_pdu(ac)


def test_padding_and_blank_titles() -> None:
    raw = bytearray(associate_bytes(0x01, APP_CONTEXT_ITEM + MINIMAL_UI_ITEM))
    raw[10:26] = b" " * 16
    raw[26:42] = b"  ECHO\x00\x00" + b" " * 8
    ac_item = item(0x10, APPLICATION_CONTEXT_NAME.encode() + b"\x00")
    raw = raw.replace(APP_CONTEXT_ITEM, ac_item)
    raw[2:6] = struct.pack(">L", len(raw) - 6)
    rq = decode_pdu(bytes(raw))
    assert isinstance(rq, A_ASSOCIATE_RQ)
    assert (rq.called_ae_title, rq.calling_ae_title) == ("", "ECHO")
    assert rq.application_context == APPLICATION_CONTEXT_NAME
    assert rq.presentation_contexts == ()


def test_missing_user_information_and_unknown_sub_items() -> None:
    rq = decode_pdu(associate_bytes(0x01, APP_CONTEXT_ITEM + verification_context_item()))
    assert isinstance(rq, A_ASSOCIATE_RQ)
    assert rq.user_information == UserInformation()
    ui = item(0x50, item(0x51, b"\x00\x00\x00\x00") + item(0x7A, b"xyz"))
    rq = decode_pdu(associate_bytes(0x01, APP_CONTEXT_ITEM + ui))
    assert isinstance(rq, A_ASSOCIATE_RQ)
    assert rq.user_information == UserInformation(
        maximum_length=0, unknown=(UnknownSubItem(0x7A, b"xyz"),)
    )


def test_user_identity_without_secondary_length() -> None:
    ui = item(0x50, item(0x58, b"\x01\x00\x00\x03bob"))
    rq = decode_pdu(associate_bytes(0x01, APP_CONTEXT_ITEM + ui))
    assert isinstance(rq, A_ASSOCIATE_RQ)
    assert rq.user_information.user_identity_rq == UserIdentityRQ(1, False, b"bob", b"")


def test_common_extended_reserved_tail_ignored() -> None:
    value = b"\x00\x011\x00\x012\x00\x05\x00\x033.4" + b"\x00\x00"
    ui = item(0x50, item(0x57, value))
    rq = decode_pdu(associate_bytes(0x01, APP_CONTEXT_ITEM + ui))
    assert isinstance(rq, A_ASSOCIATE_RQ)
    assert rq.user_information.sop_class_common_extended == (
        SOPClassCommonExtendedNegotiation("1", "2", ("3.4",)),
    )


# --------------------------------------------------------------------------- malformed input


def test_unknown_pdu_type() -> None:
    expect_error(b"\x08\x00\x00\x00\x00\x04\x00\x00\x00\x00", AbortReason.UNRECOGNIZED_PDU)
    reader = PDUReader(0)
    reader.feed(b"\x00\x00\x00\x00\x00\x00")
    with pytest.raises(PDUError) as info:
        reader.next_pdu()
    assert info.value.reason == AbortReason.UNRECOGNIZED_PDU


@pytest.mark.parametrize("pdu_type", [1, 2, 3, 4, 5, 6, 7])
def test_huge_length_rejected_on_header(pdu_type: int) -> None:
    reader = PDUReader(16384)
    reader.feed(struct.pack(">BxL", pdu_type, 0xFFFFFFFF))
    with pytest.raises(PDUTooLarge if pdu_type in (1, 2, 4) else PDUError) as info:
        reader.next_pdu()
    assert info.value.reason == AbortReason.INVALID_PDU_PARAMETER_VALUE
    assert reader.bytes_buffered() == 6


def test_pdata_limit_boundary_and_update() -> None:
    reader = PDUReader(1000)
    at_limit = pdata_header(1, False, True, 994) + bytes(994)
    reader.feed(at_limit)
    assert isinstance(reader.next_pdu(), P_DATA_TF)
    reader.feed(pdata_header(1, False, True, 995)[:6])
    with pytest.raises(PDUTooLarge):
        reader.next_pdu()
    reader = PDUReader(1000)
    reader.max_pdata_length = 2000
    reader.feed(pdata_header(1, False, True, 995) + bytes(995))
    assert isinstance(reader.next_pdu(), P_DATA_TF)


def test_zero_limit_means_64_mib_cap() -> None:
    reader = PDUReader(0)
    reader.feed(struct.pack(">BxL", 4, 64 << 20))
    assert reader.next_pdu() is None
    reader = PDUReader(0)
    reader.feed(struct.pack(">BxL", 4, (64 << 20) + 1))
    with pytest.raises(PDUTooLarge):
        reader.next_pdu()


def test_other_pdu_limit() -> None:
    reader = PDUReader(0, max_other_length=100)
    reader.feed(encode_pdu(ECHOSCU_EXPECTED))
    with pytest.raises(PDUTooLarge):
        reader.next_pdu()
    assert reader.bytes_buffered() == len(ECHOSCU_RQ)  # fed, but no body was parsed


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x04\x00\x00\x00\x00\x00", id="zero-pdvs"),
        pytest.param(b"\x04\x00\x00\x00\x00\x05\x00\x00\x00\x01\x01", id="pdv-length-1"),
        pytest.param(b"\x04\x00\x00\x00\x00\x06\x00\x00\x00\x01\x01\x00", id="pdv-length-1b"),
        pytest.param(b"\x04\x00\x00\x00\x00\x07\x00\x00\x00\x04\x01\x00a", id="pdv-overrun"),
        pytest.param(b"\x04\x00\x00\x00\x00\x04\x00\x00\x00\x02", id="pdv-header-cut"),
        pytest.param(b"\x05\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00", id="release-length-5"),
        pytest.param(b"\x07\x00\x00\x00\x00\x03\x00\x00\x00", id="abort-length-3"),
        pytest.param(b"\x03\x00\x00\x00\x00\x00", id="rj-length-0"),
        pytest.param(b"\x01\x00\x00\x00\x00\x02\x00\x01", id="rq-shorter-than-fixed"),
    ],
)
def test_malformed_fixed_and_pdata(raw: bytes) -> None:
    expect_error(raw)


def test_decode_pdu_length_mismatch() -> None:
    raw = encode_pdu(A_ABORT(0, 0))
    for bad in (raw[:-1], raw + b"\x00", raw[:5]):
        with pytest.raises(PDUError):
            decode_pdu(bad)


@pytest.mark.parametrize(
    ("variable", "reason"),
    [
        pytest.param(MINIMAL_UI_ITEM, 6, id="no-application-context"),
        pytest.param(APP_CONTEXT_ITEM + MINIMAL_UI_ITEM * 2, 5, id="two-user-info"),
        pytest.param(APP_CONTEXT_ITEM * 2 + MINIMAL_UI_ITEM, 5, id="two-app-contexts"),
        pytest.param(APP_CONTEXT_ITEM + item(0x33, b"") + MINIMAL_UI_ITEM, 4, id="unknown-item"),
        pytest.param(APP_CONTEXT_ITEM + item(0x21, b"\x01\x00\x00\x00"), 5, id="ac-item-in-rq"),
        pytest.param(APP_CONTEXT_ITEM + b"\x50\x00\x00\x10\x51", 6, id="item-overruns"),
        pytest.param(APP_CONTEXT_ITEM + b"\x50\x00", 6, id="item-header-cut"),
        pytest.param(APP_CONTEXT_ITEM + item(0x20, b"\x01\x00"), 6, id="pc-short"),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x20, b"\x01\x00\x00\x00" + item(0x40, b"1.2")),
            6,
            id="pc-without-abstract-syntax",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x20, b"\x01\x00\x00\x00" + item(0x31, b"1.2")),
            4,
            id="pc-unknown-sub-item",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x20, b"\x01\x00\x00\x00" + item(0x30, b"1") * 2),
            5,
            id="pc-two-abstract-syntaxes",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x20, b"\x01\x00\x00\x00" + item(0x30, b"1.\xff")),
            6,
            id="uid-not-ascii",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x51, b"\x00\x40\x00")), 6, id="max-length-3"
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x51, bytes(4)) * 2), 5, id="two-max-lengths"
        ),
        pytest.param(APP_CONTEXT_ITEM + item(0x50, item(0x53, bytes(3))), 6, id="async-short"),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x54, b"\x00\x011\x01\x02")), 6, id="role-2"
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x54, b"\x00\x091\x01\x01")), 6, id="role-overrun"
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x54, b"\x00\x011\x01")), 6, id="role-truncated"
        ),
        pytest.param(APP_CONTEXT_ITEM + item(0x50, item(0x56, b"\x00")), 6, id="ext-truncated"),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x57, b"\x00\x011\x00\x012\x00\x05\x00\x09")),
            6,
            id="common-ext-related-overrun",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x58, b"\x02\x00\x00\x09ab")),
            6,
            id="identity-primary-overrun",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x58, b"\x02\x00\x00\x01a\x00")),
            6,
            id="identity-secondary-length-cut",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x58, b"\x02\x07\x00\x01a\x00\x00")),
            6,
            id="identity-positive-response-7",
        ),
        pytest.param(
            APP_CONTEXT_ITEM + item(0x50, item(0x59, b"\x00\x01ab")), 6, id="identity-ac-tail"
        ),
    ],
)
def test_malformed_associate_rq(variable: bytes, reason: int) -> None:
    expect_error(associate_bytes(0x01, variable), reason)


def test_malformed_associate_ac() -> None:
    pc = item(0x21, b"\x01\x00\x00\x00" + item(0x40, b"1") * 2)
    expect_error(associate_bytes(0x02, APP_CONTEXT_ITEM + pc), 5)
    pc = item(0x21, b"\x01\x00\x00\x00" + item(0x30, b"1"))
    expect_error(associate_bytes(0x02, APP_CONTEXT_ITEM + pc), 5)
    expect_error(associate_bytes(0x02, APP_CONTEXT_ITEM + verification_context_item()), 5)


def test_non_ascii_ae_title() -> None:
    raw = bytearray(associate_bytes(0x01, APP_CONTEXT_ITEM))
    raw[10] = 0xC3
    expect_error(bytes(raw))


def test_reader_keeps_partial_pdu() -> None:
    reader = PDUReader(0)
    reader.feed(ECHOSCU_RQ[:100])
    assert reader.next_pdu() is None
    assert reader.bytes_buffered() == 100
    reader.feed(ECHOSCU_RQ[100:] + encode_pdu(A_RELEASE_RQ())[:3])
    assert reader.next_pdu() == ECHOSCU_EXPECTED
    assert reader.next_pdu() is None
    assert reader.bytes_buffered() == 3


# --------------------------------------------------------------------------- encoder misuse


def _rq(called: str = "A", calling: str = "B", ui: UserInformation | None = None) -> A_ASSOCIATE_RQ:
    return A_ASSOCIATE_RQ(called, calling, (), ui or UserInformation())


@pytest.mark.parametrize(
    "pdu",
    [
        pytest.param(_rq(called="X" * 17), id="ae-too-long"),
        pytest.param(_rq(called="   "), id="ae-blank"),
        pytest.param(_rq(calling="A\\B"), id="ae-backslash"),
        pytest.param(_rq(calling="A\nB"), id="ae-control"),
        pytest.param(_rq(calling="Ä"), id="ae-non-ascii"),
        pytest.param(_rq(ui=UserInformation(implementation_class_uid="1.é")), id="uid-non-ascii"),
        pytest.param(_rq(ui=UserInformation(implementation_version_name="V" * 17)), id="ver-17"),
        pytest.param(_rq(ui=UserInformation(implementation_version_name="")), id="ver-empty"),
        pytest.param(_rq(ui=UserInformation(maximum_length=1 << 32)), id="max-length-33-bit"),
        pytest.param(
            _rq(ui=UserInformation(unknown=(UnknownSubItem(0x51, b""),))), id="unknown-known"
        ),
        pytest.param(
            _rq(ui=UserInformation(user_identity_ac=UserIdentityAC(bytes(70000)))),
            id="identity-too-long",
        ),
        pytest.param(
            A_ASSOCIATE_RQ("A", "B", (PresentationContextRQ(256, "1", ("1",)),), UserInformation()),
            id="context-id-256",
        ),
        pytest.param(P_DATA_TF(()), id="pdata-empty"),
        pytest.param(A_ABORT(0, 256), id="abort-reason-256"),
    ],
)
def test_encoder_rejects(pdu: PDU) -> None:
    with pytest.raises(ValueError):
        encode_pdu(pdu)


def test_encoder_accepts_padded_titles_and_empty_ac_titles() -> None:
    rq = decode_pdu(encode_pdu(_rq(called=" ANY ", calling="ECHO SCU")))
    assert isinstance(rq, A_ASSOCIATE_RQ)
    assert (rq.called_ae_title, rq.calling_ae_title) == ("ANY", "ECHO SCU")
    ac = A_ASSOCIATE_AC("", "", (), UserInformation(maximum_length=0))
    assert decode_pdu(encode_pdu(ac)) == ac


def test_pdata_header_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        pdata_header(256, False, False, 1)
    with pytest.raises(ValueError):
        pdata_header(1, False, False, 0xFFFFFFFF)


# --------------------------------------------------------------------------- pynetdicom cross-check

pnd_pdu = pytest.importorskip("pynetdicom.pdu")
pnd_primitives = pytest.importorskip("pynetdicom.pdu_primitives")
pnd_presentation = pytest.importorskip("pynetdicom.presentation")

RICH_UI = UserInformation(
    maximum_length=32768,
    implementation_class_uid="1.2.826.0.1.3680043.9.9999.1",
    implementation_version_name="DICOMWIRE_010",
    asynchronous_operations_window=AsynchronousOperationsWindow(5, 3),
    role_selections=(RoleSelection("1.2.840.10008.5.1.4.1.1.2", True, True),),
    sop_class_extended=(SOPClassExtendedNegotiation("1.2.840.10008.5.1.4.1.2.1.1", b"\x01\x01"),),
    sop_class_common_extended=(
        SOPClassCommonExtendedNegotiation(
            "1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.4.2", ("1.2.840.10008.5.1.4.1.1.88.11",)
        ),
    ),
    user_identity_rq=UserIdentityRQ(2, True, b"alice", b"s3cret"),
)


def test_pynetdicom_decodes_our_rq() -> None:
    contexts = tuple(
        PresentationContextRQ(
            2 * n + 1, f"1.2.840.10008.5.1.4.1.1.{n + 1}", (IMPLICIT_LE, EXPLICIT_LE)
        )
        for n in range(20)
    )
    ours = A_ASSOCIATE_RQ("STORESCP", "DICOMWIRE", contexts, RICH_UI)
    theirs = pnd_pdu.A_ASSOCIATE_RQ()
    theirs.decode(encode_pdu(ours))
    assert theirs.called_ae_title == "STORESCP"
    assert theirs.calling_ae_title == "DICOMWIRE"
    assert theirs.application_context_name == APPLICATION_CONTEXT_NAME
    decoded = [
        (pc.context_id, str(pc.abstract_syntax), [str(ts) for ts in pc.transfer_syntax])
        for pc in theirs.presentation_context
    ]
    assert decoded == [
        (pc.context_id, pc.abstract_syntax, list(pc.transfer_syntaxes)) for pc in contexts
    ]
    ui = theirs.user_information
    assert ui.maximum_length == 32768
    assert ui.implementation_class_uid == RICH_UI.implementation_class_uid
    assert ui.implementation_version_name == "DICOMWIRE_010"
    assert ui.user_identity.primary_field == b"alice"
    assert ui.user_identity.secondary_field == b"s3cret"
    role = ui.role_selection["1.2.840.10008.5.1.4.1.1.2"]
    assert (role.scu_role, role.scp_role) == (True, True)
    # pynetdicom re-encodes to exactly our bytes: same layout, same sub-item order
    assert theirs.encode() == encode_pdu(ours)


def test_pynetdicom_decodes_our_ac() -> None:
    contexts = (
        PresentationContextAC(1, 0, EXPLICIT_LE),
        PresentationContextAC(3, 3, ""),
        PresentationContextAC(5, 4, IMPLICIT_LE),
    )
    ui = UserInformation(
        maximum_length=0,
        implementation_class_uid="1.2.3.4",
        user_identity_ac=UserIdentityAC(b"token"),
    )
    ours = A_ASSOCIATE_AC("ANY-SCP", "ECHOSCU", contexts, ui)
    theirs = pnd_pdu.A_ASSOCIATE_AC()
    theirs.decode(encode_pdu(ours))
    assert theirs.called_ae_title == "ANY-SCP"
    assert theirs.calling_ae_title == "ECHOSCU"
    got = [
        (pc.context_id, pc.result, str(pc.transfer_syntax or ""))
        for pc in theirs.presentation_context
    ]
    assert got == [(1, 0, EXPLICIT_LE), (3, 3, ""), (5, 4, IMPLICIT_LE)]
    assert theirs.user_information.maximum_length == 0
    assert theirs.user_information.user_identity.server_response == b"token"


def test_we_decode_pynetdicom_rq() -> None:
    prim = pnd_primitives.A_ASSOCIATE()
    prim.application_context_name = APPLICATION_CONTEXT_NAME
    prim.calling_ae_title = "PYNETDICOM"
    prim.called_ae_title = "DICOMWIRE"
    contexts = []
    for n, uid in enumerate((VERIFICATION, "1.2.840.10008.5.1.4.1.1.7")):
        cx = pnd_presentation.PresentationContext()
        cx.context_id = 2 * n + 1
        cx.abstract_syntax = uid
        cx.transfer_syntax = [EXPLICIT_LE, IMPLICIT_LE]
        contexts.append(cx)
    prim.presentation_context_definition_list = contexts
    max_length = pnd_primitives.MaximumLengthNotification()
    max_length.maximum_length_received = 16382
    impl = pnd_primitives.ImplementationClassUIDNotification()
    impl.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.3.0.4"
    version = pnd_primitives.ImplementationVersionNameNotification()
    version.implementation_version_name = "PYNETDICOM_304"
    role = pnd_primitives.SCP_SCU_RoleSelectionNegotiation()
    role.sop_class_uid = "1.2.840.10008.5.1.4.1.1.7"
    role.scu_role = False
    role.scp_role = True
    prim.user_information = [max_length, impl, version, role]
    theirs = pnd_pdu.A_ASSOCIATE_RQ()
    theirs.from_primitive(prim)

    assert decode_pdu(theirs.encode()) == A_ASSOCIATE_RQ(
        "DICOMWIRE",
        "PYNETDICOM",
        (
            PresentationContextRQ(1, VERIFICATION, (EXPLICIT_LE, IMPLICIT_LE)),
            PresentationContextRQ(3, "1.2.840.10008.5.1.4.1.1.7", (EXPLICIT_LE, IMPLICIT_LE)),
        ),
        UserInformation(
            maximum_length=16382,
            implementation_class_uid="1.2.826.0.1.3680043.9.3811.3.0.4",
            implementation_version_name="PYNETDICOM_304",
            role_selections=(RoleSelection("1.2.840.10008.5.1.4.1.1.7", False, True),),
        ),
    )


def test_we_decode_pynetdicom_pdata_and_abort() -> None:
    pdata = pnd_pdu.P_DATA_TF()
    pdata.decode(encode_pdu(P_DATA_TF((PresentationDataValue(7, False, True, b"xyz"),))))
    assert decode_pdu(pdata.encode()) == P_DATA_TF((PresentationDataValue(7, False, True, b"xyz"),))
    abort = pnd_pdu.A_ABORT_RQ()
    abort.source = 2
    abort.reason_diagnostic = 6
    assert decode_pdu(abort.encode()) == A_ABORT(2, 6)
