"""``amk air request|answer|abort|list|show``: air ambulance requests (issue #19), wired
into ``clients/cli.py`` by ``add_air_commands``.

The requesting AMK's dispatcher says ``amk air request INC --kind helicopter --reason
...``; the AMK-LA's coordinator answers ``amk air answer MISSION accept --unit inn-h01
--doctor "..."`` or ``... decline --reason "..."``, and follows the missions with ``amk
air list``. Aircraft statuses are ``amk unit status`` as for any unit.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli_alerts import alert_panel
from clients.enums import AIR_MISSION_STATE, UNIT_KIND, URGENCY, enum_name
from clients.render_time import format_time

STATE_STYLE = {
    "requested": "bold yellow",
    "declined": "bold red",
    "aborted": "red",
    "completed": "green",
}
KINDS = ("helicopter", "fixed_wing")


def _state(m: pb.AirMission) -> Text:
    name = enum_name(m.state, AIR_MISSION_STATE)
    return Text(name, style=STATE_STYLE.get(name, "cyan"))


def missions_table(missions: list[pb.AirMission]) -> RenderableType:
    if not missions:
        return Text("no air missions", style="dim")
    table = Table(title="Air missions", title_justify="left")
    for name in ("Mission", "Incident", "Asked", "State", "Aircraft", "Base doctor", "Received"):
        table.add_column(name)
    table.add_column("Reported", justify="center")
    for m in missions:
        table.add_row(
            m.id,
            f"{m.incident_id} ({m.incident_region})",
            enum_name(m.kind, UNIT_KIND),
            _state(m),
            m.unit_id or "-",
            m.base_doctor or "-",
            format_time(m.received_at),
            "yes" if m.reported else Text("pending", style="yellow"),
        )
    return table


def mission_panel(m: pb.AirMission) -> RenderableType:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    for label, value in (
        ("Mission", m.id + (" (archived)" if m.archived else "")),
        ("AMK-LA region", m.region),
        ("Incident", f"{m.incident_id} in {m.incident_region}, alert {m.alert_id}"),
        ("Asked for", f"{enum_name(m.kind, UNIT_KIND)}: {m.reason}"),
        ("Urgency", f"{enum_name(m.urgency, URGENCY)} {m.criteria_code}".strip()),
        ("Where", f"{m.address or '-'} ({m.position.lat:.4f}, {m.position.lon:.4f})"),
        ("Requested", f"{format_time(m.requested_at)} by {m.requested_by or '-'}"),
        ("Received", format_time(m.received_at)),
        ("State", _state(m)),
        ("Aircraft", m.unit_id or "-"),
        ("Base doctor", m.base_doctor or "-"),
        ("Answered", f"{format_time(m.answered_at)} by {m.answered_by or '-'}"),
        ("Declined because", m.decline_reason or "-"),
        ("Withdrawn", _withdrawal(m)),
        ("Reported back", "yes" if m.reported else "pending (outbox)"),
    ):
        head.add_row(label, value)
    steps = Table(title="Mission timeline", title_justify="left")
    for name in ("When", "State", "By", "Note"):
        steps.add_column(name)
    for e in m.events:
        steps.add_row(
            format_time(e.at), enum_name(e.state, AIR_MISSION_STATE), e.by or "-", e.note or "-"
        )
    return Group(head, steps)


def _withdrawal(m: pb.AirMission) -> str:
    """The requesting AMK's withdrawal: when, by whom, why, and whether it came too late
    to stand the aircraft down (the answer it got, as the requesting side has it)."""
    if not m.HasField("withdrawn_at"):
        return "-"
    text = f"{format_time(m.withdrawn_at)} by {m.withdrawn_by or '-'}: {m.withdrawal_reason}"
    answer = m.withdrawal_answer
    if answer and answer != pb.AIR_MISSION_STATE_ABORTED:
        text += f" (too late: {enum_name(answer, AIR_MISSION_STATE)})"
    return text


def cmd_air_request(ctx: Any) -> int:
    a = ctx.args
    alert = ctx.client().request_air_ambulance(a.id, a.kind, a.reason, request_id=a.request_id)
    return int(ctx.emit(alert, alert_panel))


def cmd_air_answer(ctx: Any) -> int:
    a = ctx.args
    mission = ctx.client().answer_air_request(
        a.mission,
        a.decision,
        unit_id=a.unit or "",
        base_doctor=a.doctor or "",
        reason=a.reason or "",
        request_id=a.request_id,
    )
    return int(ctx.emit(mission, mission_panel))


def cmd_air_abort(ctx: Any) -> int:
    a = ctx.args
    mission = ctx.client().abort_air_mission(a.mission, a.reason, request_id=a.request_id)
    return int(ctx.emit(mission, mission_panel))


def cmd_air_list(ctx: Any) -> int:
    a = ctx.args
    missions = ctx.client().air_missions(
        regions=a.region or [], include_closed=a.all, incident_id=a.incident or ""
    )
    return int(ctx.emit(missions, missions_table))


def cmd_air_show(ctx: Any) -> int:
    return int(ctx.emit(ctx.client().air_mission(ctx.args.mission), mission_panel))


def add_air_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
    request_id_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``amk air ...``; ``command`` is ``build_parser``'s helper."""
    air = command(commands, "air", None, "air ambulance: requests to the AMK-LA, missions")
    actions = air.add_subparsers(dest="air_command", metavar="ACTION", required=True)
    req = command(actions, "request", cmd_air_request, "ask the AMK-LA for an aircraft")
    req.add_argument("id", metavar="INCIDENT", help="incident id")
    req.add_argument("--kind", required=True, choices=KINDS, help="helicopter or fixed_wing")
    req.add_argument("--reason", required=True, help="why an aircraft (the base doctor reads it)")
    request_id_option(req)
    ans = command(actions, "answer", cmd_air_answer, "the AMK-LA's answer to a request")
    ans.add_argument("mission", metavar="MISSION", help="air mission id (LAH-...)")
    ans.add_argument("decision", choices=("accept", "decline"))
    ans.add_argument("--unit", help="accept: the aircraft sent")
    ans.add_argument("--doctor", help="the base doctor who decided (required to accept)")
    ans.add_argument("--reason", help="decline: why (required)")
    request_id_option(ans)
    abort = command(actions, "abort", cmd_air_abort, "stand an accepted mission down")
    abort.add_argument("mission", metavar="MISSION")
    abort.add_argument("--reason", required=True, help="why (weather, no longer needed...)")
    request_id_option(abort)
    listing = command(actions, "list", cmd_air_list, "air missions (open ones unless --all)")
    listing.add_argument("--region", metavar="R", action="append", help="an AMK-LA region")
    listing.add_argument("--all", action="store_true", help="ended missions too")
    listing.add_argument("--incident", metavar="ID", help="only this incident's missions")
    show = command(actions, "show", cmd_air_show, "one air mission with its timeline")
    show.add_argument("mission", metavar="MISSION")
