"""Pure incident decisions on a fake clock (create, triage, status, notes): new records out,
inputs never touched."""

from __future__ import annotations

import pytest

from actors.domain import decide
from actors.domain.errors import IllegalTransitionError, InvalidArgumentError, PreconditionError
from actors.domain.model import Call, IncidentStatus, Note, Position, Urgency, UrgencyChange
from actors.domain.triage import CriteriaTable, default_table
from tests.unit.decide_support import (
    AKUTT_CODE,
    HASTER_CODE,
    T0,
    T1,
    T2,
    VANLIG_CODE,
    make_cmd,
    make_incident,
    unchanged,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def table() -> CriteriaTable:
    return default_table()


# --------------------------------------------------------------------------- create


def test_create_without_code_is_received(table: CriteriaTable) -> None:
    cmd = make_cmd(complaint_chapter=3)
    with unchanged(cmd):
        inc = decide.create_incident(cmd, "OSL-7", T0, table)
    assert inc.id == "OSL-7"
    assert inc.region == "oslo"
    assert inc.status is IncidentStatus.RECEIVED
    assert inc.urgency is None
    assert inc.criteria_code == ""
    assert inc.complaint_chapter == 3
    assert inc.created_at == inc.updated_at == T0
    assert inc.address == cmd.address and inc.caller_number == cmd.caller_number
    assert inc.position == cmd.position and inc.position is not cmd.position
    assert inc.notes == [] and inc.urgency_history == [] and inc.assigned_unit_ids == []


@pytest.mark.parametrize(("given", "kept"), [("", "+4790000002"), ("+4741111111", "+4741111111")])
def test_create_from_a_call_keeps_its_number_unless_given_one(
    table: CriteriaTable, given: str, kept: str
) -> None:
    call = Call("OSL-C1", "oslo", "+4790000002", Position(59.9, 10.7, 30.0), T0)
    inc = decide.create_incident(make_cmd(caller_number=given), "OSL-7", T1, table, call)
    assert inc.caller_number == kept


def test_create_with_notes_records_author_and_time(table: CriteriaTable) -> None:
    inc = decide.create_incident(
        make_cmd(notes="Caller is the son", who="op-4"), "OSL-7", T0, table
    )
    assert inc.notes == [Note("Caller is the son", "op-4", T0)]


@pytest.mark.parametrize(
    ("code", "urgency"),
    [(AKUTT_CODE, Urgency.AKUTT), (HASTER_CODE, Urgency.HASTER), (VANLIG_CODE, Urgency.VANLIG)],
)
def test_create_with_code_starts_triaged(table: CriteriaTable, code: str, urgency: Urgency) -> None:
    inc = decide.create_incident(make_cmd(criteria_code=code), "OSL-7", T0, table)
    assert inc.status is IncidentStatus.TRIAGED
    assert inc.urgency is urgency
    assert inc.criteria_code == code
    assert inc.complaint_chapter == 1
    assert inc.urgency_history == [UrgencyChange(urgency, code, T0)]
    assert inc.created_at == inc.updated_at == T0


def test_create_code_sets_the_chapter_over_the_given_one(table: CriteriaTable) -> None:
    inc = decide.create_incident(
        make_cmd(complaint_chapter=9, criteria_code=AKUTT_CODE), "OSL-7", T0, table
    )
    assert inc.complaint_chapter == 1


def test_create_with_unknown_code_is_refused(table: CriteriaTable) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        decide.create_incident(make_cmd(criteria_code="A.01.99"), "OSL-7", T0, table)
    assert info.value.field == "criteria_code"


# --------------------------------------------------------------------------- triage


def test_triage_moves_received_to_triaged(table: CriteriaTable) -> None:
    inc = make_incident(IncidentStatus.RECEIVED, urgency=None)
    with unchanged(inc):
        new = decide.triage(inc, AKUTT_CODE, T1, table)
    assert new.status is IncidentStatus.TRIAGED
    assert new.urgency is Urgency.AKUTT
    assert new.criteria_code == AKUTT_CODE
    assert new.urgency_history == [UrgencyChange(Urgency.AKUTT, AKUTT_CODE, T1)]
    assert new.updated_at == T1 and new.created_at == T0


def test_retriage_keeps_the_urgency_history(table: CriteriaTable) -> None:
    inc = decide.create_incident(make_cmd(criteria_code=VANLIG_CODE), "OSL-7", T0, table)
    up = decide.triage(inc, HASTER_CODE, T1, table)
    up2 = decide.triage(up, AKUTT_CODE, T2, table)
    assert up2.status is IncidentStatus.TRIAGED
    assert up2.urgency is Urgency.AKUTT
    assert up2.criteria_code == AKUTT_CODE
    assert up2.urgency_history == [
        UrgencyChange(Urgency.VANLIG, VANLIG_CODE, T0),
        UrgencyChange(Urgency.HASTER, HASTER_CODE, T1),
        UrgencyChange(Urgency.AKUTT, AKUTT_CODE, T2),
    ]
    # Earlier records are still what they were.
    assert len(inc.urgency_history) == 1 and inc.urgency is Urgency.VANLIG
    assert len(up.urgency_history) == 2 and up.urgency is Urgency.HASTER


@pytest.mark.parametrize(
    "status", [IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE, IncidentStatus.TRANSPORTING]
)
def test_retriage_of_a_working_incident_keeps_its_status(
    table: CriteriaTable, status: IncidentStatus
) -> None:
    inc = make_incident(status, units=["osl-a11"])
    with unchanged(inc):
        new = decide.triage(inc, AKUTT_CODE, T1, table)
    assert new.status is status
    assert new.urgency is Urgency.AKUTT
    assert [h.urgency for h in new.urgency_history] == [Urgency.HASTER, Urgency.AKUTT]


@pytest.mark.parametrize("status", [IncidentStatus.CLOSED, IncidentStatus.CANCELLED])
def test_triage_of_a_finished_incident_is_refused(
    table: CriteriaTable, status: IncidentStatus
) -> None:
    inc = make_incident(status)
    with unchanged(inc), pytest.raises(PreconditionError) as info:
        decide.triage(inc, AKUTT_CODE, T1, table)
    assert info.value.entity_id == inc.id


def test_triage_with_bad_code_is_refused(table: CriteriaTable) -> None:
    inc = make_incident(IncidentStatus.RECEIVED, urgency=None)
    with unchanged(inc), pytest.raises(InvalidArgumentError):
        decide.triage(inc, "Z.01.01", T1, table)


def test_triage_output_shares_no_lists_with_input(table: CriteriaTable) -> None:
    inc = make_incident(IncidentStatus.TRIAGED)
    new = decide.triage(inc, AKUTT_CODE, T1, table)
    new.notes.append(Note("later", "x", T2))
    new.assigned_unit_ids.append("u")
    new.position.lat = 0.0
    assert inc == make_incident(IncidentStatus.TRIAGED)


# ------------------------------------------------------------------- incident status


@pytest.mark.parametrize("status", [IncidentStatus.RECEIVED, IncidentStatus.TRIAGED])
def test_dispatched_cannot_be_set_directly(status: IncidentStatus) -> None:
    inc = make_incident(status)
    with unchanged(inc), pytest.raises(PreconditionError):
        decide.change_incident_status(inc, IncidentStatus.DISPATCHED, T1)


def test_status_change_follows_the_table() -> None:
    inc = make_incident(IncidentStatus.TRIAGED)
    with unchanged(inc):
        new = decide.change_incident_status(inc, IncidentStatus.CLOSED, T1)
    assert new.status is IncidentStatus.CLOSED
    assert new.updated_at == T1
    assert new.revision == inc.revision  # the store sets revisions, not decisions


def test_illegal_status_change_is_refused() -> None:
    inc = make_incident(IncidentStatus.RECEIVED)
    with unchanged(inc), pytest.raises(IllegalTransitionError):
        decide.change_incident_status(inc, IncidentStatus.ON_SCENE, T1)


@pytest.mark.parametrize(
    ("status", "target"),
    [
        (IncidentStatus.ON_SCENE, IncidentStatus.CLOSED),
        (IncidentStatus.AT_HOSPITAL, IncidentStatus.CLOSED),
        (IncidentStatus.DISPATCHED, IncidentStatus.CANCELLED),
    ],
)
def test_ending_with_assigned_units_is_refused(
    status: IncidentStatus, target: IncidentStatus
) -> None:
    inc = make_incident(status, units=["osl-a11", "osl-a12"])
    with unchanged(inc), pytest.raises(PreconditionError) as info:
        decide.change_incident_status(inc, target, T1)
    assert "osl-a11" in str(info.value) and "osl-a12" in str(info.value)


def test_ending_without_units_is_allowed() -> None:
    inc = make_incident(IncidentStatus.ON_SCENE)
    assert decide.change_incident_status(inc, IncidentStatus.CLOSED, T1).status is (
        IncidentStatus.CLOSED
    )
    rec = make_incident(IncidentStatus.RECEIVED, urgency=None)
    assert decide.change_incident_status(rec, IncidentStatus.CANCELLED, T1).status is (
        IncidentStatus.CANCELLED
    )


def test_non_terminal_change_with_units_is_allowed() -> None:
    inc = make_incident(IncidentStatus.ON_SCENE, units=["osl-a11"])
    new = decide.change_incident_status(inc, IncidentStatus.TRANSPORTING, T1)
    assert new.status is IncidentStatus.TRANSPORTING
    assert new.assigned_unit_ids == ["osl-a11"]


def test_add_note_appends() -> None:
    inc = make_incident()
    with unchanged(inc):
        new = decide.add_note(inc, "Patient is breathing", "op-2", T1)
    assert new.notes == [*inc.notes, Note("Patient is breathing", "op-2", T1)]
    assert new.updated_at == T1
