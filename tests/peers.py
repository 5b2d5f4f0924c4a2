"""Test harness for talking to DICOM peers nobody here wrote: DCMTK and pynetdicom.

Everything a test needs to run one side of an exchange with a real peer:
ports, locating the DCMTK binaries (and refusing pynetdicom's console
scripts of the same names), running them with the environment they need,
a DCMTK ``storescp`` and a pynetdicom storage SCP to send to, pynetdicom as
an SCU, and pydicom data set factories with deterministic content. For the
query services: a DCMTK ``dcmqrscp`` archive pre-loaded with the seeds'
patient, ``findscu``/``getscu``/``movescu`` runners with their output parsed,
and pynetdicom as a C-FIND SCP (any handler) or SCU (with C-CANCEL).

Peer tests must never be silently skipped in CI: when the ``CI`` environment
variable is set, a missing peer fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

CT_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.2")
SECONDARY_CAPTURE_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.7")
VERIFICATION = UID("1.2.840.10008.1.1")
LOCALHOST = "127.0.0.1"
PEER_TIMEOUT = 60.0  # seconds for any one DCMTK run or pynetdicom exchange

DCMTK_TOOLS = (
    "storescp",
    "storescu",
    "echoscu",
    "findscu",
    "getscu",
    "movescu",
    "dcmqrscp",
    "dcmqridx",
    "dcmdump",
)


# --------------------------------------------------------------------------
# Ports


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _listening_ports_from_proc() -> set[int] | None:
    """Ports in LISTEN state per /proc/net/tcp{,6}; None where /proc is absent.

    Looking instead of connecting matters: a probe connection is an
    association attempt that the peer logs as an error, and some peers
    (single-process storescp) serve nothing else while they deal with it.
    """
    ports: set[int] = set()
    found = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # 0A: TCP_LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports if found else None


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Whether ``condition()`` became true within ``timeout`` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def _port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 10.0,
    process: subprocess.Popen[Any] | None = None,
) -> None:
    """Return once something listens on ``host:port``; raise TimeoutError otherwise.

    When ``process`` is given and exits first (port taken, bad option), a
    RuntimeError says so at once instead of waiting out the timeout.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"peer exited with {process.returncode} before listening")
        listening = _listening_ports_from_proc()
        if listening is None:
            if _port_accepts(host, port):
                return
        elif port in listening:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


# --------------------------------------------------------------------------
# Locating the peers


def in_ci() -> bool:
    """True when running in CI, where a missing peer is an error, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing(what: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{what} is required in CI (the CI variable is set)", pytrace=False)
    pytest.skip(f"{what} is not available")


@functools.cache
def find_dcmtk_tool(name: str) -> str | None:
    """The path of DCMTK's ``name`` binary, or None.

    pynetdicom installs Python console scripts called storescp, echoscu, ...
    that come first on PATH in a virtualenv, so each candidate must be a
    native executable that reports itself as DCMTK. ``DCMTK_BIN`` (a
    directory) is searched first.
    """
    directories = [os.environ.get("DCMTK_BIN", "")]
    directories += os.environ.get("PATH", "").split(os.pathsep)
    directories += ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
    seen: set[str] = set()
    for directory in filter(None, directories):
        candidate = shutil.which(name, path=directory)
        if candidate is None or candidate in seen:
            continue
        seen.add(candidate)
        if _is_dcmtk_binary(candidate):
            return candidate
    return None


def _is_dcmtk_binary(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            if fh.read(2) == b"#!":
                return False  # a script, e.g. pynetdicom's console entry point
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, env=dcmtk_env()
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "dcmtk" in (result.stdout + result.stderr).lower()


def require_tool(name: str) -> str:
    """Path of DCMTK's ``name``; skip the test without it (fail in CI)."""
    if name not in DCMTK_TOOLS:
        raise ValueError(f"{name!r} is not a DCMTK tool the tests know: {DCMTK_TOOLS}")
    path = find_dcmtk_tool(name)
    if path is None:
        _missing(f"DCMTK {name} (Debian/Ubuntu: apt-get install dcmtk)")
    return path


def require_pynetdicom() -> ModuleType:
    """The pynetdicom module; skip the test without it (fail in CI)."""
    try:
        import pynetdicom
    except ImportError:
        _missing("pynetdicom (pip install pynetdicom)")
    _close_reactor_race(pynetdicom)
    return pynetdicom


class _ReactorCheckpoint(threading.Event):
    """pynetdicom's reactor pause point, clearing the reactor's flag under a lock.

    Before each ``send_*`` pynetdicom clears this Event and waits for the
    reactor thread's ``_is_paused`` flag. The reactor sets the flag *before*
    waiting on the Event and clears it only after the wait returns, so the
    sender can read a stale True just as the reactor leaves the wait; the
    reactor then takes the peer's response off the queue ("Received
    unexpected C-ECHO service message", pynetdicom issue #875) and the
    sender times out with no status. A fast SCP such as ours answers inside
    that window about once in a few thousand requests. Here the wait clears
    the flag before it returns, under the lock that ``clear()`` takes, so a
    sender either sees the reactor blocked or waits for it to come round.
    """

    def __init__(self, owner: Any) -> None:
        super().__init__()
        self._owner = owner
        self._guard = threading.Lock()
        self.set()

    def clear(self) -> None:
        with self._guard:
            super().clear()

    def wait(self, timeout: float | None = None) -> bool:
        if self._owner.network_timeout_response != "A-ABORT":
            # The reactor then also waits here before releasing by itself,
            # relying on the flag staying set: leave it alone.
            return super().wait(timeout)
        while True:
            with self._guard:
                if self.is_set():
                    self._owner._is_paused = False
                    return True
            if not super().wait(timeout):
                return False


def _close_reactor_race(pynetdicom: ModuleType) -> None:
    """Give pynetdicom associations the race-free pause point above."""
    association = pynetdicom.association.Association
    if getattr(association, "_dicomwire_checkpoint", False):
        return
    original_init = association.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._reactor_checkpoint = _ReactorCheckpoint(self)

    association.__init__ = __init__
    association._dicomwire_checkpoint = True


def dcmtk_env() -> dict[str, str]:
    """Environment for DCMTK processes.

    DCMTK leaves Nagle's algorithm on unless TCP_NODELAY is set in the
    environment, which costs ~40 ms per small PDU: every exchange crawls.
    """
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    return env


# --------------------------------------------------------------------------
# Running DCMTK


def run_dcmtk(
    tool: str, *args: str | os.PathLike[str], timeout: float = PEER_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a DCMTK tool to completion; output captured as text, never raises on rc."""
    command = [require_tool(tool), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=dcmtk_env())


def run_storescu(
    port: int,
    *files: str | os.PathLike[str],
    args: Sequence[str] = (),
    host: str = LOCALHOST,
    called_aet: str = "ANY-SCP",
    timeout: float = PEER_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``storescu [args] -aec called_aet host port files...``."""
    return run_dcmtk(
        "storescu", *args, "-aec", called_aet, host, str(port), *files, timeout=timeout
    )


def run_echoscu(
    port: int,
    args: Sequence[str] = (),
    host: str = LOCALHOST,
    called_aet: str = "ANY-SCP",
    timeout: float = PEER_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``echoscu [args] -aec called_aet host port``."""
    return run_dcmtk("echoscu", *args, "-aec", called_aet, host, str(port), timeout=timeout)


def describe_run(result: subprocess.CompletedProcess[str]) -> str:
    """A failure message showing what a DCMTK run did."""
    command = " ".join(map(str, result.args))
    return f"$ {command}\nrc={result.returncode}\n{result.stdout}{result.stderr}"


@dataclass
class PeerProcess:
    """A peer running in a subprocess, with its output going to a log file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    output_dir: Path | None = None

    def log(self) -> str:
        """Everything the peer printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def files(self) -> list[Path]:
        """Regular files the peer wrote into ``output_dir``, sorted by name."""
        if self.output_dir is None:
            return []
        return sorted(p for p in self.output_dir.iterdir() if p.is_file())

    def stop(self) -> None:
        """Terminate the peer and reap it (kill if it does not go quietly)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def background_process(
    argv: Sequence[str | os.PathLike[str]],
    port: int,
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    name: str = "peer",
) -> Iterator[PeerProcess]:
    """Start a server process, wait until it listens, stop and reap it afterwards.

    Its output goes to ``log_path`` (a file, so a chatty peer can never
    block on a full pipe). If the body raises, the log is printed so it
    shows in pytest's report of the failure.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(arg) for arg in argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
    peer = PeerProcess(process, port, log_path)
    try:
        wait_for_port(LOCALHOST, port, timeout=30, process=process)
        yield peer
    except BaseException:
        peer.stop()
        sys.stdout.write(f"--- {name} output ---\n{peer.log()}\n--- end of {name} ---\n")
        raise
    finally:
        peer.stop()


def dcmtk_process(
    tool: str, args: Sequence[str | os.PathLike[str]], port: int, log_path: Path
) -> contextlib.AbstractContextManager[PeerProcess]:
    """A DCMTK server as a :func:`background_process`, with :func:`dcmtk_env`."""
    argv = [require_tool(tool), *args]
    return background_process(argv, port, log_path, env=dcmtk_env(), name=tool)


@contextlib.contextmanager
def dcmtk_storescp(
    output_dir: Path,
    args: Sequence[str] = (),
    port: int | None = None,
    ae_title: str = "STORESCP",
) -> Iterator[PeerProcess]:
    """DCMTK ``storescp`` writing what it receives to ``output_dir``.

    ``+B`` (bit-preserving) makes it write each data set exactly as it came
    off the wire, so received bytes can be compared with sent bytes; ``-dhl``
    skips reverse DNS on each association. Extra ``args`` come before the port
    (e.g. ``["+xa"]`` to accept every transfer syntax it knows).
    """
    port = free_port() if port is None else port
    output_dir.mkdir(parents=True, exist_ok=True)
    argv = ["-v", "-dhl", "+B", "-aet", ae_title, "-od", str(output_dir), *args, str(port)]
    log_path = output_dir.parent / f"storescp-{port}.log"
    with dcmtk_process("storescp", argv, port, log_path) as peer:
        peer.output_dir = output_dir
        yield peer


# --------------------------------------------------------------------------
# Data sets


def _pixel_bytes(length: int, seed: int) -> bytes:
    """Deterministic, non-periodic bytes: a misplaced fragment cannot go unnoticed."""
    return random.Random(seed).randbytes(length)


def _file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    return meta


def _base_instance(sop_class: str, modality: str, transfer_syntax: str) -> Dataset:
    """Patient, study, series and SOP modules shared by the factories (PS3.3 C.7, C.12)."""
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.PatientName = "Wire^Test"
    ds.PatientID = "DW-0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20240102"
    ds.StudyTime = "101112"
    ds.StudyID = "1"
    ds.AccessionNumber = "A0001"
    ds.ReferringPhysicianName = ""
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.file_meta = _file_meta(sop_class, ds.SOPInstanceUID, transfer_syntax)
    return ds


def _image_geometry(pixel_count: int) -> tuple[int, int]:
    """(rows, columns) holding ``pixel_count`` pixels; both fit in US (<= 65535)."""
    columns = 512 if pixel_count <= 512 * 65535 else 4096
    columns = min(columns, max(pixel_count, 1))
    rows = -(-max(pixel_count, 1) // columns)
    if rows > 65535:
        raise ValueError(f"{pixel_count} pixels do not fit one frame")
    return rows, columns


def _finish(ds: Dataset, path: str | os.PathLike[str] | None, attrs: dict[str, Any]) -> Dataset:
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    # Overrides may change the identity: keep the file meta in step (PS3.10 7.1).
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if path is not None:
        ds.save_as(path, enforce_file_format=True)
    return ds


def make_ct(
    path: str | os.PathLike[str] | None = None,
    size_bytes: int = 512 * 1024,
    transfer_syntax: str = ExplicitVRLittleEndian,
    seed: int = 1,
    **attrs: Any,
) -> Dataset:
    """A CT Image Storage instance (PS3.3 A.3) with ~``size_bytes`` of 16-bit pixels.

    Rows x Columns x 2 is the exact Pixel Data length (``size_bytes``
    rounded up to whole rows). ``attrs`` override any attribute by keyword.
    Written to ``path`` as a DICOM file when a path is given.
    """
    ds = _base_instance(CT_IMAGE_STORAGE, "CT", transfer_syntax)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 1
    ds.KVP = 120
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    rows, columns = _image_geometry(size_bytes // 2)
    _set_pixel_module(ds, rows, columns, bits=16)
    ds.PixelData = _pixel_bytes(rows * columns * 2, seed)
    ds["PixelData"].VR = "OW"
    return _finish(ds, path, attrs)


def make_secondary_capture(
    path: str | os.PathLike[str] | None = None,
    size_bytes: int = 64 * 1024,
    transfer_syntax: str = ExplicitVRLittleEndian,
    seed: int = 2,
    **attrs: Any,
) -> Dataset:
    """A Secondary Capture Image Storage instance (PS3.3 A.8) with 8-bit pixels."""
    ds = _base_instance(SECONDARY_CAPTURE_IMAGE_STORAGE, "OT", transfer_syntax)
    ds.ConversionType = "WSD"
    rows, columns = _image_geometry(size_bytes)
    _set_pixel_module(ds, rows, columns, bits=8)
    ds.PixelData = _pixel_bytes(rows * columns, seed)
    ds["PixelData"].VR = "OB"
    return _finish(ds, path, attrs)


def _set_pixel_module(ds: Dataset, rows: int, columns: int, bits: int) -> None:
    """Image Pixel module (PS3.3 C.7.6.3), monochrome, unsigned."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits
    ds.BitsStored = bits if bits == 8 else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0


def write_large_ct(
    path: str | os.PathLike[str],
    size_mib: int,
    transfer_syntax: str = ExplicitVRLittleEndian,
    seed: int = 3,
    chunk_size: int = 4 * 1024 * 1024,
) -> Dataset:
    """Write a CT file with ``size_mib`` MiB of pixels, never holding them in memory.

    pydicom writes everything but Pixel Data; the Pixel Data element, last
    in the data set, is then appended by hand (PS3.5 section 7.1) and its
    value streamed in chunks. Returns the data set without Pixel Data.
    Only the two uncompressed little-endian transfer syntaxes are supported.
    """
    if transfer_syntax not in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        raise ValueError("write_large_ct supports Explicit/Implicit VR Little Endian only")
    ds = make_ct(size_bytes=2, transfer_syntax=transfer_syntax)
    del ds.PixelData
    rows, columns = _image_geometry(size_mib * 1024 * 1024 // 2)
    ds.Rows, ds.Columns = rows, columns
    ds.save_as(path, enforce_file_format=True)
    length = rows * columns * 2
    if transfer_syntax == ImplicitVRLittleEndian:
        header = struct.pack("<HHI", 0x7FE0, 0x0010, length)
    else:
        header = struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, length)
    rng = random.Random(seed)
    with open(path, "ab") as fh:
        fh.write(header)
        for start in range(0, length, chunk_size):
            fh.write(rng.randbytes(min(chunk_size, length - start)))
    return ds


# Explicit VR Little Endian VRs whose length field is 4 bytes (PS3.5 7.1.2).
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR"}
_LONG_VRS |= {b"UT", b"UV"}


def dataset_offset(path: str | os.PathLike[str]) -> int:
    """Byte offset where the data set starts, after preamble and file meta (PS3.10 7.1)."""
    with open(path, "rb") as fh:
        head = fh.read(132)
        if head[128:132] != b"DICM":
            return 0  # a bare data set
        offset = 132
        while True:
            fh.seek(offset)
            element = fh.read(8)
            if len(element) < 8 or struct.unpack_from("<H", element)[0] != 0x0002:
                return offset
            vr = element[4:6]
            if vr in _LONG_VRS:
                length = struct.unpack("<I", fh.read(4))[0]
                offset += 12 + length
            else:
                offset += 8 + struct.unpack_from("<H", element, 6)[0]


def read_file_parts(path: str | os.PathLike[str]) -> tuple[FileMetaDataset, bytes]:
    """The file meta information and the raw data set bytes of a DICOM file."""
    meta = dcmread(path, stop_before_pixels=True).file_meta
    with open(path, "rb") as fh:
        fh.seek(dataset_offset(path))
        return meta, fh.read()


def element_differences(a: Dataset, b: Dataset, prefix: str = "") -> list[str]:
    """Where two data sets differ by tag and value (not VR, not file meta).

    VRs are left out on purpose: Implicit VR data read back gets VRs from the
    dictionary, which may legitimately differ from those written explicitly.
    """
    problems: list[str] = []
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        if tag.group == 0x0002:
            continue
        where = f"{prefix}{tag}"
        if tag not in a or tag not in b:
            problems.append(f"{where} only in {'first' if tag in a else 'second'}")
            continue
        va, vb = a[tag].value, b[tag].value
        if isinstance(va, DicomSequence) and isinstance(vb, DicomSequence):
            if len(va) != len(vb):
                problems.append(f"{where}: {len(va)} vs {len(vb)} items")
            for index, (ia, ib) in enumerate(zip(va, vb, strict=False)):
                problems += element_differences(ia, ib, f"{where}[{index}].")
        elif va != vb:
            problems.append(f"{where}: {_short(va)} != {_short(vb)}")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------
# pynetdicom as a peer


@dataclass
class ReceivedInstance:
    """One C-STORE as a storage SCP saw it."""

    file_meta: FileMetaDataset
    dataset_bytes: bytes
    transfer_syntax: UID
    calling_ae_title: str

    @property
    def sop_instance_uid(self) -> str:
        return str(self.file_meta.MediaStorageSOPInstanceUID)


@dataclass
class PynetdicomStorageSCP:
    """A pynetdicom storage SCP (plus Verification) serving in a thread."""

    port: int
    ae_title: str
    received: list[ReceivedInstance] = field(default_factory=list)
    echoes: int = 0
    status: int = 0x0000  # what C-STORE answers
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle_store(self, event: Any) -> int:
        """EVT_C_STORE handler: keep the raw bytes, never decode them."""
        raw = event.request.DataSet.getvalue()
        item = ReceivedInstance(
            file_meta=event.file_meta,
            dataset_bytes=bytes(raw),
            transfer_syntax=UID(event.context.transfer_syntax),
            calling_ae_title=str(event.assoc.requestor.ae_title),
        )
        with self._lock:
            self.received.append(item)
        return self.status

    def handle_echo(self, event: Any) -> int:
        """EVT_C_ECHO handler: count the echoes."""
        with self._lock:
            self.echoes += 1
        return 0x0000


@contextlib.contextmanager
def pynetdicom_storage_scp(
    ae_title: str = "PYNETDICOM", port: int | None = None
) -> Iterator[PynetdicomStorageSCP]:
    """A pynetdicom AE accepting every storage SOP class it knows, in a thread."""
    pynetdicom = require_pynetdicom()
    from pynetdicom import evt

    port = free_port() if port is None else port
    scp = PynetdicomStorageSCP(port=port, ae_title=ae_title)
    ae = pynetdicom.AE(ae_title=ae_title)
    # pynetdicom's own lists: what it supports is the peer's business.
    ae.supported_contexts = pynetdicom.AllStoragePresentationContexts
    ae.add_supported_context(VERIFICATION)
    handlers = [(evt.EVT_C_STORE, scp.handle_store), (evt.EVT_C_ECHO, scp.handle_echo)]
    server = ae.start_server((LOCALHOST, port), block=False, evt_handlers=handlers)
    try:
        yield scp
    finally:
        server.shutdown()


def pynetdicom_send(
    port: int,
    instances: Iterable[Dataset | str | os.PathLike[str]],
    called_aet: str = "ANY-SCP",
    host: str = LOCALHOST,
) -> list[int]:
    """Send each data set or file with pynetdicom; the C-STORE statuses, in order.

    One presentation context per (SOP class, transfer syntax) of the
    instances, each offering only that transfer syntax, so the peer receives
    every instance in the transfer syntax it already has.
    """
    pynetdicom = require_pynetdicom()
    items = list(instances)
    ae = pynetdicom.AE(ae_title="PYNETSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = PEER_TIMEOUT
    for sop_class, syntax in sorted({_identity(item) for item in items}):
        ae.add_requested_context(sop_class, [syntax])
    assoc = ae.associate(host, port, ae_title=called_aet)
    if not assoc.is_established:
        raise AssertionError(f"pynetdicom could not associate with {host}:{port}")
    try:
        statuses = []
        for item in items:
            source = str(item) if isinstance(item, (str, os.PathLike)) else item
            status = assoc.send_c_store(source)
            statuses.append(int(status.Status) if "Status" in status else -1)
    finally:
        assoc.release()
    return statuses


def _identity(item: Dataset | str | os.PathLike[str]) -> tuple[str, str]:
    """(SOP class UID, transfer syntax UID) of a data set or file."""
    if isinstance(item, Dataset):
        return str(item.SOPClassUID), str(item.file_meta.TransferSyntaxUID)
    meta = dcmread(item, stop_before_pixels=True).file_meta
    return str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID)


def pynetdicom_echo(port: int, called_aet: str = "ANY-SCP", host: str = LOCALHOST) -> int:
    """C-ECHO with pynetdicom; the status (-1 when there was no response)."""
    pynetdicom = require_pynetdicom()
    ae = pynetdicom.AE(ae_title="PYNETSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = PEER_TIMEOUT
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate(host, port, ae_title=called_aet)
    if not assoc.is_established:
        raise AssertionError(f"pynetdicom could not associate with {host}:{port}")
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if "Status" in status else -1
    finally:
        assoc.release()


# --------------------------------------------------------------------------
# Query/Retrieve: the seeds' patient, DCMTK dcmqrscp, findscu/getscu/movescu

# What the seed examples (000, 001, 002) ask for: patient 1234567, study
# 1.2.3, series 1.2.3.4.
QR_PATIENT_ID = "1234567"
QR_PATIENT_NAME = "Seed^Patient"
QR_STUDY_UID = "1.2.3"
QR_SERIES_UID = "1.2.3.4"


def make_qr_instances(folder: Path, count: int = 3, size_bytes: int = 8 * 1024) -> list[Path]:
    """``count`` CT files of the seeds' patient/study/series in ``folder``.

    SOP Instance UIDs are ``1.2.3.4.1``, ``1.2.3.4.2``, ...; instance
    numbers follow; each file has its own pixel bytes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"ct{number}.dcm"
        make_ct(
            path,
            size_bytes=size_bytes,
            seed=100 + number,
            PatientID=QR_PATIENT_ID,
            PatientName=QR_PATIENT_NAME,
            StudyInstanceUID=QR_STUDY_UID,
            SeriesInstanceUID=QR_SERIES_UID,
            SOPInstanceUID=f"{QR_SERIES_UID}.{number}",
            InstanceNumber=number,
        )
        paths.append(path)
    return paths


@dataclass
class Dcmqrscp:
    """A running DCMTK ``dcmqrscp`` archive and what it was configured with."""

    peer: PeerProcess
    ae_title: str
    storage: Path
    config: Path
    instances: list[Path]
    destinations: dict[str, int]  # move destination AE title -> port on 127.0.0.1

    @property
    def port(self) -> int:
        return self.peer.port

    def log(self) -> str:
        return self.peer.log()


def dcmqrscp_config(
    port: int,
    ae_title: str,
    storage: Path,
    destinations: Mapping[str, int],
    host: str = LOCALHOST,
) -> str:
    """The text of a ``dcmqrscp.cfg`` (format: DCMTK's docs/dcmqrcnf.txt).

    One storage area, read/write, open to any peer; every destination is a
    HostTable entry ``(AETitle, host, port)``, which is where dcmqrscp looks
    up a C-MOVE's destination. No UserName/GroupName: dcmqrscp would try to
    switch to that user when started as root.
    """
    hosts = [
        f"dest{index} = ({aet}, {host}, {dest_port})"
        for index, (aet, dest_port) in enumerate(destinations.items())
    ]
    lines = [
        f"NetworkTCPPort = {port}",
        "MaxPDUSize = 16384",
        "MaxAssociations = 16",
        "",
        "HostTable BEGIN",
        *hosts,
        "HostTable END",
        "",
        "VendorTable BEGIN",
        "VendorTable END",
        "",
        "AETable BEGIN",
        f"{ae_title} {storage} RW (100, 1024mb) ANY",
        "AETable END",
        "",
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def dcmtk_dcmqrscp(
    workdir: Path,
    instances: Iterable[Path],
    destinations: Iterable[str] = (),
    ae_title: str = "ANY-SCP",
    port: int | None = None,
) -> Iterator[Dcmqrscp]:
    """DCMTK ``dcmqrscp`` serving copies of ``instances`` (Find, Get and Move).

    The files are copied into its storage area and indexed with ``dcmqridx``
    before it starts (no network needed to load it). dcmqrscp rejects an
    association whose called AE title is not in its AETable: ``ANY-SCP`` is
    what the seeds' ``ae.associate(host, port)`` calls by default. Each name in
    ``destinations`` becomes a move destination at 127.0.0.1 on a port
    chosen now (``Dcmqrscp.destinations``): whoever plays that AE must
    listen there before asking for the move. dcmqrscp forks a child per
    association (its single-process mode, ``-s``, crashes after a C-MOVE in
    DCMTK 3.6.7); ``-dhl`` skips reverse DNS for each association.
    """
    port = free_port() if port is None else port
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    copies = []
    for source in instances:
        target = storage / source.name
        shutil.copyfile(source, target)
        copies.append(target)
    indexed = run_dcmtk("dcmqridx", storage, *copies)
    if indexed.returncode != 0:
        raise RuntimeError(f"dcmqridx failed:\n{describe_run(indexed)}")
    known = {aet: free_port() for aet in destinations}
    config = workdir / "dcmqrscp.cfg"
    config.write_text(dcmqrscp_config(port, ae_title, storage, known))
    argv = ["-v", "-dhl", "-ta", "30", "-td", "60", "-c", str(config), str(port)]
    log_path = workdir / f"dcmqrscp-{port}.log"
    with dcmtk_process("dcmqrscp", argv, port, log_path) as peer:
        yield Dcmqrscp(peer, ae_title, storage, config, copies, known)


def query_keys(keys: Mapping[str, str] | Sequence[str]) -> list[str]:
    """``-k`` options for the DCMTK SCUs.

    A mapping gives ``keyword or gggg,eeee -> value``; an empty value asks
    for the attribute back (universal matching, written ``-k key``). A
    sequence is taken as ready-made ``key=value`` strings.
    """
    items = (
        [f"{key}={value}" if value else key for key, value in keys.items()]
        if isinstance(keys, Mapping)
        else list(keys)
    )
    options: list[str] = []
    for item in items:
        options += ["-k", item]
    return options


def _run_qr_tool(
    tool: str,
    model: str,
    options: Sequence[str],
    args: Sequence[str],
    called_aet: str,
    keys: Mapping[str, str] | Sequence[str],
    host: str,
    port: int,
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """``TOOL -v -<model> OPTIONS ARGS -aec CALLED -k ... HOST PORT`` (findscu/getscu/movescu)."""
    return run_dcmtk(
        tool, "-v", f"-{model}", *options, *args, "-aec", called_aet, *query_keys(keys),
        host, str(port), timeout=timeout,
    )  # fmt: skip


def run_findscu(
    port: int,
    keys: Mapping[str, str] | Sequence[str],
    model: str = "P",
    output_dir: Path | None = None,
    args: Sequence[str] = (),
    called_aet: str = "ANY-SCP",
    host: str = LOCALHOST,
    timeout: float = PEER_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``findscu -v -<model> [-X -od output_dir] [args] -k ... host port``.

    ``model``: ``W`` worklist, ``P`` patient root, ``S`` study root, ``O``
    patient/study only. With ``output_dir`` every response identifier is
    written there as ``rsp0001.dcm``, ... (read them with
    :func:`find_responses`).
    """
    extract = ["-X", "-od", str(output_dir)] if output_dir is not None else []
    return _run_qr_tool("findscu", model, [*extract], args, called_aet, keys, host, port, timeout)


def run_getscu(
    port: int,
    keys: Mapping[str, str] | Sequence[str],
    output_dir: Path,
    model: str = "P",
    args: Sequence[str] = (),
    called_aet: str = "ANY-SCP",
    host: str = LOCALHOST,
    timeout: float = PEER_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``getscu -v -<model> -od output_dir [args] -k ... host port``.

    getscu proposes SCP role selection for the storage SOP classes it knows
    and writes what it receives to ``output_dir`` as ``<modality>.<uid>``.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    return _run_qr_tool(
        "getscu", model, ["-od", str(output_dir)], args, called_aet, keys, host, port, timeout
    )


def run_movescu(
    port: int,
    keys: Mapping[str, str] | Sequence[str],
    move_aet: str,
    model: str = "P",
    listen_port: int | None = None,
    output_dir: Path | None = None,
    args: Sequence[str] = (),
    calling_aet: str = "MOVESCU",
    called_aet: str = "ANY-SCP",
    host: str = LOCALHOST,
    timeout: float = PEER_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``movescu -v -<model> -aet calling -aem move_aet [+P listen_port -od dir] ...``.

    With ``listen_port`` movescu runs its own storage SCP there for the
    duration of the move (the peer must know ``move_aet`` at that port) and
    writes what it receives to ``output_dir``.
    """
    own: list[str] = []
    if listen_port is not None:
        own = ["+P", str(listen_port)]
        if output_dir is not None:
            output_dir.mkdir(parents=True, exist_ok=True)
            own += ["-od", str(output_dir)]
    return _run_qr_tool(
        "movescu",
        model,
        ["-aet", calling_aet, "-aem", move_aet, *own],
        args,
        called_aet,
        keys,
        host,
        port,
        timeout,
    )


# "Find Response: 1 (Pending)", "Received Final Find Response (Success)",
# "Received Move Response 2 (Pending)", "Received C-GET Response (Success)"...
_DCMTK_RESPONSE = re.compile(
    r"(?P<final>Final )?(?:Find|Move|C-GET|C-FIND|C-MOVE) Response:?(?: \d+)? \((?P<status>[^)]*)\)"
)


def dcmtk_response_statuses(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The status of every C-FIND/C-GET/C-MOVE response a verbose DCMTK SCU logged.

    In order, as DCMTK names them: ``Pending``, ``Success``, ``Cancel``,
    ``Failed: ...``; the last one is the final response.
    """
    text = result.stdout + result.stderr
    return [match["status"] for match in _DCMTK_RESPONSE.finditer(text)]


def find_responses(output_dir: Path) -> list[Dataset]:
    """The identifiers ``findscu -X`` extracted to ``output_dir``, in order."""
    return [dcmread(path) for path in sorted(output_dir.glob("rsp*.dcm"))]


def dicom_files(folder: Path) -> dict[str, Path]:
    """The DICOM files in ``folder`` by SOP Instance UID."""
    found = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        ds = dcmread(path, stop_before_pixels=True)
        found[str(ds.SOPInstanceUID).rstrip("\0 ")] = path
    return found


# --------------------------------------------------------------------------
# pynetdicom as a Query/Retrieve peer


@contextlib.contextmanager
def pynetdicom_server(
    supported: Iterable[str],
    handlers: Mapping[str, Any],
    ae_title: str = "PYNETDICOM",
    port: int | None = None,
) -> Iterator[int]:
    """A pynetdicom AE serving ``supported`` SOP classes in a thread; yields its port.

    ``handlers`` maps pynetdicom event names (``"EVT_C_FIND"``, ...) to
    handlers, so callers never import pynetdicom themselves.
    """
    pynetdicom = require_pynetdicom()
    port = free_port() if port is None else port
    ae = pynetdicom.AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = PEER_TIMEOUT
    for uid in supported:
        ae.add_supported_context(uid)
    bound = [(getattr(pynetdicom.evt, name), handler) for name, handler in handlers.items()]
    server = ae.start_server((LOCALHOST, port), block=False, evt_handlers=bound)
    try:
        yield port
    finally:
        server.shutdown()


def pynetdicom_find(
    port: int,
    identifier: Dataset,
    sop_class: str,
    cancel_after: int | None = None,
    called_aet: str = "ANY-SCP",
    host: str = LOCALHOST,
) -> list[tuple[int, Dataset | None]]:
    """C-FIND with pynetdicom: ``(status, identifier)`` of every response, in order.

    With ``cancel_after`` it sends a C-CANCEL once that many Pending
    responses have arrived and goes on reading until the final response.
    A missing response (timeout, abort) shows as status -1.
    """
    pynetdicom = require_pynetdicom()
    ae = pynetdicom.AE(ae_title="PYNETSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = PEER_TIMEOUT
    ae.add_requested_context(sop_class)
    assoc = ae.associate(host, port, ae_title=called_aet)
    if not assoc.is_established:
        raise AssertionError(f"pynetdicom could not associate with {host}:{port}")
    responses: list[tuple[int, Dataset | None]] = []
    try:
        pending = 0
        for status, found in assoc.send_c_find(identifier, sop_class, msg_id=7):
            code = int(status.Status) if "Status" in status else -1
            responses.append((code, found))
            if code in (0xFF00, 0xFF01):
                pending += 1
                if pending == cancel_after:
                    assoc.send_c_cancel(7, query_model=sop_class)
    finally:
        assoc.release()
    return responses


# -- dicomwire's own command line, as a user runs it ---------------------------------

_SRC = Path(__file__).resolve().parents[1] / "src"


def dicomwire_env() -> dict[str, str]:
    """The environment of a dicomwire process: this checkout first, no DICOMWIRE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DICOMWIRE_")}
    env["PYTHONPATH"] = str(_SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_dicomwire(
    *args: str | os.PathLike[str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``dicomwire ARGS`` to completion, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "dicomwire.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dicomwire_env(),
        cwd=cwd,
    )
