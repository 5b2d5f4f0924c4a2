"""C-GET SCP and the sub-operation machinery it shares with C-MOVE.

A retrieve (PS3.4 C.4.2 and C.4.3, PS3.7 9.1.3 and 9.1.4) is a series of
C-STORE sub-operations. The handler bound to ``EVT_C_GET`` yields the
number of sub-operations, then ``(status, data set)`` pairs; each Pending
pair is one C-STORE (on this association for C-GET, PS3.4 C.4.3.1; on an
association with the Move Destination for C-MOVE, PS3.4 C.4.2.1), followed
by a Pending response with the four counters. The counters of the final
response follow PS3.4 Table C.4-2/C.4-3 and the reference behaviour:

============  =========  =========  ==================  =======
final status  Remaining  Completed  Failed              Warning
============  =========  =========  ==================  =======
Cancel        yes        yes        yes                 yes
Failure       no         yes        failed + remaining  yes
Warning*      no         yes        failed + remaining  yes
Success       no         yes        yes                 yes
============  =========  =========  ==================  =======

(* a Warning the handler yields; the Warning 0xB000 that ends a retrieve
with failed or warning sub-operations is the Success row.) Cancel,
Failure and Warning responses carry an Identifier with the Failed SOP
Instance UID List (0008,0058).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from ..dimse.fragment import ReceivedMessage
from ..dimse.status import Category, category
from ..presentation import PresentationContext
from .encoding import UNCOMPRESSED, dataset_transfer_syntax, read_file_info
from .qr_common import (
    BAD_YIELD,
    EXHAUSTED,
    HANDLER_FAILED,
    RAISED,
    Operation,
    as_pair,
    close_quietly,
    looks_like_status,
    pull,
)

LOGGER = logging.getLogger("dicomwire.service")

# Composite Instance Retrieve Without Bulk Data - GET (PS3.4 Annex Z).
WITHOUT_BULK_DATA_GET = "1.2.840.10008.5.1.4.1.2.5.3"
# C-GET's own "invalid number of sub-operations" (dimse.status _GET_OWN).
GET_BAD_COUNT = 0xC413
# Counters are US (PS3.7 Annex E): the wire cannot say more than this.
_US_MAX = 0xFFFF

Instance = Dataset | str | PathLike[str]
Store = Callable[[Any], Dataset]


# -- counting -------------------------------------------------------------------


@dataclass
class SubOperations:
    """The four sub-operation counters and the Failed SOP Instance UID List."""

    remaining: int
    completed: int = 0
    failed: int = 0
    warning: int = 0
    failed_uids: list[str] = field(default_factory=list)

    def record(self, outcome: Category, uid: str | None) -> None:
        """Count one finished sub-operation (PS3.4 C.4.2.3.1)."""
        self.remaining = max(self.remaining - 1, 0)
        if outcome is Category.SUCCESS:
            self.completed += 1
            return
        if outcome is Category.WARNING:
            self.warning += 1
        else:
            self.failed += 1
        if uid:
            self.failed_uids.append(uid)

    def fill(self, rsp: Any, final: Category | None) -> Any:
        """Set ``rsp``'s counters as the table in the module docstring says."""
        remaining: int | None = self.remaining
        failed = self.failed
        if final in (Category.FAILURE, Category.WARNING):
            remaining, failed = None, failed + self.remaining
        elif final is Category.SUCCESS:
            remaining = None
        rsp.NumberOfRemainingSuboperations = None if remaining is None else min(remaining, _US_MAX)
        rsp.NumberOfCompletedSuboperations = min(self.completed, _US_MAX)
        rsp.NumberOfFailedSuboperations = min(failed, _US_MAX)
        rsp.NumberOfWarningSuboperations = min(self.warning, _US_MAX)
        return rsp

    def identifier(self, given: Any = None) -> Dataset:
        """The handler's Dataset if it has the list, else one with ours."""
        if isinstance(given, Dataset) and "FailedSOPInstanceUIDList" in given:
            return given
        ds = Dataset()
        ds.FailedSOPInstanceUIDList = list(self.failed_uids)
        return ds


# -- ending the operation ---------------------------------------------------------


def finish(op: Operation, counts: SubOperations | None, rsp: Any, kind: Category,
           given: Any = None) -> Category:
    """Send the final response ``rsp`` of category ``kind``; return its category.

    Success becomes Warning 0xB000 when sub-operations failed or warned
    (PS3.4 C.4.2.1.4). ``counts`` is None before the number of
    sub-operations is known: no counters are sent then, and no Identifier
    unless the handler gave one with the list (as the reference behaviour
    answers its own early failures).
    """
    if kind is Category.SUCCESS and counts is not None and (counts.failed or counts.warning):
        rsp.Status, kind = 0xB000, Category.WARNING
        given = None  # the Warning's list is ours: the handler claimed Success
        final: Category | None = Category.SUCCESS
    else:
        final = kind
    data = None
    if counts is not None and kind in (Category.CANCEL, Category.FAILURE, Category.WARNING):
        # The handler's list if it gave one that can be encoded, else ours.
        data = op.encode(counts.identifier(given)) or op.encode(counts.identifier())
    elif isinstance(given, Dataset) and "FailedSOPInstanceUIDList" in given:
        data = op.encode(given)  # before any sub-operation: only what the handler gave
    if counts is not None:
        counts.fill(rsp, final)
    detail = "" if counts is None else _summary(counts)
    op.finish(rsp, data, detail)
    return kind


def _summary(counts: SubOperations) -> str:
    return (
        f"completed {counts.completed}, failed {counts.failed}, "
        f"warning {counts.warning}, remaining {counts.remaining}"
    )


def fail(op: Operation, counts: SubOperations | None, code: int, comment: str) -> Category:
    """End with one of dicomwire's failures, keeping the counters if known."""
    return finish(op, counts, op.response(code, comment), Category.FAILURE)


def early_status(op: Operation, item: Any) -> Category | None:
    """Honour a final ``(status, data set)`` yielded before the sub-operations.

    The seeds' example handlers do ``yield 0xC000, None`` instead of the
    number of sub-operations (or the destination) when the Identifier is
    unusable; that is answered as the status it is. None if ``item`` is
    not such a pair (a Pending status here is not one either).
    """
    pair = as_pair(item)
    if pair is None or not looks_like_status(pair[0]):
        return None
    rsp, kind = op.classify(pair[0])
    if kind is Category.PENDING:
        return None
    return finish(op, None, rsp, kind, pair[1])


def read_total(op: Operation, results: Iterator[Any], missing: int, bad: int) -> int | None:
    """The number of sub-operations the handler yields; None once answered.

    ``missing``: status when the handler yields nothing more (0xC413 for
    C-GET, 0xC514 for C-MOVE); ``bad``: status for a value that is not a
    non-negative integer (0xC413, 0xC513).
    """
    item = pull(results)
    if item is RAISED:
        fail(op, None, HANDLER_FAILED[op.kind], "exception in the handler")
        return None
    if item is EXHAUSTED:
        fail(op, None, missing, "handler yielded no number of sub-operations")
        return None
    if early_status(op, item) is not None:
        return None
    try:
        total = int(item)
        if total < 0:
            raise ValueError("negative")
    except (TypeError, ValueError, OverflowError) as exc:
        LOGGER.error("the %s handler yielded an invalid number of sub-operations %r: %s",
                     op.name, item, exc)
        fail(op, None, bad, "invalid number of sub-operations")
        return None
    LOGGER.debug("%s: %d sub-operations announced", op.name, total)
    return total


# -- the sub-operations -------------------------------------------------------------


def run_retrieve(op: Operation, results: Iterator[Any], counts: SubOperations,
                 store: Store) -> Category | None:
    """Run the sub-operations to the final response; its category.

    None when the association ended first (nothing can be answered then).
    Yields past the announced number are ignored, as in the reference
    behaviour; a C-CANCEL the handler did not answer is answered here,
    before the next sub-operation.
    """
    while op.alive():
        if counts.remaining <= 0:
            _ignore_extra(op, results)
            return finish(op, counts, op.response(0x0000), Category.SUCCESS)
        item = pull(results)
        if item is EXHAUSTED:
            if counts.remaining:
                LOGGER.warning("%s: the handler announced %d more sub-operations than it "
                               "yielded", op.name, counts.remaining)
            return finish(op, counts, op.response(0x0000), Category.SUCCESS)
        if item is RAISED:
            return fail(op, counts, HANDLER_FAILED[op.kind], "exception in the handler")
        pair = as_pair(item)
        if pair is None:
            LOGGER.error("the %s handler yielded %r, not (status, dataset)",
                         op.name, type(item).__name__)
            return fail(op, counts, BAD_YIELD[op.kind], "handler yielded an invalid result")
        rsp, kind = op.classify(pair[0])
        if kind is not Category.PENDING:
            return finish(op, counts, rsp, kind, pair[1])
        # Checked after the handler's yield, so a handler that watches
        # event.is_cancelled answers the cancel itself (with its own failed
        # list); one that ignores it still sends nothing more.
        if op.cancelled():
            LOGGER.debug("%s: C-CANCEL received, the handler did not end the operation", op.name)
            return finish(op, counts, op.response(0xFE00), Category.CANCEL)
        sub_operation(op, counts, pair[1], store)
    LOGGER.info("%s (message ID %s): the association ended", op.name, op.message_id)
    return None


def _ignore_extra(op: Operation, results: Iterator[Any]) -> None:
    """Let the handler run to its end once every sub-operation is done."""
    if pull(results) is not EXHAUSTED:
        LOGGER.warning("%s: the handler yielded more results than the number of "
                       "sub-operations it announced; they are ignored", op.name)


def sub_operation(op: Operation, counts: SubOperations, instance: Any, store: Store) -> None:
    """One C-STORE sub-operation, counted, then a Pending response."""
    if isinstance(instance, PathLike):
        instance = os.fspath(instance)  # the C-STORE SCU takes str paths
    uid = instance_uid(instance)
    try:
        if not isinstance(instance, (Dataset, str)):
            raise TypeError(f"{type(instance).__name__!r} is not a Dataset or a file path")
        outcome = store_outcome(store(instance))
    except Exception as exc:
        # ValueError: no accepted context can carry it; others: unreadable file...
        LOGGER.warning("%s: C-STORE sub-operation failed: %s", op.name, exc)
        outcome = Category.FAILURE
    counts.record(outcome, uid)
    LOGGER.debug("%s: sub-operation %s (%s)", op.name, outcome.value, uid)
    op.send(counts.fill(op.response(0xFF00), None))


def store_outcome(status: Dataset) -> Category:
    """Success, Warning or Failure of a C-STORE response (PS3.7 Annex C)."""
    code = status.get("Status")
    if not isinstance(code, int):
        return Category.FAILURE  # no response: timeout, abort or release
    kind = category(code)
    return kind if kind in (Category.SUCCESS, Category.WARNING) else Category.FAILURE


def instance_uid(instance: Any) -> str | None:
    """The SOP Instance UID of a Dataset or DICOM file, if it can be read."""
    try:
        if isinstance(instance, Dataset):
            uid = instance.get("SOPInstanceUID")
            return str(uid) if uid else None
        if isinstance(instance, (str, PathLike)):
            with open(instance, "rb") as fh:
                return read_file_info(fh, str(instance)).sop_instance
    except Exception as exc:
        LOGGER.debug("no SOP Instance UID for the failed list: %s", exc)
    return None


# -- Composite Instance Retrieve Without Bulk Data (PS3.4 Z.1.3) --------------------

# Pixel Data, Float/Double Float Pixel Data, Pixel Data Provider URL,
# Spectroscopy Data, Encapsulated Document.
_BULK_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009, 0x00287FE0, 0x56000020, 0x00420011})
_WAVEFORM_SEQUENCE = 0x54000100
_WAVEFORM_DATA = 0x54001010


def _is_bulk(tag: int) -> bool:
    """Bulk data of PS3.4 Z.1.3, including the repeating groups 50xx and 60xx."""
    if tag in _BULK_TAGS:
        return True
    group, element = tag >> 16, tag & 0xFFFF
    if group & 1:
        return False
    if 0x6000 <= group <= 0x601E:
        return element == 0x3000  # Overlay Data
    if 0x5000 <= group <= 0x501E:
        return element in (0x3000, 0x200C)  # Curve Data, Audio Sample Data
    return False


def without_bulk_data(instance: Instance) -> Dataset:
    """A copy of the instance without its bulk data; the original is untouched.

    A file is read with pydicom first. When the instance was in a
    compressed transfer syntax, only its pixel data was compressed, so the
    copy may travel in Explicit VR Little Endian (or any uncompressed one).
    """
    ds = instance if isinstance(instance, Dataset) else dcmread(Path(instance))
    out = _copy_without(ds, _is_bulk)
    if _WAVEFORM_SEQUENCE in out:
        items = [_copy_without(item, lambda t: t == _WAVEFORM_DATA) for item in ds.WaveformSequence]
        out[_WAVEFORM_SEQUENCE] = DataElement(_WAVEFORM_SEQUENCE, "SQ", Sequence(items))
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        out.file_meta = FileMetaDataset({elem.tag: elem for elem in meta})
        if dataset_transfer_syntax(ds) not in UNCOMPRESSED:
            out.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return out


def _copy_without(ds: Dataset, drop: Callable[[int], bool]) -> Dataset:
    """A new Dataset with ``ds``'s elements but those ``drop`` names, undecoded."""
    out = Dataset({tag: ds.get_item(tag) for tag in ds.keys() if not drop(int(tag))})
    implicit, little = ds.original_encoding
    out.set_original_encoding(implicit, little, ds.original_character_set)
    return out


# -- C-GET --------------------------------------------------------------------------


def serve_c_get(
    assoc: Any, received: ReceivedMessage, context: PresentationContext, service: str
) -> None:
    """Answer a C-GET-RQ through the handler bound to ``EVT_C_GET`` (PS3.4 C.4.3).

    The handler yields the number of sub-operations, then ``(status,
    dataset)`` pairs; a Pending dataset (a Dataset or a DICOM file path) is
    sent to the requestor with C-STORE on this association, which needs the
    requestor to have proposed the SCP role for its SOP class (PS3.7
    D.3.3.4). Statuses dicomwire answers itself: 0xC410 undecodable
    Identifier; 0xC411 no handler bound or it raised; 0xC412 a yield that
    is not a ``(status, dataset)`` pair; 0xC413 no or an invalid number of
    sub-operations; 0xC001/0xC002 unusable status; 0xFE00 a C-CANCEL the
    handler did not answer itself. A dataset that is neither a Dataset nor
    a path, or that cannot be sent, is a failed sub-operation.
    """
    op = Operation(assoc, received, context, service, "get")
    try:
        results = op.start()
        if results is None:
            return
        try:
            total = read_total(op, results, GET_BAD_COUNT, GET_BAD_COUNT)
            if total is not None:
                run_retrieve(op, results, SubOperations(total), _get_store(op))
        finally:
            close_quietly(results)
    finally:
        op.cleanup()


def _get_store(op: Operation) -> Store:
    """C-STORE on the C-GET's own association, stripping bulk data if asked."""
    strip = str(op.context.abstract_syntax) == WITHOUT_BULK_DATA_GET
    priority = int(getattr(op.request, "Priority", 0) or 0)

    def store(instance: Instance) -> Dataset:
        if strip:
            instance = without_bulk_data(instance)
        status: Dataset = op.assoc.send_c_store(instance, priority=priority)
        return status

    return store
