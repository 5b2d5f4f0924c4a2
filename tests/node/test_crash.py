"""Crash consistency: SIGKILL the node while several clients store, then restart it.

Every instance that got Success must be found (C-FIND, IMAGE level), be
retrievable (C-GET) and parse from its file; no temporary file is visible
as an instance; ``dicomwire check`` finds no indexed instance without its
file, and at most files of instances that never got Success without a row
(``--repair`` indexes those).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from node_process import (
    LOCAL,
    NODE_AET,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    NodeProcess,
    dicomwire_cli,
)
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import peers
from dicomwire import AE, build_role, evt

SENDERS = 4
PER_SENDER = 40
KILL_AFTER = 50  # successes, over all senders
STUDY, SERIES = generate_uid(), generate_uid()


def sender(port: int, number: int, statuses: dict[str, int | None], lock: threading.Lock,
           enough: threading.Event) -> None:  # fmt: skip
    ae = AE(f"CRASH{number}")
    ae.add_requested_context(str(peers.CT_IMAGE_STORAGE), [ExplicitVRLittleEndian])
    try:
        assoc = ae.associate(LOCAL, port, ae_title=NODE_AET)
    except Exception:
        return
    if not assoc.is_established:
        return
    try:
        for n in range(PER_SENDER):
            ds = peers.make_ct(
                size_bytes=48 * 1024, seed=number * 1000 + n,
                StudyInstanceUID=STUDY, SeriesInstanceUID=SERIES,
            )  # fmt: skip
            uid = str(ds.SOPInstanceUID)
            with lock:
                statuses[uid] = None  # sent, no answer yet
            try:
                answer = assoc.send_c_store(ds)
            except Exception:
                return
            code = int(answer.Status) if "Status" in answer else None
            with lock:
                statuses[uid] = code
                if sum(1 for c in statuses.values() if c == 0) >= KILL_AFTER:
                    enough.set()
            if code is None:
                return
    finally:
        with contextlib.suppress(Exception):
            assoc.release()


def found_uids(port: int) -> set[str]:
    ae = AE("CRASHQ")
    ae.add_requested_context(STUDY_ROOT_FIND)
    assoc = ae.associate(LOCAL, port, ae_title=NODE_AET)
    assert assoc.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.StudyInstanceUID = STUDY
    query.SeriesInstanceUID = SERIES
    query.SOPInstanceUID = ""
    uids = set()
    try:
        for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
            assert "Status" in status
            if status.Status == 0xFF00 and identifier is not None:
                uids.add(str(identifier.SOPInstanceUID))
    finally:
        assoc.release()
    return uids


def retrieved(port: int) -> tuple[int, dict[str, Dataset]]:
    got: dict[str, Dataset] = {}

    def on_store(event: Any) -> int:
        ds = event.dataset
        got[str(ds.SOPInstanceUID)] = ds
        return 0

    ae = AE("CRASHG")
    ae.add_requested_context(STUDY_ROOT_GET)
    ae.add_requested_context(str(peers.CT_IMAGE_STORAGE), [ExplicitVRLittleEndian])
    role = build_role(str(peers.CT_IMAGE_STORAGE), scp_role=True)
    assoc = ae.associate(LOCAL, port, ae_title=NODE_AET, ext_neg=[role],
                         evt_handlers=[(evt.EVT_C_STORE, on_store)])  # fmt: skip
    assert assoc.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.StudyInstanceUID = STUDY
    query.SeriesInstanceUID = SERIES
    final = -1
    try:
        for status, _ in assoc.send_c_get(query, STUDY_ROOT_GET):
            final = int(status.Status) if "Status" in status else -1
    finally:
        assoc.release()
    return final, got


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    process = NodeProcess(tmp_path / "data")
    yield process
    process.kill()


def test_sigkill_while_storing_loses_nothing_that_got_success(node: NodeProcess) -> None:
    node.start()
    statuses: dict[str, int | None] = {}
    lock, enough = threading.Lock(), threading.Event()
    threads = [
        threading.Thread(target=sender, args=(node.port, n, statuses, lock, enough), daemon=True)
        for n in range(SENDERS)
    ]
    for thread in threads:
        thread.start()
    assert enough.wait(60), f"too few stores succeeded:\n{node.log()}"
    node.signal(signal.SIGKILL)
    node.wait()
    for thread in threads:
        thread.join(30)
    with lock:
        succeeded = {uid for uid, code in statuses.items() if code == 0}
        others = {uid: code for uid, code in statuses.items() if code != 0}
    assert len(succeeded) >= KILL_AFTER
    assert all(code is None for code in others.values()), others  # no failure before the kill

    node.start()  # same data folder, index and port
    assert succeeded <= found_uids(node.port)
    final, got = retrieved(node.port)
    assert final == 0x0000
    assert succeeded <= set(got)
    with node.index() as index:
        for uid in succeeded:
            stored = index.instance(uid)
            assert stored is not None
            assert str(dcmread(node.data_dir / stored.path).SOPInstanceUID) == uid
        rows = list(index.instances())
    indexed = {i.sop_instance_uid for i in rows}
    # Nothing half-written is visible: every row names a complete file, never a temporary one.
    assert all(i.path.endswith(".dcm") and (node.data_dir / i.path).is_file() for i in rows)
    assert indexed <= set(statuses)
    node.stop_cleanly()

    report = dicomwire_cli("check", "--data-dir", node.data_dir)
    assert "0 indexed but missing" in report.stdout, report.stdout
    assert "0 unusable or conflicting" in report.stdout, report.stdout
    unindexed = [
        line.rsplit("/", 1)[1].removesuffix(".dcm")
        for line in report.stdout.splitlines()
        if line.startswith("on disk but not indexed: ")
    ]
    assert not set(unindexed) & succeeded  # only stores that never got their Success
    assert report.returncode == (1 if unindexed else 0), report.stdout
    repaired = dicomwire_cli("check", "--repair", "--data-dir", node.data_dir)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert not node.temp_files()
    again = dicomwire_cli("check", "--data-dir", node.data_dir)
    assert again.returncode == 0 and "temporary" in again.stdout, again.stdout
