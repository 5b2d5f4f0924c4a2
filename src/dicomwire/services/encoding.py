"""Data sets on the wire: encoding, transfer syntaxes and DICOM file headers.

Reading a file's header without its data set is what lets a Storage SCU
stream a file as it is (PS3.10 section 7.1: preamble, ``DICM``, group 0002
in Explicit VR Little Endian, then the data set).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from ..flat_codec import IMPLICIT_VR, encode_flat

# Transfer syntaxes between which a data set can be converted by re-encoding.
UNCOMPRESSED = frozenset(
    {
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
    }
)

# Explicit VRs whose length field is 4 bytes after 2 reserved bytes (PS3.5 7.1.2).
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_TAG_VR = struct.Struct("<HH2s")


class FileSlice:
    """``length`` bytes of an open file from ``offset``: a data set sent as-is."""

    def __init__(self, fileobj: BinaryIO, offset: int, length: int) -> None:
        self.fileobj = fileobj
        self.offset = offset
        self.length = length


@dataclass(frozen=True)
class FileInfo:
    """What a Storage SCU needs from a DICOM file's header."""

    name: str
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    offset: int  # where the data set starts
    size: int


# Group 0002 elements a Storage SCU needs (PS3.10 Table 7.1-1).
_META_KEYS = {
    0x0002: "MediaStorageSOPClassUID",
    0x0003: "MediaStorageSOPInstanceUID",
    0x0010: "TransferSyntaxUID",
}


def read_file_info(fh: BinaryIO, name: str) -> FileInfo:
    """Read the file meta of an open PS3.10 file; the data set is not read."""
    fh.seek(128)
    if fh.read(4) != b"DICM":
        raise ValueError(f"{name}: not a DICOM file (no 'DICM' after the preamble)")
    values, offset = _scan_meta(fh, name)
    missing = [k for k in _META_KEYS.values() if not values.get(k)]
    if missing:
        raise ValueError(f"{name}: file meta information lacks {', '.join(missing)}")
    fh.seek(0, 2)
    return FileInfo(
        name,
        values["MediaStorageSOPClassUID"],
        values["MediaStorageSOPInstanceUID"],
        values["TransferSyntaxUID"],
        offset,
        fh.tell(),
    )


def _scan_meta(fh: BinaryIO, name: str) -> tuple[dict[str, str], int]:
    """Walk group 0002 element by element (its group length may be wrong).

    Returns the UIDs of :data:`_META_KEYS` and where the data set starts.
    """
    values: dict[str, str] = {}
    position = 132
    while True:
        fh.seek(position)
        head = fh.read(8)
        if len(head) < 8:
            return values, position
        group, element, vr = _TAG_VR.unpack_from(head)
        if group != 0x0002:
            return values, position
        if vr in _LONG_VRS:
            extra = fh.read(4)
            if len(extra) < 4:
                raise ValueError(f"{name}: truncated file meta information")
            (length,) = struct.unpack("<I", extra)
            start = position + 12
        else:
            (length,) = struct.unpack("<H", head[6:8])
            start = position + 8
        if element in _META_KEYS:
            fh.seek(start)
            raw = fh.read(min(length, 256))
            values[_META_KEYS[element]] = raw.decode("ascii", "replace").rstrip("\0 ")
        position = start + length


def dataset_transfer_syntax(ds: Dataset) -> str:
    """The transfer syntax a Dataset is in: its file meta, else its encoding."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return str(meta.TransferSyntaxUID)
    implicit, little = ds.original_encoding
    if implicit is None:
        implicit, little = True, True
    if implicit:
        return str(ImplicitVRLittleEndian)
    return str(ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def encode_dataset(ds: Dataset, transfer_syntax: str) -> bytes:
    """Encode ``ds`` (without group 0002) in ``transfer_syntax`` (PS3.5 10).

    Flat data sets in Implicit or Explicit VR Little Endian (every C-FIND
    identifier, in practice) take :func:`~dicomwire.flat_codec.encode_flat`,
    which gives the same bytes several times faster; the rest take pydicom.
    """
    implicit = IMPLICIT_VR.get(transfer_syntax)
    if implicit is not None:
        data = encode_flat(ds, implicit)
        if data is not None:
            return data  # every value is padded: the length is already even
    syntax = UID(transfer_syntax)
    fp = DicomBytesIO()
    fp.is_little_endian = syntax.is_little_endian
    fp.is_implicit_VR = syntax.is_implicit_VR
    body = Dataset({elem.tag: elem for elem in ds if elem.tag.group != 0x0002})
    write_dataset(fp, body)
    data = fp.getvalue()
    if syntax.is_deflated:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = compressor.compress(data) + compressor.flush()
    if len(data) % 2:
        data += b"\0"
    return data
