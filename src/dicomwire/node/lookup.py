"""The SQL of C-FIND and retrieve: one statement per page of matches, one per aggregate.

Matches are read in pages by keyset (``id > last ORDER BY id LIMIT n``), each
page in its own short transaction, so a slow peer never holds a snapshot or
a connection open while it reads responses. The computed attributes of a
page's entities come from one grouped query per kind (PS3.4 C.3.4): never
one query per match.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset
from sqlalchemy import Connection, Row, Select, distinct, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from .catalog import COMPUTED, ENTITIES, INDEXED
from .identifiers import element_text
from .matching import combined_range, sql_condition
from .query import KeySpec, Plan
from .schema import ENTITY_TABLES, instances, patients, series, studies

PAGE = 500
_PARENT = {
    "instance": ("series", instances.c.series_fk),
    "series": ("study", series.c.study_fk),
    "study": ("patient", studies.c.patient_fk),
}


def _joined(entities: Sequence[str]) -> FromClause:
    """The deepest entity's table joined to each one above it."""
    deepest = max(entities, key=ENTITIES.index)
    joined: FromClause = ENTITY_TABLES[deepest]
    entity = deepest
    while entity in _PARENT and _PARENT[entity][0] in entities:
        parent, foreign_key = _PARENT[entity]
        joined = joined.join(ENTITY_TABLES[parent], foreign_key == ENTITY_TABLES[parent].c.id)
        entity = parent
    return joined


def find_statement(plan: Plan, identifier: Dataset, combined_datetime: bool) -> Select[Any]:
    """Every column of the joined entities, filtered by the SQL-matchable keys."""
    columns = [
        column.label(f"{entity}__pk" if column.name == "id" else column.name)
        for entity in plan.entities
        for column in ENTITY_TABLES[entity].c
    ]
    statement = select(*columns).select_from(_joined(plan.entities))
    for condition in _conditions(plan, identifier, combined_datetime):
        statement = statement.where(condition)
    return statement


def _conditions(
    plan: Plan, identifier: Dataset, combined_datetime: bool
) -> list[ColumnElement[bool]]:
    indexed = {s.attribute.keyword: s for s in plan.keys if s.attribute and s.source == "indexed"}
    combined = None
    if combined_datetime and "StudyDate" in indexed and "StudyTime" in indexed:
        combined = combined_range(
            element_text(identifier, indexed["StudyDate"].tag),
            element_text(identifier, indexed["StudyTime"].tag),
        )
    out = []
    for spec in plan.keys:
        condition = None
        if spec.attribute is not None and spec.source == "indexed":
            if combined is not None and spec.attribute.keyword in ("StudyDate", "StudyTime"):
                continue
            column = ENTITY_TABLES[spec.attribute.entity].c[spec.attribute.match_column]
            condition = sql_condition(spec.key, column, unknown_matches=spec.attribute.required)
        elif spec.source == "computed":
            condition = _computed_condition(spec)
        if condition is not None:
            out.append(condition)
    if combined is not None:
        matched = sql_condition(combined, studies.c.study_datetime_m, unknown_matches=True)
        out += [matched] if matched is not None else []
    return out


def _computed_condition(spec: KeySpec) -> ColumnElement[bool] | None:
    """ModalitiesInStudy and SOPClassesInStudy match in SQL: some series (instance) has it."""
    if spec.key.is_universal or spec.computed not in ("ModalitiesInStudy", "SOPClassesInStudy"):
        return None
    other = series.alias()
    query = select(other.c.id).where(other.c.study_fk == studies.c.id)
    column = other.c.modality
    if spec.computed == "SOPClassesInStudy":
        instance = instances.alias()
        query = query.join(instance, instance.c.series_fk == other.c.id)
        column = instance.c.sop_class_uid
    if spec.key.kind == "empty":
        return ~query.where(column != "").exists()
    condition = sql_condition(spec.key, column)
    return query.where(condition).exists() if condition is not None else None


def page(conn: Connection, statement: Select[Any], plan: Plan, after: int) -> list[Row[Any]]:
    """The next page of matches after primary key ``after`` of the level's entity."""
    key = ENTITY_TABLES[plan.entity].c.id
    return list(conn.execute(statement.where(key > after).order_by(key).limit(PAGE)).all())


def computed_values(
    conn: Connection, plan: Plan, rows: Sequence[Row[Any]]
) -> dict[str, dict[int, Any]]:
    """Each requested computed attribute of the page's entities, by entity primary key."""
    wanted = {spec.computed for spec in plan.keys if spec.source == "computed" and spec.computed}
    out: dict[str, dict[int, Any]] = {}
    if not rows or not wanted:
        return out
    ids = {
        entity: sorted({row._mapping[f"{entity}__pk"] for row in rows}) for entity in plan.entities
    }
    if wanted & {
        "NumberOfPatientRelatedStudies",
        "NumberOfPatientRelatedSeries",
        "NumberOfPatientRelatedInstances",
    }:
        out.update(_patient_counts(conn, ids["patient"]))
    if wanted & {"NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"}:
        out.update(_study_counts(conn, ids["study"]))
    if "ModalitiesInStudy" in wanted:
        query = select(series.c.study_fk, series.c.modality).where(
            series.c.study_fk.in_(ids["study"])
        )
        out["ModalitiesInStudy"] = _value_lists(conn, query.distinct())
    if "SOPClassesInStudy" in wanted:
        query = (
            select(series.c.study_fk, instances.c.sop_class_uid)
            .select_from(series.join(instances, instances.c.series_fk == series.c.id))
            .where(series.c.study_fk.in_(ids["study"]))
        )
        out["SOPClassesInStudy"] = _value_lists(conn, query.distinct())
    if "NumberOfSeriesRelatedInstances" in wanted:
        query = (
            select(instances.c.series_fk, func.count(instances.c.id))
            .where(instances.c.series_fk.in_(ids["series"]))
            .group_by(instances.c.series_fk)
        )
        out["NumberOfSeriesRelatedInstances"] = _counts(conn, query)
    return out


def _patient_counts(conn: Connection, ids: list[int]) -> dict[str, dict[int, Any]]:
    query = (
        select(
            studies.c.patient_fk,
            func.count(distinct(studies.c.id)),
            func.count(distinct(series.c.id)),
            func.count(instances.c.id),
        )
        .select_from(
            studies.outerjoin(series, series.c.study_fk == studies.c.id).outerjoin(
                instances, instances.c.series_fk == series.c.id
            )
        )
        .where(studies.c.patient_fk.in_(ids))
        .group_by(studies.c.patient_fk)
    )
    rows = conn.execute(query).all()
    names = (
        "NumberOfPatientRelatedStudies",
        "NumberOfPatientRelatedSeries",
        "NumberOfPatientRelatedInstances",
    )
    return {name: {row[0]: str(row[i + 1]) for row in rows} for i, name in enumerate(names)}


def _study_counts(conn: Connection, ids: list[int]) -> dict[str, dict[int, Any]]:
    query = (
        select(series.c.study_fk, func.count(distinct(series.c.id)), func.count(instances.c.id))
        .select_from(series.outerjoin(instances, instances.c.series_fk == series.c.id))
        .where(series.c.study_fk.in_(ids))
        .group_by(series.c.study_fk)
    )
    rows = conn.execute(query).all()
    return {
        "NumberOfStudyRelatedSeries": {row[0]: str(row[1]) for row in rows},
        "NumberOfStudyRelatedInstances": {row[0]: str(row[2]) for row in rows},
    }


def _counts(conn: Connection, query: Select[Any]) -> dict[int, Any]:
    return {row[0]: str(row[1]) for row in conn.execute(query).all()}


def _value_lists(conn: Connection, query: Select[Any]) -> dict[int, Any]:
    out: dict[int, list[str]] = defaultdict(list)
    for owner, value in conn.execute(query).all():
        if value:
            out[owner].append(value)
    return {owner: sorted(values) for owner, values in out.items()}


def header_paths(conn: Connection, plan: Plan, rows: Sequence[Row[Any]]) -> dict[int, str]:
    """For each matched entity, the path of one of its instances (its lowest id)."""
    if not rows:
        return {}
    if plan.entity == "instance":
        return {row._mapping["instance__pk"]: row._mapping["path"] for row in rows}
    ids = sorted({row._mapping[f"{plan.entity}__pk"] for row in rows})
    owner = {
        "series": instances.c.series_fk,
        "study": series.c.study_fk,
        "patient": studies.c.patient_fk,
    }[plan.entity]
    joined = _joined(["patient", "study", "series", "instance"])
    first = (
        select(func.min(instances.c.id)).select_from(joined).where(owner.in_(ids)).group_by(owner)
    )
    query = select(owner, instances.c.path).select_from(joined).where(instances.c.id.in_(first))
    return {row[0]: row[1] for row in conn.execute(query).all()}


def row_values(row: Row[Any], plan: Plan, computed: dict[str, dict[int, Any]]) -> dict[str, Any]:
    """A match's column values and computed attributes, by column name or keyword."""
    values: dict[str, Any] = dict(row._mapping)
    for name, by_owner in computed.items():
        entity = COMPUTED[name][0]
        empty: Any = [] if name in ("ModalitiesInStudy", "SOPClassesInStudy") else "0"
        values[name] = by_owner.get(values[f"{entity}__pk"], empty)
    return values


def retrieve_statement(uids: dict[str, list[str]]) -> Select[Any]:
    """The instances under the entities the Unique Keys name (PS3.4 C.4.2.2.1)."""
    statement = stored_instance_select()
    for keyword, values in uids.items():
        attribute = INDEXED[keyword]
        statement = statement.where(ENTITY_TABLES[attribute.entity].c[attribute.column].in_(values))
    return statement.order_by(studies.c.id, series.c.id, instances.c.id)


def stored_instance_select() -> Select[Any]:
    """What a :class:`~dicomwire.node.records.StoredInstance` is made of, joined."""
    return select(
        instances.c.sop_instance_uid,
        instances.c.sop_class_uid,
        instances.c.transfer_syntax_uid,
        instances.c.path,
        patients.c.patient_id,
        studies.c.study_instance_uid,
        series.c.series_instance_uid,
    ).select_from(_joined(list(ENTITIES)))
