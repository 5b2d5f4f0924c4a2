"""Does the index agree with the file store? (``dicomwire check``)

The node writes the file (temporary file, fsync, rename) before it commits
the index row, and answers Success only after both. A crash can therefore
leave, at worst:

* a complete file with no index row (killed between rename and commit): the
  sender got no Success, but the file is good; ``repair`` indexes it from
  its own header;
* a ``.incoming-*.part`` temporary file (killed while writing): never
  visible as an instance, harmless; reported, and deleted by ``repair``.

An index row whose file is missing or unreadable should never happen (files
are removed from disk only after their row is gone); it means the disk was
changed behind the node's back. ``repair`` removes such rows, so queries no
longer promise what a retrieval cannot deliver.

Run ``repair`` with the node stopped: a temporary file may belong to a store
in progress.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from .index import Index, StoredInstance
from .store import FileStore

LOGGER = logging.getLogger("dicomwire.node.check")
TEMP_PATTERN = ".incoming-*.part"


@dataclass
class CheckReport:
    """What :func:`check` found (paths relative to the data directory) and what it repaired."""

    missing: list[StoredInstance] = field(default_factory=list)  # row, no readable file
    unindexed: list[str] = field(default_factory=list)  # file, no row
    unreadable: list[str] = field(default_factory=list)  # file, not a usable instance
    conflicts: list[str] = field(default_factory=list)  # file of an instance indexed elsewhere
    temp_files: list[str] = field(default_factory=list)  # interrupted writes
    repaired: list[str] = field(default_factory=list)  # what repair did, one line each
    was_repaired: bool = False

    @property
    def differences(self) -> int:
        """Disagreements found between index and store (temporary files are not ones)."""
        return len(self.missing) + len(self.unindexed) + self.left

    @property
    def left(self) -> int:
        """Differences that repair does not fix: files that need a person."""
        return len(self.unreadable) + len(self.conflicts)

    @property
    def consistent(self) -> bool:
        """Index and store agree now (after the repair, if there was one)."""
        return self.left == 0 if self.was_repaired else self.differences == 0


def _header(path: Path) -> Dataset:
    return dcmread(path, stop_before_pixels=True)


def _readable(store: FileStore, stored: StoredInstance) -> bool:
    try:
        header = _header(store.absolute(stored.path))
    except Exception:  # missing, truncated, not DICOM, outside the store
        return False
    return str(header.get("SOPInstanceUID", "")) == stored.sop_instance_uid


def check(
    index: Index,
    store: FileStore,
    repair: bool = False,
    report: Callable[[str], None] | None = None,
) -> CheckReport:
    """Compare ``index`` with ``store``; with ``repair``, make them agree.

    The report lists what was found; :attr:`CheckReport.repaired` what was
    done. Unreadable and conflicting files are left alone (they need a
    person), so they stay differences after a repair.
    """
    say = report or LOGGER.info
    result = CheckReport()
    indexed: set[str] = set()
    for stored in index.instances():
        indexed.add(stored.path)
        if not _readable(store, stored):
            result.missing.append(stored)
            say(f"indexed but missing or unreadable: {stored.path}")
            if repair and index.remove(stored.sop_instance_uid):
                result.repaired.append(f"removed the index row of {stored.sop_instance_uid}")
    for path in sorted(store.files.rglob("*.dcm")):
        relative = path.relative_to(store.root).as_posix()
        if relative not in indexed:
            _unindexed(index, store, path, relative, repair, result, say)
    for path in sorted(store.files.rglob(TEMP_PATTERN)):
        relative = path.relative_to(store.root).as_posix()
        result.temp_files.append(relative)
        say(f"temporary file of an interrupted store: {relative}")
        if repair:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            result.repaired.append(f"deleted {relative}")
    result.was_repaired = repair
    return result


def _unindexed(
    index: Index,
    store: FileStore,
    path: Path,
    relative: str,
    repair: bool,
    result: CheckReport,
    say: Callable[[str], None],
) -> None:
    try:
        header = _header(path)
        syntax = str(header.file_meta.TransferSyntaxUID)
        record = Index.record_from(header, relative, syntax)
    except Exception as exc:  # not DICOM, truncated, or lacking what the index needs
        result.unreadable.append(relative)
        say(f"not indexed and not a usable instance: {relative} ({exc})")
        return
    existing = index.instance(record.sop_instance_uid)
    if existing is not None:
        result.conflicts.append(relative)
        say(f"not indexed, its instance is indexed as {existing.path}: {relative}")
        return
    result.unindexed.append(relative)
    say(f"on disk but not indexed: {relative}")
    if repair:
        index.add(record, on_duplicate="keep")
        result.repaired.append(f"indexed {relative}")
