"""Property tests for hostile input: the PDU reader, the core and DIMSE reassembly.

What tests/core/test_pdu.py and tests/dimse/ already cover (round trips,
random and mutated single PDUs, one message fragmented and reassembled) is
not repeated. Here: streams of several valid and broken PDUs in any
chunking, length guards that fire on the header alone, the acceptor's
protocol machine fed arbitrary bytes, and reassembly of arbitrary and of
interleaved PDV sequences. The only exceptions allowed out are the
documented ones (``PDUError``, ``DIMSEError``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import struct
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomwire._core.connection import (
    AbortIndication,
    Connection,
    ConnectionConfig,
    DataIndication,
    Role,
)
from dicomwire._core.errors import DIMSEError, PDUError, PDUTooLarge
from dicomwire._core.pdu import (
    A_ABORT,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    P_DATA_TF,
    PDUReader,
    PresentationDataValue,
    decode_pdu,
    encode_pdu,
)
from dicomwire.dimse.commands import (
    C_ECHO_RQ,
    C_STORE_RQ,
    Message,
    decode_command,
    encode_command,
)
from dicomwire.dimse.fragment import Reassembler, ReceivedMessage, iter_fragments

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 255)
pdu_types = st.sampled_from([1, 2, 3, 4, 5, 6, 7]) | u8
simple_pdus = st.sampled_from([A_RELEASE_RQ(), A_RELEASE_RP(), A_ABORT(2, 6), A_ABORT(0, 0)])
pdvs = st.builds(
    PresentationDataValue,
    st.integers(1, 255),
    st.booleans(),
    st.booleans(),
    st.binary(max_size=40),
)
pdata = st.lists(pdvs, min_size=1, max_size=4).map(lambda v: P_DATA_TF(tuple(v)))


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _read_stream(reader: PDUReader, chunks: list[bytes]) -> list[object]:
    out: list[object] = []
    for chunk in chunks:
        reader.feed(chunk)
        while (pdu := reader.next_pdu()) is not None:
            out.append(pdu)
    return out


# -- PDU reader -----------------------------------------------------------------


@FUZZ
@given(
    st.lists(simple_pdus | pdata, min_size=1, max_size=4),
    st.binary(max_size=60),
    st.lists(st.integers(0, 10_000), max_size=8),
)
def test_valid_prefix_then_garbage_in_any_chunking(
    pdus: list[object], garbage: bytes, cuts: list[int]
) -> None:
    """Valid PDUs come out intact whatever follows; then only PDUError."""
    wire = b"".join(encode_pdu(p) for p in pdus)  # type: ignore[arg-type]
    reader = PDUReader(1 << 16, max_other_length=1 << 16)
    got: list[object] = []
    try:
        for chunk in _chunks(wire + garbage, cuts):
            reader.feed(chunk)
            while (pdu := reader.next_pdu()) is not None:
                got.append(pdu)
    except PDUError as exc:
        assert 0 <= exc.reason <= 6 and exc.source == 2
    assert got[: len(pdus)] == pdus


@FUZZ
@given(pdu_types, st.integers(0, 0xFFFFFFFF), st.integers(0, 5), st.binary(max_size=40))
def test_length_guard_fires_on_the_header_alone(
    pdu_type: int, length: int, header_split: int, tail: bytes
) -> None:
    """A declared length above the limit raises PDUTooLarge with only the header
    in hand, so nothing of the body is waited for or buffered."""
    limit = 4096
    header = struct.pack(">BxL", pdu_type, length)
    reader = PDUReader(limit, max_other_length=limit)
    reader.feed(header[:header_split])
    assert reader.next_pdu() is None  # not even a header yet
    reader.feed(header[header_split:])
    try:
        pdu = reader.next_pdu()
    except PDUTooLarge as exc:
        assert length > limit and pdu_type in range(1, 8)
        assert (exc.source, exc.reason) == (2, 6)
        assert reader.bytes_buffered() == 6
        return
    except PDUError:
        return  # unknown type, or a fixed-length PDU of another length
    assert length <= limit
    if pdu is None:  # waits for a body that fits the limit
        reader.feed(tail)
        with contextlib.suppress(PDUError):
            reader.next_pdu()


@FUZZ
@given(st.binary(max_size=2000), st.lists(st.integers(0, 10_000), max_size=12))
def test_random_streams_in_any_chunking(data: bytes, cuts: list[int]) -> None:
    """Arbitrary bytes in arbitrary pieces: PDUs or PDUError, never anything else,
    and the same PDUs as decoding the stream in one go."""
    whole: list[object] = []
    error_whole = None
    try:
        whole = _read_stream(PDUReader(512, max_other_length=512), [data])
    except PDUError as exc:
        error_whole = type(exc)
    pieces: list[object] = []
    error_pieces = None
    reader = PDUReader(512, max_other_length=512)
    try:
        for chunk in _chunks(data, cuts):
            reader.feed(chunk)
            while (pdu := reader.next_pdu()) is not None:
                pieces.append(pdu)
                decode_pdu(encode_pdu(pdu))  # what decodes re-encodes
    except PDUError as exc:
        error_pieces = type(exc)
    except ValueError:
        pass  # a decoded value the encoder's stricter checks refuse
    assert pieces == whole[: len(pieces)]
    if error_pieces is not None:
        assert error_pieces == error_whole


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 700), max_size=6))
def test_acceptor_machine_on_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    """The sans-I/O acceptor never raises on received bytes: a broken stream
    ends in an A-P-ABORT indication and the transport is to be closed."""
    conn = Connection(Role.ACCEPTOR, ConnectionConfig(max_pdu_length=1024))
    conn.transport_connected(0.0)
    now = 0.0
    for chunk in _chunks(data, cuts):
        now += 0.001
        conn.receive_data(chunk, now)
        conn.data_to_send()
        if conn.wants_close:
            break
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    aborts = [e for e in events if isinstance(e, AbortIndication)]
    if aborts:
        assert conn.wants_close
    # Before an association is accepted a P-DATA never reaches the user.
    assert not any(isinstance(e, DataIndication) for e in events)


# -- DIMSE reassembly -------------------------------------------------------------

Pdv = tuple[int, bool, bool, bytes]
ECHO = encode_command(C_ECHO_RQ(1, "1.2.840.10008.1.1"))


def _store(message_id: int) -> bytes:
    return encode_command(
        C_STORE_RQ(message_id, "1.2.840.10008.5.1.4.1.1.2", f"1.2.3.{message_id}", 0)
    )


valid_commands = st.sampled_from([ECHO, _store(1), _store(77)])
command_bytes = (
    valid_commands
    | st.binary(max_size=120)
    | valid_commands.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda n: raw[:n]))
)
any_pdv = st.tuples(
    st.integers(1, 5), st.booleans(), st.booleans(), command_bytes | st.binary(max_size=30)
)


def _feed(reassembler: Reassembler, steps: list[Pdv]) -> list[ReceivedMessage]:
    out: list[ReceivedMessage] = []
    for context, is_command, last, data in steps:
        try:
            message = reassembler.feed(context, is_command, last, data)
        except DIMSEError:
            assert not reassembler.in_progress  # dropped, ready for the next
            continue
        if message is not None:
            out.append(message)
    return out


@FUZZ
@given(st.lists(any_pdv, max_size=12), st.sampled_from([0, 16, 1 << 20]))
def test_any_pdv_sequence_gives_messages_or_dimse_error(steps: list[Pdv], threshold: int) -> None:
    with tempfile.TemporaryDirectory() as spool_dir:
        reassembler = Reassembler(threshold, spool_dir, max_command_length=256)
        messages = _feed(reassembler, steps)
        for message in messages:
            assert isinstance(message.command, Message)
            assert decode_command(message.command_bytes) == message.command
            if message.data_set_path:
                assert os.path.getsize(message.data_set_path) == message.data_set_length
                os.unlink(message.data_set_path)
        reassembler.abort()
        assert os.listdir(spool_dir) == []  # nothing left behind, whatever happened


@FUZZ
@given(st.binary(max_size=400))
def test_decode_command_of_truncated_and_extended_commands(tail: bytes) -> None:
    """Valid command sets cut anywhere or with bytes appended: a message or DIMSEError."""
    for raw in (_store(5), ECHO):
        for candidate in (raw[: len(tail) % (len(raw) + 1)], raw + tail, tail + raw):
            try:
                message = decode_command(candidate)
            except DIMSEError:
                continue
            assert isinstance(message, Message)


def _message_pdvs(context: int, command: bytes, data: bytes | None, size: int) -> list[Pdv]:
    steps: list[Pdv] = [
        (context, True, last, bytes(f)) for f, last in iter_fragments(command, size)
    ]
    if data is not None:
        steps += [(context, False, last, bytes(f)) for f, last in iter_fragments(data, size)]
    return steps


@FUZZ
@given(
    st.lists(st.tuples(st.booleans(), st.binary(max_size=200)), min_size=1, max_size=4),
    st.integers(1, 64),
    st.data(),
)
def test_interleaved_messages(
    spec: list[tuple[bool, bytes]], size: int, data: st.DataObject
) -> None:
    """Several messages' PDVs merged in a random interleaving on distinct contexts.

    PS3.7 6.3.1 / PS3.8 Annex E: the fragments of one message are not mixed
    with another's. An interleaving that keeps each message contiguous gives
    every message back intact; one that mixes two gives DIMSEError, never a
    wrong message.
    """
    queues: list[list[Pdv]] = []
    expected: list[tuple[int, bytes | None]] = []
    for index, (with_data, payload) in enumerate(spec):
        context = 2 * index + 1
        command = _store(index + 1) if with_data else ECHO
        queues.append(_message_pdvs(context, command, payload if with_data else None, size))
        expected.append((context, payload if with_data else None))
    merged: list[Pdv] = []
    while any(queues):
        choices = [i for i, q in enumerate(queues) if q]
        merged.append(queues[data.draw(st.sampled_from(choices))].pop(0))
    positions: dict[int, list[int]] = {}
    for at, step in enumerate(merged):
        positions.setdefault(step[0], []).append(at)
    contiguous = all(p[-1] - p[0] == len(p) - 1 for p in positions.values())
    messages = _feed(Reassembler(1 << 20), merged)
    got = [(m.context_id, m.data_set) for m in messages]
    for item in got:  # whatever came out is exactly one of the messages sent
        assert item in expected
    if contiguous:
        assert got == sorted(expected, key=lambda e: positions[e[0]][0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=30), st.integers(1, 50))
def test_data_set_fragments_out_of_order_never_forge_a_message(order: list[int], size: int) -> None:
    """Fragments of one store re-ordered (commands after data, lasts first...)."""
    payload = bytes(range(256)) * 2
    steps = _message_pdvs(1, _store(9), payload, size)
    shuffled = [steps[(i * 7919 + k) % len(steps)] for k, i in enumerate(order)]
    for message in _feed(Reassembler(1 << 20), shuffled):
        assert message.command_bytes == _store(9)
        assert message.data_set is not None and len(message.data_set) <= len(shuffled) * size
