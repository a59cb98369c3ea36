"""Every Python process started with this folder on ``PYTHONPATH`` and
``AMK_GC_TRACE_DIR`` set logs each pause of the cycle collector of 1 ms or more:
``<dir>/<pid>.log``, one line each: wall time, generation, milliseconds, process title
(Ray sets a worker's title to its actor, e.g. ``ray::GatewayActor``). Ray's workers
inherit the environment of the process that starts the local cluster, so one variable
traces the gateway, the centres and the benchmark together. ``bench/gc_report.py``
sums the logs up.

    AMK_GC_TRACE_DIR=/tmp/gc PYTHONPATH=bench/gc_trace:$PWD \\
        .venv/bin/python bench/scale_bench.py --parts watch --consoles 500
    .venv/bin/python bench/gc_report.py /tmp/gc

A diagnostic for benchmarks only: nothing in the cluster imports it.
"""

from __future__ import annotations

import gc
import os
import time

_DIR = os.environ.get("AMK_GC_TRACE_DIR")
_MIN_MS = 1.0
_started = [0.0]


def _title() -> str:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            raw = f.read(200)
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _trace(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    if ms < _MIN_MS:
        return
    with open(os.path.join(str(_DIR), f"{os.getpid()}.log"), "a") as f:
        f.write(f"{time.time():.3f} {info['generation']} {ms:.2f} {_title()}\n")


if _DIR:
    gc.callbacks.append(_trace)
