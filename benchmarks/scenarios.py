"""Scenarios 1-7 of the suite: one function per scenario runs one pair once.

A run starts the SCP process, runs the SCU process(es) against it, stops
the SCP and checks what both ends say happened (every status Success, the
SCP's own count of what it served, the files it wrote). A run whose checks
fail is recorded with its error and left out of the statistics.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import data, tools
from .procs import Child, PeerError, free_port, python_env
from .sides import (
    Scp,
    ScpFigures,
    ScpSpec,
    ScuFigures,
    ScuSpec,
    Settings,
    cpus_for,
    parallel_store,
    run_scu,
    scu_figures,
)

T = TypeVar("T")
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
NAMES = {"dicomwire": "dicomwire", "pynetdicom": "pynetdicom", "dcmtk": "DCMTK", "raw": "raw TCP"}
SHORT = {"dw": "dicomwire", "pn": "pynetdicom", "dcmtk": "dcmtk"}


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does (the issue's figures by default)."""

    echoes: int = 2000
    associations: int = 500
    large_count: int = 500
    large_bytes: int = 512 * KiB
    small_count: int = 1000
    small_bytes: int = 40 * KiB
    big_bytes: int = 1 * GiB
    senders: int = 16
    per_sender: int = 100
    per_sender_bytes: int = 40 * KiB
    find_responses: int = 20000
    ingest: int = 2000
    ingest_senders: int = 4
    ingest_bytes: int = 512 * KiB
    index_instances: int = 100000
    index_studies: int = 2000  # x 5 series: 10 instances per series
    dcmqrscp_index: int = 10000  # dcmqridx indexes in quadratic time: capped
    retrieve_study: int = 500
    find_queries: int = 20  # C-FIND latency: queries per level


FULL = Sizes()
QUICK = Sizes(
    echoes=200,
    associations=25,
    large_count=40,
    small_count=100,
    big_bytes=64 * MiB,
    per_sender=12,
    find_responses=1000,
    ingest=200,
    index_instances=2000,
    index_studies=40,
    dcmqrscp_index=2000,
    retrieve_study=40,
    find_queries=5,
)


@dataclass(frozen=True)
class Pair:
    """The SCU's implementation and the SCP's (``raw``: the TCP reference)."""

    scu: str
    scp: str

    @property
    def key(self) -> str:
        return f"{self.scu}->{self.scp}"

    @property
    def label(self) -> str:
        if self.scu == "raw":
            return NAMES["raw"]
        return f"{NAMES[self.scu]} → {NAMES[self.scp]}"

    @classmethod
    def parse(cls, text: str) -> Pair:
        """``dw-dcmtk``, ``dicomwire->dcmtk`` or ``pn-pn``."""
        left, sep, right = text.replace("->", "-").partition("-")
        names = {**SHORT, **{v: v for v in SHORT.values()}}
        if not sep or left not in names or right not in names:
            raise ValueError(f"{text!r}: a pair is SCU-SCP with each of dw, pn, dcmtk")
        return cls(names[left], names[right])


SAME = [Pair("dicomwire", "dicomwire"), Pair("pynetdicom", "pynetdicom"), Pair("dcmtk", "dcmtk")]
DICOMWIRE_CROSS = [
    Pair("dicomwire", "dcmtk"),
    Pair("dcmtk", "dicomwire"),
    Pair("dicomwire", "pynetdicom"),
    Pair("pynetdicom", "dicomwire"),
]
OTHER_CROSS = [Pair("pynetdicom", "dcmtk"), Pair("dcmtk", "pynetdicom")]
DEFAULT_PAIRS = SAME + DICOMWIRE_CROSS
ALL_PAIRS = DEFAULT_PAIRS + OTHER_CROSS
RAW = Pair("raw", "raw")


@dataclass
class Sample:
    """One run of one pair: its figures, or why it failed."""

    ok: bool
    rate: float = 0.0  # the scenario's unit
    mbps: float | None = None  # MB/s (10^6 bytes) where data moves
    scu_cpu: float = 0.0
    scp_cpu: float = 0.0
    scu_rss_kb: int = 0
    scp_rss_kb: int = 0
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    sizes: Sizes
    settings: Settings
    log: Callable[[str], None]
    data_root: Path = data.DATA_ROOT
    cache: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], T]) -> T:
        """``make()`` once per run (data sets: generated once, then cached on disk)."""
        if key not in self.cache:
            started = time.perf_counter()
            self.cache[key] = make()
            spent = time.perf_counter() - started
            if spent > 1:
                self.log(f"  data {key}: ready in {spent:.1f} s")
        return self.cache[key]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Scenario:
    number: int
    name: str
    title: str
    unit: str
    run: Callable[[Context, Pair], Sample]
    references: tuple[Pair, ...] = ()  # rows measured besides the pairs (raw TCP)
    note: str = ""


# ---------------------------------------------------------------------------
# Shared pieces


def client_server(
    ctx: Context, pair: Pair, tag: str, scp_spec: ScpSpec, scu_spec: ScuSpec
) -> tuple[ScuFigures, ScpFigures]:
    name = f"{tag}-{pair.scu}-{pair.scp}"
    with Scp(pair.scp, scp_spec, ctx.settings, f"{name}-scp") as scp:
        scu = run_scu(pair.scu, scu_spec, scp.port, ctx.settings, f"{name}-scu")
        served = scp.stop()
    return scu, served


def sample(
    scu: ScuFigures,
    scp: ScpFigures,
    expected: int,
    rate_of: Callable[[ScuFigures], float],
    checks: list[str],
    mbps: bool = False,
) -> Sample:
    """A Sample from both ends' figures; any error or failed check makes it a failure."""
    errors = [*scu.errors, *([scp.error] if scp.error else []), *checks]
    if not errors and scu.ok != expected:
        errors.append(f"{scu.ok} of {expected} operations succeeded")
    result = Sample(
        ok=not errors,
        scu_cpu=scu.cpu,
        scp_cpu=scp.cpu,
        scu_rss_kb=scu.maxrss_kb,
        scp_rss_kb=scp.maxrss_kb,
        error="; ".join(errors),
        details={"elapsed": scu.elapsed, "scu": scu.extra, "scp": scp.served},
    )
    if result.ok and scu.elapsed > 0:
        result.rate = rate_of(scu)
        if mbps:
            result.mbps = scu.extra.get("bytes", 0) / scu.elapsed / 1e6
    return result


def served_check(impl: str, scp: ScpFigures, key: str, expected: int) -> list[str]:
    """The Python SCPs count what they served; DCMTK's are checked by their SCU's view."""
    if key != "files" and (impl == "dcmtk" or key not in scp.served):
        return []
    got = scp.served.get(key)
    if got != expected:
        return [f"the SCP reports {key}={got}, expected {expected}"]
    return []


# ---------------------------------------------------------------------------
# 1. C-ECHO, 2. associations


def run_echo(ctx: Context, pair: Pair) -> Sample:
    n = ctx.sizes.echoes
    scu, scp = client_server(ctx, pair, "echo", ScpSpec(), ScuSpec("echo", count=n))
    checks = served_check(pair.scp, scp, "echoes", n)
    return sample(scu, scp, n, lambda f: n / f.elapsed, checks)


def run_associations(ctx: Context, pair: Pair) -> Sample:
    n = ctx.sizes.associations
    scu, scp = client_server(ctx, pair, "assoc", ScpSpec(), ScuSpec("assoc", count=n))
    checks = served_check(pair.scp, scp, "echoes", n)
    return sample(scu, scp, n, lambda f: n / f.elapsed, checks)


# ---------------------------------------------------------------------------
# 3, 4. C-STORE over one association


def large_set(ctx: Context) -> Path:
    s = ctx.sizes
    return ctx.once("large", lambda: data.ct_set(s.large_count, s.large_bytes, ctx.data_root))


def small_set(ctx: Context) -> Path:
    s = ctx.sizes
    return ctx.once("small", lambda: data.ct_set(s.small_count, s.small_bytes, ctx.data_root))


def store_folder(ctx: Context, pair: Pair, tag: str, folder: Path, mode: str) -> Sample:
    n = len(data.dicom_files(folder))
    scu, scp = client_server(ctx, pair, tag, ScpSpec(mode=mode), ScuSpec("store", folder=folder))
    if mode == "write":
        checks = served_check(pair.scp, scp, "files", n)
    else:
        checks = served_check(pair.scp, scp, "stored", n)
    return sample(scu, scp, n, lambda f: n / f.elapsed, checks, mbps=True)


def run_large_discard(ctx: Context, pair: Pair) -> Sample:
    return store_folder(ctx, pair, "store512k-discard", large_set(ctx), "discard")


def run_large_write(ctx: Context, pair: Pair) -> Sample:
    return store_folder(ctx, pair, "store512k-write", large_set(ctx), "write")


def run_small(ctx: Context, pair: Pair) -> Sample:
    return store_folder(ctx, pair, "store40k", small_set(ctx), "discard")


# ---------------------------------------------------------------------------
# 5. one big instance, against raw loopback TCP


def big_file(ctx: Context) -> Path:
    return ctx.once("big", lambda: data.big_ct(ctx.sizes.big_bytes, ctx.data_root))


def run_big(ctx: Context, pair: Pair) -> Sample:
    path = big_file(ctx)
    if pair == RAW:
        return run_raw(ctx, path.stat().st_size)
    # Only the big file in its folder: storescu and the Python SCUs send a folder.
    folder = path.parent
    spec = ScpSpec(mode="discard", spool=True)
    scu, scp = client_server(ctx, pair, "big", spec, ScuSpec("store", folder=folder))
    checks = served_check(pair.scp, scp, "stored", 1)
    return sample(scu, scp, 1, lambda f: f.extra.get("bytes", 0) / f.elapsed / 1e6, checks,
                  mbps=True)  # fmt: skip


def run_raw(ctx: Context, size: int) -> Sample:
    port = free_port()
    env = python_env()
    workdir = ctx.settings.workdir
    receiver = Child([sys.executable, "-m", "benchmarks.rawtcp", "recv", "--port", str(port)],
                     workdir, "raw-recv", env=env,
                     cpus=cpus_for(ctx.settings, "scp"))  # fmt: skip
    try:
        receiver.wait_event("ready", 30)
        sender = Child(
            [sys.executable, "-m", "benchmarks.rawtcp", "send", "--port", str(port),
             "--bytes", str(size)],
            workdir, "raw-send", env=env, cpus=cpus_for(ctx.settings, "scu"),
        )  # fmt: skip
        scu = scu_figures("raw", ScuSpec("store"), sender, ctx.settings.timeout)
        end = receiver.wait(60)
    finally:
        if receiver.running():
            receiver.signal(9)
    scp = ScpFigures(end.cpu, end.maxrss_kb)
    return sample(scu, scp, 1, lambda f: size / f.elapsed / 1e6, [], mbps=True)


# ---------------------------------------------------------------------------
# 6. concurrent senders


def sender_folders(ctx: Context) -> list[Path]:
    s = ctx.sizes

    def make() -> list[Path]:
        pool = data.ct_set(max(s.small_count, s.per_sender), s.per_sender_bytes, ctx.data_root)
        return data.split_set(pool, s.senders, s.per_sender, ctx.data_root)

    return ctx.once("senders", make)


def run_concurrent(ctx: Context, pair: Pair) -> Sample:
    folders = sender_folders(ctx)
    name = f"concurrent-{pair.scu}-{pair.scp}"
    with Scp(pair.scp, ScpSpec(concurrent=True), ctx.settings, f"{name}-scp") as scp:
        merged = parallel_store(pair.scu, folders, scp.port, ctx.settings, name)
        served = scp.stop()
    total = sum(len(data.dicom_files(f)) for f in folders)
    checks = served_check(pair.scp, served, "stored", total)
    return sample(merged, served, total, lambda f: total / f.elapsed, checks, mbps=True)


# ---------------------------------------------------------------------------
# 7. C-FIND with many pending responses


def find_index(ctx: Context) -> tuple[Path, str]:
    """A dcmqrscp storage area indexing ``find_responses`` instances of one series."""
    n = ctx.sizes.find_responses

    def make() -> tuple[Path, str]:
        files = data.header_only_set(n, root=ctx.data_root).files()
        area = ctx.data_root / f"dcmqr-find-x{n}"
        if not (area / ".complete").exists():
            ctx.log(f"  indexing {n} instances with dcmqridx (once; it takes quadratic time)")
            build_dcmqr_index(area, files)
        from pydicom import dcmread

        study = str(dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
        return area, study

    return ctx.once("find-index", make)


def build_dcmqr_index(area: Path, files: list[Path], batch: int = 500) -> None:
    import shutil

    shutil.rmtree(area, ignore_errors=True)
    area.mkdir(parents=True)
    dcmqridx = tools.require_dcmtk("dcmqridx")
    for start in range(0, len(files), batch):
        chunk = [str(p) for p in files[start : start + batch]]
        subprocess.run([dcmqridx, str(area), *chunk], check=True, capture_output=True)
    (area / ".complete").write_text(data.FORMAT)


def run_find(ctx: Context, pair: Pair) -> Sample:
    n = ctx.sizes.find_responses
    study = None
    scp_spec = ScpSpec(mode="find", find_count=n)
    if pair.scp == "dcmtk":
        scp_spec.find_index, study = find_index(ctx)
    scu, scp = client_server(ctx, pair, "find", scp_spec, ScuSpec("find", count=n, study=study))
    checks = served_check(pair.scp, scp, "pendings", n)
    return sample(scu, scp, n, lambda f: n / f.elapsed, checks)


SCENARIOS = [
    Scenario(1, "echo", "C-ECHO on one association", "echoes/s", run_echo),
    Scenario(2, "assoc", "Associate + C-ECHO + release, in a row", "associations/s",
             run_associations,
             note="DCMTK: one echoscu process per association (no DCMTK tool loops "
                  "associations in one process), so process start-up is included: "
                  "mostly loading its data dictionary, ~40 ms of CPU each."),
    Scenario(3, "store-512k-discard", "C-STORE of 512 KiB CT over one association, SCP discards",
             "instances/s", run_large_discard),
    Scenario(3, "store-512k-write", "C-STORE of 512 KiB CT over one association, SCP writes files",
             "instances/s", run_large_write,
             note="Files written bit for bit (storescp +B), without fsync."),
    Scenario(4, "store-40k", "C-STORE of 40 KiB CT over one association, SCP discards",
             "instances/s", run_small),
    Scenario(5, "store-big", "C-STORE of one big CT, SCP discards", "MB/s", run_big,
             references=(RAW,),
             note="Python SCPs receive it into a spool file (dicomwire past its 32 MiB "
                  "threshold, pynetdicom with STORE_RECV_CHUNKED_DATASET)."),
    Scenario(6, "concurrent", "Concurrent SCU processes storing 40 KiB CT into one SCP",
             "instances/s", run_concurrent,
             note="Aggregate rate from the first sender's start to the last one's end; "
                  "SCU CPU is the sum and SCU RSS the largest of the senders. DCMTK: "
                  "storescp --fork."),
    Scenario(7, "find", "C-FIND answered with many pending responses", "responses/s", run_find,
             note="dicomwire and pynetdicom answer from a handler yielding prepared "
                  "identifiers; DCMTK has no such SCP: dcmqrscp answers from its index."),
]  # fmt: skip


def select(names: list[str] | None) -> list[Scenario]:
    """Scenarios by name or prefix (``store`` selects every C-STORE one), or number."""
    if not names:
        return list(SCENARIOS)
    chosen: list[Scenario] = []
    for name in names:
        found = [s for s in SCENARIOS if s.name.startswith(name) or str(s.number) == name]
        if not found:
            known = ", ".join(s.name for s in SCENARIOS)
            raise ValueError(f"unknown scenario {name!r} (known: {known}, node)")
        chosen += [s for s in found if s not in chosen]
    return chosen


__all__ = ["FULL", "QUICK", "SCENARIOS", "Context", "Pair", "PeerError", "Sample", "Scenario"]
