"""The Association: one negotiated relationship between two AEs (PS3.8 7.1).

An :class:`Association` is what ``AE.associate()`` returns and what every
handler sees as ``event.assoc``. On the requestor side the calling thread
drives the link itself (no reader thread, so a request and its response
cost no thread hand-off); on the acceptor side one thread per association
runs :func:`dicomwire.association.acceptor.serve`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from .._core.connection import AbortIndication, ReleaseConfirmed, ReleaseIndication
from .._core.errors import AbortReason, AbortSource, StateError
from .._core.pdu import A_ABORT, A_RELEASE_RP, A_RELEASE_RQ, UserInformation
from ..dimse.commands import C_CANCEL_RQ, Message
from ..dimse.fragment import ReceivedMessage
from ..events import (
    EVT_ABORTED,
    EVT_DIMSE_RECV,
    EVT_DIMSE_SENT,
    EVT_PDU_RECV,
    EVT_PDU_SENT,
    EVT_RELEASED,
    Event,
    EventType,
    Handler,
    HandlerRegistry,
    notify,
)
from ..presentation import PresentationContext
from ..services import dispatch, qr_scu, storage, verification
from .link import DataSetSource, Link

if TYPE_CHECKING:
    from ..ae import AE

LOGGER = logging.getLogger("dicomwire.assoc")


@dataclass
class ServiceUser:
    """One end of the association: who it is and what it negotiated."""

    ae_title: str = ""
    address: str = ""
    port: int = 0
    maximum_length: int = 16382
    implementation_class_uid: str = ""
    implementation_version_name: str | None = None
    user_information: UserInformation = field(default_factory=UserInformation)
    # SOP Class Common Extended Negotiation items the acceptor's handler took.
    accepted_common_extended: dict[str, Any] = field(default_factory=dict)

    @property
    def user_identity(self) -> Any:
        return self.user_information.user_identity_rq

    @property
    def role_selection(self) -> dict[str, Any]:
        return {r.sop_class_uid: r for r in self.user_information.role_selections}

    @property
    def asynchronous_operations(self) -> tuple[int, int]:
        window = self.user_information.asynchronous_operations_window
        return (1, 1) if window is None else (window.invoked, window.performed)


class Association:
    """A DICOM association and the DIMSE services used over it (PS3.7, PS3.8)."""

    def __init__(self, ae: AE, mode: str, handlers: HandlerRegistry) -> None:
        self.ae = ae
        self.mode = mode
        self.handlers = handlers
        self.requestor = ServiceUser()
        self.acceptor = ServiceUser()
        self.is_established = False
        self.is_rejected = False
        self.is_aborted = False
        self.is_released = False
        self.accepted_contexts: list[PresentationContext] = []
        self.rejected_contexts: list[PresentationContext] = []
        self.acse_timeout: float | None = ae.acse_timeout
        self.dimse_timeout: float | None = ae.dimse_timeout
        self.network_timeout: float | None = ae.network_timeout
        self.rejection: tuple[int, int, int] | None = None
        self.abort_reason: str = ""
        self._link: Link | None = None
        self._message_id = 0
        self._lock = threading.Lock()
        self._cancelled: set[int] = set()
        # Message ID -> context ID of the C-FIND/GET/MOVE operations running.
        self.operations: dict[int, int] = {}

    # -- identity ---------------------------------------------------------------

    @property
    def is_requestor(self) -> bool:
        return self.mode == "requestor"

    @property
    def is_acceptor(self) -> bool:
        return self.mode == "acceptor"

    @property
    def local(self) -> ServiceUser:
        return self.requestor if self.is_requestor else self.acceptor

    @property
    def remote(self) -> ServiceUser:
        return self.acceptor if self.is_requestor else self.requestor

    def __repr__(self) -> str:
        state = next(
            (
                n
                for n in ("established", "rejected", "aborted", "released")
                if getattr(self, f"is_{n}")
            ),
            "pending",
        )
        return f"<Association {self.mode} {self.local.ae_title}->{self.remote.ae_title} {state}>"

    # -- handlers -----------------------------------------------------------------

    def bind(self, event: EventType, handler: Handler, args: Sequence[Any] = ()) -> None:
        """Bind a handler for this association only."""
        self.handlers.bind(event, handler, args)

    def unbind(self, event: EventType, handler: Handler) -> None:
        """Unbind a handler from this association."""
        self.handlers.unbind(event, handler)

    def get_handlers(self, event: EventType) -> list[tuple[Handler, tuple[Any, ...]]]:
        return self.handlers.get(event)

    def _notify(self, event: EventType, **attrs: Any) -> None:
        notify(self.handlers, self, event, **attrs)

    # -- the link -----------------------------------------------------------------

    def _attach(self, link: Link) -> None:
        self._link = link
        if self.handlers.has(EVT_PDU_RECV) or self.handlers.has(EVT_PDU_SENT):
            link.conn.pdu_log = []
            link.on_pdu = self._pdu_event

    def _pdu_event(self, direction: str, pdu: object) -> None:
        self._notify(EVT_PDU_RECV if direction == "recv" else EVT_PDU_SENT, pdu=pdu)

    @property
    def link(self) -> Link:
        if self._link is None:
            raise StateError("the association has no connection")
        return self._link

    def next_message_id(self) -> int:
        """Message IDs run 1..65535 and wrap (PS3.7 9.3.1.1: unique per association)."""
        with self._lock:
            self._message_id = self._message_id % 0xFFFF + 1
            return self._message_id

    def send_message(
        self, context_id: int, message: Message, data_set: DataSetSource = None
    ) -> None:
        """Send one DIMSE message on ``context_id``."""
        self.link.send_message(context_id, message, data_set)
        if self.handlers.has(EVT_DIMSE_SENT):
            self._notify(EVT_DIMSE_SENT, message=message, context_id=context_id)

    def receive_message(self, deadline: float | None) -> ReceivedMessage | None:
        """The next DIMSE message; ``None`` after handling a timeout/release/abort."""
        link = self.link
        message = link.next_message(deadline)
        if message is not None:
            if self.handlers.has(EVT_DIMSE_RECV):
                self._notify(EVT_DIMSE_RECV, message=message.command, context_id=message.context_id)
            return message
        if link.timed_out:
            self._abort_local("no DIMSE message within the DIMSE timeout")
        self.process_upper()
        return None

    def process_upper(self) -> None:
        """Act on release and abort indications the link has collected."""
        link = self.link
        while link.upper:
            event = link.upper.popleft()
            if isinstance(event, AbortIndication):
                self._mark_aborted(event.description)
            elif isinstance(event, ReleaseIndication):
                self._answer_release()
            elif isinstance(event, ReleaseConfirmed):
                self._mark_released()
        if link.closed and self.is_established:
            self._mark_aborted(self.abort_reason or "the connection closed")

    def _answer_release(self) -> None:
        try:
            self.link.send_pdu(A_RELEASE_RP())
        except StateError:
            LOGGER.debug("release collision: answering after our own request")
        self._mark_released()

    def _mark_released(self) -> None:
        if self.is_released:
            return
        self.is_established = False
        self.is_released = True
        self._notify(EVT_RELEASED)

    def _mark_aborted(self, why: str) -> None:
        if self.is_aborted or self.is_released:
            return
        LOGGER.info("association aborted: %s", why)
        self.abort_reason = why
        self.is_established = False
        self.is_aborted = True
        self._notify(EVT_ABORTED)

    def _abort_local(self, why: str) -> None:
        LOGGER.error("%s: aborting", why)
        self.abort_reason = why
        self.link.send_abort(A_ABORT(AbortSource.SERVICE_PROVIDER, AbortReason.NOT_SPECIFIED))
        self._mark_aborted(why)

    # -- ending the association ---------------------------------------------------

    def release(self) -> None:
        """A-RELEASE (PS3.8 7.2): ask the peer to end the association gracefully."""
        if not self.is_established or self._link is None:
            return
        try:
            self.link.send_pdu(A_RELEASE_RQ())
        except StateError:
            return
        while not self.link.closed and not (self.is_released or self.is_aborted):
            event = self.link.next_upper(None)
            if event is None:
                break
            self.link.upper.appendleft(event)
            self.process_upper()
        self.link.messages.clear()
        if not (self.is_released or self.is_aborted):
            self._mark_aborted("the connection closed during release")
        self.link.close()

    def abort(self) -> None:
        """A-ABORT (PS3.8 7.3): end the association at once, service-user source."""
        if self._link is None or self._link.closed:
            return
        self.link.send_abort(A_ABORT(AbortSource.SERVICE_USER, 0))
        self._mark_aborted("aborted by the local service user")

    def abort_from_outside(self) -> None:
        """Stop the association from another thread (server shutdown).

        Only the owning thread writes to the socket, so this shuts the socket
        down instead; the owner wakes up and ends as on a lost connection.
        """
        if self._link is not None:
            self._link.wake()

    # -- contexts -----------------------------------------------------------------

    def context(self, context_id: int) -> PresentationContext | None:
        """The accepted presentation context with ``context_id``."""
        for cx in self.accepted_contexts:
            if cx.context_id == context_id:
                return cx
        return None

    def find_contexts(self, abstract_syntax: str, role: str = "scu") -> list[PresentationContext]:
        """Accepted contexts for ``abstract_syntax`` on which we may play ``role``."""
        attr = "as_scu" if role == "scu" else "as_scp"
        return [
            cx
            for cx in self.accepted_contexts
            if cx.abstract_syntax == abstract_syntax and getattr(cx, attr)
        ]

    # -- C-CANCEL bookkeeping (filled by the service layer) ------------------------

    def is_cancelled(self, message_id: int) -> bool:
        """True once a C-CANCEL-RQ for ``message_id`` has arrived (PS3.7 9.3.2.3).

        Reads what the peer has already sent, without blocking, so a handler
        checking ``event.is_cancelled`` between two yields sees a cancel
        that is in flight. Other messages that arrive meanwhile stay queued
        in order for later.
        """
        if message_id in self._cancelled:
            return True
        if self._link is None:
            return False
        self._link.read_nowait()
        # What arrived may be an abort or a release: act on it now, so the
        # operation sees is_established go false instead of a dead socket.
        self.process_upper()
        queued = self._link.messages
        for received in [m for m in queued if isinstance(m.command, C_CANCEL_RQ)]:
            queued.remove(received)
            command = received.command
            assert isinstance(command, C_CANCEL_RQ)
            self.mark_cancelled(command.MessageIDBeingRespondedTo)
        return message_id in self._cancelled

    def mark_cancelled(self, message_id: int) -> None:
        self._cancelled.add(message_id)

    # -- DIMSE-C services, SCU side ------------------------------------------------

    def send_c_echo(self, msg_id: int | None = None) -> Dataset:
        """C-ECHO (PS3.7 9.1.5): verify end-to-end communication.

        Returns the response status as a Dataset with ``Status``; an empty
        Dataset when no response came (timeout, abort, or not established).
        """
        return verification.send_c_echo(self, msg_id)

    def send_c_store(
        self,
        dataset: Dataset | str | Path,
        msg_id: int | None = None,
        priority: int = 2,
        originator_aet: str | bytes | None = None,
        originator_id: int | None = None,
    ) -> Dataset:
        """C-STORE (PS3.7 9.1.1) of a Dataset or of a DICOM file given by path.

        A file whose transfer syntax was accepted is streamed as it is; one
        in another uncompressed transfer syntax is converted; anything else
        raises ``ValueError`` naming what the peer accepted.
        """
        return storage.send_c_store(self, dataset, msg_id, priority, originator_aet, originator_id)

    def send_c_find(
        self, dataset: Dataset, query_model: Any, msg_id: int | None = None, priority: int = 2
    ) -> Iterator[tuple[Dataset, Dataset | None]]:
        """C-FIND (PS3.7 9.1.2): a generator of ``(status, identifier)``.

        ``query_model`` is a SOP class UID or a short code: ``'P'`` patient
        root, ``'S'`` study root, ``'O'`` patient/study only, ``'W'``
        modality worklist. Pending responses carry a matching identifier;
        an empty status means no response came (timeout or abort).
        """
        return qr_scu.send_c_find(self, dataset, query_model, msg_id, priority)

    def send_c_get(
        self, dataset: Dataset, query_model: Any, msg_id: int | None = None, priority: int = 2
    ) -> Iterator[tuple[Dataset, Dataset | None]]:
        """C-GET (PS3.7 9.1.3): a generator of ``(status, identifier)``.

        The instances arrive as C-STORE requests on this association and go
        to its ``EVT_C_STORE`` handler; propose SCP role selection for their
        storage SOP classes (``build_role(uid, scp_role=True)`` in
        ``ext_neg``). Codes: ``'P'``, ``'S'``, ``'O'``, ``'C'`` (composite
        instance root), ``'B'`` (without bulk data).
        """
        return qr_scu.send_c_get(self, dataset, query_model, msg_id, priority)

    def send_c_move(
        self,
        dataset: Dataset,
        move_aet: str | bytes,
        query_model: Any,
        msg_id: int | None = None,
        priority: int = 2,
    ) -> Iterator[tuple[Dataset, Dataset | None]]:
        """C-MOVE (PS3.7 9.1.4): the SCP sends the matches to ``move_aet``.

        A generator of ``(status, identifier)``; Pending responses carry the
        sub-operation counters in the status. Codes: ``'P'``, ``'S'``,
        ``'O'``, ``'C'``.
        """
        return qr_scu.send_c_move(self, dataset, move_aet, query_model, msg_id, priority)

    def send_c_cancel(
        self, msg_id: int, context_id: int | None = None, query_model: Any = None
    ) -> None:
        """C-CANCEL (PS3.7 9.3.2.3) the running C-FIND/GET/MOVE ``msg_id``.

        Call it from the loop over that operation's responses; the SCP
        answers with a Cancel (0xFE00) final response. ``query_model`` is
        accepted for compatibility and not needed.
        """
        qr_scu.send_c_cancel(self, msg_id, context_id)

    # -- the service dispatcher, for requests arriving on this association ----------

    def dispatch(self, message: ReceivedMessage) -> None:
        """Serve one received request (used by the acceptor loop and during C-GET)."""
        dispatch.dispatch_request(self, message)

    def trigger(self, event: EventType, **attrs: Any) -> Event:
        """Build the :class:`Event` for ``event`` (intervention events)."""
        return Event(self, event, **attrs)
