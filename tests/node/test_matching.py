"""PS3.4 C.2.2.2 matching, rule by rule, in Python and in SQL on SQLite and PostgreSQL.

Every rule is checked through :func:`check`, which runs the Python predicate
and the compiled SQL condition over the same stored values and requires both
to give the expected matches; a property test does the same on generated
keys and values.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, create_engine, select
from sqlalchemy.pool import StaticPool

from dicomwire.node.identifiers import answer, match_dataset
from dicomwire.node.matching import (
    combined_range,
    glob_pattern,
    like_pattern,
    match_value,
    normalize,
    parse_key,
    sql_condition,
    stored_datetime,
)
from dicomwire.node.schema import TEXT

_probe_metadata = MetaData()
PROBE = Table(
    "probe",
    _probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("raw", Text),
    Column("norm", TEXT),
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine("sqlite://", poolclass=StaticPool)
        _probe_metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    name = f"m_{uuid.uuid4().hex[:12]}"
    server.admin(f"CREATE DATABASE {name}")
    engine = create_engine(server.url(name))
    _probe_metadata.create_all(engine)
    yield engine
    engine.dispose()
    server.admin(f"DROP DATABASE {name} WITH (FORCE)")


def sql_matches(
    engine: Engine, vr: str, key: str | None, stored: Sequence[str], unknown_matches: bool = False
) -> set[str]:
    """The stored values the SQL condition selects, each stored normalized as the index does."""
    condition = sql_condition(parse_key(vr, key), PROBE.c.norm, unknown_matches=unknown_matches)
    with engine.begin() as conn:
        conn.execute(PROBE.delete())
        if stored:  # by position: PostgreSQL text cannot hold the NULs of some raw values
            conn.execute(
                PROBE.insert(), [{"id": i, "norm": normalize(vr, s)} for i, s in enumerate(stored)]
            )
        query = select(PROBE.c.id)
        if condition is not None:
            query = query.where(condition)
        return {stored[row.id] for row in conn.execute(query)}


def check(
    engine: Engine,
    vr: str,
    key: str | None,
    stored: Sequence[str],
    expected: set[str],
    unknown_matches: bool = False,
) -> None:
    in_python = {s for s in stored if match_value(vr, key, s, unknown_matches=unknown_matches)}
    in_sql = sql_matches(engine, vr, key, stored, unknown_matches)
    assert in_python == expected, f"Python: {key!r} on {vr}"
    assert in_sql == expected, f"SQL: {key!r} on {vr}"


# -- Universal matching (C.2.2.2.3) ---------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   ", "*", "**"])
def test_universal_matching_matches_everything_even_empty(engine: Engine, key: str | None) -> None:
    stored = ["DOE", "", "SMITH"]
    check(engine, "LO", key, stored, set(stored))


def test_universal_matching_on_dates_and_uids(engine: Engine) -> None:
    check(engine, "DA", "", ["20200101", ""], {"20200101", ""})
    check(engine, "UI", "", ["1.2.3", ""], {"1.2.3", ""})
    check(engine, "DA", "-", ["20200101"], {"20200101"})


# -- Single value matching (C.2.2.2.1) ------------------------------------------------------


def test_single_value_is_exact_and_case_sensitive(engine: Engine) -> None:
    check(engine, "LO", "Doe", ["Doe", "doe", "DOE", "Doe2", ""], {"Doe"})
    check(engine, "CS", "CT", ["CT", "ct", "CTX"], {"CT"})


def test_single_value_of_a_person_name_ignores_case(engine: Engine) -> None:
    check(
        engine,
        "PN",
        "doe^john",
        ["DOE^JOHN", "Doe^John", "Doe^Jon", "Doe"],
        {"DOE^JOHN", "Doe^John"},
    )


def test_insignificant_spaces_per_vr(engine: Engine) -> None:
    check(engine, "LO", " ID1 ", ["ID1", " ID1", "ID1  ", "ID 1"], {"ID1", " ID1", "ID1  "})
    check(engine, "CS", "CT ", ["CT", " CT "], {"CT", " CT "})
    # ST keeps leading spaces: only trailing ones are padding.
    check(engine, "ST", "note", ["note", " note", "note "], {"note", "note "})
    check(engine, "UI", "1.2.3", ["1.2.3\0", "1.2.3", "1.2.30"], {"1.2.3\0", "1.2.3"})


def test_numbers_compare_as_numbers(engine: Engine) -> None:
    check(engine, "IS", "5", [" 5", "05", "+5", "50", ""], {" 5", "05", "+5"})
    check(engine, "DS", "1.5", ["1.50", "1.5", "15", " 1.5e0"], {"1.50", "1.5", " 1.5e0"})


def test_single_date_value(engine: Engine) -> None:
    check(
        engine,
        "DA",
        "20200102",
        ["20200101", "20200102", "2020.01.02", ""],
        {"20200102", "2020.01.02"},
    )


# -- List of UID matching (C.2.2.2.2) ---------------------------------------------------


def test_list_of_uids_matches_any_of_them(engine: Engine) -> None:
    stored = ["1.2.3", "1.2.4", "1.2.5", "1.2.34"]
    check(engine, "UI", "1.2.3\\1.2.5", stored, {"1.2.3", "1.2.5"})


def test_wild_cards_are_literal_in_uids_numbers_and_dates(engine: Engine) -> None:
    check(engine, "UI", "1.2.*", ["1.2.3", "1.2.*"], {"1.2.*"})
    check(engine, "IS", "1?", ["12", "1?"], {"1?"})
    check(engine, "DA", "2020*", ["20200101", "2020*"], {"2020*"})


# -- Wild card matching (C.2.2.2.4) -----------------------------------------------------------


def test_star_matches_any_sequence_including_none(engine: Engine) -> None:
    stored = ["DOE", "DOEX", "DOE^JOHN", "XDOE", "", "DO"]
    check(engine, "LO", "DOE*", stored, {"DOE", "DOEX", "DOE^JOHN"})
    check(engine, "LO", "*OE*", stored, {"DOE", "DOEX", "DOE^JOHN", "XDOE"})


def test_question_mark_matches_exactly_one_character(engine: Engine) -> None:
    stored = ["DOE", "DAE", "DE", "DOOE", "DÖE"]
    check(engine, "SH", "D?E", stored, {"DOE", "DAE", "DÖE"})


def test_wild_cards_are_case_sensitive_except_for_person_names(engine: Engine) -> None:
    check(engine, "LO", "do*", ["DOE", "doe"], {"doe"})
    check(engine, "PN", "do*", ["DOE^JOHN", "doe", "Smith"], {"DOE^JOHN", "doe"})


def test_sql_specials_in_values_are_literal(engine: Engine) -> None:
    stored = ["50%", "50x", "a_b", "axb", "[x]", "x", "a\\b"[:1] + "b", "100%_[]"]
    check(engine, "LO", "50%*", stored, {"50%"})
    check(engine, "LO", "a_*", stored, {"a_b"})
    check(engine, "LO", "[x]*", stored, {"[x]"})
    check(engine, "LO", "*%_[]", stored, {"100%_[]"})
    check(engine, "LO", "?_?", stored, {"a_b"})


def test_patterns_escape_their_dialect_specials() -> None:
    tokens = parse_key("LO", "a%_[*?").terms[0].tokens  # type: ignore[union-attr]
    assert like_pattern(tokens) == "a\\%\\_[%_"
    assert glob_pattern(tokens) == "a%_[[]*?"


# -- Range matching (C.2.2.2.5) ----------------------------------------------------------------

DATES = ["20191231", "20200101", "20200615", "20201231", "20210101", ""]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("20200101-20201231", {"20200101", "20200615", "20201231"}),
        ("-20200615", {"20191231", "20200101", "20200615"}),
        ("20200615-", {"20200615", "20201231", "20210101"}),
        ("2020-2020", {"20200101", "20200615", "20201231"}),  # partial dates: whole years
        ("20201231-20200101", set()),  # an empty range
    ],
)
def test_date_ranges(engine: Engine, key: str, expected: set[str]) -> None:
    check(engine, "DA", key, DATES, expected)


def test_time_ranges_with_fractions_and_partial_times(engine: Engine) -> None:
    stored = ["0959", "1000", "103000.5", "1030", "105959.999999", "11", "235959", ""]
    check(engine, "TM", "10-1030", stored, {"1000", "103000.5", "1030"})
    check(engine, "TM", "1030-", stored, {"103000.5", "1030", "105959.999999", "11", "235959"})
    check(engine, "TM", "-10", stored, {"0959", "1000", "103000.5", "1030", "105959.999999"})
    check(engine, "TM", "103000.4-103000.6", stored, {"103000.5"})


def test_single_partial_time_matches_its_interval(engine: Engine) -> None:
    stored = ["1030", "103015", "103059.9", "1031", "10:30:20"]
    check(engine, "TM", "1030", stored, {"1030", "103015", "103059.9", "10:30:20"})
    check(engine, "TM", "103015", stored, {"103015"})


def test_datetime_ranges_and_offsets(engine: Engine) -> None:
    stored = ["20200101120000", "20200101130000+0100", "2020010114", "20200102", ""]
    # 13:00+01:00 is 12:00 UTC.
    check(
        engine,
        "DT",
        "20200101120000-20200101123000",
        stored,
        {"20200101120000", "20200101130000+0100"},
    )
    check(engine, "DT", "2020010113-", stored, {"2020010114", "20200102"})
    check(
        engine, "DT", "-20200101", stored, {"20200101120000", "20200101130000+0100", "2020010114"}
    )
    # A minus sign and four digits after a time is an offset, not a range.
    check(engine, "DT", "20200101070000-0500", stored, {"20200101120000", "20200101130000+0100"})


def test_combined_date_and_time_range(engine: Engine) -> None:
    """C.2.2.2.5.1: 5 July 10:00 to 7 July 18:00, not 10:00-18:00 on each day."""
    rows = [
        ("20060705", "0900"),
        ("20060705", "1100"),
        ("20060706", "0300"),
        ("20060707", "1759"),
        ("20060707", "1900"),
        ("20060706", ""),
    ]
    key = combined_range("20060705-20060707", "1000-1800")
    assert key is not None
    stored = [stored_datetime(d, t) for d, t in rows]
    expected = {stored_datetime(*rows[i]) for i in (1, 2, 3, 5)}
    with engine.begin() as conn:
        conn.execute(PROBE.delete())
        conn.execute(PROBE.insert(), [{"raw": s, "norm": s} for s in stored])
        condition = sql_condition(key, PROBE.c.norm)
        assert condition is not None
        assert {r.raw for r in conn.execute(select(PROBE.c.raw).where(condition))} == expected
    assert combined_range("20060705-", "") is None  # nothing to combine: matched separately
    assert combined_range("", "1000-") is None


# -- Empty value matching (C.2.2.2.7) and unknown values (C.2.2.1.2) --------------------------


@pytest.mark.parametrize("vr", ["LO", "PN", "DA", "TM", "UI", "IS", "CS"])
def test_two_quotation_marks_match_only_empty_values(engine: Engine, vr: str) -> None:
    value = {
        "LO": "X",
        "PN": "A^B",
        "DA": "20200101",
        "TM": "1200",
        "UI": "1.2",
        "IS": "3",
        "CS": "CT",
    }[vr]
    check(engine, vr, '""', [value, ""], {""})
    check(engine, vr, '""', [value, ""], {""}, unknown_matches=True)


def test_unknown_values_of_required_keys_match_any_key(engine: Engine) -> None:
    check(
        engine,
        "DA",
        "20200101-20200131",
        ["20200115", "20200301", ""],
        {"20200115", ""},
        unknown_matches=True,
    )
    check(engine, "PN", "DOE*", ["DOE", "SMITH", ""], {"DOE", ""}, unknown_matches=True)
    check(engine, "PN", "DOE*", ["DOE", "SMITH", ""], {"DOE"}, unknown_matches=False)


# -- Several values, person names, stored lists ------------------------------------------------


def test_several_key_values_match_any_of_them(engine: Engine) -> None:
    check(engine, "CS", "CT\\MR", ["CT", "MR", "US"], {"CT", "MR"})
    check(engine, "LO", "A*\\B?", ["AX", "BX", "BXX", "C"], {"AX", "BX"})
    check(
        engine,
        "DA",
        "-20200101\\20201231-",
        DATES,
        {"20191231", "20200101", "20201231", "20210101"},
    )


def test_person_name_components_and_groups(engine: Engine) -> None:
    stored = ["Doe^John", "Doe^John^^^", "Doe^John=", "Yamada^Tarou=山田^太郎", "Doe^Johnny"]
    check(engine, "PN", "DOE^JOHN", stored, {"Doe^John", "Doe^John^^^", "Doe^John="})
    check(engine, "PN", "Yamada^Tarou", stored, {"Yamada^Tarou=山田^太郎"})
    check(engine, "PN", "=山田^太郎", stored, set())
    check(engine, "PN", "*=山田*", stored, {"Yamada^Tarou=山田^太郎"})
    check(engine, "PN", "Doe^J*", stored, {"Doe^John", "Doe^John^^^", "Doe^John=", "Doe^Johnny"})


def test_a_stored_list_matches_if_any_value_does() -> None:
    assert match_value("CS", "PRIMARY", "ORIGINAL\\PRIMARY")
    assert match_value("CS", "PRIMARY", ["ORIGINAL", "PRIMARY"])
    assert not match_value("CS", "SECONDARY", "ORIGINAL\\PRIMARY")


# -- Agreement of SQL and Python on generated values ----------------------------------------

_TEXT = st.text(alphabet="aAb%_[]^= \u00e9", max_size=4)
_KEY_TEXT = st.text(alphabet="aAb%_[]^= \u00e9*?", max_size=4)
_DATE = st.sampled_from(["20200101", "20200229", "20201231", "2020", "202006", "", "19991231"])
_TIME = st.sampled_from(["00", "10", "1030", "103000", "103000.5", "235959.999999", "", "10:30"])


def _temporal_key(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(values, st.tuples(values, values).map("-".join))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.parametrize("vr", ["LO", "PN", "CS", "DA", "TM", "IS", "UI"])
def test_sql_and_python_agree(engine: Engine, vr: str, data: st.DataObject) -> None:
    if vr == "DA":
        key, values = data.draw(_temporal_key(_DATE)), st.lists(_DATE, max_size=6)
    elif vr == "TM":
        key, values = data.draw(_temporal_key(_TIME)), st.lists(_TIME, max_size=6)
    elif vr == "IS":
        key, values = (
            data.draw(st.sampled_from(["1", " 01", "2", "", '""'])),
            st.lists(st.sampled_from(["1", "01", "2", "", "x"]), max_size=5),
        )
    elif vr == "UI":
        key = "\\".join(data.draw(st.lists(st.sampled_from(["1.2", "1.3", "1.2.3"]), max_size=3)))
        values = st.lists(st.sampled_from(["1.2", "1.3", "1.2.3", "1.4", ""]), max_size=5)
    else:
        key = "\\".join(data.draw(st.lists(_KEY_TEXT, min_size=1, max_size=2)))
        values = st.lists(_TEXT, max_size=6)
    stored = data.draw(values.map(lambda v: sorted(set(v))))
    unknown = data.draw(st.booleans())
    expected = {s for s in stored if match_value(vr, key, s, unknown_matches=unknown)}
    assert sql_matches(engine, vr, key, stored, unknown) == expected


# -- Sequence matching (C.2.2.2.6) -------------------------------------------------------------


def _step(modality: str, date: str, aet: str = "CT1") -> Dataset:
    item = Dataset()
    item.Modality = modality
    item.ScheduledProcedureStepStartDate = date
    item.ScheduledStationAETitle = aet
    return item


def _worklist_item(*steps: Dataset) -> Dataset:
    ds = Dataset()
    ds.PatientName = "Doe^John"
    ds.ScheduledProcedureStepSequence = list(steps)
    return ds


def _sequence_key(**keys: str) -> Dataset:
    item = Dataset()
    for keyword, value in keys.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ranges are not valid DA values
            setattr(item, keyword, value)
    query = Dataset()
    query.ScheduledProcedureStepSequence = [item]
    return query


def test_sequence_matching_needs_one_item_matching_every_item_key() -> None:
    stored = _worklist_item(_step("CT", "20200101"), _step("MR", "20200105"))
    assert match_dataset(
        _sequence_key(Modality="MR", ScheduledProcedureStepStartDate="20200105"), stored
    )
    assert (
        match_dataset(
            _sequence_key(Modality="MR", ScheduledProcedureStepStartDate="2020-20200103"), stored
        )
        is False
    )
    assert match_dataset(
        _sequence_key(Modality="C*", ScheduledProcedureStepStartDate="20200101-"), stored
    )


def test_sequence_matching_is_recursive() -> None:
    inner = Dataset()
    inner.CodeValue = "X1"
    step = _step("CT", "20200101")
    step.ScheduledProtocolCodeSequence = [inner]
    stored = _worklist_item(step)
    code = Dataset()
    code.CodeValue = "X1"
    key = _sequence_key(Modality="CT")
    key.ScheduledProcedureStepSequence[0].ScheduledProtocolCodeSequence = [code]
    assert match_dataset(key, stored)
    code.CodeValue = "X2"
    assert not match_dataset(key, stored)


@pytest.mark.parametrize("items", [0, 1])
def test_an_empty_sequence_key_is_universal_and_returns_the_whole_sequence(items: int) -> None:
    stored = _worklist_item(_step("CT", "20200101"), _step("MR", "20200105"))
    key = Dataset()
    key.ScheduledProcedureStepSequence = [Dataset() for _ in range(items)]
    assert match_dataset(key, stored)
    assert match_dataset(key, Dataset())  # even without the sequence
    assert len(answer(key, stored).ScheduledProcedureStepSequence) == 2


def test_the_answer_holds_matching_items_with_the_requested_keys_only() -> None:
    stored = _worklist_item(_step("CT", "20200101"), _step("MR", "20200105"))
    key = _sequence_key(Modality="MR", ScheduledStationAETitle="")
    key.PatientName = ""
    response = answer(key, stored)
    assert response.PatientName == "Doe^John"
    [item] = response.ScheduledProcedureStepSequence
    assert item.Modality == "MR" and item.ScheduledStationAETitle == "CT1"
    assert "ScheduledProcedureStepStartDate" not in item


def test_return_keys_in_a_sequence_item_do_not_filter() -> None:
    key = _sequence_key(ScheduledStationAETitle="")
    assert match_dataset(key, Dataset())
    assert match_dataset(key, _worklist_item(_step("CT", "20200101")))


def test_empty_value_matching_works_on_undecoded_numbers() -> None:
    """``""`` is no valid IS: the raw bytes of a received key are read as they are."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    key = Dataset()
    key[Tag("SeriesNumber")] = RawDataElement(Tag("SeriesNumber"), "IS", 2, b'""', 0, False, True)
    empty, numbered = Dataset(), Dataset()
    numbered.SeriesNumber = "4"
    assert match_dataset(key, empty)
    assert not match_dataset(key, numbered)
