"""dicomwire.presentation: validation, helpers, and the ready-made context lists."""

from __future__ import annotations

from typing import Any

import pytest
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)

import peers
from dicomwire import presentation, sop_class
from dicomwire._core.pdu import RoleSelection
from dicomwire.presentation import (
    DEFAULT_TRANSFER_SYNTAXES,
    PresentationContext,
    PresentationContextTuple,
    build_context,
    build_role,
)

CT = "1.2.840.10008.5.1.4.1.1.2"
VERIFICATION = "1.2.840.10008.1.1"

LIST_NAMES = [
    "VerificationPresentationContexts",
    "StoragePresentationContexts",
    "AllStoragePresentationContexts",
    "QueryRetrievePresentationContexts",
    "BasicWorklistManagementPresentationContexts",
    "RelevantPatientInformationPresentationContexts",
    "SubstanceAdministrationPresentationContexts",
    "NonPatientObjectPresentationContexts",
    "HangingProtocolPresentationContexts",
    "DefinedProcedurePresentationContexts",
    "ColorPalettePresentationContexts",
    "ImplantTemplatePresentationContexts",
]
# Where pynetdicom's name differs from ours.
PYNETDICOM_LIST_NAME = {
    "DefinedProcedurePresentationContexts": "DefinedProcedureProtocolPresentationContexts"
}


def test_default_transfer_syntaxes() -> None:
    assert [
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
    ] == DEFAULT_TRANSFER_SYNTAXES
    assert all(isinstance(uid, UID) for uid in DEFAULT_TRANSFER_SYNTAXES)


# -- context_id --------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 3, 127, 255, None])
def test_valid_context_ids(value: int | None) -> None:
    cx = build_context(CT)
    cx.context_id = value
    assert cx.context_id == value


@pytest.mark.parametrize("value", [0, 2, 254, 256, 257, -1])
def test_context_id_must_be_odd_1_to_255(value: int) -> None:
    cx = build_context(CT)
    with pytest.raises(ValueError, match="odd integer from 1 to 255"):
        cx.context_id = value
    assert cx.context_id is None


@pytest.mark.parametrize("value", ["1", 1.0, True])
def test_context_id_must_be_an_int(value: Any) -> None:
    with pytest.raises(TypeError):
        build_context(CT).context_id = value


# -- abstract syntax -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [CT, UID(CT), CT.encode(), CT.encode() + b"\x00", CT + "\x00", "1" * 64, "1.2.0.3"],
)
def test_abstract_syntax_accepts_str_bytes_uid(value: str | bytes) -> None:
    cx = PresentationContext()
    cx.abstract_syntax = value
    assert isinstance(cx.abstract_syntax, UID)
    expected = value.decode() if isinstance(value, bytes) else value
    assert cx.abstract_syntax == expected.rstrip("\x00")


@pytest.mark.parametrize(
    "value", ["", "1.2.", ".1.2", "1..2", "1.2.a", "1.2 .3", "1" * 65, b"1.2.\xff", b""]
)
def test_abstract_syntax_rejects_invalid_uids(value: str | bytes) -> None:
    cx = PresentationContext()
    with pytest.raises(ValueError, match=r"PS3\.5|ASCII"):
        cx.abstract_syntax = value


def test_abstract_syntax_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        PresentationContext().abstract_syntax = 12  # type: ignore[assignment]


def test_abstract_syntax_unset_is_an_error() -> None:
    with pytest.raises(ValueError, match="no abstract syntax"):
        _ = PresentationContext().abstract_syntax


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")  # pydicom's own check
def test_leading_zero_components_are_tolerated() -> None:
    # forbidden by PS3.5 9.1 but seen from real devices; refusing gains nothing
    assert build_context("1.2.840.01").abstract_syntax == "1.2.840.01"


# -- transfer syntaxes ---------------------------------------------------------


def test_transfer_syntax_setter_validates_and_deduplicates() -> None:
    cx = PresentationContext(CT)
    cx.transfer_syntax = [ExplicitVRLittleEndian, "1.2.840.10008.1.2", b"1.2.840.10008.1.2.1"]
    assert cx.transfer_syntax == [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
    assert all(isinstance(uid, UID) for uid in cx.transfer_syntax)
    with pytest.raises(ValueError):
        cx.transfer_syntax = [ExplicitVRLittleEndian, "not a uid"]
    assert cx.transfer_syntax == [ExplicitVRLittleEndian, ImplicitVRLittleEndian]


def test_transfer_syntax_setter_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match="list"):
        PresentationContext(CT).transfer_syntax = ExplicitVRLittleEndian


def test_transfer_syntax_getter_is_a_copy() -> None:
    cx = build_context(CT)
    cx.transfer_syntax.append(JPEGBaseline8Bit)
    assert cx.transfer_syntax == DEFAULT_TRANSFER_SYNTAXES


def test_add_transfer_syntax_appends_unique() -> None:
    cx = build_context(CT, ExplicitVRLittleEndian)
    cx.add_transfer_syntax(JPEGBaseline8Bit)
    cx.add_transfer_syntax(ExplicitVRLittleEndian)
    cx.add_transfer_syntax(b"1.2.840.10008.1.2.4.50")
    assert cx.transfer_syntax == [ExplicitVRLittleEndian, JPEGBaseline8Bit]
    with pytest.raises(ValueError):
        cx.add_transfer_syntax("1.2.x")


# -- roles, result, status, tuple ---------------------------------------------


def test_roles() -> None:
    cx = build_context(CT)
    assert (cx.scu_role, cx.scp_role, cx.as_scu, cx.as_scp) == (None, None, None, None)
    cx.scu_role, cx.scp_role = False, True
    assert (cx.scu_role, cx.scp_role) == (False, True)
    cx.scp_role = None
    assert cx.scp_role is None
    with pytest.raises(TypeError):
        cx.scu_role = 1  # type: ignore[assignment]
    cx.as_scu, cx.as_scp = True, False
    assert (cx.as_scu, cx.as_scp) == (True, False)


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (None, "Pending"),
        (0, "Accepted"),
        (1, "Rejected (user rejection)"),
        (2, "Rejected (no reason given)"),
        (3, "Rejected (abstract syntax not supported)"),
        (4, "Rejected (transfer syntaxes not supported)"),
        (9, "Rejected (unknown reason 9)"),
    ],
)
def test_status(result: int | None, status: str) -> None:
    cx = build_context(CT)
    cx.result = result
    assert cx.result == result
    assert cx.status == status


@pytest.mark.parametrize("value", [-1, 256, "0", True])
def test_result_must_be_a_byte(value: Any) -> None:
    with pytest.raises(ValueError):
        build_context(CT).result = value


def test_as_tuple_uses_the_first_transfer_syntax() -> None:
    cx = build_context(CT, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    with pytest.raises(ValueError, match="incomplete"):
        _ = cx.as_tuple
    cx.context_id = 7
    assert cx.as_tuple == PresentationContextTuple(7, UID(CT), ExplicitVRLittleEndian)
    assert cx.as_tuple.transfer_syntax == ExplicitVRLittleEndian
    assert isinstance(cx.as_tuple.abstract_syntax, UID)


# -- equality, copy, display ---------------------------------------------------


def test_equality_is_abstract_and_transfer_syntaxes() -> None:
    a, b = build_context(CT), build_context(CT)
    b.context_id, b.result, b.scp_role = 5, 0, True
    assert a == b
    assert a != build_context(CT, list(reversed(DEFAULT_TRANSFER_SYNTAXES)))
    assert a != build_context(VERIFICATION)
    assert a != CT
    with pytest.raises(TypeError):
        hash(a)


def test_copy_is_independent() -> None:
    original = build_context(CT, [ExplicitVRLittleEndian])
    original.context_id, original.scu_role, original.result = 3, True, 0
    original.as_scu = True
    clone = original.copy()
    assert clone == original and clone is not original
    assert (clone.context_id, clone.scu_role, clone.result, clone.as_scu) == (3, True, 0, True)
    clone.add_transfer_syntax(ImplicitVRLittleEndian)
    clone.context_id, clone.scu_role = 9, None
    assert original.transfer_syntax == [ExplicitVRLittleEndian]
    assert (original.context_id, original.scu_role) == (3, True)


def test_shared_lists_survive_copies_being_changed() -> None:
    clones = [cx.copy() for cx in presentation.StoragePresentationContexts]
    for index, cx in enumerate(clones):
        cx.context_id = 2 * index + 1
        cx.transfer_syntax = [ExplicitVRLittleEndian]
    for cx in presentation.StoragePresentationContexts:
        assert cx.context_id is None
        assert cx.transfer_syntax == DEFAULT_TRANSFER_SYNTAXES


def test_repr_and_str_are_readable() -> None:
    cx = build_context(VERIFICATION, ExplicitVRLittleEndian)
    cx.context_id, cx.result = 1, 0
    assert "Verification SOP Class" in repr(cx) and "Accepted" in repr(cx)
    text = str(cx)
    assert "Context ID: 1" in text
    assert f"Verification SOP Class ({VERIFICATION})" in text
    assert "Explicit VR Little Endian (1.2.840.10008.1.2.1)" in text
    assert "Status: Accepted" in text
    assert "?" in repr(PresentationContext())  # an empty context still prints


# -- build_context / build_role ------------------------------------------------


def test_build_context_defaults() -> None:
    cx = build_context(CT)
    assert cx.abstract_syntax == CT
    assert cx.transfer_syntax == DEFAULT_TRANSFER_SYNTAXES
    assert (cx.context_id, cx.result, cx.status) == (None, None, "Pending")


def test_build_context_with_one_or_several_transfer_syntaxes() -> None:
    assert build_context(CT, JPEGBaseline8Bit).transfer_syntax == [JPEGBaseline8Bit]
    assert build_context(b"1.2.840.10008.1.1", [ImplicitVRLittleEndian]).abstract_syntax == (
        VERIFICATION
    )
    syntaxes = [JPEGBaseline8Bit, ExplicitVRLittleEndian]
    assert build_context(UID(CT), syntaxes).transfer_syntax == syntaxes


def test_build_context_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        build_context("1.2..3")
    with pytest.raises(ValueError):
        build_context(CT, "abc")
    with pytest.raises(ValueError, match="at least one"):
        build_context(CT, [])


def test_build_role() -> None:
    role = build_role(CT, scp_role=True)
    assert isinstance(role, RoleSelection)
    assert (role.sop_class_uid, role.scu_role, role.scp_role) == (CT, False, True)
    assert build_role(UID(CT)) == RoleSelection(CT, False, False)
    with pytest.raises(ValueError):
        build_role("CT")


# -- the ready-made lists -------------------------------------------------------


@pytest.mark.parametrize("name", LIST_NAMES)
def test_lists_hold_fresh_default_contexts(name: str) -> None:
    contexts = getattr(presentation, name)
    assert contexts
    for cx in contexts:
        assert isinstance(cx, PresentationContext)
        assert cx.transfer_syntax == DEFAULT_TRANSFER_SYNTAXES
        assert (cx.context_id, cx.result, cx.scu_role, cx.scp_role) == (None, None, None, None)
    uids = [cx.abstract_syntax for cx in contexts]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("name", [n for n in LIST_NAMES if n != "AllStoragePresentationContexts"])
def test_lists_match_pynetdicom(name: str) -> None:
    pynetdicom = peers.require_pynetdicom()
    theirs = getattr(pynetdicom, PYNETDICOM_LIST_NAME.get(name, name))
    ours = getattr(presentation, name)
    assert len(ours) == len(theirs)
    assert {cx.abstract_syntax for cx in ours} == {cx.abstract_syntax for cx in theirs}


def test_all_storage_is_pynetdicoms_plus_documented_extras() -> None:
    """Every pynetdicom storage context, plus Storage SOP classes it leaves out.

    The extras are the retired Storage SOP Classes that PS3.4 Table B.5-1
    still lists, and the DICOS and DICONDE Storage SOP Classes registered in
    PS3.6: an SCP that supports "all storage" should take them too.
    """
    pynetdicom = peers.require_pynetdicom()
    ours = {cx.abstract_syntax for cx in presentation.AllStoragePresentationContexts}
    theirs = {cx.abstract_syntax for cx in pynetdicom.AllStoragePresentationContexts}
    assert theirs <= ours
    assert set(sop_class.STORAGE_SOP_CLASSES) == ours
    for uid in ours - theirs:
        assert uid.is_retired or uid.startswith(
            ("1.2.840.10008.5.1.4.1.1.501.", "1.2.840.10008.5.1.4.1.1.601.")
        ), uid


def test_storage_list_leaves_room_for_more_contexts() -> None:
    storage = presentation.StoragePresentationContexts
    assert len(storage) == 120  # 128 contexts at most per association (PS3.8 9.3.2.2)
    uids = {cx.abstract_syntax for cx in storage}
    assert {sop_class.CTImageStorage, sop_class.MRImageStorage} <= uids
    assert uids <= set(sop_class.STORAGE_SOP_CLASSES)


def test_query_retrieve_list_is_find_move_get() -> None:
    uids = {cx.abstract_syntax for cx in presentation.QueryRetrievePresentationContexts}
    expected = (
        sop_class.QR_FIND_SOP_CLASSES + sop_class.QR_MOVE_SOP_CLASSES + sop_class.QR_GET_SOP_CLASSES
    )
    assert uids == set(expected)


def test_pynetdicom_name_for_defined_procedure_list() -> None:
    assert (
        presentation.DefinedProcedureProtocolPresentationContexts
        is presentation.DefinedProcedurePresentationContexts
    )
