"""Incidents and units as plain data, and their JSON form in etcd.

Records are slotted dataclasses: a hosted incident costs a few kilobytes, not a process
(see DESIGN.md: one Ray actor per incident would cost ~115 MB each).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from actors.domain.errors import InvalidArgumentError
from actors.domain.idempotency import FINGERPRINT_FIELD


class Urgency(StrEnum):
    AKUTT = "akutt"  # red
    HASTER = "haster"  # yellow
    VANLIG = "vanlig"  # green


class IncidentStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class UnitStatus(StrEnum):
    AVAILABLE_AT_STATION = "available_at_station"
    AVAILABLE_MOBILE = "available_mobile"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    OUT_OF_SERVICE = "out_of_service"


class UnitKind(StrEnum):
    ROAD_AMBULANCE = "road_ambulance"
    RAPID_RESPONSE_CAR = "rapid_response_car"
    BOAT_AMBULANCE = "boat_ambulance"
    HELICOPTER = "helicopter"
    FIXED_WING = "fixed_wing"


class CrewLevel(StrEnum):
    EMT = "emt"
    PARAMEDIC = "paramedic"
    DOCTOR = "doctor"


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


class AlertService(StrEnum):
    """Whom an alert goes to. Values are what a dispatcher says: 110 fire, 112 police,
    a hospital (pre-notification of a patient on the way; the alert's ``recipient`` is
    the hospital's id). (AMK-LA and the legevakt come with other steps of issue #19.)"""

    FIRE_110 = "110"
    POLICE_112 = "112"
    HOSPITAL = "hospital"


class PatientCondition(StrEnum):
    """What a patient is taken to hospital for, as far as the destination goes: the
    conditions with their own pathway (the national trauma system, the stroke and
    heart attack pathways) and everything else."""

    TRAUMA = "trauma"  # meets the trauma team criteria
    STROKE = "stroke"
    STEMI = "stemi"  # heart attack with ST elevation on the ECG
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class AlertState(StrEnum):
    PROPOSED = "proposed"  # an action card matched; nobody has sent it yet
    SENT = "sent"  # committed as sent; the EIDO document goes out after the commit
    ACKNOWLEDGED = "acknowledged"  # the other centre said it has it
    ESCALATED = "escalated"  # sent, no acknowledgement in time: the console shows it
    CANCELLED = "cancelled"


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
    reaching the hospital (released, or the patient not transported).
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
    note: str = ""  # why it was escalated or cancelled
    prenotification: PreNotification | None = None  # service HOSPITAL only

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        pre = d.get("prenotification")
        return cls(
            **{
                **d,
                "service": AlertService(d["service"]),
                "state": AlertState(d["state"]),
                "prenotification": PreNotification.from_dict(pre) if pre else None,
            }
        )


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
            revision=revision,
        )

    @classmethod
    def decode(cls, raw: bytes, revision: int = 0) -> Unit:
        return cls.from_dict(json.loads(raw), revision)

    @property
    def available(self) -> bool:
        return self.status in (UnitStatus.AVAILABLE_AT_STATION, UnitStatus.AVAILABLE_MOBILE)


class CallStatus(StrEnum):
    WAITING = "waiting"  # in the queue of the region covering the caller
    ANSWERED = "answered"  # a call-taker is talking to the caller
    COMPLETED = "completed"  # became an incident, or was linked to one
    ABANDONED = "abandoned"  # the caller hung up before anyone answered


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
    incident_id: str = ""
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
            incident_id=d.get("incident_id", ""),
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
        for name, rec in (("incident", self.incident), ("unit", self.unit), ("call", self.call)):
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

    def require_call(self) -> Call:
        return self._require(self.call, "call")
