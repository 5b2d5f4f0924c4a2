"""Engines and transactions for the index, on SQLite and PostgreSQL alike.

SQLite: WAL (readers never wait for the writer), ``synchronous=FULL`` (a
committed store survives a power cut, which is what a C-STORE Success
promises), foreign keys on, a 30 s busy timeout, and write transactions
opened with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of
failing when a read lock cannot be upgraded.

PostgreSQL: psycopg 3; ``READ COMMITTED``; migrations serialize on a
transaction-level advisory lock so several nodes can start at once.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.sql import Insert, Select
from sqlalchemy.sql.schema import Table

_BUSY_TIMEOUT_MS = 30_000
_WRITE = "dicomwire_write"
# pg_advisory_xact_lock key: "dicomwire" as an int64 ("dcmw" + version).
MIGRATION_LOCK = 0x64636D7700000001


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings described in the module docstring."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("the index needs a file: sqlite:///path/to/index.sqlite")
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000},
            pool_size=4,
            max_overflow=28,
            pool_timeout=60,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"unsupported index database {parsed.get_backend_name()!r}")
    return create_engine(parsed, pool_size=4, max_overflow=28, pool_timeout=60, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below, not by the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"busy_timeout={_BUSY_TIMEOUT_MS}",
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: committed at the end, rolled back on error."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A short read-only transaction (one consistent snapshot)."""
    with engine.connect() as conn, conn.begin():
        yield conn


def lock_for_migration(conn: Connection) -> None:
    """Keep other processes out of the migration until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    # SQLite: BEGIN IMMEDIATE already holds the database's write lock.


def insert_ignoring_conflict(
    conn: Connection, table: Table, values: dict[str, Any], unique: str
) -> bool:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``; True if a row was inserted.

    On PostgreSQL a concurrent insert of the same key makes this wait for
    the other transaction and then do nothing, so a unique key never gets
    two rows and nobody fails.
    """
    statement = _insert_ignoring(conn.dialect.name, table, unique)
    if conn.dialect.name == "postgresql":
        # psycopg reports rowcount -1 for this statement whether or not a row went
        # in: only the row it returns tells.
        return conn.execute(statement, values).first() is not None
    return bool(conn.execute(statement, values).rowcount)


@functools.lru_cache(maxsize=64)
def _insert_ignoring(dialect: str, table: Table, unique: str) -> Insert:
    """The statement, built once: values go in as parameters (building it with
    ``.values()`` for every row cost more than running it)."""
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=[unique])
        return statement.returning(table.c[unique])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=[unique])


def for_update(query: Select[Any], conn: Connection) -> Select[Any]:
    """``SELECT ... FOR UPDATE`` where the dialect has it (SQLite locks the database)."""
    return query.with_for_update() if conn.dialect.name == "postgresql" else query
