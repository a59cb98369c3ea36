"""Between the public API (protobuf) and the domain: requests in, records out.

Every request field is checked here, at the boundary, before anything is routed or
written; a bad field raises :class:`InvalidArgumentError` naming it. Enum value 0
(unspecified) and unknown numbers are rejected.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from actors.domain import air, cpr_guidance, prenotify
from actors.domain import validation as v
from actors.domain.commands import (
    AddIncidentNote,
    AssignUnit,
    ChangeIncidentLocation,
    ChangeIncidentStatus,
    ChangeUnitStatus,
    CreateIncident,
    DivertUnit,
    ReceiveCall,
    RecordCprGuidance,
    ReleaseUnit,
    ReportUnitPosition,
    TriageIncident,
)
from actors.domain.enums import CallOutcome, CprEnd, CprStep
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import (
    AirMissionState,
    Alert,
    AlertService,
    AlertState,
    Call,
    CallStatus,
    CprGuidance,
    CrewLevel,
    Incident,
    IncidentStatus,
    PatientCondition,
    Sex,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
)
from actors.domain.recommend import Recommendation
from actors.domain.triage import CriteriaTable
from amk.dispatch.v1 import dispatch_pb2 as pb

E = TypeVar("E", bound=StrEnum)

_PREFIX: dict[type[StrEnum], str] = {
    AirMissionState: "AIR_MISSION_STATE_",
    AlertService: "ALERT_SERVICE_",
    PatientCondition: "DESTINATION_CONDITION_",
    Sex: "PRE_NOTIFICATION_SEX_",
    AlertState: "ALERT_STATE_",
    CallStatus: "CALL_STATUS_",
    Urgency: "URGENCY_",
    IncidentStatus: "INCIDENT_STATUS_",
    UnitStatus: "UNIT_STATUS_",
    UnitKind: "UNIT_KIND_",
    CrewLevel: "CREW_LEVEL_",
    CprStep: "CPR_STEP_",
    CprEnd: "CPR_END_",
    CallOutcome: "CALL_OUTCOME_",
}
_PB_ENUM = {
    AirMissionState: pb.AirMissionState,
    AlertService: pb.AlertService,
    PatientCondition: pb.DestinationCondition,
    Sex: pb.PreNotificationSex,
    AlertState: pb.AlertState,
    CallStatus: pb.CallStatus,
    Urgency: pb.Urgency,
    IncidentStatus: pb.IncidentStatus,
    UnitStatus: pb.UnitStatus,
    UnitKind: pb.UnitKind,
    CrewLevel: pb.CrewLevel,
    CprStep: pb.CprStep,
    CprEnd: pb.CprEnd,
    CallOutcome: pb.CallOutcome,
}


def to_pb_enum(value: StrEnum | None) -> int:
    if value is None:
        return 0
    return _PB_ENUM[type(value)].Value(_PREFIX[type(value)] + value.name)


def from_pb_enum(enum: type[E], number: int, field: str, *, optional: bool = False) -> E | None:
    """The domain enum for a protobuf enum number; 0 is None when ``optional``."""
    if number == 0:
        if optional:
            return None
        raise InvalidArgumentError(field, "is required (value 0 means unspecified)")
    try:
        name = _PB_ENUM[enum].Name(number)
    except ValueError:
        raise InvalidArgumentError(field, f"unknown value {number}") from None
    return enum[name.removeprefix(_PREFIX[enum])]


def to_timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def position_of(p: pb.Position, field: str) -> v.Position:
    """A request's position, every part checked (a bad one named ``field.lat`` ...)."""
    return v.position(p.lat, p.lon, p.accuracy_m, field)


# ---------------------------------------------------------------- requests


def create_incident(
    req: pb.CreateIncidentRequest, regions: set[str], table: CriteriaTable, who: str
) -> CreateIncident:
    if not req.region:
        raise InvalidArgumentError("region", "is required")
    if req.region not in regions:
        raise InvalidArgumentError("region", f"unknown region {req.region!r}")
    if not req.HasField("position"):
        raise InvalidArgumentError("position", "is required")
    if req.criteria_code:
        table.lookup(req.criteria_code)
    return CreateIncident(
        request_id=v.request_id(req.request_id),
        region=req.region,
        position=position_of(req.position, "position"),
        address=v.text(req.address, "address", limit=v.MAX_ADDRESS),
        caller_number=v.caller_number(req.caller_number),
        complaint_chapter=v.chapter(req.complaint_chapter, table.chapters),
        criteria_code=req.criteria_code,
        notes=v.text(req.notes, "notes", limit=v.MAX_NOTE),
        who=who,
        call_id=v.entity_id(req.call_id, "call_id") if req.call_id else "",
    )


def change_incident_location(
    req: pb.ChangeIncidentLocationRequest, who: str
) -> ChangeIncidentLocation:
    moved = req.HasField("position")
    address = v.text(req.address.strip(), "address", limit=v.MAX_ADDRESS)
    if not moved and not address and not req.clear_address:
        raise InvalidArgumentError("position", "a new position or a new address is required")
    v.one_line(address, "address")
    if address and req.clear_address:
        raise InvalidArgumentError("clear_address", "a new address, or none: not both")
    for axis in ("lat", "lon"):  # an axis left out arrives as 0: nowhere anyone calls from
        if moved and getattr(req.position, axis) == 0:
            raise InvalidArgumentError(f"position.{axis}", "is required with a new position")
    return ChangeIncidentLocation(
        v.request_id(req.request_id),
        v.entity_id(req.incident_id, "incident_id"),
        position=position_of(req.position, "position") if moved else None,
        address="" if req.clear_address else (address or None),
        who=who,
    )


def triage_incident(
    req: pb.TriageIncidentRequest, table: CriteriaTable, who: str
) -> TriageIncident:
    table.lookup(req.criteria_code)
    return TriageIncident(
        v.request_id(req.request_id),
        v.entity_id(req.incident_id, "incident_id"),
        req.criteria_code,
        who,
    )


def change_incident_status(req: pb.ChangeIncidentStatusRequest, who: str) -> ChangeIncidentStatus:
    status = from_pb_enum(IncidentStatus, req.status, "status")
    assert status is not None
    return ChangeIncidentStatus(
        v.request_id(req.request_id), v.entity_id(req.incident_id, "incident_id"), status, who
    )


def add_incident_note(req: pb.AddIncidentNoteRequest, who: str) -> AddIncidentNote:
    return AddIncidentNote(
        v.request_id(req.request_id),
        v.entity_id(req.incident_id, "incident_id"),
        v.text(req.text, "text", limit=v.MAX_NOTE, required=True),
        who,
    )


def record_cpr_guidance(req: pb.RecordCprGuidanceRequest, who: str) -> RecordCprGuidance:
    step = from_pb_enum(CprStep, req.step, "step")
    assert step is not None
    not_given = step is CprStep.NOT_GIVEN
    if req.reason and not not_given:
        raise InvalidArgumentError("reason", "only for step CPR_STEP_NOT_GIVEN")
    reason = v.text(req.reason.strip(), "reason", limit=cpr_guidance.MAX_REASON, required=not_given)
    v.one_line(reason, "reason")
    ended = step is CprStep.ENDED
    if req.end and not ended:
        raise InvalidArgumentError("end", "only for step CPR_STEP_ENDED")
    end = from_pb_enum(CprEnd, req.end, "end") if ended else None
    return RecordCprGuidance(
        v.request_id(req.request_id),
        v.entity_id(req.incident_id, "incident_id"),
        step,
        who,
        reason=reason,
        end=end,
    )


#: How long after the fact a status may be entered (a radio report typed later), and
#: how far a client's clock may run ahead of the gateway's.
MAX_LATE_S = 2 * 3600.0
CLOCK_SKEW_S = 5.0


def change_unit_status(req: pb.ChangeUnitStatusRequest, who: str, now: float) -> ChangeUnitStatus:
    status = from_pb_enum(UnitStatus, req.status, "status")
    assert status is not None
    occurred = None
    if req.HasField("occurred_at"):
        occurred = timestamp_s(req.occurred_at, "occurred_at")
        if occurred > now + CLOCK_SKEW_S:
            raise InvalidArgumentError("occurred_at", "is in the future")
        if occurred < now - MAX_LATE_S:
            raise InvalidArgumentError("occurred_at", "more than 2 hours ago: note it instead")
    return ChangeUnitStatus(
        v.request_id(req.request_id),
        v.entity_id(req.unit_id, "unit_id"),
        status,
        who,
        occurred_at=occurred,
    )


def report_unit_position(req: pb.ReportUnitPositionRequest, who: str) -> ReportUnitPosition:
    if not req.HasField("position"):
        raise InvalidArgumentError("position", "is required")
    return ReportUnitPosition(
        v.request_id(req.request_id),
        v.entity_id(req.unit_id, "unit_id"),
        position_of(req.position, "position"),
        who,
    )


def assign_unit(req: pb.AssignUnitRequest, who: str) -> AssignUnit:
    return AssignUnit(
        v.request_id(req.request_id),
        v.entity_id(req.incident_id, "incident_id"),
        v.entity_id(req.unit_id, "unit_id"),
        who,
    )


def release_unit(req: pb.ReleaseUnitRequest, who: str) -> ReleaseUnit:
    return ReleaseUnit(
        v.request_id(req.request_id),
        v.entity_id(req.incident_id, "incident_id"),
        v.entity_id(req.unit_id, "unit_id"),
        who,
        _reason(req.reason),
    )


def _reason(value: str) -> str:
    """A reason read in a note: one line, at most 500 characters, trimmed."""
    return v.one_line(v.text(value.strip(), "reason", limit=v.MAX_ADDRESS), "reason")


def divert_unit(req: pb.DivertUnitRequest, who: str) -> DivertUnit:
    incident_id = v.entity_id(req.incident_id, "incident_id")
    from_id = v.entity_id(req.from_incident_id, "from_incident_id")
    if from_id == incident_id:
        raise InvalidArgumentError("incident_id", "the unit already works this incident")
    reason = _reason(req.reason)
    return DivertUnit(
        v.request_id(req.request_id),
        incident_id,
        v.entity_id(req.unit_id, "unit_id"),
        from_id,
        reason,
        who,
    )


# google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
MIN_TIMESTAMP_S = -62_135_596_800
MAX_TIMESTAMP_S = 253_402_300_799


def timestamp_s(ts: Timestamp, field: str) -> float:
    """Seconds since the epoch of a Timestamp, or InvalidArgumentError naming ``field``
    if it is not a valid one (nanos out of range, a year outside 1..9999)."""
    if not 0 <= ts.nanos <= 999_999_999 or not (MIN_TIMESTAMP_S <= ts.seconds <= MAX_TIMESTAMP_S):
        raise InvalidArgumentError(field, "is not a valid timestamp")
    return ts.seconds + ts.nanos / 1e9


def regions_filter(
    regions: list[str], known: set[str], field: str = "regions", *, default: set[str] | None = None
) -> list[str]:
    """The asked regions, each checked; none asked: ``default`` (else every known one).
    Calls and KPIs default to the area regions: an AMK-LA region takes no 113 calls, and
    a row of zeros for it would read as a region failing its answer target."""
    for i, r in enumerate(regions):
        if r not in known:
            raise InvalidArgumentError(f"{field}[{i}]", f"unknown region {r!r}")
    return list(regions) or sorted(known if default is None else default)


# ---------------------------------------------------------------- records


def incident_pb(inc: Incident) -> pb.Incident:
    return pb.Incident(
        id=inc.id,
        region=inc.region,
        status=to_pb_enum(inc.status),
        urgency=to_pb_enum(inc.urgency),
        position=pb.Position(
            lat=inc.position.lat, lon=inc.position.lon, accuracy_m=inc.position.accuracy_m
        ),
        address=inc.address,
        caller_number=inc.caller_number,
        complaint_chapter=inc.complaint_chapter,
        criteria_code=inc.criteria_code,
        notes=[pb.Note(text=n.text, author=n.author, at=to_timestamp(n.at)) for n in inc.notes],
        assigned_unit_ids=inc.assigned_unit_ids,
        created_at=to_timestamp(inc.created_at),
        updated_at=to_timestamp(inc.updated_at),
        urgency_history=[
            pb.UrgencyChange(
                urgency=to_pb_enum(u.urgency), criteria_code=u.criteria_code, at=to_timestamp(u.at)
            )
            for u in inc.urgency_history
        ],
        revision=inc.revision,
        alerts=[alert_pb(inc.id, a) for a in inc.alerts],
        cpr=cpr_pb(inc.cpr) if inc.cpr is not None else None,
    )


def cpr_pb(g: CprGuidance) -> pb.CprGuidance:
    return pb.CprGuidance(
        started_at=when(g.started_at),
        started_by=g.started_by,
        compressions_at=when(g.compressions_at),
        compressions_by=g.compressions_by,
        bystander=g.bystander,
        not_given_at=when(g.not_given_at),
        not_given_by=g.not_given_by,
        not_given_reason=g.not_given_reason,
        ended_at=when(g.ended_at),
        ended_by=g.ended_by,
        end=to_pb_enum(g.end),
    )


def when(seconds: float) -> Timestamp | None:
    """A timestamp, or unset for 0.0 (not happened yet)."""
    return to_timestamp(seconds) if seconds else None


def alert_pb(incident_id: str, a: Alert) -> pb.Alert:
    return pb.Alert(
        id=a.id,
        incident_id=incident_id,
        service=to_pb_enum(a.service),
        state=to_pb_enum(a.state),
        action_card=a.action_card,
        criteria_code=a.criteria_code,
        reason=a.reason,
        recipient=a.recipient,
        proposed_at=when(a.proposed_at),
        sent_at=when(a.sent_at),
        sent_by=a.sent_by,
        acknowledged_at=when(a.acknowledged_at),
        acknowledged_by=a.acknowledged_by,
        escalated_at=when(a.escalated_at),
        cancelled_at=when(a.cancelled_at),
        cancelled_by=a.cancelled_by,
        note=a.note,
        prenotification=prenotification_pb(a),
        air_kind=to_pb_enum(a.air_kind),
        mission_id=a.mission_id,
        delivered_at=when(a.delivered_at),
        declined_at=when(a.declined_at),
        declined_by=a.declined_by,
        aircraft_unit_id=a.aircraft_unit_id,
        base_doctor=a.base_doctor,
        mission_state=to_pb_enum(a.mission_state),
        mission_updated_at=when(a.mission_updated_at),
        withdrawn_at=when(a.withdrawn_at),
        withdrawn_by=a.withdrawn_by,
        withdrawal_delivered_at=when(a.withdrawal_delivered_at),
        withdrawal_owed=air.withdrawal_pending(a),
        withdrawal_answer=to_pb_enum(a.withdrawal_answer),
    )


def prenotification_pb(a: Alert) -> pb.PreNotification | None:
    p, sent_at = a.prenotification, a.sent_at
    if p is None:
        return None
    return pb.PreNotification(
        hospital_id=a.recipient,
        hospital_name=p.hospital_name,
        condition=to_pb_enum(p.condition),
        age=p.age,
        sex=to_pb_enum(p.sex),
        urgency=to_pb_enum(p.urgency),
        findings=p.findings,
        free_text=p.free_text,
        symptom_onset=when(p.symptom_onset_at),
        unit_id=p.unit_id,
        expected_arrival=when(p.expected_arrival),
        eta_reason=p.eta_reason,
        eta_updated_at=when(p.eta_updated_at),
        eta_updates=p.eta_updates,
        arrived_at=when(p.arrived_at),
        replaced_by=p.replaced_by,
        withdrawn_at=when(p.withdrawn_at),
        lead_time_s=p.arrived_at - sent_at if p.arrived_at and sent_at else 0.0,
        # After arrival nothing is owed (an ETA update not taken by then is moot).
        documents_due=a.documents_due() if prenotify.pending(a) else p.delivered,
        documents_delivered=p.delivered,
        delivered_at=when(p.delivered_at),
    )


def unit_pb(unit: Unit) -> pb.Unit:
    return pb.Unit(
        id=unit.id,
        call_sign=unit.call_sign,
        region=unit.region,
        kind=to_pb_enum(unit.kind),
        crew=to_pb_enum(unit.crew),
        status=to_pb_enum(unit.status),
        position=pb.Position(
            lat=unit.position.lat, lon=unit.position.lon, accuracy_m=unit.position.accuracy_m
        ),
        station=unit.station,
        incident_id=unit.incident_id,
        updated_at=to_timestamp(unit.updated_at),
        revision=unit.revision,
        air_mission_id=unit.mission_id,
    )


def recommendation_pb(
    r: Recommendation, unit: Unit, note: tuple[str, str] | None = None
) -> pb.Recommendation:
    """A ranked unit as the API answers it (``note``: the rule's words as shown, English
    and Norwegian, when the gateway adds to the recommender's)."""
    en, nb = note if note is not None else (r.note, r.note_nb)
    return pb.Recommendation(
        rank=r.rank,
        unit=unit_pb(unit),
        eta_s=r.eta_s,
        distance_km=r.distance_km,
        mode=r.mode,
        reason=r.reason,
        note=en,
        reason_nb=r.reason_nb,
        note_nb=nb,
    )


def call_pb(call: Call) -> pb.Call:
    msg = pb.Call(
        id=call.id,
        region=call.region,
        status=to_pb_enum(call.status),
        caller_number=call.caller_number,
        position=pb.Position(
            lat=call.position.lat, lon=call.position.lon, accuracy_m=call.position.accuracy_m
        ),
        arrived_at=to_timestamp(call.arrived_at),
        urgency_hint=to_pb_enum(call.urgency_hint),
        shared_to=call.shared_to,
        answered_by=call.answered_by,
        call_taker=call.call_taker,
        incident_id=call.incident_id,
        revision=call.revision,
        outcome=to_pb_enum(call.outcome),
        outcome_note=call.outcome_note,
        closed_at=when(call.closed_at),
        closed_by=call.closed_by,
    )
    if call.answered_at:
        msg.answered_at.CopyFrom(to_timestamp(call.answered_at))
    return msg


def receive_call(req: pb.ReceiveCallRequest, region: str, now: float, who: str) -> ReceiveCall:
    if not req.HasField("position"):
        raise InvalidArgumentError("position", "is required")
    arrived = now
    if req.HasField("arrived_at"):
        arrived = timestamp_s(req.arrived_at, "arrived_at")
        if not now - 3600 <= arrived <= now + 5:
            raise InvalidArgumentError("arrived_at", "must be within the last hour")
    return ReceiveCall(
        request_id=v.request_id(req.request_id),
        region=region,
        caller_number=v.caller_number(req.caller_number),
        position=position_of(req.position, "position"),
        arrived_at=arrived,
        urgency_hint=from_pb_enum(Urgency, req.urgency_hint, "urgency_hint", optional=True),
        who=who,
    )


def call_taker_id(value: str, field: str = "call_taker") -> str:
    return v.entity_id(value, field)
