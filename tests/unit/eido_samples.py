"""Sample incidents and document edits the EIDO tests share (not a test module itself)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from actors.domain.eido import ImportedIncident, export_incident
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

AGENCY = "amk-oslo.helse-sorost.example"
AGENCY_NAME = "AMK Oslo og Akershus"
NOW = 1_767_262_000.0  # 2026-01-01T10:06:40Z
T0 = 1_767_261_600.0  # 2026-01-01T10:00:00Z


def rich_incident() -> tuple[Incident, list[Unit]]:
    inc = Incident(
        id="OSL-2026-000042",
        region="oslo",
        status=IncidentStatus.ON_SCENE,
        position=Position(59.91273, 10.74609, 35.0),
        created_at=T0,
        updated_at=T0 + 420.5,
        urgency=Urgency.AKUTT,
        address="Karl Johans gate 22, 0159 Oslo",
        caller_number="+47 912 34 567",
        complaint_chapter=11,
        criteria_code="A.11.01",
        notes=[
            Note("Mann ca. 60 år, brystsmerter <30 min> & kaldsvett", "op-anne", T0 + 30.25),
            Note("Innringer: kona.\nDøren er åpen 😷", "op-anne", T0 + 95.5),
            Note("Oslo 1-12 fremme", "op-bjorn", T0 + 400.0),
        ],
        assigned_unit_ids=["OSL-A12", "OSL-L3"],
        urgency_history=[
            UrgencyChange(Urgency.HASTER, "H.11.02", T0 + 40.0),
            UrgencyChange(Urgency.AKUTT, "A.11.01", T0 + 120.0),
        ],
    )
    units = [
        Unit(
            id="OSL-A12",
            call_sign="Oslo 1-12",
            region="oslo",
            kind=UnitKind.ROAD_AMBULANCE,
            crew=CrewLevel.PARAMEDIC,
            status=UnitStatus.ON_SCENE,
            position=Position(59.91270, 10.74600, 8.0),
            station="Ullevål",
            updated_at=T0 + 400.0,
            incident_id=inc.id,
            home_region="oslo",
        ),
        Unit(
            id="OSL-L3",
            call_sign="Lima 03",
            region="oslo",
            kind=UnitKind.HELICOPTER,
            crew=CrewLevel.DOCTOR,
            status=UnitStatus.EN_ROUTE,
            position=Position(59.95, 10.8, 0.0),
            station="Lørenskog",
            updated_at=T0 + 410.0,
            incident_id=inc.id,
            home_region="innlandet",
        ),
    ]
    return inc, units


def minimal_incident() -> Incident:
    return Incident(
        id="OSL-2026-000001",
        region="oslo",
        status=IncidentStatus.RECEIVED,
        position=Position(59.9, 10.7),
        created_at=T0,
        updated_at=T0,
    )


def export(inc: Incident, units: list[Unit] | None = None) -> dict[str, Any]:
    return export_incident(inc, units or [], agency_id=AGENCY, agency_name=AGENCY_NAME, now=NOW)


def rebuild(imp: ImportedIncident, like: Incident) -> Incident:
    """An Incident from imported fields, keeping ``like``'s id, times and units."""
    assert imp.status is not None
    return Incident(
        id=like.id,
        region=imp.region,
        status=imp.status,
        position=imp.position,
        created_at=like.created_at,
        updated_at=like.updated_at,
        urgency=imp.urgency,
        address=imp.address,
        caller_number=imp.caller_number,
        complaint_chapter=imp.complaint_chapter,
        criteria_code=imp.criteria_code,
        notes=[Note(*n) for n in imp.notes],
        assigned_unit_ids=list(like.assigned_unit_ids),
        urgency_history=list(imp.urgency_history),
    )


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, value in doc.items():
        if key.endswith("Component"):
            for item in value if isinstance(value, list) else [value]:
                out[item["$id"]] = item
    return out


def pidf_point(pidf: str) -> tuple[str, list[float], float | None]:
    gml, gs = "{http://www.opengis.net/gml}", "{http://www.opengis.net/pidflo/1.0}"
    root = ET.fromstring(pidf)
    info = root.find(".//{urn:ietf:params:xml:ns:pidf:geopriv10}location-info")
    assert info is not None
    shape = info[0]
    pos = [float(x) for x in shape.find(f"{gml}pos").text.split()]  # type: ignore[union-attr]
    radius = shape.find(f"{gs}radius")
    return shape.tag.rsplit("}", 1)[1], pos, None if radius is None else float(radius.text)  # type: ignore[arg-type]


DELETE = object()


def put(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets the value at ``path`` in a document (or deletes it: ``DELETE``)."""

    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate
