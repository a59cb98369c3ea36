"""Incidents and units as plain data, and their JSON form in etcd.

Records are slotted dataclasses: a hosted incident costs a few kilobytes, not a process
(see DESIGN.md: one Ray actor per incident would cost ~115 MB each). Their enumerations
are defined in :mod:`actors.domain.enums` and imported here with them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from actors.domain.enums import (
    PRENOTIFICATION_STANDING,
    AirMissionState,
    AlertService,
    AlertState,
    CallOutcome,
    CallStatus,
    CprEnd,
    CrewLevel,
    IncidentStatus,
    PatientCondition,
    Sex,
    UnitKind,
    UnitStatus,
    Urgency,
)
from actors.domain.errors import InvalidArgumentError
from actors.domain.idempotency import FINGERPRINT_FIELD


@dataclass(slots=True)
class Position:
    lat: float
    lon: float
    accuracy_m: float = 0.0


@dataclass(slots=True)
class Note:
    text: str
    author: str
    at: float


@dataclass(slots=True)
class UrgencyChange:
    urgency: Urgency
    criteria_code: str
    at: float


_SCALARS = (str, int, float, bool, type(None))  # enums here are StrEnums: kept, as asdict does


def _plain(value: Any) -> Any:
    """``value`` as ``dataclasses.asdict`` would give it, for the types records hold."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    raise TypeError(f"no JSON form for {type(value).__name__}")


class StoredRecord:
    """The JSON form in etcd of a slotted record dataclass. ``revision`` (the etcd mod
    revision) is where the record was read from, never part of the value itself."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives, without ``revision``: a direct walk of the
        fields (asdict deep-copies and re-inspects every value; it was a fifth of the
        centre's CPU per create under load)."""
        d = {name: _plain(getattr(self, name)) for name in self.__dataclass_fields__}  # type: ignore[attr-defined]
        del d["revision"]
        return d

    def encode(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()


@dataclass(slots=True)
class PreNotification:
    """What a hospital is told about a patient on the way (an alert to
    :attr:`AlertService.HOSPITAL`), and how the arrival went (issue #19).

    ``expected_arrival`` is an absolute time (epoch s), not a duration: the stroke
    team's thrombolysis alarm is set against the clock, and a duration would go stale
    the moment it was sent. ``eta_updates`` counts the later commits of a new expected
    arrival as the unit moved; ``arrived_at`` is the unit's AT_HOSPITAL time, stamped
    in that status change's write (the pre-notification's lead time is measured to it).
    ``replaced_by`` names the pre-notification that took over when the dispatcher
    changed the destination; ``withdrawn_at`` is when the unit left the incident without
    reaching the hospital (released, or the patient not transported). ``delivered``
    counts the documents the hospital has answered with a 2xx, against
    ``Alert.documents_due``: fewer is the outbox, delivered until it is not.
    """

    hospital_name: str
    condition: PatientCondition
    unit_id: str  # the transporting unit, whose movement updates the ETA
    expected_arrival: float
    eta_reason: str = ""
    age: int | None = None
    sex: Sex = Sex.UNKNOWN
    urgency: Urgency | None = None  # the incident's when sent
    findings: str = ""  # the crew's key findings (e.g. side, NIHSS, ECG)
    free_text: str = ""
    symptom_onset_at: float = 0.0  # stroke: when the symptoms began (0: unknown)
    eta_updated_at: float = 0.0
    eta_updates: int = 0
    arrived_at: float = 0.0
    replaced_by: str = ""
    withdrawn_at: float = 0.0
    delivered: int = 0  # documents the hospital has taken (the outbox: prenotify.py)
    delivered_at: float = 0.0  # when the last of them was recorded

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PreNotification:
        return cls(
            **{
                **d,
                "condition": PatientCondition(d["condition"]),
                "sex": Sex(d.get("sex", "unknown")),
                "urgency": Urgency(d["urgency"]) if d.get("urgency") else None,
            }
        )


@dataclass(slots=True)
class Alert:
    """One alert of an incident to another service: who, whom, why, when (issue #19).

    Kept in the incident's record (see ``actors/domain/alerts.py`` for why), so every
    change is the incident's fenced write and journal entry. Times are 0.0 until they
    happen.
    """

    id: str  # unique within the incident: a1, a2, ...
    service: AlertService
    state: AlertState
    action_card: str = ""  # the action card that proposed it ("" for a manual alert)
    criteria_code: str = ""  # the incident's criteria code when it was proposed or sent
    reason: str = ""  # the dispatcher's words for a manual alert
    recipient: str = ""  # the configured centre it went to (e.g. "110:oslo")
    proposed_at: float = 0.0
    sent_at: float = 0.0
    sent_by: str = ""
    acknowledged_at: float = 0.0
    acknowledged_by: str = ""  # the person or system at the other centre
    escalated_at: float = 0.0
    cancelled_at: float = 0.0
    cancelled_by: str = ""
    note: str = ""  # why it was escalated, cancelled or declined
    # An air ambulance request (service AIR_AMBULANCE; ``recipient`` is the AMK-LA
    # region). ``delivered_at`` 0.0 while the request waits in the incident's outbox
    # (see ``actors/centre/air_desk.py``); the mission fields mirror the AMK-LA's air
    # mission as last reported (``mission_seq``: its change counter, so a late or
    # repeated report never overwrites a newer one).
    air_kind: UnitKind | None = None
    mission_id: str = ""
    delivered_at: float = 0.0  # when the AMK-LA's owner recorded the request
    declined_at: float = 0.0
    declined_by: str = ""  # who at the AMK-LA gave the answer
    aircraft_unit_id: str = ""
    base_doctor: str = ""  # the base doctor who decided whether to fly
    mission_state: AirMissionState | None = None
    mission_seq: int = 0
    mission_updated_at: float = 0.0
    # Withdrawn by the requesting AMK (``air.withdraw``; why: ``note``): owed to the
    # AMK-LA until its owner answers (``withdrawal_delivered_at``), an outbox like above.
    withdrawn_at: float = 0.0
    withdrawn_by: str = ""
    withdrawal_delivered_at: float = 0.0
    withdrawal_answer: AirMissionState | None = None  # the mission as the AMK-LA answered
    prenotification: PreNotification | None = None  # service HOSPITAL only

    def withdrawal_due(self) -> bool:
        """Whether a pre-notification's hospital must be told its patient is not coming:
        cancelled, replaced by another hospital's, or withdrawn (never after arrival)."""
        pre = self.prenotification
        if pre is None or pre.arrived_at:
            return False
        return bool(pre.replaced_by or pre.withdrawn_at) or self.state not in (
            PRENOTIFICATION_STANDING
        )

    def documents_due(self) -> int:
        """How many documents a pre-notification's hospital should have by now: the
        first, one per ETA update, and the withdrawal once :meth:`withdrawal_due`
        (``actors/domain/prenotify.py``: the record is the outbox); 0 for other alerts."""
        pre = self.prenotification
        if pre is None:
            return 0
        return 1 + pre.eta_updates + (1 if self.withdrawal_due() else 0)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        pre = d.get("prenotification")
        alert = cls(
            **{
                **d,
                "air_kind": UnitKind(d["air_kind"]) if d.get("air_kind") else None,
                "mission_state": (
                    AirMissionState(d["mission_state"]) if d.get("mission_state") else None
                ),
                "withdrawal_answer": AirMissionState(w)
                if (w := d.get("withdrawal_answer"))
                else None,
                "service": AlertService(d["service"]),
                "state": AlertState(d["state"]),
                "prenotification": PreNotification.from_dict(pre) if pre else None,
            }
        )
        if pre and "delivered" not in pre and alert.prenotification is not None:
            # Stored before the outbox counted deliveries, when each document was posted
            # once: count them delivered. Sending them again would page a team twice.
            alert.prenotification.delivered = alert.documents_due()
        return alert


@dataclass(slots=True)
class CprGuidance:
    """Telephone-guided CPR on an incident: when the dispatcher began guiding the caller
    and when the caller's chest compressions began (or were under way already), or that
    the arrest was recognised and the caller not guided, with why; who recorded each
    (0.0 and "" until it happens). The times are the quality review's: from the 113 call
    to each (``actors/domain/cpr_guidance.py``)."""

    started_at: float = 0.0
    started_by: str = ""
    compressions_at: float = 0.0
    compressions_by: str = ""
    bystander: bool = False  # compressions were under way when the guidance began
    not_given_at: float = 0.0  # recognised, guidance not given (then, perhaps, given)
    not_given_by: str = ""
    not_given_reason: str = ""
    ended_at: float = 0.0  # ended before a unit was on scene, or corrected (any time)
    ended_by: str = ""
    end: CprEnd | None = None  # how it ended

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CprGuidance:
        end = d.get("end")
        return cls(**{**d, "end": CprEnd(end) if end else None})


@dataclass(slots=True)
class Incident(StoredRecord):
    id: str
    region: str
    status: IncidentStatus
    position: Position
    created_at: float
    updated_at: float
    urgency: Urgency | None = None
    address: str = ""
    caller_number: str = ""
    complaint_chapter: int = 0
    criteria_code: str = ""
    notes: list[Note] = field(default_factory=list)
    assigned_unit_ids: list[str] = field(default_factory=list)
    urgency_history: list[UrgencyChange] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    cpr: CprGuidance | None = None  # telephone-guided CPR, once anything of it is recorded
    revision: int = 0  # etcd mod revision; not stored in the value

    @classmethod
    def from_dict(cls, d: dict[str, Any], revision: int = 0) -> Incident:
        return cls(
            id=d["id"],
            region=d["region"],
            status=IncidentStatus(d["status"]),
            position=Position(**d["position"]),
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            urgency=Urgency(d["urgency"]) if d.get("urgency") else None,
            address=d.get("address", ""),
            caller_number=d.get("caller_number", ""),
            complaint_chapter=d.get("complaint_chapter", 0),
            criteria_code=d.get("criteria_code", ""),
            notes=[Note(**n) for n in d.get("notes", [])],
            assigned_unit_ids=list(d.get("assigned_unit_ids", [])),
            urgency_history=[
                UrgencyChange(Urgency(u["urgency"]), u["criteria_code"], u["at"])
                for u in d.get("urgency_history", [])
            ],
            alerts=[Alert.from_dict(a) for a in d.get("alerts", [])],
            cpr=CprGuidance.from_dict(cpr) if (cpr := d.get("cpr")) else None,
            revision=revision,
        )

    @classmethod
    def decode(cls, raw: bytes, revision: int = 0) -> Incident:
        return cls.from_dict(json.loads(raw), revision)


@dataclass(slots=True)
class Unit(StoredRecord):
    id: str
    call_sign: str
    region: str
    kind: UnitKind
    crew: CrewLevel
    status: UnitStatus
    position: Position
    station: str
    updated_at: float
    incident_id: str = ""
    home_region: str = ""  # the region whose fleet it belongs to (differs while lent)
    # An aircraft of an AMK-LA region on an air mission: the mission (in its own
    # region), not an incident of that region (the incident is another AMK's).
    mission_id: str = ""
    status_at: float = 0.0  # when its status last changed (0.0: not recorded, older record)
    revision: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any], revision: int = 0) -> Unit:
        return cls(
            id=d["id"],
            call_sign=d["call_sign"],
            region=d["region"],
            kind=UnitKind(d["kind"]),
            crew=CrewLevel(d["crew"]),
            status=UnitStatus(d["status"]),
            position=Position(**d["position"]),
            station=d.get("station", ""),
            updated_at=d["updated_at"],
            incident_id=d.get("incident_id", ""),
            home_region=d.get("home_region", "") or d["region"],
            mission_id=d.get("mission_id", ""),
            status_at=d.get("status_at", 0.0),
            revision=revision,
        )

    @classmethod
    def decode(cls, raw: bytes, revision: int = 0) -> Unit:
        return cls.from_dict(json.loads(raw), revision)

    @property
    def available(self) -> bool:
        return self.status in (UnitStatus.AVAILABLE_AT_STATION, UnitStatus.AVAILABLE_MOBILE)


@dataclass(slots=True)
class AirMissionEvent:
    """One step of an air mission: what, when, who (journaled with the write too)."""

    state: AirMissionState
    at: float
    by: str
    note: str = ""


@dataclass(slots=True)
class AirMission(StoredRecord):
    """An air ambulance mission at its AMK-LA (issue #19): the request from another
    AMK's incident, the base's answer, and the aircraft followed to the end.

    Lives in the AMK-LA region (``air_missions/{region}/{id}``), fenced by that region's
    token. Its id derives from the incident and its alert (``air.mission_id``), so a
    request delivered twice finds it and creates nothing. ``seq`` counts its changes;
    ``reported_seq`` is the last one the incident's owner has recorded: while they
    differ the change waits in this record's outbox (``actors/centre/air_desk.py``).
    """

    id: str
    region: str  # the AMK-LA region that holds it
    incident_id: str
    incident_region: str  # where the incident was when the request came
    alert_id: str
    kind: UnitKind  # what was asked for: helicopter or fixed_wing
    state: AirMissionState
    position: Position  # the incident's, when the request came
    requested_at: float  # when the local AMK committed the request (the alert's sent_at)
    received_at: float  # when this region's owner recorded it
    updated_at: float
    requested_by: str = ""
    reason: str = ""
    urgency: Urgency | None = None
    criteria_code: str = ""
    address: str = ""
    unit_id: str = ""  # the aircraft assigned on acceptance
    base_doctor: str = ""
    answered_by: str = ""  # the AMK-LA dispatcher who entered the answer
    answered_at: float = 0.0
    decline_reason: str = ""
    closed_at: float = 0.0
    # The requesting AMK withdrew its request (whatever the state: a withdrawal after the
    # aircraft reached the patient leaves the mission going on).
    withdrawn_at: float = 0.0
    withdrawn_by: str = ""
    withdrawal_reason: str = ""
    withdrawal_answer: AirMissionState | None = None  # the state it found or left
    events: list[AirMissionEvent] = field(default_factory=list)
    seq: int = 1
    reported_seq: int = 1
    revision: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any], revision: int = 0) -> AirMission:
        return cls(
            **{
                **d,
                "kind": UnitKind(d["kind"]),
                "state": AirMissionState(d["state"]),
                "position": Position(**d["position"]),
                "urgency": Urgency(d["urgency"]) if d.get("urgency") else None,
                "withdrawal_answer": AirMissionState(w)
                if (w := d.get("withdrawal_answer"))
                else None,
                "events": [
                    AirMissionEvent(**{**e, "state": AirMissionState(e["state"])})
                    for e in d.get("events", [])
                ],
                "revision": revision,
            }
        )

    @classmethod
    def decode(cls, raw: bytes, revision: int = 0) -> AirMission:
        return cls.from_dict(json.loads(raw), revision)


@dataclass(slots=True)
class Call(StoredRecord):
    """A 113 call, from the moment the telephony side queues it."""

    id: str
    region: str  # the region whose queue it waits in (covers the caller's position)
    caller_number: str
    position: Position
    arrived_at: float  # from the telephony side; kept across takeovers
    status: CallStatus = CallStatus.WAITING
    urgency_hint: Urgency | None = None  # e.g. an automatic crash alert (eCall): akutt
    shared_to: str = ""  # sharing mode: the partner centre it was offered to at once
    answered_by: str = ""  # centre id
    call_taker: str = ""
    answered_at: float = 0.0
    answered_as_partner: bool = False  # from a partner's queue (overflow, sharing)
    incident_id: str = ""
    # Ended without an incident: how, why (the note), when and by whom (calls.close).
    outcome: CallOutcome | None = None
    outcome_note: str = ""
    closed_at: float = 0.0
    closed_by: str = ""
    revision: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any], revision: int = 0) -> Call:
        return cls(
            id=d["id"],
            region=d["region"],
            caller_number=d.get("caller_number", ""),
            position=Position(**d["position"]),
            arrived_at=d["arrived_at"],
            status=CallStatus(d["status"]),
            urgency_hint=Urgency(d["urgency_hint"]) if d.get("urgency_hint") else None,
            shared_to=d.get("shared_to", ""),
            answered_by=d.get("answered_by", ""),
            call_taker=d.get("call_taker", ""),
            answered_at=d.get("answered_at", 0.0),
            answered_as_partner=d.get("answered_as_partner", False),
            incident_id=d.get("incident_id", ""),
            outcome=CallOutcome(o) if (o := d.get("outcome")) else None,
            outcome_note=d.get("outcome_note", ""),
            closed_at=d.get("closed_at", 0.0),
            closed_by=d.get("closed_by", ""),
            revision=revision,
        )

    @classmethod
    def decode(cls, raw: bytes, revision: int = 0) -> Call:
        return cls.from_dict(json.loads(raw), revision)


@dataclass(slots=True)
class Outcome:
    """What a command answers: the records it changed, as committed.

    Stored verbatim under the request id, so a retry gets the first answer even after a
    failover or after the records changed again.
    """

    incident: Incident | None = None
    unit: Unit | None = None
    call: Call | None = None
    mission: AirMission | None = None
    from_incident: Incident | None = None  # a diversion's: the incident the unit left

    def records(self) -> tuple[StoredRecord, ...]:
        """Every record the answer names."""
        named = (self.incident, self.unit, self.call, self.mission, self.from_incident)
        return tuple(r for r in named if r is not None)

    def encode(
        self, fingerprint: str = "", encoded: Sequence[tuple[StoredRecord, bytes]] = ()
    ) -> bytes:
        """The records without revisions: the commit revision is not known until the
        transaction that stores this answer commits; ``decode`` gets it from the
        request key's mod revision, which is that commit's revision. With the request's
        ``fingerprint`` when it is the answer kept under a request id
        (:mod:`actors.domain.idempotency`).

        ``encoded``: records already encoded (the same objects, with their bytes), as
        the executor has them for the write: spliced in, not encoded a second time.
        The bytes are the same either way (``json.dumps`` with compact separators)."""
        parts: list[bytes] = []
        if fingerprint:
            parts.append(
                json.dumps({FINGERPRINT_FIELD: fingerprint}, separators=(",", ":"))[1:-1].encode()
            )
        named = (
            ("incident", self.incident),
            ("unit", self.unit),
            ("call", self.call),
            ("mission", self.mission),
            ("from_incident", self.from_incident),
        )
        for name, rec in named:
            if rec is None:
                continue
            raw = next((b for r, b in encoded if r is rec), None)
            parts.append(b'"' + name.encode() + b'":' + (rec.encode() if raw is None else raw))
        return b"{" + b",".join(parts) + b"}"

    @classmethod
    def decode(cls, raw: bytes, revision: int) -> Outcome:
        d = json.loads(raw)
        return cls(
            incident=Incident.from_dict(d["incident"], revision) if "incident" in d else None,
            unit=Unit.from_dict(d["unit"], revision) if "unit" in d else None,
            call=Call.from_dict(d["call"], revision) if "call" in d else None,
            mission=AirMission.from_dict(d["mission"], revision) if "mission" in d else None,
            from_incident=(
                Incident.from_dict(d["from_incident"], revision) if "from_incident" in d else None
            ),
        )

    def _require(self, record: Any, kind: str) -> Any:
        if record is None:
            # Only a request id first used for another kind of request answers
            # without the record this request makes.
            raise InvalidArgumentError("request_id", f"already used for a request with no {kind}")
        return record

    def require_incident(self) -> Incident:
        return self._require(self.incident, "incident")

    def require_unit(self) -> Unit:
        return self._require(self.unit, "unit")

    def require_from_incident(self) -> Incident:
        return self._require(self.from_incident, "incident left")

    def require_call(self) -> Call:
        return self._require(self.call, "call")

    def require_mission(self) -> AirMission:
        return self._require(self.mission, "air mission")
