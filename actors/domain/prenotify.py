"""Pure decisions on hospital pre-notifications (issue #19): an alert to a hospital
about a patient on the way, with the patient's key data and the expected arrival.

A pre-notification is an alert of the incident (``AlertService.HOSPITAL``, the
hospital's id as ``recipient``), kept in the incident's record like every alert
(``actors/domain/alerts.py`` says why), so sending it, the hospital's acknowledgement,
each ETA update and the arrival are each one fenced write of the incident with its
journal entry. It follows the alert lifecycle (sent -> acknowledged, escalated when
unanswered); what is its own:

- **One open pre-notification per unit.** It is *open* from sending until the unit
  reaches the hospital (``arrived_at``), unless cancelled or replaced. Sending another
  for the same unit to the same hospital is refused (its ETA updates already follow
  the unit); to another hospital it *replaces* the open one (the dispatcher changed the
  destination): the old one gets ``replaced_by`` and its hospital is told the patient
  is not coming. Replacing rather than cancelling keeps an acknowledged alert's final
  state, which the lifecycle does not reopen.
- **The ETA** (:func:`transport_eta`) is the expected arrival as an absolute time,
  from where the unit is in its mission: transporting, from the unit's position; on
  scene, from the scene, leaving now; assigned or en route, to the scene and on to the
  hospital with no time on scene counted (the crew's time there is unknown; the
  reason says so, and the updates correct it as the unit moves).
- **ETA updates** (:func:`eta_update_due`): a new expected arrival is committed and
  sent only when it differs from the last one sent by more than the threshold
  (``prenotification_eta_update_s``), so a team is not paged for every AVL report.
- **Arrival** (:func:`mark_arrived`): the unit's AT_HOSPITAL status stamps
  ``arrived_at`` on its open pre-notification in that status change's write; the
  lead time (arrival minus sending) is a KPI.
- **Withdrawal** (:func:`withdraw_for_unit`): a unit that leaves the incident before
  the hospital (released, or available from the scene: the patient is not transported)
  withdraws its open pre-notification in that write, and the hospital is told, so a
  team does not wait for a patient who is not coming. An acknowledged one included:
  the lifecycle keeps its state, ``withdrawn_at`` closes it.
- **Delivery: the record is the outbox** (``Alert.documents_due``, :func:`undelivered`,
  :func:`mark_delivered`). Each of the above that the hospital must hear of (the first
  document, each ETA update, the withdrawal of one cancelled, replaced or withdrawn)
  adds one to the documents due; ``delivered`` counts those the hospital answered with
  a 2xx, recorded by a fenced write after the answer. While fewer are delivered than
  due, the owner sends the document for the state as it is now (the latest expected
  arrival, or the withdrawal), retrying until the hospital answers, and a takeover
  loads the count with the region and goes on. Sent twice (the owner died between the
  answer and its record), a document is harmless: each carries its ``sequence``.
  A dispatcher who told the hospital by phone records it (:func:`confirm_by_phone`):
  every document due counts as delivered. After arrival nothing is pending
  (:func:`pending`): the patient is at the door, and
  an ETA update not taken by then is moot. A record stored before the outbox counted
  deliveries reads as all delivered (``Alert.from_dict``).

Every function returns new records and leaves its inputs untouched; ``now`` is given.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from actors.domain import incident_lifecycle
from actors.domain.alerts import acknowledge, find
from actors.domain.destination import Hospital, minutes, travel
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.eta import DEFAULT_PARAMETERS, EtaParameters
from actors.domain.model import (
    PRENOTIFICATION_STANDING,
    Alert,
    AlertService,
    AlertState,
    Incident,
    PatientCondition,
    PreNotification,
    Sex,
    Unit,
    UnitStatus,
)

#: States in which a pre-notification still stands (the hospital expects the patient).
STANDING = PRENOTIFICATION_STANDING
MAX_AGE = 130


@dataclass(frozen=True, slots=True)
class PatientData:
    """The patient's key data as the dispatcher gives them (checked at the API)."""

    condition: PatientCondition
    age: int | None = None
    sex: Sex = Sex.UNKNOWN
    findings: str = ""
    free_text: str = ""
    symptom_onset_at: float = 0.0

    def __post_init__(self) -> None:
        if self.age is not None and not 0 <= self.age <= MAX_AGE:
            raise InvalidArgumentError("age", f"{self.age} is outside 0..{MAX_AGE}")


@dataclass(frozen=True, slots=True)
class TransportEta:
    """When the unit is expected at the hospital (epoch s), and why."""

    expected_arrival: float
    eta_s: float
    reason: str


def is_open(alert: Alert) -> bool:
    pre = alert.prenotification
    return (
        alert.service is AlertService.HOSPITAL
        and pre is not None
        and alert.state in STANDING
        and not pre.arrived_at
        and not pre.replaced_by
        and not pre.withdrawn_at
    )


def open_for_unit(inc: Incident, unit_id: str) -> list[Alert]:
    """The incident's open pre-notifications for ``unit_id`` (at most one)."""
    return [
        a
        for a in inc.alerts
        if is_open(a) and a.prenotification is not None and a.prenotification.unit_id == unit_id
    ]


def transport_eta(
    unit: Unit,
    inc: Incident,
    hospital: Hospital,
    now: float,
    params: EtaParameters = DEFAULT_PARAMETERS,
) -> TransportEta:
    """The unit's expected arrival at ``hospital`` from where it is in its mission
    (see the module docstring). NotBuiltError for a boat or fixed wing (no leg from the
    quay or the airport in the model)."""
    status = unit.status
    scene = inc.position
    if status is UnitStatus.TRANSPORTING:
        leg = travel(
            unit.position.lat, unit.position.lon, hospital.lat, hospital.lon, unit.kind, params
        )
        eta, why = leg.eta_s, f"transporting: {leg.words}"
    elif status is UnitStatus.ON_SCENE:
        leg = travel(scene.lat, scene.lon, hospital.lat, hospital.lon, unit.kind, params)
        eta, why = leg.eta_s, f"on scene, leaving now: {leg.words}"
    elif status in (UnitStatus.ASSIGNED, UnitStatus.EN_ROUTE):
        to_scene = travel(
            unit.position.lat, unit.position.lon, scene.lat, scene.lon, unit.kind, params
        )
        leg = travel(scene.lat, scene.lon, hospital.lat, hospital.lon, unit.kind, params)
        eta = to_scene.eta_s + leg.eta_s
        why = (
            f"{status.value}: to the scene {to_scene.words}, then {leg.words}; "
            "no time on scene counted"
        )
    else:
        raise PreconditionError(unit.id, f"unit is {status.value}: no transport to pre-notify")
    if eta == float("inf"):
        raise PreconditionError(unit.id, f"no way to {hospital.name}: {leg.words}")
    return TransportEta(now + eta, eta, f"{why} = {minutes(eta)}")


def send(
    inc: Incident,
    hospital: Hospital,
    unit_id: str,
    patient: PatientData,
    eta: TransportEta,
    who: str,
    now: float,
) -> tuple[Incident, Alert, Alert | None]:
    """The incident with a pre-notification to ``hospital`` sent, the new alert, and the
    one it replaced (another hospital's, for the same unit) or None."""
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}; nothing to pre-notify")
    if unit_id not in inc.assigned_unit_ids:
        raise PreconditionError(inc.id, f"unit {unit_id} is not assigned to the incident")
    new = copy.deepcopy(inc)
    replaced: Alert | None = None
    for old in open_for_unit(new, unit_id):
        if old.recipient == hospital.id:
            raise PreconditionError(
                inc.id,
                f"{hospital.name} already has pre-notification {old.id} for unit {unit_id}; "
                "its ETA updates follow the unit",
            )
        assert old.prenotification is not None
        replaced = old
    alert = Alert(
        id=f"a{len(new.alerts) + 1}",
        service=AlertService.HOSPITAL,
        state=AlertState.SENT,
        criteria_code=inc.criteria_code,
        reason=f"pre-notification: {patient.condition.value}",
        recipient=hospital.id,
        sent_at=now,
        sent_by=who,
        prenotification=PreNotification(
            hospital_name=hospital.name,
            condition=patient.condition,
            unit_id=unit_id,
            expected_arrival=eta.expected_arrival,
            eta_reason=eta.reason,
            age=patient.age,
            sex=patient.sex,
            urgency=inc.urgency,
            findings=patient.findings,
            free_text=patient.free_text,
            symptom_onset_at=patient.symptom_onset_at,
        ),
    )
    if replaced is not None:
        assert replaced.prenotification is not None
        replaced.prenotification.replaced_by = alert.id
        replaced.note = f"destination changed to {hospital.name} ({alert.id})"
    new.alerts.append(alert)
    new.updated_at = now
    return new, alert, replaced


def eta_update_due(alert: Alert, expected_arrival: float, threshold_s: float) -> bool:
    """Whether ``expected_arrival`` differs from the one last sent by more than the
    threshold (and the pre-notification is still open)."""
    pre = alert.prenotification
    if pre is None or not is_open(alert):
        return False
    return abs(expected_arrival - pre.expected_arrival) > threshold_s


def update_eta(
    inc: Incident, alert_id: str, eta: TransportEta, threshold_s: float, now: float
) -> Incident:
    """The incident with the new expected arrival on ``alert_id``. Refused when the
    pre-notification is closed or the change is within the threshold: a late or
    repeated update (another one got there first) must not write."""
    current = find(inc, alert_id)
    if not is_open(current):
        raise PreconditionError(inc.id, f"pre-notification {alert_id} is not open")
    if not eta_update_due(current, eta.expected_arrival, threshold_s):
        raise PreconditionError(
            inc.id, f"pre-notification {alert_id}: ETA within {threshold_s:g} s of the last sent"
        )
    new = copy.deepcopy(inc)
    pre = find(new, alert_id).prenotification
    assert pre is not None
    pre.expected_arrival = eta.expected_arrival
    pre.eta_reason = eta.reason
    pre.eta_updated_at = now
    pre.eta_updates += 1
    new.updated_at = now
    return new


def mark_arrived(inc: Incident, unit_id: str, now: float, at: float | None = None) -> Incident:
    """The incident with the unit's open pre-notification marked arrived (``inc`` itself
    when it has none): from the AT_HOSPITAL status, in that change's write; ``at``: when
    it happened, if a dispatcher entered it later (``now`` otherwise)."""
    if not open_for_unit(inc, unit_id):
        return inc
    new = copy.deepcopy(inc)
    for alert in open_for_unit(new, unit_id):
        assert alert.prenotification is not None
        alert.prenotification.arrived_at = now if at is None else at
    new.updated_at = now
    return new


def withdraw_for_unit(
    inc: Incident, unit_id: str, why: str, now: float
) -> tuple[Incident, list[str]]:
    """The incident with the unit's open pre-notification withdrawn, and the ids of the
    alerts withdrawn (``inc`` itself and ``[]`` when it has none)."""
    if not open_for_unit(inc, unit_id):
        return inc, []
    new = copy.deepcopy(inc)
    ids = []
    for alert in open_for_unit(new, unit_id):
        assert alert.prenotification is not None
        alert.prenotification.withdrawn_at = now
        alert.note = why
        ids.append(alert.id)
    new.updated_at = now
    return new, ids


def lead_time_s(alert: Alert) -> float | None:
    """How long before the unit's arrival the hospital was told; None until arrival."""
    pre = alert.prenotification
    if pre is None or not pre.arrived_at or not alert.sent_at:
        return None
    return pre.arrived_at - alert.sent_at


def pending(alert: Alert) -> bool:
    """Whether ``alert`` is a pre-notification whose hospital lacks its latest document
    (nothing is pending after the unit's arrival)."""
    pre = alert.prenotification
    return (
        alert.service is AlertService.HOSPITAL
        and pre is not None
        and not pre.arrived_at
        and pre.delivered < alert.documents_due()
    )


def undelivered(inc: Incident) -> list[Alert]:
    """The incident's pre-notifications with a document still to deliver."""
    return [a for a in inc.alerts if pending(a)]


def document_kind(alert: Alert) -> str:
    """Which document tells the hospital the state as it is now: the withdrawal once
    closed, else the first until one was delivered, else an ETA update."""
    pre = alert.prenotification
    if pre is None:
        raise PreconditionError(alert.id, "not a pre-notification")
    if alert.withdrawal_due():
        return "withdrawn"
    return "prenotification" if pre.delivered == 0 else "eta_update"


def delivered_request_id(incident_id: str, alert_id: str, due: int) -> str:
    """The request id of the record that the hospital took document ``due``: a second
    try of the same record is one write."""
    return f"prenotif-delivered-{incident_id}-{alert_id}-{due}"


def mark_delivered(inc: Incident, alert_id: str, due: int, now: float) -> Incident:
    """The incident with ``due`` documents of ``alert_id`` delivered. A record that
    comes late (a newer one is in) is refused, so it writes nothing."""
    current = find(inc, alert_id)
    pre = current.prenotification
    if pre is None or current.service is not AlertService.HOSPITAL:
        raise InvalidArgumentError("alert_id", f"alert {alert_id} is not a pre-notification")
    if due > current.documents_due():
        raise InvalidArgumentError(
            "due", f"{due} documents delivered, but only {current.documents_due()} are due"
        )
    if due <= pre.delivered:
        raise PreconditionError(
            inc.id, f"pre-notification {alert_id}: {pre.delivered} documents already recorded"
        )
    new = copy.deepcopy(inc)
    pre = find(new, alert_id).prenotification
    assert pre is not None
    pre.delivered = due
    pre.delivered_at = now
    new.updated_at = now
    return new


def confirm_by_phone(inc: Incident, alert_id: str, by: str, now: float) -> Incident:
    """The incident with every document due on ``alert_id`` recorded as delivered: the
    dispatcher told the hospital by phone. A standing pre-notification not yet
    acknowledged is acknowledged by ``by`` (whom they spoke to) in the same write: the
    hospital has it, and the escalation check must not tell the desk to phone again.
    Refused when nothing is owed (nothing would change) and for an alert that is not a
    pre-notification."""
    alert = find(inc, alert_id)
    if alert.service is not AlertService.HOSPITAL or alert.prenotification is None:
        raise InvalidArgumentError("alert_id", f"alert {alert_id} is not a pre-notification")
    if not pending(alert):
        raise PreconditionError(
            inc.id,
            f"pre-notification {alert_id}: nothing is owed to the hospital "
            "(every document taken, or the patient arrived)",
        )
    new = mark_delivered(inc, alert_id, alert.documents_due(), now)
    if not alert.withdrawal_due() and not alert.acknowledged_at:
        new = acknowledge(new, alert_id, by, now)
    return new
