"""Group commit of index rows: one transaction for the instances of several associations.

Every C-STORE Success promises that the instance's row is committed, and a
commit costs an fsync (SQLite WAL with ``synchronous=FULL``, PostgreSQL's
WAL flush) while holding the database's write lock. With one transaction
per instance, concurrent associations queue on that lock and pay one fsync
each. Here the first thread to arrive commits, in one transaction, the
rows of every thread that is waiting at that moment; threads arriving
during that commit form the next group. Nobody is answered before its
own row is committed, and a thread alone commits at once (no timer).

The same goes for the folders the instances' files were renamed into:
the leader fsyncs each folder of its group once, before the commit, so
the index never names a file whose directory entry could still be lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .index import Index
from .records import InstanceRecord

MAX_GROUP = 64  # rows per transaction: bounds the time the write lock is held


@dataclass
class _Request:
    record: InstanceRecord
    policy: str
    folder: Path | None
    outcome: str | BaseException | None = None
    done: bool = field(default=False)


class GroupCommit:
    """:meth:`Index.add` for many threads at once, sharing commits (see module docstring)."""

    def __init__(
        self, index: Index, sync_folders: Callable[[Iterable[Path]], None] | None = None
    ) -> None:
        self.index = index
        self.sync_folders = sync_folders
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._committing = False

    def add(
        self, record: InstanceRecord, on_duplicate: str = "keep", folder: Path | None = None
    ) -> str:
        """Like :meth:`Index.add`: the outcome once this instance's row is committed.

        ``folder``: where the instance's file was renamed into, to be fsynced
        (by ``sync_folders``) before the row is committed.
        """
        request = _Request(record, on_duplicate, folder)
        with self._cond:
            self._waiting.append(request)
        # A leader takes the oldest MAX_GROUP requests, which need not include
        # its own: it then waits (or leads) again until its own is done.
        while True:
            with self._cond:
                while not request.done and self._committing:
                    self._cond.wait()
                if request.done:
                    break
                self._committing = True  # nobody is committing: lead the next group
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            self._lead(group)
        if isinstance(request.outcome, BaseException):
            raise request.outcome
        assert request.outcome is not None
        return request.outcome

    def _lead(self, group: list[_Request]) -> None:
        try:
            folders = [r.folder for r in group if r.folder is not None]
            if folders and self.sync_folders is not None:
                self.sync_folders(folders)
            outcomes: list[str | BaseException] = list(
                self.index.add_many([(r.record, r.policy) for r in group])
            )
        except BaseException as exc:  # the commit failed: nothing of the group is indexed
            outcomes = [exc] * len(group)
        with self._cond:
            for request, outcome in zip(group, outcomes, strict=True):
                request.outcome, request.done = outcome, True
            self._committing = False
            self._cond.notify_all()
