"""Presentation contexts and SCP/SCU role selection (PS3.8 7.1.1.13, PS3.7 D.3.3.4).

A presentation context pairs one abstract syntax (a SOP Class UID) with the
transfer syntaxes a requestor can use for it; the acceptor keeps exactly one
or rejects the context (PS3.8 section 9.3.2.2, Table 9-18). The same class
serves both sides: a requestor lists what it proposes, an acceptor lists
what it supports, and after negotiation each accepted context carries its ID,
its single transfer syntax and the roles agreed.

The ready-made lists at the bottom are shared module objects: the AE copies
the contexts it is given (:meth:`PresentationContext.copy`), so changing an
AE's contexts never changes these lists.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from dicomwire import sop_class
from dicomwire._core.pdu import RoleSelection

__all__ = [
    "DEFAULT_TRANSFER_SYNTAXES",
    "AllStoragePresentationContexts",
    "BasicWorklistManagementPresentationContexts",
    "ColorPalettePresentationContexts",
    "DefinedProcedurePresentationContexts",
    "DefinedProcedureProtocolPresentationContexts",
    "HangingProtocolPresentationContexts",
    "ImplantTemplatePresentationContexts",
    "NonPatientObjectPresentationContexts",
    "PresentationContext",
    "PresentationContextTuple",
    "QueryRetrievePresentationContexts",
    "RelevantPatientInformationPresentationContexts",
    "StoragePresentationContexts",
    "SubstanceAdministrationPresentationContexts",
    "VerificationPresentationContexts",
    "build_context",
    "build_role",
]

DEFAULT_TRANSFER_SYNTAXES: list[UID] = [
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
]
"""Transfer syntaxes proposed when none are given: the uncompressed ones of
PS3.5 section 10, Implicit VR Little Endian first because every DICOM
application must support it (PS3.5 section 10.1)."""

# PS3.5 section 9.1: digits and dots, no empty component, at most 64
# characters. Leading zeros are forbidden there too, but some devices put
# them in private UIDs, and refusing such a context would break interop
# for no safety gain, so they are let through.
_UID_SYNTAX = re.compile(r"[0-9]+(\.[0-9]+)*")
_UID_MAX_LENGTH = 64

# PS3.8 Table 9-18: Result/Reason of a presentation context in the A-ASSOCIATE-AC.
_RESULT_TEXT = {
    0: "Accepted",
    1: "Rejected (user rejection)",
    2: "Rejected (no reason given)",
    3: "Rejected (abstract syntax not supported)",
    4: "Rejected (transfer syntaxes not supported)",
}


def _to_uid(value: str | bytes | UID, what: str) -> UID:
    """Check ``value`` is a UID (PS3.5 section 9.1) and return it as a ``UID``.

    Bytes come from the wire, where UIDs may be padded to even length with a
    NUL (PS3.5 section 9.1), so trailing NULs and spaces are removed first.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{what} must be ASCII, got {value!r}") from None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, bytes or UID, not {type(value).__name__}")
    uid = _valid_uid(value.rstrip("\x00 "))
    if uid is None:
        raise ValueError(
            f"invalid {what} {value!r}: a UID is 1 to 64 characters of digits "
            "separated by single dots (PS3.5 section 9.1)"
        )
    return uid


@functools.lru_cache(maxsize=4096)
def _valid_uid(text: str) -> UID | None:
    """``text`` as a ``UID``, or None if it is not one.

    Cached: every association names the same few hundred UIDs again (a
    storescu proposal alone carries over a hundred contexts), and building
    a pydicom ``UID`` is not free. ``UID`` is immutable, so sharing is safe.
    """
    if not text or len(text) > _UID_MAX_LENGTH or _UID_SYNTAX.fullmatch(text) is None:
        return None
    return UID(text)


def _check_role(value: bool | None, what: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{what} must be True, False or None, not {value!r}")
    return value


def _describe(uid: UID) -> str:
    """``Name (uid)`` when pydicom knows the UID, else the bare UID."""
    return f"{uid.name} ({uid})" if uid.name != str(uid) else str(uid)


class PresentationContextTuple(NamedTuple):
    """An accepted context reduced to what DIMSE needs (PS3.8 section 7.1.1.13)."""

    context_id: int
    abstract_syntax: UID
    transfer_syntax: UID


class PresentationContext:
    """One presentation context (PS3.8 section 7.1.1.13, PS3.7 D.3.3.4).

    Before negotiation it is a proposal (requestor) or a policy (acceptor):

    * ``abstract_syntax``: the SOP Class UID;
    * ``transfer_syntax``: the transfer syntaxes, in order of preference;
    * ``context_id``: odd, 1 to 255 (PS3.8 section 9.3.2.2);
    * ``scu_role`` / ``scp_role``: role selection (PS3.7 D.3.3.4). For a
      requestor, the roles it proposes for itself (None: no role selection
      item). For an acceptor, whether it allows the requestor's proposed
      role (None: the default, which is to allow SCU and refuse SCP).

    Negotiation fills in ``result`` (PS3.8 Table 9-18), narrows
    ``transfer_syntax`` to the one accepted, and sets ``as_scu`` / ``as_scp``:
    whether this AE may act as SCU / SCP on the context.
    """

    __slots__ = (
        "_abstract_syntax",
        "_context_id",
        "_result",
        "_scp_role",
        "_scu_role",
        "_transfer_syntax",
        "as_scp",
        "as_scu",
    )

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value

    def __init__(
        self,
        abstract_syntax: str | bytes | UID | None = None,
        transfer_syntax: Sequence[str | bytes | UID] = (),
        context_id: int | None = None,
    ) -> None:
        self._abstract_syntax: UID | None = None
        self._transfer_syntax: list[UID] = []
        self._context_id: int | None = None
        self._result: int | None = None
        self._scu_role: bool | None = None
        self._scp_role: bool | None = None
        self.as_scu: bool | None = None
        self.as_scp: bool | None = None
        if abstract_syntax is not None:
            self.abstract_syntax = abstract_syntax
        self.transfer_syntax = transfer_syntax
        self.context_id = context_id

    # -- identity -----------------------------------------------------------

    @property
    def context_id(self) -> int | None:
        """The Presentation Context ID: odd, 1 to 255 (PS3.8 section 9.3.2.2)."""
        return self._context_id

    @context_id.setter
    def context_id(self, value: int | None) -> None:
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"context_id must be an int or None, not {value!r}")
            if not 1 <= value <= 255 or value % 2 == 0:
                raise ValueError(
                    f"context_id must be an odd integer from 1 to 255 "
                    f"(PS3.8 section 9.3.2.2), not {value}"
                )
        self._context_id = value

    @property
    def abstract_syntax(self) -> UID:
        """The abstract syntax: a SOP Class UID (PS3.8 section 7.1.1.13)."""
        if self._abstract_syntax is None:
            raise ValueError("this presentation context has no abstract syntax yet")
        return self._abstract_syntax

    @abstract_syntax.setter
    def abstract_syntax(self, value: str | bytes | UID) -> None:
        self._abstract_syntax = _to_uid(value, "abstract syntax")

    @property
    def transfer_syntax(self) -> list[UID]:
        """The transfer syntaxes, most preferred first (a copy: edit through the setter)."""
        return list(self._transfer_syntax)

    @transfer_syntax.setter
    def transfer_syntax(self, value: Sequence[str | bytes | UID]) -> None:
        # A bare string is a sequence of characters; taking it as such would
        # produce a list of one-digit "UIDs" instead of an error.
        if isinstance(value, (str, bytes)):
            raise TypeError("transfer_syntax must be a list of UIDs; use [uid] for one")
        uids = [_to_uid(item, "transfer syntax") for item in value]
        self._transfer_syntax = list(dict.fromkeys(uids))

    def add_transfer_syntax(self, uid: str | bytes | UID) -> None:
        """Append ``uid`` unless it is already listed (order is preference)."""
        checked = _to_uid(uid, "transfer syntax")
        if checked not in self._transfer_syntax:
            self._transfer_syntax.append(checked)

    # -- roles and negotiation outcome --------------------------------------

    @property
    def scu_role(self) -> bool | None:
        """Role selection for the SCU role (PS3.7 D.3.3.4); None: not proposed."""
        return self._scu_role

    @scu_role.setter
    def scu_role(self, value: bool | None) -> None:
        self._scu_role = _check_role(value, "scu_role")

    @property
    def scp_role(self) -> bool | None:
        """Role selection for the SCP role (PS3.7 D.3.3.4); None: not proposed."""
        return self._scp_role

    @scp_role.setter
    def scp_role(self, value: bool | None) -> None:
        self._scp_role = _check_role(value, "scp_role")

    @property
    def result(self) -> int | None:
        """Result/Reason of the negotiation (PS3.8 Table 9-18); None before it."""
        return self._result

    @result.setter
    def result(self, value: int | None) -> None:
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255
        ):
            raise ValueError(f"result must be None or a one-byte integer, not {value!r}")
        self._result = value

    @property
    def status(self) -> str:
        """``Pending``, ``Accepted`` or ``Rejected (<reason>)`` (PS3.8 Table 9-18)."""
        if self._result is None:
            return "Pending"
        return _RESULT_TEXT.get(self._result, f"Rejected (unknown reason {self._result})")

    @property
    def as_tuple(self) -> PresentationContextTuple:
        """``(context_id, abstract_syntax, transfer_syntax)``, the first (negotiated) one."""
        if self._context_id is None or not self._transfer_syntax:
            raise ValueError(f"context is incomplete: {self!r}")
        return PresentationContextTuple(
            self._context_id, self.abstract_syntax, self._transfer_syntax[0]
        )

    def copy(self) -> PresentationContext:
        """An independent copy, so shared context lists are never modified."""
        clone = PresentationContext()
        clone._abstract_syntax = self._abstract_syntax
        clone._transfer_syntax = list(self._transfer_syntax)
        clone._context_id = self._context_id
        clone._result = self._result
        clone._scu_role = self._scu_role
        clone._scp_role = self._scp_role
        clone.as_scu = self.as_scu
        clone.as_scp = self.as_scp
        return clone

    # -- comparison and display ---------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PresentationContext):
            return NotImplemented
        return (self._abstract_syntax, self._transfer_syntax) == (
            other._abstract_syntax,
            other._transfer_syntax,
        )

    def __repr__(self) -> str:
        abstract = "?" if self._abstract_syntax is None else _describe(self._abstract_syntax)
        syntaxes = ", ".join(ts.name for ts in self._transfer_syntax) or "none"
        return f"<PresentationContext id={self._context_id} {abstract} [{syntaxes}] {self.status}>"

    def __str__(self) -> str:
        abstract = "?" if self._abstract_syntax is None else _describe(self._abstract_syntax)
        lines = [f"Context ID: {self._context_id}", f"Abstract syntax: {abstract}"]
        lines.append("Transfer syntaxes:")
        lines += [f"    {_describe(ts)}" for ts in self._transfer_syntax] or ["    none"]
        if self._scu_role is not None or self._scp_role is not None:
            lines.append(f"Role selection: SCU {self._scu_role}, SCP {self._scp_role}")
        lines.append(f"Status: {self.status}")
        return "\n".join(lines)


def build_context(
    abstract_syntax: str | bytes | UID,
    transfer_syntax: str | bytes | UID | Sequence[str | bytes | UID] | None = None,
) -> PresentationContext:
    """A new context for ``abstract_syntax`` (PS3.8 section 7.1.1.13).

    ``transfer_syntax`` is one UID, a list of them in order of preference,
    or None for :data:`DEFAULT_TRANSFER_SYNTAXES`.
    """
    if transfer_syntax is None:
        syntaxes: Sequence[str | bytes | UID] = DEFAULT_TRANSFER_SYNTAXES
    elif isinstance(transfer_syntax, (str, bytes)):
        syntaxes = [transfer_syntax]
    else:
        syntaxes = transfer_syntax
    if not syntaxes:
        raise ValueError("a presentation context needs at least one transfer syntax")
    return PresentationContext(abstract_syntax, syntaxes)


def build_role(uid: str | UID, scu_role: bool = False, scp_role: bool = False) -> RoleSelection:
    """An SCP/SCU Role Selection item for SOP Class ``uid`` (PS3.7 D.3.3.4).

    A requestor that wants to act as SCP for a SOP Class (a C-GET SCU that
    receives the C-STORE sub-operations, for example) proposes it this way.
    """
    return RoleSelection(
        sop_class_uid=_to_uid(uid, "SOP Class UID"),
        scu_role=bool(_check_role(scu_role, "scu_role")),
        scp_role=bool(_check_role(scp_role, "scp_role")),
    )


def _contexts(*groups: Iterable[UID]) -> list[PresentationContext]:
    """Contexts with the default transfer syntaxes, numerically ordered by UID."""
    uids = {uid for group in groups for uid in group}
    ordered = sorted(uids, key=lambda uid: tuple(int(part) for part in uid.split(".")))
    return [build_context(uid) for uid in ordered]


VerificationPresentationContexts = _contexts(sop_class.VERIFICATION_SOP_CLASSES)
"""Verification (PS3.4 Annex A)."""

StoragePresentationContexts = _contexts(sop_class.COMMON_STORAGE_SOP_CLASSES)
"""The 120 most used Storage SOP Classes (PS3.4 Annex B), leaving room for 8
more contexts under the 128 that one association can carry (PS3.8 9.3.2.2)."""

AllStoragePresentationContexts = _contexts(sop_class.STORAGE_SOP_CLASSES)
"""Every Storage SOP Class (PS3.4 Annex B); too many to propose, meant for an SCP."""

QueryRetrievePresentationContexts = _contexts(
    sop_class.QR_FIND_SOP_CLASSES, sop_class.QR_MOVE_SOP_CLASSES, sop_class.QR_GET_SOP_CLASSES
)
"""Query/Retrieve FIND, MOVE and GET information models (PS3.4 Annex C)."""

BasicWorklistManagementPresentationContexts = _contexts(sop_class.BASIC_WORKLIST_SOP_CLASSES)
"""Basic Worklist Management (PS3.4 Annex K)."""

RelevantPatientInformationPresentationContexts = _contexts(sop_class.RELEVANT_PATIENT_SOP_CLASSES)
"""Relevant Patient Information Query (PS3.4 Annex Q)."""

SubstanceAdministrationPresentationContexts = _contexts(
    sop_class.SUBSTANCE_ADMINISTRATION_SOP_CLASSES
)
"""Substance Administration Query (PS3.4 Annex V)."""

NonPatientObjectPresentationContexts = _contexts(sop_class.NON_PATIENT_STORAGE_SOP_CLASSES)
"""Non-Patient Object Storage (PS3.4 Annex GG)."""

HangingProtocolPresentationContexts = _contexts(sop_class.HANGING_PROTOCOL_SOP_CLASSES)
"""Hanging Protocol Query/Retrieve (PS3.4 Annex U)."""

DefinedProcedurePresentationContexts = _contexts(sop_class.DEFINED_PROCEDURE_SOP_CLASSES)
"""Defined Procedure Protocol Query/Retrieve (PS3.4 Annex HH)."""

DefinedProcedureProtocolPresentationContexts = DefinedProcedurePresentationContexts
"""The same list under the name pynetdicom gives it."""

ColorPalettePresentationContexts = _contexts(sop_class.COLOR_PALETTE_SOP_CLASSES)
"""Color Palette Query/Retrieve (PS3.4 Annex X)."""

ImplantTemplatePresentationContexts = _contexts(sop_class.IMPLANT_TEMPLATE_SOP_CLASSES)
"""Implant Template Query/Retrieve (PS3.4 Annex BB)."""
