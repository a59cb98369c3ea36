"""Diverting a unit on its way to one incident to another (pure decision, the candidates,
the gateway's fields, the KPI's dispatch time, the CLI), and releasing a unit with a
patient aboard (only with a reason)."""

from __future__ import annotations

import pytest

from actors.domain import decide, diversion, kpi
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.model import IncidentStatus, Outcome, UnitStatus, Urgency
from actors.domain.recommend import recommend
from actors.gateway import convert
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli import build_parser
from tests.unit.decide_support import T0, T1, make_incident, make_unit, unchanged

pytestmark = pytest.mark.timeout(30)


def on_its_way(
    status: UnitStatus = UnitStatus.EN_ROUTE,
    from_urgency: Urgency | None = Urgency.VANLIG,
    to_urgency: Urgency | None = Urgency.AKUTT,
    others: list[str] | None = None,
):
    left = make_incident(
        IncidentStatus.DISPATCHED, units=["osl-a11", *(others or [])], urgency=from_urgency
    )
    to = make_incident(IncidentStatus.TRIAGED, units=[], urgency=to_urgency, inc_id="OSL-2")
    unit = make_unit(status, incident_id=left.id)
    return left, to, unit


@pytest.mark.parametrize("status", [UnitStatus.ASSIGNED, UnitStatus.EN_ROUTE])
def test_a_unit_on_its_way_goes_to_the_more_urgent_incident_in_one_step(
    status: UnitStatus,
) -> None:
    left, to, unit = on_its_way(status)
    with unchanged(left, to, unit):
        new_left, new_to, new_unit = decide.divert(left, to, unit, "", "ola", T1)
    assert (new_unit.status, new_unit.incident_id, new_unit.status_at) == (
        UnitStatus.ASSIGNED, to.id, T1,
    )  # fmt: skip
    assert new_to.status is IncidentStatus.DISPATCHED and new_to.assigned_unit_ids == [unit.id]
    # The incident left waits again, triaged, and says where its unit went.
    assert new_left.status is IncidentStatus.TRIAGED and new_left.assigned_unit_ids == []
    assert new_left.notes[-1].text == f"Unit {unit.id} diverted to {to.id}"
    assert new_left.notes[-1].author == "ola"
    assert new_to.notes[-1].text == f"Unit {unit.id} diverted here from {left.id}"


def test_the_incident_left_keeps_its_other_units_and_its_status() -> None:
    left, to, unit = on_its_way(others=["osl-a12"])
    new_left, _, _ = decide.divert(left, to, unit, "", "ola", T1)
    assert new_left.status is IncidentStatus.DISPATCHED
    assert new_left.assigned_unit_ids == ["osl-a12"]


@pytest.mark.parametrize(
    ("from_urgency", "to_urgency"),
    [
        (Urgency.HASTER, Urgency.HASTER),
        (Urgency.AKUTT, Urgency.HASTER),
        (None, Urgency.AKUTT),  # untriaged counts as akutt: nothing is more urgent
    ],
)
def test_a_reason_is_required_unless_the_new_incident_is_more_urgent(
    from_urgency: Urgency | None, to_urgency: Urgency | None
) -> None:
    left, to, unit = on_its_way(from_urgency=from_urgency, to_urgency=to_urgency)
    with unchanged(left, to, unit), pytest.raises(InvalidArgumentError) as info:
        decide.divert(left, to, unit, "", "ola", T1)
    assert info.value.field == "reason"
    new_left, new_to, _ = decide.divert(left, to, unit, "crew closer, road closed", "ola", T1)
    assert new_left.notes[-1].text.endswith(": crew closer, road closed")
    assert new_to.notes[-1].text.endswith(": crew closer, road closed")


@pytest.mark.parametrize(
    "status", [UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING, UnitStatus.AT_HOSPITAL]
)
def test_a_unit_that_arrived_is_not_diverted(status: UnitStatus) -> None:
    left, to, unit = on_its_way(status)
    with unchanged(left, to, unit), pytest.raises(PreconditionError) as info:
        decide.divert(left, to, unit, "x", "ola", T1)
    assert info.value.entity_id == unit.id and "only a unit on its way" in str(info.value)


def test_a_unit_sent_elsewhere_meanwhile_is_not_taken_from_there() -> None:
    left, to, unit = on_its_way()
    unit.incident_id = "OSL-9"
    with pytest.raises(PreconditionError, match=r"not on incident OSL-1 \(it works OSL-9\)"):
        decide.divert(left, to, unit, "", "ola", T1)
    free = make_unit(UnitStatus.AVAILABLE_AT_STATION)
    with pytest.raises(PreconditionError, match="it is free"):
        decide.divert(left, to, free, "", "ola", T1)


def test_a_closed_incident_gets_no_unit() -> None:
    left, to, unit = on_its_way()
    to.status = IncidentStatus.CLOSED
    with pytest.raises(PreconditionError) as info:
        decide.divert(left, to, unit, "", "ola", T1)
    assert info.value.entity_id == to.id


def test_a_unit_transporting_a_patient_is_released_only_with_where_the_patient_went() -> None:
    inc = make_incident(IncidentStatus.TRANSPORTING, units=["osl-a11"])
    unit = make_unit(UnitStatus.TRANSPORTING, incident_id=inc.id)
    with unchanged(inc, unit), pytest.raises(InvalidArgumentError) as info:
        decide.release(inc, unit, T1)
    assert info.value.field == "reason" and "transporting a patient" in str(info.value)
    left, freed = decide.release(inc, unit, T1, "handed to the air ambulance at Gol", "ola")
    assert freed.status is UnitStatus.AVAILABLE_MOBILE and not left.assigned_unit_ids
    assert left.notes[-1].text == (
        "Unit osl-a11 released (transporting): handed to the air ambulance at Gol"
    )
    at_hospital = make_unit(UnitStatus.AT_HOSPITAL, incident_id=inc.id)
    _, freed = decide.release(inc, at_hospital, T1)  # handed over: nothing aboard
    assert freed.status is UnitStatus.AVAILABLE_MOBILE


def test_the_only_unit_of_an_incident_put_on_scene_by_hand_is_not_diverted() -> None:
    left, to, unit = on_its_way()
    left.status = IncidentStatus.ON_SCENE  # a dispatcher's entry; the crew still en route
    with pytest.raises(PreconditionError) as info:
        decide.divert(left, to, unit, "x", "ola", T1)
    assert info.value.entity_id == left.id
    left, to, unit = on_its_way(others=["osl-a12"])
    left.status = IncidentStatus.ON_SCENE  # another unit is there: this one may go
    new_left, _, _ = decide.divert(left, to, unit, "", "ola", T1)
    assert new_left.status is IncidentStatus.ON_SCENE and new_left.assigned_unit_ids == ["osl-a12"]


def test_a_unit_is_not_diverted_to_its_own_incident() -> None:
    left, _, unit = on_its_way()
    with pytest.raises(InvalidArgumentError) as info:
        decide.divert(left, left, unit, "x", "ola", T1)
    assert info.value.field == "incident_id"


# ---------------------------------------------------------------- candidates


def fleet():
    """Three units near Oslo: one en route to a vanlig incident, one to a haster one,
    one on scene at the vanlig one."""
    vanlig = make_incident(IncidentStatus.DISPATCHED, urgency=Urgency.VANLIG, inc_id="OSL-1")
    haster = make_incident(IncidentStatus.DISPATCHED, urgency=Urgency.HASTER, inc_id="OSL-3")
    units = [
        make_unit(UnitStatus.EN_ROUTE, incident_id="OSL-1", unit_id="osl-a11"),
        make_unit(UnitStatus.ASSIGNED, incident_id="OSL-3", unit_id="osl-a12"),
        make_unit(UnitStatus.ON_SCENE, incident_id="OSL-1", unit_id="osl-a13"),
        make_unit(UnitStatus.AVAILABLE_AT_STATION, unit_id="osl-a14"),
    ]
    return units, {i.id: i for i in (vanlig, haster)}


def candidates(units, incidents, target, limit=diversion.LIMIT):
    by_id = {u.id: u for u in units}
    ranking = diversion.ranked(diversion.on_their_way(units, target), target)
    return diversion.pick(ranking, lambda uid: incidents.get(by_id[uid].incident_id), target, limit)


@pytest.mark.parametrize(
    ("urgency", "offered"),
    [
        (Urgency.AKUTT, ["osl-a11", "osl-a12"]),
        (None, ["osl-a11", "osl-a12"]),  # untriaged: as akutt
        (Urgency.HASTER, ["osl-a11"]),
        (Urgency.VANLIG, []),
    ],
)
def test_only_units_on_their_way_to_less_urgent_incidents_are_offered(
    urgency: Urgency | None, offered: list[str]
) -> None:
    units, incidents = fleet()
    target = make_incident(IncidentStatus.TRIAGED, urgency=urgency, inc_id="OSL-2")
    with unchanged(units, incidents):
        found = candidates(units, incidents, target)
    assert sorted(r.unit_id for r in found) == offered


def test_the_only_unit_of_an_incident_on_scene_is_not_offered() -> None:
    units, incidents = fleet()
    incidents["OSL-3"].status = IncidentStatus.ON_SCENE  # put on scene by hand
    incidents["OSL-3"].assigned_unit_ids = ["osl-a12"]
    target = make_incident(IncidentStatus.TRIAGED, urgency=Urgency.AKUTT, inc_id="OSL-2")
    assert [r.unit_id for r in candidates(units, incidents, target)] == ["osl-a11"]


def test_a_unit_whose_incident_is_not_given_is_not_offered() -> None:
    units, incidents = fleet()
    target = make_incident(IncidentStatus.TRIAGED, urgency=Urgency.AKUTT, inc_id="OSL-2")
    del incidents["OSL-3"]  # served by another centre: the caller leaves it out
    assert [r.unit_id for r in candidates(units, incidents, target)] == ["osl-a11"]


def test_incidents_are_asked_in_rank_order_no_further_than_needed() -> None:
    units, incidents = fleet()
    target = make_incident(IncidentStatus.TRIAGED, urgency=Urgency.AKUTT, inc_id="OSL-2")
    by_id = {u.id: u for u in units}
    asked: list[str] = []

    def incident_of(unit_id: str):
        asked.append(unit_id)
        return incidents.get(by_id[unit_id].incident_id)

    ranking = diversion.ranked(diversion.on_their_way(units, target), target)
    assert [r.unit_id for r in ranking] == ["osl-a11", "osl-a12"]  # a13 arrived, a14 free
    (only,) = diversion.pick(ranking, incident_of, target, limit=1)
    assert (only.unit_id, only.rank, asked) == ("osl-a11", 1, ["osl-a11"])
    (second,) = diversion.pick(
        ranking, lambda uid: incidents["OSL-1"] if uid == "osl-a12" else None, target
    )
    assert (second.unit_id, second.rank) == ("osl-a12", 1)  # renumbered


def test_a_unit_on_its_way_is_ranked_as_a_mobile_unit_where_it_is() -> None:
    units, incidents = fleet()
    target = make_incident(IncidentStatus.TRIAGED, urgency=Urgency.AKUTT, inc_id="OSL-2")
    (first, *_) = candidates(units, incidents, target)
    free = make_unit(UnitStatus.AVAILABLE_MOBILE, unit_id=first.unit_id)
    (same,) = recommend([free], target.position.lat, target.position.lon, Urgency.AKUTT)
    assert (first.eta_s, first.reason) == (same.eta_s, same.reason)


# ---------------------------------------------------------------- the answer and the KPI


def test_the_stored_answer_keeps_the_incident_left() -> None:
    left, to, unit = on_its_way()
    new_left, new_to, new_unit = decide.divert(left, to, unit, "", "ola", T1)
    out = Outcome(incident=new_to, unit=new_unit, from_incident=new_left)
    back = Outcome.decode(out.encode("fp"), 42)
    assert back.require_from_incident().id == left.id
    assert back.require_from_incident().assigned_unit_ids == []
    assert {r.id for r in back.records()} == {left.id, to.id, unit.id}
    with pytest.raises(InvalidArgumentError):
        Outcome(incident=new_to, unit=new_unit).require_from_incident()


def test_a_diversion_dispatches_only_the_incident_it_sends_the_unit_to() -> None:
    entries = [
        {
            "command": kpi.DIVERT,
            "at": T0 + 120,
            "ids": ["OSL-2", "OSL-1", "osl-a11"],
            "diverted_from": "OSL-1",
            kpi.DIVERTED_TO: "OSL-2",
        },
        {"command": kpi.ASSIGN, "at": T0 + 300, "ids": ["OSL-1", "osl-a12"]},
    ]
    assert kpi.first_dispatch(entries) == {
        "OSL-2": T0 + 120,
        "OSL-1": T0 + 300,
        "osl-a12": T0 + 300,
    }
    assert kpi.DIVERT in kpi.RELEVANT_COMMANDS


# ---------------------------------------------------------------- the gateway's fields


def request(**kw: str) -> pb.DivertUnitRequest:
    base = {
        "request_id": "r1",
        "incident_id": "OSL-2",
        "unit_id": "osl-a11",
        "from_incident_id": "OSL-1",
    }
    return pb.DivertUnitRequest(**{**base, **kw})


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"from_incident_id": ""}, "from_incident_id"),
        ({"from_incident_id": "OSL-2"}, "incident_id"),
        ({"unit_id": ""}, "unit_id"),
        ({"reason": "two\nlines"}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"request_id": ""}, "request_id"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        convert.divert_unit(request(**fields), "ola")
    assert info.value.field == named


def test_the_command_carries_both_incidents_and_the_reason_trimmed() -> None:
    release = convert.release_unit(
        pb.ReleaseUnitRequest(request_id="r", incident_id="OSL-1", unit_id="u", reason=" x "), "ola"
    )
    assert release.reason == "x"
    with pytest.raises(InvalidArgumentError) as info:
        convert.release_unit(
            pb.ReleaseUnitRequest(request_id="r", incident_id="OSL-1", unit_id="u", reason="a\nb"),
            "ola",
        )
    assert info.value.field == "reason"
    cmd = convert.divert_unit(request(reason="  road closed "), "ola")
    assert (cmd.incident_id, cmd.from_incident_id, cmd.unit_id) == ("OSL-2", "OSL-1", "osl-a11")
    assert (cmd.reason, cmd.who) == ("road closed", "ola")


def test_the_cli_names_where_the_unit_goes_and_where_it_was_going() -> None:
    args = build_parser().parse_args(
        ["divert", "osl-a11", "--to", "OSL-2", "--from", "OSL-1", "--reason", "closer"]
    )
    assert (args.unit, args.to, args.from_, args.reason) == ("osl-a11", "OSL-2", "OSL-1", "closer")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["divert", "osl-a11", "--to", "OSL-2"])
