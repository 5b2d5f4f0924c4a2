"""``dicomwire check``: index and file store compared, and repaired on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread

import peers
from dicomwire.cli.main import main
from dicomwire.node.check import check
from dicomwire.node.index import Index
from dicomwire.node.store import FileStore


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, Index, FileStore]:
    data = tmp_path / "data"
    store = FileStore(data)
    index = Index(f"sqlite:///{data / 'index.sqlite'}", data_dir=data)
    yield data, index, store
    index.close()


def put(index: Index | None, store: FileStore, seed: int = 1) -> str:
    """An instance written where the node would write it (indexed unless ``index`` is None)."""
    ds = peers.make_ct(size_bytes=1024, seed=seed)
    relative = store.relative_path(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    path = store.absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    if index is not None:
        header = dcmread(path, stop_before_pixels=True)
        index.add(Index.record_from(header, relative, str(ds.file_meta.TransferSyntaxUID)))
    return relative


def run_check(data: Path, *extra: str) -> int:
    return main(["check", "--data-dir", str(data), *extra])


def test_consistent_archive(
    archive: tuple[Path, Index, FileStore], capsys: pytest.CaptureFixture[str]
) -> None:
    data, index, store = archive
    put(index, store, 1)
    put(index, store, 2)
    assert run_check(data) == 0
    assert "consistent: 0 indexed but missing, 0 not indexed" in capsys.readouterr().out


def test_row_without_file_is_reported_and_removed(archive: tuple[Path, Index, FileStore]) -> None:
    data, index, store = archive
    kept, lost = put(index, store, 1), put(index, store, 2)
    store.absolute(lost).unlink()
    found = check(index, store)
    assert [m.path for m in found.missing] == [lost] and not found.consistent
    assert run_check(data) == 1
    assert run_check(data, "--repair") == 0
    assert [i.path for i in index.instances()] == [kept]
    assert run_check(data) == 0


def test_truncated_file_counts_as_missing(archive: tuple[Path, Index, FileStore]) -> None:
    _, index, store = archive
    relative = put(index, store, 1)
    path = store.absolute(relative)
    path.write_bytes(path.read_bytes()[:200])
    assert [m.path for m in check(index, store).missing] == [relative]


def test_file_without_row_is_indexed_on_repair(archive: tuple[Path, Index, FileStore]) -> None:
    data, index, store = archive
    put(index, store, 1)
    orphan = put(None, store, 2)
    assert check(index, store).unindexed == [orphan]
    assert run_check(data) == 1
    assert run_check(data, "--repair") == 0
    assert {i.path for i in index.instances()} >= {orphan}
    assert run_check(data) == 0


def test_temporary_files_are_reported_not_differences(
    archive: tuple[Path, Index, FileStore], capsys: pytest.CaptureFixture[str]
) -> None:
    data, index, store = archive
    relative = put(index, store, 1)
    temp = store.absolute(relative).parent / ".incoming-abc123.part"
    temp.write_bytes(b"half a file")
    assert run_check(data) == 0
    assert "temporary file of an interrupted store" in capsys.readouterr().out
    assert temp.exists()
    assert run_check(data, "--repair") == 0
    assert not temp.exists()


def test_unusable_file_is_left_and_stays_a_difference(
    archive: tuple[Path, Index, FileStore],
) -> None:
    data, _index, store = archive
    junk = store.files / "1.2" / "3.4" / "5.6.dcm"
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"not DICOM at all")
    assert run_check(data, "--repair") == 1
    assert junk.exists()


def test_copy_of_an_instance_indexed_elsewhere_is_a_conflict(
    archive: tuple[Path, Index, FileStore],
) -> None:
    _, index, store = archive
    relative = put(index, store, 1)
    copy = store.files / "1.2" / "3.4" / Path(relative).name
    copy.parent.mkdir(parents=True)
    copy.write_bytes(store.absolute(relative).read_bytes())
    found = check(index, store, repair=True)
    assert found.conflicts == [copy.relative_to(store.root).as_posix()]
    assert not found.consistent


def test_missing_data_dir_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_check(tmp_path / "nowhere") == 1
    assert "no such folder" in capsys.readouterr().err
