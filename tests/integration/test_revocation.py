"""Revoking a client certificate, end to end: the module's deployment (two gateways, the
session's etcd and Ray, its own archive) with auth and TLS on; certificates issued from
the session's CA for this module alone, so revoking them touches no other test.

The gateways read the archive's list every 0.2 s here (``revocation_poll_s``; 2 s by
default), so the gateway that did not take the revocation follows within the test's wait.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from actors.gateway.revocations import serial_of_pem
from amk.audit.v1 import credentials_pb2 as crpb
from amk.audit.v1 import credentials_pb2_grpc as crpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.pki import LocalCa, TlsFiles
from cluster.tls import console_identity, open_channel, service_identity
from cluster.tokens import LocalIssuer
from tests.conftest import RunningCluster
from tests.helpers import assert_eventually, rid, scrape_metrics
from tests.integration.support import two_gateways as cluster_gateways  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

UNIT = "osl-a11"  # a unit of the seed: a crew certificate names it
REASON = "nettbrett mistet ved Ullevål, meldt av mannskapet kl 03:10"


@pytest.fixture(scope="module")
def cluster_settings() -> dict[str, Any]:
    return {"revocation_poll_s": 0.2}


def issue(cluster: RunningCluster, common_name: str) -> TlsFiles:
    """A client certificate of the session's CA, under a name of this module's own."""
    ca = LocalCa(cluster.config.pki_folder())
    return ca.issue(f"revoke-{uuid.uuid4().hex[:8]}", common_name)


def serial(files: TlsFiles) -> str:
    return serial_of_pem(files.cert.read_bytes())


def person(cluster: RunningCluster, role: str, gateway: int = 0) -> grpc.aio.Channel:
    token = LocalIssuer.for_config(cluster.config).issue(
        f"{role}-{uuid.uuid4().hex[:4]}", role, "oslo", lifetime_s=600
    )
    address = cluster.config.gateways[gateway]
    return open_channel(address, console_identity(cluster.config), token=token)


async def outcome(call: Any, request: Any) -> tuple[grpc.StatusCode, Any, str]:
    """(code, answer or details, the amk-field trailer) of one unary call."""
    try:
        return grpc.StatusCode.OK, await call(request, timeout=10), ""
    except grpc.aio.AioRpcError as err:
        field = dict(err.trailing_metadata() or ()).get("amk-field", "")
        return err.code(), err.details() or "", str(field)


async def test_a_revoked_crew_certificate_is_refused_at_every_gateway(
    cluster: RunningCluster,
) -> None:
    """Two certificates of one crew; one is revoked at the first gateway. Calls made
    with it are refused there at once and at the second gateway soon after, saying why;
    the other certificate goes on working. Revoking it again changes nothing."""
    lost, kept = issue(cluster, UNIT), issue(cluster, UNIT)
    gateways = cluster.config.gateways
    crews = {
        (files, address): open_channel(address, files)
        for files in (lost, kept)
        for address in gateways
    }
    engineer = person(cluster, "engineer")
    try:
        for channel in crews.values():
            code, unit, _ = await outcome(
                pb_grpc.DispatchServiceStub(channel).GetUnit, pb.GetUnitRequest(unit_id=UNIT)
            )
            assert code == grpc.StatusCode.OK and unit.id == UNIT

        revoke = crpb_grpc.CredentialServiceStub(engineer).RevokeCertificate
        request = crpb.RevokeCertificateRequest(
            serial=serial(lost), common_name=UNIT, reason=REASON
        )
        code, first, _ = await outcome(revoke, request)
        assert code == grpc.StatusCode.OK, first
        assert (first.serial, first.common_name, first.reason) == (serial(lost), UNIT, REASON)
        assert first.revoked_by.startswith("engineer-") and not first.already

        async def refused(address: str) -> None:
            stub = pb_grpc.DispatchServiceStub(crews[(lost, address)])
            code, details, _ = await outcome(stub.GetUnit, pb.GetUnitRequest(unit_id=UNIT))
            assert code == grpc.StatusCode.UNAUTHENTICATED, (code, details)
            assert serial(lost) in details and "revoked" in details and REASON in details
            assert first.revoked_by not in details  # not who: the caller may be the thief

        await refused(gateways[0])  # the gateway that took it: at once
        await assert_eventually(lambda: refused(gateways[1]), timeout_s=10)
        for address in gateways:
            stub = pb_grpc.DispatchServiceStub(crews[(kept, address)])
            code, unit, _ = await outcome(stub.GetUnit, pb.GetUnitRequest(unit_id=UNIT))
            assert code == grpc.StatusCode.OK and unit.id == UNIT

        again = crpb.RevokeCertificateRequest(serial=serial(lost), reason="a second report of it")
        code, second, _ = await outcome(revoke, again)
        assert code == grpc.StatusCode.OK and second.already
        assert (second.reason, second.revoked_at) == (REASON, first.revoked_at)

        auditor = person(cluster, "auditor", gateway=1)
        try:
            listing = crpb_grpc.CredentialServiceStub(auditor).ListRevokedCertificates
            code, listed, _ = await outcome(listing, crpb.ListRevokedCertificatesRequest())
            assert code == grpc.StatusCode.OK
            assert [c.serial for c in listed.certificates].count(serial(lost)) == 1
        finally:
            await auditor.close()
    finally:
        for channel in (*crews.values(), engineer):
            await channel.close()


async def test_a_revoked_certificate_scrapes_no_metrics_endpoint(cluster: RunningCluster) -> None:
    """A scraper's certificate (Prometheus's, of our CA) is revoked: both gateways'
    metrics endpoints answer it 403 with the revocation's reason (the second within its
    poll), and another certificate of the CA goes on scraping."""
    lost, kept = issue(cluster, "prometheus"), issue(cluster, "prometheus")
    endpoints = [cluster.config.metrics_address(a) for a in cluster.config.gateways]
    assert all(endpoints), endpoints

    for address in endpoints:
        status, body = await scrape_metrics(address, lost)
        assert status == 200 and "amk_" in body, status
    engineer = person(cluster, "engineer")
    try:
        revoke = crpb_grpc.CredentialServiceStub(engineer).RevokeCertificate
        request = crpb.RevokeCertificateRequest(serial=serial(lost), reason=REASON)
        code, _, _ = await outcome(revoke, request)
        assert code == grpc.StatusCode.OK
    finally:
        await engineer.close()

    async def refused(address: str) -> None:
        status, body = await scrape_metrics(address, lost)
        assert status == 403, status
        assert serial(lost) in body and "revoked" in body and REASON in body, body

    await refused(endpoints[0])  # the gateway that took it: at once
    await assert_eventually(lambda: refused(endpoints[1]), timeout_s=10)
    for address in endpoints:
        status, body = await scrape_metrics(address, kept)
        assert status == 200 and "amk_" in body, status


async def test_an_open_stream_ends_when_its_certificate_is_revoked(
    cluster: RunningCluster,
) -> None:
    """A console's Watch stream, opened before its certificate is revoked at the other
    gateway, ends UNAUTHENTICATED naming the revocation."""
    desk = issue(cluster, "console")
    token = LocalIssuer.for_config(cluster.config).issue(
        "kari", "dispatcher", "oslo", lifetime_s=600
    )
    channel = open_channel(cluster.config.gateways[1], desk, token=token)
    supervisor = person(cluster, "supervisor", gateway=0)
    try:
        stream = pb_grpc.DispatchServiceStub(channel).Watch(
            pb.WatchRequest(regions=["oslo"]), timeout=30
        )
        await stream.read()  # the snapshot's first event: the stream is open and admitted
        revoke = crpb_grpc.CredentialServiceStub(supervisor).RevokeCertificate
        code, answer, _ = await outcome(
            revoke, crpb.RevokeCertificateRequest(serial=serial(desk), reason=REASON)
        )
        assert code == grpc.StatusCode.OK, answer
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            while True:
                if await stream.read() is grpc.aio.EOF:
                    pytest.fail("the stream ended without a status")
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()
        assert serial(desk) in (ended.value.details() or "")
    finally:
        await channel.close()
        await supervisor.close()


async def test_an_open_client_stream_ends_at_its_next_message_once_revoked(
    cluster: RunningCluster,
) -> None:
    """A bidirectional stream that is not decided per message (reflection): answered
    before its certificate is revoked, refused at the next message after."""
    desk = issue(cluster, "console")
    token = LocalIssuer.for_config(cluster.config).issue("per", "engineer", "oslo", lifetime_s=600)
    channel = open_channel(cluster.config.gateways[0], desk, token=token)
    supervisor = person(cluster, "supervisor", gateway=0)
    ask = reflection_pb2.ServerReflectionRequest(list_services="")
    try:
        call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(timeout=30)
        await call.write(ask)
        answer = await call.read()
        assert answer.list_services_response.service
        revoke = crpb_grpc.CredentialServiceStub(supervisor).RevokeCertificate
        code, revoked, _ = await outcome(
            revoke, crpb.RevokeCertificateRequest(serial=serial(desk), reason=REASON)
        )
        assert code == grpc.StatusCode.OK, revoked
        await call.write(ask)
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await call.read()
            await call.read()  # EOF would not raise: the stream must end with a status
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()
        assert serial(desk) in (ended.value.details() or "")
    finally:
        await channel.close()
        await supervisor.close()


async def test_bad_revocations_are_refused_on_their_field_and_nothing_is_kept(
    cluster: RunningCluster,
) -> None:
    """Each bad request names its field and keeps nothing; the cluster's own service
    certificate cannot be revoked; a dispatcher or an auditor may not revoke."""
    engineer = person(cluster, "engineer")
    stub = crpb_grpc.CredentialServiceStub(engineer)
    own = service_identity(cluster.config)
    assert own is not None
    good = serial(issue(cluster, "osl-a12"))
    try:
        code, before, _ = await outcome(
            stub.ListRevokedCertificates, crpb.ListRevokedCertificatesRequest()
        )
        assert code == grpc.StatusCode.OK
        bad_expiry = crpb.RevokeCertificateRequest(serial=good, reason=REASON)
        bad_expiry.not_after.nanos = -1
        cases = [
            (crpb.RevokeCertificateRequest(serial="", reason=REASON), "serial"),
            (crpb.RevokeCertificateRequest(serial="xyz", reason=REASON), "serial"),
            (crpb.RevokeCertificateRequest(serial="00", reason=REASON), "serial"),
            (crpb.RevokeCertificateRequest(serial="1" * 41, reason=REASON), "serial"),
            (crpb.RevokeCertificateRequest(serial=serial(own), reason=REASON), "serial"),
            # the certificate the engineer calls with (the local PKI's shared console one)
            (
                crpb.RevokeCertificateRequest(
                    serial=serial(console_identity(cluster.config)), reason=REASON
                ),
                "serial",
            ),
            (crpb.RevokeCertificateRequest(serial=good, reason="mistet"), "reason"),
            (crpb.RevokeCertificateRequest(serial=good, reason=REASON + "\x1b[2J"), "reason"),
            (
                crpb.RevokeCertificateRequest(serial=good, common_name="x" * 65, reason=REASON),
                "common_name",
            ),
            (bad_expiry, "not_after"),
        ]
        for request, field in cases:
            code, details, named = await outcome(stub.RevokeCertificate, request)
            assert (code, named) == (grpc.StatusCode.INVALID_ARGUMENT, field), (request, details)
        for role in ("dispatcher", "auditor"):
            channel = person(cluster, role)
            try:
                code, details, _ = await outcome(
                    crpb_grpc.CredentialServiceStub(channel).RevokeCertificate,
                    crpb.RevokeCertificateRequest(serial=good, reason=REASON),
                )
                assert code == grpc.StatusCode.PERMISSION_DENIED, (role, details)
            finally:
                await channel.close()
        code, after, _ = await outcome(
            stub.ListRevokedCertificates, crpb.ListRevokedCertificatesRequest()
        )
        assert code == grpc.StatusCode.OK
        assert list(after.certificates) == list(before.certificates)
        assert good not in {c.serial for c in after.certificates}
    finally:
        await engineer.close()


async def test_a_suspended_person_is_refused_until_reinstated(cluster: RunningCluster) -> None:
    """A dispatcher suspended at one gateway is refused there at once and at the other
    soon after, with any token, however new, and their open Watch ends; reinstated, they
    work again. Bad decisions are refused on their field; a repeat is one decision."""
    user = f"kari-{uuid.uuid4().hex[:4]}"
    issuer = LocalIssuer.for_config(cluster.config)

    def as_person(gateway: int) -> grpc.aio.Channel:
        token = issuer.issue(user, "dispatcher", "oslo", lifetime_s=600)
        address = cluster.config.gateways[gateway]
        return open_channel(address, console_identity(cluster.config), token=token)

    kari = [as_person(0), as_person(1)]
    supervisor = person(cluster, "supervisor", gateway=0)
    credentials = crpb_grpc.CredentialServiceStub(supervisor)
    listing = pb.ListIncidentsRequest(regions=["oslo"])

    async def status(channel: grpc.aio.Channel) -> pb.ClusterStatus:
        stub = pb_grpc.DispatchServiceStub(channel)
        return await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)

    async def lists() -> pb.CredentialLists:
        """What ``amk status`` shows the supervisor of gateway 0's lists."""
        shown = await status(supervisor)
        assert shown.HasField("credential_lists")
        return shown.credential_lists

    try:
        for channel in kari:
            code, _, _ = await outcome(pb_grpc.DispatchServiceStub(channel).ListIncidents, listing)
            assert code == grpc.StatusCode.OK
        before = await lists()
        assert before.read and before.poll_s == cluster.config.revocation_poll_s
        # A dispatcher is not told (nor would a holder of a revoked certificate be).
        assert not (await status(kari[0])).HasField("credential_lists")
        stream = pb_grpc.DispatchServiceStub(kari[1]).Watch(
            pb.WatchRequest(regions=["oslo"]), timeout=30
        )
        await stream.read()

        suspend = crpb.PersonDecisionRequest(request_id=rid(), user=user, reason=REASON)
        code, decided, _ = await outcome(credentials.SuspendPerson, suspend)
        assert code == grpc.StatusCode.OK and decided.suspended and decided.user == user
        assert decided.decided_by.startswith("supervisor-")

        async def refused(channel: grpc.aio.Channel) -> None:
            stub = pb_grpc.DispatchServiceStub(channel)
            code, details, _ = await outcome(stub.ListIncidents, listing)
            assert code == grpc.StatusCode.PERMISSION_DENIED, (code, details)
            assert "suspended" in details and REASON in details
            assert decided.decided_by not in details

        await refused(kari[0])
        assert (await lists()).suspended == before.suspended + 1
        await assert_eventually(lambda: refused(kari[1]), timeout_s=10)
        fresh = as_person(0)  # a new login gives a new token: refused all the same
        try:
            await refused(fresh)
        finally:
            await fresh.close()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            while await stream.read() is not grpc.aio.EOF:
                pass
        assert ended.value.code() == grpc.StatusCode.PERMISSION_DENIED, ended.value.details()

        code, again, _ = await outcome(credentials.SuspendPerson, suspend)  # a retry
        assert code == grpc.StatusCode.OK and again.id == decided.id and again.at == decided.at
        another = crpb.PersonDecisionRequest(request_id=rid(), user=user, reason=REASON)
        code, _, _ = await outcome(credentials.SuspendPerson, another)
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        bad = [
            (crpb.PersonDecisionRequest(request_id=rid(), user="", reason=REASON), "user"),
            (crpb.PersonDecisionRequest(request_id=rid(), user=user, reason="nei"), "reason"),
            (crpb.PersonDecisionRequest(request_id="a b", user=user, reason=REASON), "request_id"),
        ]
        for request, field in bad:
            code, details, named = await outcome(credentials.SuspendPerson, request)
            assert (code, named) == (grpc.StatusCode.INVALID_ARGUMENT, field), details
        reuse = crpb.PersonDecisionRequest(request_id=suspend.request_id, user=user, reason=REASON)
        code, _, named = await outcome(credentials.ReinstatePerson, reuse)
        assert (code, named) == (grpc.StatusCode.INVALID_ARGUMENT, "request_id")
        code, now, _ = await outcome(credentials.ListSuspensions, crpb.ListSuspensionsRequest())
        assert [d.user for d in now.decisions].count(user) == 1

        reinstate = crpb.PersonDecisionRequest(request_id=rid(), user=user, reason=REASON)
        code, lifted, _ = await outcome(credentials.ReinstatePerson, reinstate)
        assert code == grpc.StatusCode.OK and not lifted.suspended

        async def allowed(channel: grpc.aio.Channel) -> None:
            stub = pb_grpc.DispatchServiceStub(channel)
            code, details, _ = await outcome(stub.ListIncidents, listing)
            assert code == grpc.StatusCode.OK, details

        await allowed(kari[0])
        assert (await lists()).suspended == before.suspended
        await assert_eventually(lambda: allowed(kari[1]), timeout_s=10)
        again_lift = crpb.PersonDecisionRequest(request_id=rid(), user=user, reason=REASON)
        code, _, _ = await outcome(credentials.ReinstatePerson, again_lift)
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        code, history, _ = await outcome(
            credentials.ListSuspensions, crpb.ListSuspensionsRequest(history=True)
        )
        mine = [(d.suspended, d.reason) for d in history.decisions if d.user == user]
        assert mine == [(True, REASON), (False, REASON)]
    finally:
        for channel in (*kari, supervisor):
            await channel.close()


async def test_a_suspended_unit_stops_its_crew_certificate(cluster: RunningCluster) -> None:
    """Suspending a unit id refuses its crew's certificate; reinstated, it works."""
    crew = open_channel(cluster.config.gateways[0], issue(cluster, "osl-a13"))
    supervisor = person(cluster, "supervisor")
    credentials = crpb_grpc.CredentialServiceStub(supervisor)
    get = pb.GetUnitRequest(unit_id="osl-a13")
    try:
        decide = crpb.PersonDecisionRequest(request_id=rid(), user="osl-a13", reason=REASON)
        code, _, _ = await outcome(credentials.SuspendPerson, decide)
        assert code == grpc.StatusCode.OK
        code, details, _ = await outcome(pb_grpc.DispatchServiceStub(crew).GetUnit, get)
        assert code == grpc.StatusCode.PERMISSION_DENIED and "suspended" in details
        lift = crpb.PersonDecisionRequest(request_id=rid(), user="osl-a13", reason=REASON)
        code, _, _ = await outcome(credentials.ReinstatePerson, lift)
        assert code == grpc.StatusCode.OK
        code, unit, _ = await outcome(pb_grpc.DispatchServiceStub(crew).GetUnit, get)
        assert code == grpc.StatusCode.OK and unit.id == "osl-a13"
    finally:
        await crew.close()
        await supervisor.close()


async def test_nobody_suspends_themselves_and_a_dispatcher_suspends_nobody(
    cluster: RunningCluster,
) -> None:
    issuer = LocalIssuer.for_config(cluster.config)
    token = issuer.issue("sjef", "supervisor", "oslo", lifetime_s=600)
    channel = open_channel(cluster.gateway, console_identity(cluster.config), token=token)
    dispatcher = person(cluster, "dispatcher")
    try:
        request = crpb.PersonDecisionRequest(request_id=rid(), user="sjef", reason=REASON)
        code, _, named = await outcome(
            crpb_grpc.CredentialServiceStub(channel).SuspendPerson, request
        )
        assert (code, named) == (grpc.StatusCode.INVALID_ARGUMENT, "user")
        other = crpb.PersonDecisionRequest(request_id=rid(), user="ola", reason=REASON)
        code, _, _ = await outcome(crpb_grpc.CredentialServiceStub(dispatcher).SuspendPerson, other)
        assert code == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await channel.close()
        await dispatcher.close()
