"""Fixtures of the node's index tests: one SQLite file, one PostgreSQL server.

* ``sqlite_url``: a fresh SQLite file in ``tmp_path``.
* ``postgres_server`` (session): PostgreSQL started by the tests themselves,
  ``initdb`` and ``pg_ctl`` in a temporary folder (as the ``postgres`` user
  when running as root), listening only on a Unix socket in that folder,
  stopped at the end. Without the server binaries: skipped, or failed when
  ``CI`` is set.
* ``postgres_url``: an empty schema on that server for one test (first on
  the connection's search path).
* ``index_url``: both of the above, so every index test runs on each.
* ``data_dir``: a folder for the files the tests write.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_PG_GLOB = "/usr/lib/postgresql/*/bin/initdb"
TEST_DATABASE = "dicomwire"  # one database; each test gets a schema in it


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: str
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction."""
        import psycopg

        with psycopg.connect(
            host=self.socket_dir,
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob(_PG_GLOB), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _run(program: Path, *args: str, check: bool = True) -> None:
    subprocess.run(_as_postgres([str(program), *args]), check=check, capture_output=True)


_INITDB_OPTIONS = "-U postgres -A trust -E UTF8 --locale=C --no-sync"
# Only a Unix socket, and no durability: the server dies with the test session.
_SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        message = f"PostgreSQL server binaries not found ({_PG_GLOB})"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must run the PostgreSQL tests")
        pytest.skip(message)
    # Not under pytest's tmp folder: that one is private to root, and a Unix
    # socket path must stay short.
    root = Path(tempfile.mkdtemp(prefix="dwpg-"))
    data, sockets, logs = root / "data", root / "sock", root / "log"
    for folder in (data, sockets, logs):
        folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
    root.chmod(0o755)
    port = _free_port()
    server = PostgresServer(str(sockets), port)
    try:
        _run(bin_dir / "initdb", "-D", str(data), *_INITDB_OPTIONS.split())
        options = f"-p {port} -k {sockets} {_SERVER_OPTIONS}"
        _run(bin_dir / "pg_ctl", "-D", str(data), "-o", options, "-l", str(logs / "server.log"),
             "-w", "-t", "60", "start")  # fmt: skip
        server.admin(f"CREATE DATABASE {TEST_DATABASE}")
        yield server
    except subprocess.CalledProcessError as exc:
        log = (logs / "server.log").read_text() if (logs / "server.log").exists() else ""
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}\n{log}")
    finally:
        _run(bin_dir / "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """An empty schema of its own, first on the search path: far cheaper than a database."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE SCHEMA {name}", database=TEST_DATABASE)
    yield postgres_server.url(TEST_DATABASE) + f"&options=-csearch_path%3D{name}"
    postgres_server.admin(f"DROP SCHEMA {name} CASCADE", database=TEST_DATABASE)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'index.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
