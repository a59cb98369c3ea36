"""No failed call during a failover: raw gRPC clients (``grpc.aio`` stubs, no retries of
their own, a 10 s deadline) write to a region while its owner is killed with SIGKILL,
stopped with SIGSTOP, or handed over and back by a supervisor. The gateway must wait
for the new owner within each call's deadline: every answer is OK, and every
acknowledged create exists exactly once.

The tests share one deployment (the module's ``cluster``) and run in file order: the
hand-over test leaves Oslo with its home centre, the kill test hands Oslo back to its
home centre once the restarted one is a standby, the SIGSTOP test works on Sørlandet.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from amk.coordination.v1 import coordination_pb2 as cpb
from cluster.errors import AmkError
from cluster.keys import Keys
from tests.helpers import assert_eventually, rid
from tests.integration.support import Writer, check_nothing_lost, owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]

DEADLINE_S = 10.0  # each raw call's deadline: the gateway may use all of it to wait
WRITERS = 6  # concurrent raw writers: several calls are in flight at every fault


def raw_writer(stub, region: str) -> Writer:
    writer = Writer(stub, region, timeout_s=DEADLINE_S)
    writer.start(WRITERS)
    return writer


async def acked_after(writer: Writer, since: float, n: int) -> None:
    assert len([t for _, _, t in writer.acked if t > since]) >= n


def no_errors(writer: Writer) -> None:
    assert writer.errors == [], f"non-OK answers to a raw client: {writer.error_summary()}"


async def test_hand_over_and_back_raw_client_sees_no_error(cluster, stub, coord, etcd):
    keys = Keys(cluster.config.key_prefix)
    region = "oslo"
    assert (await owner_of(etcd, keys, region))[0] == "oslo"
    writer = raw_writer(stub, region)
    await assert_eventually(lambda: acked_after(writer, 0.0, 20), timeout_s=30)
    for to in ("vestre-viken", "oslo", "vestre-viken"):
        moved_at = time.monotonic()
        if to == "oslo":
            req = cpb.HandBackRegionRequest(request_id=rid(), region=region)
            status = await coord.HandBackRegion(req, timeout=15)
        else:
            req = cpb.HandOverRegionRequest(request_id=rid(), region=region, to_centre=to)
            status = await coord.HandOverRegion(req, timeout=15)
        assert status.owner_centre == to
        await assert_eventually(lambda t=moved_at: acked_after(writer, t, 20), timeout_s=30)
    back = await coord.HandBackRegion(
        cpb.HandBackRegionRequest(request_id=rid(), region=region), timeout=15
    )
    assert back.owner_centre == "oslo"
    await writer.stop()
    no_errors(writer)
    await check_nothing_lost(etcd, keys, writer)


async def test_kill_9_raw_client_sees_no_error(cluster, stub, coord, etcd):
    keys = Keys(cluster.config.key_prefix)
    region = "oslo"
    handle = cluster.deployment.centres["oslo"]
    assert (await owner_of(etcd, keys, region))[0] == "oslo"
    pid = await handle.pid()
    writer = raw_writer(stub, region)
    await assert_eventually(lambda: acked_after(writer, 0.0, 20), timeout_s=30)
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)

    async def backup_serves() -> None:
        assert (await owner_of(etcd, keys, region))[0] == "vestre-viken"
        await acked_after(writer, killed_at, 20)

    await assert_eventually(backup_serves, timeout_s=30)

    # The restarted centre is a standby; hand Oslo back to it, still under load.
    async def restarted_as_standby() -> None:
        handle.forget()
        try:
            status = await handle.status(timeout_s=2)
        except AmkError as err:
            raise AssertionError(f"not back yet: {err}") from err
        assert status.pid != pid and status.lease_valid_for_s > 0

    await assert_eventually(restarted_as_standby, timeout_s=60)
    back = await coord.HandBackRegion(
        cpb.HandBackRegionRequest(request_id=rid(), region=region), timeout=15
    )
    assert back.owner_centre == "oslo"
    handed_at = time.monotonic()
    await assert_eventually(lambda: acked_after(writer, handed_at, 20), timeout_s=30)
    await writer.stop()
    no_errors(writer)
    await check_nothing_lost(etcd, keys, writer)


async def test_sigstop_raw_client_sees_no_error(cluster, stub, etcd):
    keys = Keys(cluster.config.key_prefix)
    region = "sorlandet"
    handle = cluster.deployment.centres["sorlandet"]
    centre, old_instance, _ = await owner_of(etcd, keys, region)
    assert centre == "sorlandet"
    pid = await handle.pid()
    writer = raw_writer(stub, region)
    await assert_eventually(lambda: acked_after(writer, 0.0, 20), timeout_s=30)
    stopped_at = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:

        async def backup_serves() -> None:
            assert (await owner_of(etcd, keys, region))[0] == "vestfold-telemark"
            await acked_after(writer, stopped_at, 20)

        await assert_eventually(backup_serves, timeout_s=30)
    finally:
        os.kill(pid, signal.SIGCONT)

    # The paused centre resumes as a standby (fenced, a new session); writes go on.
    async def resumed_as_standby() -> None:
        status = await handle.status(timeout_s=2)
        assert status.instance == old_instance and region not in status.regions
        assert status.lease_valid_for_s > 0

    await assert_eventually(resumed_as_standby, timeout_s=30)
    resumed_at = time.monotonic()
    await assert_eventually(lambda: acked_after(writer, resumed_at, 20), timeout_s=30)
    await writer.stop()
    no_errors(writer)
    await check_nothing_lost(etcd, keys, writer)
