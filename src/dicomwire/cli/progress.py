"""Progress for the tools: one line redrawn in place on a terminal, nothing elsewhere.

On a terminal (``sys.stderr.isatty()``) the line is rewritten with a
carriage return, at most ten times a second so that drawing never costs
more than sending; when standard error is a pipe or a file nothing is
drawn, and the tools print only their summary, which keeps logs readable.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["ProgressLine", "SubOperations", "Transfer", "bar", "megabytes"]

_MB = 1_000_000  # MB/s as network people count it: 10^6 bytes


class ProgressLine:
    """One status line at the bottom of a terminal.

    ``show()`` redraws it (rate limited unless ``force``), ``message()``
    prints a line above it, ``close()`` erases it. With ``enabled`` false
    (the default when ``stream`` is not a terminal) only ``message()``
    writes anything.
    """

    def __init__(
        self, stream: TextIO | None = None, enabled: bool | None = None, interval: float = 0.1
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.interval = interval
        self._last_draw = float("-inf")
        self._drawn = 0
        self._text = ""

    def show(self, text: str, force: bool = False) -> None:
        """Draw ``text`` as the current status."""
        self._text = text
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(text)

    def _draw(self, text: str) -> None:
        # One column short of the width: writing the last column wraps on
        # some terminals, and then \r no longer returns to this line.
        width = max(10, _columns(self.stream) - 1)
        text = text if len(text) <= width else text[: width - 3] + "..."
        pad = " " * max(0, self._drawn - len(text))
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()
        self._drawn = len(text)

    def message(self, line: str) -> None:
        """Print ``line`` above the status line, which is then redrawn."""
        self._erase()
        self.stream.write(line + "\n")
        if self.enabled and self._text:
            self._draw(self._text)
        self.stream.flush()

    def _erase(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def close(self) -> None:
        """Erase the status line, leaving the cursor at the start of an empty line."""
        self._erase()
        self.stream.flush()


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` writes to (stdout may be elsewhere)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    # A terminal that reports no size (a fresh pseudo-terminal) gets the usual 80.
    return columns if columns > 0 else shutil.get_terminal_size((80, 24)).columns


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: no terminal
        return False


def bar(fraction: float, width: int = 24) -> str:
    """``[#########...............]`` for ``fraction`` in [0, 1]."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def megabytes(count: int) -> str:
    """``12.3 MB``; two decimals below 10 MB, so small transfers do not read 0.0."""
    value = count / _MB
    return f"{value:.2f} MB" if value < 10 else f"{value:.1f} MB"


@dataclass
class Transfer:
    """Instances and bytes moved so far against what there is, for store."""

    total: int
    total_bytes: int
    done: int = 0
    failed: int = 0
    bytes_done: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, size: int, ok: bool) -> None:
        self.done += 1
        self.bytes_done += size
        if not ok:
            self.failed += 1

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def rates(self) -> str:
        """``25.0 instances/s, 12.4 MB/s``."""
        per_second = self.done / self.elapsed
        mb_per_second = self.bytes_done / _MB / self.elapsed
        return f"{per_second:.1f} instances/s, {mb_per_second:.2f} MB/s"

    def line(self) -> str:
        """The status line: bar, counts, volume, rates."""
        fraction = self.bytes_done / self.total_bytes if self.total_bytes else 1.0
        failed = f" ({self.failed} failed)" if self.failed else ""
        return (
            f"{bar(fraction)} {self.done}/{self.total}{failed} "
            f"{megabytes(self.bytes_done)}/{megabytes(self.total_bytes)} {self.rates()}"
        )


@dataclass
class SubOperations:
    """The sub-operation counters of C-GET/C-MOVE responses (PS3.4 C.4.2.1.6, C.4.3.1.6)."""

    remaining: int | None = None
    completed: int = 0
    failed: int = 0
    warning: int = 0
    started: float = field(default_factory=time.monotonic)

    def update(self, status: object) -> None:
        """Take the counters a response carries; absent ones keep their last value."""
        for name, attr in (
            ("NumberOfRemainingSuboperations", "remaining"),
            ("NumberOfCompletedSuboperations", "completed"),
            ("NumberOfFailedSuboperations", "failed"),
            ("NumberOfWarningSuboperations", "warning"),
        ):
            value = getattr(status, name, None)
            if isinstance(value, int):
                setattr(self, attr, value)

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.warning

    @property
    def total(self) -> int | None:
        return None if self.remaining is None else self.remaining + self.done

    def line(self) -> str:
        """The status line: bar (when the total is known), progress, problems, rate."""
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        total = self.total
        shown = f"{bar(self.done / total)} {self.done}/{total}" if total else f"{self.done}"
        problems = f"{self.failed} failed, {self.warning} warning"
        return f"{shown} sub-operations ({problems}), {rate:.1f}/s"

    def counts(self) -> str:
        """``3 completed, 1 failed, 0 warning``."""
        return f"{self.completed} completed, {self.failed} failed, {self.warning} warning"
