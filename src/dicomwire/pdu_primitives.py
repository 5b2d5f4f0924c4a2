"""Extended negotiation items in the shape pynetdicom users build them.

Code like ``item = UserIdentityNegotiation(); item.primary_field = b"me";
ae.associate(..., ext_neg=[item])`` runs unchanged with the import changed
to ``dicomwire.pdu_primitives``. Each class turns itself into the frozen
user-information sub-item of :mod:`dicomwire._core.pdu` (PS3.7 D.3.3).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._core.pdu import (
    AsynchronousOperationsWindow,
    RoleSelection,
    UserIdentityRQ,
)
from ._core.pdu import (
    SOPClassCommonExtendedNegotiation as _CommonItem,
)
from ._core.pdu import (
    SOPClassExtendedNegotiation as _ExtendedItem,
)

__all__ = [
    "AsynchronousOperationsWindowNegotiation",
    "SCP_SCU_RoleSelectionNegotiation",
    "SOPClassCommonExtendedNegotiation",
    "SOPClassExtendedNegotiation",
    "UserIdentityNegotiation",
]


def _text(value: str | bytes | None, what: str) -> str:
    if value is None:
        raise ValueError(f"{what} must be set before associating")
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


class SCP_SCU_RoleSelectionNegotiation:
    """SCP/SCU Role Selection (PS3.7 D.3.3.4)."""

    def __init__(self) -> None:
        self.sop_class_uid: str | bytes | None = None
        self.scu_role: bool | None = None
        self.scp_role: bool | None = None

    def to_item(self) -> RoleSelection:
        if not (self.scu_role or self.scp_role):
            raise ValueError("role selection needs scu_role or scp_role set to True")
        uid = _text(self.sop_class_uid, "sop_class_uid")
        return RoleSelection(uid, bool(self.scu_role), bool(self.scp_role))


class AsynchronousOperationsWindowNegotiation:
    """Asynchronous Operations Window (PS3.7 D.3.3.3); 0 means unlimited."""

    def __init__(self) -> None:
        self.maximum_number_operations_invoked = 1
        self.maximum_number_operations_performed = 1

    def to_item(self) -> AsynchronousOperationsWindow:
        return AsynchronousOperationsWindow(
            self.maximum_number_operations_invoked, self.maximum_number_operations_performed
        )


class SOPClassExtendedNegotiation:
    """SOP Class Extended Negotiation (PS3.7 D.3.3.5)."""

    def __init__(self) -> None:
        self.sop_class_uid: str | bytes | None = None
        self.service_class_application_information: bytes | None = None

    def to_item(self) -> _ExtendedItem:
        uid = _text(self.sop_class_uid, "sop_class_uid")
        return _ExtendedItem(uid, self.service_class_application_information or b"")


class SOPClassCommonExtendedNegotiation:
    """SOP Class Common Extended Negotiation (PS3.7 D.3.3.6)."""

    def __init__(self) -> None:
        self.sop_class_uid: str | bytes | None = None
        self.service_class_uid: str | bytes | None = None
        self.related_general_sop_class_identification: Sequence[str | bytes] = []

    def to_item(self) -> _CommonItem:
        related = tuple(
            _text(uid, "related UID") for uid in self.related_general_sop_class_identification
        )
        return _CommonItem(
            _text(self.sop_class_uid, "sop_class_uid"),
            _text(self.service_class_uid, "service_class_uid"),
            related,
        )


class UserIdentityNegotiation:
    """User Identity Negotiation request (PS3.7 D.3.3.7).

    ``user_identity_type``: 1 username, 2 username and passcode, 3 Kerberos,
    4 SAML, 5 JSON Web Token.
    """

    def __init__(self) -> None:
        self.user_identity_type: int | None = None
        self.positive_response_requested = False
        self.primary_field: bytes | None = None
        self.secondary_field: bytes | None = None

    def to_item(self) -> UserIdentityRQ:
        if self.user_identity_type not in (1, 2, 3, 4, 5):
            raise ValueError("user_identity_type must be 1 to 5 (PS3.7 Table D.3-14)")
        if not self.primary_field:
            raise ValueError("primary_field must be set")
        if self.user_identity_type == 2 and not self.secondary_field:
            raise ValueError("a username and passcode identity needs secondary_field")
        return UserIdentityRQ(
            self.user_identity_type,
            bool(self.positive_response_requested),
            bytes(self.primary_field),
            bytes(self.secondary_field or b""),
        )
