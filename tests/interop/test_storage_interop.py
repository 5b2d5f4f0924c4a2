"""Storage and Verification between dicomwire and peers nobody here wrote.

Both directions against DCMTK (storescu/echoscu -> dicomwire SCP, dicomwire
SCU -> storescp) and against pynetdicom. A received instance must be the sent
one: same file meta identity and transfer syntax, same elements, and the very
same data set bytes when the transfer syntax did not change on the way
(DCMTK's storescu, pynetdicom and dicomwire all send a file as-is when the
peer accepts its transfer syntax).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

import peers
from dicomwire import AE, AllStoragePresentationContexts, evt
from dicomwire.sop_class import CTImageStorage, SecondaryCaptureImageStorage, Verification

pytestmark = pytest.mark.interop

LOCALHOST = peers.LOCALHOST


# -- dicomwire as the SCP ------------------------------------------------------


@dataclass
class Received:
    """What the dicomwire C-STORE handler kept of one request."""

    data: bytes
    file_meta: FileMetaDataset


@dataclass
class DicomwireSCP:
    port: int
    received: list[Received] = field(default_factory=list)
    echoes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle_store(self, event: Any) -> int:
        item = Received(event.encoded_dataset(), event.file_meta)
        with self.lock:
            self.received.append(item)
        return 0x0000

    def handle_echo(self, event: Any) -> int:
        with self.lock:
            self.echoes += 1
        return 0x0000

    def by_instance(self) -> dict[str, Received]:
        return {str(r.file_meta.MediaStorageSOPInstanceUID): r for r in self.received}


@pytest.fixture
def dicomwire_scp() -> Iterator[DicomwireSCP]:
    scp = DicomwireSCP(peers.free_port())
    ae = AE()
    ae.supported_contexts = AllStoragePresentationContexts
    ae.add_supported_context(Verification)
    handlers = [(evt.EVT_C_STORE, scp.handle_store), (evt.EVT_C_ECHO, scp.handle_echo)]
    server = ae.start_server((LOCALHOST, scp.port), block=False, evt_handlers=handlers)
    assert server is not None  # block=False returns the running server
    try:
        yield scp
    finally:
        server.shutdown()


# -- comparisons ---------------------------------------------------------------


def assert_received_file(sent: Path, meta: FileMetaDataset, data: bytes) -> None:
    """``meta`` + ``data`` arrived for the file ``sent``, unchanged.

    Same bytes when the transfer syntax is the file's; same elements when
    the transfer syntax was changed on the way.
    """
    sent_meta, sent_data = peers.read_file_parts(sent)
    assert meta.MediaStorageSOPClassUID == sent_meta.MediaStorageSOPClassUID
    assert meta.MediaStorageSOPInstanceUID == sent_meta.MediaStorageSOPInstanceUID
    if meta.TransferSyntaxUID == sent_meta.TransferSyntaxUID:
        assert data == sent_data, f"{sent.name}: data set bytes differ"
    else:
        received = decode(data, UID(meta.TransferSyntaxUID))
        assert peers.element_differences(dcmread(sent), received) == []


def assert_as_is(sent: Path, meta: FileMetaDataset) -> None:
    """The instance travelled in the transfer syntax of its file, no conversion."""
    expected = dcmread(sent, stop_before_pixels=True).file_meta.TransferSyntaxUID
    assert meta.TransferSyntaxUID == expected, (
        f"{sent.name} ({expected.name}) arrived as {UID(meta.TransferSyntaxUID).name}"
    )


def assert_received_dataset(sent: Dataset, meta: FileMetaDataset, data: bytes) -> None:
    """``data`` (in ``meta``'s transfer syntax) holds the same elements as ``sent``."""
    assert meta.MediaStorageSOPClassUID == sent.SOPClassUID
    assert meta.MediaStorageSOPInstanceUID == sent.SOPInstanceUID
    received = decode(data, UID(meta.TransferSyntaxUID))
    assert peers.element_differences(sent, received) == []


def decode(data: bytes, syntax: UID) -> Dataset:
    implicit, little = syntax.is_implicit_VR, syntax.is_little_endian
    return read_dataset(BytesIO(data), is_implicit_VR=implicit, is_little_endian=little)


def assert_storescp_wrote(storescp: peers.PeerProcess, sent: list[Path | Dataset]) -> None:
    """storescp (bit-preserving) wrote exactly the instances in ``sent``."""
    written = {str(dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in storescp.files()}
    assert len(written) == len(sent), storescp.log()
    for item in sent:
        if isinstance(item, Path):
            uid = str(dcmread(item, stop_before_pixels=True).SOPInstanceUID)
            meta, data = peers.read_file_parts(written[uid])
            assert_received_file(item, meta, data)
            assert_as_is(item, meta)
            assert peers.element_differences(dcmread(item), dcmread(written[uid])) == []
        else:
            meta, data = peers.read_file_parts(written[str(item.SOPInstanceUID)])
            assert_received_dataset(item, meta, data)


# -- dicomwire as the SCU --------------------------------------------------------


def dicomwire_store(port: int, items: list[Path | Dataset]) -> list[int]:
    """Send files and data sets with dicomwire: ``send_c_store(path)`` / ``(dataset)``.

    One context per (SOP class, transfer syntax) offering just that
    transfer syntax, so each instance can travel as it is.
    """
    ae = AE()
    for sop_class, syntax in [
        (CTImageStorage, ExplicitVRLittleEndian),
        (CTImageStorage, ImplicitVRLittleEndian),
        (SecondaryCaptureImageStorage, ExplicitVRLittleEndian),
    ]:
        ae.add_requested_context(sop_class, syntax)
    assoc = ae.associate(LOCALHOST, port)
    assert assoc.is_established
    try:
        statuses = []
        for item in items:
            status = assoc.send_c_store(str(item) if isinstance(item, Path) else item)
            statuses.append(int(status.Status) if status else -1)
    finally:
        assoc.release()
    return statuses


def dicomwire_echo(port: int) -> int:
    ae = AE()
    ae.add_requested_context(Verification)
    assoc = ae.associate(LOCALHOST, port)
    assert assoc.is_established
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if status else -1
    finally:
        assoc.release()


def in_memory_ct() -> Dataset:
    return peers.make_ct(size_bytes=48 * 1024, seed=21, PatientID="DW-MEM")


# -- DCMTK -> dicomwire ------------------------------------------------------------


def test_echoscu_to_dicomwire(dicomwire_scp: DicomwireSCP) -> None:
    result = peers.run_echoscu(dicomwire_scp.port, args=["-v"])
    assert result.returncode == 0, peers.describe_run(result)
    assert dicomwire_scp.echoes == 1


def test_storescu_to_dicomwire(dicomwire_scp: DicomwireSCP, sample_files: dict[str, Path]) -> None:
    files = list(sample_files.values())
    result = peers.run_storescu(dicomwire_scp.port, *files, args=["-v"])
    assert result.returncode == 0, peers.describe_run(result)
    received = dicomwire_scp.by_instance()
    assert len(received) == len(files)
    for path in files:
        item = received[str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)]
        assert_received_file(path, item.file_meta, item.data)
    for path in files:
        # storescu offers each SOP class twice: [Explicit LE] and [Explicit BE,
        # Implicit LE], and picks the context that matches the file. An SCP
        # answering in its own preference (Implicit before Big Endian, as DCMTK
        # and pynetdicom do) gets every file as it is, with nothing converted.
        item = received[str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)]
        assert_as_is(path, item.file_meta)


def test_storescu_large_file_to_dicomwire(dicomwire_scp: DicomwireSCP, tmp_path: Path) -> None:
    big = tmp_path / "big.dcm"
    peers.write_large_ct(big, 24)  # ~1500 P-DATA PDUs at storescu's 16 KiB
    result = peers.run_storescu(dicomwire_scp.port, big)
    assert result.returncode == 0, peers.describe_run(result)
    [item] = dicomwire_scp.received
    assert_received_file(big, item.file_meta, item.data)
    assert_as_is(big, item.file_meta)


# -- dicomwire -> DCMTK ------------------------------------------------------------


def test_dicomwire_echo_to_storescp(storescp: peers.PeerProcess) -> None:
    assert dicomwire_echo(storescp.port) == 0x0000


def test_dicomwire_to_storescp(storescp: peers.PeerProcess, sample_files: dict[str, Path]) -> None:
    items: list[Path | Dataset] = [*sample_files.values(), in_memory_ct()]
    assert dicomwire_store(storescp.port, items) == [0x0000] * len(items)
    assert_storescp_wrote(storescp, items)


def test_dicomwire_large_file_to_storescp(storescp: peers.PeerProcess, tmp_path: Path) -> None:
    big = tmp_path / "big.dcm"
    peers.write_large_ct(big, 24, transfer_syntax=ImplicitVRLittleEndian)
    assert dicomwire_store(storescp.port, [big]) == [0x0000]
    assert_storescp_wrote(storescp, [big])


# -- pynetdicom <-> dicomwire ------------------------------------------------------


def test_pynetdicom_echo_to_dicomwire(dicomwire_scp: DicomwireSCP) -> None:
    assert peers.pynetdicom_echo(dicomwire_scp.port) == 0x0000
    assert dicomwire_scp.echoes == 1


def test_pynetdicom_to_dicomwire(
    dicomwire_scp: DicomwireSCP, sample_files: dict[str, Path]
) -> None:
    files = list(sample_files.values())
    memory = in_memory_ct()
    statuses = peers.pynetdicom_send(dicomwire_scp.port, [*files, memory])
    assert statuses == [0x0000] * (len(files) + 1)
    received = dicomwire_scp.by_instance()
    for path in files:
        item = received[str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)]
        assert_received_file(path, item.file_meta, item.data)
        assert_as_is(path, item.file_meta)
    item = received[str(memory.SOPInstanceUID)]
    assert_received_dataset(memory, item.file_meta, item.data)


def test_dicomwire_echo_to_pynetdicom(pynetdicom_scp: peers.PynetdicomStorageSCP) -> None:
    assert dicomwire_echo(pynetdicom_scp.port) == 0x0000
    assert pynetdicom_scp.echoes == 1


def test_dicomwire_to_pynetdicom(
    pynetdicom_scp: peers.PynetdicomStorageSCP, sample_files: dict[str, Path]
) -> None:
    files = list(sample_files.values())
    memory = in_memory_ct()
    items: list[Path | Dataset] = [*files, memory]
    assert dicomwire_store(pynetdicom_scp.port, items) == [0x0000] * len(items)
    received = {r.sop_instance_uid: r for r in pynetdicom_scp.received}
    assert len(received) == len(items)
    for path in files:
        item = received[str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)]
        assert_received_file(path, item.file_meta, item.dataset_bytes)
        assert_as_is(path, item.file_meta)
    item = received[str(memory.SOPInstanceUID)]
    assert_received_dataset(memory, item.file_meta, item.dataset_bytes)
