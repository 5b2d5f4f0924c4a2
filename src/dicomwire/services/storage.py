"""Storage Service Class (PS3.4 Annex B) over C-STORE (PS3.7 9.1.1)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, BinaryIO

from pydicom.dataset import Dataset

from ..dimse.commands import C_STORE_RQ, C_STORE_RSP
from ..dimse.fragment import ReceivedMessage
from ..events import EVT_C_STORE, DatasetDecodeError, Event, get_handler
from .base import apply_status, exchange, require_established, status_dataset
from .encoding import (
    UNCOMPRESSED,
    FileInfo,
    FileSlice,
    dataset_transfer_syntax,
    encode_dataset,
    read_file_info,
)

LOGGER = logging.getLogger("dicomwire.service")


def send_c_store(
    assoc: Any,
    dataset: Dataset | str | Path,
    msg_id: int | None,
    priority: int,
    originator_aet: str | bytes | None,
    originator_id: int | None,
) -> Dataset:
    """Send one instance with C-STORE and return the response status."""
    require_established(assoc, "C-STORE")
    if isinstance(dataset, (str, Path)):
        with open(dataset, "rb") as fh:
            info = read_file_info(fh, str(dataset))
            context_id, data = _file_source(assoc, fh, info)
            return _store(
                assoc,
                context_id,
                info.sop_class,
                info.sop_instance,
                data,
                msg_id,
                priority,
                originator_aet,
                originator_id,
            )
    sop_class, sop_instance = _identity(dataset)
    context_id, payload = _dataset_source(assoc, dataset, sop_class)
    return _store(
        assoc,
        context_id,
        sop_class,
        sop_instance,
        payload,
        msg_id,
        priority,
        originator_aet,
        originator_id,
    )


def _store(
    assoc: Any,
    context_id: int,
    sop_class: str,
    sop_instance: str,
    data: Any,
    msg_id: int | None,
    priority: int,
    originator_aet: str | bytes | None,
    originator_id: int | None,
) -> Dataset:
    if isinstance(originator_aet, bytes):
        originator_aet = originator_aet.decode("ascii").strip()
    request = C_STORE_RQ(
        MessageID=msg_id or assoc.next_message_id(),
        AffectedSOPClassUID=sop_class,
        AffectedSOPInstanceUID=sop_instance,
        Priority=priority,
        MoveOriginatorApplicationEntityTitle=originator_aet or None,
        MoveOriginatorMessageID=originator_id,
    )
    response = exchange(assoc, context_id, request, data)
    return status_dataset(response.command) if response is not None else Dataset()


def _identity(ds: Dataset) -> tuple[str, str]:
    try:
        return str(ds.SOPClassUID), str(ds.SOPInstanceUID)
    except AttributeError as exc:
        raise ValueError(f"the data set has no SOP Class/Instance UID: {exc}") from exc


def _pick_context(assoc: Any, sop_class: str, syntax: str, what: str) -> tuple[Any, bool]:
    """An accepted context for ``sop_class``: one in ``syntax`` if possible.

    Returns (context, as_is). Without an exact match, an uncompressed
    instance may go in any accepted uncompressed transfer syntax.
    """
    contexts = assoc.find_contexts(sop_class, "scu")
    for cx in contexts:
        if cx.transfer_syntax[0] == syntax:
            return cx, True
    if syntax in UNCOMPRESSED:
        for cx in contexts:
            if cx.transfer_syntax[0] in UNCOMPRESSED:
                return cx, False
    offered = ", ".join(str(cx.transfer_syntax[0]) for cx in contexts) or "none"
    raise ValueError(
        f"{what}: no accepted presentation context for SOP class {sop_class} can carry "
        f"transfer syntax {syntax} (accepted for this SOP class: {offered})"
    )


def _file_source(assoc: Any, fh: BinaryIO, info: FileInfo) -> tuple[int, Any]:
    cx, as_is = _pick_context(assoc, info.sop_class, info.transfer_syntax, info.name)
    if as_is:
        return cx.context_id, FileSlice(fh, info.offset, info.size - info.offset)
    from pydicom import dcmread

    fh.seek(0)
    ds = dcmread(fh, force=True)
    return cx.context_id, encode_dataset(ds, cx.transfer_syntax[0])


def _dataset_source(assoc: Any, ds: Dataset, sop_class: str) -> tuple[int, bytes]:
    syntax = dataset_transfer_syntax(ds)
    cx, _ = _pick_context(assoc, sop_class, syntax, "the data set")
    return cx.context_id, encode_dataset(ds, cx.transfer_syntax[0])


def serve_c_store(
    assoc: Any, received: ReceivedMessage, context: Any, service: str = "storage"
) -> None:
    """Answer a C-STORE-RQ through the handler bound to ``EVT_C_STORE``.

    Statuses of the reference behaviour: 0xC210 when the handler could not
    decode the data set, 0xC211 when the handler raised (or none is bound,
    so an instance is never acknowledged without being kept), 0xC001/0xC002
    for an unusable status. A spooled data set file is removed afterwards
    unless the handler moved it away.
    """
    request = received.command
    response = C_STORE_RSP(
        MessageIDBeingRespondedTo=request.MessageID,  # type: ignore[attr-defined]
        AffectedSOPClassUID=request.AffectedSOPClassUID,  # type: ignore[attr-defined]
        AffectedSOPInstanceUID=request.AffectedSOPInstanceUID,  # type: ignore[attr-defined]
        Status=0x0000,
    )
    try:
        _run_store_handler(assoc, received, context, response, service)
    finally:
        if received.data_set_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(received.data_set_path)
    assoc.send_message(received.context_id, response)


def _run_store_handler(
    assoc: Any, received: ReceivedMessage, context: Any, response: C_STORE_RSP, service: str
) -> None:
    request = received.command
    bound = get_handler(assoc.handlers, EVT_C_STORE)
    if bound is None:
        LOGGER.error("no handler is bound to EVT_C_STORE: refusing the instance")
        response.Status = 0xC211
        response.ErrorComment = "no storage handler"
        return
    handler, args = bound
    event = Event(
        assoc,
        EVT_C_STORE,
        context=context.as_tuple,
        request=request,
        message_id=request.MessageID,  # type: ignore[attr-defined]
        _data=received.data_set,
        dataset_path=received.data_set_path,
    )
    try:
        status = handler(event, *args)
    except DatasetDecodeError as exc:
        LOGGER.error("failed to decode the received data set: %s", exc)
        response.Status = 0xC210
        response.ErrorComment = "Unable to decode the dataset"
        return
    except Exception:
        LOGGER.exception("exception in the EVT_C_STORE handler")
        response.Status = 0xC211
        return
    apply_status(status, response, service)
