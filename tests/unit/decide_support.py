"""Records and a fake clock shared by the decision tests (test_decide_*.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from actors.domain.commands import CreateIncident
from actors.domain.model import (
    CrewLevel,
    Incident,
    IncidentStatus,
    Note,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
    UrgencyChange,
)

T0 = 1_700_000_000.0  # fake clock: plain floats
T1 = T0 + 10.0
T2 = T0 + 20.0
T3 = T0 + 30.0

AKUTT_CODE = "A.01.01"
HASTER_CODE = "H.01.02"
VANLIG_CODE = "V.01.01"

BUSY = [
    UnitStatus.ASSIGNED,
    UnitStatus.EN_ROUTE,
    UnitStatus.ON_SCENE,
    UnitStatus.TRANSPORTING,
    UnitStatus.AT_HOSPITAL,
]
AVAILABLE = [UnitStatus.AVAILABLE_AT_STATION, UnitStatus.AVAILABLE_MOBILE]


@contextmanager
def unchanged(*records: Any) -> Iterator[None]:
    """Fail when any of ``records`` differs after the block from a deep copy taken before."""
    before = [copy.deepcopy(r) for r in records]
    yield
    for was, now in zip(before, records, strict=True):
        assert now == was, "a decision mutated its input"


def make_cmd(**kw: Any) -> CreateIncident:
    base: dict[str, Any] = {
        "request_id": "req-1",
        "region": "oslo",
        "position": Position(59.9139, 10.7522, 15.0),
        "address": "Karl Johans gate 1, Oslo",
        "caller_number": "+4722334455",
    }
    base.update(kw)
    return CreateIncident(**base)


def make_incident(
    status: IncidentStatus = IncidentStatus.TRIAGED,
    units: list[str] | None = None,
    urgency: Urgency | None = Urgency.HASTER,
    inc_id: str = "OSL-1",
) -> Incident:
    return Incident(
        id=inc_id,
        region="oslo",
        status=status,
        position=Position(59.9, 10.7, 10.0),
        created_at=T0,
        updated_at=T0,
        urgency=urgency,
        criteria_code=HASTER_CODE if urgency else "",
        complaint_chapter=1 if urgency else 0,
        notes=[Note("first", "console", T0)],
        assigned_unit_ids=list(units or []),
        urgency_history=[UrgencyChange(urgency, HASTER_CODE, T0)] if urgency else [],
        revision=41,
    )


def make_unit(
    status: UnitStatus = UnitStatus.AVAILABLE_AT_STATION,
    incident_id: str = "",
    unit_id: str = "osl-a11",
) -> Unit:
    return Unit(
        id=unit_id,
        call_sign="Oslo 11",
        region="oslo",
        kind=UnitKind.ROAD_AMBULANCE,
        crew=CrewLevel.PARAMEDIC,
        status=status,
        position=Position(59.93, 10.73, 5.0),
        station="Ullevål",
        updated_at=T0,
        incident_id=incident_id,
        home_region="oslo",
        revision=17,
    )
