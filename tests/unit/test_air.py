"""Air ambulance requests and missions (issue #19): the mission's transition table, and
the pure decisions on both sides (the requesting AMK's alert, the AMK-LA's mission)."""

from __future__ import annotations

import pytest

from actors.centre import wire
from actors.domain import air, alerts
from actors.domain import air_mission_lifecycle as lc
from actors.domain.commands import RecordAirMission
from actors.domain.errors import (
    IllegalTransitionError,
    InvalidArgumentError,
    PreconditionError,
)
from actors.domain.model import (
    AirMission,
    AlertService,
    AlertState,
    CrewLevel,
    Incident,
    IncidentStatus,
    Outcome,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
)
from actors.domain.model import AirMissionState as S

pytestmark = pytest.mark.timeout(30)

T0 = 1_700_000_000.0
LA = "luftambulanse-hso"
U = UnitStatus

# The lifecycle as documented in air_mission_lifecycle.py, written out independently.
EXPECTED: dict[S, set[S]] = {
    S.REQUESTED: {S.ACCEPTED, S.DECLINED, S.ABORTED},  # aborted: withdrawn by the requester
    S.ACCEPTED: {S.AIRBORNE, S.ABORTED},
    S.AIRBORNE: {S.ON_SCENE, S.ABORTED},
    S.ON_SCENE: {S.TRANSPORTING, S.COMPLETED},
    S.TRANSPORTING: {S.AT_HOSPITAL},
    S.AT_HOSPITAL: {S.COMPLETED},
    S.DECLINED: set(),
    S.COMPLETED: set(),
    S.ABORTED: set(),
}


def incident(status: IncidentStatus = IncidentStatus.TRIAGED) -> Incident:
    return Incident(
        id="INN-000001",
        region="innlandet",
        status=status,
        position=Position(61.78, 9.35, 50.0),
        created_at=T0,
        updated_at=T0,
        urgency=Urgency.AKUTT,
        address="Sognefjellsvegen, Lom",
        criteria_code="A.35.01",
    )


def heli(status: UnitStatus = U.AVAILABLE_AT_STATION, region: str = LA, **kw) -> Unit:
    return Unit(
        id="inn-h01",
        call_sign="Legehelikopter Dombås",
        region=region,
        kind=UnitKind.HELICOPTER,
        crew=CrewLevel.DOCTOR,
        status=status,
        position=Position(62.07, 9.11),
        station="Dombås",
        updated_at=T0,
        home_region=LA,
        **kw,
    )


def requested() -> tuple[Incident, str, AirMission]:
    """An incident with a request, and the mission its delivery opens at the AMK-LA."""
    inc, alert = air.request(incident(), UnitKind.HELICOPTER, "trapped, remote", LA, "kari", T0)
    cmd = air.open_command(inc, alert, LA)
    mission = air.open_mission(cmd, air.mission_id("LAH", inc.id, alert.id), T0 + 1)
    return inc, alert.id, mission


# ---------------------------------------------------------------- the table


def test_table_is_the_documented_lifecycle() -> None:
    assert set(lc.TRANSITIONS) == set(S)
    assert {k: set(v) for k, v in lc.TRANSITIONS.items()} == EXPECTED
    assert lc.TERMINAL == {S.DECLINED, S.COMPLETED, S.ABORTED}
    assert not any(lc.is_open(s) for s in lc.TERMINAL)


@pytest.mark.parametrize(("a", "b"), [(a, b) for a in S for b in S if b in EXPECTED[a]])
def test_allowed_moves(a: S, b: S) -> None:
    assert lc.transition("m1", a, b) is b


@pytest.mark.parametrize(("a", "b"), [(a, b) for a in S for b in S if b not in EXPECTED[a]])
def test_forbidden_moves_raise(a: S, b: S) -> None:
    with pytest.raises(IllegalTransitionError, match=f"air mission m1: cannot go from {a} to"):
        lc.transition("m1", a, b)


def test_every_unit_status_the_mission_follows_is_a_legal_step_from_the_one_before() -> None:
    # The aircraft's own lifecycle, walked along: each step is one the mission allows.
    state = S.ACCEPTED
    for status in (U.EN_ROUTE, U.ON_SCENE, U.TRANSPORTING, U.AT_HOSPITAL, U.AVAILABLE_MOBILE):
        state = lc.transition("m1", state, lc.FOLLOWS_UNIT[status])
    assert state is S.COMPLETED


# ---------------------------------------------------------------- the requesting AMK


def test_a_request_is_a_sent_air_alert_to_the_amk_la_awaiting_delivery() -> None:
    before = incident()
    inc, alert = air.request(before, UnitKind.HELICOPTER, "trapped", LA, "kari", T0 + 5)
    assert before.alerts == []  # input untouched
    assert (alert.service, alert.state, alert.recipient) == (
        AlertService.AIR_AMBULANCE,
        AlertState.SENT,
        LA,
    )
    assert (alert.air_kind, alert.sent_at, alert.sent_by, alert.reason) == (
        UnitKind.HELICOPTER,
        T0 + 5,
        "kari",
        "trapped",
    )
    assert air.undelivered(inc) == [alert]
    cmd = air.open_command(inc, alert, LA)
    assert cmd.request_id == f"air-open-{inc.id}-{alert.id}"
    assert (cmd.region, cmd.incident_region, cmd.urgency) == (LA, "innlandet", Urgency.AKUTT)


def test_one_open_request_per_incident_and_only_for_aircraft_and_open_incidents() -> None:
    inc, _ = air.request(incident(), UnitKind.HELICOPTER, "x", LA, "kari", T0)
    with pytest.raises(PreconditionError, match="not answered yet"):
        air.request(inc, UnitKind.FIXED_WING, "y", LA, "kari", T0)
    with pytest.raises(InvalidArgumentError) as err:
        air.request(incident(), UnitKind.ROAD_AMBULANCE, "x", LA, "kari", T0)
    assert err.value.field == "kind"
    with pytest.raises(PreconditionError, match="closed"):
        air.request(incident(IncidentStatus.CLOSED), UnitKind.HELICOPTER, "x", LA, "k", T0)


def test_delivery_is_marked_once_and_a_report_proves_it_too() -> None:
    inc, alert_id, mission = requested()
    marked = air.mark_delivered(inc, alert_id, mission.id, mission.received_at, T0 + 2)
    assert marked is not None and air.undelivered(marked) == []
    a = alerts.find(marked, alert_id)
    assert (a.delivered_at, a.mission_id) == (T0 + 1, mission.id)
    assert air.mark_delivered(marked, alert_id, mission.id, T0 + 9, T0 + 9) is None
    # A report of the answer arriving before the mark records delivery as well.
    accepted, _ = air.accept(mission, heli(), "Dr. Lege", "la-koord", T0 + 3)
    reported = air.record_report(inc, air.report_of(accepted), T0 + 4)
    assert reported is not None and air.undelivered(reported) == []
    assert alerts.find(reported, alert_id).delivered_at == T0 + 1


def test_acceptance_acknowledges_the_alert_with_the_aircraft_and_the_base_doctor() -> None:
    inc, alert_id, mission = requested()
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la-koord", T0 + 3)
    assert (unit.status, unit.mission_id) == (U.ASSIGNED, mission.id)
    assert (accepted.state, accepted.unit_id, accepted.seq) == (S.ACCEPTED, "inn-h01", 2)
    assert air.unreported(accepted) and not air.unreported(mission)
    new = air.record_report(inc, air.report_of(accepted), T0 + 4)
    assert new is not None
    a = alerts.find(new, alert_id)
    assert (a.state, a.acknowledged_at, a.acknowledged_by) == (
        AlertState.ACKNOWLEDGED,
        T0 + 3,  # when the base answered, not when it was recorded here
        "la-koord",
    )
    assert (a.aircraft_unit_id, a.base_doctor, a.mission_state) == (
        "inn-h01",
        "Dr. Lege",
        S.ACCEPTED,
    )


def test_a_decline_is_a_final_state_with_the_reason() -> None:
    inc, alert_id, mission = requested()
    declined = air.decline(mission, "weather: fog over Lesja", "Dr. Lege", "la-koord", T0 + 3)
    assert (declined.state, declined.closed_at) == (S.DECLINED, T0 + 3)
    new = air.record_report(inc, air.report_of(declined), T0 + 4)
    assert new is not None
    a = alerts.find(new, alert_id)
    assert (a.state, a.declined_at, a.declined_by, a.note) == (
        AlertState.DECLINED,
        T0 + 3,
        "la-koord",
        "weather: fog over Lesja",
    )
    # Declined is final: a new request may go out at once.
    again, second = air.request(new, UnitKind.FIXED_WING, "then by air via Vagar", LA, "k", T0 + 5)
    assert second.id != alert_id and len(again.alerts) == 2
    with pytest.raises(InvalidArgumentError) as err:
        air.decline(mission, "  ", "", "la-koord", T0)
    assert err.value.field == "reason"


def test_an_incident_expects_word_until_its_mission_has_ended() -> None:
    inc, _, mission = requested()
    assert air.exchange_open(inc)  # sent, not answered
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0)
    inc = air.record_report(inc, air.report_of(m), T0)
    assert inc is not None and air.exchange_open(inc)  # accepted, the aircraft not free
    unit, m = air.aircraft_status(unit, m, U.EN_ROUTE, "crew", T0)
    unit, m = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0)
    unit, m = air.aircraft_status(unit, m, U.AVAILABLE_MOBILE, "crew", T0)
    inc = air.record_report(inc, air.report_of(m), T0)
    assert inc is not None and not air.exchange_open(inc)
    declined, _, d = requested()
    done = air.record_report(declined, air.report_of(air.decline(d, "fog", "", "la", T0)), T0)
    assert done is not None and not air.exchange_open(done)
    assert not air.exchange_open(incident())


def test_a_report_older_than_the_alert_holds_changes_nothing() -> None:
    inc, _, mission = requested()
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    unit, airborne = air.aircraft_status(unit, accepted, U.EN_ROUTE, "crew", T0 + 4)
    late = air.record_report(inc, air.report_of(airborne), T0 + 5)
    assert late is not None
    # The acceptance report delivered after the airborne one (or a repeat): ignored.
    assert air.record_report(late, air.report_of(accepted), T0 + 6) is None
    assert air.record_report(late, air.report_of(airborne), T0 + 6) is None
    a = late.alerts[0]
    assert (a.state, a.mission_state, a.mission_seq) == (AlertState.ACKNOWLEDGED, S.AIRBORNE, 3)


def test_a_report_for_an_alert_that_is_no_air_request_is_refused() -> None:
    inc = incident()
    inc.alerts.append(alerts.Alert("a1", AlertService.FIRE_110, AlertState.SENT))
    report = RecordAirMission("r", inc.id, "a1", "m", 2, S.ACCEPTED, T0, T0)
    with pytest.raises(PreconditionError, match="not an air ambulance request"):
        air.record_report(inc, report, T0)


def test_air_alerts_are_not_acknowledged_plainly_cancelled_or_sent_by_hand() -> None:
    inc, alert_id, _ = requested()
    with pytest.raises(PreconditionError, match="AMK-LA answers it"):
        alerts.acknowledge(inc, alert_id, "someone", T0)
    # Withdrawn with air.withdraw (the AMK-LA is told), never a plain cancel.
    with pytest.raises(PreconditionError, match="is an air ambulance request"):
        alerts.cancel(inc, alert_id, "kari", "not needed", T0)
    with pytest.raises(InvalidArgumentError) as err:
        alerts.send(incident(), AlertService.AIR_AMBULANCE, "x", "kari", T0)
    assert err.value.field == "service"


# ---------------------------------------------------------------- the AMK-LA


def test_the_mission_id_derives_from_incident_and_alert() -> None:
    _, alert_id, mission = requested()
    assert mission.id == f"LAH-INN-000001-{alert_id}"
    assert air.mission_id("LAH", "INN-000001", alert_id) == mission.id
    assert (mission.state, mission.seq, mission.reported_seq) == (S.REQUESTED, 1, 1)
    assert (mission.requested_by, mission.reason, mission.received_at) == (
        "kari",
        "trapped, remote",
        T0 + 1,
    )


@pytest.mark.parametrize(
    ("unit", "match"),
    [
        (heli(U.EN_ROUTE), "not available"),
        (heli(mission_id="LAH-OTHER-a1"), "not available"),
        (heli(region="oslo"), "serves oslo"),
    ],
    ids=["busy", "on-another-mission", "other-region"],
)
def test_accept_needs_a_free_aircraft_of_the_region(unit: Unit, match: str) -> None:
    _, _, mission = requested()
    with pytest.raises(PreconditionError, match=match):
        air.accept(mission, unit, "Dr. Lege", "la", T0)


def test_accept_needs_the_base_doctor_and_an_aircraft() -> None:
    _, _, mission = requested()
    with pytest.raises(InvalidArgumentError) as err:
        air.accept(mission, heli(), " ", "la", T0)
    assert err.value.field == "base_doctor"
    road = heli()
    road.kind = UnitKind.ROAD_AMBULANCE
    with pytest.raises(PreconditionError, match="not an aircraft"):
        air.accept(mission, road, "Dr. Lege", "la", T0)


def test_the_mission_follows_the_aircraft_to_the_end() -> None:
    _, _, mission = requested()
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 1)
    states = []
    for i, status in enumerate(
        (U.EN_ROUTE, U.ON_SCENE, U.TRANSPORTING, U.AT_HOSPITAL, U.AVAILABLE_AT_STATION)
    ):
        unit, m = air.aircraft_status(unit, m, status, "crew", T0 + 10 + i)
        states.append(m.state)
    assert states == [S.AIRBORNE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL, S.COMPLETED]
    assert (unit.status, unit.mission_id) == (U.AVAILABLE_AT_STATION, "")
    assert (m.closed_at, m.seq) == (T0 + 14, 7)
    assert [e.state for e in m.events] == [S.REQUESTED, S.ACCEPTED, *states]


def test_an_aircraft_freed_on_scene_completes_the_mission_and_illegal_steps_change_nothing() -> (
    None
):
    _, _, mission = requested()
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0)
    with pytest.raises(IllegalTransitionError):
        air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0)  # not airborne yet
    unit, m = air.aircraft_status(unit, m, U.EN_ROUTE, "crew", T0)
    unit, m = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0)
    unit, m = air.aircraft_status(unit, m, U.AVAILABLE_MOBILE, "crew", T0)
    assert (m.state, unit.mission_id) == (S.COMPLETED, "")


def test_abort_frees_the_aircraft_before_it_reaches_the_patient() -> None:
    _, _, mission = requested()
    m, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0)
    unit, m = air.aircraft_status(unit, m, U.EN_ROUTE, "crew", T0 + 1)
    aborted, freed = air.abort(m, unit, "turned back: icing", "la", T0 + 2)
    assert aborted.state is S.ABORTED and freed is not None
    assert (freed.status, freed.mission_id) == (U.AVAILABLE_MOBILE, "")
    on_scene = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0 + 3)[1]
    with pytest.raises(IllegalTransitionError):
        air.abort(on_scene, unit, "x", "la", T0)


def test_reports_are_marked_in_order_and_never_ahead() -> None:
    _, _, mission = requested()
    m, _ = air.accept(mission, heli(), "Dr. Lege", "la", T0)
    assert air.report_of(m).request_id == f"air-report-{m.id}-2"
    marked = air.mark_reported(m, 2)
    assert marked is not None and not air.unreported(marked)
    assert air.mark_reported(marked, 2) is None and air.mark_reported(marked, 1) is None
    with pytest.raises(PreconditionError, match="never made"):
        air.mark_reported(m, 3)


# ---------------------------------------------------------------- stored and sent forms


def test_mission_alert_and_outcome_round_trip_through_json_and_the_wire() -> None:
    inc, _, mission = requested()
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    inc = air.record_report(inc, air.report_of(accepted), T0 + 4)
    assert inc is not None
    assert AirMission.decode(accepted.encode()) == accepted
    assert Incident.decode(inc.encode()) == inc
    assert Unit.decode(unit.encode()).mission_id == mission.id
    out = Outcome(incident=inc, unit=unit, mission=accepted)
    back = Outcome.decode(out.encode(), 7)
    assert back.require_mission().state is S.ACCEPTED and back.mission.revision == 7
    assert wire.loads(wire.dumps(out)) == out
    assert wire.loads(wire.dumps(air.report_of(accepted))) == air.report_of(accepted)
