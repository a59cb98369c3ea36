"""The secured deployment of ``test_authz.py`` and its helpers: a module-scoped cluster
on the SHIPPED role table, tokens from its local issuer, and a caller of any method by
its full name (kept apart so that the tests' module stays readable)."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import descriptor_pool
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2  # noqa: F401 - registers the descriptors

from actors.domain.access import default_access_table
from amk.audit.v1 import audit_pb2 as apb
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.tls import console_identity, open_channel
from cluster.tokens import LocalIssuer
from tests.conftest import RunningCluster
from tests.helpers import key_prefix_for, make_config, rid

TABLE = default_access_table()
OSLO = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25)
KRISTIANSAND = pb.Position(lat=58.1462, lon=7.9905, accuracy_m=25)
PREFERRED = ("dispatcher", "supervisor", "call-taker", "engineer", "auditor", "crew")
REASON = "patient moved from Sørlandet, continuing care"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def secured(etcd_server, ray_session, tmp_path_factory) -> AsyncIterator[RunningCluster]:
    from clients.launcher import Deployment

    tag = uuid.uuid4().hex[:8]
    home = tmp_path_factory.mktemp("home")
    config = make_config(home, key_prefix_for("z"), f"amk-z{tag}", 1)  # the etcd user's root
    config = config.model_copy(update={"auth": "on", "access_table": None})  # the policy
    assert config.auth_enabled()
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    yield RunningCluster(config, deployment, etcd_server.endpoint)
    await deployment.stop()


@pytest_asyncio.fixture(name="channel", loop_scope="session")
async def secured_channel(secured: RunningCluster) -> AsyncIterator[grpc.aio.Channel]:
    ch = open_channel(secured.gateway, console_identity(secured.config))  # mutual TLS
    yield ch
    await ch.close()


@pytest.fixture(name="issuer")
def secured_issuer(secured: RunningCluster) -> LocalIssuer:
    c = secured.config
    return LocalIssuer.for_config(c)


def md(
    issuer: LocalIssuer,
    role: str,
    centre: str = "oslo",
    *,
    user: str = "",
    unit: str = "",
    reason: str = "",
    age_s: float = 0.0,
    stated: str = "",
) -> tuple[tuple[str, str], ...]:
    token = issuer.issue(
        user or f"{role}-{centre}",
        role,
        centre,
        lifetime_s=3600,
        unit=unit,
        now=time.time() - age_s,
    )
    out = [("authorization", f"Bearer {token}")]
    if reason:
        out.append(("x-amk-break-glass", urllib.parse.quote(reason)))
    if stated:
        out.append(("x-amk-identity", stated))
    return tuple(out)


async def call(
    channel: grpc.aio.Channel,
    method: str,
    request: Any,
    metadata: Any,
    wait_s: float = 10.0,
    *,
    send: bool = True,
) -> tuple[grpc.StatusCode, Any]:
    """Call any method by its full name; a stream's first message. (code, answer).

    ``send=False``: a client-streaming call sends nothing and only reads the status, for
    a refusal decided on the metadata alone. Sending into a call the server has already
    ended makes grpc.aio's client report INTERNAL ("Failed execute_batch") instead of the
    server's status, now and then (grpc/grpc#36066).
    """
    service, name = method[1:].split("/")
    desc = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    response = GetMessageClass(desc.output_type)
    ser, de = type(request).SerializeToString, response.FromString
    try:
        if not desc.client_streaming and not desc.server_streaming:
            rpc = channel.unary_unary(method, request_serializer=ser, response_deserializer=de)
            return grpc.StatusCode.OK, await rpc(request, metadata=metadata, timeout=wait_s)
        if desc.client_streaming and not send:
            kind = channel.stream_stream if desc.server_streaming else channel.stream_unary
            silent = kind(method, request_serializer=ser, response_deserializer=de)
            pending = silent(metadata=metadata, timeout=wait_s)
            return await pending.code(), await pending.details()
        if desc.client_streaming and not desc.server_streaming:
            rpc = channel.stream_unary(method, request_serializer=ser, response_deserializer=de)
            return grpc.StatusCode.OK, await rpc(iter([request]), metadata=metadata, timeout=wait_s)
        if desc.client_streaming:
            rpc = channel.stream_stream(method, request_serializer=ser, response_deserializer=de)
            stream = rpc(iter([request]), metadata=metadata, timeout=wait_s)
        else:
            rpc = channel.unary_stream(method, request_serializer=ser, response_deserializer=de)
            stream = rpc(request, metadata=metadata, timeout=wait_s)
        first = await stream.read()
        stream.cancel()
        return grpc.StatusCode.OK, first
    except grpc.aio.AioRpcError as err:
        return err.code(), err.details()


def empty_request(method: str) -> Any:
    service, name = method[1:].split("/")
    desc = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    return GetMessageClass(desc.input_type)()


async def create(channel, metadata, region="oslo", position=OSLO, **kw) -> pb.Incident:
    req = pb.CreateIncidentRequest(request_id=rid(), region=region, position=position, **kw)
    code, inc = await call(
        channel, "/amk.dispatch.v1.DispatchService/CreateIncident", req, metadata
    )
    assert code == grpc.StatusCode.OK, inc
    return inc


async def audit(channel, issuer, **kw) -> list[apb.AccessRecord]:
    req = apb.QueryAccessLogRequest(**kw)
    code, resp = await call(
        channel, "/amk.audit.v1.AuditService/QueryAccessLog", req, md(issuer, "auditor")
    )
    assert code == grpc.StatusCode.OK, resp
    return list(resp.records)
