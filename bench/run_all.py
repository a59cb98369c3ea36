"""Run the benchmarks and drills behind issue #10's targets, one after the other, and
write ``bench/results/summary.md``: every figure against its target and its same-run
baseline, with the command and the machine's load.

Each benchmark runs as its own process in its own process group with a time limit (on
overrun the group is killed). Its previous JSON is removed first, so a benchmark that
fails shows as "not run" rather than as an older run's figure. A chaos drill's
report.json (under ``results/drills/``) is compacted into ``results/{name}.json``.
``results/runs.json`` keeps, per benchmark, the exit code, time taken and the load
average before and after, merged across invocations.

    PYTHONPATH=$PWD .venv/bin/python bench/run_all.py [--quick] [--only api,failover,...]
    PYTHONPATH=$PWD .venv/bin/python bench/run_all.py --summary-only
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on the path, the repo is not
    sys.path.insert(0, str(REPO))

from bench import summary  # noqa: E402
from bench.targets import BENCHES, Bench, Options  # noqa: E402

RESULTS = HERE / "results"
DRILLS = RESULTS / "drills"
QUICK_DRILL_FAULTS = 2


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(str(v), ensure_ascii=False)


def quick_scenario(src: Path, dest: Path) -> Path:
    """A shortened copy of a drill for --quick: its first faults only, and the load run
    long enough for them plus a few seconds to see writes acknowledged again."""
    raw = tomllib.loads(src.read_text())
    faults = raw.get("faults", [])[:QUICK_DRILL_FAULTS]
    end = max((f.get("at_s", 0) + f.get("duration_s", 0) for f in faults), default=0)
    raw.setdefault("load", {})["duration_s"] = min(raw["load"].get("duration_s", 20), end + 8)
    raw["name"] = f"{raw.get('name', src.stem)}-quick"
    lines = [f"{k} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict | list)]
    for table, body in raw.items():
        if isinstance(body, dict):
            lines += ["", f"[{table}]", *(f"{k} = {_toml_value(v)}" for k, v in body.items())]
    for f in faults:
        lines += ["", "[[faults]]", *(f"{k} = {_toml_value(v)}" for k, v in f.items())]
    dest.write_text("\n".join(lines) + "\n")
    return dest


def drill_argv(bench: Bench, opt: Options) -> tuple[list[str], Path]:
    scenario = REPO / "chaos" / "scenarios" / bench.scenario
    if opt.quick:
        DRILLS.mkdir(parents=True, exist_ok=True)
        scenario = quick_scenario(scenario, DRILLS / f"quick-{bench.scenario}")
    report = DRILLS / bench.name
    argv = ["-m", "chaos", str(scenario.relative_to(REPO)), "--report-dir"]
    return [*argv, str(report.relative_to(REPO))], report


def compact_drill(name: str, report: Path, cmd: str, quick: bool) -> None:
    """The figures run_all reads from a drill's report.json, in results/{name}.json."""
    try:
        full = json.loads((report / "report.json").read_text())
    except (OSError, json.JSONDecodeError):
        return  # no report: the figure shows as not run
    keep = ("exit_code", "counts", "first_ack_summary", "etcd_elections", "raw_client")
    out = {"benchmark": name, "quick": quick, "command": cmd, "report_dir": str(report)}
    out |= {k: full.get(k) for k in keep}
    out["check"] = {
        "ok": full.get("check", {}).get("ok"),
        "problems": full.get("check", {}).get("problems"),
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2, default=str) + "\n")


def run_one(bench: Bench, opt: Options) -> dict[str, Any]:
    out_json = RESULTS / f"{bench.name}.json"
    out_json.unlink(missing_ok=True)
    if bench.scenario:
        argv, report = drill_argv(bench, opt)
    else:
        argv, report = bench.argv(opt, str(out_json.relative_to(REPO))), None
    cmd = [sys.executable, *argv]
    shown = " ".join([".venv/bin/python", *argv])
    limit = bench.limit_s(opt)
    print(f"== {bench.name}: {shown} (limit {limit:g} s)", file=sys.stderr, flush=True)
    before, t0 = _load(), time.monotonic()
    log = (RESULTS / f"{bench.name}.log").open("w")
    # Its own process group, so an overrun kills the benchmark and all it started.
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        code = proc.wait(limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = -9
    log.close()
    took = round(time.monotonic() - t0, 1)
    if report is not None:
        compact_drill(bench.name, report, shown, opt.quick)
    print(f"== {bench.name}: exit {code} after {took} s", file=sys.stderr, flush=True)
    return {
        "exit": code,
        "elapsed_s": took,
        "limit_s": limit,
        "command": shown,
        "quick": opt.quick,
        "load_before": before,
        "load_after": _load(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "log": str((RESULTS / f"{bench.name}.log").relative_to(REPO)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ",".join(n for n, b in BENCHES.items() if b.default)
    ap.add_argument("--quick", action="store_true", help="small sizes, short drills")
    ap.add_argument("--only", default=default, help=f"subset of {','.join(BENCHES)}")
    ap.add_argument("--summary-only", action="store_true", help="only rewrite summary.md")
    ap.add_argument("--no-profile", action="store_true", help="skip py-spy in the API bench")
    ap.add_argument(
        "--no-fault-s",
        type=float,
        default=0.0,
        help="length of the no-fault run (default 600 s; --quick 30 s)",
    )
    ap.add_argument(
        "--failover-modes",
        default="kill,stop",
        help="failover_bench --modes (add kill_lease_only for the measured crash baseline)",
    )
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHES)}")
    opt = Options(
        quick=args.quick,
        no_fault_s=args.no_fault_s or (30.0 if args.quick else 600.0),
        profile=not args.no_profile,
        failover_modes=args.failover_modes,
    )
    RESULTS.mkdir(exist_ok=True)
    runs_path = RESULTS / "runs.json"
    runs: dict[str, Any] = {}
    if runs_path.exists():
        runs = json.loads(runs_path.read_text())
    ran: dict[str, Any] = {}
    if not args.summary_only:
        for name in names:
            ran[name] = run_one(BENCHES[name], opt)
            runs[name] = ran[name]
            runs_path.write_text(json.dumps(runs, indent=2) + "\n")
    path = summary.write(RESULTS, runs)
    print(path.read_text())
    if any(r["exit"] != 0 for r in ran.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
