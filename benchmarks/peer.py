"""One side of a benchmark pair, for dicomwire and for pynetdicom.

dicomwire keeps pynetdicom's ``AE``/``evt`` API, so the same code drives
both: only the module it is imported from differs (:func:`load_api`)::

    python -m benchmarks.peer scp dicomwire --port 11112 --mode discard
    python -m benchmarks.peer scu pynetdicom echo --port 11112 --count 2000

An SCP prints ``{"event": "ready", ...}`` once it listens (with the CPU
time it used to get there, which the suite subtracts), serves until SIGTERM,
then prints ``{"event": "done", ...}`` with what it served. An SCU runs its
loop and prints ``{"event": "result", ...}``: the elapsed wall time of the
measured part only (imports and data preparation excluded), its CPU time
over that part, its peak RSS, and how many operations succeeded. With
``--wait-go`` an SCU prints ``ready`` and waits for a line on stdin first
(concurrent senders start together).

pynetdicom is configured at its best for these jobs, as documented by it:
``LOG_HANDLER_LEVEL = "none"`` (no per-PDU logging handlers), files are sent
from disk as they are (``STORE_SEND_CHUNKED_DATASET``) and, with
``--spool``, large data sets are received into a file
(``STORE_RECV_CHUNKED_DATASET``). It has no setting for ``TCP_NODELAY``
and leaves Nagle's algorithm on, which costs ~40 ms per message whose
last PDU is small (Nagle waiting for the peer's delayed ACK): as DCMTK gets
``TCP_NODELAY=1``, its sockets get ``TCP_NODELAY`` set by a patch
(:func:`pynetdicom_nodelay`) unless ``--stock`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pydicom.dataset import Dataset

from .procs import emit, usage

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
VERIFICATION = "1.2.840.10008.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
SUCCESS, PENDING = 0x0000, 0xFF00


@dataclass
class Api:
    """What the drivers use from dicomwire or pynetdicom."""

    name: str
    module: ModuleType
    evt: Any
    AE: Any


def pynetdicom_nodelay() -> None:
    """Set TCP_NODELAY on every socket pynetdicom's AssociationSocket uses."""
    import socket

    from pynetdicom import transport

    cls = transport.AssociationSocket
    create, init = cls._create_socket, cls.__init__

    def nodelay(sock: Any) -> None:
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def create_socket(self: Any, address: Any) -> Any:
        sock = create(self, address)
        nodelay(sock)
        return sock

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        nodelay(getattr(self, "socket", None))

    cls._create_socket = create_socket  # type: ignore[method-assign]
    cls.__init__ = __init__  # type: ignore[method-assign]


def load_api(impl: str, spool: bool = False, stock: bool = False) -> Api:
    if impl == "dicomwire":
        import dicomwire

        return Api(impl, dicomwire, dicomwire.evt, dicomwire.AE)
    if impl == "pynetdicom":
        import pynetdicom
        from pynetdicom import _config

        _config.LOG_HANDLER_LEVEL = "none"
        _config.STORE_SEND_CHUNKED_DATASET = True
        _config.STORE_RECV_CHUNKED_DATASET = spool
        if not stock:
            pynetdicom_nodelay()
        return Api(impl, pynetdicom, pynetdicom.evt, pynetdicom.AE)
    raise SystemExit(f"unknown implementation {impl!r}")


# ---------------------------------------------------------------------------
# SCP


class Counters:
    """What an SCP served; updated from one thread per association."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values = {"echoes": 0, "stored": 0, "store_errors": 0, "finds": 0, "pendings": 0}
        self.errors: list[str] = []

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.values[key] += n

    def error(self, message: str) -> None:
        with self.lock:
            if len(self.errors) < 5:
                self.errors.append(message)


def find_answers(count: int) -> list[Dataset]:
    """``count`` IMAGE-level identifiers, built before the SCP says it is ready."""
    from pydicom.uid import generate_uid

    study, series = str(generate_uid()), str(generate_uid())
    answers = []
    for number in range(count):
        ds = Dataset()
        ds.QueryRetrieveLevel = "IMAGE"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = str(generate_uid())
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.InstanceNumber = number + 1
        answers.append(ds)
    return answers


def scp_handlers(api: Api, args: argparse.Namespace, counters: Counters) -> list[Any]:
    evt = api.evt
    out = Path(args.out) if args.out else None
    answers = find_answers(args.find_count) if args.mode == "find" else []

    def on_echo(event: Any) -> int:
        counters.add("echoes")
        return SUCCESS

    def on_store(event: Any) -> int:
        if out is not None:
            name = str(event.request.AffectedSOPInstanceUID)
            with open(out / f"{name}.dcm", "wb") as fh:
                fh.write(event.encoded_dataset(include_meta=True))
        counters.add("stored")
        return SUCCESS

    def on_find(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        counters.add("finds")
        sent = 0
        for ds in answers:
            yield PENDING, ds
            sent += 1
        counters.add("pendings", sent)
        yield SUCCESS, None

    return [(evt.EVT_C_ECHO, on_echo), (evt.EVT_C_STORE, on_store), (evt.EVT_C_FIND, on_find)]


def run_scp(args: argparse.Namespace) -> int:
    # Signals are taken by the main thread with sigwait; block them before any
    # thread starts so that the server's threads inherit the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    api = load_api(args.impl, spool=args.spool, stock=args.stock)
    ae = api.AE(args.aet)
    ae.maximum_pdu_size = args.max_pdu
    ae.maximum_associations = args.max_associations
    ae.network_timeout = ae.dimse_timeout = ae.acse_timeout = 120
    syntaxes = [EXPLICIT_LE, IMPLICIT_LE]
    for uid in (VERIFICATION, CT_IMAGE_STORAGE, STUDY_ROOT_FIND, PATIENT_ROOT_FIND):
        ae.add_supported_context(uid, syntaxes)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    counters = Counters()
    handlers = scp_handlers(api, args, counters)
    server = ae.start_server(("127.0.0.1", args.port), block=False, evt_handlers=handlers)
    emit("ready", impl=args.impl, port=args.port, **usage())
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.shutdown()
    emit("done", **counters.values, errors=counters.errors, **usage())
    return 0


# ---------------------------------------------------------------------------
# SCU


class Loop:
    """The measured part of an SCU run: time, CPU, successes and first errors."""

    def __init__(self) -> None:
        self.ok = 0
        self.errors: list[str] = []
        self.started = 0.0
        self.cpu0 = 0.0
        self.elapsed = 0.0
        self.cpu = 0.0
        self.extra: dict[str, Any] = {}

    def __enter__(self) -> Loop:
        self.cpu0 = usage()["cpu"]
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        self.cpu = usage()["cpu"] - self.cpu0

    def fail(self, message: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(message)

    def check(self, status: Any, what: str, expected: int = SUCCESS) -> bool:
        code = getattr(status, "Status", None)
        if code == expected:
            self.ok += 1
            return True
        self.fail(f"{what}: status {code if code is None else hex(code)}")
        return False


def associate(api: Api, ae: Any, args: argparse.Namespace) -> Any:
    assoc = ae.associate("127.0.0.1", args.port, ae_title=args.called, max_pdu=args.max_pdu)
    if not assoc.is_established:
        raise RuntimeError(f"association not established with port {args.port}")
    return assoc


def new_ae(api: Api, args: argparse.Namespace, *contexts: str) -> Any:
    ae = api.AE(args.aet)
    # A lost response fails the run after a minute instead of hanging it.
    ae.network_timeout = ae.dimse_timeout = ae.acse_timeout = 60
    for uid in contexts:
        # The files are Explicit VR Little Endian: propose only that for storage,
        # so that no side converts anything.
        syntaxes = [EXPLICIT_LE] if uid == CT_IMAGE_STORAGE else [EXPLICIT_LE, IMPLICIT_LE]
        ae.add_requested_context(uid, syntaxes)
    return ae


def scu_echo(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    ae = new_ae(api, args, VERIFICATION)
    with loop:
        assoc = associate(api, ae, args)
        for number in range(args.count):
            if not loop.check(assoc.send_c_echo(), f"echo {number}"):
                break
        assoc.release()


def scu_assoc(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    ae = new_ae(api, args, VERIFICATION)
    with loop:
        for number in range(args.count):
            assoc = ae.associate("127.0.0.1", args.port, ae_title=args.called, max_pdu=args.max_pdu)
            if not assoc.is_established:
                loop.fail(f"association {number} not established")
                break
            loop.check(assoc.send_c_echo(), f"echo on association {number}")
            assoc.release()


def scu_store(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    files = sorted(str(p) for p in Path(args.dir).iterdir() if p.suffix == ".dcm")
    if args.count:
        files = files[: args.count]
    size = sum(os.path.getsize(p) for p in files)
    ae = new_ae(api, args, CT_IMAGE_STORAGE)
    with loop:
        assoc = associate(api, ae, args)
        for number, path in enumerate(files, 1):
            kwargs = {"msg_id": number % 0xFFFF + 1} if api.name == "pynetdicom" else {}
            if not loop.check(assoc.send_c_store(path, **kwargs), f"store {path}"):
                break
        assoc.release()
    loop.extra = {"files": len(files), "bytes": size}


def find_query() -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.StudyInstanceUID = ""
    ds.SeriesInstanceUID = ""
    ds.SOPInstanceUID = ""
    return ds


def scu_find(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    ae = new_ae(api, args, STUDY_ROOT_FIND)
    query = find_query()
    if args.study:
        query.StudyInstanceUID = args.study
    pendings = 0
    final: Any = None
    with loop:
        assoc = associate(api, ae, args)
        for status, _identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
            code = getattr(status, "Status", None)
            if code in (PENDING, 0xFF01):
                pendings += 1
            else:
                final = code
        assoc.release()
    if final == SUCCESS and (args.count == 0 or pendings == args.count):
        loop.ok = pendings
    else:
        loop.fail(f"C-FIND: {pendings} pending responses (expected {args.count}), final {final}")
    loop.extra = {"pendings": pendings}


def identifier(keys: dict[str, str]) -> Dataset:
    ds = Dataset()
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def scu_queries(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    """C-FIND latency: each query of ``--queries`` (JSON) timed on one association.

    The file holds ``[{"level": ..., "keys": {...}, "expect": n}, ...]``; the
    first query is run once more beforehand, untimed, to warm up both ends.
    """
    queries = json.loads(Path(args.queries).read_text())
    ae = new_ae(api, args, STUDY_ROOT_FIND)
    timings = []
    with loop:
        assoc = associate(api, ae, args)
        for number, query in enumerate([queries[0], *queries]):
            started = time.perf_counter()
            matches, final = 0, None
            for status, _found in assoc.send_c_find(identifier(query["keys"]), STUDY_ROOT_FIND):
                code = getattr(status, "Status", None)
                if code in (PENDING, 0xFF01):
                    matches += 1
                else:
                    final = code
            spent = time.perf_counter() - started
            if final != SUCCESS or matches != query["expect"]:
                loop.fail(f"{query['level']} query {query['keys']}: {matches} matches "
                          f"(expected {query['expect']}), final status {final}")  # fmt: skip
            elif number:
                loop.ok += 1
                timings.append([query["level"], spent, matches])
        assoc.release()
    loop.extra = {"latencies": timings}


def retrieve_query(study: str) -> Dataset:
    return identifier({"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": study})


def final_counts(loop: Loop, status: Any, what: str, expected: int) -> None:
    code = getattr(status, "Status", None)
    done = getattr(status, "NumberOfCompletedSuboperations", None)
    failed = getattr(status, "NumberOfFailedSuboperations", 0) or 0
    if code == SUCCESS and (done is None or done == expected) and not failed:
        loop.ok = expected if done is None else int(done)
    else:
        loop.fail(f"{what}: final status {code}, {done} completed, {failed} failed "
                  f"(expected {expected})")  # fmt: skip


def scu_get(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    """C-GET of study ``--study``; the instances are received and discarded."""
    received = 0

    def on_store(event: Any) -> int:
        nonlocal received
        received += 1
        return SUCCESS

    ae = new_ae(api, args, STUDY_ROOT_GET)
    ae.add_requested_context(CT_IMAGE_STORAGE, [EXPLICIT_LE, IMPLICIT_LE])
    role = api.module.build_role(CT_IMAGE_STORAGE, scp_role=True)
    last: Any = None
    with loop:
        assoc = ae.associate(
            "127.0.0.1",
            args.port,
            ae_title=args.called,
            max_pdu=args.max_pdu,
            ext_neg=[role],
            evt_handlers=[(api.evt.EVT_C_STORE, on_store)],
        )
        if not assoc.is_established:
            raise RuntimeError("association not established")
        for status, _found in assoc.send_c_get(retrieve_query(args.study), STUDY_ROOT_GET):
            last = status
        assoc.release()
    final_counts(loop, last, "C-GET", args.count)
    if received != args.count:
        loop.fail(f"C-GET: {received} instances received, expected {args.count}")
    loop.extra = {"received": received}


def scu_move(api: Api, args: argparse.Namespace, loop: Loop) -> None:
    """C-MOVE of study ``--study`` to ``--dest`` (an SCP the suite runs)."""
    ae = new_ae(api, args, STUDY_ROOT_MOVE)
    last: Any = None
    with loop:
        assoc = associate(api, ae, args)
        responses = assoc.send_c_move(retrieve_query(args.study), args.dest, STUDY_ROOT_MOVE)
        for status, _found in responses:
            last = status
        assoc.release()
    final_counts(loop, last, "C-MOVE", args.count)


SCU_ACTIONS = {
    "echo": scu_echo,
    "assoc": scu_assoc,
    "store": scu_store,
    "find": scu_find,
    "queries": scu_queries,
    "get": scu_get,
    "move": scu_move,
}


def run_scu(args: argparse.Namespace) -> int:
    api = load_api(args.impl, stock=args.stock)
    loop = Loop()
    if args.wait_go:
        emit("ready")
        sys.stdin.readline()
    try:
        SCU_ACTIONS[args.action](api, args, loop)
    except Exception as exc:  # reported, not raised: the suite records the failure
        loop.fail(f"{type(exc).__name__}: {exc}")
    emit(
        "result",
        impl=args.impl,
        action=args.action,
        ok=loop.ok,
        errors=loop.errors,
        elapsed=loop.elapsed,
        cpu=loop.cpu,
        maxrss_kb=usage()["maxrss_kb"],
        end=time.time(),
        **loop.extra,
    )
    return 0 if not loop.errors else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__)
    sub = p.add_subparsers(dest="role", required=True)
    scp = sub.add_parser("scp", help="serve until SIGTERM")
    scp.add_argument("impl", choices=("dicomwire", "pynetdicom"))
    scp.add_argument("--port", type=int, required=True)
    scp.add_argument("--mode", choices=("discard", "write", "find"), default="discard")
    scp.add_argument("--out", help="write mode: folder for the received files")
    scp.add_argument("--find-count", type=int, default=0, help="pending responses per C-FIND")
    scp.add_argument("--spool", action="store_true", help="pynetdicom: receive into a file")
    scp.add_argument("--aet", default="BENCH-SCP")
    scp.add_argument("--max-pdu", type=int, default=16384)
    scp.add_argument("--max-associations", type=int, default=32)
    scu = sub.add_parser("scu", help="run one measured loop")
    scu.add_argument("impl", choices=("dicomwire", "pynetdicom"))
    scu.add_argument("action", choices=tuple(SCU_ACTIONS))
    scu.add_argument("--port", type=int, required=True)
    scu.add_argument("--count", type=int, default=0, help="operations (store: files; 0 all)")
    scu.add_argument("--dir", help="store: folder of .dcm files")
    scu.add_argument("--study", help="find, get, move: StudyInstanceUID")
    scu.add_argument("--queries", help="queries: JSON file of C-FIND queries")
    scu.add_argument("--dest", help="move: destination AE title")
    scu.add_argument("--aet", default="BENCH-SCU")
    scu.add_argument("--called", default="BENCH-SCP")
    scu.add_argument("--max-pdu", type=int, default=16384)
    scu.add_argument("--wait-go", action="store_true", help="start on a line from stdin")
    for sub_parser in (scp, scu):
        sub_parser.add_argument(
            "--stock",
            action="store_true",
            help="pynetdicom: leave Nagle's algorithm on (as shipped)",
        )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.role == "scp" and args.mode == "write" and not args.out:
        raise SystemExit("--mode write needs --out")
    return run_scp(args) if args.role == "scp" else run_scu(args)


if __name__ == "__main__":
    sys.exit(main())
