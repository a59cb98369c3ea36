"""Telephone-guided CPR through the gateway: a call answered, the incident made from it,
the guidance and the caller's compressions recorded (each once, in order, journaled),
refusals that write nothing, and the review's figures from the call in GetKpis. The
session's deployment (etcd and Ray, five centres)."""

from __future__ import annotations

import json
import time

import grpc
import pytest

from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.helpers import rid, ts

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]

GRUNERLOKKA = pb.Position(lat=59.9226, lon=10.7590, accuracy_m=30)
CALL_TAKER = "hlr-1"


async def refused(call, request) -> tuple[grpc.StatusCode, str, str]:
    """(code, details, amk-field trailer) of a call that must fail."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(request, timeout=10)
    field = dict(err.value.trailing_metadata() or ()).get("amk-field", "")
    return err.value.code(), err.value.details() or "", str(field)


def step(incident_id: str, value: int, request_id: str = "") -> pb.RecordCprGuidanceRequest:
    return pb.RecordCprGuidanceRequest(
        request_id=request_id or rid(), incident_id=incident_id, step=value
    )


async def test_cpr_guidance_is_recorded_once_in_order_and_timed_from_the_call(stub, coord) -> None:
    since = time.time() - 1
    await stub.SignIn(pb.SignInRequest(centre="oslo", call_taker=CALL_TAKER), timeout=5)
    call = await stub.ReceiveCall(
        pb.ReceiveCallRequest(request_id=rid(), caller_number="+4790011311", position=GRUNERLOKKA),
        timeout=10,
    )
    answered = await stub.AnswerNextCall(
        pb.AnswerNextCallRequest(request_id=rid(), centre="oslo", call_taker=CALL_TAKER),
        timeout=10,
    )
    assert answered.call.id == call.id
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(), region="oslo", position=GRUNERLOKKA, call_id=call.id
        ),
        timeout=10,
    )
    assert not inc.HasField("cpr")
    record = stub.RecordCprGuidance

    # Refused, with nothing written: no step, compressions before the guidance, nobody.
    code, _, field = await refused(record, step(inc.id, pb.CPR_STEP_UNSPECIFIED))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "step")
    code, details, _ = await refused(record, step(inc.id, pb.CPR_STEP_COMPRESSIONS))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "not started" in details
    code, _, field = await refused(record, step("", pb.CPR_STEP_STARTED))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "incident_id")
    code, _, _ = await refused(record, step("OSL-999999", pb.CPR_STEP_STARTED))
    assert code == grpc.StatusCode.NOT_FOUND
    same = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert same.revision == inc.revision and not same.HasField("cpr")

    # Started, by whom the token says; the same request again is the same answer.
    first = rid()
    started = await record(step(inc.id, pb.CPR_STEP_STARTED, first), timeout=10)
    assert started.cpr.started_at.ToSeconds() >= int(since) and started.cpr.started_by
    assert not started.cpr.HasField("compressions_at")
    again = await record(step(inc.id, pb.CPR_STEP_STARTED, first), timeout=10)
    assert again.cpr == started.cpr and again.revision == started.revision
    code, details, _ = await refused(record, step(inc.id, pb.CPR_STEP_STARTED))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "already recorded" in details

    # While the caller is guided, the incident stays with the centre guiding them.
    code, details, _ = await refused(
        coord.HandOverIncident,
        cpb.HandOverIncidentRequest(request_id=rid(), incident_id=inc.id, to_region="sorlandet"),
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "guided through CPR" in details
    still = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert (still.region, still.revision) == ("oslo", started.revision)

    done = await record(step(inc.id, pb.CPR_STEP_COMPRESSIONS), timeout=10)
    assert done.cpr.started_at == started.cpr.started_at
    assert done.cpr.compressions_at.ToNanoseconds() >= started.cpr.started_at.ToNanoseconds()
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    assert [e.command for e in history.entries].count("RecordCprGuidance") == 2

    # The review's figures, from the call's answer (the incident was never triaged).
    kpis = await stub.GetKpis(pb.GetKpisRequest(regions=["oslo"], since=ts(since)), timeout=10)
    found = {
        f.measure: f
        for f in kpis.figures
        if f.measure in ("tcpr_started", "tcpr_compressions")
        and f.urgency == pb.URGENCY_UNSPECIFIED
    }
    assert set(found) == {"tcpr_started", "tcpr_compressions"}, kpis.figures
    gap = done.cpr.compressions_at.ToNanoseconds() - answered.call.answered_at.ToNanoseconds()
    compressions = found["tcpr_compressions"]
    assert compressions.count == 1 and compressions.target_s == 0
    assert abs(compressions.p50_s - gap / 1e9) < 0.01
    assert found["tcpr_started"].p50_s <= compressions.p50_s

    history_steps = [
        json.loads(e.details_json).get("step")
        for e in history.entries
        if e.command == "RecordCprGuidance"
    ]
    assert history_steps == ["started", "compressions"], history_steps

    # Recognised, not guided: why is required, and only for that step.
    other = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=GRUNERLOKKA),
        timeout=10,
    )
    code, _, field = await refused(record, step(other.id, pb.CPR_STEP_NOT_GIVEN))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    with_reason = step(other.id, pb.CPR_STEP_STARTED)
    with_reason.reason = "ikke relevant"
    code, _, field = await refused(record, with_reason)
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    not_given = step(other.id, pb.CPR_STEP_NOT_GIVEN)
    not_given.reason = "Innringer kan ikke forlate bilen"
    got = await record(not_given, timeout=10)
    assert got.cpr.not_given_reason == "Innringer kan ikke forlate bilen"
    assert got.cpr.not_given_by and not got.cpr.HasField("started_at")
    again = step(other.id, pb.CPR_STEP_NOT_GIVEN)
    again.reason = "To linjer\nher"
    code, _, field = await refused(record, again)
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    again.reason = "En gang til"
    code, details, _ = await refused(record, again)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "not given" in details
    got = await record(step(other.id, pb.CPR_STEP_STARTED), timeout=10)
    assert got.cpr.HasField("started_at") and got.cpr.not_given_reason

    # A closed incident is not guided.
    closed = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=GRUNERLOKKA),
        timeout=10,
    )
    await stub.ChangeIncidentStatus(
        pb.ChangeIncidentStatusRequest(
            request_id=rid(), incident_id=closed.id, status=pb.INCIDENT_STATUS_CANCELLED
        ),
        timeout=10,
    )
    code, details, _ = await refused(record, step(closed.id, pb.CPR_STEP_STARTED))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "cancelled" in details
    await stub.SignOut(pb.SignOutRequest(centre="oslo", call_taker=CALL_TAKER), timeout=5)


async def test_the_end_of_the_guidance_frees_the_incident_for_a_hand_over(stub, coord) -> None:
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=GRUNERLOKKA),
        timeout=10,
    )
    record = stub.RecordCprGuidance
    await record(step(inc.id, pb.CPR_STEP_STARTED), timeout=10)
    hand_over = cpb.HandOverIncidentRequest(
        request_id=rid(), incident_id=inc.id, to_region="sorlandet"
    )
    code, details, _ = await refused(coord.HandOverIncident, hand_over)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "guided through CPR" in details

    # How it ended is required with the step, and refused with any other; nothing written.
    before = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    code, _, field = await refused(record, step(inc.id, pb.CPR_STEP_ENDED))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "end")
    stray = step(inc.id, pb.CPR_STEP_COMPRESSIONS)
    stray.end = pb.CPR_END_ROSC
    code, _, field = await refused(record, stray)
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "end")
    same = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert same.revision == before.revision and not same.cpr.HasField("ended_at")

    # Clicked on the wrong incident: ended as no arrest; the record stays, the hold goes.
    ended = step(inc.id, pb.CPR_STEP_ENDED)
    ended.end = pb.CPR_END_NOT_ARREST
    got = await record(ended, timeout=10)
    assert got.cpr.end == pb.CPR_END_NOT_ARREST and got.cpr.ended_by
    assert got.cpr.HasField("started_at") and got.cpr.HasField("ended_at")
    code, details, _ = await refused(record, step(inc.id, pb.CPR_STEP_COMPRESSIONS))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "ended" in details
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    details_of = [
        (d.get("step"), d.get("end"))
        for d in (
            json.loads(e.details_json) for e in history.entries if e.command == "RecordCprGuidance"
        )
    ]
    assert details_of == [("started", None), ("ended", "not_arrest")], details_of
    await coord.HandOverIncident(hand_over, timeout=10)
    moved = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert moved.region == "sorlandet" and moved.cpr.end == pb.CPR_END_NOT_ARREST


async def test_a_false_arrest_found_on_scene_is_corrected_there(stub) -> None:
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=GRUNERLOKKA),
        timeout=10,
    )
    await stub.RecordCprGuidance(step(inc.id, pb.CPR_STEP_STARTED), timeout=10)
    free = await stub.ListUnits(
        pb.ListUnitsRequest(regions=["oslo"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION),
        timeout=10,
    )
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=free.units[0].id),
        timeout=10,
    )
    await stub.ChangeIncidentStatus(
        pb.ChangeIncidentStatusRequest(
            request_id=rid(), incident_id=inc.id, status=pb.INCIDENT_STATUS_ON_SCENE
        ),
        timeout=10,
    )
    rosc = step(inc.id, pb.CPR_STEP_ENDED)
    rosc.end = pb.CPR_END_ROSC
    code, details, _ = await refused(stub.RecordCprGuidance, rosc)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "on_scene" in details
    fix = step(inc.id, pb.CPR_STEP_ENDED)
    fix.end = pb.CPR_END_NOT_ARREST
    got = await stub.RecordCprGuidance(fix, timeout=10)
    assert got.status == pb.INCIDENT_STATUS_ON_SCENE and got.cpr.end == pb.CPR_END_NOT_ARREST
