"""read_index_header gives the index what pydicom's reader gives it.

For pydicom's own test files and for data sets with sequences of defined and
undefined length (nested, with encapsulated values), in implicit and
explicit VR: the same top-level elements and raw values (sequences left
out), the same index record. What it does not cover, it leaves to pydicom.
"""

from __future__ import annotations

import functools
import warnings
from io import BytesIO
from pathlib import Path

import pydicom.data
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from test_index import make_dataset

from dicomwire.node.catalog import INDEXED_VRS
from dicomwire.node.header import read_index_header, read_index_texts
from dicomwire.node.records import MissingAttributes, record_from
from dicomwire.node.store import read_header, read_indexed

STOP = 0x7FE0


def encode(ds: Dataset, implicit_vr: bool) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit_vr, True
    write_dataset(buffer, ds)
    return buffer.getvalue()


def through_pydicom(data: bytes, implicit_vr: bool) -> Dataset:
    return read_dataset(BytesIO(data), implicit_vr, True,
                        stop_when=lambda tag, vr, length: tag.group >= STOP)  # fmt: skip


def assert_same(data: bytes, implicit_vr: bool) -> None:
    fast = read_index_header(data, implicit_vr, STOP)
    assert fast is not None
    slow = through_pydicom(data, implicit_vr)
    flat = [tag for tag in slow.keys() if slow[tag].VR != "SQ"]
    assert sorted(fast.keys()) == sorted(flat)
    for tag in flat:  # both converted by pydicom on access
        assert fast[tag].value == slow[tag].value, tag
    assert_same_record(data, implicit_vr)


def assert_same_record(data: bytes, implicit_vr: bool) -> None:
    """The index record from the texts, from the raw header and from pydicom agree."""
    syntax = "1.2.840.10008.1.2" if implicit_vr else "1.2.840.10008.1.2.1"
    readings: list[Dataset | dict[int, str]] = [through_pydicom(data, implicit_vr)]
    fast = (read_index_header(data, implicit_vr, STOP),
            read_index_texts(data, implicit_vr, INDEXED_VRS, STOP))  # fmt: skip
    readings += [reading for reading in fast if reading is not None]
    try:
        expected = record_from(readings[0], "files/x.dcm", syntax)
    except MissingAttributes:
        for reading in readings[1:]:
            with pytest.raises(MissingAttributes):
                record_from(reading, "files/x.dcm", syntax)
        return
    for reading in readings[1:]:
        assert record_from(reading, "files/x.dcm", syntax) == expected


@functools.cache
def pydicom_test_files() -> list[str]:
    """pydicom's bundled test files in a little-endian, not deflated syntax
    (its folder, not get_testdata_files, which tries to download more)."""
    usable = []
    for path in sorted((Path(pydicom.data.__file__).parent / "test_files").glob("*.dcm")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta = dcmread(path, stop_before_pixels=True).file_meta
        except Exception:
            continue
        syntax = getattr(meta, "TransferSyntaxUID", None)
        if syntax is not None and syntax.is_little_endian and not syntax.is_deflated:
            usable.append(str(path))
    return usable


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("path", pydicom_test_files())
def test_pydicom_test_files(path: str) -> None:
    with open(path, "rb") as fh:
        ds = dcmread(fh, stop_before_pixels=False)
        syntax = ds.file_meta.TransferSyntaxUID
    with open(path, "rb") as fh:
        whole = fh.read()
    data = whole[_data_set_start(whole):]
    if read_index_header(data, syntax.is_implicit_VR, STOP) is None:
        # Left to pydicom (counted below: most must not be): read_header falls back.
        fallback = read_header(data, None, syntax)
        assert fallback == through_pydicom(data, syntax.is_implicit_VR)
        assert read_index_texts(data, syntax.is_implicit_VR, INDEXED_VRS, STOP) is None
        assert read_indexed(data, None, syntax) == fallback
        return
    assert_same(data, syntax.is_implicit_VR)


def test_most_pydicom_test_files_are_covered() -> None:
    covered = 0
    paths = pydicom_test_files()
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            syntax = dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
        with open(path, "rb") as fh:
            whole = fh.read()
        covered += read_index_header(whole[_data_set_start(whole):], syntax.is_implicit_VR,
                                     STOP) is not None  # fmt: skip
    assert covered >= 0.8 * len(paths)


def _data_set_start(whole: bytes) -> int:
    """Where the data set starts: after the preamble and group 0002 (if any)."""
    position = 132 if whole[128:132] == b"DICM" else 0
    while whole[position:position + 2] == b"\x02\x00":
        if whole[position + 4:position + 6] in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
            position += 12 + int.from_bytes(whole[position + 8:position + 12], "little")
        else:
            position += 8 + int.from_bytes(whole[position + 6:position + 8], "little")
    return position


def with_sequences(depth: int, undefined: bool, encapsulated: bool) -> Dataset:
    ds = make_dataset()
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-1", "SRT", "Thing"
    inner = item
    for _ in range(depth):
        deeper = Dataset()
        deeper.ReferencedSOPInstanceUID = "1.2.3.4"
        inner.ContentSequence = Sequence([deeper])
        inner = deeper
    ds.AnatomicRegionSequence = Sequence([item, Dataset()])
    if encapsulated:
        icon = Dataset()
        icon.Rows = icon.Columns = 1
        # Basic Offset Table and one fragment; pydicom adds the delimiter.
        icon.add_new(0x7FE00010, "OB", b"\xfe\xff\x00\xe0\x00\x00\x00\x00"
                                       b"\xfe\xff\x00\xe0\x02\x00\x00\x00ab")  # fmt: skip
        icon[0x7FE00010].is_undefined_length = True
        ds.IconImageSequence = Sequence([icon])
    ds.add_new(0x00091010, "LO", "private")  # private: kept, raw
    if undefined:
        for elem in ds.iterall():
            if elem.VR == "SQ":
                elem.is_undefined_length = True
                for nested in elem.value:
                    nested.is_undefined_length_sequence_item = True
    return ds


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(0, 4), undefined=st.booleans(), encapsulated=st.booleans(),
       implicit_vr=st.booleans())  # fmt: skip
def test_sequences_are_stepped_over(
    depth: int, undefined: bool, encapsulated: bool, implicit_vr: bool
) -> None:
    if encapsulated and implicit_vr:
        encapsulated = False  # encapsulated values are explicit VR only (PS3.5 A.4)
    assert_same(encode(with_sequences(depth, undefined, encapsulated), implicit_vr), implicit_vr)


def test_what_it_leaves_to_pydicom() -> None:
    data = encode(with_sequences(1, True, False), False)
    assert read_index_header(data[:-3], False, STOP) is None  # truncated
    assert read_index_header(data, True, STOP) is None  # explicit data read as implicit
    unknown_vr = b"\x08\x00\x16\x00ZZ\x02\x001\x00"
    assert read_index_header(unknown_vr, False, STOP) is None
    un_undefined = b"\x09\x00\x10\x10UN\x00\x00\xff\xff\xff\xff"
    assert read_index_header(un_undefined + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", False,
                             STOP) is None  # fmt: skip
    in_order = encode(make_dataset(), False)
    second = in_order.index(b"\x08\x00\x18\x00")  # SOP Instance UID, then SOP Class UID
    assert read_index_header(in_order[second:] + in_order[:second], False, STOP) is None


def test_it_stops_at_pixel_data() -> None:
    ds = make_dataset()
    ds.add_new(0x7FE00010, "OW", b"\x00\x01" * 8)
    ds.add_new(0xFFFAFFFA, "SQ", Sequence())  # after Pixel Data: never reached
    fast = read_index_header(encode(ds, False), False, STOP)
    assert fast is not None and 0x7FE00010 not in fast and len(fast) == len(make_dataset())


def _with(implicit_vr: bool, **values: object) -> bytes:
    ds = make_dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return encode(ds, implicit_vr)


@pytest.mark.parametrize("implicit_vr", [False, True])
@pytest.mark.parametrize(
    ("charset", "name"),
    [
        (None, "Doe^John"),
        ("ISO_IR 100", "Müller^Jürgen"),
        ("ISO_IR 192", "Wang^XiaoDong=王^小東"),
        ("ISO_IR 6", "Smith^Ann"),
    ],
)
def test_index_texts_in_plain_character_sets(
    implicit_vr: bool, charset: str | None, name: str
) -> None:
    values: dict[str, object] = {"PatientName": name, "StudyDescription": f"about {name}"}
    if charset is not None:
        values["SpecificCharacterSet"] = charset
    data = _with(implicit_vr, **values)
    texts = read_index_texts(data, implicit_vr, INDEXED_VRS, STOP)
    assert texts is not None and texts[0x00100010].rstrip(" ") == name
    assert_same_record(data, implicit_vr)


def test_index_texts_leave_code_extensions_to_pydicom() -> None:
    """ISO 2022 escapes (several values of Specific Character Set) are pydicom's."""
    ds = make_dataset()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.PatientName = "Yamada^Tarou=山田^太郎"
    data = encode(ds, False)
    assert read_index_texts(data, False, INDEXED_VRS, STOP) is None
    assert_same_record(data, False)
    unknown = _with(False, SpecificCharacterSet="ISO_IR 144")  # Cyrillic: not one plain codec
    assert read_index_texts(unknown, False, INDEXED_VRS, STOP) is None


def test_index_texts_read_un_as_the_dictionary_vr() -> None:
    ds = make_dataset()
    ds.add_new(0x00100020, "UN", b"ID-42 ")  # Patient ID sent as UN
    data = encode(ds, False)
    texts = read_index_texts(data, False, INDEXED_VRS, STOP)
    assert texts is not None and texts[0x00100020] == "ID-42 "
    assert_same_record(data, False)


def test_index_texts_leave_other_vrs_to_pydicom() -> None:
    ds = make_dataset()
    ds.add_new(0x00100020, "OB", b"ID-42 ")  # Patient ID with a binary VR
    data = encode(ds, False)
    assert read_index_texts(data, False, INDEXED_VRS, STOP) is None
    assert_same_record(data, False)
