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
    archive.put_access([row(1, 100.0), row(2, 200.0), row(3, 300.0)])
    assert archive.prune_access(before=250.0) == 2
    assert [r.id for r in archive.query_access(user="kari")] == ["row-3"]
    assert archive.prune_access(before=250.0) == 0


def test_a_malformed_row_is_refused_before_the_database(archive: ArchiveStore) -> None:
    archive.migrate()
    with pytest.raises(ValueError, match="AccessRow"):
        archive.put_access([("row", 1.0)])  # type: ignore[list-item]
