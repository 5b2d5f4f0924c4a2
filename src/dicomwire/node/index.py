"""The node's index: one facade over SQLite (default) and PostgreSQL.

Thread-safe: every call takes its own connection and transaction from the
engine's pool, so the node calls it from one thread per association.
Several processes may share one PostgreSQL index (and SQLite file): unique
keys are inserted with ``ON CONFLICT DO NOTHING`` and then read back, so
concurrent stores of one study leave one study row (see :meth:`Index.add`).

Non-indexed return keys are read from the stored files under ``data_dir``
(``pydicom.dcmread(path, stop_before_pixels=True)``); see :meth:`Index.find`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID
from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    Connection,
    Row,
    Table,
    bindparam,
    case,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..sop_class import SOP_CLASS_NAMES
from . import lookup
from .catalog import FIND_MODELS
from .db import (
    HotStatement,
    insert_ignoring_conflict,
    lock_for_migration,
    make_engine,
    read_transaction,
    write_transaction,
)
from .identifiers import answer, match_dataset, with_charset
from .matching import stored_datetime
from .query import (
    Plan,
    QueryError,
    build_answer,
    needs_headers,
    plan_find,
    python_keys,
    query_level,
    unique_key_values,
)
from .records import InstanceRecord, MissingAttributes, StoredInstance
from .records import record_from as _record_from
from .schema import (
    LATEST_VERSION,
    instances,
    migrate,
    patients,
    series,
    studies,
    worklist_items,
)

__all__ = [
    "DuplicateInstance",
    "Index",
    "InstanceRecord",
    "MissingAttributes",
    "QueryError",
    "StoredInstance",
]

LOGGER = logging.getLogger("dicomwire.node.index")
DUPLICATE_POLICIES = ("keep", "replace", "reject")
_ATTEMPTS = 5  # a write that lost a race (PostgreSQL) is run again from the start
# Structured reports (PS3.4 Q): every SOP Class named "... SR Storage".
SR_SOP_CLASSES = frozenset(uid for uid in SOP_CLASS_NAMES if UID(uid).name.endswith("SR Storage"))
_ID_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DuplicateInstance(Exception):
    """``on_duplicate="reject"`` and the SOP Instance UID is already indexed."""


class _LostRace(Exception):
    """Another writer indexed the same instance first: run the transaction again."""


class Index:
    """The archive's index of patients, studies, series, instances and worklist items.

    ``url``: ``sqlite:///path`` or ``postgresql+psycopg://...`` (``postgresql://``
    means psycopg 3). The schema is created or upgraded on open. ``data_dir``:
    where the paths given to :meth:`add` are relative to; without it, return
    keys that are not indexed come back empty.
    """

    def __init__(self, url: str, data_dir: str | Path | None = None) -> None:
        self._engine = make_engine(url)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        with write_transaction(self._engine) as conn:
            lock_for_migration(conn)
            old = migrate(conn)
        LOGGER.debug("index at schema version %d (was %d)", LATEST_VERSION, old)

    def close(self) -> None:
        self._engine.dispose()

    # -- storing -----------------------------------------------------------------

    @staticmethod
    def record_from(
        header: Dataset | Mapping[int, str], path: str, transfer_syntax_uid: str
    ) -> InstanceRecord:
        """What :meth:`add` writes for ``header``; :class:`MissingAttributes` if it cannot."""
        return _record_from(header, path, transfer_syntax_uid)

    def add(self, record: InstanceRecord, on_duplicate: str = "keep") -> str:
        """Index one instance in one transaction; committed when this returns.

        Returns ``"stored"``, ``"kept"`` (a duplicate, left as it was) or
        ``"replaced"`` (a duplicate whose row now points at the new file and
        attributes); ``on_duplicate="reject"`` raises :class:`DuplicateInstance`.

        Patient, study and series rows are created when missing and never
        twice. Their attributes come from the first instance; a later
        instance only fills in values that are still empty. A study stays
        with the patient it was first filed under, and a series with its study.
        """
        outcome = self.add_many([(record, on_duplicate)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def add_many(self, requests: Sequence[tuple[InstanceRecord, str]]) -> list[str | Exception]:
        """Index several instances in one transaction: one commit (one fsync) for all.

        This is the group commit of a node storing from several associations
        at once. An instance that fails (a duplicate refused, a value the
        database rejects) fails alone: its exception is returned in its
        place and the others are committed. The group is first run plainly;
        only when one of them fails that way is it run again with a
        savepoint per instance. A failed commit raises for all of them.
        """
        for _record, policy in requests:
            if policy not in DUPLICATE_POLICIES:
                raise ValueError(f"on_duplicate must be one of {', '.join(DUPLICATE_POLICIES)}")
        isolated = False
        for attempt in range(_ATTEMPTS):
            try:
                with write_transaction(self._engine) as conn:
                    return [self._add_one(conn, r, p, isolated) for r, p in requests]
            except _LostRace:
                isolated = len(requests) > 1  # alone, it just runs again
            except DBAPIError as exc:
                if not _transient(exc) and (isolated or len(requests) == 1):
                    raise
                if attempt == _ATTEMPTS - 1:
                    raise
                isolated = isolated or not _transient(exc)
                LOGGER.info("indexing %d instance(s) again: %s", len(requests), exc.orig)
        raise RuntimeError("could not index the instances")

    def _add_one(
        self, conn: Connection, record: InstanceRecord, policy: str, isolated: bool
    ) -> str | Exception:
        if not isolated:
            try:
                return self._add(conn, record, policy)
            except DuplicateInstance as exc:  # raised before anything is written
                return exc
        for _attempt in range(_ATTEMPTS):
            try:
                with conn.begin_nested():
                    return self._add(conn, record, policy)
            except _LostRace:
                continue  # another writer indexed it meanwhile: now it is a duplicate
            except DuplicateInstance as exc:
                return exc
            except DBAPIError as exc:
                if _transient(exc):
                    raise  # the whole transaction is run again
                return exc
        return RuntimeError(f"could not index {record.sop_instance_uid}")

    def _add(self, conn: Connection, record: InstanceRecord, policy: str) -> str:
        existing = _INSTANCE_BY_UID.on(conn, {"uid": record.sop_instance_uid}).fetchone()
        if existing is not None and policy == "keep":
            return "kept"
        if existing is not None and policy == "reject":
            raise DuplicateInstance(record.sop_instance_uid)
        series_fk = self._file_under(conn, record)
        values = {**_columns(record, "instance"), "series_fk": series_fk, "received": time.time()}
        if existing is None:
            if not insert_ignoring_conflict(conn, instances, values, "sop_instance_uid"):
                raise _LostRace
            return "stored"
        existing_id, existing_series = existing
        conn.execute(update(instances).where(instances.c.id == existing_id).values(values))
        if existing_series != series_fk:
            _prune(conn, existing_series)
        return "replaced"

    def _file_under(self, conn: Connection, record: InstanceRecord) -> int:
        """The series row the instance goes under, with its study and patient."""
        columns = {entity: _columns(record, entity) for entity in ("patient", "study", "series")}
        known = _known_series(conn, record, columns)
        if known is not None:
            return known
        study = _row(conn, studies, "study_instance_uid", record.study_instance_uid)
        if study is None:
            patient = _upsert(conn, patients, "patient_id", columns["patient"])
            study = _upsert(
                conn, studies, "study_instance_uid", {**columns["study"], "patient_fk": patient.id}
            )
            if study.patient_fk != patient.id:  # another writer filed it first, elsewhere
                _drop_if_empty(conn, "patient", patient.id)
        if _fill(conn, studies, study, columns["study"]):
            _refresh_datetime(conn, study.id)
        patient = conn.execute(select(patients).where(patients.c.id == study.patient_fk)).one()
        if patient.patient_id == record.patient_id:
            _fill(conn, patients, patient, columns["patient"])
        # Most instances join a series that exists: look before trying an insert.
        row = _row(conn, series, "series_instance_uid", record.series_instance_uid)
        if row is None:
            row = _upsert(
                conn, series, "series_instance_uid", {**columns["series"], "study_fk": study.id}
            )
        _fill(conn, series, row, columns["series"])
        return int(row.id)

    def remove(self, sop_instance_uid: str) -> bool:
        """Drop an instance, and its series, study and patient once they are empty."""
        for attempt in range(_ATTEMPTS):
            try:
                with write_transaction(self._engine) as conn:
                    row = conn.execute(
                        select(instances.c.id, instances.c.series_fk).where(
                            instances.c.sop_instance_uid == sop_instance_uid
                        )
                    ).first()
                    if row is None:
                        return False
                    conn.execute(delete(instances).where(instances.c.id == row.id))
                    _prune(conn, row.series_fk)
                    return True
            except DBAPIError as exc:
                if attempt == _ATTEMPTS - 1 or not _transient(exc):
                    raise
        return False

    # -- reading -------------------------------------------------------------------

    def instance(self, sop_instance_uid: str) -> StoredInstance | None:
        with read_transaction(self._engine) as conn:
            row = conn.execute(
                lookup.stored_instance_select().where(
                    instances.c.sop_instance_uid == sop_instance_uid
                )
            ).first()
        return _stored(row) if row is not None else None

    def path_of(self, sop_instance_uid: str) -> str | None:
        """Where an indexed instance's file is (relative), or None if it is not indexed.

        The storage SCP asks this for every instance it receives, so it reads
        one row of one table (``instance()`` joins all four).
        """
        raw = self._engine.raw_connection()  # one statement: its own snapshot
        try:
            row = _PATH_BY_UID.run(raw, self._engine.dialect, {"uid": sop_instance_uid}).fetchone()
        finally:
            raw.close()  # back to the pool, rolled back
        return None if row is None else str(row[0])

    def instances(self) -> Iterator[StoredInstance]:
        """Every indexed instance, in the order they were first indexed."""
        after = 0
        while True:
            with read_transaction(self._engine) as conn:
                rows = conn.execute(
                    lookup.stored_instance_select()
                    .add_columns(instances.c.id)
                    .where(instances.c.id > after)
                    .order_by(instances.c.id)
                    .limit(lookup.PAGE)
                ).all()
            yield from (_stored(row) for row in rows)
            if len(rows) < lookup.PAGE:
                return
            after = rows[-1].id

    def counts(self) -> dict[str, int]:
        """How many patients, studies, series and instances are indexed."""
        tables = {
            "patients": patients,
            "studies": studies,
            "series": series,
            "instances": instances,
        }
        query = select(
            *(
                select(func.count()).select_from(t).scalar_subquery().label(name)
                for name, t in tables.items()
            )
        )
        with read_transaction(self._engine) as conn:
            row = conn.execute(query).one()
        return {name: int(row._mapping[name]) for name in tables}

    # -- Query/Retrieve (PS3.4 C) ----------------------------------------------------

    def find(
        self,
        identifier: Dataset,
        model: str,
        relational: bool = False,
        *,
        combined_datetime: bool = False,
    ) -> Iterator[Dataset]:
        """C-FIND in ``model`` (``patient``, ``study``, ``patient_study``): the answers.

        Raises :class:`QueryError` at once for an identifier the model cannot
        answer. ``relational``: relational queries were negotiated
        (PS3.4 C.4.1.2.2). ``combined_datetime``: match Study Date and Study
        Time as one range (C.2.2.2.5.1, negotiated). Each answer holds the
        requested keys, Query/Retrieve Level, the Unique Keys of the level
        and above, and Specific Character Set (the request's; ``ISO_IR 192``
        when the request had none and an answer is not ASCII).
        """
        if model not in FIND_MODELS:
            raise QueryError(f"C-FIND is not defined for the {model!r} model")
        plan = plan_find(identifier, model, relational)
        statement = lookup.find_statement(plan, identifier, combined_datetime)
        return self._answers(identifier, plan, statement)

    def _answers(self, identifier: Dataset, plan: Plan, statement: Any) -> Iterator[Dataset]:
        in_python = python_keys(identifier, plan)
        after = 0
        while True:
            with read_transaction(self._engine) as conn:
                rows = lookup.page(conn, statement, plan, after)
                computed = lookup.computed_values(conn, plan, rows)
                paths = lookup.header_paths(conn, plan, rows) if needs_headers(plan) else {}
            for row in rows:
                values = lookup.row_values(row, plan, computed)
                key = values[f"{plan.entity}__pk"]
                header = self._header(paths[key]) if key in paths else None
                response = build_answer(identifier, plan, values, header)
                if match_dataset(in_python, response):
                    yield with_charset(response)
            if len(rows) < lookup.PAGE:
                return
            after = rows[-1]._mapping[f"{plan.entity}__pk"]

    def _header(self, path: str) -> Dataset:
        if self.data_dir is None:
            return Dataset()
        try:
            return dcmread(self.data_dir / path, stop_before_pixels=True)
        except Exception as exc:  # a missing or broken file must not fail the whole C-FIND
            LOGGER.warning("cannot read %s for its return keys: %s", path, exc)
            return Dataset()

    def locate(
        self, identifier: Dataset, model: str, relational: bool = False
    ) -> list[StoredInstance]:
        """The instances a C-GET or C-MOVE names (PS3.4 C.4.2.2.1, C.4.3.2.1).

        ``model`` may also be ``composite`` (Composite Instance Root): its
        FRAME level retrieves the whole instances, frame numbers are ignored.
        """
        level = query_level(identifier, model)
        uids = unique_key_values(identifier, model, level, relational)
        with read_transaction(self._engine) as conn:
            rows = conn.execute(lookup.retrieve_statement(uids)).all()
        return [_stored(row) for row in rows]

    # -- Modality Worklist (PS3.4 K) -------------------------------------------------

    def worklist_add(self, item: Dataset) -> str:
        """Hold a worklist item; returns its id, ``<SPS ID or Accession Number>-<8 hex>``."""
        steps = item.get("ScheduledProcedureStepSequence")
        if not steps:
            raise ValueError("a worklist item needs a Scheduled Procedure Step Sequence item")
        base = str(steps[0].get("ScheduledProcedureStepID", "") or item.get("AccessionNumber", ""))
        item_id = f"{_ID_SAFE.sub('_', base.strip())[:48] or 'mwl'}-{uuid.uuid4().hex[:8]}"
        data = json.dumps(item.to_json_dict())
        with write_transaction(self._engine) as conn:
            conn.execute(
                worklist_items.insert().values(item_id=item_id, created=time.time(), dataset=data)
            )
        return item_id

    def worklist_items(self) -> list[tuple[str, Dataset]]:
        """Every item held, oldest first."""
        with read_transaction(self._engine) as conn:
            rows = conn.execute(
                select(worklist_items.c.item_id, worklist_items.c.dataset).order_by(
                    worklist_items.c.created, worklist_items.c.item_id
                )
            ).all()
        return [(row.item_id, Dataset.from_json(row.dataset)) for row in rows]

    def worklist_remove(self, item_id: str) -> bool:
        with write_transaction(self._engine) as conn:
            result = conn.execute(delete(worklist_items).where(worklist_items.c.item_id == item_id))
        return bool(result.rowcount)

    def worklist_find(self, identifier: Dataset) -> Iterator[Dataset]:
        """Modality Worklist C-FIND (PS3.4 K.4.1.3): the requested keys of each match.

        Matching per C.2.2.2 including sequence matching into the Scheduled
        Procedure Step Sequence; an empty stored value matches no key other
        than universal or ``""`` (K.2.2.1.1.1).
        """
        for _item_id, item in self.worklist_items():
            if match_dataset(identifier, item):
                response = answer(identifier, item)
                if "SpecificCharacterSet" in identifier:
                    response.SpecificCharacterSet = identifier.SpecificCharacterSet
                yield with_charset(response)

    # -- Relevant Patient Information (PS3.4 Q) ----------------------------------------

    def structured_reports(self, patient_id: str) -> list[StoredInstance]:
        """The patient's structured reports, newest first (Content Date/Time, then arrival)."""
        query = (
            lookup.stored_instance_select()
            .where(
                patients.c.patient_id == patient_id,
                instances.c.sop_class_uid.in_(sorted(SR_SOP_CLASSES)),
            )
            .order_by(
                instances.c.content_date.desc(),
                instances.c.content_time_m.desc(),
                instances.c.received.desc(),
                instances.c.id.desc(),
            )
        )
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [_stored(row) for row in rows]


# -- helpers of add/remove ----------------------------------------------------------------


def _transient(exc: DBAPIError) -> bool:
    """A failure that running the transaction again can cure: a unique key another
    writer took first (PostgreSQL), a deadlock or a serialization failure."""
    if exc.connection_invalidated:
        return False
    return isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in (
        "40001",
        "40P01",
    )


def _columns(record: InstanceRecord, entity: str) -> dict[str, Any]:
    """The record's values for one table; its named fields win over ``columns``."""
    values = dict(record.columns.get(entity, {}))
    values.update(
        {
            "patient": {"patient_id": record.patient_id},
            "study": {"study_instance_uid": record.study_instance_uid},
            "series": {"series_instance_uid": record.series_instance_uid},
            "instance": {
                "sop_instance_uid": record.sop_instance_uid,
                "path": record.path,
                "sop_class_uid": record.sop_class_uid,
                "transfer_syntax_uid": record.transfer_syntax_uid,
            },
        }[entity]
    )
    return values


def _stored(row: Row[Any]) -> StoredInstance:
    m = row._mapping
    return StoredInstance(
        sop_instance_uid=m["sop_instance_uid"],
        sop_class_uid=m["sop_class_uid"],
        transfer_syntax_uid=m["transfer_syntax_uid"],
        path=m["path"],
        patient_id=m["patient_id"],
        study_instance_uid=m["study_instance_uid"],
        series_instance_uid=m["series_instance_uid"],
    )


# Statements of every C-STORE, built once (building one costs more than running it).
# (run on the DBAPI cursor: see HotStatement).
_INSTANCE_BY_UID = HotStatement(
    select(instances.c.id, instances.c.series_fk).where(
        instances.c.sop_instance_uid == bindparam("uid")
    )
)
_PATH_BY_UID = HotStatement(
    select(instances.c.path).where(instances.c.sop_instance_uid == bindparam("uid"))
)
# A series with its study and patient, in one statement: most instances join a
# series that is already indexed.
_SERIES_CHAIN_SELECT = (
    select(series, studies, patients)
    .join_from(series, studies, series.c.study_fk == studies.c.id)
    .join(patients, studies.c.patient_fk == patients.c.id)
    .where(series.c.series_instance_uid == bindparam("uid"))
    .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
)
_SERIES_CHAIN = HotStatement(_SERIES_CHAIN_SELECT)
# Where each table's columns are in a row of _SERIES_CHAIN.
_CHAIN_COLUMNS = {
    table.name: [
        (column.name, position)
        for position, column in enumerate(_SERIES_CHAIN_SELECT.selected_columns)
        if column.table is table
    ]
    for table in (series, studies, patients)
}


def _known_series(
    conn: Connection, record: InstanceRecord, columns: dict[str, dict[str, Any]]
) -> int | None:
    """The id of the record's series when it is indexed under the record's study.

    Fills empty values as the general path does. None means "take the
    general path": a new series, or one filed under another study.
    """
    found = _SERIES_CHAIN.on(conn, {"uid": record.series_instance_uid}).fetchone()
    if found is None:
        return None
    study, patient, row = (
        {name: found[position] for name, position in _CHAIN_COLUMNS[table.name]}
        for table in (studies, patients, series)
    )
    if study["study_instance_uid"] != record.study_instance_uid:
        return None
    if _fill(conn, studies, study, columns["study"]):
        _refresh_datetime(conn, study["id"])
    if patient["patient_id"] == record.patient_id:
        _fill(conn, patients, patient, columns["patient"])
    _fill(conn, series, row, columns["series"])
    return int(row["id"])


def _row(conn: Connection, table: Table, unique: str, value: str) -> Row[Any] | None:
    return conn.execute(select(table).where(table.c[unique] == value)).first()


def _upsert(conn: Connection, table: Table, unique: str, values: dict[str, Any]) -> Row[Any]:
    """The row with this unique key, inserted if missing (never twice, PS3.4 C.2.1)."""
    values = {k: v for k, v in values.items() if k in table.c}
    insert_ignoring_conflict(conn, table, values, unique)
    return conn.execute(select(table).where(table.c[unique] == values[unique])).one()


_NOT_FILLED = frozenset({"id", "patient_fk", "study_fk", "study_datetime_m"})


def _fill(
    conn: Connection, table: Table, row: Row[Any] | Mapping[str, Any], values: Mapping[str, Any]
) -> bool:
    """Fill the row's empty values from ``values``; True if anything was written.

    Each column is only written while it is still empty (``CASE``), so two
    writers filling one row at once keep the first writer's value.
    """
    current = row._mapping if isinstance(row, Row) else row
    wanted = {
        column: value
        for column, value in values.items()
        if value and column in table.c and column not in _NOT_FILLED and current[column] == ""
    }
    if not wanted:
        return False
    changes = {c: case((table.c[c] == "", v), else_=table.c[c]) for c, v in wanted.items()}
    conn.execute(update(table).where(table.c.id == current["id"]).values(changes))
    return True


def _refresh_datetime(conn: Connection, study_id: int) -> None:
    row = conn.execute(
        select(studies.c.study_date, studies.c.study_time).where(studies.c.id == study_id)
    ).one()
    conn.execute(
        update(studies)
        .where(studies.c.id == study_id)
        .values(study_datetime_m=stored_datetime(row.study_date, row.study_time))
    )


_CHILDREN = {
    "series": (series, instances, "series_fk", "study_fk", "study"),
    "study": (studies, series, "study_fk", "patient_fk", "patient"),
    "patient": (patients, studies, "patient_fk", None, None),
}


def _drop_if_empty(conn: Connection, entity: str, key: int) -> None:
    """Delete an entity row without children, then its parent if that is now empty."""
    while True:
        table, children, link, parent_link, parent = _CHILDREN[entity]
        parent_key = None
        if parent_link is not None:
            parent_key = conn.execute(
                select(table.c[parent_link]).where(table.c.id == key)
            ).scalar()
        gone = conn.execute(
            delete(table).where(table.c.id == key, ~exists().where(children.c[link] == key))
        ).rowcount
        if not gone or parent is None or parent_key is None:
            return
        entity, key = parent, parent_key


def _prune(conn: Connection, series_key: int) -> None:
    _drop_if_empty(conn, "series", series_key)
