"""Session-wide real services: one etcd server and one local Ray cluster per test run.

Each test (or test module, for a deployment) works under its own etcd key prefix and
Ray namespace, so tests do not see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from tests.helpers import make_config

os.environ.setdefault("RAY_DEDUP_LOGS", "0")


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEtcd]:
    d = tmp_path_factory.mktemp("etcd")
    server = EmbeddedEtcd(d / "data", client_port=find_free_port(), log_file=d / "etcd.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    import ray

    ray.init(
        include_dashboard=False,
        log_to_driver=False,
        namespace="amk-tests",
        configure_logging=False,
    )
    yield
    ray.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def etcd(etcd_server: EmbeddedEtcd) -> AsyncIterator[EtcdClient]:
    client = EtcdClient([etcd_server.endpoint])
    yield client
    await client.close()


@pytest.fixture
def prefix() -> str:
    return f"/t/{uuid.uuid4().hex[:10]}/"


@dataclass
class RunningCluster:
    """A deployment (centres + gateways) inside the session's Ray and etcd."""

    config: ClusterConfig
    deployment: object  # clients.launcher.Deployment
    endpoint: str

    @property
    def gateway(self) -> str:
        return self.config.gateways[0]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster(
    etcd_server: EmbeddedEtcd, ray_session: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningCluster]:
    """All five centres and two gateways, shared by the tests of one module."""
    from clients.launcher import Deployment

    tag = uuid.uuid4().hex[:8]
    config = make_config(tmp_path_factory.mktemp("home"), f"/c/{tag}/", f"amk-{tag}", 2)
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    yield RunningCluster(config, deployment, etcd_server.endpoint)
    await deployment.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def stub(cluster: RunningCluster):
    """An async gRPC stub on the deployment's first gateway."""
    import grpc

    from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

    channel = grpc.aio.insecure_channel(cluster.gateway)
    yield pb_grpc.DispatchServiceStub(channel)
    await channel.close()


@pytest_asyncio.fixture(loop_scope="session")
async def coord(cluster: RunningCluster):
    """An async stub of the supervisors' CoordinationService on the first gateway."""
    import grpc

    from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc

    channel = grpc.aio.insecure_channel(cluster.gateway)
    yield cpb_grpc.CoordinationServiceStub(channel)
    await channel.close()
