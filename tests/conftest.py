"""Shared pytest configuration and fixtures.

Fixtures (helpers they wrap live in ``tests/peers.py``):

* ``free_tcp_port``: a TCP port free on 127.0.0.1 right now.
* ``storescp``: DCMTK ``storescp`` on a free port, bit-preserving, writing
  to ``tmp_path / "storescp"``; stopped and reaped afterwards, its log
  printed if the test fails.
* ``pynetdicom_scp``: a pynetdicom Storage + Verification SCP in a thread on a
  free port, keeping each received data set as raw bytes plus file meta.
* ``sample_files``: small DICOM files in ``tmp_path``: ``ct_explicit``
  (CT, Explicit VR LE), ``ct_implicit`` (CT, Implicit VR LE) and
  ``sc_explicit`` (Secondary Capture, Explicit VR LE).

Markers: ``interop`` for tests against DCMTK or pynetdicom. They run by
default; ``-m "not interop"`` leaves them out. With ``CI`` set in the
environment a missing peer fails instead of skipping.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

sys.path.insert(0, str(Path(__file__).resolve().parent))  # make `import peers` work anywhere

import peers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "interop: exchanges with a peer nobody here wrote (DCMTK, pynetdicom); "
        "runs by default, and fails instead of skipping when CI is set",
    )


@pytest.fixture
def free_tcp_port() -> int:
    port: int = peers.free_port()
    return port


@pytest.fixture
def storescp(tmp_path: Path) -> Iterator[peers.PeerProcess]:
    with peers.dcmtk_storescp(tmp_path / "storescp") as peer:
        yield peer


@pytest.fixture
def pynetdicom_scp() -> Iterator[peers.PynetdicomStorageSCP]:
    with peers.pynetdicom_storage_scp() as scp:
        yield scp


@pytest.fixture
def sample_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "samples"
    folder.mkdir()
    files = {
        "ct_explicit": folder / "ct_explicit.dcm",
        "ct_implicit": folder / "ct_implicit.dcm",
        "sc_explicit": folder / "sc_explicit.dcm",
    }
    peers.make_ct(files["ct_explicit"], size_bytes=256 * 1024, seed=11)
    peers.make_ct(
        files["ct_implicit"],
        size_bytes=96 * 1024,
        transfer_syntax=ImplicitVRLittleEndian,
        seed=12,
        PatientID="DW-0002",
    )
    peers.make_secondary_capture(
        files["sc_explicit"], size_bytes=40 * 1024, transfer_syntax=ExplicitVRLittleEndian
    )
    return files
