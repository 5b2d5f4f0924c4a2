"""The node's file store: one PS3.10 file per instance, written durably.

Layout: ``<data_dir>/files/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``.
Only values that are valid UIDs (PS3.5 9.1: digits and dots, at most 64
characters) ever become path components, so nothing a peer sends can point
outside the store. A file appears under its final name only once it is
complete and fsynced (temporary file, fsync, rename, fsync of the folder).
Writers of one SOP instance, in any thread or process sharing the data
directory, take turns under :meth:`FileStore.lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import threading
import uuid
import zlib
from collections.abc import Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.uid import UID

from .catalog import INDEXED_VRS
from .direct_io import DirectWriter, fsync_folder, in_new_folder, make_folders
from .header import read_index_header, read_index_texts

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_PIXEL_DATA_GROUP = 0x7FE0
_NAMES_SYNCED_MAX = 65536  # series folders remembered as durable by name
_LOCK_STRIPES = 256  # lock files under <data_dir>/.locks, shared by all instances
_SPOOL_CHUNK = 1 << 20  # a spooled data set is copied into the store in blocks of this size
_TOKEN = uuid.uuid4().hex[:12]  # this process's temporary file names (FileStore.write)


class InvalidUID(ValueError):
    """A value that should be a UID is not one, so it cannot name a file."""


def check_uid(value: str, what: str) -> str:
    """``value`` if it is a syntactically valid UID, else :class:`InvalidUID`."""
    uid = value.rstrip("\0 ")
    if not uid or len(uid) > 64 or not _UID.match(uid):
        raise InvalidUID(f"{what} {value!r} is not a valid UID")
    return uid


class FileStore:
    """Instances on disk under ``data_dir``; paths handed out are relative to it."""

    def __init__(self, data_dir: str | Path, direct_io: bool = True) -> None:
        self.direct = DirectWriter(direct_io)
        self.root = Path(data_dir).resolve()
        self._root_text = str(self.root)
        self._root_prefix = os.path.join(self._root_text, "")
        self.files = self.root / "files"
        make_folders(self.files)
        self.locks = self.root / ".locks"
        self.locks.mkdir(exist_ok=True)
        self._names_synced: set[Path] = set()  # folders whose names this process made durable

    def relative_path(self, study_uid: str, series_uid: str, sop_uid: str) -> str:
        """Where an instance lives, relative to the data directory."""
        parts = (
            check_uid(study_uid, "StudyInstanceUID"),
            check_uid(series_uid, "SeriesInstanceUID"),
            check_uid(sop_uid, "SOPInstanceUID") + ".dcm",
        )
        return "/".join(("files", *parts))

    def absolute(self, relative: str) -> Path:
        # normpath, not resolve(): the same ".." check without an lstat of
        # every path component, on every store and retrieval; on strings,
        # as PurePath.parents builds a path object per level.
        path = os.path.normpath(os.path.join(self._root_text, relative))
        if not path.startswith(self._root_prefix):
            raise InvalidUID(f"{relative!r} is outside the store")
        return Path(path)

    def write(
        self,
        relative: str,
        file_meta: bytes,
        data: bytes | None,
        spooled: str | None,
        sync_folder: bool = True,
    ) -> Path:
        """Write the file durably: ``file_meta`` (preamble, ``DICM``, group 0002
        encoded, see :meth:`Event.encoded_file_meta`), then the data set.

        The data set comes from memory (``data``) or is copied from the
        receiver's spool file (``spooled``) without loading it. With
        ``sync_folder=False`` the caller fsyncs the folder itself (see
        :meth:`sync_folders`) before relying on the file being there.
        Returns where the file is.
        """
        path = self.absolute(relative)
        folder = path.parent
        # A name no other writer uses, without tempfile's random names and retry
        # loop: a thread writes one file at a time, and the token tells apart
        # nodes that share the data directory from other machines. Written with
        # O_DIRECT where the filesystem allows (direct_io.py).
        temp = f"{folder}/.incoming-{_TOKEN}-{os.getpid()}-{threading.get_ident()}.part"
        pieces = functools.partial(_pieces, file_meta, data, spooled)
        try:
            # The series' first instance makes its folders (durably).
            in_new_folder(folder, functools.partial(self.direct.write_file, temp, pieces))
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        if sync_folder:
            self.sync_folders((folder,))
        return path

    def sync_folders(self, folders: Iterable[Path]) -> None:
        """Make the renames into these folders durable: one fsync per folder, not per file.

        The first time this process syncs a folder, the folders above it (up
        to ``files``) are fsynced too. Whoever made it fsyncs its name into
        its parent (``make_folders``), but another thread or node process
        can write a file into it before that, and be answered first.
        """
        for folder in set(folders):
            fsync_folder(folder)
            if folder not in self._names_synced:
                self._sync_names(folder)

    def _sync_names(self, folder: Path) -> None:
        level = folder
        while level != self.files and level != level.parent:
            level = level.parent
            fsync_folder(level)
        if len(self._names_synced) >= _NAMES_SYNCED_MAX:
            self._names_synced.clear()  # bounded: a forgotten folder costs fsyncs, not safety
        self._names_synced.add(folder)

    @contextlib.contextmanager
    def lock(self, uid: str) -> Iterator[None]:
        """Hold the exclusive lock of ``uid`` (one of a fixed set of lock files).

        ``flock`` works between threads (each opens the file) and between
        processes sharing the data directory, so two nodes storing the same
        instance at once cannot interleave "is it indexed? write it, index it".
        The file is opened for each lock rather than kept: keeping all of
        them open would hold 256 descriptors for an open+close per instance.
        """
        name = f"{zlib.crc32(uid.encode()) % _LOCK_STRIPES:03d}.lock"
        fd = os.open(self.locks / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def delete(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.absolute(relative).unlink()


def _pieces(file_meta: bytes, data: bytes | None, spooled: str | None) -> Iterator[bytes]:
    yield file_meta
    if data is not None:
        yield data
    elif spooled is not None:
        with open(spooled, "rb") as src:
            while chunk := src.read(_SPOOL_CHUNK):
                yield chunk


def read_indexed(
    data: bytes | None, spooled: str | None, transfer_syntax: str
) -> Dataset | dict[int, str]:
    """What ``record_from`` needs: the text of the indexed elements, read straight
    from a data set in memory in a little-endian syntax (``read_index_texts``);
    otherwise, or where that cannot say what pydicom would, :func:`read_header`."""
    syntax = UID(transfer_syntax)
    if data is not None and syntax.is_little_endian and not syntax.is_deflated:
        texts = read_index_texts(data, syntax.is_implicit_VR, INDEXED_VRS, _PIXEL_DATA_GROUP)
        if texts is not None:
            return texts
    return read_header(data, spooled, transfer_syntax)


def read_header(data: bytes | None, spooled: str | None, transfer_syntax: str) -> Dataset:
    """The data set up to (not including) Pixel Data: what the index needs.

    Reading stops at group 7FE0 so a large image costs no more than its
    header. A data set in memory in a little-endian syntax is read by
    :func:`read_index_header`, which leaves sequences out; otherwise
    pydicom reads it. Deflated data sets are inflated first (they are rare).
    """
    syntax = UID(transfer_syntax)
    if data is not None and syntax.is_little_endian and not syntax.is_deflated:
        found = read_index_header(data, syntax.is_implicit_VR, _PIXEL_DATA_GROUP)
        if found is not None:
            return found
    if data is None and spooled is not None:
        with open(spooled, "rb") as fh:
            return _read_header(fh, syntax)
    return _read_header(BytesIO(data or b""), syntax)


def _read_header(fh: BinaryIO, syntax: UID) -> Dataset:
    if syntax.is_deflated:
        fh = BytesIO(zlib.decompress(fh.read(), -zlib.MAX_WBITS))
    return read_dataset(
        fh,
        is_implicit_VR=syntax.is_implicit_VR,
        is_little_endian=syntax.is_little_endian,
        stop_when=lambda tag, vr, length: tag.group >= _PIXEL_DATA_GROUP,
    )
