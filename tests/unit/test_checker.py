"""The drill checker on hand-made histories and journals (no etcd, no Ray).

Each case is small enough to read: a region's owners over time (tokens are owner-key
mod revisions), the journal entries written, and what clients were told.
"""

from __future__ import annotations

from typing import Any

from chaos.checker import (
    Snapshot,
    check,
    check_fencing,
    check_records,
    split_client_errors,
    unavailability,
)


def entry(rev: int, writer: str, token: int, command: str = "CreateIncident", **kw: Any) -> dict:
    region = kw.pop("region", "oslo")
    tokens = kw.pop("tokens", {region: token})
    return {
        "revision": rev,
        "at": 1000.0 + rev,
        "writer": writer,
        "command": command,
        "request_id": kw.pop("request_id", None),
        "region": region,
        "tokens": tokens,
        **kw,
    }


# Oslo: instance A claims at 10 and writes; B claims at 20 (A's lease ran out).
CLEAN = [
    entry(11, "A", 10, "TakeOver"),
    entry(12, "A", 10, request_id="r1"),
    entry(21, "B", 20, "TakeOver"),
    entry(22, "B", 20, request_id="r2"),
]


def test_a_clean_failover_passes() -> None:
    assert check_fencing(CLEAN) == []


def test_write_by_the_deposed_owner_after_the_new_claim_is_flagged() -> None:
    journal = [*CLEAN, entry(23, "A", 10, request_id="late")]
    flagged = check_fencing(journal)
    assert [(f["revision"], f["token"], f["current_token"]) for f in flagged] == [(23, 10, 20)]
    assert flagged[0]["writer"] == "A" and flagged[0]["request_id"] == "late"


def test_new_token_known_only_from_the_owner_key_still_catches_the_stale_write() -> None:
    # B claimed at 20 but never wrote (say it died at once); A writes at 25 with 10.
    journal = [entry(11, "A", 10, "TakeOver"), entry(25, "A", 10, request_id="late")]
    assert check_fencing(journal) == []  # the journal alone cannot know
    owners = [{"region": "oslo", "token": 20, "instance": "B"}]
    assert [f["revision"] for f in check_fencing(journal, owners)] == [25]


def test_hand_over_entry_committed_with_the_transfer_is_not_stale() -> None:
    # The transfer at 30 writes the owner key (new token 30) and the old owner's entry
    # in one transaction: that entry carries the old token and is legitimate.
    journal = [
        *CLEAN,
        entry(30, "B", 20, "HandOverRegion"),
        entry(31, "C", 30, "TakeOver"),
        entry(32, "C", 30, request_id="r3"),
    ]
    assert check_fencing(journal) == []


def test_entry_signed_by_someone_else_than_the_token_holder_is_flagged() -> None:
    journal = [*CLEAN, entry(24, "X", 20, request_id="forged")]
    flagged = check_fencing(journal)
    assert len(flagged) == 1 and "writer is not B" in flagged[0]["why"]


def test_a_partner_answering_an_overflowed_call_under_the_owners_token_is_not_stale() -> None:
    """By design (actors/centre/call_desk.py) a partner writes the answered call under
    the owner's current token; any other command, or a centre that is not a partner,
    signing under it is still flagged, and so is a partner using a superseded token."""
    owners = [{"region": "oslo", "token": 20, "instance": "oslo-b"}]
    journal = [
        entry(21, "oslo-b", 20, "TakeOver"),
        entry(22, "innlandet-1a2b", 20, "AnswerNextCall", request_id="p1"),
        entry(23, "innlandet-1a2b", 20, "CreateIncident", request_id="p2"),
        entry(24, "unn-3c4d", 20, "AnswerNextCall", request_id="p3"),
        entry(31, "oslo-c", 30, "TakeOver"),
        entry(32, "innlandet-1a2b", 20, "AnswerNextCall", request_id="p4"),
    ]
    partners = {"oslo": {"innlandet", "vestre-viken", "bergen"}}
    flagged = check_fencing(journal, owners, partners)
    assert sorted((f["request_id"], f["why"][:12]) for f in flagged) == [
        ("p2", "writer is no"),
        ("p3", "writer is no"),
        ("p4", "token supers"),
    ]
    # without the seed's partners: p1 too, and p4 for both reasons
    assert len(check_fencing(journal, owners)) == 5


def test_cross_region_write_checks_every_region_it_names() -> None:
    vv = [entry(5, "V", 4, "TakeOver", region="vestre-viken")]
    lend = entry(40, "B", 20, "AssignUnit", request_id="x", tokens={"oslo": 20, "vestre-viken": 4})
    assert check_fencing([*CLEAN, *vv, lend]) == []
    vv.append(entry(35, "W", 34, "TakeOver", region="vestre-viken"))
    flagged = check_fencing([*CLEAN, *vv, lend])
    assert [(f["region"], f["token"], f["current_token"]) for f in flagged] == [
        ("vestre-viken", 4, 34)
    ]


def _snap(journal: list[dict], requests: dict[str, int], incidents: list[dict]) -> Snapshot:
    return Snapshot(journal=journal, requests=requests, incidents=incidents)


def _ack(rid: str, op: str = "create", **kw: Any) -> dict:
    return {
        "t": 1.0,
        "t_done": 1.1,
        "op": op,
        "region": "oslo",
        "request_id": rid,
        "ok": True,
        **kw,
    }


def test_acknowledged_create_missing_from_etcd_is_lost() -> None:
    snap = _snap(
        [entry(12, "A", 10, request_id="r1")],
        {"r1": 12},
        [{"key": "k1", "region": "oslo", "id": "OSL-000001", "revision": 12}],
    )
    history = [
        _ack("r1", incident="OSL-000001", revision=12),
        _ack("r2", incident="OSL-000002", revision=13),
    ]
    out = check_records(history, snap)
    whys = sorted(x["why"] for x in out["lost"])
    assert whys == ["acknowledged, not journaled", "incident missing", "no request record"]
    assert out["duplicated"] == []


def test_request_journaled_twice_and_incident_under_two_keys_are_duplicates() -> None:
    snap = _snap(
        [entry(12, "A", 10, request_id="r1"), entry(14, "A", 10, request_id="r1")],
        {"r1": 12},
        [
            {"key": "a", "region": "oslo", "id": "OSL-000001", "revision": 12},
            {"key": "b", "region": "vestre-viken", "id": "OSL-000001", "revision": 14},
        ],
    )
    out = check_records([_ack("r1", incident="OSL-000001", revision=12)], snap)
    assert len(out["duplicated"]) == 2 and out["lost"] == []


def test_two_acknowledged_creates_naming_one_incident_mean_one_was_overwritten() -> None:
    snap = _snap(
        [entry(12, "A", 10, request_id="r1"), entry(23, "A", 10, request_id="r2")],
        {"r1": 12, "r2": 23},
        [{"key": "a", "region": "oslo", "id": "OSL-000001", "revision": 23}],
    )
    history = [
        _ack("r1", incident="OSL-000001", revision=12),
        _ack("r2", incident="OSL-000001", revision=23),
    ]
    assert [x["why"] for x in check_records(history, snap)["lost"]] == ["two creates, one id"]


def test_answer_revision_must_match_the_journal() -> None:
    snap = _snap([entry(12, "A", 10, request_id="t1")], {"t1": 12}, [])
    out = check_records([_ack("t1", op="triage", revision=99)], snap)
    assert "answer revision 99" in out["lost"][0]["why"]


def test_failed_operations_are_not_required_to_exist() -> None:
    failed = {**_ack("r9"), "ok": False, "code": "UNAVAILABLE"}
    result = check([failed], _snap([], {}, []), regions=["oslo"])
    assert result["ok"] and result["errors_by_code"] == {"UNAVAILABLE": 1}
    assert result["counts"]["fence_or_failover_errors_client"] == 1


def test_check_fails_on_a_stale_write_even_when_nothing_was_lost() -> None:
    journal = [*CLEAN, entry(23, "A", 10, request_id="late")]
    history = [_ack("r1", op="triage", revision=12), _ack("late", op="triage", revision=23)]
    result = check(history, _snap(journal, {}, []), regions=["oslo"])
    assert not result["ok"]
    assert result["counts"]["stale_accepted"] == 1 and result["counts"]["lost"] == 0


def test_unavailability_is_measured_from_the_fault_to_the_first_ack_started_after_it() -> None:
    history = [
        {"t": 0.0, "t_done": 0.1, "op": "create", "region": "oslo", "ok": True},
        {"t": 1.0, "t_done": 1.1, "op": "create", "region": "oslo", "ok": True},
        # in flight when the fault hit at 2.0: does not count as served after it
        {"t": 1.9, "t_done": 4.5, "op": "create", "region": "oslo", "ok": True},
        {"t": 2.5, "t_done": 4.6, "op": "create", "region": "oslo", "ok": True},
        {"t": 4.7, "t_done": 4.8, "op": "create", "region": "oslo", "ok": True},
    ]
    faults = [{"name": "pause-centre", "target": "oslo", "start": 2.0, "end": 6.0}]
    u = unavailability(history, faults, ["oslo", "innlandet"], start=0.0, end=5.0)
    assert u["oslo"]["max_gap_s"] == 3.4  # 1.1 -> 4.5
    assert u["oslo"]["faults"][0]["first_ack_after_s"] == 2.6  # 2.0 -> 4.6
    assert u["innlandet"]["faults"][0]["first_ack_after_s"] is None


# ---- client calls that failed, against the time with no gateway at all (25.5 -> 26.3)


def _failed(t: float, t_done: float, code: str = "UNAVAILABLE", **kw: Any) -> dict:
    return {**_ack(f"f{t}", t=t, t_done=t_done), "ok": False, "code": code, **kw}


NO_GATEWAY = [(25.5, 26.3)]


def test_a_call_overlapping_the_time_with_no_gateway_is_set_apart() -> None:
    history = [
        _failed(20.0, 25.6),  # in flight across the second kill
        _failed(26.0, 26.1, "DEADLINE_EXCEEDED"),  # inside
        _failed(26.2, 36.2),  # started inside, gave up later: still the outage's
        _failed(10.0, 10.5),  # a gateway served: counts against the drill
        _failed(26.4, 26.5, "ABORTED"),  # just after a gateway came back: counts too
        {**_failed(26.0, 26.1), "via": "direct"},  # straight to an actor: not a client call
    ]
    split = split_client_errors(history, NO_GATEWAY)
    assert split["no_gateway"] == {"UNAVAILABLE": 2, "DEADLINE_EXCEEDED": 1}
    assert split["with_a_gateway"] == {"UNAVAILABLE": 1, "ABORTED": 1}
    assert [f["t"] for f in split["failed"]] == [10.0, 26.4]


def test_a_window_still_open_at_the_end_covers_every_later_call() -> None:
    split = split_client_errors([_failed(30.0, 31.0), _failed(1.0, 2.0)], [(25.5, None)])
    assert split["no_gateway"] == {"UNAVAILABLE": 1}
    assert split["with_a_gateway"] == {"UNAVAILABLE": 1}


def test_without_the_demand_failed_calls_are_reported_but_do_not_fail_the_drill() -> None:
    result = check([_failed(10.0, 10.5)], _snap([], {}, []), regions=["oslo"])
    assert result["ok"] and result["violations"] == []
    assert result["counts"]["client_errors_with_a_gateway"] == 1


def test_a_call_failed_while_a_gateway_served_fails_a_drill_that_demands_none() -> None:
    history = [_failed(10.0, 10.5), _failed(26.0, 26.1)]
    result = check(
        history,
        _snap([], {}, []),
        regions=["oslo"],
        no_gateway=NO_GATEWAY,
        no_client_errors=True,
    )
    assert not result["ok"]
    assert result["violations"] == ["client calls failed while a gateway served"]
    assert result["counts"]["client_errors_with_a_gateway"] == 1
    assert result["counts"]["client_errors_no_gateway"] == 1
    assert result["errors_by_code"] == {"UNAVAILABLE": 2}  # all of them, as before


def test_calls_failed_only_with_no_gateway_at_all_pass_but_are_reported() -> None:
    result = check(
        [_failed(25.6, 25.9), _failed(26.0, 26.2, "DEADLINE_EXCEEDED")],
        _snap([], {}, []),
        regions=["oslo"],
        no_gateway=NO_GATEWAY,
        no_client_errors=True,
    )
    assert result["ok"]
    assert result["client_errors"]["no_gateway"] == {"UNAVAILABLE": 1, "DEADLINE_EXCEEDED": 1}
    assert result["counts"]["client_errors_no_gateway"] == 2
