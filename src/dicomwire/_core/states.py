"""The DICOM Upper Layer state machine (PS3.8 section 9.2) as data.

States are PS3.8 Tables 9-1..9-5, actions Tables 9-6..9-9, and the
transition table is Table 9-10 (section 9.2.3), transcribed cell by cell.
Nothing here does I/O: :func:`step` maps ``(state, event)`` to the action
the standard prescribes and the state that follows, and :data:`ACTIONS`
says what each action does, so that the connection can carry it out.

What the actions do (PS3.8 Tables 9-6..9-9), as recorded in :data:`ACTIONS`:

* Send an A-ABORT PDU: AA-1 (source 0, service-user), AA-7 and AA-8
  (source 2, service-provider; see the note on AA-7 below).
* Start ARTIM: AE-5, AE-8, AR-4, AA-8, and AE-6 when the A-ASSOCIATE-RQ is
  not acceptable. AA-1 starts it, or restarts it if already running.
* Stop ARTIM: AE-6 (acceptable case), AR-5, AA-2 ("if running"), AA-5.
* Close the transport connection: AE-4, AR-3, AA-2, AA-3. AA-4, AA-5 and
  AR-5 are only triggered by Evt17 (the peer closed the connection), so
  there is nothing left to close: the driver just releases its resources.
* Open the transport connection: AE-1 only.

As a consequence, ARTIM runs exactly in Sta2 and Sta13, and every action
that leads to Sta1 from a connected state either closes the transport or
follows its closure by the peer; the tests check both invariants.

Interpretations, where the standard leaves room:

* AA-1 says "service-user source" whatever triggered it. It is also the
  action for an unexpected or invalid PDU in Sta2 (Evt3/4/10/12/13/19),
  where no user exists yet; we keep the source the table gives (0), whose
  reason field is then "not significant" (PS3.8 Table 9-26) and sent as 0.
* AA-7 says only "Send A-ABORT PDU". It answers an A-ASSOCIATE-RQ or an
  invalid PDU received in Sta13, a protocol event detected by the
  provider, so we use source 2 (service-provider), like AA-8.
* AA-3 issues an A-ABORT indication when the received A-ABORT PDU has a
  service-user source (0) and an A-P-ABORT indication when it has a
  service-provider source (2); :data:`ACTIONS` records the former and
  :func:`abort_indication` picks the right one for a received source.
* AE-6 and AR-8 have two possible next states; :func:`step` chooses with
  its ``acceptable`` and ``is_requestor`` arguments, and :data:`NEXT_STATE`
  holds the defaults (Sta3 and Sta9). The unacceptable branch of AE-6 is
  described by :data:`AE_6_REJECT_SPEC`; :func:`spec_for` returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from dicomwire._core.errors import StateError

__all__ = [
    "ACTIONS",
    "AE_6_REJECT_SPEC",
    "NEXT_STATE",
    "PDU_TYPE_EVENTS",
    "TABLE",
    "Action",
    "ActionSpec",
    "Event",
    "State",
    "Transition",
    "abort_indication",
    "spec_for",
    "step",
]


class _FastEnum(Enum):
    """An Enum hashed by identity.

    Enum's own ``__hash__`` is a Python function (it hashes the member's
    name), and the state machine looks members up in dicts on every PDU.
    Members are singletons compared by identity, so identity hashing gives
    the same dict behaviour from C.
    """

    __hash__ = object.__hash__


class State(_FastEnum):
    """Upper Layer states, PS3.8 section 9.2.1 (Tables 9-1..9-5).

    ======  ==============================================================
    STA1    Idle (no association)
    STA2    Transport connection open, awaiting A-ASSOCIATE-RQ PDU
    STA3    Awaiting local A-ASSOCIATE response primitive (from local user)
    STA4    Awaiting transport connection opening to complete
    STA5    Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU
    STA6    Association established and ready for data transfer
    STA7    Awaiting A-RELEASE-RP PDU
    STA8    Awaiting local A-RELEASE response primitive (from local user)
    STA9    Release collision requestor side; awaiting A-RELEASE response
    STA10   Release collision acceptor side; awaiting A-RELEASE-RP PDU
    STA11   Release collision requestor side; awaiting A-RELEASE-RP PDU
    STA12   Release collision acceptor side; awaiting A-RELEASE response
    STA13   Awaiting transport connection close (association no longer exists)
    ======  ==============================================================
    """

    STA1 = 1
    STA2 = 2
    STA3 = 3
    STA4 = 4
    STA5 = 5
    STA6 = 6
    STA7 = 7
    STA8 = 8
    STA9 = 9
    STA10 = 10
    STA11 = 11
    STA12 = 12
    STA13 = 13

    @property
    def meaning(self) -> str:
        """The definition PS3.8 Tables 9-1..9-5 give for this state."""
        return _STATE_MEANINGS[self]


_STATE_MEANINGS: Mapping[State, str] = MappingProxyType(
    {
        State.STA1: "Idle",
        State.STA2: "Transport connection open (awaiting A-ASSOCIATE-RQ PDU)",
        State.STA3: "Awaiting local A-ASSOCIATE response primitive (from local user)",
        State.STA4: "Awaiting transport connection opening to complete",
        State.STA5: "Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU",
        State.STA6: "Association established and ready for data transfer",
        State.STA7: "Awaiting A-RELEASE-RP PDU",
        State.STA8: "Awaiting local A-RELEASE response primitive (from local user)",
        State.STA9: "Release collision requestor side; awaiting A-RELEASE response",
        State.STA10: "Release collision acceptor side; awaiting A-RELEASE-RP PDU",
        State.STA11: "Release collision requestor side; awaiting A-RELEASE-RP PDU",
        State.STA12: "Release collision acceptor side; awaiting A-RELEASE response",
        State.STA13: "Awaiting transport connection close indication",
    }
)


class Event(_FastEnum):
    """Upper Layer events, the rows of PS3.8 Table 9-10.

    ======  ==============================================================
    EVT1    A-ASSOCIATE request (local user)
    EVT2    Transport connect confirmation (local transport service)
    EVT3    A-ASSOCIATE-AC PDU received
    EVT4    A-ASSOCIATE-RJ PDU received
    EVT5    Transport connection indication (local transport service)
    EVT6    A-ASSOCIATE-RQ PDU received
    EVT7    A-ASSOCIATE response primitive (accept)
    EVT8    A-ASSOCIATE response primitive (reject)
    EVT9    P-DATA request primitive
    EVT10   P-DATA-TF PDU received
    EVT11   A-RELEASE request primitive
    EVT12   A-RELEASE-RQ PDU received
    EVT13   A-RELEASE-RP PDU received
    EVT14   A-RELEASE response primitive
    EVT15   A-ABORT request primitive
    EVT16   A-ABORT PDU received
    EVT17   Transport connection closed indication
    EVT18   ARTIM timer expired
    EVT19   Unrecognized or invalid PDU received
    ======  ==============================================================
    """

    EVT1 = 1
    EVT2 = 2
    EVT3 = 3
    EVT4 = 4
    EVT5 = 5
    EVT6 = 6
    EVT7 = 7
    EVT8 = 8
    EVT9 = 9
    EVT10 = 10
    EVT11 = 11
    EVT12 = 12
    EVT13 = 13
    EVT14 = 14
    EVT15 = 15
    EVT16 = 16
    EVT17 = 17
    EVT18 = 18
    EVT19 = 19


class Action(_FastEnum):
    """State machine actions, PS3.8 Tables 9-6 (AE), 9-7 (DT), 9-8 (AR), 9-9 (AA).

    Values are the standard's own names, e.g. ``Action.AE_1.value == "AE-1"``.
    """

    AE_1 = "AE-1"
    AE_2 = "AE-2"
    AE_3 = "AE-3"
    AE_4 = "AE-4"
    AE_5 = "AE-5"
    AE_6 = "AE-6"
    AE_7 = "AE-7"
    AE_8 = "AE-8"
    DT_1 = "DT-1"
    DT_2 = "DT-2"
    AR_1 = "AR-1"
    AR_2 = "AR-2"
    AR_3 = "AR-3"
    AR_4 = "AR-4"
    AR_5 = "AR-5"
    AR_6 = "AR-6"
    AR_7 = "AR-7"
    AR_8 = "AR-8"
    AR_9 = "AR-9"
    AR_10 = "AR-10"
    AA_1 = "AA-1"
    AA_2 = "AA-2"
    AA_3 = "AA-3"
    AA_4 = "AA-4"
    AA_5 = "AA-5"
    AA_6 = "AA-6"
    AA_7 = "AA-7"
    AA_8 = "AA-8"


def _row(**cells: Action) -> dict[State, Action]:
    """One row of Table 9-10, written as ``STA2=Action.AA_1, ...``."""
    return {State[name]: action for name, action in cells.items()}


def _same(action: Action, *states: int) -> dict[str, Action]:
    """The same action in several columns, for the long AA-8 runs."""
    return {f"STA{number}": action for number in states}


_A = Action
# fmt: off
# Table 9-10, one entry per event row; absent columns are the blank cells.
# Sta6..Sta12 share most of their cells, hence the _same() runs.
_ROWS: dict[Event, dict[State, Action]] = {
    Event.EVT1: _row(STA1=_A.AE_1),
    Event.EVT2: _row(STA4=_A.AE_2),
    Event.EVT3: _row(
        STA2=_A.AA_1, STA3=_A.AA_8, STA5=_A.AE_3, STA13=_A.AA_6,
        **_same(_A.AA_8, 6, 7, 8, 9, 10, 11, 12),
    ),
    Event.EVT4: _row(
        STA2=_A.AA_1, STA3=_A.AA_8, STA5=_A.AE_4, STA13=_A.AA_6,
        **_same(_A.AA_8, 6, 7, 8, 9, 10, 11, 12),
    ),
    Event.EVT5: _row(STA1=_A.AE_5),
    Event.EVT6: _row(
        STA2=_A.AE_6, STA13=_A.AA_7, **_same(_A.AA_8, 3, 5, 6, 7, 8, 9, 10, 11, 12)
    ),
    Event.EVT7: _row(STA3=_A.AE_7),
    Event.EVT8: _row(STA3=_A.AE_8),
    Event.EVT9: _row(STA6=_A.DT_1, STA8=_A.AR_7),
    Event.EVT10: _row(
        STA2=_A.AA_1, STA6=_A.DT_2, STA7=_A.AR_6, STA13=_A.AA_6,
        **_same(_A.AA_8, 3, 5, 8, 9, 10, 11, 12),
    ),
    Event.EVT11: _row(STA6=_A.AR_1),
    Event.EVT12: _row(
        STA2=_A.AA_1, STA6=_A.AR_2, STA7=_A.AR_8, STA13=_A.AA_6,
        **_same(_A.AA_8, 3, 5, 8, 9, 10, 11, 12),
    ),
    Event.EVT13: _row(
        STA2=_A.AA_1, STA7=_A.AR_3, STA10=_A.AR_10, STA11=_A.AR_3, STA13=_A.AA_6,
        **_same(_A.AA_8, 3, 5, 6, 8, 9, 12),
    ),
    Event.EVT14: _row(STA8=_A.AR_4, STA9=_A.AR_9, STA12=_A.AR_4),
    Event.EVT15: _row(STA4=_A.AA_2, **_same(_A.AA_1, 3, 5, 6, 7, 8, 9, 10, 11, 12)),
    Event.EVT16: _row(
        STA2=_A.AA_2, STA13=_A.AA_2, **_same(_A.AA_3, 3, 5, 6, 7, 8, 9, 10, 11, 12)
    ),
    Event.EVT17: _row(
        STA2=_A.AA_5, STA13=_A.AR_5, **_same(_A.AA_4, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
    ),
    Event.EVT18: _row(STA2=_A.AA_2, STA13=_A.AA_2),
    Event.EVT19: _row(
        STA2=_A.AA_1, STA13=_A.AA_7, **_same(_A.AA_8, 3, 5, 6, 7, 8, 9, 10, 11, 12)
    ),
}
# fmt: on

TABLE: Mapping[tuple[State, Event], Action] = MappingProxyType(
    {(state, event): action for event, row in _ROWS.items() for state, action in row.items()}
)
"""Every non-blank cell of PS3.8 Table 9-10, keyed by ``(state, event)``."""

NEXT_STATE: Mapping[Action, State] = MappingProxyType(
    {
        # Table 9-6
        Action.AE_1: State.STA4,
        Action.AE_2: State.STA5,
        Action.AE_3: State.STA6,
        Action.AE_4: State.STA1,
        Action.AE_5: State.STA2,
        Action.AE_6: State.STA3,  # STA13 when the A-ASSOCIATE-RQ is not acceptable
        Action.AE_7: State.STA6,
        Action.AE_8: State.STA13,
        # Table 9-7
        Action.DT_1: State.STA6,
        Action.DT_2: State.STA6,
        # Table 9-8
        Action.AR_1: State.STA7,
        Action.AR_2: State.STA8,
        Action.AR_3: State.STA1,
        Action.AR_4: State.STA13,
        Action.AR_5: State.STA1,
        Action.AR_6: State.STA7,
        Action.AR_7: State.STA8,
        Action.AR_8: State.STA9,  # STA10 on the association-acceptor side
        Action.AR_9: State.STA11,
        Action.AR_10: State.STA12,
        # Table 9-9
        Action.AA_1: State.STA13,
        Action.AA_2: State.STA1,
        Action.AA_3: State.STA1,
        Action.AA_4: State.STA1,
        Action.AA_5: State.STA1,
        Action.AA_6: State.STA13,
        Action.AA_7: State.STA13,
        Action.AA_8: State.STA13,
    }
)
"""Next state of each action (PS3.8 Tables 9-6..9-9); AE-6 and AR-8 give their default."""


@dataclass(frozen=True)
class Transition:
    """What PS3.8 Table 9-10 prescribes for one event in one state."""

    action: Action
    next_state: State


def step(
    state: State, event: Event, *, acceptable: bool = True, is_requestor: bool = True
) -> Transition:
    """Look up the action and next state for ``event`` in ``state`` (PS3.8 9.2.3).

    ``acceptable`` decides AE-6: whether the service-provider accepts the
    A-ASSOCIATE-RQ (next Sta3) or rejects it itself (A-ASSOCIATE-RJ sent,
    ARTIM started, next Sta13). ``is_requestor`` decides AR-8 (release
    collision): Sta9 on the association-requestor side, Sta10 otherwise.

    Raises :class:`~dicomwire._core.errors.StateError` for a blank cell of
    Table 9-10. Unexpected PDUs are not blank cells in states 2..13: the
    table answers them itself (AA-1, AA-6, AA-7, AA-8), so a blank cell
    means a local primitive issued at the wrong time, or an event that
    cannot happen in that state (e.g. a PDU in Sta1, where no connection
    exists).
    """
    action = TABLE.get((state, event))
    if action is None:
        raise StateError(f"PS3.8 Table 9-10 defines no action for {event.name} in {state.name}")
    if action is Action.AE_6 and not acceptable:
        return Transition(action, State.STA13)
    if action is Action.AR_8 and not is_requestor:
        return Transition(action, State.STA10)
    return Transition(action, NEXT_STATE[action])


@dataclass(frozen=True)
class ActionSpec:
    """The effects of one action, from PS3.8 Tables 9-6..9-9.

    ``sends`` is the PDU put on the wire, ``indicates`` the primitive issued
    to the local user, ``artim`` what happens to the ARTIM timer ("start",
    "stop", or "restart" for AA-1's "start, or restart if already started").
    ``abort_source`` is the A-ABORT PDU source field (PS3.8 Table 9-26) for
    the actions that send one, otherwise None.
    """

    sends: str | None = None
    indicates: str | None = None
    artim: str | None = None
    closes_transport: bool = False
    connects_transport: bool = False
    abort_source: int | None = None


_USER_SOURCE = 0
_PROVIDER_SOURCE = 2

ACTIONS: Mapping[Action, ActionSpec] = MappingProxyType(
    {
        Action.AE_1: ActionSpec(connects_transport=True),
        Action.AE_2: ActionSpec(sends="A-ASSOCIATE-RQ"),
        Action.AE_3: ActionSpec(indicates="A-ASSOCIATE-confirm-accept"),
        Action.AE_4: ActionSpec(indicates="A-ASSOCIATE-confirm-reject", closes_transport=True),
        # "Issue transport connection response": accepting the connection is the
        # driver's business; what matters here is that ARTIM now runs.
        Action.AE_5: ActionSpec(artim="start"),
        # Acceptable case; see AE_6_REJECT_SPEC for the other branch.
        Action.AE_6: ActionSpec(indicates="A-ASSOCIATE-indication", artim="stop"),
        Action.AE_7: ActionSpec(sends="A-ASSOCIATE-AC"),
        Action.AE_8: ActionSpec(sends="A-ASSOCIATE-RJ", artim="start"),
        Action.DT_1: ActionSpec(sends="P-DATA-TF"),
        Action.DT_2: ActionSpec(indicates="P-DATA-indication"),
        Action.AR_1: ActionSpec(sends="A-RELEASE-RQ"),
        Action.AR_2: ActionSpec(indicates="A-RELEASE-indication"),
        Action.AR_3: ActionSpec(indicates="A-RELEASE-confirm", closes_transport=True),
        Action.AR_4: ActionSpec(sends="A-RELEASE-RP", artim="start"),
        Action.AR_5: ActionSpec(artim="stop"),  # after Evt17: transport already closed
        Action.AR_6: ActionSpec(indicates="P-DATA-indication"),
        Action.AR_7: ActionSpec(sends="P-DATA-TF"),
        Action.AR_8: ActionSpec(indicates="A-RELEASE-indication"),
        Action.AR_9: ActionSpec(sends="A-RELEASE-RP"),
        Action.AR_10: ActionSpec(indicates="A-RELEASE-confirm"),
        Action.AA_1: ActionSpec(sends="A-ABORT", artim="restart", abort_source=_USER_SOURCE),
        Action.AA_2: ActionSpec(artim="stop", closes_transport=True),
        # A-P-ABORT-indication instead when the received PDU's source is 2.
        Action.AA_3: ActionSpec(indicates="A-ABORT-indication", closes_transport=True),
        Action.AA_4: ActionSpec(indicates="A-P-ABORT-indication"),  # after Evt17
        Action.AA_5: ActionSpec(artim="stop"),  # after Evt17
        Action.AA_6: ActionSpec(),  # ignore the PDU
        Action.AA_7: ActionSpec(sends="A-ABORT", abort_source=_PROVIDER_SOURCE),
        Action.AA_8: ActionSpec(
            sends="A-ABORT",
            indicates="A-P-ABORT-indication",
            artim="start",
            abort_source=_PROVIDER_SOURCE,
        ),
    }
)
"""What each action does (PS3.8 Tables 9-6..9-9); see the module docstring."""

AE_6_REJECT_SPEC = ActionSpec(sends="A-ASSOCIATE-RJ", artim="start")
"""AE-6 when the provider finds the A-ASSOCIATE-RQ unacceptable.

The standard says "stop ARTIM timer" then "issue A-ASSOCIATE-RJ-PDU and
start ARTIM timer"; stopping then starting is just starting afresh.
"""


def spec_for(transition: Transition) -> ActionSpec:
    """The effects of a transition, taking AE-6's rejection branch into account."""
    if transition.action is Action.AE_6 and transition.next_state is State.STA13:
        return AE_6_REJECT_SPEC
    return ACTIONS[transition.action]


def abort_indication(source: int) -> str:
    """The primitive AA-3 issues for a received A-ABORT PDU with this source.

    PS3.8 Table 9-9, AA-3: a service-user initiated abort (source 0) gives an
    A-ABORT indication, a service-provider one (source 2) an A-P-ABORT
    indication. The reserved value 1 is treated as provider-initiated,
    since no user asked for it.
    """
    return "A-ABORT-indication" if source == _USER_SOURCE else "A-P-ABORT-indication"


PDU_TYPE_EVENTS: Mapping[int, Event] = MappingProxyType(
    {
        0x01: Event.EVT6,  # A-ASSOCIATE-RQ
        0x02: Event.EVT3,  # A-ASSOCIATE-AC
        0x03: Event.EVT4,  # A-ASSOCIATE-RJ
        0x04: Event.EVT10,  # P-DATA-TF
        0x05: Event.EVT12,  # A-RELEASE-RQ
        0x06: Event.EVT13,  # A-RELEASE-RP
        0x07: Event.EVT16,  # A-ABORT
    }
)
"""The event a well-formed PDU of each type (PS3.8 section 9.3) raises.

Any other PDU type, or a PDU that fails to decode, is Evt19.
"""
