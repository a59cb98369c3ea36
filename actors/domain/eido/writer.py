"""Export: one of our incidents as a NENA EIDO JSON document (NENA-STA-021).

``export_incident`` writes one EmergencyIncidentDataObjectType document for an incident
and its assigned units, for a CAD-to-CAD handover. Pure: no I/O, no schema loading; the
tests (``tests/unit/test_eido*.py``) validate its documents against NENA's schema.
Component ``$id``s are UUIDv5 of the document id and the component's role, so exporting
the same incident twice gives the same document.

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
  (time), ``agentReference`` -> ``agentComponent`` whose ``agentJcard`` names the author;
  and telephone-guided CPR, when recorded, as one more note (EIDO has no field for it:
  the receiving centre reads that the caller was being guided, and since when).
* ``emergencyResourceComponent``: one per assigned unit (``$id`` = ``<unit id>@<agency>``,
  ``emergencyResourceName`` = call sign, kind, crew, status, ``unitLocationReference``);
  ``dispatchComponent[0]`` lists them.
* ``additionalDataComponent``: one JSON blob (``urlPurpose`` = ``EXTENSION_PURPOSE``) with
  what EIDO has no field for: the complaint chapter and the urgency history.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

from actors.domain import cpr_guidance
from actors.domain.eido.extension import EXTENSION_PURPOSE, write_extension
from actors.domain.eido.formats import iso_time, jcard, tel_uri
from actors.domain.eido.pidf import pidf_location
from actors.domain.eido.vocabulary import (
    AGENCY_ROLES,
    AGENCY_TYPE,
    AGENT_ROLES,
    CALL_STATE,
    CALL_TYPE,
    COMMON_PRIORITY,
    EIDO_VERSION,
    INCIDENT_TYPE,
    LOCATION_TYPE_INCIDENT,
    LOCATION_TYPE_UNIT,
    PRIORITY_IDENTIFIER,
    RESOURCE_ATTRIBUTE_OTHER,
    RESOURCE_TYPE_COMMON,
    STATUS_COMMON,
    UNIT_STATUS_COMMON,
)
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, Unit


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
            "lastUpdateTimeStamp": iso_time(at),
            "updatedByAgencyReference": _ref(agency_id),
        }
        if agent_id:
            p["updatedByAgentReference"] = _ref(agent_id)
        return p

    agency: dict[str, Any] = prologue(agency_id, now)
    if agency_name:
        agency["agencyJcard"] = jcard(agency_name, kind="org")
    agency["agencyRoleDescriptionRegistryText"] = list(AGENCY_ROLES)
    agency["agencyType"] = list(AGENCY_TYPE)
    agency["incidentOwningAgencyIndicator"] = True

    agents: dict[str, dict[str, Any]] = {}
    for note in inc.notes:
        if note.author and note.author not in agents:
            agent_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{agency_id}/agent/{note.author}"))
            agents[note.author] = {
                **prologue(agent_id, note.at),
                "agentJcard": jcard(note.author, kind="individual"),
                "agentRoleRegistryText": list(AGENT_ROLES),
                "agencyReference": _ref(agency_id),
            }

    location_id = cid("location/incident")
    location = {
        **prologue(location_id, inc.updated_at),
        "locationTypeDescriptionRegistryText": LOCATION_TYPE_INCIDENT,
        "locationByValue": pidf_location(
            inc.position, f"pres:{inc.id}@{agency_id}", inc.updated_at
        ),
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
    if cpr_guidance.shared(inc.cpr):  # EIDO has no field: a note for people
        g = inc.cpr
        assert g is not None
        n = prologue(
            cid("note/cpr"), max(g.started_at, g.compressions_at, g.not_given_at, g.ended_at)
        )
        n["notesActionComments"] = html.escape(cpr_guidance.note_text(g, iso_time))
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
    data = write_extension(inc)
    if data is not None:
        extension = {
            **prologue(cid("additional-data/amk"), inc.updated_at),
            "additionalDataByValue": data,
            "urlPurpose": EXTENSION_PURPOSE,
        }

    callback = None
    if inc.caller_number:
        callback = {
            **prologue(cid("callback/caller"), inc.created_at),
            "callBackInformationUri": [tel_uri(inc.caller_number)],
        }

    call: dict[str, Any] = prologue(cid("call"), inc.created_at)
    call["standardPrimaryCallType"] = CALL_TYPE
    call["direction"] = "incoming"
    if inc.urgency is not None:
        call["priorityIdentifier"] = PRIORITY_IDENTIFIER[inc.urgency]
    if extension is not None:
        call["additionalDataReference"] = [_ref(extension["$id"])]
    call["callStartTimestamp"] = iso_time(inc.created_at)
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
                "locationByValue": pidf_location(
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
        "lastUpdateTimeStamp": iso_time(now),
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
