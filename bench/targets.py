"""What ``bench/run_all.py`` runs, and the figures it holds against issue #10's targets.

Two tables, kept together because each figure names the benchmark that measures it:

- :data:`BENCHES`: every benchmark or drill, how it is started (its own process), its
  time limit, and whether it runs by default;
- :data:`FIGURES`: every figure of issue #10's targets 1-6 (and a few kept figures),
  with a function that reads it out of the saved JSON. A figure whose JSON is missing is
  reported as "not run" by :mod:`bench.summary`, never left out, so a benchmark that did
  not run cannot make a target disappear from the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.sections import fmt, points_of

Results = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Options:
    """The choices of one run_all invocation that change the commands."""

    quick: bool = False
    no_fault_s: float = 600.0
    profile: bool = True
    failover_modes: str = "kill,stop"


@dataclass(frozen=True)
class Bench:
    """One benchmark: ``argv`` (after the Python interpreter) writes ``{name}.json``."""

    name: str
    argv: Callable[[Options, str], list[str]]
    limit_s: Callable[[Options], float]
    default: bool = True
    scenario: str = ""  # a chaos drill: run_all compacts its report.json into the JSON


def _script(script: str, *args: str) -> Callable[[Options, str], list[str]]:
    def argv(opt: Options, out: str) -> list[str]:
        return [f"bench/{script}", "--out", out, *args, *(["--quick"] if opt.quick else [])]

    return argv


def _api(opt: Options, out: str) -> list[str]:
    # The points issue #10 measured: echo and raw etcd are the same-run baselines.
    # Three rounds: the 64-client ratio moved 0.29x-0.42x between single runs of one commit.
    cmd = _script(
        "api_bench.py", "--concurrency", "8,64", "--kinds", "echo,raw_etcd,create", "--rounds", "3"
    )
    return cmd(opt, out) + (["--profile"] if opt.profile else [])


def _failover(opt: Options, out: str) -> list[str]:
    return _script("failover_bench.py", "--modes", opt.failover_modes)(opt, out)


def _no_fault(opt: Options, out: str) -> list[str]:
    # --quick does not shorten a no-fault run: its length is --no-fault alone.
    return ["bench/failover_bench.py", "--out", out, "--no-fault", f"{opt.no_fault_s:g}"]


def _scale(opt: Options, out: str) -> list[str]:
    # Target 5 is at 500 consoles; 1 console is the same-run baseline.
    return _script("scale_bench.py", "--consoles", "1,100,500")(opt, out)


def _archive(opt: Options, out: str) -> list[str]:
    # Its figure and Markdown go to results/, not docs/ (docs are updated by hand).
    md, svg = out.replace(".json", ".md"), out.replace(".json", "-levels.svg")
    quick = ["--quick"] if opt.quick else []
    return ["-m", "bench.archive_bench", "--out", out, "--md", md, "--svg", svg, *quick]


def _site_loss(opt: Options, out: str) -> list[str]:
    reps, incidents = ("2", "50") if opt.quick else ("5", "1000")
    return [
        "-m",
        "chaos.site_drill",
        "--reps",
        reps,
        "--incidents",
        incidents,
        "--no-fault",
        "10" if opt.quick else "60",
        "--handback",
        "--report-dir",
        "bench/results/drills/site-loss",
        "--out",
        out,
    ]


def _site_partition(opt: Options, out: str) -> list[str]:
    incidents = "50" if opt.quick else "1000"
    report = "bench/results/drills/site-partition"
    return ["-m", "chaos.site_partition", "--incidents", incidents, "--report-dir", report]


def _drill(opt: Options, out: str) -> list[str]:
    return []  # built by run_all, which needs the scenario (quick: a shortened copy)


def _limit(full: float, quick: float = 300.0) -> Callable[[Options], float]:
    return lambda opt: quick if opt.quick else full


BENCHES: dict[str, Bench] = {
    b.name: b
    for b in (
        Bench("api", _api, _limit(900)),
        Bench("failover", _failover, _limit(1200)),
        Bench("no-fault", _no_fault, lambda opt: opt.no_fault_s + 300),
        Bench("scale", _scale, _limit(2400, 600)),
        Bench("naive", _script("naive_bench.py"), _limit(600)),
        Bench("gateway", _script("gateway_bench.py"), _limit(600)),
        Bench("etcd-leader-kill", _drill, _limit(600), scenario="etcd-leader-kill-5x.toml"),
        Bench("kill-centre", _drill, _limit(600), scenario="kill-centre.toml"),
        Bench("pause-centre", _drill, _limit(600), scenario="pause-centre.toml"),
        Bench("site-loss", _site_loss, _limit(1800, 600)),
        Bench(
            "site-partition",
            lambda opt, out: [*_site_partition(opt, out), "--out", out],
            _limit(900, 600),
        ),
        Bench("major", _script("major_bench.py"), _limit(600), default=False),
        Bench("archive", _archive, _limit(4 * 3600, 1200), default=False),
    )
}


# ---------------------------------------------------------------- figures


@dataclass
class Row:
    """One figure as measured: ``met`` None means the run cannot say (too short, or
    not run); ``why`` then says why, in the met column."""

    measured: str
    met: bool | None
    baseline: str = ""
    why: str = ""


@dataclass(frozen=True)
class Figure:
    target: str  # issue #10's target number ("1" ... "6"), or "kept"
    label: str
    wanted: str
    bench: str
    read: Callable[[dict[str, Any], Results], Row]
    needs: tuple[str, ...] = field(default=())  # parts of the JSON that must be there


def _same_round(api: dict[str, Any], kind: str, c: int, rnd: int) -> dict[str, Any]:
    """The point of ``kind`` at ``c`` clients in round ``rnd`` ({} if none)."""
    return next((p for p in points_of(api, kind, c) if p.get("round", 0) == rnd), {})


def _median_round(api: dict[str, Any], c: int, key: Callable[[dict[str, Any]], float | None]):
    """(value, round, every round's value) for the create point at ``c`` clients whose
    ``key`` is the median of the rounds (the lower middle one for an even count, so the
    figure is always one round's, shown with that round's baselines); None if none."""
    found = []
    for p in points_of(api, "create", c):
        value = key(p)
        if value is not None:
            found.append((value, p.get("round", 0)))
    if not found:
        return None
    found.sort(key=lambda vr: vr[0])  # a stable sort: a tie keeps round order
    value, rnd = found[(len(found) - 1) // 2]
    return value, rnd, [v for v, _ in sorted(found, key=lambda vr: vr[1])]


def _rounds(values: list[float], unit: str, digits: int) -> str:
    """ " (a-b over N rounds)" when the benchmark ran the point more than once."""
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    return f" ({fmt(lo, '', digits)}-{fmt(hi, unit, digits)} over {len(values)} rounds)"


def _api_64(api: dict[str, Any], _: Results) -> Row:
    # Each round's ratio is taken within the round (api_bench --rounds); the figure is the
    # median round's, with that round's echo and raw etcd beside it.
    def ratio_in_round(p: dict[str, Any]) -> float | None:
        e = _same_round(api, "echo", 64, p.get("round", 0))
        return p["throughput_per_s"] / e["throughput_per_s"] if e.get("throughput_per_s") else None

    found = _median_round(api, 64, ratio_in_round)
    if found is None:
        return Row("not run (no 64-client create and echo points)", None, why="not run")
    ratio, rnd, each = found
    c, e, r = (_same_round(api, k, 64, rnd) for k in ("create", "echo", "raw_etcd"))
    raw = f"; raw etcd {fmt(r.get('throughput_per_s'), '/s', 0)}" if r else ""
    return Row(
        f"{fmt(c['throughput_per_s'], '/s', 0)} = {ratio:.2f}x echo{_rounds(each, 'x', 2)}",
        ratio >= 0.5,
        f"grpc.aio echo {fmt(e['throughput_per_s'], '/s', 0)}{raw}",
    )


def _api_8(api: dict[str, Any], _: Results) -> Row:
    found = _median_round(api, 8, lambda p: p["latency"].get("p99_ms"))
    if found is None:
        return Row("not run (no 8-client create point)", None, why="not run")
    p99, rnd, each = found
    c, e, r = (_same_round(api, k, 8, rnd) for k in ("create", "echo", "raw_etcd"))
    return Row(
        f"p99 {fmt(p99, ' ms', 2)}{_rounds(each, ' ms', 1)} "
        f"({fmt(c['throughput_per_s'], '/s', 0)})",
        p99 <= 10,
        f"echo p99 {fmt(e.get('latency', {}).get('p99_ms'), ' ms', 2)}; raw etcd p99 "
        f"{fmt(r.get('latency', {}).get('p99_ms'), ' ms', 2)}",
    )


def _failover(mode: str, limit: float) -> Callable[[dict[str, Any], Results], Row]:
    def read(fo: dict[str, Any], _: Results) -> Row:
        s = fo["summary"]
        p99 = s.get(f"{mode}_p99_s")
        if p99 is None:
            return Row(f"not run (mode {mode} not in this run)", None, why="not run")
        base = s.get("kill_lease_only_p99_s")
        baseline = (
            f"kill -9, takeover by lease expiry alone: p99 {fmt(base, ' s', 3)}"
            if base is not None
            else f"none measured (lease TTL {s.get('lease_ttl_s')} s, a setting; "
            "add kill_lease_only to --failover-modes for the measured baseline)"
        )
        return Row(
            f"p99 {fmt(p99, ' s', 3)} of {fo['reps']} ({fo['incidents_prefilled']:,} incidents)",
            p99 <= limit,
            baseline,
        )

    return read


def _no_fault(nf: dict[str, Any], want_s: float) -> Row:
    spec, load = nf["load_spec"], nf.get("load_result", {})
    took = spec["duration_s"]
    n = nf["takeovers"]
    text = (
        f"{n} takeovers in {took:g} s at {spec['rate']:g} ops/s, {spec['concurrency']} threads "
        f"({load.get('acked')} of {load.get('ops')} acked)"
    )
    if n:
        return Row(text, False)
    if took < want_s:
        return Row(text, None, why=f"n/a: {took:g} s run, {want_s:g} s wanted")
    return Row(text, True)


def _no_fault_600(nf: dict[str, Any], _: Results) -> Row:
    return _no_fault(nf, 600.0)


def _drill_ack(drill: dict[str, Any], _: Results) -> Row:
    rows = [s for s in drill.get("first_ack_summary", []) if s["fault"] == "etcd-member-kill"]
    if not rows:
        return Row("no etcd-member-kill figures in the report", False)
    s = rows[0]
    elected = [e["after_kill_s"] for e in drill.get("etcd_elections", []) if e["after_kill_s"]]
    text = (
        f"p99 {fmt(s['p99_s'], ' s', 3)} (max {fmt(s['max_s'], ' s', 3)}, worst "
        f"{s['worst_region']}) over {s['faults']} kills x regions: {s['samples']} samples, "
        f"{s['missing']} missing"
    )
    base = (
        f"etcd's own election (its log): max {max(elected):.3f} s after the kill"
        if elected
        else "no election times in etcd's log"
    )
    ok = s["p99_s"] is not None and s["p99_s"] <= 1.0 and s["missing"] == 0
    if ok and s["faults"] < 5:
        return Row(text, None, base, why=f"n/a: {s['faults']} kills, 5 wanted")
    return Row(text, ok, base)


def _raw_errors(drill: dict[str, Any], _: Results) -> Row:
    raw = drill.get("raw_client")
    if not raw:
        return Row("no raw client in the report", False)
    codes = ", ".join(f"{k} {v}" for k, v in raw.get("errors_by_code", {}).items())
    return Row(
        f"{raw['errors']} errors{f' ({codes})' if codes else ''}; {raw['acked']} acked, "
        f"{raw.get('lost', '?')} lost, {raw.get('duplicated', '?')} doubled "
        f"({raw['writers']} writers, deadline {raw['deadline_s']} s)",
        raw["errors"] == 0 and not raw.get("lost"),
        "none (a raw stub has no retries to compare with)",
    )


def _watch(sc: dict[str, Any], _: Results) -> Row:
    points = {p["consoles"]: p for p in sc["watch"]["points"]}
    one = points.get(1, {}).get("send_to_receipt", {}).get("p99_ms")
    base = f"1 console: p99 {fmt(one, ' ms', 2)}" if one is not None else ""
    p = points.get(500)
    if p is None:
        most = max(points) if points else 0
        seen = points.get(most, {}).get("send_to_receipt", {}).get("p99_ms")
        return Row(
            f"not run at 500 consoles (largest run: {most}, p99 {fmt(seen, ' ms', 2)})",
            None,
            base,
            why="not run",
        )
    p99 = p["send_to_receipt"].get("p99_ms")
    return Row(
        f"p99 {fmt(p99, ' ms', 2)}, {p['events_missing']} missed, gateway "
        f"{fmt(p['cpu']['cores_busy'].get('gateway'), ' cores', 2)} busy "
        f"({sc['watch']['rate_per_s']:g} writes/s)",
        p99 is not None and p99 <= 50 and p["events_missing"] == 0,
        base,
    )


def _takeover(records: str) -> Callable[[dict[str, Any], Results], Row]:
    def read(sc: dict[str, Any], _: Results) -> Row:
        key = (10_000, records)
        t = {(r["incidents"], r["records"]): r for r in sc["takeover"]["sizes"]}.get(key)
        ld = {(r["incidents"], r["records"]): r for r in sc.get("load", {}).get("sizes", [])}
        load = ld.get(key, {})
        base = "RegionHost.load alone: " + fmt(
            load.get("region_host_load_s", {}).get("median_s"), " s", 3
        )
        if t is None:
            why = sc["takeover"].get("skipped", {}).get(f"10000 {records}", "size not in run")
            return Row(f"not run ({why})"[:160], None, base, why="not run")
        ms = (t.get("takeover_record") or {}).get("duration_ms")
        first = t["fault_to_first_new_owner_ack_s"]
        return Row(
            f"first ack by the new owner {fmt(first, ' s', 3)} (loaded in {fmt(ms, ' ms', 0)})",
            first <= 1.0,
            base,
        )

    return read


def _memory(sc: dict[str, Any], res: Results) -> Row:
    typ = sc["memory"]["typical_incident"]
    rss = typ["rss_child"].get("rss_delta_bytes_per_record")
    worst = max(typ["tracemalloc_bytes_per_record"], rss or 0)
    nv = res.get("naive")
    base = (
        f"one Ray actor per incident: {fmt(nv['naive']['per_actor_mb']['uss_mb'], ' MB')} USS"
        if nv
        else "naive bench not run"
    )
    return Row(
        f"{fmt(typ['tracemalloc_bytes_per_record'], ' B')} tracemalloc / {fmt(rss, ' B')} RSS",
        worst <= 10 * 1024,
        base,
    )


def _recommend(sc: dict[str, Any], _: Results) -> Row:
    by = {r["units"]: r for r in sc["recommend"]["results"]}
    r, small = by.get(10_000), by.get(100)
    base = f"100 units: p99 {fmt(small['p99_ms'], ' ms', 3)}" if small else ""
    if r is None:
        return Row("not run (no 10,000-unit size)", None, base, why="not run")
    return Row(
        f"p99 {fmt(r['p99_ms'], ' ms', 2)} (median {fmt(r['median_ms'], ' ms', 2)})",
        r["p99_ms"] <= 5,
        base,
    )


def _gateway(gw: dict[str, Any], _: Results) -> Row:
    s = gw["summary"]
    return Row(
        f"p99 {fmt(s['kill_to_serving_p99_s'], ' s', 3)} of {gw['reps']} kills; other "
        f"gateway serving throughout: {s['other_gateway_serving_throughout']}",
        s["kill_to_serving_p99_s"] <= s["target_p99_s"],
        "none",
    )


def _site_loss_row(sl: dict[str, Any], _: Results) -> Row:
    s = sl["summary"]
    return Row(
        f"p99 {fmt(s['first_ack_p99_s'], ' s', 3)} (max {fmt(s['first_ack_max_s'], ' s', 3)}) "
        f"over {len(sl['reps'])} losses x regions: {s['samples']} samples, {s['missing']} "
        f"missing; {s['acked']} acked, {s['lost']} lost, {s['duplicated']} duplicated, "
        f"{s['stale']} stale",
        s["first_ack_p99_s"] is not None
        and s["first_ack_p99_s"] <= 1.0
        and not (s["lost"] or s["duplicated"] or s["stale"] or s["missing"]),
        "lease expiry alone: TTL 2 s + etcd's 500 ms tick",
    )


def _site_no_fault_row(sl: dict[str, Any], _: Results) -> Row:
    nf = sl.get("no_fault")
    if not nf:
        return Row("not run (no --no-fault phase)", None, why="not run")
    return Row(f"{nf['owner_changes']} in {nf['seconds']:g} s", nf["owner_changes"] == 0, "")


def _site_partition_row(sp: dict[str, Any], _: Results) -> Row:
    s = sp["summary"]
    return Row(
        f"served by the other site after at most {fmt(s['served_elsewhere_max_s'], ' s', 3)}; "
        f"{sp['acked_via_cut_off_site_while_cut']} writes accepted by the cut-off site; "
        f"{sp['owner_changes_after_heal']} owner changes after the heal; {s['lost']} lost, "
        f"{s['duplicated']} duplicated, {s['stale']} stale",
        sp["exit_code"] == 0,
        f"target {s['target_s']} s",
    )


FIGURES: tuple[Figure, ...] = (
    Figure("1", "CreateIncident, 64 clients: throughput", ">= 0.5x echo", "api", _api_64),
    Figure("1", "CreateIncident, 8 clients: p99 latency", "<= 10 ms", "api", _api_8),
    Figure(
        "2",
        "hang failover: SIGSTOP -> first new-owner ack",
        "p99 <= 1.0 s",
        "failover",
        _failover("stop", 1.0),
    ),
    Figure(
        "2",
        "false suspicion: takeovers in a no-fault run at 3x load",
        "0 in 600 s",
        "no-fault",
        _no_fault_600,
    ),
    Figure(
        "3",
        "etcd leader kill: every region's first ack (etcd-leader-kill-5x drill)",
        "p99 <= 1.0 s over 5 kills",
        "etcd-leader-kill",
        _drill_ack,
    ),
    Figure(
        "4",
        "raw gRPC client errors during kill -9 (kill-centre drill)",
        "0",
        "kill-centre",
        _raw_errors,
    ),
    Figure(
        "4",
        "raw gRPC client errors during SIGSTOP (pause-centre drill)",
        "0",
        "pause-centre",
        _raw_errors,
    ),
    Figure(
        "5",
        "watch fan-out, 500 consoles: send -> receipt",
        "p99 <= 50 ms, none missed",
        "scale",
        _watch,
        ("watch",),
    ),
    Figure(
        "6",
        "crash failover: kill -9 -> first new-owner ack",
        "p99 <= 0.25 s",
        "failover",
        _failover("kill", 0.25),
    ),
    Figure(
        "6",
        "takeover of a region of 10,000 bare incidents",
        "<= 1 s",
        "scale",
        _takeover("bare"),
        ("takeover",),
    ),
    Figure(
        "6",
        "takeover of a region of 10,000 typical incidents",
        "<= 1 s",
        "scale",
        _takeover("typical"),
        ("takeover",),
    ),
    Figure("6", "memory per hosted incident", "<= 10 KB", "scale", _memory, ("memory",)),
    Figure(
        "6",
        "recommendation over 10,000 units",
        "p99 <= 5 ms",
        "scale",
        _recommend,
        ("recommend",),
    ),
    Figure("kept", "gateway restart: kill -> serving again", "p99 <= 2 s", "gateway", _gateway),
    Figure(
        "#11",
        "site loss (every process of a site): every region's first ack by the new owner",
        "p99 <= 1.0 s over 5 losses, 0 lost/duplicated/stale",
        "site-loss",
        _site_loss_row,
    ),
    Figure(
        "#11",
        "false site loss: owner changes with both sites up under load",
        "0",
        "site-loss",
        _site_no_fault_row,
    ),
    Figure(
        "#11",
        "site partition (cut off from etcd): served elsewhere; cut-off site's writes refused",
        "<= lease TTL + 0.5 s; 0 accepted",
        "site-partition",
        _site_partition_row,
    ),
)
