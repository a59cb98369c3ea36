"""The dispatch services run at the machine's normal priority: a local Ray starts its
workers at niceness 15 unless told otherwise (cluster/ray_local.services_first), and at
15 any ordinary process on the machine takes the CPU from the gateway, the centres and
the supervisor first."""

from __future__ import annotations

import os

import pytest
import ray

from clients.ray_join import niceness_warnings, worker_niceness

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_gateway_centres_and_supervisor_run_at_niceness_0(cluster) -> None:
    deployment = cluster.deployment
    pids = {f"centre {c}": await h.pid() for c, h in deployment.centres.items()}
    pids["supervisor"] = await deployment.supervisor.pid()
    pids |= {f"gateway {g.address}": g.pid for g in await deployment.gateway_states()}
    niceness = {who: os.getpriority(os.PRIO_PROCESS, pid) for who, pid in pids.items()}
    assert niceness == dict.fromkeys(pids, 0)


async def test_a_joined_rays_worker_niceness_is_read_on_every_node(cluster) -> None:
    """What ``amk up --ray-address`` reports: the session's local Ray, one node, at 0."""
    found = worker_niceness()
    assert len(found) == len([n for n in ray.nodes() if n.get("Alive")]) >= 1
    assert set(found.values()) == {0}
    assert niceness_warnings(found) == []
