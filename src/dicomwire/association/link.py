"""The blocking driver: socket <-> :class:`Connection` <-> DIMSE messages.

One thread owns a link and does everything on it: it blocks in
``recv_into`` with a timeout taken from the nearest deadline (the caller's
DIMSE/network deadline or the core's ARTIM/ACSE timer), feeds the bytes to
the sans-I/O core, and writes whatever the core wants written with one
gathered ``sendmsg``. Nothing sleeps and nothing polls.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import Union

from .._core.connection import (
    AbortIndication,
    Connection,
    DataIndication,
    PDataBatch,
    UpperEvent,
)
from .._core.errors import DIMSEError, StateError
from .._core.pdu import PDVEntry
from ..dimse.commands import Message, encode_command
from ..dimse.fragment import (
    Reassembler,
    ReceivedMessage,
    iter_file_blocks,
    iter_fragments,
    max_fragment_size,
)
from ..services.encoding import FileSlice
from ..transport.tcp import TransportError, send_buffers, set_kernel_timeout

LOGGER = logging.getLogger("dicomwire.link")

DataSetSource = Union[bytes, bytearray, memoryview, "FileSlice", None]

# Below this size a message's fragments are written with one system call.
_BATCH_BYTES = 1 << 20


class Link:
    """One transport connection of one association, driven synchronously."""

    def __init__(
        self,
        sock: socket.socket | None,
        conn: Connection,
        reassembler: Reassembler,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sock = sock
        self.conn = conn
        self.reassembler = reassembler
        self.clock = clock
        self.messages: deque[ReceivedMessage] = deque()
        self.upper: deque[UpperEvent] = deque()
        self.peer_max_pdu = 16382
        self.closed = sock is None
        self.timed_out = False
        self.on_pdu: Callable[[str, object], None] | None = None
        # One PDataBatch per read instead of one event per P-DATA-TF PDU.
        conn.batch_data = True
        # A plain TCP socket stays blocking and waits with the kernel's own
        # receive timeout (SO_RCVTIMEO): one recv() per wait. poll() + recv()
        # took two system calls, and poll()'s wait-queue set-up and tear-down
        # is a visible share of a C-ECHO exchange on a virtual machine.
        # TLS keeps socket timeouts, since an SSL socket can hold decrypted
        # bytes that the kernel does not see.
        self._plain = sock is not None and not isinstance(sock, ssl.SSLSocket)
        # SO_RCVTIMEO as last set; a new socket's is 0, "wait for ever".
        self._receive_timeout: float | None = None
        if sock is not None and self._plain:
            sock.settimeout(None)
            if conn.config.network_timeout is not None:
                # A send that makes no progress for the network timeout fails.
                set_kernel_timeout(sock, socket.SO_SNDTIMEO, conn.config.network_timeout)

    # -- writing --------------------------------------------------------------

    def _report_pdus(self) -> None:
        log = self.conn.pdu_log
        if log and self.on_pdu is not None:
            entries = log[:]
            log.clear()
            for direction, pdu in entries:
                self.on_pdu(direction, pdu)

    def flush(self) -> None:
        """Write what the core has queued; close when the core asks to."""
        self._report_pdus()
        buffers = self.conn.data_to_send()
        if buffers and not self.closed:
            assert self.sock is not None
            timeout = self.conn.config.network_timeout
            try:
                if self._plain:
                    # SO_SNDTIMEO bounds each blocking send: no second wait.
                    timeout = 0.0
                else:
                    # The socket keeps the timeout of the last read: 0 after
                    # read_nowait(), a sliver before a deadline. A send gets
                    # its own bound: a peer that stops reading is dropped
                    # after the network timeout, a busy one not at once.
                    self.sock.settimeout(timeout)
                send_buffers(self.sock, buffers, timeout)
            except TransportError as exc:
                LOGGER.debug("write failed: %s", exc)
                self._lost()
                return
        if self.conn.wants_close:
            self.close()

    def send_message(self, context_id: int, message: Message, data_set: DataSetSource) -> None:
        """Fragment ``message`` (and its data set) into P-DATA-TF PDUs and send.

        A data set given as bytes or a memoryview is sent in slices without a
        copy; a :class:`FileSlice` is streamed from its file a block of many
        fragments at a time, so a large instance never sits in memory
        (PS3.7 Annex F, PS3.8 9.3.5).
        """
        size = max_fragment_size(self.peer_max_pdu)
        message.has_data_set = data_set is not None
        send_pdata = self.conn.send_pdata
        command_set = encode_command(message)
        if len(command_set) <= size:
            send_pdata(context_id, True, True, command_set)  # nearly always
        else:
            for command, last in iter_fragments(command_set, size):
                send_pdata(context_id, True, last, command)
        # Not flushed yet: the command leaves with the data set (or its first block).
        if isinstance(data_set, FileSlice):
            data_set.fileobj.seek(data_set.offset)
            for block in iter_file_blocks(data_set.fileobj, data_set.length, size):
                for fragment, last in block:
                    send_pdata(context_id, False, last, fragment)
                # The block's buffer is reused for the next one: send it now.
                self.flush()
        elif data_set is not None:
            pending = 0
            for fragment, last in iter_fragments(data_set, size):
                send_pdata(context_id, False, last, fragment)
                pending += len(fragment)
                if pending >= _BATCH_BYTES:
                    self.flush()
                    pending = 0
        self.flush()

    def send_pdu(self, pdu: object) -> None:
        """Issue a primitive through the core and write its PDU."""
        self.conn.send(pdu, self.clock())  # type: ignore[arg-type]
        self.flush()

    # -- reading --------------------------------------------------------------

    def read_once(self, deadline: float | None) -> bool:
        """Wait for input until ``deadline``; False when the deadline passed.

        The core's own timer (ARTIM, ACSE, idle) is served on the way.
        """
        if self.closed:
            return True
        assert self.sock is not None
        timer = self.conn.get_timer()
        wake = timer if deadline is None else deadline if timer is None else min(deadline, timer)
        now = self.clock()
        if wake is not None and wake <= now:
            return self._timer_fired(deadline, now)
        try:
            if self._plain:
                self._set_receive_timeout(None if wake is None else wake - now)
            else:
                self.sock.settimeout(None if wake is None else wake - now)
            # Straight into the PDU reader's buffer: the P-DATA payloads are
            # then handed to the reassembler as views, never copied here.
            count = self.sock.recv_into(self.conn.receive_buffer())
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            # A timeout, or (rarely) poll() saw data that was gone by recv.
            return self._timer_fired(deadline, self.clock())
        except OSError as exc:
            LOGGER.debug("read failed: %s", exc)
            count = 0
        self._take_in(count)
        return True

    def _take_in(self, count: int) -> None:
        """Process ``count`` bytes received into the core's buffer (0: lost)."""
        if count == 0:
            self._lost()
            return
        conn = self.conn
        conn.received(count, self.clock())
        if conn.pdu_log:
            self._report_pdus()
        # Must complete before the next receive_buffer(): the data indications
        # hold views of that buffer.
        self._drain_core()
        if conn.has_data_to_send or conn.wants_close:
            self.flush()

    def read_nowait(self) -> None:
        """Take in whatever has already arrived, without waiting.

        Lets a thread that is busy answering a request (a C-FIND handler
        yielding matches) notice a C-CANCEL between two responses.
        """
        if self.closed:
            return
        assert self.sock is not None
        try:
            if self._plain:
                count = self.sock.recv_into(self.conn.receive_buffer(), 0, socket.MSG_DONTWAIT)
            else:
                self.sock.settimeout(0.0)
                count = self.sock.recv_into(self.conn.receive_buffer())
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            return
        except OSError as exc:
            LOGGER.debug("read failed: %s", exc)
            count = 0
        self._take_in(count)

    def _set_receive_timeout(self, seconds: float | None) -> None:
        """Bring SO_RCVTIMEO near ``seconds`` without a system call per read.

        The idle timer's deadline moves with every message, so the wanted
        timeout differs by microseconds from one read to the next. The one
        set is kept while it ends the wait no more than 1% (at least 10 ms)
        late and no earlier than half-way; a wait that ends early just
        makes read_once's caller wait again. The kernel rounds the timeout
        up to its clock tick (4 ms here), as poll() rounded up to 1 ms.
        """
        current = self._receive_timeout
        if seconds is None:
            if current is None:
                return
        elif current is not None and seconds / 2 <= current <= seconds + max(0.01, seconds / 100):
            return
        assert self.sock is not None
        set_kernel_timeout(self.sock, socket.SO_RCVTIMEO, seconds)
        self._receive_timeout = seconds

    def _timer_fired(self, deadline: float | None, now: float) -> bool:
        timer = self.conn.get_timer()
        if timer is not None and timer <= now:
            self.conn.handle_timer(now)
            self._drain_core()
            self.flush()
            return True
        return not (deadline is not None and deadline <= now)

    def _lost(self) -> None:
        self.conn.transport_closed(self.clock())
        self._drain_core()
        self.close()

    def _drain_core(self) -> None:
        next_event = self.conn.next_event
        while (event := next_event()) is not None:
            if type(event) is PDataBatch:
                self._reassemble_batch(event.pdvs)
            elif type(event) is DataIndication:
                self._reassemble(event)
            else:
                self.upper.append(event)

    def _reassemble_batch(self, pdvs: list[PDVEntry]) -> None:
        # A DIMSE error ends the batch: the PDVs after it belong to an
        # association that is being aborted.
        try:
            self.reassembler.feed_batch(pdvs, self.messages.append)
        except DIMSEError as exc:
            self.abort_provider(str(exc))

    def _reassemble(self, event: DataIndication) -> None:
        for pdv in event.pdu.pdvs:
            try:
                message = self.reassembler.feed(
                    pdv.context_id, pdv.is_command, pdv.is_last, pdv.data
                )
            except DIMSEError as exc:
                self.abort_provider(str(exc))
                return
            if message is not None:
                self.messages.append(message)

    def next_upper(self, deadline: float | None) -> UpperEvent | None:
        """The next non-data indication (association, release, abort)."""
        while not self.upper:
            if self.closed or not self.read_once(deadline):
                return None
        return self.upper.popleft()

    def next_message(self, deadline: float | None) -> ReceivedMessage | None:
        """The next whole DIMSE message, or ``None``.

        ``None`` means the deadline passed (``timed_out`` is set), or a
        release/abort indication is waiting in :attr:`upper`, or the link
        closed.
        """
        self.timed_out = False
        while not self.messages:
            if self.upper or self.closed:
                return None
            if not self.read_once(deadline):
                self.timed_out = True
                return None
        return self.messages.popleft()

    # -- ending -----------------------------------------------------------------

    def abort_provider(self, why: str) -> None:
        """A-P-ABORT: the peer broke DIMSE rules that PS3.8 cannot see."""
        LOGGER.warning("aborting the association: %s", why)
        from .._core.errors import AbortReason, AbortSource
        from .._core.pdu import A_ABORT

        self.upper.append(
            AbortIndication(
                AbortSource.SERVICE_PROVIDER, AbortReason.UNEXPECTED_PDU_PARAMETER, True, True, why
            )
        )
        self.send_abort(A_ABORT(AbortSource.SERVICE_PROVIDER, AbortReason.UNEXPECTED_PDU_PARAMETER))

    def send_abort(self, pdu: object) -> None:
        """Send an A-ABORT and drop the connection without waiting for the peer."""
        with contextlib.suppress(StateError):
            self.send_pdu(pdu)
        self.close()

    def close(self) -> None:
        """Close the socket (idempotent) and drop any partial message."""
        if self.closed:
            return
        self.closed = True
        self.reassembler.abort()
        assert self.sock is not None
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def wake(self) -> None:
        """Unblock a thread waiting in :meth:`read_once` (used at shutdown)."""
        if self.sock is not None and not self.closed:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
