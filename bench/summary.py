"""Build ``bench/results/summary.md`` from the saved JSON: one table of every figure of
issue #10's targets against its target and same-run baseline, then each benchmark's
detail.

The builder is a pure function of the loaded JSON (:func:`build`), so a unit test can
feed it hand-made results; every figure in :data:`bench.targets.FIGURES` gets a row
whatever the JSON holds ("not run" when its benchmark's JSON is missing, "unreadable"
when the JSON lacks what the figure reads), so no figure can drop out silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import sections
from bench.sections import table
from bench.targets import BENCHES, FIGURES, Figure, Results, Row

HEADER = [
    "#",
    "figure",
    "target",
    "measured",
    "met",
    "same-run baseline",
    "command",
    "load avg before -> after",
]


def load_results(folder: Path) -> Results:
    """Every ``{bench}.json`` that exists and parses; a broken file counts as missing."""
    out: Results = {}
    for name in BENCHES:
        path = folder / f"{name}.json"
        try:
            out[name] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
    return out


def _load_text(name: str, res: dict[str, Any] | None, runs: dict[str, Any]) -> str:
    """1-minute load average when the benchmark started and ended: run_all's own record
    when it ran it, else what the benchmark wrote itself."""
    run = runs.get(name, {})
    before = run.get("load_before") or (res or {}).get("machine", {}).get("load_avg_1_5_15")
    after = run.get("load_after") or (res or {}).get("machine_load_after")
    if not before:
        return "n/a"
    return f"{before[0]} -> {after[0] if after else 'n/a'}"


def _met(row: Row) -> str:
    if row.met is None:
        return row.why or "n/a"
    return "**yes**" if row.met else "**no**"


def figure_row(fig: Figure, results: Results, runs: dict[str, Any]) -> list[str]:
    """One table row; never raises, so one odd JSON cannot cost the other rows."""
    res = results.get(fig.bench)
    run = runs.get(fig.bench, {})
    head = [fig.target, fig.label, fig.wanted]
    if res is None:
        last = ""
        if run:
            last = f" (last attempt: exit {run.get('exit')} after {run.get('elapsed_s')} s)"
        return [
            *head,
            "not run" + last,
            "not run",
            "",
            f"bench/run_all.py --only {fig.bench}",
            _load_text(fig.bench, None, runs),
        ]
    missing = [part for part in fig.needs if part not in res]
    if missing:
        row = Row(f"not run (part {', '.join(missing)} not in this run)", None, why="not run")
    else:
        try:
            row = fig.read(res, results)
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as err:
            row = Row(f"unreadable: {type(err).__name__} {err}"[:160], None, why="n/a")
    return [
        *head,
        row.measured,
        _met(row) + (" (--quick)" if res.get("quick") else ""),
        row.baseline,
        f"`{res.get('command', '?')}`",
        _load_text(fig.bench, res, runs),
    ]


def _machine(results: Results, runs: dict[str, Any]) -> dict[str, Any]:
    for res in results.values():
        m = res.get("machine") or res.get("machine_at_start")
        if m and m.get("cpu_model"):
            return m
    for run in runs.values():
        if run.get("machine"):
            return run["machine"]
    return {}


def _archive_lines(arc: dict[str, Any] | None) -> list[str]:
    if arc is None:
        return ["## Archive (bench/archive_bench.py)", "", "not run (`--only archive`)."]
    rows = [
        [t["target"], t["measured"], "**yes**" if t["met"] else "**no**"]
        for t in arc.get("targets", [])
    ]
    at = arc.get("machine_at_start", {}).get("at", "an unrecorded time")
    return [
        "## Archive (bench/archive_bench.py)",
        "",
        f"`{arc.get('command')}`, run at {at}; detail in archive.md. Run on its own or with "
        "`run_all.py --only archive`: these figures are from this summary's run only if "
        "that time falls within it.",
        "",
        *table(["target", "measured", "met"], rows),
    ]


def build(results: Results, runs: dict[str, Any] | None = None) -> str:
    """The whole summary.md text."""
    runs = runs or {}
    m = _machine(results, runs)
    lines = [
        "# Benchmark summary",
        "",
        "Written by `bench/run_all.py` from the JSON in this folder. Explanations, limits and "
        'misses: `docs/performance.md`. "not run" means no result was saved by that '
        "benchmark; nothing in this table is carried over from another run's figures.",
        "",
        f"Machine: {m.get('nproc')} cores ({m.get('cpu_model')}), {m.get('ram_gb')} GB RAM, "
        f"kernel {m.get('kernel')}; Python {m.get('python')}, Ray {m.get('ray')}, grpcio "
        f"{m.get('grpcio')}, etcd {m.get('etcd')}. The load average column is the 1-minute "
        "figure when each benchmark started and ended (the machine is shared).",
        "",
    ]
    failed = {k: v for k, v in runs.items() if v.get("exit") != 0}
    if failed:
        detail = {
            k: {"exit": v.get("exit"), "elapsed_s": v.get("elapsed_s")} for k, v in failed.items()
        }
        lines += [f"**Benchmarks that did not finish cleanly:** `{json.dumps(detail)}`", ""]
    quick = sorted(k for k, v in results.items() if v.get("quick"))
    if quick:
        lines += [f"**Quick (--quick) results, not the real figures:** {', '.join(quick)}", ""]
    lines += ["## Figures against targets (issue #10; #11 rows: sites)", ""]
    lines += table(HEADER, [figure_row(f, results, runs) for f in FIGURES])
    for name, section in (
        ("api", sections.api_section),
        ("failover", sections.failover_section),
        ("scale", sections.scale_section),
        ("naive", sections.naive_section),
    ):
        if name in results:
            try:
                lines += ["", *section(results[name])]
            except (KeyError, TypeError, ValueError) as err:
                lines += ["", f"## {name}: detail unreadable ({type(err).__name__} {err})"]
    lines += ["", *_archive_lines(results.get("archive"))]
    return "\n".join(lines) + "\n"


def write(folder: Path, runs: dict[str, Any] | None = None) -> Path:
    path = folder / "summary.md"
    path.write_text(build(load_results(folder), runs))
    return path
