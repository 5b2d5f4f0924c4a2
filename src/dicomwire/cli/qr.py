"""What find, get and move share: query models, ``-k`` keys, responses, summaries."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from .common import CLIError, describe_status
from .keys import build_identifier
from .progress import ProgressLine, SubOperations

# The query model flags, as DCMTK's findscu/getscu/movescu spell them.
MODEL_FLAGS = {
    "P": ("-P", "--patient", "Patient Root information model"),
    "S": ("-S", "--study", "Study Root information model"),
    "O": ("-O", "--psonly", "Patient/Study Only information model (retired)"),
    "W": ("-W", "--worklist", "Modality Worklist information model"),
}
# The level a model's queries start at, used when no -k QueryRetrieveLevel is given.
DEFAULT_LEVEL = {"P": "PATIENT", "S": "STUDY", "O": "PATIENT"}


def add_query_options(parser: argparse.ArgumentParser, models: str, default: str) -> None:
    """The model flags (``models`` of P/S/O/W, ``default`` chosen without one) and ``-k``."""
    group = parser.add_argument_group("query")
    exclusive = group.add_mutually_exclusive_group()
    for code in models:
        short, long, text = MODEL_FLAGS[code]
        mark = " (default)" if code == default else ""
        exclusive.add_argument(
            short, long, dest="model", action="store_const", const=code, help=f"{text}{mark}"
        )
    parser.set_defaults(model=default)
    group.add_argument(
        "-k",
        "--key",
        dest="keys",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="a query key, repeatable: Keyword=value or gggg,eeee=value; Keyword alone "
        "asks for it back; Sequence[0].Keyword=value inside a sequence item; "
        "a backslash separates values. QueryRetrieveLevel defaults to the model's top "
        "level. E.g. -k PatientID=12345 -k PatientName -k 0008,0020=20240101-",
    )


def identifier(args: argparse.Namespace) -> Dataset:
    """The query identifier the ``-k`` keys describe (PS3.4 C.4.1.1.3)."""
    ds = build_identifier(args.keys)
    level = DEFAULT_LEVEL.get(args.model)
    if level is not None and "QueryRetrieveLevel" not in ds:
        ds.QueryRetrieveLevel = level
    return ds


def status_category(status: Dataset) -> str:
    """The status's category (Success, Pending...), or "none" when no response came."""
    from ..dimse.status import category

    if "Status" not in status:
        return "none"
    return category(int(status.Status)).value


def no_response(assoc: Any, what: str) -> CLIError:
    """The error for an operation the peer never answered."""
    why = assoc.abort_reason or "the association ended"
    return CLIError(f"no {what} response from the peer: {why}")


@dataclass
class RetrieveResult:
    """How a C-GET or C-MOVE ended."""

    final: Dataset
    counters: SubOperations

    def failed(self) -> bool:
        """True when anything failed: a sub-operation, or the operation itself."""
        return self.counters.failed > 0 or status_category(self.final) not in (
            "Success",
            "Warning",
        )


def follow_retrieve(
    responses: Iterator[tuple[Dataset, Dataset | None]],
    assoc: Any,
    what: str,
    progress: ProgressLine,
) -> RetrieveResult:
    """Read a C-GET/C-MOVE's responses, showing the counters as they come."""
    counters = SubOperations()
    final = Dataset()
    for status, _identifier in responses:
        if "Status" not in status:
            progress.close()
            raise no_response(assoc, what)
        counters.update(status)
        final = status
        if status_category(status) == "Pending":
            progress.show(counters.line())
    progress.close()
    return RetrieveResult(final, counters)


def summary(result: RetrieveResult, what: str, service: str) -> str:
    """One line: what the sub-operations did and how the operation ended."""
    line = f"{what}: {result.counters.counts()}"
    category = status_category(result.final)
    if category != "Success":
        line += f"; final status {describe_status(result.final, service)}"
    return line


class Received:
    """Instances written by our storage side (C-GET sub-operations, or move +P).

    A move's storage SCP calls :meth:`add` from its association threads.
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self.count = 0
        self.bytes = 0

    def add(self, path: object, size: int) -> None:
        with self._lock:
            self.count += 1
            self.bytes += size

    def text(self, folder: object) -> str:
        """``received 3 instances (1.2 MB) into DIR``."""
        from .progress import megabytes

        noun = "instance" if self.count == 1 else "instances"
        return f"received {self.count} {noun} ({megabytes(self.bytes)}) into {folder}"
