"""Air ambulance requests as cross-centre commands (issue #19), end to end.

AMK Innlandet asks AMK-LA Oslo (region ``luftambulanse-hso``) for a helicopter; the
AMK-LA accepts with an aircraft and the base doctor's name, the answer reaches the
incident's alert, and the mission follows the aircraft until it is free again. A
declined request records its reason. AMK Oslo's centre killed with SIGKILL while one
request waits for its answer, one waits for delivery and one aircraft is in the air:
Innlandet (first in the AMK-LA's line) takes the region over, answers there, and every
answer reaches its incident, nothing lost, nothing doubled. The requesting centre
killed while its answer is on the way: the answer reaches the incident's new owner.
Bad input is refused naming the field, and writes nothing.

Real etcd and Ray: one deployment (five centres, one gateway) for the module.
"""

from __future__ import annotations

import json

import grpc
import pytest

from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.keys import Keys
from tests.helpers import assert_eventually, rid
from tests.integration.air_support import (
    LA,
    LOM,
    air_alert,
    air_alerts,
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
    opened,
    reported,
    request,
)
from tests.integration.support import owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]

LYNGDAL = pb.Position(lat=58.1380, lon=7.0720)  # Agder
HELI, FIXED = pb.UNIT_KIND_HELICOPTER, pb.UNIT_KIND_FIXED_WING
ACCEPT, DECLINE = pb.AIR_DECISION_ACCEPT, pb.AIR_DECISION_DECLINE
S = pb.AirMissionState


cluster_settings = crash_settings  # the shared cluster fixture, with a crash point


# ---------------------------------------------------------------- accepted, followed


async def test_innlandet_asks_amk_la_oslo_the_helicopter_is_accepted_and_followed_to_the_end(
    cluster, stub, etcd
) -> None:
    keys = Keys(cluster.config.key_prefix)
    assert (await owner_of(etcd, keys, LA))[0] == "oslo"  # AMK Oslo coordinates the aircraft
    assert (await owner_of(etcd, keys, "innlandet"))[0] == "innlandet"
    inc = await create(stub)
    sent = await request(stub, inc.id, HELI, "trapped under a car, 2 h by road to Lillehammer")
    assert (sent.service, sent.state, sent.recipient) == (
        pb.ALERT_SERVICE_AIR_AMBULANCE,
        pb.ALERT_STATE_SENT,
        LA,
    )
    assert sent.air_kind == HELI and sent.sent_at.seconds > 0

    mission = await delivered(stub, inc.id)
    assert (mission.state, mission.region, mission.incident_region) == (
        S.AIR_MISSION_STATE_REQUESTED,
        LA,
        "innlandet",
    )
    assert mission.id == f"LAH-{inc.id}-{sent.id}" and mission.urgency == pb.URGENCY_AKUTT

    accepted = await answer(stub, mission.id, ACCEPT, unit_id="inn-h01", base_doctor="Dr. Dombås")
    assert (accepted.state, accepted.unit_id, accepted.base_doctor) == (
        S.AIR_MISSION_STATE_ACCEPTED,
        "inn-h01",
        "Dr. Dombås",
    )
    alert = await alert_reaches(
        stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_ACCEPTED
    )
    assert (alert.aircraft_unit_id, alert.base_doctor) == ("inn-h01", "Dr. Dombås")
    assert alert.acknowledged_at.ToNanoseconds() >= alert.delivered_at.ToNanoseconds()
    assert alert.delivered_at.ToNanoseconds() >= alert.sent_at.ToNanoseconds()
    heli = await stub.GetUnit(pb.GetUnitRequest(unit_id="inn-h01"), timeout=10)
    assert (heli.status, heli.air_mission_id, heli.region) == (
        pb.UNIT_STATUS_ASSIGNED,
        mission.id,
        LA,
    )

    # The incident follows its aircraft, as it follows a road unit.
    steps = [
        (pb.UNIT_STATUS_EN_ROUTE, S.AIR_MISSION_STATE_AIRBORNE, pb.INCIDENT_STATUS_DISPATCHED),
        (pb.UNIT_STATUS_ON_SCENE, S.AIR_MISSION_STATE_ON_SCENE, pb.INCIDENT_STATUS_ON_SCENE),
        (
            pb.UNIT_STATUS_TRANSPORTING,
            S.AIR_MISSION_STATE_TRANSPORTING,
            pb.INCIDENT_STATUS_TRANSPORTING,
        ),
        (
            pb.UNIT_STATUS_AT_HOSPITAL,
            S.AIR_MISSION_STATE_AT_HOSPITAL,
            pb.INCIDENT_STATUS_AT_HOSPITAL,
        ),
        (
            pb.UNIT_STATUS_AVAILABLE_AT_STATION,
            S.AIR_MISSION_STATE_COMPLETED,
            pb.INCIDENT_STATUS_AT_HOSPITAL,
        ),
    ]
    for status, state, incident_status in steps:
        await fly(stub, "inn-h01", status)
        await alert_reaches(stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, state)
        now = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=10)
        assert now.status == incident_status, state
        if state == S.AIR_MISSION_STATE_ON_SCENE:
            # Not closed under the aircraft's crew: refused, naming why, writing nothing.
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.ChangeIncidentStatus(
                    pb.ChangeIncidentStatusRequest(
                        request_id=rid(), incident_id=inc.id, status=pb.INCIDENT_STATUS_CLOSED
                    ),
                    timeout=10,
                )
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "inn-h01 is on_scene" in (err.value.details() or "")
            same = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=10)
            assert same.revision == now.revision
    done = await reported(stub, mission.id)
    assert done.state == S.AIR_MISSION_STATE_COMPLETED and done.closed_at.seconds > 0
    assert [e.state for e in done.events] == [S.AIR_MISSION_STATE_REQUESTED] + [
        S.AIR_MISSION_STATE_ACCEPTED
    ] + [state for _, state, _ in steps]
    heli = await stub.GetUnit(pb.GetUnitRequest(unit_id="inn-h01"), timeout=10)
    assert (heli.status, heli.air_mission_id) == (pb.UNIT_STATUS_AVAILABLE_AT_STATION, "")
    still_open = await stub.AirListMissions(
        pb.AirListMissionsRequest(incident_id=inc.id), timeout=10
    )
    assert list(still_open.missions) == []  # ended: listed only with include_closed

    # The journal: the request and every answer on the incident (Innlandet's region,
    # Innlandet's token), the mission's steps at the AMK-LA (its own region and token).
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    commands = [e.command for e in history.entries]
    assert commands.count("RequestAirAmbulance") == 1
    assert commands.count("MarkAirRequestDelivered") == 1
    assert commands.count("RecordAirMission") == len(steps) + 1
    assert {e.region for e in history.entries} == {"innlandet"}
    la = await journal(etcd, keys, LA)
    assert opened(la, mission.id) == 1
    assert all(e["tokens"].get(LA) for e in la if mission.id in e.get("ids", []))


# ---------------------------------------------------------------- declined


async def test_a_declined_request_records_the_reason_and_a_new_request_may_follow(stub) -> None:
    inc = await create(stub)
    first = await request(stub, inc.id, HELI, "fall from height")
    mission = await delivered(stub, inc.id)
    declined = await answer(
        stub, mission.id, DECLINE, reason="weather: fog over Dovre", base_doctor="Dr. Dombås"
    )
    assert (declined.state, declined.decline_reason) == (
        S.AIR_MISSION_STATE_DECLINED,
        "weather: fog over Dovre",
    )
    alert = await alert_reaches(stub, inc.id, pb.ALERT_STATE_DECLINED, S.AIR_MISSION_STATE_DECLINED)
    assert (alert.id, alert.note, alert.base_doctor) == (
        first.id,
        "weather: fog over Dovre",
        "Dr. Dombås",
    )
    assert alert.declined_at.seconds > 0 and not alert.acknowledged_at.seconds
    await reported(stub, mission.id)
    # Declined is final: the dispatcher asks again (an ambulance aircraft this time).
    second = await request(stub, inc.id, FIXED, "then by ambulance aircraft")
    assert second.id != first.id and second.state == pb.ALERT_STATE_SENT
    reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=inc.id), timeout=10)
    air = [a.state for a in reply.alerts if a.service == pb.ALERT_SERVICE_AIR_AMBULANCE]
    assert air == [pb.ALERT_STATE_DECLINED, pb.ALERT_STATE_SENT]

    async def two_missions() -> None:
        assert len(await list_missions(stub, inc.id)) == 2

    await assert_eventually(two_missions, timeout_s=30)


async def test_the_amk_las_reads_of_missions_are_in_the_access_log_as_the_incidents(
    cluster, stub
) -> None:
    """Normen: listing or showing a mission reads another AMK's patient data (address,
    urgency, the reason); each read is logged against the mission's incident."""
    from amk.audit.v1 import audit_pb2 as apb
    from amk.audit.v1 import audit_pb2_grpc as apb_grpc
    from cluster.tls import console_identity, open_channel
    from tests.helpers import session_token

    inc = await create(stub)
    await request(stub, inc.id, HELI, "fall from height, no road")
    mission = await delivered(stub, inc.id)  # AirListMissions, as the AMK-LA's console
    await stub.AirGetMission(pb.AirGetMissionRequest(mission_id=mission.id), timeout=10)
    channel = open_channel(cluster.gateway, console_identity(cluster.config), token=session_token())
    try:
        audit = apb_grpc.AuditServiceStub(channel)

        async def logged() -> None:
            rows = await audit.QueryAccessLog(
                apb.QueryAccessLogRequest(incident_id=inc.id), timeout=10
            )
            methods = {r.method.rsplit("/", 1)[-1] for r in rows.records}
            assert {"AirListMissions", "AirGetMission"} <= methods, methods
            (row,) = [r for r in rows.records if r.method.endswith("/AirGetMission")]
            seen = (row.record_kind, row.region, row.user)
            assert seen == ("incident", "innlandet", "test-suite"), row

        await assert_eventually(logged, timeout_s=30)
    finally:
        await channel.close()


# ---------------------------------------------------------------- bad input


async def test_bad_air_requests_are_refused_naming_the_field_and_write_nothing(
    cluster, stub, etcd
) -> None:
    inc = await create(stub)
    await request(stub, inc.id, HELI, "x")
    mission = await delivered(stub, inc.id)
    other = await create(stub)

    async def settled() -> None:
        for m in await list_missions(stub, inc.id):
            assert m.reported

    await assert_eventually(settled, timeout_s=30)
    before = await etcd.revision()

    async def refused(method, req, code: grpc.StatusCode, field: str = "") -> None:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await method(req, timeout=10)
        assert err.value.code() == code, err.value.details()
        if field:
            trailer = dict(err.value.trailing_metadata() or ()).get("amk-field")
            assert trailer == field, err.value.details()

    R, A = pb.RequestAirAmbulanceRequest, pb.AnswerAirRequestRequest
    bad = grpc.StatusCode.INVALID_ARGUMENT
    ask = stub.RequestAirAmbulance
    await refused(
        ask, R(request_id="", incident_id=other.id, kind=HELI, reason="x"), bad, "request_id"
    )
    await refused(
        ask, R(request_id=rid(), incident_id="", kind=HELI, reason="x"), bad, "incident_id"
    )
    await refused(ask, R(request_id=rid(), incident_id=other.id, reason="x"), bad, "kind")
    await refused(ask, R(request_id=rid(), incident_id=other.id, kind=99, reason="x"), bad, "kind")
    road = pb.UNIT_KIND_ROAD_AMBULANCE
    await refused(
        ask, R(request_id=rid(), incident_id=other.id, kind=road, reason="x"), bad, "kind"
    )
    await refused(
        ask, R(request_id=rid(), incident_id=other.id, kind=HELI, reason=" "), bad, "reason"
    )
    await refused(
        ask,
        R(request_id=rid(), incident_id="INN-999999", kind=HELI, reason="x"),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(  # one request at a time per incident: the first is not answered
        ask,
        R(request_id=rid(), incident_id=inc.id, kind=FIXED, reason="x"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    reply = stub.AnswerAirRequest
    await refused(reply, A(request_id=rid(), mission_id=mission.id), bad, "decision")
    await refused(reply, A(request_id=rid(), mission_id=mission.id, decision=7), bad, "decision")
    await refused(
        reply,
        A(request_id=rid(), mission_id=mission.id, decision=ACCEPT, base_doctor="d"),
        bad,
        "unit_id",
    )
    await refused(
        reply,
        A(request_id=rid(), mission_id=mission.id, decision=ACCEPT, unit_id="osl-h01"),
        bad,
        "base_doctor",
    )
    await refused(
        reply, A(request_id=rid(), mission_id=mission.id, decision=DECLINE), bad, "reason"
    )
    await refused(
        reply,
        A(request_id=rid(), mission_id="LAH-INN-999999-a1", decision=DECLINE, reason="x"),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(
        reply,
        A(request_id=rid(), mission_id="OSL-000001", decision=DECLINE, reason="x"),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(
        reply,
        A(
            request_id=rid(),
            mission_id=mission.id,
            decision=ACCEPT,
            unit_id="nope-1",
            base_doctor="d",
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(  # a road ambulance is not an aircraft of the AMK-LA
        reply,
        A(
            request_id=rid(),
            mission_id=mission.id,
            decision=ACCEPT,
            unit_id="inn-a11",
            base_doctor="d",
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await refused(
        stub.AirAbortMission,
        pb.AirAbortMissionRequest(request_id=rid(), mission_id=mission.id, reason="x"),
        grpc.StatusCode.FAILED_PRECONDITION,  # requested, not accepted: nothing to abort
    )
    air = await air_alert(stub, inc.id)
    await refused(
        stub.SendAlert,
        pb.SendAlertRequest(
            request_id=rid(), incident_id=other.id, service=pb.ALERT_SERVICE_AIR_AMBULANCE
        ),
        bad,
        "service",
    )
    await refused(
        stub.AcknowledgeAlert,
        pb.AcknowledgeAlertRequest(request_id=rid(), incident_id=inc.id, alert_id=air.id),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await refused(  # withdrawn with a reason (the AMK-LA is told why)
        stub.CancelAlert,
        pb.CancelAlertRequest(request_id=rid(), incident_id=inc.id, alert_id=air.id),
        bad,
        "reason",
    )
    await refused(  # aircraft are requested, not assigned
        stub.AssignUnit,
        pb.AssignUnitRequest(request_id=rid(), incident_id=other.id, unit_id="osl-h02"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await refused(
        stub.CreateIncident,
        pb.CreateIncidentRequest(request_id=rid(), region=LA, position=LOM),
        bad,
        "region",
    )
    await refused(stub.AirGetMission, pb.AirGetMissionRequest(mission_id="a/b"), bad, "mission_id")
    assert await etcd.revision() == before


# ---------------------------------------------------------------- failover


async def test_amk_oslo_killed_while_requests_wait_and_an_aircraft_flies_nothing_lost_or_doubled(
    cluster, stub, etcd
) -> None:
    keys = Keys(cluster.config.key_prefix)
    assert (await owner_of(etcd, keys, LA))[0] == "oslo"
    # Pending: delivered to AMK-LA Oslo, not answered.
    waiting = await create(stub)
    await request(stub, waiting.id, HELI, "avalanche, one buried")
    pending = await delivered(stub, waiting.id)
    # Mid-mission: accepted by Oslo, the aircraft airborne.
    flying = await create(stub)
    await request(stub, flying.id, HELI, "cardiac arrest, remote cabin")
    airborne = await delivered(stub, flying.id)
    await answer(stub, airborne.id, ACCEPT, unit_id="osl-h01", base_doctor="Dr. Lørenskog")
    await fly(stub, "osl-h01", pb.UNIT_STATUS_EN_ROUTE)
    await alert_reaches(stub, flying.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_AIRBORNE)
    late = await create(stub)

    pid = await kill(cluster, "oslo")
    # Sent while AMK-LA Oslo is dead or failing over: committed at Innlandet at once,
    # delivered to whoever owns the AMK-LA region next.
    during = await request(stub, late.id, FIXED, "burns, transfer to Haukeland")
    assert during.state == pb.ALERT_STATE_SENT

    async def innlandet_coordinates() -> None:
        assert (await owner_of(etcd, keys, LA))[0] == "innlandet"  # first in the AMK-LA line

    await assert_eventually(innlandet_coordinates, timeout_s=30)
    late_mission = await delivered(stub, late.id)

    # Answered at the new owner; the answers reach the incidents.
    await answer(stub, pending.id, ACCEPT, unit_id="osl-h02", base_doctor="Dr. Lørenskog 2")
    await answer(stub, late_mission.id, DECLINE, reason="both fixed wing on a transfer")
    got = await alert_reaches(
        stub, waiting.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_ACCEPTED
    )
    assert (got.aircraft_unit_id, got.base_doctor) == ("osl-h02", "Dr. Lørenskog 2")
    no = await alert_reaches(stub, late.id, pb.ALERT_STATE_DECLINED, S.AIR_MISSION_STATE_DECLINED)
    assert no.note == "both fixed wing on a transfer"
    # The aircraft in the air when Oslo died is followed to the end by the new owner.
    for status, state in (
        (pb.UNIT_STATUS_ON_SCENE, S.AIR_MISSION_STATE_ON_SCENE),
        (pb.UNIT_STATUS_AVAILABLE_MOBILE, S.AIR_MISSION_STATE_COMPLETED),
    ):
        await fly(stub, "osl-h01", status)
        await alert_reaches(stub, flying.id, pb.ALERT_STATE_ACKNOWLEDGED, state)

    # Nothing lost, nothing doubled: one mission per request, created once (journal),
    # each with its whole history, and every outbox empty.
    la = await journal(etcd, keys, LA)
    for inc, mission in ((waiting, pending), (flying, airborne), (late, late_mission)):
        assert [m.id for m in await list_missions(stub, inc.id)] == [mission.id]
        assert opened(la, mission.id) == 1, mission.id
        assert len(await air_alerts(stub, inc.id)) == 1
        await reported(stub, mission.id)
    done = await stub.AirGetMission(pb.AirGetMissionRequest(mission_id=airborne.id), timeout=10)
    assert [e.state for e in done.events] == [
        S.AIR_MISSION_STATE_REQUESTED,
        S.AIR_MISSION_STATE_ACCEPTED,
        S.AIR_MISSION_STATE_AIRBORNE,
        S.AIR_MISSION_STATE_ON_SCENE,
        S.AIR_MISSION_STATE_COMPLETED,
    ]
    writers = {e["tokens"][LA] for e in la if airborne.id in e.get("ids", [])}
    assert len(writers) == 2  # Oslo's token, then Innlandet's: fenced on both sides
    await back_as_standby(cluster, "oslo", pid)


async def test_the_requesting_centre_killed_while_its_answer_is_on_the_way(
    cluster, stub, etcd
) -> None:
    keys = Keys(cluster.config.key_prefix)
    inc = await create(stub, "sorlandet", LYNGDAL)
    await request(stub, inc.id, HELI, "drowning, Lyngdal")
    mission = await delivered(stub, inc.id)
    assert (await owner_of(etcd, keys, "sorlandet"))[0] == "sorlandet"
    pid = await kill(cluster, "sorlandet")
    # Answered while the incident's owner is dead: the report waits in the mission's
    # outbox until the incident's region has its next owner.
    await answer(stub, mission.id, ACCEPT, unit_id="sor-h01", base_doctor="Dr. Arendal")
    got = await alert_reaches(
        stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_ACCEPTED
    )
    assert got.aircraft_unit_id == "sor-h01"
    assert (await owner_of(etcd, keys, "sorlandet"))[0] == "vestfold-telemark"
    await reported(stub, mission.id)
    history = await stub.GetIncidentHistory(pb.GetIncidentHistoryRequest(incident_id=inc.id))
    records = [e for e in history.entries if e.command == "RecordAirMission"]
    assert len(records) == 1  # delivered once, whatever the retries
    await fly(stub, "sor-h01", pb.UNIT_STATUS_EN_ROUTE)
    await alert_reaches(stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_AIRBORNE)
    await back_as_standby(cluster, "sorlandet", pid)


async def test_a_centre_dying_between_commit_and_delivery_is_repaired_by_the_next_owner(
    cluster, stub, coord, etcd
) -> None:
    """The crash point kills the centre right after it committed an air change and
    before it delivered it: only the next owner's outbox scan can deliver it."""
    keys = Keys(cluster.config.key_prefix)
    crash = cluster.config.air_crash_file
    assert crash is not None
    # The AMK-LA region is handed back to AMK Oslo like any region (a supervisor's
    # command), with its missions and their outboxes.
    back = await coord.HandBackRegion(cpb.HandBackRegionRequest(request_id=rid(), region=LA))
    assert back.owner_centre == "oslo"

    # 1. The AMK-LA dies after committing an acceptance, before reporting it.
    inc = await create(stub)
    await request(stub, inc.id, HELI, "hypothermia, lake ice")
    mission = await delivered(stub, inc.id)
    oslo_pid = await cluster.deployment.centres["oslo"].pid()
    crash.touch()
    # The first owner committed the answer and died; the gateway retried the same
    # request id on the next owner, which answers with the stored first result.
    accepted = await answer(stub, mission.id, ACCEPT, unit_id="osl-f01", base_doctor="Dr. F")
    assert accepted.state == S.AIR_MISSION_STATE_ACCEPTED and not crash.exists()
    assert (await owner_of(etcd, keys, LA))[0] != "oslo"
    got = await alert_reaches(
        stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_ACCEPTED
    )
    assert got.aircraft_unit_id == "osl-f01"
    await reported(stub, mission.id)
    la = await journal(etcd, keys, LA)
    answers = [e for e in la if e["command"] == "AnswerAirRequest" and mission.id in e["ids"]]
    assert len(answers) == 1  # applied once, though sent twice
    await back_as_standby(cluster, "oslo", oslo_pid)

    # 2. The requesting centre dies after committing a request, before delivering it.
    vvi = await create(stub, "vestre-viken", pb.Position(lat=60.63, lon=8.56))  # Geilo
    owner = (await owner_of(etcd, keys, "vestre-viken"))[0]
    pid = await cluster.deployment.centres[owner].pid()
    crash.touch()
    sent = await request(stub, vvi.id, HELI, "skier, femur fracture")
    assert sent.state == pb.ALERT_STATE_SENT and not crash.exists()
    assert (await owner_of(etcd, keys, "vestre-viken"))[0] != owner
    late = await delivered(stub, vvi.id)  # by the next owner's scan
    assert late.id == f"LAH-{vvi.id}-{sent.id}"
    la = await journal(etcd, keys, LA)
    assert opened(la, late.id) == 1
    history = await stub.GetIncidentHistory(pb.GetIncidentHistoryRequest(incident_id=vvi.id))
    assert [e.command for e in history.entries].count("RequestAirAmbulance") == 1
    await back_as_standby(cluster, owner, pid)


async def test_cli_requests_answers_aborts_and_shows_the_alert_times(
    cluster, stub, capsys, monkeypatch
) -> None:
    import asyncio

    from clients.cli import main

    gateway = cluster.gateway
    inc = await create(stub)

    def amk(*argv: str) -> object:
        capsys.readouterr()
        assert main(["--gateway", gateway, "--json", *argv]) == 0, argv
        return json.loads(capsys.readouterr().out)

    sent = await asyncio.to_thread(
        amk, "air", "request", inc.id, "--kind", "helicopter", "--reason", "multi-trauma"
    )
    assert (sent["service"], sent["state"], sent["air_kind"]) == (
        "air_ambulance",
        "sent",
        "helicopter",
    )
    mission = await delivered(stub, inc.id)
    listed = await asyncio.to_thread(amk, "air", "list", "--incident", inc.id)
    assert [m["id"] for m in listed] == [mission.id]
    took = await asyncio.to_thread(
        amk, "air", "answer", mission.id, "accept", "--unit", "vvi-h01", "--doctor", "Dr. Ål"
    )
    assert (took["state"], took["unit_id"]) == ("accepted", "vvi-h01")
    await fly(stub, "vvi-h01", pb.UNIT_STATUS_EN_ROUTE)
    aborted = await asyncio.to_thread(
        amk, "air", "abort", mission.id, "--reason", "turned back: icing over Hemsedal"
    )
    assert aborted["state"] == "aborted"
    await alert_reaches(stub, inc.id, pb.ALERT_STATE_ACKNOWLEDGED, S.AIR_MISSION_STATE_ABORTED)
    heli = await stub.GetUnit(pb.GetUnitRequest(unit_id="vvi-h01"), timeout=10)
    assert (heli.status, heli.air_mission_id) == (pb.UNIT_STATUS_AVAILABLE_MOBILE, "")
    shown = await asyncio.to_thread(amk, "air", "show", mission.id)
    assert [e["state"] for e in shown["events"]] == ["requested", "accepted", "airborne", "aborted"]
    # For people, the history lists every moment of the request after the journal.
    monkeypatch.setenv("COLUMNS", "400")  # one table row per line, to read it back
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["--gateway", gateway, "incident", "history", inc.id]) == 0
    out = capsys.readouterr().out
    for part in (
        "RequestAirAmbulance",
        "Alert times",
        "delivered to the AMK-LA",
        "mission aborted",
    ):
        assert part in out, part
    # Usage errors and refusals are exit 2.
    assert main(["--gateway", gateway, "air", "request", inc.id, "--kind", "boat"]) == 2
    assert main(["--gateway", gateway, "air", "answer", mission.id, "decline"]) == 2  # no reason
