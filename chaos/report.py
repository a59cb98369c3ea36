"""Drill reports: JSON for machines, Markdown for people, and a timeline picture.

The picture is hand-written SVG (matplotlib is not a dependency, and a timeline is only
rectangles and text), converted to PNG with ``rsvg-convert`` when it is installed so it
shows in any viewer. One glance should answer a supervisor's questions: when did the
fault hit (red shading), who served each region at each moment (a coloured band per
region, named by centre; a gap is a region nobody served), did the load keep being
answered (acknowledged operations per half second, errors in red), and was anything
written by a deposed owner (a black cross on the region's row).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path
from typing import Any

from chaos import call_check, fault_figures

CENTRE_COLOURS = {
    "oslo": "#1f77b4",
    "vestre-viken": "#17becf",
    "innlandet": "#9467bd",
    "sorlandet": "#8c564b",
    "vestfold-telemark": "#2ca02c",
}
# The other centres (sixteen in the whole country): distinct, none of them the faults' red.
FALLBACK_COLOURS = [
    "#bcbd22", "#7f7f7f", "#e377c2", "#aec7e8", "#ff7f0e", "#98df8a", "#c5b0d5",
    "#c49c94", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#9edae5",
    "#dbdb8d", "#f7b6d2",
]  # fmt: skip
BIN_S = 0.5
W, LEFT, RIGHT = 1100, 150, 30


def _colour(centre: str, seen: dict[str, str]) -> str:
    if centre not in seen:
        seen[centre] = (
            CENTRE_COLOURS.get(centre) or FALLBACK_COLOURS[len(seen) % len(FALLBACK_COLOURS)]
        )
    return seen[centre]


def _esc(s: Any) -> str:
    return html.escape(str(s))


def _raw_errors_text(result: dict[str, Any]) -> str:
    raw = result.get("raw_client")
    return f" · raw client errors {raw.get('errors', 0)}" if raw else ""


def timeline_svg(result: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """The drill as one SVG: load and errors on top, region owners below, faults shaded."""
    t0, t_end = result["t0"], result["t_end"]
    span = max(1.0, t_end - t0 + 1.0)
    regions: list[str] = sorted({e["region"] for e in result.get("owner_events", [])}) or list(
        result.get("regions", [])
    )
    plot_w = W - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + max(0.0, min(span, t - t0)) / span * plot_w

    faults = sorted(result.get("faults", []), key=lambda f: f["start"])
    lanes: list[float] = []  # right end of the last label in each lane
    lane_of: list[int] = []
    for f in faults:
        fx = x(f["start"])
        width = 8 * len(f"{f['name']} {f.get('target', '')}") + 10
        lane = next((i for i, end in enumerate(lanes) if fx > end), len(lanes))
        if lane == len(lanes):
            lanes.append(0.0)
        lanes[lane] = fx + width
        lane_of.append(lane)
    load_top, load_h = 56 + 16 * max(1, len(lanes)), 150
    rows_top, row_h = load_top + load_h + 40, 30
    height = rows_top + row_h * len(regions) + 90
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f'<rect width="{W}" height="{height}" fill="white"/>',
    ]
    verdict = "PASS" if result.get("exit_code") == 0 else "FAIL"
    colour = "#2ca02c" if verdict == "PASS" else "#d62728"
    c = result.get("check", {}).get("counts", {})
    out.append(
        f'<text x="{LEFT}" y="24" font-size="17" font-weight="bold">Drill '
        f'"{_esc(result["scenario"])}": <tspan fill="{colour}">{verdict}</tspan></text>'
    )
    out.append(
        f'<text x="{LEFT}" y="46" fill="#333">{c.get("acked", 0)} acknowledged of '
        f"{c.get('ops', 0)} operations · lost {c.get('lost', 0)} · duplicated "
        f"{c.get('duplicated', 0)} · stale writes accepted {c.get('stale_accepted', 0)} · "
        f"fenced {c.get('fenced_server', 0)}{_raw_errors_text(result)}</text>"
    )
    # ---- load: acknowledged operations and errors per bin
    n_bins = int(span / BIN_S) + 1
    ok_bins, err_bins = [0] * n_bins, [0] * n_bins
    for r in history:
        if r.get("via") == "direct":
            continue
        i = int((r.get("t_done", r["t"]) - t0) / BIN_S)
        if 0 <= i < n_bins:
            (ok_bins if r.get("ok") else err_bins)[i] += 1
    peak = max([*ok_bins, *err_bins, 1])
    bottom = load_top + load_h
    out.append(f'<text x="{LEFT - 10}" y="{load_top + 12}" text-anchor="end">ops per</text>')
    out.append(f'<text x="{LEFT - 10}" y="{load_top + 26}" text-anchor="end">{BIN_S} s</text>')
    out.append(
        f'<text x="{LEFT - 10}" y="{load_top + 48}" text-anchor="end" fill="#4a78a8">'
        "acknowledged</text>"
    )
    out.append(
        f'<text x="{LEFT - 10}" y="{load_top + 64}" text-anchor="end" fill="#d62728">errors</text>'
    )
    bw = plot_w / span * BIN_S
    for i, (ok, err) in enumerate(zip(ok_bins, err_bins, strict=True)):
        bx = LEFT + i * bw
        if ok:
            h = ok / peak * (load_h - 10)
            out.append(
                f'<rect x="{bx:.1f}" y="{bottom - h:.1f}" width="{max(1.0, bw - 1):.1f}" '
                f'height="{h:.1f}" fill="#4a78a8"/>'
            )
        if err:
            h = err / peak * (load_h - 10)
            out.append(
                f'<rect x="{bx + bw * 0.25:.1f}" y="{bottom - h:.1f}" '
                f'width="{max(1.0, bw * 0.5):.1f}" height="{h:.1f}" fill="#d62728"/>'
            )
    out.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{W - RIGHT}" y2="{bottom}" stroke="#333"/>'
        f'<line x1="{LEFT}" y1="{load_top}" x2="{LEFT}" y2="{bottom}" stroke="#333"/>'
        f'<text x="{LEFT + 4}" y="{load_top + 10}" fill="#555">{peak}</text>'
    )
    # ---- region rows: owner bands
    seen: dict[str, str] = {}
    events = sorted(result.get("owner_events", []), key=lambda e: e["t"])
    for ri, region in enumerate(regions):
        y = rows_top + ri * row_h
        out.append(f'<text x="{LEFT - 10}" y="{y + 19}" text-anchor="end">{_esc(region)}</text>')
        out.append(
            f'<rect x="{LEFT}" y="{y + 3}" width="{plot_w}" height="{row_h - 6}" fill="#fff" '
            'stroke="#d62728" stroke-dasharray="3,2"/>'
        )
        mine = [e for e in events if e["region"] == region]
        for j, e in enumerate(mine):
            start = max(e["t"], t0)
            end = mine[j + 1]["t"] if j + 1 < len(mine) else t0 + span
            if end <= t0 or not e["centre"]:
                continue
            x1, x2 = x(start), x(end)
            out.append(
                f'<rect x="{x1:.1f}" y="{y + 3}" width="{max(1.0, x2 - x1):.1f}" '
                f'height="{row_h - 6}" fill="{_colour(e["centre"], seen)}"/>'
            )
            if x2 - x1 > 90:
                out.append(
                    f'<text x="{x1 + 5:.1f}" y="{y + 19}" fill="white" font-size="11">'
                    f"{_esc(e['centre'])} (token {e['token']})</text>"
                )
        for s in result.get("check", {}).get("stale_accepted", []):
            if s.get("region") == region and s.get("at"):
                sx = x(s["at"])
                out.append(
                    f'<path d="M{sx - 5:.1f},{y + 6} l10,18 m0,-18 l-10,18" stroke="black" '
                    'stroke-width="2.5"/>'
                )
    rows_bottom = rows_top + row_h * len(regions)
    # ---- fault windows over everything
    for f, lane in zip(faults, lane_of, strict=True):
        fx1, fx2 = x(f["start"]), x(f.get("end", f["start"]))
        out.append(
            f'<rect x="{fx1:.1f}" y="{load_top}" width="{max(2.0, fx2 - fx1):.1f}" '
            f'height="{rows_bottom - load_top}" fill="#d62728" fill-opacity="0.15" '
            'stroke="#d62728" stroke-opacity="0.6"/>'
        )
        label = f"{f['name']} {f.get('target', '')}".strip()
        out.append(
            f'<text x="{fx1 + 3:.1f}" y="{load_top - 6 - 16 * lane}" fill="#b00" '
            'font-weight="bold">'
            f"{_esc(label)}</text>"
        )
    # ---- times with no gateway at all, over the load
    for start, end in result.get("no_gateway") or []:
        gx1, gx2 = x(start), x(end if end is not None else t_end)
        out.append(
            f'<rect x="{gx1:.1f}" y="{load_top}" width="{max(2.0, gx2 - gx1):.1f}" '
            f'height="{load_h}" fill="#333" fill-opacity="0.35"/>'
        )
    # ---- time axis
    step = 5 if span <= 60 else 10
    tick = 0
    while tick <= span:
        tx = x(t0 + tick)
        out.append(
            f'<line x1="{tx:.1f}" y1="{rows_bottom}" x2="{tx:.1f}" y2="{rows_bottom + 5}" '
            f'stroke="#333"/><text x="{tx:.1f}" y="{rows_bottom + 18}" '
            f'text-anchor="middle">{tick} s</text>'
        )
        tick += step
    # ---- legend (wrapped: the whole country has sixteen centres)
    ly = rows_bottom + 45
    lx = LEFT
    out.append(f'<text x="{LEFT - 10}" y="{ly + 11}" text-anchor="end">owner</text>')

    def room_for(width: float) -> tuple[float, float]:
        """Where an item of ``width`` goes: on this row, or at the start of the next."""
        return (lx, ly) if lx + width <= W - RIGHT else (LEFT, ly + 22)

    for centre, col in seen.items():
        lx, ly = room_for(18 + 7 * len(centre))
        out.append(f'<rect x="{lx}" y="{ly}" width="14" height="14" fill="{col}"/>')
        out.append(f'<text x="{lx + 18}" y="{ly + 12}">{_esc(centre)}</text>')
        lx += 30 + 7 * len(centre)
    lx, ly = room_for(95 + 65 + 160)
    out.append(
        f'<rect x="{lx}" y="{ly}" width="14" height="14" fill="white" stroke="#d62728" '
        f'stroke-dasharray="3,2"/><text x="{lx + 18}" y="{ly + 12}">no owner</text>'
    )
    lx += 95
    out.append(
        f'<rect x="{lx}" y="{ly}" width="14" height="14" fill="#d62728" fill-opacity="0.15" '
        f'stroke="#d62728"/><text x="{lx + 18}" y="{ly + 12}">fault</text>'
    )
    lx += 65
    out.append(
        f'<path d="M{lx},{ly} l12,14 m0,-14 l-12,14" stroke="black" stroke-width="2.5"/>'
        f'<text x="{lx + 18}" y="{ly + 12}">stale write accepted</text>'
    )
    if result.get("no_gateway"):  # a row of its own
        ly += 22
        out.append(
            f'<rect x="{LEFT}" y="{ly}" width="14" height="14" fill="#333" '
            f'fill-opacity="0.35"/><text x="{LEFT + 18}" y="{ly + 12}">no gateway serving '
            "(gRPC health check, probed from the drill)</text>"
        )
    if ly + 30 > height:  # the legend took more rows than the height allowed for
        old = f'height="{height}"'
        out[0], out[1] = (x.replace(old, f'height="{ly + 30}"', 1) for x in out[:2])
    out.append("</svg>")
    return "\n".join(out)


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:.2f} s" if isinstance(v, float) else str(v)


def _detail(key: str, value: Any, t0: float) -> str:
    """A fault detail; wall-clock times (keys ending ``_at``) as seconds into the drill."""
    if key.endswith("_at") and isinstance(value, list | tuple):
        return "–".join("…" if v is None else f"{v - t0:.2f}" for v in value) + " s"
    if key.endswith("_at") and isinstance(value, float):
        return f"{value - t0:.2f} s"
    return str(value)


def _client_error_lines(result: dict[str, Any], chk: dict[str, Any]) -> list[str]:
    """The summary's line on failed client calls, when the drill demands none or
    measured a time with no gateway at all."""
    split = chk.get("client_errors", {})
    if not (result.get("no_client_errors") or result.get("no_gateway")):
        return []
    served, none_up = split.get("with_a_gateway", {}), split.get("no_gateway", {})

    def codes(d: dict[str, int]) -> str:
        return f" ({', '.join(f'{k} {v}' for k, v in sorted(d.items()))})" if d else ""

    demand = " (the drill demands 0)" if result.get("no_client_errors") else ""
    return [
        f"- Client calls failed while at least one gateway served: "
        f"**{sum(served.values())}**{codes(served)}{demand}; during the time with no "
        f"gateway at all: {sum(none_up.values())}{codes(none_up)}"
    ]


def _raw_client_lines(result: dict[str, Any]) -> list[str]:
    """The summary's line on the raw client: plain gRPC stubs with no retries of their
    own, so every error the gateway answered during a failover shows here."""
    raw = result.get("raw_client")
    if not raw:
        return []
    codes = ", ".join(f"{k} {v}" for k, v in sorted(raw.get("errors_by_code", {}).items()))
    lines = [
        f"- Raw client errors: **{raw.get('errors', 0)}**{f' ({codes})' if codes else ''} "
        f"of {raw.get('errors', 0) + raw.get('acked', 0)} creates "
        f"({raw.get('writers')} grpc.aio writers with no retries, {raw.get('deadline_s')} s "
        f"deadline, on {raw.get('address')}, to {', '.join(raw.get('regions', []))}); "
        f"its acknowledged creates lost {raw.get('lost', 0)}, duplicated "
        f"{raw.get('duplicated', 0)}"
    ]
    lines += [f"  - {n} × `{d}`" for d, n in raw.get("details", {}).items()]
    return lines


def _no_gateway_lines(result: dict[str, Any], chk: dict[str, Any]) -> list[str]:
    """The times with no gateway at all that probing faults measured."""
    windows = result.get("no_gateway") or []
    if not windows:
        return []
    t0 = result.get("t0", 0.0)
    lines = [
        "",
        "## Time with no gateway at all",
        "",
        "From the kill that left no gateway until the first gateway answered the gRPC "
        'health check (`grpc.health.v1`, service `""`) again, probed from the drill.',
        "",
    ]
    for start, end in windows:
        took = "not back while probed" if end is None else f"**{end - start:.3f} s**"
        span = f"{start - t0:.2f} s – {'…' if end is None else f'{end - t0:.2f} s'}"
        lines.append(f"- {span}: {took}")
    none_up = chk.get("client_errors", {}).get("no_gateway", {})
    codes = ", ".join(f"{k} {v}" for k, v in sorted(none_up.items())) or "none"
    lines.append(f"- Client calls that failed and overlapped it: {codes}")
    return lines


def owner_change_lines(result: dict[str, Any]) -> list[str]:
    """Every change of a region's owner after the first owners seen, and how long the
    region had no owner before it (as the drill's 10-per-second poll saw it)."""
    t0 = result.get("t0", 0.0)
    seen: dict[str, tuple[str | None, float]] = {}
    rows: list[str] = []
    for e in sorted(result.get("owner_events", []), key=lambda e: e["t"]):
        before = seen.get(e["region"])
        seen[e["region"]] = (e["centre"], e["t"])
        if before is None or e["centre"] is None:
            continue
        unowned = e["t"] - before[1] if before[0] is None else 0.0
        rows.append(
            f"| {e['region']} | {e['t'] - t0:.2f} s | {e['centre']} | {e['token']} | "
            f"{unowned:.2f} s |"
        )
    if not rows:
        return ["", "## Owner changes", "", "- none: every region kept its owner"]
    head = "| region | at | new owner | token | without an owner before |"
    return ["", "## Owner changes", "", head, "| --- | --- | --- | --- | --- |", *rows]


def markdown(result: dict[str, Any], image: str) -> str:
    """The report a supervisor reads: verdict first, then what happened, then numbers."""
    chk = result.get("check", {})
    c = chk.get("counts", {})
    verdict = "PASS" if result.get("exit_code") == 0 else "FAIL"
    lines = [
        f"# Drill report: {result['scenario']} — **{verdict}**",
        "",
        result.get("description", ""),
        "",
    ]
    if result.get("expect") == "violations":
        lines += [
            "> This drill runs with fencing switched **off** (test-only) to prove the checker "
            "catches a deposed owner's writes: FAIL with stale writes is the expected outcome.",
            "",
        ]
    if chk.get("violations"):
        lines += [f"Failed on: {'; '.join(chk['violations'])}.", ""]
    lines += [
        f"- Acknowledged operations: **{c.get('acked', 0)}** of {c.get('ops', 0)} "
        f"({c.get('acked_creates', 0)} incidents created)",
        f"- Lost: **{c.get('lost', 0)}** · duplicated: **{c.get('duplicated', 0)}** · "
        f"stale writes accepted: **{c.get('stale_accepted', 0)}**",
        f"- Fenced writes (centres' stores): {c.get('fenced_server', 0)}; client calls that "
        f"ended in ABORTED/UNAVAILABLE: {c.get('fence_or_failover_errors_client', 0)}",
        *_raw_client_lines(result),
        *_client_error_lines(result, chk),
        f"- Health before: {'ok' if result.get('health_before', {}).get('ok') else 'NOT OK'}; "
        f"after: {'ok' if result.get('health_after', {}).get('ok') else 'NOT OK'} "
        f"{'; '.join(result.get('health_after', {}).get('problems', []))}",
        "",
        f"![timeline]({image})",
        "",
        "## Faults",
        "",
        "| fault | target | at | lasted | details |",
        "| --- | --- | --- | --- | --- |",
    ]
    t0 = result.get("t0", 0.0)
    for f in result.get("faults", []):
        details = {**f.get("inject", {}), **f.get("recover", {})}
        lines.append(
            f"| {f['name']} | {f.get('target', '')} | {f['start'] - t0:.1f} s | "
            f"{f.get('end', f['start']) - f['start']:.1f} s | "
            f"{', '.join(f'{k}={_detail(k, v, t0)}' for k, v in details.items())} |"
        )
    lines += _no_gateway_lines(result, chk)
    lines += owner_change_lines(result)
    lines += [
        "",
        "## Unavailability per region (client's view)",
        "",
        "Longest gap between acknowledged operations, and per fault the time from the fault "
        "to the first acknowledged operation started after it.",
        "",
    ]
    faults = result.get("faults", [])
    head = "| region | acked | longest gap |" + "".join(
        f" after {f['name']} {f.get('target', '')} |" for f in faults
    )
    lines += [head, "|" + " --- |" * (3 + len(faults))]
    for region, u in chk.get("unavailability", {}).items():
        cells = "".join(f" {_fmt(pf['first_ack_after_s'])} |" for pf in u["faults"])
        lines.append(f"| {region} | {u['acked']} | {_fmt(u['max_gap_s'])} |{cells}")
    lines += fault_figures.markdown_lines(result)
    lines += call_check.markdown_lines(result)
    lines += ["", "## Client errors by status code", ""]
    errors = chk.get("errors_by_code", {})
    lines += [f"- {k}: {v}" for k, v in sorted(errors.items())] or ["- none"]
    failed_served = []
    if result.get("no_client_errors") or result.get("no_gateway"):
        failed_served = chk.get("client_errors", {}).get("failed", [])
    for title, items in (
        ("Lost", chk.get("lost", [])),
        ("Duplicated", chk.get("duplicated", [])),
        ("Stale writes accepted", chk.get("stale_accepted", [])),
        ("Client calls failed while a gateway served", failed_served),
    ):
        if items:
            lines += ["", f"## {title} (first {len(items)})", ""]
            lines += [f"- `{item}`" for item in items]
    lines += ["", f"Key prefix `{result.get('key_prefix', '')}`; history in `history.jsonl`."]
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], history: list[dict[str, Any]], report_dir: Path) -> dict:
    """Write timeline.svg (and .png when rsvg-convert exists) and report.md; adds the
    figures across faults (:mod:`chaos.fault_figures`) to ``result`` for report.json."""
    result.update(fault_figures.figures(result, report_dir))
    svg = report_dir / "timeline.svg"
    svg.write_text(timeline_svg(result, history))
    image = svg.name
    converter = shutil.which("rsvg-convert")
    if converter:
        png = report_dir / "timeline.png"
        done = subprocess.run(
            [converter, "-o", str(png), str(svg)], capture_output=True, timeout=30
        )
        if done.returncode == 0:
            image = png.name
    (report_dir / "report.md").write_text(markdown(result, image))
    return {"markdown": str(report_dir / "report.md"), "image": str(report_dir / image)}
