"""The detailed per-benchmark sections of ``bench/results/summary.md``.

Kept apart from the figures-against-targets table (:mod:`bench.summary`) so that each
module stays readable and under the 600-line limit; these tables show every point a
benchmark measured, the headline table only the figures issue #10 sets targets for.
"""

from __future__ import annotations

import json
from typing import Any


def fmt(v: Any, unit: str = "", nd: int = 1) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{nd}f}{unit}"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v}{unit}"


def met_text(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**yes**" if ok else "**no**")


def points_of(api: dict[str, Any], kind: str, c: int) -> list[dict[str, Any]]:
    """Every round's point of ``kind`` at ``c`` clients (``api_bench.py --rounds``)."""
    return [p for p in api["points"].get(kind, []) if p["concurrency"] == c]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
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
                    str(p.get("round", 0) + 1),
                    fmt(p["throughput_per_s"], "", 0),
                    fmt(p["latency"].get("p50_ms"), "", 2),
                    fmt(p["latency"].get("p99_ms"), "", 2),
                    fmt(sum(p["errors"].values()) if p["errors"] else 0),
                    " / ".join(
                        fmt(cpu.get(k), "", 2)
                        for k in (
                            "gateway",
                            f"centre:{api['region']}",
                            "etcd",
                            "bench_client",
                            "echo_server",
                        )
                    ),
                    fmt(cpu.get("(whole machine)"), "", 2),
                    _other_cores(p.get("cpu", {})),
                ]
            )
    lines += table(
        [
            "workload",
            "clients",
            "round",
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
    lines += [
        "",
        "Ratios of throughput (same concurrency, same round; the median of the rounds, "
        "each round's in brackets):",
        "",
    ]
    each = api.get("ratio_rounds", {})

    def cell(kind: str, c: int) -> str:
        median = api["ratios"][kind].get(str(c))
        rounds = each.get(kind, {}).get(str(c), [])
        if median is None or len(rounds) < 2:
            return fmt(median, "", 3)
        return f"{fmt(median, '', 3)} ({', '.join(fmt(r, '', 3) for r in rounds)})"

    rrows = [[k, *(cell(k, c) for c in (1, 8, 64, 256))] for k in api["ratios"]]
    lines += table(["ratio", "1", "8", "64", "256"], rrows)
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
                        fmt(r["incidents_at_fault"]),
                        fmt(r.get("fault_to_owner_key_gone_s"), "", 3),
                        fmt(r.get("fault_to_new_owner_claim_s"), "", 3),
                        fmt(tr.get("duration_ms"), "", 1),
                        fmt(r["fault_to_first_new_owner_ack_s"], "", 3),
                        fmt(sum(r["writer_failures"].values()) if r["writer_failures"] else 0),
                        fmt(r.get("hand_back_s"), "", 3),
                    ]
                )
    lines += table(
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
                    f"- {mode}: min {fmt(s.get('min_s'), ' s', 3)}, median "
                    f"{fmt(s.get('median_s'), ' s', 3)}, p99 {fmt(s.get('p99_s'), ' s', 3)}, "
                    f"max {fmt(s.get('max_s'), ' s', 3)}"
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
                fmt(m[k]["stored_json_bytes"]),
                fmt(m[k]["tracemalloc_bytes_per_record"]),
                fmt(m[k]["rss_child"].get("rss_delta_bytes_per_record")),
            ]
            for k in ("bare_incident", "typical_incident", "unit")
        ]
        lines += [f"Memory per hosted record ({m['n']:,} records):", ""]
        lines += table(["record", "stored JSON B", "tracemalloc B", "RSS delta B"], rows)
        lines += [""]
    if "load" in sc:
        rows = []
        for r in sc["load"]["sizes"]:
            rows.append(
                [
                    f"{r['incidents']:,} {r['records']}",
                    f"{r['stored_bytes'] / 2**20:.1f}",
                    fmt(r.get("region_host_load_s", {}).get("median_s"), "", 3)
                    if "region_host_load_s" in r
                    else "fails: " + r.get("load_error", "?")[:90],
                    fmt(r["paged_load_s"], "", 3),
                ]
            )
        lines += ["RegionHost.load against region size (read at the claim revision, decode):", ""]
        lines += table(["incidents", "MiB stored", "RegionHost.load s", "paged read s"], rows)
        lines += [""]
    if "takeover" in sc:
        rows = []
        for r in sc["takeover"]["sizes"]:
            tr = r.get("takeover_record") or {}
            rows.append(
                [
                    f"{r['incidents']:,} {r['records']}",
                    fmt(tr.get("incidents")),
                    fmt(tr.get("duration_ms"), "", 1),
                    fmt(r["fault_to_first_new_owner_ack_s"], "", 3),
                    fmt(r.get("hand_back_s"), "", 3),
                ]
            )
        for k, why in sc["takeover"].get("skipped", {}).items():
            rows.append([k, "", "skipped: " + why, "", ""])
        lines += ["Full centre takeover (kill -9 of the owner) against region size:", ""]
        lines += table(
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
            [fmt(r["units"]), fmt(r["median_ms"], "", 3), fmt(r["p99_ms"], "", 3)]
            for r in sc["recommend"]["results"]
        ]
        lines += ["Recommendation against fleet size:", ""]
        lines += table(["units", "median ms", "p99 ms"], rows)
        lines += [""]
    if "watch" in sc:
        w = sc["watch"]
        rows = []
        for p in w["points"]:
            rows.append(
                [
                    str(p["consoles"]),
                    fmt(p["send_to_receipt"].get("p50_ms"), "", 2),
                    fmt(p["send_to_receipt"].get("p99_ms"), "", 2),
                    fmt(p["ack_to_receipt"].get("p50_ms"), "", 2),
                    fmt(p["ack_to_receipt"].get("p99_ms"), "", 2),
                    fmt(p["per_console_p99_ms"].get("worst"), "", 2),
                    fmt(p["events_missing"]),
                    fmt(p["cpu"]["cores_busy"].get("gateway"), "", 2),
                ]
            )
        lines += [
            f"Watch fan-out ({w['rate_per_s']:.0f} creates/s for {w['seconds']:.0f} s; "
            "negative ack->receipt: the event reached the console before the ack reached "
            "the writer):",
            "",
        ]
        lines += table(
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
        *table(
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
