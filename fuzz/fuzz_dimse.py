"""Atheris target: DIMSE command decoding and PDV reassembly.

The input is read as a sequence of PDVs (context ID, message control
header, length-prefixed data). Feeding them to a ``Reassembler`` must give
messages or raise ``DIMSEError``; nothing else may escape, and no spool
file may be left behind. Run: see fuzz/README.md.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from dicomwire._core.errors import DIMSEError
    from dicomwire.dimse.commands import decode_command
    from dicomwire.dimse.fragment import Reassembler

SPOOL = tempfile.mkdtemp(prefix="dicomwire-fuzz-")


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    with contextlib.suppress(DIMSEError):
        decode_command(data)
    reassembler = Reassembler(fdp.ConsumeIntInRange(0, 256), SPOOL, max_command_length=4096)
    while fdp.remaining_bytes():
        context = fdp.ConsumeIntInRange(1, 4)
        control = fdp.ConsumeIntInRange(0, 3)
        fragment = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 512))
        try:
            message = reassembler.feed(context, bool(control & 1), bool(control & 2), fragment)
        except DIMSEError:
            assert not reassembler.in_progress
            continue
        if message is not None and message.data_set_path:
            assert os.path.getsize(message.data_set_path) == message.data_set_length
            os.unlink(message.data_set_path)
    reassembler.abort()
    assert not os.listdir(SPOOL)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
