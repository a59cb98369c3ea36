"""Automatic handback (off by default): a home centre that comes back takes its region
back after a stable period, and consoles are told who serves a region."""

from __future__ import annotations

import os
import signal
import uuid

import pytest
import pytest_asyncio

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.launcher import Deployment
from cluster.config import ClusterConfig
from cluster.errors import AmkError
from cluster.keys import Keys
from cluster.tls import client_identity, open_channel
from tests.helpers import (
    assert_eventually,
    find_free_port,
    key_prefix_for,
    session_pki,
    session_token,
)
from tests.integration.support import owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def handback_cluster(etcd_server, ray_session, tmp_path_factory):
    tag = uuid.uuid4().hex[:8]
    config = ClusterConfig.load(
        home=tmp_path_factory.mktemp("home"),
        key_prefix=key_prefix_for("hb"),
        pki_dir=session_pki(),
        ray_namespace=f"amk-hb-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}"],
        auto_handback_after_s=1.0,
    )
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    yield config, deployment
    await deployment.stop()


async def test_auto_handback_is_off_by_default(tmp_path):
    assert ClusterConfig.load(home=tmp_path).auto_handback_after_s is None


async def test_restarted_home_centre_takes_its_region_back(handback_cluster, etcd):
    config, deployment = handback_cluster
    keys = Keys(config.key_prefix)
    channel = open_channel(config.gateways[0], client_identity(), token=session_token())
    stub = pb_grpc.DispatchServiceStub(channel)
    board = stub.Watch(pb.WatchRequest(regions=["sorlandet"]), timeout=60)
    async for ev in board:
        if ev.kind == pb.WatchEvent.KIND_SNAPSHOT_DONE:
            break
    pid = await deployment.centres["sorlandet"].pid()
    os.kill(pid, signal.SIGKILL)
    messages = []
    async for ev in board:
        if ev.kind == pb.WatchEvent.KIND_REGION_OWNER_CHANGED and ev.region_status.owner_centre:
            messages.append(ev.message)
            if ev.region_status.owner_centre == "sorlandet":
                break
    board.cancel()
    # First the backup, then (after the restart and a stable second) the home centre.
    assert messages[0] == "Region Agder now served by AMK Vestfold og Telemark"
    assert messages[-1] == "Region Agder now served by AMK Sørlandet"

    async def home_again() -> None:
        centre, _, _ = await owner_of(etcd, keys, "sorlandet")
        assert centre == "sorlandet"
        try:
            status = await deployment.centres["sorlandet"].status(timeout_s=2)
        except AmkError as err:
            raise AssertionError(str(err)) from err
        assert "sorlandet" in status.regions and status.pid != pid

    await assert_eventually(home_again, timeout_s=30)
    # The owners' status says it came back by hand-over, not by a failover.
    status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
    r = next(r for r in status.regions if r.id == "sorlandet")
    parts = (r.last_takeover_by, r.last_takeover_from, r.last_takeover_handed)
    assert parts == ("sorlandet", "vestfold-telemark", True), r
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=uuid.uuid4().hex, region="sorlandet", position=pb.Position(lat=58.1, lon=8.0)
        ),
        timeout=10,
    )
    assert inc.region == "sorlandet"
    await channel.close()
