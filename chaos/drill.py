"""Drills as data: a scenario (TOML) names the load and the faults; the runner does the rest.

A run: start the cluster (its own key prefix and Ray namespace; its own etcd and Ray
unless given), check health (every region owned by a live centre), start the load,
inject each fault at its time and recover it after its duration, stop the load, check
health again, then check the history against etcd (:mod:`chaos.checker`) and write the
report (:mod:`chaos.report`). The verdict is the checker's: anything acknowledged and
lost, anything applied twice, any write accepted from a deposed owner fails the drill;
so does, where the scenario sets ``no_client_errors = true``, any client call that
failed while a gateway served.

Scenario file::

    name = "kill-centre"
    description = "kill -9 of Oslo under load"
    regions = ["oslo", "vestre-viken"]     # where the load goes (default: all)
    fencing = true                         # false only in the unfenced proof drill
    etcd_members = 1                       # 3: the drill starts its own etcd cluster
    ray_nodes = 1                          # 3: a local multi-node Ray (head + 2 workers)
    no_client_errors = false               # true: a failed client call fails the drill
    seed = "cluster/seed/norway.toml"      # the deployment's seed (default: Helse Sør-Øst)
    [calls]                                # a 113 floor (clients.call_floor.FloorSpec)
    rate = 1.5                             # calls per second over the regions
    takers = 2                             # call-takers at every centre
    talk_s = [3, 6]                        # how long each call holds its call-taker
    drain_s = 60                           # after the load: until no call waits
    [load]
    rate = 40                              # operations per second, overall
    concurrency = 6
    duration_s = 20
    [[faults]]
    failpoint = "kill-centre"              # see chaos.failpoints.FAILPOINTS
    target = "oslo"
    at_s = 6
    duration_s = 0                         # other keys go to the failpoint as params
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import tomllib
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from actors.domain.access import DEFAULT_TABLE
from chaos import call_check, checker, report
from chaos.drill_etcd import DRILL_KEY_ROOT, drill_pki, start_cluster, start_single
from chaos.drill_ray import placement, placement_seen, start_ray_cluster, start_then_join
from chaos.etcd_cluster import EtcdCluster
from chaos.failpoint_major import MajorIncident  # noqa: F401 - registers "major-incident"
from chaos.failpoints import (
    DrillContext,
    Failpoint,
    FaultSpec,
    _region_point,
    make,
)
from chaos.raw_client import RawWriter
from clients.call_floor import CallFloor, FloorSpec
from clients.console_tokens import ConsoleRoom
from clients.launcher import Deployment
from clients.loadgen import History, LoadGenerator, LoadSpec
from cluster.config import UNSAFE_UNFENCED_ENV, ClusterConfig
from cluster.errors import AmkError
from cluster.etcd import EtcdClient
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys
from cluster.ownership import read_owner
from cluster.ray_local import loopback_only, services_first
from cluster.tls import console_identity

log = structlog.get_logger("amk.chaos.drill")

EXIT_OK, EXIT_VIOLATION, EXIT_NOT_RUN, EXIT_UNHEALTHY = 0, 1, 2, 3
_FAULT_KEYS = {"failpoint", "target", "at_s", "duration_s"}


@dataclass
class Scenario:
    """One drill, as read from its TOML file."""

    name: str
    load: LoadSpec
    faults: list[FaultSpec]
    description: str = ""
    regions: list[str] = field(default_factory=list)
    fencing: bool = True
    etcd_members: int = 1
    # >= 2: run_standalone starts a local multi-node Ray (ray.cluster_utils.Cluster): a
    # head with no custom resource and N-1 workers marked {"node-1": 1}, {"node-2": 1}...
    ray_nodes: int = 1
    gateways: int = 2
    lease_ttl_s: int = 2
    health_timeout_s: float = 30.0
    expect: str = "pass"  # "violations": the drill exists to prove the checker catches them
    # True: a client call that failed while a gateway served fails the drill too (calls
    # overlapping a time with no gateway at all, measured by a probing fault, are
    # reported apart and do not count).
    no_client_errors: bool = False
    seed: str = ""  # a seed file, relative to the working directory ("": the default)
    calls: FloorSpec | None = None  # a 113 floor: callers and every centre's call-takers
    calls_drain_s: float = 60.0

    @classmethod
    def from_file(cls, path: Path) -> Scenario:
        raw = tomllib.loads(Path(path).read_text())
        load = raw.pop("load", {})
        faults = [
            FaultSpec(
                failpoint=f["failpoint"],
                target=str(f.get("target", "")),
                at_s=float(f.get("at_s", 0)),
                duration_s=float(f.get("duration_s", 0)),
                params={k: v for k, v in f.items() if k not in _FAULT_KEYS},
            )
            for f in raw.pop("faults", [])
        ]
        regions = list(raw.get("regions", []))
        spec = LoadSpec(
            rate=float(load.get("rate", 20)),
            concurrency=int(load.get("concurrency", 4)),
            duration_s=float(load.get("duration_s", 20)),
            regions=tuple(regions),
            timeout_s=float(load.get("timeout_s", 10)),
            seed=load.get("seed"),
        )
        raw.setdefault("name", Path(path).stem)
        if floor := raw.pop("calls", None):
            raw["calls_drain_s"] = float(floor.pop("drain_s", cls.calls_drain_s))
            if "talk_s" in floor:  # a TOML array; FloorSpec holds a pair
                floor["talk_s"] = tuple(floor["talk_s"])
            raw["calls"] = FloorSpec(duration_s=spec.duration_s, seed=spec.seed, **floor)
        return cls(load=spec, faults=faults, **raw)


# ---------------------------------------------------------------- health


async def health(ctx: DrillContext, client: EtcdClient) -> dict[str, Any]:
    """Every region owned by the live instance of a centre; every centre answering;
    no region served by two centres at once."""
    assert ctx.deployment is not None
    keys = Keys(ctx.config.key_prefix)
    problems: list[str] = []
    centres: dict[str, dict[str, Any]] = {}
    for cid, handle in ctx.deployment.centres.items():
        handle.forget()  # find the actor again: it may have been restarted
        try:
            st = await handle.status(timeout_s=2)
        except AmkError as err:
            problems.append(f"centre {cid} not answering: {err}")
            continue
        centres[cid] = {"instance": st.instance, "regions": st.regions, "pid": st.pid}
    owners: dict[str, Any] = {}
    for region in ctx.config.region_ids():
        owner = await read_owner(client, keys, region)
        if owner is None:
            problems.append(f"region {region} has no owner")
            continue
        rec = owner.record
        owners[region] = {
            "centre": rec.centre,
            "instance": rec.instance,
            "token": owner.token,
        }
        live = centres.get(rec.centre, {})
        if live.get("instance") != rec.instance:
            problems.append(f"region {region} owned by {rec.instance}, not a live instance")
        claimers = [c for c, st in centres.items() if region in st["regions"]]
        if len(claimers) > 1:
            problems.append(f"region {region} served by {claimers} at once (split brain)")
    return {"ok": not problems, "problems": problems, "owners": owners, "centres": centres}


async def wait_healthy(ctx: DrillContext, client: EtcdClient, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        h = await health(ctx, client)
        h["waited_s"] = round(timeout_s - (deadline - time.monotonic()), 2)
        if h["ok"] or time.monotonic() > deadline:
            return h
        await asyncio.sleep(0.2)


# ---------------------------------------------------------------- the run


async def watch_owners(
    client: EtcdClient, keys: Keys, regions: list[str], out: list[dict[str, Any]]
) -> None:
    """Poll the owner keys (10/s) and record every change, for the report's bands."""
    last: dict[str, Any] = {}
    while True:
        for region in regions:
            with contextlib.suppress(Exception):
                owner = await read_owner(client, keys, region, timeout_s=0.5)
                now = (owner.record.centre, owner.token) if owner else (None, 0)
                if last.get(region) != now:
                    last[region] = now
                    out.append(
                        {"t": time.time(), "region": region, "centre": now[0], "token": now[1]}
                    )
        await asyncio.sleep(0.1)


async def _run_fault(
    fp: Failpoint, ctx: DrillContext, t0: float, windows: list[dict[str, Any]]
) -> None:
    await asyncio.sleep(max(0.0, t0 + fp.spec.at_s - time.time()))
    window: dict[str, Any] = {"name": fp.name, "target": fp.spec.target, "start": time.time()}
    windows.append(window)
    try:
        window["inject"] = await fp.inject(ctx)
        await asyncio.sleep(fp.spec.duration_s)
    finally:
        window["end"] = time.time()
        try:
            window["recover"] = await fp.recover(ctx)
        except Exception as exc:
            window["recover"] = {"error": repr(exc)}
    log.info("fault_done", failpoint=fp.name, target=fp.spec.target)


def probed_no_gateway_spans(windows: list[dict[str, Any]]) -> list[tuple[float, float | None]]:
    """The times with no gateway at all that probing faults measured (``no_gateway_at``
    in their recover details: from the kill to the first gateway serving again)."""
    found = [w.get("recover", {}).get("no_gateway_at") for w in windows]
    return sorted((start, end) for start, end in filter(None, found))


def raw_regions(scenario: Scenario, config: ClusterConfig, regions: list[str]) -> list[str]:
    """Where the raw client writes: of the load's regions (a scenario keeps load out of a
    region on purpose), those whose home centre a fault hits (they change owner); all the
    load's regions if none is hit."""
    centres = set(config.centre_ids())
    hit = {r for f in scenario.faults if f.target in centres for r in config.home_regions(f.target)}
    return sorted(hit & set(regions)) or regions


def _config(scenario: Scenario, home: Path, pki_dir: Path | None, key_root: str) -> ClusterConfig:
    """A config of its own (prefix under ``key_root``, namespace, ports, the etcd
    certificates in ``pki_dir``; None: insecure); fencing off only when the scenario
    says so, with the unsafe variable set just while the config is built."""
    tag = uuid.uuid4().hex[:8]
    gateways = [f"127.0.0.1:{find_free_port()}" for _ in range(scenario.gateways)]
    seed = {"seed_file": Path(scenario.seed).resolve()} if scenario.seed else {}
    centre_nodes, gateway_nodes = placement(
        scenario.ray_nodes,
        scenario.faults,
        ClusterConfig.load(gateways=gateways, **seed).centre_ids(),
        gateways,
    )
    overrides: dict[str, Any] = {
        **seed,
        "home": home,
        "key_prefix": f"{key_root}{scenario.name}/{tag}/",
        "pki_dir": pki_dir,
        "insecure": pki_dir is None,
        "ray_namespace": f"drill-{tag}",
        "gateways": gateways,
        "lease_ttl_s": scenario.lease_ttl_s,
        "fencing": scenario.fencing,
        "centre_nodes": centre_nodes,
        "gateway_nodes": gateway_nodes,
        "access_table": DEFAULT_TABLE,  # the real policy, whatever the environment says
    }
    if scenario.fencing:
        return ClusterConfig.load(**overrides)
    before = os.environ.get(UNSAFE_UNFENCED_ENV)
    os.environ[UNSAFE_UNFENCED_ENV] = "1"
    try:
        return ClusterConfig.load(**overrides)
    finally:
        if before is None:
            os.environ.pop(UNSAFE_UNFENCED_ENV, None)
        else:
            os.environ[UNSAFE_UNFENCED_ENV] = before


async def run_drill(
    scenario: Scenario,
    report_dir: Path,
    *,
    endpoints: list[str] | None = None,
    etcd_cluster: EtcdCluster | None = None,
    ray_cluster: Any = None,
    ray_nodes: dict[str, Any] | None = None,
    pki_dir: Path | None,
    key_root: str = DRILL_KEY_ROOT,
) -> dict[str, Any]:
    """Run one drill inside an already initialised Ray; returns the result (also written
    to ``report_dir``). ``result["exit_code"]`` is the verdict. ``ray_cluster`` and
    ``ray_nodes`` (worker nodes by their resource name): the multi-node local Ray that
    Ray itself runs in, for the node failpoints. ``pki_dir``: the etcd certificates
    (None: an insecure etcd); the drill's key prefix is under ``key_root``."""
    os.makedirs(report_dir, exist_ok=True)
    endpoints = endpoints or (etcd_cluster.endpoints if etcd_cluster else [])
    if not endpoints:
        raise ValueError("run_drill needs etcd endpoints (or an etcd cluster)")
    ctx = DrillContext(
        _config(scenario, report_dir / "home", pki_dir, key_root), endpoints, None, etcd_cluster
    )
    if ray_cluster is not None:
        ctx.ray_cluster, ctx.ray_nodes = ray_cluster, dict(ray_nodes or {})
    else:  # no nodes to pin to: leave placement to Ray
        ctx.config = ctx.config.model_copy(update={"centre_nodes": {}, "gateway_nodes": {}})
    fps = [make(spec) for spec in scenario.faults]
    unavailable = {fp.name: r.reason for fp in fps if not (r := fp.available(ctx))}
    result: dict[str, Any] = {"scenario": scenario.name, "description": scenario.description}
    if unavailable:
        result.update(exit_code=EXIT_NOT_RUN, not_available=unavailable)
        _write_json(report_dir / "report.json", result)
        return result
    for fp in fps:
        if overrides := await fp.setup(ctx):
            ctx.config = ctx.config.model_copy(update=overrides)
    keys = Keys(ctx.config.key_prefix)
    client = etcd_client_for(ctx.config, endpoints, request_timeout_s=3.0)
    deployment = Deployment(ctx.config, endpoints)
    ctx.deployment = deployment
    history = History(report_dir / "history.jsonl")
    owner_events: list[dict[str, Any]] = []
    windows: list[dict[str, Any]] = []
    watcher: asyncio.Task[None] | None = None
    raw: RawWriter | None = None
    floor: CallFloor | None = None
    try:
        started = time.monotonic()
        if ray_cluster is not None:
            await start_then_join(deployment, ctx)
        else:
            await deployment.start()
        result["startup_s"] = round(time.monotonic() - started, 2)
        if ray_cluster is not None:
            result["placement"] = await asyncio.to_thread(
                placement_seen, ray_cluster, ctx.ray_nodes
            )
        result["health_before"] = await wait_healthy(ctx, client, scenario.health_timeout_s)
        if not result["health_before"]["ok"]:
            result["exit_code"] = EXIT_UNHEALTHY
            return result
        # Load (and the raw client) write incidents: area regions only. Ownership is
        # watched for every region, the AMK-LA's too (its takeover is measured).
        regions = list(scenario.regions) or ctx.config.area_region_ids()
        watcher = asyncio.create_task(
            watch_owners(client, keys, ctx.config.region_ids(), owner_events)
        )
        tls = console_identity(ctx.config)
        room = ConsoleRoom(ctx.config)  # every centre's consoles, tokens from its issuer
        gen = LoadGenerator(
            ctx.config.gateways, ctx.config.seed, scenario.load, history, tls=tls, room=room
        ).start()
        raw = RawWriter(
            ctx.config.gateways[0],
            {r: _region_point(ctx.config, r) for r in raw_regions(scenario, ctx.config, regions)},
            tls=tls,
            room=room,
        ).start()
        if scenario.calls is not None:
            floor = CallFloor(
                ctx.config.gateways, ctx.config.seed, scenario.calls, history, tls=tls, room=room
            ).start()
            ctx.call_floor = floor
        t0 = gen.started_at
        faults = [asyncio.create_task(_run_fault(fp, ctx, t0, windows)) for fp in fps]
        await asyncio.to_thread(gen.join)
        t_end = time.time()
        result["raw_client"] = await raw.stop()
        await asyncio.gather(*faults)
        if floor is not None:  # the call-takers answer what still waits, then go home
            result["calls_drain_s"] = await call_check.until_answered(
                client, keys, scenario.calls_drain_s
            )
            await asyncio.to_thread(floor.stop)
        result["health_after"] = await wait_healthy(ctx, client, scenario.health_timeout_s)
        watcher.cancel()
        stats: dict[str, dict[str, int]] = {}
        for cid, st in result["health_after"]["centres"].items():
            with contextlib.suppress(AmkError):
                stats[cid] = dict((await deployment.centres[cid].status(timeout_s=2)).store)
                stats[cid]["instance"] = st["instance"]  # type: ignore[assignment]
        snap = await checker.collect(client, keys)
        raw_check = checker.check_records(raw.acked, snap)
        result["raw_client"].update(
            lost=len(raw_check["lost"]), duplicated=len(raw_check["duplicated"])
        )
        full_history = history.records + ctx.direct
        no_gateway = probed_no_gateway_spans(windows)
        verdict = checker.check(
            full_history,
            snap,
            faults=windows,
            regions=regions,
            centre_stats=stats,
            window=(t0, t_end),
            no_gateway=no_gateway,
            no_client_errors=scenario.no_client_errors,
            partners={r.id: set(r.all_partners) for r in ctx.config.seed.regions},
        )
        result.update(
            no_client_errors=scenario.no_client_errors,
            no_gateway=no_gateway,
            t0=t0,
            t_end=t_end,
            load=scenario.load.__dict__,
            regions=regions,
            faults=windows,
            owner_events=owner_events,
            check=verdict,
            expect=scenario.expect,
            fencing=scenario.fencing,
            etcd_endpoints=endpoints,
            key_prefix=ctx.config.key_prefix,
        )
        if floor is not None:
            stored = await call_check.collect_calls(client, keys)
            calls = call_check.check_calls(full_history, stored, owner_events, ctx.config.seed)
            result["calls"] = calls
            if not calls["ok"]:
                verdict["ok"] = False
                verdict["violations"] = [*verdict["violations"], *calls["problems"]]
        if not verdict["ok"] or raw_check["lost"] or raw_check["duplicated"]:
            result["exit_code"] = EXIT_VIOLATION
        elif not result["health_after"]["ok"]:
            result["exit_code"] = EXIT_UNHEALTHY
        else:
            result["exit_code"] = EXIT_OK
        result["report"] = report.write(result, full_history, report_dir)
        return result
    finally:
        if watcher is not None:
            watcher.cancel()
        if raw is not None:
            await raw.stop()  # already stopped unless the run failed half way
        if floor is not None:
            await asyncio.to_thread(floor.stop)
        history.close()
        await deployment.stop()
        await client.close()
        for fp in fps:
            await fp.teardown()
        _write_json(report_dir / "report.json", result)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str))


def run_standalone(scenario: Scenario, report_dir: Path) -> dict[str, Any]:
    """Start etcd (one member, or three when the scenario asks) and a local Ray of its
    own (several raylets when the scenario sets ``ray_nodes``), run the drill, stop them
    again."""

    def drill(
        endpoints: list[str], cluster: EtcdCluster | None, ray_cluster: Any, nodes: dict[str, Any]
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        return run_drill(
            scenario,
            report_dir,
            endpoints=endpoints or None,
            etcd_cluster=cluster,
            ray_cluster=ray_cluster,
            ray_nodes=nodes,
            pki_dir=drill_pki(report_dir),
        )

    return with_own_services(
        report_dir, drill, etcd_members=scenario.etcd_members, ray_nodes=scenario.ray_nodes
    )


def with_own_services(
    report_dir: Path,
    body: Callable[
        [list[str], EtcdCluster | None, Any, dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]
    ],
    *,
    etcd_members: int = 1,
    ray_nodes: int = 1,
) -> dict[str, Any]:
    """Run ``body(endpoints, etcd_cluster, ray_cluster, ray_nodes)`` with an etcd and a
    local Ray of the drill's own (loopback, free ports), stopped again afterwards, so a
    drill never touches another engineer's services. ``endpoints`` is empty when a
    three-member ``etcd_cluster`` runs instead of the single member."""
    import ray

    report_dir.mkdir(parents=True, exist_ok=True)
    etcd: EmbeddedEtcd | None = None
    cluster: EtcdCluster | None = None
    ray_cluster: Any = None
    nodes: dict[str, Any] = {}
    endpoints: list[str] = []
    try:
        if etcd_members >= 3:
            cluster = start_cluster(report_dir, etcd_members)
        else:
            etcd = start_single(report_dir)
            endpoints = [etcd.endpoint]
        address = "local"
        if ray_nodes >= 2:
            ray_cluster, nodes = start_ray_cluster(ray_nodes)
            address = ray_cluster.address
        else:
            loopback_only()  # a Ray of this machine alone listens on loopback only
            services_first()  # dispatch runs at normal priority, not Ray's 15
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        return asyncio.run(body(endpoints, cluster, ray_cluster, nodes))
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if ray_cluster is not None:
            ray_cluster.shutdown()
        if etcd is not None:
            etcd.stop()
        if cluster is not None:
            cluster.stop()
