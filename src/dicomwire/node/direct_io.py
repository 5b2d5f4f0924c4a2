"""Writing the store's files with ``O_DIRECT``: from our buffer to the disk, past the page cache.

Every stored file is fsynced before it is acknowledged, so its bytes go to
the disk at once anyway; buffered writes first copy them into freshly
allocated page-cache pages, which on the project's virtual machine cost
1.5-2 ms of CPU per 512 KiB instance, against 0.4-0.7 ms written directly
(docs/performance.md, fifth round). The fsync is still made: it commits the
file's size and metadata and flushes the device's write cache.

``O_DIRECT`` wants the buffer, the file offset and the length aligned to
the device's logical block size. One page-aligned buffer per thread
(``mmap``) collects the pieces of a file; the last block is padded and the
file truncated to its real length. Filesystems without ``O_DIRECT``
(tmpfs on older kernels, some network filesystems) refuse it with EINVAL,
at ``open`` or at the first write: :meth:`DirectWriter.write_file` then
writes that file, and every later one, through the page cache
(:attr:`DirectWriter.supported` turns false).

New folders are made durable here too (:func:`make_folders`): a file's
fsync does not keep the name of a folder created just before it.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

O_DIRECT: int = getattr(os, "O_DIRECT", 0)  # Linux; elsewhere direct writes are never tried
ALIGNMENT = 4096  # a multiple of every logical block size in use (512, 4096)
_BUFFER_SIZE = 4 << 20  # per writing thread; pages are only touched as far as files reach


class DirectUnsupported(OSError):
    """The filesystem refused ``O_DIRECT``; nothing of the file was kept."""


class DirectWriter:
    """Writes whole files with ``O_DIRECT`` through one aligned buffer per thread."""

    def __init__(self, enabled: bool = True, buffer_size: int = _BUFFER_SIZE) -> None:
        if buffer_size <= 0 or buffer_size % ALIGNMENT:
            raise ValueError(f"buffer_size must be a positive multiple of {ALIGNMENT}")
        self.supported = enabled and O_DIRECT != 0
        self.buffer_size = buffer_size
        self._local = threading.local()

    def open(self, path: str) -> int:
        """A new, empty file at ``path`` opened for direct writing (see :meth:`write`)."""
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | O_DIRECT, 0o600)
        except OSError as exc:
            raise self._refused(exc) from exc

    def write(self, fd: int, pieces: Iterable[bytes | bytearray | memoryview]) -> int:
        """Write ``pieces`` one after the other from offset 0; returns the file's length."""
        view = self._buffer()
        size = len(view)
        filled = written = 0
        for piece in pieces:
            source = memoryview(piece).cast("B")
            while source:
                count = min(len(source), size - filled)
                view[filled : filled + count] = source[:count]
                filled += count
                source = source[count:]
                if filled == size:
                    self._write_all(fd, view[:size])
                    written += size
                    filled = 0
        if filled:
            # The padding's bytes do not matter: the file is cut back to its length.
            self._write_all(fd, view[: -(-filled // ALIGNMENT) * ALIGNMENT])
            written += filled
            os.ftruncate(fd, written)
        return written

    def write_file(
        self, path: str, pieces: Callable[[], Iterable[bytes | bytearray | memoryview]]
    ) -> None:
        """Create ``path`` from ``pieces()`` and fsync it: directly while the
        filesystem allows, else through the page cache (``pieces`` is called again).
        """
        if self.supported:
            try:
                fd = self.open(path)
                try:
                    self.write(fd, pieces())
                    os.fsync(fd)
                finally:
                    os.close(fd)
                return
            except DirectUnsupported:
                pass  # written again below
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces():
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())

    def _buffer(self) -> memoryview:
        view: memoryview | None = getattr(self._local, "view", None)
        if view is None:
            view = memoryview(mmap.mmap(-1, self.buffer_size))  # page-aligned
            self._local.view = view
        return view

    def _write_all(self, fd: int, block: memoryview) -> None:
        while block:
            try:
                count = os.write(fd, block)
            except OSError as exc:
                raise self._refused(exc) from exc
            if count % ALIGNMENT and count < len(block):
                # A short write that leaves the offset unaligned cannot go on directly.
                raise DirectUnsupported(errno.EINVAL, "short unaligned direct write")
            block = block[count:]

    def _refused(self, exc: OSError) -> OSError:
        if exc.errno != errno.EINVAL:
            return exc
        self.supported = False
        return DirectUnsupported(exc.errno, f"O_DIRECT refused: {exc.strerror}")


def fsync_folder(folder: str | Path) -> None:
    """Make the entries of ``folder`` (files renamed or created in it) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each one's name fsynced in its parent.

    A folder's name is an entry of its parent, which the fsync of the folder
    or of a file in it does not write. Journaling filesystems happen to
    commit it along with that fsync; others need not, and a crash could then
    lose a folder of files that were acknowledged as stored.
    """
    missing: list[Path] = []
    level = folder
    while not level.is_dir():
        missing.append(level)
        level = level.parent
    for level in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another writer made it meanwhile
            level.mkdir()
        fsync_folder(level.parent)


def in_new_folder(folder: Path, create: Callable[[], T]) -> T:
    """``create()`` a file in ``folder``, making the folder first if it is missing.

    Trying first costs nothing when the folder exists (every file but the
    first of its folder) where looking for it would cost a system call
    each time. After a FileNotFoundError the folder is made (nothing to do
    if another writer made it meanwhile) and ``create()`` tried once more:
    what else was missing (a spooled data set gone, say) fails again.
    """
    try:
        return create()
    except FileNotFoundError:
        make_folders(folder)
        return create()
