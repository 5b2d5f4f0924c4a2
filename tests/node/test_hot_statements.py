"""HotStatement: the index's per-instance statements run on the DBAPI cursor.

They must behave as SQLAlchemy's own execution would: the same rows, inside
the caller's transaction, and driver errors raised as SQLAlchemy's
exceptions (the index's retry logic catches those, not the drivers').
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from dicomwire.node.db import HotStatement, insert_ignoring_conflict, make_engine

METADATA = MetaData()
THINGS = Table(
    "hot_things",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), unique=True, nullable=False),
    Column("note", String(64), nullable=False, server_default=""),
)
BY_NAME = HotStatement(select(THINGS.c.id, THINGS.c.note).where(THINGS.c.name == bindparam("n")))


@pytest.fixture
def engine(index_url: str) -> Iterator[Engine]:
    engine = make_engine(index_url)
    METADATA.drop_all(engine)
    METADATA.create_all(engine)
    yield engine
    METADATA.drop_all(engine)
    engine.dispose()


def test_rows_as_sqlalchemy_gives_them(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(THINGS), [{"name": "a", "note": "x"}, {"name": "b", "note": "y"}])
    with engine.begin() as conn:
        assert BY_NAME.on(conn, {"n": "b"}).fetchone() == tuple(
            conn.execute(select(THINGS.c.id, THINGS.c.note).where(THINGS.c.name == "b")).one()
        )
        assert BY_NAME.on(conn, {"n": "missing"}).fetchone() is None


def test_runs_inside_the_callers_transaction(engine: Engine) -> None:
    with engine.connect() as conn:
        with conn.begin() as transaction:
            assert insert_ignoring_conflict(conn, THINGS, {"name": "c", "note": ""}, "name")
            assert not insert_ignoring_conflict(conn, THINGS, {"name": "c", "note": ""}, "name")
            assert BY_NAME.on(conn, {"n": "c"}).fetchone() is not None
            transaction.rollback()
        with conn.begin():
            assert BY_NAME.on(conn, {"n": "c"}).fetchone() is None  # rolled back with it


def test_driver_errors_are_sqlalchemy_errors(engine: Engine) -> None:
    plain_insert = HotStatement(insert(THINGS))
    with engine.connect() as conn, conn.begin():
        plain_insert.on(conn, {"name": "d", "note": ""}, insert=True)
        with pytest.raises(IntegrityError):
            plain_insert.on(conn, {"name": "d", "note": ""}, insert=True)


def test_inserted_columns_decide_the_statement(engine: Engine) -> None:
    plain_insert = HotStatement(insert(THINGS))
    with engine.begin() as conn:
        plain_insert.on(conn, {"name": "e"}, insert=True)  # note from its default
        plain_insert.on(conn, {"note": "z", "name": "f"}, insert=True)
        notes = dict(conn.execute(select(THINGS.c.name, THINGS.c.note)).all())
    assert notes == {"e": "", "f": "z"}


def test_python_side_defaults_are_refused() -> None:
    table = Table("hot_defaults", MetaData(), Column("id", Integer, primary_key=True),
                  Column("note", String(8), default="x"))  # fmt: skip
    with pytest.raises(ValueError, match="server defaults"):
        HotStatement(insert(table))
