"""A hospital that does not answer (issue #19): each document a pre-notification owes
its hospital (the first, each ETA update, the withdrawal) stays owed in the incident's
record, is retried until the hospital takes it, and is carried on by the next owner
when the centre dies; a dispatcher who phoned the hospital records that instead.

Real etcd and Ray (one deployment for the module, ``prenotification_support.py``);
the hospitals are ``clients/partner_stub.py`` on loopback, taken out with ``down``
(503 to everything). Oslo is killed in the last test: it ends served by its backup.
"""

from __future__ import annotations

import json

import grpc

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.helpers import assert_eventually, one, rid
from tests.integration.prenotification_support import (
    MARKS,
    STROKE_CODE,
    HospitalCluster,
    assign_ambulance,
    delivered,
    hospital_alert,
    hospitals_fixture,
    incident_from_call,
    refused,
    send_stroke,
    unit_status,
)

pytestmark = MARKS
hospitals = hospitals_fixture(with_fire=False)


async def test_a_withdrawal_is_retried_until_the_hospital_is_back(
    hospitals: HospitalCluster,
) -> None:
    """Ahus's receiving system is out when the crew leaves without the patient: the
    withdrawal stays owed (shown as 1 of 2 documents delivered), is tried again, and is
    delivered once Ahus is back, so the team does not wait for a patient not coming."""
    stub, ahus = hospitals.stub, hospitals.ahus
    inc = await incident_from_call(stub, STROKE_CODE, "slag-5")
    unit = await assign_ambulance(stub, inc.id)
    sent = await send_stroke(stub, inc.id, "ahus-lorenskog")
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


async def test_a_hospital_told_by_phone_is_owed_nothing_more(
    hospitals: HospitalCluster, etcd
) -> None:
    """Ahus's receiving system is out all along. The dispatcher phones the emergency
    room with the pre-notification and records it: the first document counts as
    delivered and acknowledged by whom they spoke to. The crew then leaves without the
    patient, and the withdrawal is phoned and recorded the same way. Each record is the
    caller's, in the journal; bad input names the field and writes nothing."""
    stub, ahus = hospitals.stub, hospitals.ahus
    inc = await incident_from_call(stub, STROKE_CODE, "slag-7")
    unit = await assign_ambulance(stub, inc.id)
    phoned = stub.ConfirmPreNotificationByPhone

    def told(**kw) -> pb.ConfirmPreNotificationByPhoneRequest:
        base = dict(request_id=rid(), incident_id=inc.id, alert_id=sent.id)
        return pb.ConfirmPreNotificationByPhoneRequest(**{**base, **kw})

    ahus.down = True
    try:
        sent = await send_stroke(stub, inc.id, "ahus-lorenskog")
        first = await phoned(told(spoke_with="akuttmottaket, sykepleier Berg"), timeout=10)
        assert (first.prenotification.documents_due, first.prenotification.documents_delivered) == (
            1, 1,
        )  # fmt: skip
        assert first.state == pb.ALERT_STATE_ACKNOWLEDGED
        assert first.acknowledged_by == "akuttmottaket, sykepleier Berg"
        await unit_status(stub, unit.id, pb.UNIT_STATUS_AVAILABLE_MOBILE)
        owed = (await hospital_alert(stub, inc.id, sent.id)).prenotification
        assert (owed.documents_due, owed.documents_delivered) == (2, 1)
        gone = await phoned(told(), timeout=10)  # whom they spoke to: not given
        assert (gone.prenotification.documents_due, gone.prenotification.documents_delivered) == (
            2, 2,
        )  # fmt: skip
        before = await etcd.revision()
        await refused(phoned, told(), grpc.StatusCode.FAILED_PRECONDITION)  # nothing owed
        invalid = grpc.StatusCode.INVALID_ARGUMENT
        await refused(phoned, told(alert_id=""), invalid, "alert_id")
        await refused(phoned, told(request_id=""), invalid, "request_id")
        await refused(phoned, told(spoke_with="x" * 300), invalid, "spoke_with")
        await refused(phoned, told(alert_id="a99"), grpc.StatusCode.NOT_FOUND)
        assert await etcd.revision() == before
    finally:
        ahus.down = False
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    who = {e.command: e.who for e in history.entries}
    entries = [e for e in history.entries if e.command == "ConfirmPreNotificationByPhone"]
    assert [json.loads(e.details_json) for e in entries] == [
        {"ids": [inc.id], "alert": sent.id, "by_phone": "akuttmottaket, sykepleier Berg",
         "delivered": 1},
        {"ids": [inc.id], "alert": sent.id, "by_phone": "-", "delivered": 2},
    ]  # fmt: skip
    assert {e.who for e in entries} == {who["SendPreNotification"]}
    assert all(e.tokens["oslo"] > 0 for e in entries)  # fenced writes


async def test_an_incident_handed_over_to_another_centre_is_delivered_by_it(
    hospitals: HospitalCluster,
) -> None:
    """Ahus is out when AMK Oslo sends the pre-notification, and the supervisor then
    hands the incident over to Innlandet's region (served by AMK Innlandet). Oslo tells
    Innlandet, which loads the incident at once and, once Ahus is back, delivers the
    owed document under its own region's token. Before, the document waited until
    something touched the incident at Innlandet."""
    from amk.coordination.v1 import coordination_pb2 as cpb
    from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
    from cluster.tls import client_identity, open_channel
    from tests.helpers import session_token

    stub, ahus = hospitals.stub, hospitals.ahus
    inc = await incident_from_call(stub, STROKE_CODE, "slag-8")
    await assign_ambulance(stub, inc.id)
    ahus.down = True
    channel = open_channel(hospitals.gateway, client_identity(), token=session_token())
    try:
        tried = ahus.turned_away
        sent = await send_stroke(stub, inc.id, "ahus-lorenskog")

        async def tried_once() -> None:
            assert ahus.turned_away > tried

        await assert_eventually(tried_once, timeout_s=30)
        coordination = cpb_grpc.CoordinationServiceStub(channel)
        moved = await coordination.HandOverIncident(
            cpb.HandOverIncidentRequest(
                request_id=rid(), incident_id=inc.id, to_region="innlandet"
            ),
            timeout=20,
        )
        assert moved.region == "innlandet"
    finally:
        ahus.down = False
        await channel.close()
    acked = await delivered(stub, inc.id, sent.id, 1)
    assert acked.state == pb.ALERT_STATE_ACKNOWLEDGED
    assert one(ahus.documents_for(inc.id, "prenotification")).document["alert_id"] == sent.id
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    (mark,) = [e for e in history.entries if e.command == "MarkPreNotificationDelivered"]
    assert "innlandet" in mark.tokens  # written by Innlandet's owner


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
        sent = await send_stroke(stub, inc.id, "ous-ulleval")

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
