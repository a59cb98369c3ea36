"""The small state machines outside the domain's lifecycles: where a centre stands with
a region, and a major incident's status. Illegal moves raise."""

from __future__ import annotations

import pytest

from actors.centre.region_state import TRANSITIONS, IllegalRegionMove, RegionState, move
from actors.domain.errors import PreconditionError
from actors.major.record import TRANSITIONS as MAJOR_TRANSITIONS
from actors.major.record import MajorRecord, MajorStatus, TimelineEntry
from actors.major.record import move as major_move

S = RegionState


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(RegionState)
    assert set(MAJOR_TRANSITIONS) == set(MajorStatus)


@pytest.mark.parametrize(
    ("path"),
    [
        # A home centre at start: free, claims, loads, serves.
        [S.UNKNOWN, S.WAITING, S.CLAIMING, S.LOADING, S.SERVING],
        # A backup: follows the owner, the key goes, waits its turn, claims, serves.
        [S.UNKNOWN, S.FOLLOWING, S.WAITING, S.CLAIMING, S.LOADING, S.SERVING],
        # Handed a region by a supervisor's transfer: adopts it at the transfer's revision.
        [S.UNKNOWN, S.FOLLOWING, S.LOADING, S.SERVING],
        # Serving, handing over, then following the new owner.
        [S.SERVING, S.HANDING_OVER, S.FOLLOWING],
        # A hand-over that failed: still serving.
        [S.SERVING, S.HANDING_OVER, S.SERVING],
        # Lost the claim race: follow the winner.
        [S.WAITING, S.CLAIMING, S.FOLLOWING],
        # Fenced or lease lost while loading or serving.
        [S.LOADING, S.FOLLOWING],
        [S.SERVING, S.FOLLOWING],
    ],
)
def test_the_paths_the_campaign_takes_are_legal(path: list[RegionState]) -> None:
    state = path[0]
    for nxt in path[1:]:
        state = move(state, nxt)
    assert state is path[-1]


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.UNKNOWN, S.SERVING),  # serving needs a won fence and a load
        (S.FOLLOWING, S.SERVING),
        (S.WAITING, S.SERVING),
        (S.CLAIMING, S.SERVING),
        (S.FOLLOWING, S.CLAIMING),  # a claim only after waiting for one's turn
        (S.FOLLOWING, S.HANDING_OVER),  # only the owner hands a region over
        (S.LOADING, S.HANDING_OVER),
        (S.SERVING, S.LOADING),
    ],
)
def test_illegal_region_moves_raise(current: RegionState, new: RegionState) -> None:
    with pytest.raises(IllegalRegionMove, match=f"from {current} to {new}"):
        move(current, new)


def test_major_incident_is_stood_down_once() -> None:
    assert (
        major_move("MI-1", MajorStatus.DECLARED, MajorStatus.STOOD_DOWN) is MajorStatus.STOOD_DOWN
    )
    with pytest.raises(PreconditionError, match="stood_down"):
        major_move("MI-1", MajorStatus.STOOD_DOWN, MajorStatus.STOOD_DOWN)
    with pytest.raises(PreconditionError):
        major_move("MI-1", MajorStatus.STOOD_DOWN, MajorStatus.DECLARED)


def test_major_record_round_trips_and_reads_records_stored_before() -> None:
    rec = MajorRecord("MI-1", "oslo", 59.9, 10.7, 25.0, "bus crash", 12, "kari", 1000.0)
    rec.note("kari", "declared", 1000.0)
    back = MajorRecord.decode(rec.encode())
    assert back == rec and back.status is MajorStatus.DECLARED
    assert back.timeline == [TimelineEntry(1000.0, "kari", "declared")]
    # A record as the previous version wrote it (plain JSON strings and dicts).
    old = (
        b'{"id":"MI-2","region":"innlandet","lat":60.8,"lon":11.0,"accuracy_m":10.0,'
        b'"kind":"fire","expected_patients":3,"declared_by":"ola","declared_at":5.0,'
        b'"status":"stood_down","incident_ids":["INN-000001"],"reserved_unit_ids":[],'
        b'"timeline":[{"at":5.0,"who":"ola","text":"declared"}]}'
    )
    got = MajorRecord.decode(old)
    assert got.status is MajorStatus.STOOD_DOWN and got.incident_ids == ["INN-000001"]
    with pytest.raises(PreconditionError, match="stood_down"):
        got.require_open()
