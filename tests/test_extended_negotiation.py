"""Extended negotiation: user identity, SOP class (common) extended, async window.

dicomwire as acceptor is driven by dicomwire and by pynetdicom requestors;
dicomwire as requestor talks to a pynetdicom acceptor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import peers
from dicomwire import AE, evt
from dicomwire.pdu_primitives import (
    AsynchronousOperationsWindowNegotiation,
    SCP_SCU_RoleSelectionNegotiation,
    SOPClassCommonExtendedNegotiation,
    SOPClassExtendedNegotiation,
    UserIdentityNegotiation,
)
from dicomwire.sop_class import (
    CTImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)

LOCAL = "127.0.0.1"
FIND = StudyRootQueryRetrieveInformationModelFind


def check_user(event: Any) -> tuple[bool, bytes | None]:
    ok = event.user_id_type == 2 and (event.primary_field, event.secondary_field) == (
        b"alice",
        b"secret",
    )
    return ok, b"welcome" if ok else None


@pytest.fixture
def scp() -> Iterator[int]:
    ae = AE("EXT-SCP")
    ae.add_supported_context(Verification)
    ae.add_supported_context(FIND)
    ae.add_supported_context(CTImageStorage, scp_role=True)
    handlers = [
        (evt.EVT_USER_ID, check_user),
        (evt.EVT_SOP_EXTENDED, lambda e: {uid: b"\x01" for uid in e.app_info}),
        (evt.EVT_SOP_COMMON, lambda e: {uid: item for uid, item in e.items.items()}),
    ]
    port = peers.free_port()
    server = ae.start_server((LOCAL, port), block=False, evt_handlers=handlers)
    assert server is not None
    yield port
    server.shutdown()


def identity(user: bytes, password: bytes, positive: bool = True) -> UserIdentityNegotiation:
    item = UserIdentityNegotiation()
    item.user_identity_type = 2
    item.primary_field = user
    item.secondary_field = password
    item.positive_response_requested = positive
    return item


def requestor() -> AE:
    ae = AE("EXT-SCU")
    ae.add_requested_context(Verification)
    ae.add_requested_context(FIND)
    ae.add_requested_context(CTImageStorage)
    return ae


def test_user_identity_verified_and_answered(scp: int) -> None:
    assoc = requestor().associate(LOCAL, scp, ext_neg=[identity(b"alice", b"secret")])
    assert assoc.is_established
    assert assoc.acceptor.user_information.user_identity_ac.server_response == b"welcome"
    assoc.release()


def test_user_identity_refused(scp: int) -> None:
    assoc = requestor().associate(LOCAL, scp, ext_neg=[identity(b"alice", b"wrong")])
    assert assoc.is_rejected and assoc.rejection == (1, 1, 1)


def test_sop_extended_common_async_and_roles(scp: int) -> None:
    extended = SOPClassExtendedNegotiation()
    extended.sop_class_uid = FIND
    extended.service_class_application_information = b"\x01\x01"
    common = SOPClassCommonExtendedNegotiation()
    common.sop_class_uid = CTImageStorage
    common.service_class_uid = "1.2.840.10008.4.2"
    window = AsynchronousOperationsWindowNegotiation()
    window.maximum_number_operations_invoked = 5
    window.maximum_number_operations_performed = 5
    role = SCP_SCU_RoleSelectionNegotiation()
    role.sop_class_uid = CTImageStorage
    role.scu_role, role.scp_role = True, True
    assoc = requestor().associate(LOCAL, scp, ext_neg=[extended, common, window, role])
    assert assoc.is_established
    info = assoc.acceptor.user_information
    assert [(i.sop_class_uid, i.service_class_application_information)
            for i in info.sop_class_extended] == [(FIND, b"\x01")]  # fmt: skip
    # We perform one operation at a time and say so (PS3.7 D.3.3.3).
    window_answer = info.asynchronous_operations_window
    assert (window_answer.invoked, window_answer.performed) == (1, 1)
    (ct,) = assoc.find_contexts(CTImageStorage, "scp")
    assert ct.as_scp and ct.as_scu
    assoc.release()


def test_pynetdicom_requestor_identity_into_dicomwire(scp: int) -> None:
    pynetdicom = peers.require_pynetdicom()
    from pynetdicom.pdu_primitives import UserIdentityNegotiation as PIdentity

    ae = pynetdicom.AE("PYNET")
    ae.add_requested_context(Verification)
    item = PIdentity()
    item.user_identity_type = 2
    item.primary_field = b"alice"
    item.secondary_field = b"secret"
    item.positive_response_requested = True
    assoc = ae.associate(LOCAL, scp, ext_neg=[item])
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0
    assoc.release()
    item.secondary_field = b"wrong"
    assert ae.associate(LOCAL, scp, ext_neg=[item]).is_rejected


def test_dicomwire_requestor_identity_into_pynetdicom() -> None:
    pynetdicom = peers.require_pynetdicom()
    seen: list[tuple[int, bytes, bytes | None]] = []

    def handle(event: Any) -> tuple[bool, bytes]:
        seen.append((event.user_id_type, event.primary_field, event.secondary_field))
        return True, b"token-ok"

    ae = pynetdicom.AE("PYNET-SCP")
    ae.add_supported_context(Verification)
    port = peers.free_port()
    server = ae.start_server((LOCAL, port), block=False,
                             evt_handlers=[(pynetdicom.evt.EVT_USER_ID, handle)])
    try:
        assoc = requestor().associate(LOCAL, port, ext_neg=[identity(b"bob", b"pw")])
        assert assoc.is_established
        assert seen == [(2, b"bob", b"pw")]
        assoc.release()
    finally:
        server.shutdown()
