"""What the on-call engineer is told about alerts to other services (issue #19): per
region, service and state, how many are open and how long the oldest has been so.

A dispatcher sees each escalated alert on the console, one incident at a time. What a
dispatcher does not see is a pattern: the police's endpoint down since the night, every
alert to 112 escalating, or a hospital's receiver refusing documents so that the outbox
keeps owing them. Those are faults for the on-call engineer, who reads gauges, so the
centre counts its hosted incidents' alerts for the gateway's Prometheus endpoint
(``amk_alerts_open``, ``amk_alert_oldest_open_seconds``; the rules in
``docs/ops/alerts.yml``).

The states counted (an alert acknowledged, cancelled, declined or only proposed is not
open): ``waiting`` (sent, within its time to be acknowledged), ``escalated`` (sent, not
acknowledged in time) and ``owed`` (a pre-notification whose hospital lacks its latest
document: the record is the outbox, ``actors/domain/prenotify.py``). An owed
pre-notification is also waiting or escalated: the two questions are separate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from actors.domain import prenotify
from actors.domain.model import Alert, AlertState, Incident

WAITING = "waiting"
ESCALATED = "escalated"
OWED = "owed"
STATES = (WAITING, ESCALATED, OWED)


@dataclass(frozen=True, slots=True)
class AlertGauge:
    """Open alerts of one region, service and state: how many, and the oldest's age."""

    region: str
    service: str  # AlertService's value: 110, 112, 116117, air_ambulance, hospital
    state: str  # one of STATES
    count: int
    oldest_s: float  # seconds since the oldest became so (see :func:`open_since`)


def open_since(alert: Alert, state: str) -> float:
    """When ``alert`` became open in ``state``: waiting and escalated from when it was
    sent; owed from when its newest document became due (sent, the latest ETA update,
    the withdrawal), so a hospital that takes documents at once never reads as behind."""
    if state != OWED:
        return alert.sent_at
    pre = alert.prenotification
    if pre is None:
        return alert.sent_at
    return max(alert.sent_at, pre.eta_updated_at, pre.withdrawn_at)


def states_of(alert: Alert) -> list[str]:
    """The open states ``alert`` is counted in (none for a closed or proposed one)."""
    out = []
    if alert.state is AlertState.SENT:
        out.append(WAITING)
    elif alert.state is AlertState.ESCALATED:
        out.append(ESCALATED)
    if prenotify.pending(alert):
        out.append(OWED)
    return out


def gauges(region: str, incidents: Iterable[Incident], now: float) -> list[AlertGauge]:
    """The open alerts of ``region``'s incidents, by service and state (only those with
    at least one open), oldest first within each."""
    since: dict[tuple[str, str], list[float]] = {}
    for inc in incidents:
        for alert in inc.alerts:
            for state in states_of(alert):
                since.setdefault((str(alert.service), state), []).append(open_since(alert, state))
    return [
        AlertGauge(region, service, state, len(times), max(0.0, now - min(times)))
        for (service, state), times in sorted(since.items())
    ]
