"""The archives of scenario 8, started by the suite with their own settings.

* :class:`NodeArchive`: ``dicomwire serve`` with its SQLite index, or with
  PostgreSQL (a cluster the suite keeps under ``benchmarks/.data/pg``,
  started with ``pg_ctl`` for the run, ``fsync=off``: :class:`PgCluster`).
* :class:`OrthancArchive`: Orthanc (Debian package ``orthanc``) with a
  generated JSON configuration: SQLite index and file storage in a folder of
  the suite's, ``SyncStorageArea`` on (as shipped; the node fsyncs too),
  ``StorageAccessOnFind: Never`` (answers from its index, as the node does),
  DCMTK inside, so ``TCP_NODELAY=1``.
* :class:`DcmqrscpArchive`: DCMTK ``dcmqrscp`` (forking) over an index
  file built with ``dcmqridx``.
* :class:`StorescpArchive`: DCMTK ``storescp --fork`` writing files, the
  issue's other ingest reference. It is no archive (no index, no queries,
  no fsync), so it takes part in ingest only.

Each can start *empty* (ingest) or *populated*: the index of scenario 8's
C-FIND queries plus the study that is moved and retrieved. A populated
archive is built once and cached under ``benchmarks/.data/archives/``:

* the node: files written into its store layout and indexed through the
  node's own :class:`dicomwire.node.index.Index` (``Index.add`` of each
  header, as the node does for a C-STORE, without the network and without
  fsync), which is far faster than through the network;
* Orthanc: through the network, four dicomwire senders (Orthanc's own way
  in; it has no bulk loader);
* dcmqrscp: ``dcmqridx``, whose time grows with the square of the index
  size: its index is capped (``Sizes.dcmqrscp_index``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data, tools
from .procs import Child, PeerError, free_port, python_env, set_aside
from .sides import SCP_AET, Settings, dcmqrscp_config, profiled_python

DEST_AET = "BENCH-DEST"


@dataclass
class Population:
    """What a populated archive holds: the query index and the retrieve study."""

    headers: data.HeaderSet
    study_folder: Path
    study_uid: str
    study_count: int


@dataclass
class Running:
    """A started archive: stop it to learn its CPU seconds and peak RSS."""

    child: Child
    port: int
    cleanup: Callable[[], None] = lambda: None

    def stop(self) -> tuple[float, int, str]:
        profiled = profiled_python(self.child)
        if profiled is not None:  # under py-spy: stop the node, py-spy then writes and exits
            os.kill(profiled, signal.SIGTERM)
            end = self.child.wait(60)
        else:
            end = self.child.stop(60)
        error = "" if not end.timed_out else f"{self.child.name} did not stop in time"
        if end.returncode not in (0, -15, 143) and not error:
            error = f"{self.child.name} exited with {end.returncode}: {self.child.tail(3)}"
        self.cleanup()
        return end.cpu, end.maxrss_kb, error


class Archive:
    """One contestant of scenario 8."""

    key = ""
    label = ""
    ingest_only = False  # no index: takes no part in C-FIND, C-MOVE and C-GET

    def unavailable(self) -> str | None:
        """Why this archive cannot run here, or None."""
        return None

    def start_empty(self, settings: Settings, dest_port: int) -> Running:
        raise NotImplementedError

    def start_populated(
        self, settings: Settings, dest_port: int, population: Population
    ) -> Running:
        raise NotImplementedError

    def populate(
        self, settings: Settings, population: Population, log: Callable[[str], None]
    ) -> None:
        """Build the cached populated archive if it is not there yet."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the archive kept for the whole run (a database server)."""


def cache_root(settings: Settings) -> Path:
    return data.DATA_ROOT / "archives"


def population_tag(population: Population) -> str:
    h = population.headers
    return f"x{h.count}-s{h.studies}-{h.run}-r{population.study_count}"


# ---------------------------------------------------------------------------
# PostgreSQL for the node


class PgCluster:
    """A PostgreSQL cluster under ``benchmarks/.data/pg``, started for the run.

    Only a Unix socket, ``fsync=off``: a benchmark cache, not an archive.
    Run as the ``postgres`` user when the suite runs as root (initdb and
    postgres refuse root).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "cluster"
        self.sockets = root / "run"
        self.port = 0
        self.started = False

    def _as_postgres(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        folder = tools.postgres_bin()
        assert folder is not None
        subprocess.run(self._as_postgres([str(folder / program), *args]), check=check,
                       capture_output=True, timeout=300)  # fmt: skip

    def start(self) -> None:
        if self.started:
            return
        for folder in (self.root, self.sockets):
            folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(folder, "postgres")
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        self.port = free_port()
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "120", "start")  # fmt: skip
        self.started = True

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
            self.started = False

    def admin(self, sql: str) -> list[Any]:
        import psycopg

        with psycopg.connect(host=str(self.sockets), port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:  # fmt: skip
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def exists(self, database: str) -> bool:
        return bool(self.admin(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"))

    def create(self, database: str) -> str:
        self.admin(f"CREATE DATABASE {database}")
        return self.url(database)

    def drop(self, database: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.sockets}&port={self.port}"


# ---------------------------------------------------------------------------
# dicomwire serve


class NodeArchive(Archive):
    def __init__(self, backend: str, workers: int = 1, cluster: PgCluster | None = None) -> None:
        """``cluster``: the PostgreSQL cluster shared with the run's other nodes."""
        self.backend = backend
        self.workers = workers
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        if workers == 1:
            self.key, self.label = f"dicomwire-{backend}", f"dicomwire serve ({name})"
        else:
            self.key = f"dicomwire-{backend}-w{workers}"
            self.label = f"dicomwire serve ({name}, {workers} workers)"
        self.cluster = cluster

    def unavailable(self) -> str | None:
        if self.backend == "postgresql":
            if tools.postgres_bin() is None:
                return "PostgreSQL server binaries not found (apt-get install postgresql)"
            if os.geteuid() == 0 and shutil.which("runuser") is None:
                return "runuser is needed to run PostgreSQL as its own user"
        return None

    def _cluster(self) -> PgCluster:
        if self.cluster is None:
            self.cluster = PgCluster(data.DATA_ROOT / "pg")
        self.cluster.start()
        return self.cluster

    def _start(self, settings: Settings, data_dir: Path, database: str, dest_port: int,
               name: str) -> Running:  # fmt: skip
        port = free_port()
        argv = [sys.executable, "-m", "dicomwire.cli.main", "serve", "--data-dir", str(data_dir),
                "--port", str(port), "--ae-title", SCP_AET,
                "--known-ae", f"{DEST_AET}=127.0.0.1:{dest_port}"]  # fmt: skip
        if database:
            argv += ["--database", database]
        if self.workers > 1:
            argv += ["--workers", str(self.workers)]
        env = python_env({"DICOMWIRE_MAX_PDU": str(settings.max_pdu)})
        if settings.profile_dir is not None and shutil.which("py-spy"):
            settings.profile_dir.mkdir(parents=True, exist_ok=True)
            output = settings.profile_dir / f"{name}.speedscope.json"
            argv = ["py-spy", "record", "--format", "speedscope", "-o", str(output), "--", *argv]
        # With workers, the peak RSS is the sum of the processes' peaks.
        child = Child(argv, settings.workdir, name, env=env, tree_rss=self.workers > 1)
        child.wait_listening(port, 120)
        return Running(child, port)

    def start_empty(self, settings: Settings, dest_port: int) -> Running:
        tag = uuid.uuid4().hex[:8]
        data_dir = settings.workdir / f"node-{self.backend}-{tag}"
        database = ""
        cluster = self._cluster() if self.backend == "postgresql" else None
        name = f"ingest_{tag}"
        if cluster is not None:
            database = cluster.create(name)

        def cleanup() -> None:
            if cluster is not None:
                cluster.drop(name)
            set_aside(data_dir, settings.workdir)

        running = self._start(settings, data_dir, database, dest_port, f"{self.key}-empty-{tag}")
        running.cleanup = cleanup
        return running

    def _cached(self, population: Population) -> tuple[Path, str]:
        tag = population_tag(population)
        folder = data.DATA_ROOT / "archives" / f"node-{self.backend}-{tag}"
        database = ""
        if self.backend == "postgresql":
            database = f"populated_{tag.replace('-', '_')}"
        return folder, database

    def populate(
        self, settings: Settings, population: Population, log: Callable[[str], None]
    ) -> None:
        folder, database = self._cached(population)
        if (folder / ".complete").exists():
            return
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        url = ""
        if self.backend == "postgresql":
            cluster = self._cluster()
            cluster.drop(database)
            url = cluster.create(database)
        started = time.perf_counter()
        log(f"  populating {self.label}: {population.headers.count} + "
            f"{population.study_count} instances (once, cached in {folder})")  # fmt: skip
        fill_node_index(folder, url, population, log)
        (folder / ".complete").write_text(data.FORMAT)
        log(f"  populated in {time.perf_counter() - started:.0f} s")

    def start_populated(
        self, settings: Settings, dest_port: int, population: Population
    ) -> Running:
        folder, database = self._cached(population)
        url = self._cluster().url(database) if database else ""
        return self._start(settings, folder, url, dest_port, f"{self.key}-populated")

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def fill_node_index(folder: Path, url: str, population: Population,
                    log: Callable[[str], None]) -> None:  # fmt: skip
    """Files into the node's store layout, each indexed with ``Index.add``."""
    from io import BytesIO

    from pydicom import dcmread

    from dicomwire.node.index import Index
    from dicomwire.node.store import FileStore

    index = Index(url or f"sqlite:///{folder / 'index.sqlite'}", data_dir=folder)
    store = FileStore(folder)
    files = [*population.headers.files(), *data.dicom_files(population.study_folder)]
    try:
        for number, path in enumerate(files, 1):
            encoded = path.read_bytes()
            header = dcmread(BytesIO(encoded), stop_before_pixels=True)
            relative = store.relative_path(
                header.StudyInstanceUID, header.SeriesInstanceUID, header.SOPInstanceUID
            )
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(encoded)
            syntax = str(header.file_meta.TransferSyntaxUID)
            index.add(Index.record_from(header, relative, syntax))
            if number % 10000 == 0:
                log(f"    {number} of {len(files)}")
    finally:
        index.close()


# ---------------------------------------------------------------------------
# Orthanc


class FolderArchive(Archive):
    """An external archive whose whole state lives in one folder."""

    def _start(self, settings: Settings, folder: Path, dest_port: int, name: str) -> Running:
        raise NotImplementedError

    def start_empty(self, settings: Settings, dest_port: int) -> Running:
        tag = uuid.uuid4().hex[:8]
        folder = settings.workdir / f"{self.key}-{tag}"
        running = self._start(settings, folder, dest_port, f"{self.key}-empty-{tag}")
        running.cleanup = lambda: set_aside(folder, settings.workdir)
        return running

    def _cached(self, population: Population) -> Path:
        return data.DATA_ROOT / "archives" / f"{self.key}-{population_tag(population)}"


class OrthancArchive(FolderArchive):
    key = "orthanc"
    label = "Orthanc"

    def unavailable(self) -> str | None:
        if tools.orthanc() is None:
            return "Orthanc not found (Debian: apt-get install orthanc)"
        return None

    def _start(self, settings: Settings, storage: Path, dest_port: int, name: str) -> Running:
        port = free_port()
        storage.mkdir(parents=True, exist_ok=True)
        config = {
            "Name": "BENCH",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "StorageCompression": False,
            "SyncStorageArea": True,
            "StorageAccessOnFind": "Never",
            "HttpServerEnabled": False,
            "DicomServerEnabled": True,
            "DicomAet": SCP_AET,
            "DicomPort": port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True,
            "DicomAlwaysAllowMove": True,
            "DicomModalities": {
                "dest": [DEST_AET, "127.0.0.1", dest_port],
                "scu": ["BENCH-SCU", "127.0.0.1", 1],
            },
            "DicomScpTimeout": 120,
            "DicomScuTimeout": 120,
            "DicomAssociationCloseDelay": 0,
            "MaximumPduLength": settings.max_pdu,
            "SaveJobs": False,
            "OverwriteInstances": False,
            "Plugins": [],
        }
        path = settings.workdir / f"{name}.json"
        path.write_text(json.dumps(config, indent=2))
        binary = tools.orthanc()
        assert binary is not None
        child = Child([binary, "--no-jobs", str(path)], settings.workdir, name,
                      env=tools.dcmtk_env())  # fmt: skip
        child.wait_listening(port, 120)
        return Running(child, port)


    def populate(
        self, settings: Settings, population: Population, log: Callable[[str], None]
    ) -> None:
        folder = self._cached(population)
        if (folder / ".complete").exists():
            return
        shutil.rmtree(folder, ignore_errors=True)
        log(f"  populating Orthanc over the network: {population.headers.count} + "
            f"{population.study_count} instances (once, cached in {folder})")  # fmt: skip
        started = time.perf_counter()
        running = self._start(settings, folder / "storage", free_port(), "orthanc-fill")
        try:
            parts = data.split_set(population.headers.folder, 4,
                                   population.headers.count // 4)  # fmt: skip
            send_folders(settings, running.port, [*parts, population.study_folder], "fill")
        finally:
            _, _, error = running.stop()
        if error:
            raise PeerError(f"Orthanc while populating: {error}")
        (folder / ".complete").write_text(data.FORMAT)
        log(f"  populated in {time.perf_counter() - started:.0f} s")

    def start_populated(
        self, settings: Settings, dest_port: int, population: Population
    ) -> Running:
        folder = self._cached(population)
        return self._start(settings, folder / "storage", dest_port, "orthanc-populated")


def send_folders(settings: Settings, port: int, folders: list[Path], tag: str) -> None:
    """dicomwire store SCUs, one process per folder, all at once; raise on any failure."""
    from .sides import ScuSpec, scu_figures, start_scu

    children = [
        (ScuSpec("store", folder=folder),
         start_scu("dicomwire", ScuSpec("store", folder=folder), port, settings,
                   f"{tag}-send{i:02d}"))
        for i, folder in enumerate(folders)
    ]  # fmt: skip
    problems = []
    for spec, child in children:
        figures = scu_figures("dicomwire", spec, child, 24 * 3600)
        problems += figures.errors
    if problems:
        raise PeerError("; ".join(problems[:3]))


# ---------------------------------------------------------------------------
# DCMTK dcmqrscp


class DcmqrscpArchive(FolderArchive):
    key = "dcmqrscp"
    label = "DCMTK dcmqrscp"

    def unavailable(self) -> str | None:
        for tool in ("dcmqrscp", "dcmqridx"):
            if tools.dcmtk(tool) is None:
                return f"DCMTK {tool} not found (apt-get install dcmtk)"
        return None

    def _start(self, settings: Settings, area: Path, dest_port: int, name: str) -> Running:
        port = free_port()
        area.mkdir(parents=True, exist_ok=True)
        config = settings.workdir / f"{name}.cfg"
        hosts = f"dest = ({DEST_AET}, 127.0.0.1, {dest_port})"
        config.write_text(dcmqrscp_config(port, settings.max_pdu, {SCP_AET: area}, hosts))
        argv = [tools.require_dcmtk("dcmqrscp"), "-dhl", "-c", str(config), str(port)]
        child = Child(argv, settings.workdir, name, env=tools.dcmtk_env())
        child.wait_listening(port, 60)
        return Running(child, port)


    def populate(
        self, settings: Settings, population: Population, log: Callable[[str], None]
    ) -> None:
        from .scenarios import build_dcmqr_index

        area = self._cached(population)
        if (area / ".complete").exists():
            return
        files = [*data.dicom_files(population.study_folder), *population.headers.files()]
        log(f"  indexing {len(files)} instances with dcmqridx (once; quadratic time)")
        started = time.perf_counter()
        build_dcmqr_index(area, files)
        log(f"  populated in {time.perf_counter() - started:.0f} s")

    def start_populated(
        self, settings: Settings, dest_port: int, population: Population
    ) -> Running:
        return self._start(settings, self._cached(population), dest_port, "dcmqrscp-populated")


# ---------------------------------------------------------------------------
# DCMTK storescp


class StorescpArchive(FolderArchive):
    key = "storescp"
    label = "DCMTK storescp --fork (files)"
    ingest_only = True

    def unavailable(self) -> str | None:
        if tools.dcmtk("storescp") is None:
            return "DCMTK storescp not found (apt-get install dcmtk)"
        return None

    def _start(self, settings: Settings, folder: Path, dest_port: int, name: str) -> Running:
        # A process per association (--fork), as the node has a thread per
        # association; +B writes each data set as received, without fsync.
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        argv = [tools.require_dcmtk("storescp"), "-aet", SCP_AET, "-pdu", str(settings.max_pdu),
                "-dhl", "-ta", "120", "-ts", "120", "+B", "--fork", "-od", str(folder), str(port)]
        # The peak RSS sums the forked association processes', as for the node's workers.
        child = Child(argv, settings.workdir, name, env=tools.dcmtk_env(), tree_rss=True)
        child.wait_listening(port, 60)
        return Running(child, port)


def archives(backends: list[str], peers: list[str], workers: list[int]) -> list[Archive]:
    # One PostgreSQL cluster for every node row: it is started once and its
    # populated database is shared.
    cluster = PgCluster(data.DATA_ROOT / "pg") if "postgresql" in backends else None
    chosen: list[Archive] = [NodeArchive(b, w, cluster) for b in backends for w in workers]
    if "orthanc" in peers:
        chosen.append(OrthancArchive())
    if "dcmqrscp" in peers:
        chosen.append(DcmqrscpArchive())
    if "storescp" in peers:
        chosen.append(StorescpArchive())
    return chosen
