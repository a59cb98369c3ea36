"""The drill's call check on hand-made calls: who may answer a call when, and what
counts as lost, doubled or left waiting; and the report's list of owner changes."""

from __future__ import annotations

from actors.domain.model import Call, CallStatus, Position
from chaos.call_check import Owners, check_calls
from clients.national_build import OUT
from cluster.seed_model import Seed

SEED = Seed.load(OUT)  # oslo: partners vestre-viken, innlandet; across bergen, stavanger
OWNERS = [
    {"t": 0.0, "region": "oslo", "centre": "oslo"},
    {"t": 0.0, "region": "bergen", "centre": "bergen"},
    {"t": 50.0, "region": "bergen", "centre": None},  # bergen killed
    {"t": 50.6, "region": "bergen", "centre": "haugesund"},
]


def answered(cid: str, region: str, by: str, arrived: float, at: float, **kw) -> Call:
    return Call(
        cid,
        region,
        "",
        Position(60.0, 10.0),
        arrived,
        status=CallStatus.ANSWERED,
        answered_by=by,
        answered_at=at,
        **kw,
    )


def history(*calls: Call, answers: dict[str, int] | None = None) -> list[dict]:
    recs = [{"op": "call", "ok": True, "call": c.id} for c in calls]
    for c in calls:
        recs += [{"op": "answer", "ok": True, "call": c.id}] * (answers or {}).get(c.id, 1)
    return recs


def test_each_step_of_relief_counts_only_after_its_threshold() -> None:
    calls = [
        answered("own", "oslo", "oslo", 0.0, 1.0),
        answered("partner", "oslo", "innlandet", 0.0, 10.5),
        answered("shared", "oslo", "vestre-viken", 0.0, 0.5, shared_to="vestre-viken"),
        answered("across", "oslo", "stavanger", 0.0, 15.2),
        answered("takeover", "bergen", "haugesund", 49.0, 51.0),
    ]
    result = check_calls(history(*calls), calls, OWNERS, SEED)
    assert result["ok"], result
    assert result["counts"] == {
        "queued": 5,
        "stored": 5,
        "answered": 5,
        "abandoned": 0,
        "waiting": 0,
        "by_owner": 2,
        "by_partner": 1,
        "by_partner_across": 1,
        "by_shared": 1,
    }
    assert [r["call"] for r in result["across"]] == ["across"]
    assert result["answer_s"]["over_20_s"] == 0


def test_early_overflow_a_stranger_a_double_answer_and_a_waiting_call_fail() -> None:
    calls = [
        answered("early", "oslo", "innlandet", 0.0, 9.0),
        answered("early-across", "oslo", "bergen", 0.0, 12.0),
        answered("stranger", "oslo", "unn", 0.0, 30.0),
        answered("twice", "oslo", "oslo", 0.0, 1.0),
        Call("waits", "oslo", "", Position(60.0, 10.0), 5.0),
    ]
    result = check_calls(history(*calls, answers={"twice": 2}), calls, OWNERS, SEED)
    assert not result["ok"]
    assert {r["call"] for r in result["not_allowed"]} == {"early", "early-across", "stranger"}
    assert result["doubly_answered"] == ["twice"]
    assert result["waiting"] == ["waits"]


def test_a_queued_call_missing_from_etcd_is_lost() -> None:
    kept = answered("kept", "oslo", "oslo", 0.0, 1.0)
    gone = answered("gone", "oslo", "oslo", 0.0, 1.0)
    result = check_calls(history(kept, gone), [kept], OWNERS, SEED)
    assert result["lost"] == ["gone"] and not result["ok"]


def test_owner_around_a_moment_has_a_second_of_slack_either_side() -> None:
    owners = Owners(OWNERS)
    assert owners.around("bergen", 49.5) == {"bergen"}
    assert owners.around("bergen", 52.0) == {"haugesund"}
    assert owners.around("bergen", 55.0, slack=0.1) == {"haugesund"}
    assert owners.around("bergen", 50.3, slack=0.1) == set()  # nobody: failing over


def test_the_report_lists_each_owner_change_with_the_time_without_an_owner() -> None:
    from chaos.report import owner_change_lines

    result = {"t0": 0.0, "owner_events": [{**e, "token": i} for i, e in enumerate(OWNERS)]}
    lines = owner_change_lines(result)
    assert lines[-1] == "| bergen | 50.60 s | haugesund | 3 | 0.60 s |"
    assert len([x for x in lines if x.startswith("| bergen")]) == 1  # the first owners: none
    quiet = owner_change_lines({"t0": 0.0, "owner_events": result["owner_events"][:2]})
    assert quiet[-1] == "- none: every region kept its owner"


def test_a_call_shared_across_the_border_may_be_answered_at_once_there() -> None:
    shared = answered("offered", "oslo", "bergen", 0.0, 0.5, shared_to="bergen")
    early = answered("not-offered", "oslo", "bergen", 0.0, 0.5)
    result = check_calls(history(shared, early), [shared, early], OWNERS, SEED)
    assert [r["call"] for r in result["not_allowed"]] == ["not-offered"]
    assert result["counts"]["by_shared"] == 1
