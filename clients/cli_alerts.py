"""``amk alert list|send|ack|phoned|cancel``: alerts to other services (issue #19,
trippelvarsling, and the hospital pre-notifications ``amk prenotify`` sends), wired into
``clients/cli.py`` by ``add_alert_commands``.

``--to`` takes what a dispatcher says (``110``, ``112``, ``116117`` for the legevakt) or
the API's short names (``fire_110``, ``police_112``, ``legevakt_116117``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from actors.domain import air_mission_lifecycle
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.enums import (
    AIR_MISSION_STATE,
    ALERT_SERVICE,
    ALERT_STATE,
    DESTINATION_CONDITION,
    UNIT_KIND,
    enum_choices,
    enum_name,
    enum_value,
)
from clients.render_time import format_time

EXIT_OK = 0
SERVICES = {"110": "fire_110", "112": "police_112", "116117": "legevakt_116117"}
COLUMNS = ("Alert", "To", "State", "Why", "Sent", "By", "Acknowledged", "By")
COLUMNS += ("Pre-notification", "Note")
# An air ambulance request is `amk air request` (it names the aircraft kind); a
# hospital pre-notification is `amk prenotify`.
SENDABLE = [c for c in enum_choices(ALERT_SERVICE) if c not in ("air_ambulance", "hospital")]
# Too late to stand the aircraft down: the domain's set, as the API's enum values.
AT_PATIENT = frozenset(
    enum_value(AIR_MISSION_STATE, s.value) for s in air_mission_lifecycle.AT_PATIENT
)
STATE_STYLE = {
    "escalated": "bold red",
    "declined": "bold red",
    "sent": "yellow",
    "acknowledged": "green",
}


def _ts_set(ts: Timestamp) -> bool:
    return bool(ts.seconds or ts.nanos)


def _at(ns: int) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(ns)
    return ts


def alert_timeline(alerts: list[pb.Alert]) -> RenderableType:
    """Every alert's moments in time order: proposed, sent, delivered (AMK-LA),
    acknowledged or declined, escalated, cancelled, and an air mission's last step."""
    rows: list[tuple[int, str, str, str, str, str]] = []
    for a in alerts:
        to = f"{enum_name(a.service, ALERT_SERVICE)} {a.recipient}".strip()
        if a.air_kind:
            to += f" ({enum_name(a.air_kind, UNIT_KIND)})"
        mission = enum_name(a.mission_state, AIR_MISSION_STATE) if a.mission_state else ""
        for what, ts, by, note in (
            ("proposed", a.proposed_at, "", a.action_card),
            ("sent", a.sent_at, a.sent_by, a.reason),
            ("delivered to the AMK-LA", a.delivered_at, "", a.mission_id),
            (
                "acknowledged",
                a.acknowledged_at,
                a.acknowledged_by,
                ", ".join(x for x in (a.aircraft_unit_id, a.base_doctor) if x),
            ),
            ("declined", a.declined_at, a.declined_by, a.note),
            ("escalated", a.escalated_at, "", a.note),
            ("cancelled", a.cancelled_at, a.cancelled_by, a.note),
            # An unanswered request withdrawn is cancelled too: one line for both.
            (
                "withdrawn",
                a.withdrawn_at if not _ts_set(a.cancelled_at) else Timestamp(),
                a.withdrawn_by,
                a.note,
            ),
            ("withdrawal delivered to the AMK-LA", a.withdrawal_delivered_at, "", a.mission_id),
            (f"mission {mission}", a.mission_updated_at, "", a.mission_id),
        ):
            if _ts_set(ts):
                rows.append((ts.ToNanoseconds(), a.id, to, what, by, note))
    table = Table(title="Alert times", title_justify="left")
    for name in ("When", "Alert", "To", "What", "By", "Note"):
        table.add_column(name)
    for ns, alert_id, to, what, by, note in sorted(rows):
        table.add_row(format_time(_at(ns)), alert_id, to, what, by or "-", note or "-")
    return table


def prenotification_text(a: pb.Alert) -> str:
    """A pre-notification's patient and arrival in one cell; "-" for other alerts."""
    if not a.HasField("prenotification"):
        return "-"
    p = a.prenotification
    age = f"{p.age} y" if p.HasField("age") else "age ?"
    parts = [
        f"{enum_name(p.condition, DESTINATION_CONDITION)}, {age}, unit {p.unit_id}",
        f"ETA {format_time(p.expected_arrival)}"
        + (f" ({p.eta_updates} update{'s' * (p.eta_updates != 1)})" if p.eta_updates else ""),
    ]
    if p.HasField("arrived_at"):
        parts.append(f"arrived {format_time(p.arrived_at)}, lead {p.lead_time_s / 60:.0f} min")
    if p.replaced_by:
        parts.append(f"replaced by {p.replaced_by}")
    if p.HasField("withdrawn_at"):
        parts.append(f"withdrawn {format_time(p.withdrawn_at)}")
    if p.documents_delivered < p.documents_due:
        # Still being delivered (retried until the hospital answers): whoever reads
        # this may phone the hospital rather than wait.
        parts.append(
            f"hospital not yet told: {p.documents_delivered} of {p.documents_due} "
            "documents delivered"
        )
    return "; ".join(parts)


def alerts_table(alerts: list[pb.Alert]) -> RenderableType:
    table = Table(title="Alerts", title_justify="left")
    for name in COLUMNS:
        table.add_column(name)
    for a in alerts:
        state = enum_name(a.state, ALERT_STATE)
        table.add_row(
            a.id,
            f"{enum_name(a.service, ALERT_SERVICE)} {a.recipient}".strip(),
            Text(state, style=STATE_STYLE.get(state, "")),
            a.action_card or a.reason or "-",
            format_time(a.sent_at),
            a.sent_by or "-",
            format_time(a.acknowledged_at),
            a.acknowledged_by or "-",
            prenotification_text(a),
            note_text(a),
        )
    return table


def note_text(a: pb.Alert) -> str:
    """The alert's note, and for a withdrawn air request whether the AMK-LA knows."""
    note = a.note or "-"
    if a.withdrawal_owed:
        # Retried until the AMK-LA's owner answers; whoever reads this may phone.
        note += "; withdrawn, AMK-LA not yet told"
    elif a.withdrawal_answer == pb.AIR_MISSION_STATE_ABORTED:
        note += f"; withdrawn, stood down by the AMK-LA {format_time(a.withdrawal_delivered_at)}"
    elif a.withdrawal_answer in AT_PATIENT:
        note += "; withdrawn too late: the aircraft was at the patient"
    elif a.withdrawal_answer:
        answer = enum_name(a.withdrawal_answer, AIR_MISSION_STATE)
        note += f"; withdrawn after the mission had ended ({answer})"
    return note


def alert_panel(alert: pb.Alert) -> RenderableType:
    return alerts_table([alert])


def cmd_alert_list(ctx: Any) -> int:
    return int(ctx.emit(ctx.client().list_alerts(ctx.args.id), alerts_table))


def cmd_alert_send(ctx: Any) -> int:
    a = ctx.args
    service = SERVICES.get(a.to, a.to)
    sent = ctx.client().send_alert(
        a.id, service, a.reason, request_id=a.request_id, phoned_to=a.phoned_to
    )
    return int(ctx.emit(sent, alert_panel))


def cmd_alert_ack(ctx: Any) -> int:
    a = ctx.args
    acked = ctx.client().acknowledge_alert(a.id, a.alert, a.by, request_id=a.request_id)
    return int(ctx.emit(acked, alert_panel))


def cmd_alert_phoned(ctx: Any) -> int:
    a = ctx.args
    told = ctx.client().confirm_prenotification_by_phone(
        a.id, a.alert, a.spoke_with, request_id=a.request_id
    )
    return int(ctx.emit(told, alert_panel))


def cmd_alert_cancel(ctx: Any) -> int:
    a = ctx.args
    cancelled = ctx.client().cancel_alert(a.id, a.alert, a.reason, request_id=a.request_id)
    return int(ctx.emit(cancelled, alert_panel))


def add_alert_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
    request_id_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``amk alert ...``; ``command`` is ``build_parser``'s helper."""
    alert = command(commands, "alert", None, "alerts to fire (110), police (112), the legevakt")
    actions = alert.add_subparsers(dest="alert_command", metavar="ACTION", required=True)
    listing = command(actions, "list", cmd_alert_list, "an incident's alerts, times and states")
    listing.add_argument("id", metavar="ID", help="incident id")
    send = command(actions, "send", cmd_alert_send, "send the proposed alert, or a new one")
    send.add_argument("id", metavar="ID", help="incident id")
    send.add_argument(
        "--to",
        required=True,
        choices=[*SERVICES, *SENDABLE],
        help="the service: 110 (fire), 112 (police) or 116117 (the legevakt)",
    )
    send.add_argument("--reason", default="", help="why, for an alert no action card proposed")
    send.add_argument(
        "--phoned-to",
        default="",
        metavar="NAME",
        help="alerted by phone or radio (no link configured, or it is down): whom you told;"
        " recorded as sent and acknowledged",
    )
    request_id_option(send)
    ack = command(actions, "ack", cmd_alert_ack, "record the other centre's acknowledgement")
    ack.add_argument("id", metavar="ID", help="incident id")
    ack.add_argument("alert", metavar="ALERT", help="alert id (a1, a2, ...)")
    ack.add_argument("--by", default="", help="who at the other centre (default: you)")
    request_id_option(ack)
    phoned = command(
        actions,
        "phoned",
        cmd_alert_phoned,
        "record that the hospital was told by phone what its pre-notification owes",
    )
    phoned.add_argument("id", metavar="ID", help="incident id")
    phoned.add_argument("alert", metavar="ALERT", help="the pre-notification's alert id")
    phoned.add_argument("--spoke-with", default="", help="whom at the hospital")
    request_id_option(phoned)
    cancel = command(
        actions,
        "cancel",
        cmd_alert_cancel,
        "cancel an alert not yet acknowledged, or withdraw an air ambulance request",
    )
    cancel.add_argument("id", metavar="ID", help="incident id")
    cancel.add_argument("alert", metavar="ALERT", help="alert id (a1, a2, ...)")
    cancel.add_argument(
        "--reason", default="", help="why (required for an air request: the AMK-LA is told)"
    )
    request_id_option(cancel)
