"""One side of a pair, whatever implements it: an SCP started, an SCU run.

dicomwire and pynetdicom run :mod:`benchmarks.peer`; DCMTK runs its own
binaries with ``TCP_NODELAY=1``:

* SCP: ``storescp --ignore`` (discard), ``storescp +B -od DIR`` (write, bit
  preserving like the Python SCPs), ``storescp --fork`` (concurrent
  senders), and ``dcmqrscp`` over a ``dcmqridx`` index for C-FIND (DCMTK has
  no C-FIND SCP driven by a handler: its answers come from its index file).
* SCU: ``echoscu --repeat N`` (one association), one ``echoscu`` process per
  association (DCMTK has no tool that loops over associations in one
  process, so process start-up is included there), ``storescu +sd`` over a
  folder, ``findscu``.

Times: a Python SCU reports the wall time of its measured loop (imports and
set-up excluded); a DCMTK SCU is timed from spawn to exit (a C++ binary
starts in a few milliseconds). CPU seconds come from ``wait4`` and peak RSS
from ``VmHWM`` for every process (:mod:`benchmarks.procs`); a Python SCP's
CPU excludes what it used before it was ready (imports, building C-FIND
answers), a Python SCU's counts its measured loop only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import tools
from .procs import LOCALHOST, Child, PeerError, free_port, python_env, set_aside

IMPLS = ("dicomwire", "pynetdicom", "dcmtk")
SCP_AET = "BENCH-SCP"
SCU_AET = "BENCH-SCU"
_DCMTK_PROBLEM = re.compile(r"^(E|F): ", re.MULTILINE)


@dataclass
class Settings:
    """What every side of a run shares."""

    workdir: Path
    max_pdu: int = 16384
    timeout: float = 900.0
    profile_dir: Path | None = None  # py-spy record of the dicomwire processes
    pynetdicom_stock: bool = False  # True: Nagle left on, as pynetdicom ships
    cpus: str = "any"  # any | same | split: where SCU and SCP run (see cpus_for)


def cpus_for(settings: Settings, role: str) -> set[int] | None:
    """The CPUs a side may run on: ``same`` puts both on CPU 0, ``split``
    the SCU on CPU 0 and the SCP on CPU 1, ``any`` leaves it to the kernel.

    On this 2-CPU virtual machine a request/response exchange costs both
    ends a cross-CPU wake-up when they run apart, and the kernel picks
    either placement from run to run: pinning makes the small-message
    scenarios repeatable.
    """
    if settings.cpus == "same":
        return {0}
    if settings.cpus == "split":
        return {0} if role == "scu" else {1}
    return None


@dataclass
class ScpSpec:
    mode: str = "discard"  # discard | write | find
    find_count: int = 0
    find_index: Path | None = None  # dcmqrscp storage area (DCMTK find)
    concurrent: bool = False  # DCMTK storescp --fork
    spool: bool = False  # pynetdicom: receive large data sets into a file
    aet: str = SCP_AET


@dataclass
class ScpFigures:
    cpu: float
    maxrss_kb: int
    served: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class ScuSpec:
    action: str  # echo | assoc | store | find
    count: int = 0
    folder: Path | None = None
    study: str | None = None
    queries: Path | None = None  # C-FIND latency queries (JSON)
    dest: str | None = None  # C-MOVE destination


@dataclass
class ScuFigures:
    elapsed: float
    cpu: float
    maxrss_kb: int
    ok: int
    errors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    end: float = 0.0  # wall clock (time.time()) at the end of the measured part


def python_peer(impl: str, args: list[str], settings: Settings, name: str) -> list[str]:
    if impl == "pynetdicom" and settings.pynetdicom_stock:
        args = [*args, "--stock"]
    argv = [sys.executable, "-m", "benchmarks.peer", *args]
    if settings.profile_dir is not None and impl == "dicomwire" and shutil.which("py-spy"):
        settings.profile_dir.mkdir(parents=True, exist_ok=True)
        output = settings.profile_dir / f"{name}.speedscope.json"
        argv = ["py-spy", "record", "--format", "speedscope", "-o", str(output), "--", *argv]
    return argv


# ---------------------------------------------------------------------------
# SCP


class Scp:
    """An SCP process on a free port: :meth:`start`, run SCUs, :meth:`stop`."""

    def __init__(
        self, impl: str, spec: ScpSpec, settings: Settings, name: str, port: int | None = None
    ) -> None:
        self.impl = impl
        self.spec = spec
        self.settings = settings
        self.name = name
        self.port = port or free_port()
        self.out = settings.workdir / f"{name}-files" if spec.mode == "write" else None
        self.child: Child | None = None
        self.cpu_at_ready = 0.0

    def argv(self) -> list[str]:
        pdu = str(self.settings.max_pdu)
        if self.impl in ("dicomwire", "pynetdicom"):
            args = ["scp", self.impl, "--port", str(self.port), "--mode", self.spec.mode]
            args += ["--max-pdu", pdu, "--aet", self.spec.aet]
            if self.out is not None:
                args += ["--out", str(self.out)]
            if self.spec.mode == "find":
                args += ["--find-count", str(self.spec.find_count)]
            if self.spec.spool:
                args += ["--spool"]
            return python_peer(self.impl, args, self.settings, self.name)
        if self.spec.mode == "find":
            return self._dcmqrscp()
        argv = [tools.require_dcmtk("storescp"), "-aet", SCP_AET, "-pdu", pdu, "-dhl"]
        argv += ["-ta", "120", "-ts", "120"]
        if self.spec.mode == "write":
            assert self.out is not None
            argv += ["+B", "-od", str(self.out)]
        else:
            argv += ["--ignore"]
        if self.spec.concurrent:
            argv += ["--fork"]
        return [*argv, str(self.port)]

    def _dcmqrscp(self) -> list[str]:
        if self.spec.find_index is None:
            raise PeerError("dcmqrscp needs an index (ScpSpec.find_index)")
        config = self.settings.workdir / f"{self.name}.cfg"
        config.write_text(
            dcmqrscp_config(self.port, self.settings.max_pdu, {SCP_AET: self.spec.find_index})
        )
        return [tools.require_dcmtk("dcmqrscp"), "-s", "-dhl", "-c", str(config), str(self.port)]

    def start(self) -> Scp:
        if self.out is not None:
            shutil.rmtree(self.out, ignore_errors=True)
            self.out.mkdir(parents=True)
        env = python_env() if self.impl != "dcmtk" else tools.dcmtk_env()
        self.child = Child(
            self.argv(), self.settings.workdir, self.name, env=env,
            cpus=cpus_for(self.settings, "scp"),
        )  # fmt: skip
        if self.impl == "dcmtk":
            self.child.wait_listening(self.port, 30)
        else:
            ready = self.child.wait_event("ready", 60)
            self.cpu_at_ready = float(ready.get("cpu", 0.0))
        return self

    def stop(self) -> ScpFigures:
        assert self.child is not None
        target = profiled_python(self.child)
        if target is not None:
            os.kill(target, signal.SIGTERM)
        else:
            self.child.signal()
        end = self.child.wait(60)
        figures = ScpFigures(end.cpu - self.cpu_at_ready, end.maxrss_kb)
        if self.impl != "dcmtk":
            done = self.child.event("done")
            if done is None:
                figures.error = f"{self.name} ended without a report: {self.child.tail()}"
            else:
                figures.served = {k: v for k, v in done.items() if k not in ("event",)}
                figures.maxrss_kb = max(figures.maxrss_kb, int(done.get("maxrss_kb", 0)))
                if done.get("errors"):
                    figures.error = "; ".join(done["errors"])
        elif end.timed_out:
            figures.error = f"{self.name} did not stop"
        if self.out is not None:
            figures.served["files"] = sum(1 for p in self.out.iterdir() if p.is_file())
            set_aside(self.out, self.settings.workdir)
        return figures

    def __enter__(self) -> Scp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.child is not None and self.child.running():
            self.child.signal(9)
            self.child.wait(30)


def profiled_python(child: Child) -> int | None:
    """The Python process under ``py-spy record`` (signalled instead of py-spy)."""
    if not child.argv or Path(child.argv[0]).name != "py-spy":
        return None
    text = ""
    for task in Path(f"/proc/{child.pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            text += task.read_text() + " "
    pids = [int(p) for p in text.split()]
    return pids[0] if pids else None


def dcmqrscp_config(port: int, max_pdu: int, areas: dict[str, Path], hosts: str = "") -> str:
    """A ``dcmqrscp.cfg`` (DCMTK docs/dcmqrcnf.txt): one storage area per AE title."""
    # 500 studies and 1 GiB per study are dcmqrscp's upper limits (DB_UpperMaxStudies...).
    entries = [f"{aet} {path} RW (500, 1024mb) ANY" for aet, path in areas.items()]
    return "\n".join(
        [
            f"NetworkTCPPort = {port}",
            f"MaxPDUSize = {max_pdu}",
            "MaxAssociations = 32",
            "",
            "HostTable BEGIN",
            hosts,
            "HostTable END",
            "",
            "VendorTable BEGIN",
            "VendorTable END",
            "",
            "AETable BEGIN",
            *entries,
            "AETable END",
            "",
        ]
    )


# ---------------------------------------------------------------------------
# SCU


def scu_argv(impl: str, spec: ScuSpec, port: int, settings: Settings, name: str) -> list[str]:
    """The command of one SCU process (for DCMTK ``assoc``: of one association)."""
    pdu = str(settings.max_pdu)
    if impl in ("dicomwire", "pynetdicom"):
        args = ["scu", impl, spec.action, "--port", str(port), "--max-pdu", pdu]
        args += ["--count", str(spec.count), "--aet", SCU_AET, "--called", SCP_AET]
        if spec.folder is not None:
            args += ["--dir", str(spec.folder)]
        if spec.study:
            args += ["--study", spec.study]
        if spec.queries:
            args += ["--queries", str(spec.queries)]
        if spec.dest:
            args += ["--dest", spec.dest]
        return python_peer(impl, args, settings, name)
    common = ["-aet", SCU_AET, "-aec", SCP_AET, "-pdu", pdu, "-ta", "120"]
    if spec.action == "echo":
        return [tools.require_dcmtk("echoscu"), *common, "--repeat", str(spec.count),
                LOCALHOST, str(port)]  # fmt: skip
    if spec.action == "assoc":
        return [tools.require_dcmtk("echoscu"), *common, LOCALHOST, str(port)]
    if spec.action == "store":
        assert spec.folder is not None
        return [tools.require_dcmtk("storescu"), *common, "-R", "+sd", "+sp", "*.dcm",
                LOCALHOST, str(port), str(spec.folder)]  # fmt: skip
    if spec.action == "find":
        keys = ["QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={spec.study or ''}",
                "SeriesInstanceUID", "SOPInstanceUID"]  # fmt: skip
        options = [item for key in keys for item in ("-k", key)]
        return [tools.require_dcmtk("findscu"), "-S", *common, *options, LOCALHOST, str(port)]
    raise ValueError(f"unknown SCU action {spec.action!r}")


def start_scu(
    impl: str, spec: ScuSpec, port: int, settings: Settings, name: str, wait_go: bool = False
) -> Child:
    argv = scu_argv(impl, spec, port, settings, name)
    cpus = cpus_for(settings, "scu")
    if impl == "dcmtk":
        return Child(argv, settings.workdir, name, env=tools.dcmtk_env(), cpus=cpus)
    if wait_go:
        argv.append("--wait-go")
    return Child(
        argv, settings.workdir, name, env=python_env(), stdin_pipe=wait_go, cpus=cpus
    )


def scu_figures(impl: str, spec: ScuSpec, child: Child, timeout: float) -> ScuFigures:
    """Wait for an SCU started by :func:`start_scu` and read what it did."""
    end = child.wait(timeout)
    if impl == "dcmtk":
        problems = _DCMTK_PROBLEM.findall(child.stderr() + child.stdout())
        errors = []
        if end.timed_out:
            errors.append(f"{child.name}: no end after {timeout} s (killed)")
        elif end.returncode != 0 or problems:
            errors.append(f"{child.name}: exit {end.returncode}: {child.tail(4)}")
        expected = spec.count
        if spec.action == "store" and spec.folder is not None:
            expected = sum(1 for p in spec.folder.iterdir() if p.suffix == ".dcm")
        if spec.action == "assoc":
            expected = 1
        extra: dict[str, Any] = {}
        if spec.action == "store" and spec.folder is not None:
            files = [p for p in spec.folder.iterdir() if p.suffix == ".dcm"]
            extra = {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}
        return ScuFigures(end.wall, end.cpu, end.maxrss_kb, 0 if errors else expected, errors,
                          extra, time.time())  # fmt: skip
    result = child.event("result")
    if result is None:
        why = "killed after timeout" if end.timed_out else child.tail()
        return ScuFigures(end.wall, end.cpu, end.maxrss_kb, 0, [f"{child.name}: {why}"])
    extra = {
        k: v
        for k, v in result.items()
        if k in ("files", "bytes", "pendings", "latencies", "received")
    }
    return ScuFigures(
        float(result["elapsed"]),
        float(result["cpu"]),
        max(end.maxrss_kb, int(result.get("maxrss_kb", 0))),
        int(result["ok"]),
        list(result.get("errors", [])),
        extra,
        float(result.get("end", 0.0)),
    )


def run_scu(impl: str, spec: ScuSpec, port: int, settings: Settings, name: str) -> ScuFigures:
    """Run one SCU to completion (DCMTK ``assoc``: ``count`` echoscu processes in a row)."""
    if impl == "dcmtk" and spec.action == "assoc":
        return _dcmtk_associations(spec, port, settings, name)
    child = start_scu(impl, spec, port, settings, name)
    return scu_figures(impl, spec, child, settings.timeout)


def _dcmtk_associations(spec: ScuSpec, port: int, settings: Settings, name: str) -> ScuFigures:
    total = ScuFigures(0.0, 0.0, 0, 0)
    for number in range(spec.count):
        child = start_scu("dcmtk", spec, port, settings, f"{name}-{number % 2}")
        one = scu_figures("dcmtk", spec, child, 120)
        total.elapsed += one.elapsed
        total.cpu += one.cpu
        total.maxrss_kb = max(total.maxrss_kb, one.maxrss_kb)
        total.ok += one.ok
        total.end = one.end
        if one.errors:
            total.errors += one.errors
            break
    return total


def parallel_store(
    impl: str, folders: list[Path], port: int, settings: Settings, name: str
) -> ScuFigures:
    """One SCU process per folder, started together; figures of the whole.

    Python SCUs wait at a barrier (``--wait-go``) so that imports are not
    timed: the wall time runs from "go" to the last one's end. DCMTK
    storescu processes are timed from the first spawn to the last exit. CPU
    is the sum over the senders, RSS the largest.
    """
    python = impl != "dcmtk"
    specs = [ScuSpec("store", folder=folder) for folder in folders]
    children = [
        start_scu(impl, spec, port, settings, f"{name}-scu{i:02d}", wait_go=python)
        for i, spec in enumerate(specs)
    ]
    go = 0.0
    if python:
        for child in children:
            child.wait_event("ready", 120)
        go = time.time()
        for child in children:
            child.send_line("go")
    figures = [scu_figures(impl, spec, child, settings.timeout)
               for spec, child in zip(specs, children, strict=True)]  # fmt: skip
    if python:
        wall = max(f.end for f in figures) - go
    else:
        ends = [c.started + (c.exit.wall if c.exit else 0.0) for c in children]
        wall = max(ends) - min(c.started for c in children)
    return ScuFigures(
        elapsed=wall,
        cpu=sum(f.cpu for f in figures),
        maxrss_kb=max(f.maxrss_kb for f in figures),
        ok=sum(f.ok for f in figures),
        errors=[e for f in figures for e in f.errors],
        extra={"bytes": sum(f.extra.get("bytes", 0) for f in figures), "senders": len(figures)},
    )
