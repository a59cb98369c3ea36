"""The pure call rules: queue order, who may answer, sharing picks, where a caller is."""

from __future__ import annotations

import random

import pytest

from actors.domain import calls
from actors.domain.errors import IllegalTransitionError, PreconditionError
from actors.domain.model import Call, CallStatus, Position, Urgency
from cluster.config import Seed


def call(cid: str, arrived: float, urgency: Urgency | None = None, **kw) -> Call:
    return Call(
        cid, kw.pop("region", "oslo"), "", Position(59.9, 10.7), arrived, urgency_hint=urgency, **kw
    )


POLICY = calls.QueuePolicy("oslo", "oslo", ("vestre-viken", "innlandet"), 10.0)


def test_owner_sees_every_waiting_call_partners_only_after_the_threshold():
    c = call("c1", arrived=100.0)
    assert calls.may_answer(c, "oslo", POLICY, now=100.0)
    assert not calls.may_answer(c, "vestre-viken", POLICY, now=109.9)
    assert calls.may_answer(c, "vestre-viken", POLICY, now=110.0)
    assert not calls.may_answer(c, "sorlandet", POLICY, now=500.0)  # not a partner


ACROSS = calls.QueuePolicy(
    "oslo",
    "oslo",
    ("vestre-viken",),
    10.0,
    partners_across=("bergen",),
    overflow_across_after_s=15.0,
)


def test_partners_across_health_regions_see_a_call_only_after_the_second_threshold():
    c = call("c1", arrived=100.0)
    assert calls.may_answer(c, "vestre-viken", ACROSS, now=110.0)
    assert not calls.may_answer(c, "bergen", ACROSS, now=110.0)
    assert not calls.may_answer(c, "bergen", ACROSS, now=114.9)
    assert calls.may_answer(c, "bergen", ACROSS, now=115.0)
    assert calls.next_call([c], "bergen", {"oslo": ACROSS}, now=112.0) is None
    assert calls.next_call([c], "bergen", {"oslo": ACROSS}, now=116.0) is c
    assert ACROSS.overflow_threshold("stavanger") is None


def test_shared_call_is_seen_at_once_by_its_partner_only():
    c = call("c1", arrived=100.0, shared_to="innlandet")
    assert calls.may_answer(c, "innlandet", POLICY, now=100.0)
    assert not calls.may_answer(c, "vestre-viken", POLICY, now=100.0)


def test_answered_calls_are_not_offered():
    c = call("c1", arrived=0.0, status=CallStatus.ANSWERED)
    assert not calls.may_answer(c, "oslo", POLICY, now=100.0)


def test_most_urgent_then_oldest_then_id():
    queue = [
        call("b", 5.0),
        call("a", 5.0),
        call("old", 1.0),
        call("akutt", 9.0, Urgency.AKUTT),
        call("haster", 2.0, Urgency.HASTER),
    ]
    order = sorted(queue, key=calls.queue_order)
    assert [c.id for c in order] == ["akutt", "haster", "old", "a", "b"]
    assert calls.next_call(queue, "oslo", {"oslo": POLICY}, now=10.0).id == "akutt"
    assert calls.next_call(queue, "vestre-viken", {"oslo": POLICY}, now=10.0) is None


def test_lifecycle_is_a_table():
    c = call("c1", 0.0)
    answered = calls.answer(c, "oslo", "t1", 3.0)
    assert (answered.status, answered.answered_by, answered.answered_at) == (
        CallStatus.ANSWERED,
        "oslo",
        3.0,
    )
    assert c.status is CallStatus.WAITING  # input untouched
    done = calls.complete(answered, "OSL-000001")
    assert done.status is CallStatus.COMPLETED and done.incident_id == "OSL-000001"
    with pytest.raises(PreconditionError):
        calls.complete(c, "OSL-000001")
    with pytest.raises(IllegalTransitionError):
        calls.abandon(done)
    with pytest.raises(IllegalTransitionError):
        calls.answer(done, "oslo", "t1", 4.0)


def test_sharing_looks_across_only_when_nobody_in_the_health_region_is_free():
    within = {"oslo": 0, "vestre-viken": 0, "innlandet": 0}
    assert calls.sharing_pool(within, {"bergen": 2, "stavanger": 0}) == {"bergen": 2}
    assert calls.sharing_pool({**within, "innlandet": 1}, {"bergen": 2}) == {
        **within,
        "innlandet": 1,
    }
    assert calls.sharing_pool(within, {"bergen": 0}) == within  # all busy: stay home
    c = call("c1", arrived=100.0, shared_to="bergen")
    assert calls.may_answer(c, "bergen", ACROSS, now=100.0)  # offered: at once


def test_sharing_pick_follows_free_call_takers():
    rng = random.Random(7)
    picks = [calls.pick_shared_centre({"a": 9, "b": 1, "c": 0}, rng) for _ in range(2000)]
    share = {k: picks.count(k) / len(picks) for k in "abc"}
    assert share["a"] > 0.75 and 0.05 < share["b"] < 0.15 and share["c"] < 0.05


@pytest.mark.parametrize(
    ("lat", "lon", "region"),
    [
        (59.9139, 10.7522, "oslo"),  # Oslo sentrum
        (60.7945, 11.0680, "innlandet"),  # Hamar
        (58.1467, 7.9956, "sorlandet"),  # Kristiansand
        (59.2676, 10.4076, "vestfold-telemark"),  # Tønsberg
        (59.7439, 10.2045, "vestre-viken"),  # Drammen
        (58.5, 6.0, "sorlandet"),  # at sea off Agder: nearest boundary
    ],
)
def test_region_of_a_caller(lat, lon, region):
    boundaries = {r.id: list(r.boundary) for r in Seed.load().regions}
    assert calls.region_of(lat, lon, boundaries) == region
