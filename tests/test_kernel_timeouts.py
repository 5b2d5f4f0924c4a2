"""The link waits with the kernel's receive timeout (SO_RCVTIMEO), not poll()."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dicomwire._core.connection import Connection, ConnectionConfig, Role
from dicomwire.association.link import Link
from dicomwire.dimse.fragment import Reassembler
from dicomwire.transport.tcp import set_kernel_timeout

TIMEVAL = struct.Struct("@ll")


def kernel_timeout(sock: socket.socket, option: int) -> tuple[int, int]:
    return TIMEVAL.unpack(sock.getsockopt(socket.SOL_SOCKET, option, TIMEVAL.size))


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_set_kernel_timeout_round_trips(pair: tuple[socket.socket, socket.socket]) -> None:
    sock = pair[0]
    set_kernel_timeout(sock, socket.SO_RCVTIMEO, 2.5)
    assert kernel_timeout(sock, socket.SO_RCVTIMEO) == (2, 500_000)
    set_kernel_timeout(sock, socket.SO_RCVTIMEO, 1e-9)  # never 0: that means for ever
    assert kernel_timeout(sock, socket.SO_RCVTIMEO) != (0, 0)  # rounded up to a tick
    set_kernel_timeout(sock, socket.SO_RCVTIMEO, None)
    assert kernel_timeout(sock, socket.SO_RCVTIMEO) == (0, 0)


def make_link(sock: socket.socket, network_timeout: float | None) -> Link:
    config = ConnectionConfig(network_timeout=network_timeout)
    return Link(sock, Connection(Role.ACCEPTOR, config), Reassembler(1000))


def test_link_keeps_a_plain_socket_blocking_with_a_send_timeout(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    sock = pair[0]
    make_link(sock, 7.0)
    assert sock.gettimeout() is None and sock.getblocking()
    assert kernel_timeout(sock, socket.SO_SNDTIMEO) == (7, 0)
    other = pair[1]
    make_link(other, None)  # no network timeout: sends wait for ever
    assert kernel_timeout(other, socket.SO_SNDTIMEO) == (0, 0)


def test_receive_timeout_is_set_only_when_it_would_end_the_wait_late_or_too_early(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float | None] = []

    def counting(sock: socket.socket, option: int, seconds: float | None) -> None:
        if option == socket.SO_RCVTIMEO:
            calls.append(seconds)
        set_kernel_timeout(sock, option, seconds)

    monkeypatch.setattr("dicomwire.association.link.set_kernel_timeout", counting)
    link: Any = make_link(pair[0], None)
    assert calls == []  # a new socket already waits for ever
    assert kernel_timeout(pair[0], socket.SO_RCVTIMEO) == (0, 0)
    link._set_receive_timeout(120.0)
    for wanted in (119.9999, 120.0001, 119.5, 200.0):  # the idle timer's drift
        link._set_receive_timeout(wanted)
    assert calls == [120.0]
    link._set_receive_timeout(30.0)  # the wait would end 90 s late
    link._set_receive_timeout(70.0)  # more than twice as long: too many early ends
    link._set_receive_timeout(None)
    link._set_receive_timeout(None)
    assert calls == [120.0, 30.0, 70.0, None]


def test_read_once_ends_at_its_deadline_and_then_takes_data(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    link = make_link(ours, None)
    started = time.monotonic()
    assert link.read_once(started + 0.2) is False  # nothing came: the deadline passed
    assert 0.15 <= time.monotonic() - started < 5
    theirs.sendall(bytes([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]))  # an A-RELEASE-RQ
    started = time.monotonic()
    assert link.read_once(started + 30) is True  # back as soon as bytes came
    assert time.monotonic() - started < 5


def test_read_nowait_does_not_block(pair: tuple[socket.socket, socket.socket]) -> None:
    link = make_link(pair[0], None)
    # Were the read to block, this would end it (and fail the test) in 2 s.
    set_kernel_timeout(pair[0], socket.SO_RCVTIMEO, 2.0)
    started = time.monotonic()
    link.read_nowait()
    assert time.monotonic() - started < 1
    assert not link.closed
