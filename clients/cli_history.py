"""``amk incident history ID``, ``amk incident search`` and ``amk board --at WHEN``: the
record after the fact.

All three read etcd and the archive database together, through the gateway
(``GetIncidentHistory``, ``GetBoardAt``, ``SearchIncidents``): what a medical director
asks for after a serious event (who did what, when, with which fencing token; what the
board showed), and a dispatcher before sending a crew (has the AMK been here before).
Below the journal, the incident's alerts (trippelvarsling, hospital pre-notifications)
with every time each has: proposed, sent, acknowledged or declined, escalated,
cancelled, for a pre-notification the expected arrival, its updates, the arrival and the
lead time, and for an air ambulance request its delivery to the AMK-LA and the
mission's last step; then all those moments in time order.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli_alerts import alert_timeline, prenotification_text
from clients.cli_base import _health_region_option
from clients.enums import ALERT_SERVICE, ALERT_STATE, enum_name
from clients.health_regions import (
    check_health_regions,
    parse_health_regions,
    regions_in,
    select_board,
)
from clients.kpi import parse_since
from clients.render import (
    incident_status_text,
    unit_status_text,
    urgency_text,
)
from clients.render_time import format_time

EXIT_OK = 0
DEFAULT_SINCE_S = 30 * 86400.0  # amk incident search looks back this far unless told
DEFAULT_RADIUS_M = 200.0


def _by(when: str, who: str) -> str:
    return f"{when} ({who})" if who and when != "-" else when


def alerts_summary(alerts: list[pb.Alert]) -> RenderableType:
    """Every alert of the incident with all its times, one row each."""
    table = Table(title="Alerts", title_justify="left")
    for name in ("Alert", "To", "State", "Proposed", "Sent", "Acknowledged"):
        table.add_column(name)
    for name in ("Escalated", "Cancelled", "Pre-notification"):
        table.add_column(name)
    for a in alerts:
        table.add_row(
            a.id,
            f"{enum_name(a.service, ALERT_SERVICE)} {a.recipient}".strip(),
            enum_name(a.state, ALERT_STATE),
            format_time(a.proposed_at),
            _by(format_time(a.sent_at), a.sent_by),
            _by(format_time(a.acknowledged_at), a.acknowledged_by),
            format_time(a.escalated_at),
            _by(format_time(a.cancelled_at), a.cancelled_by),
            prenotification_text(a),
        )
    return table


def history_table(history: pb.IncidentHistory) -> RenderableType:
    table = Table(title=f"Journal of {history.incident_id}", title_justify="left")
    for name in ("When", "Command", "Who", "Centre instance", "Region", "Token", "Where"):
        table.add_column(name)
    for e in history.entries:
        details = json.loads(e.details_json or "{}")
        what = ", ".join(f"{k}={v}" for k, v in details.items() if k != "deleted")
        table.add_row(
            format_time(e.at),
            Text(e.command + (f" ({what})" if what else "")),
            e.who,
            e.writer,
            e.region,
            str(e.tokens.get(e.region, "")),
            "archive" if e.archived else "live",
        )
    if not history.alerts:
        return table
    alerts = list(history.alerts)
    return Group(table, alerts_summary(alerts), alert_timeline(alerts))


def board_at_view(board: pb.BoardAt) -> RenderableType:
    owners = Table(title=f"Region owners at {format_time(board.at)}", title_justify="left")
    for name in ("Region", "Centre", "Instance", "Token", "Since", "How"):
        owners.add_column(name)
    for o in board.owners:
        owners.add_row(
            o.region, o.centre, o.instance, str(o.fencing_token), format_time(o.since), o.how
        )
    incidents = Table(title=f"Open incidents ({len(board.incidents)})", title_justify="left")
    for name in ("Incident", "Region", "Status", "Urgency", "Units", "Address"):
        incidents.add_column(name)
    for i in board.incidents:
        incidents.add_row(
            i.id,
            i.region,
            incident_status_text(i.status),
            urgency_text(i.urgency),
            ", ".join(i.assigned_unit_ids) or "-",
            i.address or "-",
        )
    units = Table(title=f"Units ({len(board.units)})", title_justify="left")
    for name in ("Unit", "Call sign", "Region", "Status", "Incident"):
        units.add_column(name)
    for u in board.units:
        working = u.incident_id or u.air_mission_id or "-"
        units.add_row(u.id, u.call_sign, u.region, unit_status_text(u.status), working)
    note = Text(f"rebuilt from {board.versions} record versions (journal, live and archived)")
    if not board.owners:
        # No region had an owner then: the moment is before this cluster's history
        # begins (or after a retention took it), not a quiet board.
        note.append("; no region had an owner then: nothing is recorded that early", style="yellow")
    return Group(owners, incidents, units, note)


def cmd_incident_history(ctx: Any) -> int:
    """The journal, then (for people) the incident's alerts: one row each with all its
    times, and every moment in time order (proposed, sent, delivered to an AMK-LA,
    acknowledged or declined, escalated, cancelled, an air mission's last step)."""
    return int(ctx.emit(ctx.client().incident_history(ctx.args.id), history_table))


def cmd_board_at(ctx: Any) -> int:
    a = ctx.args
    asked = parse_health_regions(a.health_region)  # a malformed option needs no gateway
    client = ctx.client()
    shown: set[str] | None = None
    if asked:  # checked before the board is rebuilt: an unknown id costs nothing
        status = client.cluster_status()
        check_health_regions(asked, status)
        shown = regions_in(status, asked)
    board = client.board_at(a.at, a.region or [])
    if shown is not None:
        board = select_board(board, shown)
    return int(ctx.emit(board, board_at_view))


def search_view(found: pb.SearchIncidentsResponse) -> RenderableType:
    """The incidents found, newest first, archived ones marked."""
    table = Table(title=f"Incidents found ({len(found.incidents)})", title_justify="left")
    for name in ("Incident", "Created", "Status", "Urgency", "Address", "Notes"):
        table.add_column(name)
    for i in found.incidents:
        status = incident_status_text(i.status)
        if i.archived:
            status.append(" (archived)")
        table.add_row(
            i.id,
            format_time(i.created_at),
            status,
            urgency_text(i.urgency),
            i.address or "-",
            str(len(i.notes)),
        )
    if not found.truncated:
        return table
    return Group(table, Text("more matched: narrow the search or raise --limit"))


def cmd_incident_search(ctx: Any) -> int:
    a = ctx.args
    near = None
    if a.radius is not None and not a.near:
        raise ValueError("--radius: needs --near (a place to measure from)")
    if a.near:
        try:
            lat, lon = (float(x) for x in a.near.split(","))
        except ValueError:
            raise ValueError(f"--near: LAT,LON expected, got {a.near!r}") from None
        near = (lat, lon)
    since = a.since if a.since is not None else (a.until or time.time()) - DEFAULT_SINCE_S
    found = ctx.client().search_incidents(
        since,
        until=a.until,
        near=near,
        radius_m=(a.radius or DEFAULT_RADIUS_M) if near is not None else 0.0,
        text=" ".join(a.text or []),
        regions=a.region or [],
        limit=a.limit,
    )
    return int(ctx.emit(found, search_view))


def add_history_commands(
    incident_actions: argparse._SubParsersAction[argparse.ArgumentParser],
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
) -> None:
    """``amk incident history`` and ``amk board``; ``command`` is ``build_parser``'s helper."""
    history = command(
        incident_actions,
        "history",
        cmd_incident_history,
        "every journal entry of an incident, live and archived",
    )
    history.add_argument("id", metavar="ID")
    search = command(
        incident_actions,
        "search",
        cmd_incident_search,
        "incidents, open and archived, at a place or with given words: been here before?",
    )
    search.add_argument("text", nargs="*", help="words in the address or a note (all of them)")
    search.add_argument("--near", metavar="LAT,LON", help="at or near this place")
    search.add_argument(
        "--radius",
        type=float,
        metavar="M",
        help=f"metres from --near ({DEFAULT_RADIUS_M:g}; at most 2000)",
    )
    when = 'a local time ("2026-11-26 08:00"), an ISO time, or 30m, 2h, 1d ago'
    search.add_argument(
        "--since", metavar="WHEN", type=parse_since, help=when + " (30 days before --until)"
    )
    search.add_argument("--until", metavar="WHEN", type=parse_since, help=when + " (now)")
    search.add_argument(
        "--region", metavar="R", action="append", help="only this region (repeatable)"
    )
    search.add_argument("--limit", type=int, default=0, help="at most this many (50; up to 500)")
    board = command(
        commands, "board", cmd_board_at, "incidents, units and owners as they stood at a moment"
    )
    board.add_argument(
        "--at",
        metavar="WHEN",
        type=parse_since,
        required=True,
        help='a local time ("2026-11-26 08:00"), an ISO time, or 30m, 2h, 1d ago',
    )
    board.add_argument(
        "--region", metavar="R", action="append", help="only this region (repeatable)"
    )
    _health_region_option(board, "incidents, units and region owners", grouped=False)
