"""Access control of the node: calling and called AE titles, per-AE permissions,
user identity. Refusals of an operation answer 0x0124 Refused: Not Authorized."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

import peers
from dicomwire import AE, build_role, evt
from dicomwire.node.app import Node
from dicomwire.node.config import ConfigError, NodeConfig, Permission, load
from dicomwire.pdu_primitives import UserIdentityNegotiation

NOT_AUTHORIZED = 0x0124
FIND, GET, MOVE = (f"1.2.840.10008.5.1.4.1.2.2.{n}" for n in (1, 3, 2))
CT = str(peers.CT_IMAGE_STORAGE)
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
PERMISSIONS = {
    "CT1": Permission(store=True),
    "QR1": Permission(query=True, retrieve=True, move_destinations=("VIEWER",)),
}


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    nodes: list[Node] = []

    def run(**settings: Any) -> int:
        port = peers.free_port()
        config = NodeConfig(data_dir=tmp_path / f"data{len(nodes)}", port=port,
                            bind=peers.LOCALHOST, shutdown_grace=5, **settings)  # fmt: skip
        node = Node(config.validated())
        node.start()
        nodes.append(node)
        return port

    yield run
    for node in nodes:
        node.stop()


def associate(port: int, calling: str, called: str = "DICOMWIRE", identity: Any = None) -> Any:
    ae = AE(calling)
    ae.add_requested_context(CT, [ExplicitVRLittleEndian])
    for model in (FIND, GET, MOVE):
        ae.add_requested_context(model)
    ae.add_requested_context("1.2.840.10008.1.1")
    ext = [
        build_role(CT, scu_role=True, scp_role=True),
        *([identity] if identity is not None else []),
    ]
    return ae.associate(peers.LOCALHOST, port, ae_title=called, ext_neg=ext,
                        evt_handlers=[(evt.EVT_C_STORE, lambda event: 0)])  # fmt: skip


def store(assoc: Any, seed: int = 1) -> int:
    ds = peers.make_ct(size_bytes=1024, seed=seed, PatientID="ACCESS")
    return int(assoc.send_c_store(ds).Status)


def study_query() -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.PatientID = "ACCESS"
    query.StudyInstanceUID = ""
    return query


def final(responses: Iterator[tuple[Dataset, Any]]) -> tuple[int, int]:
    """(final status, number of pending responses)."""
    codes = [int(status.Status) for status, _ in responses]
    return codes[-1], len(codes) - 1


def test_per_ae_permissions(start: Any) -> None:
    port = start(permissions=PERMISSIONS, known_ae={"VIEWER": (peers.LOCALHOST, 1),
                                                   "OTHER": (peers.LOCALHOST, 2)})  # fmt: skip
    ct = associate(port, "CT1")
    assert ct.is_established
    try:
        assert store(ct) == 0x0000
        assert final(ct.send_c_find(study_query(), FIND))[0] == NOT_AUTHORIZED
        assert final(ct.send_c_get(study_query(), GET))[0] == NOT_AUTHORIZED
        assert final(ct.send_c_move(study_query(), "VIEWER", MOVE))[0] == NOT_AUTHORIZED
    finally:
        ct.release()
    qr = associate(port, "QR1")
    try:
        assert store(qr, seed=2) == NOT_AUTHORIZED
        assert final(qr.send_c_find(study_query(), FIND)) == (0x0000, 1)
        assert final(qr.send_c_get(study_query(), GET))[0] == 0x0000
        assert final(qr.send_c_move(study_query(), "OTHER", MOVE))[0] == NOT_AUTHORIZED
        nothing = study_query()
        nothing.PatientID = "NOBODY"  # allowed destination, nothing to send: no sub-association
        assert final(qr.send_c_move(nothing, "VIEWER", MOVE))[0] == 0x0000
        assert int(qr.send_c_echo().Status) == 0x0000
    finally:
        qr.release()
    stranger = associate(port, "STRANGER")  # no entry and no "*": nothing but C-ECHO
    try:
        assert store(stranger, seed=3) == NOT_AUTHORIZED
        assert final(stranger.send_c_find(study_query(), FIND))[0] == NOT_AUTHORIZED
    finally:
        stranger.release()


def test_wildcard_entry_and_pynetdicom(start: Any) -> None:
    port = start(permissions={**PERMISSIONS, "*": Permission(query=True)})
    assert peers.pynetdicom_send(port, [peers.make_ct(size_bytes=512)], called_aet="DICOMWIRE") == [
        NOT_AUTHORIZED
    ]
    answers = peers.pynetdicom_find(port, study_query(), FIND, called_aet="DICOMWIRE")
    assert answers[-1][0] == 0x0000


def test_calling_and_called_ae_checks(start: Any) -> None:
    port = start(allow_caller=("CT1",), check_called_ae=True)
    assert associate(port, "CT2").is_rejected
    assert associate(port, "CT1", called="SOMEONE-ELSE").is_rejected
    good = associate(port, "CT1")
    assert good.is_established
    good.release()


def identity(kind: int, primary: bytes, secondary: bytes | None = None) -> UserIdentityNegotiation:
    item = UserIdentityNegotiation()
    item.user_identity_type = kind
    item.primary_field = primary
    item.secondary_field = secondary
    return item


USERS = {"alice": hashlib.sha256(b"s3cret").hexdigest()}


@pytest.mark.parametrize(
    ("item", "accepted"),
    [
        (identity(2, b"alice", b"s3cret"), True),
        (identity(2, b"alice", b"wrong"), False),
        (identity(2, b"mallory", b"s3cret"), False),
        (identity(1, b"alice"), False),  # a username alone proves nothing
        (identity(5, TOKEN.encode()), True),
        (identity(4, TOKEN.encode()), True),
        (identity(5, b"forged.token.value"), False),
    ],
    ids=["passcode", "wrong-passcode", "unknown-user", "username-only", "jwt", "saml", "bad-jwt"],
)
def test_user_identity(start: Any, item: UserIdentityNegotiation, accepted: bool) -> None:
    port = start(users=USERS, tokens=(TOKEN,))
    assoc = associate(port, "CT1", identity=item)
    assert assoc.is_established is accepted
    assert assoc.is_rejected is not accepted
    if accepted:
        assoc.release()


def test_user_identity_with_pynetdicom(start: Any) -> None:
    pynetdicom = peers.require_pynetdicom()
    port = start(users=USERS)
    for passcode, accepted in ((b"s3cret", True), (b"nope", False)):
        ae = pynetdicom.AE(ae_title="PYNUSER")
        ae.add_requested_context("1.2.840.10008.1.1")
        item = pynetdicom.pdu_primitives.UserIdentityNegotiation()
        item.user_identity_type = 2
        item.primary_field = b"alice"
        item.secondary_field = passcode
        assoc = ae.associate(peers.LOCALHOST, port, ae_title="DICOMWIRE", ext_neg=[item])
        assert assoc.is_established is accepted
        if accepted:
            assert int(assoc.send_c_echo().Status) == 0
            assoc.release()


def test_required_identity_refuses_operations_without_one(start: Any) -> None:
    port = start(users=USERS, require_user_identity=True)
    anonymous = associate(port, "CT1")
    assert anonymous.is_established  # C-ECHO stays possible, for diagnosis
    try:
        assert int(anonymous.send_c_echo().Status) == 0x0000
        assert store(anonymous) == NOT_AUTHORIZED
        assert final(anonymous.send_c_find(study_query(), FIND))[0] == NOT_AUTHORIZED
    finally:
        anonymous.release()
    alice = associate(port, "CT1", identity=identity(2, b"alice", b"s3cret"))
    try:
        assert store(alice) == 0x0000
    finally:
        alice.release()


def test_permissions_from_toml(tmp_path: Path) -> None:
    config_file = tmp_path / "node.toml"
    config_file.write_text(
        'tokens = ["abc"]\n'
        "[permissions.CT1]\nstore = true\n"
        '[permissions.QR1]\nquery = true\nretrieve = true\nmove_destinations = ["VIEWER"]\n'
        f'[users]\nalice = "{USERS["alice"]}"\n'
    )
    config = load({}, str(config_file), environ={})
    assert config.permissions == PERMISSIONS
    assert config.users == USERS and config.tokens == ("abc",)
    assert config.allows("CT1", "store") and not config.allows("CT1", "query")
    assert config.allows_move_to("QR1", "VIEWER") and not config.allows_move_to("QR1", "OTHER")
    assert not config.allows("NOBODY", "store")
    bad = tmp_path / "bad.toml"
    bad.write_text("[permissions.CT1]\nstore = true\ndelete = true\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load({}, str(bad), environ={})
    with pytest.raises(ConfigError, match="SHA-256"):
        load({}, None, environ={"DICOMWIRE_USERS": "alice=secret"})
