"""Run every benchmark, one after the other, and write the results and a summary.

Each benchmark runs as its own process with a time limit (it is killed, with everything
it started, if it overruns), writes ``bench/results/{name}.json``, and the Markdown
summary ``bench/results/summary.md`` puts each figure next to its target, its same-run
baseline and the ratio, with the command and the machine.

    .venv/bin/python bench/run_all.py [--quick] [--only api,failover,scale,naive]
    .venv/bin/python bench/run_all.py --summary-only     # rewrite summary.md from the JSON
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
BENCHES = ("api", "failover", "scale", "naive")
LIMIT_S = 300


def run_one(name: str, quick: bool, extra: list[str]) -> dict[str, Any]:
    out = (RESULTS / f"{name}.json").relative_to(REPO)
    cmd = [sys.executable, f"bench/{name}_bench.py", "--out", str(out), *extra]
    if quick:
        cmd.append("--quick")
    print(f"== {name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    # Its own process group, so an overrun kills the benchmark and all it started.
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        code = proc.wait(LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = -9
    took = round(time.monotonic() - t0, 1)
    print(f"== {name}: exit {code} after {took} s", file=sys.stderr, flush=True)
    return {"exit": code, "elapsed_s": took}


# ---------------------------------------------------------------- summary


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def _fmt(v: Any, unit: str = "", nd: int = 1) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{nd}f}{unit}"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v}{unit}"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**yes**" if ok else "**no**")


def _point(api: dict[str, Any], kind: str, c: int) -> dict[str, Any]:
    for p in api["points"].get(kind, []):
        if p["concurrency"] == c:
            return p
    return {}


def headline(api: Any, fo: Any, scale: Any, naive: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    if fo:
        s = fo["summary"]
        reps = fo["reps"]
        n_inc = fo["incidents_prefilled"]
        rows.append(
            [
                f"crash failover: kill -9 -> first ack by the new owner, p99 of {reps} "
                f"({n_inc}+ live incidents)",
                _fmt(s["kill_p99_s"], " s", 3),
                f"<= {s['kill_target_s']} s",
                _met(s["kill_p99_s"] is not None and s["kill_p99_s"] <= s["kill_target_s"]),
                "lease expiry alone (no fast path): p99 "
                + _fmt(s["kill_lease_only_p99_s"], " s", 3),
                f"{_fmt(s['kill_speedup_over_lease_only'])}x faster",
                fo["command"],
            ]
        )
        rows.append(
            [
                f"hang failover: SIGSTOP -> first ack by the new owner, p99 of {reps}",
                _fmt(s["stop_p99_s"], " s", 3),
                f"<= {s['stop_target_s']} s (TTL + 0.5)",
                _met(s["stop_p99_s"] is not None and s["stop_p99_s"] <= s["stop_target_s"]),
                f"kill -9 by lease expiry: p99 {_fmt(s['kill_lease_only_p99_s'], ' s', 3)}",
                "",
                fo["command"],
            ]
        )
    if api:
        c64, e64, r64 = (_point(api, k, 64) for k in ("create", "echo", "raw_etcd"))
        if c64 and e64:
            ratio = c64["throughput_per_s"] / e64["throughput_per_s"]
            raw = c64["throughput_per_s"] / r64["throughput_per_s"] if r64 else None
            rows.append(
                [
                    "CreateIncident through the gateway, 64 clients: throughput",
                    _fmt(c64["throughput_per_s"], "/s", 0),
                    ">= 0.5x bare grpc.aio echo",
                    _met(ratio >= 0.5),
                    f"echo {_fmt(e64['throughput_per_s'], '/s', 0)}; raw etcd one txn per "
                    f"command {_fmt(r64.get('throughput_per_s'), '/s', 0)}",
                    f"{ratio:.2f}x echo; {_fmt(raw, 'x', 2)} raw etcd",
                    api["command"],
                ]
            )
        c8, e8, r8 = (_point(api, k, 8) for k in ("create", "echo", "raw_etcd"))
        if c8:
            p99 = c8["latency"].get("p99_ms")
            rows.append(
                [
                    "CreateIncident through the gateway, 8 clients: p99 latency",
                    _fmt(p99, " ms", 2),
                    "<= 10 ms",
                    _met(p99 is not None and p99 <= 10),
                    f"echo p99 {_fmt(e8.get('latency', {}).get('p99_ms'), ' ms', 2)}; raw etcd "
                    f"p99 {_fmt(r8.get('latency', {}).get('p99_ms'), ' ms', 2)}",
                    "",
                    api["command"],
                ]
            )
    if scale and "takeover" in scale:
        rows.extend(_takeover_rows(scale))
    if scale and "recommend" in scale:
        r10k = next((r for r in scale["recommend"]["results"] if r["units"] == 10_000), None)
        r100 = next((r for r in scale["recommend"]["results"] if r["units"] == 100), None)
        if r10k:
            rows.append(
                [
                    "recommendation over 10,000 units (median; p99)",
                    f"{_fmt(r10k['median_ms'], ' ms', 2)}; {_fmt(r10k['p99_ms'], ' ms', 2)}",
                    "<= 5 ms",
                    _met(r10k["p99_ms"] <= 5),
                    f"100 units: median {_fmt(r100 and r100['median_ms'], ' ms', 3)}",
                    "",
                    scale["command"],
                ]
            )
    if scale and "memory" in scale:
        m = scale["memory"]
        typ = m["typical_incident"]
        rss = typ["rss_child"].get("rss_delta_bytes_per_record")
        worst = max(typ["tracemalloc_bytes_per_record"], rss or 0)
        base = ""
        ratio = ""
        if naive:
            uss = naive["naive"]["per_actor_mb"]["uss_mb"]
            base = f"one Ray actor per incident: {_fmt(uss, ' MB')} USS each"
            ratio = f"{uss * 2**20 / worst:,.0f}x less"
        centre = ""
        if naive:
            b = naive["hosted"]["through_api"]["centre_rss_delta_bytes_per_incident"]
            centre = f"; in a running centre {_fmt(b, ' B')}"
        rows.append(
            [
                "memory per hosted incident (typical; tracemalloc / RSS delta)",
                f"{_fmt(typ['tracemalloc_bytes_per_record'], ' B')} / {_fmt(rss, ' B')}{centre}",
                "<= 10 KB",
                _met(worst <= 10 * 1024),
                base,
                ratio,
                scale["command"],
            ]
        )
    return rows


def _takeover_rows(scale: dict[str, Any]) -> list[list[str]]:
    rows = []
    load = {(r["incidents"], r["records"]): r for r in scale.get("load", {}).get("sizes", [])}
    taken = {(r["incidents"], r["records"]): r for r in scale["takeover"]["sizes"]}
    for records in ("bare", "typical"):
        key = (10_000, records)
        t = taken.get(key)
        ld = load.get(key, {})
        if t is None and not ld:
            continue
        if t is not None:
            tr = t.get("takeover_record") or {}
            ms = tr.get("duration_ms")
            first = t["fault_to_first_new_owner_ack_s"]
            measured = (
                f"loaded in {_fmt(ms, ' ms', 0)}; first ack by the new owner after "
                f"{_fmt(first, ' s', 3)}"
            )
            ok = first <= 1.0
        else:
            measured = "cannot fail over: " + ld.get("load_error", "skipped")[:120]
            ok = False
        paged = ld.get("paged_load_s")
        rows.append(
            [
                f"takeover of a region holding 10,000 {records} incidents (kill -9 of its owner)",
                measured,
                "<= 1 s",
                _met(ok),
                "RegionHost.load alone: "
                + _fmt(ld.get("region_host_load_s", {}).get("median_s"), " s", 3)
                + f"; a paged read (bench code): {_fmt(paged, ' s', 3)}",
                "",
                scale["command"],
            ]
        )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return out


def _other_cores(cpu: dict[str, Any]) -> str:
    """Cores kept busy by processes outside the measured ones (the kernel, Ray's other
    workers, other work on the machine), and the busiest of them when recorded."""
    used = dict(cpu.get("cpu_s", {}))
    whole = used.pop("(whole machine)", None)
    if whole is None or not cpu.get("wall_s"):
        return "n/a"
    text = f"{max(0.0, whole - sum(used.values())) / cpu['wall_s']:.2f}"
    top = cpu.get("top_other_processes")
    if top:
        text += " (" + ", ".join(f"{t['process']} {t['cpu_s']:.2f} s" for t in top[:2]) + ")"
    return text


def api_section(api: dict[str, Any]) -> list[str]:
    lines = [
        "## API (bench/api_bench.py)",
        "",
        f"`{api['command']}` - {api['seconds_per_point']} s per point, region "
        f"{api['region']}, clients in the bench process (grpc.aio).",
        "",
    ]
    rows = []
    for kind in ("echo", "ray_call", "raw_etcd", "create", "unit_status", "assign"):
        for p in api["points"].get(kind, []):
            cpu = p.get("cpu", {}).get("cpu_ms_per_op", {})
            rows.append(
                [
                    kind,
                    str(p["concurrency"]),
                    _fmt(p["throughput_per_s"], "", 0),
                    _fmt(p["latency"].get("p50_ms"), "", 2),
                    _fmt(p["latency"].get("p99_ms"), "", 2),
                    _fmt(sum(p["errors"].values()) if p["errors"] else 0),
                    " / ".join(
                        _fmt(cpu.get(k), "", 2)
                        for k in (
                            "gateway",
                            f"centre:{api['region']}",
                            "etcd",
                            "bench_client",
                            "echo_server",
                        )
                    ),
                    _fmt(cpu.get("(whole machine)"), "", 2),
                    _other_cores(p.get("cpu", {})),
                ]
            )
    lines += _table(
        [
            "workload",
            "clients",
            "ops/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "CPU ms/op: gateway / centre / etcd / client / echo actor",
            "machine CPU ms/op",
            "cores used by other processes",
        ],
        rows,
    )
    lines += ["", "Ratios of throughput (same concurrency, same run):", ""]
    rrows = [
        [k, *(_fmt(v.get(str(c)), "", 3) for c in (1, 8, 64, 256))]
        for k, v in api["ratios"].items()
    ]
    lines += _table(["ratio", "1", "8", "64", "256"], rrows)
    st = api.get("store_stats") or {}
    if st:
        lines += [
            "",
            f"Group commit in centre {st.get('centre')}: {st.get('writes')} writes in "
            f"{st.get('txns')} transactions ({st.get('writes_per_txn')} per transaction); "
            f"{st.get('hosted_incidents')} incidents hosted at the end.",
        ]
    prof = api.get("profile") or {}
    for point, procs in prof.items():
        lines += [
            "",
            f"py-spy (--gil) during `{point}` (throughput while sampled "
            f"{procs.get('throughput_while_profiled_per_s')}/s):",
            "",
        ]
        for proc, p in procs.items():
            if not isinstance(p, dict) or "top_self" not in p:
                continue
            top = ", ".join(f"{t['frame']} {t['share']:.0%}" for t in p["top_self"][:5])
            areas = ", ".join(f"{k} {v:.0%}" for k, v in p["areas_inclusive_share"].items())
            lines.append(
                f"- {proc}: holds the GIL {p['gil_busy_share']:.0%} of the time; top: {top}"
                + (f"; areas: {areas}" if areas else "")
            )
    return lines


def failover_section(fo: dict[str, Any]) -> list[str]:
    lines = ["## Failover (bench/failover_bench.py)", "", f"`{fo['command']}`", ""]
    rows = []
    for part in ("fast_path", "lease_only"):
        for mode, d in fo[part].items():
            if not isinstance(d, dict) or "repetitions" not in d:
                continue
            for i, r in enumerate(d["repetitions"], 1):
                tr = r.get("takeover_record") or {}
                rows.append(
                    [
                        mode,
                        str(i),
                        _fmt(r["incidents_at_fault"]),
                        _fmt(r.get("fault_to_owner_key_gone_s"), "", 3),
                        _fmt(r.get("fault_to_new_owner_claim_s"), "", 3),
                        _fmt(tr.get("duration_ms"), "", 1),
                        _fmt(r["fault_to_first_new_owner_ack_s"], "", 3),
                        _fmt(sum(r["writer_failures"].values()) if r["writer_failures"] else 0),
                        _fmt(r.get("hand_back_s"), "", 3),
                    ]
                )
    lines += _table(
        [
            "mode",
            "rep",
            "incidents",
            "owner key gone s",
            "backup claimed s",
            "backup load ms",
            "first new-owner ack s",
            "client errors",
            "hand-back s",
        ],
        rows,
    )
    lines += [""]
    for part in ("fast_path", "lease_only"):
        for mode, d in fo[part].items():
            if isinstance(d, dict) and "fault_to_first_new_owner_ack" in d:
                s = d["fault_to_first_new_owner_ack"]
                lines.append(
                    f"- {mode}: min {_fmt(s.get('min_s'), ' s', 3)}, median "
                    f"{_fmt(s.get('median_s'), ' s', 3)}, p99 {_fmt(s.get('p99_s'), ' s', 3)}, "
                    f"max {_fmt(s.get('max_s'), ' s', 3)}"
                )
    cfg = fo["fast_path"].get("config", {})
    lines += ["", f"Configuration: {json.dumps(cfg)}."]
    return lines


def scale_section(sc: dict[str, Any]) -> list[str]:
    lines = ["## Scale (bench/scale_bench.py)", "", f"`{sc['command']}`", ""]
    if "memory" in sc:
        m = sc["memory"]
        rows = [
            [
                k,
                _fmt(m[k]["stored_json_bytes"]),
                _fmt(m[k]["tracemalloc_bytes_per_record"]),
                _fmt(m[k]["rss_child"].get("rss_delta_bytes_per_record")),
            ]
            for k in ("bare_incident", "typical_incident", "unit")
        ]
        lines += [f"Memory per hosted record ({m['n']:,} records):", ""]
        lines += _table(["record", "stored JSON B", "tracemalloc B", "RSS delta B"], rows)
        lines += [""]
    if "load" in sc:
        rows = []
        for r in sc["load"]["sizes"]:
            rows.append(
                [
                    f"{r['incidents']:,} {r['records']}",
                    f"{r['stored_bytes'] / 2**20:.1f}",
                    _fmt(r.get("region_host_load_s", {}).get("median_s"), "", 3)
                    if "region_host_load_s" in r
                    else "fails: " + r.get("load_error", "?")[:90],
                    _fmt(r["paged_load_s"], "", 3),
                ]
            )
        lines += ["RegionHost.load against region size (read at the claim revision, decode):", ""]
        lines += _table(["incidents", "MiB stored", "RegionHost.load s", "paged read s"], rows)
        lines += [""]
    if "takeover" in sc:
        rows = []
        for r in sc["takeover"]["sizes"]:
            tr = r.get("takeover_record") or {}
            rows.append(
                [
                    f"{r['incidents']:,} {r['records']}",
                    _fmt(tr.get("incidents")),
                    _fmt(tr.get("duration_ms"), "", 1),
                    _fmt(r["fault_to_first_new_owner_ack_s"], "", 3),
                    _fmt(r.get("hand_back_s"), "", 3),
                ]
            )
        for k, why in sc["takeover"].get("skipped", {}).items():
            rows.append([k, "", "skipped: " + why, "", ""])
        lines += ["Full centre takeover (kill -9 of the owner) against region size:", ""]
        lines += _table(
            [
                "region",
                "incidents loaded",
                "backup load ms",
                "first new-owner ack s",
                "hand-back s",
            ],
            rows,
        )
        lines += [""]
    if "recommend" in sc:
        rows = [
            [_fmt(r["units"]), _fmt(r["median_ms"], "", 3), _fmt(r["p99_ms"], "", 3)]
            for r in sc["recommend"]["results"]
        ]
        lines += ["Recommendation against fleet size:", ""]
        lines += _table(["units", "median ms", "p99 ms"], rows)
        lines += [""]
    if "watch" in sc:
        w = sc["watch"]
        rows = []
        for p in w["points"]:
            rows.append(
                [
                    str(p["consoles"]),
                    _fmt(p["send_to_receipt"].get("p50_ms"), "", 2),
                    _fmt(p["send_to_receipt"].get("p99_ms"), "", 2),
                    _fmt(p["ack_to_receipt"].get("p50_ms"), "", 2),
                    _fmt(p["ack_to_receipt"].get("p99_ms"), "", 2),
                    _fmt(p["per_console_p99_ms"].get("worst"), "", 2),
                    _fmt(p["events_missing"]),
                    _fmt(p["cpu"]["cores_busy"].get("gateway"), "", 2),
                ]
            )
        lines += [
            f"Watch fan-out ({w['rate_per_s']:.0f} creates/s for {w['seconds']:.0f} s; "
            "negative ack->receipt: the event reached the console before the ack reached "
            "the writer):",
            "",
        ]
        lines += _table(
            [
                "consoles",
                "send->receipt p50 ms",
                "p99 ms",
                "ack->receipt p50 ms",
                "p99 ms",
                "worst console p99 ms",
                "missing",
                "gateway cores busy",
            ],
            rows,
        )
    return lines


def naive_section(nv: dict[str, Any]) -> list[str]:
    n, h, r = nv["naive"], nv["hosted"], nv["ratios"]
    return [
        "## Naive design as the floor (bench/naive_bench.py)",
        "",
        f"`{nv['command']}`",
        "",
        *_table(
            ["", "one Ray actor per incident", "hosted entities (ours)", "ratio"],
            [
                [
                    "creation",
                    f"{n['actors']} actors in {n['create_all_s']} s ({n['create_rate_per_s']}/s)",
                    f"{h['through_api']['api_create_rate_per_s_8_clients']}/s through the API "
                    f"(durable); {h['in_memory']['create_rate_per_s']:,}/s in memory",
                    f"{r['creation_hosted_api_over_naive']}x (API)",
                ],
                [
                    "memory each",
                    f"RSS {n['per_actor_mb']['rss_mb']} MB, PSS {n['per_actor_mb']['pss_mb']} "
                    f"MB, USS {n['per_actor_mb']['uss_mb']} MB; available memory "
                    f"-{n['mem_available_drop_mb_per_actor']} MB",
                    f"{h['in_memory']['tracemalloc_bytes_per_incident']} B (tracemalloc); "
                    f"{h['through_api']['centre_rss_delta_bytes_per_incident']} B (centre RSS)",
                    f"{r['memory_naive_uss_over_hosted_tracemalloc']:,}x",
                ],
            ],
        ),
    ]


def write_summary(runs: dict[str, Any] | None = None) -> Path:
    api, fo, sc, nv = (_load(n) for n in BENCHES)
    any_res = api or fo or sc or nv
    mach = any_res["machine"] if any_res else {}
    lines = [
        "# Benchmark summary",
        "",
        "Written by `bench/run_all.py` from the JSON in this folder. Explanations, limits and "
        "misses: `docs/performance.md`.",
        "",
        f"Machine: {mach.get('nproc')} cores ({mach.get('cpu_model')}), "
        f"{mach.get('ram_gb')} GB RAM, kernel {mach.get('kernel')}; Python {mach.get('python')}, "
        f"Ray {mach.get('ray')}, grpcio {mach.get('grpcio')}, etcd {mach.get('etcd')} "
        f"({mach.get('etcd_binary')}).",
        "",
        "Load average (1, 5, 15 min) when each benchmark started and ended (other work shares "
        "this machine; our own processes are part of it):",
        "",
    ]
    for name, res in zip(BENCHES, (api, fo, sc, nv), strict=True):
        if res:
            q = " (--quick)" if res.get("quick") else ""
            lines.append(
                f"- {name}{q}: {res['machine']['load_avg_1_5_15']} -> "
                f"{res.get('machine_load_after')}, at {res['machine']['at']}, "
                f"took {res.get('elapsed_s')} s"
            )
    if runs:
        failed = {k: v for k, v in runs.items() if v["exit"] != 0}
        if failed:
            lines += ["", f"**Benchmarks that did not finish cleanly:** {json.dumps(failed)}"]
    lines += ["", "## Figures against targets", ""]
    lines += _table(
        ["figure", "measured", "target", "met", "same-run baseline", "ratio", "command"],
        headline(api, fo, sc, nv),
    )
    for res, section in (
        (api, api_section),
        (fo, failover_section),
        (sc, scale_section),
        (nv, naive_section),
    ):
        if res:
            lines += ["", *section(res)]
    path = RESULTS / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, short points")
    ap.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset")
    ap.add_argument("--summary-only", action="store_true", help="only rewrite summary.md")
    ap.add_argument("--no-profile", action="store_true", help="skip py-spy in the API bench")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    runs: dict[str, Any] = {}
    if not args.summary_only:
        for name in args.only.split(","):
            extra = ["--profile"] if name == "api" and not args.no_profile else []
            runs[name] = run_one(name, args.quick, extra)
    path = write_summary(runs)
    print(path.read_text())
    if any(r["exit"] != 0 for r in runs.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
