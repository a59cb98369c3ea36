"""Pure decisions on an incident's alerts to other services (issue #19, trippelvarsling).

**Where alerts live: in the incident's record** (``Incident.alerts``), not under a key
of their own. An alert is part of the incident's story and shares its fate: a
hand-over moves it with the incident, the archiver archives it with the incident, a
takeover loads it with the incident, and ``GetIncidentHistory`` finds every change in
the incident's journal entries, with no new key kind to load, move, archive or fence.
Every change is then one fenced write of the incident with its journal entry, decided
under the incident's mailbox like any incident command, so an acknowledgement can never
race a cancel. The cost, a few hundred bytes per alert in the incident's value, is
small: an incident has a handful of alerts at most.

Every function returns a new incident and leaves its input untouched; ``now`` is
passed in. Illegal moves raise (``alert_lifecycle.transition``).
"""

from __future__ import annotations

import copy

from actors.domain import air_mission_lifecycle, alert_lifecycle, incident_lifecycle
from actors.domain.action_cards import ActionCards
from actors.domain.errors import (
    InvalidArgumentError,
    NotFoundError,
    PreconditionError,
)
from actors.domain.model import Alert, AlertService, AlertState, Incident


def find(inc: Incident, alert_id: str) -> Alert:
    """The incident's alert ``alert_id``, or NotFoundError."""
    for alert in inc.alerts:
        if alert.id == alert_id:
            return alert
    raise NotFoundError("alert", f"{inc.id}/{alert_id}")


def next_id(inc: Incident) -> str:
    """The id the incident's next alert gets (a1, a2, ...)."""
    return f"a{len(inc.alerts) + 1}"


def propose(inc: Incident, cards: ActionCards, now: float) -> Incident:
    """The incident with an alert proposed for every service its criteria code's action
    cards call for and that it has no alert to yet (a dispatcher who cancelled one has
    decided: re-triage does not propose it again). ``inc`` itself when nothing is new."""
    if not inc.criteria_code or not incident_lifecycle.is_open(inc.status):
        return inc
    have = {a.service for a in inc.alerts}
    wanted = [(s, card) for s, card in cards.match(inc.criteria_code) if s not in have]
    if not wanted:
        return inc
    # Only the alerts list changes (each alert new): a shallow copy with its own list
    # leaves the input untouched, without a deep copy on every red response's create.
    new = copy.copy(inc)
    new.alerts = list(inc.alerts)
    for service, card in wanted:
        new.alerts.append(
            Alert(
                id=next_id(new),
                service=service,
                state=AlertState.PROPOSED,
                action_card=card.id,
                criteria_code=inc.criteria_code,
                proposed_at=now,
            )
        )
    new.updated_at = now
    return new


def send(
    inc: Incident, service: AlertService, recipient: str, who: str, now: float, reason: str = ""
) -> tuple[Incident, Alert]:
    """Send the alert proposed to ``service``, or a new (manual) one if none is proposed.

    Refused while an alert to ``service`` awaits its acknowledgement (one open alert per
    service: the other centre is already working on it) and on a closed incident.
    """
    if service is AlertService.AIR_AMBULANCE:
        raise InvalidArgumentError(
            "service",
            "an air ambulance request is RequestAirAmbulance (amk air request): it names "
            "the aircraft kind and goes to the AMK-LA, not to a partner endpoint",
        )
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}; nothing to alert")
    for a in inc.alerts:
        if a.service is service and a.state in alert_lifecycle.AWAITING:
            raise PreconditionError(
                inc.id, f"alert {a.id} to {service.value} is {a.state.value}; not acknowledged yet"
            )
    new = copy.deepcopy(inc)
    alert = next(
        (a for a in new.alerts if a.service is service and a.state is AlertState.PROPOSED), None
    )
    if alert is None:
        alert = Alert(id=next_id(new), service=service, state=AlertState.PROPOSED)
        new.alerts.append(alert)
    alert.state = alert_lifecycle.transition(alert.id, alert.state, AlertState.SENT)
    alert.criteria_code = alert.criteria_code or inc.criteria_code
    alert.reason = reason or alert.reason
    alert.recipient = recipient
    alert.sent_at = now
    alert.sent_by = who
    new.updated_at = now
    return new, alert


#: The recipient of an alert given by phone or radio instead of a configured link.
BY_PHONE = "phone"


def phoned(
    inc: Incident,
    service: AlertService,
    spoke_with: str,
    who: str,
    now: float,
    reason: str = "",
) -> tuple[Incident, Alert]:
    """The alert to ``service`` given by phone (or radio): sent and acknowledged in one
    step, by the person spoken with; one already sent and awaiting its answer (a link
    that is down) is acknowledged by that person instead. Where no link to a fire or
    police centre or a legevakt is configured, or it is down, the dispatcher still alerts
    them; the record must then hold that it was done, when, and whom they told."""
    if not spoke_with.strip():
        raise InvalidArgumentError("phoned_to", "whom at the other centre you spoke with")
    waiting = next(
        (a for a in inc.alerts if a.service is service and a.state in alert_lifecycle.AWAITING),
        None,
    )
    if waiting is None:
        sent, alert = send(inc, service, BY_PHONE, who, now, reason)
        alert_id = alert.id
    else:  # sent through a link that is down (or silent): the phone call is its answer
        sent, alert_id = inc, waiting.id
    new = acknowledge(sent, alert_id, spoke_with.strip(), now)
    alert = find(new, alert_id)
    if waiting is not None:
        alert.note = alert.note or f"acknowledged by phone ({who})"
    return new, alert


def _change(inc: Incident, alert_id: str, state: AlertState, now: float) -> tuple[Incident, Alert]:
    current = find(inc, alert_id)
    alert_lifecycle.transition(alert_id, current.state, state)
    new = copy.deepcopy(inc)
    alert = find(new, alert_id)
    alert.state = state
    new.updated_at = now
    return new, alert


def _not_air(inc: Incident, alert_id: str, what: str) -> None:
    """An air ambulance request is answered by its AMK-LA through the air mission
    (``actors/domain/air.py``), never by hand here: a hand-entered acknowledgement would
    say "accepted" with no aircraft and no base doctor behind it."""
    if find(inc, alert_id).service is AlertService.AIR_AMBULANCE:
        raise PreconditionError(
            inc.id,
            f"alert {alert_id} is an air ambulance request: the AMK-LA {what} it "
            "(AnswerAirRequest / AirAbortMission), not this call",
        )


def acknowledge(inc: Incident, alert_id: str, by: str, now: float) -> Incident:
    """The other centre has the alert: when, and who there said so."""
    _not_air(inc, alert_id, "answers")
    new, alert = _change(inc, alert_id, AlertState.ACKNOWLEDGED, now)
    alert.acknowledged_at = now
    alert.acknowledged_by = by
    return new


def cancel(inc: Incident, alert_id: str, who: str, reason: str, now: float) -> Incident:
    if find(inc, alert_id).service is AlertService.AIR_AMBULANCE:
        # The AMK-LA must hear of it, and an accepted request is withdrawn too, so it
        # is not a plain cancel: ``air.withdraw`` (the centre routes CancelAlert there).
        raise PreconditionError(inc.id, f"alert {alert_id} is an air ambulance request")
    new, alert = _change(inc, alert_id, AlertState.CANCELLED, now)
    alert.cancelled_at = now
    alert.cancelled_by = who
    alert.note = reason
    return new


def _settled(alert: Alert) -> bool:
    """A hospital pre-notification that no longer stands (replaced by another hospital,
    withdrawn, or the patient arrived): nobody needs to chase its acknowledgement."""
    pre = alert.prenotification
    return pre is not None and bool(pre.replaced_by or pre.withdrawn_at or pre.arrived_at)


def due_for_escalation(inc: Incident, now: float, after_s: float) -> list[str]:
    """Ids of the sent alerts still unacknowledged ``after_s`` after they were sent (a
    settled pre-notification is not chased)."""
    return [
        a.id
        for a in inc.alerts
        if a.state is AlertState.SENT and now - a.sent_at >= after_s and not _settled(a)
    ]


def escalate(inc: Incident, alert_id: str, now: float, after_s: float) -> Incident:
    """Mark a sent alert escalated: no acknowledgement within ``after_s``. Refused before
    its time (a late or repeated check must not escalate early)."""
    current = find(inc, alert_id)
    if current.state is AlertState.SENT and now - current.sent_at < after_s:
        waited = now - current.sent_at
        raise PreconditionError(inc.id, f"alert {alert_id} was sent {waited:.1f} s ago")
    new, alert = _change(inc, alert_id, AlertState.ESCALATED, now)
    alert.escalated_at = now
    alert.note = f"not acknowledged within {after_s:g} s"
    return new


# ---------------------------------------------------------------- air ambulance on the incident


def aircraft_busy(inc: Incident) -> list[Alert]:
    """The incident's air ambulance requests whose aircraft is committed to it, as last
    reported by the AMK-LA (accepted, airborne, at the patient, carrying them): for the
    incident, an aircraft on its way counts as a unit sent. A withdrawn request's
    aircraft does not, unless it is at the patient: a withdrawal that came too late
    (the aircraft had landed) leaves it working the incident."""
    return [
        a
        for a in inc.alerts
        if a.service is AlertService.AIR_AMBULANCE
        and a.mission_state in air_mission_lifecycle.AIRCRAFT_BUSY
        and (not a.withdrawn_at or a.mission_state in air_mission_lifecycle.AT_PATIENT)
    ]


def air_holding(inc: Incident) -> str:
    """Why an air ambulance request keeps the incident from being closed or cancelled
    ('' when none does). As with a road unit still assigned: an incident ended while a
    base is deciding to fly, or with an aircraft on its way or at the patient, would
    leave that aircraft working an incident nobody follows. The dispatcher withdraws
    the request first (``air.withdraw``; refused once the aircraft is at the patient),
    or waits until the aircraft is free again."""
    for a in aircraft_busy(inc):
        state = a.mission_state.value if a.mission_state else ""
        unit = a.aircraft_unit_id or "the aircraft"
        if a.mission_state in air_mission_lifecycle.AT_PATIENT:
            return (
                f"air ambulance {unit} is {state} (request {a.id}); the incident can be "
                "closed once the aircraft is free again"
            )
        return f"air ambulance {unit} is {state} (request {a.id}); withdraw the request first"
    for a in inc.alerts:
        if (
            a.service is AlertService.AIR_AMBULANCE
            and not a.withdrawn_at
            and a.state in alert_lifecycle.AWAITING
        ):
            return f"air ambulance request {a.id} awaits the base's answer; withdraw it first"
    return ""
