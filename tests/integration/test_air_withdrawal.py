"""Withdrawing an air ambulance request from the requesting AMK (issue #19), end to end.

AMK Innlandet asks AMK-LA Oslo (region ``luftambulanse-hso``) for a helicopter, then
withdraws the request (``CancelAlert`` with a reason): before the base answered, the
mission is aborted at the AMK-LA; with the helicopter airborne, it is stood down and
free again; once the helicopter is on scene, the withdrawal is refused. The withdrawal
is an outbox of the incident like the request: the requesting centre killed between its
commit and the delivery, the region's next owner delivers it, once. Bad input is
refused naming the field and writes nothing.

Real etcd and Ray: one deployment (five centres, one gateway) for the module.
"""

from __future__ import annotations

import grpc
import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.keys import Keys
from tests.helpers import assert_eventually, rid
from tests.integration.air_support import (
    LA,
    air_alert,
    alert_reaches,
    answer,
    back_as_standby,
    crash_settings,
    create,
    delivered,
    fly,
    journal,
    kill,
    list_missions,
    reported,
    request,
)
from tests.integration.prenotification_support import refused
from tests.integration.support import owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]

S = pb.AirMissionState
ACCEPT = pb.AIR_DECISION_ACCEPT

cluster_settings = crash_settings  # the shared cluster fixture, with a crash point


async def withdraw(stub, incident_id: str, alert_id: str, reason: str) -> pb.Alert:
    req = pb.CancelAlertRequest(
        request_id=rid(), incident_id=incident_id, alert_id=alert_id, reason=reason
    )
    return await stub.CancelAlert(req, timeout=20)


async def told(stub, incident_id: str) -> pb.Alert:
    """The alert once the AMK-LA has answered the withdrawal and reported the end."""

    async def check() -> pb.Alert:
        alert = await air_alert(stub, incident_id)
        assert alert.withdrawal_delivered_at.seconds and not alert.withdrawal_owed, alert
        assert alert.mission_state == S.AIR_MISSION_STATE_ABORTED, alert
        assert alert.withdrawal_answer == S.AIR_MISSION_STATE_ABORTED, alert  # stood down
        return alert

    return await assert_eventually(check, timeout_s=30)


def entries(journal_: list[dict], command: str, record_id: str) -> list[dict]:
    return [e for e in journal_ if e["command"] == command and record_id in e.get("ids", [])]


async def test_a_request_withdrawn_before_the_answer_is_aborted_at_the_amk_la(
    cluster, stub, etcd
) -> None:
    keys = Keys(cluster.config.key_prefix)
    assert (await owner_of(etcd, keys, LA))[0] == "oslo"
    inc = await create(stub)
    sent = await request(stub, inc.id, reason="fall from a cliff, Lom")
    mission = await delivered(stub, inc.id)

    back = await withdraw(stub, inc.id, sent.id, "the patient died before the aircraft left")
    assert (back.state, back.withdrawn_by, back.note) == (
        pb.ALERT_STATE_CANCELLED,
        back.cancelled_by,
        "the patient died before the aircraft left",
    )
    assert back.withdrawn_at.seconds and back.withdrawn_by
    alert = await told(stub, inc.id)
    assert alert.state == pb.ALERT_STATE_CANCELLED
    assert alert.withdrawal_delivered_at.ToNanoseconds() >= alert.withdrawn_at.ToNanoseconds()

    got = await stub.AirGetMission(pb.AirGetMissionRequest(mission_id=mission.id), timeout=10)
    assert [e.state for e in got.events] == [
        S.AIR_MISSION_STATE_REQUESTED,
        S.AIR_MISSION_STATE_ABORTED,
    ]
    assert got.events[-1].note == (
        f"withdrawn by the requesting AMK (innlandet, {back.withdrawn_by}): "
        "the patient died before the aircraft left"
    )
    # The base can no longer answer it; nothing is written by trying.
    await reported(stub, mission.id)  # the AMK-LA's own last write (the report's receipt)
    before = await etcd.revision()
    await refused(
        stub.AnswerAirRequest,
        pb.AnswerAirRequestRequest(
            request_id=rid(),
            mission_id=mission.id,
            decision=ACCEPT,
            unit_id="osl-h01",
            base_doctor="Dr. L",
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert await etcd.revision() == before

    # On record on both sides, each under its own region's token.
    la = await journal(etcd, keys, LA)
    (stood_down,) = entries(la, "WithdrawAirRequest", mission.id)
    assert stood_down["tokens"][LA] > 0
    own = await journal(etcd, keys, "innlandet")
    assert len(entries(own, "CancelAlert", inc.id)) == 1
    assert len(entries(own, "MarkAirWithdrawalDelivered", inc.id)) == 1


async def test_an_airborne_helicopter_is_stood_down_and_free_again(cluster, stub) -> None:
    inc = await create(stub)
    sent = await request(stub, inc.id, reason="cardiac arrest, remote cabin")
    mission = await delivered(stub, inc.id)
    await answer(stub, mission.id, ACCEPT, unit_id="osl-h01", base_doctor="Dr. Lørenskog")
    await fly(stub, "osl-h01", pb.UNIT_STATUS_EN_ROUTE)
    await alert_reaches(stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_AIRBORNE)

    back = await withdraw(stub, inc.id, sent.id, "road unit on scene first, ROSC")
    assert back.state == pb.ALERT_STATE_ACKNOWLEDGED  # the base did say yes
    assert back.withdrawal_owed and not back.withdrawal_delivered_at.seconds
    alert = await told(stub, inc.id)
    assert alert.state == pb.ALERT_STATE_ACKNOWLEDGED and alert.aircraft_unit_id == "osl-h01"
    heli = await stub.GetUnit(pb.GetUnitRequest(unit_id="osl-h01"), timeout=10)
    assert (heli.status, heli.air_mission_id) == (pb.UNIT_STATUS_AVAILABLE_MOBILE, "")


async def test_too_late_on_scene_and_bad_input_are_refused_and_write_nothing(
    cluster, stub, etcd
) -> None:
    inc = await create(stub)
    sent = await request(stub, inc.id, reason="multi-trauma, Bøverdalen")
    mission = await delivered(stub, inc.id)
    await answer(stub, mission.id, ACCEPT, unit_id="osl-h02", base_doctor="Dr. Lørenskog")
    await fly(stub, "osl-h02", pb.UNIT_STATUS_EN_ROUTE)
    await fly(stub, "osl-h02", pb.UNIT_STATUS_ON_SCENE)
    await alert_reaches(stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_ON_SCENE)
    await reported(stub, mission.id)
    before = await etcd.revision()
    req = pb.CancelAlertRequest
    bad = grpc.StatusCode.INVALID_ARGUMENT
    await refused(
        stub.CancelAlert,
        req(request_id=rid(), incident_id=inc.id, alert_id=sent.id, reason="not needed"),
        grpc.StatusCode.FAILED_PRECONDITION,  # the helicopter is at the patient
    )
    await refused(
        stub.CancelAlert,
        req(request_id=rid(), incident_id=inc.id, alert_id=sent.id, reason="   "),
        bad,
        "reason",
    )
    await refused(
        stub.CancelAlert,
        req(request_id=rid(), incident_id=inc.id, alert_id="a99", reason="x"),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(
        stub.CancelAlert, req(request_id=rid(), incident_id=inc.id, reason="x"), bad, "alert_id"
    )
    await refused(
        stub.CancelAlert,
        req(request_id=rid(), incident_id=inc.id, alert_id=sent.id, reason="x" * 2001),
        bad,
        "reason",
    )
    assert await etcd.revision() == before
    await fly(stub, "osl-h02", pb.UNIT_STATUS_AVAILABLE_MOBILE)  # free for the next test


async def test_the_requesting_centre_killed_before_delivering_a_withdrawal(
    cluster, stub, etcd
) -> None:
    """The crash point kills Innlandet's centre right after it committed the withdrawal
    and before it delivered it: only the next owner's outbox scan can deliver it."""
    keys = Keys(cluster.config.key_prefix)
    crash = cluster.config.air_crash_file
    assert crash is not None
    inc = await create(stub)
    sent = await request(stub, inc.id, reason="hypothermia, lake ice")
    mission = await delivered(stub, inc.id)
    owner = (await owner_of(etcd, keys, "innlandet"))[0]
    pid = await cluster.deployment.centres[owner].pid()
    crash.touch()
    back = await withdraw(stub, inc.id, sent.id, "found walking, refuses transport")
    assert back.state == pb.ALERT_STATE_CANCELLED

    async def gone() -> None:
        assert not crash.exists()
        assert (await owner_of(etcd, keys, "innlandet"))[0] != owner

    await assert_eventually(gone, timeout_s=30)
    alert = await told(stub, inc.id)
    assert alert.withdrawal_delivered_at.seconds
    la = await journal(etcd, keys, LA)
    assert len(entries(la, "WithdrawAirRequest", mission.id)) == 1  # by the next owner
    own = await journal(etcd, keys, "innlandet")
    (mark,) = entries(own, "MarkAirWithdrawalDelivered", inc.id)
    (cancel,) = entries(own, "CancelAlert", inc.id)
    # Delivered by the next owner, under its own (higher) token for the region.
    assert mark["tokens"]["innlandet"] > cancel["tokens"]["innlandet"]
    await back_as_standby(cluster, owner, pid)


async def test_a_request_withdrawn_while_the_amk_la_fails_over_is_never_flown(
    cluster, stub, etcd
) -> None:
    """AMK-LA Oslo killed, a request sent and withdrawn at once: whichever reaches the
    AMK-LA's next owner first, the request or the withdrawal, the mission ends aborted,
    exactly one mission exists, and the incident hears the end."""
    keys = Keys(cluster.config.key_prefix)
    owner = (await owner_of(etcd, keys, LA))[0]
    inc = await create(stub)
    pid = await kill(cluster, owner)
    sent = await request(stub, inc.id, reason="man overboard, Mjøsa")
    back = await withdraw(stub, inc.id, sent.id, "found by the rescue boat")
    assert back.state == pb.ALERT_STATE_CANCELLED and back.withdrawal_owed
    alert = await told(stub, inc.id)
    (mission,) = await list_missions(stub, inc.id)
    assert alert.mission_id == mission.id == f"LAH-{inc.id}-{sent.id}"
    assert mission.state == S.AIR_MISSION_STATE_ABORTED
    assert (await owner_of(etcd, keys, LA))[0] != owner
    la = await journal(etcd, keys, LA)
    assert len(entries(la, "WithdrawAirRequest", mission.id)) == 1
    await reported(stub, mission.id)
    await back_as_standby(cluster, owner, pid)
