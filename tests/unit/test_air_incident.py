"""The incident of an air ambulance request, as its dispatcher sees it: the aircraft's
mission moves the incident as a road unit's statuses do, and the incident cannot be
closed or cancelled while a base decides to fly or an aircraft works it."""

from __future__ import annotations

import pytest

from actors.domain import air, alerts, decide, kpi
from actors.domain.errors import PreconditionError
from actors.domain.model import AirMission, Incident, IncidentStatus, Unit
from actors.domain.model import UnitStatus as U
from tests.unit.test_air import T0, heli, incident, requested

pytestmark = pytest.mark.timeout(30)

IS = IncidentStatus


def flown(inc: Incident, mission: AirMission, *statuses: U) -> tuple[Incident, AirMission, Unit]:
    """The mission accepted, the aircraft through ``statuses``, each reported to ``inc``."""
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la-koord", T0 + 3)
    got = air.record_report(inc, air.report_of(m), T0 + 4)
    assert got is not None
    for n, status in enumerate(statuses):
        unit, m = air.aircraft_status(unit, m, status, "crew", T0 + 5 + n)
        got = air.record_report(got, air.report_of(m), T0 + 5 + n) or got
    return got, m, unit


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((), IS.DISPATCHED),  # accepted: an aircraft is sent
        ((U.EN_ROUTE,), IS.DISPATCHED),
        ((U.EN_ROUTE, U.ON_SCENE), IS.ON_SCENE),
        ((U.EN_ROUTE, U.ON_SCENE, U.TRANSPORTING), IS.TRANSPORTING),
        ((U.EN_ROUTE, U.ON_SCENE, U.TRANSPORTING, U.AT_HOSPITAL), IS.AT_HOSPITAL),
        # Free again from the scene (the patient went by road): the incident stays there.
        ((U.EN_ROUTE, U.ON_SCENE, U.AVAILABLE_MOBILE), IS.ON_SCENE),
    ],
)
def test_the_incident_follows_its_aircraft(statuses: tuple[U, ...], expected: IS) -> None:
    inc, _, mission = requested()
    assert inc.status is IS.TRIAGED
    got, _, _ = flown(inc, mission, *statuses)
    assert got.status is expected


def test_only_the_newest_report_arriving_still_walks_the_incident_forward() -> None:
    inc, _, mission = requested()
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    for status in (U.EN_ROUTE, U.ON_SCENE, U.TRANSPORTING):
        unit, m = air.aircraft_status(unit, m, status, "crew", T0 + 4)
    got = air.record_report(inc, air.report_of(m), T0 + 5)  # the earlier ones never came
    assert got is not None and got.status is IS.TRANSPORTING


def test_a_road_unit_further_on_is_not_moved_back() -> None:
    inc, _, mission = requested()
    ahead = decide._copy(inc)
    ahead.status = IS.TRANSPORTING
    ahead.assigned_unit_ids = ["inn-a01"]
    got, _, _ = flown(ahead, mission, U.EN_ROUTE, U.ON_SCENE)
    assert got.status is IS.TRANSPORTING


def test_a_mission_stood_down_sets_the_incident_waiting_again() -> None:
    inc, alert_id, mission = requested()
    got, m, unit = flown(inc, mission, U.EN_ROUTE)
    assert got.status is IS.DISPATCHED
    aborted, _ = air.abort(m, unit, "weather: fog", "la-koord", T0 + 9)
    back = air.record_report(got, air.report_of(aborted), T0 + 10)
    assert back is not None and back.status is IS.TRIAGED
    # Withdrawn by the requesting AMK instead: called off at once, as a road unit released.
    withdrawn = air.withdraw(got, alert_id, "kari", "a road unit got there first", T0 + 9)
    assert withdrawn.status is IS.TRIAGED


def test_releasing_the_last_road_unit_keeps_the_incident_dispatched_while_an_aircraft_flies() -> (
    None
):
    inc, _, mission = requested()
    got, _, _ = flown(inc, mission, U.EN_ROUTE)
    road = heli(status=U.AVAILABLE_AT_STATION, region="innlandet")
    with_road, road = decide.assign(got, road, T0 + 20)
    left, _ = decide.release(with_road, road, T0 + 21)
    assert left.status is IS.DISPATCHED and left.assigned_unit_ids == []
    # Without the aircraft, the same release sets it waiting.
    alone, road2 = decide.assign(incident(), heli(region="innlandet"), T0 + 20)
    assert decide.release(alone, road2, T0 + 21)[0].status is IS.TRIAGED


def test_an_incident_is_not_cancelled_while_a_base_decides_or_an_aircraft_is_on_its_way() -> None:
    inc, alert_id, mission = requested()
    with pytest.raises(PreconditionError, match="awaits the base's answer; withdraw it first"):
        decide.change_incident_status(inc, IS.CANCELLED, T0 + 2)
    on_way, _, _ = flown(inc, mission, U.EN_ROUTE)
    with pytest.raises(PreconditionError, match=r"inn-h01 is airborne .*withdraw the request"):
        decide.change_incident_status(on_way, IS.CANCELLED, T0 + 9)
    withdrawn = air.withdraw(on_way, alert_id, "kari", "patient died", T0 + 10)
    assert decide.change_incident_status(withdrawn, IS.CANCELLED, T0 + 11).status is IS.CANCELLED


def test_an_incident_is_not_closed_while_a_base_decides_or_an_aircraft_is_at_the_patient() -> None:
    inc, _, mission = requested()  # triaged: could be closed (advice on the phone)
    with pytest.raises(PreconditionError, match="awaits the base's answer; withdraw it first"):
        decide.change_incident_status(inc, IS.CLOSED, T0 + 2)
    there, m, unit = flown(inc, mission, U.EN_ROUTE, U.ON_SCENE)
    for end in (IS.CLOSED, IS.CANCELLED):  # cancelled: the aircraft's reason, not the table's
        with pytest.raises(PreconditionError, match=r"inn-h01 is on_scene .*once the aircraft"):
            decide.change_incident_status(there, end, T0 + 9)
    unit, m = air.aircraft_status(unit, m, U.AVAILABLE_MOBILE, "crew", T0 + 20)
    free = air.record_report(there, air.report_of(m), T0 + 21)
    assert free is not None and alerts.air_holding(free) == ""
    assert decide.change_incident_status(free, IS.CLOSED, T0 + 22).status is IS.CLOSED


def test_a_withdrawal_too_late_leaves_the_aircraft_working_the_incident() -> None:
    inc, alert_id, mission = requested()
    on_way, m, unit = flown(inc, mission, U.EN_ROUTE)
    withdrawn = air.withdraw(on_way, alert_id, "kari", "a road unit is nearer", T0 + 20)
    assert withdrawn.status is IS.TRIAGED  # called off, as far as this side knows
    # It had landed already: the AMK-LA's reports say so, and they count.
    unit, m = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0 + 19)
    there = air.record_report(withdrawn, air.report_of(m), T0 + 21)
    assert there is not None and there.status is IS.ON_SCENE
    with pytest.raises(PreconditionError, match="inn-h01 is on_scene"):
        decide.change_incident_status(there, IS.CLOSED, T0 + 22)


def test_a_completed_report_alone_still_says_the_aircraft_reached_the_patient() -> None:
    inc, _, mission = requested()
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    dispatched = air.record_report(inc, air.report_of(m), T0 + 4)
    assert dispatched is not None and dispatched.status is IS.DISPATCHED
    for status in (U.EN_ROUTE, U.ON_SCENE, U.AVAILABLE_MOBILE):
        unit, m = air.aircraft_status(unit, m, status, "crew", T0 + 5)
    done = air.record_report(dispatched, air.report_of(m), T0 + 6)  # the others never came
    assert done is not None and done.status is IS.ON_SCENE  # not waiting again


def test_the_report_that_puts_the_incident_on_scene_says_so_for_the_kpis() -> None:
    inc, _, mission = requested()
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    dispatched = air.record_report(inc, report := air.report_of(m), T0 + 4)
    assert dispatched is not None and air.on_scene_details(inc, dispatched, report) == {}
    unit, m = air.aircraft_status(unit, m, U.EN_ROUTE, "crew", T0 + 5)
    unit, m = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0 + 600)
    report = air.report_of(m)
    there = air.record_report(dispatched, report, T0 + 601)
    assert there is not None
    details = air.on_scene_details(dispatched, there, report)
    assert details == {kpi.ON_SCENE_OF: inc.id, kpi.OCCURRED_AT: T0 + 600}
    # Read as the KPIs read the journal: the arrival by air is the incident's on scene.
    entry = {"command": kpi.AIR_REPORT, "ids": [inc.id], "at": T0 + 601, **details}
    later_road = {"command": "ChangeUnitStatus", "ids": [inc.id, "inn-a01"], "at": T0 + 900}
    assert kpi.first_on_scene([later_road, entry])[inc.id] == T0 + 600
    # Already on scene by road: the aircraft's report puts nothing on scene.
    ahead = decide._copy(dispatched)
    ahead.status = IS.ON_SCENE
    assert air.on_scene_details(ahead, air.record_report(ahead, report, T0 + 601), report) == {}
