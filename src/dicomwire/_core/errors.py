"""One error hierarchy for the protocol core.

Errors are split by who is at fault. A *remote* error is the peer breaking
PS3.8/PS3.7: it knows the A-ABORT (PS3.8 section 9.3.8) it provokes, so a
driver can put it on the wire without knowing what went wrong. A *local*
error is a misuse of the API by this process and never reaches the wire.
"""

from __future__ import annotations

from enum import IntEnum


class AbortSource(IntEnum):
    """A-ABORT source field values (PS3.8 Table 9-26)."""

    SERVICE_USER = 0
    RESERVED = 1
    SERVICE_PROVIDER = 2


class AbortReason(IntEnum):
    """A-ABORT reason/diag values when the source is the provider (PS3.8 Table 9-26)."""

    NOT_SPECIFIED = 0
    UNRECOGNIZED_PDU = 1
    UNEXPECTED_PDU = 2
    RESERVED = 3
    UNRECOGNIZED_PDU_PARAMETER = 4
    UNEXPECTED_PDU_PARAMETER = 5
    INVALID_PDU_PARAMETER_VALUE = 6


class DicomwireError(Exception):
    """Base of every error dicomwire raises on purpose."""


class LocalError(DicomwireError):
    """This process used the API wrongly; nothing is sent to the peer."""


class RemoteError(DicomwireError):
    """The peer sent something the standard does not allow."""


class ProtocolError(RemoteError):
    """A PS3.8 violation that ends the association with an A-ABORT.

    ``source`` and ``reason`` are the values of the A-ABORT PDU that the
    violation provokes (PS3.8 section 9.3.8).
    """

    def __init__(
        self,
        message: str,
        *,
        source: int = AbortSource.SERVICE_PROVIDER,
        reason: int = AbortReason.INVALID_PDU_PARAMETER_VALUE,
    ) -> None:
        super().__init__(message)
        self.source = int(source)
        self.reason = int(reason)


class PDUError(ProtocolError):
    """A PDU that cannot be decoded: wrong type, length or item structure."""


class PDUTooLarge(PDUError):
    """A length field exceeds the configured maximum; nothing was allocated."""


class DIMSEError(RemoteError):
    """A DIMSE message (command set or fragment sequence) is malformed (PS3.7)."""


class StateError(LocalError):
    """A primitive was issued in a state where PS3.8 Table 9-10 forbids it."""
