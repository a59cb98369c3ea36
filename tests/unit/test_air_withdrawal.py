"""Withdrawing an air ambulance request from the requesting AMK: the pure decisions on
both sides (the incident's alert and its outbox, the AMK-LA's mission)."""

from __future__ import annotations

import json

import pytest

from actors.domain import air, air_mission_lifecycle, alerts
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.model import AirMission, Alert, AlertService, AlertState, Incident
from actors.domain.model import AirMissionState as S
from actors.domain.model import UnitStatus as U
from tests.unit.test_air import T0, heli, incident, requested

pytestmark = pytest.mark.timeout(30)


def delivered() -> tuple[Incident, str, AirMission]:
    """A request the AMK-LA has: its mission opened and the receipt recorded."""
    inc, alert_id, mission = requested()
    marked = air.mark_delivered(inc, alert_id, mission.id, mission.received_at, T0 + 2)
    assert marked is not None
    return marked, alert_id, mission


def test_an_unanswered_request_is_cancelled_and_owed_to_the_amk_la() -> None:
    inc, alert_id, mission = delivered()
    new = air.withdraw(inc, alert_id, "kari", "patient dead on arrival of road unit", T0 + 5)
    a = alerts.find(new, alert_id)
    assert (a.state, a.cancelled_at, a.cancelled_by) == (AlertState.CANCELLED, T0 + 5, "kari")
    assert (a.withdrawn_at, a.withdrawn_by, a.note) == (
        T0 + 5,
        "kari",
        "patient dead on arrival of road unit",
    )
    assert alerts.find(inc, alert_id).withdrawn_at == 0.0  # input untouched
    assert air.withdrawal_pending(a) and air.exchange_open(new)
    cmd = air.withdrawal_command(new, a, "LAH")
    assert (cmd.request_id, cmd.mission_id, cmd.request.incident_region, cmd.withdrawn_by) == (
        f"air-withdraw-{inc.id}-{alert_id}",
        mission.id,
        "innlandet",
        "kari",
    )
    # The AMK-LA aborts the mission; its report reaches the alert like any other.
    aborted, freed = air.withdraw_mission(mission, None, cmd, T0 + 6)
    assert freed is None
    assert (aborted.state, aborted.closed_at, aborted.seq) == (S.ABORTED, T0 + 6, 2)
    assert aborted.events[-1].note == (
        "withdrawn by the requesting AMK (innlandet, kari): patient dead on arrival of road unit"
    )
    assert (aborted.withdrawn_at, aborted.withdrawn_by, aborted.withdrawal_answer) == (
        T0 + 6,
        "kari",
        S.ABORTED,
    )
    assert aborted.withdrawal_reason == "patient dead on arrival of road unit"
    assert mission.withdrawn_at == 0.0  # input untouched
    answered = air.mark_withdrawal_delivered(new, alert_id, mission.id, S.ABORTED, T0 + 7, T0 + 7)
    assert answered is not None
    assert not air.withdrawal_pending(alerts.find(answered, alert_id))
    assert air.exchange_open(answered)  # the mission's end is not reported yet
    repeat = air.mark_withdrawal_delivered(answered, alert_id, mission.id, S.ON_SCENE, T0 + 8, T0)
    assert repeat is None
    reported = air.record_report(answered, air.report_of(aborted), T0 + 9)
    assert reported is not None
    a = alerts.find(reported, alert_id)
    assert (a.state, a.mission_state) == (AlertState.CANCELLED, S.ABORTED)
    assert not air.exchange_open(reported)  # nothing more to hear: it may be archived


def test_an_accepted_request_stays_acknowledged_and_the_aircraft_is_stood_down() -> None:
    inc, alert_id, mission = delivered()
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    unit, airborne = air.aircraft_status(unit, accepted, U.EN_ROUTE, "crew", T0 + 4)
    inc = air.record_report(inc, air.report_of(airborne), T0 + 5)
    assert inc is not None
    new = air.withdraw(inc, alert_id, "kari", "road unit on scene first", T0 + 6)
    a = alerts.find(new, alert_id)
    assert (a.state, a.withdrawn_at, a.cancelled_at) == (AlertState.ACKNOWLEDGED, T0 + 6, 0.0)
    cmd = air.withdrawal_command(new, a, "LAH")
    aborted, freed = air.withdraw_mission(airborne, unit, cmd, T0 + 7)
    assert aborted.state is S.ABORTED and freed is not None
    assert (freed.status, freed.mission_id) == (U.AVAILABLE_MOBILE, "")


def test_a_request_not_yet_delivered_is_withdrawn_at_the_amk_la_all_the_same() -> None:
    """The request may be on its way, or may have landed with its answer lost: the
    withdrawal is owed anyway, and where no mission is, the AMK-LA keeps an aborted one
    so that the request, arriving late, opens nothing."""
    inc, alert_id, _ = requested()  # committed; its delivery not recorded
    new = air.withdraw(inc, alert_id, "kari", "not needed", T0 + 5)
    a = alerts.find(new, alert_id)
    assert a.state is AlertState.CANCELLED and air.withdrawal_pending(a)
    assert air.undelivered(new) == []  # the request itself is not sent any more
    assert air.exchange_open(new)  # not archived while the withdrawal is owed
    cmd = air.withdrawal_command(new, a, "LAH")
    assert cmd.mission_id == air.mission_id("LAH", inc.id, alert_id)  # derived, not known
    tombstone, freed = air.withdraw_mission(None, None, cmd, T0 + 6)
    assert freed is None and (tombstone.state, tombstone.seq) == (S.ABORTED, 2)
    assert tombstone.received_at == 0.0  # the request itself never came
    assert [e.state for e in tombstone.events] == [S.REQUESTED, S.ABORTED]
    assert tombstone.events[-1].note.endswith("not needed (before the request came)")
    assert air.unreported(tombstone)  # its end goes back to the incident like any change
    answered = air.mark_withdrawal_delivered(new, alert_id, cmd.mission_id, S.ABORTED, T0 + 7, T0)
    assert answered is not None and alerts.find(answered, alert_id).mission_id == cmd.mission_id
    # A report of the answer given before the withdrawal arrived does not undo it.
    reported = air.record_report(
        new, air.report_of(air.decline(tombstone_of(cmd), "x", "", "la", T0)), T0
    )
    assert reported is not None and alerts.find(reported, alert_id).state is AlertState.CANCELLED


def tombstone_of(cmd) -> AirMission:
    return air.open_mission(cmd.request, cmd.mission_id, T0 + 1)


def test_too_late_or_twice_is_refused_and_a_reason_is_required() -> None:
    inc, alert_id, mission = delivered()
    with pytest.raises(InvalidArgumentError) as err:
        air.withdraw(inc, alert_id, "kari", "  ", T0)
    assert err.value.field == "reason"
    once = air.withdraw(inc, alert_id, "kari", "not needed", T0)
    with pytest.raises(PreconditionError, match="withdrawn already"):
        air.withdraw(once, alert_id, "kari", "again", T0)
    # Declined by the base: nothing to withdraw.
    declined = air.record_report(inc, air.report_of(air.decline(mission, "fog", "", "la", T0)), T0)
    assert declined is not None
    with pytest.raises(PreconditionError, match="declined"):
        air.withdraw(declined, alert_id, "kari", "x", T0)
    # The aircraft at the patient: the mission completes when it is free.
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0)
    unit, m = air.aircraft_status(unit, accepted, U.EN_ROUTE, "crew", T0)
    unit, m = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0)
    there = air.record_report(inc, air.report_of(m), T0)
    assert there is not None
    with pytest.raises(PreconditionError, match="at the patient"):
        air.withdraw(there, alert_id, "kari", "x", T0)
    # The coordinator declines an unanswered request (with why); it aborts only a flying one.
    with pytest.raises(PreconditionError, match="decline it"):
        air.abort(mission, None, "not needed", "la", T0)
    # Not an air request.
    fire = incident()
    fire.alerts.append(alerts.Alert("a1", AlertService.FIRE_110, AlertState.SENT))
    with pytest.raises(PreconditionError, match="not an air ambulance request"):
        air.withdraw(fire, "a1", "kari", "x", T0)


def test_the_amk_la_changes_nothing_once_the_aircraft_is_there_or_the_mission_ended() -> None:
    inc, alert_id, mission = delivered()
    cmd = air.withdrawal_command(*_withdrawn(inc, alert_id), "LAH")
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0)
    unit, m = air.aircraft_status(unit, accepted, U.EN_ROUTE, "crew", T0)
    unit, on_scene = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0)
    # The withdrawal came late: the mission goes on, the withdrawal noted in its events.
    noted, freed = air.withdraw_mission(on_scene, unit, cmd, T0 + 9)
    assert (noted.state, noted.seq, freed) == (S.ON_SCENE, on_scene.seq, None)
    assert noted.reported_seq == on_scene.reported_seq  # nothing new to report back
    assert noted.events[:-1] == on_scene.events and noted.events[-1].state is S.ON_SCENE
    assert noted.events[-1].note.endswith("not needed (too late: on_scene)")
    declined = air.decline(mission, "fog", "", "la", T0)
    assert air.withdraw_mission(declined, None, cmd, T0)[0].state is S.DECLINED
    # The alert then hears of the mission's end and owes nothing more.
    ended = air.record_report(_withdrawn(inc, alert_id)[0], air.report_of(declined), T0)
    assert ended is not None and not air.withdrawal_pending(alerts.find(ended, alert_id))


def _withdrawn(inc: Incident, alert_id: str) -> tuple[Incident, Alert]:
    new = air.withdraw(inc, alert_id, "kari", "not needed", T0 + 5)
    return new, alerts.find(new, alert_id)


def test_a_withdrawal_after_the_aircraft_reached_the_patient_is_kept_on_the_mission() -> None:
    """Too late to stand the aircraft down: the mission goes on, and it keeps who
    withdrew, when, why and what the withdrawal found, for the AMK-LA's coordinator."""
    inc, alert_id, mission = delivered()
    accepted, unit = air.accept(mission, heli(), "Dr. Lege", "la", T0 + 3)
    unit, m = air.aircraft_status(unit, accepted, U.EN_ROUTE, "crew", T0 + 4)
    unit, there = air.aircraft_status(unit, m, U.ON_SCENE, "crew", T0 + 5)
    new = air.withdraw(inc, alert_id, "kari", "road unit took the patient", T0 + 6)
    cmd = air.withdrawal_command(new, alerts.find(new, alert_id), "LAH")
    late, freed = air.withdraw_mission(there, unit, cmd, T0 + 7)
    assert freed is None and late.state is there.state
    assert there.state in air_mission_lifecycle.AT_PATIENT
    assert (late.withdrawn_at, late.withdrawn_by, late.withdrawal_answer) == (
        T0 + 7,
        "kari",
        there.state,
    )
    assert late.withdrawal_reason == "road unit took the patient"
    assert late.events[-1].note.endswith(f"(too late: {there.state.value})")
    back = AirMission.decode(late.encode())
    assert back.withdrawal_answer is there.state  # the enum, not its string
    assert (back.withdrawn_at, back.withdrawal_reason) == (T0 + 7, late.withdrawal_reason)
    stored = json.loads(mission.encode())  # a mission stored before these fields came
    for key in ("withdrawn_at", "withdrawn_by", "withdrawal_reason", "withdrawal_answer"):
        del stored[key]
    before = AirMission.from_dict(stored)
    assert (before.withdrawn_at, before.withdrawn_by, before.withdrawal_answer) == (0.0, "", None)
