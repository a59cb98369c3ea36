"""Commands: what consoles and crews ask the cluster to do, already validated.

The gateway turns each API request into one of these (``actors/api_convert.py``),
checking every field on the way (``validation.py``); a centre executes them. Each
carries its request id (idempotency key) and ``who`` (the identity that will sign the
journal entry; an authenticated console identity once security lands).
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.model import IncidentStatus, Position, UnitStatus


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


@dataclass(frozen=True, slots=True)
class TriageIncident:
    request_id: str
    incident_id: str
    criteria_code: str
    who: str = "console"


@dataclass(frozen=True, slots=True)
class ChangeIncidentStatus:
    request_id: str
    incident_id: str
    status: IncidentStatus
    who: str = "console"


@dataclass(frozen=True, slots=True)
class AddIncidentNote:
    request_id: str
    incident_id: str
    text: str
    who: str = "console"


@dataclass(frozen=True, slots=True)
class ChangeUnitStatus:
    request_id: str
    unit_id: str
    status: UnitStatus
    who: str = "crew"


@dataclass(frozen=True, slots=True)
class ReportUnitPosition:
    request_id: str
    unit_id: str
    position: Position
    who: str = "avl"


@dataclass(frozen=True, slots=True)
class AssignUnit:
    request_id: str
    incident_id: str
    unit_id: str
    who: str = "console"


@dataclass(frozen=True, slots=True)
class ReleaseUnit:
    request_id: str
    incident_id: str
    unit_id: str
    who: str = "console"


IncidentCommand = TriageIncident | ChangeIncidentStatus | AddIncidentNote
UnitCommand = ChangeUnitStatus | ReportUnitPosition
PairCommand = AssignUnit | ReleaseUnit
Command = CreateIncident | IncidentCommand | UnitCommand | PairCommand
