"""py-spy samples of the processes doing an API benchmark's work, parsed into shares.

``bench/api_bench.py --profile`` runs a point again while py-spy samples the gateway,
the region's centre (or the echo server) and the benchmark's own client. py-spy is not a
project dependency: ``.venv/bin/pip install py-spy``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import benchlib as bl


def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file.py)``."""
    name, _, loc = frame.partition(" (")
    path = loc.rsplit(":", 1)[0]
    parts = path.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{name} ({short})"


PYSPY_RATE = 100
AREAS = {
    "logging (structlog, logging)": ("structlog/", "/logging/"),
    "json": ("/json/",),
    "grpc (aio server/client, channel)": ("/grpc/",),
    "protobuf": ("/protobuf/",),
    "ray (actor calls, serialization)": ("/ray/",),
    "pydantic": ("/pydantic",),
    "etcd client (cluster/etcd.py)": ("cluster/etcd.py",),
    "fenced store (cluster/store.py)": ("cluster/store.py",),
    "domain (actors/domain)": ("actors/domain/",),
    "deepcopy": ("copy.py",),
}


def parse_pyspy_raw(path: Path, seconds: float, top: int = 12) -> dict[str, Any]:
    """Top self-time frames and shares of areas from a py-spy ``--gil --format raw`` file.

    Samples are taken only while a thread holds the GIL, so ``gil_busy_share`` is the
    share of wall time the process ran Python (or C called from Python). A leaf of
    ``Handle._run`` is native work inside an event-loop callback (grpc's and Ray's
    Cython code), which py-spy cannot see into without ``--native``."""
    selfs: dict[str, int] = {}
    areas = dict.fromkeys(AREAS, 0)
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        leaf = frames[-1] if frames else ""
        selfs[_frame_name(leaf)] = selfs.get(_frame_name(leaf), 0) + n
        for area, needles in AREAS.items():
            if any(any(nd in f for nd in needles) for f in frames):
                areas[area] += n
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "gil_busy_share": round(total / (PYSPY_RATE * seconds), 3),
        "top_self": [
            {"frame": k, "share": round(v / total, 3)}
            for k, v in sorted(selfs.items(), key=lambda kv: -kv[1])[:top]
        ],
        "areas_inclusive_share": {k: round(v / total, 3) for k, v in areas.items() if v},
    }


async def profile_point(
    name: str, op: Any, concurrency: int, pids: dict[str, int], seconds: float, out_dir: Path
) -> dict[str, Any]:
    """Run one point again with py-spy sampling the given processes (figures not used)."""
    pyspy = Path(sys.executable).parent / "py-spy"
    if not pyspy.exists():
        return {"error": "py-spy not installed (.venv/bin/pip install py-spy)"}
    procs = {}
    files = {}
    for label, pid in pids.items():
        f = out_dir / f"pyspy-{name}-c{concurrency}-{label.replace(':', '_')}.txt"
        files[label] = f
        procs[label] = await asyncio.create_subprocess_exec(
            *[
                str(pyspy),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds) + 1),
                "--rate",
                str(PYSPY_RATE),
                "--format",
                "raw",
                "--gil",
                "--output",
                str(f),
            ],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    await asyncio.sleep(0.3)
    res = await bl.closed_loop(op, concurrency, seconds, warmup_s=0.2)
    out: dict[str, Any] = {"throughput_while_profiled_per_s": round(res.throughput, 1)}
    for label, p in procs.items():
        try:
            _, err = await asyncio.wait_for(p.communicate(), seconds + 20)
        except TimeoutError:
            p.kill()
            err = b"timeout"
        if files[label].exists():
            out[label] = parse_pyspy_raw(files[label], int(seconds) + 1)
            out[label]["raw_file"] = str(files[label])
        else:
            out[label] = {"error": (err or b"").decode()[-300:]}
    return out
