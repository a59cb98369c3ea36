"""A major incident's stored record, its status machine and the view handed out.

Pure: no I/O. The record lives in etcd at ``majors/{id}/record``; the gateway reads it
from there even while no actor runs, and the actor writes it under its own fence.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from actors.domain.errors import PreconditionError


class MajorStatus(StrEnum):
    DECLARED = "declared"
    STOOD_DOWN = "stood_down"


TRANSITIONS: dict[MajorStatus, frozenset[MajorStatus]] = {
    MajorStatus.DECLARED: frozenset({MajorStatus.STOOD_DOWN}),
    MajorStatus.STOOD_DOWN: frozenset(),
}


def move(major_id: str, current: MajorStatus, new: MajorStatus) -> MajorStatus:
    """The new status, or :class:`PreconditionError` if the table forbids the move."""
    if new not in TRANSITIONS[current]:
        raise PreconditionError(major_id, f"major incident is {current}, cannot become {new}")
    return new


def major_id_for(request_id: str) -> str:
    """Deterministic from the declaring request: a retried declare finds the same one."""
    return "MI-" + uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex[:10].upper()


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: float
    who: str
    text: str


@dataclass(slots=True)
class MajorRecord:
    id: str
    region: str
    lat: float
    lon: float
    accuracy_m: float
    kind: str
    expected_patients: int
    declared_by: str
    declared_at: float
    status: MajorStatus = MajorStatus.DECLARED
    incident_ids: list[str] = field(default_factory=list)
    reserved_unit_ids: list[str] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    fingerprint: str = ""  # of the declaring request (actors.domain.idempotency)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> MajorRecord:
        data: dict[str, Any] = json.loads(raw)
        data["status"] = MajorStatus(data.get("status", MajorStatus.DECLARED))
        data["timeline"] = [TimelineEntry(**t) for t in data.get("timeline", [])]
        return cls(**data)

    def note(self, who: str, text: str, at: float) -> None:
        self.timeline.append(TimelineEntry(at=at, who=who, text=text))

    def require_open(self) -> None:
        """Linking, reserving and standing down need a declared major incident."""
        if self.status is not MajorStatus.DECLARED:
            raise PreconditionError(self.id, f"major incident is {self.status}")


@dataclass(frozen=True, slots=True)
class MajorView:
    """A major incident as handed across actor boundaries and to the API."""

    record: MajorRecord
    revision: int
    actor_pid: int = 0
