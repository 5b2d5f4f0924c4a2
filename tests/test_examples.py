"""The seed's examples (examples/*.py) run against real DCMTK and pynetdicom peers.

Each example is the seed's code with only its imports changed (plus marked
changes where the seed could not run as-is), so these tests are what shows
that code written for the seed API runs on dicomwire.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ImplicitVRLittleEndian

import peers

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT = 60


def example_env() -> dict[str, str]:
    """The environment for an example: dicomwire importable even if not installed."""
    env = peers.dcmtk_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def run_example(
    script: str, *args: str | int | os.PathLike[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(EXAMPLES / script), *map(str, args)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=example_env(), cwd=cwd
    )


def serve_example(
    script: str, port: int, workdir: Path, *args: str
) -> AbstractContextManager[peers.PeerProcess]:
    """Run an SCP example in ``workdir`` until it listens on ``port``; stop it after."""
    argv = [sys.executable, str(EXAMPLES / script), str(port), *args]
    log = workdir.parent / f"{Path(script).stem}.log"
    return peers.background_process(argv, port, log, env=example_env(), cwd=workdir, name=script)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "cwd"
    folder.mkdir()
    yield folder


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, peers.describe_run(result)


# -- SCU examples against DCMTK storescp ---------------------------------------


def test_storage_scu(storescp: peers.PeerProcess, sample_files: dict[str, Path]) -> None:
    sent = sample_files["ct_explicit"]
    result = run_example("storage_scu.py", sent, storescp.port)
    assert_ok(result)
    assert "C-STORE request status: 0x0000" in result.stdout, peers.describe_run(result)
    [written] = storescp.files()
    assert peers.element_differences(dcmread(sent), dcmread(written)) == []
    assert peers.read_file_parts(written)[1] == peers.read_file_parts(sent)[1]


def test_storage_scu_requested_contexts() -> None:
    assert_ok(run_example("storage_scu_requested_contexts.py"))


def test_storage_scu_per_association_contexts(storescp: peers.PeerProcess) -> None:
    assert_ok(run_example("storage_scu_contexts.py", storescp.port))
    log = storescp.log()
    # two associations, each negotiated and released in good order
    assert log.count("Association Received") == 2, log
    assert log.count("Association Release") == 2, log


# -- SCP examples receiving from DCMTK storescu --------------------------------


def test_storage_scp_writes_files(workdir: Path, sample_files: dict[str, Path]) -> None:
    port = peers.free_port()
    sent = [sample_files["ct_explicit"], sample_files["ct_implicit"], sample_files["sc_explicit"]]
    with serve_example("storage_scp.py", port, workdir):
        result = peers.run_storescu(port, *sent, args=["-v"])
        assert_ok(result)
    for path in sent:
        original = dcmread(path)
        written = workdir / original.SOPInstanceUID
        assert written.is_file(), sorted(p.name for p in workdir.iterdir())
        received = dcmread(written)
        assert peers.element_differences(original, received) == []
        assert received.file_meta.MediaStorageSOPClassUID == original.SOPClassUID
        assert received.file_meta.MediaStorageSOPInstanceUID == original.SOPInstanceUID
        # storescu sends each file in its own transfer syntax when offered
        assert received.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID


def test_storage_scp_minimal(workdir: Path, sample_files: dict[str, Path]) -> None:
    port = peers.free_port()
    with serve_example("storage_scp_minimal.py", port, workdir):
        result = peers.run_storescu(port, sample_files["ct_implicit"], args=["-v"])
        assert_ok(result)
        assert "Received Store Response (Success)" in result.stdout + result.stderr
    assert list(workdir.iterdir()) == []  # it stores nothing


def test_storage_scp_minimal_refuses_other_sop_classes(
    workdir: Path, sample_files: dict[str, Path]
) -> None:
    port = peers.free_port()
    with serve_example("storage_scp_minimal.py", port, workdir):
        result = peers.run_storescu(port, sample_files["sc_explicit"])
    assert result.returncode != 0  # only CT Image Storage is supported


def test_storage_scp_nonblocking_shuts_down(workdir: Path, tmp_path: Path) -> None:
    port = peers.free_port()
    ct = tmp_path / "ct.dcm"
    peers.make_ct(ct, size_bytes=64 * 1024, transfer_syntax=ImplicitVRLittleEndian)
    seconds = 8  # long enough to start storescu on a slow machine; the seed says 60
    with serve_example("storage_scp_nonblocking.py", port, workdir, str(seconds)) as scp:
        assert_ok(peers.run_storescu(port, ct))
        # then the script's own sleep ends, scp.shutdown() runs and it exits
        assert scp.process.wait(timeout=seconds + TIMEOUT) == 0, scp.log()


# -- Query/Retrieve examples (seeds 000, 001, 002) ------------------------------
#
# The SCU examples ask for the seeds' patient 1234567, study 1.2.3, series
# 1.2.3.4: the dcmqrscp fixture holds three CT instances of it (qr_instances).


def printed_statuses(result: subprocess.CompletedProcess[str], service: str) -> list[int]:
    """The statuses an SCU example printed (``C-MOVE query status: 0xff00``...)."""
    prefix = f"{service} query status: 0x"
    return [
        int(line.removeprefix(prefix), 16)
        for line in result.stdout.splitlines()
        if line.startswith(prefix)
    ]


def assert_final_success(
    result: subprocess.CompletedProcess[str], service: str, pending: int | None = None
) -> None:
    """The example printed Pending (0xFF00) statuses, then a final Success.

    ``pending`` of them when given.
    """
    assert_ok(result)
    statuses = printed_statuses(result, service)
    shown = f"{[hex(s) for s in statuses]}\n{peers.describe_run(result)}"
    assert statuses, f"no response at all\n{shown}"
    assert statuses[-1] == 0x0000, shown
    assert all(s == 0xFF00 for s in statuses[:-1]), shown
    if pending is not None:
        assert len(statuses) - 1 == pending, shown


def assert_same_instances(sent: list[Path], received: dict[str, Path]) -> None:
    """``received`` (by SOP Instance UID) holds exactly the ``sent`` files' data sets."""
    originals = {str(dcmread(path).SOPInstanceUID): path for path in sent}
    assert sorted(received) == sorted(originals)
    for uid, path in received.items():
        assert peers.element_differences(dcmread(originals[uid]), dcmread(path)) == [], uid


def test_qr_move_scu(dcmqrscp: peers.Dcmqrscp, qr_instances: list[Path], tmp_path: Path) -> None:
    # The seed moves to STORE_SCP: a DCMTK storescp where dcmqrscp expects it.
    port = dcmqrscp.destinations["STORE_SCP"]
    with peers.dcmtk_storescp(tmp_path / "store_scp", port=port, ae_title="STORE_SCP") as store:
        result = run_example("qr_move_scu.py", dcmqrscp.port)
        assert_final_success(result, "C-MOVE", pending=len(qr_instances))
        received = peers.dicom_files(store.output_dir or tmp_path)
    assert_same_instances(qr_instances, received)


def test_qr_move_scu_own_storage(dcmqrscp: peers.Dcmqrscp, qr_instances: list[Path]) -> None:
    # The move destination is the example's own Storage SCP (OUR_STORE_SCP):
    # its handler keeps nothing, so Success after one Pending per instance
    # (dcmqrscp says Warning/Failure when a sub-operation fails) is the proof.
    store_port = dcmqrscp.destinations["OUR_STORE_SCP"]
    result = run_example("qr_move_scu_own_storage.py", dcmqrscp.port, store_port)
    assert_final_success(result, "C-MOVE", pending=len(qr_instances))


def test_qr_get_scu(dcmqrscp: peers.Dcmqrscp, qr_instances: list[Path], workdir: Path) -> None:
    result = run_example("qr_get_scu.py", dcmqrscp.port, cwd=workdir)
    assert_final_success(result, "C-GET", pending=len(qr_instances))
    # its EVT_C_STORE handler wrote one file per instance, named by SOP Instance UID
    written = {path.name: path for path in workdir.iterdir()}
    assert sorted(written) == [f"{peers.QR_SERIES_UID}.{n}" for n in (1, 2, 3)]
    assert_same_instances(qr_instances, peers.dicom_files(workdir))
    for path in written.values():
        meta = dcmread(path, stop_before_pixels=True).file_meta
        assert meta.MediaStorageSOPInstanceUID == path.name
        assert meta.TransferSyntaxUID.is_little_endian


def test_qr_get_scp(qr_instances: list[Path], workdir: Path, tmp_path: Path) -> None:
    port = peers.free_port()
    keys = {"QueryRetrieveLevel": "PATIENT", "PatientID": peers.QR_PATIENT_ID}
    with serve_example("qr_get_scp.py", port, workdir, str(qr_instances[0].parent)):
        result = peers.run_getscu(port, keys, tmp_path / "getscu")
    assert_ok(result)
    statuses = peers.dcmtk_response_statuses(result)
    assert statuses == ["Pending"] * len(qr_instances) + ["Success"], peers.describe_run(result)
    assert_same_instances(qr_instances, peers.dicom_files(tmp_path / "getscu"))


def test_qr_move_scp(qr_instances: list[Path], workdir: Path, tmp_path: Path) -> None:
    port, movescu_port = peers.free_port(), peers.free_port()
    keys = {"QueryRetrieveLevel": "PATIENT", "PatientID": peers.QR_PATIENT_ID}
    known = f"MOVESCU=127.0.0.1:{movescu_port}"  # movescu's own storage SCP
    with serve_example("qr_move_scp.py", port, workdir, str(qr_instances[0].parent), known):
        result = peers.run_movescu(
            port, keys, "MOVESCU", listen_port=movescu_port, output_dir=tmp_path / "movescu"
        )
        unknown = peers.run_movescu(port, keys, "NOBODY")
    assert_ok(result)
    statuses = peers.dcmtk_response_statuses(result)
    assert statuses == ["Pending"] * len(qr_instances) + ["Success"], peers.describe_run(result)
    assert_same_instances(qr_instances, peers.dicom_files(tmp_path / "movescu"))
    # the seed's handler yields (None, None) for an unknown destination: 0xA801
    final = peers.dcmtk_response_statuses(unknown)[-1:]
    assert final == ["Refused: MoveDestinationUnknown"], peers.describe_run(unknown)


def test_relevant_patient_scu() -> None:
    from dicomwire.sop_class import GeneralRelevantPatientInformationQuery

    queries: list[Dataset] = []

    def handle_find(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        query = event.identifier
        queries.append(query)
        answer = Dataset()
        answer.PatientName = peers.QR_PATIENT_NAME
        answer.PatientID = query.PatientID
        answer.ContentTemplateSequence = query.ContentTemplateSequence
        yield 0xFF00, answer

    handlers = {"EVT_C_FIND": handle_find}
    with peers.pynetdicom_server([GeneralRelevantPatientInformationQuery], handlers) as port:
        result = run_example("relevant_patient_scu.py", port)
    assert_final_success(result, "C-FIND", pending=1)
    [query] = queries
    assert query.PatientID == peers.QR_PATIENT_ID
    assert query.PatientName == ""
    [template] = query.ContentTemplateSequence
    assert (template.MappingResource, template.TemplateIdentifier) == ("DCMR", "9007")


def test_relevant_patient_scp(qr_instances: list[Path], workdir: Path, tmp_path: Path) -> None:
    from dicomwire.sop_class import GeneralRelevantPatientInformationQuery

    # one instance of the seed's patient, two of another (a failure: > 1 match)
    folder = tmp_path / "relevant"
    folder.mkdir()
    shutil.copy(qr_instances[0], folder)
    for number in (1, 2):
        peers.make_ct(folder / f"twin{number}.dcm", size_bytes=512, PatientID="7654321")

    def query(patient_id: str) -> Dataset:
        ds = Dataset()
        ds.PatientName = ""
        ds.PatientID = patient_id
        ds.ContentTemplateSequence = [Dataset()]
        ds.ContentTemplateSequence[0].MappingResource = "DCMR"
        ds.ContentTemplateSequence[0].TemplateIdentifier = "9007"
        return ds

    port = peers.free_port()
    rpi = GeneralRelevantPatientInformationQuery
    with serve_example("relevant_patient_scp.py", port, workdir, str(folder)):
        found = peers.pynetdicom_find(port, query(peers.QR_PATIENT_ID), rpi)
        ambiguous = peers.pynetdicom_find(port, query("7654321"), rpi)
        nobody = peers.pynetdicom_find(port, query("0000000"), rpi)
    assert [status for status, _ in found] == [0xFF00, 0x0000]
    answer = found[0][1]
    assert answer is not None
    assert answer.PatientID == peers.QR_PATIENT_ID
    assert answer.PatientName == peers.QR_PATIENT_NAME
    assert answer.ContentTemplateSequence[0].TemplateIdentifier == "9007"
    assert [status for status, _ in ambiguous] == [0xC100]
    assert [status for status, _ in nobody] == [0x0000]
