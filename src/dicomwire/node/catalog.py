"""What the index knows: the indexed attributes, the computed ones, the models.

The Query/Retrieve information models (PS3.4 C.6) are hierarchies of levels;
each level covers one or more *entities* of the index (patient, study,
series, instance). In the Study Root model the STUDY level covers the
patient entity too (PS3.4 C.6.2.1). Attributes the catalog does not list
belong to the level of the query and are read from the stored files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pydicom.datadict import tag_for_keyword

ENTITIES = ("patient", "study", "series", "instance")

# Query/Retrieve levels of each model, top down, and the entities each covers.
MODELS: dict[str, dict[str, tuple[str, ...]]] = {
    "patient": {  # Patient Root (PS3.4 C.6.1)
        "PATIENT": ("patient",),
        "STUDY": ("study",),
        "SERIES": ("series",),
        "IMAGE": ("instance",),
    },
    "study": {  # Study Root (PS3.4 C.6.2)
        "STUDY": ("patient", "study"),
        "SERIES": ("series",),
        "IMAGE": ("instance",),
    },
    "patient_study": {  # Patient/Study Only (PS3.4 C.6.3, retired)
        "PATIENT": ("patient",),
        "STUDY": ("study",),
    },
    "composite": {  # Composite Instance Root, retrieve only (PS3.4 C.6.4)
        "STUDY": ("patient", "study"),
        "SERIES": ("series",),
        "IMAGE": ("instance",),
        "FRAME": ("instance",),  # frames are not addressed: the whole instance
    },
}
FIND_MODELS = ("patient", "study", "patient_study")

# The Unique Key of each level (PS3.4 C.6.1.1, C.6.2.1, C.6.4.1).
UNIQUE_KEYS = {
    "PATIENT": "PatientID",
    "STUDY": "StudyInstanceUID",
    "SERIES": "SeriesInstanceUID",
    "IMAGE": "SOPInstanceUID",
    "FRAME": "SOPInstanceUID",
}
# The entity whose rows one match at a level is (the deepest it covers).
LEVEL_ENTITY = {
    "PATIENT": "patient",
    "STUDY": "study",
    "SERIES": "series",
    "IMAGE": "instance",
    "FRAME": "instance",
}


@dataclass(frozen=True)
class Attribute:
    """An attribute with a column in the index.

    ``column`` holds the value as stored (first value, insignificant spaces
    dropped); ``match_column`` its :func:`~dicomwire.node.matching.normalize`'d
    form, which is what SQL matching compares. ``required`` marks Required
    Keys, whose empty stored value matches any key (PS3.4 C.2.2.1.2).
    """

    keyword: str
    vr: str
    entity: str
    column: str
    match_column: str
    required: bool = False

    @functools.cached_property  # read for every attribute of every stored instance
    def tag(self) -> int:
        tag = tag_for_keyword(self.keyword)
        assert tag is not None, self.keyword
        return tag


def _attr(
    keyword: str,
    vr: str,
    entity: str,
    column: str,
    *,
    separate: bool = False,
    required: bool = False,
) -> Attribute:
    """``separate``: the normalized form differs from the value, so it has its own column."""
    return Attribute(keyword, vr, entity, column, column + "_m" if separate else column, required)


INDEXED: dict[str, Attribute] = {
    a.keyword: a
    for a in (
        _attr("PatientID", "LO", "patient", "patient_id"),
        _attr("IssuerOfPatientID", "LO", "patient", "issuer_of_patient_id"),
        _attr("PatientName", "PN", "patient", "patient_name", separate=True, required=True),
        _attr("PatientBirthDate", "DA", "patient", "patient_birth_date"),
        _attr("PatientSex", "CS", "patient", "patient_sex"),
        _attr("StudyInstanceUID", "UI", "study", "study_instance_uid"),
        _attr("StudyDate", "DA", "study", "study_date", required=True),
        _attr("StudyTime", "TM", "study", "study_time", separate=True, required=True),
        _attr("AccessionNumber", "SH", "study", "accession_number", required=True),
        _attr("StudyID", "SH", "study", "study_id", required=True),
        _attr("StudyDescription", "LO", "study", "study_description"),
        _attr("ReferringPhysicianName", "PN", "study", "referring_physician_name", separate=True),
        _attr("SeriesInstanceUID", "UI", "series", "series_instance_uid"),
        _attr("Modality", "CS", "series", "modality", required=True),
        _attr("SeriesNumber", "IS", "series", "series_number", required=True),
        _attr("SeriesDescription", "LO", "series", "series_description"),
        _attr("BodyPartExamined", "CS", "series", "body_part_examined"),
        _attr("SeriesDate", "DA", "series", "series_date"),
        _attr("SeriesTime", "TM", "series", "series_time", separate=True),
        _attr("SOPInstanceUID", "UI", "instance", "sop_instance_uid"),
        _attr("SOPClassUID", "UI", "instance", "sop_class_uid"),
        _attr("InstanceNumber", "IS", "instance", "instance_number", required=True),
        _attr("ContentDate", "DA", "instance", "content_date"),
        _attr("ContentTime", "TM", "instance", "content_time", separate=True),
        # Image level, Optional (PS3.4 C.6.1.1.5): the syntax the file is kept in.
        _attr("AvailableTransferSyntaxUID", "UI", "instance", "transfer_syntax_uid"),
    )
}
INDEXED_BY_TAG = {a.tag: a for a in INDEXED.values()}
INDEXED_VRS = {int(a.tag): a.vr for a in INDEXED.values()}  # each is its dictionary VR

# Computed attributes (PS3.4 C.3.4, C.6.1.1): keyword -> (entity, VR).
COMPUTED: dict[str, tuple[str, str]] = {
    "NumberOfPatientRelatedStudies": ("patient", "IS"),
    "NumberOfPatientRelatedSeries": ("patient", "IS"),
    "NumberOfPatientRelatedInstances": ("patient", "IS"),
    "NumberOfStudyRelatedSeries": ("study", "IS"),
    "NumberOfStudyRelatedInstances": ("study", "IS"),
    "ModalitiesInStudy": ("study", "CS"),
    "SOPClassesInStudy": ("study", "UI"),
    "NumberOfSeriesRelatedInstances": ("series", "IS"),
}
COMPUTED_BY_TAG = {tag_for_keyword(k): k for k in COMPUTED}
# Instance Availability (0008,0056): everything indexed is on line.
INSTANCE_AVAILABILITY = tag_for_keyword("InstanceAvailability")


def levels(model: str) -> list[str]:
    """The levels of ``model`` from the top; ``KeyError`` for an unknown model."""
    return list(MODELS[model])


def entity_level(model: str, entity: str) -> str | None:
    """The level of ``model`` that covers ``entity``, if any."""
    for level, entities in MODELS[model].items():
        if entity in entities and level != "FRAME":
            return level
    return None


def entities_up_to(model: str, level: str) -> list[str]:
    """Every entity covered by ``level`` and the levels above it, top down."""
    out: list[str] = []
    for name, entities in MODELS[model].items():
        out += [e for e in entities if e not in out]
        if name == level:
            break
    return out
