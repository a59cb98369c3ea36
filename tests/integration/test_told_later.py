"""What the desk learns after the fact, through the gateway against the module's
deployment (the session's etcd and Ray, five centres): an incident's place told better
later in the call (the new position and address in the record, the old place in a note
and the journal, a retried request answered the same, refusals that write nothing), and
a crew's status told on the radio and entered later by a dispatcher (the journal keeps
when it happened; a time before the unit's last change is refused; a crew may not)."""

from __future__ import annotations

import json

import grpc
import pytest

from actors.domain.kpi import first_on_scene
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.keys import Keys
from cluster.tls import console_identity, open_channel
from cluster.tokens import LocalIssuer
from tests.helpers import rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]

HANDSET = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=900)
DRAMMEN = pb.Position(lat=59.7439, lon=10.2045, accuracy_m=10)  # Vestre Viken's area


async def refused(stub, request) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ChangeIncidentLocation(request, timeout=10)
    field = dict(err.value.trailing_metadata() or ()).get("amk-field", "")
    return err.value.code(), str(field)


async def test_the_place_is_changed_the_old_one_noted_and_journaled(stub, etcd, cluster) -> None:
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=HANDSET), timeout=10
    )
    before = await etcd.revision()
    code, field = await refused(
        stub, pb.ChangeIncidentLocationRequest(request_id=rid(), incident_id=inc.id)
    )
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "position")
    code, _ = await refused(
        stub,
        pb.ChangeIncidentLocationRequest(request_id=rid(), incident_id=inc.id, position=HANDSET),
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # there already
    assert await etcd.revision() == before

    move = pb.ChangeIncidentLocationRequest(
        request_id=rid(),
        incident_id=inc.id,
        position=DRAMMEN,
        address="Bragernes torg 1",
    )
    moved = await stub.ChangeIncidentLocation(move, timeout=10)
    assert (moved.position.lat, moved.position.lon, moved.address) == (
        DRAMMEN.lat,
        DRAMMEN.lon,
        "Bragernes torg 1",
    )
    assert moved.region == "oslo"  # another region's area: still Oslo's until handed over
    (note,) = moved.notes
    assert note.text.startswith("Location changed from 59.91390, 10.75220 (±900 m) to ")
    again = await stub.ChangeIncidentLocation(move, timeout=10)  # a retry: the same answer
    assert again == moved
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert got.revision == moved.revision and got.address == "Bragernes torg 1"
    keys = Keys(cluster.config.key_prefix)
    entries, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    mine = [json.loads(kv.value) for kv in entries]
    (entry,) = [e for e in mine if e["request_id"] == move.request_id]
    assert entry["command"] == "ChangeIncidentLocation"
    assert entry["from"] == "59.91390, 10.75220 (±900 m)"
    assert entry["to"] == "Bragernes torg 1 [59.74390, 10.20450 (±10 m)]"

    # Closed: read-only as far as its place goes, nothing written.
    await stub.ChangeIncidentStatus(
        pb.ChangeIncidentStatusRequest(
            request_id=rid(), incident_id=inc.id, status=pb.INCIDENT_STATUS_CANCELLED
        ),
        timeout=10,
    )
    before = await etcd.revision()
    code, _ = await refused(
        stub,
        pb.ChangeIncidentLocationRequest(request_id=rid(), incident_id=inc.id, address="Et annet"),
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert await etcd.revision() == before


def desk(cluster, role: str, unit: str = ""):
    """A stub with a person's own token of ``role`` at Oslo (and its channel)."""
    token = LocalIssuer.for_config(cluster.config).issue(
        "ola", role, "oslo", lifetime_s=600, unit=unit
    )
    channel = open_channel(cluster.gateway, console_identity(cluster.config), token=token)
    return pb_grpc.DispatchServiceStub(channel), channel


def at(seconds: float) -> pb.ChangeUnitStatusRequest:
    req = pb.ChangeUnitStatusRequest()
    req.occurred_at.FromNanoseconds(int(seconds * 1e9))
    return req


async def test_a_status_told_on_the_radio_is_entered_with_when_it_happened(
    stub, etcd, cluster
) -> None:
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="oslo", position=HANDSET), timeout=10
    )
    free = await stub.ListUnits(
        pb.ListUnitsRequest(regions=["oslo"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION),
        timeout=10,
    )
    unit = free.units[0]
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit.id), timeout=10
    )
    dispatcher, channel = desk(cluster, "dispatcher")
    try:
        en_route = await dispatcher.ChangeUnitStatus(
            pb.ChangeUnitStatusRequest(
                request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_EN_ROUTE
            ),
            timeout=10,
        )
        started = en_route.updated_at.ToNanoseconds() / 1e9
        # Before the unit set off: refused, nothing written.
        early = at(started - 30)
        early.MergeFrom(
            pb.ChangeUnitStatusRequest(
                request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_ON_SCENE
            )
        )
        before = await etcd.revision()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await dispatcher.ChangeUnitStatus(early, timeout=10)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "last status change" in (err.value.details() or "")
        assert await etcd.revision() == before
        # Told on the radio: on scene just as it set off (1 ms after: the timestamp's
        # round trip may shave a nanosecond off the stored time); typed in now.
        told = at(started + 0.001)
        told.MergeFrom(
            pb.ChangeUnitStatusRequest(
                request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_ON_SCENE
            )
        )
        there = await dispatcher.ChangeUnitStatus(told, timeout=10)
        assert there.status == pb.UNIT_STATUS_ON_SCENE
    finally:
        await channel.close()
    keys = Keys(cluster.config.key_prefix)
    entries, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    (entry,) = [
        e for e in (json.loads(kv.value) for kv in entries) if e["request_id"] == told.request_id
    ]
    assert entry["occurred_at"] == pytest.approx(started + 0.001, abs=1e-4)
    assert entry["at"] > entry["occurred_at"]  # refused calls and reads came between
    # The on-scene figure reads when it happened (the KPI's own function on this journal).
    assert first_on_scene([entry])[inc.id] == pytest.approx(started + 0.001, abs=1e-4)
    # A crew reports as it happens: a time of its own is not taken.
    crew, channel = desk(cluster, "crew", unit.id)
    try:
        late = at(started + 1)
        late.MergeFrom(
            pb.ChangeUnitStatusRequest(
                request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_TRANSPORTING
            )
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await crew.ChangeUnitStatus(late, timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "occurred_at" in (err.value.details() or "")  # not refused for the unit
        plain = pb.ChangeUnitStatusRequest(
            request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_TRANSPORTING
        )
        assert (await crew.ChangeUnitStatus(plain, timeout=10)).status == plain.status
    finally:
        await channel.close()
