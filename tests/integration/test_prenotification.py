"""Hospital pre-notification end to end (issue #19): a stroke incident from an answered
113 call, a unit assigned, the destination recommended, the pre-notification sent with
an absolute expected arrival to the hospital, which checks the document and
acknowledges (journaled, in the incident's history); the unit moves and the hospital
gets an ETA update; the unit reaches the hospital and the KPIs report the lead time and
the trippelvarsling delay. Bad input is refused with the field named and writes nothing.

Real etcd and Ray (one deployment for the module, ``prenotification_support.py``; its
110 centre checks documents with NENA's EIDO schema). What happens when a hospital
does not answer is in ``test_prenotification_outbox.py``.
"""

from __future__ import annotations

import asyncio
import json
import time

import grpc
import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.helpers import assert_eventually, one, rid, ts
from tests.integration.prenotification_support import (
    DRAMMEN,
    HOSPITAL,
    MARKS,
    ROAD_ACCIDENT,
    STROKE,
    STROKE_CODE,
    HospitalCluster,
    assign_ambulance,
    call_and_incident,
    delivered,
    hospital_alert,
    hospitals_fixture,
    incident_from_call,
    iso_s,
    refused,
    unit_status,
)

pytestmark = MARKS
hospitals = hospitals_fixture(with_fire=True)


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
