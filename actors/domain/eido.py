"""CAD-to-CAD handover documents in NENA's EIDO JSON format (NENA-STA-021).

``export_incident`` writes one EmergencyIncidentDataObjectType document for an incident
and its assigned units; ``import_incident`` reads one into what a CreateIncident needs,
with a warning for everything it could not carry. Pure: no I/O, no schema loading. The
tests (``tests/unit/test_eido.py``) validate exported documents against NENA's schema.

Where our fields go (names are the schema's; ``#x`` is a component ``$id``):

* document ``$id``: the incident tracking id ``urn:emergency:uid:incidentid:<id>:<agency>``;
  ``lastUpdateTimeStamp`` is the export time, ``updatedByAgencyReference`` our agency.
* ``agencyComponent[0]``: our agency (``$id`` = agency id, name in ``agencyJcard``) with
  ``incidentOwningAgencyIndicator: true``, the schema's ownership indicator.
* ``incidentComponent``: ``internalIncidentId`` (our id), ``beatOrDispatchGroupText``
  (region), ``incidentStatusInternalText`` (our exact status) and
  ``incidentStatusCommonRegistryText`` (Active/Closed), ``incidentPriorityInternalText``
  (akutt/haster/vanlig) and ``incidentCommonPriorityNumber`` (0..10),
  ``incidentTypeInternalCode`` (criteria code), ``incidentTypeInternalText`` (chapter, for
  people), ``lastUpdateTimeStamp`` (updated_at), ``locationReference``, ``notesReference``.
* ``callComponent[0]``: ``callStartTimestamp`` (created_at), ``priorityIdentifier``
  (urgency), ``callBackReference`` -> ``callbackComponent[0].callBackInformationUri``
  (caller number as a tel: URI), ``additionalDataReference`` -> our extension.
* ``locationComponent``: ``locationByValue`` is PIDF-LO (a gml:Point, or a gs:Circle whose
  radius is the accuracy in metres); ``locationDescriptionText`` is the address.
* ``notesComponent``: ``notesActionComments`` (HTML-escaped text), ``lastUpdateTimeStamp``
  (time), ``agentReference`` -> ``agentComponent`` whose ``agentJcard`` names the author.
* ``emergencyResourceComponent``: one per assigned unit (``$id`` = ``<unit id>@<agency>``,
  ``emergencyResourceName`` = call sign, kind, crew, status, ``unitLocationReference``);
  ``dispatchComponent[0]`` lists them.
* ``additionalDataComponent``: one JSON blob (``urlPurpose`` = ``EXTENSION_PURPOSE``) with
  what EIDO has no field for: the complaint chapter and the urgency history.

Registry-text values (incident/unit status, resource type, roles, location type) follow
the NENA samples where they show one; the NENA registries themselves were not available
when this was written, so those strings are our best reading, kept in the tables below.
"""

from __future__ import annotations

import html
import json
import math
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from actors.domain import validation
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import (
    Incident,
    IncidentStatus,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
    UrgencyChange,
)
from actors.domain.triage import CODE_RE, LEVELS

EIDO_VERSION = "1.0"
EXTENSION_PURPOSE = "amk-dispatch-incident-extension"
EXTENSION_SCHEMA = "amk.eido.incident/1"

INCIDENT_TYPE = "Medical"  # incidentTypeCommonRegistryText: every AMK incident is medical
AGENCY_TYPE = ["ems"]  # IANA urn:emergency:service:responder.ems, prefix removed
AGENCY_ROLES = ["CallReceiving", "Dispatch"]  # an AMK centre answers 113 and dispatches
AGENT_ROLES = ["Call Taking", "Dispatching"]  # AMK operators do both
LOCATION_TYPE_INCIDENT = "Incident"
LOCATION_TYPE_UNIT = "Unit"
CALL_TYPE = "emergency"  # standardPrimaryCallType, as in the NENA samples
CALL_STATE = "callAnswered"  # we do not track the call itself; an incident means answered
RESOURCE_ATTRIBUTE_OTHER = "Other"  # the schema: internal text must then say what it is
COUNTRY_CODE = "+47"  # phone-context for numbers written without a country code

STATUS_COMMON = {
    IncidentStatus.RECEIVED: "Active",
    IncidentStatus.TRIAGED: "Active",
    IncidentStatus.DISPATCHED: "Active",
    IncidentStatus.ON_SCENE: "Active",
    IncidentStatus.TRANSPORTING: "Active",
    IncidentStatus.AT_HOSPITAL: "Active",
    IncidentStatus.CLOSED: "Closed",
    IncidentStatus.CANCELLED: "Closed",
}
PRIORITY_IDENTIFIER = {Urgency.AKUTT: "highest", Urgency.HASTER: "high", Urgency.VANLIG: "normal"}
COMMON_PRIORITY = {Urgency.AKUTT: 10, Urgency.HASTER: 6, Urgency.VANLIG: 3}  # 10 = highest
UNIT_STATUS_COMMON = {
    UnitStatus.AVAILABLE_AT_STATION: "Available",
    UnitStatus.AVAILABLE_MOBILE: "Available",
    UnitStatus.ASSIGNED: "Dispatched",
    UnitStatus.EN_ROUTE: "Enroute",
    UnitStatus.ON_SCENE: "OnScene",
    UnitStatus.TRANSPORTING: "Transporting",
    UnitStatus.AT_HOSPITAL: "AtHospital",
    UnitStatus.OUT_OF_SERVICE: "OutOfService",
}
RESOURCE_TYPE_COMMON = {
    UnitKind.ROAD_AMBULANCE: "Ambulance",
    UnitKind.RAPID_RESPONSE_CAR: "RapidResponseVehicle",
    UnitKind.BOAT_AMBULANCE: "Boat",
    UnitKind.HELICOPTER: "Helicopter",
    UnitKind.FIXED_WING: "FixedWingAircraft",
}

NS_PIDF = "urn:ietf:params:xml:ns:pidf"
NS_GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
NS_GML = "http://www.opengis.net/gml"
NS_GS = "http://www.opengis.net/pidflo/1.0"
SRS_2D = "urn:ogc:def:crs:EPSG::4326"
SRS_3D = "urn:ogc:def:crs:EPSG::4979"
UOM_METRE = "urn:ogc:def:uom:EPSG::9001"
MAX_PIDF_CHARS = 65_536

# Components import does not carry: (document key, what it is).
NOT_CARRIED = (
    ("mergeComponent", "merge records"),
    ("linkComponent", "linked incidents"),
    ("personComponent", "persons"),
    ("vehicleComponent", "vehicles"),
    ("cautionComponent", "cautions"),
    ("mediaComponent", "media links"),
    ("alarmsSensorsComponent", "alarm/sensor data"),
    ("sharedCommunicationResourceComponent", "shared communication resources"),
    ("externalInformationSourceComponent", "external information sources"),
)


@dataclass(frozen=True, slots=True)
class ImportedIncident:
    """What an EIDO document gives a CreateIncident (plus what it says about itself).

    ``notes`` are ``(text, author, at)`` in time order; ``status``/``urgency`` are ``None``
    when the document has none we understand; times are epoch seconds.
    """

    source_id: str  # the document's $id: the foreign incident tracking id
    region: str
    position: Position
    address: str = ""
    caller_number: str = ""
    complaint_chapter: int = 0
    criteria_code: str = ""
    notes: tuple[tuple[str, str, float], ...] = ()
    status: IncidentStatus | None = None
    urgency: Urgency | None = None
    urgency_history: tuple[UrgencyChange, ...] = ()
    created_at: float | None = None
    updated_at: float | None = None
    source_local_id: str = ""  # incidentComponent.internalIncidentId
    owning_agency: str = ""  # $id of the agency with incidentOwningAgencyIndicator
    owning_agency_name: str = ""


# ----------------------------------------------------------------------------- export


def incident_tracking_id(incident_id: str, agency_id: str) -> str:
    """The NENA incident tracking URN for one of our incidents."""
    return f"urn:emergency:uid:incidentid:{incident_id}:{agency_id}"


def export_incident(
    inc: Incident, units: list[Unit], *, agency_id: str, agency_name: str, now: float
) -> dict[str, Any]:
    """One EmergencyIncidentDataObjectType document for ``inc`` and its assigned units.

    ``units`` must be exactly the records of ``inc.assigned_unit_ids``; they are written
    in that order. ``agency_id`` is the owning (sending) agency.
    """
    if not agency_id:
        raise InvalidArgumentError("agency_id", "is required")
    by_id = {u.id: u for u in units}
    missing = [uid for uid in inc.assigned_unit_ids if uid not in by_id]
    if missing:
        raise InvalidArgumentError("units", f"no record for assigned unit(s) {missing}")
    stray = [u.id for u in units if u.id not in inc.assigned_unit_ids]
    if stray:
        raise InvalidArgumentError("units", f"unit(s) {stray} are not assigned to {inc.id}")
    assigned = [by_id[uid] for uid in inc.assigned_unit_ids]

    doc_id = incident_tracking_id(inc.id, agency_id)

    def cid(role: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc_id}#{role}"))

    def prologue(component_id: str, at: float, agent_id: str = "") -> dict[str, Any]:
        p: dict[str, Any] = {
            "$id": component_id,
            "lastUpdateTimeStamp": _iso(at),
            "updatedByAgencyReference": _ref(agency_id),
        }
        if agent_id:
            p["updatedByAgentReference"] = _ref(agent_id)
        return p

    agency: dict[str, Any] = prologue(agency_id, now)
    if agency_name:
        agency["agencyJcard"] = _jcard(agency_name, kind="org")
    agency["agencyRoleDescriptionRegistryText"] = list(AGENCY_ROLES)
    agency["agencyType"] = list(AGENCY_TYPE)
    agency["incidentOwningAgencyIndicator"] = True

    agents: dict[str, dict[str, Any]] = {}
    for note in inc.notes:
        if note.author and note.author not in agents:
            agent_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{agency_id}/agent/{note.author}"))
            agents[note.author] = {
                **prologue(agent_id, note.at),
                "agentJcard": _jcard(note.author, kind="individual"),
                "agentRoleRegistryText": list(AGENT_ROLES),
                "agencyReference": _ref(agency_id),
            }

    location_id = cid("location/incident")
    location = {
        **prologue(location_id, inc.updated_at),
        "locationTypeDescriptionRegistryText": LOCATION_TYPE_INCIDENT,
        "locationByValue": _pidf(inc.position, f"pres:{inc.id}@{agency_id}", inc.updated_at),
    }
    if inc.address:
        location["locationDescriptionText"] = inc.address

    notes = []
    for i, note in enumerate(inc.notes):
        agent = agents[note.author]["$id"] if note.author else ""
        n = {**prologue(cid(f"note/{i}"), note.at, agent)}
        n["notesActionComments"] = html.escape(note.text, quote=False)
        if agent:
            n["agentReference"] = _ref(agent)
        notes.append(n)

    incident: dict[str, Any] = prologue(cid("incident"), inc.updated_at)
    if inc.criteria_code:
        incident["incidentTypeInternalCode"] = inc.criteria_code
    if inc.complaint_chapter:
        incident["incidentTypeInternalText"] = f"Norsk indeks kapittel {inc.complaint_chapter}"
    incident["incidentTypeCommonRegistryText"] = INCIDENT_TYPE
    incident["incidentStatusInternalText"] = [inc.status.value]
    incident["incidentStatusCommonRegistryText"] = [STATUS_COMMON[inc.status]]
    incident["internalIncidentId"] = inc.id
    incident["locationReference"] = [_ref(location_id)]
    if inc.urgency is not None:
        incident["incidentPriorityInternalText"] = inc.urgency.value
        incident["incidentCommonPriorityNumber"] = COMMON_PRIORITY[inc.urgency]
    incident["beatOrDispatchGroupText"] = inc.region
    if notes:
        incident["notesReference"] = [_ref(n["$id"]) for n in notes]

    extension = None
    if inc.complaint_chapter or inc.urgency_history:
        value = {
            "schema": EXTENSION_SCHEMA,
            "complaintChapter": inc.complaint_chapter,
            "urgencyHistory": [
                {"urgency": u.urgency.value, "criteriaCode": u.criteria_code, "at": _iso(u.at)}
                for u in inc.urgency_history
            ],
        }
        extension = {
            **prologue(cid("additional-data/amk"), inc.updated_at),
            "additionalDataByValue": json.dumps(value, ensure_ascii=False, sort_keys=True),
            "urlPurpose": EXTENSION_PURPOSE,
        }

    callback = None
    if inc.caller_number:
        callback = {
            **prologue(cid("callback/caller"), inc.created_at),
            "callBackInformationUri": [_tel_uri(inc.caller_number)],
        }

    call: dict[str, Any] = prologue(cid("call"), inc.created_at)
    call["standardPrimaryCallType"] = CALL_TYPE
    call["direction"] = "incoming"
    if inc.urgency is not None:
        call["priorityIdentifier"] = PRIORITY_IDENTIFIER[inc.urgency]
    if extension is not None:
        call["additionalDataReference"] = [_ref(extension["$id"])]
    call["callStartTimestamp"] = _iso(inc.created_at)
    call["callStateRegistryText"] = CALL_STATE
    if callback is not None:
        call["callBackReference"] = _ref(callback["$id"])
    call["locationReference"] = [_ref(location_id)]

    locations = [location]
    resources = []
    for unit in assigned:
        unit_location_id = cid(f"location/unit/{unit.id}")
        locations.append(
            {
                **prologue(unit_location_id, unit.updated_at),
                "locationTypeDescriptionRegistryText": LOCATION_TYPE_UNIT,
                "locationByValue": _pidf(
                    unit.position, f"pres:{unit.id}@{agency_id}", unit.updated_at
                ),
            }
        )
        resources.append(
            {
                **prologue(f"{unit.id}@{agency_id}", unit.updated_at),
                "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPE_COMMON[unit.kind],
                "emergencyResourceTypeInternalText": unit.kind.value,
                "resourceAttributeRegistryText": [RESOURCE_ATTRIBUTE_OTHER],
                "resourceAttributeInternalText": [f"crew:{unit.crew.value}"],
                "emergencyResourceName": unit.call_sign,
                "primaryUnitStatusRegistryText": UNIT_STATUS_COMMON[unit.status],
                "secondaryUnitStatusRegistryText": [],
                "unitStatusInternal": [unit.status.value],
                "agentReference": [],  # crews are not named in our model
                "unitLocationReference": _ref(unit_location_id),
            }
        )

    doc: dict[str, Any] = {
        "$id": doc_id,
        "lastUpdateTimeStamp": _iso(now),
        "updatedByAgencyReference": _ref(agency_id),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": f"amk-dispatch.{agency_id}",
        "incidentComponent": incident,
        "callComponent": [call],
    }
    if callback is not None:
        doc["callbackComponent"] = [callback]
    if resources:
        doc["dispatchComponent"] = [
            {
                **prologue(cid("dispatch"), inc.updated_at),
                "agencyReference": _ref(agency_id),
                "emergencyResourceReference": [_ref(r["$id"]) for r in resources],
            }
        ]
    if notes:
        doc["notesComponent"] = notes
    if resources:
        doc["emergencyResourceComponent"] = resources
    doc["agencyComponent"] = [agency]
    if agents:
        doc["agentComponent"] = list(agents.values())
    if extension is not None:
        doc["additionalDataComponent"] = [extension]
    doc["locationComponent"] = locations
    return doc


def _ref(component_id: str) -> dict[str, str]:
    return {"$ref": component_id}


def _iso(t: float) -> str:
    """ISO 8601 / RFC 3339 in UTC with a ``Z``, to the microsecond."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _jcard(name: str, *, kind: str) -> str:
    """A minimal jCard (RFC 7095) carrying a formatted name."""
    card = [
        "vcard",
        [["version", {}, "text", "4.0"], ["kind", {}, "text", kind], ["fn", {}, "text", name]],
    ]
    return json.dumps(card, ensure_ascii=False)


def _tel_uri(number: str) -> str:
    """RFC 3966: spaces become the ``-`` visual separator; a local number gets Norway's
    phone-context (a tel: URI must say where a local number is dialled)."""
    digits = number.replace(" ", "-")
    if digits.startswith("+"):
        return f"tel:{digits}"
    return f"tel:{digits};phone-context={COUNTRY_CODE}"


def _pidf(pos: Position, entity: str, at: float) -> str:
    """A PIDF-LO document (RFC 4119/5491): a point, or a circle of the accuracy radius."""
    where = f"{pos.lat!r} {pos.lon!r}"
    if pos.accuracy_m > 0:
        shape = (
            f'<gs:Circle srsName="{SRS_2D}"><gml:pos>{where}</gml:pos>'
            f'<gs:radius uom="{UOM_METRE}">{pos.accuracy_m!r}</gs:radius></gs:Circle>'
        )
    else:
        shape = f'<gml:Point srsName="{SRS_2D}"><gml:pos>{where}</gml:pos></gml:Point>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<presence xmlns="{NS_PIDF}" xmlns:gp="{NS_GP}" xmlns:gml="{NS_GML}" '
        f'xmlns:gs="{NS_GS}" entity="{html.escape(entity, quote=True)}">'
        f'<tuple id="location"><status><gp:geopriv><gp:location-info>{shape}'
        "</gp:location-info><gp:usage-rules/></gp:geopriv></status>"
        f"<timestamp>{_iso(at)}</timestamp></tuple></presence>"
    )


# ----------------------------------------------------------------------------- import


def import_incident(doc: dict[str, Any], *, region: str) -> tuple[ImportedIncident, list[str]]:
    """Read an EIDO document into an :class:`ImportedIncident` for ``region``.

    Raises :class:`InvalidArgumentError` (field ``eido.<path>``) when the document is not
    usable: not an object, no incident position, bad coordinates, malformed components.
    Returns warnings for what it holds that we do not carry (units, persons, extra
    locations, foreign codes...).
    """
    if not isinstance(doc, dict):
        raise InvalidArgumentError(
            "eido", "must be a JSON object (EmergencyIncidentDataObjectType)"
        )
    warnings: list[str] = []
    version = doc.get("eidoVersion")
    if version != EIDO_VERSION:
        warnings.append(f"eido.eidoVersion: {version!r} is not {EIDO_VERSION!r}; read as 1.0")

    incident, inc_path = _incident_component(doc, warnings)
    source_local_id = _opt_str(incident, "internalIncidentId", inc_path)
    source_id = _opt_str(doc, "$id", "eido") or source_local_id
    if not source_id:
        raise InvalidArgumentError("eido.$id", "is required (the incident tracking id)")

    index = _components(doc)
    extension = _extension(doc, warnings)

    position, address = _incident_location(doc, incident, inc_path, index, warnings)
    caller_number = _caller_number(doc, index, warnings)
    criteria_code, complaint_chapter, urgency = _triage_fields(
        incident, inc_path, extension, warnings
    )
    status = _status(incident, inc_path, warnings)
    notes = _notes(doc, index, warnings)
    history = _urgency_history(extension, warnings)
    owning_agency, owning_agency_name = _owner(doc, warnings)

    updated_at = _opt_time(incident, "lastUpdateTimeStamp", inc_path, warnings)
    created_at = None
    calls = _list(doc, "callComponent", "eido.callComponent")
    if calls:
        created_at = _opt_time(calls[0], "callStartTimestamp", "eido.callComponent[0]", warnings)
        if len(calls) > 1:
            warnings.append(f"eido.callComponent: {len(calls) - 1} further call(s) not carried")

    group = incident.get("beatOrDispatchGroupText")
    if isinstance(group, str) and group and group != region:
        warnings.append(f"{inc_path}.beatOrDispatchGroupText: {group!r} replaced by {region!r}")
    _warn_not_carried(doc, incident, inc_path, warnings)

    imported = ImportedIncident(
        source_id=source_id,
        region=region,
        position=position,
        address=address,
        caller_number=caller_number,
        complaint_chapter=complaint_chapter,
        criteria_code=criteria_code,
        notes=tuple(notes),
        status=status,
        urgency=urgency,
        urgency_history=tuple(history),
        created_at=created_at,
        updated_at=updated_at,
        source_local_id=source_local_id,
        owning_agency=owning_agency,
        owning_agency_name=owning_agency_name,
    )
    return imported, warnings


# The schema makes incidentComponent one object; older drafts and NENA's 2020 sample use
# a list of one. Both are read; the path in errors follows what the document has.
def _incident_component(doc: dict[str, Any], warnings: list[str]) -> tuple[dict[str, Any], str]:
    value = doc.get("incidentComponent")
    if value is None:
        raise InvalidArgumentError("eido.incidentComponent", "is required")
    if isinstance(value, list):
        if not value:
            raise InvalidArgumentError("eido.incidentComponent", "is empty")
        if len(value) > 1:
            warnings.append(f"eido.incidentComponent: {len(value) - 1} further incident(s) ignored")
        value, path = value[0], "eido.incidentComponent[0]"
    else:
        path = "eido.incidentComponent"
    if not isinstance(value, dict):
        raise InvalidArgumentError(path, "must be an object (IncidentInformationType)")
    return value, path


def _list(obj: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgumentError(path, "must be an array")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidArgumentError(f"{path}[{i}]", "must be an object")
    return value


def _opt_str(obj: dict[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{path}.{key}", "must be a string")
    return value


def _ref_id(value: Any, path: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("$ref"), str):
        raise InvalidArgumentError(path, 'must be a reference object {"$ref": "<component $id>"}')
    return value["$ref"]


def _ref_list(obj: dict[str, Any], key: str, path: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{path}.{key}", "must be an array of references")
    return [_ref_id(v, f"{path}.{key}[{i}]") for i, v in enumerate(value)]


def _components(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every component in the document's top-level arrays by $id, with its path."""
    index: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, value in doc.items():
        if key.endswith("Component") and isinstance(value, list):
            for i, item in enumerate(_list(doc, key, f"eido.{key}")):
                cid = item.get("$id")
                if isinstance(cid, str) and cid not in index:
                    index[cid] = (f"eido.{key}[{i}]", item)
    return index


def _parse_time(value: Any, path: str, warnings: list[str]) -> float:
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(path, "must be an ISO 8601 date-time string")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(path, f"{value[:40]!r} is not an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        warnings.append(f"{path}: {value!r} has no time zone; read as UTC")
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _opt_time(obj: dict[str, Any], key: str, path: str, warnings: list[str]) -> float | None:
    if obj.get(key) is None:
        return None
    return _parse_time(obj[key], f"{path}.{key}", warnings)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)


def _clean(text: str, path: str, warnings: list[str]) -> str:
    """Foreign text made safe for our consoles: newlines normalised, controls replaced."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROL.sub(" ", text)
    if cleaned != text:
        warnings.append(f"{path}: control characters replaced by spaces")
    return cleaned


def _incident_location(
    doc: dict[str, Any],
    incident: dict[str, Any],
    inc_path: str,
    index: dict[str, tuple[str, dict[str, Any]]],
    warnings: list[str],
) -> tuple[Position, str]:
    locations = _list(doc, "locationComponent", "eido.locationComponent")
    refs = _ref_list(incident, "locationReference", inc_path)
    if refs:
        found = index.get(refs[0])
        if found is None or not found[0].startswith("eido.locationComponent["):
            raise InvalidArgumentError(
                f"{inc_path}.locationReference[0]", f"no locationComponent has $id {refs[0]!r}"
            )
        path, location = found
        if len(refs) > 1:
            warnings.append(
                f"{inc_path}.locationReference: {len(refs) - 1} further location(s) not carried"
            )
    else:
        if not locations:
            raise InvalidArgumentError(
                "eido.locationComponent", "is required: the incident needs a position"
            )
        unit_locations = set()
        for r in _list(doc, "emergencyResourceComponent", "eido.emergencyResourceComponent"):
            for key in ("unitLocationReference", "unitDestinationReference"):
                if isinstance(r.get(key), dict):
                    unit_locations.add(r[key].get("$ref"))
        candidates = [i for i, loc in enumerate(locations) if loc.get("$id") not in unit_locations]
        if not candidates:
            raise InvalidArgumentError(
                f"{inc_path}.locationReference", "is required: every location belongs to a unit"
            )
        path, location = f"eido.locationComponent[{candidates[0]}]", locations[candidates[0]]
        warnings.append(
            f"{inc_path}.locationReference missing; used {path} as the incident location"
        )

    pidf = location.get("locationByValue")
    if pidf is None:
        problem = "is required: we do not dereference location URLs"
        if location.get("locationByReferenceUrl") is None:
            problem = "is required (PIDF-LO with the incident position)"
        raise InvalidArgumentError(f"{path}.locationByValue", problem)
    position = _parse_pidf(pidf, f"{path}.locationByValue", warnings)
    address = _clean(_opt_str(location, "locationDescriptionText", path), path, warnings)
    validation.text(address, f"{path}.locationDescriptionText", limit=validation.MAX_ADDRESS)
    for key in ("crossStreetByValue", "intersectingStreetByValue", "cellTowerSectorId"):
        if location.get(key):
            warnings.append(f"{path}.{key}: not carried")
    return position, address


def _parse_pidf(text: Any, path: str, warnings: list[str]) -> Position:
    """The first geodetic shape in a PIDF-LO document, as a position with accuracy."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(path, "must be a PIDF-LO XML string")
    if len(text) > MAX_PIDF_CHARS:
        raise InvalidArgumentError(path, f"longer than {MAX_PIDF_CHARS} characters")
    if "<!doctype" in text.lower() or "<!entity" in text.lower():
        raise InvalidArgumentError(path, "must not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as e:
        raise InvalidArgumentError(path, f"is not well-formed XML ({e})") from None

    shapes = [
        child
        for info in root.iter(f"{{{NS_GP}}}location-info")
        for child in info
        if child.find(f".//{{{NS_GML}}}pos") is not None
    ]
    if not shapes:
        civic = any(el.tag.endswith("}civicAddress") for el in root.iter())
        what = "only a civic address" if civic else "no gml:pos"
        raise InvalidArgumentError(path, f"has {what}; a geodetic position is required")
    if len(shapes) > 1:
        warnings.append(f"{path}: {len(shapes) - 1} further shape(s) not carried")
    shape = shapes[0]
    name = shape.tag.rsplit("}", 1)[-1]

    srs = shape.get("srsName")
    if srs is None:
        warnings.append(f"{path}: no srsName; read as {SRS_2D}")
    elif srs not in (SRS_2D, SRS_3D):
        raise InvalidArgumentError(path, f"srsName {srs!r} is not WGS 84 (EPSG 4326/4979)")
    pos = shape.find(f".//{{{NS_GML}}}pos")
    parts = ("" if pos is None else pos.text or "").split()
    if len(parts) not in (2, 3):
        raise InvalidArgumentError(f"{path}.pos", f"{' '.join(parts)!r} is not 'lat lon [alt]'")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidArgumentError(f"{path}.pos", f"{' '.join(parts)!r} is not numeric") from None
    if len(parts) == 3:
        warnings.append(f"{path}: altitude not carried")

    accuracy = 0.0
    radius_tag = {"Circle": "radius", "Sphere": "radius"}.get(name)
    axis_tag = {"Ellipse": "semiMajorAxis", "Ellipsoid": "semiMajorAxis"}.get(name)
    tag = radius_tag or axis_tag
    if tag is not None:
        el = shape.find(f"{{{NS_GS}}}{tag}")
        if el is None:
            raise InvalidArgumentError(f"{path}.{tag}", f"is required in a {name}")
        uom = el.get("uom")
        try:
            accuracy = float(el.text or "")
        except ValueError:
            raise InvalidArgumentError(f"{path}.{tag}", f"{el.text!r} is not numeric") from None
        if uom not in (None, UOM_METRE):
            warnings.append(f"{path}.{tag}: unit {uom!r} is not metres; accuracy not carried")
            accuracy = 0.0
        elif axis_tag:
            warnings.append(f"{path}: {name} read as a circle of its semi-major axis")
    elif name != "Point":
        warnings.append(f"{path}: {name} read as its centre point; uncertainty not carried")
    if not math.isfinite(accuracy) or accuracy < 0:
        raise InvalidArgumentError(f"{path}.accuracy_m", f"{accuracy} is not a distance")
    return validation.position(lat, lon, accuracy, field=path)


def _caller_number(
    doc: dict[str, Any], index: dict[str, tuple[str, dict[str, Any]]], warnings: list[str]
) -> str:
    callbacks = _list(doc, "callbackComponent", "eido.callbackComponent")
    calls = _list(doc, "callComponent", "eido.callComponent")
    chosen: tuple[str, dict[str, Any]] | None = None
    if calls and calls[0].get("callBackReference") is not None:
        ref = _ref_id(calls[0]["callBackReference"], "eido.callComponent[0].callBackReference")
        chosen = index.get(ref)
        if chosen is None or not chosen[0].startswith("eido.callbackComponent["):
            raise InvalidArgumentError(
                "eido.callComponent[0].callBackReference", f"no callbackComponent has $id {ref!r}"
            )
    elif callbacks:
        chosen = ("eido.callbackComponent[0]", callbacks[0])
    if chosen is None:
        return ""
    path, callback = chosen
    uris = callback.get("callBackInformationUri") or []
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise InvalidArgumentError(f"{path}.callBackInformationUri", "must be an array of strings")
    number = ""
    for uri in uris:
        candidate = _number_from_uri(uri)
        if candidate and not number:
            number = candidate
        elif candidate != number or not candidate:
            warnings.append(f"{path}.callBackInformationUri: {uri!r} not carried")
    if callback.get("updatedCbn") is not None:
        warnings.append(f"{path}.updatedCbn: not carried")
    if len(callbacks) > 1:
        warnings.append(
            f"eido.callbackComponent: {len(callbacks) - 1} further callback(s) not carried"
        )
    return number


def _number_from_uri(uri: str) -> str:
    """A tel: URI, or a sip: URI whose user part is a number, as our phone number."""
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme in ("sip", "sips"):
        rest = rest.split("@", 1)[0] if "@" in rest else ""
    elif scheme != "tel":
        return ""
    # '-' is where our spaces were (see _tel_uri); '.' and parentheses are dropped.
    number = rest.split(";", 1)[0].replace("-", " ").translate(str.maketrans("", "", ".()"))
    return number if validation.PHONE_RE.match(number) else ""


def _triage_fields(
    incident: dict[str, Any], inc_path: str, extension: dict[str, Any] | None, warnings: list[str]
) -> tuple[str, int, Urgency | None]:
    code = _opt_str(incident, "incidentTypeInternalCode", inc_path)
    match = CODE_RE.match(code)
    if code and not match:
        text = incident.get("incidentTypeInternalText")
        label = f" ({text})" if isinstance(text, str) and text else ""
        warnings.append(
            f"{inc_path}.incidentTypeInternalCode: {code!r}{label} is not a Norsk indeks "
            "criteria code; not carried (triage locally)"
        )
        code = ""
    elif not code and extension is None and incident.get("incidentTypeInternalText"):
        text = incident["incidentTypeInternalText"]
        warnings.append(f"{inc_path}.incidentTypeInternalText: {text!r} not carried")
    chapter = 0
    ext_chapter = (extension or {}).get("complaintChapter", 0)
    if (
        isinstance(ext_chapter, int)
        and not isinstance(ext_chapter, bool)
        and 0 <= ext_chapter < 100
    ):
        chapter = ext_chapter
    else:
        warnings.append(f"extension complaintChapter {ext_chapter!r} not carried")
    if match:
        code_chapter = int(match.group(2))
        if chapter and chapter != code_chapter:
            warnings.append(
                f"complaint chapter {chapter} disagrees with {code}; chapter {code_chapter} used"
            )
        chapter = code_chapter

    urgency: Urgency | None = None
    priority = incident.get("incidentPriorityInternalText")
    if isinstance(priority, str) and priority in Urgency._value2member_map_:
        urgency = Urgency(priority)
    if match:
        level = LEVELS[match.group(1)]
        if urgency is not None and urgency is not level:
            warnings.append(
                f"{inc_path}.incidentPriorityInternalText: {priority!r} disagrees with {code}; "
                f"{level.value} used"
            )
        urgency = level
    if urgency is None:
        others = [
            f"{k}={incident[k]!r}"
            for k in ("incidentPriorityInternalText", "incidentCommonPriorityNumber")
            if incident.get(k) is not None
        ]
        if others:
            warnings.append(f"{inc_path}: priority {', '.join(others)} not mapped to an urgency")
    return code, chapter, urgency


def _status(incident: dict[str, Any], inc_path: str, warnings: list[str]) -> IncidentStatus | None:
    internal = incident.get("incidentStatusInternalText") or []
    common = incident.get("incidentStatusCommonRegistryText") or []
    for key, value in (
        ("incidentStatusInternalText", internal),
        ("incidentStatusCommonRegistryText", common),
    ):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidArgumentError(f"{inc_path}.{key}", "must be an array of strings")
    ours = [IncidentStatus(v) for v in internal if v in IncidentStatus._value2member_map_]
    if ours:
        return ours[0]
    if internal or common:
        warnings.append(
            f"{inc_path}: status {internal + common} not mapped to our lifecycle; not carried"
        )
    return None


def _notes(
    doc: dict[str, Any], index: dict[str, tuple[str, dict[str, Any]]], warnings: list[str]
) -> list[tuple[str, str, float]]:
    notes: list[tuple[str, str, float]] = []
    for i, note in enumerate(_list(doc, "notesComponent", "eido.notesComponent")):
        path = f"eido.notesComponent[{i}]"
        raw = note.get("notesActionComments")
        if not isinstance(raw, str):
            raise InvalidArgumentError(f"{path}.notesActionComments", "is required (a string)")
        at = _parse_time(note.get("lastUpdateTimeStamp"), f"{path}.lastUpdateTimeStamp", warnings)
        text = raw
        if _TAG.search(text):  # we escape '<' on export, so a raw '<' is markup
            text = _TAG.sub("", _BREAK.sub("\n", text)).strip()
            warnings.append(f"{path}.notesActionComments: HTML markup removed")
        text = _clean(html.unescape(text), path, warnings)
        author = _author(note, path, index)
        chunks = [
            text[k : k + validation.MAX_NOTE] for k in range(0, len(text), validation.MAX_NOTE)
        ] or [""]
        if len(chunks) > 1:
            warnings.append(
                f"{path}: longer than {validation.MAX_NOTE} characters; split in {len(chunks)}"
            )
        notes.extend((chunk, author, at) for chunk in chunks)
    notes.sort(key=lambda n: n[2])
    return notes


def _author(note: dict[str, Any], path: str, index: dict[str, tuple[str, dict[str, Any]]]) -> str:
    """The note's agent, by the name in its jCard, else by its $id."""
    for key in ("agentReference", "updatedByAgentReference"):
        if note.get(key) is None:
            continue
        agent_id = _ref_id(note[key], f"{path}.{key}")
        found = index.get(agent_id)
        if found is not None:
            name = _jcard_name(found[1].get("agentJcard"))
            if name:
                return name
        return agent_id
    return ""


def _jcard_name(card: Any) -> str:
    """The ``fn`` of a jCard string (RFC 7095); "" when absent or not a jCard."""
    if not isinstance(card, str):
        return ""
    try:
        parsed = json.loads(card)
    except ValueError:
        return ""
    if not (isinstance(parsed, list) and len(parsed) == 2 and isinstance(parsed[1], list)):
        return ""
    for prop in parsed[1]:
        if (
            isinstance(prop, list)
            and len(prop) >= 4
            and prop[0] == "fn"
            and isinstance(prop[3], str)
        ):
            return prop[3]
    return ""


def _extension(doc: dict[str, Any], warnings: list[str]) -> dict[str, Any] | None:
    """Our own additional-data blob, if the document came from an AMK centre."""
    found = None
    for i, data in enumerate(_list(doc, "additionalDataComponent", "eido.additionalDataComponent")):
        path = f"eido.additionalDataComponent[{i}]"
        if data.get("urlPurpose") != EXTENSION_PURPOSE:
            warnings.append(f"{path}: additional data not carried")
            continue
        try:
            value = json.loads(data.get("additionalDataByValue") or "")
        except (TypeError, ValueError):
            value = None
        if not isinstance(value, dict) or value.get("schema") != EXTENSION_SCHEMA:
            warnings.append(f"{path}: unreadable {EXTENSION_PURPOSE} data not carried")
            continue
        found = value
    return found


def _urgency_history(extension: dict[str, Any] | None, warnings: list[str]) -> list[UrgencyChange]:
    if extension is None:
        return []
    entries = extension.get("urgencyHistory", [])
    if not isinstance(entries, list):
        warnings.append("extension urgencyHistory is not a list; not carried")
        return []
    history = []
    for i, entry in enumerate(entries):
        try:
            code = entry["criteriaCode"]
            if not isinstance(code, str) or not CODE_RE.match(code):
                raise ValueError(code)
            at = _parse_time(entry["at"], f"urgencyHistory[{i}].at", warnings)
            history.append(UrgencyChange(Urgency(entry["urgency"]), code, at))
        except (KeyError, TypeError, ValueError, InvalidArgumentError):
            warnings.append(f"extension urgencyHistory[{i}]: unreadable; not carried")
    history.sort(key=lambda u: u.at)
    return history


def _owner(doc: dict[str, Any], warnings: list[str]) -> tuple[str, str]:
    agencies = _list(doc, "agencyComponent", "eido.agencyComponent")
    owners = [a for a in agencies if a.get("incidentOwningAgencyIndicator") is True]
    if not owners:
        warnings.append("eido.agencyComponent: no agency has incidentOwningAgencyIndicator")
        return "", ""
    if len(owners) > 1:
        ids = [a.get("$id") for a in owners]
        warnings.append(f"eido.agencyComponent: several owning agencies {ids}; first taken")
    owner_id = owners[0].get("$id")
    return (owner_id if isinstance(owner_id, str) else ""), _jcard_name(
        owners[0].get("agencyJcard")
    )


def _warn_not_carried(
    doc: dict[str, Any],
    incident: dict[str, Any],
    inc_path: str,
    warnings: list[str],
) -> None:
    for key, what in NOT_CARRIED:
        items = doc.get(key)
        if isinstance(items, list) and items:
            warnings.append(f"eido.{key}: {len(items)} {what} not carried")
    resources = _list(doc, "emergencyResourceComponent", "eido.emergencyResourceComponent")
    if resources:
        names = [r.get("emergencyResourceName") or r.get("$id") for r in resources]
        warnings.append(
            f"eido.emergencyResourceComponent: {len(resources)} unit(s) {names} not carried "
            "(units are assigned locally)"
        )
    if doc.get("dispatchComponent"):
        warnings.append("eido.dispatchComponent: dispatch records not carried")
    if incident.get("dispositionComponent"):
        warnings.append(f"{inc_path}.dispositionComponent: dispositions not carried")
