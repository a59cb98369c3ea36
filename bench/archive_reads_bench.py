"""What the gateway's reads of the archive cost as the archive fills: the KPI inputs
(``GetKpis``, which the web console asks for every minute) and a caller's history
(``ListCallerHistory``, on every answered 113 call with a number).

In-process, no cluster: an archive filled, for ``--days``,
with what one busy region's archiver writes a day: ``--incidents`` closed incidents and
``--calls`` calls (records), each incident's dispatch steps as journal entries (an
assignment, four unit statuses, the incident's close: what the KPIs read), and the crews'
position reports (``--units`` units, one report each ``--report-s`` seconds: a journal
entry and the unit's version each). Journal rows are made by the archiver's own
``journal_row`` from entries shaped as the centre's store writes them.

Each read is run as the gateway runs it, through ``actors.gateway.history.History`` on an
asyncio loop, while a probe task on the same loop wakes every millisecond: the longest
gap it saw, less the millisecond, is how long the read held the gateway's event loop
(every other call and live stream of that gateway waits that long). Also its wall time,
the process's CPU time and what it returned (for GetBoardAt, the versions: one per
record, found key by key since archive schema version 10).

The archive is a SQLite file in a temporary folder, or with ``--engine postgresql`` a
PostgreSQL server started for the run (Debian's binaries, as the tests start it). With
PostgreSQL the query's own work is the server's: the CPU column is this process's only.

    PYTHONPATH=$PWD .venv/bin/python bench/archive_reads_bench.py [--days 2] [--engine E]

JSON to ``--out`` (default ``bench/results/archive_reads.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from actors.domain import caller_history, kpi
from actors.domain.model import (
    Call,
    CallStatus,
    CrewLevel,
    Incident,
    IncidentStatus,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
)
from actors.gateway.history import History
from cluster.archive import ArchivedRecord, open_archive
from cluster.archive.journal import OWNERS, journal_row
from cluster.archive.pg_server import EmbeddedPostgres
from cluster.archive.schema import MIGRATIONS
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.keys import Keys

DAY = 86400.0
NOW = 1_800_000_000.0
REGION = "oslo"
CALLER = "+4790000007"  # one of the numbers the fill's incidents and calls come from
OSLO = (59.9139, 10.7522)
STEPS = (
    ("AssignUnit", UnitStatus.ASSIGNED),
    ("ChangeUnitStatus", UnitStatus.EN_ROUTE),
    ("ChangeUnitStatus", UnitStatus.ON_SCENE),
    ("ChangeUnitStatus", UnitStatus.TRANSPORTING),
    ("ChangeUnitStatus", UnitStatus.AVAILABLE_MOBILE),
)


class Filler:
    """Archive rows as the archiver writes them, numbered by a fake etcd revision."""

    def __init__(self, archive: Any, rng: random.Random) -> None:
        self.archive = archive
        self.rng = rng
        self.keys = Keys("/amk/")
        self.revision = 0
        self.records: list[ArchivedRecord] = []
        self.journal: list[Any] = []
        self.written = {"records": 0, "journal": 0}

    def entry(self, command: str, at: float, puts: list[tuple[str, bytes]]) -> None:
        """One journal entry (the store's layout: records spliced in) at ``at``."""
        self.revision += 1
        head = {
            "at": at,
            "writer": "oslo-1",
            "who": "ola@oslo",
            "command": command,
            "request_id": f"r{self.revision}",
            "region": REGION,
            "tokens": {REGION: 7},
            "keys": [k for k, _ in puts],
            "ids": [k.rsplit("/", 1)[-1] for k, _ in puts],
        }
        body = json.dumps(head)[:-1].encode() + b',"records":{'
        body += b",".join(json.dumps(k).encode() + b":" + v for k, v in puts) + b"}}"
        key = self.keys.journal(REGION, f"{int(at * 1e9):020d}-oslo-1-{self.revision:08d}")
        self.journal.append(journal_row(self.keys, key, body, self.revision))
        self.flush_if_full()

    def record(self, kind: str, id_: str, at: float, value: bytes) -> None:
        self.revision += 1
        key = f"/amk/{kind}/{REGION}/{id_}"
        self.records.append(ArchivedRecord(key, kind, REGION, id_, self.revision, at, value))
        self.flush_if_full()

    def flush_if_full(self, force: bool = False) -> None:
        if force or len(self.journal) + len(self.records) >= 5000:
            self.archive.put_batch(self.records, self.journal)
            self.written["records"] += len(self.records)
            self.written["journal"] += len(self.journal)
            self.records, self.journal = [], []


def ambulance(id_: str, status: UnitStatus, pos: Position, at: float) -> Unit:
    return Unit(
        id=id_,
        call_sign=id_,
        region=REGION,
        kind=UnitKind.ROAD_AMBULANCE,
        crew=CrewLevel.PARAMEDIC,
        status=status,
        position=pos,
        station="ulleval",
        updated_at=at,
    )


def fill(archive: Any, a: argparse.Namespace) -> dict[str, int]:
    rng = random.Random(7)
    f = Filler(archive, rng)
    units = [f"OSL-AMB-{i:02d}" for i in range(a.units)]
    numbers = [f"+4790{i:06d}" for i in range(200)]  # CALLER is one of them
    keys = f.keys
    n = 0
    for d in range(a.days, 0, -1):
        start = NOW - d * DAY
        # Position reports through the day, unit by unit.
        t = start
        while t < start + DAY:
            for u in units:
                pos = Position(OSLO[0] + rng.uniform(-0.1, 0.1), OSLO[1] + rng.uniform(-0.2, 0.2))
                unit = ambulance(u, UnitStatus.AVAILABLE_MOBILE, pos, t)
                f.entry("ReportUnitPosition", t, [(keys.unit(REGION, u).decode(), unit.encode())])
            t += a.report_s
        for _ in range(a.incidents):
            n += 1
            at = start + rng.random() * (DAY - 7200)
            inc = Incident(
                id=f"OSL-{n:06d}",
                region=REGION,
                status=IncidentStatus.CLOSED,
                urgency=rng.choice(list(Urgency)),
                position=Position(*OSLO),
                created_at=at,
                updated_at=at + 3600,
                caller_number=rng.choice(numbers),
                address=f"Gate {rng.randint(1, 400)}",
            )
            unit_id = rng.choice(units)
            for i, (command, status) in enumerate(STEPS):
                unit = ambulance(unit_id, status, Position(*OSLO), at + 60 * (i + 1))
                puts = [(keys.unit(REGION, unit_id).decode(), unit.encode())]
                if i == 0:
                    puts.append((keys.incident(REGION, inc.id).decode(), inc.encode()))
                f.entry(command, at + 60 * (i + 1), puts)
            puts = [(keys.incident(REGION, inc.id).decode(), inc.encode())]
            f.entry("ChangeIncidentStatus", at + 3600, puts)
            f.record("incidents", inc.id, at, inc.encode())
        for c in range(a.calls):
            at = start + rng.random() * DAY
            call = Call(
                id=f"OSL-C{d:03d}{c:05d}",
                region=REGION,
                status=CallStatus.COMPLETED,
                caller_number=rng.choice(numbers),
                position=Position(*OSLO),
                arrived_at=at,
                answered_at=at + rng.uniform(2, 15),
            )
            f.record("calls", call.id, at, call.encode())
    f.flush_if_full(force=True)
    return {**f.written, "incidents": n}


async def held(read: Callable[[], Awaitable[Any]]) -> tuple[Any, float, float, float]:
    """(result, wall s, CPU s, longest loop stall s) of one read on this loop."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last - 0.001)
            last = now

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.01)
    wall, cpu = time.perf_counter(), time.process_time()
    result = await read()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done.set()
    await task
    return result, wall, cpu, max(gaps, default=0.0)


def reads(history: History) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The archive side of each gateway read, as the gateway's code calls it."""
    journal_takes_commands = "commands" in inspect.signature(history.archived_journal).parameters
    records_takes_keep = "keep_call" in inspect.signature(history.archived_records).parameters

    def kpi_inputs(since: float | None) -> Callable[[], Awaitable[Any]]:
        async def read() -> Any:
            records = await history.archived_records([REGION], since)
            extra = {"commands": kpi.RELEVANT_COMMANDS} if journal_takes_commands else {}
            entries = await history.archived_journal([REGION], since, **extra)
            return len(records[0]) + len(records[1]), len(entries)

        return read

    async def caller(number: str = CALLER) -> Any:
        since = NOW - caller_history.DEFAULT_HOURS * 3600.0
        if records_takes_keep:  # as call_service.ListCallerHistory asks
            key = caller_history.number_key(number)

            def same(r: Any) -> bool:
                return caller_history.number_key(r.caller_number) == key

            records = await history.archived_records(
                [REGION], since, keep_incident=same, keep_call=same
            )
        else:
            records = await history.archived_records([REGION], since)
        return len(records[0]) + len(records[1]), 0

    async def board_query() -> Any:
        # GetBoardAt's archive query (History.board_at runs it in a thread; the live
        # journal it also reads needs etcd, not here): each key's newest version then.
        archive = await history.archive()
        kinds = ["incidents", "units", OWNERS]
        return len(await asyncio.to_thread(archive.versions_at, NOW - 1, kinds)), 0

    return {
        "GetKpis, since unset (everything archived)": kpi_inputs(None),
        "GetKpis, the last 24 h": kpi_inputs(NOW - DAY),
        f"ListCallerHistory, {caller_history.DEFAULT_HOURS} h": caller,
        "GetBoardAt, its archive query (now)": board_query,
    }


async def measure(history: History, reps: int) -> list[dict[str, Any]]:
    points = []
    for name, read in reads(history).items():
        runs = [await held(read) for _ in range(reps)]
        points.append(
            {
                "read": name,
                "returned": {"records": runs[0][0][0], "journal_entries": runs[0][0][1]},
                "wall_s_median": statistics.median(r[1] for r in runs),
                "cpu_s_median": statistics.median(r[2] for r in runs),
                "loop_held_s_max": max(r[3] for r in runs),
                "loop_held_s_median": statistics.median(r[3] for r in runs),
            }
        )
    return points


@contextlib.contextmanager
def archive_server(engine: str, tmp: str) -> Iterator[tuple[str, Callable[[], int]]]:
    """The archive's URL, and how to measure what it holds on disk."""
    if engine == "sqlite":
        # The database and its write-ahead log.
        yield (
            f"sqlite:///{tmp}/archive.db",
            lambda: sum(f.stat().st_size for f in Path(tmp).glob("archive.db*")),
        )
        return
    # Not under ``tmp`` as root: the server runs as ``postgres`` (see the tests' fixture).
    base = Path(tempfile.mkdtemp(prefix="amk-pg-bench-"))
    server = EmbeddedPostgres(base, port=find_free_port())
    try:
        server.start()

        def size() -> int:
            with psycopg.connect(server.url) as conn:
                row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0

        yield server.url, size
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


BOARD_INDEX_VERSION = 10  # the board's index (cluster/archive/board.py)


def time_board_index(url: str) -> float:
    """Seconds to build archive schema version 10's index on the filled archive, as its
    upgrade does: the index is dropped and its migration's one statement run again, in
    one transaction on the archive's own connection, without a statement time limit.
    Right after the fill, the data is likely in memory: a cold archive takes longer."""
    (migration,) = (m for m in MIGRATIONS if m.version == BOARD_INDEX_VERSION)
    archive = open_archive(url)
    try:
        (statement,) = migration.for_dialect(archive.dialect)
        index = statement.split()[2]  # CREATE INDEX <name> ON ...
        with archive._tx("bench: drop the board index", write=True) as cur:
            cur.execute(f"DROP INDEX {index}")
        started = time.perf_counter()
        with archive._tx("bench: build the board index", write=True) as cur:
            if archive.migration_unbounded:  # as migrate(): no statement time limit
                cur.execute(archive.migration_unbounded)
            cur.execute(statement)
        return time.perf_counter() - started
    finally:
        archive.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--incidents", type=int, default=300, help="a day")
    ap.add_argument("--calls", type=int, default=400, help="a day")
    ap.add_argument("--units", type=int, default=40)
    ap.add_argument("--report-s", type=float, default=30.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("bench/results/archive_reads.json"))
    ap.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument(
        "--time-upgrade",
        action="store_true",
        help=f"also time archive schema version {BOARD_INDEX_VERSION}'s index built on the filled "
        "archive (what the upgrade of an archive this size costs)",
    )
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, archive_server(a.engine, tmp) as (url, size_of):
        archive = open_archive(url)
        archive.migrate()
        started = time.perf_counter()
        filled = fill(archive, a)
        filled_s = time.perf_counter() - started
        archive.close()
        size = size_of()
        upgrade_s = time_board_index(url) if a.time_upgrade else None
        history = History(ClusterConfig(archive_url=url), None)  # type: ignore[arg-type]
        points = asyncio.run(measure(history, a.reps))
    doc = {"args": vars(a) | {"out": str(a.out)}, "filled": filled, "fill_s": filled_s}
    doc["archive_bytes"] = size
    doc["board_index_build_s"] = upgrade_s
    doc["points"] = points
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=2))
    print(f"archived: {filled} in {filled_s:.0f} s, {size / 2**20:,.0f} MiB on disk")
    if upgrade_s is not None:
        print(f"the upgrade to version {BOARD_INDEX_VERSION} (its index built): {upgrade_s:.1f} s")
    for p in points:
        r = p["returned"]
        print(
            f"{p['read']:<45} {r['records']:>7} records, {r['journal_entries']:>7} journal "
            f"entries; wall {p['wall_s_median'] * 1000:,.0f} ms, CPU "
            f"{p['cpu_s_median'] * 1000:,.0f} ms, loop held up to "
            f"{p['loop_held_s_max'] * 1000:,.0f} ms (median {p['loop_held_s_median'] * 1000:,.0f})"
        )


if __name__ == "__main__":
    main()
