"""``dicomwire serve --workers N``: N node processes on one port and one archive.

A Python process runs Python on one core at a time. Under several
concurrent senders the node's association threads take turns at that one
core, and much of its CPU goes to handing it over (docs/performance.md,
fifth round). N processes spread the work over N cores. They share what
several nodes on one PostgreSQL index already share, the file store's
locks and the index's transactions, and here the listening socket too:
this process opens it and starts the workers with it inherited. A worker
already serving associations waits a little before accepting another
(``accept_delay`` of ``AE.start_server``), so an idle worker takes the next one.

This process serves nothing itself. It opens the archive once before the
workers start (a bad setting fails here, once; the index is migrated
once), forwards SIGTERM and SIGINT to the workers as one SIGTERM each, and
waits for them. A worker that exits on its own stops the others, and
``serve`` then exits non-zero so that a service manager restarts the node.
Workers run in their own session, so a Ctrl-C in the terminal reaches them
only through this process, and each watches a pipe from this process to
stop itself if this process is killed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from ..transport.tcp import TransportError, listen
from .common import CLIError

LOGGER = logging.getLogger("dicomwire.node")
# Not DICOMWIRE_*: those are settings, and an unknown one is an error.
LISTEN_FD = "_DICOMWIRE_LISTEN_FD"
SUPERVISOR_FD = "_DICOMWIRE_SUPERVISOR_FD"
WORKER = "_DICOMWIRE_WORKER"


def worker_number() -> int | None:
    """This process's number when it is a worker of ``serve --workers``, else None."""
    value = os.environ.get(WORKER)
    return int(value) if value else None


def worker_socket() -> socket.socket:
    """The listening socket inherited from the supervisor (in a worker only)."""
    return socket.socket(fileno=int(os.environ[LISTEN_FD]))


def watch_supervisor() -> None:
    """SIGTERM this worker when the supervisor's end of the pipe closes (it died)."""
    fd = int(os.environ[SUPERVISOR_FD])

    def wait() -> None:
        while os.read(fd, 1):
            pass  # nothing is ever written: only the end of file counts
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait, name="dicomwire-supervisor-watch", daemon=True).start()


def supervise(config: Any, argv: list[str]) -> int:
    """Run ``config.workers`` node processes on one listening socket until stopped."""
    try:
        sock = listen((config.bind, config.port))
    except TransportError as exc:
        raise CLIError(str(exc)) from exc
    with sock:
        _open_archive(config)
        watch_r, watch_w = os.pipe()
        workers = _start(config.workers, sock.fileno(), watch_r, argv)
        os.close(watch_r)
    LOGGER.info(
        "%d workers serving %s:%d (pids %s)",
        len(workers), config.bind or "*", config.port,
        ", ".join(str(w.pid) for w in workers.values()),
    )  # fmt: skip
    try:
        return _wait(workers)
    finally:
        os.close(watch_w)


def _open_archive(config: Any) -> None:
    """Create the data folder and migrate the index before any worker starts."""
    from ..node.app import tls_context
    from ..node.index import Index
    from ..node.store import FileStore

    try:
        tls_context(config)
        FileStore(config.data_dir, config.direct_io)
        Index(config.database_url, data_dir=config.data_dir).close()
    except Exception as exc:
        raise CLIError(f"cannot start: {exc}") from exc


def _start(
    count: int, listen_fd: int, watch_fd: int, argv: list[str]
) -> dict[int, subprocess.Popen[bytes]]:
    env = {**os.environ, LISTEN_FD: str(listen_fd), SUPERVISOR_FD: str(watch_fd)}
    command = [sys.executable, "-m", "dicomwire.cli.main", *argv]
    workers: dict[int, subprocess.Popen[bytes]] = {}
    for number in range(1, count + 1):
        workers[number] = subprocess.Popen(
            command,
            env={**env, WORKER: str(number)},
            pass_fds=(listen_fd, watch_fd),
            start_new_session=True,
        )
    return workers


def _wait(workers: dict[int, subprocess.Popen[bytes]]) -> int:
    """Wait for every worker; stop them all on a signal or when one exits on its own."""
    stopping = threading.Event()

    def stop_all(*_: Any) -> None:
        stopping.set()
        for worker in workers.values():
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_all)
    by_pid = {worker.pid: number for number, worker in workers.items()}
    failed = ""
    while any(worker.returncode is None for worker in workers.values()):
        pid, status = os.wait()  # retried after a signal handler runs (PEP 475)
        number = by_pid.get(pid)
        if number is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        workers[number].returncode = code  # reaped here, not by Popen
        unexpected = not stopping.is_set()
        if (unexpected or code != 0) and not failed:
            failed = f"worker {number} (pid {pid}) exited with {_describe(code)}"
        if unexpected:
            LOGGER.error("%s: stopping the others", failed)
            stop_all()
    if failed:
        raise CLIError(failed)
    return 0


def _describe(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"code {code}"
