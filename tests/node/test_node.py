"""``dicomwire serve`` end to end: a real node process against DCMTK and pynetdicom.

The module's ``archive`` runs once on SQLite and once on PostgreSQL (a
schema on the server the tests start, ``--database postgresql://...``), so
every test that uses it is the same suite on both indexes. It holds the
``corpus`` (two patients, three studies, CT in Explicit and Implicit VR and
one Secondary Capture), sent with DCMTK storescu when it starts, and knows
DCMTK storescp (STORESCP) and a pynetdicom SCP (PYNSCP) as move
destinations. Tests that add instances use patients of their own, so the
corpus queries stay exact whatever ran before.

The index tests check every matching rule at the index level; here a few go
through the network: wild cards, date ranges, UID lists, sequence matching
(worklist) and the computed keys. Also covered: retrieval transfer syntax
rules, a 40 MiB instance (spooled on receipt, converted on retrieval),
refused stores (missing attributes, hostile UIDs), duplicate policies and
one instance arriving twice at once, the worklist command, Relevant Patient
Information, restart, a SIGTERM during a store, and ``dicomwire serve``
without arguments.
Two nodes sharing one PostgreSQL index are in test_node_postgres.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from node_process import (
    LOCAL,
    NODE_AET,
    NodeProcess,
    dataset,
    decoded,
    dicomwire_cli,
    postgres_schema,
    pynetdicom_find,
    pynetdicom_get,
    pynetdicom_move,
    running,
    same_dataset_bytes,
    send_at_once,
)
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.multival import MultiValue
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    generate_uid,
)

import peers

pytestmark = pytest.mark.interop

ROOT = "1.2.826.0.1.3680043.10.4242"
CT = str(peers.CT_IMAGE_STORAGE)
SC = str(peers.SECONDARY_CAPTURE_IMAGE_STORAGE)
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
MWL_FIND = "1.2.840.10008.5.1.4.31"
RELEVANT_PATIENT_QUERY = "1.2.840.10008.5.1.4.37.1"
PENDING = 0xFF00
UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
PIXELS = 4 * 1024  # bytes of pixel data per test instance


# -- the corpus ------------------------------------------------------------------------


@dataclass
class Corpus:
    """The instances the archive starts with, by SOP Instance UID, and their UIDs."""

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    study: dict[str, str] = field(default_factory=dict)  # name -> StudyInstanceUID
    series: dict[str, str] = field(default_factory=dict)  # name -> SeriesInstanceUID
    members: dict[str, list[str]] = field(default_factory=dict)  # series name -> SOP UIDs

    def add(
        self,
        series: str,
        count: int,
        syntax: str = ExplicitVRLittleEndian,
        kind: str = "ct",
        **attrs: Any,
    ) -> None:
        study = series.split(".")[0]
        self.study.setdefault(study, f"{ROOT}.{len(self.study) + 1}")
        self.series[series] = f"{self.study[study]}.{len(self.series) + 1}"
        for number in range(1, count + 1):
            uid = f"{self.series[series]}.{number}"
            path = self.folder / f"{series}-{number}.dcm"
            make = peers.make_ct if kind == "ct" else peers.make_secondary_capture
            make(
                path,
                PIXELS,
                syntax,
                seed=len(self.files) + 1,
                StudyInstanceUID=self.study[study],
                SeriesInstanceUID=self.series[series],
                SOPInstanceUID=uid,
                InstanceNumber=number,
                **attrs,
            )
            self.files[uid] = path
            self.members.setdefault(series, []).append(uid)

    def in_study(self, study: str) -> list[str]:
        return [
            uid
            for name, uids in self.members.items()
            if name.startswith(study + ".")
            for uid in uids
        ]


def make_corpus(folder: Path) -> Corpus:
    """Patient DWN-A: study A1 (CT Explicit x3, CT Implicit x2, SC x1), study A2
    (CT Implicit x1, 2023); patient DWN-B: study B1 (CT Explicit x2)."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(folder)
    anna = {"PatientID": "DWN-A", "PatientName": "Alpha^Anna"}
    a1 = {**anna, "StudyDate": "20240105", "StudyTime": "093000", "AccessionNumber": "ACC-A1"}
    corpus.add("A1.ct", 3, **a1)
    corpus.add("A1.implicit", 2, ImplicitVRLittleEndian, **a1, SeriesNumber=2)
    corpus.add("A1.sc", 1, kind="sc", **a1, SeriesNumber=3)
    corpus.add(
        "A2.ct", 1, ImplicitVRLittleEndian, **anna, StudyDate="20231201", AccessionNumber="ACC-A2"
    )
    corpus.add(
        "B1.ct",
        2,
        PatientID="DWN-B",
        PatientName="Beta^Bob",
        StudyDate="20240320",
        AccessionNumber="ACC-B1",
    )
    return corpus


# -- the archive: one node process per index backend -----------------------------------


@dataclass
class Archive:
    node: NodeProcess
    corpus: Corpus
    storescp: peers.PeerProcess  # known to the node as STORESCP
    pynscp_port: int  # known to the node as PYNSCP; whoever plays it listens here
    loaded: subprocess.CompletedProcess[str]  # the storescu run that sent the corpus
    backend: str

    @property
    def port(self) -> int:
        return self.node.port


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp(f"archive-{request.param}")
    corpus = make_corpus(root / "corpus")
    with database_for(request) as database, peers.dcmtk_storescp(root / "storescp") as storescp:
        pynscp_port = peers.free_port()
        node = NodeProcess(
            root / "data",
            "--known-ae",
            f"STORESCP={LOCAL}:{storescp.port}",
            "--known-ae",
            f"PYNSCP={LOCAL}:{pynscp_port}",
            database=database,
            name=f"node-{request.param}",
        )
        with running(node):
            loaded = peers.run_storescu(
                node.port, *corpus.files.values(), args=["-v"], called_aet=NODE_AET
            )
            yield Archive(node, corpus, storescp, pynscp_port, loaded, request.param)


def database_for(request: pytest.FixtureRequest) -> Any:
    """``""`` (SQLite in the data folder) or a fresh PostgreSQL schema's URL."""
    if request.param == "sqlite":
        return contextlib.nullcontext("")
    return postgres_schema(request.getfixturevalue("postgres_server"))


def findscu(archive: Archive, keys: dict[str, str], out: Path, model: str = "S") -> list[Dataset]:
    """The identifiers of DCMTK findscu's Pending responses; its final status must be Success."""
    out.mkdir(parents=True, exist_ok=True)
    result = peers.run_findscu(archive.port, keys, model=model, output_dir=out, called_aet=NODE_AET)
    statuses = peers.dcmtk_response_statuses(result)
    assert result.returncode == 0 and statuses[-1:] == ["Success"], peers.describe_run(result)
    return peers.find_responses(out)


def values(ds: Dataset, keyword: str) -> list[str]:
    """An attribute's values as strings (one or many)."""
    value = ds.get(keyword, "")
    if isinstance(value, (list, tuple, MultiValue)):
        return [str(v) for v in value]
    return [str(value)] if str(value) != "" else []


# -- Storage with DCMTK storescu -------------------------------------------------------


def test_storescu_stores_every_instance_as_sent(archive: Archive) -> None:
    result, corpus, node = archive.loaded, archive.corpus, archive.node
    assert result.returncode == 0, peers.describe_run(result)
    assert (result.stdout + result.stderr).count("Received Store Response (Success)") == 9
    with node.index() as index:
        for uid, original in corpus.files.items():
            stored = index.instance(uid)
            assert stored is not None, uid
            path = node.data_dir / stored.path
            assert stored.path == (
                f"files/{stored.study_instance_uid}/{stored.series_instance_uid}/{uid}.dcm"
            )
            # Kept bit for bit, in the transfer syntax it came in.
            assert same_dataset_bytes(original, path), uid
            syntax = dcmread(original, stop_before_pixels=True).file_meta.TransferSyntaxUID
            assert dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID == syntax
    log = node.log()
    assert "association from STORESCU" in log and "association with STORESCU released" in log
    assert all(f"stored {uid} from STORESCU" in log for uid in corpus.files)
    assert not node.temp_files()


# -- C-FIND with DCMTK findscu ---------------------------------------------------------


def test_findscu_patient_level_wildcard_name(archive: Archive, tmp_path: Path) -> None:
    keys = {
        "QueryRetrieveLevel": "PATIENT",
        "PatientName": "Al*",
        "PatientID": "",
        "NumberOfPatientRelatedStudies": "",
        "NumberOfPatientRelatedInstances": "",
    }
    (answer,) = findscu(archive, keys, tmp_path, model="P")
    assert answer.PatientID == "DWN-A" and str(answer.PatientName) == "Alpha^Anna"
    assert int(answer.NumberOfPatientRelatedStudies) == 2
    assert int(answer.NumberOfPatientRelatedInstances) == 7
    assert "C-FIND from FINDSCU: 1 matches" in archive.node.log()


def test_findscu_study_level_date_range_and_computed_keys(archive: Archive, tmp_path: Path) -> None:
    keys = {
        "QueryRetrieveLevel": "STUDY",
        "PatientID": "DWN-?",
        "StudyDate": "20240101-20241231",
        "StudyInstanceUID": "",
        "NumberOfStudyRelatedInstances": "",
        "NumberOfStudyRelatedSeries": "",
        "ModalitiesInStudy": "",
        "AccessionNumber": "",
    }
    answers = findscu(archive, keys, tmp_path)
    found = {a.StudyInstanceUID: a for a in answers}
    study = archive.corpus.study
    assert set(found) == {study["A1"], study["B1"]}  # A2 is from 2023
    a1, b1 = found[study["A1"]], found[study["B1"]]
    assert (int(a1.NumberOfStudyRelatedInstances), int(a1.NumberOfStudyRelatedSeries)) == (6, 3)
    assert sorted(values(a1, "ModalitiesInStudy")) == ["CT", "OT"]
    assert (int(b1.NumberOfStudyRelatedInstances), values(b1, "ModalitiesInStudy")) == (2, ["CT"])
    assert (a1.AccessionNumber, b1.AccessionNumber) == ("ACC-A1", "ACC-B1")


def test_findscu_series_level(archive: Archive, tmp_path: Path) -> None:
    corpus = archive.corpus
    keys = {
        "QueryRetrieveLevel": "SERIES",
        "StudyInstanceUID": corpus.study["A1"],
        "Modality": "CT",
        "SeriesInstanceUID": "",
        "NumberOfSeriesRelatedInstances": "",
    }
    answers = findscu(archive, keys, tmp_path)
    found = {a.SeriesInstanceUID: int(a.NumberOfSeriesRelatedInstances) for a in answers}
    assert found == {corpus.series["A1.ct"]: 3, corpus.series["A1.implicit"]: 2}


def test_findscu_image_level_uid_list(archive: Archive, tmp_path: Path) -> None:
    corpus = archive.corpus
    first, _, third = corpus.members["A1.ct"]
    keys = {
        "QueryRetrieveLevel": "IMAGE",
        "StudyInstanceUID": corpus.study["A1"],
        "SeriesInstanceUID": corpus.series["A1.ct"],
        "SOPInstanceUID": f"{first}\\{third}",
        "InstanceNumber": "",
        "SOPClassUID": "",
    }
    answers = findscu(archive, keys, tmp_path)
    assert sorted((a.SOPInstanceUID, int(a.InstanceNumber)) for a in answers) == [
        (first, 1),
        (third, 3),
    ]
    assert {a.SOPClassUID for a in answers} == {CT}


# -- C-GET and C-MOVE with DCMTK -------------------------------------------------------


def test_getscu_study(archive: Archive, tmp_path: Path) -> None:
    corpus = archive.corpus
    keys = {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": corpus.study["A1"]}
    result = peers.run_getscu(archive.port, keys, tmp_path, model="S", called_aet=NODE_AET)
    assert result.returncode == 0, peers.describe_run(result)
    assert peers.dcmtk_response_statuses(result)[-1] == "Success"
    received = peers.dicom_files(tmp_path)
    assert sorted(received) == sorted(corpus.in_study("A1"))
    unchanged = 0
    for uid, path in received.items():
        original = corpus.files[uid]
        sent = dcmread(original).file_meta.TransferSyntaxUID
        got = dcmread(path)
        if got.file_meta.TransferSyntaxUID == sent:
            assert same_dataset_bytes(original, path), uid  # sent as stored
            unchanged += 1
        else:  # converted to the uncompressed syntax getscu proposed first
            assert peers.element_differences(dcmread(original), got) == [], uid
    assert unchanged >= 2
    assert "C-GET from GETSCU: 6 instances" in archive.node.log()


def test_movescu_to_known_destination(archive: Archive) -> None:
    corpus = archive.corpus
    keys = {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": corpus.study["B1"]}
    result = peers.run_movescu(archive.port, keys, "STORESCP", model="S", called_aet=NODE_AET)
    assert result.returncode == 0, peers.describe_run(result)
    assert peers.dcmtk_response_statuses(result)[-1] == "Success"
    received = peers.dicom_files(archive.storescp.output_dir or Path())
    for uid in corpus.members["B1.ct"]:
        assert same_dataset_bytes(corpus.files[uid], received[uid]), uid
    assert "C-MOVE from MOVESCU to STORESCP: 2 instances" in archive.node.log()


def test_movescu_to_unknown_destination(archive: Archive) -> None:
    keys = {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": archive.corpus.study["B1"]}
    result = peers.run_movescu(archive.port, keys, "NOBODY", model="S", called_aet=NODE_AET)
    assert peers.dcmtk_response_statuses(result)[-1:] == ["Refused: MoveDestinationUnknown"], (
        peers.describe_run(result)
    )
    # The same through pynetdicom, which shows the code: 0xA801.
    assert pynetdicom_move(archive.port, dataset(**keys), "NOBODY").status == 0xA801


# -- pynetdicom: store, find, get, move ------------------------------------------------


def test_pynetdicom_store_find_get_move(archive: Archive, tmp_path: Path) -> None:
    study = f"{ROOT}.50"
    files = [tmp_path / f"p{n}.dcm" for n in (1, 2)]
    for number, path in enumerate(files, 1):
        peers.make_ct(
            path,
            PIXELS,
            seed=50 + number,
            PatientID="DWN-PYN",
            StudyInstanceUID=study,
            SeriesInstanceUID=f"{study}.1",
            SOPInstanceUID=f"{study}.1.{number}",
        )
    assert peers.pynetdicom_send(archive.port, files, called_aet=NODE_AET) == [0, 0]

    query = dataset(
        QueryRetrieveLevel="STUDY",
        PatientID="DWN-PYN",
        StudyInstanceUID="",
        NumberOfStudyRelatedInstances="",
    )
    found = pynetdicom_find(archive.port, query)
    assert [status for status, _ in found] == [PENDING, 0x0000]
    answer = found[0][1]
    assert answer is not None and answer.StudyInstanceUID == study
    assert int(answer.NumberOfStudyRelatedInstances) == 2

    by_uid = {f"{study}.1.{n}": path for n, path in enumerate(files, 1)}
    retrieve = dataset(QueryRetrieveLevel="STUDY", StudyInstanceUID=study)
    got = pynetdicom_get(archive.port, retrieve, [(CT, [ExplicitVRLittleEndian])])
    assert got.status == 0x0000 and sorted(got.received) == sorted(by_uid)
    for uid, item in got.received.items():
        assert same_dataset_bytes(by_uid[uid], item.dataset_bytes)

    with peers.pynetdicom_storage_scp("PYNSCP", port=archive.pynscp_port) as scp:
        moved = pynetdicom_move(archive.port, retrieve, "PYNSCP")
    assert moved.status == 0x0000
    assert int(moved.final.NumberOfCompletedSuboperations) == 2
    assert sorted(item.sop_instance_uid for item in scp.received) == sorted(by_uid)
    assert all(item.calling_ae_title == NODE_AET for item in scp.received)
    for item in scp.received:
        assert same_dataset_bytes(by_uid[item.sop_instance_uid], item.dataset_bytes)


# -- a large instance ------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40 MiB CT in Implicit VR: past the receiver's 32 MiB spool threshold."""
    path = tmp_path_factory.mktemp("large") / "large.dcm"
    peers.write_large_ct(path, 40, ImplicitVRLittleEndian)
    return path


def store_large(archive: Archive, path: Path) -> Dataset:
    """Send it with storescu (again: the node keeps the first copy); the C-GET query."""
    result = peers.run_storescu(archive.port, path, called_aet=NODE_AET)
    assert result.returncode == 0, peers.describe_run(result)
    study = dcmread(path, stop_before_pixels=True).StudyInstanceUID
    return dataset(QueryRetrieveLevel="STUDY", StudyInstanceUID=study)


def test_large_instance_spooled_to_disk(archive: Archive, large_file: Path) -> None:
    """The node indexes the spool file's header and copies it without loading it; a
    C-GET in its own transfer syntax sends it back from the file, bit for bit."""
    got = pynetdicom_get(archive.port, store_large(archive, large_file),
                         [(CT, [ImplicitVRLittleEndian])])  # fmt: skip
    assert got.status == 0x0000 and len(got.received) == 1
    (item,) = got.received.values()
    assert same_dataset_bytes(large_file, item.dataset_bytes)


def test_large_instance_converted_for_getscu(
    archive: Archive, large_file: Path, tmp_path: Path
) -> None:
    """DCMTK getscu prefers Explicit VR: the 40 MiB Implicit VR file is converted, and
    sent to a receiver slower than the node (it writes to disk) without dropping it."""
    query = store_large(archive, large_file)
    keys = {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": query.StudyInstanceUID}
    result = peers.run_getscu(archive.port, keys, tmp_path, model="S", called_aet=NODE_AET)
    assert result.returncode == 0, peers.describe_run(result)
    (received,) = peers.dicom_files(tmp_path).values()
    converted = dcmread(received)
    assert converted.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert converted.PixelData == dcmread(large_file).PixelData


# -- stores the node refuses -----------------------------------------------------------


def test_store_without_series_uid_fails_and_keeps_nothing(archive: Archive) -> None:
    ds = peers.make_ct(None, 64, PatientID="DWN-NOSERIES", StudyInstanceUID=f"{ROOT}.60")
    del ds.SeriesInstanceUID
    assert peers.pynetdicom_send(archive.port, [ds], called_aet=NODE_AET) == [0xA900]
    # And from dicomwire's own SCU.
    other = peers.make_ct(None, 64, PatientID="DWN-NOSERIES", StudyInstanceUID=f"{ROOT}.60")
    del other.SeriesInstanceUID
    assert dicomwire_send(archive.port, other) == 0xA900
    node = archive.node
    for uid in (ds.SOPInstanceUID, other.SOPInstanceUID):
        assert not any(uid in name for name in node.stored_files())
        with node.index() as index:
            assert index.instance(uid) is None
    assert not (node.data_dir / "files" / f"{ROOT}.60").exists()
    assert f"refused {ds.SOPInstanceUID}: missing SeriesInstanceUID" in node.log()


def dicomwire_send(port: int, ds: Dataset) -> int:
    """One C-STORE with dicomwire's AE; the status."""
    from dicomwire import AE

    ae = AE("DWSCU")
    ae.add_requested_context(str(ds.SOPClassUID), [str(ds.file_meta.TransferSyntaxUID)])
    assoc = ae.associate(LOCAL, port, ae_title=NODE_AET)
    assert assoc.is_established
    try:
        return int(assoc.send_c_store(ds).Status)
    finally:
        assoc.release()


@pytest.mark.parametrize("hostile", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
def test_hostile_uid_never_becomes_a_path(archive: Archive, hostile: str) -> None:
    uids = {
        "StudyInstanceUID": f"{ROOT}.61",
        "SeriesInstanceUID": f"{ROOT}.61.1",
        "SOPInstanceUID": f"{ROOT}.61.1.{len(hostile)}",
    }
    uids[hostile] = "../../../escaped"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom: "Invalid value for VR UI"
        ds = peers.make_ct(None, 64, PatientID="DWN-HOSTILE", **uids)
        statuses = peers.pynetdicom_send(archive.port, [ds], called_aet=NODE_AET)
    assert statuses == [0xA900]
    root = archive.node.data_dir.parent
    assert not list(root.rglob("*escaped*"))
    with archive.node.index() as index:
        assert not any(
            "escaped" in i.path or i.patient_id == "DWN-HOSTILE" for i in index.instances()
        )


# -- retrieval transfer syntaxes -------------------------------------------------------


@pytest.mark.parametrize("accepted", UNCOMPRESSED, ids=["explicit-only", "implicit-only"])
def test_get_converts_between_uncompressed_syntaxes(archive: Archive, accepted: str) -> None:
    """Each file goes as stored when its syntax is the one accepted, converted otherwise."""
    corpus = archive.corpus
    series = [corpus.series["A1.ct"], corpus.series["A1.implicit"]]  # Explicit and Implicit
    query = dataset(
        QueryRetrieveLevel="SERIES",
        StudyInstanceUID=corpus.study["A1"],
        SeriesInstanceUID="\\".join(series),
    )
    got = pynetdicom_get(archive.port, query, [(CT, [accepted])])
    assert got.status == 0x0000
    assert sorted(got.received) == sorted(corpus.members["A1.ct"] + corpus.members["A1.implicit"])
    for uid, item in got.received.items():
        original = corpus.files[uid]
        assert item.transfer_syntax == accepted
        if dcmread(original, stop_before_pixels=True).file_meta.TransferSyntaxUID == accepted:
            assert same_dataset_bytes(original, item.dataset_bytes), uid
        else:
            converted = decoded(item.dataset_bytes, accepted)
            assert peers.element_differences(dcmread(original), converted) == [], uid


def write_jpeg_labelled(path: Path, **attrs: Any) -> Dataset:
    """An Explicit VR file whose meta says JPEG Baseline, with encapsulated pixel data."""
    ds = peers.make_ct(
        None, 64, JPEGBaseline8Bit, BitsAllocated=8, BitsStored=8, HighBit=7, **attrs
    )
    ds.PixelData = encapsulate([b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9"])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return ds


def test_get_of_compressed_file_by_uncompressed_only_scu(archive: Archive, tmp_path: Path) -> None:
    study = f"{ROOT}.70"
    ids = {"PatientID": "DWN-JPEG", "StudyInstanceUID": study, "SeriesInstanceUID": f"{study}.1"}
    jpeg, plain = tmp_path / "jpeg.dcm", tmp_path / "plain.dcm"
    jpeg_uid, plain_uid = f"{study}.1.1", f"{study}.1.2"
    write_jpeg_labelled(jpeg, SOPInstanceUID=jpeg_uid, **ids)
    peers.make_ct(plain, PIXELS, SOPInstanceUID=plain_uid, **ids)
    assert peers.pynetdicom_send(archive.port, [jpeg, plain], called_aet=NODE_AET) == [0, 0]
    query = dataset(QueryRetrieveLevel="STUDY", StudyInstanceUID=study)

    got = pynetdicom_get(archive.port, query, [(CT, UNCOMPRESSED)])
    assert got.status == 0xB000
    assert int(got.final.NumberOfCompletedSuboperations) == 1
    assert int(got.final.NumberOfFailedSuboperations) == 1
    assert got.failed_uids == [jpeg_uid]
    assert list(got.received) == [plain_uid]

    # A requestor that takes JPEG Baseline gets the file as it is.
    both = pynetdicom_get(archive.port, query, [(CT, [JPEGBaseline8Bit]), (CT, UNCOMPRESSED)])
    assert both.status == 0x0000 and sorted(both.received) == [jpeg_uid, plain_uid]
    assert both.received[jpeg_uid].transfer_syntax == JPEGBaseline8Bit
    assert same_dataset_bytes(jpeg, both.received[jpeg_uid].dataset_bytes)


# -- duplicates ------------------------------------------------------------------------


@pytest.fixture
def in_process_node(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``dicomwire.node.app.Node`` in this process, on SQLite, ``on_duplicate`` from the param."""
    from dicomwire.node.app import Node
    from dicomwire.node.config import load

    config = load(
        {
            "data_dir": tmp_path / "data",
            "port": peers.free_port(),
            "bind": LOCAL,
            "on_duplicate": request.param,
        },
        environ={},
    )
    node = Node(config)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.mark.parametrize(
    ("in_process_node", "status", "kept", "logged"),
    [
        ("keep", 0x0000, "first", "duplicate {uid} kept as it was"),
        ("replace", 0x0000, "second", "stored {uid} from PYNETSCU (replaced)"),
        ("reject", 0x0111, "first", "duplicate {uid} refused"),
    ],
    indirect=["in_process_node"],
)
def test_duplicate_policy(
    in_process_node: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    status: int,
    kept: str,
    logged: str,
) -> None:
    """The same SOP Instance UID again, with other pixels and in another series."""
    caplog.set_level(logging.INFO, logger="dicomwire.node")
    node, uid, study = in_process_node, f"{ROOT}.80.1.1", f"{ROOT}.80"
    versions = {"first": tmp_path / "first.dcm", "second": tmp_path / "second.dcm"}
    for seed, path in enumerate(versions.values(), 1):
        peers.make_ct(
            path,
            PIXELS,
            seed=seed,
            StudyInstanceUID=study,
            SeriesInstanceUID=f"{study}.{seed}",
            SOPInstanceUID=uid,
        )
    port = node.config.port
    assert peers.pynetdicom_send(port, [versions["first"]], called_aet=NODE_AET) == [0x0000]
    assert peers.pynetdicom_send(port, [versions["second"]], called_aet=NODE_AET) == [status]
    stored = node.index.instance(uid)
    assert stored is not None and node.index.counts()["instances"] == 1
    assert stored.series_instance_uid == f"{study}.{1 if kept == 'first' else 2}"
    assert same_dataset_bytes(versions[kept], node.config.data_dir / stored.path)
    # One file: a replaced instance's old file is gone, a refused one was never written.
    files = (node.config.data_dir / "files").rglob("*.dcm")
    assert [p.relative_to(node.config.data_dir).as_posix() for p in files] == [stored.path]
    assert node.index.counts()["series"] == 1
    assert logged.format(uid=uid) in caplog.text


@pytest.mark.parametrize("same_series", [True, False], ids=["same-path", "other-series"])
def test_same_instance_on_two_associations_at_once(archive: Archive, same_series: bool) -> None:
    """Two versions of each SOP Instance UID (Instance Number 1 or 2; in one series or
    two) sent at the same moment on two associations: the index and the file on disk
    hold the same version, and the other version leaves no file behind."""
    study, count = f"{ROOT}.{82 + same_series}", 10
    versions = [
        [peers.make_ct(None, PIXELS, seed=number, PatientID="DWN-TWICE", StudyInstanceUID=study,
                       SeriesInstanceUID=f"{study}.{1 if same_series else number}",
                       SOPInstanceUID=f"{study}.9.{n}", InstanceNumber=number)
         for n in range(count)]
        for number in (1, 2)
    ]  # fmt: skip
    assert send_at_once([(archive.port, v) for v in versions]) == [[0] * count] * 2
    from sqlalchemy import select

    from dicomwire.node.db import make_engine
    from dicomwire.node.schema import instances

    engine = make_engine(archive.node.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(instances.c.path, instances.c.instance_number).where(
                    instances.c.sop_instance_uid.like(f"{study}.9.%")
                )
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == count
    for path, number in rows:
        on_disk = dcmread(archive.node.data_dir / path, stop_before_pixels=True)
        assert int(on_disk.InstanceNumber) == int(number), path
    stored = {p for p in archive.node.stored_files() if f"/{study}/" in p}
    assert stored == {path for path, _ in rows}


# -- Modality Worklist -----------------------------------------------------------------


def worklist_item(patient_id: str, modality: str, date: str, step_id: str) -> Dataset:
    step = dataset(
        Modality=modality,
        ScheduledStationAETitle="CT1",
        ScheduledProcedureStepStartDate=date,
        ScheduledProcedureStepStartTime="090000",
        ScheduledProcedureStepID=step_id,
        ScheduledProcedureStepDescription="Chest",
    )
    return dataset(
        PatientName=f"Worklist^{step_id}",
        PatientID=patient_id,
        AccessionNumber=f"ACC-{step_id}",
        RequestedProcedureID=f"RP-{step_id}",
        ScheduledProcedureStepSequence=[step],
    )


def write_worklist_files(folder: Path) -> dict[str, Path]:
    """SPS1: CT 2024-01-15 (JSON); SPS2: CT 2024-01-20 (DICOM file); SPS3: MR 2024-01-15 (JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "SPS1": folder / "sps1.json",
        "SPS2": folder / "sps2.dcm",
        "SPS3": folder / "sps3.json",
    }
    for step_id, modality, date in (("SPS1", "CT", "20240115"), ("SPS3", "MR", "20240115")):
        item = worklist_item(f"WL-{step_id}", modality, date, step_id)
        paths[step_id].write_text(json.dumps(item.to_json_dict()))
    item = worklist_item("WL-SPS2", "CT", "20240120", "SPS2")
    item.file_meta = FileMetaDataset()
    item.file_meta.MediaStorageSOPClassUID = MWL_FIND
    item.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    item.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    item.save_as(paths["SPS2"], enforce_file_format=True)
    return paths


def mwl_find(archive: Archive, dates: str, out: Path) -> list[str]:
    """findscu -W for CT steps in ``dates``; the SPS IDs found."""
    step = "ScheduledProcedureStepSequence[0]."
    keys = [
        "PatientName",
        "PatientID",
        "AccessionNumber",
        f"{step}Modality=CT",
        f"{step}ScheduledProcedureStepStartDate={dates}",
        f"{step}ScheduledProcedureStepID",
        f"{step}ScheduledStationAETitle",
    ]
    out.mkdir(parents=True, exist_ok=True)
    result = peers.run_findscu(archive.port, keys, model="W", output_dir=out, called_aet=NODE_AET)
    assert result.returncode == 0 and peers.dcmtk_response_statuses(result)[-1] == "Success", (
        peers.describe_run(result)
    )
    found = []
    for answer in peers.find_responses(out):
        (step_item,) = answer.ScheduledProcedureStepSequence
        assert step_item.Modality == "CT" and step_item.ScheduledStationAETitle == "CT1"
        assert answer.PatientID == f"WL-{step_item.ScheduledProcedureStepID}"
        found.append(str(step_item.ScheduledProcedureStepID))
    return sorted(found)


def test_worklist_add_find_list_remove(archive: Archive, tmp_path: Path) -> None:
    node = archive.node
    where = node.where()
    files = write_worklist_files(tmp_path / "items")
    added = dicomwire_cli("worklist", "add", *files.values(), *where)
    assert added.returncode == 0, added.stderr
    ids = added.stdout.split()
    assert len(ids) == 3 and all(i.startswith(s) for i, s in zip(ids, files, strict=True))

    listed = dicomwire_cli("worklist", "list", *where)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()}
    assert set(rows) == set(ids)
    assert rows[ids[1]][1:5] == ["WL-SPS2", "Worklist^SPS2", "CT", "20240120"]

    assert mwl_find(archive, "20240110-20240116", tmp_path / "narrow") == ["SPS1"]
    assert mwl_find(archive, "20240101-20240131", tmp_path / "month") == ["SPS1", "SPS2"]

    removed = dicomwire_cli("worklist", "remove", *ids, *where)
    assert removed.returncode == 0, removed.stderr
    assert mwl_find(archive, "20240101-20240131", tmp_path / "after") == []


# -- Relevant Patient Information Query ------------------------------------------------


def structured_report(patient_id: str, name: str, text: str) -> Dataset:
    """A Comprehensive SR with the General Relevant Patient Information template (TID 9007)."""
    study = generate_uid()
    ds = dataset(
        SOPClassUID=COMPREHENSIVE_SR,
        SOPInstanceUID=generate_uid(),
        StudyInstanceUID=study,
        SeriesInstanceUID=generate_uid(),
        PatientID=patient_id,
        PatientName=name,
        PatientBirthDate="19700101",
        PatientSex="F",
        Modality="SR",
        StudyDate="20240201",
        ContentDate="20240201",
        ContentTime="120000",
        ValueType="CONTAINER",
        ContinuityOfContent="SEPARATE",
        ConceptNameCodeSequence=[
            dataset(CodeValue="11526-1", CodingSchemeDesignator="LN", CodeMeaning="Pathology study")
        ],
        ContentTemplateSequence=[dataset(MappingResource="DCMR", TemplateIdentifier="9007")],
        ContentSequence=[
            dataset(
                RelationshipType="CONTAINS",
                ValueType="TEXT",
                TextValue=text,
                ConceptNameCodeSequence=[
                    dataset(CodeValue="121106", CodingSchemeDesignator="DCM", CodeMeaning="Comment")
                ],
            )
        ],
    )
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = COMPREHENSIVE_SR
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def relevant_query(**keys: str) -> Dataset:
    query = dataset(
        **{
            **dict.fromkeys(["PatientID", "PatientName", "PatientBirthDate", "PatientSex"], ""),
            **keys,
        }
    )
    query.ContentTemplateSequence = [dataset(MappingResource="DCMR", TemplateIdentifier="9007")]
    return query


def test_relevant_patient_information(archive: Archive) -> None:
    reports = [
        structured_report("DWN-SR1", "Sierra^One", "allergic to penicillin"),
        structured_report("DWN-SR2", "Sierra^Two", "no known allergies"),
    ]
    assert peers.pynetdicom_send(archive.port, reports, called_aet=NODE_AET) == [0, 0]

    one = pynetdicom_find(archive.port, relevant_query(PatientID="DWN-SR1"), RELEVANT_PATIENT_QUERY)
    assert [status for status, _ in one] == [PENDING, 0x0000]
    answer = one[0][1]
    assert answer is not None and answer.PatientID == "DWN-SR1"
    assert str(answer.PatientName) == "Sierra^One" and answer.PatientSex == "F"
    assert answer.ContentSequence[0].TextValue == "allergic to penicillin"
    assert answer.ContentTemplateSequence[0].TemplateIdentifier == "9007"

    both = relevant_query()
    both.PatientName = "Sierra^*"
    assert pynetdicom_find(archive.port, both, RELEVANT_PATIENT_QUERY) == [(0xC100, None)]
    log = archive.node.log()
    assert "Relevant Patient Information query from PYNETSCU: 2 patients match" in log
    assert f"Relevant Patient Information query from PYNETSCU: {reports[0].SOPInstanceUID}" in log


# -- restart and stop ------------------------------------------------------------------


def snapshot(node: NodeProcess) -> tuple[set[tuple[str, str]], list[str], dict[str, int]]:
    with node.index() as index:
        instances = {(i.sop_instance_uid, i.path) for i in index.instances()}
        items = [item_id for item_id, _ in index.worklist_items()]
        return instances, items, index.counts()


def test_restart_keeps_everything(archive: Archive, tmp_path: Path) -> None:
    node, corpus = archive.node, archive.corpus
    with node.index() as index:
        index.worklist_add(worklist_item("WL-SPS1", "CT", "20240115", "SPS1"))
    before = snapshot(node)
    assert set(corpus.files) <= {uid for uid, _ in before[0]}

    node.restart()

    assert snapshot(node) == before
    assert f" listening on *:{node.port}, {len(before[0])} instances" in node.log()
    keys = {
        "QueryRetrieveLevel": "STUDY",
        "PatientID": "*",
        "StudyInstanceUID": "",
        "NumberOfStudyRelatedInstances": "",
    }
    studies = findscu(archive, keys, tmp_path / "find")
    assert sum(int(s.NumberOfStudyRelatedInstances) for s in studies) == len(before[0])
    assert mwl_find(archive, "20240115", tmp_path / "mwl") == ["SPS1"]
    got = pynetdicom_get(
        archive.port,
        dataset(QueryRetrieveLevel="STUDY", StudyInstanceUID=corpus.study["A1"]),
        [(CT, UNCOMPRESSED), (SC, UNCOMPRESSED)],
    )
    assert got.status == 0x0000 and sorted(got.received) == sorted(corpus.in_study("A1"))


_SENDING = re.compile(r"Sending file: (?P<path>\S+)")


def storescu_successes(output: str) -> set[str]:
    """The files DCMTK storescu -v got a Success response for."""
    current, done = None, set()
    for line in output.splitlines():
        match = _SENDING.search(line)
        if match:
            current = match["path"]
        elif "Received Store Response (Success)" in line and current is not None:
            done.add(current)
    return done


def test_sigterm_during_store_finishes_in_flight(archive: Archive, tmp_path: Path) -> None:
    node, study = archive.node, f"{ROOT}.90"
    files = {}
    for number in range(1, 151):
        uid = f"{study}.1.{number}"
        files[str(tmp_path / f"s{number}.dcm")] = uid
        peers.make_ct(
            tmp_path / f"s{number}.dcm",
            PIXELS,
            seed=number,
            PatientID="DWN-STORM",
            StudyInstanceUID=study,
            SeriesInstanceUID=f"{study}.1",
            SOPInstanceUID=uid,
        )
    storescu = subprocess.Popen(
        [peers.require_tool("storescu"), "-v", "-aec", NODE_AET, LOCAL, str(node.port), *files],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=peers.dcmtk_env(),
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(storescu.stdout or []))
    reader.start()
    try:
        wait_for(lambda: f"stored {study}.1.1 " in node.log(), what="the first store")
        in_flight = storescu.poll() is None
        node.signal()
        assert storescu.wait(timeout=60) == 0, "".join(output)
    finally:
        if storescu.poll() is None:
            storescu.kill()
        reader.join()
    assert node.wait() == 0, node.log()
    assert "stopped" in node.log().splitlines()[-1]
    assert in_flight, "storescu ended before the node was told to stop"
    # The association that was running went on to its end: every file got Success.
    succeeded = storescu_successes("".join(output))
    assert len(succeeded) == len(files)

    node.start()
    instances, _, _ = snapshot(node)
    indexed = {uid for uid, _ in instances}
    assert {files[path] for path in succeeded} <= indexed
    assert {path for _, path in instances} == node.stored_files()
    assert not node.temp_files()


def wait_for(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.01)


# -- the README's command --------------------------------------------------------------


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("", port))
        except OSError:
            return False
    return port not in (peers._listening_ports_from_proc() or set())


def test_serve_without_arguments(tmp_path: Path) -> None:
    """``dicomwire serve``: AE DICOMWIRE on 11112, files and SQLite under ./dicomwire-data."""
    if not port_is_free(11112):
        pytest.skip("port 11112 is in use on this machine")
    node = NodeProcess(tmp_path / "dicomwire-data", cwd=tmp_path, name="readme")
    node.launch()
    try:
        node.wait_ready()
    except RuntimeError:
        if "in use" in node.log():
            pytest.skip("port 11112 was taken while the node started")
        raise
    try:
        assert peers.pynetdicom_echo(11112, called_aet=NODE_AET) == 0
        data = tmp_path / "dicomwire-data"
        assert (data / "index.sqlite").is_file() and (data / "files").is_dir()
        assert f"DICOMWIRE listening on *:11112, 0 instances in {Path('dicomwire-data')}" in (
            node.log()
        )
    finally:
        node.signal(signal.SIGINT)  # Ctrl-C
        code = node.wait()
    assert code == 0, node.log()
    assert "association from PYNETSCU" in node.log() and "C-ECHO from PYNETSCU" in node.log()
    assert node.log().splitlines()[-1].endswith("stopped")
