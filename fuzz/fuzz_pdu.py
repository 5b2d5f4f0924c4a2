"""Atheris target: the PDU reader and the acceptor's protocol machine.

Any byte string, cut into pieces chosen by the fuzzer, must either decode
into PDUs or raise ``PDUError``; the sans-I/O acceptor must never raise on
received bytes at all. Run: see fuzz/README.md.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from dicomwire._core.connection import Connection, ConnectionConfig, Role
    from dicomwire._core.errors import PDUError
    from dicomwire._core.pdu import PDUReader, decode_pdu, encode_pdu

LIMIT = 1 << 16


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    chunk = fdp.ConsumeIntInRange(1, 64)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    reader = PDUReader(LIMIT, max_other_length=LIMIT)
    try:
        for start in range(0, len(stream), chunk):
            reader.feed(stream[start : start + chunk])
            while (pdu := reader.next_pdu()) is not None:
                try:
                    again = encode_pdu(pdu)
                except ValueError:
                    continue  # a decoded value the stricter encoder refuses
                assert decode_pdu(again) == pdu
            assert reader.bytes_buffered() <= LIMIT + 6 + chunk
    except PDUError:
        pass
    conn = Connection(Role.ACCEPTOR, ConnectionConfig(max_pdu_length=LIMIT))
    conn.transport_connected(0.0)
    conn.receive_data(stream, 0.0)
    conn.data_to_send()
    while conn.next_event() is not None:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
