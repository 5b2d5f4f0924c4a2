#!/usr/bin/env python3
"""Generate ``src/dicomwire/sop_class.py`` from pydicom's UID dictionary.

The SOP Class UIDs are registered in PS3.6 Table A-1; pydicom ships that table
as ``pydicom._uid_dict.UID_dictionary`` (uid -> (name, type, info, retired,
keyword)). Typing hundreds of UIDs by hand invites mistakes, so the module is
generated, committed, and checked by ``tests/test_sop_class.py``.

Usage::

    python tools/gen_sop_class.py                 # rewrite src/dicomwire/sop_class.py
    python tools/gen_sop_class.py --output FILE   # write elsewhere (the test does this)
    python tools/gen_sop_class.py --check         # exit 1 if the committed file is stale
    python tools/gen_sop_class.py --report        # compare names with pynetdicom.sop_class

The generated module never imports pynetdicom; ``--report`` does, only to
list the names where pynetdicom differs so that ``ALIASES`` can be kept up to
date by a human.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydicom._uid_dict import UID_dictionary

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "dicomwire" / "sop_class.py"
LINE_LIMIT = 100


@dataclass(frozen=True)
class Entry:
    """One registered UID that becomes a module constant."""

    uid: str
    name: str
    keyword: str
    retired: bool
    kind: str


# SOP Classes added to PS3.6 after the installed pydicom's dictionary was
# built. Used only while pydicom lacks them, so a newer pydicom wins.
SUPPLEMENT: tuple[Entry, ...] = (
    Entry(
        "1.2.840.10008.5.1.4.1.1.9.100.1",
        "Waveform Presentation State Storage",
        "WaveformPresentationStateStorage",
        False,
        "SOP Class",
    ),
    Entry(
        "1.2.840.10008.5.1.4.1.1.9.100.2",
        "Waveform Acquisition Presentation State Storage",
        "WaveformAcquisitionPresentationStateStorage",
        False,
        "SOP Class",
    ),
    Entry(
        "1.2.840.10008.5.1.4.1.1.66.7",
        "Label Map Segmentation Storage",
        "LabelMapSegmentationStorage",
        False,
        "SOP Class",
    ),
    Entry(
        "1.2.840.10008.5.1.4.1.1.66.8",
        "Height Map Segmentation Storage",
        "HeightMapSegmentationStorage",
        False,
        "SOP Class",
    ),
)

# pynetdicom's name -> pydicom's keyword, where they differ. Code written
# against pynetdicom imports these names, so both spellings are exported;
# some of pynetdicom's names carry historical typos ("Stage", "Ophthlamic").
ALIASES: dict[str, str] = {
    "ColorPaletteInformationModelFind": "ColorPaletteQueryRetrieveInformationModelFind",
    "ColorPaletteInformationModelGet": "ColorPaletteQueryRetrieveInformationModelGet",
    "ColorPaletteInformationModelMove": "ColorPaletteQueryRetrieveInformationModelMove",
    "ModalityWorklistInformationFind": "ModalityWorklistInformationModelFind",
    "OphthlamicOpticalCoherenceTomographyBscanVolumeAnalysisStorage": (
        "OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage"
    ),
    "PseudoColorSoftcopyPresentationStageStorage": "PseudoColorSoftcopyPresentationStateStorage",
    "RTBrachyApplicationSetupDeliveryInstructionsStorage": (
        "RTBrachyApplicationSetupDeliveryInstructionStorage"
    ),
    "RoboticArmRadiationRecordStorage": "RoboticRadiationRecordStorage",
    "VariableModalityLUTSoftcopyPresentationStageStorage": (
        "VariableModalityLUTSoftcopyPresentationStateStorage"
    ),
}

# The Storage SOP Classes a requestor proposes by default: 120 of them, so a
# requestor can add its own and stay under the 128 presentation contexts that
# the one-byte odd context ID allows (PS3.8 section 9.3.2.2). The choice is
# the widely deployed classes plus the retired ones still met in archives;
# it is the same set pynetdicom proposes, so behaviour does not change for
# code moving over.
COMMON_STORAGE: tuple[str, ...] = (
    # Projection radiography, CT, MR, NM, PET, ultrasound
    "ComputedRadiographyImageStorage",
    "DigitalXRayImageStorageForPresentation",
    "DigitalXRayImageStorageForProcessing",
    "DigitalMammographyXRayImageStorageForPresentation",
    "DigitalMammographyXRayImageStorageForProcessing",
    "DigitalIntraOralXRayImageStorageForPresentation",
    "DigitalIntraOralXRayImageStorageForProcessing",
    "CTImageStorage",
    "EnhancedCTImageStorage",
    "LegacyConvertedEnhancedCTImageStorage",
    "MRImageStorage",
    "EnhancedMRImageStorage",
    "EnhancedMRColorImageStorage",
    "LegacyConvertedEnhancedMRImageStorage",
    "MRSpectroscopyStorage",
    "NuclearMedicineImageStorage",
    "PositronEmissionTomographyImageStorage",
    "EnhancedPETImageStorage",
    "LegacyConvertedEnhancedPETImageStorage",
    "UltrasoundImageStorage",
    "UltrasoundMultiFrameImageStorage",
    "EnhancedUSVolumeStorage",
    # X-ray angiography, fluoroscopy, 3D X-ray, tomosynthesis, IVOCT
    "XRayAngiographicImageStorage",
    "EnhancedXAImageStorage",
    "XRayRadiofluoroscopicImageStorage",
    "EnhancedXRFImageStorage",
    "XRay3DAngiographicImageStorage",
    "XRay3DCraniofacialImageStorage",
    "BreastTomosynthesisImageStorage",
    "IntravascularOpticalCoherenceTomographyImageStorageForPresentation",
    "IntravascularOpticalCoherenceTomographyImageStorageForProcessing",
    # Secondary capture
    "SecondaryCaptureImageStorage",
    "MultiFrameSingleBitSecondaryCaptureImageStorage",
    "MultiFrameGrayscaleByteSecondaryCaptureImageStorage",
    "MultiFrameGrayscaleWordSecondaryCaptureImageStorage",
    "MultiFrameTrueColorSecondaryCaptureImageStorage",
    # Waveforms
    "TwelveLeadECGWaveformStorage",
    "GeneralECGWaveformStorage",
    "AmbulatoryECGWaveformStorage",
    "HemodynamicWaveformStorage",
    "CardiacElectrophysiologyWaveformStorage",
    "BasicVoiceAudioWaveformStorage",
    "GeneralAudioWaveformStorage",
    "ArterialPulseWaveformStorage",
    "RespiratoryWaveformStorage",
    # Presentation states
    "GrayscaleSoftcopyPresentationStateStorage",
    "ColorSoftcopyPresentationStateStorage",
    "PseudoColorSoftcopyPresentationStateStorage",
    "BlendingSoftcopyPresentationStateStorage",
    "XAXRFGrayscaleSoftcopyPresentationStateStorage",
    # Raw data, registration, segmentation, surfaces
    "RawDataStorage",
    "SpatialRegistrationStorage",
    "SpatialFiducialsStorage",
    "DeformableSpatialRegistrationStorage",
    "SegmentationStorage",
    "SurfaceSegmentationStorage",
    "RealWorldValueMappingStorage",
    "SurfaceScanMeshStorage",
    "SurfaceScanPointCloudStorage",
    # Visible light: endoscopy, microscopy, photography, whole slide
    "VLEndoscopicImageStorage",
    "VideoEndoscopicImageStorage",
    "VLMicroscopicImageStorage",
    "VideoMicroscopicImageStorage",
    "VLSlideCoordinatesMicroscopicImageStorage",
    "VLPhotographicImageStorage",
    "VideoPhotographicImageStorage",
    "VLWholeSlideMicroscopyImageStorage",
    # Ophthalmology
    "OphthalmicPhotography8BitImageStorage",
    "OphthalmicPhotography16BitImageStorage",
    "StereometricRelationshipStorage",
    "OphthalmicTomographyImageStorage",
    "LensometryMeasurementsStorage",
    "AutorefractionMeasurementsStorage",
    "KeratometryMeasurementsStorage",
    "SubjectiveRefractionMeasurementsStorage",
    "VisualAcuityMeasurementsStorage",
    "SpectaclePrescriptionReportStorage",
    "OphthalmicAxialMeasurementsStorage",
    "IntraocularLensCalculationsStorage",
    "MacularGridThicknessAndVolumeReportStorage",
    "OphthalmicVisualFieldStaticPerimetryMeasurementsStorage",
    "OphthalmicThicknessMapStorage",
    # Structured reports, documents, displays
    "BasicTextSRStorage",
    "EnhancedSRStorage",
    "ComprehensiveSRStorage",
    "Comprehensive3DSRStorage",
    "ProcedureLogStorage",
    "MammographyCADSRStorage",
    "KeyObjectSelectionDocumentStorage",
    "ChestCADSRStorage",
    "XRayRadiationDoseSRStorage",
    "ColonCADSRStorage",
    "ImplantationPlanSRStorage",
    "EncapsulatedPDFStorage",
    "EncapsulatedCDAStorage",
    "BasicStructuredDisplayStorage",
    # Radiotherapy
    "RTImageStorage",
    "RTDoseStorage",
    "RTStructureSetStorage",
    "RTBeamsTreatmentRecordStorage",
    "RTPlanStorage",
    "RTBrachyTreatmentRecordStorage",
    "RTTreatmentSummaryRecordStorage",
    "RTIonPlanStorage",
    "RTIonBeamsTreatmentRecordStorage",
    "RTBeamsDeliveryInstructionStorage",
    # Retired, but still found in long-lived archives
    "StoredPrintStorage",
    "HardcopyGrayscaleImageStorage",
    "HardcopyColorImageStorage",
    "UltrasoundMultiFrameImageStorageRetired",
    "NuclearMedicineImageStorageRetired",
    "UltrasoundImageStorageRetired",
    "StandaloneOverlayStorage",
    "StandaloneCurveStorage",
    "StandaloneModalityLUTStorage",
    "StandaloneVOILUTStorage",
    "XRayAngiographicBiPlaneImageStorage",
    "VLImageStorageTrial",
    "VLMultiFrameImageStorageTrial",
    "StandalonePETCurveStorage",
)
COMMON_STORAGE_SIZE = 120

# Storage-named SOP Classes of the Non-Patient Object Storage Service Class
# (PS3.4 Annex GG): they are stored like images but carry no patient.
_NON_PATIENT = re.compile(
    r"^(Hanging Protocol|Color Palette|Generic Implant Template|Implant Assembly Template"
    r"|Implant Template Group|(CT|XA) Defined Procedure Protocol|Protocol Approval"
    r"|Inventory) Storage$"
)
# "Storage" in the name but another service: Storage Commitment (PS3.4 Annex J)
# and the DICOMDIR of the Media Storage service (PS3.10), never C-STOREd.
_NOT_STORAGE = re.compile(r"^(Storage Commitment|Media Storage Directory)")
_QR_ROOT = "1.2.840.10008.5.1.4.1.2."
_RETRIEVE_SUFFIX = {"- FIND": "qr_find", "- MOVE": "qr_move", "- GET": "qr_get"}

# Service class -> predicate on the SOP class name (PS3.6 wording, with any
# trailing "SOP Class" removed). Order matters: the first match wins.
_NAME_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("verification", lambda n: n == "Verification"),
    ("modality_worklist", lambda n: n.startswith("Modality Worklist Information Model")),
    ("relevant_patient", lambda n: n.endswith("Relevant Patient Information Query")),
    (
        "substance_administration",
        lambda n: n in ("Product Characteristics Query", "Substance Approval Query"),
    ),
    ("hanging_protocol", lambda n: n.startswith("Hanging Protocol Information Model")),
    (
        "defined_procedure",
        lambda n: n.startswith("Defined Procedure Protocol Information Model"),
    ),
    ("color_palette", lambda n: n.startswith("Color Palette Query/Retrieve Information Model")),
    (
        "implant_template",
        lambda n: (
            re.match(
                r"^(Generic Implant Template|Implant Assembly Template|Implant Template Group)"
                r" Information Model",
                n,
            )
            is not None
        ),
    ),
    ("non_patient", lambda n: _NON_PATIENT.match(n) is not None),
    ("storage", lambda n: "Storage" in n and _NOT_STORAGE.match(n) is None),
)

# Generated group constant, the service class it collects, its docstring.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("VERIFICATION_SOP_CLASSES", "verification", "Verification (PS3.4 Annex A)."),
    ("STORAGE_SOP_CLASSES", "storage", "Storage (PS3.4 Annex B), retired ones included."),
    ("QR_FIND_SOP_CLASSES", "qr_find", "Query/Retrieve C-FIND models (PS3.4 Annex C)."),
    ("QR_MOVE_SOP_CLASSES", "qr_move", "Query/Retrieve C-MOVE models (PS3.4 Annex C)."),
    ("QR_GET_SOP_CLASSES", "qr_get", "Query/Retrieve C-GET models (PS3.4 Annex C)."),
    (
        "BASIC_WORKLIST_SOP_CLASSES",
        "modality_worklist",
        "Basic Worklist Management (PS3.4 Annex K).",
    ),
    (
        "RELEVANT_PATIENT_SOP_CLASSES",
        "relevant_patient",
        "Relevant Patient Information Query (PS3.4 Annex Q).",
    ),
    (
        "SUBSTANCE_ADMINISTRATION_SOP_CLASSES",
        "substance_administration",
        "Substance Administration Query (PS3.4 Annex V).",
    ),
    (
        "NON_PATIENT_STORAGE_SOP_CLASSES",
        "non_patient",
        "Non-Patient Object Storage (PS3.4 Annex GG).",
    ),
    (
        "HANGING_PROTOCOL_SOP_CLASSES",
        "hanging_protocol",
        "Hanging Protocol Query/Retrieve (PS3.4 Annex U).",
    ),
    (
        "DEFINED_PROCEDURE_SOP_CLASSES",
        "defined_procedure",
        "Defined Procedure Protocol Query/Retrieve (PS3.4 Annex HH).",
    ),
    (
        "COLOR_PALETTE_SOP_CLASSES",
        "color_palette",
        "Color Palette Query/Retrieve (PS3.4 Annex X).",
    ),
    (
        "IMPLANT_TEMPLATE_SOP_CLASSES",
        "implant_template",
        "Implant Template Query/Retrieve (PS3.4 Annex BB).",
    ),
)


def uid_key(uid: str) -> tuple[int, ...]:
    """Sort UIDs numerically, component by component, so families stay together."""
    return tuple(int(part) for part in uid.split("."))


def load_entries() -> list[Entry]:
    """Every UID that becomes a constant, in UID order."""
    entries: dict[str, Entry] = {}
    for uid, (name, kind, _info, retired, kw) in UID_dictionary.items():
        if not kw:
            continue  # a few retired registrations have no keyword to name them by
        is_retired = retired == "Retired"
        if kind == "SOP Class" or _is_exposed_instance(kind, name, is_retired):
            entries[uid] = Entry(uid, name, kw, is_retired, kind)
    for extra in SUPPLEMENT:
        entries.setdefault(extra.uid, extra)
    return sorted(entries.values(), key=lambda e: uid_key(e.uid))


def _is_exposed_instance(kind: str, name: str, retired: bool) -> bool:
    """Meta SOP Classes and well-known SOP Instances that are negotiated or addressed.

    The current print-management meta SOP classes are proposed as abstract
    syntaxes, and well-known instances (Printer, Storage Commitment Push
    Model, ...) are the Requested SOP Instance of N-ACTION/N-GET. The
    well-known color palettes are only data (instances of Color Palette
    Storage), so they are left out.
    """
    if kind not in ("Meta SOP Class", "Well-known SOP Instance") or retired:
        return False
    return not name.endswith("Color Palette SOP Instance")


def service_class(entry: Entry) -> str:
    """The service class string for one SOP class ("" when none of ours)."""
    if entry.kind != "SOP Class":
        return ""
    name = entry.name.removesuffix(" SOP Class")
    if entry.uid.startswith(_QR_ROOT) or name == "Repository Query":
        # Repository Query is a C-FIND model of Q/R (PS3.4 section C.6.4).
        for suffix, service in _RETRIEVE_SUFFIX.items():
            if name.endswith(suffix):
                return service
        return "qr_find"
    for service, matches in _NAME_RULES:
        if matches(name):
            return service
    return ""


def validate(entries: list[Entry]) -> None:
    """Fail loudly if the tables above no longer fit the dictionary."""
    keywords = {e.keyword: e for e in entries}
    if len(keywords) != len(entries):
        raise SystemExit("duplicate keywords in the UID dictionary")
    for name in [e.keyword for e in entries] + list(ALIASES):
        if not name.isidentifier() or keyword.iskeyword(name):
            raise SystemExit(f"{name!r} cannot be a Python name")
    for alias, target in ALIASES.items():
        if target not in keywords or alias in keywords:
            raise SystemExit(f"alias {alias} -> {target} is stale")
    if len(set(COMMON_STORAGE)) != COMMON_STORAGE_SIZE:
        raise SystemExit(f"COMMON_STORAGE must hold {COMMON_STORAGE_SIZE} distinct names")
    for name in COMMON_STORAGE:
        if name not in keywords or service_class(keywords[name]) != "storage":
            raise SystemExit(f"COMMON_STORAGE entry {name} is not a Storage SOP Class")


HEADER = '''\
"""SOP Class UIDs of the DICOM standard and the service classes they belong to.

GENERATED FILE -- do not edit by hand. It is written by ``tools/gen_sop_class.py``
from pydicom's UID dictionary (PS3.6 Table A-1) and checked by
``tests/test_sop_class.py``. To regenerate after a pydicom upgrade::

    python tools/gen_sop_class.py

Every SOP Class of the standard, current and retired, is a ``pydicom.uid.UID``
constant named by pydicom's keyword, plus the current Meta SOP Classes and
well-known SOP Instances. Where pynetdicom spells a name differently, that
spelling is exported too (see the aliases section), so code written against
``pynetdicom.sop_class`` runs with only its import changed.

The groupings follow the service classes of PS3.4; ``uid_to_service_class``
names the service class of a UID.
"""

from __future__ import annotations

from pydicom.uid import UID
'''

FOOTER = '''

# Service Class UIDs (PS3.6 Table A-1) that stand for a whole service class.
_SERVICE_CLASS_UIDS: dict[str, str] = {"1.2.840.10008.4.2": "storage"}

# Storage SOP Classes are registered under this root; the 200 and 201
# branches below it hold protocol and inventory classes of other services.
_STORAGE_ROOT = "1.2.840.10008.5.1.4.1.1."
_NOT_STORAGE_BRANCHES = ("1.2.840.10008.5.1.4.1.1.200.", "1.2.840.10008.5.1.4.1.1.201.")

_SERVICE_CLASS_OF: dict[str, str] = {
    uid: service for service, uids in _SERVICE_GROUPS for uid in uids
}


def uid_to_service_class(uid: str) -> str:
    """Name the service class (PS3.4) that a SOP Class UID belongs to.

    Returns one of "verification", "storage", "qr_find", "qr_get", "qr_move",
    "modality_worklist", "relevant_patient", "substance_administration",
    "non_patient", "hanging_protocol", "defined_procedure", "color_palette",
    "implant_template", or "" for a UID of any other (or no) service class.

    A UID this module does not know but registered under the Storage root
    (PS3.6: 1.2.840.10008.5.1.4.1.1.x) is taken as Storage, so an SCP keeps
    accepting SOP Classes added to the standard after this file was generated.
    """
    uid = str(uid)
    found = _SERVICE_CLASS_OF.get(uid) or _SERVICE_CLASS_UIDS.get(uid)
    if found is not None:
        return found
    if uid in SOP_CLASS_NAMES:
        return ""
    if uid.startswith(_STORAGE_ROOT) and not uid.startswith(_NOT_STORAGE_BRANCHES):
        return "storage"
    return ""
'''


def _assignment(name: str, uid: str, comment: str = "") -> list[str]:
    """``Name = UID("...")``, wrapped when it would pass the line limit."""
    line = f'{name} = UID("{uid}")'
    if comment and len(line) + len(comment) + 4 <= LINE_LIMIT:
        return [f"{line}  # {comment}"]
    if len(line) <= LINE_LIMIT:
        return [f"# {comment}", line] if comment else [line]
    wrapped = [f"{name} = UID(", f'    "{uid}"', ")"]
    return [f"# {comment}", *wrapped] if comment else wrapped


def _fit(head: str, value: str, tail: str) -> list[str]:
    """``head + value + tail`` on one line, or the value parenthesised below."""
    line = head + value + tail
    if len(line) <= LINE_LIMIT:
        return [line]
    indent = " " * (len(head) - len(head.lstrip()))
    return [f"{head}(", f"{indent}    {value}", f"{indent}){tail}"]


def _list_block(name: str, annotation: str, doc: str, items: Iterable[str]) -> list[str]:
    body = [f"    {item}," for item in items]
    return [f"{name}: {annotation} = [", *body, "]", f'"""{doc}"""', ""]


def render(entries: list[Entry]) -> str:
    """The full text of the generated module."""
    validate(entries)
    out = [HEADER + "\n# " + "-" * 20 + " SOP Classes (PS3.6 Table A-1), in UID order", ""]
    for e in entries:
        out += _assignment(e.keyword, e.uid, "retired" if e.retired else "")
    out += ["", "", "# " + "-" * 20 + " pynetdicom's spelling, where it differs", ""]
    for alias, target in sorted(ALIASES.items()):
        out += _fit(f"{alias} = ", target, "")
    out += ["", "", "SOP_CLASS_NAMES: dict[str, str] = {"]
    for e in entries:
        out += _fit(f"    {e.keyword}: ", f'"{e.keyword}"', ",")
    out += ["}", '"""UID -> keyword of every constant above (pydicom\'s spelling)."""', "", ""]
    services = {e.uid: service_class(e) for e in entries}
    for const, wanted, doc in GROUPS:
        members = [e.keyword for e in entries if services[e.uid] == wanted]
        out += _list_block(const, "list[UID]", doc, members)
    common = [e.keyword for e in entries if e.keyword in COMMON_STORAGE]
    doc = "The 120 Storage SOP Classes proposed by default (PS3.8 9.3.2.2: at most 128)."
    out += _list_block("COMMON_STORAGE_SOP_CLASSES", "list[UID]", doc, common)
    out += ["_SERVICE_GROUPS: tuple[tuple[str, list[UID]], ...] = ("]
    for const, service, _doc in GROUPS:
        out.append(f'    ("{service}", {const}),')
    out.append(")")
    return "\n".join(out) + "\n" + FOOTER


def report() -> int:
    """Print where pynetdicom.sop_class and the generated names disagree."""
    try:
        import pynetdicom.sop_class as theirs
    except ImportError:
        print("pynetdicom is not installed; nothing to compare")
        return 0
    from pydicom.uid import UID

    entries = load_entries()
    ours = {e.keyword: e.uid for e in entries}
    ours.update({alias: ours[target] for alias, target in ALIASES.items()})
    by_uid = {e.uid: e.keyword for e in entries}
    problems = 0
    for name in sorted(dir(theirs)):
        value = getattr(theirs, name)
        if name.startswith("_") or not isinstance(value, UID):
            continue
        if ours.get(name) == value:
            continue
        problems += 1
        hint = f"alias of {by_uid[value]}" if value in by_uid else "UID unknown: SUPPLEMENT?"
        print(f"pynetdicom {name} = {value}: missing here ({hint})")
    extra = sorted(set(ours) - set(dir(theirs)))
    print(f"{problems} pynetdicom names missing; {len(extra)} names only here")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --output is stale")
    parser.add_argument("--report", action="store_true", help="compare with pynetdicom")
    args = parser.parse_args(argv)
    if args.report:
        return report()
    text = render(load_entries())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run: python tools/gen_sop_class.py")
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
