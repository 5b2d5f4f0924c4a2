"""dicomwire as Query/Retrieve SCU (C-FIND, C-GET, C-MOVE, C-CANCEL) against pynetdicom."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydicom.dataset import Dataset

import peers
from dicomwire import AE, build_role, evt
from dicomwire.services.qr_scu import resolve_query_model
from dicomwire.sop_class import (
    CTImageStorage,
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
)

pytestmark = pytest.mark.interop
LOCAL = "127.0.0.1"
INSTANCES = [peers.make_ct(size_bytes=4000, seed=i, PatientID="1234567") for i in range(3)]


class PeerSCP:
    """A pynetdicom Q/R SCP whose handlers follow the seeds' pattern."""

    def __init__(self) -> None:
        pynetdicom = peers.require_pynetdicom()
        self.port = peers.free_port()
        self.destination_port = peers.free_port()
        self.find_started = 0.0
        ae = pynetdicom.AE("PYNET-QR")
        for uid in (
            PatientRootQueryRetrieveInformationModelFind,
            StudyRootQueryRetrieveInformationModelFind,
            ModalityWorklistInformationFind,
            PatientRootQueryRetrieveInformationModelGet,
            PatientRootQueryRetrieveInformationModelMove,
        ):
            ae.add_supported_context(uid)
        ae.add_supported_context(CTImageStorage, scu_role=False, scp_role=True)
        ae.add_requested_context(CTImageStorage)
        handlers = [
            (pynetdicom.evt.EVT_C_FIND, self.find),
            (pynetdicom.evt.EVT_C_GET, self.get),
            (pynetdicom.evt.EVT_C_MOVE, self.move),
        ]
        self.server = ae.start_server((LOCAL, self.port), block=False, evt_handlers=handlers)

    def find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for index in range(100):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            match = Dataset()
            match.QueryRetrieveLevel = event.identifier.QueryRetrieveLevel
            match.PatientID = f"P{index}"
            yield 0xFF00, match
            time.sleep(0.05)  # 100 matches: 5 s unless cancelled

    def get(self, event: Any) -> Iterator[Any]:
        yield len(INSTANCES)
        for ds in INSTANCES:
            yield 0xFF00, ds

    def move(self, event: Any) -> Iterator[Any]:
        if event.move_destination != "DEST":
            yield None, None
            return
        yield LOCAL, self.destination_port
        yield len(INSTANCES)
        for ds in INSTANCES:
            yield 0xFF00, ds


@pytest.fixture(scope="module")
def peer() -> Iterator[PeerSCP]:
    scp = PeerSCP()
    yield scp
    scp.server.shutdown()


def query(level: str = "PATIENT") -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    ds.PatientID = "1234567"
    return ds


def scu(*uids: str) -> AE:
    ae = AE("DW-SCU")
    for uid in uids:
        ae.add_requested_context(uid)
    return ae


def test_query_models_resolve() -> None:
    assert resolve_query_model("P", "find") == PatientRootQueryRetrieveInformationModelFind
    assert resolve_query_model(b"S", "find") == StudyRootQueryRetrieveInformationModelFind
    assert resolve_query_model("W", "find") == ModalityWorklistInformationFind
    assert resolve_query_model("P", "get") == PatientRootQueryRetrieveInformationModelGet
    assert resolve_query_model(PatientRootQueryRetrieveInformationModelMove, "move").endswith(".2")
    with pytest.raises(ValueError, match="unknown query model"):
        resolve_query_model("Z", "find")


def test_find_then_cancel_from_the_loop(peer: PeerSCP) -> None:
    assoc = scu(PatientRootQueryRetrieveInformationModelFind).associate(LOCAL, peer.port)
    started = time.monotonic()
    statuses = []
    for status, identifier in assoc.send_c_find(query(), "P", msg_id=42):
        statuses.append(status.Status)
        if status.Status == 0xFF00:
            assert identifier is not None and identifier.PatientID.startswith("P")
        if len(statuses) == 3:
            assoc.send_c_cancel(42)
    elapsed = time.monotonic() - started
    assoc.release()
    assert statuses[-1] == 0xFE00 and all(s == 0xFF00 for s in statuses[:-1])
    assert elapsed < 3, "the cancel must end the find well before the handler's 5 s"


def test_find_on_study_root_by_uid(peer: PeerSCP) -> None:
    assoc = scu(StudyRootQueryRetrieveInformationModelFind).associate(LOCAL, peer.port)
    responses = assoc.send_c_find(query("STUDY"), StudyRootQueryRetrieveInformationModelFind)
    first_status, first = next(responses)
    assert first_status.Status == 0xFF00 and first is not None
    assert first.QueryRetrieveLevel == "STUDY"
    responses.close()  # stop early: the rest is left unread
    assoc.abort()


def test_get_receives_instances_on_the_same_association(peer: PeerSCP) -> None:
    received: list[str] = []

    def handle_store(event: Any) -> int:
        received.append(event.dataset.SOPInstanceUID)
        return 0x0000

    ae = scu(PatientRootQueryRetrieveInformationModelGet, CTImageStorage)
    assoc = ae.associate(
        LOCAL, peer.port, ext_neg=[build_role(CTImageStorage, scp_role=True)],
        evt_handlers=[(evt.EVT_C_STORE, handle_store)],
    )  # fmt: skip
    counters = [
        (s.Status, s.NumberOfRemainingSuboperations, s.NumberOfCompletedSuboperations)
        for s, _ in assoc.send_c_get(query(), "P")
    ]
    assoc.release()
    assert counters[:3] == [(0xFF00, 2, 1), (0xFF00, 1, 2), (0xFF00, 0, 3)]
    assert counters[-1][0] == 0x0000
    assert received == [ds.SOPInstanceUID for ds in INSTANCES]


def test_move_to_a_dicomwire_destination(peer: PeerSCP) -> None:
    stored: list[str] = []
    dest = AE("DEST")
    dest.add_supported_context(CTImageStorage)
    server = dest.start_server(
        (LOCAL, peer.destination_port), block=False,
        evt_handlers=[(evt.EVT_C_STORE, lambda e: stored.append(e.dataset.SOPInstanceUID) or 0)],
    )  # fmt: skip
    assert server is not None
    try:
        assoc = scu(PatientRootQueryRetrieveInformationModelMove).associate(LOCAL, peer.port)
        final = [s.Status for s, _ in assoc.send_c_move(query(), b"DEST", "P")][-1]
        unknown = [s.Status for s, _ in assoc.send_c_move(query(), "NOBODY", "P")]
        assoc.release()
    finally:
        server.shutdown()
    assert final == 0x0000 and sorted(stored) == sorted(ds.SOPInstanceUID for ds in INSTANCES)
    assert unknown == [0xA801]


def test_local_mistakes_raise_before_sending(peer: PeerSCP) -> None:
    assoc = scu(PatientRootQueryRetrieveInformationModelFind).associate(LOCAL, peer.port)
    with pytest.raises(ValueError, match="no presentation context"):
        next(assoc.send_c_get(query(), "P"))
    with pytest.raises(ValueError, match="AE title"):
        next(assoc.send_c_move(query(), "", "P"))
    with pytest.raises(ValueError, match="message ID 99"):
        assoc.send_c_cancel(99)
    assert assoc.is_established
    assoc.release()
    with pytest.raises(RuntimeError, match="established"):
        next(assoc.send_c_find(query(), "P"))
