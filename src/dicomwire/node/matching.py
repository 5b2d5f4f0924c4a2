"""Attribute matching of PS3.4 C.2.2.2, evaluated in Python and compiled to SQL.

A key value from a C-FIND Identifier is parsed once (:func:`parse_key`) into
a :class:`Key`; that one parse is then either evaluated against stored values
in Python (:func:`key_matches`, :func:`match_value`) or compiled into a
SQLAlchemy condition on an indexed column (:func:`sql_condition`). Both paths
share the parse and the normalization (:func:`normalize`), so they agree by
construction; the tests check it on generated values.

Indexed columns hold :func:`normalize`'d text (never NULL: absent and empty
are both ``''``), so comparison in SQL is plain text comparison.

Decisions where the standard leaves room (each one has a test):

* Universal matching (C.2.2.2.3): a zero-length value, a value of only
  insignificant spaces, and a wild card value made only of ``*``
  (C.2.2.2.4) match everything, empty values included.
* Empty Value Matching (C.2.2.2.7): a value of exactly two QUOTATION MARK
  characters (``""``) matches entities whose value is empty or absent, and
  nothing else. It is always on: ``""`` is not a valid value of any VR it
  would otherwise be compared against.
* Single value matching (C.2.2.2.1) is case-sensitive, except for PN, which
  is compared case-insensitively (both sides lower-cased). Insignificant
  spaces are dropped per PS3.5 Table 6.2-1: leading and trailing for AE, AS,
  CS, DS, IS, LO, PN and SH; trailing only for the other text VRs; trailing
  NUL padding of UI. IS and DS compare as numbers.
* PN: trailing empty components (``^``) and component groups (``=``) are not
  significant. A key without ``=`` matches the whole value or its first
  group(s): ``Yamada^Tarou`` matches ``Yamada^Tarou=山田^太郎``.
* Wild card matching (C.2.2.2.4) applies to AE, CS, LO, LT, PN, SH, ST, UC,
  UR and UT only; ``*`` and ``?`` are literal characters of any other VR.
* List of UID matching (C.2.2.2.2): a UI key with several values matches any
  of them. Other multi-valued keys are treated the same way (any value
  matches; C.2.2.2.8 leaves their meaning undefined without Extended
  Negotiation), and each value may itself use wild cards or a range.
* A stored multi-valued attribute matches if any of its values matches.
* Range matching (C.2.2.2.5) applies to DA, TM and DT. A bound of lower
  precision stands for its whole interval: ``-1030`` includes 10:30:59.999999,
  ``2020-`` starts on 1 January 2020. A single DA/TM/DT value of lower
  precision matches that interval too (``1030`` matches ``103015.5``). A
  stored TM or DT of low precision is the start of its interval. Legacy
  ``HH:MM:SS`` times and ``YYYY.MM.DD`` dates are accepted.
* DT: a UTC offset (``&ZZXX``) is applied when present, converting to UTC;
  values without an offset are compared as they are. A ``-`` followed by four
  digits after a DT that has at least hours is read as an offset, not a range.
* Combined date and time (C.2.2.2.5.1, DA with TM): separate matching is the
  default; :func:`combined_range` gives the combined interval for callers
  that negotiated it.
* Unknown stored values: a stored empty value of a Required Key matches any
  key (C.2.2.1.2); callers pass ``unknown_matches=True`` for those. Otherwise
  (Optional Keys, Modality Worklist per K.2.2.1.1.1) it matches nothing but
  universal and empty-value keys.
* Sequence matching (C.2.2.2.6) works on whole data sets; see
  :mod:`dicomwire.node.identifiers`.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Boolean, and_, bindparam, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BindParameter, ColumnElement

EMPTY_VALUE = '""'
WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
RANGE_VRS = frozenset({"DA", "TM", "DT"})
# PS3.5 Table 6.2-1: leading and trailing spaces are insignificant for these.
_STRIP_BOTH = frozenset({"AE", "AS", "CS", "DS", "IS", "LO", "PN", "SH"})

_TIME = re.compile(r"^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$")
_DATETIME = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$"
)


class Wild(enum.Enum):
    """The two wild card characters of C.2.2.2.4."""

    ANY = "*"
    ONE = "?"


Token = str | Wild


@dataclass(frozen=True)
class Exact:
    """Single value matching (C.2.2.2.1) on a normalized value."""

    value: str


@dataclass(frozen=True)
class Pattern:
    """Wild card matching (C.2.2.2.4): literal text and wild cards in order."""

    tokens: tuple[Token, ...]


@dataclass(frozen=True)
class Range:
    """Range matching (C.2.2.2.5): inclusive normalized bounds, ``None`` is open."""

    low: str | None
    high: str | None


Term = Exact | Pattern | Range


@dataclass(frozen=True)
class Key:
    """A parsed key value: universal, empty-value, or any of ``terms``."""

    kind: Literal["universal", "empty", "values"]
    terms: tuple[Term, ...] = ()

    @property
    def is_universal(self) -> bool:
        return self.kind == "universal"


UNIVERSAL = Key("universal")
EMPTY = Key("empty")


# -- normalization -------------------------------------------------------------


def strip(vr: str, value: str) -> str:
    """``value`` without NULs and the spaces PS3.5 calls insignificant for ``vr``."""
    text = value.replace("\0", "")
    return text.strip(" ") if vr in _STRIP_BOTH or vr == "UI" else text.rstrip(" ")


def normalize(vr: str, value: str) -> str:
    """The form a single stored value is indexed and compared in.

    Dates, times and date-times become fixed-width text that orders like the
    instants they name, so range matching is text comparison in SQL too.
    """
    text = strip(vr, value)
    if vr == "PN":
        return _normalize_person_name(text)
    if vr == "DA":
        return text.replace(".", "")  # ACR-NEMA YYYY.MM.DD
    if vr == "TM":
        return _time_bound(text, high=False) or text
    if vr == "DT":
        return _datetime_bound(text, high=False) or text
    if vr in ("IS", "DS"):
        return _number(vr, text)
    return text


def _normalize_person_name(text: str) -> str:
    groups = ["^".join(c.strip(" ") for c in g.split("^")).rstrip("^") for g in text.split("=")]
    while groups and not groups[-1]:
        groups.pop()
    return "=".join(groups).lower()


def _number(vr: str, text: str) -> str:
    try:
        return str(int(text)) if vr == "IS" else repr(float(text))
    except ValueError:
        return text


def _time_bound(text: str, *, high: bool) -> str | None:
    """``HHMMSS.FFFFFF``: the first (or last) instant a partial time names."""
    match = _TIME.match(text.strip(" "))
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    filler = "9" if high else "0"
    minutes = minutes or ("59" if high else "00")
    seconds = seconds or ("59" if high else "00")
    return f"{hours}{minutes}{seconds}.{(fraction or '').ljust(6, filler)}"


def _datetime_parts(text: str) -> tuple[str | None, ...] | None:
    match = _DATETIME.match(text)
    if match is None:
        return None
    parts = match.groups()
    if parts[6] is not None and parts[5] is None:
        return None  # a fraction needs seconds
    if parts[7] is not None and parts[3] is None:
        return None  # an offset only after a time: "2020-2021" is a range of years
    return parts


def _datetime_bound(text: str, *, high: bool) -> str | None:
    """``YYYYMMDDHHMMSS.FFFFFF`` in UTC when an offset is given."""
    parts = _datetime_parts(text.strip(" "))
    if parts is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = parts
    assert year is not None
    month = month or ("12" if high else "01")
    try:
        last_day = calendar.monthrange(int(year), int(month))[1]
    except (ValueError, calendar.IllegalMonthError):
        return None
    day = day or (f"{last_day:02d}" if high else "01")
    hour = hour or ("23" if high else "00")
    minute = minute or ("59" if high else "00")
    second = second or ("59" if high else "00")
    fraction = (fraction or "").ljust(6, "9" if high else "0")
    stamp = f"{year}{month}{day}{hour}{minute}{second}"
    if offset:
        stamp = _to_utc(stamp, offset)
    return f"{stamp}.{fraction}"


def _to_utc(stamp: str, offset: str) -> str:
    try:
        moment = datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        return stamp
    sign = -1 if offset[0] == "-" else 1
    shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
    try:
        return (moment - shift).strftime("%Y%m%d%H%M%S").zfill(14)
    except OverflowError:
        return stamp


def _date_bound(text: str, *, high: bool) -> str | None:
    bound = _datetime_bound(text.replace(".", ""), high=high)
    if bound is None or len(text.replace(".", "")) > 8:
        return None
    return bound[:8]


def _bound(vr: str, text: str, *, high: bool) -> str | None:
    if vr == "DA":
        return _date_bound(text, high=high)
    if vr == "TM":
        return _time_bound(text, high=high)
    return _datetime_bound(text, high=high)


# -- parsing a key ---------------------------------------------------------------


def parse_key(vr: str, raw: str | None) -> Key:
    """Parse the text of a key (values separated by ``\\``) for attribute ``vr``."""
    if raw is None:
        return UNIVERSAL
    text = raw.replace("\0", "")
    if text.strip(" ") == EMPTY_VALUE:
        return EMPTY
    terms: list[Term] = []
    for part in text.split("\\"):
        parsed = _parse_value(vr, part)
        if parsed is None:
            return UNIVERSAL  # one universal alternative makes the whole list universal
        terms.extend(parsed)
    return Key("values", tuple(terms)) if terms else UNIVERSAL


def _parse_value(vr: str, part: str) -> list[Term] | None:
    """The terms of one value; ``[]`` if it is empty, ``None`` if universal."""
    if vr in RANGE_VRS:
        return _parse_temporal(vr, strip(vr, part))
    text = normalize(vr, part)
    if not text:
        return []
    if vr in WILDCARD_VRS and ("*" in text or "?" in text):
        if set(text) == {"*"}:
            return None
        tokens = _tokens(text)
        terms: list[Term] = [Pattern(tokens)]
        if vr == "PN" and "=" not in text:
            terms.append(Pattern((*tokens, "=", Wild.ANY)))
        return terms
    terms = [Exact(text)]
    if vr == "PN" and "=" not in text:
        terms.append(Pattern((text, "=", Wild.ANY)))  # the first component group(s)
    return terms


def _tokens(text: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    for piece in re.split(r"([*?])", text):
        if piece == "*":
            if not tokens or tokens[-1] is not Wild.ANY:  # "**" is "*"
                tokens.append(Wild.ANY)
        elif piece == "?":
            tokens.append(Wild.ONE)
        elif piece:
            tokens.append(piece)
    return tuple(tokens)


def _parse_temporal(vr: str, text: str) -> list[Term] | None:
    if not text:
        return []
    split = _range_split(vr, text)
    if split is None:
        low, high = _bound(vr, text, high=False), _bound(vr, text, high=True)
        if low is None or high is None:
            return [Exact(text)]  # not a valid value: compared literally
        return [Exact(low)] if low == high else [Range(low, high)]
    first, second = split
    low = _bound(vr, first, high=False) if first else None
    high = _bound(vr, second, high=True) if second else None
    if (first and low is None) or (second and high is None):
        return [Exact(text)]
    if low is None and high is None:
        return None  # "-" alone
    return [Range(low, high)]


def _range_split(vr: str, text: str) -> tuple[str, str] | None:
    """Where ``text`` splits into the two ends of a range, if it is one."""
    if "-" not in text:
        return None
    if vr != "DT":
        if text.count("-") != 1:
            return None
        first, _, second = text.partition("-")
        return first.strip(" "), second.strip(" ")
    if _datetime_parts(text) is not None:
        return None  # a single value with a negative UTC offset
    for position in (i for i, char in enumerate(text) if char == "-"):
        first, second = text[:position].strip(" "), text[position + 1 :].strip(" ")
        if (not first or _datetime_parts(first)) and (not second or _datetime_parts(second)):
            return first, second
    return None


def combined_range(date_key: str | None, time_key: str | None) -> Key | None:
    """DA and TM keys matched as one DT range (PS3.4 C.2.2.2.5.1), if they can be.

    Only when both keys are valid and at least one is a range; the result is
    compared with ``normalize("DA", date) + normalize("TM", time)`` (a missing
    stored time counts as midnight). ``None`` means: match them separately.
    """
    date, time = parse_key("DA", date_key), parse_key("TM", time_key)
    if date.kind != "values" or len(date.terms) != 1:
        return None
    if time.kind != "values" or len(time.terms) != 1:
        return None
    date_term, time_term = date.terms[0], time.terms[0]
    if not (isinstance(date_term, Range) or isinstance(time_term, Range)):
        return None
    date_low, date_high = _ends(date_term)
    time_low, time_high = _ends(time_term)
    if not all(
        len(end) == size
        for end, size in ((date_low, 8), (date_high, 8), (time_low, 13), (time_high, 13))
        if end
    ):
        return None  # an invalid value, compared literally
    low = f"{date_low}{time_low or '000000.000000'}" if date_low else None
    high = f"{date_high}{time_high or '235959.999999'}" if date_high else None
    return Key("values", (Range(low, high),))


def _ends(term: Term) -> tuple[str | None, str | None]:
    if isinstance(term, Range):
        return term.low, term.high
    if isinstance(term, Exact):
        return term.value, term.value
    return None, None


def stored_datetime(date: str, time: str) -> str:
    """The combined form of a stored DA and TM (see :func:`combined_range`)."""
    day = normalize("DA", date)
    if not day:
        return ""
    return day + (normalize("TM", time) or "000000.000000")


# -- evaluation in Python ------------------------------------------------------------


def key_matches(key: Key, stored: Iterable[str], *, unknown_matches: bool = False) -> bool:
    """Whether normalized stored values match ``key``; any stored value may match."""
    values = [value for value in stored if value != ""]
    if key.kind == "universal":
        return True
    if key.kind == "empty":
        return not values
    if not values:
        return unknown_matches
    return any(term_matches(term, value) for term in key.terms for value in values)


def term_matches(term: Term, value: str) -> bool:
    """One term against one non-empty normalized value."""
    if isinstance(term, Exact):
        return value == term.value
    if isinstance(term, Range):
        return (term.low is None or value >= term.low) and (term.high is None or value <= term.high)
    return _regex(term.tokens).fullmatch(value) is not None


def _regex(tokens: Sequence[Token]) -> re.Pattern[str]:
    parts = [
        ".*" if token is Wild.ANY else "." if token is Wild.ONE else re.escape(str(token))
        for token in tokens
    ]
    return re.compile("".join(parts), re.DOTALL)


def stored_values(vr: str, stored: str | Sequence[str] | None) -> list[str]:
    """Raw stored text (values separated by ``\\``) or values, normalized."""
    if stored is None:
        return []
    values = stored.split("\\") if isinstance(stored, str) else list(stored)
    return [normalize(vr, value) for value in values]


def match_value(
    vr: str, key: str | None, stored: str | Sequence[str] | None, *, unknown_matches: bool = False
) -> bool:
    """PS3.4 C.2.2.2: does the raw ``key`` of VR ``vr`` match the raw ``stored`` value?"""
    return key_matches(
        parse_key(vr, key), stored_values(vr, stored), unknown_matches=unknown_matches
    )


# -- compilation to SQL ----------------------------------------------------------------


def sql_condition(
    key: Key, column: ColumnElement[Any], *, unknown_matches: bool = False
) -> ColumnElement[bool] | None:
    """The condition on a column of normalized text; ``None`` for universal matching."""
    if key.kind == "universal":
        return None
    if key.kind == "empty":
        return column == ""
    condition = or_(*(_term_condition(term, column) for term in key.terms))
    return or_(condition, column == "") if unknown_matches else condition


def _term_condition(term: Term, column: ColumnElement[Any]) -> ColumnElement[bool]:
    if isinstance(term, Exact):
        return column == term.value
    if isinstance(term, Pattern):
        return WildcardMatch(column, term.tokens)
    bounds = [column != ""]
    if term.low is not None:
        bounds.append(column >= term.low)
    if term.high is not None:
        bounds.append(column <= term.high)
    return and_(*bounds)


class WildcardMatch(ColumnElement[bool]):
    """``column`` matches a wild card pattern, case-sensitively, on every dialect.

    PostgreSQL gets ``LIKE ... ESCAPE '\\'`` with ``%``, ``_`` and ``\\``
    escaped; SQLite gets ``GLOB`` (its ``LIKE`` ignores ASCII case) with
    ``[``, ``*`` and ``?`` escaped as one-character classes.
    """

    type = Boolean()
    inherit_cache = False  # the pattern is rendered per dialect at compile time

    def __init__(self, column: ColumnElement[Any], tokens: tuple[Token, ...]) -> None:
        self.column = column
        self.tokens = tokens


def like_pattern(tokens: Iterable[Token]) -> str:
    """The tokens as a LIKE pattern with ``\\`` as the escape character."""
    out = []
    for token in tokens:
        if token is Wild.ANY:
            out.append("%")
        elif token is Wild.ONE:
            out.append("_")
        else:
            out.append(re.sub(r"([\\%_])", r"\\\1", str(token)))
    return "".join(out)


def glob_pattern(tokens: Iterable[Token]) -> str:
    """The tokens as an SQLite GLOB pattern."""
    out = []
    for token in tokens:
        if isinstance(token, Wild):
            out.append(token.value)
        else:
            out.append(re.sub(r"([\[*?])", r"[\1]", token))
    return "".join(out)


@compiles(WildcardMatch)
def _compile_like(element: WildcardMatch, compiler: Any, **kw: Any) -> str:
    pattern: BindParameter[str] = bindparam(None, like_pattern(element.tokens), unique=True)
    return str(compiler.process(element.column.like(pattern, escape="\\"), **kw))


@compiles(WildcardMatch, "sqlite")
def _compile_glob(element: WildcardMatch, compiler: Any, **kw: Any) -> str:
    pattern: BindParameter[str] = bindparam(None, glob_pattern(element.tokens), unique=True)
    return str(compiler.process(element.column.op("GLOB")(pattern), **kw))
