"""Identities, roles and scopes at a real gateway with auth on (issue #13).

Its own module-scoped deployment (``secured``, in ``authz_support.py``) on the SHIPPED
role table: the shared ``cluster`` fixture runs under the suite's test table
(tests/data/access_tests.toml, a role that may call everything); this module tests the
policy itself. Tokens come from the deployment's local issuer (the key the gateways made
in the state folder's pki folder).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2  # noqa: F401 - registers the descriptors
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from amk.audit.v1 import audit_pb2 as apb
from amk.coordination.v1 import coordination_pb2
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.etcd import EtcdClient
from cluster.tokens import LocalIssuer
from tests.helpers import assert_eventually, rid
from tests.integration.authz_support import (  # noqa: F401 - the module's fixtures
    KRISTIANSAND,
    OSLO,
    PREFERRED,
    REASON,
    TABLE,
    audit,
    call,
    create,
    empty_request,
    md,
    secured,
    secured_channel,
    secured_issuer,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# ---------------------------------------------------------------- every method


async def test_every_method_listed_by_reflection_has_an_entry(channel, issuer) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    meta = md(issuer, "engineer")

    async def ask(**kw: Any) -> reflection_pb2.ServerReflectionResponse:
        stream = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(**kw)]), metadata=meta
        )
        async for answer in stream:
            return answer
        raise AssertionError("no reflection answer")

    services = [s.name for s in (await ask(list_services="")).list_services_response.service]
    assert "amk.audit.v1.AuditService" in services and len(services) == 6
    assert "amk.audit.v1.CredentialService" in services
    methods: set[str] = set()
    for service in services:
        answer = await ask(file_containing_symbol=service)
        for raw in answer.file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for s in fd.service:
                full = f"{fd.package}.{s.name}"
                if full == service:
                    methods |= {f"/{full}/{m.name}" for m in s.method}
    assert len(methods) > 50
    assert sorted(methods - TABLE.rules.keys()) == []
    # ...and reflection itself is refused without a token (nothing sent: see ``call``).
    refused = stub.ServerReflectionInfo(timeout=10)
    assert await refused.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_every_method_once_with_an_allowed_and_a_denied_role(channel, issuer, etcd) -> None:
    refused = []
    before = await etcd.revision()
    for method, rule in sorted(TABLE.rules.items()):
        if rule.scope == "public":
            # No token needed (List: in the descriptor, not implemented by grpcio's servicer).
            code, _ = await call(channel, method, empty_request(method), ())
            assert code in (grpc.StatusCode.OK, grpc.StatusCode.UNIMPLEMENTED), method
            continue
        denied = next((r for r in PREFERRED if r not in rule.roles), "visitor")
        code, details = await call(
            channel, method, empty_request(method), md(issuer, denied), send=False
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED, (method, denied, code, details)
        refused.append(method)
    assert await etcd.revision() == before  # nothing written by any refusal
    for method, rule in sorted(TABLE.rules.items()):
        if rule.scope == "public":
            continue
        allowed = next(r for r in PREFERRED if r in rule.roles)
        unit = "osl-a11" if allowed == "crew" else ""
        code, details = await call(
            channel, method, empty_request(method), md(issuer, allowed, unit=unit)
        )
        # Past the guard: the handler answers (OK, or the empty request's own error).
        assert code not in (
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.UNAUTHENTICATED,
        ), (method, allowed, code, details)
    assert len(refused) == len([r for r in TABLE.rules.values() if r.scope != "public"])


# ---------------------------------------------------------------- authentication


async def test_no_forged_expired_or_foreign_token_is_unauthenticated(
    channel, issuer, etcd: EtcdClient
) -> None:
    method = "/amk.dispatch.v1.DispatchService/CreateIncident"
    req = pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=OSLO)
    good = issuer.issue("kari", "call-taker", "oslo", lifetime_s=600)
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "role": "supervisor"},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": issuer.key_id()},
    )
    expired = issuer.issue("kari", "call-taker", "oslo", lifetime_s=60, now=time.time() - 600)
    foreign = LocalIssuer(issuer.folder, issuer.issuer, "another-system").issue(
        "kari", "call-taker", "oslo", lifetime_s=600
    )
    before = await etcd.revision()
    for label, meta in (
        ("none", ()),
        ("stated identity only", (("x-amk-identity", "kari"),)),
        ("forged", (("authorization", f"Bearer {forged}"),)),
        ("expired", (("authorization", f"Bearer {expired}"),)),
        ("wrong audience", (("authorization", f"Bearer {foreign}"),)),
        ("garbage", (("authorization", "Bearer abc.def.ghi"),)),
    ):
        code, details = await call(channel, method, req, meta)
        assert code == grpc.StatusCode.UNAUTHENTICATED, (label, code, details)
    assert await etcd.revision() == before
    code, _ = await call(channel, method, req, (("authorization", f"Bearer {good}"),))
    assert code == grpc.StatusCode.OK


# ---------------------------------------------------------------- scopes


async def test_another_centres_dispatcher_needs_break_glass(channel, issuer, etcd) -> None:
    inc = await create(channel, md(issuer, "call-taker", "sorlandet"), "sorlandet", KRISTIANSAND)
    get = "/amk.dispatch.v1.DispatchService/GetIncident"
    change = "/amk.dispatch.v1.DispatchService/ChangeIncidentStatus"
    oslo = md(issuer, "dispatcher", "oslo", user="ola")
    before = await etcd.revision()
    code, details = await call(channel, get, pb.GetIncidentRequest(incident_id=inc.id), oslo)
    assert code == grpc.StatusCode.PERMISSION_DENIED and "break-glass" in details
    status = pb.ChangeIncidentStatusRequest(
        request_id=rid(), incident_id=inc.id, status=pb.INCIDENT_STATUS_CANCELLED
    )
    code, _ = await call(channel, change, status, oslo)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert await etcd.revision() == before
    # A reason, shortly after logging in: allowed, flagged in the access log.
    glass = md(issuer, "dispatcher", "oslo", user="ola", reason=REASON)
    code, got = await call(channel, get, pb.GetIncidentRequest(incident_id=inc.id), glass)
    assert code == grpc.StatusCode.OK and got.id == inc.id
    # The same reason from a login older than the break-glass window: refused.
    stale = md(issuer, "dispatcher", "oslo", user="ola", reason=REASON, age_s=1800)
    code, details = await call(channel, get, pb.GetIncidentRequest(incident_id=inc.id), stale)
    assert code == grpc.StatusCode.PERMISSION_DENIED and "log in again" in details

    async def flagged() -> None:
        rows = await audit(channel, issuer, incident_id=inc.id, user="ola")
        assert [(r.why, r.reason, r.role, r.centre) for r in rows] == [
            ("break-glass", REASON, "dispatcher", "oslo")
        ]
        assert rows[0].peer and rows[0].method == get

    await assert_eventually(flagged)


async def test_a_crew_changes_its_own_unit_only(channel, issuer, etcd) -> None:
    method = "/amk.dispatch.v1.DispatchService/ChangeUnitStatus"
    crew = md(issuer, "crew", "oslo", user="osl-a11", unit="osl-a11")

    def req(unit: str) -> pb.ChangeUnitStatusRequest:
        return pb.ChangeUnitStatusRequest(
            request_id=rid(), unit_id=unit, status=pb.UNIT_STATUS_OUT_OF_SERVICE
        )

    before = await etcd.revision()
    code, details = await call(channel, method, req("osl-a12"), crew)
    assert code == grpc.StatusCode.PERMISSION_DENIED and "own unit" in details
    code, _ = await call(channel, method, req("osl-a12"), md(issuer, "crew", reason=REASON))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert await etcd.revision() == before
    code, unit = await call(channel, method, req("osl-a11"), crew)
    assert code == grpc.StatusCode.OK and unit.status == pb.UNIT_STATUS_OUT_OF_SERVICE
    # A position stream is checked message by message: another unit's ends it.
    stream = channel.stream_unary(
        "/amk.dispatch.v1.DispatchService/StreamUnitPositions",
        request_serializer=pb.ReportUnitPositionRequest.SerializeToString,
        response_deserializer=pb.StreamUnitPositionsSummary.FromString,
    )
    positions = [
        pb.ReportUnitPositionRequest(request_id=rid(), unit_id=u, position=OSLO)
        for u in ("osl-a11", "osl-a12")
    ]
    # Written by hand and never half-closed: nothing is sent into a call the server may
    # have ended (grpc.aio would then report INTERNAL instead of its status; see ``call``).
    ended = stream(metadata=crew, timeout=10)
    for position in positions:
        await ended.write(position)
    assert await ended.code() == grpc.StatusCode.PERMISSION_DENIED
    summary = await stream(iter(positions[:1]), metadata=crew, timeout=10)
    assert summary.accepted == 1
    unsigned = stream(timeout=10)  # no token: refused as it opens
    assert await unsigned.code() == grpc.StatusCode.UNAUTHENTICATED
    # Reading incidents is not a crew's (the table gives them their unit only).
    code, _ = await call(
        channel, "/amk.dispatch.v1.DispatchService/ListIncidents", pb.ListIncidentsRequest(), crew
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_empty_region_list_means_my_regions(channel, issuer) -> None:
    south = await create(channel, md(issuer, "call-taker", "sorlandet"), "sorlandet", KRISTIANSAND)
    mine = await create(channel, md(issuer, "call-taker", "oslo"))
    code, resp = await call(
        channel,
        "/amk.dispatch.v1.DispatchService/ListIncidents",
        pb.ListIncidentsRequest(),
        md(issuer, "call-taker", "oslo"),
    )
    assert code == grpc.StatusCode.OK
    ids = {i.id for i in resp.incidents}
    assert mine.id in ids and south.id not in ids
    assert {i.region for i in resp.incidents} <= {"oslo", "innlandet", "vestre-viken"}


# ---------------------------------------------------------------- journal and access log


async def test_journal_carries_the_token_subject_not_a_stated_name(channel, issuer) -> None:
    meta = md(issuer, "call-taker", "oslo", user="kari", stated="mallory")
    inc = await create(channel, meta, caller_number="+4791234567")
    code, history = await call(
        channel,
        "/amk.dispatch.v1.DispatchService/GetIncidentHistory",
        pb.GetIncidentHistoryRequest(incident_id=inc.id),
        md(issuer, "dispatcher", "oslo", user="ola"),
    )
    assert code == grpc.StatusCode.OK
    assert [e.who for e in history.entries] == ["kari"]


async def test_reads_of_patient_data_are_in_the_access_log(channel, issuer) -> None:
    inc = await create(channel, md(issuer, "call-taker", "oslo"), caller_number="+47 915 55 123")
    get = "/amk.dispatch.v1.DispatchService/GetIncident"
    request = pb.GetIncidentRequest(incident_id=inc.id)
    assert (await call(channel, get, request, md(issuer, "call-taker", user="kari")))[
        0
    ].name == "OK"
    # A partner centre's call-taker (Innlandet takes Oslo's overflow): "partner".
    partner = md(issuer, "call-taker", "innlandet", user="per")
    assert (await call(channel, get, request, partner))[0] == grpc.StatusCode.OK
    watch = channel.unary_stream(
        "/amk.dispatch.v1.DispatchService/Watch",
        request_serializer=pb.WatchRequest.SerializeToString,
        response_deserializer=pb.WatchEvent.FromString,
    )(pb.WatchRequest(regions=["oslo"]), metadata=md(issuer, "dispatcher", user="w"), timeout=10)
    snapshot = []
    async for event in watch:
        if event.kind == pb.WatchEvent.KIND_SNAPSHOT_DONE:
            break
        snapshot.append(event.incident.id)
    watch.cancel()
    assert inc.id in snapshot
    batches = channel.unary_stream(
        "/amk.dispatch.v1.DispatchService/WatchBatches",
        request_serializer=pb.WatchRequest.SerializeToString,
        response_deserializer=pb.WatchEventBatch.FromString,
    )(pb.WatchRequest(regions=["oslo"]), metadata=md(issuer, "dispatcher", user="b"), timeout=10)
    batched: list[str] = []
    async for batch in batches:
        batched += [e.incident.id for e in batch.events]
        if batch.events[-1].kind == pb.WatchEvent.KIND_SNAPSHOT_DONE:
            break
    batches.cancel()
    assert inc.id in batched

    # A list over every region Oslo serves, its own and its partners': let in on the
    # weakest ground (partner), but Oslo's own incident in it was read as its owner.
    listed = md(issuer, "dispatcher", "oslo", user="lise")
    code, found = await call(
        channel,
        "/amk.dispatch.v1.DispatchService/ListIncidents",
        pb.ListIncidentsRequest(),
        listed,
    )
    assert code == grpc.StatusCode.OK and inc.id in {i.id for i in found.incidents}

    async def logged() -> None:
        rows = await audit(channel, issuer, incident_id=inc.id)
        seen = {(r.user, r.why, r.method.rsplit("/", 1)[-1]) for r in rows}
        assert ("kari", "owner", "GetIncident") in seen
        assert ("per", "partner", "GetIncident") in seen
        assert ("lise", "owner", "ListIncidents") in seen
        assert ("w", "owner", "Watch") in seen
        assert ("b", "owner", "WatchBatches") in seen
        by_caller = await audit(channel, issuer, caller_number="+4791555123")
        assert {r.record_id for r in by_caller} == {inc.id}
        assert {r.user for r in await audit(channel, issuer, user="per")} == {"per"}

    await assert_eventually(logged)
    # Reading the log is the auditor's alone.
    code, _ = await call(
        channel,
        "/amk.audit.v1.AuditService/QueryAccessLog",
        apb.QueryAccessLogRequest(incident_id=inc.id),
        md(issuer, "supervisor"),
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_call_taker_signs_in_and_answers_as_themselves(channel, issuer) -> None:
    """SignIn's and AnswerNextCall's call-taker is the token's subject: left empty it is
    filled in, another person's name is refused naming the field (issue #13, item 5)."""
    kari = md(issuer, "call-taker", "oslo", user="kari")
    sign_in = "/amk.dispatch.v1.DispatchService/SignIn"
    code, status = await call(channel, sign_in, pb.SignInRequest(centre="oslo"), kari)
    assert code == grpc.StatusCode.OK and status.call_taker == "kari"
    code, err = await call(
        channel, sign_in, pb.SignInRequest(centre="oslo", call_taker="ola"), kari
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED and "call_taker" in err
    answer = "/amk.dispatch.v1.DispatchService/AnswerNextCall"
    request = pb.AnswerNextCallRequest(request_id=rid(), centre="oslo", call_taker="ola")
    code, err = await call(channel, answer, request, kari)
    assert code == grpc.StatusCode.PERMISSION_DENIED and "call_taker" in err
    code, _ = await call(
        channel,
        "/amk.dispatch.v1.DispatchService/SignOut",
        pb.SignOutRequest(centre="oslo", call_taker="kari"),
        kari,
    )
    assert code == grpc.StatusCode.OK


async def test_a_callers_earlier_contacts_are_the_answering_desks_and_logged(
    channel, issuer
) -> None:
    """ListCallerHistory under the shipped table: the call-taker of the centre that
    answered the call gets the earlier incident from its number (not the call itself); a
    partner centre's call-taker is refused; the call and the contact are in the access
    log under the method, a search with nothing found too (the call). The partner's
    call-taker may neither link the call nor make its incident; the one who answered
    does."""
    import random

    digits = f"9{random.randrange(10**7):07d}"
    kari = md(issuer, "call-taker", "oslo", user="hist-kari")
    earlier = await create(channel, kari, caller_number=f"+47 {digits}")
    method = "/amk.dispatch.v1.DispatchService/"
    code, queued = await call(
        channel,
        method + "ReceiveCall",
        pb.ReceiveCallRequest(
            request_id=rid(),
            caller_number=f"0047{digits}",
            position=OSLO,
            urgency_hint=pb.URGENCY_AKUTT,  # answered first, whatever else waits
        ),
        kari,
    )
    assert code == grpc.StatusCode.OK, queued
    history = pb.ListCallerHistoryRequest(call_id=queued.id)
    code, err = await call(channel, method + "ListCallerHistory", history, kari)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "not answered" in err
    assert (await call(channel, method + "SignIn", pb.SignInRequest(centre="oslo"), kari))[
        0
    ] == grpc.StatusCode.OK
    code, got = await call(
        channel,
        method + "AnswerNextCall",
        pb.AnswerNextCallRequest(request_id=rid(), centre="oslo"),
        kari,
    )
    assert code == grpc.StatusCode.OK and got.call.id == queued.id, got
    code, found = await call(channel, method + "ListCallerHistory", history, kari)
    assert code == grpc.StatusCode.OK, found
    assert [(c.kind, c.id) for c in found.contacts] == [("incident", earlier.id)]
    assert found.total == 1 and found.call.id == queued.id and not found.archive_unavailable
    # Innlandet's call-taker may reach Oslo's calls as a partner, not this caller's past.
    other = md(issuer, "call-taker", "innlandet", user="hist-ivar")
    code, err = await call(channel, method + "ListCallerHistory", history, other)
    assert code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED)

    async def logged() -> None:
        rows = await audit(channel, issuer, user="hist-kari")
        read = {(r.record_id, r.method.rsplit("/", 1)[-1]) for r in rows}
        assert (queued.id, "ListCallerHistory") in read
        assert (earlier.id, "ListCallerHistory") in read

    await assert_eventually(logged)
    # Nor may Innlandet's call-taker take the call over: link it, or make the incident.
    link = pb.LinkCallRequest(request_id=rid(), call_id=queued.id, incident_id=earlier.id)
    code, err = await call(channel, method + "LinkCall", link, other)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "answered at oslo" in err, err
    make = pb.CreateIncidentRequest(
        request_id=rid(), region="oslo", position=OSLO, call_id=queued.id
    )
    code, err = await call(channel, method + "CreateIncident", make, other)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "answered at oslo" in err, err
    make.request_id = rid()
    code, made = await call(channel, method + "CreateIncident", make, kari)  # its own call
    assert code == grpc.StatusCode.OK, made
    await call(channel, method + "SignOut", pb.SignOutRequest(centre="oslo"), kari)


# ---------------------------------------------------------------- a stream's scope


async def until_aborted(stream: Any, wait_s: float = 20.0) -> str:
    """Read ``stream`` until it ends; ABORTED's details (any other end fails)."""

    async def drain() -> str:
        try:
            while await stream.read() is not grpc.aio.EOF:
                pass
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.ABORTED, (err.code(), err.details())
            return err.details() or ""
        raise AssertionError("the stream ended without a status")

    return await asyncio.wait_for(drain(), wait_s)


async def test_a_persons_watch_ends_when_their_centre_gains_or_loses_a_region(
    channel, issuer
) -> None:
    """A person acts on the regions their centre serves now: a watch opened before a
    hand-over ends (ABORTED) for the centre that lost the region and for the one that
    gained it, so that each opens it again with the scope of now."""
    from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

    stub = pb_grpc.DispatchServiceStub(channel)
    south = stub.WatchBatches(pb.WatchRequest(), metadata=md(issuer, "dispatcher", "sorlandet"))
    osl = stub.WatchBatches(pb.WatchRequest(), metadata=md(issuer, "dispatcher", "oslo"))
    for stream in (south, osl):  # open and admitted: the snapshot arrives
        first = await asyncio.wait_for(stream.read(), 10)
        assert first.events, first
    boss = md(issuer, "supervisor", "oslo")
    over = "/amk.coordination.v1.CoordinationService/HandOverRegion"
    back = "/amk.coordination.v1.CoordinationService/HandBackRegion"
    request = coordination_pb2.HandOverRegionRequest(
        request_id=rid(), region="oslo", to_centre="sorlandet"
    )
    code, answer = await call(channel, over, request, boss)
    assert code == grpc.StatusCode.OK, answer
    try:
        for stream in (south, osl):
            assert "regions your centre serves changed" in await until_aborted(stream)
        # Opened again: Sørlandet's dispatcher now watches Oslo too.
        again = stub.WatchBatches(pb.WatchRequest(), metadata=md(issuer, "dispatcher", "sorlandet"))
        regions: set[str] = set()
        while True:
            batch = await asyncio.wait_for(again.read(), 10)
            regions |= {e.region for e in batch.events if e.region}
            if any(e.kind == pb.WatchEvent.KIND_SNAPSHOT_DONE for e in batch.events):
                break
        again.cancel()
        assert "oslo" in regions, regions
        # Oslo's own dispatcher is refused Oslo now, and told where it is and how back.
        code, why = await call(
            channel,
            "/amk.dispatch.v1.DispatchService/ListIncidents",
            pb.ListIncidentsRequest(regions=["oslo"]),
            md(issuer, "dispatcher", "oslo"),
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "oslo is served by sorlandet now" in why, why
        assert "amk handback region oslo" in why and "--break-glass" in why, why
    finally:
        request = coordination_pb2.HandBackRegionRequest(request_id=rid(), region="oslo")
        code, answer = await call(channel, back, request, boss)
        assert code == grpc.StatusCode.OK, answer
