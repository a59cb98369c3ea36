"""The board at a past moment from the archive (``ArchiveStore.versions_at``, walked key
by key in ``cluster/archive/board.py``), on both engines: each key's newest version at
or before the moment asked, by time, then revision, then journal key.
"""

from __future__ import annotations

import random

import pytest

from cluster.archive import RecordVersion
from tests.integration.test_archive_store import P, _life_of_incident_1, entry, version

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_versions_at_shows_the_board_as_it_stood(archive):
    archive.migrate()
    archive.put_batch([], _life_of_incident_1())
    inc1 = f"{P}incidents/oslo/1"

    def board(at: float, kinds: list[str] | None = None) -> dict[str, RecordVersion]:
        return {v.key: v for v in archive.versions_at(at, kinds)}

    assert board(50.0) == {}  # before anything
    between = board(175.0)
    assert between[inc1] == version("incidents", "1", 10, 100.0)
    assert sorted(between) == [inc1, f"{P}incidents/oslo/2"]
    at_second = board(200.0)  # ``at`` inclusive
    assert at_second[inc1] == version("incidents", "1", 20, 200.0)
    assert at_second[f"{P}units/oslo/u"] == version("units", "u", 20, 200.0)
    after = board(1000.0)
    assert after[inc1].value is None  # deleted: shown as such, not as its last state
    assert after[inc1].revision == 30
    assert list(board(1000.0, ["units"])) == [f"{P}units/oslo/u"]
    assert archive.versions_at(1000.0, []) == []
    assert [v.key for v in archive.versions_at(1000.0)] == sorted(after)
    with pytest.raises(ValueError, match="kinds must be a list"):
        archive.versions_at(1000.0, "units")  # type: ignore[arg-type]


def test_versions_at_ranks_versions_that_share_a_moment(archive):
    """Versions of one key at the same moment: the newest revision wins, then the newest
    journal key (one group commit's entries share a revision); between two moments, the
    later one, whatever the revisions say. A key first written after
    the moment is not on the board; a unit written many times shows its last version at
    or before it, whatever came later."""
    archive.migrate()
    unit = f"{P}units/oslo/u"
    reports = [
        entry(f"p{i}", 100.0 + i, 100 + i, version("units", "u", 100 + i, 100.0 + i))
        for i in range(50)
    ]
    tied = [
        entry("t-z", 500.0, 70, version("incidents", "t", 70, 500.0)),
        # Two centres' clocks: the later revision stamped earlier. Time ranks first.
        entry("s-1", 450.0, 80, version("incidents", "s", 80, 450.0)),
        entry("s-2", 400.0, 95, version("incidents", "s", 95, 400.0)),
        entry("t-c", 500.0, 71, version("incidents", "t", 71, 500.0)),
        entry("t-b", 500.0, 71, version("incidents", "t", 71, 500.0, deleted=True)),
        entry("late", 900.0, 90, version("incidents", "late", 90, 900.0)),
    ]
    archive.put_batch([], reports + tied)
    board = {v.key: v for v in archive.versions_at(500.0, ["incidents", "units"])}
    assert sorted(board) == [f"{P}incidents/oslo/s", f"{P}incidents/oslo/t", unit]
    assert board[f"{P}incidents/oslo/s"] == version("incidents", "s", 80, 450.0)
    assert board[unit] == version("units", "u", 149, 149.0)
    # Revision 71 over 70 (whose journal key t-z is the newest); between t-b and t-c
    # (both 71), the journal key t-c.
    assert board[f"{P}incidents/oslo/t"] == version("incidents", "t", 71, 500.0)
    assert archive.versions_at(120.5, ["units"]) == [version("units", "u", 120, 120.0)]
    assert archive.versions_at(99.0, ["units", "incidents"]) == []
    assert archive.versions_at(1000.0, ["nothing"]) == []


def test_versions_at_agrees_with_the_rule_on_a_random_journal(archive):
    """Many keys of three kinds, written at random moments and revisions (ties, clock
    skew, deletions): at every moment asked, each key's version is the newest by
    (time, revision, journal key) among those at or before it, as a plain sort says."""
    archive.migrate()
    rnd = random.Random(20261128)
    rows, written = [], []
    for n in range(300):
        kind = rnd.choice(["incidents", "units", "calls"])
        at, rev = float(rnd.randint(0, 40)), rnd.randint(1, 60)
        v = version(kind, f"k{rnd.randint(0, 12)}", rev, at, deleted=rnd.random() < 0.2)
        stamp = f"{rnd.randint(0, 99):02d}-{n:03d}"  # journal keys out of order with n
        rows.append(entry(stamp, at, rev, v))
        written.append((v, f"{P}journal/oslo/{stamp}"))
    archive.put_batch([], rows)
    for at in (-1.0, 0.0, 7.0, 19.5, 20.0, 33.0, 40.0, 99.0):
        for kinds in (None, ["units"], ["incidents", "calls"]):
            newest: dict[str, tuple] = {}
            for v, journal_key in written:
                if v.at <= at and (kinds is None or v.kind in kinds):
                    rank = (v.at, v.revision, journal_key)
                    if v.key not in newest or rank > newest[v.key][0]:
                        newest[v.key] = (rank, v)
            want = [newest[k][1] for k in sorted(newest)]
            assert archive.versions_at(at, kinds) == want, (at, kinds)
