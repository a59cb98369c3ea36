"""EIDO import: foreign documents are read with warnings for what is lost, and unusable
ones are refused naming the field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from actors.domain.eido import already_open, import_incident, import_note
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, IncidentStatus, Note, Position, Urgency
from tests.unit.eido_samples import (
    AGENCY,
    DELETE,
    export,
    minimal_incident,
    put,
    rich_incident,
)

pytestmark = pytest.mark.timeout(60)


def foreign_document() -> dict[str, Any]:
    """The shape another vendor's CAD might send: list-form incidentComponent, naive
    times, a 3-D ellipsoid, a sip: callback, HTML notes, persons, a foreign type code."""
    pidf = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
        'xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" '
        'entity="pres:x@example.com"><dm:device id="d1"><gp:geopriv><gp:location-info>'
        '<gs:Ellipsoid srsName="urn:ogc:def:crs:EPSG::4979">'
        "<gml:pos>60.39299 5.32415 12</gml:pos>"
        '<gs:semiMajorAxis uom="urn:ogc:def:uom:EPSG::9001">120</gs:semiMajorAxis>'
        '<gs:semiMinorAxis uom="urn:ogc:def:uom:EPSG::9001">40</gs:semiMinorAxis>'
        '<gs:verticalAxis uom="urn:ogc:def:uom:EPSG::9001">20</gs:verticalAxis>'
        '<gs:orientation uom="urn:ogc:def:uom:EPSG::9102">43</gs:orientation>'
        "</gs:Ellipsoid></gp:location-info><gp:usage-rules/></gp:geopriv></dm:device>"
        "</presence>"
    )
    agency = {"$ref": "cad.bergen.example"}
    return {
        "$id": "urn:emergency:uid:incidentid:a56e556d871:cad.bergen.example",
        "lastUpdateTimeStamp": "2026-03-01T08:15:00.0",
        "updatedByAgencyReference": agency,
        "eidoVersion": "1.0",
        "issuingElementIdentification": "idx.bergen.example",
        "incidentComponent": [
            {
                "$id": "inc-1",
                "lastUpdateTimeStamp": "2026-03-01T08:14:00+01:00",
                "updatedByAgencyReference": agency,
                "incidentTypeInternalCode": "10-52",
                "incidentTypeInternalText": "MEDICAL ASSIST",
                "incidentTypeCommonRegistryText": "Medical",
                "incidentStatusCommonRegistryText": ["Active"],
                "incidentCommonPriorityNumber": 8,
                "internalIncidentId": "BGO-77",
                "locationReference": [{"$ref": "loc-1"}],
            }
        ],
        "callComponent": [
            {
                "$id": "call-1",
                "lastUpdateTimeStamp": "2026-03-01T08:10:00+01:00",
                "updatedByAgencyReference": agency,
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
                "callStartTimestamp": "2026-03-01T08:10:00+01:00",
                "callStateRegistryText": "callEnd",
                "callBackReference": {"$ref": "cb-1"},
            }
        ],
        "callbackComponent": [
            {
                "$id": "cb-1",
                "lastUpdateTimeStamp": "2026-03-01T08:10:00+01:00",
                "updatedByAgencyReference": agency,
                "callBackInformationUri": [
                    "sip:+4755112233@osp.example;user=phone",
                    "tel:+4755112233",
                ],
            }
        ],
        "agencyComponent": [
            {
                "$id": "cad.bergen.example",
                "lastUpdateTimeStamp": "2026-03-01T08:10:00+01:00",
                "updatedByAgencyReference": agency,
                "agencyRoleDescriptionRegistryText": ["Dispatch"],
                "agencyType": ["ems"],
                "incidentOwningAgencyIndicator": True,
            }
        ],
        "agentComponent": [
            {
                "$id": "kari@cad.bergen.example",
                "lastUpdateTimeStamp": "2026-03-01T08:10:00+01:00",
                "updatedByAgencyReference": agency,
                "agentRoleRegistryText": ["Call Taking"],
                "agencyReference": agency,
            }
        ],
        "notesComponent": [
            {
                "$id": "n-2",
                "lastUpdateTimeStamp": "2026-03-01T08:13:00+01:00",
                "updatedByAgencyReference": agency,
                "notesActionComments": "<p>Pasienten er v&aring;ken<br>puster</p>",
                "agentReference": {"$ref": "kari@cad.bergen.example"},
            },
            {
                "$id": "n-1",
                "lastUpdateTimeStamp": "2026-03-01T08:11:00+01:00",
                "updatedByAgencyReference": agency,
                "notesActionComments": "Fall fra stige\r\nca 3 m",
            },
        ],
        "locationComponent": [
            {
                "$id": "loc-1",
                "lastUpdateTimeStamp": "2026-03-01T08:10:00+01:00",
                "updatedByAgencyReference": agency,
                "locationTypeDescriptionRegistryText": "Caller",
                "locationByValue": pidf,
                "locationDescriptionText": "Bryggen 5, 5003 Bergen",
            }
        ],
        "personComponent": [
            {
                "$id": "p-1",
                "lastUpdateTimeStamp": "2026-03-01T08:10:00+01:00",
                "updatedByAgencyReference": agency,
                "personIncidentRoleRegistryText": ["Caller"],
            }
        ],
    }


def test_import_of_a_foreign_document() -> None:
    imp, warnings = import_incident(foreign_document(), region="vest")
    assert imp.source_id == "urn:emergency:uid:incidentid:a56e556d871:cad.bergen.example"
    assert imp.source_local_id == "BGO-77"
    assert imp.region == "vest"
    assert imp.position == Position(60.39299, 5.32415, 120.0)
    assert imp.address == "Bryggen 5, 5003 Bergen"
    assert imp.caller_number == "+4755112233"
    assert (imp.criteria_code, imp.complaint_chapter, imp.urgency, imp.status) == (
        "",
        0,
        None,
        None,
    )
    t = datetime.fromisoformat("2026-03-01T08:11:00+01:00").timestamp()
    assert imp.notes == (
        ("Fall fra stige\nca 3 m", "", t),
        ("Pasienten er våken\npuster", "kari@cad.bergen.example", t + 120),
    )
    assert imp.created_at == datetime.fromisoformat("2026-03-01T08:10:00+01:00").timestamp()
    assert imp.owning_agency == "cad.bergen.example"
    text = "\n".join(warnings)
    for expected in (
        "altitude not carried",
        "semi-major axis",
        "'10-52' (MEDICAL ASSIST) is not a Norsk indeks criteria code",
        "incidentCommonPriorityNumber=8",
        "status ['Active'] not mapped",
        "HTML markup removed",
        "1 persons not carried",
    ):
        assert expected in text, (expected, warnings)
    # The two callback URIs name one number: neither is reported lost.
    assert "callBackInformationUri" not in text


def test_import_follows_criteria_code_over_priority_text() -> None:
    inc, units = rich_incident()
    doc = export(inc, units)
    doc["incidentComponent"]["incidentPriorityInternalText"] = "vanlig"
    imp, warnings = import_incident(doc, region="oslo")
    assert imp.urgency is Urgency.AKUTT
    assert any("disagrees with A.11.01" in w for w in warnings)


def test_long_foreign_note_is_split_not_cut() -> None:
    doc = export(minimal_incident())
    doc["notesComponent"] = [
        {
            "$id": "n",
            "lastUpdateTimeStamp": "2026-01-01T10:00:00Z",
            "updatedByAgencyReference": {"$ref": AGENCY},
            "notesActionComments": "a" * 4500 + "\x1b[31m",
        }
    ]
    imp, warnings = import_incident(doc, region="oslo")
    assert [len(n[0]) for n in imp.notes] == [2000, 2000, 505]
    assert "".join(n[0] for n in imp.notes) == "a" * 4500 + " [31m"
    assert any("split in 3" in w for w in warnings)
    assert any("control characters" in w for w in warnings)


def _changed(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], Any]:
    def mutate(doc: dict[str, Any]) -> Any:
        change(doc)
        return doc

    return mutate


def _pos(text: str) -> Callable[[dict[str, Any]], Any]:
    """The incident location's gml:pos replaced by ``text``."""

    def change(doc: dict[str, Any]) -> None:
        loc = doc["locationComponent"][0]
        pattern = r"<gml:pos>[^<]*</gml:pos>"
        loc["locationByValue"] = re.sub(
            pattern, f"<gml:pos>{text}</gml:pos>", loc["locationByValue"]
        )

    return _changed(change)


def _radius(text: str) -> Callable[[dict[str, Any]], Any]:
    def change(doc: dict[str, Any]) -> None:
        loc = doc["locationComponent"][0]
        loc["locationByValue"] = loc["locationByValue"].replace(">35.0<", f">{text}<")

    return _changed(change)


def _no_locations(doc: dict[str, Any]) -> None:
    del doc["locationComponent"]
    del doc["incidentComponent"]["locationReference"]


def _no_ids(doc: dict[str, Any]) -> None:
    del doc["$id"]
    del doc["incidentComponent"]["internalIncidentId"]


LOC = "eido.locationComponent[0]"
LOC_PATH: list[Any] = ["locationComponent", 0]
PIDF = f"{LOC}.locationByValue"
BAD: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("not an object", lambda d: [d], "eido"),
    ("a JSON string", json.dumps, "eido"),
    ("no incident", _changed(put(["incidentComponent"], DELETE)), "eido.incidentComponent"),
    ("incident a string", _changed(put(["incidentComponent"], "x")), "eido.incidentComponent"),
    ("incident list junk", _changed(put(["incidentComponent"], [7])), "eido.incidentComponent[0]"),
    ("no locations", _changed(_no_locations), "eido.locationComponent"),
    (
        "dangling location",
        _changed(put(["incidentComponent", "locationReference", 0, "$ref"], "gone")),
        "eido.incidentComponent.locationReference[0]",
    ),
    (
        "location ref not a ref",
        _changed(put(["incidentComponent", "locationReference", 0], "loc")),
        "eido.incidentComponent.locationReference[0]",
    ),
    ("locations an object", _changed(put(["locationComponent"], {})), "eido.locationComponent"),
    ("location by URL only", _changed(put([*LOC_PATH, "locationByValue"], DELETE)), PIDF),
    ("not XML", _changed(put([*LOC_PATH, "locationByValue"], "<presence")), PIDF),
    (
        "XML with a DOCTYPE",
        _changed(put([*LOC_PATH, "locationByValue"], '<!DOCTYPE x [<!ENTITY a "b">]><x/>')),
        PIDF,
    ),
    ("no gml:pos", _changed(put([*LOC_PATH, "locationByValue"], "<presence/>")), PIDF),
    ("lat too large", _pos("95.0 10.0"), f"{PIDF}.lat"),
    ("lon too small", _pos("59.0 -181"), f"{PIDF}.lon"),
    ("lat NaN", _pos("NaN 10.0"), f"{PIDF}.lat"),
    ("lon infinite", _pos("59.0 INF"), f"{PIDF}.lon"),
    ("pos not numeric", _pos("north east"), f"{PIDF}.pos"),
    ("pos one number", _pos("59.0"), f"{PIDF}.pos"),
    ("negative radius", _radius("-3"), f"{PIDF}.accuracy_m"),
    ("radius too large", _radius("1e9"), f"{PIDF}.accuracy_m"),
    ("notes a string", _changed(put(["notesComponent"], "n")), "eido.notesComponent"),
    ("note a string", _changed(put(["notesComponent", 0], "n")), "eido.notesComponent[0]"),
    (
        "note without text",
        _changed(put(["notesComponent", 0, "notesActionComments"], DELETE)),
        "eido.notesComponent[0].notesActionComments",
    ),
    (
        "note time not ISO",
        _changed(put(["notesComponent", 0, "lastUpdateTimeStamp"], "i går")),
        "eido.notesComponent[0].lastUpdateTimeStamp",
    ),
    (
        "note agent not a ref",
        _changed(put(["notesComponent", 0, "agentReference"], "op")),
        "eido.notesComponent[0].agentReference",
    ),
    (
        "status not an array",
        _changed(put(["incidentComponent", "incidentStatusInternalText"], "closed")),
        "eido.incidentComponent.incidentStatusInternalText",
    ),
    (
        "callback dangling",
        _changed(put(["callComponent", 0, "callBackReference", "$ref"], "gone")),
        "eido.callComponent[0].callBackReference",
    ),
    ("no ids at all", _changed(_no_ids), "eido.$id"),
]


@pytest.mark.parametrize(
    ("mutate", "field"), [(m, f) for _, m, f in BAD], ids=[n for n, _, _ in BAD]
)
def test_bad_documents_raise_naming_the_field(
    mutate: Callable[[dict[str, Any]], Any], field: str
) -> None:
    inc, units = rich_incident()
    doc = mutate(export(inc, units))
    with pytest.raises(InvalidArgumentError) as err:
        import_incident(doc, region="oslo")
    assert err.value.field == field, str(err.value)


def test_a_document_open_here_already_is_found_by_its_id() -> None:
    def imported(ident: str, source: str, status: IncidentStatus) -> Incident:
        note = Note(f"{import_note(source)}\n[AMK Vest] Man collapsed", "kari", 1.0)
        return Incident(ident, "oslo", status, Position(59.9, 10.7), 1.0, 1.0, notes=[note])

    first = imported("OSL-000007", "urn:emergency:uid:incidentid:abc", IncidentStatus.TRIAGED)
    closed = imported("OSL-000003", "urn:emergency:uid:incidentid:old", IncidentStatus.CLOSED)
    typed = Incident("OSL-000009", "oslo", IncidentStatus.RECEIVED, Position(59.9, 10.7), 1.0, 1.0)
    typed.notes.append(Note(f"see {import_note('urn:emergency:uid:incidentid:abc')}", "ola", 2.0))
    incidents = [closed, typed, first]
    assert already_open(incidents, "urn:emergency:uid:incidentid:abc") is first
    assert already_open(incidents, "urn:emergency:uid:incidentid:old") is None  # closed
    assert already_open(incidents, "urn:emergency:uid:incidentid:ab") is None  # a prefix
