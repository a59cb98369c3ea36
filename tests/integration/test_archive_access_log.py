"""The access log's table in the archive database (migration 3), on SQLite and on a
real PostgreSQL: rows written in batches, idempotent by id, asked by user, by record
and by caller number, and pruned past the retention."""

from __future__ import annotations

import pytest

from cluster.archive import ArchiveStore
from cluster.archive.access_log import AccessRow, caller_hash

pytestmark = pytest.mark.integration


def row(
    n: int, at: float, user: str = "kari", record: str = "OSL-1", caller: str = ""
) -> AccessRow:
    return AccessRow(
        f"row-{n}",
        at,
        user,
        user.title(),
        "call-taker",
        "oslo",
        "/amk.dispatch.v1.DispatchService/GetIncident",
        "incident",
        record,
        "oslo",
        caller_hash(caller),
        "owner" if user != "ola" else "break-glass",
        "" if user != "ola" else "transferred patient, follow-up",
        "ipv4:127.0.0.1:5000",
        "127.0.0.1:50051",
    )


def test_access_rows_by_user_record_and_caller(archive: ArchiveStore) -> None:
    archive.migrate()
    rows = [
        row(1, 100.0, caller="+47 912 34 567"),
        row(2, 200.0, record="OSL-2"),
        row(3, 300.0, user="ola", caller="+4791234567"),
    ]
    archive.put_access(rows)
    archive.put_access(rows[:1])  # a retried batch changes nothing
    assert [r.id for r in archive.query_access(user="kari")] == ["row-2", "row-1"]
    assert archive.query_access(record_id="OSL-2") == [rows[1]]
    by_caller = archive.query_access(caller_number="+4791234567")
    assert [r.id for r in by_caller] == ["row-3", "row-1"]
    assert by_caller[0].why == "break-glass" and by_caller[0].reason
    assert [r.id for r in archive.query_access(user="kari", since=150.0)] == ["row-2"]
    assert archive.query_access(user="nobody") == []
    assert caller_hash("") == "" and caller_hash("+47 912") == caller_hash("+47912")


def test_rows_past_the_retention_are_pruned(archive: ArchiveStore) -> None:
    archive.migrate()
    assert archive.access_logged_since() is None  # nothing logged: no first review due
    archive.put_access([row(2, 200.0), row(1, 100.0), row(3, 300.0)])
    assert archive.access_logged_since() == 100.0
    assert archive.prune_access(before=250.0) == 2
    assert [r.id for r in archive.query_access(user="kari")] == ["row-3"]
    assert archive.access_logged_since() == 300.0  # the oldest read still kept
    assert archive.prune_access(before=250.0) == 0


def test_a_malformed_row_is_refused_before_the_database(archive: ArchiveStore) -> None:
    archive.migrate()
    with pytest.raises(ValueError, match="AccessRow"):
        archive.put_access([("row", 1.0)])  # type: ignore[list-item]


WATCH = "/amk.dispatch.v1.DispatchService/WatchBatches"
CHOSEN = ("/amk.dispatch.v1.DispatchService/GetIncident",)


def glance(n: int, at: float, user: str, record: str, caller: str = "", why: str = "owner", **kw):
    """A read by ``user`` of incident ``record`` (break-glass when ``why`` says so)."""
    base = row(n, at, user=user, record=record, caller=caller)
    reason = "storulykke på E6, Innlandet ber om hjelp" if why == "break-glass" else ""
    return base._replace(why=why, reason=reason, **kw)


def test_a_period_added_up_for_its_review_and_signed_off(archive: ArchiveStore) -> None:
    """Migration 4: the review's sums of a period (only rows inside it), and sign-offs
    kept by request id, newest first."""
    from cluster.archive.access_log import ReviewRow

    archive.migrate()
    caller = "+47 912 34 567"
    archive.put_access(
        [
            glance(1, 100.0, "kari", "OSL-1", caller),
            glance(2, 110.0, "kari", "OSL-2", caller),
            glance(3, 120.0, "kari", "OSL-3", caller),
            glance(4, 130.0, "kari", "OSL-3", caller),  # the same incident again
            glance(5, 140.0, "per", "OSL-1", caller),
            glance(6, 150.0, "ola", "INN-7", why="break-glass"),
            glance(7, 160.0, "ola", "INN-8", why="break-glass"),
            glance(8, 900.0, "kari", "OSL-9", caller),  # after the period
            glance(9, 500.0, "kari", "OSL-8", caller),  # at its end: not in it
            glance(10, 170.0, "kari", "OSL-7", caller, method=WATCH),  # a board's read
            glance(11, 180.0, "per", "OSL-2"),  # no caller number
            glance(12, 190.0, "per", "OSL-3"),
            glance(13, 195.0, "per", "OSL-4"),
        ]
    )
    sums = archive.access_review_inputs(100.0, 500.0, caller_min=3, chosen=CHOSEN)
    assert (sums.rows, sums.users) == (11, 3)
    assert sums.break_glass == [
        (
            "ola",
            "Ola",
            "call-taker",
            "oslo",
            "storulykke på E6, Innlandet ber om hjelp",
            2,
            150.0,
            160.0,
        )
    ]
    assert sorted(sums.volumes) == [
        ("kari", "Kari", "call-taker", "oslo", 3, 100.0, 130.0),
        ("ola", "Ola", "call-taker", "oslo", 2, 150.0, 160.0),
        ("per", "Per", "call-taker", "oslo", 4, 140.0, 195.0),
    ]
    assert sums.callers == [
        ("kari", "Kari", "call-taker", "oslo", caller_hash(caller), 3, 100.0, 130.0)
    ]
    assert archive.access_review_inputs(100.0, 500.0, caller_min=4, chosen=CHOSEN).callers == []
    # Only chosen reads count towards volumes and callers (break-glass: every read).
    nothing = archive.access_review_inputs(100.0, 500.0, caller_min=1, chosen=())
    assert (nothing.volumes, nothing.callers, len(nothing.break_glass)) == ([], [], 1)

    assert archive.access_reviews() == []
    first = ReviewRow("rev-1", 1000.0, "anne", "Anne", 0.0, 500.0, 7, 2, "checked with the shift")
    assert archive.put_access_review(first) == first
    again = first._replace(note="a retry must not change the signed review")
    assert archive.put_access_review(again) == first
    later = ReviewRow("rev-2", 2000.0, "anne", "Anne", 500.0, 1000.0, 1, 0, "nothing found")
    archive.put_access_review(later)
    assert archive.access_reviews() == [later, first]
    assert archive.access_reviews(limit=1) == [later]
