"""The batched receive path: P-DATA-TF PDUs read a buffer at a time (PS3.8 9.3.5).

With ``Connection.batch_data`` set (as the blocking driver sets it), the
whole P-DATA-TF PDUs of one read come as one :class:`PDataBatch` of PDV
entries, and :meth:`Reassembler.feed_batch` takes them in one call. These
tests hold that path to the one-event-per-PDU path it replaces: the same
PDVs in the same order under any chunking, the same aborts (and A-ABORT
reasons) for malformed PDUs wherever they sit in a batch, the same messages
and DIMSE errors out of the reassembler, spooling included.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomwire._core.connection import (
    AbortIndication,
    Connection,
    ConnectionConfig,
    DataIndication,
    PDataBatch,
    ReleaseIndication,
    Role,
)
from dicomwire._core.errors import AbortReason, DIMSEError, PDUError
from dicomwire._core.pdu import (
    A_ABORT,
    A_RELEASE_RQ,
    P_DATA_TF,
    PDUReader,
    PresentationDataValue,
    decode_pdu,
    encode_pdu,
)
from dicomwire._core.states import State
from dicomwire.association.link import Link
from dicomwire.dimse.commands import C_ECHO_RQ, C_STORE_RQ, encode_command
from dicomwire.dimse.fragment import Reassembler, ReceivedMessage, iter_fragments

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_PDU = 512
STORE = encode_command(C_STORE_RQ(7, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"))
ECHO = encode_command(C_ECHO_RQ(8, "1.2.840.10008.1.1"))
INVALID = AbortReason.INVALID_PDU_PARAMETER_VALUE

Pdv = tuple[int, bool, bool, bytes]
# What a test compares: ("data", context, command, last, bytes) or the event itself.
Seen = tuple[object, ...]


def pdata(*pdvs: Pdv) -> bytes:
    return encode_pdu(P_DATA_TF(tuple(PresentationDataValue(*pdv) for pdv in pdvs)))


def header(pdu_type: int, length: int) -> bytes:
    return bytes([pdu_type, 0]) + length.to_bytes(4, "big")


# Malformed PDUs that can sit among P-DATA-TF PDUs, and the reason each aborts with.
MALFORMED = {
    "pdv-length-1": (header(4, 6) + bytes([0, 0, 0, 1, 1, 0]), INVALID),
    "pdv-overruns": (header(4, 8) + bytes([0, 0, 0, 9, 1, 0, 1, 2]), INVALID),
    "pdv-header-cut": (header(4, 3) + bytes(3), INVALID),
    "pdv-length-0": (header(4, 4) + bytes(4), INVALID),  # its "PDV header" runs on
    "second-pdv-bad": (
        header(4, 13) + bytes([0, 0, 0, 3, 1, 2, 9]) + bytes([0, 0, 0, 1, 1, 0]),
        INVALID,
    ),
    "empty-pdata": (header(4, 0), INVALID),
    "pdata-too-large": (header(4, MAX_PDU + 1), INVALID),
    "unknown-type": (header(0x0A, 4) + bytes(4), AbortReason.UNRECOGNIZED_PDU),
}


def established(batch: bool, **config: float) -> Connection:
    conn = Connection(Role.ACCEPTOR, ConnectionConfig(max_pdu_length=MAX_PDU, **config))
    conn.state = State.STA6
    conn.batch_data = batch
    return conn


def receive(conn: Connection, stream: bytes, cuts: list[int]) -> list[Seen]:
    """Write ``stream`` into the reader's buffer cut at ``cuts``; take the events at once."""
    seen: list[Seen] = []
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        while start < cut and conn.state is not State.STA1:
            target = conn.receive_buffer()
            count = min(len(target), cut - start)
            target[:count] = stream[start : start + count]
            start += count
            conn.received(count, 1.0)
            while (event := conn.next_event()) is not None:
                seen += flatten(event)
    return seen


def flatten(event: object) -> list[Seen]:
    """PDVs as owned tuples (the views die with the next read), other events as they are."""
    if isinstance(event, PDataBatch):
        return [("data", c, bool(m & 1), bool(m & 2), bytes(d)) for c, m, d in event.pdvs]
    if isinstance(event, DataIndication):
        return [
            ("data", v.context_id, v.is_command, v.is_last, bytes(v.data)) for v in event.pdu.pdvs
        ]
    return [(event,)]


def both_ways(stream: bytes, cuts: list[int]) -> tuple[list[Seen], Connection, list[object]]:
    """Receive ``stream`` batched and one PDU at a time; both must agree in every way.

    Returns what the batched side indicated, the side itself and the PDUs it sent.
    """
    batched, single = established(True), established(False)
    seen = receive(batched, stream, cuts)
    assert seen == receive(single, stream, cuts)
    assert batched.state is single.state
    assert batched.wants_close == single.wants_close
    assert batched.get_timer() == single.get_timer()
    sent = batched.data_to_send()
    assert sent == single.data_to_send()
    return seen, batched, [decode_pdu(b) for b in sent]


# -- the connection: batches of PDVs ---------------------------------------------------


def test_pdus_in_one_read_come_as_one_batch_of_views() -> None:
    conn = established(True)
    pdus = [(1, True, True, ECHO), (3, False, False, b"ab"), (3, False, True, b"cd")]
    stream = b"".join(pdata(pdv) for pdv in pdus)
    conn.receive_buffer()[: len(stream)] = stream
    conn.received(len(stream), 0.0)
    event = conn.next_event()
    assert isinstance(event, PDataBatch) and conn.next_event() is None
    assert [(c, m) for c, m, _ in event.pdvs] == [(1, 3), (3, 0), (3, 2)]
    assert all(isinstance(d, memoryview) and d.readonly for _, _, d in event.pdvs)
    assert [bytes(d) for _, _, d in event.pdvs] == [ECHO, b"ab", b"cd"]


def test_reserved_control_bits_are_ignored() -> None:
    raw = bytearray(pdata((5, True, True, b"xy")))
    raw[11] |= 0xFC  # bits 2-7 of the message control header (PS3.8 Annex E.2)
    seen, _, _ = both_ways(bytes(raw), [])
    assert seen == [("data", 5, True, True, b"xy")]
    conn = established(True)
    conn.receive_buffer()[: len(raw)] = raw
    conn.received(len(raw), 0.0)
    event = conn.next_event()
    assert isinstance(event, PDataBatch) and event.pdvs[0][1] == 3  # only bits 0 and 1


def test_command_and_data_pdvs_in_one_pdu_and_across_pdus() -> None:
    """A PDU may carry several PDVs: the command's last, then data set fragments."""
    stream = pdata((1, True, False, STORE[:10])) + pdata(
        (1, True, True, STORE[10:]), (1, False, False, b"1"), (1, False, False, b"22")
    )
    stream += pdata((1, False, True, b"333"))
    seen, _, _ = both_ways(stream, [len(stream) - 5])
    flags = [(True, False), (True, True), (False, False), (False, False), (False, True)]
    assert [s[2:4] for s in seen] == flags


@FAST
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(1, 255), st.booleans(), st.booleans(), st.binary(max_size=90)),
            min_size=1,
            max_size=3,
        ),
        max_size=8,
    ),
    st.data(),
)
def test_any_chunking_gives_the_pdvs_of_the_single_pdu_path(
    pdus: list[list[Pdv]], data: st.DataObject
) -> None:
    stream = b"".join(pdata(*pdvs) for pdvs in pdus) + encode_pdu(A_RELEASE_RQ())
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    seen, conn, _ = both_ways(stream, cuts)
    expected = [("data", c, cmd, last, d) for pdvs in pdus for c, cmd, last, d in pdvs]
    assert seen == [*expected, (ReleaseIndication(),)]
    assert conn.state is State.STA8


def test_a_pdu_split_across_reads_waits_for_its_rest() -> None:
    conn = established(True)
    stream = pdata((1, False, False, b"x" * 100)) + pdata((1, False, True, b"y" * 100))
    assert receive(conn, stream[:150], []) == [("data", 1, False, False, b"x" * 100)]
    assert conn.reader.bytes_buffered() == 150 - 112
    assert receive(conn, stream[150:], []) == [("data", 1, False, True, b"y" * 100)]


def test_pdata_outside_sta6_is_indicated_one_pdu_at_a_time() -> None:
    """Sta7 (our A-RELEASE-RQ sent) still takes P-DATA (AR-6), but not batched."""
    conn = established(True)
    first = pdata((1, False, False, b"a")) + pdata((1, False, False, b"b"))
    conn.receive_buffer()[: len(first)] = first
    conn.received(len(first), 0.0)
    conn.send(A_RELEASE_RQ())
    assert conn.state is State.STA7
    second = pdata((1, False, False, b"c")) + pdata((1, False, True, b"d"))
    conn.receive_buffer()[: len(second)] = second
    conn.received(len(second), 0.0)
    kinds = [type(e) for e in iter(conn.next_event, None)]
    assert kinds == [PDataBatch, DataIndication, DataIndication]


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("position", ["first", "middle", "split"])
def test_a_malformed_pdu_in_a_batch_aborts_after_the_pdus_before_it(
    name: str, position: str
) -> None:
    bad, reason = MALFORMED[name]
    before = pdata((1, False, False, b"ok1")) + pdata((1, False, False, b"ok2"))
    after = pdata((1, False, True, b"never"))
    stream = (b"" if position == "first" else before) + bad + after
    cuts = [len(stream) - len(after) - 2] if position == "split" else []
    seen, conn, sent = both_ways(stream, cuts)
    good = [("data", 1, False, False, b"ok1"), ("data", 1, False, False, b"ok2")]
    if position == "first":
        good = []
    assert seen[:-1] == good  # nothing of the bad PDU, nothing after it
    abort = seen[-1][0]
    assert isinstance(abort, AbortIndication) and abort.provider and abort.reason == reason
    assert conn.state is State.STA13  # AA-8: A-ABORT sent, ARTIM running
    assert sent == [A_ABORT(2, reason)]


def test_the_pdu_log_keeps_one_pdu_per_entry() -> None:
    """EVT_PDU_RECV needs every PDU: with the log on, nothing is batched."""
    conn = established(True)
    conn.pdu_log = []
    stream = pdata((1, False, False, b"a")) + pdata((1, False, True, b"b"))
    seen = receive(conn, stream, [])
    assert [s[-1] for s in seen] == [b"a", b"b"]
    assert len(conn.pdu_log) == 2


def test_copied_input_is_never_batched() -> None:
    """receive_data() promises events that outlive the buffer: PDUs with bytes."""
    conn = established(True)
    conn.receive_data(pdata((1, False, False, b"a")) + pdata((1, False, True, b"b")), 0.0)
    events = list(iter(conn.next_event, None))
    assert [type(e) for e in events] == [DataIndication, DataIndication]


def test_a_batch_is_network_activity() -> None:
    conn = established(True, network_timeout=5.0)
    stream = pdata((1, False, False, b"a"))
    conn.receive_buffer()[: len(stream)] = stream
    conn.received(len(stream), 10.0)
    assert conn.get_timer() == 15.0


def test_reader_read_pdata_reports_a_partial_pdata() -> None:
    stream = pdata((1, False, False, b"a" * 50))
    for cut, waiting in [(3, False), (20, True), (len(stream), False)]:
        reader = PDUReader(MAX_PDU, buffer_size=1024)
        reader.feed(stream[:cut])
        out: list[tuple[int, int, memoryview]] = []
        assert reader.read_pdata(out) is waiting
        assert len(out) == (cut == len(stream))


# -- the reassembler: feed_batch against feed ---------------------------------------------


def message_pdvs(context: int, command: bytes, data: bytes | None, size: int) -> list[Pdv]:
    pdvs = [(context, True, last, bytes(f)) for f, last in iter_fragments(command, size)]
    if data is not None:
        pdvs += [(context, False, last, bytes(f)) for f, last in iter_fragments(data, size)]
    return pdvs


def outcome(message: ReceivedMessage) -> tuple[object, ...]:
    """A message with its spooled data set read back (and the file removed)."""
    data = message.data_set
    if message.data_set_path is not None:
        with open(message.data_set_path, "rb") as fh:
            data = fh.read()
        os.unlink(message.data_set_path)
    return (message.context_id, message.command_bytes, data, message.data_set_length)


def one_by_one(reassembler: Reassembler, pdvs: list[Pdv]) -> tuple[list[object], str | None]:
    out: list[object] = []
    for context, command, last, data in pdvs:
        try:
            message = reassembler.feed(context, command, last, data)
        except DIMSEError as exc:
            return out, str(exc)
        if message is not None:
            out.append(outcome(message))
    return out, None


def batched(
    reassembler: Reassembler, pdvs: list[Pdv], splits: list[int]
) -> tuple[list[object], str | None]:
    """feed_batch over ``pdvs`` cut at ``splits``, with views, as the link gives them."""
    out: list[ReceivedMessage] = []
    bounds = [0, *sorted(splits), len(pdvs)]
    for start, stop in itertools.pairwise(bounds):
        entries = [
            (c, int(cmd) | int(last) << 1, memoryview(d)) for c, cmd, last, d in pdvs[start:stop]
        ]
        try:
            reassembler.feed_batch(entries, out.append)
        except DIMSEError as exc:
            return [outcome(m) for m in out], str(exc)
    return [outcome(m) for m in out], None


@pytest.fixture
def spool_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as path:
        yield path


messages = st.lists(
    st.tuples(st.booleans(), st.binary(max_size=300), st.integers(1, 4)), min_size=1, max_size=4
)


@FAST
@given(messages, st.integers(1, 120), st.sampled_from([0, 1, 100, 250, 1 << 20]), st.data())
def test_feed_batch_gives_what_feed_gives(
    spec: list[tuple[bool, bytes, int]], size: int, threshold: int, data: st.DataObject
) -> None:
    """Messages back to back (last flags mid-batch), in memory or spooled past any threshold."""
    pdvs: list[Pdv] = []
    for with_data, payload, context in spec:
        pdvs += message_pdvs(context, STORE if with_data else ECHO, payload, size)
    # A rule broken somewhere, or not.
    spoil = data.draw(st.sampled_from([None, "no-command", "other-context", "command-in-data"]))
    at = data.draw(st.integers(0, len(pdvs)))
    if spoil == "no-command":
        pdvs.insert(at, (1, False, False, b"stray"))
    elif spoil == "other-context":
        pdvs.insert(at, (99, False, False, b"stray"))
    elif spoil == "command-in-data":
        pdvs.insert(at, (1, True, False, ECHO))
    splits = data.draw(st.lists(st.integers(0, len(pdvs)), max_size=5))
    with tempfile.TemporaryDirectory() as spool_dir:
        expected = one_by_one(Reassembler(threshold, spool_dir), pdvs)
        reassembler = Reassembler(threshold, spool_dir)
        assert batched(reassembler, pdvs, splits) == expected
        if expected[1] is not None:
            assert not reassembler.in_progress
        assert os.listdir(spool_dir) == []  # every spool file read back or deleted


def test_crossing_the_spool_threshold_inside_a_batch(spool_dir: str) -> None:
    payload = os.urandom(5000)
    pdvs = message_pdvs(1, STORE, payload, 300)
    got, error = batched(Reassembler(2000, spool_dir), pdvs, [])
    assert error is None and got == [(1, STORE, payload, 5000)]
    got, error = batched(Reassembler(len(payload), spool_dir), pdvs, [])
    assert error is None and got == [(1, STORE, payload, 5000)]  # at the threshold: memory


def test_a_dimse_error_in_a_batch_deletes_the_spool_file(spool_dir: str) -> None:
    pdvs = [*message_pdvs(1, STORE, bytes(900), 300)[:-1], (2, False, True, b"x")]
    reassembler = Reassembler(100, spool_dir)
    entries = [(c, int(cmd) | int(last) << 1, d) for c, cmd, last, d in pdvs]
    with pytest.raises(DIMSEError, match="presentation context 2"):
        reassembler.feed_batch(entries, lambda message: None)
    assert not reassembler.in_progress and os.listdir(spool_dir) == []


# -- the link: reads through the batched path -------------------------------------------


@pytest.fixture
def link_pair() -> Iterator[tuple[Link, socket.socket]]:
    ours, theirs = socket.socketpair()
    conn = Connection(Role.ACCEPTOR, ConnectionConfig(max_pdu_length=MAX_PDU))
    conn.state = State.STA6
    link = Link(ours, conn, Reassembler(1000))
    yield link, theirs
    link.close()
    theirs.close()


def peer_abort(theirs: socket.socket) -> object:
    """The A-ABORT the link sent (10 bytes; the link may keep the connection open)."""
    theirs.settimeout(5.0)
    raw = b""
    while len(raw) < 10 and (chunk := theirs.recv(10 - len(raw))):
        raw += chunk
    return decode_pdu(raw)


def store_stream(payload: bytes, context: int = 1) -> bytes:
    return b"".join(pdata(pdv) for pdv in message_pdvs(context, STORE, payload, MAX_PDU - 6))


def test_link_reassembles_messages_from_batches(link_pair: tuple[Link, socket.socket]) -> None:
    link, theirs = link_pair
    big, small = os.urandom(3000), b"small"
    theirs.sendall(store_stream(big) + store_stream(small, 3))
    first = link.next_message(None)
    second = link.next_message(None)
    assert first is not None and second is not None
    assert first.data_set is None and first.data_set_path is not None  # spooled past 1000
    assert outcome(first) == (1, STORE, big, 3000)
    assert (second.context_id, second.data_set) == (3, small)


def test_link_aborts_on_a_dimse_error_mid_batch(link_pair: tuple[Link, socket.socket]) -> None:
    """The message before the error is kept; the error aborts with A-ABORT (2, 5)."""
    link, theirs = link_pair
    stream = store_stream(b"fine") + pdata((1, False, True, b"no command before me"))
    theirs.sendall(stream + store_stream(b"after the abort"))
    message = link.next_message(None)
    assert message is not None and message.data_set == b"fine"
    assert link.next_message(None) is None and link.closed
    abort = link.upper.popleft()
    assert isinstance(abort, AbortIndication)
    assert abort.reason == AbortReason.UNEXPECTED_PDU_PARAMETER and not link.upper
    assert not link.messages  # nothing taken from the rest of the batch
    assert peer_abort(theirs) == A_ABORT(2, AbortReason.UNEXPECTED_PDU_PARAMETER)


def test_link_aborts_on_a_malformed_pdu_mid_batch(link_pair: tuple[Link, socket.socket]) -> None:
    link, theirs = link_pair
    bad, reason = MALFORMED["pdv-overruns"]
    theirs.sendall(store_stream(b"fine") + bad + store_stream(b"never"))
    message = link.next_message(None)
    assert message is not None and message.data_set == b"fine"
    assert link.next_message(None) is None
    abort = link.upper.popleft()
    assert isinstance(abort, AbortIndication) and abort.reason == reason
    assert peer_abort(theirs) == A_ABORT(2, reason)


def test_pdata_header_layout_is_what_read_pdata_unpacks() -> None:
    """read_pdata reads the PDU and first PDV headers with one unpack (PS3.8 9.3.5)."""
    raw = pdata((0x21, True, False, b"abc"))
    assert struct.unpack_from(">BxLLBB", raw) == (4, 9, 5, 0x21, 1)


def test_read_pdata_keeps_nothing_of_a_pdu_whose_second_pdv_is_bad() -> None:
    reader = PDUReader(MAX_PDU, buffer_size=256)
    good = pdata((1, False, False, b"kept"))
    bad = header(4, 12) + bytes([0, 0, 0, 2, 1, 0]) + bytes([0, 0, 0, 0, 1, 0])
    reader.feed(good + bad)
    out: list[tuple[int, int, memoryview]] = []
    with pytest.raises(PDUError, match="below the minimum"):
        reader.read_pdata(out)
    assert [bytes(d) for _, _, d in out] == [b"kept"]
