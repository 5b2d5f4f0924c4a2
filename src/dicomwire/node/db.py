"""Engines and transactions for the index, on SQLite and PostgreSQL alike.

SQLite: WAL (readers never wait for the writer), ``synchronous=FULL`` (a
committed store survives a power cut, which is what a C-STORE Success
promises), foreign keys on, a 30 s busy timeout, and write transactions
opened with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of
failing when a read lock cannot be upgraded. Before that, a writer takes an
``flock`` on ``<database>-writer``: SQLite's busy handler waits for its lock
by sleeping (1 ms, then longer), so writers in several processes (``serve
--workers``) would sleep through each other's commits; the flock hands the
lock over as soon as it is released.

PostgreSQL: psycopg 3; ``READ COMMITTED``; migrations serialize on a
transaction-level advisory lock so several nodes can start at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Insert, Select
from sqlalchemy.sql.compiler import SQLCompiler
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
            # The connection used last has the freshest page cache: a
            # connection's cache is dropped after another one commits, so
            # handing the same one back keeps group commits from re-reading
            # pages (12 preads per stored instance down to 4.5 here).
            pool_use_lifo=True,
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
    with _writer_lock(engine), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


class WriterLock:
    """One writer at a time among the threads and processes that share a SQLite file.

    A thread lock, then an exclusive ``flock`` on a file beside the database
    (threads share this process's descriptor, and ``flock`` would let them
    all in at once). The file is opened on first use and kept.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_WRITER_LOCKS: dict[str, WriterLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> contextlib.AbstractContextManager[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database:
        return contextlib.nullcontext()
    path = os.path.abspath(database) + "-writer"
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(path)
        if lock is None:
            lock = _WRITER_LOCKS[path] = WriterLock(path)
    return lock.held()


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
    cursor = _insert_ignoring(conn.dialect.name, table, unique).on(conn, values, insert=True)
    if conn.dialect.name == "postgresql":
        # psycopg reports rowcount -1 for this statement whether or not a row went
        # in: only the row it returns tells.
        return cursor.fetchone() is not None
    return bool(cursor.rowcount)


@functools.lru_cache(maxsize=64)
def _insert_ignoring(dialect: str, table: Table, unique: str) -> HotStatement:
    """The statement, built once: values go in as parameters (building it with
    ``.values()`` for every row cost more than running it)."""
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=[unique])
        statement = statement.returning(table.c[unique])
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[unique])
    return HotStatement(statement)


def for_update(query: Select[Any], conn: Connection) -> Select[Any]:
    """``SELECT ... FOR UPDATE`` where the dialect has it (SQLite locks the database)."""
    return query.with_for_update() if conn.dialect.name == "postgresql" else query


class HotStatement:
    """A statement run for every stored instance, executed on the DBAPI cursor.

    SQLAlchemy builds and compiles it (once per dialect, so one statement
    serves SQLite and PostgreSQL alike), but its execution machinery
    (execution context, events, result wrapping) costs several times more
    than these short statements themselves: about 50 µs each, four times per
    C-STORE. Values go in as plain ``str``/``int``/``float`` and rows come
    back as tuples; inserted columns left out get their server defaults
    (Python-side defaults are refused). It runs inside the caller's
    transaction, and driver errors are raised as SQLAlchemy's, so the
    index's retry logic sees the exceptions it knows.
    """

    def __init__(self, statement: ClauseElement) -> None:
        table = getattr(statement, "table", None) if isinstance(statement, Insert) else None
        if table is not None and any(c.default is not None for c in table.c):
            # Python-side defaults are filled in by SQLAlchemy's execution, skipped here.
            raise ValueError(f"{table.name}: use server defaults with HotStatement")
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}

    def _sql(self, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None]:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys) or None)
            assert isinstance(compiled, SQLCompiler)
            names = tuple(compiled.positiontup or ()) if compiled.positional else None
            found = (str(compiled), names)
            self._compiled[(dialect.name, keys)] = found
        return found

    def run(self, dbapi_connection: Any, dialect: Dialect, params: Mapping[str, Any],
            insert: bool = False) -> Any:  # fmt: skip
        """Execute; returns the DBAPI cursor. ``insert``: ``params`` are the inserted columns."""
        sql, names = self._sql(dialect, tuple(params) if insert else ())
        values: Sequence[Any] | Mapping[str, Any] = (
            params if names is None else tuple(params[n] for n in names)
        )
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql, values)
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, values, exc, dialect.loaded_dbapi.Error, dialect=dialect,
                connection_invalidated=dialect.is_disconnect(exc, dbapi_connection, cursor),
            ) from exc  # fmt: skip
        return cursor

    def on(self, conn: Connection, params: Mapping[str, Any], insert: bool = False) -> Any:
        """:meth:`run` on the DBAPI connection under a SQLAlchemy ``Connection``."""
        return self.run(conn.connection.dbapi_connection, conn.dialect, params, insert)
