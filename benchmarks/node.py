"""Scenario 8: ``dicomwire serve`` (SQLite, PostgreSQL) against Orthanc and dcmqrscp.

For each archive (see :mod:`benchmarks.archives` for how each is run):

* **Ingest**: an empty archive receives ``Sizes.ingest`` CT instances of
  512 KiB (studies of 100) from ``Sizes.ingest_senders`` dicomwire SCU
  processes at once; aggregate instances/s, and the archive's CPU seconds
  and peak RSS (the PostgreSQL server's own CPU is not counted).
* **C-FIND latency** with the populated archive (``Sizes.index_instances``
  instances in studies of 5 series of 10, dcmqrscp capped at
  ``Sizes.dcmqrscp_index``): ``Sizes.find_queries`` queries per level on
  one association, each timed from request to final response, by a
  dicomwire SCU: STUDY (a PatientName prefix matching 10 studies), SERIES
  (one study's 5 series), IMAGE (one series' 10 instances). Every query's
  number of matches is checked.
* **C-MOVE and C-GET** of a study of ``Sizes.retrieve_study`` 512 KiB
  instances: C-MOVE to a dicomwire SCP that discards, C-GET into a
  dicomwire SCU that discards; instances/s from request to final response,
  with the final response's sub-operation counts checked.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from typing import Any

from pydicom import dcmread

from . import data
from .archives import DEST_AET, Archive, Population, Running, archives
from .procs import free_port
from .report import spread, summarize
from .scenarios import Context, Sample, large_set
from .sides import Scp, ScpSpec, ScuSpec, parallel_store, run_scu

SERIES_PER_STUDY = 5
DCMQRSCP_PER_STUDY = 50  # dcmqrscp: at most 500 studies per storage area


def ingest_folders(ctx: Context) -> list[Any]:
    s = ctx.sizes

    def make() -> list[Any]:
        pool = data.ct_set(s.ingest, s.ingest_bytes, ctx.data_root, per_study=100)
        return data.split_set(pool, s.ingest_senders, s.ingest // s.ingest_senders, ctx.data_root)

    return ctx.once("ingest", make)


def population(ctx: Context, dcmqrscp: bool) -> Population:
    s = ctx.sizes

    def make() -> Population:
        if dcmqrscp:
            count = min(s.dcmqrscp_index, s.index_instances)
            studies = max(1, count // DCMQRSCP_PER_STUDY)
        else:
            count, studies = s.index_instances, s.index_studies
        headers = data.header_only_set(count, studies, SERIES_PER_STUDY, ctx.data_root)
        study_folder = large_set(ctx)
        files = data.dicom_files(study_folder)[: s.retrieve_study]
        uid = str(dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
        return Population(headers, study_folder, uid, len(files))

    return ctx.once(f"population-{dcmqrscp}", make)


def queries(headers: data.HeaderSet, per_level: int) -> list[dict[str, Any]]:
    """``per_level`` queries at each of STUDY, SERIES and IMAGE level, spread over the studies."""
    names = headers.names
    chosen = sorted({(i * headers.studies) // per_level + 3 for i in range(per_level)})
    chosen = [n % headers.studies for n in chosen]
    out: list[dict[str, Any]] = []
    for n in chosen:
        first = n // 10 * 10
        out.append({
            "level": "STUDY",
            "keys": {"QueryRetrieveLevel": "STUDY", "PatientName": f"PATIENT^{n:07d}"[:-1] + "*",
                     "PatientID": "", "StudyInstanceUID": "", "StudyDate": "",
                     "AccessionNumber": ""},
            "expect": min(10, headers.studies - first),
        })  # fmt: skip
    for n in chosen:
        out.append({
            "level": "SERIES",
            "keys": {"QueryRetrieveLevel": "SERIES", "StudyInstanceUID": names.study(n),
                     "SeriesInstanceUID": "", "Modality": "", "SeriesNumber": ""},
            "expect": headers.series_per_study,
        })  # fmt: skip
    for n in chosen:
        out.append({
            "level": "IMAGE",
            "keys": {"QueryRetrieveLevel": "IMAGE", "StudyInstanceUID": names.study(n),
                     "SeriesInstanceUID": names.series(n, n % headers.series_per_study),
                     "SOPInstanceUID": "", "InstanceNumber": ""},
            "expect": headers.per_series,
        })  # fmt: skip
    return out


def ingest_once(ctx: Context, archive: Archive, number: int) -> Sample:
    folders = ingest_folders(ctx)
    running = archive.start_empty(ctx.settings, free_port())
    try:
        scu = parallel_store("dicomwire", folders, running.port, ctx.settings,
                             f"ingest-{archive.key}-{number}")  # fmt: skip
    finally:
        cpu, rss, error = running.stop()
    total = ctx.sizes.ingest
    errors = [*scu.errors, *([error] if error else [])]
    if not errors and scu.ok != total:
        errors.append(f"{scu.ok} of {total} instances stored")
    result = Sample(ok=not errors, scu_cpu=scu.cpu, scp_cpu=cpu, scu_rss_kb=scu.maxrss_kb,
                    scp_rss_kb=rss, error="; ".join(errors))  # fmt: skip
    if result.ok:
        result.rate = total / scu.elapsed
        result.mbps = scu.extra.get("bytes", 0) / scu.elapsed / 1e6
    return result


def find_latencies(ctx: Context, running: Running, pop: Population, number: int) -> Any:
    path = ctx.settings.workdir / f"queries-{number}.json"
    path.write_text(json.dumps(queries(pop.headers, ctx.sizes.find_queries)))
    spec = ScuSpec("queries", queries=path)
    return run_scu("dicomwire", spec, running.port, ctx.settings, f"queries-{number}")


def retrieve(ctx: Context, running: Running, pop: Population, action: str, number: int) -> Sample:
    spec = ScuSpec(action, count=pop.study_count, study=pop.study_uid, dest=DEST_AET)
    scu = run_scu("dicomwire", spec, running.port, ctx.settings, f"{action}-{number}")
    result = Sample(ok=not scu.errors and scu.ok == pop.study_count, scu_cpu=scu.cpu,
                    scu_rss_kb=scu.maxrss_kb, error="; ".join(scu.errors))  # fmt: skip
    if result.ok:
        result.rate = pop.study_count / scu.elapsed
    elif not result.error:
        result.error = f"{scu.ok} of {pop.study_count} instances retrieved"
    return result


def ingest_in_turns(
    ctx: Context, chosen: list[Archive], sections: dict[str, dict[str, Any]], repeat: int
) -> None:
    """Every archive's ingest runs, taking turns: run k of each before run k+1 of any.

    A slow spell of this machine (write-back of the last run's files, a
    busy host) then falls on all archives alike instead of on the one
    whose runs it overlaps; ingest rates moved by 30% between runs of the
    same archive an hour apart.
    """
    samples: dict[str, list[Sample]] = {archive.key: [] for archive in chosen}
    for number in range(repeat):
        for archive in chosen:
            try:
                one = ingest_once(ctx, archive, number)
            except Exception as exc:
                one = Sample(ok=False, error=f"{type(exc).__name__}: {exc}")
            figure = f"{one.rate:,.1f} instances/s" if one.ok else f"FAILED: {one.error}"
            ctx.log(f"  [{number + 1}/{repeat}] {archive.label:30} ingest {figure}")
            samples[archive.key].append(one)
    for archive in chosen:
        section = sections[archive.key]
        section["ingest"] = summarize(samples[archive.key])
        section["ingest"]["samples"] = [s.to_dict() for s in samples[archive.key]]


def query_archive(ctx: Context, archive: Archive, section: dict[str, Any], repeat: int) -> None:
    pop = population(ctx, archive.key == "dcmqrscp")
    section["indexed"] = pop.headers.count + pop.study_count
    try:
        archive.populate(ctx.settings, pop, ctx.log)
    except Exception as exc:
        section["error"] = f"populating: {type(exc).__name__}: {exc}"
        ctx.log(f"  {archive.label}: {section['error']}")
        return
    section.update(query_and_retrieve(ctx, archive, pop, repeat))


def query_and_retrieve(
    ctx: Context, archive: Archive, pop: Population, repeat: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    dest_port = free_port()
    running = archive.start_populated(ctx.settings, dest_port, pop)
    dest = Scp("dicomwire", ScpSpec(aet=DEST_AET), ctx.settings, f"dest-{archive.key}", dest_port)
    errors: list[str] = []
    levels: dict[str, list[float]] = {}
    retrieved: dict[str, list[Sample]] = {"move": [], "get": []}
    try:
        dest.start()
        for number in range(repeat):
            figures = find_latencies(ctx, running, pop, number)
            errors += figures.errors
            for level, seconds, _matches in figures.extra.get("latencies", []):
                levels.setdefault(level, []).append(seconds * 1000)
            for action in ("move", "get"):
                one = retrieve(ctx, running, pop, action, number)
                retrieved[action].append(one)
                figure = f"{one.rate:,.1f} instances/s" if one.ok else f"FAILED: {one.error}"
                ctx.log(f"  [{number + 1}/{repeat}] {archive.label:30} C-{action.upper()} {figure}")
            medians = ", ".join(f"{lvl} {statistics.median(v):.1f} ms" for lvl, v in levels.items())
            ctx.log(f"  [{number + 1}/{repeat}] {archive.label:30} C-FIND {medians or 'FAILED'}")
    finally:
        served = dest.stop() if dest.child is not None else None
        cpu, rss, error = running.stop()
    moved = sum(1 for s in retrieved["move"] if s.ok) * pop.study_count
    if served is not None and served.served.get("stored", moved) < moved:
        errors.append(f"the C-MOVE destination received {served.served.get('stored')} "
                      f"instances, expected {moved}")  # fmt: skip
    if error:
        errors.append(error)
    out["find_ms"] = {level: spread(values) for level, values in levels.items()}
    out["find_errors"] = errors
    for action, samples in retrieved.items():
        out[action] = summarize(samples)
        out[action]["samples"] = [s.to_dict() for s in samples]
    out["retrieve_study"] = pop.study_count
    out["server_cpu_queries_retrieves"] = cpu
    out["server_rss_kb"] = rss
    return out


def run(
    ctx: Context, backends: list[str], peers: list[str], repeat: int, workers: list[int]
) -> tuple[list[dict[str, Any]], list[str]]:
    # --cpus is for scenarios 1-7: the archives run where the kernel puts
    # them, so their senders and receivers do too.
    ctx = replace(ctx, settings=replace(ctx.settings, cpus="any"))
    chosen = archives(backends, peers, workers)
    sections = {a.key: {"archive": a.key, "label": a.label} for a in chosen}
    available = []
    for archive in chosen:
        reason = archive.unavailable()
        if reason:
            ctx.log(f"  {archive.label}: unavailable: {reason}")
            sections[archive.key]["unavailable"] = reason
        else:
            available.append(archive)
    try:
        ingest_in_turns(ctx, available, sections, repeat)
        for archive in (a for a in available if not a.ingest_only):
            try:
                query_archive(ctx, archive, sections[archive.key], repeat)
            except Exception as exc:
                ctx.log(f"  {archive.label}: {type(exc).__name__}: {exc}")
                sections[archive.key]["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for archive in chosen:
            archive.close()
    return list(sections.values()), markdown(ctx, list(sections.values()))


# ---------------------------------------------------------------------------


def _fmt(summary: dict[str, Any] | None, key: str = "rate") -> str:
    found = (summary or {}).get(key)
    if not found:
        return "-"
    return f"{found['median']:,.1f} ({found['min']:,.1f} - {found['max']:,.1f})"


def _ms(found: dict[str, float] | None) -> str:
    if not found:
        return "-"
    return f"{found['median']:.1f} ({found['min']:.1f} - {found['max']:.1f})"


def markdown(ctx: Context, sections: list[dict[str, Any]]) -> list[str]:
    s = ctx.sizes
    study = next((x["retrieve_study"] for x in sections if "retrieve_study" in x), s.retrieve_study)
    lines = [
        "## 8. The node against Orthanc, dcmqrscp and storescp (`node`)",
        "",
        f"Ingest: {s.ingest} CT instances of {s.ingest_bytes // 1024} KiB from "
        f"{s.ingest_senders} dicomwire senders at once into an empty archive. C-FIND: "
        f"{s.find_queries} queries per level on one association, ms from request to final "
        "response (STUDY: PatientName prefix, 10 studies; SERIES: 5 series of a study; "
        f"IMAGE: one series' instances). C-MOVE/C-GET: a study of {study} CT "
        "instances of 512 KiB to a dicomwire receiver that discards them. The node's index "
        "was filled through its own Index.add (files written into its store, no network); "
        "Orthanc's through C-STORE; dcmqrscp's with dcmqridx (capped: quadratic time). "
        "Server CPU excludes the PostgreSQL server.",
        "",
        "| Archive | ingest instances/s | MB/s | server CPU s | server RSS MiB | "
        "indexed | STUDY ms | SERIES ms | IMAGE ms | C-MOVE instances/s | "
        "C-GET instances/s |",
        "|" + "---|" * 11,
    ]
    notes = []
    for section in sections:
        label = section["label"]
        if "unavailable" in section:
            lines.append(f"| {label} | unavailable | | | | | | | | | |")
            notes.append(f"- {label}: {section['unavailable']}")
            continue
        ingest = section.get("ingest", {})
        find = section.get("find_ms", {})
        cpu = ingest.get("scp_cpu")
        rss = ingest.get("scp_rss_kb")
        cells = [
            label,
            _fmt(ingest),
            _fmt(ingest, "mbps").split(" ")[0],
            f"{cpu['median']:.1f}" if cpu else "-",
            f"{rss['median'] / 1024:.0f}" if rss else "-",
            f"{section.get('indexed', '-'):,}" if section.get("indexed") else "-",
            _ms(find.get("STUDY")),
            _ms(find.get("SERIES")),
            _ms(find.get("IMAGE")),
            _fmt(section.get("move")),
            _fmt(section.get("get")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
        problems = [*ingest.get("errors", []), *section.get("find_errors", [])]
        problems += [*section.get("move", {}).get("errors", []),
                     *section.get("get", {}).get("errors", [])]  # fmt: skip
        if section.get("error"):
            problems.append(section["error"])
        notes += [f"- {label}: {p}" for p in problems]
    if notes:
        lines += ["", "Unavailable or failed:", "", *notes]
    return [*lines, ""]
