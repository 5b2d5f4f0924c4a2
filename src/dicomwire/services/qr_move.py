"""C-MOVE SCP (PS3.4 C.4.2, PS3.7 9.1.4): sub-operations to a third AE.

The handler bound to ``EVT_C_MOVE`` first says where the Move Destination
(``event.move_destination``, an AE title) listens, then how many
instances it will send, then yields them; dicomwire opens a new
association with the destination and sends each with C-STORE, carrying
the Move Originator AE Title and Message ID of PS3.7 9.3.1.1: the calling
AE title of the C-MOVE requestor and the C-MOVE-RQ's Message ID.

The first yield is ``(address, port)`` or ``(address, port, options)``,
where ``options`` is a dict of keyword arguments for
:meth:`dicomwire.AE.associate`: ``contexts`` (the presentation contexts
to propose), ``ae_title`` (the called AE title; default: the Move
Destination), ``max_pdu``, ``ext_neg``, ``bind_address``, ``tls_args``,
``evt_handlers``. ``(None, None)`` means the destination is unknown.

The contexts proposed are, in order of precedence: ``options["contexts"]``,
the AE's ``requested_contexts`` (as the seed's move SCP sets them), or
contexts made for the instances themselves. The last needs every instance
before the association is requested, so dicomwire reads the handler's
results up front (for a file only its meta information); set one of the
first two to stream instead.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any, Final

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from ..dimse.fragment import ReceivedMessage
from ..dimse.status import Category, category
from ..presentation import PresentationContext, build_context
from .encoding import UNCOMPRESSED, dataset_transfer_syntax, read_file_info
from .qr_common import (
    EXHAUSTED,
    HANDLER_FAILED,
    RAISED,
    Operation,
    as_pair,
    close_quietly,
    pull,
)
from .qr_retrieve import Store, SubOperations, early_status, fail, finish, read_total, run_retrieve

LOGGER = logging.getLogger("dicomwire.service")

# PS3.4 Table C.4-2: "Refused: Move Destination unknown".
MOVE_DESTINATION_UNKNOWN: Final = 0xA801
# dicomwire's own C-MOVE failures (dimse.status _MOVE_OWN).
MOVE_BAD_COUNT: Final = 0xC513
MOVE_MISSING_YIELD: Final = 0xC514
MOVE_BAD_DESTINATION: Final = 0xC515

_OPTIONS: Final = frozenset(
    {"contexts", "ae_title", "max_pdu", "ext_neg", "bind_address", "tls_args", "evt_handlers"}
)
# Presentation context IDs are odd numbers 1-255 (PS3.8 9.3.2.2).
_MAX_CONTEXTS: Final = 128


@dataclass(frozen=True)
class Destination:
    """Where the Move Destination listens, and how to associate with it."""

    address: str
    port: int
    options: Mapping[str, Any]


def serve_c_move(
    assoc: Any, received: ReceivedMessage, context: PresentationContext, service: str
) -> None:
    """Answer a C-MOVE-RQ through the handler bound to ``EVT_C_MOVE``.

    Statuses beyond the handler's own: 0xC510 undecodable Identifier;
    0xC511 no handler bound or it raised; 0xC512 a yield that is not a
    ``(status, dataset)`` pair; 0xC513 an invalid number of sub-operations;
    0xC514 the handler ended before yielding the destination and number;
    0xC515 an invalid destination, or one ``AE.associate`` refuses to try;
    0xA801 an unknown destination or one that cannot be associated with
    (as the reference behaviour answers); 0xC001/0xC002 unusable status;
    0xFE00 a C-CANCEL the handler did not answer itself. Counters and the
    Failed SOP Instance UID List as in :mod:`.qr_retrieve`.
    """
    op = Operation(assoc, received, context, service, "move")
    try:
        results = op.start(move_destination=str(received.command.MoveDestination))  # type: ignore[attr-defined]
        if results is None:
            return
        try:
            _move(op, results)
        finally:
            close_quietly(results)
    finally:
        op.cleanup()


def _move(op: Operation, results: Iterator[Any]) -> None:
    """Destination, number, association, sub-operations: the order of PS3.4 C.4.2.1."""
    destination = _read_destination(op, results)
    if destination is None:
        return
    total = read_total(op, results, MOVE_MISSING_YIELD, MOVE_BAD_COUNT)
    if total is None:
        return
    counts = SubOperations(total)
    if total == 0:  # nothing to send: no association needed
        run_retrieve(op, results, counts, _unsendable)
        return
    contexts = list(destination.options.get("contexts") or op.assoc.ae.requested_contexts)
    buffered: list[Any] = []
    if not contexts:
        buffered = _prefetch(op, results, total)
        contexts = contexts_for(buffered)
    if op.cancelled():
        finish(op, counts, op.response(0xFE00), Category.CANCEL)
        return
    sub = _associate(op, destination, contexts) if contexts else None
    if contexts and sub is None:
        return
    outcome: Category | None = None
    try:
        store = _move_store(op, sub) if sub is not None else _unsendable
        outcome = run_retrieve(op, itertools.chain(buffered, results), counts, store)
    finally:
        if sub is not None:
            _end(sub, outcome)


def _read_destination(op: Operation, results: Iterator[Any]) -> Destination | None:
    """The handler's first yield as a :class:`Destination`; None once answered."""
    item = pull(results)
    if item is RAISED:
        fail(op, None, HANDLER_FAILED["move"], "exception in the handler")
        return None
    if item is EXHAUSTED:
        fail(op, None, MOVE_MISSING_YIELD, "handler yielded no destination")
        return None
    if early_status(op, item) is not None:
        return None
    if isinstance(item, (tuple, list)) and len(item) >= 2 and None in (item[0], item[1]):
        LOGGER.error("unknown Move Destination %r", op.request.MoveDestination)
        fail(op, None, MOVE_DESTINATION_UNKNOWN, "Move Destination unknown")
        return None
    try:
        return parse_destination(item)
    except (TypeError, ValueError) as exc:
        LOGGER.error("the EVT_C_MOVE handler yielded an invalid destination %r: %s", item, exc)
        fail(op, None, MOVE_BAD_DESTINATION, "handler yielded an invalid destination")
        return None


def parse_destination(item: Any) -> Destination:
    """Check ``(address, port)`` or ``(address, port, options)``; raise if unusable."""
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise TypeError("expected (address, port) or (address, port, options)")
    address, port = item[0], item[1]
    options = item[2] if len(item) == 3 and item[2] is not None else {}
    if not isinstance(address, str) or not address:
        raise TypeError("the address must be a non-empty str")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"the port must be an int from 1 to 65535, not {port!r}")
    if not isinstance(options, Mapping):
        raise TypeError("the options must be a dict")
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ValueError(f"unknown options {unknown}; accepted: {sorted(_OPTIONS)}")
    contexts = options.get("contexts")
    if contexts is not None and not (
        isinstance(contexts, (list, tuple))
        and all(isinstance(cx, PresentationContext) for cx in contexts)
    ):
        raise TypeError("options['contexts'] must be a list of PresentationContext")
    return Destination(address, port, dict(options))


def _associate(op: Operation, destination: Destination, contexts: list[Any]) -> Any | None:
    """The association with the Move Destination; None once answered."""
    options = {k: v for k, v in destination.options.items() if k != "contexts"}
    options.setdefault("ae_title", str(op.request.MoveDestination))
    try:
        sub = op.assoc.ae.associate(
            destination.address, destination.port, contexts=contexts, **options
        )
    except Exception:
        LOGGER.exception("cannot request an association with the Move Destination")
        fail(op, None, MOVE_BAD_DESTINATION, "cannot associate with that destination")
        return None
    if not sub.is_established:
        LOGGER.error(
            "cannot associate with the Move Destination %s at %s:%s",
            options["ae_title"], destination.address, destination.port,
        )
        fail(op, None, MOVE_DESTINATION_UNKNOWN, "cannot associate with the destination")
        return None
    return sub


def _end(sub: Any, outcome: Category | None) -> None:
    """Release after a completed move; abort after a cancel or failure."""
    try:
        if outcome in (Category.SUCCESS, Category.WARNING):
            sub.release()
        else:
            sub.abort()
    except Exception:
        LOGGER.exception("error while ending the association with the Move Destination")


def _move_store(op: Operation, sub: Any) -> Store:
    """C-STORE to the destination with the Move Originator fields (PS3.7 9.3.1.1)."""
    originator = str(op.assoc.requestor.ae_title)
    message_id = op.message_id
    priority = int(getattr(op.request, "Priority", 0) or 0)

    def store(instance: Any) -> Dataset:
        status: Dataset = sub.send_c_store(
            instance, priority=priority, originator_aet=originator, originator_id=message_id
        )
        return status

    return store


def _unsendable(instance: Any) -> Dataset:
    raise ValueError("no presentation context could be proposed for any instance")


# -- contexts made for the instances -------------------------------------------------


def _prefetch(op: Operation, results: Iterator[Any], total: int) -> list[Any]:
    """Read the handler's results up to ``total`` Pending ones, a final one or its end.

    Markers (:data:`RAISED`) are kept in place so that the sub-operations
    yielded before a handler error are still made, as when streaming.
    """
    items: list[Any] = []
    pending = 0
    while pending < total and not op.cancelled():
        item = pull(results)
        if item is EXHAUSTED:
            break
        items.append(item)
        pair = as_pair(item)
        if item is RAISED or pair is None or not _is_pending(pair[0]):
            break
        pending += 1
    return items


def _is_pending(status: Any) -> bool:
    code = status.get("Status") if isinstance(status, Dataset) else status
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 0xFFFF:
        return False
    return category(code) is Category.PENDING


def contexts_for(items: list[Any]) -> list[PresentationContext]:
    """Presentation contexts able to carry the Pending instances among ``items``.

    One context per SOP class and transfer syntax found, offering only that
    syntax, so every instance can travel as it is (DESIGN.md: no decode and
    re-encode of a data set that only passes through); then, per SOP class
    with uncompressed instances, a fallback offering Explicit and Implicit
    VR Little Endian, between which dicomwire converts, in case the
    destination refuses the exact one. The fallbacks go last: they are the
    ones dropped if more than 128 contexts would be needed.
    """
    exact: dict[tuple[str, str], None] = {}
    fallback: dict[str, None] = {}
    for item in items:
        pair = as_pair(item)
        identity = _identity(pair[1]) if pair is not None and _is_pending(pair[0]) else None
        if identity is None:
            continue
        exact[identity] = None
        if identity[1] in UNCOMPRESSED:
            fallback[identity[0]] = None
    contexts = [build_context(sop_class, [syntax]) for sop_class, syntax in exact]
    contexts += [
        build_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        for sop_class in fallback
    ]
    if len(contexts) > _MAX_CONTEXTS:
        LOGGER.warning("%d presentation contexts wanted, %d can be proposed: some instances "
                       "may fail", len(contexts), _MAX_CONTEXTS)
    return contexts[:_MAX_CONTEXTS]


def _identity(instance: Any) -> tuple[str, str] | None:
    """(SOP Class UID, transfer syntax UID) of a Dataset or DICOM file."""
    try:
        if isinstance(instance, Dataset):
            return str(instance.SOPClassUID), dataset_transfer_syntax(instance)
        if isinstance(instance, (str, PathLike)):
            with open(instance, "rb") as fh:
                info = read_file_info(fh, str(instance))
            return info.sop_class, info.transfer_syntax
    except Exception as exc:
        LOGGER.debug("no presentation context for an instance: %s", exc)
    return None
