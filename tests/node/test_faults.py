"""Disk full and database unavailable while storing.

The sender gets Out of Resources (0xA700, PS3.4 B.2.3), nothing is indexed
that is not on disk (and no file stays without its row), and the node stores
again as soon as the resource is back, without a restart.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ExplicitVRLittleEndian
from sqlalchemy.exc import OperationalError

import peers
from dicomwire import AE
from dicomwire.node import store as store_module
from dicomwire.node.app import Node
from dicomwire.node.config import NodeConfig
from dicomwire.node.index import Index

OUT_OF_RESOURCES = 0xA700


def send(port: int, size: int = 16 * 1024, seed: int = 1) -> tuple[int, str]:
    """One C-STORE of a new CT instance with dicomwire's AE: (status, SOP Instance UID)."""
    ds = peers.make_ct(size_bytes=size, seed=seed)
    ae = AE("FAULTSCU")
    ae.add_requested_context(str(ds.SOPClassUID), [ExplicitVRLittleEndian])
    assoc = ae.associate(peers.LOCALHOST, port, ae_title="DICOMWIRE")
    assert assoc.is_established
    try:
        answer = assoc.send_c_store(ds)
    finally:
        assoc.release()
    return int(answer.Status), str(ds.SOPInstanceUID)


@pytest.fixture
def run_node() -> Iterator[Any]:
    started: list[Node] = []

    def start(config: NodeConfig) -> Node:
        node = Node(replace(config, port=peers.free_port(), bind=peers.LOCALHOST,
                            shutdown_grace=5))  # fmt: skip
        node.start()
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def files_of(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "files").rglob("*") if p.is_file()]


# -- disk full -------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (needs the right to mount: root in the test container)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_answers_out_of_resources(
    run_node: Any, small_disk: Path, tmp_path: Path
) -> None:
    data = small_disk / "data"
    node = run_node(NodeConfig(data_dir=data, database=f"sqlite:///{tmp_path / 'index.sqlite'}"))
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:  # leave less room than one instance needs
        free = shutil.disk_usage(small_disk).free
        fh.write(b"\0" * max(free - 64 * 1024, 0))
    status, uid = send(node.config.port, size=256 * 1024)
    assert status == OUT_OF_RESOURCES
    assert node.index.instance(uid) is None
    assert not files_of(data)  # neither the file nor its temporary file
    filler.unlink()  # the space comes back
    status, uid = send(node.config.port, size=256 * 1024, seed=2)
    assert status == 0x0000
    assert node.index.instance(uid) is not None


@pytest.mark.parametrize("direct_io", [True, False])
def test_write_failure_midway_leaves_nothing(
    run_node: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_io: bool
) -> None:
    """The same without a tmpfs: the disk fills up halfway through the file."""
    real_pieces = store_module._pieces

    def fill_up_halfway(file_meta: bytes, data: Any, spooled: Any) -> Iterator[bytes]:
        yield file_meta + b"\0" * 1024
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    node = run_node(NodeConfig(data_dir=tmp_path / "data", direct_io=direct_io))
    monkeypatch.setattr(store_module, "_pieces", fill_up_halfway)
    status, uid = send(node.config.port)
    assert status == OUT_OF_RESOURCES
    assert node.index.instance(uid) is None and not files_of(node.config.data_dir)
    monkeypatch.setattr(store_module, "_pieces", real_pieces)
    assert send(node.config.port, seed=2)[0] == 0x0000


# -- database unavailable ----------------------------------------------------------------


class OwnPostgres:
    """A PostgreSQL server of this test alone, so stopping it disturbs no other test."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL server binaries not found")
            pytest.skip("PostgreSQL server binaries not found")
        self.bin = Path(found[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="dwpgf-"))
        self.data, self.sockets, self.logs = (self.root / n for n in ("data", "sock", "log"))
        for folder in (self.data, self.sockets, self.logs):
            folder.mkdir()
            if os.geteuid() == 0:
                shutil.chown(folder, "postgres")
        self.root.chmod(0o755)
        self.port = peers.free_port()
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.sockets}&port={self.port}"

    def run(self, program: str, *args: str) -> None:
        argv = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses='' -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options,
                 "-l", str(self.logs / "server.log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def test_database_down_answers_out_of_resources_then_recovers(
    run_node: Any, own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    node = run_node(NodeConfig(data_dir=tmp_path / "data", database=own_postgres.url))
    assert send(node.config.port)[0] == 0x0000
    own_postgres.stop()
    status, _ = send(node.config.port, seed=2)
    assert status == OUT_OF_RESOURCES
    assert len(files_of(node.config.data_dir)) == 1  # no file without its row
    own_postgres.start()
    status, uid = send(node.config.port, seed=3)  # the pool reconnects: no restart
    assert status == 0x0000
    assert node.index.instance(uid) is not None
    assert len(files_of(node.config.data_dir)) == 2


def test_index_failure_after_the_write_removes_the_file(
    run_node: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away between the write and the commit: the file goes too."""
    node = run_node(NodeConfig(data_dir=tmp_path / "data"))

    def unavailable(self: Index, requests: Any) -> list[str]:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Index, "add_many", unavailable)
    status, _uid = send(node.config.port)
    assert status == OUT_OF_RESOURCES
    assert not files_of(node.config.data_dir)
    monkeypatch.undo()
    assert send(node.config.port, seed=2)[0] == 0x0000
