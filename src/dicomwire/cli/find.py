"""``dicomwire find HOST PORT -k KEY...``: C-FIND, like DCMTK's findscu (PS3.4 C.4.1, K).

Matches are printed as an aligned table (one column per attribute asked
for), or with ``--json`` as one JSON list of DICOM JSON objects (PS3.18
F.2), which ``pydicom.Dataset.from_json`` reads back. ``-od DIR`` (or
``-X``) also writes each match as a DICOM file, ``rsp0001.dcm``,
``rsp0002.dcm``... as findscu's ``--extract`` names them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRLittleEndian

from .common import (
    CLIError,
    add_network_options,
    association,
    configure_ae,
    describe_status,
    progress_line,
    require_context,
    setup_logging,
)
from .listen import create_folder, write_durably
from .progress import ProgressLine
from .qr import add_query_options, identifier, no_response, status_category

EXAMPLES = """\
examples:
  dicomwire find -P -aec PACS pacs.local 104 -k PatientID=12345 -k PatientName
  dicomwire find -S pacs.local 104 -k StudyDate=20240101-20240131 -k StudyInstanceUID \\
      -k ModalitiesInStudy=CT --json > studies.json
  dicomwire find ris.local 104 -k ScheduledProcedureStepSequence[0].Modality=MR \\
      -k PatientName -od ./worklist

Without a model flag the query uses the Modality Worklist model, as findscu does.
With -P/-S/-O and no -k QueryRetrieveLevel, the level is PATIENT (-P, -O) or STUDY (-S).
The table goes to standard output whether or not it is a terminal; --json instead
prints one JSON list. The count of matches and any failure go to standard error.
"""

# Columns never shown: they say how the query was made, not what matched.
_HIDDEN = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet"})
_MAX_CELL = 48  # a long value must not push every other column off the screen
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "find",
        help="query a peer with C-FIND (like findscu)",
        description="Query a Query/Retrieve or Worklist SCP with C-FIND.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("host", help="the peer's host name or address")
    parser.add_argument("port", type=int, help="the peer's port")
    add_query_options(parser, "WPSO", default="W")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--json",
        action="store_true",
        help="print the matches as one JSON list of DICOM JSON objects instead of a table, "
        "e.g. --json > matches.json",
    )
    output.add_argument(
        "-od",
        "--output-directory",
        metavar="DIR",
        help="also write each match to DIR as rsp0001.dcm, rsp0002.dcm... (created if "
        "needed), e.g. -od ./responses",
    )
    output.add_argument(
        "-X",
        "--extract",
        action="store_true",
        help="write each match as rsp0001.dcm... into -od DIR, or the current folder",
    )
    add_network_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..ae import AE
    from ..services.qr_scu import QUERY_MODELS

    setup_logging(args)
    query = identifier(args)
    sop_class = QUERY_MODELS["find"][args.model]
    folder = _extract_folder(args)
    ae = AE(args.calling_aet)
    configure_ae(ae, args)
    ae.add_requested_context(sop_class)
    with association(ae, args) as assoc:
        require_context(assoc, sop_class)
        matches, final = _query(assoc, query, args.model, folder, progress_line(args))
    _print_matches(matches, query, args.json)
    print(f"{len(matches)} match{'' if len(matches) == 1 else 'es'}", file=sys.stderr)
    if status_category(final) not in ("Success", "Warning"):
        raise CLIError(f"C-FIND ended with status {describe_status(final, 'qr_find')}")
    return 0


def _extract_folder(args: argparse.Namespace) -> Path | None:
    if args.output_directory is None and not args.extract:
        return None
    folder = Path(args.output_directory or ".")
    create_folder(folder)
    return folder


def _query(
    assoc: Any, query: Dataset, model: str, folder: Path | None, progress: ProgressLine
) -> tuple[list[Dataset], Dataset]:
    """Send the query; collect the matches (writing them to ``folder``) and the final status."""
    matches: list[Dataset] = []
    final = Dataset()
    try:
        for status, match in assoc.send_c_find(query, model):
            if "Status" not in status:
                raise no_response(assoc, "C-FIND")
            final = status
            if status_category(status) != "Pending" or match is None:
                continue
            matches.append(match)
            if folder is not None:
                write_response(folder / f"rsp{len(matches):04d}.dcm", match)
            progress.show(f"{len(matches)} match{'' if len(matches) == 1 else 'es'} so far")
    finally:
        progress.close()
    return matches, final


def write_response(path: Path, match: Dataset) -> None:
    """Write a C-FIND response identifier as a DICOM file (Explicit VR Little Endian).

    An identifier is not a SOP instance: its file meta names the SOP
    class and instance only when the identifier itself carries them.
    """
    from io import BytesIO

    from pydicom.filewriter import write_file_meta_info

    from .. import IMPLEMENTATION_UID, IMPLEMENTATION_VERSION
    from ..services.encoding import encode_dataset

    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    if "SOPClassUID" in match:
        meta.MediaStorageSOPClassUID = match.SOPClassUID
    if "SOPInstanceUID" in match:
        meta.MediaStorageSOPInstanceUID = match.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    # The group length must come first and count the rest: measure, then write.
    body = BytesIO()
    write_file_meta_info(body, meta, enforce_standard=False)  # type: ignore[arg-type]
    meta.FileMetaInformationGroupLength = len(body.getvalue())
    header = BytesIO()
    header.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(header, meta, enforce_standard=False)  # type: ignore[arg-type]
    write_durably(path, header.getvalue() + encode_dataset(match, ExplicitVRLittleEndian))


def _print_matches(matches: list[Dataset], query: Dataset, as_json: bool) -> None:
    if as_json:
        json.dump([m.to_json_dict() for m in matches], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if matches:
        for line in table(matches, columns(query, matches)):
            print(line)


def columns(query: Dataset, matches: list[Dataset]) -> list[int]:
    """Tags to show: the query's own, in its order, then any others the matches carry."""
    order: list[int] = [int(tag) for tag in query.keys()]
    for match in matches:
        order += [int(tag) for tag in match.keys() if int(tag) not in order]
    return [tag for tag in order if _header(tag) not in _HIDDEN and tag >> 16 != 0x0002]


def table(matches: list[Dataset], tags: list[int]) -> list[str]:
    """Rows of left-aligned columns separated by two spaces, with a header row."""
    rows = [[_header(tag) for tag in tags]]
    rows += [[cell(match, tag) for tag in tags] for match in matches]
    widths = [max(len(row[i]) for row in rows) for i in range(len(tags))]
    lines = []
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return lines


def _header(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def cell(ds: Dataset, tag: int) -> str:
    """One value as table text: multiple values joined by backslashes, kept short."""
    if tag not in ds:
        return ""
    element = ds[tag]
    value = element.value
    if element.VR == "SQ":
        text = f"<{len(value)} item{'s' if len(value) != 1 else ''}>"
    elif element.VR in _BINARY_VRS:
        text = f"<{len(value or b'')} bytes>"
    elif value is None:
        text = ""
    elif isinstance(value, (list, tuple, MultiValue)):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())  # no newline or tab may break the table
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."
