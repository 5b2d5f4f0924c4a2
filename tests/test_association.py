"""dicomwire <-> dicomwire over real sockets on 127.0.0.1.

Echo and store (small, streamed from a file, converted, spooled past the
threshold), every status rule of the Storage SCP, rejection, release,
abort and the timeouts.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)

import peers
from dicomwire import AE, build_context, evt
from dicomwire.sop_class import CTImageStorage, MRImageStorage, Verification

LOCAL = "127.0.0.1"


class Server:
    """A dicomwire SCP on a free port, recording what it receives."""

    def __init__(self, ae: AE, handlers: list[Any]) -> None:
        self.ae = ae
        self.port = peers.free_port()
        self.server = ae.start_server((LOCAL, self.port), block=False, evt_handlers=handlers)

    def close(self) -> None:
        assert self.server is not None
        self.server.shutdown()


@pytest.fixture
def make_server() -> Iterator[Any]:
    servers: list[Server] = []

    def factory(handlers: list[Any] | None = None, **settings: Any) -> Server:
        ae = AE("STORE-SCP")
        ae.add_supported_context(Verification)
        ae.add_supported_context(CTImageStorage, [ImplicitVRLittleEndian, ExplicitVRLittleEndian])
        for key, value in settings.items():
            setattr(ae, key, value)
        server = Server(ae, handlers or [])
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.close()


def scu(**settings: Any) -> AE:
    ae = AE("STORE-SCU")
    ae.add_requested_context(Verification)
    ae.add_requested_context(CTImageStorage)
    for key, value in settings.items():
        setattr(ae, key, value)
    return ae


def keep(store: list[Any], status: Any = 0x0000) -> Any:
    def handler(event: Any) -> Any:
        store.append(
            {
                "data": event.encoded_dataset(),
                "meta": event.file_meta,
                "context": event.context,
                "path": event.dataset_path,
                "calling": event.assoc.requestor.ae_title,
            }
        )
        return status

    return handler


# -- Verification -------------------------------------------------------------


def test_echo_and_release_with_notifications(make_server: Any) -> None:
    seen: list[str] = []
    handlers = [
        (ev, lambda e: seen.append(e.event.name))
        for ev in (evt.EVT_CONN_OPEN, evt.EVT_ESTABLISHED, evt.EVT_RELEASED, evt.EVT_CONN_CLOSE)
    ]
    server = make_server(handlers)
    assoc = scu().associate(LOCAL, server.port, ae_title="STORE-SCP")
    assert assoc.is_established
    assert [str(cx.abstract_syntax) for cx in assoc.accepted_contexts] == [
        Verification,
        CTImageStorage,
    ]
    status = assoc.send_c_echo()
    assert status.Status == 0x0000
    assoc.release()
    assert assoc.is_released and not assoc.is_established
    _wait_for(lambda: "EVT_CONN_CLOSE" in seen)
    assert seen == ["EVT_CONN_OPEN", "EVT_ESTABLISHED", "EVT_RELEASED", "EVT_CONN_CLOSE"]


def test_pdu_and_dimse_notifications_on_both_sides(make_server: Any) -> None:
    server_seen: list[str] = []
    client_seen: list[str] = []

    def recorder(log: list[str]) -> list[Any]:
        def name(event: Any) -> str:
            item = getattr(event, "pdu", None) or getattr(event, "message", None)
            return f"{event.event.name}:{type(item).__name__}"

        return [
            (ev, lambda e: log.append(name(e)))
            for ev in (evt.EVT_PDU_RECV, evt.EVT_PDU_SENT, evt.EVT_DIMSE_RECV, evt.EVT_DIMSE_SENT)
        ]

    server = make_server(recorder(server_seen))
    assoc = scu().associate(LOCAL, server.port, evt_handlers=recorder(client_seen))
    assoc.send_c_echo()
    assoc.release()
    _wait_for(lambda: "EVT_PDU_SENT:A_RELEASE_RP" in server_seen)
    assert client_seen == [
        "EVT_PDU_SENT:A_ASSOCIATE_RQ",
        "EVT_PDU_RECV:A_ASSOCIATE_AC",
        "EVT_PDU_SENT:P_DATA_TF",
        "EVT_DIMSE_SENT:C_ECHO_RQ",
        "EVT_PDU_RECV:P_DATA_TF",
        "EVT_DIMSE_RECV:C_ECHO_RSP",
        "EVT_PDU_SENT:A_RELEASE_RQ",
        "EVT_PDU_RECV:A_RELEASE_RP",
    ]
    assert server_seen == [
        "EVT_PDU_RECV:A_ASSOCIATE_RQ",
        "EVT_PDU_SENT:A_ASSOCIATE_AC",
        "EVT_PDU_RECV:P_DATA_TF",
        "EVT_DIMSE_RECV:C_ECHO_RQ",
        "EVT_PDU_SENT:P_DATA_TF",
        "EVT_DIMSE_SENT:C_ECHO_RSP",
        "EVT_PDU_RECV:A_RELEASE_RQ",
        "EVT_PDU_SENT:A_RELEASE_RP",
    ]


def test_echo_handler_status_and_failure_answers_success(make_server: Any) -> None:
    answers = iter([0x0122, "nonsense", Dataset()])

    def handle_echo(event: Any) -> Any:
        answer = next(answers)
        return answer

    server = make_server([(evt.EVT_C_ECHO, handle_echo)])
    assoc = scu().associate(LOCAL, server.port)
    assert assoc.send_c_echo().Status == 0x0122
    # A wrong type or a Dataset without Status: C-ECHO still answers Success.
    assert assoc.send_c_echo().Status == 0x0000
    assert assoc.send_c_echo().Status == 0x0000
    assoc.release()


# -- Storage --------------------------------------------------------------------


def test_store_dataset_bit_for_bit(make_server: Any, tmp_path: Path) -> None:
    received: list[Any] = []
    server = make_server([(evt.EVT_C_STORE, keep(received))])
    ds = peers.make_ct(tmp_path / "ct.dcm", size_bytes=100_000)
    assoc = scu().associate(LOCAL, server.port)
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0x0000
    (got,) = received
    assert got["calling"] == "STORE-SCU"
    assert got["meta"].MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert got["meta"].TransferSyntaxUID == got["context"].transfer_syntax
    decoded = _decode(got["data"], got["context"].transfer_syntax)
    assert peers.element_differences(ds, decoded) == []


def test_store_file_streams_as_is(make_server: Any, tmp_path: Path) -> None:
    received: list[Any] = []
    server = make_server([(evt.EVT_C_STORE, keep(received))])
    path = tmp_path / "ct.dcm"
    peers.make_ct(path, size_bytes=300_000, transfer_syntax=ExplicitVRLittleEndian)
    ae = AE("STORE-SCU")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate(LOCAL, server.port)
    assert assoc.send_c_store(str(path)).Status == 0x0000
    assoc.release()
    (got,) = received
    assert got["context"].transfer_syntax == ExplicitVRLittleEndian
    assert got["data"] == path.read_bytes()[peers.dataset_offset(path) :]


def test_store_file_converted_between_uncompressed_syntaxes(
    make_server: Any, tmp_path: Path
) -> None:
    received: list[Any] = []
    server = make_server([(evt.EVT_C_STORE, keep(received))])
    path = tmp_path / "ct.dcm"
    ds = peers.make_ct(path, size_bytes=50_000, transfer_syntax=ExplicitVRLittleEndian)
    ae = AE("STORE-SCU")
    ae.add_requested_context(CTImageStorage, ImplicitVRLittleEndian)
    assoc = ae.associate(LOCAL, server.port)
    assert assoc.send_c_store(path).Status == 0x0000
    assoc.release()
    (got,) = received
    assert got["context"].transfer_syntax == ImplicitVRLittleEndian
    assert peers.element_differences(ds, _decode(got["data"], ImplicitVRLittleEndian)) == []


def test_store_without_a_usable_context_fails_clearly(make_server: Any, tmp_path: Path) -> None:
    server = make_server()
    path = tmp_path / "ct.dcm"
    peers.make_ct(path, size_bytes=1000)
    # Pretend the file is JPEG: no accepted context can carry it as-is,
    # and a compressed instance cannot be converted.
    data = bytearray(path.read_bytes())
    index = data.index(ExplicitVRLittleEndian.encode())
    data[index : index + 22] = JPEGBaseline8Bit.encode()
    path.write_bytes(bytes(data))
    assoc = scu().associate(LOCAL, server.port)
    with pytest.raises(ValueError, match="no accepted presentation context"):
        assoc.send_c_store(path)
    mr = peers.make_ct(size_bytes=1000, SOPClassUID=MRImageStorage)
    with pytest.raises(ValueError, match=str(MRImageStorage)):
        assoc.send_c_store(mr)
    assert assoc.is_established  # a local refusal leaves the association usable
    assoc.release()


def test_large_instance_is_spooled_and_streamed(make_server: Any, tmp_path: Path) -> None:
    digests: list[tuple[str, int, bool]] = []

    def handle_store(event: Any) -> int:
        path = event.dataset_path
        assert path is not None and os.path.exists(path)
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        digests.append((digest.hexdigest(), os.path.getsize(path), event._data is None))
        return 0x0000

    server = make_server([(evt.EVT_C_STORE, handle_store)], spool_threshold=8 << 20)
    path = tmp_path / "big.dcm"
    peers.write_large_ct(path, size_mib=200)
    ae = AE("STORE-SCU")
    ae.dimse_timeout = 120
    # Proposing the file's own transfer syntax lets it stream as it is.
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate(LOCAL, server.port, max_pdu=1 << 20)
    assert assoc.send_c_store(path).Status == 0x0000
    assoc.release()
    offset = peers.dataset_offset(path)
    expected = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(offset)
        while chunk := fh.read(1 << 20):
            expected.update(chunk)
    assert digests == [(expected.hexdigest(), path.stat().st_size - offset, True)]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (0x0000, 0x0000),
        (0xB000, 0xB000),
        (0xA700, 0xA700),
        (0x1234, 0x1234),  # unknown: passed on, with a warning
        ("nope", 0xC002),  # wrong type
        (Dataset(), 0xC001),  # Dataset without Status
        (RuntimeError("boom"), 0xC211),  # the handler raised
    ],
)
def test_store_status_rules(make_server: Any, answer: Any, status: int) -> None:
    def handle_store(event: Any) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    server = make_server([(evt.EVT_C_STORE, handle_store)])
    assoc = scu().associate(LOCAL, server.port)
    assert assoc.send_c_store(peers.make_ct(size_bytes=1000)).Status == status
    assoc.release()


def test_store_status_dataset_fields(make_server: Any) -> None:
    def handle_store(event: Any) -> Dataset:
        ds = Dataset()
        ds.Status = 0xB007
        ds.ErrorComment = "coerced"
        return ds

    server = make_server([(evt.EVT_C_STORE, handle_store)])
    assoc = scu().associate(LOCAL, server.port)
    status = assoc.send_c_store(peers.make_ct(size_bytes=1000))
    assoc.release()
    assert (status.Status, status.ErrorComment) == (0xB007, "coerced")


def test_undecodable_data_set_is_0xC210(make_server: Any) -> None:
    def handle_store(event: Any) -> int:
        assert event.dataset is not None  # decoding fails: the service answers 0xC210
        return 0x0000

    server = make_server([(evt.EVT_C_STORE, handle_store)])
    assoc = scu().associate(LOCAL, server.port)
    context_id = assoc.accepted_contexts[1].context_id
    from dicomwire.dimse.commands import C_STORE_RQ
    from dicomwire.services.base import exchange

    request = C_STORE_RQ(
        MessageID=7,
        AffectedSOPClassUID=CTImageStorage,
        AffectedSOPInstanceUID="1.2.3.4",
        Priority=0,
    )
    # An element claiming 0x1000 bytes where only 4 follow.
    garbage = b"\x10\x00\x10\x00\x00\x10\x00\x00abcd"
    response = exchange(assoc, context_id, request, garbage)
    assoc.release()
    assert response is not None
    assert response.command.Status == 0xC210


def test_no_store_handler_refuses_instead_of_dropping(make_server: Any) -> None:
    server = make_server()
    assoc = scu().associate(LOCAL, server.port)
    assert assoc.send_c_store(peers.make_ct(size_bytes=1000)).Status == 0xC211
    assoc.release()


# -- Association control ------------------------------------------------------


def test_rejections(make_server: Any) -> None:
    server = make_server(require_called_aet=True, require_calling_aet=["FRIEND"])
    assoc = scu().associate(LOCAL, server.port, ae_title="WRONG")
    assert assoc.is_rejected and assoc.rejection == (1, 1, 7)
    assoc = scu().associate(LOCAL, server.port, ae_title="STORE-SCP")
    assert assoc.is_rejected and assoc.rejection == (1, 1, 3)
    friend = scu()
    friend.ae_title = b"FRIEND"
    assoc = friend.associate(LOCAL, server.port, ae_title="STORE-SCP")
    assert assoc.is_established
    assoc.release()


def test_maximum_associations_rejects_transiently(make_server: Any) -> None:
    server = make_server(maximum_associations=1)
    first = scu().associate(LOCAL, server.port)
    assert first.is_established
    second = scu().associate(LOCAL, server.port)
    assert second.is_rejected and second.rejection == (2, 3, 2)
    first.release()
    _wait_for(lambda: not server.server.active_associations)
    third = scu().associate(LOCAL, server.port)
    assert third.is_established
    third.release()


def test_unsupported_contexts_are_rejected_individually(make_server: Any) -> None:
    server = make_server()
    contexts = [build_context(MRImageStorage), build_context(Verification)]
    assoc = scu().associate(LOCAL, server.port, contexts=contexts)
    assert assoc.is_established
    assert [str(cx.abstract_syntax) for cx in assoc.accepted_contexts] == [Verification]
    assert [cx.result for cx in assoc.rejected_contexts] == [3]
    assoc.release()


def test_abort_by_requestor_is_seen_by_acceptor(make_server: Any) -> None:
    aborted = threading.Event()
    server = make_server([(evt.EVT_ABORTED, lambda e: aborted.set())])
    assoc = scu().associate(LOCAL, server.port)
    assoc.abort()
    assert assoc.is_aborted
    assert aborted.wait(5)


def test_abort_by_acceptor_ends_the_request(make_server: Any) -> None:
    def handle_store(event: Any) -> int:
        event.assoc.abort()
        return 0x0000

    server = make_server([(evt.EVT_C_STORE, handle_store)])
    assoc = scu().associate(LOCAL, server.port)
    status = assoc.send_c_store(peers.make_ct(size_bytes=1000))
    assert not status and assoc.is_aborted


def test_dimse_timeout_aborts(make_server: Any) -> None:
    release = threading.Event()

    def slow(event: Any) -> int:
        release.wait(10)
        return 0x0000

    server = make_server([(evt.EVT_C_ECHO, slow)])
    assoc = scu(dimse_timeout=0.3).associate(LOCAL, server.port)
    started = time.monotonic()
    assert not assoc.send_c_echo()
    assert time.monotonic() - started < 5
    assert assoc.is_aborted
    release.set()


def test_acse_timeout_when_the_peer_never_answers() -> None:
    listener = socket.socket()
    listener.bind((LOCAL, 0))
    listener.listen(1)
    try:
        assoc = scu(acse_timeout=0.3).associate(LOCAL, listener.getsockname()[1])
        assert assoc.is_aborted and not assoc.is_established
        assert "ACSE" in assoc.abort_reason
    finally:
        listener.close()


def test_connection_refused_is_aborted() -> None:
    assoc = scu().associate(LOCAL, peers.free_port())
    assert assoc.is_aborted and "refused" in assoc.abort_reason.lower()


def test_silent_peer_is_dropped_by_artim(make_server: Any) -> None:
    server = make_server(acse_timeout=0.3)
    with socket.create_connection((LOCAL, server.port)) as sock:
        sock.settimeout(5)
        assert sock.recv(10) == b""  # the server closes: no A-ASSOCIATE-RQ came


def test_garbage_gets_an_abort_and_the_server_goes_on(make_server: Any) -> None:
    server = make_server()
    with socket.create_connection((LOCAL, server.port)) as sock:
        sock.settimeout(5)
        sock.sendall(b"\x09\x00\x00\x00\x00\x04abcd")  # PDU type 9 does not exist
        answer = sock.recv(100)
    assert answer[:1] == b"\x07"  # A-ABORT
    assoc = scu().associate(LOCAL, server.port)
    assert assoc.send_c_echo().Status == 0
    assoc.release()


def test_tls_association(tmp_path: Path) -> None:
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    ae = AE("TLS-SCP")
    ae.add_supported_context(Verification)
    port = peers.free_port()
    server = ae.start_server((LOCAL, port), block=False, ssl_context=server_ctx)
    assert server is not None
    try:
        assoc = scu().associate(LOCAL, port, tls_args=(client_ctx, "localhost"))
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assoc.release()
        # A client that does not trust the certificate never gets an association.
        untrusting = ssl.create_default_context()
        assoc = scu().associate(LOCAL, port, tls_args=(untrusting, "localhost"))
        assert assoc.is_aborted and "TLS" in assoc.abort_reason
    finally:
        server.shutdown()


# -- helpers ------------------------------------------------------------------------


def _decode(data: bytes, syntax: str) -> Dataset:
    from pydicom.uid import UID

    from dicomwire.events import decode_dataset

    return decode_dataset(data, UID(syntax))


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_stop_accepting_lets_running_associations_finish(make_server: Any) -> None:
    server = make_server()
    running = scu().associate(LOCAL, server.port)
    assert running.is_established
    server.server.stop_accepting()
    assert scu().associate(LOCAL, server.port).is_aborted  # nobody listens any more
    assert running.send_c_echo().Status == 0  # the running one is untouched
    assert not server.server.wait(0.2)  # still open
    running.release()
    assert server.server.wait(5)


def test_accept_delay_sends_associations_to_the_less_busy_server() -> None:
    """``accept_delay``: a server already running an association lets an idle one
    on the same socket take the next (``dicomwire serve --workers`` balancing)."""
    shared = socket.socket()
    shared.bind((LOCAL, 0))
    shared.listen()
    port = shared.getsockname()[1]

    def make(title: str, sock: socket.socket) -> Any:
        ae = AE(title)
        ae.add_supported_context(Verification)
        # 20 ms per running association: under the 50 ms cap for up to two.
        return ae.start_server((LOCAL, port), block=False, listen_socket=sock,
                               accept_delay=0.02)  # fmt: skip

    servers = [make("FIRST", shared), make("SECOND", socket.socket(fileno=os.dup(shared.fileno())))]
    requestor = AE("SCU")
    requestor.add_requested_context(Verification)
    held = []
    try:
        for _ in range(4):
            assoc = requestor.associate(LOCAL, port)
            assert assoc.is_established
            held.append(assoc)
            counts = sorted(len(server.active_associations) for server in servers)
            assert counts[1] - counts[0] <= 1, counts  # never two more on one server
        assert sorted(len(server.active_associations) for server in servers) == [2, 2]
    finally:
        for assoc in held:
            assoc.release()
        for server in servers:
            server.shutdown()


def test_servers_share_a_listening_socket() -> None:
    """``start_server(listen_socket=...)``: two servers accept on one socket, as the
    workers of ``dicomwire serve --workers`` do (each with its own descriptor)."""
    shared = socket.socket()
    shared.bind((LOCAL, 0))
    shared.listen()
    port = shared.getsockname()[1]
    served: list[str] = []

    def make(title: str, sock: socket.socket) -> Any:
        ae = AE(title)
        ae.add_supported_context(Verification)
        handler = (evt.EVT_C_ECHO, lambda event: served.append(title) or 0x0000)
        return ae.start_server((LOCAL, port), block=False, evt_handlers=[handler],
                               listen_socket=sock)  # fmt: skip

    first = make("FIRST", shared)
    second = make("SECOND", socket.socket(fileno=os.dup(shared.fileno())))
    assert first.server_address == second.server_address == (LOCAL, port)
    requestor = AE("SCU")
    requestor.add_requested_context(Verification)

    def echo() -> int:
        assoc = requestor.associate(LOCAL, port)
        assert assoc.is_established
        status = assoc.send_c_echo()
        assoc.release()
        return int(status.Status)

    try:
        assert [echo() for _ in range(6)] == [0] * 6
        first.shutdown()  # the other server's descriptor keeps the socket open
        assert [echo() for _ in range(3)] == [0] * 3
        assert served[-3:] == ["SECOND"] * 3
    finally:
        first.shutdown()
        second.shutdown()
