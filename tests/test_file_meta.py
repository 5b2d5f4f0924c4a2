"""The direct File Meta Information encoder writes what pydicom writes (PS3.10 7.1)."""

from __future__ import annotations

from io import BytesIO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.dataset import FileMetaDataset
from pydicom.filereader import dcmread
from pydicom.filewriter import write_file_meta_info

from dicomwire.file_meta import PREAMBLE, _encode_known, encode_file_meta, encode_file_meta_values

uids = st.from_regex(r"\A[1-9][0-9]{0,5}(\.[1-9][0-9]{0,5}){1,8}\Z")
titles = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", max_size=16)


def pydicom_bytes(meta: FileMetaDataset) -> bytes:
    buffer = BytesIO()
    buffer.write(PREAMBLE)
    write_file_meta_info(buffer, meta, enforce_standard=True)  # type: ignore[arg-type]
    return buffer.getvalue()


def full_meta(sop: str = "1.2.840.10008.5.1.4.1.1.2", instance: str = "1.2.3.4") -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = instance
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.10.1"
    meta.ImplementationVersionName = "DICOMWIRE_010"
    return meta


@given(sop=uids, instance=uids, syntax=uids, version=titles, source=st.none() | titles)
def test_same_bytes_as_pydicom(
    sop: str, instance: str, syntax: str, version: str, source: str | None
) -> None:
    meta = full_meta(sop, instance)
    meta.TransferSyntaxUID = syntax
    meta.ImplementationVersionName = version
    if source is not None:
        meta.SourceApplicationEntityTitle = source
    assert _encode_known(meta) is not None  # the direct path was taken
    assert encode_file_meta(meta) == pydicom_bytes(meta)


def test_a_stale_group_length_is_recomputed() -> None:
    meta = full_meta()
    meta.FileMetaInformationGroupLength = 12
    assert encode_file_meta(meta) == pydicom_bytes(meta)


def test_the_file_reads_back() -> None:
    meta = full_meta()
    meta.SourceApplicationEntityTitle = "STORESCU"
    read = dcmread(BytesIO(encode_file_meta(meta) + b"\x08\x00\x16\x00UI\x02\x001\x00"))
    assert read.file_meta.MediaStorageSOPInstanceUID == "1.2.3.4"
    assert read.file_meta.SourceApplicationEntityTitle == "STORESCU"


@pytest.mark.parametrize("missing", ["FileMetaInformationVersion", "ImplementationClassUID"])
def test_missing_elements_are_left_to_pydicom(missing: str) -> None:
    meta = full_meta()
    delattr(meta, missing)
    assert _encode_known(meta) is None
    assert encode_file_meta(meta) == pydicom_bytes(meta)


def test_unknown_elements_are_left_to_pydicom() -> None:
    meta = full_meta()
    meta.PrivateInformationCreatorUID = "1.2.3"
    meta.PrivateInformation = b"\x01\x02"
    assert _encode_known(meta) is None
    assert encode_file_meta(meta) == pydicom_bytes(meta)


def test_a_missing_sop_instance_is_refused_as_pydicom_does() -> None:
    meta = full_meta()
    del meta.MediaStorageSOPInstanceUID
    with pytest.raises(AttributeError):  # what pydicom raises
        encode_file_meta(meta)


def values_of(meta: FileMetaDataset) -> dict[int, object]:
    return {int(tag) & 0xFFFF: meta[tag].value for tag in meta.keys()}


@pytest.mark.filterwarnings("ignore:Invalid value for VR AE")
@given(sop=uids, instance=uids, source=st.none() | titles | st.just("RÉSEAU"))
def test_from_values_as_from_a_dataset(sop: str, instance: str, source: str | None) -> None:
    """The values path gives the dataset path's bytes, the pydicom fallback included
    (a non-ASCII AE title is not encoded directly)."""
    meta = full_meta(sop, instance)
    if source is not None:
        meta.SourceApplicationEntityTitle = source
    assert encode_file_meta_values(values_of(meta)) == pydicom_bytes(meta)


def test_an_events_file_meta_two_ways() -> None:
    """Event.encoded_file_meta() is Event.file_meta encoded, without building it."""
    from types import SimpleNamespace

    from dicomwire import evt
    from dicomwire.dimse.commands import C_STORE_RQ
    from dicomwire.events import Event

    request = C_STORE_RQ(MessageID=1, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.1.2",
                         AffectedSOPInstanceUID="1.2.3.4.5", Priority=0)  # fmt: skip
    assoc = SimpleNamespace(requestor=SimpleNamespace(ae_title="STORESCU"))
    context = SimpleNamespace(transfer_syntax="1.2.840.10008.1.2.1")
    event = Event(assoc, evt.EVT_C_STORE, context=context, request=request, _data=b"")
    assert event.encoded_file_meta() == encode_file_meta(event.file_meta)
    assert event.encoded_dataset(include_meta=True) == encode_file_meta(event.file_meta)
    assert event.file_meta.SourceApplicationEntityTitle == "STORESCU"
