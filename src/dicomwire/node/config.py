"""Configuration of ``dicomwire serve``: defaults < TOML file < environment < flags.

Every setting has one name used everywhere: ``ae_title`` is the TOML key,
``DICOMWIRE_AE_TITLE`` the environment variable and ``--ae-title`` the
flag. Lists (``known_ae``, ``allow_caller``) are comma-separated in the
environment; ``known_ae`` entries are ``AET=HOST:PORT``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DUPLICATE_POLICIES = ("keep", "replace", "reject")
MAX_WORKERS = 64
_AE_TITLE = re.compile(r"^[\x20-\x5B\x5D-\x7E]{1,16}$")  # PS3.5 AE: no backslash or controls


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it."""


ACTIONS = ("store", "query", "retrieve")


@dataclass(frozen=True)
class Permission:
    """What one calling AE may do (TOML: ``[permissions.AET]``); unset means no.

    ``query`` covers C-FIND (Query/Retrieve, Worklist, Relevant Patient
    Information), ``retrieve`` C-GET and C-MOVE. ``move_destinations``: the
    only C-MOVE destinations allowed; ``None`` (not given) allows every
    destination in ``known_ae``.
    """

    store: bool = False
    query: bool = False
    retrieve: bool = False
    move_destinations: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NodeConfig:
    """Everything the node needs to run (see the module docstring for sources)."""

    ae_title: str = "DICOMWIRE"
    port: int = 11112
    bind: str = ""
    data_dir: Path = Path("dicomwire-data")
    database: str = ""  # empty: sqlite:///<data_dir>/index.sqlite
    known_ae: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    allow_caller: tuple[str, ...] = ()
    max_associations: int = 32
    max_pdu: int = 262144
    on_duplicate: str = "keep"
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    shutdown_grace: float = 10.0
    check_called_ae: bool = False
    # Empty: every caller (that allow_caller lets in) may do everything. Else
    # a caller may do what its entry, or else the "*" entry, allows; no entry: nothing.
    permissions: Mapping[str, Permission] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)  # name -> SHA-256 hex of the passcode
    tokens: tuple[str, ...] = ()  # accepted SAML assertions / JSON Web Tokens, verbatim
    require_user_identity: bool = False
    # Write stored files with O_DIRECT where the filesystem allows (node/direct_io.py).
    direct_io: bool = True
    # Node processes sharing the port, the data directory and the index
    # (cli/serve_workers.py): one Python process runs Python on one core.
    workers: int = 1

    def allows(self, caller: str, action: str) -> bool:
        """Whether calling AE ``caller`` may ``action`` (one of :data:`ACTIONS`)."""
        if not self.permissions:
            return True
        entry = self.permissions.get(caller, self.permissions.get("*"))
        return entry is not None and bool(getattr(entry, action))

    def allows_move_to(self, caller: str, destination: str) -> bool:
        if not self.allows(caller, "retrieve"):
            return False
        entry = self.permissions.get(caller, self.permissions.get("*"))
        allowed = entry.move_destinations if entry is not None else None
        return allowed is None or destination in allowed

    @property
    def checks_user_identity(self) -> bool:
        return bool(self.users or self.tokens or self.require_user_identity)

    @property
    def database_url(self) -> str:
        if self.database:
            return self.database
        return f"sqlite:///{(self.data_dir / 'index.sqlite').resolve()}"

    def validated(self) -> NodeConfig:
        """Check every value; raise :class:`ConfigError` naming the first bad one."""
        if not _AE_TITLE.match(self.ae_title) or not self.ae_title.strip():
            raise ConfigError(f"ae_title: {self.ae_title!r} is not a valid AE title")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port: {self.port} is not a TCP port")
        if self.on_duplicate not in DUPLICATE_POLICIES:
            raise ConfigError(
                f"on_duplicate: {self.on_duplicate!r} is not one of {DUPLICATE_POLICIES}"
            )
        if self.max_associations < 1:
            raise ConfigError("max_associations: must be at least 1")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"workers: give 1 to {MAX_WORKERS}, not {self.workers}")
        if self.workers > 1 and os.name != "posix":
            raise ConfigError("workers: more than 1 needs a POSIX system")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("tls_cert and tls_key go together")
        destinations = [d for p in self.permissions.values() for d in p.move_destinations or ()]
        titles = [*self.known_ae, *self.allow_caller, *destinations]
        for title in titles + [t for t in self.permissions if t != "*"]:
            if not _AE_TITLE.match(title):
                raise ConfigError(f"{title!r} is not a valid AE title")
        for name, digest in self.users.items():
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ConfigError(f"users: {name!r}: give the SHA-256 of the passcode, in hex")
        if self.database and not self.database.startswith(("sqlite:", "postgresql")):
            raise ConfigError("database: give a sqlite:///... or postgresql://... URL")
        return self


def parse_known_ae(entries: list[str] | str) -> dict[str, tuple[str, int]]:
    """``["STORE=10.0.0.5:104", ...]`` (or one comma-separated string) -> mapping."""
    if isinstance(entries, str):
        entries = [e for e in entries.split(",") if e.strip()]
    known: dict[str, tuple[str, int]] = {}
    for entry in entries:
        title, sep, address = entry.partition("=")
        host, colon, port = address.strip().rpartition(":")
        if not (sep and colon and host and port.isdigit()):
            raise ConfigError(f"known_ae: {entry!r} is not AET=HOST:PORT")
        known[title.strip()] = (host.strip("[]"), int(port))
    return known


def _from_mapping(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Settings from a TOML table or the environment, converted to their types."""
    names = {f.name: f for f in fields(NodeConfig)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "tls" and isinstance(value, Mapping):
            out.update({f"tls_{k}": str(v) for k, v in value.items()})
            continue
        if key not in names:
            raise ConfigError(f"{where}: unknown setting {key!r}")
        out[key] = _convert(key, value, where)
    return out


def parse_permissions(value: Any) -> dict[str, Permission]:
    """``{"CT1": {"store": true, "move_destinations": ["VIEWER"]}, ...}`` -> mapping."""
    if not isinstance(value, Mapping):
        raise ValueError("give a table of calling AE titles")
    out: dict[str, Permission] = {}
    for title, entry in value.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"{title}: give a table (store, query, retrieve, move_destinations)")
        unknown = set(entry) - {*ACTIONS, "move_destinations"}
        if unknown:
            raise ValueError(f"{title}: unknown keys {sorted(unknown)}")
        flags = {a: entry.get(a, False) for a in ACTIONS}
        if not all(isinstance(v, bool) for v in flags.values()):
            raise ValueError(f"{title}: store, query and retrieve are true or false")
        moves = entry.get("move_destinations")
        out[str(title)] = Permission(
            **flags, move_destinations=None if moves is None else tuple(map(str, moves))
        )
    return out


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _convert(key: str, value: Any, where: str) -> Any:
    try:
        if key == "permissions":
            return parse_permissions(value)
        if key in ("check_called_ae", "require_user_identity", "direct_io"):
            return _boolean(value)
        if key == "users":
            if isinstance(value, str):  # environment: name=sha256hex,...
                value = dict(e.split("=", 1) for e in value.split(",") if e.strip())
            return {str(k).strip(): str(v).strip().lower() for k, v in value.items()}
        if key == "tokens":
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(v).strip() for v in items if str(v).strip())
        if key in ("port", "max_associations", "max_pdu", "workers"):
            return int(value)
        if key == "shutdown_grace":
            return float(value)
        if key == "data_dir":
            return Path(value)
        if key == "known_ae":
            if isinstance(value, Mapping):
                return parse_known_ae([f"{k}={v}" for k, v in value.items()])
            return parse_known_ae(value)
        if key == "allow_caller":
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(v).strip() for v in items if str(v).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {key}: {exc}") from exc


def from_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return _from_mapping(data, str(path))


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    prefix = "DICOMWIRE_"
    values = {
        key[len(prefix) :].lower(): value
        for key, value in environ.items()
        if key.startswith(prefix) and key != "DICOMWIRE_CONFIG"
    }
    return _from_mapping(values, "environment")


def load(
    flags: Mapping[str, Any],
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> NodeConfig:
    """Merge the sources in order of precedence and validate the result."""
    environ = os.environ if environ is None else environ
    config_file = config_file or environ.get("DICOMWIRE_CONFIG")
    merged: dict[str, Any] = {}
    if config_file:
        merged.update(from_toml(config_file))
    merged.update(from_environment(environ))
    merged.update({k: _convert(k, v, "flags") for k, v in flags.items() if v not in (None, [], ())})
    return replace(NodeConfig(), **merged).validated()
