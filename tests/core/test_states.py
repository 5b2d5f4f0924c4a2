"""PS3.8 section 9.2: the Upper Layer state machine tables.

The grid below is a transcription of PS3.8 Table 9-10 made for this test,
independently of ``dicomwire._core.states``: rows are events, columns are
states Sta1..Sta13, "." is a blank cell.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicomwire._core.errors import StateError
from dicomwire._core.states import (
    ACTIONS,
    AE_6_REJECT_SPEC,
    NEXT_STATE,
    PDU_TYPE_EVENTS,
    TABLE,
    Action,
    ActionSpec,
    Event,
    State,
    Transition,
    abort_indication,
    spec_for,
    step,
)

TABLE_9_10 = """
        Sta1  Sta2  Sta3  Sta4  Sta5  Sta6  Sta7  Sta8  Sta9  Sta10 Sta11 Sta12 Sta13
Evt1    AE-1  .     .     .     .     .     .     .     .     .     .     .     .
Evt2    .     .     .     AE-2  .     .     .     .     .     .     .     .     .
Evt3    .     AA-1  AA-8  .     AE-3  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt4    .     AA-1  AA-8  .     AE-4  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt5    AE-5  .     .     .     .     .     .     .     .     .     .     .     .
Evt6    .     AE-6  AA-8  .     AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-7
Evt7    .     .     AE-7  .     .     .     .     .     .     .     .     .     .
Evt8    .     .     AE-8  .     .     .     .     .     .     .     .     .     .
Evt9    .     .     .     .     .     DT-1  .     AR-7  .     .     .     .     .
Evt10   .     AA-1  AA-8  .     AA-8  DT-2  AR-6  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt11   .     .     .     .     .     AR-1  .     .     .     .     .     .     .
Evt12   .     AA-1  AA-8  .     AA-8  AR-2  AR-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt13   .     AA-1  AA-8  .     AA-8  AA-8  AR-3  AA-8  AA-8  AR-10 AR-3  AA-8  AA-6
Evt14   .     .     .     .     .     .     .     AR-4  AR-9  .     .     AR-4  .
Evt15   .     .     AA-1  AA-2  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  .
Evt16   .     AA-2  AA-3  .     AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-2
Evt17   .     AA-5  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AR-5
Evt18   .     AA-2  .     .     .     .     .     .     .     .     .     .     AA-2
Evt19   .     AA-1  AA-8  .     AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-7
"""

# Next states from the "Next state is ..." lines of PS3.8 Tables 9-6..9-9.
# AE-6 and AR-8 are conditional; these are their first branches.
NEXT_STATES_9_6_TO_9_9 = {
    "AE-1": 4, "AE-2": 5, "AE-3": 6, "AE-4": 1, "AE-5": 2, "AE-6": 3, "AE-7": 6,
    "AE-8": 13, "DT-1": 6, "DT-2": 6, "AR-1": 7, "AR-2": 8, "AR-3": 1, "AR-4": 13,
    "AR-5": 1, "AR-6": 7, "AR-7": 8, "AR-8": 9, "AR-9": 11, "AR-10": 12, "AA-1": 13,
    "AA-2": 1, "AA-3": 1, "AA-4": 1, "AA-5": 1, "AA-6": 13, "AA-7": 13, "AA-8": 13,
}  # fmt: skip


def _parse(grid: str) -> dict[tuple[int, int], str]:
    lines = [line.split() for line in grid.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header == [f"Sta{n}" for n in range(1, 14)]
    assert [row[0] for row in rows] == [f"Evt{n}" for n in range(1, 20)]
    cells = {}
    for event_number, row in enumerate(rows, start=1):
        assert len(row) == 14, row
        for state_number, cell in enumerate(row[1:], start=1):
            if cell != ".":
                cells[(state_number, event_number)] = cell
    return cells


EXPECTED = _parse(TABLE_9_10)
ALL_CELLS = [(s, e) for e in range(1, 20) for s in range(1, 14)]


def test_grid_has_the_expected_number_of_defined_cells() -> None:
    # A sanity check on the transcription itself: 123 non-blank cells.
    assert len(EXPECTED) == 123
    assert len(ALL_CELLS) == 13 * 19


def test_enum_members_and_values() -> None:
    assert [s.value for s in State] == list(range(1, 14))
    assert [e.value for e in Event] == list(range(1, 20))
    assert {a.value for a in Action} == set(NEXT_STATES_9_6_TO_9_9)
    assert all(a.name == a.value.replace("-", "_") for a in Action)
    assert State.STA1.meaning == "Idle"
    assert all(s.meaning for s in State)


@pytest.mark.parametrize(("state_number", "event_number"), ALL_CELLS)
def test_every_cell_of_table_9_10(state_number: int, event_number: int) -> None:
    state, event = State(state_number), Event(event_number)
    expected = EXPECTED.get((state_number, event_number))
    if expected is None:
        assert (state, event) not in TABLE
        with pytest.raises(StateError):
            step(state, event)
    else:
        assert TABLE[(state, event)] is Action(expected)
        transition = step(state, event)
        assert transition.action is Action(expected)
        assert transition.next_state is State(NEXT_STATES_9_6_TO_9_9[expected])


def test_table_holds_only_the_standard_cells() -> None:
    got = {(s.value, e.value): a.value for (s, e), a in TABLE.items()}
    assert got == EXPECTED


def test_next_state_table() -> None:
    assert {a.value: s.value for a, s in NEXT_STATE.items()} == NEXT_STATES_9_6_TO_9_9


def test_every_action_is_used_by_the_table() -> None:
    assert set(TABLE.values()) == set(Action)


@pytest.mark.parametrize(("acceptable", "expected"), [(True, State.STA3), (False, State.STA13)])
def test_ae_6_depends_on_acceptability(acceptable: bool, expected: State) -> None:
    for is_requestor in (True, False):
        got = step(State.STA2, Event.EVT6, acceptable=acceptable, is_requestor=is_requestor)
        assert got == Transition(Action.AE_6, expected)


@pytest.mark.parametrize(("is_requestor", "expected"), [(True, State.STA9), (False, State.STA10)])
def test_ar_8_release_collision_depends_on_side(is_requestor: bool, expected: State) -> None:
    for acceptable in (True, False):
        got = step(State.STA7, Event.EVT12, acceptable=acceptable, is_requestor=is_requestor)
        assert got == Transition(Action.AR_8, expected)


@pytest.mark.parametrize(("state", "event"), list(TABLE))
def test_flags_only_matter_for_ae_6_and_ar_8(state: State, event: Event) -> None:
    if TABLE[(state, event)] in (Action.AE_6, Action.AR_8):
        return
    plain = step(state, event)
    for acceptable in (True, False):
        for is_requestor in (True, False):
            assert step(state, event, acceptable=acceptable, is_requestor=is_requestor) == plain


def test_release_collision_full_paths() -> None:
    # Requestor side: Sta7 -Evt12-> Sta9 -Evt14-> Sta11 -Evt13-> Sta1.
    assert step(State.STA9, Event.EVT14).next_state is State.STA11
    assert step(State.STA11, Event.EVT13) == Transition(Action.AR_3, State.STA1)
    # Acceptor side: Sta7 -Evt12-> Sta10 -Evt13-> Sta12 -Evt14-> Sta13.
    assert step(State.STA10, Event.EVT13) == Transition(Action.AR_10, State.STA12)
    assert step(State.STA12, Event.EVT14) == Transition(Action.AR_4, State.STA13)


def test_state_error_is_a_local_error_naming_the_cell() -> None:
    with pytest.raises(StateError, match=r"EVT9.*STA1"):
        step(State.STA1, Event.EVT9)


# -- ActionSpec --------------------------------------------------------------


def test_every_action_has_a_spec() -> None:
    assert set(ACTIONS) == set(Action)
    assert all(isinstance(spec, ActionSpec) for spec in ACTIONS.values())


def test_pdus_sent() -> None:
    sends = {a.value: s.sends for a, s in ACTIONS.items() if s.sends}
    assert sends == {
        "AE-2": "A-ASSOCIATE-RQ",
        "AE-7": "A-ASSOCIATE-AC",
        "AE-8": "A-ASSOCIATE-RJ",
        "DT-1": "P-DATA-TF",
        "AR-7": "P-DATA-TF",
        "AR-1": "A-RELEASE-RQ",
        "AR-4": "A-RELEASE-RP",
        "AR-9": "A-RELEASE-RP",
        "AA-1": "A-ABORT",
        "AA-7": "A-ABORT",
        "AA-8": "A-ABORT",
    }


def test_primitives_indicated() -> None:
    indicates = {a.value: s.indicates for a, s in ACTIONS.items() if s.indicates}
    assert indicates == {
        "AE-3": "A-ASSOCIATE-confirm-accept",
        "AE-4": "A-ASSOCIATE-confirm-reject",
        "AE-6": "A-ASSOCIATE-indication",
        "DT-2": "P-DATA-indication",
        "AR-6": "P-DATA-indication",
        "AR-2": "A-RELEASE-indication",
        "AR-8": "A-RELEASE-indication",
        "AR-3": "A-RELEASE-confirm",
        "AR-10": "A-RELEASE-confirm",
        "AA-3": "A-ABORT-indication",
        "AA-4": "A-P-ABORT-indication",
        "AA-8": "A-P-ABORT-indication",
    }


def test_abort_sources() -> None:
    sources = {a.value: s.abort_source for a, s in ACTIONS.items() if s.abort_source is not None}
    assert sources == {"AA-1": 0, "AA-7": 2, "AA-8": 2}
    for spec in ACTIONS.values():
        assert (spec.sends == "A-ABORT") == (spec.abort_source is not None)


def test_artim_and_transport_effects() -> None:
    artim = {a.value: s.artim for a, s in ACTIONS.items() if s.artim}
    assert artim == {
        "AE-5": "start",
        "AE-6": "stop",
        "AE-8": "start",
        "AR-4": "start",
        "AR-5": "stop",
        "AA-1": "restart",
        "AA-2": "stop",
        "AA-5": "stop",
        "AA-8": "start",
    }
    closes = {a.value for a, s in ACTIONS.items() if s.closes_transport}
    assert closes == {"AE-4", "AR-3", "AA-2", "AA-3"}
    connects = {a.value for a, s in ACTIONS.items() if s.connects_transport}
    assert connects == {"AE-1"}
    assert ACTIONS[Action.AA_6] == ActionSpec()


def test_spec_for_ae_6_rejection_branch() -> None:
    rejected = step(State.STA2, Event.EVT6, acceptable=False)
    assert spec_for(rejected) is AE_6_REJECT_SPEC
    assert AE_6_REJECT_SPEC.sends == "A-ASSOCIATE-RJ"
    assert AE_6_REJECT_SPEC.artim == "start"
    assert AE_6_REJECT_SPEC.indicates is None
    accepted = step(State.STA2, Event.EVT6)
    assert spec_for(accepted) is ACTIONS[Action.AE_6]
    assert spec_for(step(State.STA6, Event.EVT9)) is ACTIONS[Action.DT_1]


@pytest.mark.parametrize(
    ("source", "expected"),
    [(0, "A-ABORT-indication"), (1, "A-P-ABORT-indication"), (2, "A-P-ABORT-indication")],
)
def test_abort_indication_for_received_source(source: int, expected: str) -> None:
    assert abort_indication(source) == expected


def test_pdu_type_events() -> None:
    assert {t: e.value for t, e in PDU_TYPE_EVENTS.items()} == {
        1: 6, 2: 3, 3: 4, 4: 10, 5: 12, 6: 13, 7: 16,
    }  # fmt: skip


# -- random walks --------------------------------------------------------------

_events = st.sampled_from(list(Event))
_steps = st.lists(st.tuples(_events, st.booleans(), st.booleans()), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_steps)
def test_random_event_sequences_from_idle(
    sequence: list[tuple[Event, bool, bool]],
) -> None:
    """Walk the machine from Sta1 with arbitrary events.

    Only blank cells of the transcription may fail, and only with StateError;
    every state reached is a State; ARTIM (tracked from ActionSpec alone)
    runs exactly in Sta2 and Sta13; nothing reaches Sta1 from a connected
    state without closing the transport or having it closed by the peer.
    """
    state, artim_running = State.STA1, False
    for event, acceptable, is_requestor in sequence:
        if (state.value, event.value) not in EXPECTED:
            with pytest.raises(StateError):
                step(state, event, acceptable=acceptable, is_requestor=is_requestor)
            continue
        transition = step(state, event, acceptable=acceptable, is_requestor=is_requestor)
        spec = spec_for(transition)
        assert isinstance(transition.next_state, State)
        if spec.artim in ("start", "restart"):
            artim_running = True
        elif spec.artim == "stop":
            artim_running = False
        connected = state not in (State.STA1, State.STA4)
        if transition.next_state is State.STA1 and connected:
            assert spec.closes_transport or event is Event.EVT17
        if spec.closes_transport:
            assert transition.next_state is State.STA1
        state = transition.next_state
        assert artim_running == (state in (State.STA2, State.STA13))


def test_every_state_is_reachable_from_idle() -> None:
    """Breadth-first over the table with both values of each flag."""
    reached, frontier = {State.STA1}, [State.STA1]
    while frontier:
        state = frontier.pop()
        for event in Event:
            if (state, event) not in TABLE:
                continue
            for acceptable in (True, False):
                for is_requestor in (True, False):
                    nxt = step(
                        state, event, acceptable=acceptable, is_requestor=is_requestor
                    ).next_state
                    if nxt not in reached:
                        reached.add(nxt)
                        frontier.append(nxt)
    assert reached == set(State)
