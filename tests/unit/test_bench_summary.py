"""The benchmark summary builder on hand-made JSON: every issue #10 figure gets a row,
met / not met / not run are told apart, and nothing is invented for a missing result."""

from __future__ import annotations

from typing import Any

from bench import summary
from bench.targets import FIGURES

MACHINE = {"nproc": 2, "cpu_model": "Test CPU", "load_avg_1_5_15": [1.5, 1.0, 0.5]}


def _api(create64: float, p99_8: float) -> dict[str, Any]:
    def pt(c: int, tput: float, p99: float) -> dict[str, Any]:
        return {"concurrency": c, "throughput_per_s": tput, "latency": {"p99_ms": p99}}

    return {
        "command": ".venv/bin/python bench/api_bench.py",
        "machine": MACHINE,
        "machine_load_after": [2.5, 1.0, 0.5],
        "points": {
            "echo": [pt(8, 4000, 3.0), pt(64, 5000, 20.0)],
            "raw_etcd": [pt(8, 1500, 6.0), pt(64, 2000, 40.0)],
            "create": [pt(8, 900, p99_8), pt(64, create64, 90.0)],
        },
    }


def _failover(kill: float, stop: float | None) -> dict[str, Any]:
    return {
        "command": ".venv/bin/python bench/failover_bench.py --modes kill,stop",
        "machine": MACHINE,
        "reps": 5,
        "incidents_prefilled": 1000,
        "summary": {"kill_p99_s": kill, "stop_p99_s": stop, "lease_ttl_s": 2.0},
    }


def _rows(results: dict[str, Any], runs: dict[str, Any] | None = None) -> list[list[str]]:
    return [summary.figure_row(f, results, runs or {}) for f in FIGURES]


def _row(rows: list[list[str]], label_part: str) -> list[str]:
    (row,) = [r for r in rows if label_part in r[1]]
    return row


def test_every_figure_has_a_row_even_with_no_results() -> None:
    text = summary.build({})
    table = [ln for ln in text.splitlines() if ln.startswith("| ") and "not run" in ln]
    assert len(table) == len(FIGURES) >= 14
    for fig in FIGURES:
        assert fig.label in text
    for row in _rows({}):
        assert row[3] == "not run" and row[4] == "not run"
        assert row[6] == f"bench/run_all.py --only {row[6].split()[-1]}"


def test_met_not_met_and_not_run_are_told_apart() -> None:
    results = {"api": _api(create64=3000, p99_8=16.3), "failover": _failover(0.2, None)}
    rows = _rows(results)
    met64 = _row(rows, "64 clients")
    assert met64[4] == "**yes**" and "0.60x echo" in met64[3] and "echo 5,000/s" in met64[5]
    p99 = _row(rows, "8 clients")
    assert p99[4] == "**no**" and "16.30 ms" in p99[3] and "echo p99 3.00 ms" in p99[5]
    assert p99[7] == "1.5 -> 2.5"
    assert _row(rows, "crash failover")[4] == "**yes**"
    hang = _row(rows, "hang failover")
    assert hang[4] == "not run" and hang[3].startswith("not run")
    # Benchmarks with no JSON at all: not run, no figure made up.
    for label in ("etcd leader kill", "kill -9 (kill-centre", "500 consoles", "memory"):
        assert _row(rows, label)[3] == "not run"


def test_a_short_run_or_too_few_faults_is_not_called_met() -> None:
    no_fault = {
        "command": "c",
        "load_spec": {"duration_s": 30.0, "rate": 60.0, "concurrency": 12},
        "load_result": {"ops": 10, "acked": 10},
        "takeovers": 0,
    }
    drill = {
        "command": "d",
        "quick": True,
        "first_ack_summary": [
            {
                "fault": "etcd-member-kill",
                "target": "leader",
                "faults": 2,
                "samples": 10,
                "missing": 0,
                "p50_s": 0.3,
                "p99_s": 0.6,
                "max_s": 0.6,
                "worst_region": "oslo",
            }
        ],
        "etcd_elections": [{"after_kill_s": 0.4}],
    }
    rows = _rows({"no-fault": no_fault, "etcd-leader-kill": drill})
    assert _row(rows, "false suspicion")[4].startswith("n/a: 30 s run")
    etcd = _row(rows, "etcd leader kill")
    assert etcd[4] == "n/a: 2 kills, 5 wanted (--quick)" and "max 0.400 s" in etcd[5]
    no_fault["takeovers"] = 1
    assert _row(_rows({"no-fault": no_fault}), "false suspicion")[4] == "**no**"


def test_raw_client_errors_and_unreadable_json() -> None:
    raw = {"errors": 3, "errors_by_code": {"UNAVAILABLE": 3}, "acked": 50, "writers": 4}
    drill = {"command": "k", "raw_client": {**raw, "deadline_s": 5.0, "lost": 0}}
    rows = _rows({"kill-centre": drill, "gateway": {"command": "g"}})
    kc = _row(rows, "kill-centre")
    assert kc[4] == "**no**" and "UNAVAILABLE 3" in kc[3]
    gw = _row(rows, "gateway restart")
    assert gw[3].startswith("unreadable") and gw[4] == "n/a"


def test_a_failed_attempt_is_named() -> None:
    runs = {"scale": {"exit": -9, "elapsed_s": 600.0, "load_before": [3.0], "load_after": [4.0]}}
    rows = _rows({}, runs)
    mem = _row(rows, "memory")
    assert mem[3] == "not run (last attempt: exit -9 after 600.0 s)"
    assert mem[7] == "3.0 -> 4.0"
    assert "did not finish cleanly" in summary.build({}, runs)


def test_tls_cost_compares_the_same_points_with_and_without_tls() -> None:
    from bench import benchlib

    def pt(c: int, tput: float, p50: float, p99: float) -> dict[str, Any]:
        return {
            "concurrency": c,
            "throughput_per_s": tput,
            "latency": {"p50_ms": p50, "p99_ms": p99},
        }

    on = {"create": [pt(8, 900, 2.0, 6.0), pt(64, 1000, 9.0, 30.0)], "echo": [pt(8, 10, 1, 1)]}
    off = {"create": [pt(8, 1000, 1.5, 5.0)], "echo": [pt(8, 0, 1, 1)]}
    cost = benchlib.tls_cost(on, off)
    # Only points measured both ways; no ratio over a zero throughput.
    assert cost == {
        "create": {"8": {"throughput_ratio": 0.9, "p50_added_ms": 0.5, "p99_added_ms": 1.0}},
        "echo": {},
    }


def test_rounds_give_the_median_ratio_within_rounds_and_their_range() -> None:
    """api_bench --rounds: a ratio is taken within a round (the machine's conditions
    shared) and the median of the rounds is the figure, with its range beside it."""
    import sys
    from pathlib import Path

    sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))
    from bench import api_bench

    def pt(c: int, tput: float, p99: float, rnd: int) -> dict[str, Any]:
        return {
            "concurrency": c,
            "throughput_per_s": tput,
            "latency": {"p99_ms": p99},
            "round": rnd,
        }

    points = {
        "echo": [pt(64, 4000, 20, 0), pt(64, 5000, 20, 1), pt(64, 4000, 20, 2)],
        "create": [pt(64, 2200, 90, 0), pt(64, 2000, 90, 1), pt(64, 1600, 90, 2)],
    }
    points["echo"] += [pt(8, 3000, 3 + r, r) for r in range(3)]
    points["create"] += [pt(8, 810 + 10 * r, p99, r) for r, p99 in enumerate((12.0, 9.0, 30.0))]
    api = {**_api(0, 0), "points": points, **api_bench.ratios(points)}
    # Per round 0.55, 0.4, 0.4: the median is 0.4. The ratio of the medians
    # (2000/4000) would be 0.5, "met", from rounds where it was not.
    assert api["ratio_rounds"]["create_over_echo"]["64"] == [0.55, 0.4, 0.4]
    assert api["ratios"]["create_over_echo"]["64"] == 0.4
    rows = _rows({"api": api})
    r64, r8 = _row(rows, "64 clients"), _row(rows, "8 clients")
    # The median round (the third, 1,600/s against 4,000/s), with its own baseline.
    assert r64[3] == "1,600/s = 0.40x echo (0.40-0.55x over 3 rounds)" and r64[4] == "**no**"
    assert r64[5].startswith("grpc.aio echo 4,000/s")
    # The median p99 is the first round's: its throughput and its echo's p99 beside it.
    assert r8[3] == "p99 12.00 ms (9.0-30.0 ms over 3 rounds) (810/s)" and r8[4] == "**no**"
    assert r8[5].startswith("echo p99 3 ms;")
