"""What the on-call engineer is told about alerts to other services (issue #19): per
region, service and state, how many are open and how long the oldest has been so.

A dispatcher sees each escalated alert on the console, one incident at a time. What a
dispatcher does not see is a pattern: the police's endpoint down since the night, every
alert to 112 escalating, or a hospital's receiver refusing documents so that the outbox
keeps owing them. Those are faults for the on-call engineer, who reads gauges, so the
centre counts its hosted incidents' alerts for the gateway's Prometheus endpoint
(``amk_alerts_open``, ``amk_alert_oldest_open_seconds``; the rules in
``docs/ops/alerts.yml``).

The states counted, per recipient (the configured partner or hospital the alert went
to): ``waiting`` (sent, within its time to be acknowledged) and ``escalated`` (sent, not
acknowledged in time), both only while the incident is open and, for a pre-notification,
while it stands (not arrived, replaced or withdrawn: nobody chases those); and ``owed``
(a pre-notification whose hospital lacks a document: the record is the outbox,
``actors/domain/prenotify.py``), whatever the incident's state, since a hospital must
hear that a patient is not coming. An owed pre-notification is also waiting or escalated
while it stands: the two questions are separate. An air ambulance request's own outbox
(its delivery to the AMK-LA) is not counted here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from actors.domain import incident_lifecycle, prenotify
from actors.domain.model import Alert, AlertState, Incident

WAITING = "waiting"
ESCALATED = "escalated"
OWED = "owed"
STATES = (WAITING, ESCALATED, OWED)


@dataclass(frozen=True, slots=True)
class AlertGauge:
    """Open alerts of one region, service, recipient and state: how many, and the
    oldest's age."""

    region: str
    service: str  # AlertService's value: 110, 112, 116117, air_ambulance, hospital
    recipient: str  # where it went ("110:oslo", a hospital's id); "" if none recorded
    state: str  # one of STATES
    count: int
    oldest_s: float  # seconds since the oldest became so (:func:`states_of`)


def owed_since(alert: Alert, inc: Incident) -> float:
    """Since when the hospital has lacked a document, from the times the record keeps:
    none taken yet, since it was sent; only the withdrawal owed, since the
    pre-notification was withdrawn, cancelled or replaced; only the latest ETA update
    owed, since that update; two or more updates owed, since the hospital last took a
    document (an earlier update's time is not kept). Never before the last it took."""
    pre = alert.prenotification
    if pre is None or not pre.delivered:
        return alert.sent_at
    if pre.delivered > pre.eta_updates:  # every update taken: the withdrawal is owed
        replaced = next((a.sent_at for a in inc.alerts if a.id == pre.replaced_by), 0.0)
        ended = max(pre.withdrawn_at, alert.cancelled_at, replaced)
        return max(pre.delivered_at, ended)
    if pre.delivered == pre.eta_updates:  # only the latest update is owed: it has a time
        return max(pre.delivered_at, pre.eta_updated_at)
    return pre.delivered_at


def states_of(alert: Alert, inc: Incident) -> list[tuple[str, float]]:
    """The open states ``alert`` is counted in, each with since when (none for a closed,
    proposed or settled one)."""
    out: list[tuple[str, float]] = []
    chased = incident_lifecycle.is_open(inc.status) and (
        alert.prenotification is None or prenotify.is_open(alert)
    )
    if chased and alert.state is AlertState.SENT:
        out.append((WAITING, alert.sent_at))
    elif chased and alert.state is AlertState.ESCALATED:
        out.append((ESCALATED, alert.sent_at))
    if prenotify.pending(alert):
        out.append((OWED, owed_since(alert, inc)))
    return out


def gauges(region: str, incidents: Iterable[Incident], now: float) -> list[AlertGauge]:
    """The open alerts of ``region``'s incidents, by service, recipient and state (only
    those with at least one open), sorted by those."""
    since: dict[tuple[str, str, str], list[float]] = {}
    for inc in incidents:
        for alert in inc.alerts:
            for state, at in states_of(alert, inc):
                key = (str(alert.service), alert.recipient, state)
                since.setdefault(key, []).append(at)
    return [
        AlertGauge(region, service, recipient, state, len(times), max(0.0, now - min(times)))
        for (service, recipient, state), times in sorted(since.items())
    ]
