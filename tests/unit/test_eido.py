"""EIDO handover documents: exports validate against NENA's schema and import back.

The schema is NENA's own OpenAPI file (``/work/shared/specs/eido/openapi.yaml``, from
NENA911/EIDO-JSON); it is loaded here only, never by the package at runtime.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from actors.domain.eido import (
    EXTENSION_PURPOSE,
    ImportedIncident,
    export_incident,
    import_incident,
    incident_tracking_id,
)
from actors.domain.errors import InvalidArgumentError
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

pytestmark = pytest.mark.timeout(60)

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "shared/specs/eido/openapi.yaml"
SCHEMA_URI = "urn:nena:eido-json:openapi.yaml"
ROOT = "EmergencyIncidentDataObjectType"
AGENCY = "amk-oslo.helse-sorost.example"
AGENCY_NAME = "AMK Oslo og Akershus"
NOW = 1_767_262_000.0  # 2026-01-01T10:06:40Z
T0 = 1_767_261_600.0  # 2026-01-01T10:00:00Z

# ----------------------------------------------------------------------------- validation

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+\Z")


def _format_checker() -> Any:
    """jsonschema checks "date-time" and "uri" only with optional packages the venv does
    not have; these two checks make the schema's formats count."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            return False
        datetime.fromisoformat(value)
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(URI.match(value))

    return checker


def _fix_upstream_typos(node: Any, path: str = "") -> list[str]:
    """NENA's file has ``minItems: 1,`` (AgentType.agentRoleRegistryText): YAML reads the
    string "1,", and jsonschema then fails with a TypeError on any agent. Read it as the
    integer the authors meant; report what was changed."""
    fixed = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("minItems", "maxItems") and isinstance(value, str):
                node[key] = int(value.rstrip(","))
                fixed.append(f"{path}/{key}")
            else:
                fixed += _fix_upstream_typos(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            fixed += _fix_upstream_typos(value, f"{path}/{i}")
    return fixed


def component_ids(doc: dict[str, Any]) -> set[str]:
    """Every ``$id`` a ReferenceType may point at: the document and its components."""
    ids = {doc["$id"]}
    for key, value in doc.items():
        items = value if isinstance(value, list) else [value]
        if key.endswith("Component"):
            for item in items:
                if isinstance(item, dict) and "$id" in item:
                    ids.add(item["$id"])
                    for sub in item.get("dispositionComponent", []):
                        ids.add(sub["$id"])
    return ids


def dangling_refs(doc: dict[str, Any]) -> list[str]:
    """References (``{"$ref": id}``) to a component the document does not hold."""
    ids = component_ids(doc)
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                if node["$ref"] not in ids:
                    found.append(f"{path}: {node['$ref']}")
                return
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(doc, "")
    return found


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SCHEMA_PATH.exists():
        pytest.skip(f"NENA EIDO schema not found at {SCHEMA_PATH} (shared specs not checked out)")
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    fixed = _fix_upstream_typos(data)
    assert set(fixed) <= {
        "/components/schemas/AgentType/allOf/1/properties/agentRoleRegistryText/minItems"
    }, fixed
    return data


@pytest.fixture(scope="module")
def validate(spec: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """``validate(doc)``: raises jsonschema.ValidationError unless ``doc`` is a valid
    EmergencyIncidentDataObjectType whose references all resolve inside it.

    The OpenAPI file is registered as one resource; its ``#/components/schemas/...``
    references resolve within it. OpenAPI 3.0 schemas are draft-4 dialect.
    """
    from jsonschema import Draft4Validator, ValidationError
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    registry = Registry().with_resource(SCHEMA_URI, DRAFT4.create_resource(spec))
    schema = {"$ref": f"{SCHEMA_URI}#/components/schemas/{ROOT}"}
    validator = Draft4Validator(schema, registry=registry, format_checker=_format_checker())

    def run(doc: dict[str, Any]) -> None:
        errors = list(validator.iter_errors(doc))
        if errors:
            lines = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
            raise ValidationError("\n".join(lines))
        dangling = dangling_refs(doc)
        if dangling:
            raise ValidationError(f"references to absent components: {dangling}")

    return run


# ----------------------------------------------------------------------------- records


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


# ----------------------------------------------------------------------------- schema


def test_schema_is_a_valid_draft4_schema(spec: dict[str, Any]) -> None:
    from jsonschema import Draft4Validator

    for schema in spec["components"]["schemas"].values():
        Draft4Validator.check_schema(schema)


def test_rich_incident_validates(validate: Callable[[dict[str, Any]], None]) -> None:
    inc, units = rich_incident()
    doc = export(inc, units)
    validate(doc)
    assert len(doc["emergencyResourceComponent"]) == 2
    assert len(doc["notesComponent"]) == 3
    assert len(doc["agentComponent"]) == 2  # two distinct note authors
    assert json.loads(json.dumps(doc)) == doc  # plain JSON: no tuples, enums or floats as keys


def test_minimal_incident_validates(validate: Callable[[dict[str, Any]], None]) -> None:
    doc = export(minimal_incident())
    validate(doc)
    for absent in (
        "callbackComponent",
        "notesComponent",
        "emergencyResourceComponent",
        "dispatchComponent",
        "agentComponent",
        "additionalDataComponent",
    ):
        assert absent not in doc
    assert "incidentPriorityInternalText" not in doc["incidentComponent"]


@pytest.mark.parametrize("status", list(IncidentStatus))
def test_every_status_kind_and_crew_validates(
    validate: Callable[[dict[str, Any]], None], status: IncidentStatus
) -> None:
    inc, _ = rich_incident()
    inc.status = status
    units = [
        Unit(
            id=f"U{i}",
            call_sign=f"Enhet {i}",
            region="oslo",
            kind=list(UnitKind)[i % len(UnitKind)],
            crew=list(CrewLevel)[i % len(CrewLevel)],
            status=unit_status,
            position=Position(60.0 + i / 100, 10.0, float(i)),
            station="",
            updated_at=T0 + i,
        )
        for i, unit_status in enumerate(UnitStatus)
    ]
    inc.assigned_unit_ids = [u.id for u in units]
    doc = export(inc, units)
    validate(doc)
    assert doc["incidentComponent"]["incidentStatusInternalText"] == [status.value]


# The validator must be able to fail: each mutation breaks one rule, named by the message.
def _put(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


_DELETE = object()
BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("version is a number", _put(["eidoVersion"], 1), "is not of type 'string'"),
    ("version not in enum", _put(["eidoVersion"], "2.0"), "is not one of"),
    ("agencies missing", _put(["agencyComponent"], _DELETE), "'agencyComponent' is a required"),
    ("agencies an object", _put(["agencyComponent"], {}), "is not of type 'array'"),
    (
        "owner flag a string",
        _put(["agencyComponent", 0, "incidentOwningAgencyIndicator"], "yes"),
        "is not of type 'boolean'",
    ),
    ("time not a date", _put(["lastUpdateTimeStamp"], "yesterday"), "is not a 'date-time'"),
    ("time without zone", _put(["lastUpdateTimeStamp"], "2026-01-01T10:00"), "'date-time'"),
    ("direction not in enum", _put(["callComponent", 0, "direction"], "in"), "is not one of"),
    (
        "call start missing",
        _put(["callComponent", 0, "callStartTimestamp"], _DELETE),
        "'callStartTimestamp' is a required",
    ),
    (
        "note text a number",
        _put(["notesComponent", 0, "notesActionComments"], 4),
        "is not of type 'string'",
    ),
    (
        "location type missing",
        _put(["locationComponent", 0, "locationTypeDescriptionRegistryText"], _DELETE),
        "'locationTypeDescriptionRegistryText' is a required",
    ),
    (
        "resource without agents",
        _put(["emergencyResourceComponent", 0, "agentReference"], _DELETE),
        "'agentReference' is a required",
    ),
    (
        "reference without $ref",
        _put(["callComponent", 0, "callBackReference"], {}),
        "'$ref' is a required",
    ),
    (
        "priority number is text",
        _put(["incidentComponent", "incidentCommonPriorityNumber"], "10"),
        "is not of type 'integer'",
    ),
    (
        "agent without roles",
        _put(["agentComponent", 0, "agentRoleRegistryText"], []),
        "should be non-empty",
    ),
    (
        "dangling reference",
        _put(["incidentComponent", "locationReference", 0, "$ref"], "nowhere"),
        "references to absent components",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, e) for _, m, e in BROKEN], ids=[n for n, _, _ in BROKEN]
)
def test_broken_documents_fail_validation(
    validate: Callable[[dict[str, Any]], None],
    mutate: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    from jsonschema import ValidationError

    inc, units = rich_incident()
    doc = export(inc, units)
    validate(doc)  # valid before the mutation
    mutate(doc)
    with pytest.raises(ValidationError, match=re.escape(message)):
        validate(doc)


# ----------------------------------------------------------------------------- mapping


def test_ownership_indicator_names_the_given_agency() -> None:
    inc, units = rich_incident()
    doc = export(inc, units)
    owners = [a for a in doc["agencyComponent"] if a.get("incidentOwningAgencyIndicator")]
    assert [a["$id"] for a in owners] == [AGENCY]
    assert AGENCY_NAME in owners[0]["agencyJcard"]
    assert doc["updatedByAgencyReference"] == {"$ref": AGENCY}
    assert doc["dispatchComponent"][0]["agencyReference"] == {"$ref": AGENCY}
    imp, _ = import_incident(doc, region="oslo")
    assert (imp.owning_agency, imp.owning_agency_name) == (AGENCY, AGENCY_NAME)


def test_fields_land_where_documented() -> None:
    inc, units = rich_incident()
    doc = export(inc, units)
    comps = by_id(doc)
    incident = doc["incidentComponent"]
    assert doc["$id"] == incident_tracking_id(inc.id, AGENCY)
    assert doc["lastUpdateTimeStamp"] == "2026-01-01T10:06:40.000000Z"
    assert incident["internalIncidentId"] == inc.id
    assert incident["beatOrDispatchGroupText"] == "oslo"
    assert incident["incidentStatusInternalText"] == ["on_scene"]
    assert incident["incidentStatusCommonRegistryText"] == ["Active"]
    assert incident["incidentPriorityInternalText"] == "akutt"
    assert incident["incidentCommonPriorityNumber"] == 10
    assert incident["incidentTypeInternalCode"] == "A.11.01"
    assert datetime.fromisoformat(incident["lastUpdateTimeStamp"]).timestamp() == inc.updated_at

    call = doc["callComponent"][0]
    assert datetime.fromisoformat(call["callStartTimestamp"]).timestamp() == inc.created_at
    assert call["priorityIdentifier"] == "highest"
    callback = comps[call["callBackReference"]["$ref"]]
    assert callback["callBackInformationUri"] == ["tel:+47-912-34-567"]

    location = comps[incident["locationReference"][0]["$ref"]]
    assert location["locationDescriptionText"] == inc.address
    assert pidf_point(location["locationByValue"]) == ("Circle", [59.91273, 10.74609], 35.0)

    notes = [comps[r["$ref"]] for r in incident["notesReference"]]
    assert notes[0]["notesActionComments"] == (
        "Mann ca. 60 år, brystsmerter &lt;30 min&gt; &amp; kaldsvett"
    )
    author = comps[notes[2]["agentReference"]["$ref"]]
    assert "op-bjorn" in author["agentJcard"]
    assert author["agencyReference"] == {"$ref": AGENCY}

    resources = [
        comps[r["$ref"]] for r in doc["dispatchComponent"][0]["emergencyResourceReference"]
    ]
    assert [r["$id"] for r in resources] == [f"OSL-A12@{AGENCY}", f"OSL-L3@{AGENCY}"]
    heli = resources[1]
    assert heli["emergencyResourceName"] == "Lima 03"
    assert heli["emergencyResourceTypeInternalText"] == "helicopter"
    assert heli["resourceAttributeInternalText"] == ["crew:doctor"]
    assert heli["unitStatusInternal"] == ["en_route"]
    assert heli["primaryUnitStatusRegistryText"] == "Enroute"
    unit_location = comps[heli["unitLocationReference"]["$ref"]]
    assert pidf_point(unit_location["locationByValue"]) == ("Point", [59.95, 10.8], None)

    ext = [a for a in doc["additionalDataComponent"] if a["urlPurpose"] == EXTENSION_PURPOSE]
    value = json.loads(ext[0]["additionalDataByValue"])
    assert value["complaintChapter"] == 11
    assert [u["criteriaCode"] for u in value["urgencyHistory"]] == ["H.11.02", "A.11.01"]
    assert call["additionalDataReference"] == [{"$ref": ext[0]["$id"]}]


def test_export_is_deterministic() -> None:
    inc, units = rich_incident()
    assert export(inc, units) == export(copy.deepcopy(inc), copy.deepcopy(units))


def test_export_refuses_units_that_do_not_match_the_assignment() -> None:
    inc, units = rich_incident()
    with pytest.raises(InvalidArgumentError) as err:
        export(inc, units[:1])
    assert err.value.field == "units" and "OSL-L3" in err.value.problem
    stray = copy.deepcopy(units[0])
    stray.id = "OSL-X9"
    with pytest.raises(InvalidArgumentError):
        export(inc, [*units, stray])
    with pytest.raises(InvalidArgumentError) as err:
        export_incident(inc, units, agency_id="", agency_name="", now=NOW)
    assert err.value.field == "agency_id"


# ----------------------------------------------------------------------------- round trip


def test_round_trip_rich_incident(validate: Callable[[dict[str, Any]], None]) -> None:
    inc, units = rich_incident()
    first = export(inc, units)
    imp, warnings = import_incident(first, region="oslo")

    assert imp.source_id == first["$id"] and imp.source_local_id == inc.id
    assert (imp.created_at, imp.updated_at) == (inc.created_at, inc.updated_at)
    assert imp.position == inc.position
    assert imp.notes == tuple((n.text, n.author, n.at) for n in inc.notes)
    assert imp.urgency_history == tuple(inc.urgency_history)
    # Units travel in the document but are assigned locally at the receiving centre.
    assert len(warnings) == 2, warnings
    assert any("Oslo 1-12" in w and "Lima 03" in w for w in warnings)
    assert any("dispatchComponent" in w for w in warnings)

    again = rebuild(imp, inc)
    assert again.to_dict() == inc.to_dict()
    second = export(again, units)
    validate(second)
    assert second == first


def test_round_trip_minimal_incident() -> None:
    inc = minimal_incident()
    first = export(inc)
    imp, warnings = import_incident(first, region="oslo")
    assert warnings == []
    assert (imp.urgency, imp.criteria_code, imp.complaint_chapter) == (None, "", 0)
    assert imp.caller_number == "" and imp.notes == () and imp.urgency_history == ()
    again = rebuild(imp, inc)
    assert again.to_dict() == inc.to_dict()
    assert export(again) == first


def _random_incident(rng: random.Random, i: int) -> Incident:
    code = rng.choice(["", "A.01.01", "H.11.02", "V.40.02"])
    chapter = int(code[2:4]) if code else rng.choice([0, 7])
    urgency = {"": None, "A": Urgency.AKUTT, "H": Urgency.HASTER, "V": Urgency.VANLIG}[code[:1]]
    texts = ["", " ", "Storgata 1", 'quote " & <tag> \\', "ny\nlinje\ttab", "😷", "x" * 500]
    return Incident(
        id=f"OSL-2026-{i:06d}",
        region=rng.choice(["oslo", "innlandet"]),
        status=rng.choice(list(IncidentStatus)),
        position=Position(rng.uniform(-90, 90), rng.uniform(-180, 180), rng.uniform(0, 1e5)),
        created_at=rng.uniform(0, 2e9),
        updated_at=rng.uniform(0, 2e9),
        urgency=urgency,
        address=rng.choice(texts),
        caller_number=rng.choice(["", "+4722334455", "113", "22 33  44 55 ", "+47 22"]),
        complaint_chapter=chapter,
        criteria_code=code,
        notes=[
            Note(rng.choice(texts), rng.choice(["", "console", "op 1", "a@b"]), rng.uniform(0, 2e9))
            for _ in range(rng.randint(0, 4))
        ],
        urgency_history=[
            UrgencyChange(rng.choice(list(Urgency)), "H.02.01", rng.uniform(0, 2e9))
            for _ in range(rng.randint(0, 3))
        ],
    )


@pytest.mark.parametrize("seed", range(40))
def test_round_trip_random_incidents(validate: Callable[[dict[str, Any]], None], seed: int) -> None:
    inc = _random_incident(random.Random(seed), seed)
    inc.notes.sort(key=lambda n: n.at)
    inc.urgency_history.sort(key=lambda u: u.at)
    first = export(inc)
    validate(first)
    imp, warnings = import_incident(first, region=inc.region)
    assert warnings == []
    assert imp.address == inc.address and imp.caller_number == inc.caller_number
    assert [n[:2] for n in imp.notes] == [(n.text, n.author) for n in inc.notes]
    assert imp.position == inc.position
    for got, want in zip(imp.notes, inc.notes, strict=True):
        assert math.isclose(got[2], want.at, abs_tol=1e-6)
    assert export(rebuild(imp, inc)) == first


# ----------------------------------------------------------------------------- import


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
    ("no incident", _changed(_put(["incidentComponent"], _DELETE)), "eido.incidentComponent"),
    ("incident a string", _changed(_put(["incidentComponent"], "x")), "eido.incidentComponent"),
    ("incident list junk", _changed(_put(["incidentComponent"], [7])), "eido.incidentComponent[0]"),
    ("no locations", _changed(_no_locations), "eido.locationComponent"),
    (
        "dangling location",
        _changed(_put(["incidentComponent", "locationReference", 0, "$ref"], "gone")),
        "eido.incidentComponent.locationReference[0]",
    ),
    (
        "location ref not a ref",
        _changed(_put(["incidentComponent", "locationReference", 0], "loc")),
        "eido.incidentComponent.locationReference[0]",
    ),
    ("locations an object", _changed(_put(["locationComponent"], {})), "eido.locationComponent"),
    ("location by URL only", _changed(_put([*LOC_PATH, "locationByValue"], _DELETE)), PIDF),
    ("not XML", _changed(_put([*LOC_PATH, "locationByValue"], "<presence")), PIDF),
    (
        "XML with a DOCTYPE",
        _changed(_put([*LOC_PATH, "locationByValue"], '<!DOCTYPE x [<!ENTITY a "b">]><x/>')),
        PIDF,
    ),
    ("no gml:pos", _changed(_put([*LOC_PATH, "locationByValue"], "<presence/>")), PIDF),
    ("lat too large", _pos("95.0 10.0"), f"{PIDF}.lat"),
    ("lon too small", _pos("59.0 -181"), f"{PIDF}.lon"),
    ("lat NaN", _pos("NaN 10.0"), f"{PIDF}.lat"),
    ("lon infinite", _pos("59.0 INF"), f"{PIDF}.lon"),
    ("pos not numeric", _pos("north east"), f"{PIDF}.pos"),
    ("pos one number", _pos("59.0"), f"{PIDF}.pos"),
    ("negative radius", _radius("-3"), f"{PIDF}.accuracy_m"),
    ("radius too large", _radius("1e9"), f"{PIDF}.accuracy_m"),
    ("notes a string", _changed(_put(["notesComponent"], "n")), "eido.notesComponent"),
    ("note a string", _changed(_put(["notesComponent", 0], "n")), "eido.notesComponent[0]"),
    (
        "note without text",
        _changed(_put(["notesComponent", 0, "notesActionComments"], _DELETE)),
        "eido.notesComponent[0].notesActionComments",
    ),
    (
        "note time not ISO",
        _changed(_put(["notesComponent", 0, "lastUpdateTimeStamp"], "i går")),
        "eido.notesComponent[0].lastUpdateTimeStamp",
    ),
    (
        "note agent not a ref",
        _changed(_put(["notesComponent", 0, "agentReference"], "op")),
        "eido.notesComponent[0].agentReference",
    ),
    (
        "status not an array",
        _changed(_put(["incidentComponent", "incidentStatusInternalText"], "closed")),
        "eido.incidentComponent.incidentStatusInternalText",
    ),
    (
        "callback dangling",
        _changed(_put(["callComponent", 0, "callBackReference", "$ref"], "gone")),
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
