"""The gateway's access-log writer (actors/gateway/access_log.py) on a real SQLite
archive: which records a response holds, rows written in batches, kept while the
archive fails, and bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.domain.access import Decision
from actors.gateway import access_log as access_log_module
from actors.gateway.access_log import AccessLog, records_of
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.archive import ArchiveError, ArchiveStore, open_archive
from cluster.archive.access_log import caller_hash
from cluster.tokens import Claims

KARI = Claims("kari", "Kari N", "call-taker", "oslo")
OWNER = Decision(True, "owner")


def test_records_of_finds_incidents_and_calls_anywhere_in_a_response() -> None:
    listing = pb.ListIncidentsResponse(
        incidents=[
            pb.Incident(id="OSL-1", region="oslo", caller_number="+4791234567"),
            pb.Incident(id="OSL-2", region="oslo"),
        ]
    )
    assert records_of(listing) == [
        ("incident", "OSL-1", "oslo", "+4791234567"),
        ("incident", "OSL-2", "oslo", ""),
    ]
    answered = pb.AnswerNextCallResponse(call=pb.Call(id="OSL-C1", region="oslo"))
    assert records_of(answered) == [("call", "OSL-C1", "oslo", "")]
    event = pb.WatchEvent(kind=pb.WatchEvent.KIND_SNAPSHOT_UNIT, unit=pb.Unit(id="osl-a11"))
    assert records_of(event) == []
    # An air mission is its incident's data, read at the AMK-LA: logged as that incident.
    missions = pb.AirListMissionsResponse(
        missions=[
            pb.AirMission(
                id="LAH-INN-000001-a1",
                region="luftambulanse-hso",
                incident_id="INN-000001",
                incident_region="innlandet",
            )
        ]
    )
    assert records_of(missions) == [("incident", "INN-000001", "innlandet", "")]


@pytest.fixture
def store(tmp_path: Path) -> ArchiveStore:
    s = open_archive(f"sqlite://{tmp_path / 'archive.db'}")
    s.migrate()
    yield s
    s.close()


async def test_rows_are_written_in_batches_and_read_back(store: ArchiveStore) -> None:
    async def archive() -> ArchiveStore:
        return store

    log = AccessLog(archive, "127.0.0.1:50051", retention_s=3600)
    log.record(
        KARI, "/m/GetIncident", OWNER, "ipv4:127.0.0.1:1", [("incident", "OSL-1", "oslo", "+47 91")]
    )
    log.record(KARI, "/m/GetIncident", OWNER, "ipv4:127.0.0.1:1", [("incident", "", "oslo", "")])
    await log.flush()
    rows = store.query_access(user="kari")
    assert [(r.record_id, r.why, r.gateway, r.caller_hash) for r in rows] == [
        ("OSL-1", "owner", "127.0.0.1:50051", caller_hash("+4791"))
    ]
    await log.close()
    assert log.written == 1


async def test_rows_wait_while_the_archive_fails(store: ArchiveStore) -> None:
    failing = True

    async def archive() -> ArchiveStore:
        if failing:
            raise ArchiveError("archive down")
        return store

    log = AccessLog(archive, "gw", retention_s=3600)
    log.record(KARI, "/m/GetIncident", OWNER, "p", [("incident", "OSL-9", "oslo", "")])
    with pytest.raises(ArchiveError):
        await log.flush()
    failing = False
    await log.flush()
    assert [r.record_id for r in store.query_access(record_id="OSL-9")] == ["OSL-9"]
    await log.close()


async def test_the_buffer_is_bounded(store: ArchiveStore, monkeypatch) -> None:
    monkeypatch.setattr(access_log_module, "MAX_PENDING", 3)

    async def archive() -> ArchiveStore:
        return store

    log = AccessLog(archive, "gw", retention_s=3600)
    log.record(KARI, "/m", OWNER, "p", [("incident", f"OSL-{n}", "oslo", "") for n in range(5)])
    assert log.dropped == 2
    await log.flush()
    assert sorted(r.record_id for r in store.query_access(user="kari")) == [
        "OSL-2",
        "OSL-3",
        "OSL-4",
    ]
    await log.close()


async def test_row_ids_are_unique_across_rows_and_writers(store: ArchiveStore) -> None:
    """Ids are a writer's random prefix and a counter (no uuid per row on the streaming
    path): two writers, say two gateways, never collide, and every row is stored."""

    async def archive() -> ArchiveStore:
        return store

    writers = [AccessLog(archive, f"127.0.0.1:5005{i}", retention_s=3600) for i in (1, 2)]
    for log in writers:
        for n in range(300):
            log.record(KARI, "/m/WatchBatches", OWNER, "p", [("incident", f"OSL-{n}", "oslo", "")])
        await log.flush()
    for log in writers:  # before the store closes: a writer left running logs to stdout
        await log.close()
    rows = store.query_access(user="kari", limit=1000)
    assert len(rows) == 600 and len({r.id for r in rows}) == 600
