"""bench/gc_report.py groups the collector pauses bench/gc_trace logs by process."""

from __future__ import annotations

from pathlib import Path

from bench import gc_report


def test_pauses_are_grouped_by_actor_method_and_generation(tmp_path: Path) -> None:
    (tmp_path / "11.log").write_text(
        "100.0 2 41.70 ray::GatewayActor.start\n"
        "101.0 0 1.20 ray::GatewayActor.wait_stopped\n"
        "102.0 2 16.10 ray::GatewayActor.wait_stopped\n"
    )
    (tmp_path / "12.log").write_text("100.5 1 3.00 .venv/bin/python bench/scale_bench.py\n")
    rows = gc_report.read(tmp_path)
    assert len(rows) == 4
    by = gc_report.summary(rows)
    assert by["ray::GatewayActor.start"] == {2: [41.7]}  # starting apart from serving
    assert by["ray::GatewayActor.wait_stopped"] == {0: [1.2], 2: [16.1]}
    assert by[".venv/bin/python bench/scale_bench.py"] == {1: [3.0]}
    later = gc_report.summary([r for r in rows if r[0] >= 101.5])
    assert later == {"ray::GatewayActor.wait_stopped": {2: [16.1]}}
