"""The Upper Layer protocol machine without I/O (PS3.8 section 9.2).

A :class:`Connection` is fed transport events and received bytes, and is
asked to send primitives. It answers with upper-layer indications
(:meth:`next_event`), bytes to write (:meth:`data_to_send`), whether the
transport must be closed (:attr:`wants_close`) and the next deadline to wake
it at (:meth:`get_timer`). Every decision is taken from the state table in
:mod:`dicomwire._core.states`; the actions of Tables 9-6 to 9-9 are carried
out generically from :data:`dicomwire._core.states.ACTIONS`.

Deadlines handled here: ARTIM (PS3.8 9.1.5), the ACSE timeout (waiting for
A-ASSOCIATE-AC/RJ or A-RELEASE-RP) and the network idle timeout. They are
plain numbers on the caller's monotonic clock, so the machine is testable
without sockets or sleeping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .errors import AbortReason, AbortSource, PDUError, StateError
from .pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    P_DATA_TF,
    PDU,
    PDUReader,
    PDVEntry,
    PresentationDataValue,
    encode_pdu,
    pdata_header,
)
from .states import ACTIONS, Action, Event, State, Transition, step


class Role(Enum):
    """Which side of the association this machine plays (PS3.8 7.1)."""

    REQUESTOR = "requestor"
    ACCEPTOR = "acceptor"


@dataclass(frozen=True)
class ConnectionConfig:
    """Limits and timeouts of one connection; ``None`` disables a timeout.

    ``max_pdu_length`` is our Maximum Length Received (PS3.8 D.1): the
    largest P-DATA-TF variable field we accept. 0 means no limit was
    negotiated; the PDU reader still applies its own hard cap.
    """

    max_pdu_length: int = 16382
    max_associate_length: int = 1 << 20
    artim_timeout: float | None = 30.0
    acse_timeout: float | None = 30.0
    network_timeout: float | None = None


# -- indications handed to the user of the machine -------------------------


@dataclass(frozen=True)
class AssociateIndication:
    """A-ASSOCIATE indication: a peer asks to associate (acceptor side)."""

    request: A_ASSOCIATE_RQ


@dataclass(frozen=True)
class AssociateAccepted:
    """A-ASSOCIATE confirmation (accept): the peer accepted (requestor side)."""

    response: A_ASSOCIATE_AC


@dataclass(frozen=True)
class AssociateRejected:
    """A-ASSOCIATE confirmation (reject): the peer rejected (requestor side)."""

    response: A_ASSOCIATE_RJ


@dataclass(frozen=True)
class DataIndication:
    """P-DATA indication: one received P-DATA-TF PDU."""

    pdu: P_DATA_TF


@dataclass(frozen=True, slots=True)
class PDataBatch:
    """P-DATA indications of consecutive P-DATA-TF PDUs, as their PDVs in order.

    Given instead of one :class:`DataIndication` per PDU when the driver sets
    :attr:`Connection.batch_data` (DT-2 in Sta6, PS3.8 9.2 and 9.3.5): each
    entry is a :data:`~dicomwire._core.pdu.PDVEntry` whose data is a view of
    the receive buffer, to be consumed before the next ``receive_buffer()``.
    """

    pdvs: list[PDVEntry]


@dataclass(frozen=True)
class ReleaseIndication:
    """A-RELEASE indication: the peer asks to release."""


@dataclass(frozen=True)
class ReleaseConfirmed:
    """A-RELEASE confirmation: the peer answered our release request."""


@dataclass(frozen=True)
class AbortIndication:
    """A-ABORT or A-P-ABORT indication.

    ``provider`` is true for an A-P-ABORT (the upper layer itself gave up:
    a malformed PDU, a timeout, a lost transport); ``local`` is true when the
    abort was decided on this side rather than received from the peer.
    """

    source: int
    reason: int
    provider: bool
    local: bool
    description: str = ""


UpperEvent = (
    AssociateIndication
    | AssociateAccepted
    | AssociateRejected
    | DataIndication
    | PDataBatch
    | ReleaseIndication
    | ReleaseConfirmed
    | AbortIndication
)

# The PDU type received decides the state machine event (PS3.8 Table 9-10).
_RECEIVE_EVENT: dict[type, Event] = {
    A_ASSOCIATE_AC: Event.EVT3,
    A_ASSOCIATE_RJ: Event.EVT4,
    A_ASSOCIATE_RQ: Event.EVT6,
    P_DATA_TF: Event.EVT10,
    A_RELEASE_RQ: Event.EVT12,
    A_RELEASE_RP: Event.EVT13,
    A_ABORT: Event.EVT16,
}

# Primitives the user may issue, by the PDU they carry.
_SEND_EVENT: dict[type, Event] = {
    A_ASSOCIATE_RQ: Event.EVT1,
    A_ASSOCIATE_AC: Event.EVT7,
    A_ASSOCIATE_RJ: Event.EVT8,
    P_DATA_TF: Event.EVT9,
    A_RELEASE_RQ: Event.EVT11,
    A_RELEASE_RP: Event.EVT14,
    A_ABORT: Event.EVT15,
}

# States where we wait for the peer's A-ASSOCIATE-AC/RJ or A-RELEASE-RP: the
# ACSE timeout runs (Sta10 and Sta11 are the release-collision waits).
_AWAITING_PEER_ANSWER = frozenset({State.STA5, State.STA7, State.STA10, State.STA11})

# The P-DATA fast path in receive_data() relies on this cell of Table 9-10.
assert step(State.STA6, Event.EVT10) == Transition(Action.DT_2, State.STA6)
assert ACTIONS[Action.DT_2].indicates == "P-DATA-indication" and not ACTIONS[Action.DT_2].sends

Buffer = bytes | bytearray | memoryview


class Connection:
    """One association's Upper Layer state machine, sans I/O (PS3.8 9.2)."""

    def __init__(self, role: Role, config: ConnectionConfig | None = None) -> None:
        self.role = role
        self.config = config or ConnectionConfig()
        self.state = State.STA1
        self._previous_state = State.STA1
        self.reader = PDUReader(self.config.max_pdu_length, self.config.max_associate_length)
        self._events: deque[UpperEvent] = deque()
        self._out: list[Buffer] = []
        self._artim: float | None = None
        self._acse: float | None = None
        self._idle: float | None = None
        self._now = 0.0
        self.wants_close = False
        self.wants_connect = False
        # When a list, every PDU received ("recv") or sent ("sent") is logged
        # here for the driver's EVT_PDU_* notifications; off, it costs nothing.
        self.pdu_log: list[tuple[str, PDU]] | None = None
        # Set by a driver that takes PDataBatch events: P-DATA-TF PDUs read by
        # received() in Sta6 then come as one event per read, not one per PDU
        # (the PDU log, when on, still gets every PDU, through the slow path).
        self.batch_data = False
        # The PDU that the current event carries (received or to be sent).
        self._pdu: PDU | None = None
        self._error: PDUError | None = None
        # The A-ASSOCIATE-RQ given with EVT1, sent once the transport is up (AE-2).
        self._request: A_ASSOCIATE_RQ | None = None
        self._abort_description = ""

    # -- inputs from the driver -------------------------------------------

    def transport_connected(self, now: float) -> None:
        """Transport connect confirmation (requestor) or indication (acceptor)."""
        self._now = now
        self._touch()
        event = Event.EVT2 if self.role is Role.REQUESTOR else Event.EVT5
        self._fire(event)

    def transport_closed(self, now: float) -> None:
        """The transport connection closed under us (EVT17)."""
        self._now = now
        if self.state is not State.STA1:
            self._abort_description = "the peer closed the connection"
            self._fire(Event.EVT17)

    def receive_data(self, data: Buffer, now: float) -> None:
        """Feed received bytes; decoded PDUs drive the machine in order.

        The bytes are copied, and the events keep no reference to ``data``.
        """
        self._now = now
        if self._error is not None:
            # The stream lost its framing at the invalid PDU, which AA-1/AA-7/
            # AA-8 already answered: nothing after it can be read as a PDU.
            return
        self.reader.feed(data)
        self._read_pdus(zero_copy=False)

    def receive_buffer(self) -> memoryview:
        """A writable buffer for the driver to ``recv_into`` (then :meth:`received`).

        Receiving into the reader's own buffer spares a copy of every P-DATA
        payload. The PDV data of the :class:`DataIndication` events that
        :meth:`received` queues are views of this buffer, so the driver must
        take those events before it asks for the buffer again.
        """
        return self.reader.get_buffer()

    def received(self, count: int, now: float) -> None:
        """``count`` bytes were written into the last :meth:`receive_buffer`."""
        self._now = now
        if self._error is not None:
            return  # as in receive_data(): the stream has no framing left
        self.reader.buffer_updated(count)
        self._read_pdus(zero_copy=True)

    def _read_pdus(self, zero_copy: bool) -> None:
        next_pdu = self.reader.next_pdu
        events = self._events
        # Batches hold views of the reader's buffer, so only zero-copy reads
        # (which promise nothing more) may give them.
        batch = zero_copy and self.batch_data and self.pdu_log is None
        while self.state is not State.STA1:
            try:
                if batch and self.state is State.STA6 and self._read_pdata_batch():
                    return  # the rest of a P-DATA-TF is still to come
                pdu = next_pdu(zero_copy)
            except PDUError as exc:
                self._error = exc
                self._abort_description = str(exc)
                self._fire(Event.EVT19)
                return
            if pdu is None:
                return
            # Only a whole PDU counts as activity: a peer trickling one byte
            # at a time must not hold the association open for ever.
            self._touch()
            if self.pdu_log is not None:
                self.pdu_log.append(("recv", _owned(pdu) if zero_copy else pdu))
            if self.state is State.STA6 and type(pdu) is P_DATA_TF:
                # The hot path, taken from the table once at import (DT-2:
                # P-DATA indication, stay in Sta6) instead of per PDU.
                events.append(DataIndication(pdu))
                continue
            self._pdu = pdu
            self._fire(_RECEIVE_EVENT[type(pdu)])

    def _read_pdata_batch(self) -> bool:
        """DT-2 for every whole P-DATA-TF buffered, as one :class:`PDataBatch`.

        Also when a malformed PDU interrupts the run: the PDUs before it are
        indicated before the abort, as one by one they would be. Returns
        :meth:`PDUReader.read_pdata`'s answer: True if nothing more is whole.
        """
        pdvs: list[PDVEntry] = []
        try:
            return self.reader.read_pdata(pdvs)
        finally:
            if pdvs:
                self._touch()
                self._events.append(PDataBatch(pdvs))

    def handle_timer(self, now: float) -> None:
        """Act on every deadline that has passed by ``now``."""
        self._now = now
        if self._artim is not None and now >= self._artim:
            self._artim = None
            self._abort_description = "ARTIM timer expired"
            self._fire(Event.EVT18)
            return
        expired = self._expired_timeout(now)
        if expired:
            self._local_abort(expired)

    def _expired_timeout(self, now: float) -> str:
        if self._acse is not None and now >= self._acse:
            self._acse = None
            return "no answer from the peer within the ACSE timeout"
        if self._idle is not None and now >= self._idle:
            self._idle = None
            return "no data from the peer within the network timeout"
        return ""

    def _local_abort(self, why: str) -> None:
        """Abort on our own initiative (a timeout): A-ABORT with provider source."""
        self._abort_description = why
        if self.state in (State.STA1, State.STA2, State.STA13):
            # No association (yet or any more), so nobody to tell and no
            # A-ABORT primitive allowed (Evt15 is blank there): close as AA-2
            # does, and leave no timer running in Sta1.
            self.wants_close = True
            self.state = State.STA1
            self._artim = self._acse = self._idle = None
            return
        self._events.append(
            AbortIndication(
                AbortSource.SERVICE_PROVIDER, AbortReason.NOT_SPECIFIED, True, True, why
            )
        )
        self.send(A_ABORT(AbortSource.SERVICE_PROVIDER, AbortReason.NOT_SPECIFIED))

    # -- primitives from the user -----------------------------------------

    def send(self, pdu: PDU, now: float | None = None) -> None:
        """Issue the request/response primitive that ``pdu`` carries.

        ``now`` dates the timers the primitive may start (ARTIM, ACSE); by
        default the time of the last input. Raises :class:`StateError` when
        Table 9-10 has no transition for it in the current state (for
        example P-DATA before association).
        """
        if now is not None:
            self._now = now
        self._pdu = pdu
        self._fire(_SEND_EVENT[type(pdu)])

    def send_pdata(self, context_id: int, is_command: bool, is_last: bool, data: Buffer) -> None:
        """Send one single-PDV P-DATA-TF without copying ``data`` (DT-1/AR-7)."""
        if self.state not in (State.STA6, State.STA8):
            raise StateError(f"P-DATA request in {self.state.name}")
        self._out.append(pdata_header(context_id, is_command, is_last, len(data)))
        self._out.append(data)
        if self.pdu_log is not None:
            pdv = PresentationDataValue(context_id, is_command, is_last, bytes(data))
            self.pdu_log.append(("sent", P_DATA_TF((pdv,))))

    def next_event(self) -> UpperEvent | None:
        """The next indication for the user, or ``None``."""
        return self._events.popleft() if self._events else None

    def data_to_send(self) -> list[Buffer]:
        """Take the buffers to write, in order."""
        out, self._out = self._out, []
        return out

    @property
    def has_data_to_send(self) -> bool:
        """True when :meth:`data_to_send` would return something."""
        return bool(self._out)

    def get_timer(self) -> float | None:
        """The earliest deadline at which :meth:`handle_timer` must be called."""
        artim, acse, idle = self._artim, self._acse, self._idle
        if artim is None and acse is None:
            return idle  # the usual case once established: only the idle timer
        deadlines = [d for d in (artim, acse, idle) if d is not None]
        return min(deadlines) if deadlines else None

    @property
    def is_established(self) -> bool:
        """True in Sta6 (association established, ready for data transfer)."""
        return self.state is State.STA6

    # -- the machine --------------------------------------------------------

    def _touch(self) -> None:
        timeout = self.config.network_timeout
        self._idle = None if timeout is None else self._now + timeout

    def _fire(self, event: Event) -> None:
        try:
            acceptable = True
            if event is Event.EVT6:
                acceptable = self._provider_accepts()
            transition = step(
                self.state, event, acceptable=acceptable, is_requestor=self.role is Role.REQUESTOR
            )
            self._previous_state = self.state
            self.state = transition.next_state
            self._perform(transition.action, acceptable)
        finally:
            # Also after a StateError: a refused primitive must not be taken
            # for the PDU of a later event (its abort reason, its description).
            self._pdu = None

    def _provider_accepts(self) -> bool:
        """AE-6: whether the upper layer itself can accept the A-ASSOCIATE-RQ.

        The provider only checks what it understands on its own: the protocol
        version (bit 0 must be set, PS3.8 9.3.2). Everything else is the
        service user's decision.
        """
        pdu = self._pdu
        return isinstance(pdu, A_ASSOCIATE_RQ) and bool(pdu.protocol_version & 1)

    def _perform(self, action: Action, acceptable: bool) -> None:
        spec = ACTIONS[action]
        if action is Action.AE_6 and not acceptable:
            # Provider rejection: permanent, source 2 (ACSE related), reason 2
            # (protocol version not supported) - PS3.8 Table 9-21.
            self._queue(A_ASSOCIATE_RJ(1, 2, 2))
            self._start_artim()
            return
        if action is Action.AE_1 and isinstance(self._pdu, A_ASSOCIATE_RQ):
            self._request = self._pdu  # sent by AE-2 once the transport is up
        if spec.sends is not None:
            self._send_pdu(action)
        if spec.indicates is not None:
            self._indicate(action)
        self._update_timers(action, spec.artim)
        if spec.connects_transport:
            self.wants_connect = True
        if spec.closes_transport:
            self.wants_close = True

    def _send_pdu(self, action: Action) -> None:
        spec = ACTIONS[action]
        pdu = self._pdu
        if spec.sends == "A-ABORT" and not isinstance(pdu, A_ABORT):
            # An abort the user did not ask for: the source is the one the
            # action names (AA-1 service-user, AA-7/AA-8 provider, PS3.8 9.2.2);
            # the reason is only significant for the provider (Table 9-26).
            source = AbortSource.SERVICE_USER if spec.abort_source is None else spec.abort_source
            reason = self._provider_reason() if source == AbortSource.SERVICE_PROVIDER else 0
            pdu = A_ABORT(source, reason)
        elif action is Action.AE_2:
            pdu = self._request
        if pdu is not None:
            self._queue(pdu)

    def _provider_reason(self) -> int:
        """Why the provider aborts: the decoding error, else an unexpected PDU."""
        if self._error is not None:
            return self._error.reason
        if self._pdu is None:
            return AbortReason.NOT_SPECIFIED
        return AbortReason.UNEXPECTED_PDU

    def _queue(self, pdu: PDU) -> None:
        self._out.append(encode_pdu(pdu))
        if self.pdu_log is not None:
            self.pdu_log.append(("sent", pdu))

    def _indicate(self, action: Action) -> None:
        pdu = self._pdu
        spec = ACTIONS[action]
        what = spec.indicates
        if what == "A-ASSOCIATE-indication" and isinstance(pdu, A_ASSOCIATE_RQ):
            self._events.append(AssociateIndication(pdu))
        elif what == "A-ASSOCIATE-confirm-accept" and isinstance(pdu, A_ASSOCIATE_AC):
            self._events.append(AssociateAccepted(pdu))
        elif what == "A-ASSOCIATE-confirm-reject" and isinstance(pdu, A_ASSOCIATE_RJ):
            self._events.append(AssociateRejected(pdu))
        elif what == "P-DATA-indication" and isinstance(pdu, P_DATA_TF):
            self._events.append(DataIndication(pdu))
        elif what == "A-RELEASE-indication":
            self._events.append(ReleaseIndication())
        elif what == "A-RELEASE-confirm":
            self._events.append(ReleaseConfirmed())
        elif what in ("A-ABORT-indication", "A-P-ABORT-indication"):
            self._events.append(self._abort_indication(pdu))

    def _abort_indication(self, pdu: PDU | None) -> AbortIndication:
        if isinstance(pdu, A_ABORT):
            # AA-3: A-ABORT indication for a service-user initiated abort,
            # "otherwise" A-P-ABORT (so also for the reserved source 1).
            provider = pdu.source != AbortSource.SERVICE_USER
            text = self._abort_description or "the peer aborted the association"
            return AbortIndication(pdu.source, pdu.reason, provider, False, text)
        text = self._abort_description or "unexpected PDU"
        if isinstance(pdu, (A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ, P_DATA_TF)):
            text = f"unexpected {type(pdu).__name__} in {self._previous_state.name}"
        return AbortIndication(
            AbortSource.SERVICE_PROVIDER, self._provider_reason(), True, True, text
        )

    def _update_timers(self, action: Action, artim: str | None) -> None:
        if artim in ("start", "restart"):
            self._start_artim()
        elif artim == "stop":
            self._artim = None
        # The ACSE timeout runs while we wait for the peer's answer to our
        # A-ASSOCIATE-RQ or A-RELEASE-RQ.
        if self.state in _AWAITING_PEER_ANSWER:
            if self._acse is None and self.config.acse_timeout is not None:
                self._acse = self._now + self.config.acse_timeout
        else:
            self._acse = None
        if self.state is State.STA1:
            self._artim = self._idle = None

    def _start_artim(self) -> None:
        timeout = self.config.artim_timeout
        self._artim = None if timeout is None else self._now + timeout


def _owned(pdu: PDU) -> PDU:
    """``pdu`` with its PDV data copied out of the receive buffer (for the PDU log)."""
    if type(pdu) is not P_DATA_TF:
        return pdu
    return P_DATA_TF(
        tuple(
            PresentationDataValue(v.context_id, v.is_command, v.is_last, bytes(v.data))
            for v in pdu.pdvs
        )
    )


def pdvs_of(events: Sequence[UpperEvent]) -> list[P_DATA_TF]:
    """The P-DATA-TF PDUs among ``events`` (a convenience for tests)."""
    return [e.pdu for e in events if isinstance(e, DataIndication)]
