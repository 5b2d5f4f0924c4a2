"""The index's tables and the migrations that build and upgrade them.

One schema for SQLite and PostgreSQL. Every text column is NOT NULL with
``''`` for absent or empty values (matching treats both alike, PS3.4
C.2.2.2), and uses the ``C`` collation on PostgreSQL so that comparisons are
by code point, as in Python and SQLite: range matching on normalized dates
and times is text comparison.

Tables::

    patients   (id, patient_id UNIQUE, issuer_of_patient_id, patient_name[_m], ...)
    studies    (id, study_instance_uid UNIQUE, patient_fk -> patients, study_date, ...)
    series     (id, series_instance_uid UNIQUE, study_fk -> studies, modality, ...)
    instances  (id, sop_instance_uid UNIQUE, series_fk -> series, sop_class_uid, path, ...)
    worklist_items (item_id, created, dataset: DICOM JSON)
    schema_version (version)

Migrations are an ordered list of steps; a database records the version it
is at and :func:`migrate` runs the steps after it, inside the caller's
transaction (which holds the lock that keeps two processes from migrating
at once). A fresh database runs every step from the first, so the upgrade
path is the path every database takes. Never edit a released step: add one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    column,
    inspect,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects import postgresql

from .matching import stored_datetime

# Text compared by code point on every dialect.
TEXT = Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def _text(name: str) -> Column[str]:
    return Column(name, TEXT, nullable=False, server_default="")


def _key(name: str) -> Column[int]:
    return Column(name, Integer, primary_key=True, autoincrement=True)


# The entity tables: name, unique key, parent link, text columns (values as
# stored, plus their normalized "_m" forms where those differ).
_ENTITY_TABLES: tuple[tuple[str, str, tuple[str, str] | None, str], ...] = (
    ("patients", "patient_id", None,
     "issuer_of_patient_id patient_name patient_name_m patient_birth_date patient_sex"),
    ("studies", "study_instance_uid", ("patient_fk", "patients.id"),
     "study_date study_time study_time_m accession_number study_id study_description "
     "referring_physician_name referring_physician_name_m"),
    ("series", "series_instance_uid", ("study_fk", "studies.id"),
     "modality series_number series_description body_part_examined series_date series_time "
     "series_time_m"),
    ("instances", "sop_instance_uid", ("series_fk", "series.id"),
     "sop_class_uid instance_number content_date content_time content_time_m "
     "transfer_syntax_uid path"),
)  # fmt: skip


def _entity_table(metadata: MetaData, name: str, unique: str,
                  parent: tuple[str, str] | None, names: str) -> Table:  # fmt: skip
    columns: list[Column[Any]] = [_key("id"), Column(unique, TEXT, nullable=False, unique=True)]
    if parent is not None:
        link, target = parent
        columns.append(Column(link, Integer, ForeignKey(target), nullable=False, index=True))
    columns += [_text(column) for column in names.split()]
    return Table(name, metadata, *columns)


def _build(metadata: MetaData, version: int) -> dict[str, Table]:
    """The tables as they are at schema ``version`` (1 or later)."""
    tables = {spec[0]: _entity_table(metadata, *spec) for spec in _ENTITY_TABLES}
    tables["instances"].append_column(Column("received", Float, nullable=False, server_default="0"))
    tables["worklist_items"] = Table(
        "worklist_items", metadata,
        Column("item_id", TEXT, primary_key=True),
        Column("created", Float, nullable=False),
        Column("dataset", Text, nullable=False),  # DICOM JSON (PS3.18 F)
    )  # fmt: skip
    tables["schema_version"] = Table(
        "schema_version", metadata, Column("version", Integer, nullable=False)
    )
    if version >= 2:
        tables["studies"].append_column(_text("study_datetime_m"))
        for name, table_name, columns in _V2_INDEXES:
            Index(name, *(tables[table_name].c[c] for c in columns))
    return tables


# Version 2: the combined study date-time (PS3.4 C.2.2.2.5.1) and the indexes
# that make matching and the computed attributes (ModalitiesInStudy,
# SOPClassesInStudy, counts) index-only lookups.
_V2_INDEXES = (
    ("ix_series_study_modality", "series", ("study_fk", "modality")),
    ("ix_instances_series_class", "instances", ("series_fk", "sop_class_uid")),
    ("ix_studies_date", "studies", ("study_date",)),
    ("ix_studies_datetime", "studies", ("study_datetime_m",)),
    ("ix_studies_accession", "studies", ("accession_number",)),
    ("ix_patients_name", "patients", ("patient_name_m",)),
)

LATEST_VERSION = 2
metadata = MetaData()
TABLES = _build(metadata, LATEST_VERSION)
patients = TABLES["patients"]
studies = TABLES["studies"]
series = TABLES["series"]
instances = TABLES["instances"]
worklist_items = TABLES["worklist_items"]
schema_version = TABLES["schema_version"]
ENTITY_TABLES = {"patient": patients, "study": studies, "series": series, "instance": instances}


def _to_v1(conn: Connection) -> None:
    v1 = MetaData()
    _build(v1, 1)
    v1.create_all(conn)
    conn.execute(v1.tables["schema_version"].insert().values(version=0))


def _to_v2(conn: Connection) -> None:
    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    conn.execute(
        text(f"ALTER TABLE studies ADD COLUMN study_datetime_m TEXT{collate} NOT NULL DEFAULT ''")
    )
    # The table as this step sees it, not as later versions define it.
    old = table(
        "studies",
        column("id"),
        column("study_date"),
        column("study_time"),
        column("study_datetime_m"),
    )
    for row in conn.execute(select(old.c.id, old.c.study_date, old.c.study_time)).all():
        value = stored_datetime(row.study_date, row.study_time)
        if value:
            conn.execute(update(old).where(old.c.id == row.id).values(study_datetime_m=value))
    for name, table_name, columns in _V2_INDEXES:
        conn.execute(text(f"CREATE INDEX {name} ON {table_name} ({', '.join(columns)})"))


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [(1, _to_v1), (2, _to_v2)]


def current_version(conn: Connection) -> int:
    """The schema version of the database; 0 for an empty one."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    version = conn.execute(select(schema_version.c.version)).scalar()
    return int(version or 0)


def migrate(conn: Connection, target: int = LATEST_VERSION) -> int:
    """Run the steps from the database's version up to ``target``; returns the old version.

    Raises ``RuntimeError`` for a database newer than this code knows.
    """
    old = current_version(conn)
    if old > LATEST_VERSION:
        raise RuntimeError(
            f"the index has schema version {old}; this dicomwire knows up to "
            f"{LATEST_VERSION}: upgrade dicomwire"
        )
    for version, step in MIGRATIONS:
        if old < version <= target:
            step(conn)
            conn.execute(update(schema_version).values(version=version))
    return old
