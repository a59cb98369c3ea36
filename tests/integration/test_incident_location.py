"""An incident's place told better later in the call, through the gateway against the
module's deployment (the session's etcd and Ray, five centres): the new position and
address in the record, the old place in a note and the journal, a retried request
answered the same, and refusals (a closed incident, nothing given, nowhere new) that
write nothing."""

from __future__ import annotations

import json

import grpc
import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.keys import Keys
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
