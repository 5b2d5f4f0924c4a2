"""The zero-copy receive path and the block-wise send path for large instances.

Covers what the 1 GiB C-STORE benchmark relies on: receiving straight into
the PDU reader's buffer (PS3.8 9.3) under any chunking, PDV data handed on
as views and reassembled (in memory or spooled) without loss (PS3.7 Annex
F), files sent a block of fragments at a time, and non-blocking sends.
"""

from __future__ import annotations

import io
import os
import socket
import tempfile
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomwire._core.connection import Connection, DataIndication, Role
from dicomwire._core.errors import PDUTooLarge
from dicomwire._core.pdu import (
    A_RELEASE_RQ,
    P_DATA_TF,
    PDU,
    PDUReader,
    PresentationDataValue,
    encode_pdu,
    pdata_header,
)
from dicomwire._core.states import State
from dicomwire.dimse.commands import C_STORE_RQ, encode_command
from dicomwire.dimse.fragment import (
    Reassembler,
    ReceivedMessage,
    iter_file_blocks,
    iter_fragments,
)
from dicomwire.transport.tcp import TransportError, poll_milliseconds, send_buffers

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STORE = encode_command(C_STORE_RQ(2, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"))


def pdata_stream(data: bytes, size: int, context_id: int = 1) -> bytes:
    """A command plus ``data`` as single-PDV P-DATA-TF PDUs, as a sender writes them."""
    out = [
        pdata_header(context_id, True, last, len(f)) + bytes(f)
        for f, last in iter_fragments(STORE, size)
    ]
    out += [
        pdata_header(context_id, False, last, len(f)) + bytes(f)
        for f, last in iter_fragments(data, size)
    ]
    return b"".join(out)


def receive_in_chunks(reader: PDUReader, stream: bytes, cuts: list[int]) -> list[PDU]:
    """Write ``stream`` into the reader's own buffer, cut at ``cuts``; copy PDVs out at once."""
    out: list[PDU] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        while start < cut:
            target = reader.get_buffer()
            assert len(target) > 0
            count = min(len(target), cut - start)
            target[:count] = stream[start : start + count]
            reader.buffer_updated(count)
            start += count
            while (pdu := reader.next_pdu(zero_copy=True)) is not None:
                out.append(owned(pdu))
    return out


def owned(pdu: PDU) -> PDU:
    """Copy the PDV views before the next get_buffer() may overwrite them."""
    if not isinstance(pdu, P_DATA_TF):
        return pdu
    for pdv in pdu.pdvs:
        assert isinstance(pdv.data, memoryview) and pdv.data.readonly
    return P_DATA_TF(
        tuple(
            PresentationDataValue(p.context_id, p.is_command, p.is_last, bytes(p.data))
            for p in pdu.pdvs
        )
    )


# -- receiving into the reader's buffer ------------------------------------------


@FAST
@given(
    st.binary(max_size=5000),
    st.integers(7, 700),
    st.integers(6, 2048),
    st.data(),
)
def test_zero_copy_reader_any_chunking(
    payload: bytes, max_pdu: int, buffer_size: int, data: st.DataObject
) -> None:
    stream = pdata_stream(payload, max_pdu - 6) + encode_pdu(A_RELEASE_RQ())
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=30)))
    reader = PDUReader(max_pdu, buffer_size=buffer_size)
    pdus = receive_in_chunks(reader, stream, cuts)
    assert pdus[-1] == A_RELEASE_RQ()
    pdvs = [v for p in pdus[:-1] if isinstance(p, P_DATA_TF) for v in p.pdvs]
    assert b"".join(v.data for v in pdvs if not v.is_command) == payload  # type: ignore[misc]
    assert reader.bytes_buffered() == 0


def test_zero_copy_reader_byte_at_a_time() -> None:
    payload = bytes(range(256)) * 20
    stream = pdata_stream(payload, 1000)
    reader = PDUReader(1006, buffer_size=64)
    pdus = receive_in_chunks(reader, stream, list(range(len(stream))))
    data = b"".join(
        v.data
        for p in pdus
        if isinstance(p, P_DATA_TF)
        for v in p.pdvs
        if not v.is_command  # type: ignore[misc]
    )
    assert data == payload


def test_reader_grows_for_a_big_pdu_and_shrinks_back() -> None:
    reader = PDUReader(0, buffer_size=1024)
    big = pdata_header(1, False, True, 100_000) + bytes(100_000)
    pdus = receive_in_chunks(reader, big + encode_pdu(A_RELEASE_RQ()), [])
    assert len(pdus) == 2 and reader.bytes_buffered() == 0
    assert len(reader.get_buffer()) == 1024


def test_default_reader_starts_small_and_takes_its_full_size_when_data_streams() -> None:
    reader = PDUReader(16384)
    # An associate + C-ECHO + release never needs the working size.
    assert len(reader.get_buffer()) == 16 * 1024
    pdu = pdata_header(1, False, False, 16378) + bytes(16378)
    pdus = receive_in_chunks(reader, pdu * 8, [])
    assert len(pdus) == 8 and reader.bytes_buffered() == 0
    # A read filled the small buffer, so more was coming: the full size now.
    assert len(reader.get_buffer()) >= 4 * (16384 + 6)


def test_reader_grows_with_what_arrives_not_with_what_is_announced() -> None:
    reader = PDUReader(0, buffer_size=1024)
    target = reader.get_buffer()
    target[:6] = pdata_header(1, False, True, 60 << 20)[:6]
    reader.buffer_updated(6)
    assert reader.next_pdu(zero_copy=True) is None
    assert len(reader.get_buffer()) <= 2048  # not 60 MiB up front


def test_reader_rejects_a_long_header_before_growing() -> None:
    reader = PDUReader(1000, buffer_size=1024)
    reader.get_buffer()[:6] = pdata_header(1, False, True, 5000)[:6]
    reader.buffer_updated(6)
    with pytest.raises(PDUTooLarge):
        reader.next_pdu(zero_copy=True)


def test_buffer_updated_checks_the_count() -> None:
    reader = PDUReader(1000, buffer_size=64)
    reader.get_buffer()
    with pytest.raises(ValueError):
        reader.buffer_updated(65)


def test_connection_received_gives_views_and_logs_copies() -> None:
    conn = Connection(Role.ACCEPTOR)
    conn.state = State.STA6
    conn.pdu_log = []
    stream = pdata_header(3, False, True, 4) + b"abcd"
    conn.receive_buffer()[: len(stream)] = stream
    conn.received(len(stream), 0.0)
    event = conn.next_event()
    assert isinstance(event, DataIndication)
    assert isinstance(event.pdu.pdvs[0].data, memoryview)
    logged = conn.pdu_log[0][1]
    assert isinstance(logged, P_DATA_TF) and logged.pdvs[0].data == b"abcd"
    conn.receive_buffer()  # the view may now be overwritten; the log copy stays
    assert logged.pdvs[0].data == b"abcd"


# -- reassembling views ------------------------------------------------------------


@pytest.fixture
def spool_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as path:
        yield path


def reassemble_from_buffer(reassembler: Reassembler, stream: bytes, chunk: int) -> ReceivedMessage:
    """Drive reader + reassembler as the link does: views consumed before the next read."""
    reader = PDUReader(0, buffer_size=4096)
    result = None
    for start in range(0, len(stream), chunk):
        piece = stream[start : start + chunk]
        offset = 0
        while offset < len(piece):
            target = reader.get_buffer()
            count = min(len(target), len(piece) - offset)
            target[:count] = piece[offset : offset + count]
            reader.buffer_updated(count)
            offset += count
            while (pdu := reader.next_pdu(zero_copy=True)) is not None:
                assert isinstance(pdu, P_DATA_TF)
                for pdv in pdu.pdvs:
                    message = reassembler.feed(
                        pdv.context_id, pdv.is_command, pdv.is_last, pdv.data
                    )
                    if message is not None:
                        result = message
    assert result is not None
    return result


@FAST
@given(st.binary(min_size=1, max_size=20_000), st.integers(1, 3000), st.integers(1, 5000))
def test_views_reassemble_in_memory(payload: bytes, size: int, chunk: int) -> None:
    message = reassemble_from_buffer(Reassembler(1 << 20), pdata_stream(payload, size), chunk)
    assert message.data_set == payload and message.data_set_length == len(payload)


@FAST
@given(st.binary(min_size=1, max_size=20_000), st.integers(1, 3000), st.integers(1, 5000))
def test_views_spool_losslessly(payload: bytes, size: int, chunk: int) -> None:
    with tempfile.TemporaryDirectory() as spool_dir:
        reassembler = Reassembler(len(payload) // 2, spool_dir)
        message = reassemble_from_buffer(reassembler, pdata_stream(payload, size), chunk)
        assert message.data_set is None and message.data_set_path is not None
        with open(message.data_set_path, "rb") as fh:
            assert fh.read() == payload
        assert message.data_set_length == len(payload)


def test_spool_past_its_write_buffer(spool_dir: str) -> None:
    payload = os.urandom(3 << 20)  # more than the 1 MiB spool buffer
    message = reassemble_from_buffer(Reassembler(0, spool_dir), pdata_stream(payload, 16378), 65536)
    assert message.data_set_path is not None
    with open(message.data_set_path, "rb") as fh:
        assert fh.read() == payload


# -- sending a file a block at a time ----------------------------------------------


@given(st.binary(max_size=3000), st.integers(1, 400), st.integers(1, 2000))
def test_iter_file_blocks_is_lossless(data: bytes, size: int, block: int) -> None:
    seen: list[tuple[bytes, bool]] = []
    for fragments in iter_file_blocks(io.BytesIO(data), len(data), size, block):
        assert fragments
        seen += [(bytes(f), last) for f, last in fragments]  # copy: the block is reused
    assert b"".join(f for f, _ in seen) == data
    assert all(0 < len(f) <= size for f, _ in seen) or data == b""
    assert [last for _, last in seen] == [False] * (len(seen) - 1) + [True]


def test_iter_file_blocks_reads_whole_fragments_per_block() -> None:
    blocks = list(
        len(b) for b in iter_file_blocks(io.BytesIO(bytes(1000)), 1000, 100, block_size=350)
    )
    assert blocks == [3, 3, 3, 1]


def test_iter_file_blocks_reports_a_short_file() -> None:
    with pytest.raises(EOFError):
        list(iter_file_blocks(io.BytesIO(b"abc"), 10, 4))


# -- non-blocking sends ------------------------------------------------------------


def test_send_buffers_waits_on_a_full_non_blocking_socket() -> None:
    left, right = socket.socketpair()
    payload = os.urandom(4 << 20)  # far more than the socket buffers hold
    received = bytearray()

    def drain() -> None:
        while len(received) < len(payload):
            chunk = right.recv(1 << 16)
            if not chunk:
                break
            received.extend(chunk)

    with left, right:
        left.setblocking(False)
        reader = threading.Thread(target=drain)
        reader.start()
        send_buffers(left, [payload[:10], memoryview(payload)[10:]], timeout=10.0)
        reader.join(10)
    assert bytes(received) == payload


def test_send_buffers_times_out_when_the_peer_does_not_read() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.setblocking(False)
        with pytest.raises(TransportError):
            send_buffers(left, [bytes(8 << 20)], timeout=0.05)


@pytest.mark.parametrize(
    ("seconds", "milliseconds"), [(None, -1), (0.0, 0), (-1.0, 0), (0.0001, 1), (1.5, 1500)]
)
def test_poll_milliseconds_rounds_up(seconds: float | None, milliseconds: int) -> None:
    assert poll_milliseconds(seconds) == milliseconds
