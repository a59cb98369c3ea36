"""Hospital pre-notification end to end (issue #19): a stroke incident from an answered
113 call, a unit assigned, the destination recommended, the pre-notification sent with
an absolute expected arrival to the hospital, which checks the document and
acknowledges (journaled, in the incident's history); the unit moves and the hospital
gets an ETA update; the unit reaches the hospital and the KPIs report the lead time and
the trippelvarsling delay. Bad input is refused with the field named and writes nothing.

Real etcd and Ray (one deployment for the module). The hospitals and the 110 centre are
``clients/partner_stub.py`` on loopback: the hospitals check every document with
``actors.domain.prenotification_doc.validate``, the 110 centre with NENA's EIDO schema.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
import pytest
import pytest_asyncio

from actors.domain import prenotification_doc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.partner_stub import PartnerCentre
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.tls import client_identity, open_channel
from tests.helpers import (
    assert_eventually,
    key_prefix_for,
    one,
    rid,
    session_pki,
    session_token,
    ts,
)
from tests.unit.eido_schema import load_spec, schema_validator

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]

OSLO = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25)
DRAMMEN = pb.Position(lat=59.7430, lon=10.2440, accuracy_m=10)  # far off the way to Ullevål
STROKE_CODE = "A.28.01"  # sudden one-sided weakness: akutt, the stroke chapter
ROAD_ACCIDENT = "A.35.01"  # the road-traffic action card: 110 and 112
STROKE = pb.DESTINATION_CONDITION_STROKE
HOSPITAL = pb.ALERT_SERVICE_HOSPITAL


@dataclass
class HospitalCluster:
    stub: pb_grpc.DispatchServiceStub
    ulleval: PartnerCentre
    ahus: PartnerCentre
    fire: PartnerCentre
    gateway: str
    started: float
    deployment: Any  # clients.launcher.Deployment: a test kills a centre
    config: ClusterConfig


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def hospitals(
    etcd_server, ray_session, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[HospitalCluster]:
    from clients.launcher import Deployment

    ulleval = PartnerCentre("OUS Ullevål, slagvakt", prenotification_doc.validate).start()
    ahus = PartnerCentre("Ahus, akuttmottak", prenotification_doc.validate).start()
    fire = PartnerCentre("110 Øst", schema_validator(load_spec())).start()
    tag = uuid.uuid4().hex[:8]
    config = ClusterConfig.load(
        home=tmp_path_factory.mktemp("home"),
        key_prefix=key_prefix_for("hosp"),
        pki_dir=session_pki(),
        ray_namespace=f"amk-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}"],
        metrics=[f"127.0.0.1:{find_free_port()}"],
        hospital_endpoints={"ous-ulleval": ulleval.url, "ahus-lorenskog": ahus.url},
        alert_endpoints={"110": fire.url},
    )
    started = time.time()
    deployment = Deployment(config, [etcd_server.endpoint])
    await deployment.start()
    channel = open_channel(config.gateways[0], client_identity(), token=session_token())
    try:
        yield HospitalCluster(
            pb_grpc.DispatchServiceStub(channel),
            ulleval,
            ahus,
            fire,
            config.gateways[0],
            started,
            deployment,
            config,
        )
    finally:
        await channel.close()
        await deployment.stop()
        for partner in (ulleval, ahus, fire):
            partner.stop()


async def incident_from_call(stub, code: str, taker: str) -> pb.Incident:
    """A 113 call queued, answered by ``taker`` at AMK Oslo, an incident made from it."""
    return (await call_and_incident(stub, code, taker))[1]


async def call_and_incident(stub, code: str, taker: str) -> tuple[pb.Call, pb.Incident]:
    """The answered call and the incident made from it."""
    await stub.SignIn(pb.SignInRequest(centre="oslo", call_taker=taker), timeout=5)
    call = await stub.ReceiveCall(
        pb.ReceiveCallRequest(request_id=rid(), caller_number="+4790000113", position=OSLO),
        timeout=10,
    )
    answered = await stub.AnswerNextCall(
        pb.AnswerNextCallRequest(request_id=rid(), centre="oslo", call_taker=taker), timeout=10
    )
    assert answered.call.id == call.id
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(), region="oslo", position=OSLO, call_id=call.id, criteria_code=code
        ),
        timeout=10,
    )
    return answered.call, inc


async def assign_ambulance(stub, incident_id: str) -> pb.Unit:
    """The best road ambulance the recommendation offers, assigned, en route, on scene."""
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=incident_id), timeout=10)
    unit = next(r.unit for r in recs.recommendations if r.unit.kind == pb.UNIT_KIND_ROAD_AMBULANCE)
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=incident_id, unit_id=unit.id), timeout=10
    )
    for status in (pb.UNIT_STATUS_EN_ROUTE, pb.UNIT_STATUS_ON_SCENE):
        await unit_status(stub, unit.id, status)
    return unit


async def unit_status(stub, unit_id: str, status: int) -> pb.Unit:
    return await stub.ChangeUnitStatus(
        pb.ChangeUnitStatusRequest(request_id=rid(), unit_id=unit_id, status=status), timeout=10
    )


async def hospital_alert(stub, incident_id: str, alert_id: str) -> pb.Alert:
    reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=incident_id), timeout=10)
    return next(a for a in reply.alerts if a.id == alert_id)


async def delivered(stub, incident_id: str, alert_id: str, count: int) -> pb.Alert:
    """The alert once ``count`` documents are due and all recorded as taken."""

    async def check() -> pb.Alert:
        a = await hospital_alert(stub, incident_id, alert_id)
        pre = a.prenotification
        assert (pre.documents_due, pre.documents_delivered) == (count, count), pre
        return a

    return await assert_eventually(check, timeout_s=30)


def iso_s(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def test_stroke_prenotification_acknowledged_updated_and_arrived(
    hospitals: HospitalCluster,
) -> None:
    stub, ulleval = hospitals.stub, hospitals.ulleval
    inc = await incident_from_call(stub, STROKE_CODE, "slag-1")
    unit = await assign_ambulance(stub, inc.id)

    dest = await stub.RecommendDestination(
        pb.RecommendDestinationRequest(incident_id=inc.id), timeout=10
    )
    assert dest.condition == STROKE and dest.condition_reason.startswith("suggested: ")
    first = dest.destinations[0]
    assert first.hospital_id == "ous-ulleval" and first.capable
    assert first.reason.startswith("thrombolysis, ETA ")

    before = time.time()
    onset = before - 40 * 60
    sent = await stub.SendPreNotification(
        pb.SendPreNotificationRequest(
            request_id=rid(),
            incident_id=inc.id,
            hospital_id=first.hospital_id,
            condition=STROKE,
            age=74,
            sex=pb.PRE_NOTIFICATION_SEX_FEMALE,
            findings="right-sided weakness, aphasia",
            symptom_onset=ts(onset),
        ),
        timeout=10,
    )
    assert (sent.service, sent.state, sent.recipient) == (
        HOSPITAL,
        pb.ALERT_STATE_SENT,
        "ous-ulleval",
    )
    pre = sent.prenotification
    assert pre.unit_id == unit.id and pre.age == 74 and pre.urgency == pb.URGENCY_AKUTT
    expected = pre.expected_arrival.ToNanoseconds() / 1e9
    assert before < expected < before + 3600  # an absolute time, minutes ahead
    assert pre.eta_reason.startswith("on scene, leaving now: road ")

    async def acknowledged() -> pb.Alert:
        a = await hospital_alert(stub, inc.id, sent.id)
        assert a.state == pb.ALERT_STATE_ACKNOWLEDGED, a
        return a

    acked = await assert_eventually(acknowledged, timeout_s=30)
    assert acked.acknowledged_by == ulleval.name
    await delivered(stub, inc.id, sent.id, 1)  # the outbox is empty once it is recorded
    (doc,) = ulleval.documents_for(inc.id, "prenotification")  # once, and valid (else refused)
    assert not ulleval.refused
    body = doc.document
    assert (body["condition"], body["patient"], body["urgency"]) == (
        "stroke",
        {"age": 74, "sex": "female"},
        "akutt",
    )
    assert abs(iso_s(body["symptom_onset"]) - onset) < 1.0
    assert abs(iso_s(body["expected_arrival"]) - expected) < 1.0
    assert body["unit"]["id"] == unit.id and body["criteria_code"] == STROKE_CODE

    # The crew leaves with the patient; the unit ends up far off the way: the owner
    # commits a new expected arrival and the hospital gets the update.
    await unit_status(stub, unit.id, pb.UNIT_STATUS_TRANSPORTING)
    await stub.ReportUnitPosition(
        pb.ReportUnitPositionRequest(request_id=rid(), unit_id=unit.id, position=DRAMMEN),
        timeout=10,
    )

    async def updated() -> pb.Alert:
        a = await hospital_alert(stub, inc.id, sent.id)
        assert a.prenotification.eta_updates >= 1, a
        assert ulleval.documents_for(inc.id, "eta_update")
        return a

    moved = await assert_eventually(updated, timeout_s=30)
    later = moved.prenotification.expected_arrival.ToNanoseconds() / 1e9
    assert later > expected + 60  # Drammen is much farther from Ullevål than the scene
    assert moved.prenotification.eta_reason.startswith("transporting: road ")
    update = ulleval.documents_for(inc.id, "eta_update")[-1].document
    assert update["sequence"] == moved.prenotification.eta_updates
    assert abs(iso_s(update["expected_arrival"]) - later) < 1.0

    # At the hospital: the status change's write stamps the arrival.
    await unit_status(stub, unit.id, pb.UNIT_STATUS_AT_HOSPITAL)
    arrived = await hospital_alert(stub, inc.id, sent.id)
    got = arrived.prenotification
    assert got.HasField("arrived_at") and got.lead_time_s > 0
    lead = got.arrived_at.ToNanoseconds() / 1e9 - sent.sent_at.ToNanoseconds() / 1e9
    assert got.lead_time_s == pytest.approx(lead, abs=1e-3)

    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    by_command = {}
    for e in history.entries:
        by_command.setdefault(e.command, []).append(e)
    (send_entry,) = by_command["SendPreNotification"]
    details = json.loads(send_entry.details_json)
    assert (details["alert"], details["hospital"], details["unit"]) == (
        sent.id,
        "ous-ulleval",
        unit.id,
    )
    assert send_entry.tokens["oslo"] > 0  # a fenced write
    assert [e.who for e in by_command["AcknowledgeAlert"]] == ["hospital:ous-ulleval"]
    assert {e.who for e in by_command["UpdatePreNotificationEta"]} == {"eta-watch"}
    marks = [
        json.loads(e.details_json)["delivered"] for e in by_command["MarkPreNotificationDelivered"]
    ]
    assert marks[0] == 1 and marks == sorted(set(marks))  # each document recorded once
    (timeline,) = [a for a in history.alerts if a.id == sent.id]
    assert timeline.acknowledged_at.seconds and timeline.prenotification.arrived_at.seconds

    # KPIs of this module's window: the lead time of this stroke pre-notification.
    kpis = await stub.GetKpis(
        pb.GetKpisRequest(regions=["oslo"], since=ts(hospitals.started)), timeout=30
    )
    (lead_fig,) = [
        f for f in kpis.figures if f.measure == "prenotification_lead" and f.condition == STROKE
    ]
    assert lead_fig.count == 1 and lead_fig.p50_s == pytest.approx(got.lead_time_s, abs=1e-3)


async def test_trippelvarsling_delay_from_the_answered_call(hospitals: HospitalCluster) -> None:
    stub = hospitals.stub
    call, inc = await call_and_incident(stub, ROAD_ACCIDENT, "trafikk-1")
    sent = await stub.SendAlert(
        pb.SendAlertRequest(
            request_id=rid(), incident_id=inc.id, service=pb.ALERT_SERVICE_FIRE_110
        ),
        timeout=10,
    )
    kpis = await stub.GetKpis(
        pb.GetKpisRequest(regions=["oslo"], since=ts(hospitals.started)), timeout=30
    )
    fire = [
        f
        for f in kpis.figures
        if f.measure == "alert_sent" and f.alert_service == pb.ALERT_SERVICE_FIRE_110
    ]
    assert [f.count for f in fire] == [1]
    answered_at = call.answered_at.ToNanoseconds() / 1e9
    assert fire[0].p50_s == pytest.approx(
        sent.sent_at.ToNanoseconds() / 1e9 - answered_at, abs=1e-3
    )
    # The 112 alert the card proposed was never sent: counted apart, not lost.
    police = [
        f
        for f in kpis.figures
        if f.measure == "alert_sent" and f.alert_service == pb.ALERT_SERVICE_POLICE_112
    ]
    assert [dict((e.reason, e.count) for e in f.excluded) for f in police] == [{"not_sent": 1}]


async def test_a_new_destination_replaces_and_withdraws(hospitals: HospitalCluster) -> None:
    stub = hospitals.stub
    inc = await incident_from_call(stub, STROKE_CODE, "slag-2")
    await assign_ambulance(stub, inc.id)

    async def send(hospital: str) -> pb.Alert:
        req = pb.SendPreNotificationRequest(
            request_id=rid(), incident_id=inc.id, hospital_id=hospital, condition=STROKE
        )
        return await stub.SendPreNotification(req, timeout=10)

    first = await send("ous-ulleval")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send("ous-ulleval")  # the same hospital again: its ETA already follows the unit
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    second = await send("ahus-lorenskog")
    old = await hospital_alert(stub, inc.id, first.id)
    assert old.prenotification.replaced_by == second.id and not second.prenotification.age

    async def withdrawn() -> None:
        assert hospitals.ulleval.documents_for(inc.id, "withdrawn")
        assert hospitals.ahus.documents_for(inc.id, "prenotification")

    await assert_eventually(withdrawn, timeout_s=30)
    gone = hospitals.ulleval.documents_for(inc.id, "withdrawn")[0].document
    assert gone["alert_id"] == first.id and "Akershus" in gone["reason"]

    # The crew treats the patient on scene and leaves without transport: Ahus is told.
    await unit_status(stub, second.prenotification.unit_id, pb.UNIT_STATUS_AVAILABLE_MOBILE)
    closed = await hospital_alert(stub, inc.id, second.id)
    assert closed.prenotification.HasField("withdrawn_at") and "not transported" in closed.note

    async def ahus_told() -> None:
        doc = one(hospitals.ahus.documents_for(inc.id, "withdrawn"))
        assert doc.document["alert_id"] == second.id

    await assert_eventually(ahus_told, timeout_s=30)


async def test_bad_requests_are_refused_with_the_field_and_write_nothing(
    hospitals: HospitalCluster, etcd
) -> None:
    stub = hospitals.stub
    inc = await incident_from_call(stub, STROKE_CODE, "slag-3")
    await assign_ambulance(stub, inc.id)
    second = await assign_ambulance_extra(stub, inc.id)
    assert second
    before = await etcd.revision()

    async def refused(method, request, code: grpc.StatusCode, field: str = "") -> None:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await method(request, timeout=10)
        assert err.value.code() == code, err.value.details()
        if field:
            assert dict(err.value.trailing_metadata() or ()).get("amk-field") == field

    def pre(**kw) -> pb.SendPreNotificationRequest:
        base = dict(request_id=rid(), incident_id=inc.id, hospital_id="ous-ulleval")
        return pb.SendPreNotificationRequest(**{**base, "condition": STROKE, **kw})

    invalid = grpc.StatusCode.INVALID_ARGUMENT
    send = stub.SendPreNotification
    await refused(send, pre(hospital_id="atlantis"), invalid, "hospital_id")
    await refused(send, pre(condition=0), invalid, "condition")
    await refused(send, pre(condition=99), invalid, "condition")
    await refused(send, pre(age=131), invalid, "age")
    await refused(send, pre(sex=7), invalid, "sex")
    await refused(send, pre(symptom_onset=ts(time.time() + 3600)), invalid, "symptom_onset")
    await refused(send, pre(findings="x" * 2001), invalid, "findings")
    await refused(send, pre(request_id=""), invalid, "request_id")
    # Two units on the incident: which one carries the patient must be said.
    await refused(send, pre(), invalid, "unit_id")
    # No endpoint for Tynset: the dispatcher phones; nothing is written.
    await refused(
        send, pre(hospital_id="si-tynset", unit_id=second.id), grpc.StatusCode.FAILED_PRECONDITION
    )
    await refused(
        stub.SendAlert,
        pb.SendAlertRequest(request_id=rid(), incident_id=inc.id, service=HOSPITAL),
        invalid,
        "service",
    )
    rec = stub.RecommendDestination
    await refused(
        rec, pb.RecommendDestinationRequest(incident_id=inc.id, condition=9), invalid, "condition"
    )
    await refused(
        rec, pb.RecommendDestinationRequest(incident_id=inc.id, limit=21), invalid, "limit"
    )
    await refused(
        rec,
        pb.RecommendDestinationRequest(incident_id=inc.id, unit_id="no-such-unit"),
        invalid,
        "unit_id",
    )
    await refused(
        rec, pb.RecommendDestinationRequest(incident_id="OSL-999999"), grpc.StatusCode.NOT_FOUND
    )
    assert await etcd.revision() == before


async def assign_ambulance_extra(stub, incident_id: str) -> pb.Unit:
    """A second road ambulance on the incident (assigned only)."""
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=incident_id), timeout=10)
    unit = next(r.unit for r in recs.recommendations if r.unit.kind == pb.UNIT_KIND_ROAD_AMBULANCE)
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=incident_id, unit_id=unit.id), timeout=10
    )
    return unit


async def test_cli_destination_prenotify_and_history(hospitals: HospitalCluster, capsys) -> None:
    from clients.cli import main

    stub = hospitals.stub
    inc = await incident_from_call(stub, STROKE_CODE, "slag-4")
    unit = await assign_ambulance(stub, inc.id)

    def amk(*argv: str) -> dict:
        capsys.readouterr()
        assert main(["--gateway", hospitals.gateway, "--json", *argv]) == 0
        return json.loads(capsys.readouterr().out)

    dest = await asyncio.to_thread(amk, "destination", inc.id, "--condition", "stroke")
    assert dest["destinations"][0]["hospital_id"] == "ous-ulleval"
    sent = await asyncio.to_thread(
        amk, "prenotify", inc.id, "--hospital", "ous-ulleval", "--condition", "stroke",
        "--age", "81", "--sex", "male", "--onset", "25m", "--findings", "left arm weak",
    )  # fmt: skip
    assert sent["prenotification"]["age"] == 81 and sent["prenotification"]["unit_id"] == unit.id
    history = await asyncio.to_thread(amk, "incident", "history", inc.id)
    (alert,) = [a for a in history["alerts"] if a["id"] == sent["id"]]
    assert alert["sent_at"] and alert["prenotification"]["expected_arrival"]
    assert "SendPreNotification" in [e["command"] for e in history["entries"]]
    assert main(["--gateway", hospitals.gateway, "prenotify", inc.id, "--hospital", "x"]) == 2


async def test_a_withdrawal_is_retried_until_the_hospital_is_back(
    hospitals: HospitalCluster,
) -> None:
    """Ahus's receiving system is out when the crew leaves without the patient: the
    withdrawal stays owed (shown as 1 of 2 documents delivered), is tried again, and is
    delivered once Ahus is back, so the team does not wait for a patient not coming."""
    stub, ahus = hospitals.stub, hospitals.ahus
    inc = await incident_from_call(stub, STROKE_CODE, "slag-5")
    unit = await assign_ambulance(stub, inc.id)
    sent = await stub.SendPreNotification(
        pb.SendPreNotificationRequest(
            request_id=rid(), incident_id=inc.id, hospital_id="ahus-lorenskog", condition=STROKE
        ),
        timeout=10,
    )
    await delivered(stub, inc.id, sent.id, 1)
    ahus.down = True
    try:
        tried = ahus.turned_away
        await unit_status(stub, unit.id, pb.UNIT_STATUS_AVAILABLE_MOBILE)

        async def tried_again() -> None:
            assert ahus.turned_away >= tried + 2  # the first try and at least one more

        await assert_eventually(tried_again, timeout_s=30)
        owed = (await hospital_alert(stub, inc.id, sent.id)).prenotification
        assert (owed.documents_due, owed.documents_delivered) == (2, 1)
        assert not ahus.documents_for(inc.id, "withdrawn")
    finally:
        ahus.down = False
    await delivered(stub, inc.id, sent.id, 2)
    gone = one(ahus.documents_for(inc.id, "withdrawn"))
    assert gone.document["alert_id"] == sent.id and "not transported" in gone.document["reason"]
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    marks = [e for e in history.entries if e.command == "MarkPreNotificationDelivered"]
    assert [json.loads(e.details_json)["delivered"] for e in marks] == [1, 2]
    assert all(e.tokens["oslo"] > 0 for e in marks)  # fenced writes


async def test_the_next_owner_delivers_what_a_killed_centre_owed(
    hospitals: HospitalCluster,
) -> None:
    """Ullevål is out when the pre-notification is sent, and AMK Oslo is killed before
    Ullevål is back: Oslo's next owner finds the document owed in the record it takes
    over and delivers it, under its own fencing token. (Last in the module: Oslo ends
    served by its backup.)"""
    from tests.integration.air_support import back_as_standby, kill

    stub, ulleval = hospitals.stub, hospitals.ulleval
    inc = await incident_from_call(stub, STROKE_CODE, "slag-6")
    await assign_ambulance(stub, inc.id)
    ulleval.down = True
    try:
        tried = ulleval.turned_away
        sent = await stub.SendPreNotification(
            pb.SendPreNotificationRequest(
                request_id=rid(), incident_id=inc.id, hospital_id="ous-ulleval", condition=STROKE
            ),
            timeout=10,
        )

        async def tried_once() -> None:
            assert ulleval.turned_away > tried

        await assert_eventually(tried_once, timeout_s=30)
        pid = await kill(hospitals, "oslo")
    finally:
        ulleval.down = False
    acked = await delivered(stub, inc.id, sent.id, 1)
    assert acked.state == pb.ALERT_STATE_ACKNOWLEDGED and acked.acknowledged_by == ulleval.name
    assert one(ulleval.documents_for(inc.id, "prenotification")).document["alert_id"] == sent.id
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    token = {e.command: e.tokens["oslo"] for e in history.entries}
    assert token["MarkPreNotificationDelivered"] > token["SendPreNotification"]  # the next owner
    await back_as_standby(hospitals, "oslo", pid)
