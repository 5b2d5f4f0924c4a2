"""Group commit of index rows: one transaction for the instances of several associations.

Every C-STORE Success promises that the instance's row is committed, and a
commit costs an fsync (SQLite WAL with ``synchronous=FULL``, PostgreSQL's
WAL flush) while holding the database's write lock. With one transaction
per instance, concurrent associations queue on that lock and pay one fsync
each. Here the first thread to arrive commits, in one transaction, the
rows of every thread that is waiting at that moment; threads arriving
during that commit form the next group. Nobody is answered before its
own row is committed, and a thread alone commits at once (no timer).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .index import Index
from .records import InstanceRecord

MAX_GROUP = 64  # rows per transaction: bounds the time the write lock is held


@dataclass
class _Request:
    record: InstanceRecord
    policy: str
    outcome: str | BaseException | None = None
    done: bool = field(default=False)


class GroupCommit:
    """:meth:`Index.add` for many threads at once, sharing commits (see module docstring)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._committing = False

    def add(self, record: InstanceRecord, on_duplicate: str = "keep") -> str:
        """Like :meth:`Index.add`: the outcome once this instance's row is committed."""
        request = _Request(record, on_duplicate)
        group: list[_Request] = []
        with self._cond:
            self._waiting.append(request)
            while not request.done and self._committing:
                self._cond.wait()
            if not request.done:  # nobody is committing: lead the next group
                self._committing = True
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        if group:
            self._lead(group)
        if isinstance(request.outcome, BaseException):
            raise request.outcome
        assert request.outcome is not None
        return request.outcome

    def _lead(self, group: list[_Request]) -> None:
        try:
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
