"""Session-wide real services: one etcd server, one local Ray cluster and (for the
archive tests) one PostgreSQL server per test run, each started only when a test asks.

Each test (or test module, for a deployment) works under its own etcd key prefix and
Ray namespace, and its own PostgreSQL schema, so tests do not see each other's data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cluster.archive import ArchiveStore, open_archive
from cluster.archive.pg_server import EmbeddedPostgres
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.etcd_auth import ensure_etcd_auth_sync
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.etcd_tls import identity_files
from cluster.pki import LocalIdentities, local_identities
from cluster.ray_local import loopback_only, services_first
from cluster.tls import console_identity, open_channel
from tests.helpers import (
    TEST_ACCESS_TABLE,
    TEST_KEY_ROOT,
    key_prefix_for,
    make_config,
    session_pki,
    session_token,
)

os.environ.setdefault("RAY_DEDUP_LOGS", "0")


@pytest.fixture(scope="session", autouse=True)
def _session_pki_removed() -> Iterator[None]:
    """The session's CA folder (tests.helpers.session_pki) goes when the session ends."""
    yield
    if session_pki.cache_info().currsize:
        shutil.rmtree(session_pki(), ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def pki() -> Iterator[LocalIdentities]:
    """The session's one local CA and its certificates (tests.helpers.session_pki): the
    session etcd trusts it, every deployment of the session runs with mutual TLS on it
    (``make_config`` points ``pki_dir`` here), and every client, in this process or an
    ``amk`` subprocess, finds the console identity through ``AMK_PKI``. Tests of the
    insecure mode say so explicitly.

    Identities are on too (issue #13): every deployment of the session enforces the
    suite's role table (``AMK_ACCESS_TABLE``, tests/data/access_tests.toml: the shipped
    table plus a role that may call everything), and every client sends the session's
    token of that role (``AMK_TOKEN``; the test channels carry it, see ``stub``).
    tests/integration/test_authz.py tests the shipped table itself."""
    folder = session_pki()
    identities = local_identities(folder)
    env = {
        "AMK_PKI": str(folder),
        "AMK_ACCESS_TABLE": str(TEST_ACCESS_TABLE),
        "AMK_TOKEN": session_token(),
        # No web console for the suite's `amk up`s: several run at once, and port 8080
        # may be anybody's (tests/integration/test_web_api.py starts its own).
        "AMK_WEB": "off",
    }
    before = {name: os.environ.get(name) for name in (*env, "AMK_SEED")}
    os.environ.update(env)
    # The suite's deployments run the seed each test names (default: Helse Sør-Øst's),
    # not a national one a developer's shell may export for its own `amk up`.
    os.environ.pop("AMK_SEED", None)
    yield identities
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEtcd]:
    """The session's etcd, secured as ``amk up`` secures it: TLS on client and peer
    ports, client certificates from the session CA, auth on, and the user ``amk``
    granted :data:`TEST_KEY_ROOT` only (every test prefix is under it)."""
    d = tmp_path_factory.mktemp("etcd")
    pki = identity_files(session_pki(), "server")
    server = EmbeddedEtcd(
        d / "data", tls=pki, client_port=find_free_port(), log_file=d / "etcd.log"
    )
    server.start()
    try:
        root = identity_files(session_pki(), "root")
        ensure_etcd_auth_sync([server.endpoint], root, TEST_KEY_ROOT)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL (Debian's binaries; ``./dev setup`` installs them). Without
    them this fixture raises ConfigError saying so: the tests error, they do not skip."""
    # Not under tmp_path_factory: as root the server runs as ``postgres``, which cannot
    # enter pytest's /tmp/pytest-of-root (mode 0700).
    base = Path(tempfile.mkdtemp(prefix="amk-pg-"))
    server = EmbeddedPostgres(base, port=find_free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'archive.db'}"
        return
    import psycopg

    server: EmbeddedPostgres = request.getfixturevalue("postgres_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{server.url}?options=-csearch_path%3D{schema}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def open_store(archive_url: str) -> Iterator[Callable[[], ArchiveStore]]:
    """Opens more handles on the test's archive database; all closed at the end."""
    opened: list[ArchiveStore] = []

    def open_one() -> ArchiveStore:
        store = open_archive(archive_url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def archive(open_store: Callable[[], ArchiveStore]) -> ArchiveStore:
    """An archive on an empty database (not migrated), on each backend in turn."""
    return open_store()


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    import ray

    loopback_only()
    services_first()
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
    client = EtcdClient([etcd_server.endpoint], tls=identity_files(session_pki(), "user"))
    yield client
    await client.close()


@pytest.fixture
def prefix() -> str:
    return key_prefix_for("t")


@dataclass
class RunningCluster:
    """A deployment (centres + gateways) inside the session's Ray and etcd."""

    config: ClusterConfig
    deployment: object  # clients.launcher.Deployment
    endpoint: str

    @property
    def gateway(self) -> str:
        return self.config.gateways[0]


@pytest.fixture(scope="module")
def cluster_settings() -> dict[str, Any]:
    """Settings the module's ``cluster`` gets on top of the tests' defaults; a package's
    conftest overrides this (the browser tests: partner centres that take alerts)."""
    return {}


@pytest.fixture(scope="module")
def cluster_gateways() -> int:
    """How many gateways the module's ``cluster`` runs: one, unless the module tests
    what a second one is for (serving the same data, a client moving to it when its
    own dies, a revocation reaching every gateway) and overrides this with 2.

    Each gateway is one more Ray worker started (about a second of CPU on the
    suite's two cores) and kept busy for the module's life, in some sixty modules."""
    return 1


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster(
    etcd_server: EmbeddedEtcd,
    ray_session: None,
    tmp_path_factory: pytest.TempPathFactory,
    cluster_settings: dict[str, Any],
    cluster_gateways: int,
) -> AsyncIterator[RunningCluster]:
    """All five centres and ``cluster_gateways`` gateways, shared by the tests of one
    module."""
    from clients.launcher import Deployment

    tag = uuid.uuid4().hex[:8]
    home = tmp_path_factory.mktemp("home")
    config = make_config(
        home, key_prefix_for("c"), f"amk-{tag}", cluster_gateways, **cluster_settings
    )
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    yield RunningCluster(config, deployment, etcd_server.endpoint)
    await deployment.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def stub(cluster: RunningCluster):
    """An async gRPC stub on the deployment's first gateway (mutual TLS, the console's
    certificate, the session's token on every call)."""
    from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

    channel = open_channel(cluster.gateway, console_identity(cluster.config), token=session_token())
    yield pb_grpc.DispatchServiceStub(channel)
    await channel.close()


@pytest_asyncio.fixture(loop_scope="session")
async def coord(cluster: RunningCluster):
    """An async stub of the supervisors' CoordinationService on the first gateway."""
    from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc

    channel = open_channel(cluster.gateway, console_identity(cluster.config), token=session_token())
    yield cpb_grpc.CoordinationServiceStub(channel)
    await channel.close()
