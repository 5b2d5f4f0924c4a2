"""The raw loopback TCP reference: the same number of bytes, no DICOM at all.

``recv`` listens, reads everything into one reusable buffer until the sender
shuts its side down, answers one byte and prints its figures; ``send``
connects, writes ``--bytes`` from a 1 MiB buffer, waits for that byte and
prints ``{"event": "result", "elapsed": ...}`` (connect to answer, the same
span as a C-STORE from request to response)::

    python -m benchmarks.rawtcp recv --port 5000 &
    python -m benchmarks.rawtcp send --port 5000 --bytes 1073741824
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from .procs import emit, usage

CHUNK = 1 << 20


def receive(port: int) -> int:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(1)
        emit("ready", **usage())
        conn, _ = server.accept()
        with conn:
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            total = 0
            started = time.perf_counter()
            while True:
                n = conn.recv_into(view)
                if not n:
                    break
                total += n
            elapsed = time.perf_counter() - started
            conn.sendall(b"\x00")
    emit("done", bytes=total, elapsed=elapsed, **usage())
    return 0


def send(port: int, size: int) -> int:
    block = memoryview(bytes(CHUNK))
    cpu0 = usage()["cpu"]
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        sent = 0
        while sent < size:
            piece = block[: min(CHUNK, size - sent)]
            conn.sendall(piece)
            sent += len(piece)
        conn.shutdown(socket.SHUT_WR)
        answer = conn.recv(1)
    elapsed = time.perf_counter() - started
    ok = 1 if answer == b"\x00" else 0
    emit("result", ok=ok, errors=[] if ok else ["no answer"], elapsed=elapsed,
         cpu=usage()["cpu"] - cpu0, maxrss_kb=usage()["maxrss_kb"], bytes=sent, files=1,
         end=time.time())  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rawtcp", description=__doc__)
    parser.add_argument("role", choices=("send", "recv"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bytes", type=int, default=1 << 30)
    args = parser.parse_args(argv)
    return receive(args.port) if args.role == "recv" else send(args.port, args.bytes)


if __name__ == "__main__":
    sys.exit(main())
