"""EIDO export: each of our fields lands where the mapping says, deterministically."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest

from actors.domain.eido import (
    EXTENSION_PURPOSE,
    export_incident,
    import_incident,
    incident_tracking_id,
)
from actors.domain.eido.formats import iso_time
from actors.domain.enums import CprEnd
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import CprGuidance
from tests.unit.eido_samples import (
    AGENCY,
    AGENCY_NAME,
    NOW,
    by_id,
    export,
    pidf_point,
    rich_incident,
)
from tests.unit.eido_schema import load_spec, schema_validator

pytestmark = pytest.mark.timeout(60)


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


def test_cpr_guidance_travels_as_a_note_people_read() -> None:
    """EIDO has no field for telephone-guided CPR: the receiving centre reads it in a
    note (times in UTC, who recorded each), and our import carries it as one."""
    inc, units = rich_incident()
    inc.cpr = CprGuidance(NOW - 300, "kari", NOW - 250, "ola")
    doc = export(inc, units)
    (note,) = [n for n in doc["notesComponent"] if "CPR" in n["notesActionComments"]]
    assert note["notesActionComments"] == (
        f"Telephone-guided CPR: guidance started {iso_time(NOW - 300)} (kari); "
        f"first compression {iso_time(NOW - 250)} (ola)"
    )
    assert {"$ref": note["$id"]} in doc["incidentComponent"]["notesReference"]
    schema_validator(load_spec())(doc)
    imp, _ = import_incident(doc, region="oslo")
    assert (note["notesActionComments"], "", NOW - 250) in imp.notes  # as of the last step
    inc.cpr = CprGuidance(NOW - 300, "kari", bystander=True)
    (note,) = [n for n in export(inc, units)["notesComponent"] if "CPR" in n["notesActionComments"]]
    assert note["notesActionComments"].endswith("compressions were under way already")


def test_an_arrest_recognised_and_not_guided_travels_as_a_note_too() -> None:
    inc, units = rich_incident()
    inc.cpr = CprGuidance(not_given_at=NOW - 200, not_given_by="kari", not_given_reason="for sent")
    notes = [n["notesActionComments"] for n in export(inc, units)["notesComponent"]]
    assert f"Telephone-guided CPR not given {iso_time(NOW - 200)} (kari): for sent" in notes


def test_the_end_of_cpr_guidance_travels_and_a_wrong_incident_does_not() -> None:
    inc, units = rich_incident()
    inc.cpr = CprGuidance(NOW - 300, "kari", NOW - 250, "ola", ended_at=NOW - 100, ended_by="ola")
    inc.cpr.end = CprEnd.ROSC
    doc = export(inc, units)
    (note,) = [n for n in doc["notesComponent"] if "CPR" in n["notesActionComments"]]
    assert note["notesActionComments"].endswith(
        f"; ended {iso_time(NOW - 100)} (ola): the patient breathes normally again"
    )
    imp, _ = import_incident(doc, region="oslo")
    assert (note["notesActionComments"], "", NOW - 100) in imp.notes  # as of the end
    inc.cpr.end = CprEnd.WRONG_INCIDENT  # not this incident's: nothing to tell
    assert not [
        n for n in export(inc, units)["notesComponent"] if "CPR" in n["notesActionComments"]
    ]
