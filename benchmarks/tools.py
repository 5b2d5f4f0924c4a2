"""Locating the peers nobody here wrote: DCMTK binaries, Orthanc, PostgreSQL.

pynetdicom installs Python console scripts named ``echoscu``, ``storescp``...
that come first on PATH; a DCMTK tool is accepted only if it is not a script
and its ``--version`` mentions DCMTK. ``DCMTK_BIN`` (a folder) is searched
first.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path


def dcmtk_env() -> dict[str, str]:
    """DCMTK's environment: without TCP_NODELAY it leaves Nagle's algorithm on."""
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    return env


@functools.cache
def dcmtk(name: str) -> str | None:
    """The path of DCMTK's ``name``, or None."""
    folders = [os.environ.get("DCMTK_BIN", ""), "/usr/bin", "/usr/local/bin"]
    folders += os.environ.get("PATH", "").split(os.pathsep)
    for folder in filter(None, folders):
        candidate = shutil.which(name, path=folder)
        if candidate and _is_dcmtk(candidate):
            return candidate
    return None


def _is_dcmtk(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            if fh.read(2) == b"#!":
                return False
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, env=dcmtk_env()
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "dcmtk" in (result.stdout + result.stderr).lower()


def require_dcmtk(name: str) -> str:
    path = dcmtk(name)
    if path is None:
        raise FileNotFoundError(f"DCMTK {name} not found (Debian: apt-get install dcmtk)")
    return path


@functools.cache
def dcmtk_version() -> str | None:
    path = dcmtk("echoscu")
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, env=dcmtk_env())
    match = re.search(r"v(\d+\.\d+\.\d+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


@functools.cache
def orthanc() -> str | None:
    """The Orthanc server binary (Debian package ``orthanc``), or None."""
    for candidate in (os.environ.get("ORTHANC_BIN", ""), "/usr/sbin/Orthanc", "/usr/bin/Orthanc"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("Orthanc")


@functools.cache
def orthanc_version() -> str | None:
    path = orthanc()
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+\.\d+\.\d+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


@functools.cache
def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (initdb, pg_ctl), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(found[-1]).parent if found else None


@functools.cache
def postgres_version() -> str | None:
    folder = postgres_bin()
    if folder is None:
        return None
    out = subprocess.run([str(folder / "postgres"), "--version"], capture_output=True, text=True)
    match = re.search(r"\(PostgreSQL\) (\S+)", out.stdout)
    return match.group(1) if match else None


def python_package_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
