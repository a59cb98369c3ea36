"""``python -m chaos SCENARIO [--report-dir DIR]``: run one drill, exit non-zero on a
violation (1), a failpoint not available here (2), or a cluster that did not come
back healthy (3)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from chaos.drill import Scenario, run_standalone
from chaos.failpoints import FAILPOINTS, DrillContext, FaultSpec
from cluster.config import ClusterConfig
from cluster.logs import configure as configure_logs


def _list_failpoints() -> None:
    ctx = DrillContext(
        ClusterConfig.load(gateways=["127.0.0.1:1", "127.0.0.1:2"]), ["127.0.0.1:2379"]
    )
    for name, cls in FAILPOINTS.items():
        avail = cls(FaultSpec(name, target="oslo", duration_s=5.0)).available(ctx)
        print(f"{name:18} {(cls.__doc__ or '').splitlines()[0]}")
        if not avail:
            print(f"{'':18} note: {avail.reason}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    p.add_argument("scenario", nargs="?", help="scenario TOML (chaos/scenarios/*.toml)")
    p.add_argument("--report-dir", default=None, help="default: ./drill-reports/NAME-TIME")
    p.add_argument("--list", action="store_true", help="list the failpoints and exit")
    p.add_argument("--log-level", default="warning")
    args = p.parse_args(argv)
    if args.list:
        _list_failpoints()
        return 0
    if not args.scenario:
        p.error("a scenario file is needed (or --list)")
    configure_logs(args.log_level)
    scenario = Scenario.from_file(Path(args.scenario))
    report_dir = Path(
        args.report_dir or f"drill-reports/{scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    ).resolve()
    result = run_standalone(scenario, report_dir)
    summary = {
        "scenario": scenario.name,
        "exit_code": result.get("exit_code"),
        "counts": result.get("check", {}).get("counts"),
        "unavailability": {
            r: {
                "max_gap_s": u["max_gap_s"],
                "after_faults": [f["first_ack_after_s"] for f in u["faults"]],
            }
            for r, u in result.get("check", {}).get("unavailability", {}).items()
        },
        "not_available": result.get("not_available"),
        "health_after": result.get("health_after", {}).get("problems"),
        "report": result.get("report"),
    }
    print(json.dumps(summary, indent=2))
    return int(result.get("exit_code", 1))


if __name__ == "__main__":
    sys.exit(main())
