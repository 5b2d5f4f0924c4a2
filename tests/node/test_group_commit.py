"""Group commit: the rows of concurrent stores share one transaction, and
nobody hears "committed" before its own row is (node/group_commit.py)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DataError, OperationalError
from test_index import make_dataset, write

from dicomwire.node import group_commit
from dicomwire.node.group_commit import GroupCommit
from dicomwire.node.index import DuplicateInstance, Index
from dicomwire.node.records import InstanceRecord

THREADS = 8


def records(data_dir: Path, count: int, study: str = "1") -> list[InstanceRecord]:
    return [write(data_dir, make_dataset(study, str(n % 3 + 1), str(n + 1))) for n in range(count)]


class Gate:
    """Holds the first group's commit until every other thread is queued behind it
    (installed as the index's ``add_many``)."""

    def __init__(self, commits: GroupCommit, others: int) -> None:
        self.commits, self.others = commits, others
        self.groups: list[int] = []
        self.real = commits.index.add_many
        commits.index.add_many = self.add_many  # type: ignore[method-assign]

    def add_many(self, requests: Any) -> list[str | Exception]:
        if not self.groups:
            pause = threading.Event()
            for _ in range(1000):  # at most 10 s
                if len(self.commits._waiting) >= self.others:
                    break
                pause.wait(0.01)
        self.groups.append(len(requests))
        return self.real(requests)


def run_threads(commits: GroupCommit, work: Sequence[tuple[Any, ...]]) -> list[Any]:
    """``commits.add(*arguments)`` for each item of ``work``, each in its own thread."""
    outcomes: list[Any] = [None] * len(work)

    def one(i: int) -> None:
        try:
            outcomes[i] = commits.add(*work[i])
        except Exception as exc:  # collected for the assertions
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_waiting_rows_are_committed_together(index_url: str, data_dir: Path) -> None:
    index = Index(index_url, data_dir)
    commits = GroupCommit(index)
    gate = Gate(commits, THREADS - 1)
    work = [(r, "keep") for r in records(data_dir, THREADS)]
    assert run_threads(commits, work) == ["stored"] * THREADS
    assert gate.groups == [1, THREADS - 1]  # the first alone, then everybody who waited
    assert index.counts()["instances"] == THREADS


def test_one_refused_row_leaves_the_others_committed(index_url: str, data_dir: Path) -> None:
    index = Index(index_url, data_dir)
    first, *rest = records(data_dir, 4)
    index.add(first)
    commits = GroupCommit(index)
    Gate(commits, 4)  # installs itself as the index's add_many
    work = [(first, "keep"), (first, "reject"), *[(r, "reject") for r in rest]]
    outcomes = run_threads(commits, work)
    assert outcomes[0] == "kept"
    assert isinstance(outcomes[1], DuplicateInstance)
    assert outcomes[2:] == ["stored"] * 3
    assert index.counts()["instances"] == 4


def test_a_failed_commit_fails_its_group_only(
    sqlite_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = Index(sqlite_url, data_dir)
    commits = GroupCommit(index)
    failing, later = records(data_dir, 2)
    real = index.add_many

    def down(requests: Any) -> list[str]:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(index, "add_many", down)
    with pytest.raises(OperationalError):
        commits.add(failing)
    monkeypatch.setattr(index, "add_many", real)
    assert commits.add(later) == "stored"
    assert index.instance(failing.sop_instance_uid) is None


def test_alone_it_commits_at_once(sqlite_url: str, data_dir: Path) -> None:
    index = Index(sqlite_url, data_dir)
    commits = GroupCommit(index)
    for record in records(data_dir, 3):
        assert commits.add(record, "reject") == "stored"
        assert index.instance(record.sop_instance_uid) is not None  # committed on return


def test_a_row_the_database_rejects_fails_alone(
    index_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run plainly first, then again with a savepoint per row to find the bad one."""
    index = Index(index_url, data_dir)
    group = records(data_dir, 4)
    bad = group[2].sop_instance_uid
    real = Index._add

    def picky(self: Index, conn: Any, record: InstanceRecord, policy: str) -> str:
        if record.sop_instance_uid == bad:
            raise DataError("INSERT", {}, Exception("value too long"))
        return real(self, conn, record, policy)

    monkeypatch.setattr(Index, "_add", picky)
    outcomes = index.add_many([(r, "keep") for r in group])
    assert isinstance(outcomes[2], DataError)
    assert [outcomes[i] for i in (0, 1, 3)] == ["stored"] * 3
    assert index.counts()["instances"] == 3
    assert index.instance(bad) is None


def test_folders_are_synced_once_before_the_commit(sqlite_url: str, data_dir: Path) -> None:
    index = Index(sqlite_url, data_dir)
    synced: list[list[Path]] = []
    indexed_then: list[int] = []

    def sync(folders: Any) -> None:
        synced.append(list(folders))
        indexed_then.append(index.counts()["instances"])

    commits = GroupCommit(index, sync)
    Gate(commits, 3)  # installs itself as the index's add_many
    folders = [data_dir / "a", data_dir / "b", data_dir / "a", data_dir / "b"]
    work = [(r, "keep", f) for r, f in zip(records(data_dir, 4), folders, strict=True)]
    assert run_threads(commits, work) == ["stored"] * 4
    assert [len(f) for f in synced] == [1, 3]  # the first alone, then the other three
    assert indexed_then == [0, 1]  # each group's folders before its rows
    assert {f for group_folders in synced for f in group_folders} == set(folders)


def test_more_waiting_than_a_group_holds(
    sqlite_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leader whose own row is past MAX_GROUP commits the oldest, then its own."""
    monkeypatch.setattr(group_commit, "MAX_GROUP", 2)
    index = Index(sqlite_url, data_dir)
    commits = GroupCommit(index)
    gate = Gate(commits, THREADS - 1)
    work = [(r, "keep") for r in records(data_dir, THREADS)]
    assert run_threads(commits, work) == ["stored"] * THREADS
    assert max(gate.groups) == 2
    assert sum(gate.groups) == THREADS
    assert index.counts()["instances"] == THREADS
