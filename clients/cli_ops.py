"""``amk`` commands for supervisors and call-takers: hand-overs, 113 calls, sharing,
recommendations, major incidents, drills. Added to the parser by ``clients.cli``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from rich.console import RenderableType
from rich.text import Text

from clients.cli_base import (
    EXIT_OK,
    Context,
    _listing,
    _region_option,
    _regions,
    _request_id_option,
)
from clients.client import (
    CALL_OUTCOME,
    CALL_STATUS,
    INCIDENT_STATUS,
    URGENCY,
    enum_choices,
    enum_name,
)
from clients.render import incident_panel, unit_panel
from clients.render_time import format_time


def _region_line(status: Message) -> RenderableType:
    return Text(
        f"{status.id}: served by {status.owner_centre or '(nobody)'} "
        f"(home {status.home_centre}), fencing token {status.fencing_token}"
    )


def cmd_handover_region(ctx: Context) -> int:
    a = ctx.args
    status = ctx.client().hand_over_region(a.region, a.to, request_id=a.request_id)
    return ctx.emit(status, _region_line)


def cmd_handback_region(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().hand_back_region(a.region, request_id=a.request_id), _region_line)


def cmd_handover_incident(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().hand_over_incident(a.id, a.to_region, request_id=a.request_id)
    return ctx.emit(incident, incident_panel)


def cmd_handover_unit(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().lend_unit(a.id, a.to_region, request_id=a.request_id), unit_panel)


def _call_line(call: Message) -> RenderableType:
    text = f"{call.id} [{enum_name(call.status, CALL_STATUS)}] region {call.region}"
    if call.answered_by:
        text += f", answered by {call.answered_by} ({call.call_taker})"
    if call.shared_to:
        text += f", shared to {call.shared_to}"
    if call.incident_id:
        text += f", incident {call.incident_id}"
    if call.outcome:
        text += f", closed without an incident: {enum_name(call.outcome, CALL_OUTCOME)}"
        text += f" ({call.outcome_note})" if call.outcome_note else ""
    return Text(text)


def _calls_lines(calls: list[Any]) -> RenderableType:
    return Text("\n".join(_call_line(c).plain for c in calls))


def cmd_call_receive(ctx: Context) -> int:
    a = ctx.args
    call = ctx.client().receive_call(
        a.lat, a.lon, a.accuracy, a.caller, a.urgency, request_id=a.request_id
    )
    return ctx.emit(call, _call_line)


def cmd_call_list(ctx: Context) -> int:
    a = ctx.args
    calls = ctx.client().list_calls(regions=_regions(a), status=a.status)
    return ctx.emit(calls, _listing(_calls_lines, "no calls"))


def cmd_call_history(ctx: Context) -> int:
    a = ctx.args
    found = ctx.client().caller_history(a.call, hours=a.hours)

    def human(h: Message) -> RenderableType:
        head = f"{h.call.caller_number} ({h.call.id}), last {h.hours} h"
        lines = [f"Earlier contacts from {head}: {h.total}"]
        if h.archive_unavailable:
            lines.append("the archive did not answer: live records only")
        for c in h.contacts:
            what = (
                f"{enum_name(c.urgency, URGENCY)} {c.criteria_code or '-'}"
                if c.kind == "incident"
                else _call_end(c)
            )
            archived = " (archived)" if c.archived else ""
            prefix = INCIDENT_STATUS if c.kind == "incident" else CALL_STATUS
            status = c.status.removeprefix(prefix).lower()  # INCIDENT_STATUS_CLOSED: closed
            lines.append(f"{format_time(c.at)} {c.kind} {c.id} {status}: {what}{archived}")
        if h.total > len(h.contacts):
            lines.append(f"... and {h.total - len(h.contacts)} older")
        return Text("\n".join(lines))

    return ctx.emit(found, human)


def _call_end(c: Message) -> str:
    if c.outcome:
        return f"closed: {enum_name(c.outcome, CALL_OUTCOME)}"
    return f"incident {c.incident_id}" if c.incident_id else "no incident yet"


def cmd_call_answer(ctx: Context) -> int:
    a = ctx.args
    call = ctx.client().answer_next_call(a.centre, a.call_taker, request_id=a.request_id)
    if call is None:
        if a.json:
            print("null")
        else:
            ctx.console.print(Text("no call waiting", style="dim"))
        return EXIT_OK
    return ctx.emit(call, _call_line)


def cmd_call_link(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().link_call(a.call, a.incident, request_id=a.request_id), _call_line)


def cmd_call_close(ctx: Context) -> int:
    a = ctx.args
    call = ctx.client().close_call(a.call, a.outcome, a.note, request_id=a.request_id)
    return ctx.emit(call, _call_line)


def cmd_call_abandon(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().abandon_call(a.call, request_id=a.request_id), _call_line)


def cmd_call_metrics(ctx: Context) -> int:
    metrics = ctx.client().call_metrics(regions=_regions(ctx.args))

    def human(m: Message) -> RenderableType:
        return Text(
            "\n".join(
                f"{r.region}: {r.received} received, {r.answered} answered "
                f"({r.answered_within_10s:.0%} within 10 s; target 90 %), "
                f"p50 {r.answer_p50_s:.1f} s, p90 {r.answer_p90_s:.1f} s, "
                f"{r.overflowed} overflowed, {r.shared} shared, "
                f"{r.waiting} waiting{_closed(r)}"
                for r in m.regions
            )
        )

    return ctx.emit(metrics, human)


def _closed(r: Message) -> str:
    """``, closed without an incident: advice 3, legevakt 1`` (or nothing)."""
    counts = ", ".join(f"{enum_name(c.outcome, CALL_OUTCOME)} {c.count}" for c in r.closed)
    return f", closed without an incident: {counts}" if counts else ""


def cmd_signin(ctx: Context) -> int:
    a = ctx.args
    status = ctx.client().sign_in(a.centre, a.call_taker)
    return ctx.emit(
        status,
        lambda s: Text(
            f"{s.call_taker} signed in at {s.centre}: {s.free_call_takers} of "
            f"{s.signed_in_call_takers} call-takers free"
        ),
    )


def cmd_signout(ctx: Context) -> int:
    a = ctx.args
    status = ctx.client().sign_out(a.centre, a.call_taker)
    return ctx.emit(status, lambda s: Text(f"{s.call_taker} signed out of {s.centre}"))


def cmd_sharing(ctx: Context) -> int:
    a = ctx.args
    resp = ctx.client().set_call_sharing(a.region, a.mode == "on", request_id=a.request_id)
    return ctx.emit(
        resp,
        lambda r: Text(f"{r.region}: new calls {'shared with partners' if r.sharing else 'kept'}"),
    )


def cmd_recommend(ctx: Context) -> int:
    answer = ctx.client().recommendations(ctx.args.incident, limit=ctx.args.limit)

    def line(r: Any) -> str:
        return (
            f"{r.rank:>2}. {r.unit.call_sign} ({r.unit.id}, {r.unit.region}) "
            f"ETA {r.eta_s / 60:.1f} min: {r.reason}" + (f" [{r.note}]" if r.note else "")
        )

    def human(a: Message) -> RenderableType:
        lines = [line(r) for r in a.recommendations] or ["no available unit"]
        if a.diversions:
            lines.append("on their way to a less urgent incident (amk divert):")
            lines += [f"{line(r)} <- {r.unit.incident_id}" for r in a.diversions]
        return Text("\n".join(lines))

    return ctx.emit(answer, human)


def cmd_coverage(ctx: Context) -> int:
    found = ctx.client().coverage(regions=_regions(ctx.args))

    def human(c: Message) -> RenderableType:
        lines = []
        for s in c.stations:
            near = s.nearest
            what = (
                f"nearest free {near.unit.call_sign} ({near.unit.id}) {near.eta_s / 60:.1f} min"
                if near.unit.id
                else "no free ambulance"
            )
            mark = {"covered": "ok ", "uncertain": "?  "}.get(s.state, "GAP")
            free = ", ".join(s.free_here) or "none free here"
            lines.append(f"{mark} {s.name} ({s.region}, {s.area} {_target(s)} min): {free}; {what}")
        return Text("\n".join(lines) or "no stations")

    return ctx.emit(found, human)


def _target(s: Message) -> str:
    """The minutes a station is held to: a range for an area not known (the server
    sends both ends; a server before ``target_max_s`` sends none: "12-?")."""
    low = f"{s.target_s / 60:.0f}"
    if s.target_max_s > s.target_s:
        return f"{low}-{s.target_max_s / 60:.0f}"
    if not s.target_max_s and s.area == "unknown":
        return f"{low}-?"
    return low


def cmd_drill(ctx: Context) -> int:
    """Run a failover drill (``python -m chaos``): a subprocess, so the CLI does not import
    the chaos package (it sits above clients in the layering)."""
    import subprocess

    argv = [sys.executable, "-m", "chaos", *ctx.args.drill_args]
    return subprocess.call(argv)


def _major_text(m: Message) -> RenderableType:
    lines = [
        f"{m.id} [{m.status}] {m.kind} in {m.region}, {m.expected_patients} patients expected",
        f"  incidents: {', '.join(m.incident_ids) or '-'}",
        f"  reserved units: {', '.join(m.reserved_unit_ids) or '-'}",
        f"  actor pid: {m.actor_pid or 'not running'}",
        "  timeline:",
        *(f"    {t.who}: {t.text}" for t in m.timeline),
    ]
    return Text("\n".join(lines))


def cmd_major_declare(ctx: Context) -> int:
    a = ctx.args
    m = ctx.client().declare_major_incident(
        a.region, a.lat, a.lon, a.kind, a.patients, request_id=a.request_id
    )
    return ctx.emit(m, _major_text)


def cmd_major_status(ctx: Context) -> int:
    if ctx.args.id:
        return ctx.emit(ctx.client().major_incident(ctx.args.id), _major_text)
    majors = ctx.client().list_major_incidents()
    return ctx.emit(
        majors,
        _listing(
            lambda ms: Text("\n\n".join(_major_text(m).plain for m in ms)), "no major incidents"
        ),
    )


def cmd_major_link(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(
        ctx.client().link_to_major_incident(a.id, a.incidents, request_id=a.request_id),
        _major_text,
    )


def cmd_major_reserve(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().reserve_units(a.id, a.units, request_id=a.request_id), _major_text)


def cmd_major_standdown(ctx: Context) -> int:
    a = ctx.args
    m = ctx.client().stand_down_major_incident(a.id, request_id=a.request_id)
    return ctx.emit(m, _major_text)


def add_ops_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """The supervisors' and call-takers' commands, on the top-level subparsers."""
    rec = command(commands, "recommend", cmd_recommend, "units ranked by ETA for an incident")
    rec.add_argument("incident", metavar="INCIDENT")
    rec.add_argument("--limit", type=int, default=10)
    cov = command(commands, "coverage", cmd_coverage, "stations without a free ambulance near")
    _region_option(cov, "stations")

    call = command(
        commands, "call", None, "113 calls: receive, list, answer, link, close, abandon, history"
    )
    cl = call.add_subparsers(dest="call_command", metavar="ACTION", required=True)
    recv = command(cl, "receive", cmd_call_receive, "queue a call (the telephony side)")
    recv.add_argument("--lat", type=float, required=True)
    recv.add_argument("--lon", type=float, required=True)
    recv.add_argument("--accuracy", type=float, default=0.0, metavar="M")
    recv.add_argument("--caller", default="", metavar="NUMBER")
    recv.add_argument("--urgency", choices=enum_choices(URGENCY), help="hint, e.g. eCall")
    _request_id_option(recv)
    call_list = command(cl, "list", cmd_call_list, "waiting and answered calls")
    _region_option(call_list, "calls")
    call_list.add_argument("--status", choices=enum_choices(CALL_STATUS))
    ans = command(cl, "answer", cmd_call_answer, "answer the next call this centre serves")
    ans.add_argument("--centre", required=True)
    ans.add_argument(
        "--as",
        dest="call_taker",
        default="",
        metavar="CALL_TAKER",
        help="who answers (default: the person your token names; required with auth off or"
        " for a role that acts for others)",
    )
    _request_id_option(ans)
    link = command(cl, "link", cmd_call_link, "link an answered call to an incident")
    link.add_argument("call", metavar="CALL")
    link.add_argument("incident", metavar="INCIDENT")
    _request_id_option(link)
    close = command(cl, "close", cmd_call_close, "an answered call ended without an incident")
    close.add_argument("call", metavar="CALL")
    close.add_argument(
        "outcome",
        metavar="OUTCOME",
        choices=enum_choices(CALL_OUTCOME),
        help="advice (the caller manages), legevakt (referred to 116117), other_service"
        " (110, 112, ...), no_need (misdial, nobody needs help), disconnected (the line"
        " was lost, the caller not reached again), other (--note)",
    )
    close.add_argument("--note", default="", help="how it ended (one line; required: other)")
    _request_id_option(close)
    abandon = command(cl, "abandon", cmd_call_abandon, "the caller hung up before an answer")
    abandon.add_argument("call", metavar="CALL")
    _request_id_option(abandon)
    history = command(cl, "history", cmd_call_history, "earlier contacts from a call's number")
    history.add_argument("call", metavar="CALL", help="an answered call")
    history.add_argument("--hours", type=int, default=0, help="the window (default 72, max 168)")
    metrics = command(cl, "metrics", cmd_call_metrics, "answer times against the 10 s target")
    _region_option(metrics, "calls")

    for name, handler, text in (
        ("signin", cmd_signin, "sign a call-taker in at a centre"),
        ("signout", cmd_signout, "sign a call-taker out"),
    ):
        sign = command(commands, name, handler, text)
        sign.add_argument("centre", metavar="CENTRE")
        sign.add_argument(
            "call_taker",
            metavar="CALL_TAKER",
            nargs="?",
            default="",
            help="default: the person your token names (required with auth off or for a role"
            " that acts for others)",
        )

    sharing = command(commands, "sharing", cmd_sharing, "share a region's new calls, or stop")
    sharing.add_argument("region", metavar="REGION")
    sharing.add_argument("mode", choices=["on", "off"])
    _request_id_option(sharing)

    drill = command(
        commands, "drill", cmd_drill, "run a failover drill (python -m chaos)", parents=()
    )
    drill.add_argument(
        "drill_args",
        nargs=argparse.REMAINDER,
        metavar="SCENARIO ...",
        help="scenario file and options, e.g. chaos/scenarios/kill-centre.toml --report-dir DIR",
    )

    major = command(commands, "major", None, "major incidents: declare, status, link, standdown")
    mj = major.add_subparsers(dest="major_command", metavar="ACTION", required=True)
    declare = command(mj, "declare", cmd_major_declare, "declare a major incident")
    declare.add_argument("--region", required=True)
    declare.add_argument("--lat", type=float, required=True)
    declare.add_argument("--lon", type=float, required=True)
    declare.add_argument("--kind", required=True, help='e.g. "bus accident"')
    declare.add_argument("--patients", type=int, default=0, help="expected patients")
    _request_id_option(declare)
    mstatus = command(mj, "status", cmd_major_status, "one major incident, or all")
    mstatus.add_argument("id", metavar="ID", nargs="?")
    mlink = command(mj, "link", cmd_major_link, "link incidents to a major incident")
    mlink.add_argument("id", metavar="ID")
    mlink.add_argument("incidents", metavar="INCIDENT", nargs="+")
    mres = command(mj, "reserve", cmd_major_reserve, "reserve units for a major incident")
    mres.add_argument("id", metavar="ID")
    mres.add_argument("units", metavar="UNIT", nargs="+")
    mdown = command(mj, "standdown", cmd_major_standdown, "stand a major incident down")
    mdown.add_argument("id", metavar="ID")
    for sub in (mlink, mres, mdown):
        _request_id_option(sub)

    handover = command(commands, "handover", None, "hand an incident, unit or region over")
    ho = handover.add_subparsers(dest="handover_command", metavar="WHAT", required=True)
    ho_inc = command(ho, "incident", cmd_handover_incident, "move an incident (and its units)")
    ho_inc.add_argument("id", metavar="ID")
    ho_inc.add_argument("--to-region", required=True, metavar="REGION")
    ho_unit = command(ho, "unit", cmd_handover_unit, "lend an available unit to a region")
    ho_unit.add_argument("id", metavar="ID")
    ho_unit.add_argument("--to-region", required=True, metavar="REGION")
    ho_reg = command(ho, "region", cmd_handover_region, "move a whole region to another centre")
    ho_reg.add_argument("region", metavar="REGION")
    ho_reg.add_argument("--to", required=True, metavar="CENTRE", help="centre id, e.g. oslo")
    for sub in (ho_inc, ho_unit, ho_reg):
        _request_id_option(sub)

    handback = command(commands, "handback", None, "give a region back to its home centre")
    hb = handback.add_subparsers(dest="handback_command", metavar="WHAT", required=True)
    hb_reg = command(hb, "region", cmd_handback_region, "give a region back to its home centre")
    hb_reg.add_argument("region", metavar="REGION")
    _request_id_option(hb_reg)
