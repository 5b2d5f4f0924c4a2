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
* ``qr_instances`` (module scope): three small CT files of the seeds' query
  (patient 1234567, study 1.2.3, series 1.2.3.4; SOP Instance UIDs
  1.2.3.4.1 to 1.2.3.4.3), alone in their folder.
* ``dcmqrscp`` (module scope): DCMTK ``dcmqrscp`` (AE title ANY-SCP, as the seeds call it) holding
  the ``qr_instances``, for C-FIND, C-GET and C-MOVE; it knows the move
  destinations in ``QR_MOVE_DESTINATIONS``, each at 127.0.0.1 on the port
  in ``dcmqrscp.destinations[aet]`` (start the destination there first).

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

# Move destinations the dcmqrscp fixture knows: DCMTK storescp for the seed's
# Move SCU, the own-storage Move SCU example's SCP, and dicomwire test SCPs.
QR_MOVE_DESTINATIONS = ("STORE_SCP", "OUR_STORE_SCP", "DW_STORE")


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


@pytest.fixture(scope="module")
def qr_instances(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return peers.make_qr_instances(tmp_path_factory.mktemp("qr_instances"))


@pytest.fixture(scope="module")
def dcmqrscp(
    tmp_path_factory: pytest.TempPathFactory, qr_instances: list[Path]
) -> Iterator[peers.Dcmqrscp]:
    workdir = tmp_path_factory.mktemp("dcmqrscp")
    with peers.dcmtk_dcmqrscp(workdir, qr_instances, QR_MOVE_DESTINATIONS) as archive:
        yield archive
