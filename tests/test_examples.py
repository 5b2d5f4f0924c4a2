"""The seed's storage examples (examples/*.py) run against real DCMTK peers.

Each example is the seed's code with only its imports changed (plus marked
changes where the seed could not run as-is), so these tests are what shows
that code written for the seed API runs on dicomwire.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import ImplicitVRLittleEndian

import peers

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT = 60


def example_env() -> dict[str, str]:
    """The environment for an example: dicomwire importable even if not installed."""
    env = peers.dcmtk_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def run_example(
    script: str, *args: str | int | os.PathLike[str]
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(EXAMPLES / script), *map(str, args)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=example_env()
    )


def serve_example(
    script: str, port: int, workdir: Path, *args: str
) -> AbstractContextManager[peers.PeerProcess]:
    """Run an SCP example in ``workdir`` until it listens on ``port``; stop it after."""
    argv = [sys.executable, str(EXAMPLES / script), str(port), *args]
    log = workdir.parent / f"{Path(script).stem}.log"
    return peers.background_process(argv, port, log, env=example_env(), cwd=workdir, name=script)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "cwd"
    folder.mkdir()
    yield folder


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, peers.describe_run(result)


# -- SCU examples against DCMTK storescp ---------------------------------------


def test_storage_scu(storescp: peers.PeerProcess, sample_files: dict[str, Path]) -> None:
    sent = sample_files["ct_explicit"]
    result = run_example("storage_scu.py", sent, storescp.port)
    assert_ok(result)
    assert "C-STORE request status: 0x0000" in result.stdout, peers.describe_run(result)
    [written] = storescp.files()
    assert peers.element_differences(dcmread(sent), dcmread(written)) == []
    assert peers.read_file_parts(written)[1] == peers.read_file_parts(sent)[1]


def test_storage_scu_requested_contexts() -> None:
    assert_ok(run_example("storage_scu_requested_contexts.py"))


def test_storage_scu_per_association_contexts(storescp: peers.PeerProcess) -> None:
    assert_ok(run_example("storage_scu_contexts.py", storescp.port))
    log = storescp.log()
    # two associations, each negotiated and released in good order
    assert log.count("Association Received") == 2, log
    assert log.count("Association Release") == 2, log


# -- SCP examples receiving from DCMTK storescu --------------------------------


def test_storage_scp_writes_files(workdir: Path, sample_files: dict[str, Path]) -> None:
    port = peers.free_port()
    sent = [sample_files["ct_explicit"], sample_files["ct_implicit"], sample_files["sc_explicit"]]
    with serve_example("storage_scp.py", port, workdir):
        result = peers.run_storescu(port, *sent, args=["-v"])
        assert_ok(result)
    for path in sent:
        original = dcmread(path)
        written = workdir / original.SOPInstanceUID
        assert written.is_file(), sorted(p.name for p in workdir.iterdir())
        received = dcmread(written)
        assert peers.element_differences(original, received) == []
        assert received.file_meta.MediaStorageSOPClassUID == original.SOPClassUID
        assert received.file_meta.MediaStorageSOPInstanceUID == original.SOPInstanceUID
        # storescu sends each file in its own transfer syntax when offered
        assert received.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID


def test_storage_scp_minimal(workdir: Path, sample_files: dict[str, Path]) -> None:
    port = peers.free_port()
    with serve_example("storage_scp_minimal.py", port, workdir):
        result = peers.run_storescu(port, sample_files["ct_implicit"], args=["-v"])
        assert_ok(result)
        assert "Received Store Response (Success)" in result.stdout + result.stderr
    assert list(workdir.iterdir()) == []  # it stores nothing


def test_storage_scp_minimal_refuses_other_sop_classes(
    workdir: Path, sample_files: dict[str, Path]
) -> None:
    port = peers.free_port()
    with serve_example("storage_scp_minimal.py", port, workdir):
        result = peers.run_storescu(port, sample_files["sc_explicit"])
    assert result.returncode != 0  # only CT Image Storage is supported


def test_storage_scp_nonblocking_shuts_down(workdir: Path, tmp_path: Path) -> None:
    port = peers.free_port()
    ct = tmp_path / "ct.dcm"
    peers.make_ct(ct, size_bytes=64 * 1024, transfer_syntax=ImplicitVRLittleEndian)
    seconds = 8  # long enough to start storescu on a slow machine; the seed says 60
    with serve_example("storage_scp_nonblocking.py", port, workdir, str(seconds)) as scp:
        assert_ok(peers.run_storescu(port, ct))
        # then the script's own sleep ends, scp.shutdown() runs and it exits
        assert scp.process.wait(timeout=seconds + TIMEOUT) == 0, scp.log()
