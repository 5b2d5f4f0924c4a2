"""The node's answers to DIMSE requests, as ordinary ``evt`` handlers.

The node is a user of the public API like any other: these handlers are
bound with ``evt_handlers`` and see only :class:`dicomwire.events.Event`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from pydicom.dataset import Dataset

from ..events import DatasetDecodeError
from .config import NodeConfig
from .group_commit import GroupCommit
from .index import DuplicateInstance, Index, MissingAttributes, QueryError
from .store import FileStore, InvalidUID, read_indexed

LOGGER = logging.getLogger("dicomwire.node")

_QR = "1.2.840.10008.5.1.4.1.2"
# Query/Retrieve information model of each SOP class (PS3.4 C.6).
MODELS = {
    **{f"{_QR}.1.{n}": "patient" for n in (1, 2, 3)},
    **{f"{_QR}.2.{n}": "study" for n in (1, 2, 3)},
    **{f"{_QR}.3.{n}": "patient_study" for n in (1, 2, 3)},
    f"{_QR}.4.2": "composite",
    f"{_QR}.4.3": "composite",
    f"{_QR}.5.3": "composite",
}
FIND_MODELS = frozenset(f"{_QR}.{n}.1" for n in (1, 2, 3))
WORKLIST = "1.2.840.10008.5.1.4.31"
RELEVANT_PATIENT = (
    "1.2.840.10008.5.1.4.37.1",
    "1.2.840.10008.5.1.4.37.2",
    "1.2.840.10008.5.1.4.37.3",
)

# C-STORE failure statuses (PS3.4 B.2.3, PS3.7 C).
OUT_OF_RESOURCES = 0xA700
DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000
DUPLICATE = 0x0111  # Failure: duplicate SOP instance (PS3.7 C.5.9)
# Refused: Not Authorized, a status every DIMSE service may answer (PS3.7 C.5.x).
NOT_AUTHORIZED = 0x0124
USERNAME_AND_PASSCODE, SAML, JWT = 2, 4, 5  # User Identity Type (PS3.7 D.3.3.7.1)


def _status(code: int, comment: str) -> Dataset:
    ds = Dataset()
    ds.Status = code
    ds.ErrorComment = comment[:64]
    return ds


class NodeHandlers:
    """Storage, Query/Retrieve, Worklist and Relevant Patient Information."""

    def __init__(self, config: NodeConfig, index: Index, store: FileStore) -> None:
        self.config = config
        self.index = index
        self.store = store
        self.commits = GroupCommit(index, store.sync_folders)
        self._identified: set[int] = set()  # id() of associations with a verified user
        self._lock = threading.Lock()

    def handlers(self) -> list[tuple[Any, Any]]:
        from .. import evt

        checks = [(evt.EVT_USER_ID, self.on_user_id)] if self.config.checks_user_identity else []
        return [
            *checks,
            (evt.EVT_C_ECHO, self.on_echo),
            (evt.EVT_C_STORE, self.on_store),
            (evt.EVT_C_FIND, self.on_find),
            (evt.EVT_C_GET, self.on_get),
            (evt.EVT_C_MOVE, self.on_move),
            (evt.EVT_SOP_EXTENDED, self.on_sop_extended),
            (evt.EVT_ESTABLISHED, self.on_established),
            (evt.EVT_RELEASED, self.on_ended),
            (evt.EVT_ABORTED, self.on_ended),
        ]

    # -- association log -------------------------------------------------------

    @staticmethod
    def on_established(event: Any) -> None:
        peer = event.assoc.requestor
        LOGGER.info("association from %s (%s:%s)", peer.ae_title, peer.address, peer.port)

    def on_ended(self, event: Any) -> None:
        how = "released" if event.assoc.is_released else "aborted"
        LOGGER.info("association with %s %s", event.assoc.requestor.ae_title, how)
        with self._lock:
            self._identified.discard(id(event.assoc))

    @staticmethod
    def on_echo(event: Any) -> int:
        LOGGER.info("C-ECHO from %s", event.assoc.requestor.ae_title)
        return 0x0000

    # -- access (calling AE permissions, user identity) ------------------------------

    def on_user_id(self, event: Any) -> tuple[bool, bytes | None]:
        """PS3.7 D.3.3.7: username and passcode against ``users``, a SAML
        assertion or JWT against ``tokens``. A username alone proves nothing,
        Kerberos is not supported: both are refused."""
        kind, primary = event.user_id_type, bytes(event.primary_field or b"")
        verified = False
        if kind == USERNAME_AND_PASSCODE:
            expected = self.config.users.get(primary.decode("utf-8", "replace"))
            given = hashlib.sha256(bytes(event.secondary_field or b"")).hexdigest()
            verified = expected is not None and hmac.compare_digest(expected, given)
        elif kind in (SAML, JWT):
            verified = any(hmac.compare_digest(primary, t.encode()) for t in self.config.tokens)
        caller = event.assoc.requestor.ae_title
        if verified:
            with self._lock:
                self._identified.add(id(event.assoc))
            LOGGER.info("user identity (type %s) of %s verified", kind, caller)
        else:
            LOGGER.warning("user identity (type %s) of %s refused", kind, caller)
        return verified, None

    def _refusal(self, event: Any, action: str, destination: str | None = None) -> Dataset | None:
        """A Refused: Not Authorized status, or None when the caller may go on."""
        caller = str(event.assoc.requestor.ae_title)
        if self.config.require_user_identity:
            with self._lock:
                identified = id(event.assoc) in self._identified
            if not identified:
                LOGGER.warning("%s by %s refused: no verified user identity", action, caller)
                return _status(NOT_AUTHORIZED, "a verified user identity is required")
        allowed = (
            self.config.allows_move_to(caller, destination)
            if destination is not None
            else self.config.allows(caller, action)
        )
        if allowed:
            return None
        what = f"move to {destination}" if destination is not None else action
        LOGGER.warning("%s by %s refused: not permitted", what, caller)
        return _status(NOT_AUTHORIZED, f"{caller} may not {what}")

    # -- Storage (PS3.4 B) -------------------------------------------------------

    def on_store(self, event: Any) -> int | Dataset:
        """Keep the instance bit for bit; Success only once file and row are durable."""
        refused = self._refusal(event, "store")
        if refused is not None:
            return refused
        request, syntax = event.request, str(event.context.transfer_syntax)
        # A spooled data set stays on disk; a small one is in memory already.
        data = None if event.dataset_path else event.encoded_dataset()
        try:
            header = read_indexed(data, event.dataset_path, syntax)
            record = Index.record_from(header, "", syntax)
            if record.sop_instance_uid != request.AffectedSOPInstanceUID:
                return _status(DOES_NOT_MATCH, "SOP Instance UID differs from the request")
            relative = self.store.relative_path(
                record.study_instance_uid, record.series_instance_uid, record.sop_instance_uid
            )
            record = record.at(relative)
        except (MissingAttributes, InvalidUID) as exc:
            LOGGER.warning("refused %s: %s", request.AffectedSOPInstanceUID, exc)
            return _status(DOES_NOT_MATCH, str(exc))
        except Exception as exc:  # pydicom could not read the header
            LOGGER.warning(
                "refused %s: unreadable data set: %s", request.AffectedSOPInstanceUID, exc
            )
            return _status(CANNOT_UNDERSTAND, "cannot decode the data set")
        # Check, write and index as one step per instance: a concurrent store of the
        # same SOP Instance UID (another association or node) waits for this one.
        with self.store.lock(record.sop_instance_uid):
            return self._keep(event, data, record, relative)

    def _keep(self, event: Any, data: bytes | None, record: Any, relative: str) -> int | Dataset:
        policy = self.config.on_duplicate
        try:
            existing = self.index.path_of(record.sop_instance_uid)
        except Exception as exc:  # the database is down: nothing written, try again later
            LOGGER.error("cannot look up %s: %s", record.sop_instance_uid, exc)
            return _status(OUT_OF_RESOURCES, "the index is unavailable")
        if existing is not None and policy == "keep":
            LOGGER.info("duplicate %s kept as it was", record.sop_instance_uid)
            return 0x0000
        if existing is not None and policy == "reject":
            LOGGER.info("duplicate %s refused", record.sop_instance_uid)
            return _status(DUPLICATE, "this SOP Instance UID is already stored")
        try:
            # The folder is fsynced with the others of the commit group (group_commit.py).
            header = event.encoded_file_meta()
            written = self.store.write(relative, header, data, event.dataset_path, False)
        except OSError as exc:
            LOGGER.error("cannot write %s: %s", relative, exc)
            return _status(OUT_OF_RESOURCES, f"cannot write the file: {exc.strerror or exc}")
        try:
            outcome = self.commits.add(record, policy, written.parent)
        except DuplicateInstance:
            LOGGER.info("duplicate %s refused", record.sop_instance_uid)
            return _status(DUPLICATE, "this SOP Instance UID is already stored")
        except Exception as exc:
            LOGGER.error("cannot index %s: %s", record.sop_instance_uid, exc)
            if existing is None:
                self.store.delete(relative)  # nothing indexed that is not on disk, and vice versa
            return _status(OUT_OF_RESOURCES, "the index is unavailable")
        if existing is not None and existing != relative and outcome == "replaced":
            self.store.delete(existing)
        LOGGER.info("stored %s from %s (%s)", record.sop_instance_uid,
                    event.assoc.requestor.ae_title, outcome)  # fmt: skip
        return 0x0000

    # -- Query (PS3.4 C, K, Q) -----------------------------------------------------

    def on_find(self, event: Any) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        refused = self._refusal(event, "query")
        if refused is not None:
            yield refused, None
            return
        sop_class = str(event.context.abstract_syntax)
        try:
            identifier = event.identifier
        except DatasetDecodeError:
            yield 0xC310, None
            return
        if sop_class == WORKLIST:
            matches: Iterator[Dataset] = self.index.worklist_find(identifier)
        elif sop_class in RELEVANT_PATIENT:
            yield from self._relevant_patient(identifier, event.assoc.requestor.ae_title)
            return
        else:
            try:
                matches = self.index.find(
                    identifier,
                    MODELS[sop_class],
                    self._relational(event),
                    combined_datetime=self._agreed(event, 1),
                )
            except (QueryError, KeyError) as exc:
                LOGGER.info("C-FIND refused: %s", exc)
                yield DOES_NOT_MATCH, None
                return
        yield from self._pending(event, matches, "C-FIND")

    def _pending(
        self, event: Any, matches: Iterator[Dataset], what: str
    ) -> Iterator[tuple[int, Dataset | None]]:
        count = 0
        for match in matches:
            if event.is_cancelled:
                LOGGER.info("%s cancelled after %d matches", what, count)
                yield 0xFE00, None
                return
            count += 1
            yield 0xFF00, match
        LOGGER.info("%s from %s: %d matches", what, event.assoc.requestor.ae_title, count)

    def _relevant_patient(
        self, identifier: Dataset, caller: str
    ) -> Iterator[tuple[int, Dataset | None]]:
        """PS3.4 Q.2: one patient's newest SR in the requested template, or 0xC100."""
        what = f"Relevant Patient Information query from {caller}"
        patients = {m.PatientID for m in self.index.find(_patient_query(identifier), "patient")}
        if len(patients) > 1:
            LOGGER.info("%s: %d patients match", what, len(patients))
            yield 0xC100, None  # more than one match
            return
        wanted = _template(identifier)
        for stored in self.index.structured_reports(patients.pop()) if patients else []:
            report = self._header(stored)
            if wanted is None or _template(report) == wanted:
                LOGGER.info("%s: %s", what, stored.sop_instance_uid)
                yield 0xFF00, _answer(identifier, report)
                return
        LOGGER.info("%s: no match", what)

    def _header(self, stored: Any) -> Dataset:
        from pydicom import dcmread

        return dcmread(self.store.absolute(stored.path), stop_before_pixels=True)

    @staticmethod
    def _agreed(event: Any, byte: int) -> bool:
        """Whether we agreed to option ``byte`` of this SOP class's extended negotiation."""
        sop_class = str(event.context.abstract_syntax)
        for item in event.assoc.acceptor.user_information.sop_class_extended:
            if item.sop_class_uid == sop_class:
                info = item.service_class_application_information
                return len(info) > byte and info[byte] == 1
        return False

    def _relational(self, event: Any) -> bool:
        """Relational queries/retrievals only when agreed (PS3.4 C.4.1.2.2, C.4.2.2.1)."""
        return self._agreed(event, 0)

    @staticmethod
    def on_sop_extended(event: Any) -> dict[str, bytes]:
        """Agree to what the Q/R models can do (PS3.4 C.5.1.1.1, C.5.2.1.1, C.5.3.1.1).

        Byte 1: relational queries/retrievals; byte 2 (C-FIND only): combined
        date and time range matching. Fuzzy names and time zone adjustment
        (bytes 3 and 4) are declined.
        """
        answers = {}
        for uid, info in event.app_info.items():
            if uid not in MODELS or not info:
                continue
            answer = bytearray(len(info))
            answer[0] = info[0] & 1
            if uid in FIND_MODELS and len(info) > 1:
                answer[1] = info[1] & 1
            answers[uid] = bytes(answer)
        return answers

    # -- Retrieve (PS3.4 C.4.2, C.4.3) ----------------------------------------------

    def _locate(self, event: Any) -> list[Any] | int:
        try:
            model = MODELS[str(event.context.abstract_syntax)]
            found: list[Any] = self.index.locate(event.identifier, model, self._relational(event))
            return found
        except DatasetDecodeError:
            return 0xC410
        except (QueryError, KeyError) as exc:
            LOGGER.info("retrieve refused: %s", exc)
            return DOES_NOT_MATCH

    def on_get(self, event: Any) -> Iterator[Any]:
        refused = self._refusal(event, "retrieve")
        if refused is not None:
            yield refused, None
            return
        found = self._locate(event)
        if isinstance(found, int):
            yield 0
            yield found, None
            return
        LOGGER.info("C-GET from %s: %d instances", event.assoc.requestor.ae_title, len(found))
        yield len(found)
        yield from self._send(event, found)

    def on_move(self, event: Any) -> Iterator[Any]:
        refused = self._refusal(event, "retrieve") or self._refusal(
            event, "retrieve", str(event.move_destination)
        )
        if refused is not None:
            yield refused, None
            return
        destination = self.config.known_ae.get(event.move_destination)
        if destination is None:
            LOGGER.info("C-MOVE to unknown destination %r", event.move_destination)
            yield None, None
            return
        found = self._locate(event)
        yield destination
        if isinstance(found, int):
            yield 0
            yield found, None
            return
        LOGGER.info("C-MOVE from %s to %s: %d instances", event.assoc.requestor.ae_title,
                    event.move_destination, len(found))  # fmt: skip
        yield len(found)
        yield from self._send(event, found)

    def _send(self, event: Any, found: list[Any]) -> Iterator[tuple[int, Any]]:
        for stored in found:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, os.fspath(self.store.absolute(stored.path))


def _patient_query(identifier: Dataset) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "PATIENT"
    query.PatientID = identifier.get("PatientID", "")
    query.PatientName = identifier.get("PatientName", "")
    return query


def _template(ds: Dataset) -> str | None:
    for item in ds.get("ContentTemplateSequence", []):
        if "TemplateIdentifier" in item:
            return str(item.TemplateIdentifier)
    return None


def _answer(identifier: Dataset, report: Dataset) -> Dataset:
    """The SR's content, with the request's keys filled from it (PS3.4 Q.2.1.1.3)."""
    answer = Dataset()
    for elem in identifier:
        answer.add(report.get(elem.tag, elem))
    for keyword in ("ContentSequence", "ContentTemplateSequence", "ConceptNameCodeSequence",
                    "ValueType", "ContinuityOfContent"):  # fmt: skip
        if keyword in report:
            answer.add(report[keyword])
    return answer
