"""CPU of the gateway's Watch fan-out per hub batch, in one process, without etcd.

The end-to-end fan-out bench (``scale_bench.py --parts watch``) is dominated by the
machine's load on a shared 2-core box; this one times only our code: the hub sorting a
batch once (``watch_hub.Batch``) and each of N streams taking its events from it
(``Batch.for_regions``), as the hub hands it out (a stream only if the batch touches a
region it watches). A batch is one group
commit of ``--creates`` CreateIncidents: per create, the incident record, its journal
entry, its request record and the region counter (what the centre writes). Run it with
``PYTHONPATH`` set to the worktree measured, so two revisions can be compared.

    PYTHONPATH=$PWD .venv/bin/python bench/watch_cpu_bench.py --streams 1,100,500
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import time
from types import SimpleNamespace
from typing import Any

from actors.gateway.watch_hub import Batch
from actors.gateway.watch_service import WatchRpcs
from bench.scale_bench import make_incident
from cluster.etcd import KV, WatchEventKV
from cluster.keys import Keys

REGIONS = ("oslo", "innlandet", "vestfold-telemark", "vestre-viken", "agder", "sorlandet")


def batches(keys: Keys, n: int, creates: int, spread: bool) -> list[tuple[int, list[Any]]]:
    out = []
    rev = 1000
    for b in range(n):
        rev += 1
        events = []
        for c in range(creates):
            i = b * creates + c
            region = REGIONS[i % len(REGIONS)] if spread else "oslo"
            inc = make_incident(i, typical=True, region=region)
            raw = inc.encode()
            for key, value in (
                (keys.incident(region, inc.id), raw),
                (keys.journal(region, f"{i:012d}"), b'{"cmd":"create","record":' + raw + b"}"),
                (keys.request(f"req-{i}"), b'{"ok":true,"record":' + raw + b"}"),
                (keys.counter(region), str(i).encode()),
            ):
                events.append(WatchEventKV(KV(key, value, rev, rev, 1, 0), False, None))
        out.append((rev, events))
    return out


def run(streams: int, creates: int, spread: bool, n: int) -> float:
    """Microseconds of CPU per batch for ``streams`` streams watching oslo."""
    keys = Keys()
    gw = SimpleNamespace(keys=keys, regions=set(REGIONS), config=None)
    rpcs = WatchRpcs(gw)  # type: ignore[arg-type]
    data = batches(keys, n, creates, spread)
    want = {"oslo"}
    t0 = time.process_time()
    for rev, events in data:
        batch = Batch(rev, events, keys)
        if want & batch.regions:
            for _ in range(streams):
                batch.for_regions(want, rpcs._wire_event)
    return (time.process_time() - t0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", default="0,1,100,500")
    ap.add_argument("--creates", type=int, default=7, help="creates per batch (group commit)")
    ap.add_argument("--batches", type=int, default=400)
    args = ap.parse_args()
    rows = []
    for spread in (False, True):
        for s in (int(x) for x in args.streams.split(",")):
            us = min(run(s, args.creates, spread, args.batches) for _ in range(3))
            rows.append(
                {"streams": s, "regions_in_batch": 6 if spread else 1, "us_per_batch": round(us, 1)}
            )
    print(
        json.dumps(
            {
                "source": inspect.getsourcefile(WatchRpcs),
                "creates_per_batch": args.creates,
                "load": [round(x, 2) for x in os.getloadavg()],
                "rows": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
