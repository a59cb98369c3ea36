"""Helpers of ``test_air_ambulance.py`` and ``test_air_withdrawal.py`` (issue #19): the
module's deployment settings, driving air ambulance requests through the public API and waiting
for their effects, and killing a centre."""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError
from cluster.keys import Keys
from tests.helpers import (
    assert_eventually,
    rid,
)

LA = "luftambulanse-hso"
LOM = pb.Position(lat=61.8385, lon=8.5690, accuracy_m=50)  # Innlandet, far from roads' ends
HELI = pb.UNIT_KIND_HELICOPTER


@pytest.fixture(scope="module")
def crash_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What an air module's deployment (the shared ``cluster`` fixture: five centres, two
    gateways) gets on top: ``air_crash_file`` lets a test kill the centre that is about
    to deliver an air change it has just committed. A module takes it as its
    ``cluster_settings``."""
    return {"air_crash_file": tmp_path_factory.mktemp("air") / "air-crash-once"}


async def create(stub, region: str = "innlandet", position: pb.Position = LOM) -> pb.Incident:
    req = pb.CreateIncidentRequest(
        request_id=rid(), region=region, position=position, criteria_code="A.35.01"
    )
    return await stub.CreateIncident(req, timeout=10)


async def request(stub, incident_id: str, kind: int = HELI, reason: str = "trapped") -> pb.Alert:
    req = pb.RequestAirAmbulanceRequest(
        request_id=rid(), incident_id=incident_id, kind=kind, reason=reason
    )
    return await stub.RequestAirAmbulance(req, timeout=15)


async def air_alerts(stub, incident_id: str) -> list[pb.Alert]:
    """The incident's air ambulance requests (a road accident also proposes 110/112)."""
    reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=incident_id), timeout=10)
    return [a for a in reply.alerts if a.service == pb.ALERT_SERVICE_AIR_AMBULANCE]


async def air_alert(stub, incident_id: str) -> pb.Alert:
    found = await air_alerts(stub, incident_id)
    assert len(found) == 1, found
    return found[0]


async def delivered(stub, incident_id: str) -> pb.AirMission:
    """Once the AMK-LA has the request: its one mission (the alert names it)."""

    async def check() -> pb.AirMission:
        alert = await air_alert(stub, incident_id)
        assert alert.mission_id and alert.delivered_at.seconds, alert
        missions = await list_missions(stub, incident_id)
        assert [m.id for m in missions] == [alert.mission_id]
        return missions[0]

    return await assert_eventually(check, timeout_s=30)


async def list_missions(stub, incident_id: str) -> list[pb.AirMission]:
    req = pb.AirListMissionsRequest(incident_id=incident_id, include_closed=True)
    return list((await stub.AirListMissions(req, timeout=10)).missions)


async def answer(stub, mission_id: str, decision: int, **kw) -> pb.AirMission:
    req = pb.AnswerAirRequestRequest(
        request_id=rid(), mission_id=mission_id, decision=decision, **kw
    )
    return await stub.AnswerAirRequest(req, timeout=20)


async def fly(stub, unit_id: str, status: int) -> pb.Unit:
    req = pb.ChangeUnitStatusRequest(request_id=rid(), unit_id=unit_id, status=status)
    return await stub.ChangeUnitStatus(req, timeout=20)


async def alert_reaches(stub, incident_id: str, state: int, mission_state: int) -> pb.Alert:
    async def check() -> pb.Alert:
        alert = await air_alert(stub, incident_id)
        assert (alert.state, alert.mission_state) == (state, mission_state), alert
        return alert

    return await assert_eventually(check, timeout_s=30)


async def reported(stub, mission_id: str) -> pb.AirMission:
    """The mission once its outbox is empty (the incident's alert holds its last change)."""

    async def check() -> pb.AirMission:
        m = await stub.AirGetMission(pb.AirGetMissionRequest(mission_id=mission_id), timeout=10)
        assert m.reported, m
        return m

    return await assert_eventually(check, timeout_s=30)


async def journal(etcd, keys: Keys, region: str) -> list[dict]:
    kvs, _ = await etcd.get_prefix(keys.journal_prefix(region))
    return [json.loads(kv.value) for kv in kvs]


def opened(entries: list[dict], mission_id: str) -> int:
    """How many journal entries created the mission (OpenAirMission commits)."""
    return sum(
        1 for e in entries if e["command"] == "OpenAirMission" and mission_id in e.get("ids", [])
    )


async def kill(cluster, centre: str) -> int:
    handle = cluster.deployment.centres[centre]
    handle.forget()
    pid = await handle.pid()
    os.kill(pid, signal.SIGKILL)
    return pid


async def back_as_standby(cluster, centre: str, pid: int) -> None:
    """The supervisor starts the killed centre again; it rejoins as a standby."""

    async def check() -> None:
        handle = cluster.deployment.centres[centre]
        handle.forget()
        try:
            status = await handle.status(timeout_s=2)
        except AmkError as err:
            raise AssertionError(f"not back yet: {err}") from err
        assert status.pid != pid

    await assert_eventually(check, timeout_s=60)
