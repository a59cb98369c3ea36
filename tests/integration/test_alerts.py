"""Trippelvarsling end to end (issue #19): a road accident proposes alerts to fire (110)
and police (112); sending delivers each as an EIDO document to the partner centre, which
checks it against NENA's schema and acknowledges; the acknowledgements are journaled; an
alert nobody acknowledges escalates; bad input is refused and writes nothing.

Real etcd and Ray (one deployment for the module); the partner centres are
``clients/partner_stub.py`` on loopback, given NENA's schema as their validator.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.partner_stub import PartnerCentre
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.tls import client_identity, open_channel
from tests.helpers import (
    assert_eventually,
    key_prefix_for,
    rid,
    scrape_metrics,
    session_pki,
    session_token,
)
from tests.unit.eido_schema import load_spec, schema_validator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

OSLO = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25)
HAMAR = pb.Position(lat=60.795, lon=11.07)
ROAD_ACCIDENT = "A.35.01"  # collision with someone trapped: the road-traffic action card
DROWNING = "A.13.02"
ESCALATE_AFTER_S = 2.0
FIRE, POLICE = pb.ALERT_SERVICE_FIRE_110, pb.ALERT_SERVICE_POLICE_112
LEGEVAKT = pb.ALERT_SERVICE_LEGEVAKT_116117
OSLO_KOMMUNE = "0301"  # a legevakt's endpoint is keyed by the municipalities it serves


@dataclass
class Partners:
    fire: PartnerCentre
    police: PartnerCentre
    silent_fire: PartnerCentre  # takes documents, never acknowledges (Innlandet's 110)
    legevakt: PartnerCentre  # Oslo legevakt: Oslo's municipality only


@dataclass
class AlertCluster:
    stub: pb_grpc.DispatchServiceStub
    partners: Partners
    gateway: str
    metrics: str  # the gateway's Prometheus endpoint


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def alerting(
    etcd_server, ray_session, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AlertCluster]:
    from clients.launcher import Deployment

    validate = schema_validator(load_spec())
    partners = Partners(
        PartnerCentre("110 Øst, operatør 4", validate).start(),
        PartnerCentre("112 Oslo, operasjonsleder", validate).start(),
        PartnerCentre("110 Innlandet", validate, acknowledge=False).start(),
        PartnerCentre("Oslo legevakt, LV-lege", validate).start(),
    )
    tag = uuid.uuid4().hex[:8]
    config = ClusterConfig.load(
        home=tmp_path_factory.mktemp("home"),
        key_prefix=key_prefix_for("alerts"),
        pki_dir=session_pki(),
        ray_namespace=f"amk-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}"],
        metrics=[f"127.0.0.1:{find_free_port()}"],
        alert_endpoints={
            "110": partners.fire.url,
            "112": partners.police.url,
            "110:innlandet": partners.silent_fire.url,
            f"116117:{OSLO_KOMMUNE}": partners.legevakt.url,
        },
        alert_escalate_after_s=ESCALATE_AFTER_S,
        alert_check_interval_s=0.2,
    )
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    channel = open_channel(config.gateways[0], client_identity(), token=session_token())
    try:
        stub = pb_grpc.DispatchServiceStub(channel)
        yield AlertCluster(stub, partners, config.gateways[0], config.metrics[0])
    finally:
        await channel.close()
        await deployment.stop()
        for p in (partners.fire, partners.police, partners.silent_fire, partners.legevakt):
            p.stop()


async def open_alerts(
    cluster: AlertCluster,
    region: str,
    service: str,
    state: str,
    *,
    at_least: int | None = None,
    exactly: int | None = None,
) -> int:
    """``amk_alerts_open`` for one region, service and state (every recipient) as the
    gateway's Prometheus endpoint reports it (0 when absent), checked against
    ``at_least`` or ``exactly``."""
    status, body = await scrape_metrics(cluster.metrics, client_identity())
    assert status == 200, body
    want = {"region": region, "service": service, "state": state}
    got = int(
        sum(
            s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
            if s.name == "amk_alerts_open" and want.items() <= s.labels.items()
        )
    )
    assert at_least is None or got >= at_least, got
    assert exactly is None or got == exactly, got
    return got


async def create(stub, region: str, position: pb.Position, code: str) -> pb.Incident:
    req = pb.CreateIncidentRequest(
        request_id=rid(), region=region, position=position, criteria_code=code
    )
    return await stub.CreateIncident(req, timeout=10)


async def alerts_of(stub, incident_id: str) -> dict[int, pb.Alert]:
    reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=incident_id), timeout=10)
    return {a.service: a for a in reply.alerts}


async def send(stub, incident_id: str, service: int) -> pb.Alert:
    req = pb.SendAlertRequest(request_id=rid(), incident_id=incident_id, service=service)
    return await stub.SendAlert(req, timeout=10)


async def acknowledged(stub, incident_id: str, *services: int) -> dict[int, pb.Alert]:
    async def check() -> dict[int, pb.Alert]:
        got = await alerts_of(stub, incident_id)
        assert all(got[s].state == pb.ALERT_STATE_ACKNOWLEDGED for s in services), got
        return got

    return await assert_eventually(check, timeout_s=30)


async def test_road_accident_trippelvarsling_reaches_both_partners_and_is_journaled(
    alerting: AlertCluster,
) -> None:
    stub, partners = alerting.stub, alerting.partners
    inc = await create(stub, "oslo", OSLO, ROAD_ACCIDENT)
    proposed = {a.service: a for a in inc.alerts}
    assert set(proposed) == {FIRE, POLICE, LEGEVAKT}  # a red response: the legevakt too
    assert {s: a.action_card for s, a in proposed.items()} == {
        FIRE: "road-traffic",
        POLICE: "road-traffic",
        LEGEVAKT: "red-response-legevakt",
    }
    for a in proposed.values():
        assert a.state == pb.ALERT_STATE_PROPOSED
        assert a.criteria_code == ROAD_ACCIDENT and a.proposed_at.seconds > 0

    sent = {s: await send(stub, inc.id, s) for s in (FIRE, POLICE, LEGEVAKT)}
    for s, a in sent.items():
        assert (a.id, a.state) == (proposed[s].id, pb.ALERT_STATE_SENT)
        assert a.sent_at.ToNanoseconds() >= a.proposed_at.ToNanoseconds()
    assert sent[LEGEVAKT].recipient == f"116117:{OSLO_KOMMUNE}"  # the incident's municipality

    got = await acknowledged(stub, inc.id, FIRE, POLICE, LEGEVAKT)
    assert got[FIRE].acknowledged_by == partners.fire.name
    assert got[POLICE].acknowledged_by == partners.police.name
    assert got[LEGEVAKT].acknowledged_by == partners.legevakt.name
    for partner, alert in (
        (partners.fire, got[FIRE]),
        (partners.police, got[POLICE]),
        (partners.legevakt, got[LEGEVAKT]),
    ):
        docs = partner.documents_for(inc.id)
        assert [d.alert for d in docs] == [alert.id]  # once, and schema-valid (else refused)
        component = docs[0].document["incidentComponent"]
        assert component["internalIncidentId"] == inc.id
        assert component["incidentTypeInternalCode"] == ROAD_ACCIDENT
        assert alert.acknowledged_at.ToNanoseconds() >= alert.sent_at.ToNanoseconds()
    assert not partners.fire.refused and not partners.police.refused
    assert not partners.legevakt.refused

    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    entries = [(e.command, e.who) for e in history.entries]
    assert sum(1 for c, _ in entries if c == "SendAlert") == 3
    acks = {w for c, w in entries if c == "AcknowledgeAlert"}
    assert acks == {"partner:110", "partner:112", f"partner:116117:{OSLO_KOMMUNE}"}


async def test_unacknowledged_alert_escalates_then_a_late_ack_is_recorded(
    alerting: AlertCluster,
) -> None:
    stub = alerting.stub
    inc = await create(stub, "innlandet", HAMAR, "")
    assert not inc.alerts  # no criteria yet, nothing proposed
    triaged = await stub.TriageIncident(
        pb.TriageIncidentRequest(request_id=rid(), incident_id=inc.id, criteria_code=DROWNING),
        timeout=10,
    )
    assert {a.service for a in triaged.alerts} == {FIRE, POLICE, LEGEVAKT}  # by the triage
    sent = await send(stub, inc.id, FIRE)

    async def escalated() -> pb.Alert:
        a = (await alerts_of(stub, inc.id))[FIRE]
        assert a.state == pb.ALERT_STATE_ESCALATED, a
        return a

    esc = await assert_eventually(escalated, timeout_s=30, interval_s=0.1)
    waited = esc.escalated_at.ToNanoseconds() - sent.sent_at.ToNanoseconds()
    assert waited >= ESCALATE_AFTER_S * 1e9
    assert alerting.partners.silent_fire.documents_for(inc.id)  # it was delivered
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    assert [e.who for e in history.entries if e.command == "EscalateAlert"] == ["alert-watch"]

    # The on-call engineer's gauge counts it, and stops counting it once acknowledged.
    escalated_before = await assert_eventually(
        lambda: open_alerts(alerting, "innlandet", "110", "escalated", at_least=1),
        timeout_s=30,
        interval_s=0.5,
    )
    late = await stub.AcknowledgeAlert(
        pb.AcknowledgeAlertRequest(
            request_id=rid(), incident_id=inc.id, alert_id=esc.id, acknowledged_by="110 vakt"
        ),
        timeout=10,
    )
    assert (late.state, late.acknowledged_by) == (pb.ALERT_STATE_ACKNOWLEDGED, "110 vakt")
    fewer = escalated_before - 1
    await assert_eventually(
        lambda: open_alerts(alerting, "innlandet", "110", "escalated", exactly=fewer),
        timeout_s=30,
        interval_s=0.5,
    )


async def test_bad_alert_requests_are_refused_and_write_nothing(
    alerting: AlertCluster, etcd
) -> None:
    stub = alerting.stub
    inc = await create(stub, "oslo", OSLO, ROAD_ACCIDENT)
    fire = await send(stub, inc.id, FIRE)
    await acknowledged(stub, inc.id, FIRE)
    police = (await alerts_of(stub, inc.id))[POLICE]  # still proposed
    before = await etcd.revision()

    async def refused(method, request, code: grpc.StatusCode, field: str = "") -> None:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await method(request, timeout=10)
        assert err.value.code() == code, err.value.details()
        if field:
            trailer = dict(err.value.trailing_metadata() or ()).get("amk-field")
            assert trailer == field, err.value.details()

    for service in (0, 99):  # unspecified, unknown
        await refused(
            stub.SendAlert,
            pb.SendAlertRequest(request_id=rid(), incident_id=inc.id, service=service),
            grpc.StatusCode.INVALID_ARGUMENT,
            "service",
        )
    await refused(
        stub.AcknowledgeAlert,
        pb.AcknowledgeAlertRequest(request_id=rid(), incident_id=inc.id, alert_id="a9"),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(
        stub.AcknowledgeAlert,  # acknowledged already (by the partner)
        pb.AcknowledgeAlertRequest(request_id=rid(), incident_id=inc.id, alert_id=fire.id),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await refused(
        stub.AcknowledgeAlert,  # never sent
        pb.AcknowledgeAlertRequest(request_id=rid(), incident_id=inc.id, alert_id=police.id),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await refused(
        stub.CancelAlert,
        pb.CancelAlertRequest(request_id=rid(), incident_id=inc.id, alert_id="../a1"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "alert_id",
    )
    await refused(
        stub.ListAlerts,
        pb.ListAlertsRequest(incident_id="oslo-999999"),
        grpc.StatusCode.NOT_FOUND,
    )
    for phoned_to in ("x" * 201, "   "):  # whom the dispatcher phoned: a name, given
        await refused(
            stub.SendAlert,
            pb.SendAlertRequest(
                request_id=rid(), incident_id=inc.id, service=POLICE, phoned_to=phoned_to
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "phoned_to",
        )
    assert await etcd.revision() == before


async def test_cli_sends_and_lists_alerts(alerting: AlertCluster, capsys) -> None:
    import asyncio
    import json

    from clients.cli import main

    inc = await create(alerting.stub, "oslo", OSLO, "A.37.03")  # ongoing violence: 112
    assert [a.service for a in inc.alerts] == [POLICE, LEGEVAKT]  # and, red, the legevakt
    gateway = alerting.gateway

    def amk(*argv: str) -> object:
        capsys.readouterr()
        assert main(["--gateway", gateway, "--json", *argv]) == 0
        return json.loads(capsys.readouterr().out)

    for to in ("112", "116117"):
        sent = await asyncio.to_thread(amk, "alert", "send", inc.id, "--to", to)
        assert sent["state"] == "sent", sent
    await acknowledged(alerting.stub, inc.id, POLICE, LEGEVAKT)
    listed = await asyncio.to_thread(amk, "alert", "list", inc.id)
    partners = alerting.partners
    assert [a["acknowledged_by"] for a in listed] == [
        partners.police.name,
        partners.legevakt.name,
    ], listed
    assert main(["--gateway", gateway, "alert", "send", inc.id, "--to", "113"]) == 2  # usage


async def test_the_legevakt_is_the_one_serving_the_incidents_municipality(
    alerting: AlertCluster, etcd
) -> None:
    """Oslo's legevakt is configured for Oslo's municipality only: an incident in Hamar
    has none, and its alert is refused naming the municipality, with nothing written;
    at sea the nearest of the region's municipalities is asked for; a yellow response
    proposes no legevakt alert, and the legevakt may still be alerted by hand."""
    stub = alerting.stub
    hamar = await create(stub, "innlandet", HAMAR, DROWNING)
    assert LEGEVAKT in {a.service for a in hamar.alerts}
    before = await etcd.revision()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send(stub, hamar.id, LEGEVAKT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # what to give instead
    assert dict(err.value.trailing_metadata() or ()).get("amk-field") == "phoned_to"
    assert "no endpoint configured for 116117 in innlandet or municipality 3403" in (
        err.value.details() or ""
    )
    assert "--phoned-to" in (err.value.details() or "")  # and what to do instead
    assert await etcd.revision() == before
    # Alerted by phone instead: on record as sent and acknowledged by whom was told.
    phoned = await stub.SendAlert(
        pb.SendAlertRequest(
            request_id=rid(),
            incident_id=hamar.id,
            service=LEGEVAKT,
            phoned_to="Hamar legevakt, Ida",
        ),
        timeout=10,
    )
    assert (phoned.state, phoned.recipient, phoned.acknowledged_by) == (
        pb.ALERT_STATE_ACKNOWLEDGED,
        "phone",
        "Hamar legevakt, Ida",
    )
    assert phoned.sent_at == phoned.acknowledged_at and phoned.sent_at.seconds > 0
    # At sea in the Oslofjord: the legevakt of the nearest of Oslo's municipalities.
    boat = await create(stub, "oslo", pb.Position(lat=59.88, lon=10.68), DROWNING)
    before = await etcd.revision()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send(stub, boat.id, LEGEVAKT)
    assert "municipality 3212" in (err.value.details() or "")  # Nesodden: none configured
    assert await etcd.revision() == before
    yellow = await create(stub, "oslo", OSLO, "H.35.01")  # a road accident, haster
    assert LEGEVAKT not in {a.service for a in yellow.alerts}
    by_hand = await stub.SendAlert(
        pb.SendAlertRequest(
            request_id=rid(), incident_id=yellow.id, service=LEGEVAKT, reason="informer LVS"
        ),
        timeout=10,
    )
    assert (by_hand.action_card, by_hand.reason) == ("", "informer LVS")
    await acknowledged(stub, yellow.id, LEGEVAKT)
    assert [d.alert for d in alerting.partners.legevakt.documents_for(yellow.id)] == [by_hand.id]
