"""Mutual TLS on the gateways' and the centres' link ports (issue #13), end to end.

A client gets anything only with a certificate from the cluster's CA: plaintext, a
certificate from another CA, or no client certificate at all is refused at the
handshake, before any handler runs. The certificate's common name reaches the handlers
(``cluster.tls.peer_common_name``): a centre's link serves the cluster's service identity
only, and names any other certificate it refuses. Insecure (development only) is
explicit, and ``GetClusterStatus`` says so.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from actors.centre import wire
from actors.centre.link import EXECUTE
from actors.gateway.server import Gateway
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from amk.internal.v1 import centre_pb2 as ipb
from clients.client import AmkClient, AmkClientError
from clients.up_tls import issue_crew
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.keys import Keys
from cluster.ownership import OwnerRecord
from cluster.pki import LocalCa, LocalIdentities, TlsFiles
from cluster.tls import (
    bind,
    console_identity,
    https_client_context,
    open_channel,
    peer_common_name,
    service_identity,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

REFUSED = grpc.StatusCode.UNAVAILABLE  # a failed handshake: the call never reached anyone


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A console certificate from another CA, trusting our CA (so only our server's
    check of the client certificate can refuse it)."""
    folder = tmp_path_factory.mktemp("other-ca")
    files = LocalCa(folder).issue("console", "console")
    return files


def _with_our_ca(files: TlsFiles, ours: TlsFiles) -> grpc.ChannelCredentials:
    _, cert, key = files.read()
    return grpc.ssl_channel_credentials(ours.ca.read_bytes(), key, cert)


async def _health(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=5
    )
    return reply.status


async def _refused(channel: grpc.aio.Channel) -> grpc.StatusCode:
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _health(channel)
    return err.value.code()


async def _link_address(cluster, etcd) -> OwnerRecord:
    kv = await etcd.get(Keys(cluster.config.key_prefix).owner("oslo"))
    assert kv is not None
    record = OwnerRecord.decode(kv.value)
    assert record.address, "the centre's link is on (centre_link = grpc)"
    return record


async def _execute_none(channel: grpc.aio.Channel, instance: str) -> ipb.ExecuteResponse:
    call = channel.unary_unary(
        EXECUTE,
        request_serializer=ipb.ExecuteRequest.SerializeToString,
        response_deserializer=ipb.ExecuteResponse.FromString,
    )
    request = ipb.ExecuteRequest(instance=instance, commands=wire.dumps([]))
    return await call(request, timeout=5)


async def test_the_console_certificate_is_served(cluster, stub, pki: LocalIdentities):
    assert await _health(open_channel(cluster.gateway, pki.console)) == 1  # SERVING
    status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
    assert not status.insecure and status.centres


async def test_a_plaintext_client_gets_nothing_from_a_gateway(cluster):
    assert await _refused(grpc.aio.insecure_channel(cluster.gateway)) == REFUSED


async def test_another_cas_certificate_is_refused_by_a_gateway(cluster, stranger, pki):
    channel = grpc.aio.secure_channel(cluster.gateway, _with_our_ca(stranger, pki.console))
    assert await _refused(channel) == REFUSED


async def test_a_client_without_a_certificate_is_refused_by_a_gateway(cluster, pki):
    creds = grpc.ssl_channel_credentials(pki.console.ca.read_bytes())
    assert await _refused(grpc.aio.secure_channel(cluster.gateway, creds)) == REFUSED


async def test_a_client_that_does_not_trust_our_ca_gets_nothing(cluster, stranger):
    """The other way round: a client trusting only its own CA refuses our gateway."""
    assert await _refused(open_channel(cluster.gateway, stranger)) == REFUSED


async def test_the_centre_link_refuses_plaintext_and_strangers(cluster, etcd, stranger, pki):
    record = await _link_address(cluster, etcd)
    for channel in (
        grpc.aio.insecure_channel(record.address),
        grpc.aio.secure_channel(record.address, _with_our_ca(stranger, pki.console)),
        grpc.aio.secure_channel(
            record.address, grpc.ssl_channel_credentials(pki.console.ca.read_bytes())
        ),
    ):
        async with channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await _execute_none(channel, record.instance)
            assert err.value.code() == REFUSED


async def test_the_centre_link_serves_the_service_identity_only(cluster, etcd, pki):
    """The peer's certificate name reaches the link's handler: our own console
    certificate (right CA, wrong identity) is refused by name; the service's is served."""
    record = await _link_address(cluster, etcd)
    async with open_channel(record.address, pki.console) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _execute_none(channel, record.instance)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'console'" in err.value.details()
    async with open_channel(record.address, service_identity(cluster.config)) as channel:
        reply = await _execute_none(channel, record.instance)
    assert wire.loads(reply.envelopes) == []


async def test_the_peer_common_name_reaches_a_handler(pki: LocalIdentities):
    """``bind`` + ``peer_common_name``, as the gateway and the link use them: a crew's
    certificate (CN = unit id) and the console's are told apart by the server."""
    seen: list[str | None] = []

    async def who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        seen.append(peer_common_name(context))
        return (seen[-1] or "").encode()

    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "test.Who", {"Who": grpc.unary_unary_rpc_method_handler(who)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = bind(server, "127.0.0.1:0", pki.service)
    await server.start()
    crew = issue_crew(Path(pki.ca.folder), "OSL-A01")
    try:
        for files, expected in ((pki.console, b"console"), (crew, b"OSL-A01")):
            async with open_channel(f"127.0.0.1:{port}", files) as channel:
                call = channel.unary_unary("/test.Who/Who")
                assert await call(b"", timeout=5) == expected
    finally:
        await server.stop(0)
    assert seen == ["console", "OSL-A01"]


async def test_the_client_library_uses_the_console_certificate(cluster):
    """AmkClient's default identity: $AMK_PKI's console (set for the session)."""

    def use() -> None:
        with AmkClient([cluster.gateway], timeout_s=10) as client:
            assert client.tls is not None and client.tls.common_name() == "console"
            assert client.cluster_status().centres
        with AmkClient([cluster.gateway], timeout_s=2, tls=None) as plain:
            with pytest.raises(AmkClientError, match="UNAVAILABLE"):
                plain.cluster_status()

    await asyncio.to_thread(use)


async def test_the_metrics_endpoint_wants_our_certificate(cluster, pki, stranger):
    address = cluster.config.metrics_address(cluster.gateway)

    def fetch(scheme: str, context: ssl.SSLContext | None = None) -> bytes:
        url = f"{scheme}://{address}/metrics"
        with urllib.request.urlopen(url, timeout=5, context=context) as resp:
            return resp.read()

    def check() -> None:
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            fetch("http")
        no_cert = ssl.create_default_context(cafile=str(pki.console.ca))
        with pytest.raises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
            fetch("https", no_cert)
        assert b"amk_" in fetch("https", https_client_context(pki.console))

    await asyncio.to_thread(check)


async def test_an_insecure_gateway_is_plaintext_and_says_so(cluster, tmp_path: Path):
    """Development only, and explicit: a gateway of an insecure config serves plaintext,
    refuses TLS clients, and GetClusterStatus carries ``insecure``. Insecure means its
    etcd is plaintext too: a private one here (the session's wants our certificates)."""
    address = f"127.0.0.1:{find_free_port()}"
    config = cluster.config.model_copy(
        update={"gateways": [address], "metrics": [], "metrics_port_offset": 0, "insecure": True}
    )
    assert console_identity(config) is None
    plain = EmbeddedEtcd(
        tmp_path / "etcd", tls=None, client_port=find_free_port(), log_file=tmp_path / "etcd.log"
    )
    # Started from this thread, not a worker thread: etcd dies with the thread that
    # started it (PR_SET_PDEATHSIG), and a pool thread may end before the test does.
    plain.start()
    gateway = Gateway(config, address)
    try:
        await gateway.start([plain.endpoint])
        async with grpc.aio.insecure_channel(address) as channel:
            status = await pb_grpc.DispatchServiceStub(channel).GetClusterStatus(
                pb.GetClusterStatusRequest(), timeout=10
            )
        assert status.insecure
        tls = console_identity(cluster.config)
        assert await _refused(open_channel(address, tls)) == REFUSED
    finally:
        await gateway.stop()
        plain.stop()


async def test_the_local_ray_wants_a_token(ray_session):
    """Ray's own ports: a local ``ray.init()`` (what ``amk up`` starts) runs with token
    authentication in Ray 2.60 unless RAY_AUTH_MODE says otherwise; a caller without the
    token gets UNAUTHENTICATED from the GCS, one with it is answered."""
    import os

    import ray

    from clients.ray_join import find_token, probe

    if os.environ.get("RAY_AUTH_MODE", "token") != "token":
        pytest.fail("RAY_AUTH_MODE is set to something else than token for this session")
    address = ray.get_runtime_context().gcs_address
    token = find_token(None, os.environ, Path.home())
    assert token is not None, "ray.init() made a token (~/.ray/auth_token)"
    assert await asyncio.to_thread(probe, address, None) is grpc.StatusCode.UNAUTHENTICATED
    assert await asyncio.to_thread(probe, address, token.value) is grpc.StatusCode.OK
