"""Presentation context, role selection and async window negotiation.

PS3.8 sections 7.1.1.13-14, 9.3.2.2, 9.3.3.2; PS3.7 D.3.3.3 and D.3.3.4.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicomwire._core.negotiation import (
    ContextResult,
    NegotiatedContext,
    SupportedContext,
    negotiate_as_acceptor,
    negotiate_as_requestor,
    negotiate_async_window,
)
from dicomwire._core.pdu import PresentationContextAC, PresentationContextRQ, RoleSelection

VERIFICATION = "1.2.840.10008.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
FIND = "1.2.840.10008.5.1.4.1.2.2.1"
IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
BIG = "1.2.840.10008.1.2.2"
JPEG = "1.2.840.10008.1.2.4.50"

RQ = PresentationContextRQ
AC = PresentationContextAC


def supported(*contexts: SupportedContext) -> dict[str, SupportedContext]:
    return {c.abstract_syntax: c for c in contexts}


BASIC = supported(
    SupportedContext(VERIFICATION, (IMPLICIT,)),
    SupportedContext(CT, (IMPLICIT, EXPLICIT, JPEG)),
    SupportedContext(FIND, (EXPLICIT,)),
)


def accept(requested: list[PresentationContextRQ]) -> tuple[AC, ...]:
    items, _, _ = negotiate_as_acceptor(requested, BASIC)
    return items


# -- presentation contexts ------------------------------------------------------


@pytest.mark.parametrize(
    ("proposal", "expected"),
    [
        # The acceptor's preference (IMPLICIT, EXPLICIT, JPEG) decides, not the proposal's order.
        pytest.param(RQ(1, CT, (EXPLICIT, IMPLICIT)), AC(1, 0, IMPLICIT), id="acceptor-order-1"),
        pytest.param(RQ(1, CT, (JPEG, EXPLICIT)), AC(1, 0, EXPLICIT), id="acceptor-order-2"),
        pytest.param(RQ(1, CT, (JPEG,)), AC(1, 0, JPEG), id="only-common-ts"),
        pytest.param(RQ(1, CT, (BIG, IMPLICIT)), AC(1, 0, IMPLICIT), id="skip-unsupported-ts"),
        pytest.param(RQ(3, MR, (IMPLICIT,)), AC(3, 3, ""), id="unknown-abstract-syntax"),
        pytest.param(RQ(5, FIND, (IMPLICIT, BIG)), AC(5, 4, ""), id="no-common-ts"),
        pytest.param(RQ(7, FIND, ()), AC(7, 4, ""), id="no-ts-at-all"),
        pytest.param(RQ(2, CT, (IMPLICIT,)), AC(2, 2, ""), id="even-id"),
        pytest.param(RQ(0, CT, (IMPLICIT,)), AC(0, 2, ""), id="id-zero"),
        pytest.param(RQ(257, CT, (IMPLICIT,)), AC(257, 2, ""), id="id-over-255"),
        pytest.param(RQ(-1, CT, (IMPLICIT,)), AC(-1, 2, ""), id="negative-id"),
        pytest.param(RQ(255, CT, (IMPLICIT,)), AC(255, 0, IMPLICIT), id="id-255-ok"),
        pytest.param(RQ(2, MR, (BIG,)), AC(2, 2, ""), id="bad-id-wins-over-unknown-as"),
    ],
)
def test_acceptor_single_context(proposal: PresentationContextRQ, expected: AC) -> None:
    assert accept([proposal]) == (expected,)


def test_acceptor_answers_every_context_in_order() -> None:
    requested = [RQ(9, MR, (IMPLICIT,)), RQ(1, VERIFICATION, (IMPLICIT,)), RQ(5, CT, (JPEG,))]
    assert accept(requested) == (AC(9, 3, ""), AC(1, 0, IMPLICIT), AC(5, 0, JPEG))


def test_acceptor_rejects_every_occurrence_of_a_duplicated_id() -> None:
    requested = [
        RQ(1, CT, (IMPLICIT,)),
        RQ(3, VERIFICATION, (IMPLICIT,)),
        RQ(1, VERIFICATION, (IMPLICIT,)),
        RQ(5, CT, (EXPLICIT,)),
    ]
    assert accept(requested) == (
        AC(1, 2, ""),
        AC(3, 0, IMPLICIT),
        AC(1, 2, ""),
        AC(5, 0, EXPLICIT),
    )


def test_same_abstract_syntax_in_several_contexts() -> None:
    # PS3.8 7.1.1.13 note: each occurrence is a distinct context.
    requested = [RQ(1, CT, (JPEG,)), RQ(3, CT, (EXPLICIT,)), RQ(5, CT, (BIG,))]
    assert accept(requested) == (AC(1, 0, JPEG), AC(3, 0, EXPLICIT), AC(5, 4, ""))


def test_acceptor_outcomes_without_role_selection() -> None:
    requested = [RQ(1, CT, (IMPLICIT,)), RQ(3, MR, (IMPLICIT,))]
    _, replies, outcomes = negotiate_as_acceptor(requested, BASIC)
    assert replies == ()
    assert outcomes == (
        # Default roles: the acceptor is SCP only.
        NegotiatedContext(1, CT, IMPLICIT, 0, as_scu=False, as_scp=True),
        NegotiatedContext(3, MR, "", 3, as_scu=False, as_scp=False),
    )
    assert outcomes[0].accepted
    assert not outcomes[1].accepted


def test_empty_proposal() -> None:
    assert negotiate_as_acceptor([], BASIC) == ((), (), ())
    assert negotiate_as_requestor([], []) == ()


def test_context_result_codes() -> None:
    assert [int(r) for r in ContextResult] == [0, 1, 2, 3, 4]


# -- requestor side of presentation contexts -----------------------------------


def test_requestor_matches_results_by_id_in_any_order() -> None:
    requested = [RQ(1, CT, (JPEG, IMPLICIT)), RQ(3, VERIFICATION, (IMPLICIT,))]
    accepted = [AC(3, 0, IMPLICIT), AC(1, 0, JPEG)]
    assert negotiate_as_requestor(requested, accepted) == (
        NegotiatedContext(1, CT, JPEG, 0, as_scu=True, as_scp=False),
        NegotiatedContext(3, VERIFICATION, IMPLICIT, 0, as_scu=True, as_scp=False),
    )


@pytest.mark.parametrize(
    ("accepted", "result"),
    [
        pytest.param([], 2, id="missing-counts-as-provider-rejection"),
        pytest.param([AC(1, 1, "")], 1, id="user-rejection"),
        pytest.param([AC(1, 3, IMPLICIT)], 3, id="abstract-syntax-not-supported"),
        pytest.param([AC(1, 4, "")], 4, id="transfer-syntaxes-not-supported"),
        pytest.param([AC(1, 0, BIG)], 4, id="ts-never-proposed"),
        pytest.param([AC(1, 0, "")], 4, id="accepted-without-ts"),
        pytest.param([AC(3, 0, IMPLICIT)], 2, id="answer-for-another-id"),
    ],
)
def test_requestor_rejections(accepted: list[AC], result: int) -> None:
    (outcome,) = negotiate_as_requestor([RQ(1, CT, (IMPLICIT, EXPLICIT))], accepted)
    assert outcome == NegotiatedContext(1, CT, "", result, as_scu=False, as_scp=False)


def test_requestor_takes_the_first_answer_for_an_id() -> None:
    (outcome,) = negotiate_as_requestor(
        [RQ(1, CT, (IMPLICIT, EXPLICIT))], [AC(1, 0, EXPLICIT), AC(1, 3, "")]
    )
    assert (outcome.result, outcome.transfer_syntax) == (0, EXPLICIT)


# -- role selection (PS3.7 D.3.3.4) --------------------------------------------

# Acceptor's answer for the requestor's SCU role: (proposed, policy) -> reply.
SCU_ANSWER = {
    (True, None): True,  # default relationship: granted unless refused
    (True, True): True,
    (True, False): False,
    (False, None): False,  # never 1 for a role that was not proposed
    (False, True): False,
    (False, False): False,
}
# Acceptor's answer for the requestor's SCP role: reversing roles needs a yes.
SCP_ANSWER = {
    (True, None): False,
    (True, True): True,
    (True, False): False,
    (False, None): False,
    (False, True): False,
    (False, False): False,
}
POLICIES = (None, True, False)
ACCEPTOR_ROLE_CASES = list(itertools.product((True, False), (True, False), POLICIES, POLICIES))


@pytest.mark.parametrize(
    ("proposed_scu", "proposed_scp", "policy_scu", "policy_scp"), ACCEPTOR_ROLE_CASES
)
def test_role_selection_every_proposal_and_policy(
    proposed_scu: bool, proposed_scp: bool, policy_scu: bool | None, policy_scp: bool | None
) -> None:
    policy = supported(SupportedContext(CT, (IMPLICIT,), policy_scu, policy_scp))
    requested = [RQ(1, CT, (IMPLICIT,))]
    proposal = [RoleSelection(CT, proposed_scu, proposed_scp)]
    items, replies, acceptor_view = negotiate_as_acceptor(requested, policy, proposal)

    want_scu = SCU_ANSWER[(proposed_scu, policy_scu)]
    want_scp = SCP_ANSWER[(proposed_scp, policy_scp)]
    assert replies == (RoleSelection(CT, want_scu, want_scp),)
    # The acceptor acts as SCU when the requestor is SCP, and vice versa.
    assert (acceptor_view[0].as_scu, acceptor_view[0].as_scp) == (want_scp, want_scu)

    (requestor_view,) = negotiate_as_requestor(requested, items, proposal, replies)
    assert (requestor_view.as_scu, requestor_view.as_scp) == (want_scu, want_scp)


# Requestor's roles: (proposal, reply or None) -> (as_scu, as_scp).
REQUESTOR_ROLE_CASES = [
    # No reply: default roles, whatever was proposed.
    ((True, False), None, (True, False)),
    ((False, True), None, (True, False)),
    ((True, True), None, (True, False)),
    ((False, False), None, (True, False)),
    # Replies granting what was proposed.
    ((True, False), (True, False), (True, False)),
    ((False, True), (False, True), (False, True)),
    ((True, True), (True, True), (True, True)),
    ((True, True), (True, False), (True, False)),
    ((True, True), (False, True), (False, True)),
    # Both turned down: the context serves neither role.
    ((True, True), (False, False), (False, False)),
    ((False, True), (False, False), (False, False)),
    # A 1 answered to a role never proposed is ignored.
    ((True, False), (True, True), (True, False)),
    ((False, True), (True, True), (False, True)),
    ((False, False), (True, True), (False, False)),
]


@pytest.mark.parametrize(("proposal", "reply", "expected"), REQUESTOR_ROLE_CASES)
def test_requestor_roles(
    proposal: tuple[bool, bool], reply: tuple[bool, bool] | None, expected: tuple[bool, bool]
) -> None:
    replies = [] if reply is None else [RoleSelection(CT, *reply)]
    (outcome,) = negotiate_as_requestor(
        [RQ(1, CT, (IMPLICIT,))], [AC(1, 0, IMPLICIT)], [RoleSelection(CT, *proposal)], replies
    )
    assert (outcome.as_scu, outcome.as_scp) == expected


def test_requestor_ignores_reply_it_did_not_ask_for() -> None:
    (outcome,) = negotiate_as_requestor(
        [RQ(1, CT, (IMPLICIT,))], [AC(1, 0, IMPLICIT)], [], [RoleSelection(CT, False, True)]
    )
    assert (outcome.as_scu, outcome.as_scp) == (True, False)


def test_c_get_storage_scp_role() -> None:
    """The C-GET case: the requestor wants to receive C-STOREs as Storage SCP."""
    policy = supported(
        SupportedContext(CT, (EXPLICIT,), scu_role=False, scp_role=True),
        SupportedContext(FIND, (EXPLICIT,)),
    )
    requested = [RQ(1, FIND, (EXPLICIT,)), RQ(3, CT, (EXPLICIT,))]
    proposals = [RoleSelection(CT, False, True)]
    items, replies, acceptor_view = negotiate_as_acceptor(requested, policy, proposals)
    assert replies == (RoleSelection(CT, False, True),)
    assert [(o.as_scu, o.as_scp) for o in acceptor_view] == [(False, True), (True, False)]
    requestor_view = negotiate_as_requestor(requested, items, proposals, replies)
    assert [(o.as_scu, o.as_scp) for o in requestor_view] == [(True, False), (False, True)]


def test_c_get_storage_scp_role_refused_by_default_policy() -> None:
    requested = [RQ(3, CT, (EXPLICIT,))]
    proposals = [RoleSelection(CT, False, True)]
    _, replies, acceptor_view = negotiate_as_acceptor(requested, BASIC, proposals)
    assert replies == (RoleSelection(CT, False, False),)
    assert (acceptor_view[0].as_scu, acceptor_view[0].as_scp) == (False, False)


def test_role_replies_only_for_proposed_and_accepted_sop_classes() -> None:
    requested = [
        RQ(1, CT, (BIG,)),  # rejected: no common transfer syntax
        RQ(3, VERIFICATION, (IMPLICIT,)),
        RQ(5, MR, (IMPLICIT,)),  # rejected: unknown
        RQ(7, FIND, (EXPLICIT,)),
    ]
    proposals = [
        RoleSelection(FIND, True, False),
        RoleSelection(CT, True, True),
        RoleSelection(MR, True, False),
        RoleSelection(VERIFICATION, True, False),
        RoleSelection("1.2.3.4", True, False),  # never proposed as a context
    ]
    _, replies, _ = negotiate_as_acceptor(requested, BASIC, proposals)
    # Order follows the role selection items.
    assert replies == (RoleSelection(FIND, True, False), RoleSelection(VERIFICATION, True, False))


def test_role_reply_when_one_of_several_contexts_accepted() -> None:
    requested = [RQ(1, CT, (BIG,)), RQ(3, CT, (IMPLICIT,))]
    _, replies, view = negotiate_as_acceptor(requested, BASIC, [RoleSelection(CT, True, False)])
    assert replies == (RoleSelection(CT, True, False),)
    assert [(o.as_scu, o.as_scp) for o in view] == [(False, False), (False, True)]


def test_first_role_selection_item_per_sop_class_wins() -> None:
    requested = [RQ(1, CT, (IMPLICIT,))]
    policy = supported(SupportedContext(CT, (IMPLICIT,), True, True))
    proposals = [RoleSelection(CT, False, True), RoleSelection(CT, True, False)]
    items, replies, _ = negotiate_as_acceptor(requested, policy, proposals)
    assert replies == (RoleSelection(CT, False, True),)
    (outcome,) = negotiate_as_requestor(requested, items, proposals, list(replies) * 2)
    assert (outcome.as_scu, outcome.as_scp) == (False, True)


# -- both views are mirror images -----------------------------------------------

_UIDS = (VERIFICATION, CT, MR, FIND)
_SYNTAXES = (IMPLICIT, EXPLICIT, BIG, JPEG)
_policy = st.sampled_from(POLICIES)
_syntax_lists = st.lists(st.sampled_from(_SYNTAXES), max_size=4, unique=True).map(tuple)
_requests = st.lists(
    st.builds(RQ, st.integers(0, 12), st.sampled_from(_UIDS), _syntax_lists), max_size=8
)
_supported = st.dictionaries(
    st.sampled_from(_UIDS), st.tuples(_syntax_lists, _policy, _policy), max_size=4
).map(lambda d: {uid: SupportedContext(uid, ts, a, b) for uid, (ts, a, b) in d.items()})
_role_requests = st.lists(
    st.builds(RoleSelection, st.sampled_from(_UIDS), st.booleans(), st.booleans()), max_size=5
)


@settings(max_examples=400, deadline=None)
@given(_requests, _supported, _role_requests)
def test_requestor_and_acceptor_views_mirror_each_other(
    requested: list[PresentationContextRQ],
    policy: dict[str, SupportedContext],
    role_requests: list[RoleSelection],
) -> None:
    items, replies, acceptor_view = negotiate_as_acceptor(requested, policy, role_requests)
    requestor_view = negotiate_as_requestor(requested, items, role_requests, replies)

    assert len(items) == len(acceptor_view) == len(requestor_view) == len(requested)
    for rq, ac, mine, theirs in zip(requested, items, acceptor_view, requestor_view, strict=True):
        assert ac.context_id == mine.context_id == theirs.context_id == rq.context_id
        assert mine.abstract_syntax == theirs.abstract_syntax == rq.abstract_syntax
        assert mine.result == theirs.result == ac.result
        assert mine.transfer_syntax == theirs.transfer_syntax == ac.transfer_syntax
        assert (mine.as_scu, mine.as_scp) == (theirs.as_scp, theirs.as_scu)
        if ac.result == 0:
            assert ac.transfer_syntax in rq.transfer_syntaxes
            assert ac.transfer_syntax in policy[rq.abstract_syntax].transfer_syntaxes
        else:
            assert ac.transfer_syntax == ""
            assert not (mine.as_scu or mine.as_scp)
    proposed = {r.sop_class_uid: r for r in reversed(role_requests)}  # first one wins
    for reply in replies:
        asked = proposed[reply.sop_class_uid]
        # PS3.7 D.3.3.4: never 1 where the requestor proposed 0.
        assert asked.scu_role or not reply.scu_role
        assert asked.scp_role or not reply.scp_role
    assert len({r.sop_class_uid for r in replies}) == len(replies)


# -- asynchronous operations window (PS3.7 D.3.3.3) -----------------------------


@pytest.mark.parametrize(
    ("proposed", "ours", "expected"),
    [
        (None, (1, 1), None),
        (None, (0, 0), None),
        ((1, 1), (1, 1), (1, 1)),
        ((0, 0), (1, 1), (1, 1)),
        ((0, 0), (0, 0), (0, 0)),
        ((5, 3), (0, 0), (5, 3)),
        ((5, 3), (2, 10), (2, 3)),
        ((0, 7), (4, 0), (4, 7)),
        ((16, 16), (1, 1), (1, 1)),
        ((65535, 0), (0, 65535), (65535, 65535)),
    ],
)
def test_async_window(
    proposed: tuple[int, int] | None, ours: tuple[int, int], expected: tuple[int, int] | None
) -> None:
    assert negotiate_async_window(proposed, ours) == expected


def test_async_window_default_is_synchronous() -> None:
    assert negotiate_async_window((0, 0)) == (1, 1)
    assert negotiate_async_window((8, 2)) == (1, 1)
    assert negotiate_async_window(None) is None


@pytest.mark.parametrize(
    ("proposed", "ours"), [((-1, 1), (1, 1)), ((1, 65536), (1, 1)), ((1, 1), (1, -2))]
)
def test_async_window_rejects_out_of_range(
    proposed: tuple[int, int], ours: tuple[int, int]
) -> None:
    with pytest.raises(ValueError, match="out of range"):
        negotiate_async_window(proposed, ours)


@given(
    st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
)
def test_async_window_never_exceeds_either_side(
    proposed: tuple[int, int], ours: tuple[int, int]
) -> None:
    answer = negotiate_async_window(proposed, ours)
    assert answer is not None
    for got, offered, limit in zip(answer, proposed, ours, strict=True):
        for bound in (offered, limit):
            assert bound == 0 or 0 < got <= bound
        assert (got == 0) == (offered == 0 and limit == 0)


@pytest.mark.parametrize(
    ("proposal", "expected"),
    [
        pytest.param((EXPLICIT, IMPLICIT), EXPLICIT, id="requestor-first"),
        pytest.param((JPEG, EXPLICIT), JPEG, id="compressed-kept"),
        pytest.param((BIG, IMPLICIT), IMPLICIT, id="big-endian-last"),
        pytest.param((BIG,), BIG, id="big-endian-if-nothing-else"),
        pytest.param((IMPLICIT, EXPLICIT), IMPLICIT, id="requestor-first-2"),
    ],
)
def test_acceptor_can_follow_the_requestors_order(proposal: tuple[str, ...], expected: str) -> None:
    ours = supported(SupportedContext(CT, (IMPLICIT, EXPLICIT, JPEG, BIG)))
    (item,), _, _ = negotiate_as_acceptor([RQ(1, CT, proposal)], ours, prefer_requestor=True)
    assert item == AC(1, 0, expected)
