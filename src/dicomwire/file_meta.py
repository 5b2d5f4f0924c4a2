"""The DICOM file header: preamble, ``DICM`` and File Meta Information (PS3.10 7.1).

Every instance a storage SCP keeps starts with this header, so it is
written on the hot path of every C-STORE. pydicom's general writer takes
about 0.3 ms for it; group 0002 is always Explicit VR Little Endian with a
handful of known elements, so it is encoded directly here when the meta
holds only those, and by pydicom otherwise (the output is the same).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from io import BytesIO

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import FileMetaDataset

PREAMBLE = b"\x00" * 128 + b"DICM"

# (element number of group 0002, VR) of the elements encoded directly (PS3.10 Table 7.1-1).
_KNOWN = {
    0x0001: "OB",  # File Meta Information Version
    0x0002: "UI",  # Media Storage SOP Class UID
    0x0003: "UI",  # Media Storage SOP Instance UID
    0x0010: "UI",  # Transfer Syntax UID
    0x0012: "UI",  # Implementation Class UID
    0x0013: "SH",  # Implementation Version Name
    0x0016: "AE",  # Source Application Entity Title
    0x0017: "AE",  # Sending Application Entity Title
    0x0018: "AE",  # Receiving Application Entity Title
}
# Type 1 elements: without them pydicom's writer decides what happens (it raises).
_REQUIRED = (0x0001, 0x0002, 0x0003, 0x0010, 0x0012)
_GROUP_LENGTH = b"\x02\x00\x00\x00UL\x04\x00"


def encode_file_meta(meta: FileMetaDataset) -> bytes:
    """Preamble, ``DICM`` and the group 0002 elements with their group length."""
    body = _encode_known(meta)
    if body is None:
        return _encode_with_pydicom(meta)
    return PREAMBLE + _GROUP_LENGTH + struct.pack("<I", len(body)) + body


def encode_file_meta_values(values: Mapping[int, object]) -> bytes:
    """:func:`encode_file_meta` from the values themselves, by element number of group 0002.

    What a storage SCP knows of each instance (PS3.10 7.1: SOP Class and
    Instance UIDs, transfer syntax, implementation, source AE) encoded
    without building a ``FileMetaDataset`` first; the bytes are the same.
    """
    body = _encode_values(values.items())
    if body is None:
        return _encode_with_pydicom(file_meta_dataset(values))
    return PREAMBLE + _GROUP_LENGTH + struct.pack("<I", len(body)) + body


def file_meta_dataset(values: Mapping[int, object]) -> FileMetaDataset:
    """The ``FileMetaDataset`` of ``values``, by element number of group 0002."""
    meta = FileMetaDataset()
    for element, value in values.items():
        tag = 0x00020000 | element
        meta[tag] = DataElement(tag, _KNOWN.get(element) or dictionary_VR(tag), value)
    return meta


def _encode_known(meta: FileMetaDataset) -> bytes | None:
    """Group 0002 without its group length, or None if pydicom must do it."""
    if any(int(tag) >> 16 != 0x0002 for tag in meta.keys()):
        return None
    return _encode_values(
        (int(tag) & 0xFFFF, meta[tag].value) for tag in meta.keys() if tag != 0x00020000
    )  # the group length is recomputed, as pydicom does


def _encode_values(items: Iterable[tuple[int, object]]) -> bytes | None:
    values: dict[int, bytes] = {}
    for element, value in items:
        vr = _KNOWN.get(element)
        raw = _value_bytes(value, vr) if vr is not None else None
        if raw is None:
            return None
        values[element] = raw
    if any(not values.get(element) for element in _REQUIRED):
        return None
    return b"".join(_element(e, _KNOWN[e], values[e]) for e in sorted(values))


def _value_bytes(value: object, vr: str) -> bytes | None:
    """The padded value of one element (PS3.5 6.2: UI pads with NUL, text with space)."""
    if vr == "OB":
        if not isinstance(value, bytes):
            return None
        raw = value
    elif isinstance(value, str) and value.isascii():
        raw = value.encode("ascii")
    else:
        return None
    if len(raw) % 2:
        raw += b"\x00" if vr in ("UI", "OB") else b" "
    return raw


def _element(element: int, vr: str, raw: bytes) -> bytes:
    if vr == "OB":  # PS3.5 7.1.2: OB has a reserved field and a 32-bit length
        return struct.pack("<HH2sHI", 0x0002, element, b"OB", 0, len(raw)) + raw
    return struct.pack("<HH2sH", 0x0002, element, vr.encode(), len(raw)) + raw


def _encode_with_pydicom(meta: FileMetaDataset) -> bytes:
    from pydicom.filewriter import write_file_meta_info

    buffer = BytesIO()
    buffer.write(PREAMBLE)
    write_file_meta_info(buffer, meta, enforce_standard=True)  # type: ignore[arg-type]
    return buffer.getvalue()
