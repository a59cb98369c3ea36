"""Commands: what consoles and crews ask the cluster to do, already validated.

The gateway turns each API request into one of these (``actors/gateway/convert.py``),
checking every field on the way (``validation.py``); a centre executes them. Each
carries its request id (idempotency key) and ``who`` (the identity that will sign the
journal entry; an authenticated console identity once security lands).

IDEMPOTENCY: ``fingerprint`` names the API request a command came from (its method and
a hash of its fields other than the request id). The request id's record keeps it, so
the same id sent again with the same request gets the first answer, and with a
different request is refused (``actors.domain.idempotency``).
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.enums import CallOutcome, CprEnd, CprStep
from actors.domain.model import (
    AirMissionState,
    AlertService,
    IncidentStatus,
    PatientCondition,
    Position,
    Sex,
    UnitKind,
    UnitStatus,
    Urgency,
)


@dataclass(frozen=True, slots=True)
class CreateIncident:
    request_id: str
    region: str
    position: Position
    address: str = ""
    caller_number: str = ""
    complaint_chapter: int = 0
    criteria_code: str = ""
    notes: str = ""
    who: str = "console"
    call_id: str = ""  # the answered call this incident comes from (completes it)
    source_id: str = ""  # imported: the EIDO document's incident id (one open copy only)
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)
    by_centre: str = ""  # with call_id: the creator's centre (calls.answered_here)


@dataclass(frozen=True, slots=True)
class TriageIncident:
    request_id: str
    incident_id: str
    criteria_code: str
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class ChangeIncidentStatus:
    request_id: str
    incident_id: str
    status: IncidentStatus
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class AddIncidentNote:
    request_id: str
    incident_id: str
    text: str
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class ChangeIncidentLocation:
    """Where the patient is, told better later in the call (the handset's position can
    be hundreds of metres off; the address comes as the caller says it): the new
    position, the new address, or both (None: unchanged)."""

    request_id: str
    incident_id: str
    position: Position | None = None
    address: str | None = None
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class RecordCprGuidance:
    """A step of telephone-guided CPR, recorded as it happens (``cpr_guidance.py``)."""

    request_id: str
    incident_id: str
    step: CprStep
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)
    reason: str = ""  # NOT_GIVEN only: why the guidance was not given
    end: CprEnd | None = None  # ENDED only: how the guidance ended


@dataclass(frozen=True, slots=True)
class ChangeUnitStatus:
    request_id: str
    unit_id: str
    status: UnitStatus
    who: str = "crew"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)
    # When it happened, if entered later (a crew's radio report, typed by a dispatcher):
    # the time the review reads; None: now.
    occurred_at: float | None = None


@dataclass(frozen=True, slots=True)
class ReportUnitPosition:
    request_id: str
    unit_id: str
    position: Position
    who: str = "avl"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class AssignUnit:
    request_id: str
    incident_id: str
    unit_id: str
    who: str = "console"
    # Where the gateway's directory last saw the unit: a unit of a region this centre
    # does not serve is lent to the incident's region in the same transaction.
    unit_region: str = ""
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class ReleaseUnit:
    request_id: str
    incident_id: str
    unit_id: str
    who: str = "console"
    reason: str = ""  # required while the unit transports a patient (kept in a note)
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class DivertUnit:
    """Take a unit on its way to ``from_incident_id`` and send it to ``incident_id``, in
    one transaction. ``from_incident_id`` is where the dispatcher saw it going: if it was
    sent elsewhere meanwhile, the command is refused rather than taking it from there."""

    request_id: str
    incident_id: str
    unit_id: str
    from_incident_id: str
    reason: str = ""
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class HandOverIncident:
    """Move an incident, with its assigned units, to another region."""

    request_id: str
    incident_id: str
    to_region: str
    who: str = "supervisor"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class AdoptIncident:
    """From the centre that handed an incident over to a region another centre serves,
    to that region's owner: load the incident now, so that its scans (an unacknowledged
    alert's escalation, the hospital and air outboxes, archiving) see it at once rather
    than when something next touches it. Writes nothing."""

    request_id: str
    incident_id: str
    who: str = "hand-over"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class LendUnit:
    """Move an available unit to another region (lend it back: to its home region)."""

    request_id: str
    unit_id: str
    to_region: str
    who: str = "supervisor"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class ReceiveCall:
    """The telephony side queues a call in ``region`` (the one covering the caller)."""

    request_id: str
    region: str
    caller_number: str
    position: Position
    arrived_at: float
    urgency_hint: Urgency | None = None
    who: str = "telephony"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class AbandonCall:
    request_id: str
    call_id: str
    who: str = "telephony"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class AnswerNextCall:
    """Runs at the call-taker's centre, not at a region's owner."""

    request_id: str
    centre: str
    call_taker: str
    who: str = "call-taker"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class LinkCall:
    request_id: str
    call_id: str
    incident_id: str
    who: str = "call-taker"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)
    by_centre: str = ""  # the linker's centre (calls.answered_here; "" anyone)


@dataclass(frozen=True, slots=True)
class CloseCall:
    """An answered call ended without an incident, with how (``calls.close``)."""

    request_id: str
    call_id: str
    outcome: CallOutcome
    note: str = ""
    by_centre: str = ""  # the closer's centre ("": may close any call, e.g. a supervisor)
    who: str = "call-taker"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class SetCallSharing:
    request_id: str
    region: str
    sharing: bool
    who: str = "supervisor"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class SendAlert:
    """Alert another service about an incident: the proposed alert to ``service``, or a
    new one. Committed as sent, then delivered as an EIDO document (issue #19)."""

    request_id: str
    incident_id: str
    service: AlertService
    reason: str = ""
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)
    phoned_to: str = ""  # alerted by phone: whom at the other centre (nothing delivered)


@dataclass(frozen=True, slots=True)
class AcknowledgeAlert:
    """The other centre has the alert; ``by`` names who there said so (the partner's
    answer to the delivery, or a dispatcher entering a phone confirmation)."""

    request_id: str
    incident_id: str
    alert_id: str
    by: str
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class CancelAlert:
    request_id: str
    incident_id: str
    alert_id: str
    reason: str = ""
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class EscalateAlert:
    """From the owner's periodic check only, never from the API: a sent alert that has
    waited ``alert_escalate_after_s`` without an acknowledgement."""

    request_id: str
    incident_id: str
    alert_id: str
    who: str = "alert-watch"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class SendPreNotification:
    """Pre-notify ``hospital_id`` of a patient on the way in ``unit_id`` (empty: the
    incident's only assigned unit), with the patient's key data; the expected arrival
    is computed by the incident's owner from where the unit is (issue #19). Committed
    as a sent alert, then delivered to the hospital's endpoint."""

    request_id: str
    incident_id: str
    hospital_id: str
    condition: PatientCondition
    unit_id: str = ""
    age: int | None = None
    sex: Sex = Sex.UNKNOWN
    findings: str = ""
    free_text: str = ""
    symptom_onset_at: float = 0.0
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class UpdatePreNotificationEta:
    """From the owner only, never from the API: the unit moved and the expected arrival
    of its open pre-notification shifted by more than the threshold. The owner
    recomputes the ETA under the incident's mailbox (the command carries no time, so a
    retried or late one cannot write a stale ETA)."""

    request_id: str
    incident_id: str
    alert_id: str
    who: str = "eta-watch"
    fingerprint: str = ""


# ---------------------------------------------------------------- air ambulance (issue #19)
# From the API: RequestAirAmbulance (the incident's AMK), AnswerAirRequest and
# AbortAirMission (the AMK-LA). The rest travel between centres through the outboxes
# (``actors/centre/air_desk.py``), each with a request id derived from the record, so a
# delivery repeated after a failover is applied once.


@dataclass(frozen=True, slots=True)
class MarkPreNotificationDelivered:
    """Outbox, hospital side: the hospital answered document ``due`` of the
    pre-notification (``actors/domain/prenotify.py``: the record is the outbox)."""

    request_id: str
    incident_id: str
    alert_id: str
    due: int
    who: str = "prenotification-outbox"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class ConfirmPreNotificationByPhone:
    """The dispatcher told the hospital by phone what the outbox could not deliver:
    every document due is recorded as delivered (``who``: the dispatcher)."""

    request_id: str
    incident_id: str
    alert_id: str
    spoke_with: str = ""  # whom at the hospital
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class RequestAirAmbulance:
    """Ask the AMK-LA serving the incident's region for an aircraft: committed on the
    incident as an air ambulance alert (sent), then delivered to the AMK-LA's owner."""

    request_id: str
    incident_id: str
    kind: UnitKind  # helicopter or fixed_wing
    reason: str
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class OpenAirMission:
    """Outbox, incident side -> AMK-LA: record the request as an air mission in
    ``region`` (the AMK-LA region). Creates nothing if the mission exists."""

    request_id: str
    region: str
    incident_id: str
    incident_region: str
    alert_id: str
    kind: UnitKind
    reason: str
    requested_by: str
    requested_at: float
    position: Position
    urgency: Urgency | None = None
    criteria_code: str = ""
    address: str = ""
    who: str = "air-outbox"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class MarkAirRequestDelivered:
    """Outbox, incident side: the AMK-LA has the request (as ``mission_id``)."""

    request_id: str
    incident_id: str
    alert_id: str
    mission_id: str
    received_at: float
    who: str = "air-outbox"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class AnswerAirRequest:
    """The AMK-LA's answer: accepted (``unit_id``: the aircraft; ``base_doctor``: who
    decided to fly) or declined (``reason``; ``base_doctor`` if a doctor decided)."""

    request_id: str
    mission_id: str
    accept: bool
    unit_id: str = ""
    base_doctor: str = ""
    reason: str = ""
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class AbortAirMission:
    """The AMK-LA stands an accepted mission down before the aircraft reaches the
    patient (weather, no longer needed): the mission ends aborted, the aircraft is free."""

    request_id: str
    mission_id: str
    reason: str
    who: str = "console"
    fingerprint: str = ""  # the API request it came from (see IDEMPOTENCY)


@dataclass(frozen=True, slots=True)
class RecordAirMission:
    """Outbox, AMK-LA -> incident side: the mission as it stands at change ``seq``
    (the answer, then each step of the aircraft), for the incident's alert."""

    request_id: str
    incident_id: str
    alert_id: str
    mission_id: str
    seq: int
    state: AirMissionState
    state_at: float
    received_at: float
    unit_id: str = ""
    base_doctor: str = ""
    answered_by: str = ""
    answered_at: float = 0.0
    decline_reason: str = ""
    who: str = "air-outbox"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class MarkAirMissionReported:
    """Outbox, AMK-LA side: the incident's owner has recorded change ``seq``."""

    request_id: str
    mission_id: str
    seq: int
    who: str = "air-outbox"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class WithdrawAirRequest:
    """Outbox, incident side -> AMK-LA: the requesting AMK withdrew its request
    (``CancelAlert`` on it). The mission is stood down unless the aircraft is already at
    the patient; a request that never arrived is kept as an aborted mission, from
    ``request`` (what its delivery would have opened). The answer is the mission."""

    request_id: str
    mission_id: str
    reason: str
    withdrawn_by: str  # who at the requesting AMK
    request: OpenAirMission
    who: str = "air-outbox"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class MarkAirWithdrawalDelivered:
    """Outbox, incident side: the AMK-LA's owner has the withdrawal, and left the
    mission in ``answer`` (aborted; on scene or later: too late; or ended before)."""

    request_id: str
    incident_id: str
    alert_id: str
    mission_id: str
    answer: AirMissionState
    delivered_at: float
    who: str = "air-outbox"
    fingerprint: str = ""


AirIncidentCommand = (
    RequestAirAmbulance | MarkAirRequestDelivered | RecordAirMission | MarkAirWithdrawalDelivered
)
AirMissionCommand = (
    OpenAirMission
    | AnswerAirRequest
    | AbortAirMission
    | MarkAirMissionReported
    | WithdrawAirRequest
)
AirCommand = AirIncidentCommand | AirMissionCommand
PreNotificationCommand = (
    SendPreNotification
    | UpdatePreNotificationEta
    | MarkPreNotificationDelivered
    | ConfirmPreNotificationByPhone
)
AlertCommand = SendAlert | AcknowledgeAlert | CancelAlert | EscalateAlert | PreNotificationCommand
IncidentCommand = (
    TriageIncident
    | ChangeIncidentStatus
    | AddIncidentNote
    | RecordCprGuidance
    | ChangeIncidentLocation
)
UnitCommand = ChangeUnitStatus | ReportUnitPosition
PairCommand = AssignUnit | ReleaseUnit | DivertUnit
MoveCommand = HandOverIncident | LendUnit | AdoptIncident
CallCommand = ReceiveCall | AbandonCall | AnswerNextCall | LinkCall | CloseCall | SetCallSharing
Command = (
    CreateIncident
    | IncidentCommand
    | UnitCommand
    | PairCommand
    | MoveCommand
    | CallCommand
    | AlertCommand
    | AirCommand
)
