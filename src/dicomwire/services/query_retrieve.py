"""The SCP side of C-FIND, C-GET and C-MOVE for every service class that uses them.

Entry points for the dispatcher (``services.dispatch``); ``service`` is the
status-table key of the service class (``dimse.status.STATUS_TABLES``,
chosen with ``sop_class.uid_to_service_class``):

* :func:`serve_c_find` (PS3.7 9.1.2): Query/Retrieve (PS3.4 C), Modality
  Worklist (K), Relevant Patient Information (Q), Substance Administration
  (V) and the FIND of Hanging Protocol (U), Color Palette (X), Implant
  Template (BB) and Defined Procedure Protocol (HH);
* :func:`serve_c_get` (PS3.7 9.1.3): sub-operations on the same
  association, Composite Instance Retrieve Without Bulk Data (PS3.4 Z);
* :func:`serve_c_move` (PS3.7 9.1.4): sub-operations on an association
  with the Move Destination.

The work is split over :mod:`.qr_common`, :mod:`.qr_find`,
:mod:`.qr_retrieve` and :mod:`.qr_move`.
"""

from __future__ import annotations

from .qr_find import serve_c_find
from .qr_move import serve_c_move
from .qr_retrieve import serve_c_get

__all__ = ["serve_c_find", "serve_c_get", "serve_c_move"]
