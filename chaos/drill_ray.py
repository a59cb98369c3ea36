"""The multi-node local Ray of a drill (scenario ``ray_nodes >= 2``): where each centre
and gateway is pinned, the node to be killed joining last, and the proof of placement
from Ray's actor table. Moved out of :mod:`chaos.drill` so the runner reads as a run."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import structlog

from chaos.failpoints import NODE_OBJECT_STORE, DrillContext, actor_table

if TYPE_CHECKING:
    from chaos.failpoints import FaultSpec
    from clients.launcher import Deployment

log = structlog.get_logger("amk.chaos.drill")


def node_names(ray_nodes: int) -> list[str]:
    """The custom resources marking the worker nodes of a multi-node drill Ray."""
    return [f"node-{i}" for i in range(1, ray_nodes)]


def placement(
    ray_nodes: int, faults: list[FaultSpec], centres: list[str], gateways: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """``centre_nodes`` and ``gateway_nodes`` for a multi-node drill: the target centre of
    the (first) ``ray-node-kill`` fault and the first gateway on ``node-1``, the node to
    be killed; the other centres spread over the other nodes (the head included, where
    they go unpinned: the head has no custom resource), the other gateways on the other
    workers. Empty with one node."""
    workers = node_names(ray_nodes)
    if not workers:
        return {}, {}
    targets = [f.target for f in faults if f.failpoint == "ray-node-kill"]
    target = targets[0] if targets and targets[0] in centres else centres[0]
    doomed, others = workers[0], [*workers[1:], None]  # None: the head
    centre_nodes = {target: doomed}
    for i, cid in enumerate(c for c in centres if c != target):
        if (node := others[i % len(others)]) is not None:
            centre_nodes[cid] = node
    gateway_nodes = {gateways[0]: doomed} if gateways else {}
    for i, address in enumerate(gateways[1:]):
        if workers[1:]:
            gateway_nodes[address] = workers[1:][i % len(workers[1:])]
    return centre_nodes, gateway_nodes


async def start_then_join(deployment: Deployment, ctx: DrillContext) -> None:
    """Start the deployment while the node to be killed is not yet in the cluster, and
    let it join once the supervisor and every centre not pinned to it are placed: Ray
    puts unpinned actors on any node (the head has no custom resource to prefer), and
    the supervisor on the doomed node would take every centre with it (it owns them).
    The pinned centre waits for the node as for any missing resource."""
    doomed = sorted(set(ctx.config.centre_nodes.values()) - set(ctx.ray_nodes))
    if not doomed:
        await deployment.start()
        return
    elsewhere = {c for c in ctx.config.centre_ids() if ctx.config.centre_nodes.get(c) not in doomed}
    task = asyncio.create_task(deployment.start())
    for _ in range(300):  # up to ~60 s
        alive = {
            a["Name"]
            for a in (await asyncio.to_thread(actor_table)).values()
            if a["State"] == "ALIVE"
        }
        placed = {n.split(":", 1)[1].rsplit("-", 1)[0] for n in alive if n.startswith("centre:")}
        if task.done() or ("supervisor" in alive and elsewhere <= placed):
            break
        await asyncio.sleep(0.2)
    for name in doomed:
        # On the loop's thread: Ray's Node installs signal handlers (main thread only).
        ctx.ray_nodes[name] = ctx.ray_cluster.add_node(
            num_cpus=0, resources={name: 1}, object_store_memory=NODE_OBJECT_STORE
        )
    await task


def placement_seen(cluster: Any, nodes: dict[str, Any] | None) -> dict[str, list[str]]:
    """Which node each live actor runs on, from Ray's actor table: the proof of the
    placement (unpinned actors go where Ray likes)."""
    import ray

    by_id = {cluster.head_node.node_id: "head"}
    by_id.update({n.node_id: name for name, n in (nodes or {}).items()})
    out: dict[str, list[str]] = {}
    for a in ray._private.state.actors().values():
        if a["State"] == "ALIVE":
            node = by_id.get(a["Address"]["NodeID"], a["Address"]["NodeID"][:8])
            out.setdefault(node, []).append(a["Name"] or a["ActorClassName"])
    return {k: sorted(v) for k, v in sorted(out.items())}


def start_ray_cluster(n: int) -> tuple[Any, dict[str, Any]]:
    """A local multi-node Ray: the head (no custom resource) and ``n - 1`` workers, each
    marked by its own resource; ``node-1``, the one a drill kills, joins later (see
    :func:`start_then_join`). Every AMK actor asks for num_cpus=0: the workers get no
    CPUs (no idle worker processes started for them) and small object stores."""
    from ray.cluster_utils import Cluster

    started = time.monotonic()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "object_store_memory": NODE_OBJECT_STORE,
            "include_dashboard": False,
        },
    )
    try:
        nodes = {
            name: cluster.add_node(
                num_cpus=0, resources={name: 1}, object_store_memory=NODE_OBJECT_STORE
            )
            for name in node_names(n)[1:]
        }
    except BaseException:
        cluster.shutdown()
        raise
    log.info("ray_cluster_up", nodes=n, seconds=round(time.monotonic() - started, 2))
    return cluster, nodes
