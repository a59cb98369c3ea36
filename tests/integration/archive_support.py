"""The archive tests' deployment and waits (tests/integration/test_archive.py): all
five centres and one gateway, holding closed work for no time at all
(``archive_hold_s = 0``), so an incident closed in a test is archived within a pass or
two (``archive_interval_s``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.config import ClusterConfig
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.keys import Keys
from tests.conftest import RunningCluster
from tests.helpers import key_prefix_for, rid, session_pki

OSLO = pb.Position(lat=59.91, lon=10.75)
SETTLE_S = 30.0  # how long a test waits for the archiver before it fails


@pytest_asyncio.fixture(scope="module", loop_scope="session", name="cluster")
async def archive_cluster(
    etcd_server: EmbeddedEtcd, ray_session: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningCluster]:
    """All five centres and one gateway, archiving closed work at once: the ``cluster``
    of each module that imports it (one deployment per module)."""
    from clients.launcher import Deployment

    tag = uuid.uuid4().hex[:8]
    home = tmp_path_factory.mktemp("archive-home")
    config = ClusterConfig.load(
        home=home,
        key_prefix=key_prefix_for("a"),
        pki_dir=session_pki(),
        ray_namespace=f"amk-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}"],
        archive_hold_s=0.0,
        journal_hold_s=0.0,
        request_retention_s=0.0,
        archive_interval_s=0.2,
        archive_crash_file=home / "crash-once",
    )
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    yield RunningCluster(config, deployment, etcd_server.endpoint)
    await deployment.stop()


async def eventually(check, what: str, timeout_s: float = SETTLE_S):
    """Poll ``check`` (an async callable returning a truthy value) until it holds."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s}s: {what}")
        await asyncio.sleep(0.1)


async def closed_incident(stub, note: str) -> pb.Incident:
    """An incident created, triaged, noted and closed through the gateway."""
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=OSLO, address=note),
        timeout=10,
    )
    await stub.TriageIncident(
        pb.TriageIncidentRequest(request_id=rid(), incident_id=inc.id, criteria_code="A.11.01"),
        timeout=10,
    )
    await stub.AddIncidentNote(
        pb.AddIncidentNoteRequest(request_id=rid(), incident_id=inc.id, text=note), timeout=10
    )
    return await stub.ChangeIncidentStatus(
        pb.ChangeIncidentStatusRequest(
            request_id=rid(), incident_id=inc.id, status=pb.INCIDENT_STATUS_CLOSED
        ),
        timeout=10,
    )


async def gone_from_etcd(etcd, keys: Keys, incident_id: str, region: str = "oslo") -> bool:
    kv = await etcd.get(keys.incident(region, incident_id))
    if kv is not None:
        return False
    journal, _ = await etcd.get_prefix(keys.journal_prefix(region))
    return not any(incident_id in json.dumps(json.loads(j.value).get("keys")) for j in journal)
