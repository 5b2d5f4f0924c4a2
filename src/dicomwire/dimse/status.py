"""DIMSE status codes: their category and meaning per service class.

The category of a status follows the general rules of PS3.7 Annex C
(:func:`category`); the meanings come from the status tables PS3.4 gives
for each service class, plus the general statuses of PS3.7 Annex C and
the codes dicomwire itself answers with when a handler or a received
data set fails (the same values pynetdicom uses, so tools built against
it read them correctly).

Service-specific ranges such as "A7xx: Refused: Out of Resources" are
stored as ranges, not expanded: :class:`StatusTable` looks codes up in its
exact entries first and then in its ranges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from types import MappingProxyType
from typing import Final

__all__ = ["STATUS_TABLES", "Category", "StatusTable", "category", "is_known", "lookup"]


class Category(str, Enum):
    """Status category (PS3.7 Annex C)."""

    SUCCESS = "Success"
    WARNING = "Warning"
    FAILURE = "Failure"
    CANCEL = "Cancel"
    PENDING = "Pending"


# PS3.7 C.4: Attribute Value Out of Range (0116H), Attribute List (0107H);
# PS3.4 CC.2 and others: Requested optional Attributes not supported (0001H).
_WARNING_CODES: Final = frozenset({0x0001, 0x0107, 0x0116})


def category(status: int) -> Category:
    """The category of a status value by the general rules of PS3.7 Annex C.

    0000H is Success, FF00H and FF01H Pending, FE00H Cancel; 0001H, 0107H,
    0116H and Bxxx are Warnings; every other value (Axxx, Cxxx, 01xx,
    02xx...) is a Failure.
    """
    if not 0 <= status <= 0xFFFF:
        raise ValueError(f"status {status} does not fit the US value of (0000,0900)")
    if status == 0x0000:
        return Category.SUCCESS
    if status in (0xFF00, 0xFF01):
        return Category.PENDING
    if status == 0xFE00:
        return Category.CANCEL
    if status in _WARNING_CODES or 0xB000 <= status <= 0xBFFF:
        return Category.WARNING
    return Category.FAILURE


class StatusTable(Mapping[int, tuple[Category, str]]):
    """Read-only mapping of status code -> (category, meaning) with range entries.

    Exact codes take precedence over ranges, so an implementation-specific
    code inside a range (C310H inside Cxxx) keeps its own meaning. Each
    entry's category is derived with :func:`category`.
    """

    __slots__ = ("_codes", "_len", "_ranges")

    def __init__(
        self, codes: Mapping[int, str], ranges: Iterable[tuple[int, int, str]] = ()
    ) -> None:
        self._codes = {code: (category(code), text) for code, text in codes.items()}
        self._ranges = tuple((lo, hi, category(lo), text) for lo, hi, text in ranges)
        self._len: int | None = None

    def __getitem__(self, code: int) -> tuple[Category, str]:
        if not isinstance(code, int):
            raise KeyError(code)
        hit = self._codes.get(code)
        if hit is not None:
            return hit
        for lo, hi, cat, text in self._ranges:
            if lo <= code <= hi:
                return cat, text
        raise KeyError(code)

    def __iter__(self) -> Iterator[int]:
        seen = set(self._codes)
        yield from self._codes
        for lo, hi, _, _ in self._ranges:
            for code in range(lo, hi + 1):
                if code not in seen:
                    seen.add(code)
                    yield code

    def __len__(self) -> int:
        if self._len is None:  # counted on demand: ranges may span thousands of codes
            self._len = sum(1 for _ in self)
        return self._len

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        return code in self._codes or any(lo <= code <= hi for lo, hi, _, _ in self._ranges)

    def __repr__(self) -> str:
        return f"StatusTable({len(self._codes)} codes, {len(self._ranges)} ranges)"


# -- Building blocks -------------------------------------------------------

# PS3.7 Annex C (C.1-C.5): general statuses, valid for any service.
_GENERAL: Final = {
    0x0000: "Success",
    0x0001: "Warning: requested optional Attributes are not supported",
    0x0105: "Failure: no such Attribute",
    0x0106: "Failure: invalid Attribute value",
    0x0107: "Warning: Attribute list warning",
    0x0110: "Failure: processing failure",
    0x0111: "Failure: duplicate SOP Instance",
    0x0112: "Failure: no such SOP Instance",
    0x0113: "Failure: no such event type",
    0x0114: "Failure: no such argument",
    0x0115: "Failure: invalid argument value",
    0x0116: "Warning: Attribute value out of range",
    0x0117: "Failure: invalid SOP Instance",
    0x0118: "Failure: no such SOP Class",
    0x0119: "Failure: class-instance conflict",
    0x0120: "Failure: missing Attribute",
    0x0121: "Failure: missing Attribute value",
    0x0122: "Refused: SOP Class not supported",
    0x0123: "Failure: no such action type",
    0x0124: "Refused: not authorized",
    0x0210: "Failure: duplicate invocation",
    0x0211: "Failure: unrecognized operation",
    0x0212: "Failure: mistyped argument",
    0x0213: "Failure: resource limitation",
    0xFE00: "Cancel",
    0xFF00: "Pending",
    0xFF01: "Pending: warning, one or more Optional Keys not supported",
}


def _pick(*codes: int) -> dict[int, str]:
    """The general (PS3.7) meanings of `codes`, for service tables that list them."""
    return {code: _GENERAL[code] for code in codes}


# PS3.7 9.1.1.1.9 (C-STORE), 9.1.3.1.x / 9.1.4.1.x (C-GET, C-MOVE) list these.
_REFUSALS: Final = _pick(0x0122, 0x0124, 0x0210, 0x0211, 0x0212)

# Codes dicomwire answers with itself; the values match pynetdicom's.
_HANDLER: Final = {
    0xC001: "Failure: the handler's status Dataset has no Status (0000,0900)",
    0xC002: "Failure: the handler returned an invalid status object",
}
_STORE_OWN: Final = {
    **_HANDLER,
    0xC210: "Failure: the data set received could not be decoded",
    0xC211: "Failure: the handler raised an exception",
}
_FIND_OWN: Final = {
    **_HANDLER,
    0xC310: "Failure: the Identifier received could not be decoded",
    0xC311: "Failure: the handler raised an exception",
    0xC312: "Failure: the handler yielded an invalid status or Identifier",
}
_GET_OWN: Final = {
    **_HANDLER,
    0xC410: "Failure: the Identifier received could not be decoded",
    0xC411: "Failure: the handler raised an exception",
    0xC412: "Failure: the handler yielded an invalid status or data set",
    0xC413: "Failure: the handler yielded an invalid number of sub-operations",
}
_MOVE_OWN: Final = {
    **_HANDLER,
    0xC510: "Failure: the Identifier received could not be decoded",
    0xC511: "Failure: the handler raised an exception",
    0xC512: "Failure: the handler yielded an invalid status or data set",
    0xC513: "Failure: the handler yielded an invalid number of sub-operations",
    0xC514: "Failure: the handler did not yield the destination and sub-operation count",
    0xC515: "Failure: the handler yielded an invalid destination (address, port)",
}

_UNABLE: Final = ((0xC000, 0xCFFF, "Failure: unable to process"),)

# PS3.4 B.2.3, Table B.2-1 (Storage) with PS3.7 9.1.1.1.9.
_STORAGE: Final = {
    0x0000: "Success",
    0xB000: "Warning: coercion of Data Elements",
    0xB006: "Warning: Elements discarded",
    0xB007: "Warning: Data Set does not match SOP Class",
    **_pick(0x0117),
    **_REFUSALS,
    **_STORE_OWN,
}
_STORAGE_RANGES: Final = (
    (0xA700, 0xA7FF, "Refused: out of resources"),
    (0xA900, 0xA9FF, "Error: Data Set does not match SOP Class"),
    (0xC000, 0xCFFF, "Error: cannot understand"),
)

# PS3.4 C.4.1.1.4, Table C.4-1 (Query/Retrieve - FIND) and K.4.1.1.4 (Worklist).
_FIND: Final = {
    0x0000: "Success: matching is complete",
    0xFF00: "Pending: matches are continuing, current match supplied",
    0xFF01: "Pending: matches are continuing, one or more Optional Keys not supported",
    0xFE00: "Cancel: matching terminated due to Cancel request",
    **_pick(0x0122),
    0xA700: "Refused: out of resources",
    0xA900: "Error: Identifier does not match SOP Class",
    **_FIND_OWN,
}

# PS3.4 C.4.2.1.5 / C.4.3.1.4 (MOVE / GET), with the frame-level and
# composite-instance retrieve failures of PS3.4 Y and Z.
_RETRIEVE: Final = {
    0x0000: "Success: sub-operations complete, no failures or warnings",
    0xFF00: "Pending: sub-operations are continuing",
    0xFE00: "Cancel: sub-operations terminated due to Cancel indication",
    0xB000: "Warning: sub-operations complete, one or more failures or warnings",
    0xA701: "Refused: out of resources, unable to calculate number of matches",
    0xA702: "Refused: out of resources, unable to perform sub-operations",
    0xA900: "Error: Identifier does not match SOP Class",
    0xAA00: "Failure: none of the frames requested were found in the SOP Instance",
    0xAA01: "Failure: unable to create new object for this SOP Class",
    0xAA02: "Failure: unable to extract frames",
    0xAA03: "Failure: time-based request received for a non-time-based original SOP Instance",
    0xAA04: "Failure: invalid request",
    **_REFUSALS,
}
_GET: Final = {**_RETRIEVE, **_GET_OWN}
_MOVE: Final = {**_RETRIEVE, 0xA801: "Refused: Move Destination unknown", **_MOVE_OWN}

# PS3.4 Q.2.1.1.4, Table Q.2-1 (Relevant Patient Information Query).
_RELEVANT_PATIENT: Final = {
    0x0000: "Success: matching is complete",
    0xFF00: "Pending: matches are continuing",
    0xFE00: "Cancel: matching terminated due to Cancel request",
    **_pick(0x0122),
    0xA700: "Refused: out of resources",
    0xA900: "Error: Identifier does not match SOP Class",
    0xC000: "Failure: unable to process",
    0xC100: "Failure: more than one match found",
    0xC200: "Failure: unable to support requested template",
    **_FIND_OWN,
}

# PS3.4 GG (Non-Patient Object Storage): C-STORE without the warnings.
_NON_PATIENT: Final = {
    0x0000: "Success",
    0xA700: "Refused: out of resources",
    0xA900: "Error: Data Set does not match SOP Class",
    0xC000: "Error: cannot understand",
    **_pick(0x0117),
    **_REFUSALS,
    **_STORE_OWN,
}


def _merged(*tables: Mapping[int, str]) -> dict[int, str]:
    """One table for a service with FIND, GET and MOVE; a shared code keeps every meaning."""
    merged: dict[int, str] = {}
    for table in tables:
        for code, text in table.items():
            old = merged.get(code)
            merged[code] = text if old is None or old == text else f"{old} / {text}"
    return merged


# PS3.4 U, X, BB, HH: Query/Retrieve-like services with FIND, GET and MOVE.
_QR_LIKE: Final = _merged(_FIND, _GET, _MOVE)

#: Status tables keyed by service name (see the module docstring for sources).
STATUS_TABLES: Final[Mapping[str, StatusTable]] = MappingProxyType({
    "general": StatusTable(_GENERAL),
    "verification": StatusTable({**_pick(0x0000, 0x0122, 0x0210, 0x0211, 0x0212), **_HANDLER}),
    "storage": StatusTable(_STORAGE, _STORAGE_RANGES),
    "qr_find": StatusTable(_FIND, _UNABLE),
    "qr_get": StatusTable(_GET, _UNABLE),
    "qr_move": StatusTable(_MOVE, _UNABLE),
    "modality_worklist": StatusTable(_FIND, _UNABLE),
    "relevant_patient": StatusTable(_RELEVANT_PATIENT),
    "substance_administration": StatusTable(_FIND, _UNABLE),
    "non_patient": StatusTable(_NON_PATIENT),
    "hanging_protocol": StatusTable(_QR_LIKE, _UNABLE),
    "defined_procedure": StatusTable(_QR_LIKE, _UNABLE),
    "color_palette": StatusTable(_QR_LIKE, _UNABLE),
    "implant_template": StatusTable(_QR_LIKE, _UNABLE),
})


def lookup(service: str, code: int) -> tuple[Category, str] | None:
    """Category and meaning of `code` for `service`, or None if it has none.

    A code the service's table does not list falls back to the general
    statuses of PS3.7 Annex C, which any service may return. An unknown
    service name raises KeyError.
    """
    hit = STATUS_TABLES[service].get(code)
    if hit is None and service != "general":
        hit = STATUS_TABLES["general"].get(code)
    return hit


def is_known(service: str, code: int) -> bool:
    """Whether `code` has a defined meaning for `service` (see :func:`lookup`)."""
    return lookup(service, code) is not None
