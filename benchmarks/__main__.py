"""``python -m benchmarks``: run the suite and write its results.

    python -m benchmarks                         # everything, the issue's sizes
    python -m benchmarks --quick                 # every count shrunk, a few minutes
    python -m benchmarks --quick --scenario echo --pairs dw-dw dcmtk-dcmtk
    python -m benchmarks --scenario store --repeat 5
    python -m benchmarks --scenario node         # scenario 8 only

Results go to ``benchmarks/results/<timestamp>.{md,json}`` and
``latest.{md,json}`` there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import data, report
from .scenarios import (
    ALL_PAIRS,
    DEFAULT_PAIRS,
    FULL,
    QUICK,
    Context,
    Pair,
    Sample,
    Scenario,
    Sizes,
    select,
)
from .sides import Settings

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="dicomwire against pynetdicom and DCMTK (and the node against Orthanc "
        "and dcmqrscp), each side in its own process.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("--quick", action="store_true", help="shrink every count (~2-3 minutes)")
    p.add_argument(
        "--scenario",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="scenarios by name, prefix or number (default: all); 'node' is 8",
    )
    p.add_argument(
        "--pairs",
        nargs="+",
        action="extend",
        metavar="SCU-SCP",
        help="pairs such as dw-dw pn-pn dcmtk-dcmtk dw-dcmtk dcmtk-dw "
        "(default: the three same-implementation pairs and the four "
        "with dicomwire on one side; 'all' adds pynetdicom <-> DCMTK)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SIZE=N",
        help="override one size, e.g. --set find_responses=5000 (see --list)",
    )
    p.add_argument("--repeat", type=int, help="runs per pair (default 3, --quick 1)")
    p.add_argument(
        "--max-pdu",
        type=int,
        default=16384,
        help="maximum PDU both ends receive, for every pair (default 16384, "
        "DCMTK's default; 4096-131072)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=data.DATA_ROOT,
        help="generated data cache (default benchmarks/.data)",
    )
    p.add_argument("--timeout", type=float, default=900, help="seconds for any one process")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the dicomwire processes with py-spy (speedscope files in DIR); "
        "figures are then not comparable",
    )
    p.add_argument(
        "--pynetdicom-stock",
        action="store_true",
        help="leave Nagle's algorithm on for pynetdicom, as it ships (by default "
        "its sockets get TCP_NODELAY, as DCMTK gets TCP_NODELAY=1)",
    )
    p.add_argument(
        "--node-backends",
        nargs="*",
        default=["sqlite", "postgresql"],
        help="scenario 8: dicomwire serve index backends (sqlite, postgresql; none: skip)",
    )
    p.add_argument(
        "--node-workers",
        nargs="+",
        type=int,
        default=sorted({1, os.cpu_count() or 1}),
        help="scenario 8: run dicomwire serve with each of these --workers "
        "(default: 1 and the number of CPUs)",
    )
    p.add_argument(
        "--node-peers",
        nargs="*",
        default=["orthanc", "dcmqrscp", "storescp"],
        help="scenario 8: other archives to compare with (orthanc, dcmqrscp, and storescp "
        "for ingest only; none: skip)",
    )
    p.add_argument(
        "--cpus",
        choices=("any", "same", "split"),
        default="any",
        help="pin the SCU and SCP of scenarios 1-7: both on CPU 0 (same), SCU on 0 and "
        "SCP on 1 (split), or leave placement to the kernel (any, the default)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, outputs)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = p.parse_args(argv)
    if not 4096 <= args.max_pdu <= 131072:
        p.error("--max-pdu must be within 4096..131072 (what DCMTK accepts)")
    return args


def override(sizes: Sizes, settings: list[str]) -> Sizes:
    """``sizes`` with ``NAME=N`` overrides applied."""
    known = {f.name for f in fields(Sizes)}
    changes = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or name not in known or not value.isdigit():
            raise ValueError(f"--set {item!r}: give NAME=N with NAME one of {', '.join(known)}")
        changes[name] = int(value)
    return replace(sizes, **changes)


def choose_pairs(names: list[str] | None) -> list[Pair]:
    if not names:
        return list(DEFAULT_PAIRS)
    if names == ["all"]:
        return list(ALL_PAIRS)
    return [Pair.parse(n) for n in names]


def run_scenario(
    ctx: Context, scenario: Scenario, pairs: list[Pair], repeat: int
) -> dict[str, list[Sample]]:
    """Every pair ``repeat`` times, interleaved (pair A, B, C, A, B, C...)."""
    rows = [*pairs, *scenario.references]
    results: dict[str, list[Sample]] = {p.key: [] for p in rows}
    for run in range(repeat):
        for pair in rows:
            started = time.perf_counter()
            try:
                result = scenario.run(ctx, pair)
            except Exception as exc:
                ctx.log(traceback.format_exc().rstrip())
                result = Sample(ok=False, error=f"{type(exc).__name__}: {exc}")
            spent = time.perf_counter() - started
            figure = f"{result.rate:,.1f} {scenario.unit}" if result.ok else "FAILED"
            ctx.log(f"  [{run + 1}/{repeat}] {pair.label:28} {figure}  ({spent:.1f} s)"
                    + ("" if result.ok else f": {result.error}"))  # fmt: skip
            results[pair.key].append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    wanted = args.scenario or []
    want_node = not wanted or any(n in ("node", "8") for n in wanted)
    try:
        others = [n for n in wanted if n not in ("node", "8")]
        scenarios = select(others) if others or not wanted else []
        pairs = choose_pairs(args.pairs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    try:
        sizes = override(sizes, args.set)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for s in scenarios:
            print(f"{s.number}. {s.name:20} {s.title} ({s.unit})")
        print("8. node                 dicomwire serve vs Orthanc vs dcmqrscp")
        print("\nsizes (--set NAME=N):")
        for name, value in asdict(sizes).items():
            print(f"  {name} = {value}")
        return 0
    repeat = args.repeat or (1 if args.quick else 3)
    workdir = Path(tempfile.mkdtemp(prefix="dicomwire-bench-"))
    settings = Settings(
        workdir,
        max_pdu=args.max_pdu,
        timeout=args.timeout,
        profile_dir=args.profile,
        pynetdicom_stock=args.pynetdicom_stock,
        cpus=args.cpus,
    )

    def log(message: str) -> None:
        print(message, flush=True)

    ctx = Context(sizes, settings, log, data_root=args.data_dir)
    started = datetime.now(timezone.utc)
    log(f"dicomwire benchmarks: {'quick' if args.quick else 'full'} sizes, {repeat} run(s) "
        f"per pair, max PDU {args.max_pdu}, work folder {workdir}")  # fmt: skip
    docs: list[dict[str, Any]] = []
    node_sections: list[dict[str, Any]] = []
    node_md: list[str] = []
    try:
        for scenario in scenarios:
            log(f"{scenario.number}. {scenario.title}")
            results = run_scenario(ctx, scenario, pairs, repeat)
            docs.append(report.scenario_document(scenario, pairs, results))
        if want_node:
            from . import node

            log("8. The node against Orthanc and dcmqrscp")
            node_sections, node_md = node.run(
                ctx, args.node_backends, args.node_peers, repeat, args.node_workers
            )
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")
    finally:
        if args.keep:
            log(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    settings_doc = {"max_pdu": args.max_pdu, "repeat": repeat, "quick": args.quick,
                    "profiled": args.profile is not None,
                    "pairs": [p.key for p in pairs],
                    "pynetdicom_tcp_nodelay": not args.pynetdicom_stock,
                    "cpus": args.cpus}  # fmt: skip
    doc = report.document(docs, node_sections, settings_doc, sizes, started, argv)
    text = report.markdown(doc, node_md)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    for name in (stamp, "latest"):
        (args.out / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
        (args.out / f"{name}.md").write_text(text)
    log(f"\nwritten: {args.out / (stamp + '.md')} and .json\n")
    log(text)
    if args.profile is not None and args.profile.exists():
        from .profiles import summarize

        for path in sorted(args.profile.glob("*.speedscope.json")):
            log(summarize(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
