"""dicomwire.sop_class: generated, complete, pynetdicom-compatible, grouped right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydicom._uid_dict import UID_dictionary
from pydicom.uid import UID

import peers
from dicomwire import sop_class
from dicomwire.sop_class import (
    BASIC_WORKLIST_SOP_CLASSES,
    COLOR_PALETTE_SOP_CLASSES,
    COMMON_STORAGE_SOP_CLASSES,
    DEFINED_PROCEDURE_SOP_CLASSES,
    HANGING_PROTOCOL_SOP_CLASSES,
    IMPLANT_TEMPLATE_SOP_CLASSES,
    NON_PATIENT_STORAGE_SOP_CLASSES,
    QR_FIND_SOP_CLASSES,
    QR_GET_SOP_CLASSES,
    QR_MOVE_SOP_CLASSES,
    RELEVANT_PATIENT_SOP_CLASSES,
    SOP_CLASS_NAMES,
    STORAGE_SOP_CLASSES,
    SUBSTANCE_ADMINISTRATION_SOP_CLASSES,
    VERIFICATION_SOP_CLASSES,
    uid_to_service_class,
)

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "gen_sop_class.py"
GENERATED = ROOT / "src" / "dicomwire" / "sop_class.py"

GROUPS = {
    "verification": VERIFICATION_SOP_CLASSES,
    "storage": STORAGE_SOP_CLASSES,
    "qr_find": QR_FIND_SOP_CLASSES,
    "qr_move": QR_MOVE_SOP_CLASSES,
    "qr_get": QR_GET_SOP_CLASSES,
    "modality_worklist": BASIC_WORKLIST_SOP_CLASSES,
    "relevant_patient": RELEVANT_PATIENT_SOP_CLASSES,
    "substance_administration": SUBSTANCE_ADMINISTRATION_SOP_CLASSES,
    "non_patient": NON_PATIENT_STORAGE_SOP_CLASSES,
    "hanging_protocol": HANGING_PROTOCOL_SOP_CLASSES,
    "defined_procedure": DEFINED_PROCEDURE_SOP_CLASSES,
    "color_palette": COLOR_PALETTE_SOP_CLASSES,
    "implant_template": IMPLANT_TEMPLATE_SOP_CLASSES,
}

# pynetdicom service class -> our name, for the service classes dicomwire has.
PYNETDICOM_SERVICE = {
    "VerificationServiceClass": "verification",
    "StorageServiceClass": "storage",
    "BasicWorklistManagementServiceClass": "modality_worklist",
    "RelevantPatientInformationQueryServiceClass": "relevant_patient",
    "SubstanceAdministrationQueryServiceClass": "substance_administration",
    "NonPatientObjectStorageServiceClass": "non_patient",
    "HangingProtocolQueryRetrieveServiceClass": "hanging_protocol",
    "DefinedProcedureProtocolQueryRetrieveServiceClass": "defined_procedure",
    "ColorPaletteQueryRetrieveServiceClass": "color_palette",
    "ImplantTemplateQueryRetrieveServiceClass": "implant_template",
}

# Storage SOP classes defined by the DICOS (security) and DICONDE (NDE) standards.
DICOS_DICONDE_ROOTS = ("1.2.840.10008.5.1.4.1.1.501.", "1.2.840.10008.5.1.4.1.1.601.")

# The SOP classes the seed documents import by name.
SEED_NAMES = [
    "CTImageStorage",
    "MRImageStorage",
    "PatientRootQueryRetrieveInformationModelGet",
    "PatientRootQueryRetrieveInformationModelMove",
    "PatientRootQueryRetrieveInformationModelFind",
    "StudyRootQueryRetrieveInformationModelFind",
    "GeneralRelevantPatientInformationQuery",
    "ModalityWorklistInformationFind",
    "Verification",
]


def pynetdicom_uids() -> dict[str, UID]:
    """Every public UID constant of pynetdicom.sop_class, by name."""
    peers.require_pynetdicom()
    import pynetdicom.sop_class as theirs

    return {
        name: value
        for name in dir(theirs)
        if not name.startswith("_") and isinstance(value := getattr(theirs, name), UID)
    }


def test_generated_module_is_up_to_date(tmp_path: Path) -> None:
    output = tmp_path / "sop_class.py"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--output", str(output)], check=True, timeout=120
    )
    assert output.read_text(encoding="utf-8") == GENERATED.read_text(encoding="utf-8"), (
        "src/dicomwire/sop_class.py is stale: run python tools/gen_sop_class.py"
    )


def test_generated_module_does_not_depend_on_pynetdicom() -> None:
    assert "pynetdicom" not in "".join(
        line for line in GENERATED.read_text().splitlines() if line.startswith(("import", "from"))
    )


def test_every_pynetdicom_uid_name_exists_with_the_same_value() -> None:
    theirs = pynetdicom_uids()
    assert len(theirs) > 250  # the comparison means something
    missing = sorted(name for name in theirs if not hasattr(sop_class, name))
    assert missing == []
    different = sorted(n for n, uid in theirs.items() if getattr(sop_class, n) != uid)
    assert different == []


def test_every_registered_sop_class_is_a_constant() -> None:
    for uid, (_name, kind, _info, _retired, keyword) in UID_dictionary.items():
        if kind == "SOP Class" and keyword:
            assert getattr(sop_class, keyword) == uid
            assert SOP_CLASS_NAMES[uid] == keyword


def test_names_map_back_to_constants() -> None:
    for uid, keyword in SOP_CLASS_NAMES.items():
        constant = getattr(sop_class, keyword)
        assert isinstance(constant, UID)
        assert constant == uid


@pytest.mark.parametrize("name", SEED_NAMES)
def test_names_used_by_the_seeds(name: str) -> None:
    assert isinstance(getattr(sop_class, name), UID)


def test_retired_classes_are_included() -> None:
    assert sop_class.UltrasoundImageStorageRetired == "1.2.840.10008.5.1.4.1.1.6"
    assert sop_class.PatientStudyOnlyQueryRetrieveInformationModelFind == (
        "1.2.840.10008.5.1.4.1.2.3.1"
    )
    assert sop_class.UltrasoundImageStorageRetired in STORAGE_SOP_CLASSES


def test_pynetdicom_spellings_are_aliases() -> None:
    assert sop_class.ModalityWorklistInformationFind == "1.2.840.10008.5.1.4.31"
    canonical = sop_class.ModalityWorklistInformationModelFind
    assert sop_class.ModalityWorklistInformationFind is canonical
    assert sop_class.ColorPaletteInformationModelFind == "1.2.840.10008.5.1.4.39.2"
    # SOP_CLASS_NAMES uses pydicom's keyword, the canonical spelling
    assert SOP_CLASS_NAMES["1.2.840.10008.5.1.4.31"] == "ModalityWorklistInformationModelFind"


def test_well_known_instances_that_pynetdicom_exposes() -> None:
    assert sop_class.PrinterInstance == "1.2.840.10008.5.1.1.17"
    assert sop_class.StorageCommitmentPushModelInstance == "1.2.840.10008.1.20.1.1"
    assert sop_class.BasicGrayscalePrintManagementMeta == "1.2.840.10008.5.1.1.9"
    assert not hasattr(sop_class, "HotIronPalette")  # color palettes are data, not services


def test_groups_are_disjoint_and_hold_uids() -> None:
    seen: dict[str, str] = {}
    for service, uids in GROUPS.items():
        assert uids, service
        assert len(set(uids)) == len(uids), service
        for uid in uids:
            assert isinstance(uid, UID)
            assert uid not in seen, f"{uid} in {seen.get(uid)} and {service}"
            seen[uid] = service
            assert uid_to_service_class(uid) == service


def test_group_contents() -> None:
    assert [sop_class.Verification] == VERIFICATION_SOP_CLASSES
    assert [sop_class.ModalityWorklistInformationFind] == BASIC_WORKLIST_SOP_CLASSES
    assert len(RELEVANT_PATIENT_SOP_CLASSES) == 3
    assert len(SUBSTANCE_ADMINISTRATION_SOP_CLASSES) == 2
    assert len(NON_PATIENT_STORAGE_SOP_CLASSES) == 9
    assert len(HANGING_PROTOCOL_SOP_CLASSES) == 3
    assert len(DEFINED_PROCEDURE_SOP_CLASSES) == 3
    assert len(COLOR_PALETTE_SOP_CLASSES) == 3
    assert len(IMPLANT_TEMPLATE_SOP_CLASSES) == 9
    assert sop_class.RepositoryQuery in QR_FIND_SOP_CLASSES
    assert sop_class.CompositeInstanceRootRetrieveMove in QR_MOVE_SOP_CLASSES
    assert sop_class.CompositeInstanceRetrieveWithoutBulkDataGet in QR_GET_SOP_CLASSES
    assert len(QR_FIND_SOP_CLASSES + QR_MOVE_SOP_CLASSES + QR_GET_SOP_CLASSES) == 13


def test_storage_excludes_other_services_named_storage() -> None:
    for uid in (
        sop_class.StorageCommitmentPushModel,  # Storage Commitment, PS3.4 Annex J
        sop_class.StorageCommitmentPullModel,
        sop_class.MediaStorageDirectoryStorage,  # DICOMDIR, PS3.10
        sop_class.HangingProtocolStorage,  # Non-Patient Object Storage, PS3.4 Annex GG
        sop_class.ColorPaletteStorage,
        sop_class.CTDefinedProcedureProtocolStorage,
        sop_class.InventoryStorage,
    ):
        assert uid not in STORAGE_SOP_CLASSES
    assert sop_class.CTPerformedProcedureProtocolStorage in STORAGE_SOP_CLASSES
    assert sop_class.RTBeamsDeliveryInstructionStorage in STORAGE_SOP_CLASSES


def test_common_storage_is_120_storage_classes() -> None:
    assert len(COMMON_STORAGE_SOP_CLASSES) == 120
    assert set(COMMON_STORAGE_SOP_CLASSES) <= set(STORAGE_SOP_CLASSES)


@pytest.mark.parametrize(
    ("uid", "service"),
    [
        ("1.2.840.10008.1.1", "verification"),
        ("1.2.840.10008.5.1.4.1.1.2", "storage"),
        ("1.2.840.10008.5.1.4.1.2.1.1", "qr_find"),
        ("1.2.840.10008.5.1.4.1.2.2.3", "qr_get"),
        ("1.2.840.10008.5.1.4.1.2.1.2", "qr_move"),
        ("1.2.840.10008.5.1.4.31", "modality_worklist"),
        ("1.2.840.10008.5.1.4.37.1", "relevant_patient"),
        ("1.2.840.10008.5.1.4.41", "substance_administration"),
        ("1.2.840.10008.5.1.4.38.1", "non_patient"),
        ("1.2.840.10008.5.1.4.38.2", "hanging_protocol"),
        ("1.2.840.10008.5.1.4.20.1", "defined_procedure"),
        ("1.2.840.10008.5.1.4.39.3", "color_palette"),
        ("1.2.840.10008.5.1.4.43.4", "implant_template"),
        ("1.2.840.10008.1.20.1", ""),  # Storage Commitment Push Model
        ("1.2.840.10008.5.1.1.1", ""),  # Basic Film Session (print)
        ("1.2.840.10008.4.2", "storage"),  # the Storage Service Class UID itself
        ("1.2.840.10008.5.1.4.1.1.9999", "storage"),  # newer than this table
        ("1.2.840.10008.5.1.4.1.1.200.99", ""),  # protocol branch, not storage
        ("1.2.840.10008.5.1.4.1.1.201.99", ""),  # inventory branch, not storage
        ("1.2.3.4", ""),
        ("", ""),
    ],
)
def test_uid_to_service_class(uid: str, service: str) -> None:
    assert uid_to_service_class(uid) == service
    assert uid_to_service_class(UID(uid)) == service


def _pynetdicom_service(uid: str) -> str:
    """pynetdicom's service class for ``uid``, in our vocabulary."""
    import pynetdicom.sop_class as theirs

    name = theirs.uid_to_service_class(uid).__name__
    if name == "QueryRetrieveServiceClass":
        # split by the PS3.6 name, "... - FIND/MOVE/GET" (Repository Query is a FIND)
        registered = UID(uid).name
        return {"MOVE": "qr_move", "GET": "qr_get"}.get(registered.rsplit(" ", 1)[-1], "qr_find")
    return PYNETDICOM_SERVICE.get(name, "")


def test_uid_to_service_class_agrees_with_pynetdicom() -> None:
    """Same answer for every UID either side knows, except two documented cases.

    1. Service classes dicomwire has no service for (Storage Commitment,
       Print, UPS, Procedure Step, Inventory, Protocol Approval, ...): we
       answer "" where pynetdicom names its class; mapped to "" above.
    2. Storage SOP Classes that pynetdicom leaves ungrouped: retired ones
       (PS3.4 Table B.5-1 still lists them) and the DICOS (501.x) and
       DICONDE (601.x) classes registered in PS3.6. They are Storage, so an
       SCP can accept them; pynetdicom answers its base ServiceClass.
    """
    peers.require_pynetdicom()
    uids = set(SOP_CLASS_NAMES) | set(pynetdicom_uids().values())
    differences = {}
    for uid in sorted(uids):
        ours, theirs = uid_to_service_class(uid), _pynetdicom_service(uid)
        if ours != theirs:
            differences[uid] = (ours, theirs)
    for uid, (ours, theirs) in differences.items():
        retired = UID_dictionary.get(uid, ("", "", "", ""))[3] == "Retired"
        dicos_diconde = uid.startswith(DICOS_DICONDE_ROOTS)
        assert (ours, theirs) == ("storage", ""), uid
        assert retired or dicos_diconde, uid
