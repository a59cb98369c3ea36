"""Import: a NENA EIDO JSON document from another CAD, read into what CreateIncident needs.

``import_incident`` is lenient where it can be and strict where it must be: a document
without a usable incident position, or with malformed components, is refused with
:class:`InvalidArgumentError` naming the field (``eido.<path>``); everything else it holds
that we do not carry (units, persons, foreign codes, extra locations...) comes back as a
warning, so the receiving operator sees what the handover lost. Foreign text is cleaned
before it reaches our consoles. Pure: no I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from actors.domain import incident_lifecycle, validation
from actors.domain.eido.extension import read_extension, read_urgency_history
from actors.domain.eido.fields import (
    component_index,
    object_list,
    opt_str,
    opt_time,
    ref_id,
    ref_list,
)
from actors.domain.eido.formats import clean_text, jcard_name, number_from_uri, parse_time
from actors.domain.eido.pidf import parse_pidf
from actors.domain.eido.vocabulary import EIDO_VERSION
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, IncidentStatus, Position, Urgency, UrgencyChange
from actors.domain.triage import CODE_RE, LEVELS

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
    source_local_id = opt_str(incident, "internalIncidentId", inc_path)
    source_id = opt_str(doc, "$id", "eido") or source_local_id
    if not source_id:
        raise InvalidArgumentError("eido.$id", "is required (the incident tracking id)")

    index = component_index(doc)
    extension = read_extension(doc, warnings)

    position, address = _incident_location(doc, incident, inc_path, index, warnings)
    caller_number = _caller_number(doc, index, warnings)
    criteria_code, complaint_chapter, urgency = _triage_fields(
        incident, inc_path, extension, warnings
    )
    status = _status(incident, inc_path, warnings)
    notes = _notes(doc, index, warnings)
    history = read_urgency_history(extension, warnings)
    owning_agency, owning_agency_name = _owner(doc, warnings)

    updated_at = opt_time(incident, "lastUpdateTimeStamp", inc_path, warnings)
    created_at = None
    calls = object_list(doc, "callComponent", "eido.callComponent")
    if calls:
        created_at = opt_time(calls[0], "callStartTimestamp", "eido.callComponent[0]", warnings)
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


def _incident_location(
    doc: dict[str, Any],
    incident: dict[str, Any],
    inc_path: str,
    index: dict[str, tuple[str, dict[str, Any]]],
    warnings: list[str],
) -> tuple[Position, str]:
    locations = object_list(doc, "locationComponent", "eido.locationComponent")
    refs = ref_list(incident, "locationReference", inc_path)
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
        for r in object_list(doc, "emergencyResourceComponent", "eido.emergencyResourceComponent"):
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
    position = parse_pidf(pidf, f"{path}.locationByValue", warnings)
    address = clean_text(opt_str(location, "locationDescriptionText", path), path, warnings)
    validation.text(address, f"{path}.locationDescriptionText", limit=validation.MAX_ADDRESS)
    for key in ("crossStreetByValue", "intersectingStreetByValue", "cellTowerSectorId"):
        if location.get(key):
            warnings.append(f"{path}.{key}: not carried")
    return position, address


def _caller_number(
    doc: dict[str, Any], index: dict[str, tuple[str, dict[str, Any]]], warnings: list[str]
) -> str:
    callbacks = object_list(doc, "callbackComponent", "eido.callbackComponent")
    calls = object_list(doc, "callComponent", "eido.callComponent")
    chosen: tuple[str, dict[str, Any]] | None = None
    if calls and calls[0].get("callBackReference") is not None:
        ref = ref_id(calls[0]["callBackReference"], "eido.callComponent[0].callBackReference")
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
        candidate = number_from_uri(uri)
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


def _triage_fields(
    incident: dict[str, Any], inc_path: str, extension: dict[str, Any] | None, warnings: list[str]
) -> tuple[str, int, Urgency | None]:
    code = opt_str(incident, "incidentTypeInternalCode", inc_path)
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


_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)


def _notes(
    doc: dict[str, Any], index: dict[str, tuple[str, dict[str, Any]]], warnings: list[str]
) -> list[tuple[str, str, float]]:
    notes: list[tuple[str, str, float]] = []
    for i, note in enumerate(object_list(doc, "notesComponent", "eido.notesComponent")):
        path = f"eido.notesComponent[{i}]"
        raw = note.get("notesActionComments")
        if not isinstance(raw, str):
            raise InvalidArgumentError(f"{path}.notesActionComments", "is required (a string)")
        at = parse_time(note.get("lastUpdateTimeStamp"), f"{path}.lastUpdateTimeStamp", warnings)
        text = raw
        if _TAG.search(text):  # we escape '<' on export, so a raw '<' is markup
            text = _TAG.sub("", _BREAK.sub("\n", text)).strip()
            warnings.append(f"{path}.notesActionComments: HTML markup removed")
        text = clean_text(html.unescape(text), path, warnings)
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
        agent_id = ref_id(note[key], f"{path}.{key}")
        found = index.get(agent_id)
        if found is not None:
            name = jcard_name(found[1].get("agentJcard"))
            if name:
                return name
        return agent_id
    return ""


def _owner(doc: dict[str, Any], warnings: list[str]) -> tuple[str, str]:
    agencies = object_list(doc, "agencyComponent", "eido.agencyComponent")
    owners = [a for a in agencies if a.get("incidentOwningAgencyIndicator") is True]
    if not owners:
        warnings.append("eido.agencyComponent: no agency has incidentOwningAgencyIndicator")
        return "", ""
    if len(owners) > 1:
        ids = [a.get("$id") for a in owners]
        warnings.append(f"eido.agencyComponent: several owning agencies {ids}; first taken")
    owner_id = owners[0].get("$id")
    return (owner_id if isinstance(owner_id, str) else ""), jcard_name(owners[0].get("agencyJcard"))


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
    resources = object_list(doc, "emergencyResourceComponent", "eido.emergencyResourceComponent")
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


def import_note(source_id: str) -> str:
    """The first line of an imported incident's first note: where it came from. It is
    also how a second import of the same document is found (:func:`already_open`)."""
    return f"Imported from EIDO incident {source_id}"


def already_open(incidents: Iterable[Incident], source_id: str) -> Incident | None:
    """The open incident already imported from ``source_id``, if any. A document sent
    again (a retry by hand, the sending AMK's update) must not become a second incident
    for one patient, each with its own units; the dispatcher adds what is new to the
    first. A closed one does not count: the same incident may be handed over again."""
    first_line = import_note(source_id)
    for inc in incidents:
        if (
            inc.notes
            and incident_lifecycle.is_open(inc.status)
            and inc.notes[0].text.split("\n", 1)[0] == first_line
        ):
            return inc
    return None
