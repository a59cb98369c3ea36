"""Time ``recommend`` over synthetic fleets: 100, 1,000, 10,000 and 100,000 units.

Units are spread at random over Helse Sør-Øst (lat 58-62.5, lon 6.5-12.5) with a
fleet-like mix of kinds and 60 % available; incidents are random positions in the same
box, urgencies in turn. Prints JSON: per size, the median and p99 ms per call.

    .venv/bin/python bench/recommend_bench.py [--calls N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from actors.domain.model import CrewLevel, Position, Unit, UnitKind, UnitStatus, Urgency
from actors.domain.recommend import recommend

SIZES = (100, 1_000, 10_000, 100_000)
KINDS = (
    (UnitKind.ROAD_AMBULANCE, 0.75),
    (UnitKind.RAPID_RESPONSE_CAR, 0.10),
    (UnitKind.BOAT_AMBULANCE, 0.05),
    (UnitKind.HELICOPTER, 0.07),
    (UnitKind.FIXED_WING, 0.03),
)
STATUSES = (
    (UnitStatus.AVAILABLE_AT_STATION, 0.45),
    (UnitStatus.AVAILABLE_MOBILE, 0.15),
    (UnitStatus.EN_ROUTE, 0.15),
    (UnitStatus.ON_SCENE, 0.15),
    (UnitStatus.OUT_OF_SERVICE, 0.10),
)
URGENCIES = (Urgency.AKUTT, Urgency.HASTER, Urgency.VANLIG, None)


def position(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(58.0, 62.5), rng.uniform(6.5, 12.5)


def fleet(n: int, rng: random.Random) -> list[Unit]:
    kinds = [k for k, _ in KINDS]
    kw = [w for _, w in KINDS]
    statuses = [s for s, _ in STATUSES]
    sw = [w for _, w in STATUSES]
    out = []
    for i in range(n):
        kind = rng.choices(kinds, kw)[0]
        if kind in (UnitKind.HELICOPTER,):
            crew = CrewLevel.DOCTOR
        elif kind == UnitKind.RAPID_RESPONSE_CAR:
            crew = rng.choice((CrewLevel.DOCTOR, CrewLevel.PARAMEDIC))
        else:
            crew = rng.choice((CrewLevel.EMT, CrewLevel.PARAMEDIC))
        lat, lon = position(rng)
        out.append(
            Unit(
                id=f"u{i:06d}",
                call_sign=f"Unit {i}",
                region="oslo",
                kind=kind,
                crew=crew,
                status=rng.choices(statuses, sw)[0],
                position=Position(lat, lon),
                station="",
                updated_at=0.0,
            )
        )
    return out


def bench(n: int, calls: int, rng: random.Random) -> dict[str, float]:
    units = fleet(n, rng)
    incidents = [position(rng) for _ in range(calls)]
    recommend(units, *incidents[0], Urgency.AKUTT)  # warm-up
    times = []
    for i, (lat, lon) in enumerate(incidents):
        t0 = time.perf_counter()
        recommend(units, lat, lon, URGENCIES[i % len(URGENCIES)])
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    return {
        "units": n,
        "calls": calls,
        "median_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "max_ms": round(times[-1], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=0, help="calls per size (default: by size)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    results = []
    for n in SIZES:
        calls = args.calls or (200 if n <= 10_000 else 40)
        results.append(bench(n, calls, rng))
    print(json.dumps({"benchmark": "recommend", "results": results}, indent=2))


if __name__ == "__main__":
    main()
