"""Association negotiation as pure functions (PS3.8 7.1.1.13-14, 9.3.2.2, 9.3.3.2; PS3.7 D.3.3).

Three negotiations happen inside an A-ASSOCIATE exchange:

* presentation contexts (PS3.8 sections 7.1.1.13, 7.1.1.14, 9.3.2.2 and
  9.3.3.2; PS3.7 D.3.2): each proposed context is accepted with exactly one
  transfer syntax, or rejected with a reason;
* SCP/SCU role selection (PS3.7 D.3.3.4): per SOP class, who may act as
  SCU and who as SCP;
* the asynchronous operations window (PS3.7 D.3.3.3).

The acceptor side decides (:func:`negotiate_as_acceptor`), the requestor
side interprets the answer (:func:`negotiate_as_requestor`); both produce
:class:`NegotiatedContext` outcomes from their own point of view, and for
the same exchange the two views are mirror images (the tests check it).

Choices where the standard leaves room:

* Transfer syntax: the acceptor takes, among the transfer syntaxes the
  requestor proposed, the first in the *acceptor's* order of preference (the
  order of ``SupportedContext.transfer_syntaxes``). DCMTK's storescp and
  pynetdicom choose this way, and requestors rely on it: DCMTK's storescu
  proposes [Explicit VR BE, Implicit VR LE] in one context and expects an
  acceptor to take Implicit, so its Implicit files go unconverted.
* Context IDs must be odd integers 1..255 (PS3.8 9.3.2.2) and unused on the
  association (PS3.8 7.1.1.13). A context breaking that is rejected with
  result 2 (provider rejection, no reason) rather than aborting the whole
  association: the other contexts may still be usable. Every occurrence
  of a duplicated ID is rejected, since accepting one would leave the
  requestor two results for one ID and no way to tell them apart.
* The requestor treats a context missing from the A-ASSOCIATE-AC as
  rejected with result 2, and an acceptance naming a transfer syntax it did
  not propose as rejected with result 4: it cannot encode or decode
  anything in a transfer syntax it never offered.
* One role selection item per SOP class (PS3.7 D.3.3.4): should a peer send
  several, the first one counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from dicomwire._core.pdu import PresentationContextAC, PresentationContextRQ, RoleSelection

__all__ = [
    "ContextResult",
    "NegotiatedContext",
    "SupportedContext",
    "negotiate_as_acceptor",
    "negotiate_as_requestor",
    "negotiate_async_window",
]


class ContextResult(IntEnum):
    """Presentation context Result/Reason values (PS3.8 Table 9-18)."""

    ACCEPTANCE = 0
    USER_REJECTION = 1
    NO_REASON = 2  # provider rejection
    ABSTRACT_SYNTAX_NOT_SUPPORTED = 3  # provider rejection
    TRANSFER_SYNTAXES_NOT_SUPPORTED = 4  # provider rejection


@dataclass(frozen=True)
class SupportedContext:
    """What an acceptor takes for one abstract syntax (PS3.7 D.3.2, D.3.3.4).

    ``scu_role`` and ``scp_role`` are the acceptor's answers when the
    requestor proposes role selection for this SOP class. They speak of the
    *requestor's* roles, as the role selection item does:

    * ``scu_role``: None or True accepts the requestor as SCU if it proposes
      it; False refuses.
    * ``scp_role``: True accepts the requestor as SCP if it proposes it;
      None or False refuses. Letting the peer act as SCP (e.g. a C-GET SCU
      receiving C-STORE requests) must be asked for explicitly.

    The acceptor never answers 1 to a role the requestor did not propose.
    """

    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]
    scu_role: bool | None = None
    scp_role: bool | None = None


@dataclass(frozen=True)
class NegotiatedContext:
    """The outcome of negotiating one presentation context.

    ``as_scu`` and ``as_scp`` say whether the *local* node (the side that
    computed this outcome) may act as SCU, respectively SCP, for the
    context's abstract syntax. A rejected context has ``result`` != 0, an
    empty ``transfer_syntax`` and neither role.
    """

    context_id: int
    abstract_syntax: str
    transfer_syntax: str
    result: int
    as_scu: bool
    as_scp: bool

    @property
    def accepted(self) -> bool:
        """True when the context was accepted (result 0)."""
        return self.result == ContextResult.ACCEPTANCE


# -- acceptor ---------------------------------------------------------------


def negotiate_as_acceptor(
    requested: Sequence[PresentationContextRQ],
    supported: Mapping[str, SupportedContext],
    role_requests: Sequence[RoleSelection] = (),
    *,
    prefer_requestor: bool = False,
) -> tuple[
    tuple[PresentationContextAC, ...], tuple[RoleSelection, ...], tuple[NegotiatedContext, ...]
]:
    """Answer an A-ASSOCIATE-RQ's presentation contexts and role selections.

    ``prefer_requestor`` chooses each transfer syntax in the requestor's
    order instead of ours (Explicit VR Big Endian only when nothing else is
    common): right for an archive, where the sender lists its own encoding
    first and a C-GET receiver lists what it wants.

    ``supported`` is keyed by abstract syntax UID. Returns, in order:

    * one :class:`PresentationContextAC` per requested context, in the same
      order (PS3.8 7.1.1.14: one result per proposed context);
    * the role selection replies for the A-ASSOCIATE-AC: one per SOP class
      the requestor proposed role selection for and that was accepted in at
      least one context (PS3.7 D.3.3.4), in the order of ``role_requests``;
    * the outcomes from the acceptor's point of view: ``as_scu``/``as_scp``
      say what the acceptor itself may do on each context.
    """
    duplicated = _duplicated_ids(rq.context_id for rq in requested)
    items = tuple(
        _answer_context(rq, supported, duplicated, prefer_requestor) for rq in requested
    )
    accepted_syntaxes = {
        rq.abstract_syntax
        for rq, ac in zip(requested, items, strict=True)
        if ac.result == ContextResult.ACCEPTANCE
    }
    replies = {
        uid: _role_reply(proposal, supported[uid])
        for uid, proposal in _first_by_uid(role_requests).items()
        if uid in accepted_syntaxes
    }
    outcomes = tuple(
        _acceptor_outcome(rq, ac, replies.get(rq.abstract_syntax))
        for rq, ac in zip(requested, items, strict=True)
    )
    return items, tuple(replies.values()), outcomes


def _duplicated_ids(ids: Iterable[int]) -> frozenset[int]:
    seen: set[int] = set()
    duplicated: set[int] = set()
    for context_id in ids:
        (duplicated if context_id in seen else seen).add(context_id)
    return frozenset(duplicated)


def _valid_id(context_id: int) -> bool:
    """PS3.8 9.3.2.2: Presentation-context-ID values are odd integers 1..255."""
    return 1 <= context_id <= 255 and context_id % 2 == 1


def _answer_context(
    rq: PresentationContextRQ,
    supported: Mapping[str, SupportedContext],
    duplicated: frozenset[int],
    prefer_requestor: bool = False,
) -> PresentationContextAC:
    """The Result/Reason and transfer syntax for one proposed context."""
    if not _valid_id(rq.context_id) or rq.context_id in duplicated:
        return _rejected(rq.context_id, ContextResult.NO_REASON)
    ours = supported.get(rq.abstract_syntax)
    if ours is None:
        return _rejected(rq.context_id, ContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED)
    # The acceptor's order of preference decides (see the module docstring),
    # unless asked to follow the requestor's.
    order = _requestor_order(rq.transfer_syntaxes) if prefer_requestor else ours.transfer_syntaxes
    candidates = ours.transfer_syntaxes if prefer_requestor else rq.transfer_syntaxes
    for syntax in order:
        if syntax in candidates:
            return PresentationContextAC(rq.context_id, int(ContextResult.ACCEPTANCE), syntax)
    return _rejected(rq.context_id, ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED)


_EXPLICIT_BIG_ENDIAN = "1.2.840.10008.1.2.2"


def _requestor_order(syntaxes: Sequence[str]) -> list[str]:
    """The requestor's order with Explicit VR Big Endian (retired) moved last.

    DCMTK's storescu offers [Explicit BE, Implicit LE] as a fallback
    context and expects Implicit to be taken.
    """
    return [s for s in syntaxes if s != _EXPLICIT_BIG_ENDIAN] + [
        s for s in syntaxes if s == _EXPLICIT_BIG_ENDIAN
    ]


def _rejected(context_id: int, result: ContextResult) -> PresentationContextAC:
    # PS3.8 9.3.3.2: the transfer syntax of a rejected context is not significant.
    return PresentationContextAC(context_id, int(result), "")


def _first_by_uid(items: Sequence[RoleSelection]) -> dict[str, RoleSelection]:
    """Role selection items by SOP class UID, the first one winning."""
    found: dict[str, RoleSelection] = {}
    for item in items:
        found.setdefault(item.sop_class_uid, item)
    return found


def _role_reply(proposal: RoleSelection, policy: SupportedContext) -> RoleSelection:
    """The acceptor's answer to one role selection proposal (PS3.7 D.3.3.4).

    Each answer may be 1 only where the requestor proposed 1. Taking the
    requestor as SCU is the default relationship, so it is granted unless
    refused; taking it as SCP reverses the roles, so it needs an explicit yes.
    """
    scu = proposal.scu_role and policy.scu_role is not False
    scp = proposal.scp_role and policy.scp_role is True
    return RoleSelection(proposal.sop_class_uid, scu, scp)


def _acceptor_outcome(
    rq: PresentationContextRQ, ac: PresentationContextAC, reply: RoleSelection | None
) -> NegotiatedContext:
    if ac.result != ContextResult.ACCEPTANCE:
        return NegotiatedContext(rq.context_id, rq.abstract_syntax, "", ac.result, False, False)
    requestor_scu, requestor_scp = _roles(reply)
    # The acceptor is the SCP when the requestor is the SCU, and vice versa.
    return NegotiatedContext(
        rq.context_id,
        rq.abstract_syntax,
        ac.transfer_syntax,
        ac.result,
        as_scu=requestor_scp,
        as_scp=requestor_scu,
    )


def _roles(reply: RoleSelection | None) -> tuple[bool, bool]:
    """The requestor's (SCU, SCP) roles given the acceptor's reply, if any.

    PS3.7 D.3.3.4: without a reply the requestor is SCU and the acceptor SCP.
    """
    if reply is None:
        return True, False
    return reply.scu_role, reply.scp_role


# -- requestor --------------------------------------------------------------


def negotiate_as_requestor(
    requested: Sequence[PresentationContextRQ],
    accepted: Sequence[PresentationContextAC],
    role_requests: Sequence[RoleSelection] = (),
    role_replies: Sequence[RoleSelection] = (),
) -> tuple[NegotiatedContext, ...]:
    """Interpret an A-ASSOCIATE-AC against the A-ASSOCIATE-RQ we sent.

    Returns one outcome per requested context, in the requested order, from
    the requestor's point of view: ``as_scu``/``as_scp`` say what the
    requestor may do. The AC's results may come in any order (PS3.8
    7.1.1.14), so they are matched by context ID.
    """
    answers: dict[int, PresentationContextAC] = {}
    for ac in accepted:
        answers.setdefault(ac.context_id, ac)
    proposals = _first_by_uid(role_requests)
    replies = _first_by_uid(role_replies)
    return tuple(
        _requestor_outcome(rq, answers.get(rq.context_id), proposals, replies) for rq in requested
    )


def _requestor_outcome(
    rq: PresentationContextRQ,
    ac: PresentationContextAC | None,
    proposals: Mapping[str, RoleSelection],
    replies: Mapping[str, RoleSelection],
) -> NegotiatedContext:
    result = _requestor_result(rq, ac)
    if ac is None or result != ContextResult.ACCEPTANCE:
        return NegotiatedContext(rq.context_id, rq.abstract_syntax, "", result, False, False)
    scu, scp = _requestor_roles(proposals.get(rq.abstract_syntax), replies.get(rq.abstract_syntax))
    return NegotiatedContext(
        rq.context_id, rq.abstract_syntax, ac.transfer_syntax, result, scu, scp
    )


def _requestor_result(rq: PresentationContextRQ, ac: PresentationContextAC | None) -> int:
    if ac is None:
        return int(ContextResult.NO_REASON)
    if ac.result != ContextResult.ACCEPTANCE:
        return ac.result
    if ac.transfer_syntax not in rq.transfer_syntaxes:
        return int(ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED)
    return int(ContextResult.ACCEPTANCE)


def _requestor_roles(
    proposal: RoleSelection | None, reply: RoleSelection | None
) -> tuple[bool, bool]:
    """The requestor's (SCU, SCP) roles for one SOP class (PS3.7 D.3.3.4).

    Without a proposal or without a reply the default roles apply (the
    requestor is SCU), even if we proposed only the SCP role: the acceptor
    that omits the reply does not support role selection. A reply to a
    proposal we never made should have been omitted, so it is ignored; so
    is a 1 answered to a role we did not propose ("the Association-requestor
    shall ignore the response if it has not proposed the role").
    """
    if proposal is None or reply is None:
        return _roles(None)
    return proposal.scu_role and reply.scu_role, proposal.scp_role and reply.scp_role


# -- asynchronous operations window -----------------------------------------


_MAX_WINDOW = 0xFFFF  # both fields are 2-byte unsigned (PS3.7 Table D.3-7)


def negotiate_async_window(
    proposed: tuple[int, int] | None, supported: tuple[int, int] = (1, 1)
) -> tuple[int, int] | None:
    """The Asynchronous Operations Window to answer (PS3.7 D.3.3.3).

    ``proposed`` is the requestor's (max operations invoked, max operations
    performed); ``supported`` is this node's own limit for each. 0 means
    unlimited. The answer may not exceed what was offered, so each field is
    the smaller of the two, 0 counting as infinity. Returns None when the
    requestor proposed nothing: the item must then be omitted from the
    response.

    The default (1, 1) is the honest answer for dicomwire as it stands: it
    performs operations one at a time, so it never agrees to more.
    """
    for value in (*supported, *(proposed or ())):
        if not 0 <= value <= _MAX_WINDOW:
            raise ValueError(f"asynchronous operations window value out of range: {value}")
    if proposed is None:
        return None
    return _smaller(proposed[0], supported[0]), _smaller(proposed[1], supported[1])


def _smaller(a: int, b: int) -> int:
    """min(a, b) where 0 stands for unlimited."""
    if a == 0:
        return b
    if b == 0:
        return a
    return min(a, b)
