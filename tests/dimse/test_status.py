"""Status categories (PS3.7 Annex C) and per-service tables (PS3.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicomwire.dimse.status import (
    STATUS_TABLES,
    Category,
    StatusTable,
    category,
    is_known,
    lookup,
)

SERVICES = {
    "general", "verification", "storage", "qr_find", "qr_get", "qr_move",
    "modality_worklist", "relevant_patient", "substance_administration", "non_patient",
    "hanging_protocol", "defined_procedure", "color_palette", "implant_template",
}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0x0000, Category.SUCCESS),
        (0xFF00, Category.PENDING),
        (0xFF01, Category.PENDING),
        (0xFE00, Category.CANCEL),
        (0x0001, Category.WARNING),
        (0x0107, Category.WARNING),
        (0x0116, Category.WARNING),
        (0xB000, Category.WARNING),
        (0xB007, Category.WARNING),
        (0xBFFF, Category.WARNING),
        (0xA700, Category.FAILURE),
        (0xA9FF, Category.FAILURE),
        (0xC000, Category.FAILURE),
        (0xC211, Category.FAILURE),
        (0x0110, Category.FAILURE),
        (0x0122, Category.FAILURE),
        (0x0211, Category.FAILURE),
        (0x0002, Category.FAILURE),
        (0xFE01, Category.FAILURE),
        (0xFF02, Category.FAILURE),
    ],
)
def test_category(code: int, expected: Category) -> None:
    assert category(code) is expected


def test_category_values_are_the_names_users_compare_with() -> None:
    assert [c.value for c in Category] == ["Success", "Warning", "Failure", "Cancel", "Pending"]
    as_text: str = Category.SUCCESS  # a str Enum: compares equal to the plain string
    assert as_text == "Success"


@pytest.mark.parametrize("code", [-1, 0x10000])
def test_category_rejects_values_outside_us(code: int) -> None:
    with pytest.raises(ValueError):
        category(code)


def test_every_service_has_a_table() -> None:
    assert set(STATUS_TABLES) == SERVICES


@pytest.mark.parametrize(
    ("service", "code", "cat", "words"),
    [
        ("verification", 0x0000, Category.SUCCESS, "Success"),
        ("verification", 0x0122, Category.FAILURE, "SOP Class not supported"),
        ("storage", 0xB000, Category.WARNING, "coercion"),
        ("storage", 0xB006, Category.WARNING, "discarded"),
        ("storage", 0xB007, Category.WARNING, "does not match"),
        ("storage", 0x0117, Category.FAILURE, "invalid SOP Instance"),
        ("storage", 0x0124, Category.FAILURE, "not authorized"),
        ("storage", 0xA700, Category.FAILURE, "out of resources"),
        ("storage", 0xA7FF, Category.FAILURE, "out of resources"),
        ("storage", 0xA942, Category.FAILURE, "does not match SOP Class"),
        ("storage", 0xC123, Category.FAILURE, "cannot understand"),
        ("storage", 0xC001, Category.FAILURE, "no Status"),
        ("storage", 0xC002, Category.FAILURE, "invalid status"),
        ("storage", 0xC210, Category.FAILURE, "decoded"),
        ("storage", 0xC211, Category.FAILURE, "exception"),
        ("qr_find", 0xFF00, Category.PENDING, "continuing"),
        ("qr_find", 0xFF01, Category.PENDING, "Optional Keys"),
        ("qr_find", 0xFE00, Category.CANCEL, "Cancel"),
        ("qr_find", 0xA700, Category.FAILURE, "out of resources"),
        ("qr_find", 0xA900, Category.FAILURE, "Identifier"),
        ("qr_find", 0xC310, Category.FAILURE, "decoded"),
        ("qr_find", 0xC311, Category.FAILURE, "exception"),
        ("qr_find", 0xC312, Category.FAILURE, "yielded"),
        ("qr_find", 0xC999, Category.FAILURE, "unable to process"),
        ("qr_get", 0xA701, Category.FAILURE, "number of matches"),
        ("qr_get", 0xA702, Category.FAILURE, "sub-operations"),
        ("qr_get", 0xAA00, Category.FAILURE, "frames"),
        ("qr_get", 0xAA04, Category.FAILURE, "invalid request"),
        ("qr_get", 0xB000, Category.WARNING, "one or more failures"),
        ("qr_get", 0xFF00, Category.PENDING, "sub-operations"),
        ("qr_get", 0xC413, Category.FAILURE, "number of sub-operations"),
        ("qr_move", 0xA801, Category.FAILURE, "Move Destination unknown"),
        ("qr_move", 0xC515, Category.FAILURE, "destination"),
        ("modality_worklist", 0xFF01, Category.PENDING, "Optional Keys"),
        ("relevant_patient", 0xC100, Category.FAILURE, "more than one match"),
        ("relevant_patient", 0xC200, Category.FAILURE, "template"),
        ("relevant_patient", 0xC000, Category.FAILURE, "unable to process"),
        ("substance_administration", 0xA900, Category.FAILURE, "Identifier"),
        ("non_patient", 0xA700, Category.FAILURE, "out of resources"),
        ("hanging_protocol", 0xA801, Category.FAILURE, "Move Destination"),
        ("color_palette", 0xFF01, Category.PENDING, "Optional Keys"),
        ("implant_template", 0xA702, Category.FAILURE, "sub-operations"),
        ("defined_procedure", 0x0000, Category.SUCCESS, "matching is complete"),
        ("general", 0x0213, Category.FAILURE, "resource limitation"),
        ("general", 0x0107, Category.WARNING, "Attribute list"),
    ],
)
def test_lookup(service: str, code: int, cat: Category, words: str) -> None:
    hit = lookup(service, code)
    assert hit is not None
    assert hit[0] is cat
    assert words.lower() in hit[1].lower()
    assert is_known(service, code)


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("verification", 0xA700),  # storage-only meaning
        ("storage", 0xFF00 + 2),
        ("qr_find", 0xA801),  # only C-MOVE has a Move Destination
        ("qr_get", 0xA801),
        ("relevant_patient", 0xC123),  # Q.2-1 lists single Cxxx codes, not the range
        ("non_patient", 0xA7FF),
        ("non_patient", 0xB000),
    ],
)
def test_unknown_codes(service: str, code: int) -> None:
    assert lookup(service, code) is None
    assert not is_known(service, code)


def test_general_statuses_are_known_to_every_service() -> None:
    for service in SERVICES:
        assert lookup(service, 0x0213) == STATUS_TABLES["general"][0x0213]
        assert is_known(service, 0x0110)


def test_service_meaning_wins_over_general() -> None:
    assert lookup("qr_move", 0x0000) == (
        Category.SUCCESS, "Success: sub-operations complete, no failures or warnings")


def test_unknown_service_is_an_error() -> None:
    with pytest.raises(KeyError):
        lookup("printing", 0)


@given(st.sampled_from(sorted(SERVICES)), st.integers(0, 0xFFFF))
def test_table_categories_follow_the_general_rule(service: str, code: int) -> None:
    hit = lookup(service, code)
    assert hit is None or hit[0] is category(code)


def test_status_table_is_a_mapping_with_ranges() -> None:
    table = StatusTable({0xC010: "special", 0x0000: "ok"}, [(0xC000, 0xC0FF, "range")])
    assert table[0xC010] == (Category.FAILURE, "special")
    assert table[0xC0FF] == (Category.FAILURE, "range")
    assert table.get(0xC100) is None and table.get("x") is None  # type: ignore[call-overload]
    not_a_code: object = "x"
    assert 0xC005 in table and 0xC100 not in table and not_a_code not in table
    assert len(table) == 257
    assert sorted(table) == [0x0000, *range(0xC000, 0xC100)]


def test_storage_table_size_counts_the_ranges() -> None:
    # Success and 3 warnings, 6 refusals, then the three ranges (which hold our Cxxx codes).
    table = STATUS_TABLES["storage"]
    assert len(table) == len(set(table))
    assert {0xA700, 0xA7FF, 0xA900, 0xC000, 0xCFFF} <= set(table)
    assert len(table) == 4 + 6 + 256 + 256 + 4096
