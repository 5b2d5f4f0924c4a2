"""What the index needs of a received instance, read without pydicom's reader.

The index reads a few dozen top-level attributes of every stored instance
(see ``records.py``). pydicom's ``read_dataset`` builds every element of the
header on the way; this walks the element headers of a little-endian data
set (PS3.5 7.1.2 explicit VR, 7.1.3 implicit VR) up to Pixel Data, keeps the
top-level elements as pydicom raw elements (converted on first access, as
pydicom's reader leaves them) and steps over sequences, of defined length
or undefined length (PS3.5 7.5: items up to the Sequence Delimitation Item).
Sequences are left out of the result: no indexed attribute is one.
:func:`read_index_texts` goes one step further for the store path: from the
same walk it decodes only the text of the indexed elements, with no Dataset.

Anything this does not cover makes it answer ``None`` and the caller reads
the header with pydicom: big endian, a VR it does not know, an element out
of order, a UN of undefined length, a header that does not add up.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from ..flat_codec import (
    EXPLICIT_HEADER,
    IMPLICIT_HEADER,
    LONG_VRS,
    dataset_from_raw,
    looks_implicit,
    raw_element,
)
from .identifiers import ASCII_VRS, PLAIN_CHARSETS, SPECIFIC_CHARACTER_SET, TEXT_VRS

__all__ = ["read_index_header", "read_index_texts"]

# Every VR of PS3.5 Table 6.2-1, by its two letters.
_VR_NAMES = {vr.encode("ascii"): vr for vr in LONG_VRS | {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH", "SL",
    "SS", "ST", "TM", "UI", "UL", "US"}}  # fmt: skip
_UINT32 = struct.Struct("<L")
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xE000, 0xE00D, 0xE0DD
_MAX_DEPTH = 32  # nested sequences stepped over; deeper is left to pydicom
_SEQUENCE_TAGS: dict[int, bool] = {}  # implicit VR: is this public tag a sequence?


class _NotCovered(Exception):
    """pydicom must read this data set."""


def read_index_header(data: bytes, implicit_vr: bool, stop_group: int = 0x7FE0) -> Dataset | None:
    """The top-level elements of ``data`` before group ``stop_group``, sequences left out.

    ``None`` when pydicom must read the header (see the module docstring).
    """
    found = _top_level(data, implicit_vr, stop_group)
    if found is None:
        return None
    elements: dict[BaseTag, RawDataElement] = {}
    for tag, vr, length, value_at in found:
        key = BaseTag(tag)
        value = data[value_at : value_at + length]
        elements[key] = raw_element(key, vr, length, value, value_at, implicit_vr)  # type: ignore[arg-type]
    return dataset_from_raw(elements, implicit_vr)


def read_index_texts(
    data: bytes, implicit_vr: bool, wanted: Mapping[int, str], stop_group: int = 0x7FE0
) -> dict[int, str] | None:
    """The text of each top-level element of ``data`` whose tag is in ``wanted``.

    ``wanted`` maps a tag to its dictionary VR, which an implicit VR or UN
    element is read as. Text is decoded as ``element_text`` decodes a raw
    element (``identifiers.py``): Latin-1 for the VRs of the default
    repertoire, the data set's one plain character set for the others.
    ``None`` when this cannot say what pydicom would: what
    :func:`read_index_header` leaves to pydicom, a character set with code
    extensions (PS3.3 C.12.1.1.2), or a wanted element of another VR.
    Reading these few values costs a fraction of building the Dataset.
    """
    found = _top_level(data, implicit_vr, stop_group)
    if found is None:
        return None
    encoding = "latin-1"
    texts: dict[int, str] = {}
    for tag, vr, length, value_at in found:
        if tag == SPECIFIC_CHARACTER_SET:
            named = data[value_at : value_at + length].decode("latin-1")
            plain = None if "\\" in named else PLAIN_CHARSETS.get(named.strip(" \0"))
            if plain is None:
                return None
            encoding = plain
        if tag not in wanted:
            continue
        if vr is None or vr == "UN":
            vr = wanted[tag]
        codec = "latin-1" if vr in ASCII_VRS else encoding if vr in TEXT_VRS else None
        if codec is None:
            return None
        texts[tag] = data[value_at : value_at + length].decode(codec, "replace")
    return texts


def _top_level(
    data: bytes, implicit_vr: bool, stop_group: int
) -> list[tuple[int, str | None, int, int]] | None:
    """(tag, VR or None, length, where the value starts) of each top-level element
    before ``stop_group`` that is not a sequence; ``None``: pydicom must read it."""
    if len(data) >= 6 and looks_implicit(data) != implicit_vr:
        return None  # pydicom switches encoding (and warns): let it
    found: list[tuple[int, str | None, int, int]] = []
    position, end, last = 0, len(data), -1
    try:
        while position < end:
            group, element, vr, length, value_at = _element_header(data, position, implicit_vr)
            tag = group << 16 | element
            if group >= stop_group:
                break
            if tag <= last or group == 0xFFFE:
                return None
            last = tag
            if length == _UNDEFINED:
                position = _past_undefined(data, value_at, implicit_vr, vr, 0)
                continue
            position = value_at + length
            if position > end:
                return None
            if vr == "SQ" or (vr in (None, "UN") and _is_sequence(tag)):
                continue
            found.append((tag, vr, length, value_at))
    except _NotCovered:
        return None
    return found


def _element_header(
    data: bytes, position: int, implicit_vr: bool
) -> tuple[int, int, str | None, int, int]:
    """(group, element, VR or None in implicit VR, length, where the value starts)."""
    if len(data) - position < 8:
        raise _NotCovered
    if implicit_vr:
        group, element, length = IMPLICIT_HEADER.unpack_from(data, position)
        return group, element, None, length, position + 8
    group, element, code, length = EXPLICIT_HEADER.unpack_from(data, position)
    if group == 0xFFFE:  # items and delimiters have no VR, in either encoding
        (length,) = _UINT32.unpack_from(data, position + 4)
        return group, element, None, length, position + 8
    vr = _VR_NAMES.get(code)
    if vr is None:
        raise _NotCovered
    if vr in LONG_VRS:
        if len(data) - position < 12:
            raise _NotCovered
        (length,) = _UINT32.unpack_from(data, position + 8)
        return group, element, vr, length, position + 12
    return group, element, vr, length, position + 8


def _past_undefined(data: bytes, position: int, implicit_vr: bool, vr: str | None,
                    depth: int) -> int:  # fmt: skip
    """Where the value of undefined length that starts at ``position`` ends: after
    its Sequence Delimitation Item (PS3.5 7.5.2; encapsulated values, 7.5.3 and
    A.4, have the same item structure)."""
    if depth > _MAX_DEPTH or vr == "UN":  # UN: its items are implicit VR (PS3.5 6.2.2)
        raise _NotCovered
    while True:
        element, length = _item_header(data, position)
        position += 8
        if element == _SEQUENCE_END:
            return position
        if element != _ITEM:
            raise _NotCovered
        if length != _UNDEFINED:
            position += length
            continue
        position = _past_item(data, position, implicit_vr, depth + 1)


def _past_item(data: bytes, position: int, implicit_vr: bool, depth: int) -> int:
    """Where an item of undefined length ends: after its Item Delimitation Item."""
    while True:
        group, element, vr, length, value_at = _element_header(data, position, implicit_vr)
        if group == 0xFFFE:
            if element != _ITEM_END:
                raise _NotCovered
            return value_at
        if length == _UNDEFINED:
            position = _past_undefined(data, value_at, implicit_vr, vr, depth)
        else:
            position = value_at + length


def _item_header(data: bytes, position: int) -> tuple[int, int]:
    """(element, length) of the item or delimiter at ``position`` (group FFFE)."""
    if len(data) - position < 8:
        raise _NotCovered
    group, element, length = IMPLICIT_HEADER.unpack_from(data, position)
    if group != 0xFFFE:
        raise _NotCovered
    return element, length


def _is_sequence(tag: int) -> bool:
    """Whether a public tag is a sequence (implicit VR, or UN); private ones are kept raw."""
    found = _SEQUENCE_TAGS.get(tag)
    if found is None:
        try:
            found = (tag >> 16) & 1 == 0 and dictionary_VR(tag) == "SQ"
        except KeyError:
            found = False
        if len(_SEQUENCE_TAGS) < 4096:  # bounded: a peer may send any tags
            _SEQUENCE_TAGS[tag] = found
    return found
