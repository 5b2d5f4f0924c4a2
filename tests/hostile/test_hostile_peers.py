"""A running node attacked over raw sockets: each attack gets the answer PS3.8/PS3.7
asks for, and the node goes on serving everyone else.

The node (``dicomwire.node.app.Node``, in this process, SQLite) runs with
short timeouts: ARTIM/ACSE 1 s, network (idle, and now sends) 2 s. After
every case a normal dicomwire association still echoes and stores.

Expected answers (PS3.8 Table 9-10, actions in Table 9-7):
* before association (Sta2) any invalid or unexpected PDU -> AA-1: A-ABORT
  with service-user source, reason 0 (``07 00 00000004 00 00 00 00``), then
  the connection closes when ARTIM expires;
* once associated (Sta6) -> AA-8: A-ABORT with service-provider source and
  the reason of Table 9-26 (1 unrecognized PDU, 2 unexpected PDU, 5
  unexpected parameter, 6 invalid parameter value);
* an AE title with characters the AE VR forbids -> A-ASSOCIATE-RJ
  permanent, service-user, reason 3 (calling) or 7 (called);
* a data set that cannot be parsed -> C-STORE-RSP 0xC210 and the
  association goes on.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

import peers
from dicomwire import AE
from dicomwire._core.pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RQ,
    P_DATA_TF,
    PresentationContextRQ,
    PresentationDataValue,
    RoleSelection,
    UserInformation,
    decode_pdu,
    encode_pdu,
)
from dicomwire.dimse.commands import (
    C_ECHO_RQ,
    C_FIND_RQ,
    C_GET_RQ,
    C_STORE_RQ,
    decode_command,
    encode_command,
)
from dicomwire.sop_class import CTImageStorage, Verification

LOCAL = "127.0.0.1"
NODE_AET = "DICOMWIRE"
IMPLICIT = "1.2.840.10008.1.2"
VERIFICATION = str(Verification)
CT = str(CTImageStorage)
FIND = "1.2.840.10008.5.1.4.1.2.1.1"  # Patient Root Q/R FIND
GET = "1.2.840.10008.5.1.4.1.2.2.3"  # Study Root Q/R GET
ARTIM = 1.0
NETWORK = 2.0

ABORT_USER = bytes.fromhex("07 00 00000004 00 00 00 00")


def abort_provider(reason: int) -> bytes:
    return bytes.fromhex("07 00 00000004 00 00 02") + bytes([reason])


def reject(result: int, source: int, reason: int) -> bytes:
    return bytes.fromhex("03 00 00000004 00") + bytes([result, source, reason])


# -- the node ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from dicomwire.node.app import Node
    from dicomwire.node.config import load

    folder = tmp_path_factory.mktemp("hostile")
    config = load(
        {"data_dir": folder / "data", "port": peers.free_port(), "bind": LOCAL},
        environ={},
    )
    node = Node(config)
    node.ae.acse_timeout = ARTIM
    node.ae.network_timeout = NETWORK
    node.ae.dimse_timeout = NETWORK
    node.start()
    try:
        yield node
    finally:
        node.stop()


def healthy(node: Any, seed: int = 1) -> None:
    """A normal association still echoes and stores, quickly."""
    started = time.monotonic()
    ae = AE("HEALTHY")
    ae.add_requested_context(Verification)
    ae.add_requested_context(CTImageStorage)
    assoc = ae.associate(LOCAL, node.config.port, ae_title=NODE_AET)
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0x0000
    ds = peers.make_ct(size_bytes=4096, seed=seed, PatientID=f"HEALTHY-{seed}")
    assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    assert time.monotonic() - started < 2.0


# -- a raw peer -------------------------------------------------------------------


def associate_rq(
    calling: str = "HOSTILE",
    called: str = NODE_AET,
    contexts: tuple[PresentationContextRQ, ...] | None = None,
    roles: tuple[RoleSelection, ...] = (),
) -> A_ASSOCIATE_RQ:
    contexts = contexts or (
        PresentationContextRQ(1, VERIFICATION, (IMPLICIT,)),
        PresentationContextRQ(3, CT, (IMPLICIT,)),
        PresentationContextRQ(5, FIND, (IMPLICIT,)),
        PresentationContextRQ(7, GET, (IMPLICIT,)),
    )
    info = UserInformation(
        maximum_length=16384, implementation_class_uid="1.2.3.4", role_selections=roles
    )
    return A_ASSOCIATE_RQ(called, calling, contexts, info)


def with_title(field: str, raw_title: bytes) -> bytes:
    """An A-ASSOCIATE-RQ whose called or calling AE title field holds ``raw_title``."""
    raw = bytearray(encode_pdu(associate_rq()))
    offset = 10 if field == "called" else 26  # PS3.8 Table 9-11
    raw[offset : offset + 16] = raw_title.ljust(16, b" ")
    return bytes(raw)


class RawPeer:
    def __init__(self, node: Any, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((LOCAL, node.config.port))
        self.sock.settimeout(timeout)

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, count: int) -> bytes:
        out = b""
        while len(out) < count:
            chunk = self.sock.recv(count - len(out))
            if not chunk:
                raise ConnectionError(f"closed after {len(out)} of {count} bytes")
            out += chunk
        return out

    def recv_pdu_bytes(self) -> bytes:
        header = self.recv_exact(6)
        (length,) = struct.unpack(">L", header[2:])
        return header + self.recv_exact(length)

    def recv_pdu(self) -> Any:
        return decode_pdu(self.recv_pdu_bytes())

    def until_closed(self) -> tuple[bytes, float]:
        """Everything the node still sends, and how long until it closed."""
        started = time.monotonic()
        out = b""
        while chunk := self.sock.recv(65536):
            out += chunk
        return out, time.monotonic() - started

    def associate(self, rq: A_ASSOCIATE_RQ | None = None) -> A_ASSOCIATE_AC:
        self.send(encode_pdu(rq or associate_rq()))
        answer = self.recv_pdu()
        assert isinstance(answer, A_ASSOCIATE_AC)
        return answer

    def send_message(self, context: int, command: bytes, data: bytes | None = None) -> None:
        pdvs = [PresentationDataValue(context, True, True, command)]
        if data is not None:
            pdvs.append(PresentationDataValue(context, False, True, data))
        self.send(encode_pdu(P_DATA_TF(tuple(pdvs))))

    def recv_message(self) -> tuple[Any, bytes]:
        command, data, done = b"", b"", False
        while not done:
            pdu = self.recv_pdu()
            assert isinstance(pdu, P_DATA_TF), pdu
            for pdv in pdu.pdvs:
                if pdv.is_command:
                    command += pdv.data
                    if pdv.is_last:
                        message = decode_command(command)
                        done = not message.has_data_set
                else:
                    data += pdv.data
                    done = pdv.is_last
        return message, data

    def echo(self, message_id: int = 99) -> int:
        self.send_message(1, encode_command(C_ECHO_RQ(message_id, VERIFICATION)))
        response, _ = self.recv_message()
        assert response.MessageIDBeingRespondedTo == message_id
        return int(response.Status)

    def release(self) -> None:
        self.send(encode_pdu(A_RELEASE_RQ()))
        assert self.recv_pdu_bytes() == bytes.fromhex("06 00 00000004 00000000")


def implicit(ds: Dataset) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian = True
    buffer.is_implicit_VR = True
    write_dataset(buffer, ds)
    return bytes(buffer.getvalue())


# -- before association (Sta2): AA-1 ------------------------------------------------

BAD_BEFORE_ASSOCIATION = {
    "random bytes, unknown PDU type": bytes([0xFF]) + bytes(range(200)),
    "PDU length 0xFFFFFFFF": struct.pack(">BxL", 1, 0xFFFFFFFF) + b"\x00" * 64,
    "P-DATA-TF before association": encode_pdu(
        P_DATA_TF((PresentationDataValue(1, True, True, b"\x00" * 12),))
    ),
    "A-ASSOCIATE-RQ whose items overrun it": (
        lambda raw: raw[:1] + b"\x00" + struct.pack(">L", 90) + raw[6:96]
    )(encode_pdu(associate_rq())),
    "fixed-size PDU of the wrong size": bytes.fromhex("05 00 00000006 000000000000"),
}


@pytest.mark.parametrize("attack", BAD_BEFORE_ASSOCIATION, ids=list(BAD_BEFORE_ASSOCIATION))
def test_bad_pdu_before_association_is_aborted(node: Any, attack: str) -> None:
    peer = RawPeer(node)
    peer.send(BAD_BEFORE_ASSOCIATION[attack])
    answer, waited = peer.until_closed()
    peer.close()
    assert answer == ABORT_USER
    assert waited < ARTIM + 1.5  # Sta13: ARTIM bounds the wait for our close
    healthy(node)


def test_truncated_associate_rq_is_dropped_by_artim(node: Any) -> None:
    peer = RawPeer(node)
    peer.send(encode_pdu(associate_rq())[:40])
    answer, waited = peer.until_closed()
    peer.close()
    assert answer == b""  # ARTIM in Sta2: AA-2, close without a PDU
    assert ARTIM - 0.2 < waited < ARTIM + 1.5
    healthy(node)


# -- once associated (Sta6): AA-8 with the reason of Table 9-26 ----------------------

BAD_WHEN_ASSOCIATED = {
    "P-DATA length 0xFFFFFFFF": (struct.pack(">BxL", 4, 0xFFFFFFFF), 6),
    "unknown PDU type": (bytes.fromhex("09 00 00000004 00000000"), 1),
    "second A-ASSOCIATE-RQ": (encode_pdu(associate_rq()), 2),
    "PDV item length below 2": (bytes.fromhex("04 00 00000006 00000001 01 03"), 6),
    "data set fragment before any command": (
        encode_pdu(P_DATA_TF((PresentationDataValue(1, False, True, b"\x00" * 8),))),
        5,
    ),
    "command set that does not decode": (
        encode_pdu(P_DATA_TF((PresentationDataValue(1, True, True, b"\x00\x00\x01\x00\x30"),))),
        5,
    ),
    "command set without its Affected SOP Class UID": (
        encode_pdu(
            P_DATA_TF(
                (
                    PresentationDataValue(
                        1,
                        True,
                        True,
                        # (0000,0100) C-ECHO-RQ, (0000,0110) ID 1, (0000,0800) no data set
                        struct.pack("<HHIH", 0, 0x0100, 2, 0x0030)
                        + struct.pack("<HHIH", 0, 0x0110, 2, 1)
                        + struct.pack("<HHIH", 0, 0x0800, 2, 0x0101),
                    ),
                )
            )
        ),
        5,
    ),
    "command set with a US element of the wrong length": (
        encode_pdu(
            P_DATA_TF(
                (
                    PresentationDataValue(
                        1,
                        True,
                        True,
                        encode_command(C_ECHO_RQ(1, VERIFICATION)).replace(
                            struct.pack("<HHIH", 0, 0x0110, 2, 1),
                            struct.pack("<HHIHH", 0, 0x0110, 4, 1, 0),
                        ),
                    ),
                )
            )
        ),
        5,
    ),
    "message on a context that was not proposed": (
        encode_pdu(
            P_DATA_TF(
                (PresentationDataValue(9, True, True, encode_command(C_ECHO_RQ(1, VERIFICATION))),)
            )
        ),
        5,
    ),
}


@pytest.mark.parametrize("attack", BAD_WHEN_ASSOCIATED, ids=list(BAD_WHEN_ASSOCIATED))
def test_bad_input_when_associated_is_aborted(node: Any, attack: str) -> None:
    data, reason = BAD_WHEN_ASSOCIATED[attack]
    peer = RawPeer(node)
    peer.associate()
    assert peer.echo() == 0x0000
    peer.send(data)
    answer, waited = peer.until_closed()
    peer.close()
    assert answer == abort_provider(reason)
    assert waited < 1.0  # the node closes at once after an A-P-ABORT it sent
    healthy(node)


def test_fragments_of_two_messages_interleaved_are_aborted(node: Any) -> None:
    peer = RawPeer(node)
    peer.associate()
    echo = encode_command(C_ECHO_RQ(1, VERIFICATION))
    store = encode_command(C_STORE_RQ(2, CT, "1.2.3.4.5", 0))
    peer.send(
        encode_pdu(
            P_DATA_TF(
                (
                    PresentationDataValue(3, True, False, store[:20]),
                    PresentationDataValue(1, True, True, echo),
                )
            )
        )
    )
    answer, _ = peer.until_closed()
    peer.close()
    assert answer == abort_provider(5)
    healthy(node)


# -- association negotiation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "title", "expected"),
    [
        ("calling", b"BAD\\TITLE", reject(1, 1, 3)),
        ("calling", b"BAD\x01TITLE", reject(1, 1, 3)),
        ("called", b"DICOM\\WIRE", reject(1, 1, 7)),
        ("called", b"DICOM\x1bWIRE", reject(1, 1, 7)),
    ],
)
def test_illegal_ae_title_characters_are_rejected(
    node: Any, field: str, title: bytes, expected: bytes
) -> None:
    """PS3.5 6.2: an AE title may not hold "\\" or control characters; such a
    title names no AE, so the answer is A-ASSOCIATE-RJ with "calling (3) /
    called (7) AE title not recognized" (PS3.8 Table 9-21)."""
    peer = RawPeer(node)
    peer.send(with_title(field, title))
    assert peer.recv_pdu_bytes() == expected
    answer, waited = peer.until_closed()  # Sta13: ARTIM closes if we do not
    peer.close()
    assert answer == b"" and waited < ARTIM + 1.5
    healthy(node)


def test_non_ascii_ae_title_is_an_invalid_pdu(node: Any) -> None:
    """Bytes outside ISO 646 do not decode at all: AA-1 like any invalid PDU."""
    peer = RawPeer(node)
    peer.send(with_title("calling", "ÄRGER".encode("latin-1")))
    answer, _ = peer.until_closed()
    peer.close()
    assert answer == ABORT_USER
    healthy(node)


def test_one_hundred_twenty_eight_contexts(node: Any) -> None:
    """The most an A-ASSOCIATE-RQ can carry with distinct IDs (odd, 1..255)."""
    syntaxes = [VERIFICATION, CT, "1.2.3.999"]
    contexts = tuple(
        PresentationContextRQ(2 * i + 1, syntaxes[i % 3], (IMPLICIT,)) for i in range(128)
    )
    peer = RawPeer(node)
    answer = peer.associate(associate_rq(contexts=contexts))
    results = {pc.context_id: pc.result for pc in answer.presentation_contexts}
    assert len(results) == 128
    assert all((results[2 * i + 1] == 0) == (i % 3 != 2) for i in range(128))
    assert results[2 * 127 + 1] == 0 or 127 % 3 == 2
    assert peer.echo() == 0x0000
    peer.release()
    peer.close()
    healthy(node)


def test_hundreds_of_contexts_with_repeated_ids(node: Any) -> None:
    """300 items cannot have distinct IDs: every repeated ID is refused, the rest work."""
    repeated = [2 * k + 1 for k in range(100)]  # 1..199: twice or three times
    ids = repeated * 2 + repeated[:72] + [2 * k + 1 for k in range(100, 128)]
    assert len(ids) == 300
    contexts = tuple(PresentationContextRQ(cid, VERIFICATION, (IMPLICIT,)) for cid in ids)
    peer = RawPeer(node)
    answer = peer.associate(associate_rq(contexts=contexts))
    assert len(answer.presentation_contexts) == 300
    counts: dict[int, int] = {}
    for pc in contexts:
        counts[pc.context_id] = counts.get(pc.context_id, 0) + 1
    for item in answer.presentation_contexts:
        assert (item.result == 0) == (counts[item.context_id] == 1)
    unique = min(cid for cid, n in counts.items() if n == 1)
    peer.send_message(unique, encode_command(C_ECHO_RQ(5, VERIFICATION)))
    response, _ = peer.recv_message()
    assert response.Status == 0x0000
    peer.send_message(1, encode_command(C_ECHO_RQ(6, VERIFICATION)))  # a refused ID
    answer_bytes, _ = peer.until_closed()
    peer.close()
    assert answer_bytes == abort_provider(5)
    healthy(node)


# -- DIMSE: bad data sets get a failure status, the association goes on ----------------


def test_unparsable_data_set_gets_a_failure_status(node: Any) -> None:
    peer = RawPeer(node)
    peer.associate()
    command = encode_command(C_STORE_RQ(7, CT, "1.2.826.0.1.3680043.8.498.77", 0))
    # A tag whose length runs far past the end, then garbage.
    garbage = struct.pack("<HHI", 0x0008, 0x0016, 0xFFFF0000) + bytes(range(256)) * 3
    peer.send_message(3, command, garbage)
    response, _ = peer.recv_message()
    assert response.MessageIDBeingRespondedTo == 7
    assert 0xC000 <= response.Status <= 0xCFFF or response.Status == 0xA900
    assert peer.echo() == 0x0000  # the association goes on
    peer.release()
    peer.close()
    healthy(node)


def test_identifier_with_wrong_vrs_gets_a_failure_status_or_no_match(node: Any) -> None:
    """Elements encoded with another VR's value (Implicit VR: the VR comes from
    the dictionary, so the bytes are read as the wrong type)."""
    identifier = (
        struct.pack("<HHI", 0x0008, 0x0052, 8) + b"PATIENT "
        # Patient's Birth Date (DA) holding 6 binary bytes.
        + struct.pack("<HHI", 0x0010, 0x0030, 6) + b"\xff\x00\x13\x37\x00\x01"
        # Patient ID (LO) with an odd length and a NUL.
        + struct.pack("<HHI", 0x0010, 0x0020, 3) + b"A\x00B"
        # Number of Patient Related Studies (IS) holding a long binary value.
        + struct.pack("<HHI", 0x0020, 0x1200, 4) + b"\x01\x02\x03\x04"
    )  # fmt: skip
    peer = RawPeer(node)
    peer.associate()
    peer.send_message(5, encode_command(C_FIND_RQ(11, FIND, 2)), identifier)
    statuses = []
    while True:
        response, _ = peer.recv_message()
        assert response.MessageIDBeingRespondedTo == 11
        statuses.append(int(response.Status))
        if response.Status not in (0xFF00, 0xFF01):
            break
    final = statuses[-1]
    assert final == 0x0000 or final == 0xA900 or 0xC000 <= final <= 0xCFFF
    assert peer.echo() == 0x0000
    peer.release()
    peer.close()
    healthy(node)


# -- slow and silent peers ----------------------------------------------------------------


def timed_echo(node: Any) -> float:
    started = time.monotonic()
    ae = AE("PARALLEL")
    ae.add_requested_context(Verification)
    assoc = ae.associate(LOCAL, node.config.port, ae_title=NODE_AET)
    assert assoc.send_c_echo().Status == 0x0000
    assoc.release()
    return time.monotonic() - started


def test_silent_client_is_freed_by_artim(node: Any) -> None:
    peer = RawPeer(node)
    assert timed_echo(node) < 2.0  # while it sits there
    answer, waited = peer.until_closed()
    peer.close()
    assert answer == b""
    assert waited < ARTIM + 1.5
    healthy(node)


def _trickle(peer: RawPeer, data: bytes, interval: float, stop: threading.Event) -> None:
    for byte in data:
        if stop.wait(interval):
            return
        try:
            peer.send(bytes([byte]))
        except OSError:
            return


def test_trickling_associate_rq_is_freed_by_artim(node: Any) -> None:
    """One byte every 0.5 s of a valid A-ASSOCIATE-RQ: ARTIM is not restarted by bytes."""
    peer = RawPeer(node)
    stop = threading.Event()
    thread = threading.Thread(
        target=_trickle, args=(peer, encode_pdu(associate_rq()), 0.5, stop), daemon=True
    )
    thread.start()
    try:
        assert timed_echo(node) < 2.0
        answer, waited = peer.until_closed()
        assert answer == b"" and waited < ARTIM + 1.5
    finally:
        stop.set()
        thread.join()
        peer.close()
    healthy(node)


def test_trickling_pdata_is_freed_by_timeout(node: Any) -> None:
    """Associated, then a C-ECHO-RQ sent one byte every 0.5 s."""
    peer = RawPeer(node)
    peer.associate()
    message = encode_pdu(
        P_DATA_TF(
            (PresentationDataValue(1, True, True, encode_command(C_ECHO_RQ(1, VERIFICATION))),)
        )
    )
    stop = threading.Event()
    thread = threading.Thread(target=_trickle, args=(peer, message * 20, 0.5, stop), daemon=True)
    thread.start()
    try:
        assert timed_echo(node) < 2.0
        answer, waited = peer.until_closed()
        # Bytes that complete no PDU do not restart the network timeout:
        # A-ABORT (provider, reason not specified) once it expires.
        assert answer == abort_provider(0)
        assert waited < NETWORK + 1.5
    finally:
        stop.set()
        thread.join()
        peer.close()
    healthy(node)


def _wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_client_that_stops_reading_is_dropped_by_the_send_timeout(
    node: Any, tmp_path: Path
) -> None:
    """A C-GET of a 24 MiB instance whose requestor never reads: the node's
    send blocks on full buffers; the bounded send timeout ends that
    association while others are served as usual."""
    big = tmp_path / "big.dcm"
    ds = peers.write_large_ct(big, 24, transfer_syntax="1.2.840.10008.1.2")
    ds.PatientID = "STALL-1"
    ae = AE("LOADER")
    ae.add_requested_context(CTImageStorage, "1.2.840.10008.1.2")
    assoc = ae.associate(LOCAL, node.config.port, ae_title=NODE_AET)
    assert assoc.send_c_store(big).Status == 0x0000
    assoc.release()

    def stuck() -> bool:
        return any(a.requestor.ae_title == "STALLED" for a in node.server.active_associations)

    peer = RawPeer(node)
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    peer.associate(associate_rq(calling="STALLED", roles=(RoleSelection(CT, False, True),)))
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = ds.StudyInstanceUID
    started = time.monotonic()
    peer.send_message(7, encode_command(C_GET_RQ(3, GET, 2)), implicit(query))
    # Never read again. The node is stuck in a send; others are not slowed.
    assert stuck()
    assert timed_echo(node) < 2.0
    assert stuck()  # still blocked in its send, on its own thread
    assert _wait_for(lambda: not stuck(), NETWORK + 8)
    assert time.monotonic() - started >= NETWORK - 0.5  # ended by the timeout
    peer.close()
    healthy(node)


def test_abort_pdu_from_peer_ends_only_its_association(node: Any) -> None:
    peer = RawPeer(node)
    peer.associate()
    peer.send(encode_pdu(A_ABORT(0, 0)))
    answer, _ = peer.until_closed()
    peer.close()
    assert answer == b""
    healthy(node)


def test_rejected_association_is_answered_with_rj_pdu(node: Any) -> None:
    peer = RawPeer(node)
    rq = associate_rq()
    bad_app = A_ASSOCIATE_RQ(
        rq.called_ae_title, rq.calling_ae_title, rq.presentation_contexts,
        rq.user_information, application_context="1.2.3.4",
    )  # fmt: skip
    peer.send(encode_pdu(bad_app))
    pdu = peer.recv_pdu()
    peer.close()
    assert pdu == A_ASSOCIATE_RJ(1, 1, 2)
