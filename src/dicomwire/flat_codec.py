"""A lean codec for *flat* data sets in the little-endian transfer syntaxes.

C-FIND identifiers (PS3.4 C.4.1.1.3) are a handful of short string and
number elements, no sequences, in Implicit or Explicit VR Little Endian:
pydicom's general reader and writer spend most of their time on cases
such an identifier never has. This module encodes and decodes exactly
those data sets and answers ``None`` for anything else, so that callers
fall back to pydicom; its output is byte for byte pydicom's
(``write_dataset``) and its decoded Datasets are those pydicom's
``read_dataset`` gives, with values converted lazily on access.

Data element structure: PS3.5 section 7.1.2 (explicit VR: 2-byte length,
or 2 reserved bytes and a 4-byte length for the VRs of Table 7.1-1);
section 7.1.3 (implicit VR: 4-byte length). Value representations and
their padding: PS3.5 section 6.2.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.valuerep import IS, PersonName

__all__ = [
    "EXPLICIT_HEADER",
    "IMPLICIT_HEADER",
    "IMPLICIT_VR",
    "LONG_VRS",
    "dataset_from_raw",
    "decode_flat",
    "encode_flat",
    "looks_implicit",
    "new_dataset",
    "raw_element",
]

#: The transfer syntaxes this codec covers, and whether each is implicit VR:
#: Implicit and Explicit VR Little Endian (PS3.5 A.1, A.2).
IMPLICIT_VR = {"1.2.840.10008.1.2": True, "1.2.840.10008.1.2.1": False}

# -- shared tables (PS3.5 6.2, 7.1.2) ---------------------------------------

# String VRs pydicom writes without a character set (its ``write_string``):
# padded with a space, or with NUL for UI (PS3.5 6.2).
_PLAIN_STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UR", "UI"})
# String VRs encoded with the Specific Character Set (PS3.5 6.1.2.3).
_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
_STRING_VRS = _PLAIN_STRING_VRS | _TEXT_VRS
_NUMBER_STRING_VRS = frozenset({"IS", "DS"})
# Binary VRs: struct format of one value (little endian).
_BINARY_FORMATS = {
    "US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d", "SV": "q", "UV": "Q",
}
_BINARY_SIZES = {vr: struct.calcsize("<" + fmt) for vr, fmt in _BINARY_FORMATS.items()} | {"AT": 4}
_FLAT_VRS = (
    _PLAIN_STRING_VRS | _TEXT_VRS | _NUMBER_STRING_VRS | frozenset(_BINARY_SIZES) | {"PN"}
)
# Explicit VRs with 2 reserved bytes and a 4-byte length (PS3.5 Table 7.1-1).
LONG_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
# Specific Character Sets whose encoding of ASCII text is that ASCII text
# (single-byte ISO 8859 sets, UTF-8, GB18030/GBK; PS3.3 C.12.1.1.2). ISO_IR 13
# (JIS X 0201 maps backslash to yen) and the ISO 2022 sets are left to pydicom.
_ASCII_SAFE_CHARSETS = frozenset(
    {"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 126",
     "ISO_IR 127", "ISO_IR 138", "ISO_IR 144", "ISO_IR 148", "ISO_IR 166", "ISO_IR 203",
     "ISO_IR 192", "GB18030", "GBK"}
)
_CHARSET_TAG = BaseTag(0x00080005)
_VR_BYTES = {vr: vr.encode("ascii") for vr in _FLAT_VRS | LONG_VRS}
_VR_NAMES = {code: vr for vr, code in _VR_BYTES.items()}

# Element headers: implicit VR (also every item and delimiter header), explicit VR.
IMPLICIT_HEADER = struct.Struct("<HHL")
EXPLICIT_HEADER = struct.Struct("<HH2sH")
_EXPLICIT_LONG_HEADER = struct.Struct("<HH2sHL")
_UINT32 = struct.Struct("<L")
_MULTI = (MultiValue, list, tuple)
# Exact types accepted as binary values (bool and numpy scalars are left to pydicom).
_INT_TYPES = frozenset({int, BaseTag})
_FLOAT_TYPES = frozenset({float})


# -- Datasets without pydicom's per-attribute __setattr__ -------------------

def _template(implicit_vr: bool | None = None) -> dict[str, Any]:
    """The attributes of a new Dataset (as read in ``implicit_vr``, unless None)."""
    ds = Dataset()
    if implicit_vr is not None:
        ds.set_original_encoding(implicit_vr, True, default_encoding)
    return dict(ds.__dict__)


_TEMPLATE = _template()
# As pydicom's read_dataset leaves them for a data set without (0008,0005).
_READ_TEMPLATES = {True: _template(True), False: _template(False)}
# The template's containers: each new Dataset gets its own copies.
_TEMPLATE_CONTAINERS = tuple(
    key for key, value in _TEMPLATE.items() if isinstance(value, (dict, list, set))
)


def new_dataset(elements: dict[BaseTag, Any] | None = None) -> Dataset:
    """A Dataset holding ``elements``, built in ~1 us instead of ~7-18 us.

    ``Dataset.__init__`` sets a dozen attributes through
    ``Dataset.__setattr__``, which looks every name up as a DICOM keyword;
    copying the attributes of a Dataset built once gives the same object.
    Containers are copied so that no two Datasets share state.
    """
    return _from_template(_TEMPLATE, {} if elements is None else elements)


def _from_template(template: dict[str, Any], elements: dict[BaseTag, Any]) -> Dataset:
    ds = Dataset.__new__(Dataset)
    state = ds.__dict__
    state.update(template)
    for key in _TEMPLATE_CONTAINERS:
        state[key] = template[key].copy()
    state["_dict"] = elements
    return ds


# -- encoding ----------------------------------------------------------------


def encode_flat(ds: Dataset, implicit_vr: bool) -> bytes | None:
    """``ds`` (without group 0002) as pydicom writes it in a little-endian syntax.

    The data element structure is that of PS3.5 section 7.1.2 (explicit VR)
    or 7.1.3 (implicit VR), elements in ascending tag order (7.1.1), values
    padded to an even length as PS3.5 section 6.2 says for each VR. The
    bytes are those ``encode_dataset`` gets from pydicom's ``write_dataset``;
    ``None`` when ``ds`` holds anything this fast path does not cover
    (sequences, bulk binary VRs, non-ASCII text, unusual value types,
    pydicom settings that change what is written): the caller then uses
    pydicom.
    """
    if config.settings.writing_validation_mode == config.RAISE:
        return None  # pydicom then validates every value: leave that to it
    parts: list[bytes] = []
    append = parts.append
    # Plain int keys: BaseTag compares in Python, ten times slower to sort.
    for tag, elem in sorted([(int(tag), elem) for tag, elem in ds.items()]):
        group = tag >> 16
        if group == 0x0002 or (group > 6 and not tag & 0xFFFF):
            continue  # file meta, and retired group lengths (PS3.5 7.2), are not written
        if isinstance(elem, RawDataElement):
            elem = ds[tag]  # converted as pydicom's iteration does before writing
        if tag == _CHARSET_TAG and not _ascii_safe_charset(elem.value):
            return None  # seen before any text it applies to (group 0008 onwards)
        vr = elem.VR
        value = _encode_value(vr, elem.value)
        if value is None:
            return None
        # The header inline (tag, [VR,] length; PS3.5 7.1.2, 7.1.3): this
        # loop runs for every element of every C-FIND match.
        length = len(value)
        if implicit_vr:
            append(IMPLICIT_HEADER.pack(group, tag & 0xFFFF, length))
        elif vr in LONG_VRS:
            append(_EXPLICIT_LONG_HEADER.pack(group, tag & 0xFFFF, _VR_BYTES[vr], 0, length))
        elif length <= 0xFFFF:
            append(EXPLICIT_HEADER.pack(group, tag & 0xFFFF, _VR_BYTES[vr], length))
        else:
            return None  # pydicom would change the VR to UN (PS3.5 6.2.2): its business
        append(value)
    return b"".join(parts)


def _ascii_safe_charset(value: Any) -> bool:
    """Whether ASCII text encodes as itself in this Specific Character Set."""
    if isinstance(value, _MULTI):
        return False  # code extensions (ISO 2022): pydicom adds escape sequences
    return isinstance(value, str) and value in _ASCII_SAFE_CHARSETS


def _encode_value(vr: str, value: Any) -> bytes | None:
    """The padded value field of one element (PS3.5 6.2); None outside the fast path.

    An empty value (pydicom's VM 0: None, "", an empty list) is written as
    no bytes, as pydicom does.
    """
    text: str | None
    if isinstance(value, str) and vr in _STRING_VRS:
        text = value  # the usual case first: one string value
    elif value is None:
        return b"" if vr in _FLAT_VRS else None
    elif vr in _BINARY_SIZES:
        return _encode_binary(vr, value)
    elif vr in _STRING_VRS:
        text = _join(value, str, str)
    elif vr == "PN":
        text = _join(value, PersonName, str)
    elif vr in _NUMBER_STRING_VRS:
        text = _join(value, (str, int, float, Decimal), _number_string)
    else:
        return None
    if text is None or not text.isascii():
        return None
    if len(text) % 2:
        text += "\0" if vr == "UI" else " "
    return text.encode("ascii")


def _number_string(value: Any) -> str:
    """An IS/DS value as pydicom writes it: the string it was read from, if any."""
    if hasattr(value, "original_string"):
        return str(value.original_string)
    if type(value) is IS:
        return int.__repr__(value)  # what IS.__str__ gives, without its two Python calls
    return str(value)


def _join(value: Any, kinds: type | tuple[type, ...], render: Any) -> str | None:
    """One value or a multi-value joined with backslashes (PS3.5 6.4); None if odd."""
    if isinstance(value, _MULTI):
        items: Iterable[Any] = value
    else:
        items = (value,)
    texts = []
    for item in items:
        if not isinstance(item, kinds):
            return None
        text = render(item)
        if not isinstance(text, str):
            return None
        texts.append(text)
    return "\\".join(texts)


def _encode_binary(vr: str, value: Any) -> bytes | None:
    """US/SS/UL/SL/FL/FD/SV/UV/AT values, little endian (PS3.5 6.2)."""
    if value == "":
        return b""  # pydicom's empty numeric value
    if isinstance(value, (MultiValue, list)):
        values = list(value)
    elif isinstance(value, (int, float)):
        values = [value]
    else:
        return None  # a tuple, a string, an array: pydicom's business
    if vr == "AT":
        fmt = "H"  # each tag is its group and element (PS3.5 6.2)
        if not all(type(v) in _INT_TYPES for v in values):
            return None
        tags = [int(v) for v in values]  # plain ints: BaseTag compares in Python
        if not all(0 <= v <= 0xFFFFFFFF for v in tags):
            return None
        values = [half for v in tags for half in (v >> 16, v & 0xFFFF)]
    else:
        fmt = _BINARY_FORMATS[vr]
        if vr == "SS" and len(values) > 1:
            return None  # pydicom writes LUT Descriptor values partly as US
        kinds = _FLOAT_TYPES if vr in ("FL", "FD") else _INT_TYPES
        if not all(type(v) in kinds for v in values):
            return None
    try:
        return struct.pack(f"<{len(values) * fmt}", *values)
    except (struct.error, OverflowError):
        return None  # out of range: pydicom reports it in its own words


# -- decoding ----------------------------------------------------------------

# IS/DS values whose conversion cannot fail (PS3.5 Table 6.2-1 syntax, with
# the padding space): anything else is converted by pydicom at once, so that
# a corrupt number still fails the decode as it did.
_SAFE_IS = re.compile(rb"^ *[+-]?\d{1,12} *$")
_SAFE_DS = re.compile(rb"^ *[+-]?(?:\d{1,16}\.?\d{0,16}|\.\d{1,16})(?:[eE][+-]?\d{1,2})? *$")
_IMPLICIT_VRS: dict[int, str | None] = {}
_UNSEEN = "?"  # not yet in _IMPLICIT_VRS (None there means "not flat")


def decode_flat(data: bytes, implicit_vr: bool) -> Dataset | None:
    """Decode a flat little-endian data set as pydicom's ``read_dataset`` would.

    Walks the data elements (PS3.5 7.1.2 explicit, 7.1.3 implicit VR) and
    stores them as pydicom ``RawDataElement``s, converted on first access;
    the checks that converting every value used to make happen now:
    a value that runs past the data and a binary VR (PS3.5 6.2) whose
    length is not a multiple of its value size raise ``ValueError``; IS/DS
    values outside the plain number syntax are converted by pydicom at
    once, as before. ``None`` when the data holds anything
    else (sequences, undefined lengths, unknown or ambiguous VRs, a
    truncated header, elements out of order): the caller then uses pydicom.
    """
    settings = config.settings
    if (settings.reading_validation_mode == config.RAISE or config.datetime_conversion
            or config.use_DS_numpy or config.use_IS_numpy):
        return None  # pydicom's conversion then does more than these checks
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) >= 6 and looks_implicit(data) != implicit_vr:
        return None  # pydicom switches encoding (and warns): let it
    elements = _read_elements(data, implicit_vr)
    if elements is None:
        return None
    ds = dataset_from_raw(elements, implicit_vr)
    for tag, raw in elements.items():
        if raw.VR in _NUMBER_STRING_VRS and not _safe_number_string(raw):
            ds[tag]
    return ds


def dataset_from_raw(elements: dict[BaseTag, RawDataElement], implicit_vr: bool) -> Dataset:
    """A little-endian Dataset of raw elements, as pydicom's ``read_dataset`` leaves it:
    values are converted on first access, in the character set it names."""
    ds = _from_template(_READ_TEMPLATES[implicit_vr], elements)
    if _CHARSET_TAG in elements:  # as read_dataset does: the encodings it names
        charset = convert_encodings(convert_raw_data_element(elements[_CHARSET_TAG]).value)
        ds.set_original_encoding(implicit_vr, True, charset)
    return ds


def looks_implicit(data: bytes) -> bool:
    """pydicom's test of the first element: no VR-like letters at bytes 4-5."""
    return not (0x40 < data[4] < 0x5B and 0x40 < data[5] < 0x5B)


def _read_elements(data: bytes, implicit_vr: bool) -> dict[BaseTag, RawDataElement] | None:
    """The data elements of ``data`` by tag; None outside the fast path."""
    elements: dict[BaseTag, RawDataElement] = {}
    end = len(data)
    position = 0
    last = -1
    while position < end:
        if end - position < 8:
            return None  # pydicom ignores a partial header at the end: its call
        if implicit_vr:
            group, element, length = IMPLICIT_HEADER.unpack_from(data, position)
            tag = group << 16 | element
            vr = _IMPLICIT_VRS.get(tag, _UNSEEN)
            if vr is _UNSEEN:
                vr = _implicit_vr(tag)
            position += 8
        else:
            group, element, raw_vr, length = EXPLICIT_HEADER.unpack_from(data, position)
            tag = group << 16 | element
            vr = _VR_NAMES.get(raw_vr)  # None: not a VR this codec knows
            if vr in LONG_VRS:
                if end - position < 12:
                    return None
                (length,) = _UINT32.unpack_from(data, position + 8)
                position += 12
            else:
                position += 8
        if vr not in _FLAT_VRS or tag <= last or length == 0xFFFFFFFF or group == 0xFFFE:
            return None  # sequences, items, unknown VRs, duplicates: pydicom's cases
        if position + length > end:
            raise ValueError(f"element ({group:04X},{element:04X}) announces {length} "
                             f"bytes but only {end - position} follow")
        size = _BINARY_SIZES.get(vr)
        if size is not None and length % size:
            if vr == "AT":
                return None  # pydicom only warns and drops the excess bytes
            raise ValueError(f"element ({group:04X},{element:04X}) of VR {vr} has a length "
                             f"of {length} bytes, not a multiple of {size}")
        value = data[position:position + length] if length else _empty_raw(vr, implicit_vr)
        key = BaseTag(tag)
        elements[key] = _raw_element(key, vr, length, value, position, implicit_vr)
        position += length
        last = tag
    return elements


def _make_raw_element() -> Callable[[BaseTag, str, int, bytes | None, int, bool], Any]:
    """A RawDataElement factory: the tuple built directly when the fields are
    those known here (5x faster than the NamedTuple's Python ``__new__``)."""
    if RawDataElement._fields == _RAW_FIELDS and RawDataElement._field_defaults == {
        "is_raw": True, "is_buffered": False
    }:
        new = tuple.__new__

        def fast(tag: BaseTag, vr: str, length: int, value: bytes | None, tell: int,
                 implicit_vr: bool) -> Any:
            return new(RawDataElement, (tag, vr, length, value, tell, implicit_vr, True,
                                        True, False))

        return fast

    def portable(tag: BaseTag, vr: str, length: int, value: bytes | None, tell: int,
                 implicit_vr: bool) -> Any:
        return RawDataElement(tag, vr, length, value, tell, implicit_vr, True)

    return portable


_RAW_FIELDS = ("tag", "VR", "length", "value", "value_tell", "is_implicit_VR",
               "is_little_endian", "is_raw", "is_buffered")
_raw_element = _make_raw_element()
raw_element = _raw_element  # (tag, VR, length, value, value_tell, implicit_vr) -> RawDataElement


def _implicit_vr(tag: int) -> str | None:
    """The VR of a public tag from pydicom's dictionary; None if private,
    unknown or ambiguous (pydicom then needs the data set to decide)."""
    try:
        return _IMPLICIT_VRS[tag]
    except KeyError:
        pass
    vr: str | None = None
    if not (tag >> 16) & 1:
        try:
            vr = str(dictionary_VR(tag))
        except KeyError:
            vr = None
    if vr not in _FLAT_VRS:
        vr = None
    if len(_IMPLICIT_VRS) < 4096:  # bounded: a hostile peer may send any tags
        _IMPLICIT_VRS[tag] = vr
    return vr


def _empty_raw(vr: str, implicit_vr: bool) -> bytes | None:
    """The value pydicom's reader gives an empty element (its VR is unknown in
    implicit VR): what it converts from is then the same."""
    if implicit_vr or vr in _BINARY_SIZES or vr in _NUMBER_STRING_VRS:
        return None
    if config.use_none_as_empty_text_VR_value:
        return None
    return b""


def _safe_number_string(raw: RawDataElement) -> bool:
    """Whether every IS/DS value of ``raw`` converts without fail."""
    value = raw.value
    if not value:
        return True
    pattern = _SAFE_IS if raw.VR == "IS" else _SAFE_DS
    return all(pattern.match(part) for part in value.split(b"\\"))
