"""What one ``SearchIncidents`` costs the gateway on the archive side: a region's window
of archived incidents read by region and time, decoded and matched.

In-process, no cluster: a SQLite archive in a temporary folder filled with
``--per-day`` archived incidents a day for ``--days`` (Oslo's AMK handles a few hundred
a day), at positions around Oslo with made-up addresses and a note each. Then, for each
window (30 and 90 days: the default and the most a search allows), ``--reps`` searches
near a place (200 m) and by two words, each timed end to end as the gateway's thread
runs it (``History.archived_incidents``: ``ArchiveStore.records``, ``Incident.decode``,
``incident_search.matches``), with the rows read and the process's CPU time.

    PYTHONPATH=$PWD .venv/bin/python bench/search_bench.py [--days 90 --per-day 300]

JSON to ``--out`` (default ``bench/results/search.json``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from actors.domain import incident_search
from actors.domain.model import Incident, IncidentStatus, Note, Position
from cluster.archive import ArchivedRecord, open_archive

DAY = 86400.0
OSLO = (59.9139, 10.7522)
NOW = 1_800_000_000.0


def fill(archive, days: int, per_day: int, rng: random.Random) -> int:
    """Archive ``days * per_day`` closed incidents of region oslo; how many."""
    rows: list[ArchivedRecord] = []
    n = 0
    for d in range(days):
        for _ in range(per_day):
            n += 1
            at = NOW - (d + rng.random()) * DAY
            lat = OSLO[0] + rng.uniform(-0.1, 0.1)
            lon = OSLO[1] + rng.uniform(-0.2, 0.2)
            inc = Incident(
                id=f"OSL-{n:06d}",
                region="oslo",
                status=IncidentStatus.CLOSED,
                position=Position(lat, lon),
                created_at=at,
                updated_at=at + 3600,
                address=f"Gate {rng.randint(1, 400)} nr {rng.randint(1, 60)}",
                notes=[Note(f"pasient {rng.choice(['våken', 'bevisstløs', 'blør'])}", "kari", at)],
            )
            key = f"/amk/v1/incidents/oslo/{inc.id}"
            rows.append(ArchivedRecord(key, "incidents", "oslo", inc.id, n, at, inc.encode()))
            if len(rows) >= 5000:
                archive.put_batch(rows, [])
                rows = []
    if rows:
        archive.put_batch(rows, [])
    return n


def search_once(archive, query: incident_search.Query) -> tuple[float, float, int, int]:
    """(wall s, CPU s, rows read, matched) of one search's archive side."""
    wall, cpu = time.perf_counter(), time.process_time()
    rows = archive.records("incidents", region="oslo", since=query.since, until=query.until)
    matched = 0
    for rec in rows:
        if incident_search.matches(query, Incident.decode(rec.value, rec.revision)):
            matched += 1
    return time.perf_counter() - wall, time.process_time() - cpu, len(rows), matched


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=300)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("bench/results/search.json"))
    a = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        archive = open_archive(f"sqlite:///{tmp}/archive.db")
        archive.migrate()
        started = time.perf_counter()
        total = fill(archive, a.days, a.per_day, rng)
        filled_s = time.perf_counter() - started
        points = []
        for window_days in (30, a.days):
            since = NOW - window_days * DAY
            queries = {
                "near 200 m": incident_search.check(since, NOW, Position(*OSLO), 200.0, "", 50),
                "two words": incident_search.check(since, NOW, None, 0.0, "gate bevisstløs", 50),
            }
            for name, query in queries.items():
                runs = [search_once(archive, query) for _ in range(a.reps)]
                walls = sorted(r[0] for r in runs)
                points.append(
                    {
                        "window_days": window_days,
                        "query": name,
                        "rows_read": runs[0][2],
                        "matched": runs[0][3],
                        "wall_s_median": statistics.median(walls),
                        "wall_s_max": walls[-1],
                        "cpu_s_median": statistics.median(r[1] for r in runs),
                    }
                )
        archive.close()
    doc = {"archived": total, "fill_s": filled_s, "reps": a.reps, "points": points}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=2))
    for p in points:
        print(
            f"{p['window_days']:>3} days, {p['query']:<10}: {p['rows_read']:>6} rows read, "
            f"{p['matched']:>5} matched, median {p['wall_s_median'] * 1000:.0f} ms "
            f"(max {p['wall_s_max'] * 1000:.0f} ms), CPU {p['cpu_s_median'] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
