"""Child processes, with what each one cost: wall time, CPU seconds, peak RSS.

A child is reaped with ``os.wait4``, whose CPU time covers exactly that
child (and the children it reaped itself, e.g. a forking SCP), so the
figures are the same for a Python peer and a DCMTK binary. Its peak RSS is
its ``VmHWM``, followed while it runs (see :func:`peak_rss_kb` for why not
``ru_maxrss``). Output goes to files, never pipes: nothing can block on a
full pipe while it is measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

LOCALHOST = "127.0.0.1"


class PeerError(RuntimeError):
    """A peer failed to start, exited badly or did not finish in time."""


@dataclass
class Exit:
    """How a child ended and what it used over its whole life."""

    returncode: int
    wall: float  # seconds from spawn to exit
    cpu: float  # user + system seconds (wait4)
    maxrss_kb: int  # peak resident set size in KiB (VmHWM, see peak_rss_kb)
    timed_out: bool = False


def peak_rss_kb(pid: int | str = "self") -> int:
    """``VmHWM`` of a process: the peak RSS of the program it runs now.

    Not ``ru_maxrss``: on Linux that one carries over the RSS of the parent
    at fork (the orchestrator's ~50 MiB) into the child, through exec.
    ``VmHWM`` belongs to the address space, which exec replaces. 0 once
    the process is gone.
    """
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children_of(pid: int) -> list[int]:
    """The pids of a process's children (empty once it is gone)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def listening_ports() -> set[int]:
    """Ports in LISTEN state according to /proc/net/tcp (no probe connection)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class Child:
    """One child process; :meth:`wait` reaps it with ``wait4``."""

    def __init__(
        self,
        argv: Sequence[str],
        workdir: Path,
        name: str,
        env: Mapping[str, str] | None = None,
        stdin_pipe: bool = False,
        cwd: Path | None = None,
        cpus: set[int] | None = None,
        tree_rss: bool = False,
    ) -> None:
        """``tree_rss``: the peak RSS counts the children's peaks too (their sum)."""
        self.name = name
        self.tree_rss = tree_rss
        self.argv = [str(a) for a in argv]
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.started = time.perf_counter()
            self.popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=err,
                stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
            )
        if cpus:
            # Set on the child, not through taskset: no extra exec per process
            # (the DCMTK association scenario starts 500 of them).
            os.sched_setaffinity(self.popen.pid, cpus)
        self.exit: Exit | None = None
        self.hwm_kb = 0
        self._done = threading.Event()
        self._reaper = threading.Thread(target=self._reap, daemon=True)
        self._reaper.start()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _reap(self) -> None:
        _, status, usage = os.wait4(self.popen.pid, 0)
        wall = time.perf_counter() - self.started
        code = os.waitstatus_to_exitcode(status)
        self.popen.returncode = code  # Popen must not wait for it again
        self.exit = Exit(code, wall, usage.ru_utime + usage.ru_stime, 0)
        self._done.set()

    def _sample(self) -> None:
        """Follow the child's VmHWM (monotonic) until it exits: its peak RSS.

        A DCMTK binary cannot report it itself; the last sample misses at most
        the final 20 ms of growth. Python peers also report their own at the end.
        """
        while not self._done.wait(0.02):
            pid = self.popen.pid
            rss = peak_rss_kb(pid)
            if self.tree_rss:
                rss += sum(peak_rss_kb(child) for child in children_of(pid))
            self.hwm_kb = max(self.hwm_kb, rss)
        if self.exit is not None:
            self.exit.maxrss_kb = self.hwm_kb

    def running(self) -> bool:
        return not self._done.is_set()

    def send_line(self, line: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(line.encode() + b"\n")
        self.popen.stdin.flush()

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signum)

    def wait(self, timeout: float) -> Exit:
        """Reap the child; after ``timeout`` seconds kill it and mark it timed out."""
        if not self._done.wait(timeout):
            self.signal(signal.SIGKILL)
            self._done.wait(30)
            assert self.exit is not None
            self.exit.timed_out = True
        assert self.exit is not None
        self._sampler.join(5)
        self.exit.maxrss_kb = max(self.exit.maxrss_kb, self.hwm_kb)
        if self.popen.stdin is not None:
            self.popen.stdin.close()
        return self.exit

    def stop(self, grace: float = 20.0) -> Exit:
        """SIGTERM, then wait up to ``grace`` seconds (then SIGKILL)."""
        self.signal(signal.SIGTERM)
        return self.wait(grace)

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        """The JSON objects the child printed, one a line (other lines ignored)."""
        found = []
        for line in self.stdout().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def event(self, name: str) -> dict[str, Any] | None:
        """The last JSON line whose ``event`` is ``name``."""
        matches = [obj for obj in self.json_lines() if obj.get("event") == name]
        return matches[-1] if matches else None

    def wait_event(self, name: str, timeout: float) -> dict[str, Any]:
        """Wait for the JSON line ``{"event": name, ...}`` (a peer saying it is ready)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.event(name)
            if found is not None:
                return found
            if not self.running():
                raise PeerError(f"{self.name} exited before {name!r}: {self.tail()}")
            if time.monotonic() > deadline:
                raise PeerError(f"{self.name}: no {name!r} within {timeout} s: {self.tail()}")
            time.sleep(0.005)

    def wait_listening(self, port: int, timeout: float) -> None:
        """Wait until something listens on ``port`` (for binaries that say nothing)."""
        deadline = time.monotonic() + timeout
        while port not in listening_ports():
            if not self.running():
                raise PeerError(f"{self.name} exited before listening: {self.tail()}")
            if time.monotonic() > deadline:
                raise PeerError(f"{self.name}: not listening on {port} after {timeout} s")
            time.sleep(0.005)

    def tail(self, lines: int = 8) -> str:
        """The end of the child's stderr and stdout, for error messages."""
        text = (self.stderr().strip() + "\n" + self.stdout().strip()).strip()
        return " | ".join(text.splitlines()[-lines:]) or f"exit {self.popen.returncode}"


def usage() -> dict[str, float]:
    """CPU seconds and peak RSS (KiB, VmHWM) of this process so far."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": peak_rss_kb() or ru.ru_maxrss}


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout: how a peer tells the suite what it did."""
    import sys

    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def set_aside(path: Path, workdir: Path) -> None:
    """Move a finished run's files out of the way; they go with the work folder at the end.

    Deleting thousands of files just before the next run is measured skews it:
    ext4 without a journal (as on this machine) will not reuse an inode freed
    in the last minute or so, and every file the next run creates then costs
    up to ~0.7 ms of kernel CPU in the search for a free one. Set aside, the
    files are deleted once, after everything is measured.
    """
    if not path.exists():
        return
    aside = workdir / "set-aside"
    aside.mkdir(parents=True, exist_ok=True)
    path.rename(aside / f"{path.name}-{time.monotonic_ns()}")


def python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of a Python peer: unbuffered, no DICOMWIRE_* settings leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DICOMWIRE_")}
    root = str(Path(__file__).resolve().parents[1])
    src = str(Path(root) / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, src, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def log(stream: TextIO, message: str) -> None:
    stream.write(message + "\n")
    stream.flush()
