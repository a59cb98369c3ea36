"""The archive drill's report: the ordinary drill report, plus the crashes and the
checks across etcd and the archive.

The timeline picture and the first part of ``report.md`` come from :mod:`chaos.report`
(the crashes drawn as fault windows, from the kill to the last region served again);
this module appends a table of the crashes (which centre died, which regions it served,
when each had a new owner, what was left in both places, whether archiving went on) and
the archive's counts and checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaos import report
from chaos.archive_check import ArchiveView

DESCRIPTION = (
    "Under a load of incidents that are closed or cancelled within seconds (hold 1 s), "
    "the archiver's crash point is armed {crashes} times: the first archiver to move a "
    "batch kills its own centre (SIGKILL) after the archive confirmed the batch and "
    "before etcd deleted it. Each time the drill waits until the dead centre's regions "
    "are served again. At the end, etcd and the archive together must hold every "
    "acknowledged incident at its last acknowledged revision and every acknowledged "
    "command exactly once, nothing in both places, nothing twice in the archive."
)


def crash_windows(crashes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The crashes as fault windows for the timeline and the unavailability table."""
    out: list[dict[str, Any]] = []
    for c in crashes:
        if c.get("taken") is None:
            continue
        served = [s["at"] for s in c.get("served_again", {}).values()]
        end = max(served, default=c["taken"])
        out.append(
            {
                "name": "archive-crash",
                "target": c.get("centre") or "?",
                "start": c["taken"],
                "end": end,
                "inject": {"regions": ",".join(c.get("regions", []))},
                "recover": {
                    "new_owner_after_s": round(end - c["taken"], 3),
                    "in_both_places": c.get("in_both_places_after_kill"),
                },
            }
        )
    return out


def crash_problems(crashes: list[dict[str, Any]], wanted: int) -> list[str]:
    """Why the crashes do not count: too few, not taken, no owner change, no progress."""
    problems = [f"{len(crashes)} crashes of {wanted}"] if len(crashes) != wanted else []
    for i, c in enumerate(crashes, 1):
        if c.get("problem"):
            problems.append(f"crash {i}: {c['problem']}")
        served = c.get("served_again", {})
        if c.get("taken") and not any(
            s["centre"] != c.get("centre") and s["token"] > s["token_before"]
            for s in served.values()
        ):
            problems.append(f"crash {i}: no region changed owner")
    return problems


def moved(view: ArchiveView) -> dict[str, int]:
    """What the archive holds at the end (everything in it was moved during the drill)."""
    counts = view.counts
    return {
        "incidents": counts.get("records.incidents", 0),
        "requests": counts.get("records.requests", 0),
        "calls": counts.get("records.calls", 0),
        "journal": counts.get("journal", 0),
        "record_versions": counts.get("record_versions", 0),
    }


def _crash_lines(result: dict[str, Any]) -> list[str]:
    t0 = result["t0"]
    lines = [
        "",
        "## Archiver crashes",
        "",
        "Each crash: the crash file armed; *taken* is when the archiver removed it and "
        "killed its centre; *new owner* is when each region that centre served had a new "
        "owner (etcd owner key, polled every 20 ms); *in both places* counts the keys "
        "live in etcd and already in the archive right after the kill (the batch cut "
        "off; 0 when the new owner finished it before the drill looked); *archiving "
        "after* is the rows the archive gained from the cluster being healthy again to "
        "the next crash or the end (waited for when none had come yet), and whether "
        "each region's new owner made archive passes (its last pass, in the new owner's "
        "status, after the kill).",
        "",
        "| # | armed | taken | centre killed | its regions | new owner (after kill) | "
        "in both places | restarted as | archiving after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, c in enumerate(result.get("crashes", []), 1):
        taken = c.get("taken")
        served = "; ".join(
            f"{r} → {s['centre']} (token {s['token_before']}→{s['token']}) +{s['at'] - taken:.2f} s"
            for r, s in sorted(c.get("served_again", {}).items())
        )
        passes = c.get("new_owner_archiving", {})
        after = f"+{c.get('archive_rows_moved_since', '?')} rows; passes " + (
            ", ".join(f"{r} {'yes' if ok else 'NO'}" for r, ok in passes.items()) or "—"
        )
        lines.append(
            f"| {i} | {c['armed'] - t0:.1f} s | "
            f"{'—' if taken is None else f'{taken - t0:.2f} s'} | {c.get('centre') or '—'} | "
            f"{', '.join(c.get('regions', []))} | {served or '—'} | "
            f"{c.get('in_both_places_after_kill', '—')} "
            f"({', '.join(c.get('cut_off_kinds', []) + c.get('cut_off_regions', [])) or '—'})"
            " | "
            f"{(c.get('instance_after') or '—')[-12:]} | {after} |"
        )
        if c.get("problem"):
            lines.append(f"|  | **problem:** {c['problem']} |  |  |  |  |  |  |  |")
    return lines


def _check_lines(result: dict[str, Any], history: list[dict[str, Any]]) -> list[str]:
    c = result["check"]["counts"]
    m = result.get("moved", {})
    s = result.get("settle", {})
    return [
        "",
        "## Across etcd and the archive",
        "",
        f"Moved to the archive during the drill: **{m.get('incidents', 0)} incidents**, "
        f"{m.get('journal', 0)} journal entries ({m.get('record_versions', 0)} record "
        f"versions), {m.get('requests', 0)} idempotency records.",
        "",
        f"After the load: waited {s.get('waited_s', '?')} s until the archivers had moved "
        f"everything (settled: {s.get('settled')}; closed incidents still live "
        f"{s.get('closed_live', '?')}, journal entries still live "
        f"{s.get('journal_live', '?')}).",
        "",
        "| check | found |",
        "| --- | --- |",
        f"| acknowledged operations / incidents with acknowledged commands | "
        f"{c['acked']} / {c['histories_checked']} |",
        f"| incidents live / archived (acknowledged closed or cancelled: "
        f"{c['acked_incidents_ended']}) | {c['incidents_live']} / {c['incidents_archived']} |",
        f"| journal entries live / archived | {c['journal_live']} / {c['journal_archived']} |",
        f"| idempotency records live / archived | {c['requests_live']} / "
        f"{c['requests_archived']} |",
        f"| **lost** (acknowledged and missing, wrong final revision, missing from the "
        f"incident's history, no request record, not journaled) | **{c['lost']}** |",
        f"| **doubled** (live and archived, (key, revision) twice, two revisions archived, "
        f"request journaled twice, one incident under two keys) | **{c['duplicated']}** |",
        f"| calls answered only after a retry under the same request id | "
        f"{sum(1 for r in history if r.get('ok') and r.get('attempts', 1) > 1)} |",
        f"| stale writes accepted (fencing order, live and archived journal) | "
        f"{c['stale_accepted']} |",
        f"| closed incidents still live after the wait | {c['closed_still_live']} |",
    ]


def write(result: dict[str, Any], history: list[dict[str, Any]], report_dir: Path) -> dict:
    """``report.md`` and the timeline (via :mod:`chaos.report`), with the archive parts."""
    written = report.write(result, history, report_dir)
    md = report_dir / "report.md"
    md.write_text(
        md.read_text() + "\n".join(_crash_lines(result) + _check_lines(result, history)) + "\n"
    )
    return written


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """What the command prints: the verdict and the figures worth a glance."""
    chk = result.get("check", {})
    return {
        "scenario": result.get("scenario"),
        "exit_code": result.get("exit_code"),
        "violations": chk.get("violations"),
        "counts": chk.get("counts"),
        "moved": result.get("moved"),
        "crashes": [
            {
                "centre": c.get("centre"),
                "regions": c.get("regions"),
                "new_owner_after_s": {
                    r: round(s["at"] - c["taken"], 3) for r, s in c.get("served_again", {}).items()
                },
                "in_both_places": c.get("in_both_places_after_kill"),
                "problem": c.get("problem"),
            }
            for c in result.get("crashes", [])
        ],
        "report": result.get("report"),
    }
