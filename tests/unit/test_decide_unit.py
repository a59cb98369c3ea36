"""Pure unit decisions on a fake clock (assign, release, unit status, position): new
records out, inputs never touched."""

from __future__ import annotations

import pytest

from actors.domain import decide
from actors.domain.errors import IllegalTransitionError, PreconditionError
from actors.domain.model import IncidentStatus, Position, UnitStatus, Urgency
from actors.domain.triage import CriteriaTable, default_table
from tests.unit.decide_support import (
    AKUTT_CODE,
    AVAILABLE,
    BUSY,
    T0,
    T1,
    T2,
    make_cmd,
    make_incident,
    make_unit,
    unchanged,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def table() -> CriteriaTable:
    return default_table()


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
