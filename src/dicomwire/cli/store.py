"""``dicomwire store HOST PORT PATH...``: C-STORE files, like DCMTK's storescu."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import (
    CLIError,
    add_network_options,
    association,
    configure_ae,
    progress_line,
    setup_logging,
)
from .progress import ProgressLine, Transfer, megabytes


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "store",
        help="send DICOM files with C-STORE (like storescu)",
        description="Send DICOM files, e.g.: dicomwire store -aec PACS pacs.local 104 -r ./study",
    )
    parser.add_argument("host", help="the peer's host name or address")
    parser.add_argument("port", type=int, help="the peer's port")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to send")
    parser.add_argument(
        "-r", "--recurse", action="store_true", help="descend into sub-folders of the folders given"
    )
    add_network_options(parser)
    parser.set_defaults(run=run)


def iter_files(paths: list[str], recurse: bool) -> Iterator[Path]:
    """Files named on the command line, and those in the folders named."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            pattern = "**/*" if recurse else "*"
            yield from sorted(p for p in path.glob(pattern) if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise CLIError(f"no such file or folder: {name}")


def scan(files: list[Path]) -> tuple[list[tuple[Path, Any]], list[str]]:
    """Read each file's header: (file, info) for DICOM files, messages for others."""
    from ..services.encoding import read_file_info

    good, skipped = [], []
    for path in files:
        try:
            with open(path, "rb") as fh:
                good.append((path, read_file_info(fh, str(path))))
        except (OSError, ValueError) as exc:
            skipped.append(f"skipped {path}: {exc}")
    return good, skipped


def run(args: argparse.Namespace) -> int:
    from ..ae import AE
    from ..presentation import DEFAULT_TRANSFER_SYNTAXES

    setup_logging(args)
    files, skipped = scan(list(iter_files(args.paths, args.recurse)))
    for line in skipped:
        print(line, file=sys.stderr)
    if not files:
        raise CLIError("no DICOM files to send")
    ae = AE(args.calling_aet)
    configure_ae(ae, args)
    # One context per SOP class: the files' own transfer syntaxes first, so
    # they go as they are, then the uncompressed ones to convert into.
    proposals: dict[str, list[str]] = {}
    for _, info in files:
        syntaxes = proposals.setdefault(info.sop_class, [])
        if info.transfer_syntax not in syntaxes:
            syntaxes.insert(0, info.transfer_syntax)
    if len(proposals) > 128:
        raise CLIError("the files span more than 128 SOP classes: send them in parts")
    for sop_class, syntaxes in proposals.items():
        extra = [str(t) for t in DEFAULT_TRANSFER_SYNTAXES if str(t) not in syntaxes]
        ae.add_requested_context(sop_class, syntaxes + extra)
    # Sizes now, not after sending: an SCP on this host may move the files away.
    sized = [(path, _size(path)) for path, _ in files]
    transfer = Transfer(len(sized), sum(size for _, size in sized))
    with association(ae, args) as assoc:
        _send_all(assoc, sized, transfer, progress_line(args), args.verbose)
    failed = transfer.failed
    print(
        f"sent {transfer.done - failed} of {len(files)} instances"
        + (f", {failed} failed" if failed else "")
        + (f", {len(skipped)} files skipped" if skipped else "")
        + f" ({megabytes(transfer.bytes_done)} in {transfer.elapsed:.1f} s: {transfer.rates()})",
        file=sys.stderr,
    )
    return 1 if failed else 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _send_all(
    assoc: Any,
    files: list[tuple[Path, int]],
    transfer: Transfer,
    progress: ProgressLine,
    verbose: bool,
) -> None:
    """C-STORE each file, counting into ``transfer``; failures are named as they happen."""
    try:
        for path, size in files:
            error = _send_one(assoc, path)
            transfer.add(size, ok=error is None)
            if error is not None:
                progress.message(f"failed {path}: {error}")
            elif verbose:
                progress.message(f"stored {path}")
            progress.show(transfer.line(), force=transfer.done == transfer.total)
    finally:
        progress.close()


def _send_one(assoc: Any, path: Path) -> str | None:
    """Send one file; None on success (or warning), else why it failed."""
    if not assoc.is_established:
        return f"association lost ({assoc.abort_reason})"
    try:
        status = assoc.send_c_store(os.fspath(path))
    except ValueError as exc:
        return str(exc)
    code = status.Status if "Status" in status else None
    if code is None:
        return "no response"
    if code != 0 and code & 0xF000 != 0xB000:
        return f"status 0x{code:04X}"
    return None
