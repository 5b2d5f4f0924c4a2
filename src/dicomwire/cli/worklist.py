"""``dicomwire worklist add|list|remove``: the node's Modality Worklist items.

Items are DICOM files or DICOM JSON files (PS3.18 F.2) holding a Modality
Worklist item: patient attributes and a Scheduled Procedure Step Sequence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from .common import CLIError, add_verbosity, setup_logging
from .serve import add_node_options, load_config


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "worklist",
        help="add, list or remove the node's worklist items",
        description="Manage worklist items. Example: dicomwire worklist add item.json",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add items from DICOM or DICOM JSON files")
    add.add_argument("files", nargs="+", metavar="FILE")
    actions.add_parser("list", help="list the items (id, patient, scheduled step)")
    remove = actions.add_parser("remove", help="remove items by id")
    remove.add_argument("ids", nargs="+", metavar="ID")
    for action in (add, actions.choices["list"], remove):
        add_node_options(action)
        add_verbosity(action)
    parser.set_defaults(run=run)


def read_item(path: Path) -> Dataset:
    """A worklist item from a DICOM JSON file (``.json``) or a DICOM file."""
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            items = data if isinstance(data, list) else [data]
            if len(items) != 1:
                raise CLIError(f"{path}: holds {len(items)} data sets; give one per file")
            return Dataset.from_json(items[0])
        from pydicom import dcmread

        return dcmread(path)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{path}: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    from ..node.index import Index

    setup_logging(args)
    config = load_config(args)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    index = Index(config.database_url, data_dir=config.data_dir)
    try:
        return _act(index, args)
    finally:
        index.close()


def _act(index: Any, args: argparse.Namespace) -> int:
    if args.action == "add":
        for name in args.files:
            try:
                item_id = index.worklist_add(read_item(Path(name)))
            except ValueError as exc:
                raise CLIError(f"{name}: {exc}") from exc
            print(item_id)
        return 0
    if args.action == "list":
        for item_id, item in index.worklist_items():
            step = (item.get("ScheduledProcedureStepSequence") or [Dataset()])[0]
            print(
                f"{item_id}\t{item.get('PatientID', '')}\t{item.get('PatientName', '')}\t"
                f"{step.get('Modality', '')}\t{step.get('ScheduledProcedureStepStartDate', '')}"
            )
        return 0
    missing = [i for i in args.ids if not index.worklist_remove(i)]
    if missing:
        print(f"no such item: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0
