"""Identifiers as data sets: reading key values, sequence matching, answers.

Values are read without trusting pydicom's conversion: a key of ``""`` in an
IS or DS attribute (Empty Value Matching, PS3.4 C.2.2.2.7) is not a number,
so for the ASCII VRs the raw bytes of an undecoded element are read as they
are.

Sequence matching (PS3.4 C.2.2.2.6): the key is a sequence with one item of
item keys; it matches when at least one stored item matches all of them. A
key sequence with no item, an empty item, or an item whose keys are all
universal (return keys only) matches every entity, whether or not it has
the sequence; the standard's wording would exclude entities without the
sequence in the last case, which makes return keys act as filters.
"""

from __future__ import annotations

import copy
from collections.abc import Container, Iterator

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

from .matching import key_matches, parse_key, stored_values

SPECIFIC_CHARACTER_SET = Tag(0x0008, 0x0005)
QUERY_RETRIEVE_LEVEL = Tag(0x0008, 0x0052)
TIMEZONE_OFFSET = Tag(0x0008, 0x0201)
# Never matched: they say how to read the identifier, not what to find.
NOT_MATCHED = frozenset({SPECIFIC_CHARACTER_SET, QUERY_RETRIEVE_LEVEL, TIMEZONE_OFFSET})
# Values of these VRs are ASCII text; read from raw bytes when undecoded.
ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})
# Text in the data set's character set (PS3.5 6.1.2.3).
TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
# No matching is defined for binary and unknown values: return keys only.
_NOT_MATCHABLE = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "SS", "US", "SL", "UL", "SV", "UV", "FL", "FD", "AT"}
)


def key_tags(ds: Dataset) -> Iterator[BaseTag]:
    """The tags of ``ds`` that are attributes (no group lengths, no meta)."""
    for tag in ds.keys():
        if tag.element == 0 or tag.group in (0x0000, 0x0002):
            continue
        yield tag


def element_vr(ds: Dataset, tag: int) -> str:
    """The VR of ``tag`` in ``ds``, from the dictionary when the element has none."""
    item = ds.get_item(tag)
    vr = getattr(item, "VR", None) if item is not None else None
    if vr and vr != "UN":
        return str(vr)
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return str(vr or "UN")


def element_text(ds: Dataset, tag: int, encoding: str | None = None) -> str | None:
    """The text of an element, values joined by ``\\``; ``None`` if absent.

    ``encoding``: what :func:`plain_text_encoding` found for ``ds``; with
    it, undecoded text of any string VR is decoded here directly rather
    than through pydicom's conversion (which validates every value).
    """
    item = ds.get_item(tag)
    if item is None:
        return None
    if isinstance(item, RawDataElement):
        vr = element_vr(ds, tag)
        codec = "latin-1" if vr in ASCII_VRS else encoding if vr in TEXT_VRS else None
        if codec is not None:
            raw = item.value
            return raw.decode(codec, "replace") if isinstance(raw, bytes) else value_text(raw)
    try:
        return value_text(ds[tag].value)
    except (ValueError, TypeError):
        return None  # a value pydicom cannot decode is treated as absent


# Character sets whose text needs no code-extension handling (PS3.3 C.12.1.1.2):
# what pydicom would decode them with.
PLAIN_CHARSETS = {"": "latin-1", "ISO_IR 6": "latin-1", "ISO_IR 100": "latin-1",
                  "ISO_IR 192": "utf-8"}  # fmt: skip


def plain_text_encoding(ds: Dataset) -> str | None:
    """The codec for the text of ``ds`` when one plain codec reads it all, else None.

    The default repertoire is read as Latin-1, as pydicom does, so a value
    with undeclared accented letters reads the same either way.
    """
    item = ds.get_item(SPECIFIC_CHARACTER_SET)
    if item is None:
        return "latin-1"
    raw = item.value
    if isinstance(raw, bytes):
        text = raw.decode("latin-1")
    elif isinstance(raw, str):
        text = raw
    else:
        return None  # several values: code extensions (ISO 2022)
    return PLAIN_CHARSETS.get(text.strip(" \0"))


def value_text(value: object) -> str:
    """A decoded pydicom value as DICOM text."""
    if value is None:
        return ""
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(value_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    original = getattr(value, "original_string", None)
    if isinstance(original, str):
        return original
    return str(value)


def match_dataset(key: Dataset, stored: Dataset, unknown_matches: Container[int] = ()) -> bool:
    """PS3.4 C.2.2.2: ``stored`` matches every key of ``key`` (recursively into sequences).

    ``unknown_matches`` lists the tags whose empty stored value matches any
    key (Required Keys, C.2.2.1.2).
    """
    for tag in key_tags(key):
        if tag in NOT_MATCHED:
            continue
        vr = element_vr(key, tag)
        if vr == "SQ":
            if not _sequence_matches(key[tag].value, stored.get(tag), unknown_matches):
                return False
            continue
        if vr in _NOT_MATCHABLE:
            continue
        parsed = parse_key(vr, element_text(key, tag))
        if parsed.is_universal:
            continue
        values = stored_values(vr, element_text(stored, tag))
        if not key_matches(parsed, values, unknown_matches=tag in unknown_matches):
            return False
    return True


def has_matching_keys(key: Dataset) -> bool:
    """Whether ``key`` holds any key that is not universal (recursively)."""
    for tag in key_tags(key):
        if tag in NOT_MATCHED:
            continue
        vr = element_vr(key, tag)
        if vr == "SQ":
            items = key[tag].value or []
            if items and has_matching_keys(items[0]):
                return True
        elif vr not in _NOT_MATCHABLE and not parse_key(vr, element_text(key, tag)).is_universal:
            return True
    return False


def _sequence_matches(
    key_items: Sequence | None, stored: DataElement | None, unknown_matches: Container[int]
) -> bool:
    if not key_items or not has_matching_keys(key_items[0]):
        return True
    stored_items = stored.value if stored is not None and stored.VR == "SQ" else None
    return any(match_dataset(key_items[0], item, unknown_matches) for item in stored_items or [])


def answer(key: Dataset, stored: Dataset) -> Dataset:
    """The requested keys of ``key`` with their values in ``stored`` (PS3.4 C.2.2.3).

    Requested keys that ``stored`` lacks come back empty. A sequence key with
    item keys returns the matching items with only the requested attributes
    (C.2.2.2.6); an empty one returns the whole sequence.
    """
    out = Dataset()
    for tag in key_tags(key):
        if tag in NOT_MATCHED:
            continue
        out.add(answer_element(key, stored, tag))
    return out


def answer_element(key: Dataset, stored: Dataset, tag: BaseTag) -> DataElement:
    """One requested key of ``key`` answered from ``stored``."""
    vr = element_vr(key, tag)
    if vr == "SQ":
        return DataElement(tag, "SQ", _answer_sequence(key[tag].value, stored.get(tag)))
    item = stored.get_item(tag)
    if item is None:
        return DataElement(tag, vr, None)
    try:
        return copy.deepcopy(stored[tag])
    except (ValueError, TypeError):
        return DataElement(tag, vr, None)


def _answer_sequence(key_items: Sequence | None, stored: DataElement | None) -> list[Dataset]:
    items = list(stored.value) if stored is not None and stored.VR == "SQ" else []
    if not key_items or len(key_items[0]) == 0:
        return [copy.deepcopy(item) for item in items]
    item_key = key_items[0]
    return [answer(item_key, item) for item in items if match_dataset(item_key, item)]


def with_charset(response: Dataset) -> Dataset:
    """Declare UTF-8 (``ISO_IR 192``) when a response without Specific Character Set
    holds text outside the default repertoire, so it can be encoded (PS3.5 6.1)."""
    if SPECIFIC_CHARACTER_SET not in response and not _is_ascii(response):
        response.SpecificCharacterSet = "ISO_IR 192"
    return response


def _is_ascii(ds: Dataset) -> bool:
    for elem in ds.values():  # as stored: iterating would decode every raw element
        if isinstance(elem, RawDataElement):
            if isinstance(elem.value, bytes) and not elem.value.isascii():
                return False
        elif elem.VR == "SQ":
            if not all(_is_ascii(item) for item in elem.value or []):
                return False
        elif elem.VR in TEXT_VRS and not value_text(elem.value).isascii():
            return False
    return True


TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
