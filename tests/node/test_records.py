"""record_from reads text straight from the raw bytes for plain character
sets, and gives what pydicom's conversion gives (PS3.5 6.1.2.3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from test_index import make_dataset

from dicomwire.node import records
from dicomwire.node.records import record_from
from dicomwire.node.store import FileStore, InvalidUID


def header_of(charset: str | list[str] | None, name: str, institution: str) -> object:
    ds = make_dataset(PatientName=name, InstitutionName=institution)
    if charset is not None:
        ds.SpecificCharacterSet = charset
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = True, True
    write_dataset(buffer, ds)  # implicit VR little endian
    buffer.seek(0)
    return read_dataset(buffer, is_implicit_VR=True, is_little_endian=True)


CASES = [
    (None, "Doe^John", "General Hospital"),
    ("ISO_IR 100", "Müller^Jürgen", "Hôpital Général"),
    ("ISO_IR 192", "Дмитрий^Иванов", "病院"),
    (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎", "Hospital"),
    ("ISO_IR 144", "Дмитрий^Иванов", "Больница"),
]


@pytest.mark.parametrize(("charset", "name", "institution"), CASES)
def test_same_columns_as_pydicom(
    charset: str | None, name: str, institution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = header_of(charset, name, institution)
    direct = record_from(header, "files/x.dcm", "1.2.840.10008.1.2")  # type: ignore[arg-type]
    monkeypatch.setattr(records, "plain_text_encoding", lambda ds: None)
    header = header_of(charset, name, institution)
    through_pydicom = record_from(header, "files/x.dcm", "1.2.840.10008.1.2")  # type: ignore[arg-type]
    assert direct == through_pydicom
    assert direct.columns["patient"]["patient_name"].startswith(name.split("=")[0])


@pytest.mark.parametrize(
    "relative", ["../x.dcm", "files/../../x.dcm", "/etc/passwd", "../data2/x.dcm", "."]
)
def test_store_paths_stay_inside_the_store(tmp_path: Path, relative: str) -> None:
    store = FileStore(tmp_path / "data")
    with pytest.raises(InvalidUID):
        store.absolute(relative)
    assert store.absolute("files/1.2/3.dcm") == tmp_path.resolve() / "data/files/1.2/3.dcm"


def test_store_writes_whole_files_and_leaves_no_temporary(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "data")
    written = store.write("files/1.2/3.4/5.dcm", b"HEAD", b"DATA", None)
    assert written.read_bytes() == b"HEADDATA"
    assert [p.name for p in written.parent.iterdir()] == ["5.dcm"]
    # A failed write (here: the data set is not bytes) leaves nothing behind.
    with pytest.raises(TypeError):
        store.write("files/1.2/3.4/6.dcm", b"HEAD", "not bytes", None)  # type: ignore[arg-type]
    assert [p.name for p in written.parent.iterdir()] == ["5.dcm"]
