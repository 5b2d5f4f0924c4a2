"""``dicomwire serve --workers N``: node processes sharing one port and one archive.

On SQLite and on PostgreSQL: stores from concurrent senders all land once,
whichever worker took them, and a query sees them all; SIGTERM stops every
worker cleanly. A worker that dies stops the node with a non-zero exit
code naming it; a supervisor killed outright leaves no worker behind; a
port in use is one line and no worker.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from node_process import NODE_AET, NodeProcess, dataset, pynetdicom_find, running, send_at_once

import peers

pytestmark = pytest.mark.interop

ROOT = "1.2.826.0.1.3680043.10.4244"
PIXELS = 4 * 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_until(condition: Callable[[], bool]) -> bool:
    return peers.wait_until(condition, timeout=30)  # processes start and stop slowly


def _workers(node: NodeProcess, count: int = 2) -> list[int]:
    """The worker pids, once all have started and logged that they listen."""
    assert node.process is not None
    pid = node.process.pid
    assert _wait_until(lambda: len(_children(pid)) == count), node.log()
    assert _wait_until(
        lambda: all(f"w{n}: {NODE_AET} listening on" in node.log() for n in range(1, count + 1))
    ), node.log()
    return _children(pid)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    from node_process import postgres_schema

    with postgres_schema(request.getfixturevalue("postgres_server")) as url:
        yield url


def test_workers_share_the_port_and_the_archive(tmp_path: Path, database: str) -> None:
    node = NodeProcess(tmp_path / "data", "--workers", "2", database=database)
    study = f"{ROOT}.1"
    jobs = []
    for sender in range(4):
        series = f"{study}.{sender + 1}"
        ids = {"PatientID": "WORKERS", "StudyInstanceUID": study, "SeriesInstanceUID": series}
        batch = [
            peers.make_ct(None, PIXELS, seed=sender * 10 + n, SOPInstanceUID=f"{series}.{n}", **ids)
            for n in range(1, 6)
        ]
        jobs.append(batch)
    with running(node):
        workers = _workers(node)
        statuses = send_at_once([(node.port, batch) for batch in jobs])
        assert statuses == [[0] * 5] * 4, node.log()
        query = dataset(
            QueryRetrieveLevel="STUDY", PatientID="WORKERS", StudyInstanceUID="",
            NumberOfStudyRelatedInstances="", NumberOfStudyRelatedSeries="",
        )  # fmt: skip
        (answer,) = [ds for status, ds in pynetdicom_find(node.port, query) if ds is not None]
        assert int(answer.NumberOfStudyRelatedInstances) == 20
        assert int(answer.NumberOfStudyRelatedSeries) == 4
    # running() has checked that the supervisor exited with 0 on SIGTERM.
    assert _wait_until(lambda: not any(_alive(pid) for pid in workers))
    assert all(f"w{n}: stopped" in node.log() for n in (1, 2)), node.log()
    assert len(node.stored_files()) == 20
    assert node.temp_files() == []
    with node.index() as index:
        assert index.counts()["instances"] == 20


def test_a_worker_that_dies_stops_the_node(tmp_path: Path) -> None:
    node = NodeProcess(tmp_path / "data", "--workers", "2").start()
    try:
        first, second = _workers(node)
        os.kill(first, signal.SIGKILL)
        code = node.wait(30)
    finally:
        node.kill()
    assert code != 0
    assert f"(pid {first}) exited with signal SIGKILL" in node.log(), node.log()
    assert _wait_until(lambda: not _alive(second))
    assert "Traceback" not in node.log()


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    node = NodeProcess(tmp_path / "data", "--workers", "2").start()
    try:
        workers = _workers(node)
    finally:
        node.kill()  # SIGKILL: the supervisor cannot pass anything on
    assert _wait_until(lambda: not any(_alive(pid) for pid in workers)), node.log()
    assert all(f"w{n}: stopped" in node.log() for n in (1, 2)), node.log()


def test_a_port_in_use_is_one_line_and_no_worker(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((peers.LOCALHOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = peers.run_dicomwire(
            "serve", "--workers", "2", "--port", port, "--bind", peers.LOCALHOST,
            "--data-dir", tmp_path / "data",
        )  # fmt: skip
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dicomwire serve: "), result.stderr
    assert "listening on" not in result.stderr
