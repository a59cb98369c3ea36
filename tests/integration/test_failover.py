"""High availability against real etcd and Ray: a centre killed or paused while a client
writes to its region. The backup takes over; nothing acknowledged is lost or doubled;
the deposed owner cannot write."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid

import pytest

from actors.domain.commands import CreateIncident
from actors.domain.model import Position
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError
from cluster.keys import Keys
from tests.helpers import assert_eventually
from tests.integration.support import Writer, check_nothing_lost, owner_of
from tests.integration.support import two_gateways as cluster_gateways  # noqa: F401

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]


async def test_kill_9_of_a_centre_fails_over_at_once_and_loses_nothing(cluster, stub, etcd):
    keys = Keys(cluster.config.key_prefix)
    region = "oslo"
    assert (await owner_of(etcd, keys, region))[0] == "oslo"
    pid = await cluster.deployment.centres["oslo"].pid()
    writer = Writer(stub, region)
    writer.start()

    async def some_acked() -> None:
        assert len(writer.acked) >= 20

    await assert_eventually(some_acked, timeout_s=30)
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)

    async def backup_serves() -> None:
        centre, _, _ = await owner_of(etcd, keys, region)
        assert centre == "vestre-viken"  # first in Oslo's backup line
        assert [t for _, _, t in writer.acked if t > killed_at + 0.05][:20][19:]

    await assert_eventually(backup_serves, timeout_s=30)
    await writer.stop()
    first_after = min(t for _, _, t in writer.acked if t > killed_at)
    print(
        f"\nkill -9 -> first acknowledged write in {region}: "
        f"{(first_after - killed_at) * 1000:.1f} ms ({len(writer.acked)} acked)"
    )
    assert writer.failed == [], "a client call failed during failover"
    await check_nothing_lost(etcd, keys, writer)
    # The owners' status tells a failover from a planned hand-over.
    status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
    r = next(r for r in status.regions if r.id == region)
    assert (r.last_takeover_by, r.last_takeover_from) == ("vestre-viken", "oslo"), r
    assert not r.last_takeover_handed and "took over from oslo" in r.last_takeover, r

    # The supervisor starts the dead centre again; it rejoins as a standby.
    async def restarted_as_standby() -> None:
        cluster.deployment.centres["oslo"].forget()
        try:
            status = await cluster.deployment.centres["oslo"].status(timeout_s=2)
        except AmkError as err:
            raise AssertionError(f"not back yet: {err}") from err
        assert status.pid != pid and "oslo" not in status.regions

    await assert_eventually(restarted_as_standby, timeout_s=60)
    events = await cluster.deployment.supervisor.events()
    assert any(e.centre == "oslo" and "oslo" in e.revoked_regions for e in events)


async def test_paused_owner_is_replaced_and_fenced_after_it_resumes(cluster, stub, etcd):
    keys = Keys(cluster.config.key_prefix)
    region = "sorlandet"
    centre, old_instance, old_token = await owner_of(etcd, keys, region)
    assert centre == "sorlandet"
    handle = cluster.deployment.centres["sorlandet"]
    pid = await handle.pid()
    writer = Writer(stub, region)
    writer.start(2)

    # Commands sent straight to the paused centre (bypassing the gateway): they sit in
    # its mailbox while it is stopped and run when it resumes.
    async def direct(i: int):
        cmd = CreateIncident(
            request_id=f"direct-{uuid.uuid4().hex}", region=region, position=Position(58.146, 7.995)
        )
        try:
            return await handle.execute(region, cmd, timeout_s=60)
        except AmkError as err:
            return err

    async def some_acked() -> None:
        assert len(writer.acked) >= 10

    await assert_eventually(some_acked, timeout_s=30)
    stopped_at = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        pending = [asyncio.create_task(direct(i)) for i in range(5)]

        async def backup_took_over() -> None:
            now_centre, _, _ = await owner_of(etcd, keys, region)
            assert now_centre == "vestfold-telemark"  # first in Sørlandet's backup line
            assert [t for _, _, t in writer.acked if t > stopped_at][:5][4:]

        await assert_eventually(backup_took_over, timeout_s=30)
        _, _, new_token = await owner_of(etcd, keys, region)
        took = time.monotonic() - stopped_at
        print(
            f"\nSIGSTOP -> backup owns {region} after {took:.2f} s "
            f"(lease TTL {cluster.config.lease_ttl_s} s)"
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    results = await asyncio.gather(*pending)
    assert all(isinstance(r, AmkError) for r in results), results
    await writer.stop()
    assert writer.failed == []
    await check_nothing_lost(etcd, keys, writer)

    # The journal shows no write by the old owner after the new owner's claim.
    journal, _ = await etcd.get_prefix(keys.journal_prefix(region))
    late = [
        json.loads(j.value)
        for j in journal
        if j.mod_revision > new_token
        and (
            json.loads(j.value)["writer"] == old_instance
            or json.loads(j.value)["tokens"].get(region) == old_token
        )
    ]
    assert late == []

    async def resumed_as_standby() -> None:
        status = await handle.status(timeout_s=2)
        assert status.instance == old_instance and region not in status.regions
        assert status.lease_valid_for_s > 0  # a new session: it is a standby now

    await assert_eventually(resumed_as_standby, timeout_s=30)


async def test_supervisor_killed_comes_back_and_adopts_the_live_actors(cluster, stub):
    """The launcher starts a dead supervisor again; the new one adopts the centres and
    gateways still alive (they are detached) and keeps supervising them."""
    deployment = cluster.deployment
    pids = {c: (await h.status(timeout_s=5)).pid for c, h in deployment.centres.items()}
    gateways = {g.address: g.pid for g in await deployment.gateway_states()}
    old = await deployment.supervisor.pid()
    restarts = deployment.supervisor_restarts
    os.kill(old, signal.SIGKILL)

    async def back() -> None:
        assert deployment.supervisor_restarts == restarts + 1
        assert await deployment.supervisor.pid() != old

    await assert_eventually(back, timeout_s=60)
    # Nothing was restarted: every centre and gateway is the process it was.
    for centre, handle in deployment.centres.items():
        handle.forget()
        assert (await handle.status(timeout_s=5)).pid == pids[centre]
    assert {g.address: g.pid for g in await deployment.gateway_states()} == gateways
    # The new supervisor watches the adopted gateway: killed, it is started again.
    address = cluster.config.gateways[0]
    (await deployment.gateway(address)).kill()

    async def gateway_back() -> None:
        state = {g.address: g for g in await deployment.gateway_states()}[address]
        assert state.alive and state.restarts >= 1 and state.pid != gateways[address]

    await assert_eventually(gateway_back, timeout_s=30)
    status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
    assert {g.address for g in status.gateways} == set(gateways)
