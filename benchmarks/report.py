"""Statistics, ratios, the markdown table and the JSON document of a run.

Per scenario and pair: median, min and max of the rate over the successful
runs, and the medians of CPU seconds and peak RSS of both ends. Ratios
compare medians measured in the same run:

* ``dicomwire/DCMTK``: dicomwire → dicomwire over DCMTK → DCMTK;
* ``dicomwire/pynetdicom``: dicomwire → dicomwire over pynetdicom → pynetdicom;
* ``SCU vs DCMTK``: dicomwire → DCMTK over DCMTK → DCMTK (dicomwire as the
  SCU, same SCP), ``SCP vs DCMTK``: DCMTK → dicomwire over DCMTK → DCMTK;
  likewise against pynetdicom.

Above 1 dicomwire is faster (for rates; scenario 8 latencies are reported
as they are).
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import tools
from .scenarios import Pair, Sample, Scenario, Sizes

RATIOS = {
    "dicomwire/DCMTK": ("dicomwire->dicomwire", "dcmtk->dcmtk"),
    "dicomwire/pynetdicom": ("dicomwire->dicomwire", "pynetdicom->pynetdicom"),
    "SCU vs DCMTK": ("dicomwire->dcmtk", "dcmtk->dcmtk"),
    "SCP vs DCMTK": ("dcmtk->dicomwire", "dcmtk->dcmtk"),
    "SCU vs pynetdicom": ("dicomwire->pynetdicom", "pynetdicom->pynetdicom"),
    "SCP vs pynetdicom": ("pynetdicom->dicomwire", "pynetdicom->pynetdicom"),
}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / (1 << 20), 1)
                break
        info["load_average"] = list(os.getloadavg())
    except OSError:
        pass
    return info


def versions() -> dict[str, str | None]:
    return {
        "dicomwire": tools.python_package_version("dicomwire"),
        "pydicom": tools.python_package_version("pydicom"),
        "pynetdicom": tools.python_package_version("pynetdicom"),
        "dcmtk": tools.dcmtk_version(),
        "orthanc": tools.orthanc_version(),
        "postgresql": tools.postgres_version(),
        "sqlalchemy": tools.python_package_version("sqlalchemy"),
    }


def spread(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(samples: list[Sample]) -> dict[str, Any]:
    good = [s for s in samples if s.ok]
    summary: dict[str, Any] = {
        "runs": len(samples),
        "failures": len(samples) - len(good),
        "errors": [s.error for s in samples if not s.ok],
        "rate": spread([s.rate for s in good]),
        "mbps": spread([s.mbps for s in good if s.mbps is not None]),
    }
    for key in ("scu_cpu", "scp_cpu", "scu_rss_kb", "scp_rss_kb"):
        summary[key] = spread([float(getattr(s, key)) for s in good])
    return summary


def median_rate(summaries: dict[str, dict[str, Any]], key: str) -> float | None:
    found = summaries.get(key, {}).get("rate")
    return found["median"] if found else None


def ratios(summaries: dict[str, dict[str, Any]]) -> dict[str, float]:
    out = {}
    for name, (ours, theirs) in RATIOS.items():
        a, b = median_rate(summaries, ours), median_rate(summaries, theirs)
        if a and b:
            out[name] = a / b
    return out


def scenario_document(
    scenario: Scenario, pairs: list[Pair], results: dict[str, list[Sample]]
) -> dict[str, Any]:
    rows = [*pairs, *scenario.references]
    summaries = {p.key: summarize(results.get(p.key, [])) for p in rows if p.key in results}
    doc: dict[str, Any] = {
        "number": scenario.number,
        "name": scenario.name,
        "title": scenario.title,
        "unit": scenario.unit,
        "note": scenario.note,
        "pairs": [
            {
                "pair": p.key,
                "label": p.label,
                **summaries[p.key],
                "samples": [s.to_dict() for s in results[p.key]],
            }
            for p in rows
            if p.key in summaries
        ],
        "ratios": ratios(summaries),
    }
    raw = median_rate(summaries, "raw->raw")
    if raw:
        doc["fraction_of_raw_tcp"] = {
            p.key: rate / raw for p in pairs if (rate := median_rate(summaries, p.key)) is not None
        }
    return doc


def document(
    scenario_docs: list[dict[str, Any]],
    extra_sections: list[dict[str, Any]],
    settings: dict[str, Any],
    sizes: Sizes,
    started: datetime,
    argv: list[str],
) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "suite": "dicomwire benchmarks",
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m benchmarks " + " ".join(argv),
        "machine": machine(),
        "versions": versions(),
        "settings": settings,
        "sizes": asdict(sizes),
        "scenarios": scenario_docs,
        "node": extra_sections,
    }


# ---------------------------------------------------------------------------
# Markdown


def _placement(cpus: str) -> str:
    return {
        "same": "SCU and SCP pinned together on CPU 0. ",
        "split": "SCU pinned on CPU 0, SCP on CPU 1. ",
    }.get(cpus, "")


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _med(summary: dict[str, Any], key: str, scale: float = 1.0) -> str:
    found = summary.get(key)
    return _num(found["median"] / scale) if found else "-"


def scenario_markdown(doc: dict[str, Any]) -> list[str]:
    unit = doc["unit"]
    lines = [f"### {doc['number']}. {doc['title']} (`{doc['name']}`)", ""]
    if doc.get("note"):
        lines += [doc["note"], ""]
    raw = "fraction_of_raw_tcp" in doc
    header = ["SCU → SCP", f"{unit} (median)", "min - max"]
    if unit != "MB/s" and any(p.get("mbps") for p in doc["pairs"]):
        header.append("MB/s")
    with_mbps = "MB/s" in header
    if raw:
        header.append("of raw TCP")
    header += ["SCU CPU s", "SCP CPU s", "SCU RSS MiB", "SCP RSS MiB", "ok/runs"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in doc["pairs"]:
        rate = row.get("rate")
        cells = [row["label"], _num(rate["median"]) if rate else "failed"]
        cells.append(f"{_num(rate['min'])} - {_num(rate['max'])}" if rate else "-")
        if with_mbps:
            cells.append(_med(row, "mbps"))
        if raw:
            fraction = doc["fraction_of_raw_tcp"].get(row["pair"])
            cells.append(f"{fraction:.0%}" if fraction is not None else "-")
        cells += [_med(row, "scu_cpu"), _med(row, "scp_cpu"),
                  _med(row, "scu_rss_kb", 1024), _med(row, "scp_rss_kb", 1024),
                  f"{row['runs'] - row['failures']}/{row['runs']}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    if doc["ratios"]:
        parts = [f"{name} **{value:.2f}x**" for name, value in doc["ratios"].items()]
        lines += ["", "Ratios (dicomwire over the other, rates): " + ", ".join(parts) + "."]
    failures = [(row["label"], e) for row in doc["pairs"] for e in row["errors"]]
    if failures:
        lines += ["", "Failures:", ""]
        lines += [f"- {label}: {error}" for label, error in failures]
    return [*lines, ""]


def summary_markdown(docs: list[dict[str, Any]]) -> list[str]:
    names = list(RATIOS)
    lines = ["| Scenario | unit | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 2)]
    for doc in docs:
        cells = [f"{doc['number']}. {doc['name']}", doc["unit"]]
        cells += [f"{doc['ratios'][n]:.2f}x" if n in doc["ratios"] else "-" for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def markdown(doc: dict[str, Any], node_markdown: list[str]) -> str:
    m, v = doc["machine"], doc["versions"]
    lines = [
        "# dicomwire benchmarks",
        "",
        f"Run {doc['started']} with `{doc['command']}`.",
        "",
        f"Machine: {m.get('cpu_model', m['machine'])}, {m['cpu_count']} CPUs, "
        f"{m.get('memory_gib', '?')} GiB, {m['platform']}, Python {m['python']}.",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        f"Max PDU {doc['settings']['max_pdu']} bytes for every pair; "
        f"{doc['settings']['repeat']} run(s) per pair; medians shown. "
        + _placement(doc["settings"].get("cpus", "any"))
        + "Each side is its own process; DCMTK runs with TCP_NODELAY=1"
        + (
            ""
            if doc["settings"].get("pynetdicom_tcp_nodelay") is False
            else ", pynetdicom with TCP_NODELAY set on its sockets (it has no setting)"
        )
        + ". CPU seconds (wait4) and peak RSS (VmHWM) are each process's own; a Python "
        "process's CPU and a Python SCU's rate count only its measured part, a DCMTK SCU "
        "is timed from spawn to exit. MB/s are 10^6 bytes per second.",
        "",
        "Reproduce: `python -m benchmarks` (default sizes are the issue's; `--quick` for a "
        "small pass; `--help` for the options).",
        "",
    ]
    if doc["scenarios"]:
        lines += ["## Ratios", "", *summary_markdown(doc["scenarios"])]
        lines += ["## Scenarios", ""]
        for scenario in doc["scenarios"]:
            lines += scenario_markdown(scenario)
    lines += node_markdown
    return "\n".join(lines).rstrip() + "\n"
