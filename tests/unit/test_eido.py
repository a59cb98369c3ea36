"""EIDO handover documents: exports validate against NENA's schema, and the validator
can fail.

The schema harness is ``tests/unit/eido_schema.py``; the export's field mapping, the
round trip and the import of foreign documents are in ``test_eido_export.py``,
``test_eido_round_trip.py`` and ``test_eido_import.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from actors.domain.model import CrewLevel, IncidentStatus, Position, Unit, UnitKind, UnitStatus
from tests.unit.eido_samples import DELETE, T0, export, minimal_incident, put, rich_incident
from tests.unit.eido_schema import Validate, load_spec, schema_validator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="module")
def validate(spec: dict[str, Any]) -> Validate:
    """See :func:`tests.unit.eido_schema.schema_validator`."""
    return schema_validator(spec)


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
BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("version is a number", put(["eidoVersion"], 1), "is not of type 'string'"),
    ("version not in enum", put(["eidoVersion"], "2.0"), "is not one of"),
    ("agencies missing", put(["agencyComponent"], DELETE), "'agencyComponent' is a required"),
    ("agencies an object", put(["agencyComponent"], {}), "is not of type 'array'"),
    (
        "owner flag a string",
        put(["agencyComponent", 0, "incidentOwningAgencyIndicator"], "yes"),
        "is not of type 'boolean'",
    ),
    ("time not a date", put(["lastUpdateTimeStamp"], "yesterday"), "is not a 'date-time'"),
    ("time without zone", put(["lastUpdateTimeStamp"], "2026-01-01T10:00"), "'date-time'"),
    ("direction not in enum", put(["callComponent", 0, "direction"], "in"), "is not one of"),
    (
        "call start missing",
        put(["callComponent", 0, "callStartTimestamp"], DELETE),
        "'callStartTimestamp' is a required",
    ),
    (
        "note text a number",
        put(["notesComponent", 0, "notesActionComments"], 4),
        "is not of type 'string'",
    ),
    (
        "location type missing",
        put(["locationComponent", 0, "locationTypeDescriptionRegistryText"], DELETE),
        "'locationTypeDescriptionRegistryText' is a required",
    ),
    (
        "resource without agents",
        put(["emergencyResourceComponent", 0, "agentReference"], DELETE),
        "'agentReference' is a required",
    ),
    (
        "reference without $ref",
        put(["callComponent", 0, "callBackReference"], {}),
        "'$ref' is a required",
    ),
    (
        "priority number is text",
        put(["incidentComponent", "incidentCommonPriorityNumber"], "10"),
        "is not of type 'integer'",
    ),
    (
        "agent without roles",
        put(["agentComponent", 0, "agentRoleRegistryText"], []),
        "should be non-empty",
    ),
    (
        "dangling reference",
        put(["incidentComponent", "locationReference", 0, "$ref"], "nowhere"),
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
