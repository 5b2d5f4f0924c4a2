"""What the index writes for an instance, and what it hands back.

A data set is indexed only when it names its place in the hierarchy: SOP
Instance UID, SOP Class UID, Study Instance UID and Series Instance UID must
be present, non-empty and at most 64 characters (PS3.5 9.1). Patient ID may
be absent or empty: such instances are filed under the patient whose ID is
``""`` (one patient entity for all of them; their studies stay apart, each
under its own Study Instance UID).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from pydicom.dataset import Dataset

from .catalog import INDEXED
from .identifiers import element_text, plain_text_encoding
from .matching import normalize, stored_datetime, strip

REQUIRED_UIDS = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID")
_MAX_UID = 64
MAX_INDEXED = 1024


class MissingAttributes(ValueError):
    """The data set lacks an attribute the index needs (or it is not a usable UID)."""


@dataclass(frozen=True)
class StoredInstance:
    """An indexed instance; ``path`` is relative to the node's data directory."""

    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    path: str
    patient_id: str
    study_instance_uid: str
    series_instance_uid: str


@dataclass(frozen=True)
class InstanceRecord:
    """Everything :meth:`Index.add` writes for one instance.

    ``columns`` maps each entity (``patient``, ``study``, ``series``,
    ``instance``) to its column values, unique keys included.
    """

    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    path: str
    patient_id: str
    study_instance_uid: str
    series_instance_uid: str
    columns: Mapping[str, Mapping[str, str]] = field(hash=False, compare=True)

    def at(self, path: str) -> InstanceRecord:
        """This record for a file at ``path`` (relative to the data directory)."""
        columns = {**self.columns, "instance": {**self.columns["instance"], "path": path}}
        return replace(self, path=path, columns=columns)


def first_value(vr: str, text: str | None) -> str:
    """The first value of an element's text, without padding or NULs.

    Cut at :data:`MAX_INDEXED` characters: no indexed attribute may be that
    long (PS3.5 6.2), and an absurd value must not fail the store (PostgreSQL
    cannot index a text of several kilobytes).
    """
    if not text:
        return ""
    return strip(vr, text.split("\\", 1)[0])[:MAX_INDEXED]


def _texts_of(header: Dataset) -> Callable[[int], str | None]:
    encoding = plain_text_encoding(header)

    def text_of(tag: int) -> str | None:
        return element_text(header, tag, encoding)

    return text_of


def record_from(
    header: Dataset | Mapping[int, str], path: str, transfer_syntax_uid: str
) -> InstanceRecord:
    """Extract what is indexed from ``header``; :class:`MissingAttributes` if it cannot be.

    ``header``: the data set, or the text of its indexed elements by tag
    (``header.read_index_texts``).
    """
    text_of = _texts_of(header) if isinstance(header, Dataset) else header.get
    uids = {
        keyword: first_value("UI", text_of(INDEXED[keyword].tag)) for keyword in REQUIRED_UIDS
    }
    missing = [k for k, v in uids.items() if not v]
    if missing:
        raise MissingAttributes(f"missing {', '.join(missing)}")
    too_long = [k for k, v in uids.items() if len(v) > _MAX_UID]
    if too_long:
        raise MissingAttributes(f"{', '.join(too_long)} longer than {_MAX_UID} characters")
    columns: dict[str, dict[str, str]] = {e: {} for e in ("patient", "study", "series", "instance")}
    for attribute in INDEXED.values():
        value = first_value(attribute.vr, text_of(attribute.tag))
        if attribute.keyword == "AvailableTransferSyntaxUID":
            value = strip("UI", transfer_syntax_uid)
        columns[attribute.entity][attribute.column] = value
        if attribute.match_column != attribute.column:
            columns[attribute.entity][attribute.match_column] = normalize(attribute.vr, value)
    study = columns["study"]
    study["study_datetime_m"] = stored_datetime(study["study_date"], study["study_time"])
    for attribute in INDEXED.values():  # dates and numbers are indexed normalized
        if attribute.match_column == attribute.column and attribute.vr in ("DA", "IS", "DS"):
            entity = columns[attribute.entity]
            entity[attribute.column] = normalize(attribute.vr, entity[attribute.column])
    columns["instance"]["path"] = path
    return InstanceRecord(
        sop_instance_uid=uids["SOPInstanceUID"],
        sop_class_uid=uids["SOPClassUID"],
        transfer_syntax_uid=columns["instance"]["transfer_syntax_uid"],
        path=path,
        patient_id=columns["patient"]["patient_id"],
        study_instance_uid=uids["StudyInstanceUID"],
        series_instance_uid=uids["SeriesInstanceUID"],
        columns=columns,
    )
