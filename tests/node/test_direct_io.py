"""Stored files written with O_DIRECT (node/direct_io.py), and the fall-back to buffered writes."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import Any

import pytest

from dicomwire.node import direct_io
from dicomwire.node import store as store_module
from dicomwire.node.direct_io import ALIGNMENT, DirectUnsupported, DirectWriter
from dicomwire.node.store import FileStore

needs_o_direct = pytest.mark.skipif(direct_io.O_DIRECT == 0, reason="no O_DIRECT here")
META = b"\0" * 128 + b"DICM" + bytes(range(60))
RELATIVE = "files/1.2/1.2.3/1.2.3.4.dcm"


def _write(writer: DirectWriter, path: Path, pieces: list[bytes]) -> int:
    fd = writer.open(str(path))
    try:
        return writer.write(fd, pieces)
    finally:
        os.close(fd)


@needs_o_direct
@pytest.mark.parametrize(
    "sizes",
    [
        [0],
        [1],
        [ALIGNMENT],
        [ALIGNMENT + 1],
        [100, 3 * ALIGNMENT - 100],  # ends exactly where the buffer is full
        [7, 3 * ALIGNMENT, 5],  # crosses the buffer's end inside a piece
        [2 * ALIGNMENT + 33, 9 * ALIGNMENT + 1],  # several buffers' worth in one piece
    ],
)
def test_pieces_land_in_order_with_the_exact_length(tmp_path: Path, sizes: list[int]) -> None:
    writer = DirectWriter(buffer_size=3 * ALIGNMENT)
    pieces = [os.urandom(size) for size in sizes]
    target = tmp_path / "f.dcm"
    length = _write(writer, target, pieces)
    if not writer.supported:
        pytest.skip("this filesystem refuses O_DIRECT")
    assert length == sum(sizes)
    assert target.read_bytes() == b"".join(pieces)


@needs_o_direct
def test_the_buffer_is_aligned_and_kept_per_thread(tmp_path: Path) -> None:
    writer = DirectWriter(buffer_size=2 * ALIGNMENT)
    _write(writer, tmp_path / "a", [b"x" * 10])
    first = writer._buffer()
    _write(writer, tmp_path / "b", [b"y" * 10])
    assert writer._buffer() is first  # reused, not allocated per file
    assert len(first) == 2 * ALIGNMENT


def test_buffer_size_must_be_aligned() -> None:
    with pytest.raises(ValueError, match="multiple"):
        DirectWriter(buffer_size=ALIGNMENT + 1)


def test_disabled_writer_is_never_tried(tmp_path: Path) -> None:
    store = FileStore(tmp_path, direct_io=False)
    assert not store.direct.supported
    path = store.write(RELATIVE, META, b"data" * 1000, None)
    assert path.read_bytes() == META + b"data" * 1000


@pytest.mark.parametrize("where", ["open", "write"])
def test_einval_falls_back_to_buffered_writes_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A filesystem that refuses O_DIRECT at open or at the first write loses nothing."""
    real_open, real_write = os.open, os.write
    refusals: list[str] = []

    def refusing_open(path: Any, flags: int, *args: Any) -> int:
        if where == "open" and flags & direct_io.O_DIRECT:
            refusals.append(where)
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return real_open(path, flags, *args)

    def refusing_write(fd: int, data: Any) -> int:
        if where == "write" and _is_direct(fd):
            refusals.append(where)
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return real_write(fd, data)

    monkeypatch.setattr(direct_io, "O_DIRECT", direct_io.O_DIRECT or 0o40000)
    monkeypatch.setattr(os, "open", refusing_open)
    monkeypatch.setattr(os, "write", refusing_write)
    store = FileStore(tmp_path)
    store.direct.supported = True
    data = os.urandom(3 * ALIGNMENT + 5)
    path = store.write(RELATIVE, META, data, None)
    assert path.read_bytes() == META + data
    assert refusals == [where] and not store.direct.supported
    second = store.write("files/1.2/1.2.3/1.2.3.5.dcm", META, data, None)
    assert second.read_bytes() == META + data and refusals == [where]  # not tried again
    assert [p.name for p in path.parent.iterdir()] == sorted(["1.2.3.4.dcm", "1.2.3.5.dcm"])


def _is_direct(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & direct_io.O_DIRECT)


@pytest.mark.parametrize("direct", [True, False])
def test_other_errors_are_not_fallen_back_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    """Disk full is an error for the caller (Out of Resources), not a reason to retry."""

    def full(file_meta: bytes, data: Any, spooled: Any) -> Any:
        yield file_meta
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module, "_pieces", full)
    store = FileStore(tmp_path, direct_io=direct)
    with pytest.raises(OSError) as raised:
        store.write(RELATIVE, META, b"x" * 5000, None)
    assert raised.value.errno == errno.ENOSPC and not isinstance(raised.value, DirectUnsupported)
    assert store.direct.supported == (direct and direct_io.O_DIRECT != 0)
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]  # nor a temporary one


@pytest.mark.parametrize("direct", [True, False])
def test_spooled_data_sets_are_copied_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    monkeypatch.setattr(store_module, "_SPOOL_CHUNK", 3 * ALIGNMENT + 7)
    spool = tmp_path / "spool"
    data = os.urandom(10 * ALIGNMENT + 123)
    spool.write_bytes(data)
    store = FileStore(tmp_path / "data", direct_io=direct)
    store.direct = DirectWriter(direct, buffer_size=4 * ALIGNMENT)
    path = store.write(RELATIVE, META, None, str(spool))
    assert path.read_bytes() == META + data


# -- new folders ------------------------------------------------------------------


def _record_folder_syncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    synced: list[Path] = []
    real = direct_io.fsync_folder

    def record(folder: str | Path) -> None:
        synced.append(Path(folder))
        real(folder)

    monkeypatch.setattr(direct_io, "fsync_folder", record)
    monkeypatch.setattr(store_module, "fsync_folder", record)
    return synced


def test_new_folders_are_fsynced_into_their_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _record_folder_syncs(monkeypatch)
    direct_io.make_folders(tmp_path / "a" / "b" / "c")
    assert (tmp_path / "a" / "b" / "c").is_dir()
    assert synced == [tmp_path, tmp_path / "a", tmp_path / "a" / "b"]
    synced.clear()
    direct_io.make_folders(tmp_path / "a" / "b" / "c")  # all there: nothing to do
    assert synced == []


def test_a_folder_made_meanwhile_by_another_writer_is_still_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _record_folder_syncs(monkeypatch)
    folder = tmp_path / "made-meanwhile"
    folder.mkdir()
    real_is_dir = Path.is_dir
    seen: set[Path] = set()

    def not_yet(self: Path) -> bool:  # the first look misses the other writer's mkdir
        if self == folder and self not in seen:
            seen.add(self)
            return False
        return real_is_dir(self)

    monkeypatch.setattr(Path, "is_dir", not_yet)
    direct_io.make_folders(folder)
    assert synced == [tmp_path]


@pytest.mark.parametrize("direct", [True, False])
def test_store_makes_a_series_folder_once_and_durably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    store = FileStore(tmp_path, direct_io=direct)
    synced = _record_folder_syncs(monkeypatch)
    made: list[Path] = []
    real_mkdir = Path.mkdir

    def counting_mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", counting_mkdir)
    store.write(RELATIVE, META, b"first", None)
    files = tmp_path.resolve() / "files"
    assert made == [files / "1.2", files / "1.2" / "1.2.3"]
    assert synced[:2] == [files, files / "1.2"]
    store.write("files/1.2/1.2.3/1.2.3.5.dcm", META, b"second", None)
    assert len(made) == 2  # the folder is there: no mkdir, no extra look
    assert (files / "1.2" / "1.2.3" / "1.2.3.5.dcm").read_bytes() == META + b"second"


def test_a_missing_spool_file_is_not_taken_for_a_missing_folder(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.write(RELATIVE, META, b"first", None)
    with pytest.raises(FileNotFoundError):
        store.write("files/1.2/1.2.3/1.2.3.9.dcm", META, None, str(tmp_path / "gone.spool"))
    folder = tmp_path / "files" / "1.2" / "1.2.3"
    assert sorted(p.name for p in folder.iterdir()) == ["1.2.3.4.dcm"]


def test_a_folder_another_writer_makes_after_the_first_try_is_written_into(
    tmp_path: Path,
) -> None:
    """Two first stores of one series: both tries fail, the other writer's mkdir
    wins, and this one must still write (it once answered Out of Resources)."""
    folder = tmp_path / "series"
    tries: list[int] = []

    def create() -> str:
        tries.append(1)
        if len(tries) == 1:
            folder.mkdir()  # the other writer, between this try and the look
            raise FileNotFoundError(str(folder / "x.part"))
        (folder / "x.part").write_bytes(b"x")
        return "written"

    assert direct_io.in_new_folder(folder, create) == "written"
    assert len(tries) == 2


def test_a_folder_made_by_someone_else_has_its_names_synced_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sync of a folder in this process fsyncs the folders above it too:
    the writer that made it (another node process) may not have yet."""
    store = FileStore(tmp_path)
    files = tmp_path.resolve() / "files"
    series = files / "1.2" / "1.2.3"
    series.mkdir(parents=True)  # by another process: no fsync of its names
    synced = _record_folder_syncs(monkeypatch)
    store.sync_folders([series])
    assert synced == [series, files / "1.2", files]
    synced.clear()
    store.sync_folders([series, series])
    assert synced == [series]
