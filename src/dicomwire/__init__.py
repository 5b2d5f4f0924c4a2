"""dicomwire: DICOM networking (PS3.7 DIMSE, PS3.8 Upper Layer) in Python.

The public API follows the Application Entity / event handler style that
users of pynetdicom know, so code written against it runs with its imports
changed::

    from dicomwire import AE, evt, StoragePresentationContexts
"""

from __future__ import annotations

import logging

from . import events as evt
from .ae import AE, IMPLEMENTATION_UID, IMPLEMENTATION_VERSION
from .association.association import Association
from .presentation import (
    AllStoragePresentationContexts,
    BasicWorklistManagementPresentationContexts,
    ColorPalettePresentationContexts,
    DefinedProcedurePresentationContexts,
    HangingProtocolPresentationContexts,
    ImplantTemplatePresentationContexts,
    NonPatientObjectPresentationContexts,
    PresentationContext,
    QueryRetrievePresentationContexts,
    RelevantPatientInformationPresentationContexts,
    StoragePresentationContexts,
    SubstanceAdministrationPresentationContexts,
    VerificationPresentationContexts,
    build_context,
    build_role,
)

__version__ = "0.1.0"

__all__ = [
    "AE",
    "IMPLEMENTATION_UID",
    "IMPLEMENTATION_VERSION",
    "AllStoragePresentationContexts",
    "Association",
    "BasicWorklistManagementPresentationContexts",
    "ColorPalettePresentationContexts",
    "DefinedProcedurePresentationContexts",
    "HangingProtocolPresentationContexts",
    "ImplantTemplatePresentationContexts",
    "NonPatientObjectPresentationContexts",
    "PresentationContext",
    "QueryRetrievePresentationContexts",
    "RelevantPatientInformationPresentationContexts",
    "StoragePresentationContexts",
    "SubstanceAdministrationPresentationContexts",
    "VerificationPresentationContexts",
    "build_context",
    "build_role",
    "debug_logger",
    "evt",
]

logging.getLogger("dicomwire").addHandler(logging.NullHandler())


def debug_logger() -> None:
    """Log everything dicomwire does to standard error (DEBUG level)."""
    logger = logging.getLogger("dicomwire")
    if not any(getattr(h, "_dicomwire", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname).1s: %(name)s: %(message)s"))
        handler._dicomwire = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
