"""DIMSE messages to and from P-DATA-TF presentation data values.

A DIMSE message travels as a command set followed by an optional data
set, each cut into fragments that ride in presentation data values (PDVs)
of P-DATA-TF PDUs (PS3.7 section 6.3.1 and Annex F; PS3.8 section 9.3.5
and Annex E). Every PDV starts with a one-byte message control header
saying whether the fragment is command or data set, and whether it is the
last one of that part.

Sending: :func:`max_fragment_size` sizes fragments to the peer's Maximum
Length Received, :func:`iter_fragments` slices bytes already in memory
without copying, :func:`iter_file_fragments` and :func:`iter_file_blocks`
stream a data set from a file.

Receiving: :class:`Reassembler` is fed PDVs in arrival order and returns
whole messages. The command set is joined in memory; the data set is kept
in memory up to a threshold and spooled to a temporary file beyond it, so
a multi-gigabyte instance never has to sit in memory. Writing that file is
the one piece of I/O in this otherwise I/O-free layer, which DESIGN.md
allows; it is confined to :class:`_Spool` so that a driver can later
provide its own sink instead.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, BinaryIO, Final

from dicomwire._core.errors import DIMSEError
from dicomwire.dimse.commands import Message, decode_command

__all__ = [
    "FILE_BLOCK",
    "FRAGMENT_CAP",
    "PDV_OVERHEAD",
    "Reassembler",
    "ReceivedMessage",
    "iter_file_blocks",
    "iter_file_fragments",
    "iter_fragments",
    "make_control_header",
    "max_fragment_size",
    "parse_control_header",
]

#: Bytes a PDV adds inside the P-DATA-TF variable field: the 4-byte item
#: length, the presentation context ID and the message control header
#: (PS3.8 section 9.3.5.1, Table 9-23; Annex E.2).
PDV_OVERHEAD: Final = 6

#: Largest fragment we send, even to a peer that announces no limit (0) or
#: a huge one. Fragmenting anyway means neither side ever needs one huge
#: contiguous PDU buffer, and 4 MiB PDUs already make per-PDU costs noise.
FRAGMENT_CAP: Final = 4 * 1024 * 1024

# Write buffer of a spool file: big writes, and still a small share of memory.
_SPOOL_BUFFER: Final = 1 << 20

#: Bytes read from a file at a time by :func:`iter_file_blocks`.
FILE_BLOCK: Final = 1 << 20

_COMMAND_BIT: Final = 0x01  # PS3.8 Annex E.2: bit 0 set = command, clear = data set
_LAST_BIT: Final = 0x02  # bit 1 set = last fragment of the command or data set


def make_control_header(is_command: bool, is_last: bool) -> int:
    """Message control header byte for a PDV (PS3.8 Annex E.2)."""
    return (_COMMAND_BIT if is_command else 0) | (_LAST_BIT if is_last else 0)


def parse_control_header(value: int) -> tuple[bool, bool]:
    """Return ``(is_command, is_last)`` from a message control header (PS3.8 Annex E.2).

    Bits 2-7 are reserved; they are ignored rather than checked, as PS3.8
    asks of receivers for reserved fields.
    """
    return bool(value & _COMMAND_BIT), bool(value & _LAST_BIT)


def max_fragment_size(peer_max_pdu: int) -> int:
    """Largest fragment that fits one PDV of a P-DATA-TF the peer accepts.

    ``peer_max_pdu`` is the peer's Maximum Length Received (PS3.8 Annex
    D.1), the largest P-DATA-TF *variable field* it takes; one PDV costs
    :data:`PDV_OVERHEAD` bytes of it. 0 means "no limit"; the result is
    then, as for any huge announced value, :data:`FRAGMENT_CAP`. A value
    below 7 leaves no room for data and raises ValueError.
    """
    if peer_max_pdu == 0:
        return FRAGMENT_CAP
    if peer_max_pdu < PDV_OVERHEAD + 1:
        raise ValueError(f"maximum PDU length {peer_max_pdu} leaves no room for a fragment")
    return min(peer_max_pdu - PDV_OVERHEAD, FRAGMENT_CAP)


def iter_fragments(
    data: bytes | bytearray | memoryview, fragment_size: int
) -> Iterator[tuple[memoryview, bool]]:
    """Yield ``(fragment, is_last)`` slices of `data` (PS3.7 Annex F).

    The slices are zero-copy views of `data`. Empty data still yields one
    empty last fragment, since every command set or data set announced by
    the command must end with a PDV whose last bit is set.
    """
    if fragment_size < 1:
        raise ValueError(f"fragment size must be positive, not {fragment_size}")
    view = memoryview(data).cast("B")
    total = len(view)
    if total == 0:
        yield view, True
        return
    for start in range(0, total, fragment_size):
        end = start + fragment_size
        yield view[start:end], end >= total


def iter_file_fragments(
    fileobj: BinaryIO | IO[bytes], length: int, fragment_size: int
) -> Iterator[tuple[memoryview, bool]]:
    """Stream `length` bytes from the current position of `fileobj` as fragments.

    The file is read one fragment at a time into a single reused buffer,
    so memory use is one fragment whatever the file size. Contract: each
    yielded fragment is only valid until the next one is requested; the
    consumer must send (or copy) it before advancing the iterator. Raises
    EOFError if the file ends before `length` bytes.
    """
    # Blocks of one fragment each: the same reading, one fragment's memory.
    for block in iter_file_blocks(fileobj, length, fragment_size, fragment_size):
        yield from block


def iter_file_blocks(
    fileobj: BinaryIO | IO[bytes], length: int, fragment_size: int, block_size: int = FILE_BLOCK
) -> Iterator[list[tuple[memoryview, bool]]]:
    """Stream `length` bytes from `fileobj` as blocks of ``(fragment, is_last)``.

    Like :func:`iter_file_fragments` (PS3.7 Annex F), but each read fills a
    block of many fragments, so a driver can send a whole block with one
    gathered write and the file is read in a few large calls. Contract: the
    fragments of a block are only valid until the next block is requested.
    Raises EOFError if the file ends before `length` bytes.
    """
    if fragment_size < 1:
        raise ValueError(f"fragment size must be positive, not {fragment_size}")
    if length < 0:
        raise ValueError(f"length must not be negative, not {length}")
    if length == 0:
        yield [(memoryview(b""), True)]
        return
    # Whole fragments per block, so that only the very last one is short.
    per_block = max(1, block_size // fragment_size) * fragment_size
    buffer = memoryview(bytearray(min(per_block, length)))
    remaining = length
    while remaining:
        size = min(len(buffer), remaining)
        filled = buffer[:size]
        _read_exactly(fileobj, filled)
        remaining -= size
        block = [
            (filled[start : start + fragment_size], False)
            for start in range(0, size, fragment_size)
        ]
        if not remaining:
            block[-1] = (block[-1][0], True)
        yield block


def _read_exactly(fileobj: BinaryIO | IO[bytes], target: memoryview) -> None:
    """Fill `target` from `fileobj`, looping over short reads."""
    readinto = getattr(fileobj, "readinto", None)
    filled, size = 0, len(target)
    while filled < size:
        if readinto is not None:
            count = readinto(target[filled:])
        else:  # a stream without readinto(): one extra copy per fragment
            chunk = fileobj.read(size - filled)
            count = len(chunk)
            target[filled : filled + count] = chunk
        if not count:
            raise EOFError(f"file ended {size - filled} bytes short of the announced length")
        filled += count


@dataclass(slots=True)
class ReceivedMessage:
    """One complete DIMSE message as received (PS3.7 section 6.3.1).

    Exactly one of ``data_set`` and ``data_set_path`` is set when the
    command announced a data set, neither otherwise. A spooled data set's
    file belongs to the caller, who must delete it.
    """

    context_id: int
    command: Message
    command_bytes: bytes
    data_set: bytes | None
    data_set_path: str | None
    data_set_length: int


class _Spool:
    """A temporary file that a data set is written to once it outgrows memory.

    Kept apart so that a driver-provided sink can replace it later without
    touching the reassembly rules. Writes go through a large buffer: the
    fragments (often 16 KiB views of the receive buffer) are copied into it
    once and reach the file in a few big system calls instead of one each.
    """

    __slots__ = ("_file", "path", "write")

    def __init__(self, directory: str | None) -> None:
        self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - outlives this call
            mode="wb",
            buffering=_SPOOL_BUFFER,
            prefix="dicomwire-",
            suffix=".dataset",
            dir=directory,
            delete=False,
        )
        self.path: str = self._file.name
        # The BufferedWriter's own method: the wrapper's __getattr__ would
        # cost a Python call per fragment.
        self.write: Callable[[bytes | memoryview], object] = self._file.file.write

    def close(self) -> str:
        """Finish writing and hand the file over; returns its path."""
        self._file.close()
        return self.path

    def discard(self) -> None:
        """Close and delete the file."""
        try:
            self._file.close()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


class Reassembler:
    """Fed PDVs in arrival order; returns whole DIMSE messages (PS3.7 section 6.3.1, Annex F).

    The command fragments come first and end with one marked last; if the
    command announces a data set, its fragments follow, on the same
    presentation context, ending with one marked last. Anything else is a
    :class:`DIMSEError`, after which the partial message is dropped (and
    any spool file deleted), so the reassembler is ready for the next one.
    """

    __slots__ = (
        "_command",
        "_command_bytes",
        "_command_length",
        "_command_parts",
        "_context_id",
        "_length",
        "_max_command_length",
        "_parts",
        "_spool",
        "_spool_dir",
        "_spool_threshold",
    )

    def __init__(
        self,
        spool_threshold: int = 64 * 1024 * 1024,
        spool_dir: str | None = None,
        max_command_length: int = 1 << 20,
    ) -> None:
        """`spool_threshold`: data sets longer than this go to a file (0: always).

        `max_command_length` caps the command set; a real one is a few
        hundred bytes, so a larger one is a broken or hostile peer.
        """
        if spool_threshold < 0 or max_command_length < 0:
            raise ValueError("spool_threshold and max_command_length must not be negative")
        self._spool_threshold = spool_threshold
        self._spool_dir = spool_dir
        self._max_command_length = max_command_length
        self._spool: _Spool | None = None
        self._reset()

    def _reset(self) -> None:
        self._context_id: int | None = None
        self._command_parts: list[bytes] = []
        self._command_length = 0
        # Set once the command set is complete and announced a data set.
        self._command: Message | None = None
        self._command_bytes = b""
        self._parts: list[bytes] = []
        self._length = 0

    @property
    def in_progress(self) -> bool:
        """True while part of a message has been received."""
        return self._context_id is not None

    def abort(self) -> None:
        """Drop the partial message and delete its spool file, if any."""
        spool, self._spool = self._spool, None
        self._reset()
        if spool is not None:
            spool.discard()

    def feed(
        self, context_id: int, is_command: bool, is_last: bool, data: bytes | memoryview
    ) -> ReceivedMessage | None:
        """Take one PDV; return the message it completes, or None.

        `data` may be a view into the caller's receive buffer: what has to
        be kept is copied (once) before this returns. Raises DIMSEError
        (including :class:`~dicomwire.dimse.commands.CommandSetError`) on a
        protocol violation or an undecodable command set.
        """
        try:
            if is_command:
                return self._feed_command(context_id, is_last, data)
            return self._feed_data_set(context_id, is_last, data)
        except BaseException:
            self.abort()
            raise

    def feed_batch(
        self,
        pdvs: Sequence[tuple[int, int, bytes | memoryview]],
        deliver: Callable[[ReceivedMessage], object],
    ) -> None:
        """Take PDVs in arrival order, passing each message they complete to `deliver`.

        Each PDV is ``(context_id, control, data)``, `control` holding bits 0
        (command) and 1 (last) of its message control header (PS3.8 Annex
        E.2). The same as :meth:`feed` PDV by PDV, rules and errors included
        (the messages completed before an error are delivered), but a run of
        data-set fragments in the middle of a data set costs a copy each and
        little else.
        """
        try:
            index, count = 0, len(pdvs)
            while index < count:
                if self._command is not None:
                    index = self._take_middle(pdvs, index)
                    if index == count:
                        return
                context_id, control, data = pdvs[index]
                message = self.feed(context_id, bool(control & 1), bool(control & 2), data)
                if message is not None:
                    deliver(message)
                index += 1
        except BaseException:
            self.abort()
            raise

    def _take_middle(self, pdvs: Sequence[tuple[int, int, bytes | memoryview]], index: int) -> int:
        """Take the data-set fragments from `index` on that :meth:`feed` would only store.

        Returns the index of the first one left to :meth:`feed`: a command or
        last fragment, another context, or one that makes the data set spool.
        """
        context, count = self._context_id, len(pdvs)
        if self._spool is not None:
            write = self._spool.write
            while index < count:
                context_id, control, data = pdvs[index]
                if control or context_id != context:
                    break
                write(data)  # the file buffer takes the one copy
                self._length += len(data)
                index += 1
            return index
        append, length = self._parts.append, self._length
        # Past the threshold the data set spools; 0 spools any data set.
        threshold = self._spool_threshold or -1
        for position in range(index, count):
            context_id, control, data = pdvs[position]
            size = length + len(data)
            if control or context_id != context or size > threshold:
                self._length = length
                return position
            append(bytes(data))  # the one copy out of the receive buffer
            length = size
        self._length = length
        return count

    def _feed_command(
        self, context_id: int, is_last: bool, data: bytes | memoryview
    ) -> ReceivedMessage | None:
        if self._command is not None:
            raise DIMSEError("command fragment received while a data set was expected")
        self._check_context(context_id)
        self._command_length += len(data)
        if self._command_length > self._max_command_length:
            raise DIMSEError(
                f"command set longer than the {self._max_command_length} bytes allowed"
            )
        if not is_last:
            self._command_parts.append(bytes(data))  # no copy if `data` is already bytes
            return None
        if self._command_parts:
            self._command_parts.append(bytes(data))
            command_bytes = b"".join(self._command_parts)
            self._command_parts = []
        else:
            command_bytes = bytes(data)  # the usual single-PDV command set: no join
        command = decode_command(command_bytes)
        if not command.has_data_set:
            # Back to the state _reset() leaves; only these fields changed.
            self._context_id = None
            self._command_length = 0
            return ReceivedMessage(context_id, command, command_bytes, None, None, 0)
        self._command, self._command_bytes = command, command_bytes
        return None

    def _feed_data_set(
        self, context_id: int, is_last: bool, data: bytes | memoryview
    ) -> ReceivedMessage | None:
        if self._command is None:
            if self._context_id is None:
                raise DIMSEError("data set fragment received with no command before it")
            raise DIMSEError("data set fragment received before the command set was complete")
        if context_id != self._context_id:
            raise DIMSEError(
                f"data set fragment on presentation context {context_id}, "
                f"its command on {self._context_id}"
            )
        self._length += len(data)
        if self._spool is not None:
            self._spool.write(data)  # the file buffer takes the one copy
        else:
            self._parts.append(bytes(data))
            if self._spool_threshold == 0 or self._length > self._spool_threshold:
                self._start_spool()
        return self._finish() if is_last else None

    def _check_context(self, context_id: int) -> None:
        if self._context_id is None:
            self._context_id = context_id
        elif context_id != self._context_id:
            raise DIMSEError(
                f"command fragment on presentation context {context_id}, "
                f"earlier ones on {self._context_id}"
            )

    def _start_spool(self) -> None:
        spool = self._spool = _Spool(self._spool_dir)
        for part in self._parts:
            spool.write(part)
        self._parts = []

    def _finish(self) -> ReceivedMessage:
        assert self._command is not None and self._context_id is not None
        data_set: bytes | None = None
        path: str | None = None
        if self._spool is not None:
            path = self._spool.close()
            self._spool = None  # only now: a failed close() is cleaned up by abort()
        else:
            data_set = b"".join(self._parts)  # the single copy of an in-memory data set
        message = ReceivedMessage(
            self._context_id, self._command, self._command_bytes, data_set, path, self._length
        )
        self._reset()
        return message
