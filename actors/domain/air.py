"""Pure decisions on air ambulance requests and missions (issue #19).

Two records on two sides, each written only by its own region's owner under its own
fencing token:

- **the request**, an alert of the incident (service ``air_ambulance``, recipient the
  AMK-LA region), in the incident's record at the AMK that asked;
- **the air mission**, at the AMK-LA (``AirMission``), from the base's answer to the
  aircraft free again (states: ``air_mission_lifecycle``).

What goes from one side to the other waits in an *outbox* that is a field of the record
itself, so it is committed in the same write as the change that made it: a request is
undelivered while its alert has no ``delivered_at``; a mission change is unreported
while the mission's ``seq`` is ahead of its ``reported_seq``. Whoever owns the record's
region delivers it (``actors/centre/air_desk.py``), with a request id derived from the
record, and the receiving side applies a repeat as nothing: the mission id derives from
the incident and its alert, and a report older than what the alert holds is ignored.
A withdrawal by the requesting AMK is a third such message: owed from the withdrawal
until the AMK-LA's owner answers it.

Every function returns new records and leaves its inputs untouched (None: nothing to
change); ``now`` is passed in.
"""

from __future__ import annotations

import copy

from actors.domain import air_mission_lifecycle as lifecycle
from actors.domain import alert_lifecycle, alerts, decide, incident_lifecycle, unit_lifecycle
from actors.domain.commands import OpenAirMission, RecordAirMission, WithdrawAirRequest
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.kpi import OCCURRED_AT, ON_SCENE_OF
from actors.domain.model import (
    AirMission,
    AirMissionEvent,
    AirMissionState,
    Alert,
    AlertService,
    AlertState,
    Incident,
    IncidentStatus,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
)

AIR = AlertService.AIR_AMBULANCE
AIRCRAFT: frozenset[UnitKind] = frozenset({UnitKind.HELICOPTER, UnitKind.FIXED_WING})
S = AirMissionState


# ---------------------------------------------------------------- ids


def mission_id(air_region_code: str, incident_id: str, alert_id: str) -> str:
    """The mission's id: derived from the incident and its alert, so the request
    delivered twice (a failover between commit and delivery) names one mission. The
    AMK-LA region's code first, so a gateway finds its region from the id alone."""
    return f"{air_region_code}-{incident_id}-{alert_id}"


def open_request_id(incident_id: str, alert_id: str) -> str:
    return f"air-open-{incident_id}-{alert_id}"


def delivered_request_id(incident_id: str, alert_id: str) -> str:
    return f"air-delivered-{incident_id}-{alert_id}"


def report_request_id(mission: AirMission) -> str:
    return f"air-report-{mission.id}-{mission.seq}"


def reported_request_id(mission_id_: str, seq: int) -> str:
    return f"air-reported-{mission_id_}-{seq}"


# ---------------------------------------------------------------- the requesting AMK


def request(
    inc: Incident, kind: UnitKind, reason: str, air_region: str, who: str, now: float
) -> tuple[Incident, Alert]:
    """The incident with a new air ambulance request to ``air_region``, sent now.

    Refused on a closed incident, for a kind that is not an aircraft, and while another
    air request of the incident awaits its answer: the AMK-LA answers one request at a
    time per incident (a second aircraft is asked for once the first is answered).
    """
    if kind not in AIRCRAFT:
        raise InvalidArgumentError("kind", f"{kind.value} is not an aircraft")
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}; nothing to request")
    for a in inc.alerts:
        if a.service is AIR and a.state in alert_lifecycle.AWAITING:
            raise PreconditionError(
                inc.id, f"air ambulance request {a.id} is {a.state.value}; not answered yet"
            )
    new = copy.deepcopy(inc)
    alert = Alert(
        id=alerts.next_id(new),
        service=AIR,
        state=AlertState.SENT,
        criteria_code=inc.criteria_code,
        reason=reason,
        recipient=air_region,
        sent_at=now,
        sent_by=who,
        air_kind=kind,
    )
    new.alerts.append(alert)
    new.updated_at = now
    return new, alert


def request_undelivered(alert: Alert) -> bool:
    """An air request committed and not yet taken by its AMK-LA."""
    return (
        alert.service is AIR and alert.state in alert_lifecycle.AWAITING and not alert.delivered_at
    )


def undelivered(inc: Incident) -> list[Alert]:
    """The incident's air requests committed and not yet taken by their AMK-LA."""
    return [a for a in inc.alerts if request_undelivered(a)]


def exchange_open(inc: Incident) -> bool:
    """Whether an air request of the incident still expects word from its AMK-LA: not
    answered yet, or its mission not ended. Such an incident stays live in etcd even
    when closed (the archiver skips it), so the last report always has a record to land
    on; the mission side waits the same way (:func:`unreported`)."""
    return any(
        a.service is AIR
        and (
            a.state in alert_lifecycle.AWAITING
            or (a.mission_state is not None and lifecycle.is_open(a.mission_state))
            or (a.mission_id and a.mission_state is None)  # its end not reported yet
            or withdrawal_pending(a)
        )
        for a in inc.alerts
    )


def open_command(inc: Incident, alert: Alert, air_region: str) -> OpenAirMission:
    """What the incident's owner delivers to the AMK-LA's owner for ``alert``."""
    if alert.air_kind is None:
        raise PreconditionError(inc.id, f"alert {alert.id} is not an air ambulance request")
    return OpenAirMission(
        request_id=open_request_id(inc.id, alert.id),
        region=air_region,
        incident_id=inc.id,
        incident_region=inc.region,
        alert_id=alert.id,
        kind=alert.air_kind,
        reason=alert.reason,
        requested_by=alert.sent_by,
        requested_at=alert.sent_at,
        position=Position(inc.position.lat, inc.position.lon, inc.position.accuracy_m),
        urgency=inc.urgency,
        criteria_code=inc.criteria_code,
        address=inc.address,
    )


def mark_delivered(
    inc: Incident, alert_id: str, mission_id_: str, received_at: float, now: float
) -> Incident | None:
    """The AMK-LA has the request: when, under which mission. None if already known
    (a report of the answer may have arrived first: it proves delivery too)."""
    alert = alerts.find(inc, alert_id)
    if alert.delivered_at:
        return None
    new = copy.deepcopy(inc)
    a = alerts.find(new, alert_id)
    a.delivered_at = received_at
    a.mission_id = mission_id_
    new.updated_at = now
    return new


def record_report(inc: Incident, report: RecordAirMission, now: float) -> Incident | None:
    """The mission as the AMK-LA reports it, journaled on the incident's alert.

    The first report that carries an answer moves the alert: accepted (or any later
    state) -> acknowledged, when the base answered and who at the AMK-LA entered it;
    declined -> declined, with the reason. Later reports update the mission's state on
    the alert. A report no newer than the alert holds (``seq``) changes nothing: a
    repeat after a failover, or one overtaken by a later one. Only the newest state
    needs to arrive: every report carries the whole answer.
    """
    alert = alerts.find(inc, report.alert_id)
    if alert.service is not AIR:
        raise PreconditionError(inc.id, f"alert {alert.id} is not an air ambulance request")
    if report.seq <= alert.mission_seq:
        return None
    new = copy.deepcopy(inc)
    a = alerts.find(new, report.alert_id)
    a.mission_id = report.mission_id
    a.delivered_at = a.delivered_at or report.received_at
    a.mission_state = report.state
    a.mission_seq = report.seq
    a.mission_updated_at = report.state_at
    if report.answered_at:
        a.base_doctor = report.base_doctor
        a.aircraft_unit_id = report.unit_id
        if a.withdrawn_at and report.state is not S.DECLINED and not a.acknowledged_at:
            # Withdrawn (cancelled) before this answer came: the base had said yes, and
            # flew; the alert stays cancelled but says who answered and when.
            a.acknowledged_at = report.answered_at
            a.acknowledged_by = report.answered_by
        if a.state in alert_lifecycle.AWAITING:
            if report.state is S.DECLINED:
                a.state = alert_lifecycle.transition(a.id, a.state, AlertState.DECLINED)
                a.declined_at = report.answered_at
                a.declined_by = report.answered_by
                a.note = report.decline_reason
            else:
                a.state = alert_lifecycle.transition(a.id, a.state, AlertState.ACKNOWLEDGED)
                a.acknowledged_at = report.answered_at
                a.acknowledged_by = report.answered_by
    new.status = incident_follows(new)
    new.updated_at = now
    return new


#: The incident status an aircraft's mission puts the incident at, at least (as a road
#: unit's statuses move it: ``incident_lifecycle.FOLLOWS_UNIT``).
INCIDENT_FOLLOWS: dict[AirMissionState, IncidentStatus] = {
    S.ACCEPTED: IncidentStatus.DISPATCHED,
    S.AIRBORNE: IncidentStatus.DISPATCHED,
    S.ON_SCENE: IncidentStatus.ON_SCENE,
    S.TRANSPORTING: IncidentStatus.TRANSPORTING,
    S.AT_HOSPITAL: IncidentStatus.AT_HOSPITAL,
    # Completed only from the scene or the hospital: the aircraft reached the patient,
    # even when the reports between were overtaken (only the newest need arrive).
    S.COMPLETED: IncidentStatus.ON_SCENE,
}
_CHAIN = (
    IncidentStatus.DISPATCHED,
    IncidentStatus.ON_SCENE,
    IncidentStatus.TRANSPORTING,
    IncidentStatus.AT_HOSPITAL,
)


def incident_follows(inc: Incident) -> IncidentStatus:
    """The incident's status with its aircraft taken into account: an accepted or
    airborne mission dispatches it, the aircraft at the patient puts it on scene, and so
    on, only ever forward along the incident's own chain (a road unit may be further
    on); a completed mission reached the patient, so at least on scene. A mission stood
    down before anything else was sent sets a dispatched incident waiting again, as
    releasing its last road unit does. An ended incident stays ended (a late report of a
    mission withdrawn too late)."""
    status = inc.status
    if not incident_lifecycle.is_open(status):
        return status
    busy = {a.id for a in alerts.aircraft_busy(inc)}
    reached = [
        INCIDENT_FOLLOWS[a.mission_state]
        for a in inc.alerts
        if a.service is AIR
        and a.mission_state is not None
        and (a.id in busy or a.mission_state is S.COMPLETED)
    ]
    if not reached:
        if status is IncidentStatus.DISPATCHED and not inc.assigned_unit_ids:
            return decide.waiting_status(inc)
        return status
    target = max(reached, key=_CHAIN.index)
    if status not in _CHAIN:  # received or triaged: dispatched first
        status = incident_lifecycle.transition(inc.id, status, IncidentStatus.DISPATCHED)
    while _CHAIN.index(status) < _CHAIN.index(target):
        status = incident_lifecycle.transition(inc.id, status, _CHAIN[_CHAIN.index(status) + 1])
    return status


def on_scene_details(before: Incident, after: Incident, report: RecordAirMission) -> dict:
    """What the journal entry of a report keeps for the on-scene figure: the incident
    it put on scene, and when (``kpi.first_on_scene`` reads ``ON_SCENE_OF`` on any entry
    it is given). Without it, an incident reached first by air would take its on-scene
    time from a road unit's later status (its transport start, which writes the incident
    where its arrival did not), or have none. The time is the report's state's: the
    arrival itself when that report is the one that says on scene, else later than it
    (the reports between were overtaken)."""
    before_scene = before.status in (
        IncidentStatus.RECEIVED,
        IncidentStatus.TRIAGED,
        IncidentStatus.DISPATCHED,
    )
    if not before_scene or after.status not in _CHAIN[1:]:
        return {}
    return {ON_SCENE_OF: after.id, OCCURRED_AT: report.state_at}


# ---------------------------------------------------------------- withdrawal


def withdraw_request_id(incident_id: str, alert_id: str) -> str:
    return f"air-withdraw-{incident_id}-{alert_id}"


def withdrawal_delivered_request_id(incident_id: str, alert_id: str) -> str:
    return f"air-withdrawn-{incident_id}-{alert_id}"


def withdraw(inc: Incident, alert_id: str, who: str, reason: str, now: float) -> Incident:
    """The requesting AMK withdraws its air ambulance request (``CancelAlert`` on it):
    the patient died, a road unit got there first, the condition changed.

    Unanswered, the alert is cancelled; accepted, it stays acknowledged (the base did
    answer yes) and the withdrawal is its own fact. Either way the AMK-LA must hear it,
    so it waits in the incident's outbox (:func:`withdrawal_pending`) until the AMK-LA's
    owner answers; a request not yet delivered is not sent any more. Refused without a
    reason (the AMK-LA is told why), twice, after the base declined or the mission
    ended, and once the aircraft is at the patient (then the AMK-LA stands it down, or
    it completes when free)."""
    alert = alerts.find(inc, alert_id)
    if alert.service is not AIR:
        raise PreconditionError(inc.id, f"alert {alert_id} is not an air ambulance request")
    if not reason.strip():
        raise InvalidArgumentError(
            "reason", "is required to withdraw an air ambulance request: the AMK-LA is told why"
        )
    if alert.withdrawn_at:
        raise PreconditionError(inc.id, f"air ambulance request {alert_id} is withdrawn already")
    if alert.state is AlertState.DECLINED:
        raise PreconditionError(inc.id, f"air ambulance request {alert_id} was declined")
    state = alert.mission_state
    if state in lifecycle.TERMINAL:
        raise PreconditionError(inc.id, f"air mission {alert.mission_id} is {state.value} already")
    if state in lifecycle.AT_PATIENT:
        raise PreconditionError(
            inc.id,
            f"air mission {alert.mission_id} is {state.value}: the aircraft is at the patient; "
            "it completes when free (ask the AMK-LA to stand it down)",
        )
    new = copy.deepcopy(inc)
    a = alerts.find(new, alert_id)
    a.withdrawn_at = now
    a.withdrawn_by = who
    a.note = reason
    if a.state in alert_lifecycle.AWAITING:
        a.state = alert_lifecycle.transition(a.id, a.state, AlertState.CANCELLED)
        a.cancelled_at = now
        a.cancelled_by = who
    new.status = incident_follows(new)  # called off: as a road unit released
    new.updated_at = now
    return new


def withdrawal_pending(alert: Alert) -> bool:
    """A withdrawal the AMK-LA's owner has not answered yet. Owed even when the request
    was never recorded as delivered: a delivery may be on its way or may have landed
    with its answer lost, and only the AMK-LA can say (it keeps a withdrawn request that
    never came as an aborted mission, so the request, arriving late, opens nothing).
    Nothing is owed for a mission that ended anyway."""
    state = alert.mission_state
    return (
        alert.service is AIR
        and bool(alert.withdrawn_at)
        and not alert.withdrawal_delivered_at
        and state not in lifecycle.TERMINAL
    )


def withdrawal_command(inc: Incident, alert: Alert, air_region_code: str) -> WithdrawAirRequest:
    """What the incident's owner delivers to the AMK-LA's owner for a withdrawn ``alert``
    (``air_region_code``: the AMK-LA region's code, for the mission's id)."""
    if not withdrawal_pending(alert):
        raise PreconditionError(inc.id, f"no withdrawal of alert {alert.id} is owed")
    return WithdrawAirRequest(
        request_id=withdraw_request_id(inc.id, alert.id),
        mission_id=alert.mission_id or mission_id(air_region_code, inc.id, alert.id),
        reason=alert.note,
        withdrawn_by=alert.withdrawn_by,
        request=open_command(inc, alert, alert.recipient),
    )


def mark_withdrawal_delivered(
    inc: Incident,
    alert_id: str,
    cmd_mission_id: str,
    answer: AirMissionState,
    delivered_at: float,
    now: float,
) -> Incident | None:
    """The AMK-LA's owner answered the withdrawal with the mission as it left it
    (``answer``): aborted, or on scene and later (too late), or ended before. None if
    known already. The mission's state on the alert comes only from its reports."""
    alert = alerts.find(inc, alert_id)
    if alert.withdrawal_delivered_at:
        return None
    if not alert.withdrawn_at:
        raise PreconditionError(inc.id, f"air ambulance request {alert_id} was not withdrawn")
    new = copy.deepcopy(inc)
    a = alerts.find(new, alert_id)
    a.withdrawal_delivered_at = delivered_at
    a.withdrawal_answer = answer
    a.mission_id = a.mission_id or cmd_mission_id
    new.updated_at = now
    return new


def withdraw_mission(
    mission: AirMission | None, unit: Unit | None, cmd: WithdrawAirRequest, now: float
) -> tuple[AirMission, Unit | None]:
    """The AMK-LA's side of a withdrawal: not answered yet or on its way, the mission
    is aborted (an assigned aircraft is free again where it is); never arrived, it is
    kept as an aborted mission (a late delivery of the request then opens nothing; it
    has no ``received_at``: the request itself never came). Ended, or with the aircraft
    at the patient, the mission goes on: the withdrawal is only noted in its events
    (same state, nothing to report), so the AMK-LA sees that it came too late."""
    where = cmd.request.incident_region
    note = f"withdrawn by the requesting AMK ({where}, {cmd.withdrawn_by}): {cmd.reason}"
    freed: Unit | None = None
    if mission is None:
        new = open_mission(cmd.request, cmd.mission_id, now)
        new.received_at = 0.0
        _step(new, S.ABORTED, cmd.withdrawn_by, now, note + " (before the request came)")
    elif mission.state in lifecycle.TERMINAL or mission.state in lifecycle.AT_PATIENT:
        new = copy.deepcopy(mission)
        late = f"{note} (too late: {mission.state.value})"
        new.events.append(AirMissionEvent(mission.state, now, cmd.withdrawn_by, late))
    else:
        new, freed = _stand_down(mission, unit, note, cmd.withdrawn_by, now)
    # Kept apart from the events, so the coordinator sees a withdrawal that came too late
    # (the mission goes on) as plainly as one that stood the aircraft down.
    new.withdrawn_at, new.withdrawn_by, new.withdrawal_reason = now, cmd.withdrawn_by, cmd.reason
    new.withdrawal_answer = new.state  # aborted; at the patient: too late; or ended before
    return new, freed


# ---------------------------------------------------------------- the AMK-LA


def open_mission(cmd: OpenAirMission, mission_id_: str, now: float) -> AirMission:
    """A new mission for a delivered request, awaiting the base's answer. Nothing to
    report back yet (``reported_seq == seq``): the requesting side records the delivery
    itself from this answer."""
    return AirMission(
        id=mission_id_,
        region=cmd.region,
        incident_id=cmd.incident_id,
        incident_region=cmd.incident_region,
        alert_id=cmd.alert_id,
        kind=cmd.kind,
        state=S.REQUESTED,
        position=Position(cmd.position.lat, cmd.position.lon, cmd.position.accuracy_m),
        requested_at=cmd.requested_at,
        received_at=now,
        updated_at=now,
        requested_by=cmd.requested_by,
        reason=cmd.reason,
        urgency=cmd.urgency,
        criteria_code=cmd.criteria_code,
        address=cmd.address,
        events=[AirMissionEvent(S.REQUESTED, now, cmd.requested_by, cmd.reason)],
    )


def _step(m: AirMission, state: AirMissionState, by: str, now: float, note: str = "") -> None:
    """Move ``m`` (a copy) to ``state``, as one more change to report."""
    m.state = lifecycle.transition(m.id, m.state, state)
    m.events.append(AirMissionEvent(state, now, by, note))
    m.seq += 1
    m.updated_at = now
    if state in lifecycle.TERMINAL:
        m.closed_at = now


def accept(
    mission: AirMission, unit: Unit, base_doctor: str, who: str, now: float
) -> tuple[AirMission, Unit]:
    """The base flies: ``unit`` (an available aircraft of the mission's region) is
    assigned to the mission. The kind may differ from the one asked for (the AMK-LA
    may send an ambulance aircraft where the helicopter cannot fly): the mission keeps
    both. The base doctor's name is required: the decision to fly is theirs."""
    if not base_doctor.strip():
        raise InvalidArgumentError("base_doctor", "is required: the base doctor decides to fly")
    if unit.kind not in AIRCRAFT:
        raise PreconditionError(unit.id, f"unit is a {unit.kind.value}, not an aircraft")
    if unit.region != mission.region:
        raise PreconditionError(unit.id, f"unit serves {unit.region}, not {mission.region}")
    if unit.mission_id or unit.incident_id or not unit.available:
        raise PreconditionError(unit.id, f"unit is {unit.status.value}; not available")
    new = copy.deepcopy(mission)
    _step(new, S.ACCEPTED, who, now, f"{unit.id}, base doctor {base_doctor}")
    new.unit_id = unit.id
    new.base_doctor = base_doctor
    new.answered_by = who
    new.answered_at = now
    new_unit = decide.with_status(unit, UnitStatus.ASSIGNED, now)
    new_unit.mission_id = mission.id
    return new, new_unit


def decline(mission: AirMission, reason: str, base_doctor: str, who: str, now: float) -> AirMission:
    """The base does not fly; the reason is required (it goes back to the requesting
    AMK, whose dispatcher must choose another resource)."""
    if not reason.strip():
        raise InvalidArgumentError("reason", "is required when declining")
    new = copy.deepcopy(mission)
    _step(new, S.DECLINED, who, now, reason)
    new.base_doctor = base_doctor
    new.answered_by = who
    new.answered_at = now
    new.decline_reason = reason
    return new


def aircraft_status(
    unit: Unit, mission: AirMission, status: UnitStatus, who: str, now: float
) -> tuple[Unit, AirMission]:
    """A crew's status change of an aircraft on ``mission``, and the mission following
    it (:data:`air_mission_lifecycle.FOLLOWS_UNIT`). Available again completes the
    mission and frees the aircraft from it."""
    if unit.mission_id != mission.id:
        raise PreconditionError(unit.id, f"unit is not on air mission {mission.id}")
    new_unit, _ = decide.change_unit_status(unit, status, None, now)
    new = copy.deepcopy(mission)
    follow = lifecycle.FOLLOWS_UNIT.get(new_unit.status)
    if follow is not None:
        _step(new, follow, who, now, f"{unit.id} {new_unit.status.value}")
    if unit_lifecycle.ends_assignment(unit.status, new_unit.status):
        new_unit.mission_id = ""
    return new_unit, new


def abort(
    mission: AirMission, unit: Unit | None, reason: str, who: str, now: float
) -> tuple[AirMission, Unit | None]:
    """Stand an accepted mission down before the aircraft reached the patient; the
    aircraft is available again where it is (as a released road unit is)."""
    if not reason.strip():
        raise InvalidArgumentError("reason", "is required when aborting a mission")
    if mission.state is S.REQUESTED:  # only the requesting AMK withdraws an unanswered one
        raise PreconditionError(mission.id, "requested, not accepted: decline it, with why")
    return _stand_down(mission, unit, reason, who, now)


def _stand_down(
    mission: AirMission, unit: Unit | None, note: str, who: str, now: float
) -> tuple[AirMission, Unit | None]:
    """The mission aborted, and its aircraft (if it has one) available where it is."""
    new = copy.deepcopy(mission)
    _step(new, S.ABORTED, who, now, note)
    if unit is None:
        return new, None
    if unit.mission_id != mission.id:
        raise PreconditionError(unit.id, f"unit is not on air mission {mission.id}")
    new_unit = decide.with_status(unit, UnitStatus.AVAILABLE_MOBILE, now)
    new_unit.mission_id = ""
    return new, new_unit


def unreported(mission: AirMission) -> bool:
    """A change of the mission the incident's owner has not recorded yet."""
    return mission.seq > mission.reported_seq


def report_of(mission: AirMission) -> RecordAirMission:
    """What the AMK-LA's owner delivers to the incident's owner: the mission now."""
    return RecordAirMission(
        request_id=report_request_id(mission),
        incident_id=mission.incident_id,
        alert_id=mission.alert_id,
        mission_id=mission.id,
        seq=mission.seq,
        state=mission.state,
        state_at=mission.updated_at,
        received_at=mission.received_at,
        unit_id=mission.unit_id,
        base_doctor=mission.base_doctor,
        answered_by=mission.answered_by,
        answered_at=mission.answered_at,
        decline_reason=mission.decline_reason,
    )


def mark_reported(mission: AirMission, seq: int) -> AirMission | None:
    """The incident's owner has recorded change ``seq`` (and so every change before
    it). None if that is known already."""
    if seq <= mission.reported_seq:
        return None
    if seq > mission.seq:
        raise PreconditionError(mission.id, f"change {seq} was never made (at {mission.seq})")
    new = copy.deepcopy(mission)
    new.reported_seq = seq
    return new
