"""Figures across a drill's repeated faults: the first acknowledged write after each
fault, per region, summed up per kind of fault (count, p50, p99, max), and for etcd
member kills, when the surviving members elected a new leader.

Why apart from the per-region table: a target such as "every region's first
acknowledged write after an etcd leader kill, p99 <= 1.0 s over five kills" is one
number over regions x faults, and the election time read from etcd's own log splits it
into what etcd took and what our clients added.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

# etcd's zap log line of a member taking over (raft/raft.go, "became leader at term N").
BECAME_LEADER = "became leader at term"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: with fewer than 100 samples p99 is the maximum, which is
    what a target over 25 samples should be held to."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def first_ack_summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per (fault, target): how many faults, every region's first-ack times, p50/p99/max
    and the region that waited longest. A region with no acknowledged write after a
    fault counts as missing (reported, never dropped silently)."""
    unavailability = result.get("check", {}).get("unavailability", {})
    samples: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    missing: dict[tuple[str, str], int] = defaultdict(int)
    faults: dict[tuple[str, str], int] = defaultdict(int)
    for f in result.get("faults", []):
        faults[(f["name"], f.get("target", ""))] += 1
    for region, u in unavailability.items():
        for pf in u.get("faults", []):
            key = (pf["fault"], pf.get("target", ""))
            if pf.get("first_ack_after_s") is None:
                missing[key] += 1
            else:
                samples[key].append((pf["first_ack_after_s"], region))
    out = []
    for key, n in faults.items():
        got = samples.get(key, [])
        values = [v for v, _ in got]
        out.append(
            {
                "fault": key[0],
                "target": key[1],
                "faults": n,
                "samples": len(values),
                "missing": missing.get(key, 0),
                "p50_s": round(percentile(values, 50), 3) if values else None,
                "p99_s": round(percentile(values, 99), 3) if values else None,
                "max_s": round(max(values), 3) if values else None,
                "worst_region": max(got)[1] if got else "",
            }
        )
    return out


def _ts(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).timestamp()


def etcd_elections(etcd_dir: Path, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every leader etcd's members logged during the run: when, which term, and the etcd
    member kill it followed (``after_kill_s``: from that kill; None when no kill came
    first in the last 5 s, i.e. an election nobody asked for)."""
    if not etcd_dir.is_dir():
        return []
    kills = sorted(f["start"] for f in result.get("faults", []) if f["name"] == "etcd-member-kill")
    t0, t_end = result.get("t0", 0.0), result.get("t_end", float("inf"))
    out = []
    for log in sorted(etcd_dir.glob("*.log")):
        for raw in log.read_text(errors="replace").splitlines():
            if BECAME_LEADER not in raw or not raw.startswith("{"):
                continue
            line = json.loads(raw)
            t = _ts(line)
            if not t0 <= t <= t_end:
                continue
            before = [k for k in kills if k <= t and t - k < 5.0]
            out.append(
                {
                    "t": round(t - t0, 3),
                    "member": log.stem,
                    "term": int(line["msg"].rsplit(" ", 1)[-1]),
                    "after_kill_s": round(t - before[-1], 3) if before else None,
                }
            )
    return sorted(out, key=lambda e: e["t"])


def figures(result: dict[str, Any], report_dir: Path) -> dict[str, Any]:
    """What :func:`markdown_lines` shows, for report.json as well."""
    return {
        "first_ack_summary": first_ack_summary(result),
        "etcd_elections": etcd_elections(report_dir / "etcd", result),
    }


def markdown_lines(result: dict[str, Any]) -> list[str]:
    """The summary table, and the elections when etcd logged any."""
    summary = result.get("first_ack_summary", [])
    if not summary:
        return []
    lines = [
        "",
        "## First acknowledged write after each fault, over regions x faults",
        "",
        "Nearest-rank percentiles (p99 is the maximum below 100 samples).",
        "",
        "| fault | target | faults | samples | missing | p50 | p99 | max | worst region |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in summary:
        lines.append(
            f"| {s['fault']} | {s['target']} | {s['faults']} | {s['samples']} | "
            f"{s['missing']} | {s['p50_s']} s | {s['p99_s']} s | {s['max_s']} s | "
            f"{s['worst_region']} |"
        )
    elections = result.get("etcd_elections", [])
    if elections:
        lines += [
            "",
            "## etcd elections (members' own log)",
            "",
            "| at | member | term | after the kill |",
            "| --- | --- | --- | --- |",
        ]
        for e in elections:
            after = "no kill before it" if e["after_kill_s"] is None else f"{e['after_kill_s']} s"
            lines.append(f"| {e['t']} s | {e['member']} | {e['term']} | {after} |")
    return lines
