"""Withdrawing an air ambulance request, at the AMK-LA's side, on one centre run without
Ray against real etcd (AMK Oslo owns both Oslo and the AMK-LA region): a withdrawal
that arrives after the aircraft reached the patient changes nothing but is noted on the
mission and journaled under its id; and a withdrawal that waited while the base
accepted stands the aircraft down with the mission (never an aircraft left assigned to
an aborted mission).

The second needs two commands in a given order at one mission: the test holds the
mission's mailbox while both queue behind it (its locks are first come, first served).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio

from actors.centre.centre import Centre
from actors.centre.core import NoPeers
from actors.centre.region_state import RegionState
from actors.domain import air, alerts
from actors.domain.commands import (
    AnswerAirRequest,
    ChangeUnitStatus,
    CreateIncident,
    RequestAirAmbulance,
)
from actors.domain.model import AirMission, Incident, Position, UnitKind, UnitStatus
from actors.domain.model import AirMissionState as S
from cluster.config import ClusterConfig
from cluster.etcd_server import EmbeddedEtcd
from tests.helpers import assert_eventually, key_prefix_for, session_pki

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

LA = "luftambulanse-hso"


@pytest_asyncio.fixture(loop_scope="session")
async def centre(etcd_server: EmbeddedEtcd, tmp_path) -> AsyncIterator[Centre]:
    config = ClusterConfig.load(
        home=tmp_path, key_prefix=key_prefix_for("airw"), pki_dir=session_pki()
    )
    c = Centre(config, "oslo", NoPeers())
    await c.start([etcd_server.endpoint])

    async def serving() -> None:
        for region in ("oslo", LA):
            assert c.core.states.get(region) is RegionState.SERVING, region
            assert c.core.hosts[region].seeded, region

    await assert_eventually(serving, timeout_s=30)
    yield c
    await c.stop()


def rid() -> str:
    return uuid.uuid4().hex


async def requested(centre: Centre) -> tuple[Incident, str, str]:
    """An Oslo incident whose helicopter request the AMK-LA has (delivered locally)."""
    inc = (
        await centre.execute("oslo", CreateIncident(rid(), "oslo", Position(59.93, 10.72)))
    ).require_incident()
    done = await centre.execute(
        "oslo", RequestAirAmbulance(rid(), inc.id, UnitKind.HELICOPTER, "cardiac arrest")
    )
    alert = next(a for a in done.require_incident().alerts if a.service.value == "air_ambulance")

    async def mission_id() -> str:
        held = centre.core.hosts["oslo"].incidents[inc.id]
        mid = alerts.find(held, alert.id).mission_id
        assert mid and mid in centre.core.hosts[LA].missions
        return mid

    return inc, alert.id, await assert_eventually(mission_id, timeout_s=20)


async def journal(etcd, centre: Centre, region: str) -> list[dict]:
    kvs, _ = await etcd.get_prefix(centre.core.keys.journal_prefix(region))
    return [json.loads(kv.value) for kv in kvs]


async def test_a_withdrawal_after_the_aircraft_reached_the_patient_is_noted_not_obeyed(
    centre: Centre, etcd
) -> None:
    inc, alert_id, mission_id = await requested(centre)
    await centre.execute(
        LA, AnswerAirRequest(rid(), mission_id, True, unit_id="osl-h01", base_doctor="Dr. A")
    )
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        await centre.execute(LA, ChangeUnitStatus(rid(), "osl-h01", status))
    la = centre.core.hosts[LA]
    before = la.missions[mission_id]
    assert before.state is S.ON_SCENE
    # The requesting side withdrew while it still saw the helicopter in the air (its
    # report of "on scene" not yet recorded): the withdrawal as it would deliver it.
    held = centre.core.hosts["oslo"].incidents[inc.id]
    stale = replace(
        alerts.find(held, alert_id),
        mission_state=S.AIRBORNE,
        withdrawn_at=1.0,
        withdrawn_by="kari",
        note="road unit first",
    )
    cmd = air.withdrawal_command(held, stale, "LAH")
    answer = (await centre.execute(LA, cmd)).require_mission()

    assert (answer.state, answer.seq, answer.unit_id) == (S.ON_SCENE, before.seq, "osl-h01")
    after = la.missions[mission_id]
    assert after.events[:-1] == before.events
    last = after.events[-1]
    assert (last.state, last.by) == (S.ON_SCENE, "kari")
    assert last.note == (
        "withdrawn by the requesting AMK (oslo, kari): road unit first (too late: on_scene)"
    )
    # Kept on the mission for the coordinator, and in the stored record.
    assert (after.withdrawn_by, after.withdrawal_reason) == ("kari", "road unit first")
    assert after.withdrawal_answer is S.ON_SCENE and after.withdrawn_at > 0
    stored = await etcd.get(centre.core.keys.mission(LA, mission_id))
    assert stored is not None
    assert AirMission.decode(stored.value).withdrawal_answer is S.ON_SCENE
    heli = la.units["osl-h01"]
    assert (heli.status, heli.mission_id) == (UnitStatus.ON_SCENE, mission_id)  # flies on
    entries = [
        e
        for e in await journal(etcd, centre, LA)
        if e["command"] == "WithdrawAirRequest" and mission_id in e["ids"]
    ]
    assert len(entries) == 1 and entries[0]["mission_state"] == "on_scene"
    # A repeat of the same withdrawal writes nothing more.
    revision = await etcd.revision()
    again = (await centre.execute(LA, cmd)).require_mission()
    assert again.state is S.ON_SCENE and await etcd.revision() == revision


async def test_a_withdrawal_that_waited_while_the_base_accepted_frees_the_aircraft(
    centre: Centre,
) -> None:
    inc, alert_id, mission_id = await requested(centre)
    la = centre.core.hosts[LA]
    held = centre.core.hosts["oslo"].incidents[inc.id]
    withdrawn = air.withdraw(held, alert_id, "kari", "not needed", 2.0)
    cmd = air.withdrawal_command(withdrawn, alerts.find(withdrawn, alert_id), "LAH")
    accept = AnswerAirRequest(rid(), mission_id, True, unit_id="osl-h02", base_doctor="Dr. B")
    mailboxes = centre.core.mailboxes
    async with mailboxes.enter(mission_id):
        lock = mailboxes._locks[mission_id]
        accepting = asyncio.create_task(centre.execute(LA, accept))

        def queued(n: int):
            async def check() -> None:
                assert len(getattr(lock, "_waiters", None) or ()) == n

            return check

        await assert_eventually(queued(1), timeout_s=10)
        withdrawing = asyncio.create_task(centre.execute(LA, cmd))
        await assert_eventually(queued(2), timeout_s=10)
        # Both decided what to lock while the mission was still only requested.
    accepted = (await accepting).require_mission()
    aborted = (await withdrawing).require_mission()
    assert (accepted.state, accepted.unit_id) == (S.ACCEPTED, "osl-h02")
    assert aborted.state is S.ABORTED and aborted.seq == accepted.seq + 1
    heli = la.units["osl-h02"]
    assert (heli.status, heli.mission_id) == (UnitStatus.AVAILABLE_MOBILE, "")
