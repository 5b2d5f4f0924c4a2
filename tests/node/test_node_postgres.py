"""Two ``dicomwire serve`` processes sharing one PostgreSQL index and one data directory.

The single-node suite runs on PostgreSQL too (test_node.py's ``archive``);
here nodes A and B (own ports, same ``--database`` and ``--data-dir``) show
that what one stores the other finds and retrieves, and that concurrent
stores of one study through both leave one patient, one study and one
series, with every instance counted once and a file for each row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from node_process import (
    LOCAL,
    NODE_AET,
    NodeProcess,
    dataset,
    postgres_schema,
    pynetdicom_get,
    running,
    same_dataset_bytes,
    send_at_once,
)
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

import peers

pytestmark = pytest.mark.interop

ROOT = "1.2.826.0.1.3680043.10.4243"
CT = str(peers.CT_IMAGE_STORAGE)
PIXELS = 4 * 1024


@dataclass
class Pair:
    a: NodeProcess
    b: NodeProcess
    storescp: peers.PeerProcess  # STORESCP, known to both


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, postgres_server: object) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("pair")
    with (
        postgres_schema(postgres_server) as database,
        peers.dcmtk_storescp(root / "storescp") as storescp,
    ):
        known = ["--known-ae", f"STORESCP={LOCAL}:{storescp.port}"]
        a = NodeProcess(root / "data", *known, database=database, name="node-a")
        b = NodeProcess(root / "data", *known, database=database, name="node-b")
        with running(a, b):
            yield Pair(a, b, storescp)


def findscu(node: NodeProcess, keys: dict[str, str], out: Path, model: str = "S") -> list[Dataset]:
    out.mkdir(parents=True)
    result = peers.run_findscu(node.port, keys, model=model, output_dir=out, called_aet=NODE_AET)
    assert result.returncode == 0, peers.describe_run(result)
    assert peers.dcmtk_response_statuses(result)[-1] == "Success", peers.describe_run(result)
    return peers.find_responses(out)


def test_store_through_a_retrieve_through_b(pair: Pair, tmp_path: Path) -> None:
    study = f"{ROOT}.1"
    files = {}
    for number in range(1, 5):
        series = f"{study}.{1 + number % 2}"  # two series: Explicit and Implicit VR
        syntax = ImplicitVRLittleEndian if number % 2 else ExplicitVRLittleEndian
        path = tmp_path / "sent" / f"{number}.dcm"
        path.parent.mkdir(exist_ok=True)
        uid = f"{series}.{number}"
        peers.make_ct(
            path,
            PIXELS,
            syntax,
            seed=number,
            PatientID="PG-X",
            StudyInstanceUID=study,
            SeriesInstanceUID=series,
            SOPInstanceUID=uid,
        )
        files[uid] = path
    stored = peers.run_storescu(pair.a.port, *files.values(), called_aet=NODE_AET)
    assert stored.returncode == 0, peers.describe_run(stored)

    keys = {
        "QueryRetrieveLevel": "STUDY",
        "PatientID": "PG-X",
        "StudyInstanceUID": "",
        "NumberOfStudyRelatedInstances": "",
        "NumberOfStudyRelatedSeries": "",
    }
    (answer,) = findscu(pair.b, keys, tmp_path / "find")
    assert answer.StudyInstanceUID == study
    assert int(answer.NumberOfStudyRelatedInstances) == 4
    assert int(answer.NumberOfStudyRelatedSeries) == 2

    got = tmp_path / "got"
    retrieve = {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": study}
    result = peers.run_getscu(pair.b.port, retrieve, got, model="S", called_aet=NODE_AET)
    assert result.returncode == 0, peers.describe_run(result)
    received = peers.dicom_files(got)
    assert sorted(received) == sorted(files)
    for uid, path in received.items():
        original = dcmread(files[uid])
        if dcmread(path).file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID:
            assert same_dataset_bytes(files[uid], path), uid
        else:
            assert peers.element_differences(original, dcmread(path)) == [], uid

    moved = peers.run_movescu(pair.b.port, retrieve, "STORESCP", model="S", called_aet=NODE_AET)
    assert moved.returncode == 0, peers.describe_run(moved)
    assert peers.dcmtk_response_statuses(moved)[-1] == "Success"
    destination = peers.dicom_files(pair.storescp.output_dir or Path())
    assert all(same_dataset_bytes(files[uid], destination[uid]) for uid in files)

    assert all(f"stored {uid} from STORESCU" in pair.a.log() for uid in files)
    assert "C-GET from GETSCU: 4 instances" in pair.b.log()
    assert "stored" not in pair.b.log()


def test_concurrent_stores_of_one_study_through_both(pair: Pair, tmp_path: Path) -> None:
    """Two senders at once, one per node, each study's instances split between them.

    Every study, series and the patient are new, so both nodes race to create
    them; one instance of each study goes through both nodes (a duplicate race).
    """
    studies = [f"{ROOT}.{10 + n}" for n in range(4)]
    batches: dict[str, list[Path]] = {"a": [], "b": []}
    for study in studies:
        for number in range(1, 8):  # 1-3 through A, 4-6 through B, 7 through both
            uid = f"{study}.1.{number}"
            path = tmp_path / f"{uid}.dcm"
            peers.make_ct(
                path,
                PIXELS,
                seed=number,
                PatientID="PG-RACE",
                PatientName="Race^Condition",
                StudyInstanceUID=study,
                SeriesInstanceUID=f"{study}.1",
                SOPInstanceUID=uid,
            )
            for side in ("a", "b"):
                if number == 7 or (number <= 3) == (side == "a"):
                    batches[side].append(path)
    for side in batches:  # both senders go study by study, the shared instance first
        batches[side].sort(key=lambda p: (p.name.rsplit(".", 3)[0], not p.name.endswith(".7.dcm")))

    statuses = send_at_once([(pair.a.port, batches["a"]), (pair.b.port, batches["b"])])
    assert statuses == [[0] * 16, [0] * 16]

    keys = {
        "QueryRetrieveLevel": "STUDY",
        "PatientID": "PG-RACE",
        "StudyInstanceUID": "",
        "NumberOfStudyRelatedInstances": "",
        "NumberOfStudyRelatedSeries": "",
    }
    for node in (pair.a, pair.b):
        answers = findscu(node, keys, tmp_path / f"find-{node.name}")
        found = {a.StudyInstanceUID: a for a in answers}
        assert sorted(found) == studies and len(answers) == len(studies)
        for answer in answers:
            assert int(answer.NumberOfStudyRelatedInstances) == 7
            assert int(answer.NumberOfStudyRelatedSeries) == 1
    patients = {
        "QueryRetrieveLevel": "PATIENT",
        "PatientID": "PG-RACE",
        "NumberOfPatientRelatedStudies": "",
        "NumberOfPatientRelatedInstances": "",
    }
    (patient,) = findscu(pair.a, patients, tmp_path / "patients", model="P")
    assert int(patient.NumberOfPatientRelatedStudies) == 4
    assert int(patient.NumberOfPatientRelatedInstances) == 28

    with pair.a.index() as index:
        rows = {i.sop_instance_uid: i for i in index.instances() if i.patient_id == "PG-RACE"}
        all_paths = {i.path for i in index.instances()}
    assert len(rows) == 28
    assert {(r.study_instance_uid, r.series_instance_uid) for r in rows.values()} == {
        (study, f"{study}.1") for study in studies
    }
    assert all_paths == pair.a.stored_files()  # a file for every row, a row for every file
    assert not pair.a.temp_files()

    got = pynetdicom_get(
        pair.b.port,
        dataset(QueryRetrieveLevel="STUDY", StudyInstanceUID=studies[0]),
        [(CT, [ExplicitVRLittleEndian])],
    )
    assert got.status == 0x0000 and len(got.received) == 7
    for uid, item in got.received.items():
        assert same_dataset_bytes(tmp_path / f"{uid}.dcm", item.dataset_bytes), uid


@pytest.mark.parametrize("same_series", [True, False], ids=["same-path", "other-series"])
def test_same_instance_through_both_at_once_keeps_one_version(
    pair: Pair, same_series: bool
) -> None:
    """One SOP Instance UID, two versions (another comment and pixels; in the same series,
    or in another one), sent through A and B at the same moment: the version the index
    kept is the file on disk, and the other leaves no file behind (on_duplicate "keep")."""
    study, count = f"{ROOT}.{30 + same_series}", 12
    versions: dict[str, list[Dataset]] = {}
    for side, seed in (("a", 1), ("b", 2)):
        series = f"{study}.{1 if same_series else seed}"
        versions[side] = [
            peers.make_ct(None, PIXELS, seed=seed, PatientID="PG-DUP", StudyInstanceUID=study,
                          SeriesInstanceUID=series, SOPInstanceUID=f"{study}.9.{n}",
                          ImageComments=f"version {side}")
            for n in range(count)
        ]  # fmt: skip
    statuses = send_at_once([(pair.a.port, versions["a"]), (pair.b.port, versions["b"])])
    assert statuses == [[0] * count, [0] * count]

    logs = {"a": pair.a.log(), "b": pair.b.log()}
    with pair.a.index() as index:
        rows = [index.instance(f"{study}.9.{n}") for n in range(count)]
        all_paths = {i.path for i in index.instances()}
    for row in rows:
        assert row is not None
        (kept,) = [side for side, log in logs.items()
                   if f"stored {row.sop_instance_uid} from PYNETSCU (stored)" in log]  # fmt: skip
        on_disk = dcmread(pair.a.data_dir / row.path, stop_before_pixels=True)
        assert on_disk.ImageComments == f"version {kept}", row.sop_instance_uid
    assert all_paths == pair.a.stored_files()
