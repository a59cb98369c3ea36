"""bench/watch_cpu_bench.py still drives the gateway's fan-out code as it is (it called a
method that had gone once): a tiny run, and the hub's routing in its model."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, the benchmark has bench/ on its path (scale_bench imports benchlib).
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

from bench import watch_cpu_bench


def test_the_fan_out_micro_benchmark_runs_on_the_current_code() -> None:
    assert watch_cpu_bench.run(streams=3, creates=2, spread=False, n=2) > 0
    assert watch_cpu_bench.run(streams=3, creates=7, spread=True, n=2) > 0
