"""Helpers of the node's end-to-end tests: ``dicomwire serve`` as a real process.

* :class:`NodeProcess`: ``python -m dicomwire.cli.main serve --data-dir ...
  --port ... [args]`` with its log in a file; started, stopped with SIGTERM
  (the exit code is returned so tests can insist on 0) and restarted on the
  same data directory, database and port. :meth:`NodeProcess.index` opens
  the node's index in the test process to look at what it holds.
* :func:`dicomwire_cli`: another ``dicomwire`` command run to completion
  (``worklist add|list|remove``).
* :func:`postgres_schema`: an empty schema on the session's PostgreSQL
  server as a ``postgresql://`` URL, for a node started with ``--database``.
* pynetdicom as C-GET and C-MOVE SCU (:func:`pynetdicom_get`,
  :func:`pynetdicom_move`), senders started together
  (:func:`send_at_once`), and the comparisons the tests make on what came
  back (:func:`same_dataset_bytes`, :func:`decoded`).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.uid import UID

import peers

LOCAL = peers.LOCALHOST
NODE_AET = "DICOMWIRE"
SRC = Path(__file__).resolve().parents[2] / "src"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"


cli_env = peers.dicomwire_env
dicomwire_cli = peers.run_dicomwire


class NodeProcess:
    """One ``dicomwire serve`` process (restartable) and where it keeps things."""

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        port: int | None = None,
        database: str = "",
        log_path: Path | None = None,
        name: str = "node",
        cwd: Path | None = None,
    ) -> None:
        """``cwd``: run ``dicomwire serve`` there with no arguments at all (its defaults:
        port 11112, ``./dicomwire-data``); ``data_dir`` must then be that folder."""
        self.data_dir = data_dir
        self.cwd = cwd
        self.port = (11112 if cwd else peers.free_port()) if port is None else port
        self.database = database
        self.args = [*args, *(["--database", database] if database else [])]
        self.log_path = log_path or data_dir.parent / f"{name}-{self.port}.log"
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{(self.data_dir / 'index.sqlite').resolve()}"

    def argv(self) -> list[str]:
        serve = [sys.executable, "-m", "dicomwire.cli.main", "serve"]
        if self.cwd is not None:
            return serve
        return [*serve, "--data-dir", str(self.data_dir), "--port", str(self.port), *self.args]

    def where(self) -> list[str]:
        """The options that point another dicomwire command at this node's archive."""
        return [
            "--data-dir",
            str(self.data_dir),
            *(["--database", self.database] if self.database else []),
        ]

    def launch(self) -> None:
        """Start the process; :meth:`wait_ready` waits until it serves."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._starts = self.log().count(" listening on ")  # restarts append to the same log
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=cli_env(),
                cwd=self.cwd,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the port listens and the node has logged that it does (its start is over)."""
        assert self.process is not None
        try:
            peers.wait_for_port(LOCAL, self.port, timeout=timeout, process=self.process)
            deadline = time.monotonic() + timeout
            while self.log().count(" listening on ") == self._starts:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not log that it listens")
                time.sleep(0.02)
        except BaseException:
            self.kill()
            sys.stdout.write(f"--- {self.name} log ---\n{self.log()}\n--- end ---\n")
            raise

    def start(self) -> NodeProcess:
        self.launch()
        self.wait_ready()
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; the exit code (0 is a clean stop)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def stop_cleanly(self) -> None:
        code = self.stop()
        assert code == 0, f"{self.name} exited with {code}:\n{self.log()}"

    def restart(self) -> None:
        self.stop_cleanly()
        self.start()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @contextlib.contextmanager
    def index(self) -> Iterator[Any]:
        """The node's index, opened in the test process."""
        from dicomwire.node.index import Index

        index = Index(self.database_url, data_dir=self.data_dir)
        try:
            yield index
        finally:
            index.close()

    def stored_files(self) -> set[str]:
        """Every instance file under the data directory, relative to it."""
        return {
            p.relative_to(self.data_dir).as_posix()
            for p in (self.data_dir / "files").rglob("*.dcm")
        }

    def temp_files(self) -> list[Path]:
        return list(self.data_dir.rglob("*.part"))


@contextlib.contextmanager
def running(*nodes: NodeProcess) -> Iterator[tuple[NodeProcess, ...]]:
    """Start the nodes side by side; afterwards each must stop cleanly (exit code 0)."""
    try:
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_ready()
        yield nodes
    except BaseException:
        for node in nodes:
            node.kill()
        raise
    codes = [(node, node.stop()) for node in nodes]
    for node, code in codes:
        assert code == 0, f"{node.name} exited with {code}:\n{node.log()}"


@contextlib.contextmanager
def postgres_schema(server: Any, database: str = "dicomwire") -> Iterator[str]:
    """A fresh schema in ``database`` of the tests' PostgreSQL server (tests/node/conftest.py);
    a ``postgresql://`` URL that uses it."""
    name = f"n_{uuid.uuid4().hex[:12]}"
    server.admin(f"CREATE SCHEMA {name}", database=database)
    url = server.url(database) + f"&options=-csearch_path%3D{name}"
    try:
        yield url.replace("postgresql+psycopg://", "postgresql://", 1)
    finally:
        server.admin(f"DROP SCHEMA {name} CASCADE", database=database)


# -- comparing what came back ------------------------------------------------------


def dataset_bytes(path: Path) -> bytes:
    """A file's data set as encoded, without preamble and file meta."""
    return path.read_bytes()[peers.dataset_offset(path) :]


def same_dataset_bytes(original: Path, received: Path | bytes) -> bool:
    other = dataset_bytes(received) if isinstance(received, Path) else received
    return dataset_bytes(original) == other


def decoded(data: bytes, transfer_syntax: str) -> Dataset:
    """A data set from its encoded bytes in an uncompressed transfer syntax."""
    syntax = UID(transfer_syntax)
    return read_dataset(BytesIO(data), syntax.is_implicit_VR, syntax.is_little_endian)


# -- pynetdicom as Query/Retrieve SCU ----------------------------------------------


def _pynetdicom_ae(title: str) -> Any:
    pynetdicom = peers.require_pynetdicom()
    ae = pynetdicom.AE(ae_title=title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peers.PEER_TIMEOUT
    return ae


@dataclass
class Retrieval:
    """What a pynetdicom C-GET or C-MOVE saw: responses, and (C-GET) the instances."""

    responses: list[tuple[int, Dataset | None]]
    final: Dataset
    received: dict[str, peers.ReceivedInstance] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.responses[-1][0]

    @property
    def failed_uids(self) -> list[str]:
        identifier = self.responses[-1][1]
        if identifier is None or "FailedSOPInstanceUIDList" not in identifier:
            return []
        value = identifier.FailedSOPInstanceUIDList
        return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _run_retrieve(assoc: Any, requests: Iterator[tuple[Dataset, Dataset | None]]) -> Retrieval:
    if not assoc.is_established:
        raise AssertionError("pynetdicom could not associate with the node")
    responses: list[tuple[int, Dataset | None]] = []
    final = Dataset()
    try:
        for status, identifier in requests:
            responses.append((int(status.Status) if "Status" in status else -1, identifier))
            final = status
    finally:
        assoc.release()
    return Retrieval(responses, final)


def pynetdicom_get(
    port: int,
    query: Dataset,
    storage: Sequence[tuple[str, Sequence[str]]],
    model: str = STUDY_ROOT_GET,
    called_aet: str = NODE_AET,
) -> Retrieval:
    """C-GET with pynetdicom acting as Storage SCP for ``storage``: (SOP class,
    transfer syntaxes) pairs, each its own presentation context."""
    from pynetdicom import build_role, evt

    ae = _pynetdicom_ae("PYNGET")
    ae.add_requested_context(model)
    roles = []
    for sop_class, syntaxes in storage:
        ae.add_requested_context(sop_class, list(syntaxes))
        if sop_class not in {r.sop_class_uid for r in roles}:
            roles.append(build_role(sop_class, scp_role=True))
    received: dict[str, peers.ReceivedInstance] = {}
    lock = threading.Lock()

    def on_store(event: Any) -> int:
        item = peers.ReceivedInstance(
            file_meta=event.file_meta,
            dataset_bytes=bytes(event.request.DataSet.getvalue()),
            transfer_syntax=UID(event.context.transfer_syntax),
            calling_ae_title=str(event.assoc.requestor.ae_title),
        )
        with lock:
            received[item.sop_instance_uid] = item
        return 0x0000

    assoc = ae.associate(
        LOCAL, port, ae_title=called_aet, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    result = _run_retrieve(
        assoc, assoc.send_c_get(query, model) if assoc.is_established else iter(())
    )
    result.received = received
    return result


def pynetdicom_move(
    port: int,
    query: Dataset,
    destination: str,
    model: str = STUDY_ROOT_MOVE,
    called_aet: str = NODE_AET,
) -> Retrieval:
    ae = _pynetdicom_ae("PYNMOVE")
    ae.add_requested_context(model)
    assoc = ae.associate(LOCAL, port, ae_title=called_aet)
    requests = assoc.send_c_move(query, destination, model) if assoc.is_established else iter(())
    return _run_retrieve(assoc, requests)


def pynetdicom_find(port: int, query: Dataset, model: str = STUDY_ROOT_FIND) -> list[Any]:
    """``peers.pynetdicom_find`` with the node as called AE."""
    return peers.pynetdicom_find(port, query, model, called_aet=NODE_AET)


def send_at_once(jobs: Sequence[tuple[int, Sequence[Any]]]) -> list[list[int]]:
    """One pynetdicom sender per (port, instances) job, all started together; the
    C-STORE statuses of each job, in order (-1 for a sender that never finished)."""
    results: list[list[int]] = [[-1] for _ in jobs]
    start = threading.Barrier(len(jobs))

    def send(number: int, port: int, items: Sequence[Any]) -> None:
        start.wait()
        results[number] = peers.pynetdicom_send(port, items, called_aet=NODE_AET)

    threads = [threading.Thread(target=send, args=(n, *job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def dataset(**attributes: Any) -> Dataset:
    """A query identifier from keywords (``""`` asks for the attribute back)."""
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds
