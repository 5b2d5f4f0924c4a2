"""The command-line tools as a user runs them: real processes, real peers."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

import peers

LOCAL = "127.0.0.1"


dicomwire = peers.run_dicomwire
_env = peers.dicomwire_env


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[str]]]:
    port = peers.free_port()
    out = tmp_path / "received"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dicomwire.cli.main", "listen", str(port), "-od", str(out),
         "--layout", "patient", "-v"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(),
    )  # fmt: skip
    try:
        peers.wait_for_port(LOCAL, port, timeout=20, process=proc)
        yield port, out, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_listen_echo_store_round_trip(listener: Any, tmp_path: Path) -> None:
    port, out, proc = listener
    assert dicomwire("echo", LOCAL, str(port), "--repeat", "3").returncode == 0
    folder = tmp_path / "send"
    (folder / "sub").mkdir(parents=True)
    a = peers.make_ct(folder / "a.dcm", size_bytes=20_000, PatientID="PAT/../1")
    b = peers.make_ct(folder / "sub" / "b.dcm", size_bytes=20_000)
    (folder / "notes.txt").write_text("not DICOM")
    result = dicomwire("store", LOCAL, str(port), str(folder), "-r")
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr and "notes.txt" in result.stderr
    assert "sent 2 of 2" in result.stderr
    stored = sorted(out.rglob("*.dcm"))
    assert len(stored) == 2
    # A hostile PatientID never becomes a path: it is sanitised inside DIR.
    for path in stored:
        assert out in path.parents and ".." not in path.relative_to(out).parts
    by_uid = {dcmread(p).SOPInstanceUID: p for p in stored}
    for ds in (a, b):
        assert peers.element_differences(ds, dcmread(by_uid[ds.SOPInstanceUID])) == []
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_listen_bit_preserving_from_dcmtk(listener: Any, tmp_path: Path) -> None:
    port, out, _ = listener
    path = tmp_path / "ct.dcm"
    peers.make_ct(path, size_bytes=50_000)
    result = peers.run_storescu(port, path)
    assert result.returncode == 0, peers.describe_run(result)
    (stored,) = out.rglob("*.dcm")
    offset = peers.dataset_offset(path)
    assert stored.read_bytes()[peers.dataset_offset(stored):] == path.read_bytes()[offset:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["echo", LOCAL, "PORT"], "refused"),
        (["store", LOCAL, "1", "/no/such/file.dcm"], "no such file"),
        (["echo", LOCAL, "1", "-aet", "WAY-TOO-LONG-AE-TITLE"], "AE title"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str) -> None:
    port = str(peers.free_port())
    result = dicomwire(*[port if a == "PORT" else a for a in args])
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_rejection_reason_is_reported(tmp_path: Path) -> None:
    from dicomwire import AE
    from dicomwire.sop_class import Verification

    ae = AE("PICKY")
    ae.add_supported_context(Verification)
    ae.require_called_aet = True
    port = peers.free_port()
    server = ae.start_server((LOCAL, port), block=False)
    assert server is not None
    try:
        result = dicomwire("echo", LOCAL, str(port), "-aec", "SOMEONE")
    finally:
        server.shutdown()
    assert result.returncode != 0
    assert "rejected permanently" in result.stderr and "called AE title" in result.stderr
