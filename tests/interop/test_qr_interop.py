"""Query services between dicomwire and peers nobody here wrote.

* dicomwire as Query/Retrieve SCU (C-FIND, C-GET, C-MOVE) against DCMTK
  ``dcmqrscp`` holding the seeds' patient 1234567 (the ``dcmqrscp`` fixture).
* DCMTK ``findscu`` against dicomwire C-FIND SCPs (Patient/Study Root and
  Modality Worklist), including its ``--cancel``. (``getscu`` and
  ``movescu`` against the seeds' Get and Move SCPs are in test_examples.py.)
* Relevant Patient Information, Modality Worklist and Substance
  Administration (Product Characteristics, Substance Approval) with
  pynetdicom, both ways: dicomwire SCU -> pynetdicom SCP and pynetdicom SCU
  -> dicomwire SCP, the same seed-pattern handler on either SCP.
* C-CANCEL both ways against a find that would otherwise run for >= 5 s.

Every SCP handler here follows the seeds: a generator that yields
``(status, identifier)``, checks ``event.is_cancelled`` before each match and
yields ``(0xFE00, None)`` once cancelled.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

import peers
from dicomwire import AE, build_role, evt
from dicomwire.sop_class import (
    CTImageStorage,
    GeneralRelevantPatientInformationQuery,
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    ProductCharacteristicsQuery,
    StudyRootQueryRetrieveInformationModelFind,
    SubstanceApprovalQuery,
)

pytestmark = pytest.mark.interop

LOCALHOST = peers.LOCALHOST
PENDING = (0xFF00, 0xFF01)
CANCEL = 0xFE00


# -- the seed-pattern C-FIND service, for dicomwire and pynetdicom SCPs alike ----


def matches(record: Dataset, query: Dataset) -> bool:
    """Single value matching on the query's non-empty, non-sequence keys."""
    for elem in query:
        if elem.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet") or elem.VR == "SQ":
            continue
        if elem.value in (None, "", b""):
            continue  # universal matching
        if elem.tag not in record or str(record[elem.tag].value) != str(elem.value):
            return False
    return True


def answer(record: Dataset, query: Dataset) -> Dataset:
    """The response identifier: every key of the query, valued from the record."""
    identifier = Dataset()
    for elem in query:
        source = record if elem.tag in record else query
        identifier.add(copy.deepcopy(source[elem.tag]))
    if "QueryRetrieveLevel" in query:
        identifier.QueryRetrieveLevel = query.QueryRetrieveLevel
    return identifier


@dataclass
class FindService:
    """An EVT_C_FIND handler over ``records``, keeping what it saw."""

    records: Sequence[Dataset]
    delay: float = 0.0  # after each match: makes a slow find to cancel
    queries: list[Dataset] = field(default_factory=list)
    cancelled: list[bool] = field(default_factory=list)  # the handler saw the cancel
    matched: int = 0  # Pending responses yielded

    def handle_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        ds = event.identifier
        self.queries.append(ds)
        for record in self.records:
            # Check if C-CANCEL has been received
            if event.is_cancelled:
                self.cancelled.append(True)
                yield (CANCEL, None)
                return
            if matches(record, ds):
                self.matched += 1
                yield (0xFF00, answer(record, ds))
                time.sleep(self.delay)

    def expected(self, query: Dataset) -> list[Dataset]:
        return [answer(record, query) for record in self.records if matches(record, query)]


@contextlib.contextmanager
def dicomwire_scp(sop_classes: Sequence[str], service: FindService) -> Iterator[int]:
    """A dicomwire AE serving C-FIND for ``sop_classes`` in a thread; yields its port."""
    port = peers.free_port()
    ae = AE("DW-FIND-SCP")
    for uid in sop_classes:
        ae.add_supported_context(uid)
    handlers = [(evt.EVT_C_FIND, service.handle_find)]
    server = ae.start_server((LOCALHOST, port), block=False, evt_handlers=handlers)
    assert server is not None
    try:
        yield port
    finally:
        server.shutdown()


def dicomwire_find(
    port: int, query: Dataset, sop_class: str, cancel_after: int | None = None
) -> list[tuple[int, Dataset | None]]:
    """C-FIND with dicomwire: ``(status, identifier)`` of every response."""
    ae = AE("DW-SCU")
    ae.add_requested_context(sop_class)
    assoc = ae.associate(LOCALHOST, port)
    assert assoc.is_established, f"dicomwire could not associate with port {port}"
    responses: list[tuple[int, Dataset | None]] = []
    try:
        pending = 0
        for status, identifier in assoc.send_c_find(query, sop_class, msg_id=11):
            assert status, f"no response after {responses}"
            responses.append((int(status.Status), identifier))
            if status.Status in PENDING:
                pending += 1
                if pending == cancel_after:
                    assoc.send_c_cancel(11, query_model=sop_class)
    finally:
        assoc.release()
    return responses


def assert_responses(responses: list[tuple[int, Dataset | None]], expected: list[Dataset]) -> None:
    """One Pending per expected identifier, in order, then Success."""
    statuses = [hex(status) for status, _ in responses]
    assert statuses == ["0xff00"] * len(expected) + ["0x0"], statuses
    for (_, identifier), wanted in zip(responses, expected, strict=False):
        assert identifier is not None
        assert peers.element_differences(wanted, identifier) == []


def assert_same_query(sent: Dataset, seen: list[Dataset]) -> None:
    [query] = seen
    assert peers.element_differences(sent, query) == []


# -- dicomwire SCU -> DCMTK dcmqrscp ---------------------------------------------


def uid(value: Any) -> str:
    """dcmqrscp pads UIDs with a space; compare without padding."""
    return str(value).rstrip("\0 ")


def test_find_patient_root_series(dcmqrscp: peers.Dcmqrscp) -> None:
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.PatientID = peers.QR_PATIENT_ID
    query.StudyInstanceUID = peers.QR_STUDY_UID
    query.SeriesInstanceUID = ""
    query.Modality = ""
    responses = dicomwire_find(dcmqrscp.port, query, PatientRootQueryRetrieveInformationModelFind)
    assert [status for status, _ in responses] == [0xFF00, 0x0000], responses
    found = responses[0][1]
    assert found is not None
    assert uid(found.SeriesInstanceUID) == peers.QR_SERIES_UID
    assert found.Modality == "CT"
    assert found.QueryRetrieveLevel == "SERIES"


def test_find_study_root_image(dcmqrscp: peers.Dcmqrscp, qr_instances: list[Path]) -> None:
    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.StudyInstanceUID = peers.QR_STUDY_UID
    query.SeriesInstanceUID = peers.QR_SERIES_UID
    query.SOPInstanceUID = ""
    responses = dicomwire_find(dcmqrscp.port, query, StudyRootQueryRetrieveInformationModelFind)
    assert [status for status, _ in responses][-1] == 0x0000
    found = sorted(uid(ds.SOPInstanceUID) for _, ds in responses[:-1] if ds is not None)
    assert found == sorted(uid(dcmread(p).SOPInstanceUID) for p in qr_instances)


def test_get_one_image(dcmqrscp: peers.Dcmqrscp, qr_instances: list[Path]) -> None:
    stored: list[Dataset] = []

    def handle_store(event: Any) -> int:
        stored.append(event.dataset)
        return 0x0000

    wanted = dcmread(qr_instances[1])
    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.PatientID = peers.QR_PATIENT_ID
    query.StudyInstanceUID = peers.QR_STUDY_UID
    query.SeriesInstanceUID = peers.QR_SERIES_UID
    query.SOPInstanceUID = wanted.SOPInstanceUID
    ae = AE("DW-GET-SCU")
    ae.add_requested_context(PatientRootQueryRetrieveInformationModelGet)
    ae.add_requested_context(CTImageStorage)
    assoc = ae.associate(
        LOCALHOST,
        dcmqrscp.port,
        ext_neg=[build_role(CTImageStorage, scp_role=True)],
        evt_handlers=[(evt.EVT_C_STORE, handle_store)],
    )
    assert assoc.is_established
    try:
        responses = list(assoc.send_c_get(query, PatientRootQueryRetrieveInformationModelGet))
    finally:
        assoc.release()
    statuses = [int(status.Status) for status, _ in responses]
    assert statuses[-1] == 0x0000 and set(statuses[:-1]) <= {0xFF00}, statuses
    final = responses[-1][0]
    assert final.get("NumberOfCompletedSuboperations", 1) == 1
    assert final.get("NumberOfFailedSuboperations", 0) == 0
    [received] = stored
    assert peers.element_differences(wanted, received) == []


def test_move_to_a_dicomwire_storage_scp(
    dcmqrscp: peers.Dcmqrscp, qr_instances: list[Path]
) -> None:
    stored: list[Dataset] = []

    def handle_store(event: Any) -> int:
        stored.append(event.dataset)
        return 0x0000

    destination = AE("DW_STORE")
    destination.add_supported_context(CTImageStorage)
    server = destination.start_server(
        (LOCALHOST, dcmqrscp.destinations["DW_STORE"]),
        block=False,
        evt_handlers=[(evt.EVT_C_STORE, handle_store)],
    )
    assert server is not None
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.PatientID = peers.QR_PATIENT_ID
    query.StudyInstanceUID = peers.QR_STUDY_UID
    try:
        ae = AE("DW-MOVE-SCU")
        ae.add_requested_context(PatientRootQueryRetrieveInformationModelMove)
        assoc = ae.associate(LOCALHOST, dcmqrscp.port)
        assert assoc.is_established
        try:
            move = PatientRootQueryRetrieveInformationModelMove
            responses = list(assoc.send_c_move(query, b"DW_STORE", move))
            unknown = list(assoc.send_c_move(query, "NOBODY", move))
        finally:
            assoc.release()
    finally:
        server.shutdown()
    statuses = [int(status.Status) for status, _ in responses]
    assert statuses[-1] == 0x0000 and set(statuses[:-1]) <= {0xFF00}, statuses
    pending = [status for status, _ in responses[:-1]]
    # the sub-operation counters count down as the instances go out
    remaining = [int(s.NumberOfRemainingSuboperations) for s in pending]
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] == 0, remaining
    originals = {str(ds.SOPInstanceUID): ds for ds in map(dcmread, qr_instances)}
    assert sorted(str(ds.SOPInstanceUID) for ds in stored) == sorted(originals)
    for ds in stored:
        assert peers.element_differences(originals[str(ds.SOPInstanceUID)], ds) == []
    # dcmqrscp does not know NOBODY: Refused, Move Destination unknown
    assert [int(status.Status) for status, _ in unknown] == [0xA801]


# -- DCMTK findscu -> dicomwire C-FIND SCP ---------------------------------------


@pytest.fixture(scope="module")
def qr_records(qr_instances: list[Path]) -> list[Dataset]:
    """The seeds' three CT instances plus one of another patient, without pixels."""
    records = [dcmread(path, stop_before_pixels=True) for path in qr_instances]
    other = peers.make_ct(size_bytes=64, PatientID="7654321", PatientName="Other^Patient")
    del other.PixelData
    return [*records, other]


def test_findscu_patient_root(qr_records: list[Dataset], tmp_path: Path) -> None:
    service = FindService(qr_records[-2:])  # one instance of each patient
    keys = {"QueryRetrieveLevel": "PATIENT", "PatientID": peers.QR_PATIENT_ID, "PatientName": ""}
    with dicomwire_scp([PatientRootQueryRetrieveInformationModelFind], service) as port:
        result = peers.run_findscu(port, keys, model="P", output_dir=tmp_path)
    assert result.returncode == 0, peers.describe_run(result)
    assert peers.dcmtk_response_statuses(result) == ["Pending", "Success"], result.stderr
    [found] = peers.find_responses(tmp_path)
    assert found.PatientName == peers.QR_PATIENT_NAME
    assert found.PatientID == peers.QR_PATIENT_ID
    [query] = service.queries
    assert (query.QueryRetrieveLevel, query.PatientID) == ("PATIENT", peers.QR_PATIENT_ID)


def test_findscu_study_root_images(qr_records: list[Dataset], tmp_path: Path) -> None:
    service = FindService(qr_records)
    keys = {
        "QueryRetrieveLevel": "IMAGE",
        "StudyInstanceUID": peers.QR_STUDY_UID,
        "SeriesInstanceUID": peers.QR_SERIES_UID,
        "SOPInstanceUID": "",
        "InstanceNumber": "",
    }
    with dicomwire_scp([StudyRootQueryRetrieveInformationModelFind], service) as port:
        result = peers.run_findscu(port, keys, model="S", output_dir=tmp_path)
    assert result.returncode == 0, peers.describe_run(result)
    assert peers.dcmtk_response_statuses(result) == ["Pending"] * 3 + ["Success"]
    found = [(str(ds.SOPInstanceUID), ds.InstanceNumber) for ds in peers.find_responses(tmp_path)]
    assert found == [(f"{peers.QR_SERIES_UID}.{n}", n) for n in (1, 2, 3)]


def worklist_records() -> list[Dataset]:
    """Two scheduled procedure steps of the seeds' patient, one of another."""
    records = []
    for patient_id, modality, step in [
        (peers.QR_PATIENT_ID, "CT", "SPS1"),
        (peers.QR_PATIENT_ID, "MR", "SPS2"),
        ("7654321", "CT", "SPS3"),
    ]:
        ds = Dataset()
        ds.PatientName = "Seed^Patient" if patient_id == peers.QR_PATIENT_ID else "Other^Patient"
        ds.PatientID = patient_id
        ds.AccessionNumber = f"ACC-{step}"
        item = Dataset()
        item.Modality = modality
        item.ScheduledStationAETitle = "CT01" if modality == "CT" else "MR01"
        item.ScheduledProcedureStepStartDate = "20240102"
        item.ScheduledProcedureStepID = step
        ds.ScheduledProcedureStepSequence = [item]
        records.append(ds)
    return records


def test_findscu_worklist(tmp_path: Path) -> None:
    service = FindService(worklist_records())
    keys = [
        f"PatientID={peers.QR_PATIENT_ID}",
        "PatientName",
        "AccessionNumber",
        "ScheduledProcedureStepSequence[0].Modality",
        "ScheduledProcedureStepSequence[0].ScheduledProcedureStepID",
    ]
    with dicomwire_scp([ModalityWorklistInformationFind], service) as port:
        result = peers.run_findscu(port, keys, model="W", output_dir=tmp_path)
    assert result.returncode == 0, peers.describe_run(result)
    assert peers.dcmtk_response_statuses(result) == ["Pending", "Pending", "Success"]
    found = peers.find_responses(tmp_path)
    assert [ds.AccessionNumber for ds in found] == ["ACC-SPS1", "ACC-SPS2"]
    assert [ds.ScheduledProcedureStepSequence[0].Modality for ds in found] == ["CT", "MR"]


def test_findscu_cancels_a_dicomwire_find() -> None:
    service = FindService([worklist_records()[0]] * 60, delay=0.1)  # >= 6 s uncancelled
    keys = {"QueryRetrieveLevel": "PATIENT", "PatientID": ""}
    with dicomwire_scp([PatientRootQueryRetrieveInformationModelFind], service) as port:
        started = time.monotonic()
        result = peers.run_findscu(port, keys, model="P", args=["--cancel", "2"])
        elapsed = time.monotonic() - started
    assert result.returncode == 0, peers.describe_run(result)
    statuses = peers.dcmtk_response_statuses(result)
    assert statuses[-1].startswith("Cancel"), peers.describe_run(result)
    assert_handler_stopped(service)
    assert elapsed < 3, f"cancelled find took {elapsed:.1f} s"


# -- pynetdicom <-> dicomwire: Relevant Patient, Worklist, Substance Administration


@dataclass(frozen=True)
class QueryCase:
    sop_class: str
    records: list[Dataset]
    query: Dataset


def relevant_patient_case() -> QueryCase:
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "9007"
    record = Dataset()
    record.PatientName = peers.QR_PATIENT_NAME
    record.PatientID = peers.QR_PATIENT_ID
    record.PatientBirthDate = "19700101"
    record.ContentTemplateSequence = [template]
    query = Dataset()
    query.PatientName = ""
    query.PatientID = peers.QR_PATIENT_ID
    query.PatientBirthDate = ""
    query.ContentTemplateSequence = [copy.deepcopy(template)]
    return QueryCase(GeneralRelevantPatientInformationQuery, [record], query)


def worklist_case() -> QueryCase:
    query = Dataset()
    query.PatientName = ""
    query.PatientID = peers.QR_PATIENT_ID
    query.AccessionNumber = ""
    item = Dataset()
    item.Modality = ""
    item.ScheduledStationAETitle = ""
    item.ScheduledProcedureStepStartDate = ""
    item.ScheduledProcedureStepID = ""
    query.ScheduledProcedureStepSequence = [item]
    return QueryCase(ModalityWorklistInformationFind, worklist_records(), query)


def product_characteristics_case() -> QueryCase:
    records = []
    for package, name in [("PKG-0001", "Contrast 300"), ("PKG-0002", "Contrast 350")]:
        ds = Dataset()
        ds.ProductPackageIdentifier = package
        ds.ProductName = name
        ds.ProductDescription = f"{name} mgI/ml, 100 ml"
        records.append(ds)
    query = Dataset()
    query.ProductPackageIdentifier = "PKG-0002"
    query.ProductName = ""
    query.ProductDescription = ""
    return QueryCase(ProductCharacteristicsQuery, records, query)


def substance_approval_case() -> QueryCase:
    record = Dataset()
    record.PatientID = peers.QR_PATIENT_ID
    record.ProductPackageIdentifier = "PKG-0001"
    record.SubstanceAdministrationApproval = "APPROVED"
    record.ApprovalStatusFurtherDescription = "no known contraindication"
    query = Dataset()
    query.PatientID = peers.QR_PATIENT_ID
    query.ProductPackageIdentifier = "PKG-0001"
    query.SubstanceAdministrationApproval = ""
    query.ApprovalStatusFurtherDescription = ""
    return QueryCase(SubstanceApprovalQuery, [record], query)


CASES = {
    "relevant_patient": relevant_patient_case,
    "worklist": worklist_case,
    "product_characteristics": product_characteristics_case,
    "substance_approval": substance_approval_case,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dicomwire_scu_to_pynetdicom_scp(name: str) -> None:
    case = CASES[name]()
    service = FindService(case.records)
    handlers = {"EVT_C_FIND": service.handle_find}
    with peers.pynetdicom_server([case.sop_class], handlers) as port:
        responses = dicomwire_find(port, case.query, case.sop_class)
    assert_responses(responses, service.expected(case.query))
    assert_same_query(case.query, service.queries)


@pytest.mark.parametrize("name", sorted(CASES))
def test_pynetdicom_scu_to_dicomwire_scp(name: str) -> None:
    case = CASES[name]()
    service = FindService(case.records)
    with dicomwire_scp([case.sop_class], service) as port:
        responses = peers.pynetdicom_find(port, case.query, case.sop_class)
    assert_responses(responses, service.expected(case.query))
    assert_same_query(case.query, service.queries)


# -- C-CANCEL both ways ------------------------------------------------------------


def slow_find() -> tuple[FindService, Dataset]:
    """A find with 60 matches 0.1 s apart (>= 6 s unless cancelled) and its query."""
    record = Dataset()
    record.QueryRetrieveLevel = "PATIENT"
    record.PatientID = peers.QR_PATIENT_ID
    record.PatientName = peers.QR_PATIENT_NAME
    query = Dataset()
    query.QueryRetrieveLevel = "PATIENT"
    query.PatientID = ""
    query.PatientName = ""
    return FindService([record] * 60, delay=0.1), query


def assert_cancelled(responses: list[tuple[int, Dataset | None]], elapsed: float) -> None:
    statuses = [status for status, _ in responses]
    assert statuses[-1] == CANCEL, [hex(s) for s in statuses]
    assert all(status in PENDING for status in statuses[:-1]), [hex(s) for s in statuses]
    assert elapsed < 3, f"the cancelled find took {elapsed:.1f} s"


def assert_handler_stopped(service: FindService) -> None:
    """A dicomwire SCP stopped the handler early, whoever noticed the cancel.

    The handler's own ``event.is_cancelled`` check answers nearly always;
    dicomwire also looks after each Pending yield, before sending it, so a
    cancel landing between the handler's check and its yield still ends
    the find (then the handler never sees it).
    """
    assert service.matched < len(service.records), "the handler ran to the end"


def test_dicomwire_cancels_a_pynetdicom_find() -> None:
    service, query = slow_find()
    find = PatientRootQueryRetrieveInformationModelFind
    with peers.pynetdicom_server([find], {"EVT_C_FIND": service.handle_find}) as port:
        started = time.monotonic()
        responses = dicomwire_find(port, query, find, cancel_after=1)
        elapsed = time.monotonic() - started
    assert_cancelled(responses, elapsed)
    assert service.cancelled == [True]


def test_pynetdicom_cancels_a_dicomwire_find() -> None:
    service, query = slow_find()
    find = PatientRootQueryRetrieveInformationModelFind
    with dicomwire_scp([find], service) as port:
        started = time.monotonic()
        responses = peers.pynetdicom_find(port, query, find, cancel_after=1)
        elapsed = time.monotonic() - started
    assert_cancelled(responses, elapsed)
    assert_handler_stopped(service)
