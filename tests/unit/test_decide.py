"""Pure decisions on a fake clock: new records out, inputs never touched."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from actors.domain import decide
from actors.domain.commands import CreateIncident
from actors.domain.errors import IllegalTransitionError, InvalidArgumentError, PreconditionError
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
from actors.domain.triage import CriteriaTable, default_table

pytestmark = pytest.mark.timeout(30)

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


@pytest.fixture(scope="module")
def table() -> CriteriaTable:
    return default_table()


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


# --------------------------------------------------------------------------- assign


@pytest.mark.parametrize("unit_status", AVAILABLE)
@pytest.mark.parametrize(
    ("inc_status", "urgency"),
    [(IncidentStatus.TRIAGED, Urgency.HASTER), (IncidentStatus.RECEIVED, None)],
)
def test_assign_available_unit(
    unit_status: UnitStatus, inc_status: IncidentStatus, urgency: Urgency | None
) -> None:
    inc = make_incident(inc_status, urgency=urgency)
    unit = make_unit(unit_status)
    with unchanged(inc, unit):
        new_inc, new_unit = decide.assign(inc, unit, T1)
    assert new_inc.status is IncidentStatus.DISPATCHED
    assert new_inc.assigned_unit_ids == [unit.id]
    assert new_inc.updated_at == T1
    assert new_unit.status is UnitStatus.ASSIGNED
    assert new_unit.incident_id == inc.id
    assert new_unit.updated_at == T1
    assert new_unit.position == unit.position and new_unit.home_region == unit.home_region


@pytest.mark.parametrize(
    "status", [IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE, IncidentStatus.TRANSPORTING]
)
def test_assign_another_unit_keeps_incident_status(status: IncidentStatus) -> None:
    inc = make_incident(status, units=["osl-a12"])
    unit = make_unit()
    with unchanged(inc, unit):
        new_inc, new_unit = decide.assign(inc, unit, T1)
    assert new_inc.status is status
    assert new_inc.assigned_unit_ids == ["osl-a12", unit.id]
    assert new_unit.status is UnitStatus.ASSIGNED


@pytest.mark.parametrize("status", BUSY)
def test_assign_busy_unit_is_refused(status: UnitStatus) -> None:
    inc = make_incident()
    unit = make_unit(status, incident_id="OSL-99")
    with unchanged(inc, unit), pytest.raises(PreconditionError) as info:
        decide.assign(inc, unit, T1)
    assert info.value.entity_id == unit.id
    assert "OSL-99" in str(info.value)


def test_assign_out_of_service_unit_is_refused() -> None:
    inc = make_incident()
    unit = make_unit(UnitStatus.OUT_OF_SERVICE)
    with unchanged(inc, unit), pytest.raises(PreconditionError):
        decide.assign(inc, unit, T1)


def test_assign_available_unit_still_linked_to_an_incident_is_refused() -> None:
    inc = make_incident()
    unit = make_unit(UnitStatus.AVAILABLE_MOBILE, incident_id="OSL-99")
    with unchanged(inc, unit), pytest.raises(PreconditionError):
        decide.assign(inc, unit, T1)


@pytest.mark.parametrize("status", [IncidentStatus.CLOSED, IncidentStatus.CANCELLED])
def test_assign_to_finished_incident_is_refused(status: IncidentStatus) -> None:
    inc = make_incident(status)
    unit = make_unit()
    with unchanged(inc, unit), pytest.raises(PreconditionError) as info:
        decide.assign(inc, unit, T1)
    assert info.value.entity_id == inc.id


def test_assign_output_shares_no_lists_with_input() -> None:
    inc = make_incident(units=[])
    new_inc, _ = decide.assign(inc, make_unit(), T1)
    assert new_inc.assigned_unit_ids is not inc.assigned_unit_ids
    assert inc.assigned_unit_ids == []


# --------------------------------------------------------------------------- release


def test_release_makes_the_unit_available_mobile() -> None:
    inc = make_incident(IncidentStatus.ON_SCENE, units=["osl-a11"])
    unit = make_unit(UnitStatus.ON_SCENE, incident_id=inc.id)
    with unchanged(inc, unit):
        new_inc, new_unit = decide.release(inc, unit, T1)
    assert new_unit.status is UnitStatus.AVAILABLE_MOBILE
    assert new_unit.incident_id == ""
    assert new_unit.updated_at == T1
    assert new_inc.assigned_unit_ids == []
    assert new_inc.status is IncidentStatus.ON_SCENE  # arrived: stays until closed
    assert new_inc.updated_at == T1


@pytest.mark.parametrize(
    ("urgency", "back_to"),
    [(Urgency.AKUTT, IncidentStatus.TRIAGED), (None, IncidentStatus.RECEIVED)],
)
def test_releasing_the_last_unit_returns_the_incident(
    urgency: Urgency | None, back_to: IncidentStatus
) -> None:
    inc = make_incident(IncidentStatus.DISPATCHED, units=["osl-a11"], urgency=urgency)
    unit = make_unit(UnitStatus.EN_ROUTE, incident_id=inc.id)
    with unchanged(inc, unit):
        new_inc, new_unit = decide.release(inc, unit, T1)
    assert new_inc.status is back_to
    assert new_inc.assigned_unit_ids == []
    assert new_unit.status is UnitStatus.AVAILABLE_MOBILE


def test_releasing_one_of_two_units_keeps_dispatched() -> None:
    inc = make_incident(IncidentStatus.DISPATCHED, units=["osl-a11", "osl-a12"])
    unit = make_unit(UnitStatus.ASSIGNED, incident_id=inc.id)
    new_inc, _ = decide.release(inc, unit, T1)
    assert new_inc.status is IncidentStatus.DISPATCHED
    assert new_inc.assigned_unit_ids == ["osl-a12"]


def test_assign_then_release_round_trip() -> None:
    inc = make_incident(IncidentStatus.TRIAGED)
    unit = make_unit(UnitStatus.AVAILABLE_AT_STATION)
    a_inc, a_unit = decide.assign(inc, unit, T1)
    r_inc, r_unit = decide.release(a_inc, a_unit, T2)
    assert r_inc.status is IncidentStatus.TRIAGED
    assert r_inc.assigned_unit_ids == []
    assert r_unit.status is UnitStatus.AVAILABLE_MOBILE
    assert r_unit.incident_id == ""


@pytest.mark.parametrize(
    ("unit_incident", "listed"),
    [("OSL-99", ["osl-a11"]), ("OSL-1", []), ("", [])],
    ids=["other-incident", "not-listed", "not-assigned"],
)
def test_release_unit_not_on_this_incident_is_refused(
    unit_incident: str, listed: list[str]
) -> None:
    inc = make_incident(IncidentStatus.DISPATCHED, units=listed)
    unit = make_unit(UnitStatus.EN_ROUTE, incident_id=unit_incident)
    with unchanged(inc, unit), pytest.raises(PreconditionError) as info:
        decide.release(inc, unit, T1)
    assert info.value.entity_id == unit.id


# ----------------------------------------------------------------- unit status changes


def test_assigned_through_status_change_is_refused() -> None:
    unit = make_unit(UnitStatus.AVAILABLE_AT_STATION)
    with unchanged(unit), pytest.raises(PreconditionError):
        decide.change_unit_status(unit, UnitStatus.ASSIGNED, None, T1)


def test_illegal_unit_status_change_is_refused() -> None:
    unit = make_unit(UnitStatus.AVAILABLE_AT_STATION)
    with unchanged(unit), pytest.raises(IllegalTransitionError):
        decide.change_unit_status(unit, UnitStatus.ON_SCENE, None, T1)


def test_free_unit_status_change_touches_no_incident() -> None:
    unit = make_unit(UnitStatus.AVAILABLE_AT_STATION)
    with unchanged(unit):
        new_unit, new_inc = decide.change_unit_status(unit, UnitStatus.OUT_OF_SERVICE, None, T1)
    assert new_inc is None
    assert new_unit.status is UnitStatus.OUT_OF_SERVICE
    assert new_unit.updated_at == T1


def test_en_route_does_not_change_the_incident() -> None:
    inc = make_incident(IncidentStatus.DISPATCHED, units=["osl-a11"])
    unit = make_unit(UnitStatus.ASSIGNED, incident_id=inc.id)
    with unchanged(inc, unit):
        new_unit, new_inc = decide.change_unit_status(unit, UnitStatus.EN_ROUTE, inc, T1)
    assert new_unit.status is UnitStatus.EN_ROUTE
    assert new_unit.incident_id == inc.id
    assert new_inc is None


@pytest.mark.parametrize(
    ("unit_from", "unit_to", "inc_from", "inc_to"),
    [
        (
            UnitStatus.EN_ROUTE,
            UnitStatus.ON_SCENE,
            IncidentStatus.DISPATCHED,
            IncidentStatus.ON_SCENE,
        ),
        (
            UnitStatus.ON_SCENE,
            UnitStatus.TRANSPORTING,
            IncidentStatus.ON_SCENE,
            IncidentStatus.TRANSPORTING,
        ),
        (
            UnitStatus.TRANSPORTING,
            UnitStatus.AT_HOSPITAL,
            IncidentStatus.TRANSPORTING,
            IncidentStatus.AT_HOSPITAL,
        ),
    ],
)
def test_unit_progress_moves_the_incident_along(
    unit_from: UnitStatus,
    unit_to: UnitStatus,
    inc_from: IncidentStatus,
    inc_to: IncidentStatus,
) -> None:
    inc = make_incident(inc_from, units=["osl-a11"])
    unit = make_unit(unit_from, incident_id=inc.id)
    with unchanged(inc, unit):
        new_unit, new_inc = decide.change_unit_status(unit, unit_to, inc, T1)
    assert new_unit.status is unit_to
    assert new_unit.incident_id == inc.id
    assert new_inc is not None
    assert new_inc.status is inc_to
    assert new_inc.updated_at == T1
    assert new_inc.assigned_unit_ids == ["osl-a11"]


@pytest.mark.parametrize(
    ("unit_from", "unit_to", "inc_status"),
    [
        # A second unit arriving when the first is already there.
        (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, IncidentStatus.ON_SCENE),
        # A second unit transporting after the first reached hospital: never backwards.
        (UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING, IncidentStatus.AT_HOSPITAL),
        (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, IncidentStatus.TRANSPORTING),
    ],
)
def test_unit_progress_never_moves_an_incident_that_is_ahead(
    unit_from: UnitStatus, unit_to: UnitStatus, inc_status: IncidentStatus
) -> None:
    inc = make_incident(inc_status, units=["osl-a11", "osl-a12"])
    unit = make_unit(unit_from, incident_id=inc.id)
    new_unit, new_inc = decide.change_unit_status(unit, unit_to, inc, T1)
    assert new_unit.status is unit_to
    assert new_inc is None


@pytest.mark.parametrize("available", AVAILABLE)
def test_available_from_hospital_detaches_the_unit(available: UnitStatus) -> None:
    inc = make_incident(IncidentStatus.AT_HOSPITAL, units=["osl-a11"])
    unit = make_unit(UnitStatus.AT_HOSPITAL, incident_id=inc.id)
    with unchanged(inc, unit):
        new_unit, new_inc = decide.change_unit_status(unit, available, inc, T1)
    assert new_unit.status is available
    assert new_unit.incident_id == ""
    assert new_inc is not None
    assert new_inc.assigned_unit_ids == []
    assert new_inc.status is IncidentStatus.AT_HOSPITAL
    assert new_inc.updated_at == T1


def test_available_from_scene_detaches_and_keeps_others() -> None:
    inc = make_incident(IncidentStatus.ON_SCENE, units=["osl-a12", "osl-a11"])
    unit = make_unit(UnitStatus.ON_SCENE, incident_id=inc.id)
    new_unit, new_inc = decide.change_unit_status(unit, UnitStatus.AVAILABLE_MOBILE, inc, T1)
    assert new_unit.incident_id == ""
    assert new_inc is not None
    assert new_inc.assigned_unit_ids == ["osl-a12"]
    assert new_inc.status is IncidentStatus.ON_SCENE


@pytest.mark.parametrize("supplied", [None, "OSL-2"], ids=["none", "wrong-incident"])
def test_unit_with_incident_needs_its_incident(supplied: str | None) -> None:
    unit = make_unit(UnitStatus.EN_ROUTE, incident_id="OSL-1")
    inc = None if supplied is None else make_incident(IncidentStatus.DISPATCHED, inc_id=supplied)
    with unchanged(unit, inc), pytest.raises(PreconditionError):
        decide.change_unit_status(unit, UnitStatus.ON_SCENE, inc, T1)


def test_full_call_on_a_fake_clock(table: CriteriaTable) -> None:
    inc = decide.create_incident(make_cmd(), "OSL-1", T0, table)
    inc = decide.triage(inc, AKUTT_CODE, T0 + 1, table)
    inc, unit = decide.assign(inc, make_unit(), T0 + 2)
    steps = [
        (UnitStatus.EN_ROUTE, IncidentStatus.DISPATCHED),
        (UnitStatus.ON_SCENE, IncidentStatus.ON_SCENE),
        (UnitStatus.TRANSPORTING, IncidentStatus.TRANSPORTING),
        (UnitStatus.AT_HOSPITAL, IncidentStatus.AT_HOSPITAL),
        (UnitStatus.AVAILABLE_AT_STATION, IncidentStatus.AT_HOSPITAL),
    ]
    now = T0 + 2
    for unit_status, inc_status in steps:
        now += 60
        unit, changed = decide.change_unit_status(unit, unit_status, inc, now)
        if changed is not None:
            inc = changed
        assert unit.status is unit_status
        assert inc.status is inc_status
    assert unit.incident_id == "" and inc.assigned_unit_ids == []
    inc = decide.change_incident_status(inc, IncidentStatus.CLOSED, now + 1)
    assert inc.status is IncidentStatus.CLOSED
    assert inc.created_at == T0 and inc.updated_at == now + 1
    assert [h.urgency for h in inc.urgency_history] == [Urgency.AKUTT]


# ------------------------------------------------------------------------- positions


def test_report_position() -> None:
    unit = make_unit(UnitStatus.EN_ROUTE, incident_id="OSL-1")
    pos = Position(60.0, 11.0, 3.0)
    with unchanged(unit, pos):
        new = decide.report_position(unit, pos, T1)
    assert new.position == pos and new.position is not pos
    assert new.updated_at == T1
    assert (new.status, new.incident_id, new.id) == (unit.status, unit.incident_id, unit.id)
    pos.lat = 0.0
    assert new.position.lat == 60.0
