"""Failpoints: the faults a drill injects, one small class each.

As in etcd's robustness tests, a :class:`Failpoint` has a ``name``, says whether it can
run here (:meth:`Failpoint.available`, with the reason when it cannot), and has
``inject`` and ``recover``. ``setup`` runs before the deployment starts, for faults that
must be wired in first (the etcd link proxy is given to one centre through
``ClusterConfig.centre_etcd``); ``teardown`` after it stops.

What each one proves:

- :class:`KillCentre`      kill -9 of a centre's process: the supervisor's crash fast path.
- :class:`RayKillCentre`   ``ray.kill`` of the centre actor: the same, as Ray itself kills.
- :class:`PauseCentre`     SIGSTOP longer than the lease TTL, then SIGCONT: a hung owner
  loses its region by lease expiry, and its writes after it resumes must be fenced.
- :class:`EtcdLinkProxy`   one centre's link to etcd cut, slowed or reset (a partition).
- :class:`KillGateway`     a gateway dies; clients move to the other one.
- :class:`EtcdMemberKill`  one member of a three-member etcd cluster dies (the leader
  too), and comes back.
- :class:`RayNodeKill`     a whole Ray node (raylet and every worker on it) dies: the
  target centre and one gateway go together, in a multi-node local Ray the drill starts
  (scenario ``ray_nodes = 3``).
- :class:`RayHeadKill`     not available; ``available`` says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import structlog

from actors.domain.commands import CreateIncident
from actors.domain.model import Position
from actors.gateway.handle import parse_name
from chaos.etcd_cluster import EtcdCluster
from chaos.gateway_probe import HealthProber, no_gateway_after, probe_gaps
from chaos.proxy import TcpProxy
from cluster.config import ClusterConfig
from cluster.errors import AmkError
from cluster.tls import console_identity

if TYPE_CHECKING:
    from clients.launcher import Deployment

log = structlog.get_logger("amk.chaos.failpoints")


class Availability(NamedTuple):
    """Whether a failpoint can run here; ``reason`` says why not (truthy when it can)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass
class FaultSpec:
    """One fault of a scenario: which failpoint, on what, when and for how long."""

    failpoint: str
    target: str = ""
    at_s: float = 0.0
    duration_s: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class DrillContext:
    """What failpoints act on; ``direct`` collects commands sent straight to an actor."""

    config: ClusterConfig
    endpoints: list[str]
    deployment: Deployment | None = None
    etcd_cluster: EtcdCluster | None = None
    direct: list[dict[str, Any]] = field(default_factory=list)
    # A multi-node local Ray (``ray.cluster_utils.Cluster``) and its worker nodes by the
    # custom resource that marks each ("node-1": its ``ray._private.node.Node``).
    ray_cluster: Any = None
    ray_nodes: dict[str, Any] = field(default_factory=dict)
    call_floor: Any = None  # clients.call_floor.CallFloor, when the scenario has [calls]


class Failpoint(ABC):
    """A fault with ``name``, ``available()``, ``inject()`` and ``recover()``."""

    name: ClassVar[str]

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.log = log.bind(failpoint=self.name, target=spec.target)

    def available(self, ctx: DrillContext) -> Availability:
        return Availability(True)

    async def setup(self, ctx: DrillContext) -> dict[str, Any]:
        """Before the deployment starts; returns ClusterConfig overrides."""
        return {}

    @abstractmethod
    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        """Apply the fault; returns details for the report."""

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        """Undo the fault where that is ours to do (a killed centre is the supervisor's)."""
        return {}

    async def teardown(self) -> None:  # noqa: B027 - optional hook, most have nothing
        """After the deployment stopped."""

    @staticmethod
    def _centre(ctx: DrillContext, centre_id: str) -> Any:
        assert ctx.deployment is not None
        if centre_id not in ctx.deployment.centres:
            raise ValueError(f"unknown centre {centre_id!r}")
        return ctx.deployment.centres[centre_id]


# ---------------------------------------------------------------- centres


class KillCentre(Failpoint):
    """kill -9 of the centre actor's process (pid from ``CentreHandle.status()``)."""

    name = "kill-centre"

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        handle = self._centre(ctx, self.spec.target)
        handle.forget()
        status = await handle.status(timeout_s=5)
        os.kill(status.pid, signal.SIGKILL)
        self.log.warning("centre_killed", pid=status.pid, regions=status.regions)
        return {"pid": status.pid, "regions": status.regions}


class RayKillCentre(Failpoint):
    """``ray.kill(actor, no_restart=False)`` through the handle: Ray ends the actor."""

    name = "ray-kill-centre"

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        handle = self._centre(ctx, self.spec.target)
        handle.forget()
        status = await handle.status(timeout_s=5)
        await handle.kill(no_restart=False)
        self.log.warning("centre_ray_killed", regions=status.regions)
        return {"pid": status.pid, "regions": status.regions}


class PauseCentre(Failpoint):
    """SIGSTOP for ``duration_s`` (longer than the lease TTL), then SIGCONT.

    With ``params.direct_writes = N`` it also sends N creates straight to the paused
    actor, past the gateway: they wait in its mailbox and run when it resumes, after its
    region went to a backup. With fencing on they must all fail; with fencing off (the
    unsafe test mode) they land with the old token, and the checker must catch them.
    """

    name = "pause-centre"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._pid = 0
        self._pending: list[asyncio.Task[dict[str, Any]]] = []

    def available(self, ctx: DrillContext) -> Availability:
        if self.spec.duration_s <= ctx.config.lease_ttl_s:
            return Availability(
                False,
                f"duration_s {self.spec.duration_s} must exceed the lease TTL "
                f"({ctx.config.lease_ttl_s} s), or the pause proves nothing",
            )
        return Availability(True)

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        handle = self._centre(ctx, self.spec.target)
        handle.forget()
        status = await handle.status(timeout_s=5)
        self._pid = status.pid
        os.kill(self._pid, signal.SIGSTOP)
        self.log.warning("centre_paused", pid=self._pid, regions=status.regions)
        for region in status.regions:
            for _ in range(int(self.spec.params.get("direct_writes", 0))):
                self._pending.append(asyncio.create_task(self._direct(ctx, handle, region)))
        return {"pid": self._pid, "regions": status.regions}

    async def _direct(self, ctx: DrillContext, handle: Any, region: str) -> dict[str, Any]:
        rid = f"direct-{uuid.uuid4().hex}"
        lat, lon = _region_point(ctx.config, region)
        cmd = CreateIncident(request_id=rid, region=region, position=Position(lat, lon))
        rec: dict[str, Any] = {
            "t": time.time(),
            "op": "create",
            "via": "direct",
            "region": region,
            "request_id": rid,
        }
        try:
            out = await handle.execute(region, cmd, timeout_s=60)
        except AmkError as err:
            rec.update(ok=False, code="direct:" + type(err).__name__, error=str(err)[:200])
        else:
            inc = out.incident
            rec.update(ok=True, incident=inc.id if inc else "", revision=inc.revision if inc else 0)
        rec["t_done"] = time.time()
        ctx.direct.append(rec)
        return rec

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGCONT)
            self.log.info("centre_resumed", pid=self._pid)
        results = await asyncio.gather(*self._pending) if self._pending else []
        return {
            "direct_writes": len(results),
            "direct_accepted": sum(1 for r in results if r.get("ok")),
        }


def _region_point(config: ClusterConfig, region: str) -> tuple[float, float]:
    """A point well inside ``region``: its first seed unit's station, else its centroid.
    Only an area region has one (an AMK-LA region has no area to write incidents in)."""
    if config.seed.is_air_region(region):
        raise ValueError(f"{region} has no area: incidents are written in area regions")
    for u in config.seed.units:
        if u.region == region:
            return u.lat, u.lon
    pts = config.seed.region(region).boundary
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


class EtcdLinkProxy(Failpoint):
    """One centre reaches etcd through a loopback TCP proxy; the fault changes its mode.

    ``params.mode``: ``blackhole`` (default), ``delay`` (with ``delay_ms``) or ``drop``.
    """

    name = "etcd-link"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self.proxy: TcpProxy | None = None

    def available(self, ctx: DrillContext) -> Availability:
        mode = self.spec.params.get("mode", "blackhole")
        if mode not in ("blackhole", "delay", "drop"):
            return Availability(False, f"unknown proxy mode {mode!r}")
        if self.spec.target not in ctx.config.centre_ids():
            return Availability(False, f"unknown centre {self.spec.target!r}")
        return Availability(True)

    async def setup(self, ctx: DrillContext) -> dict[str, Any]:
        # gRPC's pick_first channel takes one target: proxy the first endpoint only.
        self.proxy = TcpProxy(ctx.endpoints[0]).start()
        merged = {**ctx.config.centre_etcd, self.spec.target: [self.proxy.endpoint]}
        return {"centre_etcd": merged}

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        assert self.proxy is not None
        mode = self.spec.params.get("mode", "blackhole")
        delay = float(self.spec.params.get("delay_ms", 0))
        self.proxy.set_mode(mode, delay)
        return {"mode": mode, "delay_ms": delay, "proxy": self.proxy.endpoint}

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        assert self.proxy is not None
        self.proxy.set_mode("pass")
        return dict(self.proxy.stats)

    async def teardown(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()


# ---------------------------------------------------------------- gateways


class KillGateway(Failpoint):
    """Kill a gateway actor (target: its address or index); the supervisor restarts it.

    ``recover`` waits for the supervisor to serve on the address again and reports its
    ``restart_s`` (death seen -> serving again). With ``probe = true`` the drill also
    health-checks every gateway (``grpc.health.v1``, service ``""``) from just before
    the kill, every ``probe_ms`` (20), until this one answers SERVING again, and reports
    ``serving_again_s`` (kill -> SERVING on this address) and ``no_gateway_s``: the time
    with no gateway at all that the kill opened (kill -> the first SERVING answer from
    any gateway once all were down; 0 when another gateway was serving), its span
    ``no_gateway_at`` (wall clock) and ``first_back``.
    """

    name = "kill-gateway"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._restarts_before = 0
        self._killed_at = 0.0
        self._prober: HealthProber | None = None

    def _address(self, ctx: DrillContext) -> str:
        gateways = ctx.config.gateways
        t = self.spec.target or "0"
        return gateways[int(t)] if t.isdigit() else t

    def available(self, ctx: DrillContext) -> Availability:
        if len(ctx.config.gateways) < 2:
            return Availability(False, "needs two gateways, or clients have nowhere to go")
        return Availability(True)

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        assert ctx.deployment is not None
        address = self._address(ctx)
        before = await ctx.deployment.gateway_state(address)
        self._restarts_before = before.restarts
        if self.spec.params.get("probe"):
            interval = float(self.spec.params.get("probe_ms", 20)) / 1000
            self._prober = HealthProber(
                ctx.config.gateways, tls=console_identity(ctx.config), interval_s=interval
            ).start()
        handle = await ctx.deployment.gateway(address)
        self._killed_at = time.time()
        handle.kill()
        self.log.warning("gateway_killed", address=address, pid=before.pid)
        return {"address": address, "pid": before.pid}

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        """The supervisor starts the gateway again by itself: wait for it and report
        how long it took (death seen -> serving again)."""
        assert ctx.deployment is not None
        address = self._address(ctx)
        state = await ctx.deployment.wait_gateway_restarted(address, self._restarts_before)
        out: dict[str, Any] = (
            {"restart_s": state.last_restart_s, "new_pid": state.pid}
            if state is not None
            else {"restart_failed": f"{address} not serving again within 30 s"}
        )
        if self._prober is not None:
            out.update(await self._probed(address))
        return out

    async def _probed(self, address: str) -> dict[str, Any]:
        """What the health checks saw: this address serving again, and the time with
        no gateway at all."""
        assert self._prober is not None
        prober, self._prober = self._prober, None
        back = await prober.wait_serving(address, self._killed_at, timeout_s=10)
        samples = await prober.stop()
        out: dict[str, Any] = {
            "serving_again_s": None if back is None else round(back - self._killed_at, 3)
        }
        out.update(no_gateway_after(samples, prober.addresses, address, self._killed_at))
        out.update(probe_gaps(samples, address))
        return out

    async def teardown(self) -> None:
        if self._prober is not None:
            await self._prober.stop()


# ---------------------------------------------------------------- etcd members


class EtcdMemberKill(Failpoint):
    """SIGKILL of one member of the drill's three-member etcd; recover restarts it.

    target: ``leader`` (found with the Maintenance Status RPC), ``follower`` or a name.
    """

    name = "etcd-member-kill"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._member: Any = None

    def available(self, ctx: DrillContext) -> Availability:
        if ctx.etcd_cluster is None:
            return Availability(False, "needs the drill's own etcd cluster: set etcd_members = 3")
        return Availability(True)

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        assert ctx.etcd_cluster is not None
        self._member = await ctx.etcd_cluster.pick(self.spec.target or "leader")
        ctx.etcd_cluster.kill(self._member)
        return {"member": self._member.name, "endpoint": self._member.endpoint}

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        assert ctx.etcd_cluster is not None and self._member is not None
        await asyncio.to_thread(ctx.etcd_cluster.restart, self._member)
        lead = await ctx.etcd_cluster.leader()
        return {"restarted": self._member.name, "leader": lead.name if lead else ""}


# ---------------------------------------------------------------- Ray nodes


class RayNodeKill(Failpoint):
    """Kill a whole Ray node of a multi-node local Ray: the target centre's node."""

    name = "ray-node-kill"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._node_name = ""
        self._victims: dict[str, dict[str, Any]] = {}
        self._gateway_restarts: dict[str, int] = {}  # address -> restarts before the kill
        self._detect: asyncio.Task[dict[str, Any]] | None = None

    def available(self, ctx: DrillContext) -> Availability:
        if ctx.ray_cluster is None or not ctx.ray_nodes:
            return Availability(
                False,
                "needs the drill's own multi-node local Ray (ray.cluster_utils.Cluster): "
                "set ray_nodes = 3 in the scenario",
            )
        # The node may join later (the drill adds the doomed node once the rest is placed).
        if not ctx.config.centre_nodes.get(self.spec.target):
            return Availability(False, f"centre {self.spec.target!r} is not placed on a node")
        return Availability(True)

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        self._node_name = ctx.config.centre_nodes[self.spec.target]
        node = ctx.ray_nodes[self._node_name]
        # What lives there, from Ray's own actor table (not from the config): the target
        # centre and its gateway by placement, anything else Ray put there by chance.
        # The drill's Ray is its own, so every named actor in it is this deployment's.
        self._victims = {
            a["Name"]: {"pid": a.get("Pid"), "actor_id": aid}
            for aid, a in (await asyncio.to_thread(actor_table)).items()
            if a["Address"]["NodeID"] == node.node_id and a["State"] == "ALIVE"
        }
        # Restart counts before the kill: the supervisor may restart a gateway before
        # this failpoint looks again.
        self._gateway_restarts = {}
        for address in (parsed[0] for parsed in map(parse_name, self._victims) if parsed):
            self._gateway_restarts[address] = 0
            if ctx.deployment is not None:
                with contextlib.suppress(AmkError):
                    state = await ctx.deployment.gateway_state(address)
                    self._gateway_restarts[address] = state.restarts
        t_kill = time.time()
        await asyncio.to_thread(ctx.ray_cluster.remove_node, node, False)
        removed_s = time.time() - t_kill
        del ctx.ray_nodes[self._node_name]
        # Does the target still answer right after its node was killed?
        probe: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            t = time.time()
            status = await self._centre(ctx, self.spec.target).status(timeout_s=0.5)
            probe = {"answered_after_s": round(time.time() - t_kill, 3), "pid": status.pid}
            probe["call_s"] = round(time.time() - t, 3)
        self._detect = asyncio.create_task(self._until_dead(node.node_id, t_kill))
        centres = [
            n.split(":", 1)[1].rsplit("-", 1)[0] for n in self._victims if n.startswith("centre:")
        ]
        gateways = list(self._gateway_restarts)
        self.log.warning(
            "ray_node_killed", node=self._node_name, centres=centres, gateways=gateways
        )
        return {
            "node": self._node_name,
            "node_id": node.node_id,
            "centres": centres,
            "gateways": gateways,
            "actors": sorted(self._victims),
            "remove_node_s": round(removed_s, 3),
            "target_probe": probe or {"answered": False},
        }

    async def _until_dead(self, node_id: str, t_kill: float) -> dict[str, Any]:
        """When Ray reported the node, and each actor that was on it, dead."""
        out: dict[str, Any] = {"node_dead_after_s": None, "actors_dead_after_s": {}}
        ids = {v["actor_id"]: name for name, v in self._victims.items()}
        while time.time() - t_kill < 30:
            nodes, actors = await asyncio.to_thread(lambda: (_ray_nodes(), actor_table()))
            now = round(time.time() - t_kill, 2)
            if out["node_dead_after_s"] is None and any(
                n["NodeID"] == node_id and not n["Alive"] for n in nodes
            ):
                out["node_dead_after_s"] = now
            for aid, name in ids.items():
                if actors.get(aid, {}).get("State") == "DEAD":
                    out["actors_dead_after_s"].setdefault(name, now)
            if out["node_dead_after_s"] is not None and len(out["actors_dead_after_s"]) == len(ids):
                break
            await asyncio.sleep(0.2)
        return out

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        """Wait for Ray to report the deaths; with ``replace_node`` (default true) add a
        fresh worker node, then wait for the supervisor to have started the dead
        gateway(s) and centre again wherever Ray places them."""
        out = await self._detect if self._detect is not None else {}
        if not self.spec.params.get("replace_node", True) or ctx.deployment is None:
            return out
        fresh = f"{self._node_name}-new"
        # On the loop's thread: Ray's Node installs signal handlers (main thread only).
        # wait=False, then wait here without blocking the loop.
        t = time.time()
        node = ctx.ray_cluster.add_node(
            wait=False, num_cpus=0, resources={fresh: 1}, object_store_memory=NODE_OBJECT_STORE
        )
        for _ in range(300):  # up to ~60 s
            nodes = await asyncio.to_thread(_ray_nodes)
            if any(n["NodeID"] == node.node_id and n["Alive"] for n in nodes):
                break
            await asyncio.sleep(0.2)
        ctx.ray_nodes[fresh] = node
        out["added_node_s"] = round(time.time() - t, 2)
        out["added_node"] = fresh
        # The supervisor starts the dead gateway(s) again wherever Ray can place them.
        for address, before in self._gateway_restarts.items():
            state = await ctx.deployment.wait_gateway_restarted(address, before)
            if state is None:
                out.setdefault("gateway_restart_failed", []).append(address)
            else:
                out.setdefault("gateways_restarted", {})[address] = state.last_restart_s
        return out


NODE_OBJECT_STORE = 80 * 2**20  # per node of a local multi-node Ray: 3 raylets share /dev/shm


def actor_table() -> dict[str, Any]:
    """Ray's actor table from the GCS (no dashboard needed)."""
    import ray

    # ray.util.state would need the dashboard, which the drills do not start.
    return ray._private.state.actors()


def _ray_nodes() -> list[dict[str, Any]]:
    import ray

    return ray.nodes()


class RayHeadKill(Failpoint):
    """Kill the Ray head node."""

    name = "ray-head-kill"

    def available(self, ctx: DrillContext) -> Availability:
        return Availability(
            False,
            "without GCS fault tolerance (an external Redis, not set up here) the head's "
            "death ends every actor of the Ray cluster, supervisor and gateways included: "
            "what survives is etcd (every acknowledged record, the journal) and nothing "
            "serves until `amk up` runs again; regions are claimed anew on restart.",
        )

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        raise NotImplementedError(self.available(ctx).reason)


FAILPOINTS: dict[str, type[Failpoint]] = {
    cls.name: cls
    for cls in (
        KillCentre,
        RayKillCentre,
        PauseCentre,
        EtcdLinkProxy,
        KillGateway,
        EtcdMemberKill,
        RayNodeKill,
        RayHeadKill,
    )
}


def make(spec: FaultSpec) -> Failpoint:
    """The failpoint named by ``spec.failpoint``."""
    try:
        return FAILPOINTS[spec.failpoint](spec)
    except KeyError:
        raise ValueError(
            f"unknown failpoint {spec.failpoint!r}; known: {', '.join(FAILPOINTS)}"
        ) from None
