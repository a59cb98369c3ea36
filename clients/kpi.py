"""``amk kpi``: answer, dispatch and on-scene times against the national targets, as a
table, as JSON, or as an SVG picture.

The figures come from ``GetKpis`` (definitions in ``actors/domain/kpi.py``): per region
(and urgency) the count, the median (p50) and the 90th percentile (p90, nearest-rank),
and the share within the target, where there is one:

- 113 answer: 90 % within 10 s (akuttmedisinforskriften § 15 b);
- on scene, akutt: 90 % within 12 min in towns and 25 min in rural areas (national
  recommended response times). Without a town/rural model each akutt row is held to
  both, as two figures;
- dispatch, and on scene for haster/vanlig: no national target;
- alert delays (issue #19): 113 call answered to the trippelvarsling alert sent, per
  service (110, 112), and the hospital pre-notification's lead time before the unit's
  arrival, per condition: no national target either.

The picture is written by hand as SVG (no plotting library in the deployment).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.enums import ALERT_SERVICE, DESTINATION_CONDITION, URGENCY, enum_name
from clients.render import urgency_text

MEASURE_LABEL = {
    "answer": "113 answer",
    "dispatch": "to dispatch",
    "response": "response (from call)",
    "response_no_call": "no call (from creation)",
    "on_scene": "to on scene",
    "alert_sent": "113 answered → alert sent",
    "prenotification_lead": "pre-notification lead",
    "tcpr_started": "113 answered → CPR guidance started",
    "tcpr_compressions": "113 answered → first compression",
}
_MEASURE_ORDER = {m: i for i, m in enumerate(MEASURE_LABEL)}
_AREA_ORDER = {"": 0, "urban": 1, "rural": 2, "unknown": 3}


def detail(f: pb.KpiFigure) -> str:
    """The figure's breakdown: its area, the service alerted or the patient's condition."""
    if f.alert_service:
        return enum_name(f.alert_service, ALERT_SERVICE).replace("_", " ")
    if f.condition:
        return enum_name(f.condition, DESTINATION_CONDITION)
    return f.area


def counted_apart(f: pb.KpiFigure) -> str:
    """What a figure leaves out or counts beside its values, for people."""
    parts: list[str] = []
    if f.measure == "answer":
        parts.append(f"{f.abandoned} abandoned")
        parts.append(f"{f.unanswered_after_limit} unanswered > {f.limit_s:g} s")
    for e in f.excluded:
        parts.append(f"{e.count} {e.reason.replace('_', ' ')}")
    return ", ".join(parts)


_URGENCY_ORDER = {
    pb.URGENCY_AKUTT: 0,
    pb.URGENCY_HASTER: 1,
    pb.URGENCY_VANLIG: 2,
    pb.URGENCY_UNSPECIFIED: 3,
}


# ---------------------------------------------------------------- the call


def kpi_figures(
    client: Any, regions: str | Iterable[str] = (), since: float | datetime | None = None
) -> list[pb.KpiFigure]:
    """``GetKpis`` for ``regions`` (empty: all), optionally only what started ``since``
    (epoch seconds or an aware datetime)."""
    parts = [regions] if isinstance(regions, str) else list(regions)
    names = [r.strip() for part in parts for r in part.split(",") if r.strip()]
    req = pb.GetKpisRequest(regions=names)
    if since is not None:
        seconds = since.timestamp() if isinstance(since, datetime) else float(since)
        ts = Timestamp()
        ts.FromNanoseconds(int(seconds * 1e9))
        req.since.CopyFrom(ts)
    return list(client._unary("GetKpis", req).figures)


# ---------------------------------------------------------------- words and numbers


def format_duration(seconds: float) -> str:
    """``8.2 s``, ``14m10s``, ``1h05m``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def format_target(seconds: float) -> str:
    """``10 s``, ``12 min``."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


def meets(f: pb.KpiFigure) -> bool | None:
    """Whether the figure meets its target share; None without a target."""
    if not f.target_s:
        return None
    return f.share_within_target >= f.target_share


def _ordered(figures: Iterable[pb.KpiFigure]) -> list[pb.KpiFigure]:
    return sorted(
        figures,
        key=lambda f: (
            f.region,
            _MEASURE_ORDER.get(f.measure, 9),
            f.alert_service,
            f.condition,
            _URGENCY_ORDER.get(f.urgency, 9),
            _AREA_ORDER.get(f.area, 9),
            f.target_s,
        ),
    )


# ---------------------------------------------------------------- table


def kpi_table(figures: Sequence[pb.KpiFigure]) -> RenderableType:
    """One row per figure, then the targets' sources as numbered notes."""
    if not figures:
        return Text(
            "no figures: no answered calls or dispatched incidents (in this window)", style="dim"
        )
    table = Table(title="KPIs", title_justify="left")
    table.add_column("Measure", no_wrap=True)
    table.add_column("Region", no_wrap=True)
    table.add_column("Urgency", no_wrap=True)
    table.add_column("Area / for", no_wrap=True)
    for column in ("n", "p50", "p90"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("Target", no_wrap=True)
    table.add_column("Within target", justify="right", no_wrap=True)
    table.add_column("Counted apart")
    notes: list[str] = []
    previous: tuple[str, str] | None = None
    for f in _ordered(figures):
        target: RenderableType = Text("-", style="dim")
        within: RenderableType = Text("-", style="dim")
        if f.target_text and f.target_text not in notes:
            notes.append(f.target_text)
        mark = f" [{notes.index(f.target_text) + 1}]" if f.target_text else ""
        if f.target_s:
            target = Text(f"{f.target_share:.0%} ≤ {format_target(f.target_s)}{mark}")
            ok = meets(f)
            within = Text(
                f"{f.share_within_target:.0%} {'✔' if ok else '✘'}",
                style="bold green" if ok else "bold red",
            )
        elif mark:
            target = Text(f"none{mark}", style="dim")
        group = (f.region, f.measure)
        if previous is not None and f.region != previous[0]:
            table.add_section()
        table.add_row(
            MEASURE_LABEL.get(f.measure, f.measure) if group != previous else "",
            f.region if previous is None or f.region != previous[0] else "",
            urgency_text(f.urgency),
            detail(f),
            str(f.count),
            format_duration(f.p50_s) if f.count else "-",
            format_duration(f.p90_s) if f.count else "-",
            target,
            within,
            Text(counted_apart(f), style="dim"),
        )
        previous = group
    footer = Text()
    for i, note in enumerate(notes, 1):
        footer.append(f"[{i}] {note}\n", style="dim")
    footer.rstrip()
    return Group(table, footer)


# ---------------------------------------------------------------- picture

_PASS, _PARTIAL, _FAIL, _NONE = "#2e7d32", "#ef8f00", "#c62828", "#90a4ae"
_URGENCY_FILL = {
    pb.URGENCY_AKUTT: ("#c62828", "#ffffff"),
    pb.URGENCY_HASTER: ("#f9c80e", "#000000"),
    pb.URGENCY_VANLIG: ("#2e7d32", "#ffffff"),
}
_FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"

WIDTH = 1180
LABEL_X = 16  # region names
BADGE_X = 130  # urgency badges
X0, X1 = 230, 660  # the time axis
NOTE_X = 676  # numbers to the right of each bar
ROW_H = 26
BAR_H = 14


def _nice_step(span: float, most: int = 8) -> float:
    """A round tick step (1, 2, 5, 10, 15, 30, 60 ... units) giving at most ``most`` ticks."""
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1800, 3600):
        if span / step <= most:
            return float(step)
    return float(10 ** math.ceil(math.log10(span / most)))


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, **attrs: Any) -> None:
        attr = " ".join(f'{k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" {attr}>{escape(text)}</text>')


def _bar_colour(group: list[pb.KpiFigure]) -> str:
    results = [meets(f) for f in group if f.target_s]
    if not results:
        return _NONE
    if all(results):
        return _PASS
    return _PARTIAL if any(results) else _FAIL


def _section(
    svg: _Svg,
    top: float,
    title: str,
    rows: list[list[pb.KpiFigure]],
    unit_s: float,
    unit: str,
    targets: list[tuple[float, str]],
) -> float:
    """One chart: a bar per row (p90), a tick at p50, dashed target lines. Returns the
    y below it."""
    svg.text(LABEL_X, top + 16, title, font_size=15, font_weight="bold", class_="section")
    longest = max([f.p90_s for g in rows for f in g] + [t for t, _ in targets] + [unit_s])
    step = _nice_step(longest * 1.08 / unit_s)
    x_max = math.ceil(longest * 1.08 / unit_s / step) * step * unit_s

    def x(seconds: float) -> float:
        return X0 + (X1 - X0) * min(seconds, x_max) / x_max

    y0 = top + 56  # first row's top; target labels sit above it
    y_end = y0 + ROW_H * len(rows)
    # Grid and axis.
    ticks = round(x_max / unit_s / step)
    for i in range(ticks + 1):
        value = i * step * unit_s
        xi = x(value)
        svg.add(
            f'<line x1="{xi:.1f}" y1="{y0 - 4:.1f}" x2="{xi:.1f}" y2="{y_end:.1f}" '
            'stroke="#e0e0e0" stroke-width="1"/>'
        )
        svg.text(
            xi, y_end + 16, f"{i * step:g}", font_size=11, text_anchor="middle", fill="#555555"
        )
    svg.text((X0 + X1) / 2, y_end + 32, unit, font_size=11, text_anchor="middle", fill="#555555")
    svg.add(
        f'<line x1="{X0}" y1="{y_end:.1f}" x2="{X1}" y2="{y_end:.1f}" stroke="#555555" '
        'stroke-width="1"/>'
    )
    # Rows.
    previous_region = ""
    band = -1
    for i, group in enumerate(rows):
        f = group[0]
        top_i = y0 + i * ROW_H
        mid = top_i + ROW_H / 2
        band += f.region != previous_region  # one shade per region
        if band % 2 == 0:
            svg.add(
                f'<rect x="{LABEL_X - 6}" y="{top_i:.1f}" width="{WIDTH - 2 * LABEL_X + 12}" '
                f'height="{ROW_H}" fill="#f7f7f7"/>'
            )
        if f.region != previous_region:
            svg.text(LABEL_X, mid + 4, f.region, font_size=13, class_="row-label")
            previous_region = f.region
        if f.measure != "answer":
            fill, ink = _URGENCY_FILL.get(f.urgency, ("#e0e0e0", "#000000"))
            name = enum_name(f.urgency, URGENCY) if f.urgency else "not triaged"
            if f.measure == "response" and f.area:
                name = f.area  # every response row is akutt (red): the badge shows its area
            svg.add(
                f'<rect x="{BADGE_X}" y="{mid - 8:.1f}" width="94" height="16" rx="3" '
                f'fill="{fill}" class="badge"/>'
            )
            svg.text(
                BADGE_X + 47,
                mid + 4,
                name.upper(),
                font_size=10,
                font_weight="bold",
                text_anchor="middle",
                fill=ink,
            )
        colour = _bar_colour(group)
        width = max(1.0, x(f.p90_s) - X0)
        svg.add(
            f'<rect class="bar" data-region="{_attr(f.region)}" data-measure="{_attr(f.measure)}" '
            f'x="{X0}" y="{mid - BAR_H / 2:.1f}" width="{width:.1f}" height="{BAR_H}" '
            f'fill="{colour}" fill-opacity="0.85"><title>{escape(_describe(group))}</title></rect>'
        )
        xp = x(f.p50_s)
        svg.add(
            f'<line class="p50" x1="{xp:.1f}" y1="{mid - BAR_H / 2 - 3:.1f}" x2="{xp:.1f}" '
            f'y2="{mid + BAR_H / 2 + 3:.1f}" stroke="#111111" stroke-width="3"/>'
        )
        _row_note(svg, NOTE_X, mid + 4, group)
    # Target lines over the rows; labels of lines close together take turns in height.
    last_x = -math.inf
    lift = 0.0
    for seconds, label in sorted(targets):
        xt = x(seconds)
        lift = 12.0 if xt - last_x < 8 * len(label) and lift == 0 else 0.0
        last_x = xt
        svg.add(
            f'<line class="target" x1="{xt:.1f}" y1="{y0 - 14 - lift:.1f}" x2="{xt:.1f}" '
            f'y2="{y_end:.1f}" stroke="#b71c1c" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        svg.text(
            xt,
            y0 - 18 - lift,
            label,
            font_size=11,
            text_anchor="middle",
            fill="#b71c1c",
            class_="target",
        )
    return y_end + 48


def _describe(group: list[pb.KpiFigure]) -> str:
    f = group[0]
    text = (
        f"{f.region} {MEASURE_LABEL.get(f.measure, f.measure)}: n={f.count}, "
        f"p50 {format_duration(f.p50_s)}, p90 {format_duration(f.p90_s)}"
    )
    for g in group:
        if g.target_s:
            text += f"; {g.share_within_target:.0%} within {format_target(g.target_s)}"
    return text


def _row_note(svg: _Svg, x: float, y: float, group: list[pb.KpiFigure]) -> None:
    f = group[0]
    parts = [
        f'<tspan fill="#333333">p50 {escape(format_duration(f.p50_s))} · '
        f"p90 {escape(format_duration(f.p90_s))} · n={f.count}</tspan>"
    ]
    if f.measure == "answer":
        late_colour = _FAIL if f.unanswered_after_limit else "#333333"
        parts.append(
            f'<tspan dx="8" fill="{late_colour}">{f.unanswered_after_limit} unanswered '
            f"&gt; {f.limit_s:g} s · {f.abandoned} abandoned</tspan>"
        )
    for g in group:
        if not g.target_s:
            continue
        ok = meets(g)
        parts.append(
            f'<tspan dx="12" fill="{_PASS if ok else _FAIL}" font-weight="bold">'
            f"{g.share_within_target:.0%} ≤ {escape(format_target(g.target_s))} "
            f"{'✔' if ok else '✘'}</tspan>"
        )
    svg.add(f'<text class="note" x="{x:.1f}" y="{y:.1f}" font-size="12">{"".join(parts)}</text>')


def _rows(figures: Iterable[pb.KpiFigure], measure: str) -> list[list[pb.KpiFigure]]:
    """Figures of one measure, one row per (region, urgency, area) (an unknown area:
    two targets on one row)."""
    rows: dict[tuple[str, int, str], list[pb.KpiFigure]] = {}
    for f in _ordered(figures):
        if f.measure == measure:
            rows.setdefault((f.region, f.urgency, f.area), []).append(f)
    return list(rows.values())


def plot_svg(figures: Sequence[pb.KpiFigure], title: str = "AMK KPIs") -> str:
    """The SVG text: per region, 113 answer times and akutt response times (from the
    call), each a bar to the p90 with a tick at the p50, against dashed target lines."""
    svg = _Svg()
    svg.text(LABEL_X, 28, title, font_size=20, font_weight="bold")
    svg.text(
        LABEL_X,
        48,
        "Bar: p90 (90 % of values at or below; nearest-rank).  Black tick: p50 (median).  "
        "Dashed: target.",
        font_size=12,
        fill="#444444",
    )
    legend_y = 66
    legend_x = LABEL_X
    for colour, label in (
        (_PASS, "meets target"),
        (_PARTIAL, "meets 25 min (rural) only"),
        (_FAIL, "misses target"),
        (_NONE, "no national target"),
    ):
        svg.add(
            f'<rect x="{legend_x}" y="{legend_y - 10}" width="14" height="12" fill="{colour}" '
            'fill-opacity="0.85"/>'
        )
        svg.text(legend_x + 19, legend_y, label, font_size=12, fill="#444444")
        legend_x += 36 + 7 * len(label)
    y = 90.0
    answer = _rows(figures, "answer")
    on_scene = [g for g in _rows(figures, "response") if g[0].count]
    if answer:
        y = _section(
            svg,
            y,
            "113 answer time: 90 % within 10 s (akuttmedisinforskriften § 15 b), none "
            "unanswered after 20 s",
            answer,
            1.0,
            "seconds",
            [(10.0, "10 s")],
        )
    if on_scene:
        y = _section(
            svg,
            y,
            "Response time, akutt, from the 113 call to the first unit on scene "
            "(Helsedirektoratet): 90 % within 12 min (urban) / 25 min (rural)",
            on_scene,
            60.0,
            "minutes",
            [(720.0, "12 min (urban)"), (1500.0, "25 min (rural)")],
        )
    if not answer and not on_scene:
        svg.text(
            LABEL_X,
            y + 20,
            "No figures: no answered calls or akutt missions reached from a call.",
            font_size=14,
        )
        y += 40
    height = int(y + 10)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{_FONT}">'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
    )
    return "\n".join([head, *svg.parts, "</svg>"]) + "\n"


def write_plot(figures: Sequence[pb.KpiFigure], path: str | Path, title: str = "") -> Path:
    """Write the picture of ``figures`` as SVG to ``path``."""
    stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    path = Path(path)
    path.write_text(plot_svg(figures, title or f"AMK KPIs, {stamp}"), encoding="utf-8")
    return path


# ---------------------------------------------------------------- CLI


def parse_since(text: str) -> float:
    """``30m``, ``24h``, ``7d`` (that long ago) or an ISO 8601 time (local if no zone)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    t = text.strip()
    if t and t[-1] in units and t[:-1].replace(".", "", 1).isdigit():
        return (datetime.now(UTC) - timedelta(seconds=float(t[:-1]) * units[t[-1]])).timestamp()
    try:
        when = datetime.fromisoformat(t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected e.g. 30m, 24h, 7d or 2025-01-31T08:00, got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # local time
    return when.timestamp()


def kpi_since(text: str) -> float | None:
    """``amk kpi --since``: what :func:`parse_since` takes, or ``all`` (None: everything
    recorded). Not the default: everything grows with every day archived, and the
    gateway that answers holds every call and stream while it decodes it."""
    return None if text.strip().lower() == "all" else parse_since(text)


def parse_at(text: str, now: datetime | None = None) -> float:
    """When something happened: ``14:32`` (local time: today, or yesterday when that is
    still to come, as for a report from before midnight typed after it), or what
    :func:`parse_since` takes (``5m``: that long ago; an ISO time). A relative time is
    read anew each run: give an absolute one when re-sending with ``--request-id``."""
    t = text.strip()
    forms = "expected e.g. 14:32 (today), 5m (that long ago) or 2025-01-31T08:00"
    if len(t) == 5 and t[2] == ":" and t.replace(":", "").isdigit():
        try:
            clock = dtime(int(t[:2]), int(t[3:]))
        except ValueError:  # 25:99: argparse would name this function, not the mistake
            raise argparse.ArgumentTypeError(f"{forms}; {text!r} is no time of day") from None
        now = now or datetime.now().astimezone()
        day = now.date()
        when = datetime.combine(day, clock).astimezone()
        if when > now + timedelta(minutes=1):
            when = datetime.combine(day - timedelta(days=1), clock).astimezone()
        return when.timestamp()
    try:
        return parse_since(t)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{forms}, got {text!r}") from None


def cmd_kpi(ctx: Any) -> int:
    """Handler of ``amk kpi`` (``ctx`` is ``clients.cli.Context``)."""
    a = ctx.args
    figures = kpi_figures(ctx.client(), list(a.region or []), a.since)
    if a.plot is not None:
        written = write_plot(figures, a.plot)
        # With --json, stdout holds only the JSON document.
        print(f"wrote {written}", file=sys.stderr if a.json else sys.stdout)
    period = "of everything recorded" if a.since is None else f"since {iso_local(a.since)}"
    print(f"KPIs {period}", file=sys.stderr)  # the period the figures cover
    return int(ctx.emit(figures, kpi_table))


def iso_local(when: float) -> str:
    """``2026-11-28 16:40`` in the local time zone, for a period's start."""
    return datetime.fromtimestamp(when).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def add_kpi_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``amk kpi [--region R ...] [--since WHEN] [--plot FILE.svg] [--json]``;
    ``command`` is ``build_parser``'s helper (it adds the global options)."""
    kpi = command(
        commands, "kpi", cmd_kpi, "answer, dispatch and on-scene times against the targets"
    )
    kpi.add_argument(
        "--region",
        metavar="R",
        action="append",
        help="only this region; repeat or comma-separate for several (default: all)",
    )
    kpi.add_argument(
        "--since",
        metavar="WHEN",
        type=kpi_since,
        default="24h",
        help="only calls and incidents that started since then: 30m, 24h, 7d or an ISO "
        "time (default: 24h, as the web console's panel), or 'all' for everything recorded "
        "(reads every archived incident and call: slow after months of service)",
    )
    kpi.add_argument(
        "--plot", metavar="FILE.svg", type=Path, help="also draw the figures as an SVG picture"
    )
    return kpi
