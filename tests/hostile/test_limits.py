"""Load and limits: max associations, no leaks under load, bounded memory.

* ``max_associations`` is enforced with A-ASSOCIATE-RJ (2, 3, 2) (PS3.8
  Table 9-21: rejected-transient, service-provider (presentation related),
  local-limit-exceeded), counting real connections, also those that have
  not sent anything yet.
* 300 sequential and 64 concurrent associations (echo + store) leave no
  thread, socket or file descriptor behind.
* A 320 MiB data set, then three 96 MiB ones at once (2 GiB is too slow
  for this test suite; the mechanism is the same: fragments are spooled to
  a file past the spool threshold and the store copies the file), grow the
  receiving node's peak RSS by far less than their size. The node runs in a
  subprocess so its VmHWM is its own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ImplicitVRLittleEndian

import peers
from dicomwire import AE
from dicomwire._core.pdu import (
    A_ASSOCIATE_RQ,
    PresentationContextRQ,
    UserInformation,
    encode_pdu,
)
from dicomwire.sop_class import CTImageStorage, Verification

LOCAL = "127.0.0.1"
NODE_AET = "DICOMWIRE"
LARGE_MIB = 320
MEDIUM_MIB = 96
CONCURRENT = 3


def start_node(folder: Path, **settings: Any) -> Any:
    from dicomwire.node.app import Node
    from dicomwire.node.config import load

    config = load(
        {"data_dir": folder / "data", "port": peers.free_port(), "bind": LOCAL, **settings},
        environ={},
    )
    node = Node(config)
    node.ae.acse_timeout = 2.0
    node.start()
    return node


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[Any]:
    nodes: list[Any] = []

    def factory(**settings: Any) -> Any:
        node = start_node(tmp_path / f"node{len(nodes)}", **settings)
        nodes.append(node)
        return node

    yield factory
    for node in nodes:
        node.stop()


def scu(title: str = "LOADSCU") -> AE:
    ae = AE(title)
    ae.add_requested_context(Verification)
    ae.add_requested_context(CTImageStorage, ImplicitVRLittleEndian)
    return ae


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def raw_rq() -> bytes:
    return encode_pdu(
        A_ASSOCIATE_RQ(
            NODE_AET,
            "RAWSCU",
            (PresentationContextRQ(1, str(Verification), (ImplicitVRLittleEndian,)),),
            UserInformation(maximum_length=16384, implementation_class_uid="1.2.3.4"),
        )
    )


# -- max associations ---------------------------------------------------------------


def test_max_associations_rejects_with_local_limit_exceeded(make_node: Any) -> None:
    node = make_node(max_associations=2)
    port = node.config.port
    first = scu().associate(LOCAL, port, ae_title=NODE_AET)
    assert first.is_established
    # A connection that has not said anything yet holds a slot too.
    silent = socket.create_connection((LOCAL, port))
    assert wait_for(lambda: len(node.server.active_associations) == 2, 5)

    third = scu().associate(LOCAL, port, ae_title=NODE_AET)
    assert third.is_rejected
    assert third.rejection == (2, 3, 2)
    # And on the wire, for a raw peer: A-ASSOCIATE-RJ (2, 3, 2).
    with socket.create_connection((LOCAL, port), timeout=5) as raw:
        raw.sendall(raw_rq())
        assert raw.recv(10) == bytes.fromhex("03 00 00000004 00 02 03 02")

    # The one established still works while others are turned away.
    assert first.send_c_echo().Status == 0x0000
    silent.close()
    first.release()
    assert wait_for(lambda: not node.server.active_associations, 5)
    again = scu().associate(LOCAL, port, ae_title=NODE_AET)
    assert again.is_established and again.send_c_echo().Status == 0x0000
    again.release()


# -- no leaks -------------------------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def describe_fds() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            out.append(f"{fd}:{os.readlink(f'/proc/self/fd/{fd}')}")
    return out


def exchange(port: int, seed: int, store: bool = False) -> None:
    assoc = scu().associate(LOCAL, port, ae_title=NODE_AET)
    assert assoc.is_established, (assoc.is_rejected, assoc.is_aborted)
    assert assoc.send_c_echo().Status == 0x0000
    if store:
        ds = peers.make_ct(
            size_bytes=2048,
            transfer_syntax=ImplicitVRLittleEndian,
            seed=seed,
            PatientID=f"LOAD-{seed}",
        )
        assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    assert assoc.is_released


def burst(port: int, count: int, first_seed: int) -> None:
    """``count`` associations at once, each echoing and storing."""
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def worker(seed: int) -> None:
        try:
            start.wait(10)
            exchange(port, seed, store=True)
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=worker, args=(first_seed + n,)) for n in range(count)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    assert not failures, failures[:3]


def test_many_associations_leak_nothing(make_node: Any) -> None:
    node = make_node(max_associations=80)
    port = node.config.port
    # Warm up with the same burst: lazy imports, store folders, and the
    # association worker threads kept for reuse.
    exchange(port, 0, store=True)
    burst(port, 64, 100)
    assert node.server.wait(5)
    # The index's SQLite connections are closed before each count: SQLAlchemy
    # keeps pool_size of them open, and SQLite's unix VFS keeps the
    # descriptors of closed overflow connections while other connections
    # hold locks on the file, so how many are open at one moment depends on
    # timing (bounded by pool_size + max_overflow). Closed, none may remain.
    node.index.close()  # the engine reconnects when used again
    threads, fds = threading.active_count(), open_fds()
    before = set(describe_fds())

    for n in range(300):
        exchange(port, 1000 + n, store=n % 10 == 0)
    burst(port, 64, 2000)

    assert node.server.wait(10)
    node.index.close()
    assert wait_for(lambda: threading.active_count() <= threads, 5), threading.enumerate()
    assert wait_for(lambda: open_fds() <= fds + 2, 5), sorted(set(describe_fds()) - before)
    assert node.index.counts().get("instances", 0) == 1 + 64 + 30 + 64


# -- memory stays bounded --------------------------------------------------------------

NODE_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from dicomwire.node.app import Node
    from dicomwire.node.config import load

    config = load({"data_dir": Path(sys.argv[1]), "port": int(sys.argv[2]),
                   "bind": "127.0.0.1"}, environ={})
    node = Node(config)
    node.start()
    print("ready", flush=True)
    sys.stdin.readline()
    node.stop()
    """
)


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def store_file(port: int, path: Path) -> None:
    assoc = scu().associate(LOCAL, port, ae_title=NODE_AET)
    assert assoc.send_c_store(path).Status == 0x0000
    assoc.release()


def test_large_data_sets_are_spooled_not_held(tmp_path: Path) -> None:
    big = tmp_path / "big.dcm"
    peers.write_large_ct(big, LARGE_MIB, transfer_syntax=ImplicitVRLittleEndian)
    medium = tmp_path / "medium.dcm"
    peers.write_large_ct(medium, MEDIUM_MIB, transfer_syntax=ImplicitVRLittleEndian, seed=5)
    port = peers.free_port()
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.Popen(
        [sys.executable, "-c", NODE_SCRIPT, str(tmp_path / "data"), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        exchange(port, 10, store=True)  # warm: imports, index
        before = vm_hwm_kib(proc.pid)
        store_file(port, big)
        one_mib = (vm_hwm_kib(proc.pid) - before) / 1024
        senders = [
            threading.Thread(target=store_file, args=(port, medium)) for _ in range(CONCURRENT)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(120)
        many_mib = (vm_hwm_kib(proc.pid) - before) / 1024
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(30)
    stored = sorted((tmp_path / "data").rglob("*.dcm"), key=lambda p: p.stat().st_size)
    assert stored[-1].stat().st_size > LARGE_MIB * 1024 * 1024
    # Each association holds at most the spool threshold (32 MiB) in memory.
    assert one_mib < LARGE_MIB / 4, f"peak RSS grew by {one_mib:.0f} MiB for one data set"
    assert many_mib < CONCURRENT * MEDIUM_MIB / 2, f"peak RSS grew by {many_mib:.0f} MiB"
