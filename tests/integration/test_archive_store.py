"""The archive contract (``cluster.archive.base.ArchiveStore``) against both real
backends: every test here runs on a fresh SQLite file and on a fresh schema of a real
PostgreSQL server (the ``archive`` fixture), plus a few tests of one backend's own
behaviour (connection loss, timeouts, file settings)."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading

import psycopg
import pytest

from cluster.archive import (
    ArchivedRecord,
    ArchiveError,
    JournalRow,
    RecordVersion,
    open_archive,
)
from cluster.archive.pg_server import EmbeddedPostgres
from cluster.archive.postgres import PostgresArchive
from cluster.archive.schema import latest_version
from cluster.archive.sqlite import SqliteArchive
from tests.helpers import find_free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

P = "/amk/v1/"


def record(kind: str, id: str, revision: int, at: float, region: str = "oslo") -> ArchivedRecord:
    value = json.dumps({"id": id, "rev": revision}).encode()
    return ArchivedRecord(f"{P}{kind}/{region}/{id}", kind, region, id, revision, at, value)


def version(
    kind: str, id: str, revision: int, at: float, *, deleted: bool = False, region: str = "oslo"
) -> RecordVersion:
    value = None if deleted else json.dumps({"id": id, "rev": revision}).encode()
    return RecordVersion(f"{P}{kind}/{region}/{id}", kind, region, id, revision, at, value)


def entry(stamp: str, at: float, revision: int, *versions: RecordVersion, region: str = "oslo"):
    body = json.dumps({"stamp": stamp, "command": "test"}).encode()
    return JournalRow(f"{P}journal/{region}/{stamp}", region, at, revision, body, versions)


def stamps(rows: list[JournalRow]) -> list[str]:
    return [r.key.rsplit("/", 1)[1] for r in rows]


def raw_execute(url: str, sql: str) -> None:
    """Run SQL beside the archive, as an operator (or another version of the code) would."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            conn.execute(sql)
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


# -- schema ------------------------------------------------------------------------------


def test_migrate_twice_records_the_version_once(archive, open_store):
    assert archive.schema_version() == 0
    assert archive.migrate() == latest_version()
    assert archive.migrate() == latest_version()  # re-running version 1's DDL would fail
    other = open_store()
    assert other.migrate() == latest_version()
    assert other.schema_version() == archive.schema_version() == latest_version()
    assert archive.counts() == {"records": 0, "journal": 0, "record_versions": 0, "held_live": 0}


def test_calls_before_migrate_say_to_migrate(archive):
    with pytest.raises(ArchiveError, match=r"schema is version 0.*call migrate\(\)"):
        archive.records("incidents")


def test_a_database_newer_than_the_code_is_refused(archive, archive_url):
    archive.migrate()
    raw_execute(
        archive_url,
        "INSERT INTO schema_migrations (version, description, applied_at)"
        " VALUES (999, 'from the future', 0)",
    )
    with pytest.raises(ArchiveError, match=r"version 999.*upgrade the code"):
        archive.migrate()


def test_two_archives_migrating_at_once_both_succeed(open_store):
    """Several centres start together on one database: each opens and migrates."""
    n = 4
    barrier = threading.Barrier(n)
    results: list[int | BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(open_store().migrate())
        except BaseException as exc:  # reported below with the others
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [latest_version()] * n
    assert open_store().schema_version() == latest_version()


# -- writes ------------------------------------------------------------------------------


def test_put_batch_twice_changes_nothing_the_second_time(archive):
    archive.migrate()
    records = [record("incidents", "1", 10, 100.0), record("calls", "c1", 11, 101.0)]
    journal = [
        entry("a", 100.0, 10, version("incidents", "1", 10, 100.0)),
        entry("b", 101.0, 11, version("calls", "c1", 11, 101.0)),
    ]
    assert archive.max_revision() == (0, 0.0)
    archive.put_batch(records, journal)
    assert archive.max_revision() == (11, 0.0)  # what an etcd restore must move past
    first = archive.counts()
    assert first == {
        "records": 2,
        "records.calls": 1,
        "records.incidents": 1,
        "journal": 2,
        "record_versions": 2,
        "held_live": 0,
    }
    archive.put_batch(records, journal)
    assert archive.counts() == first
    # A batch that overlaps a stored one adds only what is new.
    archive.put_batch([*records, record("incidents", "2", 12, 102.0)], journal)
    assert archive.counts()["records.incidents"] == 2
    assert archive.max_revision() == (12, 0.0)
    assert archive.journal() == sorted(journal, key=lambda j: j.at)


def test_the_revision_a_centre_saw_is_kept_at_its_highest(archive):
    """Each archive pass tells the archive etcd's revision: a restore moves past it."""
    archive.migrate()
    archive.note_revision("oslo", 500, 1000.0)
    archive.note_revision("innlandet", 480, 1001.0)
    assert archive.max_revision() == (500, 1001.0)
    archive.note_revision("oslo", 520, 1002.0)
    archive.note_revision("oslo", 510, 1003.0)  # a late pass of an older read: not lower
    assert archive.max_revision() == (520, 1002.0)
    archive.put_batch([record("incidents", "1", 600, 100.0)], [])
    assert archive.max_revision() == (600, 1002.0)


def test_since_reads_what_a_restore_rolls_forward(archive):
    """Everything archived after a backup's revision: versions, final states, and how far
    each region's journal reached (``cluster.roll_forward`` plans from it)."""
    archive.migrate()
    archive.put_batch(
        [record("incidents", "OSL-1", 90, 50.0), record("incidents", "OSL-2", 130, 60.0)],
        [
            entry("a", 100.0, 95, version("incidents", "OSL-1", 95, 100.0)),
            entry(
                "b",
                110.0,
                120,
                version("units", "U1", 120, 110.0),
                version("incidents", "OSL-3", 120, 110.0),
            ),
            entry("c", 120.0, 125, version("incidents", "OSL-3", 125, 120.0, deleted=True)),
            entry(
                "d",
                115.0,
                122,
                version("units", "U9", 122, 115.0, region="innlandet"),
                region="innlandet",
            ),
        ],
    )
    got = archive.since(100)
    assert got.revision == 100
    assert [(v.id, v.revision, v.value is None) for v in got.versions] == [
        ("OSL-3", 120, False),
        ("U1", 120, False),
        ("U9", 122, False),
        ("OSL-3", 125, True),
    ]
    assert [(r.id, r.revision) for r in got.records] == [("OSL-2", 130)]
    assert got.horizons == {"oslo": (125, 120.0), "innlandet": (122, 115.0)}
    # Two entries of one group commit (one revision) in two regions' journals: applied
    # in the batch's order (the stamps), not the journal keys' regions' order.
    archive.put_batch(
        [],
        [
            entry(
                "00000000000000000300-w-00000001", 130.0, 300, version("units", "U5", 300, 130.0)
            ),
            entry(
                "00000000000000000300-w-00000002",
                130.0,
                300,
                version("units", "U5", 300, 131.0, region="oslo"),
                region="innlandet",
            ),
        ],
    )
    assert [v.at for v in archive.since(299).versions] == [130.0, 131.0]
    later = archive.since(400)
    assert (later.versions, later.records, later.horizons) == ((), (), {})
    with pytest.raises(ValueError, match="revision"):
        archive.since(-1)


def test_records_still_live_are_held_until_released(archive):
    archive.migrate()
    old = record("requests", "r-old", 10, 100.0)
    new = record("requests", "r-new", 11, 200.0)
    other = record("requests", "r-vv", 12, 100.0, region="vestre-viken")
    archive.put_batch([old, new, other], [], still_live=[old.key, new.key, other.key])
    archive.put_batch([old], [], still_live=[old.key])  # again: no change
    assert archive.held_live("oslo", 150.0, 10) == [(old.key, 10)]
    assert archive.held_live("oslo", 250.0, 1) == [(old.key, 10)]  # oldest first, limit
    assert archive.held_live("oslo", 250.0, 10) == [(old.key, 10), (new.key, 11)]
    archive.release([old.key])
    assert archive.held_live("oslo", 250.0, 10) == [(new.key, 11)]
    assert archive.get_record("requests", "r-old") == old  # released: still archived
    assert archive.counts()["held_live"] == 2
    with pytest.raises(ValueError, match="still_live names no record"):
        archive.put_batch([], [], still_live=["/nowhere"])


def test_a_batch_with_bad_values_is_refused_before_the_database(archive):
    archive.migrate()
    bad = ArchivedRecord("k", "incidents", "oslo", "1", 3, 1.0, "not bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record k value is not bytes"):
        archive.put_batch([bad], [])
    assert archive.counts()["records"] == 0


def test_a_second_revision_is_a_new_row_and_get_record_returns_the_newest(archive):
    archive.migrate()
    archive.put_batch([record("incidents", "1", 30, 100.0)], [])
    archive.put_batch([record("incidents", "1", 10, 100.0)], [])  # older, arriving later
    assert archive.counts()["records.incidents"] == 2
    got = archive.get_record("incidents", "1")
    assert got == record("incidents", "1", 30, 100.0)
    assert archive.records("incidents") == [got]
    assert archive.get_record("incidents", "2") is None
    assert archive.get_record("calls", "1") is None


# -- reads -------------------------------------------------------------------------------


def test_records_filter_by_kind_region_and_time(archive):
    archive.migrate()
    o1 = record("incidents", "o1", 10, 100.0)
    o2 = record("incidents", "o2", 11, 200.0)
    i1 = record("incidents", "i1", 12, 150.0, region="innlandet")
    o3 = record("incidents", "o3", 13, 300.0)
    call = record("calls", "c1", 14, 200.0)
    archive.put_batch([o3, o1, call, i1, o2], [])
    assert archive.records("incidents") == [o1, i1, o2, o3]
    assert archive.records("calls") == [call]
    assert archive.records("requests") == []
    assert archive.records("incidents", region="oslo") == [o1, o2, o3]
    assert archive.records("incidents", since=150.0) == [i1, o2, o3]  # inclusive
    assert archive.records("incidents", until=200.0) == [o1, i1, o2]  # inclusive
    assert archive.records("incidents", region="oslo", since=101.0, until=299.0) == [o2]
    assert archive.records("incidents", region="innlandet", until=149.0) == []
    # Filters apply to the newest revision: an older one in the window does not count.
    moved = record("incidents", "o4", 40, 500.0)
    archive.put_batch([record("incidents", "o4", 20, 120.0), moved], [])
    assert archive.records("incidents", until=200.0) == [o1, i1, o2]
    assert archive.records("incidents", since=400.0) == [moved]


def test_journal_in_time_order_with_filters_and_limit(archive):
    archive.migrate()
    rows = [
        entry("c", 300.0, 30, version("incidents", "1", 30, 300.0)),
        entry("a", 100.0, 10, version("incidents", "1", 10, 100.0)),
        entry(
            "d", 250.0, 25, version("units", "u", 25, 250.0, region="innlandet"), region="innlandet"
        ),
        entry("b", 200.0, 20),  # an entry whose writes were not archived: no versions
    ]
    archive.put_batch([], rows)
    assert stamps(archive.journal()) == ["a", "b", "d", "c"]
    assert stamps(archive.journal(region="oslo")) == ["a", "b", "c"]
    assert stamps(archive.journal(since=200.0, until=300.0)) == ["b", "d", "c"]
    assert stamps(archive.journal(region="in", until=249.0)) == []
    assert stamps(archive.journal(limit=2)) == ["a", "b"]
    assert stamps(archive.journal(region="oslo", since=150.0, limit=1)) == ["b"]
    assert archive.journal(limit=0) == []
    by_stamp = {stamps([r])[0]: r for r in archive.journal()}
    assert by_stamp["a"].versions == (version("incidents", "1", 10, 100.0),)
    assert by_stamp["b"].versions == ()
    assert by_stamp["d"] == rows[2]
    with pytest.raises(ValueError, match="limit must be an int >= 0"):
        archive.journal(limit=-1)


def _made(stamp: str, at: float, revision: int, command: str, region: str = "oslo"):
    body = json.dumps({"stamp": stamp, "command": command}).encode()
    return JournalRow(f"{P}journal/{region}/{stamp}", region, at, revision, body, command=command)


def test_journal_of_commands_reads_only_those_commands(archive):
    """The KPIs' read: a few commands of one region among many position reports, in
    time order, without versions."""
    archive.migrate()
    archive.put_batch(
        [],
        [
            _made("p1", 100.0, 10, "ReportUnitPosition"),
            _made("a", 110.0, 11, "AssignUnit"),
            _made("p2", 120.0, 12, "ReportUnitPosition"),
            _made("s", 90.0, 9, "ChangeUnitStatus"),
            _made("x", 130.0, 13, "AssignUnit", region="innlandet"),
            _made("late", 150.0, 15, "ChangeUnitStatus"),
        ],
    )
    wanted = ["AssignUnit", "ChangeUnitStatus"]
    got = archive.journal_of_commands(wanted, region="oslo")
    assert stamps(got) == ["s", "a", "late"]
    assert [r.command for r in got] == ["ChangeUnitStatus", "AssignUnit", "ChangeUnitStatus"]
    assert all(r.versions == () for r in got)
    assert json.loads(got[1].entry) == {"stamp": "a", "command": "AssignUnit"}
    assert stamps(archive.journal_of_commands(wanted, region="oslo", since=110.0)) == [
        "a",
        "late",
    ]
    assert stamps(archive.journal_of_commands(["AssignUnit"], region="innlandet")) == ["x"]
    assert archive.journal_of_commands(["Nothing"], region="oslo") == []
    with pytest.raises(ValueError, match="commands must be names"):
        archive.journal_of_commands("AssignUnit", region="oslo")
    with pytest.raises(ValueError, match="commands must be names"):
        archive.journal_of_commands([""], region="oslo")


def test_migration_9_gives_rows_archived_before_it_their_command(archive, archive_url):
    """An archive at version 8 (rows without the command column, made here by taking
    versions 9 and 10 back out) migrated: each row's command is read from its JSON
    entry."""
    archive.migrate()
    archive.put_batch(
        [],
        [_made("p", 100.0, 10, "ReportUnitPosition"), _made("a", 110.0, 11, "AssignUnit")],
    )
    for sql in (
        "DROP INDEX record_versions_kind_key_at",
        "DELETE FROM schema_migrations WHERE version = 10",
        "DROP INDEX journal_region_command_at",
        "ALTER TABLE journal DROP COLUMN command",
        "DELETE FROM schema_migrations WHERE version = 9",
    ):
        raw_execute(archive_url, sql)
    assert archive.schema_version() == 8
    assert archive.migrate() == latest_version()
    got = archive.journal_of_commands(["AssignUnit", "ReportUnitPosition"], region="oslo")
    assert [(r.command, stamps([r])[0]) for r in got] == [
        ("ReportUnitPosition", "p"),
        ("AssignUnit", "a"),
    ]


def test_prune_journal_deletes_the_oldest_of_one_command_with_what_they_wrote(archive):
    """Position reports past their retention: the oldest rows of that command and
    region before the time go, with their versions and their own idempotency records;
    another command's request record at the same revision (one group commit) stays,
    as do newer rows, other commands and other regions."""
    archive.migrate()

    def report(stamp, at, rev, command="ReportUnitPosition", region="oslo", rid=""):
        body = json.dumps({"command": command, "request_id": rid or f"r-{stamp}"}).encode()
        v = version("units", f"u{stamp}", rev, at, region=region)
        key = f"{P}journal/{region}/{stamp}"
        return JournalRow(key, region, at, rev, body, (v,), command=command)

    def request(rid, rev, at):
        return ArchivedRecord(f"{P}requests/{rid}", "requests", "oslo", rid, rev, at, b"{}")

    rows = [
        report("1", 100.0, 10),
        report("2", 110.0, 11),
        report("3", 120.0, 12, command="AssignUnit"),
        report("4", 130.0, 12),  # the same group commit as 3
        report("5", 140.0, 14, region="innlandet"),
        report("6", 300.0, 30),  # newer than the retention
    ]
    archive.put_batch(
        [request("r-1", 10, 100.0), request("r-3", 12, 120.0), request("r-4", 12, 130.0)], rows
    )
    assert archive.prune_journal("ReportUnitPosition", region="oslo", before=200.0, limit=2) == 2
    assert stamps(archive.journal()) == ["3", "4", "5", "6"]
    assert archive.prune_journal("ReportUnitPosition", region="oslo", before=200.0, limit=9) == 1
    assert archive.prune_journal("ReportUnitPosition", region="oslo", before=200.0, limit=9) == 0
    assert stamps(archive.journal()) == ["3", "5", "6"]
    assert archive.get_record("requests", "r-1") is None
    assert archive.get_record("requests", "r-4") is None
    assert archive.get_record("requests", "r-3") is not None  # AssignUnit's, revision 12
    assert archive.history("units", "u1") == [] and archive.history("units", "u4") == []
    assert stamps(archive.history("units", "u3")) == ["3"]
    with pytest.raises(ValueError, match="limit must be an int >= 1"):
        archive.prune_journal("ReportUnitPosition", region="oslo", before=200.0, limit=0)
    with pytest.raises(ValueError, match="command must be a name"):
        archive.prune_journal("", region="oslo", before=200.0, limit=1)


def _life_of_incident_1() -> list[JournalRow]:
    """Incident 1 created, dispatched with unit u (one entry writes both), then removed;
    incident 2's entries interleave."""
    return [
        entry("1", 100.0, 10, version("incidents", "1", 10, 100.0)),
        entry("2", 150.0, 15, version("incidents", "2", 15, 150.0)),
        entry(
            "3",
            200.0,
            20,
            version("incidents", "1", 20, 200.0),
            version("units", "u", 20, 200.0),
        ),
        entry("4", 250.0, 25, version("incidents", "2", 25, 250.0)),
        entry("5", 300.0, 30, version("incidents", "1", 30, 300.0, deleted=True)),
    ]


def test_history_is_exactly_the_entries_that_touched_the_entity(archive):
    archive.migrate()
    life = _life_of_incident_1()
    archive.put_batch([], list(reversed(life)))
    history = archive.history("incidents", "1")
    assert stamps(history) == ["1", "3", "5"]
    assert history == [life[0], life[2], life[4]]  # versions filled in, both of entry 3's
    assert history[2].versions[0].value is None
    assert stamps(archive.history("units", "u")) == ["3"]
    assert stamps(archive.history("incidents", "2")) == ["2", "4"]
    assert archive.history("incidents", "9") == []
    assert archive.history("units", "1") == []  # same id, other kind


def test_close_then_use_is_a_clear_error(archive):
    archive.migrate()
    archive.close()
    archive.close()  # twice is fine
    with pytest.raises(ArchiveError, match="after close"):
        archive.counts()


# -- one backend's own behaviour ---------------------------------------------------------


def test_postgres_unreachable_fails_with_the_address(postgres_server: EmbeddedPostgres):
    url = postgres_server.url_for("amk").replace(str(postgres_server.port), str(find_free_port()))
    store = open_archive(url)
    with pytest.raises(ArchiveError, match=r"postgresql://amk@127\.0\.0\.1:\d+/amk: migrate"):
        store.migrate()
    store.close()


def test_postgres_that_never_answers_times_out():
    """A server that accepts TCP and never speaks: connect_timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # connections queue in the backlog; nobody accepts
        port = silent.getsockname()[1]
        store = PostgresArchive(f"postgresql://amk@127.0.0.1:{port}/amk?connect_timeout=2")
        with pytest.raises(ArchiveError, match="schema_version failed"):
            store.schema_version()
        store.close()


def test_postgres_reconnects_at_the_next_call_after_losing_its_connection(
    postgres_server: EmbeddedPostgres,
):
    app = "amk-archive-test-reconnect"
    store = PostgresArchive(f"{postgres_server.url}?application_name={app}")
    store.migrate()
    store.put_batch([record("incidents", "1", 10, 100.0)], [])
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (app,),
        ).fetchall()
    assert killed == [(True,)]
    with pytest.raises(ArchiveError, match="get_record failed"):
        store.get_record("incidents", "1")
    assert store.get_record("incidents", "1") == record("incidents", "1", 10, 100.0)
    store.close()


def test_sqlite_file_is_in_wal_mode_with_full_sync(tmp_path):
    archive = SqliteArchive(tmp_path / "archive.db")
    with sqlite3.connect(archive.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # kept in the file
    # synchronous is per connection: read it on the archive's own.
    with archive._tx("check") as cur:
        cur.execute("PRAGMA synchronous")
        assert cur.fetchone() == (2,)  # FULL
    archive.close()


def test_sqlite_refuses_a_relative_path_or_a_missing_folder(tmp_path):
    with pytest.raises(ArchiveError, match="must be absolute"):
        SqliteArchive("archive.db")
    with pytest.raises(ArchiveError, match="does not exist"):
        SqliteArchive(tmp_path / "no-such-folder" / "archive.db")


def test_open_archive_builds_each_backend(tmp_path):
    three = open_archive(f"sqlite://{tmp_path / 'a.db'}")  # sqlite:///tmp/...
    four = open_archive(f"sqlite:///{tmp_path / 'a.db'}")  # ClusterConfig's spelling
    assert isinstance(three, SqliteArchive) and isinstance(four, SqliteArchive)
    assert three.path == four.path == tmp_path / "a.db"
    three.migrate()
    assert four.schema_version() == latest_version()
    three.close()
    four.close()
    assert isinstance(open_archive("postgresql://amk@127.0.0.1:1/amk"), PostgresArchive)


def test_postgres_turns_synchronous_commit_back_on(postgres_server: EmbeddedPostgres):
    """A role or server defaulting to synchronous_commit=off must not weaken put_batch."""
    store = PostgresArchive(f"{postgres_server.url}?options=-csynchronous_commit%3Doff")
    with store._tx("check") as cur:
        cur.execute("SHOW synchronous_commit")
        assert cur.fetchone() == ("on",)
    store.close()
