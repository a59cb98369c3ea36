"""``amk destination`` and ``amk prenotify``: which hospital, and telling it the patient is
coming (issue #19), wired into ``clients/cli.py`` by ``add_hospital_commands``.

``amk destination ID [--condition stroke] [--unit U]`` ranks hospitals by capability
and ETA with the reason in words; without ``--condition`` the condition is suggested
from the incident's criteria code (and the answer says so). ``amk prenotify ID
--hospital H --condition stroke [--age 74 --sex female --findings ... --onset 40m]``
sends the pre-notification; the expected arrival is computed by the cluster from
where the unit is, and follows it as it moves (``amk alert list ID`` shows it).
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
from clients.enums import DESTINATION_CONDITION, PRE_NOTIFICATION_SEX, enum_choices, enum_name
from clients.kpi import format_duration, parse_since
from clients.render_time import format_time


def destinations_view(reply: pb.RecommendDestinationResponse) -> RenderableType:
    condition = enum_name(reply.condition, DESTINATION_CONDITION)
    head = Text(f"{condition} ({reply.condition_reason}); ETAs from {reply.origin}")
    table = Table(title="Destinations", title_justify="left")
    for name in ("#", "Hospital", "ETA", "Arrives", "Why", "Rule"):
        table.add_column(name)
    for d in reply.destinations:
        style = "" if d.capable else "dim"
        why = Text(d.reason, style="yellow" if d.uncertain else style)
        table.add_row(
            str(d.rank),
            Text(f"{d.hospital_name} ({d.hospital_id})", style=style),
            format_duration(d.eta_s),
            format_time(d.expected_arrival),
            why,
            Text(d.note, style="dim"),
        )
    if not reply.destinations:
        return Group(head, Text("no hospital with that capability within reach", style="dim"))
    return Group(head, table)


def cmd_destination(ctx: Any) -> int:
    a = ctx.args
    reply = ctx.client().recommend_destination(a.id, a.condition, a.unit or "", a.limit)
    return int(ctx.emit(reply, destinations_view))


def cmd_prenotify(ctx: Any) -> int:
    a = ctx.args
    sent = ctx.client().send_prenotification(
        a.id,
        a.hospital,
        a.condition,
        unit_id=a.unit or "",
        age=a.age,
        sex=a.sex,
        findings=a.findings,
        free_text=a.text,
        symptom_onset=a.onset,
        request_id=a.request_id,
    )
    return int(ctx.emit(sent, alert_panel))


def add_hospital_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
    request_id_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``amk destination`` and ``amk prenotify``; ``command`` is ``build_parser``'s helper."""
    conditions = enum_choices(DESTINATION_CONDITION)
    dest = command(
        commands, "destination", cmd_destination, "hospitals for a patient, by capability and ETA"
    )
    dest.add_argument("id", metavar="ID", help="incident id")
    dest.add_argument(
        "--condition", choices=conditions, help="default: suggested from the criteria code"
    )
    dest.add_argument("--unit", metavar="U", help="the transporting unit (its position, kind)")
    dest.add_argument("--limit", type=int, default=0, help="how many (default 5, at most 20)")
    pre = command(
        commands, "prenotify", cmd_prenotify, "pre-notify a hospital of a patient on the way"
    )
    pre.add_argument("id", metavar="ID", help="incident id")
    pre.add_argument("--hospital", required=True, metavar="H", help="hospital id, e.g. ous-ulleval")
    pre.add_argument("--condition", required=True, choices=conditions)
    pre.add_argument("--unit", metavar="U", help="the transporting unit (default: the only one)")
    pre.add_argument("--age", type=int, help="years (default: unknown)")
    pre.add_argument("--sex", choices=enum_choices(PRE_NOTIFICATION_SEX))
    pre.add_argument("--findings", default="", help="key findings, e.g. side, NIHSS, ECG")
    pre.add_argument("--text", default="", help="free text")
    pre.add_argument(
        "--onset",
        metavar="WHEN",
        type=parse_since,
        help='when symptoms began: 40m (ago) or a time ("2026-11-26 08:12")',
    )
    request_id_option(pre)
