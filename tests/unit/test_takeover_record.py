"""A region's takeover record: a planned hand-over and a failover read differently, and
records from before the ``handed`` field, or with fields of a newer version, still read."""

from __future__ import annotations

import json
from dataclasses import asdict

from actors.centre.records import Takeover


def takeover(**changes: object) -> Takeover:
    fields = {
        "region": "oslo",
        "centre": "vestre-viken",
        "instance": "vestre-viken-0123456789ab",
        "token": 812,
        "previous": "oslo",
        "at": 1_764_000_000.0,
        "duration_ms": 3.1,
        "incidents": 40,
        "units": 12,
    }
    return Takeover(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_failover_a_hand_over_and_a_first_claim_are_told_apart() -> None:
    assert takeover().describe() == "vestre-viken took over from oslo at token 812 in 3.1 ms"
    assert takeover(handed=True).describe() == (
        "vestre-viken was handed it by oslo at token 812 in 3.1 ms"
    )
    assert (
        takeover(previous="").describe() == "vestre-viken claimed it first at token 812 in 3.1 ms"
    )


def test_the_record_reads_back_what_was_written() -> None:
    for t in (takeover(), takeover(handed=True)):
        assert Takeover.decode(t.encode()) == t


def test_an_older_record_reads_as_claimed_and_a_newer_fields_are_ignored() -> None:
    old = asdict(takeover())
    del old["handed"]
    assert Takeover.decode(json.dumps(old).encode()).handed is False
    newer = {**asdict(takeover(handed=True)), "reason": "auto-handback:oslo"}
    assert Takeover.decode(json.dumps(newer).encode()) == takeover(handed=True)
