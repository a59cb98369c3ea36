"""The national KPI definitions on hand-made histories: response time from the 113
call, akutt missions whose urgency did not change, missing time stamps counted apart,
urban and rural targets, and the 113 answer-time limits."""

from __future__ import annotations

import pytest

from actors.domain import kpi
from actors.domain import response_time as rt
from actors.domain.model import (
    Call,
    CallStatus,
    Incident,
    IncidentStatus,
    Position,
    Urgency,
    UrgencyChange,
)

TOWN = Position(59.91, 10.75)
COUNTRY = Position(61.5, 9.0)


def area_of(p: Position) -> str:
    return rt.URBAN if p == TOWN else rt.RURAL


def mission(
    iid: str,
    created: float,
    *urgencies: Urgency,
    status: IncidentStatus = IncidentStatus.ON_SCENE,
    where: Position = TOWN,
) -> Incident:
    history = [UrgencyChange(u, "A.11.01", created + i) for i, u in enumerate(urgencies)]
    return Incident(
        iid,
        "oslo",
        status,
        where,
        created,
        created,
        urgency=urgencies[-1] if urgencies else None,
        urgency_history=history,
    )


def call(cid: str, arrived: float, incident_id: str = "", **kw) -> Call:
    return Call(cid, "oslo", "", TOWN, arrived, incident_id=incident_id, **kw)


def journal_on_scene(*pairs: tuple[str, float]) -> list[dict]:
    return [
        {"at": at, "command": "ChangeUnitStatus", "ids": ["U1", iid], "request_id": iid}
        for iid, at in pairs
    ]


def test_response_runs_from_the_earliest_call_to_the_first_unit_on_scene() -> None:
    got = rt.response_times(
        [mission("OSL-1", 1100, Urgency.AKUTT)],
        # A second caller to the same accident, later: the first call alerted the AMK.
        [call("C2", 1060, "OSL-1"), call("C1", 1000, "OSL-1"), call("C9", 900)],
        {"OSL-1": 1600},
    )
    assert got.samples == [rt.Sample("OSL-1", "oslo", rt.UNKNOWN, 600.0, True)]
    assert not got.excluded


def test_an_urgency_change_excludes_the_mission() -> None:
    raised = mission("OSL-1", 1000, Urgency.HASTER, Urgency.AKUTT)
    lowered = mission("OSL-2", 1000, Urgency.AKUTT, Urgency.HASTER)
    same_twice = mission("OSL-3", 1000, Urgency.AKUTT, Urgency.AKUTT)  # re-triaged, same
    haster = mission("OSL-4", 1000, Urgency.HASTER)  # never akutt: not in the indicator
    got = rt.response_times(
        [raised, lowered, same_twice, haster],
        [call(f"C{i}", 990, f"OSL-{i}") for i in range(1, 5)],
        {f"OSL-{i}": 1500 for i in range(1, 5)},
    )
    assert [s.incident_id for s in got.samples] == ["OSL-3"]
    assert got.excluded == {("oslo", rt.URGENCY_CHANGED): 2}


def test_a_missing_time_stamp_is_counted_apart_by_reason() -> None:
    closed = mission("OSL-1", 1000, Urgency.AKUTT, status=IncidentStatus.CLOSED)
    cancelled = mission("OSL-2", 1000, Urgency.AKUTT, status=IncidentStatus.CANCELLED)
    ongoing = mission("OSL-3", 1000, Urgency.AKUTT, status=IncidentStatus.DISPATCHED)
    got = rt.response_times(
        [closed, cancelled, ongoing], [call(f"C{i}", 990, f"OSL-{i}") for i in (1, 2, 3)], {}
    )
    assert got.samples == []
    assert got.excluded == {
        ("oslo", rt.NO_ON_SCENE_TIME): 1,
        ("oslo", rt.CANCELLED): 1,
        ("oslo", rt.IN_PROGRESS): 1,
    }


def test_a_mission_without_a_call_is_measured_from_creation_and_kept_apart() -> None:
    got = rt.response_times([mission("OSL-1", 1000, Urgency.AKUTT)], [], {"OSL-1": 1300})
    assert got.samples == [rt.Sample("OSL-1", "oslo", rt.UNKNOWN, 300.0, False)]
    figures = kpi.compute(
        [mission("OSL-1", 1000, Urgency.AKUTT)], [], journal_on_scene(("OSL-1", 1300))
    )
    assert not [f for f in figures if f.measure == kpi.RESPONSE]
    (apart,) = [f for f in figures if f.measure == kpi.RESPONSE_NO_CALL]
    assert (apart.count, apart.p50_s, apart.target_s) == (1, 300.0, 0.0)


def test_an_urban_and_a_rural_municipality_get_their_own_target() -> None:
    missions = [
        mission("OSL-1", 1000, Urgency.AKUTT, where=TOWN),
        mission("OSL-2", 1000, Urgency.AKUTT, where=COUNTRY),
    ]
    calls = [call("C1", 1000, "OSL-1"), call("C2", 1000, "OSL-2")]
    # 15 minutes to both: too slow for a town (12 min), in time in the country (25 min).
    journal = journal_on_scene(("OSL-1", 1900), ("OSL-2", 1900))
    figures = [
        f for f in kpi.compute(missions, calls, journal, area_of=area_of) if f.measure == "response"
    ]
    assert [(f.area, f.target_s, f.share_within_target) for f in figures] == [
        (rt.URBAN, 720.0, 0.0),
        (rt.RURAL, 1500.0, 1.0),
    ]
    assert all(f.count == 1 and f.p50_s == 900 for f in figures)
    assert "urban" in figures[0].target_text and "Helsedirektoratet" in figures[0].target_text


def test_an_unknown_area_is_held_to_both_targets_and_exclusions_ride_along() -> None:
    missions = [
        mission("OSL-1", 1000, Urgency.AKUTT),
        mission("OSL-2", 1000, Urgency.HASTER, Urgency.AKUTT),
    ]
    calls = [call("C1", 1000, "OSL-1"), call("C2", 1000, "OSL-2")]
    figures = [
        f
        for f in kpi.compute(missions, calls, journal_on_scene(("OSL-1", 1600)))
        if f.measure == "response"
    ]
    assert [(f.area, f.target_s) for f in figures] == [(rt.UNKNOWN, 720.0), (rt.UNKNOWN, 1500.0)]
    assert all(f.excluded == ((rt.URGENCY_CHANGED, 1),) for f in figures)
    assert "area unknown" in figures[0].target_text


def test_a_region_with_only_exclusions_still_shows_them() -> None:
    missions = [mission("OSL-1", 1000, Urgency.AKUTT, status=IncidentStatus.CLOSED)]
    (f,) = [
        f for f in kpi.compute(missions, [call("C1", 990, "OSL-1")], []) if f.measure == "response"
    ]
    assert (f.count, f.p50_s, f.excluded) == (0, 0.0, ((rt.NO_ON_SCENE_TIME, 1),))


@pytest.mark.parametrize(
    ("calls", "abandoned", "late", "waits"),
    [
        # answered in 5 s and in 25 s (late); one waiting 30 s (late), one waiting 10 s
        (
            [
                call("C1", 100, answered_at=105, status=CallStatus.ANSWERED),
                call("C2", 100, answered_at=125, status=CallStatus.ANSWERED),
                call("C3", 170),
                call("C4", 190),
            ],
            0,
            2,
            [5.0, 25.0],
        ),
        # hung up before an answer: counted apart, not as a wait
        ([call("C1", 100, status=CallStatus.ABANDONED)], 1, 0, []),
        # exactly 20 s is not "after 20 s"
        ([call("C1", 100, answered_at=120, status=CallStatus.ANSWERED)], 0, 0, [20.0]),
    ],
)
def test_answer_time_limits_count_late_and_abandoned_calls(calls, abandoned, late, waits) -> None:
    (counts,) = rt.answer_counts(calls, now=200).values()
    assert (counts.abandoned, counts.unanswered_after_limit, counts.waits) == (
        abandoned,
        late,
        waits,
    )
    (f,) = [f for f in kpi.compute([], calls, [], now=200) if f.measure == "answer"]
    assert (f.abandoned, f.unanswered_after_limit, f.limit_s, f.count) == (
        abandoned,
        late,
        20.0,
        len(waits),
    )
    assert "20 s" in f.target_text and "10 s" in f.target_text
