"""The node's index on SQLite and PostgreSQL: storing, C-FIND in every model and level,
computed and header return keys, retrieve lookups, worklist, structured reports,
restart, migrations and concurrent writers (PS3.4 B, C, K, Q)."""

from __future__ import annotations

import struct
import threading
import warnings
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from sqlalchemy import create_engine, inspect, select, text

from dicomwire.node import lookup, schema
from dicomwire.node.db import make_engine, write_transaction
from dicomwire.node.index import DuplicateInstance, Index, MissingAttributes, QueryError
from dicomwire.node.records import InstanceRecord

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
ROOT = "1.2.826.0.1.3680043.10.1234"


def make_dataset(study: str = "1", series: str = "1", sop: str = "1", **attributes: Any) -> Dataset:
    """A small instance under ``ROOT.<study>.<series>.<sop>`` with CT defaults."""
    ds = Dataset()
    ds.PatientID = "P1"
    ds.PatientName = "Doe^John"
    ds.StudyInstanceUID = f"{ROOT}.{study}"
    ds.SeriesInstanceUID = f"{ROOT}.{study}.{series}"
    ds.SOPInstanceUID = f"{ROOT}.{study}.{series}.{sop}"
    ds.SOPClassUID = CT
    ds.Modality = "CT"
    ds.StudyDate = "20200115"
    ds.StudyTime = "103000"
    ds.AccessionNumber = f"A{study}"
    ds.StudyID = study
    ds.SeriesNumber = series
    ds.InstanceNumber = sop
    ds.InstitutionName = "General Hospital"
    for keyword, value in attributes.items():
        if value is None:
            delattr(ds, keyword) if keyword in ds else None
        else:
            setattr(ds, keyword, value)
    return ds


def write(data_dir: Path, ds: Dataset, syntax: str = ExplicitVRLittleEndian) -> InstanceRecord:
    """Save ``ds`` as a PS3.10 file in ``data_dir`` and return its record."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    relative = f"files/{ds.SOPInstanceUID}.dcm"
    (data_dir / "files").mkdir(exist_ok=True)
    ds.save_as(data_dir / relative, enforce_file_format=True)
    return Index.record_from(ds, relative, syntax)


def query(level: str, **keys: Any) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ranges and wild cards are not valid values
        for keyword, value in keys.items():
            setattr(ds, keyword, value)
    return ds


@pytest.fixture
def index(index_url: str, data_dir: Path) -> Iterator[Index]:
    idx = Index(index_url, data_dir=data_dir)
    yield idx
    idx.close()


@pytest.fixture
def archive(index: Index, data_dir: Path) -> Index:
    """Two patients: P1 with a CT+MR study (3 instances) and a CT study; P2 with one SR."""
    for ds in (
        make_dataset("1", "1", "1"),
        make_dataset("1", "1", "2"),
        make_dataset("1", "2", "1", Modality="MR", SOPClassUID=MR, SeriesDescription="T1 axial"),
        make_dataset(
            "2", "1", "1", StudyDate="20210301", StudyTime="0800", StudyDescription="CHEST"
        ),
        make_dataset(
            "3",
            "1",
            "1",
            PatientID="P2",
            PatientName="Smith^Anna",
            Modality="SR",
            SOPClassUID=BASIC_TEXT_SR,
            StudyDate="20190101",
            InstitutionName="Clinic",
        ),
    ):
        assert index.add(write(data_dir, ds)) == "stored"
    return index


def uids(answers: Iterator[Dataset], keyword: str) -> list[str]:
    return sorted(str(a.get(keyword)) for a in answers)


# -- storing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing", ["SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID"]
)
def test_a_data_set_without_its_identifying_uids_is_refused(missing: str) -> None:
    ds = make_dataset()
    delattr(ds, missing)
    with pytest.raises(MissingAttributes, match=missing):
        Index.record_from(ds, "x.dcm", ExplicitVRLittleEndian)
    setattr(ds, missing, "")
    with pytest.raises(MissingAttributes, match=missing):
        Index.record_from(ds, "x.dcm", ExplicitVRLittleEndian)


def test_a_uid_longer_than_64_characters_is_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = make_dataset(StudyInstanceUID="1." * 40)
    with pytest.raises(MissingAttributes, match="StudyInstanceUID"):
        Index.record_from(ds, "x.dcm", ExplicitVRLittleEndian)


def test_an_instance_without_patient_id_is_filed_under_the_empty_id(
    index: Index, data_dir: Path
) -> None:
    index.add(write(data_dir, make_dataset(PatientID=None)))
    index.add(write(data_dir, make_dataset("2", PatientID="")))
    [patient] = index.find(
        query("PATIENT", PatientID="", NumberOfPatientRelatedStudies=""), "patient"
    )
    assert patient.PatientID == "" and patient.NumberOfPatientRelatedStudies == 2
    assert index.counts() == {"patients": 1, "studies": 2, "series": 2, "instances": 2}


def test_add_then_read_back(index: Index, data_dir: Path) -> None:
    record = write(data_dir, make_dataset(), ImplicitVRLittleEndian)
    assert index.add(record) == "stored"
    stored = index.instance(record.sop_instance_uid)
    assert stored is not None
    assert (stored.path, stored.transfer_syntax_uid, stored.patient_id) == (
        record.path,
        ImplicitVRLittleEndian,
        "P1",
    )
    assert stored.study_instance_uid == f"{ROOT}.1" and stored.sop_class_uid == CT
    assert index.instance("1.2.3.4") is None
    assert list(index.instances()) == [stored]


def test_duplicates_are_kept_replaced_or_rejected(index: Index, data_dir: Path) -> None:
    first = write(data_dir, make_dataset())
    assert index.add(first) == "stored"
    again = InstanceRecord(**{**first.__dict__, "path": "files/other.dcm"})
    assert index.add(again, on_duplicate="keep") == "kept"
    assert index.instance(first.sop_instance_uid).path == first.path  # type: ignore[union-attr]
    with pytest.raises(DuplicateInstance):
        index.add(again, on_duplicate="reject")
    assert index.add(again, on_duplicate="replace") == "replaced"
    assert index.instance(first.sop_instance_uid).path == "files/other.dcm"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        index.add(again, on_duplicate="ignore")
    assert index.counts()["instances"] == 1


def test_a_replacement_in_another_series_drops_the_emptied_one(
    index: Index, data_dir: Path
) -> None:
    index.add(write(data_dir, make_dataset("1", "1", "1")))
    moved = make_dataset("1", "2", "1", SOPInstanceUID=f"{ROOT}.1.1.1")
    assert index.add(write(data_dir, moved), on_duplicate="replace") == "replaced"
    assert index.counts() == {"patients": 1, "studies": 1, "series": 1, "instances": 1}
    assert index.instance(f"{ROOT}.1.1.1").series_instance_uid == f"{ROOT}.1.2"  # type: ignore[union-attr]


def test_later_instances_fill_in_empty_values_only(index: Index, data_dir: Path) -> None:
    index.add(
        write(
            data_dir,
            make_dataset(
                sop="1",
                StudyDescription=None,
                StudyTime=None,
                PatientSex=None,
                AccessionNumber="A1",
            ),
        )
    )
    index.add(
        write(
            data_dir,
            make_dataset(
                sop="2",
                StudyDescription="HEAD",
                StudyTime="0915",
                PatientSex="F",
                AccessionNumber="CHANGED",
            ),
        )
    )
    [study] = index.find(
        query(
            "STUDY",
            StudyInstanceUID="",
            StudyDescription="",
            StudyTime="",
            AccessionNumber="",
            PatientSex="",
        ),
        "study",
    )
    assert (study.StudyDescription, study.StudyTime, study.PatientSex) == ("HEAD", "0915", "F")
    assert study.AccessionNumber == "A1"
    # The combined date-time follows the filled-in time.
    assert (
        len(
            list(
                index.find(
                    query("STUDY", StudyDate="20200115-", StudyTime="0900-0930"),
                    "study",
                    combined_datetime=True,
                )
            )
        )
        == 1
    )


def test_remove_drops_emptied_series_studies_and_patients(archive: Index) -> None:
    assert archive.remove(f"{ROOT}.1.2.1")
    assert archive.counts() == {"patients": 2, "studies": 3, "series": 3, "instances": 4}
    assert archive.remove(f"{ROOT}.3.1.1")
    assert archive.counts() == {"patients": 1, "studies": 2, "series": 2, "instances": 3}
    assert not archive.remove(f"{ROOT}.3.1.1")


# -- C-FIND: levels and models (PS3.4 C.4.1, C.6) -----------------------------------------


def test_patient_root_at_every_level(archive: Index) -> None:
    assert uids(
        archive.find(query("PATIENT", PatientID="", PatientName="D*"), "patient"), "PatientID"
    ) == ["P1"]
    assert uids(
        archive.find(query("STUDY", PatientID="P1", StudyInstanceUID=""), "patient"),
        "StudyInstanceUID",
    ) == [f"{ROOT}.1", f"{ROOT}.2"]
    series = archive.find(
        query(
            "SERIES",
            PatientID="P1",
            StudyInstanceUID=f"{ROOT}.1",
            SeriesInstanceUID="",
            Modality="MR",
        ),
        "patient",
    )
    assert uids(series, "SeriesInstanceUID") == [f"{ROOT}.1.2"]
    images = archive.find(
        query(
            "IMAGE",
            PatientID="P1",
            StudyInstanceUID=f"{ROOT}.1",
            SeriesInstanceUID=f"{ROOT}.1.1",
            SOPInstanceUID="",
        ),
        "patient",
    )
    assert uids(images, "SOPInstanceUID") == [f"{ROOT}.1.1.1", f"{ROOT}.1.1.2"]


def test_study_root_at_every_level(archive: Index) -> None:
    studies = archive.find(query("STUDY", PatientName="SMITH*", StudyInstanceUID=""), "study")
    assert uids(studies, "StudyInstanceUID") == [f"{ROOT}.3"]
    series = archive.find(query("SERIES", StudyInstanceUID=f"{ROOT}.1", SeriesNumber=""), "study")
    assert uids(series, "SeriesNumber") == ["1", "2"]
    images = archive.find(
        query(
            "IMAGE",
            StudyInstanceUID=f"{ROOT}.1",
            SeriesInstanceUID=f"{ROOT}.1.1",
            InstanceNumber="2",
        ),
        "study",
    )
    assert uids(images, "SOPInstanceUID") == [f"{ROOT}.1.1.2"]


def test_patient_study_only_model(archive: Index) -> None:
    assert uids(archive.find(query("PATIENT", PatientID="P*"), "patient_study"), "PatientID") == [
        "P1",
        "P2",
    ]
    studies = archive.find(query("STUDY", PatientID="P1", StudyDate="2021-"), "patient_study")
    assert uids(studies, "StudyInstanceUID") == [f"{ROOT}.2"]
    with pytest.raises(QueryError):
        archive.find(query("SERIES", StudyInstanceUID=f"{ROOT}.1"), "patient_study")
    with pytest.raises(QueryError, match="below"):
        archive.find(query("STUDY", Modality="CT"), "patient_study")


@pytest.mark.parametrize(
    ("model", "level"),
    [
        ("study", "PATIENT"),
        ("patient", "FRAME"),
        ("patient", "STUDIES"),
        ("patient", ""),
        ("composite", "STUDY"),
        ("nope", "STUDY"),
    ],
)
def test_an_invalid_level_or_model_is_a_query_error(archive: Index, model: str, level: str) -> None:
    with pytest.raises(QueryError):
        archive.find(query(level), model)


def test_a_missing_level_is_a_query_error(archive: Index) -> None:
    with pytest.raises(QueryError, match="missing"):
        archive.find(Dataset(), "study")


def test_hierarchical_keys_above_the_level_must_be_unique_single_values(archive: Index) -> None:
    with pytest.raises(QueryError, match="relational"):
        archive.find(query("STUDY", PatientName="DOE*", StudyInstanceUID=""), "patient")
    with pytest.raises(QueryError, match="single value"):
        archive.find(query("SERIES", StudyInstanceUID=f"{ROOT}.1\\{ROOT}.2"), "study")
    with pytest.raises(QueryError, match="below"):
        archive.find(query("STUDY", SOPInstanceUID=f"{ROOT}.1.1.1"), "study")
    # A universal key above the level is a return key.
    [study] = archive.find(query("STUDY", PatientName="", StudyInstanceUID=f"{ROOT}.3"), "patient")
    assert study.PatientName == "Smith^Anna"


def test_relational_queries_match_on_any_level_above(archive: Index) -> None:
    found = archive.find(
        query("SERIES", PatientName="DOE*", StudyDescription="CHEST", SeriesInstanceUID=""),
        "patient",
        relational=True,
    )
    assert uids(found, "SeriesInstanceUID") == [f"{ROOT}.2.1"]
    found = archive.find(query("IMAGE", PatientID="P1", Modality="MR"), "patient", relational=True)
    assert uids(found, "SOPInstanceUID") == [f"{ROOT}.1.2.1"]


def test_an_answer_has_the_requested_keys_the_level_and_the_unique_keys(archive: Index) -> None:
    request = query(
        "SERIES", StudyInstanceUID=f"{ROOT}.1", Modality="", SeriesDescription="", InstanceNumber=""
    )
    request.SpecificCharacterSet = "ISO_IR 100"
    answers = list(archive.find(request, "patient"))
    assert len(answers) == 2
    for found in answers:
        assert set(found.dir()) == {
            "SpecificCharacterSet",
            "QueryRetrieveLevel",
            "StudyInstanceUID",
            "Modality",
            "SeriesDescription",
            "InstanceNumber",
            "SeriesInstanceUID",
            "PatientID",
        }
        assert found.QueryRetrieveLevel == "SERIES" and found.PatientID == "P1"
        assert found.InstanceNumber in ("", None)  # below the level: empty
    assert {a.SeriesDescription for a in answers} == {"", "T1 axial"}


def test_answers_with_non_ascii_text_declare_utf8(index: Index, data_dir: Path) -> None:
    ds = make_dataset(PatientName="Müller^Jürgen")
    ds.SpecificCharacterSet = "ISO_IR 100"
    index.add(write(data_dir, ds))
    [found] = index.find(query("PATIENT", PatientName="MÜLLER*"), "patient")
    assert found.PatientName == "Müller^Jürgen" and found.SpecificCharacterSet == "ISO_IR 192"


def test_answers_come_in_pages(archive: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "PAGE", 2)
    found = archive.find(
        query("IMAGE", SOPInstanceUID="", NumberOfSeriesRelatedInstances=""),
        "study",
        relational=True,
    )
    assert len(uids(found, "SOPInstanceUID")) == 5
    assert len(list(archive.instances())) == 5


# -- matching through the index ----------------------------------------------------------


def test_unknown_values_of_required_keys_match(index: Index, data_dir: Path) -> None:
    index.add(write(data_dir, make_dataset("1", StudyDate=None)))
    index.add(write(data_dir, make_dataset("2", StudyDate="20200101")))
    index.add(write(data_dir, make_dataset("3", StudyDate="20220101")))
    found = index.find(query("STUDY", StudyDate="20191201-20200201"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.1", f"{ROOT}.2"]
    found = index.find(query("STUDY", StudyDate='""'), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.1"]


def received(identifier: Dataset, patches: dict[str, bytes] | None = None) -> Dataset:
    """``identifier`` as a peer's bytes decode: implicit VR, elements left undecoded.

    ``patches`` appends raw values pydicom would refuse to hold (``""`` for an IS).
    """
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, identifier)
    data = buffer.getvalue()
    for keyword, value in (patches or {}).items():
        tag = Tag(keyword)
        data += struct.pack("<HHI", tag.group, tag.element, len(value)) + value
    return read_dataset(BytesIO(data), is_implicit_VR=True, is_little_endian=True)


def test_identifiers_as_received_from_a_peer(index: Index, data_dir: Path) -> None:
    index.add(write(data_dir, make_dataset("1", "1", "1", SeriesNumber=None)))
    index.add(write(data_dir, make_dataset("1", "2", "1", SeriesNumber="2")))
    request = received(query("SERIES", StudyInstanceUID=f"{ROOT}.1", SeriesInstanceUID=""),
                       {"SeriesNumber": b'""'})  # fmt: skip
    found = list(index.find(request, "study"))
    assert uids(iter(found), "SeriesInstanceUID") == [f"{ROOT}.1.1"]
    request = received(query("SERIES", StudyInstanceUID=f"{ROOT}.1", Modality="C*",
                             SeriesInstanceUID=""))  # fmt: skip
    assert len(list(index.find(request, "study"))) == 2


def test_combined_date_time_matching_when_negotiated(index: Index, data_dir: Path) -> None:
    for n, (date, time) in enumerate(
        [("20060705", "0900"), ("20060706", "0300"), ("20060707", "1900")], start=1
    ):
        index.add(write(data_dir, make_dataset(str(n), StudyDate=date, StudyTime=time)))
    request = query("STUDY", StudyDate="20060705-20060707", StudyTime="1000-1800")
    assert list(index.find(request, "study")) == []  # separately: no time in 10-18
    found = index.find(request, "study", combined_datetime=True)
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.2"]


def test_list_of_uids_and_wild_cards_through_sql(archive: Index) -> None:
    found = archive.find(query("STUDY", StudyInstanceUID=f"{ROOT}.1\\{ROOT}.3"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.1", f"{ROOT}.3"]
    found = archive.find(query("STUDY", AccessionNumber="A?", StudyDescription="CH*"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.2"]


# -- computed attributes and return keys from the files ----------------------------------------


def test_computed_attributes_at_every_level(archive: Index) -> None:
    [p1, _] = archive.find(
        query(
            "PATIENT",
            PatientID="",
            NumberOfPatientRelatedStudies="",
            NumberOfPatientRelatedSeries="",
            NumberOfPatientRelatedInstances="",
        ),
        "patient",
    )
    assert (
        p1.NumberOfPatientRelatedStudies,
        p1.NumberOfPatientRelatedSeries,
        p1.NumberOfPatientRelatedInstances,
    ) == (2, 3, 4)
    study = next(
        archive.find(
            query(
                "STUDY",
                StudyInstanceUID=f"{ROOT}.1",
                ModalitiesInStudy="",
                SOPClassesInStudy="",
                NumberOfStudyRelatedSeries="",
                NumberOfStudyRelatedInstances="",
                NumberOfPatientRelatedStudies="",
            ),
            "study",
        )
    )
    assert list(study.ModalitiesInStudy) == ["CT", "MR"]
    assert sorted(study.SOPClassesInStudy) == [CT, MR]
    assert (study.NumberOfStudyRelatedSeries, study.NumberOfStudyRelatedInstances) == (2, 3)
    assert study.NumberOfPatientRelatedStudies == 2
    series = archive.find(
        query("SERIES", StudyInstanceUID=f"{ROOT}.1", NumberOfSeriesRelatedInstances=""), "study"
    )
    assert sorted(s.NumberOfSeriesRelatedInstances for s in series) == [1, 2]


def test_matching_on_computed_attributes(archive: Index) -> None:
    found = archive.find(query("STUDY", ModalitiesInStudy="MR"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.1"]
    found = archive.find(query("STUDY", ModalitiesInStudy="SR\\MR"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.1", f"{ROOT}.3"]
    found = archive.find(query("STUDY", SOPClassesInStudy=BASIC_TEXT_SR), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.3"]
    found = archive.find(query("STUDY", NumberOfStudyRelatedInstances="1"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.2", f"{ROOT}.3"]


def test_any_header_attribute_is_a_return_key(archive: Index) -> None:
    [study] = archive.find(
        query("STUDY", StudyInstanceUID=f"{ROOT}.3", InstitutionName="", PatientBirthTime=""),
        "study",
    )
    assert study.InstitutionName == "Clinic" and study.PatientBirthTime in ("", None)
    series = archive.find(
        query("SERIES", StudyInstanceUID=f"{ROOT}.1", InstitutionName=""), "study"
    )
    assert {s.InstitutionName for s in series} == {"General Hospital"}
    [image] = archive.find(
        query(
            "IMAGE",
            SOPInstanceUID=f"{ROOT}.1.2.1",
            SeriesInstanceUID="",
            SeriesDescription="",
            StudyInstanceUID="",
        ),
        "study",
        relational=True,
    )
    assert image.SeriesDescription == "T1 axial"


def test_header_keys_with_values_are_matched_on_the_files(archive: Index) -> None:
    found = archive.find(query("STUDY", InstitutionName="Gen*"), "study")
    assert uids(found, "StudyInstanceUID") == [f"{ROOT}.1", f"{ROOT}.2"]
    assert all(
        a.InstitutionName == "General Hospital"
        for a in archive.find(query("STUDY", InstitutionName="Gen*"), "study")
    )


def test_sequence_return_keys_from_the_files(index: Index, data_dir: Path) -> None:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "RPID1", "RADLEX", "CT Head"
    other = Dataset()
    other.CodeValue, other.CodingSchemeDesignator, other.CodeMeaning = "RPID2", "RADLEX", "CT Neck"
    index.add(write(data_dir, make_dataset(ProcedureCodeSequence=[code, other])))
    request = query("STUDY", StudyInstanceUID="")
    request.ProcedureCodeSequence = [Dataset()]
    request.ProcedureCodeSequence[0].CodeValue = "RPID2"
    request.ProcedureCodeSequence[0].CodeMeaning = ""
    [found] = index.find(request, "study")
    [item] = found.ProcedureCodeSequence
    assert (item.CodeValue, item.CodeMeaning) == ("RPID2", "CT Neck")
    assert "CodingSchemeDesignator" not in item
    request.ProcedureCodeSequence[0].CodeValue = "RPID3"
    assert list(index.find(request, "study")) == []


def test_patient_level_return_keys_from_the_files(index: Index, data_dir: Path) -> None:
    index.add(write(data_dir, make_dataset(PatientComments="allergic to contrast")))
    [patient] = index.find(query("PATIENT", PatientID="P1", PatientComments="*contrast"), "patient")
    assert patient.PatientComments == "allergic to contrast"


def test_availability_and_transfer_syntax_at_image_level(index: Index, data_dir: Path) -> None:
    index.add(write(data_dir, make_dataset(), ImplicitVRLittleEndian))
    [image] = index.find(
        query(
            "IMAGE",
            StudyInstanceUID=f"{ROOT}.1",
            SeriesInstanceUID=f"{ROOT}.1.1",
            SOPInstanceUID="",
            InstanceAvailability="",
            AvailableTransferSyntaxUID="",
        ),
        "study",
    )
    assert image.InstanceAvailability == "ONLINE"
    assert image.AvailableTransferSyntaxUID == ImplicitVRLittleEndian
    assert list(index.find(query("STUDY", InstanceAvailability="OFFLINE"), "study")) == []


def test_absurdly_long_values_are_cut_not_refused(index: Index, data_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = make_dataset(AccessionNumber="A" * 5000, StudyDescription="D" * 5000)
    assert index.add(write(data_dir, ds)) == "stored"
    [study] = index.find(query("STUDY", AccessionNumber="A*", StudyInstanceUID=""), "study")
    assert len(study.AccessionNumber) == 1024


# -- retrieve (PS3.4 C.4.2, C.4.3) ----------------------------------------------------------


def test_locate_at_every_level(archive: Index) -> None:
    def sops(identifier: Dataset, model: str, relational: bool = False) -> list[str]:
        return [s.sop_instance_uid for s in archive.locate(identifier, model, relational)]

    assert sops(query("PATIENT", PatientID="P1"), "patient") == [
        f"{ROOT}.1.1.1",
        f"{ROOT}.1.1.2",
        f"{ROOT}.1.2.1",
        f"{ROOT}.2.1.1",
    ]
    assert sops(query("STUDY", StudyInstanceUID=f"{ROOT}.2\\{ROOT}.3"), "study") == [
        f"{ROOT}.2.1.1",
        f"{ROOT}.3.1.1",
    ]
    assert sops(
        query(
            "SERIES", PatientID="P1", StudyInstanceUID=f"{ROOT}.1", SeriesInstanceUID=f"{ROOT}.1.2"
        ),
        "patient",
    ) == [f"{ROOT}.1.2.1"]
    assert sops(
        query(
            "IMAGE",
            StudyInstanceUID=f"{ROOT}.1",
            SeriesInstanceUID=f"{ROOT}.1.1",
            SOPInstanceUID=f"{ROOT}.1.1.2",
        ),
        "study",
    ) == [f"{ROOT}.1.1.2"]
    # Composite Instance Root: frames address whole instances.
    assert sops(
        query("FRAME", SOPInstanceUID=f"{ROOT}.3.1.1", SimpleFrameList=[1]), "composite"
    ) == [f"{ROOT}.3.1.1"]
    # A Unique Key above the level that names another entity finds nothing.
    assert (
        sops(
            query("SERIES", StudyInstanceUID=f"{ROOT}.2", SeriesInstanceUID=f"{ROOT}.1.2"), "study"
        )
        == []
    )
    lists_above = query(
        "SERIES", StudyInstanceUID=f"{ROOT}.1\\{ROOT}.2", SeriesInstanceUID=f"{ROOT}.1.2"
    )
    assert sops(lists_above, "study", relational=True) == [f"{ROOT}.1.2.1"]
    with pytest.raises(QueryError, match="single value"):
        archive.locate(lists_above, "study")


@pytest.mark.parametrize(
    "identifier",
    [
        query("STUDY"),
        query("STUDY", StudyInstanceUID=""),
        query("SERIES", StudyInstanceUID=f"{ROOT}.1"),
        query("PATIENT", PatientID="P*"),
        query("PATIENT", PatientID="P1\\P2"),
    ],
)
def test_locate_needs_the_unique_keys_as_values(archive: Index, identifier: Dataset) -> None:
    with pytest.raises(QueryError):
        archive.locate(identifier, "patient")


def test_wild_cards_in_uids_are_literal_so_they_retrieve_nothing(archive: Index) -> None:
    assert archive.locate(query("STUDY", StudyInstanceUID=f"{ROOT}.*"), "study") == []


# -- Modality Worklist (PS3.4 K) -------------------------------------------------------------


def worklist_item(accession: str, modality: str, date: str, aet: str = "CT1") -> Dataset:
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = aet
    step.ScheduledProcedureStepStartDate = date
    step.ScheduledProcedureStepStartTime = "0930"
    step.ScheduledProcedureStepID = f"SPS-{accession}"
    item = Dataset()
    item.PatientName = "Doe^John"
    item.PatientID = "P1"
    item.AccessionNumber = accession
    item.ScheduledProcedureStepSequence = [step]
    return item


def mwl_query(**step_keys: str) -> Dataset:
    request = Dataset()
    request.PatientName = ""
    request.AccessionNumber = ""
    step = Dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, value in step_keys.items():
            setattr(step, keyword, value)
    request.ScheduledProcedureStepSequence = [step]
    return request


def test_worklist_add_find_remove(index: Index) -> None:
    first = index.worklist_add(worklist_item("ACC1", "CT", "20240102"))
    index.worklist_add(worklist_item("ACC2", "MR", "20240103", aet="MR1"))
    index.worklist_add(worklist_item("ACC3", "CT", "20240110"))
    assert first.startswith("SPS-ACC1-")
    found = list(
        index.worklist_find(
            mwl_query(
                Modality="CT",
                ScheduledProcedureStepStartDate="20240101-20240105",
                ScheduledStationAETitle="",
            )
        )
    )
    assert [f.AccessionNumber for f in found] == ["ACC1"]
    [answer] = found
    assert set(answer.dir()) == {"PatientName", "AccessionNumber", "ScheduledProcedureStepSequence"}
    [step] = answer.ScheduledProcedureStepSequence
    assert set(step.dir()) == {
        "Modality",
        "ScheduledProcedureStepStartDate",
        "ScheduledStationAETitle",
    }
    everything = list(index.worklist_find(mwl_query()))
    assert [f.AccessionNumber for f in everything] == ["ACC1", "ACC2", "ACC3"]
    assert index.worklist_remove(first)
    assert not index.worklist_remove(first)
    assert [i for i, _ in index.worklist_items()] != [first]
    assert len(index.worklist_items()) == 2


def test_worklist_empty_values_match_no_key(index: Index) -> None:
    item = worklist_item("ACC1", "CT", "20240102")
    item.ScheduledProcedureStepSequence[0].ScheduledStationAETitle = ""
    index.worklist_add(item)
    assert list(index.worklist_find(mwl_query(ScheduledStationAETitle="CT*"))) == []
    assert len(list(index.worklist_find(mwl_query(ScheduledStationAETitle='""')))) == 1


def test_a_worklist_item_needs_a_scheduled_procedure_step(index: Index) -> None:
    with pytest.raises(ValueError):
        index.worklist_add(Dataset())


# -- Relevant Patient Information (PS3.4 Q) ----------------------------------------------------


def test_structured_reports_of_a_patient_newest_first(index: Index, data_dir: Path) -> None:
    for sop, (klass, date, time) in enumerate(
        [
            (BASIC_TEXT_SR, "20200101", "1000"),
            (ENHANCED_SR, "20210101", "0900"),
            (CT, "20220101", "0900"),
            (ENHANCED_SR, "20210101", "1100"),
        ],
        start=1,
    ):
        index.add(
            write(
                data_dir,
                make_dataset(sop=str(sop), SOPClassUID=klass, ContentDate=date, ContentTime=time),
            )
        )
    index.add(write(data_dir, make_dataset("2", PatientID="P2", SOPClassUID=ENHANCED_SR)))
    reports = index.structured_reports("P1")
    assert [r.sop_instance_uid.rsplit(".", 1)[1] for r in reports] == ["4", "2", "1"]
    assert index.structured_reports("P3") == []


# -- databases ---------------------------------------------------------------------------------


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_plain_postgresql_urls_mean_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    index = Index(plain)
    try:
        assert index.counts()["instances"] == 0
    finally:
        index.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x/y"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        make_engine(url)


# -- restart and migrations ----------------------------------------------------------------------


def test_restart_keeps_everything(index_url: str, data_dir: Path) -> None:
    first = Index(index_url, data_dir=data_dir)
    first.add(write(data_dir, make_dataset()))
    item_id = first.worklist_add(worklist_item("ACC1", "CT", "20240102"))
    before = list(first.find(query("STUDY", StudyInstanceUID="", InstitutionName=""), "study"))
    first.close()
    again = Index(index_url, data_dir=data_dir)
    try:
        assert again.counts() == {"patients": 1, "studies": 1, "series": 1, "instances": 1}
        assert (
            list(again.find(query("STUDY", StudyInstanceUID="", InstitutionName=""), "study"))
            == before
        )
        assert [i for i, _ in again.worklist_items()] == [item_id]
    finally:
        again.close()


def test_an_old_schema_is_upgraded_in_place(index_url: str) -> None:
    engine = make_engine(index_url)
    with write_transaction(engine) as conn:
        schema.migrate(conn, target=1)
        conn.execute(text("INSERT INTO patients (patient_id) VALUES ('P1')"))
        conn.execute(
            text(
                "INSERT INTO studies (study_instance_uid, patient_fk, study_date, study_time) "
                "VALUES ('1.2.3', 1, '20060706', '0300')"
            )
        )
    with engine.connect() as conn:
        assert schema.current_version(conn) == 1
        assert "study_datetime_m" not in {c["name"] for c in inspect(conn).get_columns("studies")}
    engine.dispose()
    upgraded = Index(index_url)
    try:
        found = upgraded.find(
            query("STUDY", StudyDate="20060705-20060707", StudyTime="1000-1800"),
            "study",
            combined_datetime=True,
        )
        assert uids(found, "StudyInstanceUID") == ["1.2.3"]  # backfilled by the migration
    finally:
        upgraded.close()
    engine = create_engine(schema_url(index_url))
    with engine.connect() as conn:
        assert schema.current_version(conn) == schema.LATEST_VERSION
        assert_schema_is_the_declared_one(conn)
    engine.dispose()


def schema_url(url: str) -> str:
    return url if not url.startswith("postgresql://") else url.replace("://", "+psycopg://", 1)


def assert_schema_is_the_declared_one(conn: Any) -> None:
    """A migrated database has exactly the declared columns and at least its indexes."""
    inspector = inspect(conn)
    for name, table in schema.TABLES.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.c.keys()), name
        declared = {ix.name for ix in table.indexes}
        assert declared <= {ix["name"] for ix in inspector.get_indexes(name)}, name


def test_a_newer_schema_is_refused(index_url: str) -> None:
    Index(index_url).close()
    engine = make_engine(index_url)
    with write_transaction(engine) as conn:
        conn.execute(schema.schema_version.update().values(version=schema.LATEST_VERSION + 1))
    engine.dispose()
    with pytest.raises(RuntimeError, match="upgrade dicomwire"):
        Index(index_url)


# -- concurrent writers ------------------------------------------------------------------------


def _add_concurrently(indexes: list[Index], data_dir: Path, per_thread: int, threads: int) -> None:
    records = [
        [
            write(data_dir, make_dataset("7", str(t % 3 + 1), f"{t + 1}{n}"))
            for n in range(per_thread)
        ]
        for t in range(threads)
    ]
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            barrier.wait()
            for record in records[t]:
                assert indexes[t % len(indexes)].add(record) == "stored"
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []


def _assert_one_study(index: Index, instances: int) -> None:
    assert index.counts() == {"patients": 1, "studies": 1, "series": 3, "instances": instances}
    [study] = index.find(
        query("STUDY", StudyInstanceUID="", NumberOfStudyRelatedInstances=""), "study"
    )
    assert study.NumberOfStudyRelatedInstances == instances


def test_eight_threads_storing_one_study(index: Index, data_dir: Path) -> None:
    _add_concurrently([index], data_dir, per_thread=4, threads=8)
    _assert_one_study(index, 32)


def test_two_nodes_on_one_postgresql_index(postgres_url: str, data_dir: Path) -> None:
    nodes = [Index(postgres_url, data_dir=data_dir) for _ in range(2)]
    try:
        _add_concurrently(nodes, data_dir, per_thread=4, threads=8)
        for node in nodes:
            _assert_one_study(node, 32)
    finally:
        for node in nodes:
            node.close()


def test_nodes_starting_at_once_migrate_once(postgres_url: str) -> None:
    opened: list[Index] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(Index(postgres_url))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=start) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for node in opened:
        node.close()
    assert errors == [] and len(opened) == 4
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(select(schema.schema_version.c.version)).scalars().all() == [
            schema.LATEST_VERSION
        ]
    engine.dispose()


def test_insert_ignoring_conflict_tells_whether_a_row_went_in(index_url: str) -> None:
    """What tells Index.add that another writer indexed the instance first. On
    PostgreSQL the driver's rowcount is -1 either way: a lost race passed for a win."""
    from dicomwire.node.db import insert_ignoring_conflict

    Index(index_url).close()  # the schema
    engine = make_engine(index_url)
    try:
        for expected in (True, False):
            with write_transaction(engine) as conn:
                inserted = insert_ignoring_conflict(
                    conn, schema.patients, {"patient_id": "ONCE"}, "patient_id"
                )
            assert inserted is expected
    finally:
        engine.dispose()


def test_two_nodes_adding_one_instance_at_once(postgres_url: str, data_dir: Path) -> None:
    """Each SOP Instance UID added through two indexes at the same moment: one "stored", one
    "kept" (never two "stored": the loser would then believe its file is the one indexed)."""
    nodes = [Index(postgres_url, data_dir=data_dir) for _ in range(2)]
    records = [write(data_dir, make_dataset("8", "1", str(n))) for n in range(20)]
    outcomes: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def run(side: int) -> None:
        for record in records:
            barrier.wait()
            outcomes[side].append(nodes[side].add(record))

    workers = [threading.Thread(target=run, args=(side,)) for side in (0, 1)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        for node in nodes:
            node.close()
    assert all(sorted(pair) == ["kept", "stored"] for pair in zip(*outcomes, strict=True))


def test_sqlite_writers_in_other_processes_wait_on_the_writer_lock(tmp_path: Path) -> None:
    """A write transaction waits while another process holds ``<database>-writer``
    (``serve --workers``), and goes ahead as soon as it is released."""
    import subprocess
    import sys

    database = tmp_path / "index.sqlite"
    engine = make_engine(f"sqlite:///{database}")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()",
         f"{database}-writer"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "held"
    done = threading.Event()

    def write() -> None:
        with write_transaction(engine) as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not done.wait(0.5)  # held elsewhere: this writer waits
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert done.wait(30)
    finally:
        holder.stdin.close()
        holder.wait(10)
        writer.join(30)
        engine.dispose()
