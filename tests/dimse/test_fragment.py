"""Fragmentation and reassembly of DIMSE messages (PS3.7 Annex F, PS3.8 Annex E)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicomwire._core.errors import DIMSEError
from dicomwire.dimse.commands import (
    C_ECHO_RQ,
    C_STORE_RQ,
    CommandSetError,
    encode_command,
)
from dicomwire.dimse.fragment import (
    FRAGMENT_CAP,
    Reassembler,
    ReceivedMessage,
    iter_file_fragments,
    iter_fragments,
    make_control_header,
    max_fragment_size,
    parse_control_header,
)

CT = "1.2.840.10008.5.1.4.1.1.2"
ECHO = encode_command(C_ECHO_RQ(1, "1.2.840.10008.1.1"))
STORE = encode_command(C_STORE_RQ(2, CT, "1.2.3.4"))


@pytest.fixture
def spool_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as path:
        yield path


def feed_all(
    reassembler: Reassembler, command: bytes, data_set: bytes | None, size: int, context: int = 1
) -> ReceivedMessage:
    """Feed a whole message the way a driver would; return what completes it."""
    pdvs = [(True, f, last) for f, last in iter_fragments(command, size)]
    if data_set is not None:
        pdvs += [(False, f, last) for f, last in iter_fragments(data_set, size)]
    result = None
    for index, (is_command, fragment, last) in enumerate(pdvs):
        assert result is None, "message completed before its last PDV"
        result = reassembler.feed(context, is_command, last, fragment)
        assert reassembler.in_progress == (index < len(pdvs) - 1)
    assert result is not None
    return result


def data_set_of(message: ReceivedMessage) -> bytes:
    if message.data_set_path is None:
        assert message.data_set is not None
        return message.data_set
    with open(message.data_set_path, "rb") as f:
        return f.read()


# -- Control header and sizes -----------------------------------------------


@pytest.mark.parametrize(
    ("is_command", "is_last", "byte"),
    [(False, False, 0x00), (True, False, 0x01), (False, True, 0x02), (True, True, 0x03)],
)
def test_control_header(is_command: bool, is_last: bool, byte: int) -> None:
    assert make_control_header(is_command, is_last) == byte
    assert parse_control_header(byte) == (is_command, is_last)
    assert parse_control_header(byte | 0xFC) == (is_command, is_last)  # reserved bits ignored


@pytest.mark.parametrize(
    ("peer", "size"),
    [(7, 1), (8, 2), (16382, 16376), (16384, 16378), (0, FRAGMENT_CAP),
     (FRAGMENT_CAP + 6, FRAGMENT_CAP), (0xFFFFFFFF, FRAGMENT_CAP)],
)
def test_max_fragment_size(peer: int, size: int) -> None:
    assert max_fragment_size(peer) == size


@pytest.mark.parametrize("peer", [1, 6, -1])
def test_max_fragment_size_rejects_room_for_nothing(peer: int) -> None:
    with pytest.raises(ValueError):
        max_fragment_size(peer)


# -- Sending -----------------------------------------------------------------


@given(st.binary(max_size=2000), st.integers(1, 300))
def test_iter_fragments_is_lossless_and_sized(data: bytes, size: int) -> None:
    fragments = list(iter_fragments(data, size))
    assert b"".join(f for f, _ in fragments) == data
    assert [last for _, last in fragments] == [False] * (len(fragments) - 1) + [True]
    assert all(len(f) == size for f, _ in fragments[:-1])
    assert 0 < len(fragments[-1][0]) <= size or data == b""


def test_iter_fragments_is_zero_copy() -> None:
    data = bytearray(b"abcdef")
    (first, _), (second, _) = iter_fragments(data, 3)
    data[0:1] = b"X"
    assert bytes(first) == b"Xbc" and bytes(second) == b"def"


def test_empty_data_set_is_one_empty_last_fragment() -> None:
    assert [(bytes(f), last) for f, last in iter_fragments(b"", 10)] == [(b"", True)]
    file_fragments = list(iter_file_fragments(io.BytesIO(b"abc"), 0, 10))
    assert [(bytes(f), last) for f, last in file_fragments] == [(b"", True)]


@pytest.mark.parametrize("size", [0, -3])
def test_fragment_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError):
        list(iter_fragments(b"abc", size))
    with pytest.raises(ValueError):
        list(iter_file_fragments(io.BytesIO(b"abc"), 3, size))


@given(st.binary(max_size=3000), st.integers(0, 50), st.integers(1, 400))
def test_iter_file_fragments_streams_from_the_current_position(
    data: bytes, skip: int, size: int
) -> None:
    fileobj = io.BytesIO(b"x" * skip + data)
    fileobj.seek(skip)
    seen = []
    for fragment, last in iter_file_fragments(fileobj, len(data), size):
        assert len(fragment) <= size
        seen.append((bytes(fragment), last))  # copy now: the buffer is reused
    assert b"".join(f for f, _ in seen) == data
    assert [last for _, last in seen][-1] and not any(last for _, last in seen[:-1])


def test_iter_file_fragments_reuses_one_buffer() -> None:
    fragments = iter_file_fragments(io.BytesIO(bytes(range(10))), 10, 4)
    first, _ = next(fragments)
    next(fragments)
    assert bytes(first) == bytes([4, 5, 6, 7])  # documented: valid until the next one


class _Trickle(io.RawIOBase):
    """A raw stream that returns at most 3 bytes per read, like a pipe might."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(3, len(buffer)))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _NoReadinto:
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int) -> bytes:
        return self._data.read(min(size, 5))


@pytest.mark.parametrize("make", [_Trickle, _NoReadinto])
def test_iter_file_fragments_handles_short_reads(make: type) -> None:
    data = bytes(range(256)) * 3
    out = b"".join(bytes(f) for f, _ in iter_file_fragments(make(data), len(data), 100))
    assert out == data


def test_iter_file_fragments_reports_a_short_file() -> None:
    with pytest.raises(EOFError):
        list(iter_file_fragments(io.BytesIO(b"abc"), 10, 4))


# -- Receiving ---------------------------------------------------------------


def test_command_without_data_set() -> None:
    message = feed_all(Reassembler(), ECHO, None, 5, context=3)
    assert message == ReceivedMessage(3, C_ECHO_RQ(1, "1.2.840.10008.1.1"), ECHO, None, None, 0)


def test_command_and_data_set_in_memory() -> None:
    message = feed_all(Reassembler(), STORE, b"\x01\x02" * 1000, 333)
    assert message.command == C_STORE_RQ(2, CT, "1.2.3.4")
    assert message.command_bytes == STORE
    assert (message.data_set, message.data_set_path) == (b"\x01\x02" * 1000, None)
    assert message.data_set_length == 2000


def test_single_bytes_fragment_is_not_copied() -> None:
    reassembler = Reassembler()
    reassembler.feed(1, True, True, STORE)
    payload = bytes(1000)
    message = reassembler.feed(1, False, True, payload)
    assert message is not None and message.data_set is payload


def test_fed_views_may_be_reused_by_the_caller() -> None:
    reassembler = Reassembler()
    buffer = bytearray(STORE)
    reassembler.feed(1, True, True, memoryview(buffer))
    buffer[:] = bytes(len(buffer))
    chunk = bytearray(b"abcd")
    reassembler.feed(1, False, False, memoryview(chunk))
    chunk[:] = b"zzzz"
    message = reassembler.feed(1, False, True, memoryview(b"ef"))
    assert message is not None
    assert message.command_bytes == STORE and message.data_set == b"abcdef"


def test_data_set_at_the_threshold_stays_in_memory(spool_dir: str) -> None:
    message = feed_all(Reassembler(100, spool_dir), STORE, bytes(100), 30)
    assert message.data_set == bytes(100) and message.data_set_path is None
    assert os.listdir(spool_dir) == []


def test_data_set_past_the_threshold_is_spooled(spool_dir: str) -> None:
    payload = os.urandom(101)
    message = feed_all(Reassembler(100, spool_dir), STORE, payload, 30)
    assert message.data_set is None and message.data_set_length == 101
    assert message.data_set_path is not None
    assert os.path.dirname(message.data_set_path) == spool_dir
    assert data_set_of(message) == payload
    os.unlink(message.data_set_path)  # the caller owns the file


@pytest.mark.parametrize("payload", [b"", b"ab"])
def test_threshold_zero_always_spools(spool_dir: str, payload: bytes) -> None:
    message = feed_all(Reassembler(0, spool_dir), STORE, payload, 16)
    assert message.data_set is None and message.data_set_path is not None
    assert data_set_of(message) == payload


def test_spool_file_is_created_past_the_threshold_and_deleted_by_abort(spool_dir: str) -> None:
    reassembler = Reassembler(10, spool_dir)
    reassembler.feed(1, True, True, STORE)
    reassembler.feed(1, False, False, bytes(10))
    assert os.listdir(spool_dir) == []
    reassembler.feed(1, False, False, bytes(1))
    assert len(os.listdir(spool_dir)) == 1
    reassembler.abort()
    assert os.listdir(spool_dir) == [] and not reassembler.in_progress


def test_a_protocol_error_deletes_the_spool_file(spool_dir: str) -> None:
    reassembler = Reassembler(0, spool_dir)
    reassembler.feed(1, True, True, STORE)
    reassembler.feed(1, False, False, b"ab")
    with pytest.raises(DIMSEError):
        reassembler.feed(2, False, True, b"cd")
    assert os.listdir(spool_dir) == [] and not reassembler.in_progress


def test_reassembler_is_reusable_after_a_message_and_after_an_error() -> None:
    reassembler = Reassembler()
    assert feed_all(reassembler, STORE, b"xy", 4).data_set == b"xy"
    with pytest.raises(DIMSEError):
        reassembler.feed(1, False, True, b"stray")
    assert feed_all(reassembler, ECHO, None, 4).command == C_ECHO_RQ(1, "1.2.840.10008.1.1")


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(0, 6000),
    peer_max_pdu=st.sampled_from([0]) | st.integers(7, 700),
    threshold=st.sampled_from([0, 1, 64, 1 << 30]) | st.integers(0, 7000),
    context=st.integers(1, 255).filter(lambda n: n % 2 == 1),
)
def test_fragment_and_reassemble_is_lossless(
    size: int, peer_max_pdu: int, threshold: int, context: int
) -> None:
    payload = os.urandom(size)
    with tempfile.TemporaryDirectory() as spool_dir:
        reassembler = Reassembler(threshold, spool_dir)
        message = feed_all(reassembler, STORE, payload, max_fragment_size(peer_max_pdu), context)
        assert (message.context_id, message.command_bytes) == (context, STORE)
        assert message.data_set_length == size
        assert data_set_of(message) == payload
        spooled = threshold == 0 or size > threshold
        assert (message.data_set_path is not None) == spooled
        assert os.listdir(spool_dir) == ([os.path.basename(message.data_set_path)]
                                         if message.data_set_path else [])


# -- Receiving: protocol violations -----------------------------------------


def _violation(steps: list[tuple[int, bool, bool, bytes]], words: str, **kwargs: Any) -> None:
    reassembler = Reassembler(**kwargs)
    with pytest.raises(DIMSEError, match=words):
        for context, is_command, last, data in steps:
            reassembler.feed(context, is_command, last, data)
    assert not reassembler.in_progress


def test_data_set_fragment_without_command() -> None:
    _violation([(1, False, True, b"ab")], "no command")


def test_data_set_fragment_before_the_command_is_complete() -> None:
    _violation([(1, True, False, STORE[:10]), (1, False, True, b"ab")], "before the command")


def test_command_fragment_while_a_data_set_is_expected() -> None:
    _violation([(1, True, True, STORE), (1, True, True, ECHO)], "data set was expected")
    _violation([(1, True, True, STORE), (1, False, False, b"ab"), (1, True, True, ECHO)],
               "data set was expected")


def test_data_set_on_another_context() -> None:
    _violation([(1, True, True, STORE), (3, False, True, b"ab")], "presentation context 3")


def test_command_fragments_on_different_contexts() -> None:
    _violation([(1, True, False, STORE[:10]), (3, True, True, STORE[10:])], "context 3")


def test_command_longer_than_allowed() -> None:
    _violation([(1, True, False, STORE[:40]), (1, True, True, STORE[40:])], "longer than",
               max_command_length=50)
    assert feed_all(Reassembler(max_command_length=len(STORE)), STORE, b"", 9).data_set == b""


def test_undecodable_command_is_a_command_set_error() -> None:
    with pytest.raises(CommandSetError):
        Reassembler().feed(1, True, True, STORE[:-1])


def test_negative_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        Reassembler(spool_threshold=-1)
    with pytest.raises(ValueError):
        Reassembler(max_command_length=-1)
