"""In-memory requestor <-> acceptor pairs through the core (PS3.8 section 9.2).

Two :class:`Connection` machines are wired by moving ``data_to_send()`` of one
into ``receive_data()`` of the other, on a fake monotonic clock (plain floats):
no sockets, no sleeping. Expected behaviour is taken from PS3.8 Table 9-10 and
the actions of Tables 9-6..9-9.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomwire._core.connection import (
    AbortIndication,
    AssociateAccepted,
    AssociateIndication,
    AssociateRejected,
    Connection,
    ConnectionConfig,
    DataIndication,
    ReleaseConfirmed,
    ReleaseIndication,
    Role,
    UpperEvent,
)
from dicomwire._core.errors import AbortReason, StateError
from dicomwire._core.pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    P_DATA_TF,
    PDU,
    PDUReader,
    PresentationContextAC,
    PresentationContextRQ,
    PresentationDataValue,
    UserInformation,
    encode_pdu,
)
from dicomwire._core.states import State

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
T0 = 100.0
ARTIM, ACSE, IDLE = 30.0, 60.0, 5.0
CONFIG = ConnectionConfig(max_pdu_length=4096, artim_timeout=ARTIM, acse_timeout=ACSE)

USER_INFO = UserInformation(maximum_length=4096, implementation_class_uid="1.2.3.4")
RQ = A_ASSOCIATE_RQ(
    "ANY-SCP", "ECHOSCU", (PresentationContextRQ(1, VERIFICATION, (IMPLICIT_LE,)),), USER_INFO
)
AC = A_ASSOCIATE_AC("ANY-SCP", "ECHOSCU", (PresentationContextAC(1, 0, IMPLICIT_LE),), USER_INFO)


def pdata(*pdvs: tuple[int, bool, bool, bytes]) -> P_DATA_TF:
    return P_DATA_TF(tuple(PresentationDataValue(*pdv) for pdv in pdvs))


def header(pdu_type: int, length: int) -> bytes:
    return bytes([pdu_type, 0]) + length.to_bytes(4, "big")


# Malformed PDUs and the A-ABORT reason (PS3.8 Table 9-26) each provokes.
INVALID = AbortReason.INVALID_PDU_PARAMETER_VALUE
MALFORMED = {
    "unknown-type": (header(0x09, 4) + bytes(4), AbortReason.UNRECOGNIZED_PDU),
    "release-rq-length-6": (header(0x05, 6) + bytes(6), INVALID),
    "pdata-too-large": (header(0x04, 4097), INVALID),  # above max_pdu_length
    "pdv-length-1": (header(0x04, 6) + bytes([0, 0, 0, 1, 1, 0]), INVALID),
    "ac-unknown-item": (
        header(0x02, 72) + b"\x00\x01" + bytes(66) + b"\x99\x00\x00\x00",
        AbortReason.UNRECOGNIZED_PDU_PARAMETER,
    ),
}


def decode_all(data: bytes) -> list[PDU]:
    reader = PDUReader(0)
    reader.feed(data)
    pdus = []
    while (pdu := reader.next_pdu()) is not None:
        pdus.append(pdu)
    assert reader.bytes_buffered() == 0
    return pdus


def wire(conn: Connection) -> bytes:
    return b"".join(bytes(buffer) for buffer in conn.data_to_send())


def drain(conn: Connection) -> list[UpperEvent]:
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    return events


def plain(events: list[UpperEvent]) -> list[UpperEvent]:
    """Events with the free-text abort descriptions blanked, for comparison."""
    return [replace(e, description="") if isinstance(e, AbortIndication) else e for e in events]


def whole(data: bytes) -> list[bytes]:
    return [data]


class Pair:
    """A requestor and an acceptor joined by an in-memory byte pipe."""

    def __init__(
        self,
        config: ConnectionConfig = CONFIG,
        split: Callable[[bytes], list[bytes]] = whole,
    ) -> None:
        self.rq = Connection(Role.REQUESTOR, config)
        self.ac = Connection(Role.ACCEPTOR, config)
        self.now = T0
        self.split = split

    def deliver(self, src: Connection, dst: Connection) -> list[UpperEvent]:
        """Move everything ``src`` has to send into ``dst``; return dst's events."""
        for chunk in self.split(wire(src)):
            dst.receive_data(chunk, self.now)
        return drain(dst)

    def connect(self, request: A_ASSOCIATE_RQ = RQ) -> list[UpperEvent]:
        """Sta1 -> Sta5 (requestor) and Sta1 -> Sta2 -> Sta3 or Sta13 (acceptor)."""
        self.rq.send(request)
        assert self.rq.wants_connect and self.rq.state is State.STA4
        self.rq.transport_connected(self.now)
        self.ac.transport_connected(self.now)
        assert self.rq.state is State.STA5 and self.ac.state is State.STA2
        return self.deliver(self.rq, self.ac)

    def establish(self) -> Pair:
        assert self.connect() == [AssociateIndication(RQ)]
        self.ac.send(AC)
        assert self.deliver(self.ac, self.rq) == [AssociateAccepted(AC)]
        assert self.rq.is_established and self.ac.is_established
        return self

    def to_sta13_by_reject(self) -> None:
        """Acceptor rejects (AE-8): it waits in Sta13 for the transport to close."""
        self.connect()
        self.ac.send(A_ASSOCIATE_RJ(1, 1, 3))
        assert self.ac.state is State.STA13


def assert_closed(conn: Connection) -> None:
    assert conn.state is State.STA1
    assert conn.get_timer() is None


# --------------------------------------------------------------------------- life cycle


def test_full_life_cycle() -> None:
    pair = Pair()
    pair.establish()
    rq, ac = pair.rq, pair.ac

    rq.send_pdata(1, True, True, b"command")
    rq.send_pdata(1, False, False, memoryview(b"data-1"))
    assert pair.deliver(rq, ac) == [
        DataIndication(pdata((1, True, True, b"command"))),
        DataIndication(pdata((1, False, False, b"data-1"))),
    ]
    two = pdata((1, False, False, b"part"), (1, False, True, b"last"))
    ac.send(two)
    ac.send_pdata(1, True, True, bytearray(b"reply"))
    assert pair.deliver(ac, rq) == [
        DataIndication(two),
        DataIndication(pdata((1, True, True, b"reply"))),
    ]

    rq.send(A_RELEASE_RQ())
    assert rq.state is State.STA7
    assert pair.deliver(rq, ac) == [ReleaseIndication()]
    assert ac.state is State.STA8
    ac.send_pdata(1, True, True, b"late")  # AR-7: data may still go out in Sta8
    ac.send(A_RELEASE_RP())
    assert ac.state is State.STA13 and not ac.wants_close
    assert ac.get_timer() == T0 + ARTIM
    assert pair.deliver(ac, rq) == [
        DataIndication(pdata((1, True, True, b"late"))),  # AR-6
        ReleaseConfirmed(),
    ]
    assert rq.wants_close
    assert_closed(rq)
    ac.transport_closed(T0 + 1)  # AR-5
    assert_closed(ac)
    assert drain(ac) == []


def test_timers_while_associating() -> None:
    pair = Pair()
    assert pair.rq.get_timer() is None
    pair.rq.send(RQ)
    with pytest.raises(StateError):  # Evt1 is blank in Sta4: the first request stands
        pair.rq.send(A_ASSOCIATE_RQ("OTHER", "ME", (), UserInformation()))
    pair.rq.transport_connected(T0)
    assert pair.rq.get_timer() == T0 + ACSE  # waiting for AC/RJ
    pair.ac.transport_connected(T0)
    assert pair.ac.get_timer() == T0 + ARTIM  # AE-5
    assert pair.deliver(pair.rq, pair.ac) == [AssociateIndication(RQ)]
    assert pair.ac.state is State.STA3 and pair.ac.get_timer() is None  # AE-6 stops ARTIM
    pair.ac.send(AC)
    pair.deliver(pair.ac, pair.rq)
    assert pair.rq.get_timer() is None


# --------------------------------------------------------------------------- rejection


def test_user_rejection_and_artim_in_sta13() -> None:
    pair = Pair()
    pair.to_sta13_by_reject()
    ac = pair.ac
    assert ac.get_timer() == T0 + ARTIM  # AE-8
    assert pair.deliver(ac, pair.rq) == [AssociateRejected(A_ASSOCIATE_RJ(1, 1, 3))]
    assert pair.rq.wants_close  # AE-4
    assert_closed(pair.rq)
    ac.handle_timer(T0 + ARTIM - 0.001)
    assert ac.state is State.STA13 and not ac.wants_close
    ac.handle_timer(T0 + ARTIM)  # Evt18 -> AA-2
    assert ac.wants_close
    assert_closed(ac)
    assert drain(ac) == [] and wire(ac) == b""


@pytest.mark.parametrize("version", [0, 2, 0xFFFE, 1, 3])
def test_provider_checks_protocol_version_bit_0(version: int) -> None:
    pair = Pair()
    request = replace(RQ, protocol_version=version)
    if version & 1:  # PS3.8 9.3.2: only bit 0 (version 1) matters
        assert pair.connect(request) == [AssociateIndication(request)]
        return
    assert pair.connect(request) == []  # no indication: the provider answers alone (AE-6)
    assert pair.ac.state is State.STA13 and pair.ac.get_timer() == T0 + ARTIM
    # Rejected-permanent, ACSE-related provider, protocol version not supported (Table 9-21).
    assert pair.deliver(pair.ac, pair.rq) == [AssociateRejected(A_ASSOCIATE_RJ(1, 2, 2))]
    assert_closed(pair.rq)


# --------------------------------------------------------------------------- abort


@pytest.mark.parametrize("aborter", ["rq", "ac"])
@pytest.mark.parametrize(
    ("source", "reason", "provider"), [(0, 0, False), (2, 6, True), (1, 0, True)]
)
def test_user_abort_reaches_peer(aborter: str, source: int, reason: int, provider: bool) -> None:
    pair = Pair().establish()
    me, peer = (pair.rq, pair.ac) if aborter == "rq" else (pair.ac, pair.rq)
    me.send(A_ABORT(source, reason))  # AA-1
    assert me.state is State.STA13 and me.get_timer() == T0 + ARTIM
    assert drain(me) == []
    assert plain(pair.deliver(me, peer)) == [AbortIndication(source, reason, provider, False)]
    assert peer.wants_close  # AA-3
    assert_closed(peer)
    me.transport_closed(T0 + 1)
    assert_closed(me)


def test_abort_while_awaiting_association_response() -> None:
    pair = Pair()
    pair.connect()
    pair.ac.send(A_ABORT(0, 0))  # Sta3 -> AA-1
    assert pair.ac.state is State.STA13
    assert plain(pair.deliver(pair.ac, pair.rq)) == [AbortIndication(0, 0, False, False)]
    assert_closed(pair.rq)  # Sta5 -> AA-3


def test_abort_before_transport_is_up() -> None:
    conn = Connection(Role.REQUESTOR, CONFIG)
    conn.send(RQ)
    conn.send(A_ABORT(0, 0))  # Sta4 -> AA-2: nothing to send, just close
    assert conn.wants_close and wire(conn) == b""
    assert_closed(conn)


def test_peer_closing_transport_is_a_provider_abort() -> None:
    pair = Pair().establish()
    pair.rq.transport_closed(T0 + 1)  # Sta6 -> AA-4
    assert plain(drain(pair.rq)) == [AbortIndication(2, 0, True, True)]
    assert_closed(pair.rq)


# --------------------------------------------------------------------------- release collision


def test_release_collision() -> None:
    pair = Pair().establish()
    rq, ac = pair.rq, pair.ac
    rq.send(A_RELEASE_RQ())
    ac.send(A_RELEASE_RQ())
    assert rq.state is State.STA7 and ac.state is State.STA7
    from_rq, from_ac = wire(rq), wire(ac)  # both requests cross on the wire
    rq.receive_data(from_ac, pair.now)
    ac.receive_data(from_rq, pair.now)
    assert drain(rq) == [ReleaseIndication()] and drain(ac) == [ReleaseIndication()]
    assert rq.state is State.STA9 and ac.state is State.STA10  # AR-8
    rq.send(A_RELEASE_RP())  # AR-9: the requestor answers first
    assert rq.state is State.STA11
    assert pair.deliver(rq, ac) == [ReleaseConfirmed()]  # AR-10
    assert ac.state is State.STA12
    ac.send(A_RELEASE_RP())  # AR-4
    assert ac.state is State.STA13 and ac.get_timer() == T0 + ARTIM
    assert pair.deliver(ac, rq) == [ReleaseConfirmed()]  # AR-3
    assert rq.wants_close
    assert_closed(rq)
    ac.transport_closed(pair.now)
    assert_closed(ac)


# --------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("receiver", ["rq", "ac"])
def test_malformed_pdu_when_established(name: str, receiver: str) -> None:
    data, reason = MALFORMED[name]
    pair = Pair().establish()
    conn, peer = (pair.rq, pair.ac) if receiver == "rq" else (pair.ac, pair.rq)
    conn.receive_data(data, T0 + 1)  # Evt19 in Sta6 -> AA-8
    events = drain(conn)
    assert plain(events) == [AbortIndication(2, reason, True, True)]
    assert isinstance(events[0], AbortIndication) and events[0].description
    assert conn.state is State.STA13 and conn.get_timer() == T0 + 1 + ARTIM
    sent = wire(conn)
    assert decode_all(sent) == [A_ABORT(2, reason)]
    peer.receive_data(sent, T0 + 1)
    assert plain(drain(peer)) == [AbortIndication(2, reason, True, False)]
    assert_closed(peer)
    # Whatever follows a broken PDU cannot be framed: it is ignored.
    conn.receive_data(encode_pdu(A_RELEASE_RQ()) + data, T0 + 2)
    assert drain(conn) == [] and wire(conn) == b"" and conn.state is State.STA13


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_pdu_in_sta2_is_aa1(name: str) -> None:
    data, _ = MALFORMED[name]
    conn = Connection(Role.ACCEPTOR, CONFIG)
    conn.transport_connected(T0)
    conn.receive_data(data, T0 + 2)
    # AA-1: service-user source (reason not significant), ARTIM restarted, no user to tell.
    assert decode_all(wire(conn)) == [A_ABORT(0, 0)]
    assert drain(conn) == []
    assert conn.state is State.STA13 and conn.get_timer() == T0 + 2 + ARTIM


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_pdu_in_sta13_is_aa7(name: str) -> None:
    data, reason = MALFORMED[name]
    conn = bring_to(State.STA13)
    conn.receive_data(data, T0 + 3)
    assert decode_all(wire(conn)) == [A_ABORT(2, reason)]
    assert drain(conn) == []
    assert conn.state is State.STA13 and conn.get_timer() == T0 + ARTIM  # not restarted


def ident(value: object) -> str:
    return value.name if isinstance(value, State) else str(value).split("(")[0]


def bring_to(state: State, config: ConnectionConfig = CONFIG) -> Connection:
    """One machine of a fresh pair, driven into ``state`` by well-behaved traffic."""
    pair = Pair(config)
    if state is State.STA1:
        return pair.rq
    if state is State.STA13:
        pair.to_sta13_by_reject()
        wire(pair.ac)
        return pair.ac
    if state is State.STA2:
        pair.ac.transport_connected(T0)
        return pair.ac
    if state in (State.STA3, State.STA5):
        pair.connect()
        return pair.ac if state is State.STA3 else pair.rq
    pair.establish()
    if state is State.STA6:
        return pair.ac
    pair.rq.send(A_RELEASE_RQ())
    if state is State.STA7:
        return pair.rq
    if state is State.STA8:
        pair.deliver(pair.rq, pair.ac)
        return pair.ac
    pair.ac.send(A_RELEASE_RQ())  # release collision
    pair.rq.receive_data(wire(pair.ac), T0)
    pair.ac.receive_data(wire(pair.rq), T0)
    drain(pair.rq), drain(pair.ac)
    if state in (State.STA9, State.STA10):
        return pair.rq if state is State.STA9 else pair.ac
    pair.rq.send(A_RELEASE_RP())
    if state is State.STA11:
        return pair.rq
    pair.deliver(pair.rq, pair.ac)
    return pair.ac  # Sta12


X = pdata((1, True, True, b"x"))
UNEXPECTED = [
    (State.STA3, X),
    (State.STA3, A_RELEASE_RQ()),
    (State.STA5, RQ),
    (State.STA5, A_RELEASE_RP()),
    (State.STA6, AC),
    (State.STA6, RQ),
    (State.STA6, A_RELEASE_RP()),
    (State.STA6, A_ASSOCIATE_RJ(1, 1, 1)),
    (State.STA7, AC),
    (State.STA8, X),
    (State.STA9, X),
    (State.STA10, A_RELEASE_RQ()),
    (State.STA11, X),
    (State.STA12, A_RELEASE_RP()),
]


@pytest.mark.parametrize(("state", "pdu"), UNEXPECTED, ids=ident)
def test_unexpected_pdu_is_aa8(state: State, pdu: PDU) -> None:
    conn = bring_to(state)
    assert conn.state is state
    wire(conn)
    conn.receive_data(encode_pdu(pdu), T0 + 1)
    events = drain(conn)
    assert plain(events) == [AbortIndication(2, AbortReason.UNEXPECTED_PDU, True, True)]
    assert decode_all(wire(conn)) == [A_ABORT(2, AbortReason.UNEXPECTED_PDU)]
    assert conn.state is State.STA13 and conn.get_timer() == T0 + 1 + ARTIM


@pytest.mark.parametrize("pdu", [AC, A_ASSOCIATE_RJ(1, 1, 1), X, A_RELEASE_RQ()])
def test_unexpected_pdu_in_sta2_is_aa1(pdu: PDU) -> None:
    conn = bring_to(State.STA2)
    conn.receive_data(encode_pdu(pdu), T0)
    assert decode_all(wire(conn)) == [A_ABORT(0, 0)]
    assert drain(conn) == [] and conn.state is State.STA13


@pytest.mark.parametrize(
    ("pdu", "answer"),
    [(X, []), (A_RELEASE_RQ(), []), (AC, []), (RQ, [A_ABORT(2, AbortReason.UNEXPECTED_PDU)])],
)
def test_pdus_in_sta13(pdu: PDU, answer: list[PDU]) -> None:
    conn = bring_to(State.STA13)
    conn.receive_data(encode_pdu(pdu), T0 + 1)  # AA-6 ignores, AA-7 answers
    assert decode_all(wire(conn)) == answer
    assert drain(conn) == [] and conn.state is State.STA13


def test_abort_received_in_sta13_closes() -> None:
    conn = bring_to(State.STA13)
    conn.receive_data(encode_pdu(A_ABORT(0, 0)), T0 + 1)  # AA-2
    assert conn.wants_close and drain(conn) == []
    assert_closed(conn)


PDATA = "send_pdata"
FORBIDDEN = [
    *((State.STA1, p) for p in (A_RELEASE_RQ(), A_RELEASE_RP(), A_ABORT(0, 0), AC, X, PDATA)),
    *((State.STA2, p) for p in (AC, A_ABORT(0, 0), PDATA)),
    *((State.STA3, p) for p in (A_RELEASE_RQ(), X, PDATA)),
    *((State.STA5, p) for p in (AC, A_RELEASE_RQ(), RQ, PDATA)),
    *((State.STA6, p) for p in (RQ, A_RELEASE_RP(), A_ASSOCIATE_RJ(1, 1, 1))),
    *((State.STA7, p) for p in (X, PDATA, A_RELEASE_RQ())),
    *((State.STA9, p) for p in (X, PDATA)),
    *((State.STA10, p) for p in (A_RELEASE_RP(), PDATA)),
    *((State.STA11, p) for p in (A_RELEASE_RP(), X)),
]


@pytest.mark.parametrize(("state", "primitive"), FORBIDDEN, ids=ident)
def test_primitive_in_forbidden_state_raises(state: State, primitive: PDU | str) -> None:
    conn = bring_to(state)
    wire(conn)
    with pytest.raises(StateError):
        if isinstance(primitive, str):
            conn.send_pdata(1, True, True, b"x")
        else:
            conn.send(primitive)
    assert conn.state is state and wire(conn) == b"" and drain(conn) == []
    # A refused primitive must not colour the next event either (Evt17: AA-4/AA-5).
    conn.transport_closed(T0 + 1)
    assert plain(drain(conn))[-1:] in ([], [AbortIndication(2, 0, True, True)])


# --------------------------------------------------------------------------- timers


def test_artim_in_sta2() -> None:
    conn = Connection(Role.ACCEPTOR, CONFIG)
    conn.transport_connected(T0)
    deadline = conn.get_timer()
    assert deadline == T0 + ARTIM
    conn.handle_timer(deadline - 1)
    assert conn.state is State.STA2 and not conn.wants_close
    conn.handle_timer(deadline)  # Evt18 -> AA-2
    assert conn.wants_close and drain(conn) == [] and wire(conn) == b""
    assert_closed(conn)


@pytest.mark.parametrize("state", [State.STA5, State.STA7])
def test_acse_timeout(state: State) -> None:
    conn = bring_to(state)  # the requestor, awaiting A-ASSOCIATE-AC/RJ or A-RELEASE-RP
    deadline = conn.get_timer()
    assert deadline == T0 + ACSE
    wire(conn)
    conn.handle_timer(deadline - 0.5)
    assert conn.state is state
    conn.handle_timer(deadline)  # a local abort: the user is told, the peer gets A-ABORT
    assert plain(drain(conn)) == [AbortIndication(2, 0, True, True)]
    assert decode_all(wire(conn)) == [A_ABORT(2, 0)]
    assert conn.state is State.STA13 and conn.get_timer() == deadline + ARTIM
    conn.handle_timer(deadline + ARTIM)
    assert conn.wants_close
    assert_closed(conn)


def test_network_idle_timeout_when_established() -> None:
    config = ConnectionConfig(artim_timeout=ARTIM, acse_timeout=None, network_timeout=IDLE)
    pair = Pair(config).establish()
    assert pair.ac.get_timer() == T0 + IDLE
    pair.rq.send_pdata(1, True, True, b"x")
    pair.now = T0 + 3
    pair.deliver(pair.rq, pair.ac)  # receiving restarts the idle timer
    assert pair.ac.get_timer() == T0 + 3 + IDLE
    pair.ac.handle_timer(T0 + IDLE)
    assert pair.ac.state is State.STA6
    pair.ac.handle_timer(T0 + 3 + IDLE)
    assert plain(drain(pair.ac)) == [AbortIndication(2, 0, True, True)]
    assert decode_all(wire(pair.ac)) == [A_ABORT(2, 0)]
    assert pair.ac.state is State.STA13
    assert pair.ac.get_timer() == T0 + 3 + IDLE + ARTIM


@pytest.mark.parametrize("state", [State.STA2, State.STA13])
def test_network_idle_timeout_without_association_closes(state: State) -> None:
    conn = bring_to(state, ConnectionConfig(artim_timeout=ARTIM, network_timeout=IDLE))
    assert conn.get_timer() == T0 + IDLE
    conn.handle_timer(T0 + IDLE)  # nobody to tell, no A-ABORT to send: just close
    assert conn.wants_close and drain(conn) == [] and wire(conn) == b""
    assert_closed(conn)
    conn.handle_timer(T0 + ARTIM)  # the old ARTIM deadline must not fire in Sta1
    assert_closed(conn)


def test_disabled_timeouts() -> None:
    config = ConnectionConfig(artim_timeout=None, acse_timeout=None, network_timeout=None)
    for state in (State.STA2, State.STA5, State.STA7, State.STA13):
        conn = bring_to(state, config)
        assert conn.get_timer() is None
        conn.handle_timer(T0 + 1e9)
        assert conn.state is state


# --------------------------------------------------------------------------- chunking


def life_cycle(split: Callable[[bytes], list[bytes]]) -> list[list[UpperEvent]]:
    """Associate, exchange several PDUs per direction, release; events per step."""
    pair = Pair(split=split)
    steps = [pair.connect()]
    pair.ac.send(AC)
    pair.ac.send_pdata(1, True, False, b"c" * 40)
    pair.ac.send(pdata((1, True, True, b"d"), (1, False, True, b"e" * 20)))
    steps.append(pair.deliver(pair.ac, pair.rq))
    pair.rq.send_pdata(1, False, True, b"f" * 33)
    pair.rq.send(A_RELEASE_RQ())
    steps.append(pair.deliver(pair.rq, pair.ac))
    pair.ac.send(A_RELEASE_RP())
    steps.append(pair.deliver(pair.ac, pair.rq))
    assert pair.rq.wants_close and pair.ac.state is State.STA13
    return steps


def splitter(data: st.DataObject) -> Callable[[bytes], list[bytes]]:
    def split(stream: bytes) -> list[bytes]:
        cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12).map(sorted))
        bounds = [0, *cuts, len(stream)]
        return [stream[a:b] for a, b in itertools.pairwise(bounds)]

    return split


CHUNKING = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CHUNKING
@given(st.data())
def test_any_chunking_gives_the_same_indications(data: st.DataObject) -> None:
    assert life_cycle(splitter(data)) == life_cycle(whole)


def test_byte_at_a_time() -> None:
    def bytewise(stream: bytes) -> list[bytes]:
        return [stream[i : i + 1] for i in range(len(stream))]

    assert life_cycle(bytewise) == life_cycle(whole)


TAILS = [b"", encode_pdu(A_RELEASE_RQ()), encode_pdu(A_ABORT(0, 0)), *(
    bad + encode_pdu(A_RELEASE_RQ()) + bad for bad, _ in MALFORMED.values()
)]  # fmt: skip


def feed_established(chunks: list[bytes]) -> tuple[list[UpperEvent], bytes, State]:
    pair = Pair().establish()
    for chunk in chunks:
        pair.ac.receive_data(chunk, T0)
    return plain(drain(pair.ac)), wire(pair.ac), pair.ac.state


@CHUNKING
@given(
    st.lists(st.binary(max_size=30), max_size=4),
    st.sampled_from(range(len(TAILS))),
    st.data(),
)
def test_chunking_with_malformed_tails(
    payloads: list[bytes], tail: int, data: st.DataObject
) -> None:
    stream = b"".join(encode_pdu(pdata((3, False, True, p))) for p in payloads) + TAILS[tail]
    assert feed_established(splitter(data)(stream)) == feed_established([stream])
