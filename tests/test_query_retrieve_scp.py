"""dicomwire as C-FIND / C-GET / C-MOVE SCP, driven by pynetdicom as the SCU.

Every status rule of the reference behaviour (seed 004) is provoked by a
handler that does the wrong thing; sub-operations go to pynetdicom (the
C-GET requestor with SCP role selection, or a pynetdicom Storage SCP as
Move Destination). Undecodable Identifiers are sent by a dicomwire SCU,
since pynetdicom only sends what it can encode.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

import peers
from dicomwire import AE, build_context, evt
from dicomwire.dimse.commands import C_FIND_RQ, C_GET_RQ, C_MOVE_RQ, Message
from dicomwire.services.base import exchange
from dicomwire.sop_class import (
    CompositeInstanceRetrieveWithoutBulkDataGet,
    CTImageStorage,
    GeneralRelevantPatientInformationQuery,
    HangingProtocolInformationModelFind,
    ModalityWorklistInformationFind,
    MRImageStorage,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
)

pynetdicom = peers.require_pynetdicom()
pytestmark = pytest.mark.interop

LOCAL = "127.0.0.1"
FIND = PatientRootQueryRetrieveInformationModelFind
GET = PatientRootQueryRetrieveInformationModelGet
MOVE = PatientRootQueryRetrieveInformationModelMove
MODELS = [
    FIND,
    GET,
    MOVE,
    ModalityWorklistInformationFind,
    GeneralRelevantPatientInformationQuery,
    CompositeInstanceRetrieveWithoutBulkDataGet,
    HangingProtocolInformationModelFind,
]
# Implicit VR Little Endian, Data Set (0010,0010) announcing 16 bytes, 4 follow.
CORRUPT = b"\x10\x00\x10\x00\x10\x00\x00\x00abcd"

Handler = Callable[..., Any]
Responses = list[tuple[Dataset, Dataset | None]]


# -- peers ------------------------------------------------------------------------


@pytest.fixture
def qr_scp() -> Iterator[Callable[..., int]]:
    """Start a dicomwire Q/R SCP with the given handlers; returns its port."""
    servers: list[Any] = []

    def start(handlers: list[Any], ae: AE | None = None) -> int:
        ae = ae or AE("QR-SCP")
        for uid in MODELS:
            ae.add_supported_context(uid)
        for uid in (CTImageStorage, MRImageStorage):
            # Accept the requestor's SCP role for C-GET sub-operations (seed 001).
            ae.add_supported_context(uid, scu_role=False, scp_role=True)
        port = peers.free_port()
        servers.append(ae.start_server((LOCAL, port), block=False, evt_handlers=handlers))
        return port

    yield start
    for server in servers:
        server.shutdown()


class Destination:
    """A pynetdicom Storage SCP recording what the Move sub-operations carry."""

    def __init__(self, status: Callable[[Dataset], int] = lambda ds: 0x0000) -> None:
        self.port = peers.free_port()
        self.status = status
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        ae = pynetdicom.AE("DEST")
        ae.supported_contexts = pynetdicom.AllStoragePresentationContexts
        handlers = [(pynetdicom.evt.EVT_C_STORE, self.handle_store)]
        self.server = ae.start_server((LOCAL, self.port), block=False, evt_handlers=handlers)

    def handle_store(self, event: Any) -> int:
        ds = event.dataset
        with self.lock:
            self.received.append({
                "uid": str(ds.SOPInstanceUID),
                "originator": event.request.MoveOriginatorApplicationEntityTitle,
                "originator_id": event.request.MoveOriginatorMessageID,
                "syntax": str(event.context.transfer_syntax),
            })
        return self.status(ds)


@pytest.fixture
def destination() -> Iterator[Callable[..., Destination]]:
    made: list[Destination] = []

    def factory(**kwargs: Any) -> Destination:
        made.append(Destination(**kwargs))
        return made[-1]

    yield factory
    for dest in made:
        dest.server.shutdown()


def scu(port: int, models: list[str], roles: list[str] = (), store: Handler | None = None) -> Any:  # type: ignore[assignment]
    """A pynetdicom association as PN-SCU; SCP role proposed for ``roles``."""
    ae = pynetdicom.AE("PN-SCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    for uid in [*models, *roles]:
        ae.add_requested_context(uid)
    assoc = ae.associate(
        LOCAL,
        port,
        ae_title="QR-SCP",
        ext_neg=[pynetdicom.build_role(uid, scp_role=True) for uid in roles],
        evt_handlers=[(pynetdicom.evt.EVT_C_STORE, store)] if store else [],
    )
    assert assoc.is_established
    return assoc


def query(patient_id: str = "1234567") -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "PATIENT"
    ds.PatientID = patient_id
    return ds


def find(port: int, handler_model: str = FIND, msg_id: int = 7) -> Responses:
    assoc = scu(port, [handler_model])
    try:
        return list(assoc.send_c_find(query(), handler_model, msg_id=msg_id))
    finally:
        assoc.release()


def statuses(responses: Responses) -> list[int]:
    return [int(status.Status) for status, _ in responses]


def returned(responses: Responses, index: int) -> Dataset:
    """The Identifier of response ``index``, which must have one."""
    found = responses[index][1]
    assert found is not None
    return found


def counters(status: Dataset) -> tuple[int | None, ...]:
    return tuple(
        status.get(f"NumberOf{name}Suboperations")
        for name in ("Remaining", "Completed", "Failed", "Warning")
    )


def failed_list(identifier: Dataset | None) -> list[str]:
    assert identifier is not None
    value = identifier.FailedSOPInstanceUIDList
    if value in (None, ""):
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def raw_request(port: int, model: str, request: Message, data: bytes) -> int:
    """Send ``request`` with ``data`` as its Identifier from a dicomwire SCU."""
    ae = AE("DW-SCU")
    ae.add_requested_context(model)
    assoc = ae.associate(LOCAL, port, ae_title="QR-SCP")
    try:
        context_id = assoc.accepted_contexts[0].context_id
        assert context_id is not None
        received = exchange(assoc, context_id, request, data)
        assert received is not None
        return int(received.command.Status)  # type: ignore[attr-defined]
    finally:
        assoc.release()


def cts(count: int, **attrs: Any) -> list[Dataset]:
    return [peers.make_ct(size_bytes=2048, seed=i, PatientID="1234567", **attrs)
            for i in range(count)]


# -- C-FIND -------------------------------------------------------------------------


def match(index: int) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "PATIENT"
    ds.PatientID = f"P{index}"
    return ds


def test_find_pending_then_success(qr_scp: Callable[..., int]) -> None:
    seen: list[Any] = []

    def handle(event: Any) -> Iterator[Any]:
        seen.append((event.identifier.PatientID, event.message_id, event.context.abstract_syntax))
        yield 0xFF00, match(0)
        yield 0xFF01, match(1)

    responses = find(qr_scp([(evt.EVT_C_FIND, handle)]))
    assert statuses(responses) == [0xFF00, 0xFF01, 0x0000]
    assert [returned(responses, i).PatientID for i in (0, 1)] == ["P0", "P1"]
    assert responses[2][1] is None
    assert seen == [("1234567", 7, FIND)]


def test_find_with_a_spooled_identifier(qr_scp: Callable[..., int]) -> None:
    """An Identifier spooled to a file is read from it, and the file removed."""
    paths: list[str] = []

    def handle(event: Any) -> Iterator[Any]:
        paths.append(event.dataset_path)
        yield 0xFF00, match(int(event.identifier.PatientID))

    ae = AE("QR-SCP")
    ae.spool_threshold = 0  # every data set goes to a file
    responses = find(qr_scp([(evt.EVT_C_FIND, handle)], ae))
    assert statuses(responses) == [0xFF00, 0x0000]
    assert returned(responses, 0).PatientID == "P1234567"
    assert paths and paths[0] is not None and not Path(paths[0]).exists()


def test_hanging_protocol_find_uses_its_status_table(qr_scp: Callable[..., int]) -> None:
    port = qr_scp([(evt.EVT_C_FIND, lambda e: iter([(0xFF00, match(0)), (0xA900, None)]))])
    responses = find(port, HangingProtocolInformationModelFind)
    assert statuses(responses) == [0xFF00, 0xA900]


def test_worklist_find(qr_scp: Callable[..., int]) -> None:
    def handle(event: Any) -> Iterator[Any]:
        item = Dataset()
        item.PatientName = "Wire^Test"
        item.ScheduledProcedureStepSequence = [Dataset()]
        item.ScheduledProcedureStepSequence[0].Modality = "CT"
        yield 0xFF00, item

    responses = find(qr_scp([(evt.EVT_C_FIND, handle)]), ModalityWorklistInformationFind)
    assert statuses(responses) == [0xFF00, 0x0000]
    assert returned(responses, 0).ScheduledProcedureStepSequence[0].Modality == "CT"


def _raise_on_call(event: Any) -> Any:
    raise RuntimeError("broken handler")


def _raise_at_first_next(event: Any) -> Iterator[Any]:
    raise RuntimeError("broken handler")
    yield  # a generator: the error comes when it is first asked for a result


def _raise_after_one(event: Any) -> Iterator[Any]:
    yield 0xFF00, match(0)
    raise RuntimeError("broken handler")


def _status_dataset(code: int, comment: str = "") -> Dataset:
    status = Dataset()
    status.Status = code
    if comment:
        status.ErrorComment = comment
    return status


FIND_FAILURES: list[tuple[str, Handler | None, list[int]]] = [
    ("no handler", None, [0xC311]),
    ("raises when called", _raise_on_call, [0xC311]),
    ("raises while iterating", _raise_after_one, [0xFF00, 0xC311]),
    ("yields a non-pair", lambda e: iter([0xFF00]), [0xC312]),
    ("pending identifier not a Dataset", lambda e: iter([(0xFF00, "x")]), [0xC312]),
    ("pending without identifier", lambda e: iter([(0xFF00, None)]), [0xC312]),
    ("status Dataset without Status", lambda e: iter([(Dataset(), None)]), [0xC001]),
    ("status of the wrong type", lambda e: iter([("bad", None)]), [0xC002]),
    ("failure", lambda e: iter([(0xFF00, match(0)), (0xA700, None), (0xFF00, match(1))]),
     [0xFF00, 0xA700]),
    ("cancel", lambda e: iter([(0xFE00, None)]), [0xFE00]),
    ("success ends it", lambda e: iter([(0x0000, None), (0xFF00, match(1))]), [0x0000]),
    ("unknown status", lambda e: iter([(0xD123, None)]), [0xD123]),
]


@pytest.mark.parametrize(("handler", "expected"), [c[1:] for c in FIND_FAILURES],
                         ids=[c[0] for c in FIND_FAILURES])
def test_find_statuses(qr_scp: Callable[..., int], handler: Handler | None,
                       expected: list[int]) -> None:
    port = qr_scp([(evt.EVT_C_FIND, handler)] if handler else [])
    assert statuses(find(port)) == expected


def test_find_status_dataset_sets_error_comment(qr_scp: Callable[..., int]) -> None:
    port = qr_scp([(evt.EVT_C_FIND, lambda e: iter([(_status_dataset(0xC123, "no way"), None)]))])
    (status, _), = find(port)
    assert status.Status == 0xC123 and status.ErrorComment == "no way"


def test_find_undecodable_identifier(qr_scp: Callable[..., int]) -> None:
    port = qr_scp([(evt.EVT_C_FIND, lambda e: iter([]))])
    assert raw_request(port, FIND, C_FIND_RQ(MessageID=3, AffectedSOPClassUID=FIND, Priority=0),
                       CORRUPT) == 0xC310


def test_find_cancel_ends_promptly(qr_scp: Callable[..., int]) -> None:
    """A handler that ignores cancels would take 5 s; the C-CANCEL ends it at once."""

    def slow(event: Any) -> Iterator[Any]:
        for index in range(10):
            if index:
                time.sleep(0.5)
            yield 0xFF00, match(index)

    assoc = scu(qr_scp([(evt.EVT_C_FIND, slow)]), [FIND])
    started = time.monotonic()
    try:
        codes = []
        for status, _ in assoc.send_c_find(query(), FIND, msg_id=11):
            codes.append(int(status.Status))
            if len(codes) == 1:
                assoc.send_c_cancel(11, query_model=FIND)
        elapsed = time.monotonic() - started
    finally:
        assoc.release()
    assert codes[-1] == 0xFE00 and set(codes[:-1]) == {0xFF00}
    assert elapsed < 3.0


def test_find_handler_sees_the_cancel(qr_scp: Callable[..., int]) -> None:
    """``event.is_cancelled`` reads a C-CANCEL that arrives while the handler works."""
    seen: list[bool] = []

    def watchful(event: Any) -> Iterator[Any]:
        yield 0xFF00, match(0)
        for _ in range(100):  # up to 5 s without yielding: only the handler can notice
            if event.is_cancelled:
                seen.append(True)
                yield 0xFE00, None
                return
            time.sleep(0.05)
        yield 0xFF00, match(1)

    assoc = scu(qr_scp([(evt.EVT_C_FIND, watchful)]), [FIND])
    try:
        codes = []
        for status, _ in assoc.send_c_find(query(), FIND, msg_id=12):
            codes.append(int(status.Status))
            if len(codes) == 1:
                assoc.send_c_cancel(12, query_model=FIND)
    finally:
        assoc.release()
    assert codes == [0xFF00, 0xFE00] and seen == [True]


def test_find_peer_aborts_while_the_handler_works(
    qr_scp: Callable[..., int], caplog: pytest.LogCaptureFixture
) -> None:
    """The operation ends quietly and the handler's generator is closed."""
    closed = threading.Event()

    def slow(event: Any) -> Iterator[Any]:
        try:
            for index in range(10):
                time.sleep(0.1)
                yield 0xFF00, match(index)
        finally:
            closed.set()

    assoc = scu(qr_scp([(evt.EVT_C_FIND, slow)]), [FIND])
    for _ in assoc.send_c_find(query(), FIND, msg_id=14):
        assoc.abort()
        break
    assert closed.wait(5)
    time.sleep(0.2)  # let the acceptor's loop see the abort
    assert not [r for r in caplog.records if r.levelname == "ERROR" and "dicomwire" in r.name]


# -- Relevant Patient Information Query (PS3.4 Q.4.2) --------------------------------


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([], [0x0000]),
        ([(0xFF00, match(0))], [0xFF00, 0x0000]),
        ([(0xFF00, match(0)), (0xFF00, match(1))], [0xC100]),
        ([(0xC100, None)], [0xC100]),
        ([(0xC200, None)], [0xC200]),
    ],
    ids=["no match", "one match", "two matches", "handler says C100", "template unsupported"],
)
def test_relevant_patient(qr_scp: Callable[..., int], results: list[Any],
                          expected: list[int]) -> None:
    port = qr_scp([(evt.EVT_C_FIND, lambda e: iter(results))])
    responses = find(port, GeneralRelevantPatientInformationQuery)
    assert statuses(responses) == expected
    if expected[0] == 0xFF00:
        assert returned(responses, 0).PatientID == "P0"


# -- C-GET --------------------------------------------------------------------------


class StoreSCP:
    """The C-GET requestor's EVT_C_STORE handler: keeps data sets, answers per UID."""

    def __init__(self, answers: dict[str, int] | None = None) -> None:
        self.answers = answers or {}
        self.received: list[Dataset] = []

    def __call__(self, event: Any) -> int:
        ds = event.dataset
        self.received.append(ds)
        return self.answers.get(str(ds.SOPInstanceUID), 0x0000)


def get(port: int, store: StoreSCP, model: str = GET, roles: list[str] = [CTImageStorage],  # noqa: B006
        msg_id: int = 5) -> Responses:
    assoc = scu(port, [model], roles, store)
    try:
        return list(assoc.send_c_get(query(), model, msg_id=msg_id))
    finally:
        assoc.release()


def test_get_sends_datasets_and_files_on_the_same_association(
    qr_scp: Callable[..., int], tmp_path: Path
) -> None:
    path = tmp_path / "implicit.dcm"
    on_disk = peers.make_ct(path, size_bytes=4096, transfer_syntax=ImplicitVRLittleEndian)
    instances: list[Any] = [*cts(2), str(path)]

    def handle(event: Any) -> Iterator[Any]:
        yield len(instances)
        for instance in instances:
            yield 0xFF00, instance

    store = StoreSCP()
    responses = get(qr_scp([(evt.EVT_C_GET, handle)]), store)
    assert statuses(responses) == [0xFF00, 0xFF00, 0xFF00, 0x0000]
    assert [counters(s) for s, _ in responses] == [
        (2, 1, 0, 0), (1, 2, 0, 0), (0, 3, 0, 0), (None, 3, 0, 0)
    ]
    assert all(identifier is None for _, identifier in responses)
    uids = [str(ds.SOPInstanceUID) for ds in store.received]
    assert uids == [str(instances[0].SOPInstanceUID), str(instances[1].SOPInstanceUID),
                    str(on_disk.SOPInstanceUID)]
    assert store.received[2].PixelData == on_disk.PixelData


def test_get_failed_sub_operations_give_warning_with_the_list(qr_scp: Callable[..., int]) -> None:
    ok, warned, refused = cts(3)
    mr = peers.make_ct(size_bytes=2048, seed=9, SOPClassUID=MRImageStorage)  # no context for it
    instances = [ok, warned, refused, mr, 42]  # 42: not an instance at all

    def handle(event: Any) -> Iterator[Any]:
        yield len(instances)
        for instance in instances:
            yield 0xFF00, instance

    store = StoreSCP({str(warned.SOPInstanceUID): 0xB000, str(refused.SOPInstanceUID): 0xA700})
    responses = get(qr_scp([(evt.EVT_C_GET, handle)]), store)
    assert statuses(responses) == [0xFF00] * 5 + [0xB000]
    assert [counters(s) for s, _ in responses] == [
        (4, 1, 0, 0), (3, 1, 0, 1), (2, 1, 1, 1), (1, 1, 2, 1), (0, 1, 3, 1), (None, 1, 3, 1)
    ]
    assert failed_list(responses[-1][1]) == [
        str(warned.SOPInstanceUID), str(refused.SOPInstanceUID), str(mr.SOPInstanceUID)
    ]


def _get_yielding(*items: Any) -> Handler:
    return lambda event: iter(items)


GET_FAILURES: list[tuple[str, Handler | None, list[int]]] = [
    ("no handler", None, [0xC411]),
    ("raises when called", _raise_on_call, [0xC411]),
    ("raises at first next", _raise_at_first_next, [0xC411]),
    ("yields nothing", _get_yielding(), [0xC413]),
    ("number not a number", _get_yielding("many"), [0xC413]),
    ("negative number", _get_yielding(-1), [0xC413]),
    ("non-pair after the number", _get_yielding(1, 0xFF00), [0xC412]),
    ("seed example's early failure", _get_yielding((0xC000, None)), [0xC000]),
    ("status Dataset without Status", _get_yielding(1, (Dataset(), None)), [0xC001]),
    ("status of the wrong type", _get_yielding(1, (None, None)), [0xC002]),
]


@pytest.mark.parametrize(("handler", "expected"), [c[1:] for c in GET_FAILURES],
                         ids=[c[0] for c in GET_FAILURES])
def test_get_statuses(qr_scp: Callable[..., int], handler: Handler | None,
                      expected: list[int]) -> None:
    port = qr_scp([(evt.EVT_C_GET, handler)] if handler else [])
    assert statuses(get(port, StoreSCP())) == expected


def test_get_undecodable_identifier(qr_scp: Callable[..., int]) -> None:
    port = qr_scp([(evt.EVT_C_GET, _get_yielding(0))])
    request = C_GET_RQ(MessageID=3, AffectedSOPClassUID=GET, Priority=0)
    assert raw_request(port, GET, request, CORRUPT) == 0xC410


@pytest.mark.parametrize(
    ("final", "expected_status", "expected_counters"),
    [
        ((0xA702, None), 0xA702, (None, 1, 2, 0)),  # Failure: failed += remaining
        ((0xB000, None), 0xB000, (None, 1, 2, 0)),  # a Warning yielded: the same rule
        ((0xFE00, None), 0xFE00, (2, 1, 0, 0)),  # Cancel: remaining kept
        ((0x0000, None), 0x0000, (None, 1, 0, 0)),  # Success yielded early
    ],
    ids=["failure", "warning", "cancel", "success"],
)
def test_get_final_status_from_the_handler(
    qr_scp: Callable[..., int], final: tuple[int, None], expected_status: int,
    expected_counters: tuple[int | None, ...]
) -> None:
    first, *_ = cts(1)
    port = qr_scp([(evt.EVT_C_GET, _get_yielding(3, (0xFF00, first), final))])
    responses = get(port, StoreSCP())
    assert statuses(responses) == [0xFF00, expected_status]
    status, identifier = responses[-1]
    assert counters(status) == expected_counters
    if expected_status != 0x0000:
        assert failed_list(identifier) == []
    else:
        assert identifier is None


def test_get_handler_failure_list_is_kept(qr_scp: Callable[..., int]) -> None:
    given = Dataset()
    given.FailedSOPInstanceUIDList = ["1.2.3.4", "1.2.3.5"]
    port = qr_scp([(evt.EVT_C_GET, _get_yielding(2, (0xA702, given)))])
    (status, identifier), = get(port, StoreSCP())
    assert status.Status == 0xA702 and counters(status) == (None, 0, 2, 0)
    assert failed_list(identifier) == ["1.2.3.4", "1.2.3.5"]


def test_get_cancel_from_the_scu(qr_scp: Callable[..., int]) -> None:
    instances = cts(5)

    def slow(event: Any) -> Iterator[Any]:
        yield len(instances)
        for index, instance in enumerate(instances):
            if index:
                time.sleep(0.3)
            yield 0xFF00, instance

    assoc = scu(qr_scp([(evt.EVT_C_GET, slow)]), [GET], [CTImageStorage], StoreSCP())
    try:
        responses = []
        for status, identifier in assoc.send_c_get(query(), GET, msg_id=13):
            responses.append((status, identifier))
            if len(responses) == 1:
                assoc.send_c_cancel(13, query_model=GET)
    finally:
        assoc.release()
    status, identifier = responses[-1]
    assert status.Status == 0xFE00
    remaining, completed, failed, warning = counters(status)
    assert completed is not None and remaining is not None
    assert completed + remaining == 5 and completed < 5 and (failed, warning) == (0, 0)
    assert failed_list(identifier) == []


def test_get_without_bulk_data(qr_scp: Callable[..., int], tmp_path: Path) -> None:
    with_waveform = peers.make_ct(size_bytes=2048, seed=1)
    waveform = Dataset()
    waveform.NumberOfWaveformChannels = 1
    waveform.WaveformData = b"\x01\x02\x03\x04"
    with_waveform.WaveformSequence = Sequence([waveform])
    with_waveform.EncapsulatedDocument = b"%PDF"
    path = tmp_path / "overlay.dcm"
    with_overlay = peers.make_ct(size_bytes=2048, seed=2)
    with_overlay.add_new(0x60003000, "OW", b"\xff" * 8)  # Overlay Data, a repeating group
    with_overlay.save_as(path, enforce_file_format=True)
    instances: list[Any] = [with_waveform, path]

    def handle(event: Any) -> Iterator[Any]:
        yield 2
        for instance in instances:
            yield 0xFF00, instance

    store = StoreSCP()
    model = CompositeInstanceRetrieveWithoutBulkDataGet
    responses = get(qr_scp([(evt.EVT_C_GET, handle)]), store, model)
    assert statuses(responses) == [0xFF00, 0xFF00, 0x0000]
    first, second = store.received
    for name in ("PixelData", "EncapsulatedDocument"):
        assert name not in first and name not in second
    assert "WaveformData" not in first.WaveformSequence[0]
    assert first.WaveformSequence[0].NumberOfWaveformChannels == 1
    assert 0x60003000 not in second and second.PatientID == "DW-0001"
    # The handler's own data set and file are untouched.
    assert "PixelData" in with_waveform and "WaveformData" in with_waveform.WaveformSequence[0]
    assert "PixelData" in dcmread(path)


# -- C-MOVE -------------------------------------------------------------------------


def move(port: int, destination_aet: str = "DEST", msg_id: int = 9) -> Responses:
    assoc = scu(port, [MOVE])
    try:
        return list(assoc.send_c_move(query(), destination_aet, MOVE, msg_id=msg_id))
    finally:
        assoc.release()


def _move_to(port: int, instances: list[Any], extra: tuple[Any, ...] = ()) -> Handler:
    def handle(event: Any) -> Iterator[Any]:
        if event.move_destination != "DEST":
            yield None, None
            return
        yield (LOCAL, port, *extra)
        yield len(instances)
        for instance in instances:
            yield 0xFF00, instance

    return handle


def test_move_to_a_destination_with_contexts_from_the_instances(
    qr_scp: Callable[..., int], destination: Callable[..., Destination], tmp_path: Path
) -> None:
    dest = destination()
    path = tmp_path / "implicit.dcm"
    peers.make_ct(path, size_bytes=4096, transfer_syntax=ImplicitVRLittleEndian, seed=5)
    mr = peers.make_ct(size_bytes=2048, seed=6, SOPClassUID=MRImageStorage)
    instances: list[Any] = [*cts(1), mr, path]
    port = qr_scp([(evt.EVT_C_MOVE, _move_to(dest.port, instances))])
    responses = move(port)
    assert statuses(responses) == [0xFF00, 0xFF00, 0xFF00, 0x0000]
    assert [counters(s) for s, _ in responses] == [
        (2, 1, 0, 0), (1, 2, 0, 0), (0, 3, 0, 0), (None, 3, 0, 0)
    ]
    assert [r["originator"] for r in dest.received] == ["PN-SCU"] * 3
    assert [r["originator_id"] for r in dest.received] == [9, 9, 9]
    # Every instance went as it was: a context was proposed for its own syntax.
    assert [r["syntax"] for r in dest.received] == [
        str(instances[0].file_meta.TransferSyntaxUID), str(mr.file_meta.TransferSyntaxUID),
        ImplicitVRLittleEndian,
    ]


def test_move_with_requested_contexts_and_a_failing_sub_operation(
    qr_scp: Callable[..., int], destination: Callable[..., Destination]
) -> None:
    ok, refused = cts(2)
    dest = destination(status=lambda ds: 0xA700 if ds.SOPInstanceUID == refused.SOPInstanceUID
                       else 0x0000)
    scp_ae = AE("QR-SCP")
    scp_ae.requested_contexts = [build_context(CTImageStorage)]
    handler = _move_to(dest.port, [ok, refused], ({"ae_title": "DEST", "max_pdu": 0},))
    responses = move(qr_scp([(evt.EVT_C_MOVE, handler)], scp_ae))
    assert statuses(responses) == [0xFF00, 0xFF00, 0xB000]
    assert counters(responses[-1][0]) == (None, 1, 1, 0)
    assert failed_list(responses[-1][1]) == [str(refused.SOPInstanceUID)]
    assert len(dest.received) == 2


def _move_yielding(*items: Any) -> Handler:
    return lambda event: iter(items)


def _raise_after(*first: Any) -> Handler:
    def handle(event: Any) -> Iterator[Any]:
        yield first
        raise RuntimeError("broken handler")

    return handle


MOVE_FAILURES: list[tuple[str, Callable[[int], Handler | None], list[int]]] = [
    ("no handler", lambda port: None, [0xC511]),
    ("raises when called", lambda port: _raise_on_call, [0xC511]),
    ("unknown destination", lambda port: _move_to(port, cts(1)), [0xA801]),
    ("unreachable destination",
     lambda port: _move_yielding((LOCAL, peers.free_port()), 1, (0xFF00, cts(1)[0])), [0xA801]),
    ("destination not a pair", lambda port: _move_yielding(("x",)), [0xC515]),
    ("port not a number", lambda port: _move_yielding((LOCAL, "port")), [0xC515]),
    ("unknown option", lambda port: _move_yielding((LOCAL, port, {"bogus": 1})), [0xC515]),
    ("contexts not contexts",
     lambda port: _move_yielding((LOCAL, port, {"contexts": CTImageStorage})), [0xC515]),
    ("option refused by associate",
     lambda port: _move_yielding((LOCAL, port, {"max_pdu": "big"}), 1, (0xFF00, cts(1)[0])),
     [0xC515]),
    ("yields nothing", lambda port: _move_yielding(), [0xC514]),
    ("no number", lambda port: _move_yielding((LOCAL, port)), [0xC514]),
    ("number not a number", lambda port: _move_yielding((LOCAL, port), "many"), [0xC513]),
    ("raises after the destination", lambda port: _raise_after(LOCAL, port), [0xC511]),
    ("non-pair", lambda port: _move_yielding((LOCAL, port), 2, 0xFF00), [0xC512]),
    ("seed example's early failure", lambda port: _move_yielding((0xC000, None)), [0xC000]),
    ("failure before the number", lambda port: _move_yielding((LOCAL, port), (0xA701, None)),
     [0xA701]),
    ("failure after one", lambda port: _move_yielding(
        (LOCAL, port), 3, (0xFF00, cts(1)[0]), (0xA702, None)), [0xFF00, 0xA702]),
    ("cancel from the handler", lambda port: _move_yielding(
        (LOCAL, port), 3, (0xFF00, cts(1)[0]), (0xFE00, None)), [0xFF00, 0xFE00]),
    ("zero sub-operations", lambda port: _move_yielding((LOCAL, port), 0), [0x0000]),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in MOVE_FAILURES],
                         ids=[c[0] for c in MOVE_FAILURES])
def test_move_statuses(qr_scp: Callable[..., int], destination: Callable[..., Destination],
                       make: Callable[[int], Handler | None], expected: list[int]) -> None:
    dest = destination()
    handler = make(dest.port)
    port = qr_scp([(evt.EVT_C_MOVE, handler)] if handler else [])
    responses = move(port, "ELSEWHERE" if expected == [0xA801] else "DEST")
    assert statuses(responses) == expected
    if expected[-1] == 0xA702:
        assert counters(responses[-1][0]) == (None, 1, 2, 0)
    if expected[-1] == 0xFE00:
        assert counters(responses[-1][0]) == (2, 1, 0, 0)


def test_move_undecodable_identifier(qr_scp: Callable[..., int]) -> None:
    port = qr_scp([(evt.EVT_C_MOVE, _move_yielding(None, None))])
    request = C_MOVE_RQ(MessageID=3, AffectedSOPClassUID=MOVE, Priority=0, MoveDestination="D")
    assert raw_request(port, MOVE, request, CORRUPT) == 0xC510
