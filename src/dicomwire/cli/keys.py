"""``-k``: query keys as DCMTK's findscu, getscu and movescu take them.

A key names an attribute and optionally gives it a value::

    -k PatientID=1234567          keyword = value (matching key)
    -k 0010,0020=1234567          tag = value; (0010,0020) is accepted too
    -k PatientName                no value: a return key (universal matching)
    -k ModalitiesInStudy=CT\\MR   a backslash separates values
    -k ReferencedStudySequence[0].StudyInstanceUID=1.2.3
                                  an attribute inside a sequence item

Values are converted as the attribute's VR in the DICOM dictionary asks
(integers for US/UL/SS/SL, floats for FL/FD, tags for AT, strings otherwise)
and checked by pydicom's validation of that VR, so a mistake is reported
before anything goes on the wire. A later ``-k`` for the same attribute
replaces the earlier one, as in DCMTK ("override matching key").
"""

from __future__ import annotations

import copy
import difflib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_dict, keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag

from .common import CLIError

__all__ = ["Key", "Step", "apply_key", "build_identifier", "convert_value", "parse_key"]

_TAG = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)?$")
_STEP = re.compile(r"^(?P<name>[^\[\]]+?)\s*(?:\[(?P<index>[^\]]*)\])?$")
_INTEGER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV"})
_FLOAT_VRS = frozenset({"FL", "FD"})
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
# What a key looks like, for the messages that reject one.
_SYNTAX = "give Keyword=value, gggg,eeee=value or Sequence[0].Keyword=value"


@dataclass(frozen=True)
class Step:
    """One attribute on a key's path; ``index`` selects a sequence item."""

    tag: BaseTag
    name: str
    vr: str
    index: int | None = None


@dataclass(frozen=True)
class Key:
    """A parsed ``-k``: the path to an attribute and its value (None: none given)."""

    path: tuple[Step, ...]
    value: str | None
    text: str


def parse_key(text: str) -> Key:
    """Parse one ``-k`` argument, or raise :class:`CLIError` saying what is wrong."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not name:
        raise CLIError(f"bad key {text!r}: no attribute named; {_SYNTAX}", code=2)
    parts = name.split(".")
    steps: list[Step] = []
    for number, part in enumerate(parts, 1):
        step = _parse_step(part, text)
        if number < len(parts):
            _check_parent(step, text)
        steps.append(step)
    return Key(tuple(steps), value if sep else None, text)


def _check_parent(step: Step, text: str) -> None:
    """An attribute with another after it must be a sequence item."""
    if step.vr != "SQ":
        raise CLIError(f"bad key {text!r}: {step.name} is not a sequence", code=2)
    if step.index is None:
        raise CLIError(
            f"bad key {text!r}: {step.name} is a sequence; say which item, e.g. {step.name}[0]",
            code=2,
        )


def _parse_step(part: str, text: str) -> Step:
    match = _STEP.match(part.strip())
    if match is None:
        raise CLIError(f"bad key {text!r}: cannot read {part!r}; {_SYNTAX}", code=2)
    tag = _resolve_tag(match["name"].strip(), text)
    vr = _vr_of(tag)
    index = None
    if match["index"] is not None:
        index = _parse_index(match["index"], text)
        if vr != "SQ":
            raise CLIError(
                f"bad key {text!r}: {_name(tag)} is not a sequence and takes no [index]", code=2
            )
    return Step(tag, _name(tag), vr, index)


def _parse_index(raw: str, text: str) -> int:
    if not raw.strip().isdigit():
        raise CLIError(
            f"bad key {text!r}: item index {raw!r} is not a number (items count from 0)",
            code=2,
        )
    return int(raw)


def _resolve_tag(name: str, text: str) -> BaseTag:
    """A keyword or a ``gggg,eeee`` tag as a pydicom tag."""
    match = _TAG.match(name)
    if match is not None:
        return Tag(int(match[1], 16), int(match[2], 16))
    if "," in name:
        raise CLIError(f"bad key {text!r}: a tag is 4+4 hex digits, e.g. 0010,0020", code=2)
    tag = tag_for_keyword(name)
    if tag is None:
        hint = difflib.get_close_matches(name, keyword_dict.keys(), n=1)
        also = f" (did you mean {hint[0]}?)" if hint else ""
        raise CLIError(f"bad key {text!r}: unknown keyword {name!r}{also}", code=2)
    return Tag(tag)


def _vr_of(tag: BaseTag) -> str:
    """The tag's VR from the dictionary; the first of "US or SS"-style choices."""
    try:
        vr = str(dictionary_VR(tag))
    except KeyError:
        # Private creators are LO by definition (PS3.5 7.8.1); other unknown
        # attributes can only be asked for, without a value, as UN.
        if tag.group % 2 == 1 and 0x0010 <= tag.element <= 0x00FF:
            return "LO"
        return "UN"
    return vr.split(" or ")[0]


def _name(tag: BaseTag) -> str:
    return keyword_for_tag(tag) or f"({tag.group:04X},{tag.element:04X})"


def convert_value(vr: str, text: str, name: str = "the value") -> Any:
    """The Python value pydicom expects for ``text`` in an element of ``vr``.

    Raises ValueError, naming ``name``, when ``text`` cannot be such a value.
    """
    if text == "":
        return None
    if vr == "SQ":
        raise ValueError(f"{name} is a sequence: give its items' attributes, not a value")
    if vr in _BINARY_VRS:
        raise ValueError(f"{name} ({vr}) holds binary data: ask for it without a value")
    parts = text.split("\\")
    if vr in _INTEGER_VRS:
        return _each(parts, lambda p: int(p, 0), f"{name} ({vr}) needs integers")
    if vr in _FLOAT_VRS:
        return _each(parts, float, f"{name} ({vr}) needs numbers")
    if vr == "AT":
        return _each(parts, _attribute_tag, f"{name} (AT) needs tags (gggg,eeee) or keywords")
    return text  # strings: pydicom splits multiple values on backslashes itself


def _each(parts: list[str], convert: Any, need: str) -> Any:
    """``convert`` applied to each part: one value alone, several as a list."""
    try:
        values = [convert(p.strip()) for p in parts]
    except ValueError:
        joined = "\\".join(parts)
        raise ValueError(f"{joined!r}: {need}") from None
    return values[0] if len(values) == 1 else values


def _attribute_tag(text: str) -> BaseTag:
    match = _TAG.match(text.strip())
    if match is not None:
        return Tag(int(match[1], 16), int(match[2], 16))
    tag = tag_for_keyword(text.strip())
    if tag is None:
        raise ValueError(f"{text!r} is neither gggg,eeee nor a keyword")
    return Tag(tag)


def apply_key(ds: Dataset, key: Key) -> None:
    """Set ``key`` in ``ds``, creating sequences and items on its path."""
    target = ds
    for step in key.path[:-1]:
        target = _item(target, step, key)
    last = key.path[-1]
    if last.vr == "SQ":
        if key.value:
            raise CLIError(
                f"bad key {key.text!r}: {last.name} is a sequence; give its items' "
                f"attributes, e.g. {last.name}[0].Keyword=value",
                code=2,
            )
        if last.index is not None:
            _item(target, last, key)
        elif last.tag not in target:
            target.add_new(last.tag, "SQ", DicomSequence())
        return
    try:
        value = convert_value(last.vr, key.value or "", last.name)
    except ValueError as exc:
        raise CLIError(f"bad key {key.text!r}: {exc}", code=2) from exc
    _set_checked(target, last, value, key.text)


def _set_checked(target: Dataset, step: Step, value: Any, text: str) -> None:
    """Set the element, turning pydicom's validation warnings into one clear error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            target.add_new(step.tag, step.vr, value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise CLIError(f"bad value in {text!r}: {_first_sentence(exc)}", code=2) from exc
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            raise CLIError(f"bad value in {text!r}: {_first_sentence(warning.message)}", code=2)


def _first_sentence(message: object) -> str:
    """pydicom's messages end with a link to PS3.5: one line is enough here."""
    return str(message).split(" Please see")[0].strip()


def _item(target: Dataset, step: Step, key: Key) -> Dataset:
    """Item ``step.index`` of the sequence ``step`` in ``target``, appended if next."""
    element = target.get(step.tag)
    if element is None:
        target.add_new(step.tag, "SQ", DicomSequence())
        element = target[step.tag]
    elif element.VR != "SQ":
        raise CLIError(f"bad key {key.text!r}: {step.name} is not a sequence here", code=2)
    items = element.value
    assert step.index is not None  # parse_key guarantees it for every step but the last
    if step.index > len(items):
        raise CLIError(
            f"bad key {key.text!r}: {step.name}[{step.index}] would skip item "
            f"{len(items)}; give the items in order from [0]",
            code=2,
        )
    if step.index == len(items):
        items.append(Dataset())
    item: Dataset = items[step.index]
    return item


def build_identifier(keys: Iterable[str], base: Dataset | None = None) -> Dataset:
    """A query identifier: a copy of ``base`` (or an empty one) with every key applied."""
    ds = Dataset() if base is None else copy.deepcopy(base)
    for text in keys:
        apply_key(ds, parse_key(text))
    return ds
