"""Major incidents against real etcd and Ray: a Ray actor of its own that survives the
kill of the centre serving its region, links incidents, reserves units from several
regions, shares the region's calls while it lasts, and is stood down."""

from __future__ import annotations

import os
import signal

import grpc
import pytest

from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.keys import Keys
from tests.helpers import assert_eventually, rid
from tests.integration.support import owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]

KONGSBERG = pb.Position(lat=59.6689, lon=9.6502, accuracy_m=50)
KRISTIANSAND = pb.Position(lat=58.1467, lon=7.9956, accuracy_m=50)


async def test_major_incident_outlives_the_centre_of_its_region(cluster, stub, coord, etcd):
    keys = Keys(cluster.config.key_prefix)
    declare_id = rid()
    major = await coord.DeclareMajorIncident(
        cpb.DeclareMajorIncidentRequest(
            request_id=declare_id,
            region="vestre-viken",
            position=KONGSBERG,
            kind="violence, several injured",
            expected_patients=8,
        ),
        timeout=30,
    )
    assert major.status == "declared" and major.actor_pid > 0
    again = await coord.DeclareMajorIncident(
        cpb.DeclareMajorIncidentRequest(
            request_id=declare_id,
            region="vestre-viken",
            position=KONGSBERG,
            kind="violence, several injured",
            expected_patients=8,
        ),
        timeout=30,
    )
    assert again.id == major.id  # a retried declare finds the same one
    assert await etcd.get(keys.sharing("vestre-viken")) is not None  # calls shared

    incidents = [
        await stub.CreateIncident(
            pb.CreateIncidentRequest(request_id=rid(), region="vestre-viken", position=KONGSBERG),
            timeout=10,
        )
        for _ in range(2)
    ]
    linked = await coord.LinkToMajorIncident(
        cpb.LinkToMajorIncidentRequest(
            request_id=rid(), major_incident_id=major.id, incident_ids=[i.id for i in incidents]
        ),
        timeout=15,
    )
    assert list(linked.incident_ids) == [i.id for i in incidents]
    units = []
    for region in ("vestre-viken", "oslo"):
        units += [
            u.id
            for u in (await stub.ListUnits(pb.ListUnitsRequest(regions=[region]), timeout=5)).units[
                :2
            ]
        ]
    reserved = await coord.ReserveUnitsForMajorIncident(
        cpb.ReserveUnitsRequest(request_id=rid(), major_incident_id=major.id, unit_ids=units),
        timeout=15,
    )
    assert list(reserved.reserved_unit_ids) == units

    # AMK Vestre Viken's actor dies: the major incident carries on.
    centre, _, _ = await owner_of(etcd, keys, "vestre-viken")
    pid = await cluster.deployment.centres[centre].pid()
    os.kill(pid, signal.SIGKILL)

    async def backup_serves() -> None:
        assert (await owner_of(etcd, keys, "vestre-viken"))[0] != centre

    await assert_eventually(backup_serves, timeout_s=30)
    status = await coord.GetMajorIncident(
        cpb.GetMajorIncidentRequest(major_incident_id=major.id), timeout=10
    )
    assert status.actor_pid == major.actor_pid and len(status.incident_ids) == 2
    third = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="vestre-viken", position=KONGSBERG),
        timeout=10,
    )
    more = await coord.LinkToMajorIncident(
        cpb.LinkToMajorIncidentRequest(
            request_id=rid(), major_incident_id=major.id, incident_ids=[third.id]
        ),
        timeout=15,
    )
    assert third.id in more.incident_ids

    down = await coord.StandDownMajorIncident(
        cpb.StandDownMajorIncidentRequest(request_id=rid(), major_incident_id=major.id),
        timeout=30,
    )
    assert down.status == "stood_down"
    texts = [t.text for t in down.timeline]
    assert texts[0].startswith("declared") and "stood down" in texts[-1]
    assert any("call sharing off" in t for t in texts)
    assert await etcd.get(keys.sharing("vestre-viken")) is None
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await coord.LinkToMajorIncident(
            cpb.LinkToMajorIncidentRequest(
                request_id=rid(), major_incident_id=major.id, incident_ids=[third.id]
            ),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_bad_major_incident_requests(coord, etcd):
    before = await etcd.revision()
    for req, field in (
        (
            cpb.DeclareMajorIncidentRequest(
                request_id=rid(), region="bergen", position=KONGSBERG, kind="x"
            ),
            "region",
        ),
        (cpb.DeclareMajorIncidentRequest(request_id=rid(), region="oslo", kind="x"), "position"),
        (
            cpb.DeclareMajorIncidentRequest(request_id=rid(), region="oslo", position=KONGSBERG),
            "kind",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await coord.DeclareMajorIncident(req, timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in err.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await coord.GetMajorIncident(
            cpb.GetMajorIncidentRequest(major_incident_id="MI-NOPE"), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert await etcd.revision() == before


async def test_a_reused_request_id_changes_no_major_incident(stub, coord, etcd, cluster):
    """A request id used before for another request is refused before any side effect:
    standing down under it leaves the major incident declared and its calls shared."""
    keys = Keys(cluster.config.key_prefix)
    used = f"dup-{rid()[:8]}"
    await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=used, region="sorlandet", position=KRISTIANSAND),
        timeout=10,
    )
    major = await coord.DeclareMajorIncident(
        cpb.DeclareMajorIncidentRequest(
            request_id=rid(),
            region="sorlandet",
            position=KRISTIANSAND,
            kind="bus off the road",
            expected_patients=20,
        ),
        timeout=30,
    )
    assert await etcd.get(keys.sharing("sorlandet")) is not None
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await coord.StandDownMajorIncident(
            cpb.StandDownMajorIncidentRequest(request_id=used, major_incident_id=major.id),
            timeout=30,
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "already used for a different request" in (info.value.details() or "")
    now = await coord.GetMajorIncident(
        cpb.GetMajorIncidentRequest(major_incident_id=major.id), timeout=10
    )
    assert now.status == "declared" and now.revision == major.revision
    assert await etcd.get(keys.sharing("sorlandet")) is not None
    # Stood down under its own id, and a retry of that answers as the first did.
    down = cpb.StandDownMajorIncidentRequest(request_id=rid(), major_incident_id=major.id)
    first = await coord.StandDownMajorIncident(down, timeout=30)
    again = await coord.StandDownMajorIncident(down, timeout=30)
    assert first.status == again.status == "stood_down" and again.revision == first.revision
