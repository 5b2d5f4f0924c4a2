"""``dicomwire find/get/move`` as a user runs them, and the ``-k`` key parser.

The tools run as real processes against two Query/Retrieve SCPs holding
the same four instances: DCMTK's ``dcmqrscp`` and a dicomwire AE whose
handlers follow the seeds' pattern. Progress on a terminal is checked
under a pseudo-terminal.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

import peers
from dicomwire.cli.common import CLIError
from dicomwire.cli.find import cell, columns, table
from dicomwire.cli.keys import build_identifier, convert_value, parse_key
from dicomwire.cli.progress import ProgressLine, SubOperations, Transfer, bar

LOCAL = "127.0.0.1"
QR_AET = "QRSCP"
# A storage SOP class outside StoragePresentationContexts, which `get` proposes.
PHOTOACOUSTIC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.3"


dicomwire = peers.run_dicomwire
_env = peers.dicomwire_env


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode != 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------
# -k keys


def test_keys_keyword_tag_and_return_keys() -> None:
    ds = build_identifier(
        [
            "PatientID=12345",
            "0010,0010",
            "(0008,0052)=STUDY",
            "Rows=512",
            "ModalitiesInStudy=CT\\MR",
        ]
    )
    assert ds.PatientID == "12345" and ds.QueryRetrieveLevel == "STUDY"
    assert ds["PatientName"].value in (None, "") and ds.Rows == 512
    assert list(ds.ModalitiesInStudy) == ["CT", "MR"]


def test_keys_nested_sequences_and_overrides() -> None:
    ds = build_identifier(
        [
            "ReferencedStudySequence[0].StudyInstanceUID=1.2.3",
            "ReferencedStudySequence[1].StudyInstanceUID=1.2.4",
            "ScheduledProcedureStepSequence[0].Modality=MR",
            "ScheduledProcedureStepSequence[0].Modality=CT",  # a later key overrides
            "OtherPatientIDsSequence",  # empty sequence: universal matching
            "PatientID=1",
            "PatientID=2",
        ]
    )
    assert [i.StudyInstanceUID for i in ds.ReferencedStudySequence] == ["1.2.3", "1.2.4"]
    assert ds.ScheduledProcedureStepSequence[0].Modality == "CT"
    assert len(ds.OtherPatientIDsSequence) == 0 and ds.PatientID == "2"


def test_key_values_follow_the_vr() -> None:
    assert convert_value("US", "0x10") == 16
    assert convert_value("FD", "1.5\\2") == [1.5, 2.0]
    assert convert_value("AT", "FrameTime") == 0x00181063
    assert convert_value("LO", "a\\b") == "a\\b"  # pydicom splits strings itself
    assert convert_value("PN", "") is None
    key = parse_key("ReferencedSeriesSequence[2].SeriesInstanceUID=1.2")
    assert [step.index for step in key.path] == [2, None] and key.value == "1.2"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("PatientIDD=1", "did you mean PatientID"),
        ("zzzz,0010=1", "4+4 hex digits"),
        ("=1", "no attribute named"),
        ("Rows=abc", "needs integers"),
        ("StudyDate=2020", "Invalid value for VR DA"),
        ("PatientID=" + "x" * 65, "exceeds the maximum length"),
        ("PixelData=1", "binary data"),
        ("PatientID[0]=1", "not a sequence"),
        ("PatientID.PatientName=1", "not a sequence"),
        ("ReferencedStudySequence.StudyInstanceUID=1", "say which item"),
        ("ReferencedStudySequence[x].StudyInstanceUID=1", "not a number"),
        ("ReferencedStudySequence[1].StudyInstanceUID=1", "would skip item 0"),
        ("ReferencedStudySequence=1", "is a sequence"),
    ],
)
def test_bad_keys_are_clear_errors(key: str, message: str) -> None:
    with pytest.raises(CLIError, match=message.replace("+", r"\+")) as info:
        build_identifier([key])
    assert info.value.code == 2


# --------------------------------------------------------------------------
# Progress and table output, in process


def test_progress_line_redraws_only_on_a_terminal() -> None:
    terminal = io.StringIO()
    line = ProgressLine(terminal, enabled=True, interval=0)
    line.show("first, long")
    line.message("a message")
    line.show("second")
    line.close()
    out = terminal.getvalue()
    assert out.startswith("\rfirst, long") and "a message\n" in out
    assert "\rsecond     " in out  # the longer text before is blanked out
    assert out.endswith("\r")
    piped = io.StringIO()
    quiet = ProgressLine(piped)  # StringIO is no terminal: nothing drawn
    quiet.show("status")
    quiet.message("failed x")
    quiet.close()
    assert piped.getvalue() == "failed x\n"


def test_progress_texts() -> None:
    assert bar(0.5, width=4) == "[##..]"
    transfer = Transfer(total=4, total_bytes=4_000_000)
    transfer.add(2_000_000, ok=True)
    transfer.add(2_000_000, ok=False)
    assert "[####" in transfer.line() and "2/4 (1 failed)" in transfer.line()
    assert "MB/s" in transfer.line() and "instances/s" in transfer.rates()
    counters = SubOperations()
    status = Dataset()
    status.NumberOfRemainingSuboperations = 2
    status.NumberOfCompletedSuboperations = 1
    status.NumberOfFailedSuboperations = 1
    counters.update(status)
    assert counters.total == 4 and "2/4 sub-operations" in counters.line()
    final = Dataset()
    final.NumberOfCompletedSuboperations = 3
    counters.update(final)  # remaining absent from a final response: kept
    assert counters.counts() == "3 completed, 1 failed, 0 warning"


def test_table_columns_follow_the_query() -> None:
    query = build_identifier(["QueryRetrieveLevel=STUDY", "StudyDate", "PatientName"])
    first, second = Dataset(), Dataset()
    first.PatientName, first.StudyDate, first.RetrieveAETitle = "Doe^J", "20240101", "QR"
    second.PatientName = "X" * 60
    second.ReferencedStudySequence = [Dataset(), Dataset()]
    tags = columns(query, [first, second])
    lines = table([first, second], tags)
    assert lines[0].split() == [
        "StudyDate", "PatientName", "RetrieveAETitle", "ReferencedStudySequence"
    ]  # fmt: skip
    assert lines[1].split() == ["20240101", "Doe^J", "QR"]
    assert "..." in lines[2] and "<2 items>" in lines[2]
    assert cell(second, 0x00080020) == ""


# --------------------------------------------------------------------------
# The archive both SCPs serve


@dataclass
class Archive:
    folder: Path
    files: list[Path]
    patient1: list[Dataset]  # three CT instances, one study, one series
    patient2: Dataset  # one secondary capture

    @property
    def study1(self) -> str:
        return str(self.patient1[0].StudyInstanceUID)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    folder = tmp_path_factory.mktemp("archive")
    study, series = "1.2.826.0.1.3680043.10.1.1", "1.2.826.0.1.3680043.10.1.1.1"
    common = {"PatientID": "PAT1", "PatientName": "Doe^John"}
    common |= {"StudyInstanceUID": study, "SeriesInstanceUID": series}
    patient1 = [
        peers.make_ct(folder / f"ct{i}.dcm", 30_000, seed=i, InstanceNumber=i + 1, **common)
        for i in range(3)
    ]
    patient2 = peers.make_secondary_capture(
        folder / "sc.dcm", size_bytes=8_000, PatientID="PAT2", PatientName="Roe^Jane"
    )
    files = [folder / f"ct{i}.dcm" for i in range(3)] + [folder / "sc.dcm"]
    return Archive(folder, files, patient1, patient2)


@dataclass
class QRPeer:
    name: str
    port: int
    dest_port: int  # where the AE titled DEST listens (the tests' move +P)
    archive: Archive

    def args(self, command: str, *more: str) -> list[str]:
        return [command, "-aec", QR_AET, LOCAL, str(self.port), *more]


@pytest.fixture(scope="module")
def qr_dcmqrscp(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QRPeer]:
    """DCMTK's dcmqrscp serving (copies of) the archive; it knows DEST at a port of its own."""
    workdir = tmp_path_factory.mktemp("dcmqrscp")
    with peers.dcmtk_dcmqrscp(workdir, archive.files, ["DEST"], ae_title=QR_AET) as peer:
        yield QRPeer("dcmqrscp", peer.port, peer.destinations["DEST"], archive)


class DicomwireQR:
    """A dicomwire Q/R SCP over the archive, with handlers in the seeds' style."""

    def __init__(self, archive: Archive) -> None:
        self.instances = [dcmread(path) for path in archive.files]

    def matching(self, identifier: Dataset) -> list[Dataset]:
        wanted = {
            keyword: str(identifier.get(keyword) or "")
            for keyword in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")
        }
        return [
            ds
            for ds in self.instances
            if all(value in ("", "*", str(ds.get(k, ""))) for k, value in wanted.items())
        ]

    def find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        query = event.identifier
        if query.get("PatientID") == "FAIL":
            yield 0xC000, None
            return
        level = query.QueryRetrieveLevel
        unique = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID"}.get(level, "SOPInstanceUID")
        seen = set()
        for ds in self.matching(query):
            if ds[unique].value in seen:
                continue
            seen.add(ds[unique].value)
            match = Dataset()
            for element in query:
                value = ds[element.tag].value if element.tag in ds else element.value
                match.add_new(element.tag, element.VR, value)
            match.QueryRetrieveLevel = level
            yield 0xFF00, match

    def get(self, event: Any) -> Iterator[Any]:
        if event.identifier.get("PatientID") == "ODD":
            # One instance of a SOP class `get` does not propose: a failed sub-operation.
            odd = copy.deepcopy(self.instances[0])
            odd.SOPClassUID = PHOTOACOUSTIC_IMAGE_STORAGE
            yield 2
            yield 0xFF00, self.instances[0]
            yield 0xFF00, odd
            return
        matches = self.matching(event.identifier)
        yield len(matches)
        for ds in matches:
            yield 0xFF00, ds

    def move(self, event: Any, dest_port: int) -> Iterator[Any]:
        if event.move_destination != "DEST":
            yield None, None
            return
        yield LOCAL, dest_port
        yield from self.get(event)


@pytest.fixture(scope="module")
def dicomwire_qr(archive: Archive) -> Iterator[QRPeer]:
    from dicomwire import AE, QueryRetrievePresentationContexts, evt
    from dicomwire.sop_class import CTImageStorage, SecondaryCaptureImageStorage

    scp = DicomwireQR(archive)
    port, dest_port = peers.free_port(), peers.free_port()
    ae = AE(QR_AET)
    for cx in QueryRetrievePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax)
    # The archive's files are Explicit VR: preferring it lets them go as they are.
    syntaxes = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
    for uid in (CTImageStorage, SecondaryCaptureImageStorage):
        ae.add_supported_context(uid, syntaxes, scu_role=False, scp_role=True)  # C-GET's stores
        ae.add_requested_context(uid)  # C-MOVE's stores
    handlers: list[Any] = [
        (evt.EVT_C_FIND, scp.find),
        (evt.EVT_C_GET, scp.get),
        (evt.EVT_C_MOVE, scp.move, [dest_port]),
    ]
    server = ae.start_server((LOCAL, port), block=False, evt_handlers=handlers)
    assert server is not None
    try:
        yield QRPeer("dicomwire", port, dest_port, archive)
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def node_qr(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QRPeer]:
    """The dicomwire node (`dicomwire serve`), filled with the archive by `dicomwire store`."""
    from dicomwire.node.app import Node
    from dicomwire.node.config import load

    port, dest_port = peers.free_port(), peers.free_port()
    settings = {
        "ae_title": QR_AET,
        "port": port,
        "bind": LOCAL,
        "data_dir": str(tmp_path_factory.mktemp("node")),
        "known_ae": [f"DEST={LOCAL}:{dest_port}"],
        "shutdown_grace": 1,
    }
    node = Node(load(settings, environ={}))
    node.start()
    try:
        stored = dicomwire("store", "-aec", QR_AET, LOCAL, str(port), str(archive.folder))
        assert stored.returncode == 0, stored.stderr
        yield QRPeer("node", port, dest_port, archive)
    finally:
        node.stop()


@pytest.fixture(params=["dcmqrscp", "dicomwire", "node"])
def qr_peer(request: pytest.FixtureRequest) -> QRPeer:
    if request.param == "node":
        return request.getfixturevalue("node_qr")  # type: ignore[no-any-return]
    if request.param == "dcmqrscp":
        peers.require_tool("dcmqrscp")
        request.applymarker(pytest.mark.interop)
        return request.getfixturevalue("qr_dcmqrscp")  # type: ignore[no-any-return]
    return request.getfixturevalue("dicomwire_qr")  # type: ignore[no-any-return]


# --------------------------------------------------------------------------
# find


def test_find_prints_an_aligned_table(qr_peer: QRPeer) -> None:
    result = dicomwire(*qr_peer.args("find", "-P", "-k", "PatientID", "-k", "PatientName"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["PatientID", "PatientName"]
    rows = sorted(line.split()[:2] for line in lines[1:])
    assert rows == [["PAT1", "Doe^John"], ["PAT2", "Roe^Jane"]]
    start = lines[0].index("PatientName")
    assert all(line[start:].startswith(("PatientName", "Doe", "Roe")) for line in lines)
    assert result.stderr.strip() == "2 matches"


def test_find_json_parses_back(qr_peer: QRPeer, tmp_path: Path) -> None:
    out = tmp_path / "responses"
    result = dicomwire(
        *qr_peer.args("find", "-S", "--json", "-od", str(out)),
        "-k", "PatientID=PAT1", "-k", "StudyInstanceUID", "-k", "StudyDate",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    matches = [Dataset.from_json(item) for item in json.loads(result.stdout)]
    assert [m.StudyInstanceUID for m in matches] == [qr_peer.archive.study1]
    assert matches[0].QueryRetrieveLevel == "STUDY" and matches[0].StudyDate == "20240102"
    # -od: the same match as a DICOM file named as findscu --extract names it.
    (written,) = sorted(out.iterdir())
    assert written.name == "rsp0001.dcm"
    assert dcmread(written).StudyInstanceUID == qr_peer.archive.study1


def test_find_failure_status_exits_non_zero(dicomwire_qr: QRPeer) -> None:
    result = dicomwire(*dicomwire_qr.args("find", "-P", "-k", "PatientID=FAIL"))
    assert result.returncode == 1
    assert "0 matches" in result.stderr and "status 0xC000" in result.stderr


# --------------------------------------------------------------------------
# get and move


def test_get_writes_instances_bit_for_bit(qr_peer: QRPeer, tmp_path: Path) -> None:
    out = tmp_path / "got"
    result = dicomwire(
        *qr_peer.args("get", "-od", str(out), "--layout", "patient"),
        "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID=PAT1",
        "-k", f"StudyInstanceUID={qr_peer.archive.study1}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "get: 3 completed, 0 failed, 0 warning" in result.stderr
    received = {dcmread(p).SOPInstanceUID: p for p in out.rglob("*.dcm")}
    assert len(received) == 3
    for path, ds in zip(qr_peer.archive.files, qr_peer.archive.patient1, strict=False):
        stored = received[ds.SOPInstanceUID]
        assert stored.relative_to(out).parts[0] == "PAT1"
        original = path.read_bytes()[peers.dataset_offset(path) :]
        assert stored.read_bytes()[peers.dataset_offset(stored) :] == original


def test_get_failed_sub_operation_exits_non_zero(dicomwire_qr: QRPeer, tmp_path: Path) -> None:
    result = dicomwire(*dicomwire_qr.args("get", "-od", str(tmp_path), "-k", "PatientID=ODD"))
    assert result.returncode == 1, result.stderr
    assert "get: 1 completed, 1 failed, 0 warning; final status 0xB000" in result.stderr
    assert len(list(tmp_path.iterdir())) == 1


def test_move_to_our_own_port(qr_peer: QRPeer, tmp_path: Path) -> None:
    out = tmp_path / "moved"
    result = dicomwire(
        *qr_peer.args("move", "-aem", "DEST", "+P", str(qr_peer.dest_port), "-od", str(out)),
        "-k", "PatientID=PAT2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "move to DEST: 1 completed, 0 failed" in result.stderr
    (stored,) = out.iterdir()
    assert dcmread(stored).SOPInstanceUID == qr_peer.archive.patient2.SOPInstanceUID


def test_move_to_an_unknown_destination_fails(qr_peer: QRPeer) -> None:
    result = dicomwire(*qr_peer.args("move", "-aem", "NOBODY", "-k", "PatientID=PAT2"))
    assert result.returncode == 1
    assert "0xA801" in result.stderr and "Move Destination unknown" in result.stderr


def test_move_sub_operation_failures_exit_non_zero(qr_peer: QRPeer) -> None:
    # DEST is known, but nothing listens at its port: every sub-operation fails.
    result = dicomwire(*qr_peer.args("move", "-aem", "DEST", "-k", "PatientID=PAT2"))
    assert result.returncode == 1, result.stderr
    assert "move to DEST" in result.stderr and "final status 0x" in result.stderr


# --------------------------------------------------------------------------
# Progress on a terminal


def run_on_terminal(*args: str, timeout: float = 60) -> tuple[int, str]:
    """Run the tool with standard error on a pseudo-terminal; (rc, what it drew)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dicomwire.cli.main", *args],
        stdout=subprocess.DEVNULL, stderr=follower, env=_env(),
    )  # fmt: skip
    os.close(follower)
    chunks = []
    with contextlib.suppress(OSError):  # EIO once the process closed the terminal
        while select.select([leader], [], [], timeout)[0]:
            data = os.read(leader, 65536)
            if not data:
                break
            chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=timeout), b"".join(chunks).decode(errors="replace")


def test_get_shows_live_progress_on_a_terminal(qr_peer: QRPeer, tmp_path: Path) -> None:
    code, drawn = run_on_terminal(
        *qr_peer.args("get", "-od", str(tmp_path), "-k", "PatientID=PAT1")
    )
    assert code == 0, drawn
    assert "\r" in drawn and "sub-operations" in drawn and "get: 3 completed" in drawn


@pytest.mark.interop
def test_store_shows_a_progress_bar_on_a_terminal(
    storescp: peers.PeerProcess, archive: Archive
) -> None:
    code, drawn = run_on_terminal("store", "-aec", "STORESCP", LOCAL, str(storescp.port),
                                  *map(str, archive.files))  # fmt: skip
    assert code == 0, drawn
    assert "\r[" in drawn and "MB/s" in drawn and "sent 4 of 4 instances" in drawn
    assert len(storescp.files()) == 4


# --------------------------------------------------------------------------
# Errors: one line, non-zero, no traceback


def test_unreachable_host_is_one_line() -> None:
    port = str(peers.free_port())
    assert_one_line_error(dicomwire("find", "-P", LOCAL, port, "-k", "PatientID"), "refused")


def test_bad_key_is_one_line_before_connecting() -> None:
    result = dicomwire("get", LOCAL, "1", "-k", "PatientIDD=1")
    assert_one_line_error(result, "did you mean PatientID")
    assert result.returncode == 2
    debug = dicomwire("get", LOCAL, "1", "-k", "PatientIDD=1", "-d")
    assert "Traceback" in debug.stderr  # -d: the traceback, for bug reports


def test_move_without_destination_is_one_line() -> None:
    result = dicomwire("move", LOCAL, "1", "-k", "PatientID=1")
    assert_one_line_error(result, "-aem")


def test_no_accepted_context_and_rejection_are_one_line() -> None:
    from dicomwire import AE
    from dicomwire.sop_class import Verification

    ae = AE("ECHO-ONLY")
    ae.add_supported_context(Verification)
    ae.require_called_aet = True
    port = peers.free_port()
    server = ae.start_server((LOCAL, port), block=False)
    assert server is not None
    try:
        unaccepted = dicomwire("find", "-aec", "ECHO-ONLY", LOCAL, str(port), "-k", "PatientID")
        rejected = dicomwire("get", "-aec", "SOMEONE", LOCAL, str(port), "-k", "PatientID")
    finally:
        server.shutdown()
    assert_one_line_error(unaccepted, "accepted no presentation context for Modality Worklist")
    assert_one_line_error(rejected, "rejected permanently")
    assert "called AE title" in rejected.stderr


# --------------------------------------------------------------------------
# TLS: the same options on every tool


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"openssl cannot make a certificate: {made.stderr.strip()}")
    return cert, key


def test_tls_options_on_both_sides(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = certificate
    port = peers.free_port()
    sample = peers.make_secondary_capture(tmp_path / "sc.dcm", size_bytes=4000)
    out = tmp_path / "received"
    listener = subprocess.Popen(
        [sys.executable, "-m", "dicomwire.cli.main", "listen", str(port), "-od", str(out),
         "--tls-cert", str(cert), "--tls-key", str(key)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )  # fmt: skip
    try:
        peers.wait_for_port(LOCAL, port, timeout=20, process=listener)
        trusted = dicomwire("store", "--tls-ca", str(cert), LOCAL, str(port), str(tmp_path))
        untrusted = dicomwire("echo", "--tls", LOCAL, str(port))
        plain = dicomwire("echo", LOCAL, str(port))
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    assert trusted.returncode == 0, trusted.stderr
    (stored,) = out.iterdir()
    assert dcmread(stored).SOPInstanceUID == sample.SOPInstanceUID
    assert_one_line_error(untrusted, "certificate")
    assert plain.returncode != 0 and "Traceback" not in plain.stderr
