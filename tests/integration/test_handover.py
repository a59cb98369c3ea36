"""Supervisors' hand-overs against real etcd and Ray (regions, incidents, units), a gateway
killed under a client, a unit diverted to another incident (one transaction; no refusal writes)."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.client import AmkClient
from cluster import ownership
from cluster.errors import FencedError
from cluster.keys import Keys
from cluster.logs import process_log
from cluster.session import Session
from cluster.store import FencedStore, StaleRecordError, Write
from tests.helpers import assert_eventually, kill_gateway, rid
from tests.integration.support import Writer, check_nothing_lost, owner_of
from tests.integration.support import two_gateways as cluster_gateways  # noqa: F401

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]


async def test_region_handed_over_and_back_under_load_loses_nothing(cluster, stub, coord, etcd):
    keys = Keys(cluster.config.key_prefix)
    region = "innlandet"
    giver, _, token0 = await owner_of(etcd, keys, region)
    writer = Writer(stub, region)
    writer.start(3)

    async def acked(n: int) -> None:
        assert len(writer.acked) >= n

    await assert_eventually(lambda: acked(20), timeout_s=30)
    status = await coord.HandOverRegion(
        cpb.HandOverRegionRequest(request_id=rid(), region=region, to_centre="oslo"), timeout=15
    )
    assert status.owner_centre == "oslo" and status.fencing_token > token0
    # The takeover record names the centre it came from, not its new holder.
    await assert_eventually(lambda: took(etcd, keys, region, status.fencing_token, giver))
    # And in the taker's own log file, where an on-call engineer greps for it.
    log = process_log(cluster.config.home, "centre", "oslo", cluster.config.site)
    taken = [json.loads(line) for line in log.read_text().splitlines() if "region_taken" in line]
    assert any(
        (t["region"], t["token"], t["previous"]) == (region, status.fencing_token, giver)
        for t in taken
    ), taken[-3:]
    n = len(writer.acked)
    await assert_eventually(lambda: acked(n + 20), timeout_s=30)
    back = await coord.HandBackRegion(
        cpb.HandBackRegionRequest(request_id=rid(), region=region), timeout=15
    )
    assert back.owner_centre == "innlandet" and back.fencing_token > status.fencing_token
    await assert_eventually(lambda: took(etcd, keys, region, back.fencing_token, "oslo"))

    async def reported() -> None:  # in parts too, for a console to say in its language
        status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
        r = next(r for r in status.regions if r.id == region)
        parts = (r.last_takeover_by, r.last_takeover_from, r.last_takeover_token)
        assert parts == ("innlandet", "oslo", back.fencing_token), r
        assert r.last_takeover_at.seconds > 0 and r.last_takeover_handed, r
        assert "was handed it by oslo" in r.last_takeover, r

    await assert_eventually(reported)
    n = len(writer.acked)
    await assert_eventually(lambda: acked(n + 20), timeout_s=30)
    await writer.stop()
    assert writer.failed == [], "a client call failed during the hand-overs"
    await check_nothing_lost(etcd, keys, writer)
    # Both moves are in the journal, each under the token it was made with.
    journal, _ = await etcd.get_prefix(keys.journal_prefix(region))
    moves = [json.loads(j.value) for j in journal]
    moves = [m for m in moves if m["command"] == "HandOverRegion"]
    assert [m["to_centre"] for m in moves] == ["oslo", "innlandet"]
    assert moves[0]["tokens"] == {region: token0}


async def took(etcd, keys: Keys, region: str, token: int, previous: str) -> None:
    """The region's takeover record: made at ``token``, handed over by ``previous``."""
    kv = await etcd.get(keys.takeover(region))
    assert kv is not None
    record = json.loads(kv.value)
    assert (record["token"], record["previous"], record["handed"]) == (token, previous, True)


async def test_incident_handed_over_with_its_units(stub, coord, etcd, cluster):
    keys = Keys(cluster.config.key_prefix)
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(), region="vestfold-telemark", position=pb.Position(lat=59.2, lon=9.6)
        ),
        timeout=10,
    )
    unit = (
        await stub.ListUnits(
            pb.ListUnitsRequest(
                regions=["vestfold-telemark"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION
            )
        )
    ).units[0]
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit.id), timeout=10
    )
    moved = await coord.HandOverIncident(
        cpb.HandOverIncidentRequest(request_id=rid(), incident_id=inc.id, to_region="sorlandet"),
        timeout=10,
    )
    assert moved.region == "sorlandet" and list(moved.assigned_unit_ids) == [unit.id]
    assert await etcd.get(keys.incident("vestfold-telemark", inc.id)) is None
    assert await etcd.get(keys.unit("vestfold-telemark", unit.id)) is None
    assert await etcd.get(keys.unit("sorlandet", unit.id)) is not None

    # The new region's centre now serves the incident and its unit.
    async def served_in_new_region() -> None:
        u = await stub.ChangeUnitStatus(
            pb.ChangeUnitStatusRequest(
                request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_EN_ROUTE
            ),
            timeout=10,
        )
        assert u.region == "sorlandet"

    await assert_eventually(served_in_new_region, timeout_s=10)
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert got.region == "sorlandet"


async def test_unit_from_a_neighbour_is_lent_and_assigned_in_one_transaction(stub, etcd, cluster):
    keys = Keys(cluster.config.key_prefix)
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(), region="vestre-viken", position=pb.Position(lat=60.0, lon=10.0)
        ),
        timeout=10,
    )
    unit = (
        await stub.ListUnits(
            pb.ListUnitsRequest(regions=["oslo"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION)
        )
    ).units[-1]
    request_id = rid()
    pair = await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=request_id, incident_id=inc.id, unit_id=unit.id),
        timeout=10,
    )
    assert pair.unit.region == "vestre-viken" and pair.unit.incident_id == inc.id
    journal, _ = await etcd.get_prefix(keys.journal_prefix("vestre-viken"))
    entries = [
        json.loads(j.value) for j in journal if json.loads(j.value)["request_id"] == request_id
    ]
    assert len(entries) == 1
    oslo_owner = await etcd.get(keys.owner("oslo"))
    vv_owner = await etcd.get(keys.owner("vestre-viken"))
    assert entries[0]["tokens"] == {
        "vestre-viken": vv_owner.mod_revision,
        "oslo": oslo_owner.mod_revision,
    }
    lent = json.loads((await etcd.get(keys.unit("vestre-viken", unit.id))).value)
    assert lent["home_region"] == "oslo"
    assert await etcd.get(keys.unit("oslo", unit.id)) is None


async def test_lend_and_lend_back_an_available_unit(coord, stub):
    unit = (
        await stub.ListUnits(
            pb.ListUnitsRequest(regions=["sorlandet"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION)
        )
    ).units[0]
    lent = await coord.LendUnit(
        cpb.LendUnitRequest(request_id=rid(), unit_id=unit.id, to_region="vestfold-telemark"),
        timeout=10,
    )
    assert lent.region == "vestfold-telemark"

    async def lend_back() -> None:
        back = await coord.LendUnit(
            cpb.LendUnitRequest(request_id=rid(), unit_id=unit.id, to_region="sorlandet"),
            timeout=10,
        )
        assert back.region == "sorlandet"

    await assert_eventually(lend_back, timeout_s=10)


async def test_cross_region_write_fails_cleanly_if_either_fence_is_stale(etcd, prefix):
    keys = Keys(prefix)
    sessions, fences = [], {}
    for region in ("oslo", "vestre-viken"):
        s = await Session(etcd, 2).open()
        sessions.append(s)
        fence, _ = await ownership.claim(
            etcd, keys, region, ownership.now_record(region, f"{region}-1", s.lease_id)
        )
        fences[region] = fence
    store = FencedStore(etcd, keys, writer="vestre-viken-1")
    unit_key = keys.unit("oslo", "osl-a1")
    await store.commit(Write((fences["oslo"],), [(unit_key, b'{"v":1}')], "Seed", "t"))
    unit_rev = (await etcd.get(unit_key)).mod_revision

    def lend(tokens: dict[str, ownership.Fence], rev: int) -> Write:
        return Write(
            (tokens["vestre-viken"], tokens["oslo"]),
            [(keys.unit("vestre-viken", "osl-a1"), b'{"v":2}')],
            "AssignUnit",
            "t",
            rid(),
            b"{}",
            expected={unit_key: rev, keys.unit("vestre-viken", "osl-a1"): 0},
            deletes=[unit_key],
        )

    # Oslo changes hands: the lender's token is stale.
    s3 = await Session(etcd, 2).open()
    sessions.append(s3)
    new_oslo = await ownership.transfer(
        etcd, fences["oslo"], ownership.now_record("innlandet", "inn-1", s3.lease_id)
    )
    before = await etcd.revision()
    with pytest.raises(FencedError) as err:
        await store.commit(lend(fences, unit_rev))
    assert err.value.region == "oslo"
    assert await etcd.revision() == before
    # With fresh tokens but a unit that changed since it was read: refused as stale.
    fresh = {**fences, "oslo": new_oslo}
    await store.commit(Write((new_oslo,), [(unit_key, b'{"v":3}')], "Status", "t"))
    before = await etcd.revision()
    with pytest.raises(StaleRecordError):
        await store.commit(lend(fresh, unit_rev))
    assert await etcd.revision() == before
    assert await etcd.get(keys.unit("vestre-viken", "osl-a1")) is None
    for s in sessions:
        await s.close()


async def test_client_carries_on_when_one_gateway_is_killed(cluster):
    client = AmkClient(list(cluster.config.gateways), timeout_s=15)
    victim = cluster.config.gateways[0]
    done: list[str] = []
    failures: list[Exception] = []

    def create_many(n: int) -> None:
        for _ in range(n):
            try:
                inc = client.create_incident("oslo", 59.91, 10.75)
                done.append(inc.id)
            except Exception as exc:
                failures.append(exc)

    first = asyncio.create_task(asyncio.to_thread(create_many, 30))

    async def some_done() -> None:
        assert len(done) >= 5

    await assert_eventually(some_done, timeout_s=30)
    await kill_gateway(cluster.deployment, victim)
    await first
    await asyncio.to_thread(create_many, 10)
    client.close()
    assert failures == []
    assert len(done) == 40 and len(set(done)) == 40
    assert client.address != victim

    # The supervisor starts the gateway again on its address by itself.
    async def serves_again() -> None:
        states = {g.address: g for g in await cluster.deployment.gateway_states()}
        assert states[victim].alive and states[victim].restarts >= 1

    await assert_eventually(serves_again, timeout_s=30)
    with AmkClient([victim], timeout_s=10) as again:
        assert again.get_incident(done[-1]).id == done[-1]


async def test_eido_export_validates_and_import_export_round_trips(cluster, stub, coord):
    from tests.unit.test_eido import spec as spec_fixture
    from tests.unit.test_eido import validate as validate_fixture

    spec = spec_fixture.__wrapped__()  # the shared schema, loaded as the unit tests load it
    validate = validate_fixture.__wrapped__(spec)
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25),
            address="Karl Johans gate 22",
            caller_number="+47 912 34 567",
            criteria_code="A.11.01",
            notes="Man collapsed on the pavement",
        ),
        timeout=10,
    )
    unit = (
        await stub.ListUnits(
            pb.ListUnitsRequest(regions=["oslo"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION)
        )
    ).units[0]
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit.id), timeout=10
    )

    async def oslo_owner() -> str:
        status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
        return next(r.owner_centre for r in status.regions if r.id == "oslo")

    # The owning agency is the centre serving the region at the export: Oslo's home
    # centre, unless an earlier test's hand-over (or a takeover on a loaded machine) left
    # it elsewhere for the moment.
    before = await oslo_owner()
    doc = json.loads(
        (await coord.ExportIncident(cpb.ExportIncidentRequest(incident_id=inc.id), timeout=10)).json
    )
    after = await oslo_owner()
    validate(doc)
    owning = [a for a in doc["agencyComponent"] if a.get("incidentOwningAgencyIndicator")]
    assert len(owning) == 1 and owning[0]["$id"] in {f"amk.{before}", f"amk.{after}"}
    imported_rid = rid()
    imported = await coord.ImportIncident(
        cpb.ImportIncidentRequest(
            request_id=imported_rid, region="vestre-viken", json=json.dumps(doc)
        ),
        timeout=10,
    )
    new = imported.incident
    assert new.region == "vestre-viken" and new.id != inc.id
    assert (new.address, new.caller_number, new.criteria_code) == (
        inc.address,
        inc.caller_number,
        inc.criteria_code,
    )
    assert abs(new.position.lat - inc.position.lat) < 1e-6
    assert any("Man collapsed" in n.text for n in new.notes)
    # Its place is checked against the region it came into, as CreateIncident's is.
    assert any("in oslo's area, not vestre-viken's" in w for w in imported.warnings), (
        imported.warnings
    )
    # The same document imported again: refused while the first copy is open, naming it
    # (a second incident for one patient would get units of its own); a retry of the
    # first request still answers with its incident.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await coord.ImportIncident(
            cpb.ImportIncidentRequest(
                request_id=rid(), region="vestre-viken", json=json.dumps(doc)
            ),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"open here already as {new.id}" in (err.value.details() or "")
    retried = await coord.ImportIncident(
        cpb.ImportIncidentRequest(
            request_id=imported_rid, region="vestre-viken", json=json.dumps(doc)
        ),
        timeout=10,
    )
    assert retried.incident.id == new.id
    again = json.loads(
        (await coord.ExportIncident(cpb.ExportIncidentRequest(incident_id=new.id), timeout=10)).json
    )
    validate(again)
    # A document that is not EIDO is refused, naming the field, and writes nothing.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await coord.ImportIncident(
            cpb.ImportIncidentRequest(request_id=rid(), region="oslo", json='{"x": 1}'),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "eido" in err.value.details()


# ---------------------------------------------------------------- a unit diverted


async def _refused(etcd, call, code: grpc.StatusCode, needle: str) -> None:
    """``call()`` fails with ``code`` naming ``needle`` (details or field) and writes
    nothing (a factory: the revision is read before the request leaves)."""
    before = await etcd.revision()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call()
    field = dict(err.value.trailing_metadata() or ()).get("amk-field", "")
    assert err.value.code() == code, err.value.details()
    assert needle in (err.value.details() or "") or needle == field, (err.value.details(), field)
    assert await etcd.revision() == before


async def _sent(stub, region: str, incident_id: str) -> pb.Unit:
    """A road ambulance of ``region`` available at its station, assigned to the incident."""
    units = await stub.ListUnits(
        pb.ListUnitsRequest(
            regions=[region],
            status=pb.UNIT_STATUS_AVAILABLE_AT_STATION,
            kind=pb.UNIT_KIND_ROAD_AMBULANCE,
        ),
        timeout=10,
    )
    unit = units.units[0]
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=incident_id, unit_id=unit.id),
        timeout=10,
    )
    return unit


async def test_a_unit_on_its_way_is_diverted_to_a_more_urgent_incident(stub, etcd, cluster):
    oslo = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25)

    async def incident(code: str) -> pb.Incident:
        req = pb.CreateIncidentRequest(
            request_id=rid(), region="oslo", position=oslo, criteria_code=code
        )
        return await stub.CreateIncident(req, timeout=10)

    vanlig, akutt = await incident("V.01.01"), await incident("A.11.01")
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=akutt.id), timeout=10)
    # The akutt's nearest road ambulance, sent to the vanlig first.
    unit = next(r.unit for r in recs.recommendations if r.unit.kind == pb.UNIT_KIND_ROAD_AMBULANCE)
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=vanlig.id, unit_id=unit.id), timeout=10
    )

    async def status(s: int) -> pb.Unit:
        req = pb.ChangeUnitStatusRequest(request_id=rid(), unit_id=unit.id, status=s)
        return await stub.ChangeUnitStatus(req, timeout=10)

    await status(pb.UNIT_STATUS_EN_ROUTE)
    # The akutt's recommendations offer it, ranked, with the incident it would leave.
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=akutt.id), timeout=10)
    offered = {r.unit.id: r for r in recs.diversions}
    assert offered[unit.id].unit.incident_id == vanlig.id and offered[unit.id].eta_s > 0
    assert unit.id not in {r.unit.id for r in recs.recommendations}
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=vanlig.id), timeout=10)
    assert not recs.diversions  # nothing is less urgent than vanlig

    def divert(to: str, frm: str, reason: str = "", request_id: str = "") -> pb.DivertUnitRequest:
        return pb.DivertUnitRequest(
            request_id=request_id or rid(),
            incident_id=to,
            unit_id=unit.id,
            from_incident_id=frm,
            reason=reason,
        )

    failed, bad = grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT
    await _refused(etcd, lambda: stub.DivertUnit(divert(akutt.id, akutt.id)), bad, "incident_id")
    # Where the dispatcher saw it going is checked: not taken from an incident it left.
    await _refused(
        etcd, lambda: stub.DivertUnit(divert(vanlig.id, akutt.id)), failed, "not on incident"
    )

    first = divert(akutt.id, vanlig.id)
    moved = await stub.DivertUnit(first, timeout=10)
    assert (moved.unit.status, moved.unit.incident_id) == (pb.UNIT_STATUS_ASSIGNED, akutt.id)
    assert moved.incident.status == pb.INCIDENT_STATUS_DISPATCHED
    assert list(moved.incident.assigned_unit_ids) == [unit.id]
    left = moved.from_incident
    assert (left.id, left.status, list(left.assigned_unit_ids)) == (
        vanlig.id, pb.INCIDENT_STATUS_TRIAGED, [],
    )  # fmt: skip
    assert left.notes[-1].text == f"Unit {unit.id} diverted to {akutt.id}"
    assert await stub.DivertUnit(first, timeout=10) == moved  # a retry: the same answer
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=vanlig.id), timeout=10)
    assert got.revision == left.revision and not got.assigned_unit_ids
    keys = Keys(cluster.config.key_prefix)
    journal, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    (entry,) = [
        e for e in (json.loads(kv.value) for kv in journal) if e["request_id"] == first.request_id
    ]
    assert entry["command"] == "DivertUnit"
    assert (entry["diverted_from"], entry["diverted_to"]) == (vanlig.id, akutt.id)
    assert set(entry["ids"]) == {vanlig.id, akutt.id, unit.id}

    # Back to the less urgent incident only with a reason.
    await _refused(etcd, lambda: stub.DivertUnit(divert(vanlig.id, akutt.id)), bad, "reason")
    # Arrived: not diverted; transporting: not released (a patient aboard).
    await status(pb.UNIT_STATUS_EN_ROUTE)
    await status(pb.UNIT_STATUS_ON_SCENE)
    on_scene = divert(vanlig.id, akutt.id, "road closed")
    await _refused(etcd, lambda: stub.DivertUnit(on_scene), failed, "only a unit on its way")
    await status(pb.UNIT_STATUS_TRANSPORTING)
    release = pb.ReleaseUnitRequest(request_id=rid(), incident_id=akutt.id, unit_id=unit.id)
    await _refused(etcd, lambda: stub.ReleaseUnit(release), bad, "reason")
    release.reason = "handed to the air ambulance at the landing site"
    freed = await stub.ReleaseUnit(release, timeout=10)
    assert freed.unit.status == pb.UNIT_STATUS_AVAILABLE_MOBILE
    assert freed.incident.notes[-1].text == (
        f"Unit {unit.id} released (transporting): {release.reason}"
    )


async def test_a_unit_working_another_centres_incident_is_not_diverted(stub, etcd):
    drammen = pb.Position(lat=59.7439, lon=10.2045, accuracy_m=25)
    theirs = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="vestre-viken", position=drammen),
        timeout=10,
    )
    ours = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=59.9139, lon=10.7522),
            criteria_code="A.11.01",
        ),
        timeout=10,
    )
    unit = await _sent(stub, "vestre-viken", theirs.id)
    request = pb.DivertUnitRequest(
        request_id=rid(), incident_id=ours.id, unit_id=unit.id, from_incident_id=theirs.id
    )
    code = grpc.StatusCode.FAILED_PRECONDITION
    await _refused(etcd, lambda: stub.DivertUnit(request), code, "another centre")
    # Nor offered: its incident is served by Vestre Viken's centre, not Oslo's.
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=ours.id), timeout=10)
    assert unit.id not in {r.unit.id for r in recs.diversions}
    await stub.ReleaseUnit(
        pb.ReleaseUnitRequest(request_id=rid(), incident_id=theirs.id, unit_id=unit.id), timeout=10
    )


async def test_a_unit_is_diverted_between_two_regions_one_centre_serves(stub, coord, etcd, cluster):
    """Oslo relieves Innlandet: an Innlandet unit on its way to a vanlig incident there is
    diverted to an akutt one in Oslo, in one transaction under both regions' tokens; the
    unit is lent to Oslo (its key moves), and Innlandet's incident waits again."""
    keys = Keys(cluster.config.key_prefix)
    handed = await coord.HandOverRegion(
        cpb.HandOverRegionRequest(request_id=rid(), region="innlandet", to_centre="oslo"),
        timeout=15,
    )
    try:
        hamar = pb.Position(lat=60.7945, lon=11.0680, accuracy_m=25)
        there = await stub.CreateIncident(
            pb.CreateIncidentRequest(
                request_id=rid(), region="innlandet", position=hamar, criteria_code="V.01.01"
            ),
            timeout=10,
        )
        unit = await _sent(stub, "innlandet", there.id)
        here = await stub.CreateIncident(
            pb.CreateIncidentRequest(
                request_id=rid(),
                region="oslo",
                position=pb.Position(lat=59.9139, lon=10.7522),
                criteria_code="A.11.01",
            ),
            timeout=10,
        )
        request = pb.DivertUnitRequest(
            request_id=rid(), incident_id=here.id, unit_id=unit.id, from_incident_id=there.id
        )
        moved = await stub.DivertUnit(request, timeout=10)
        assert (moved.unit.region, moved.unit.incident_id) == ("oslo", here.id)
        assert (
            moved.from_incident.region == "innlandet" and not moved.from_incident.assigned_unit_ids
        )
        assert await etcd.get(keys.unit("innlandet", unit.id)) is None  # lent: its key moved
        assert await etcd.get(keys.unit("oslo", unit.id)) is not None
        journal, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
        (entry,) = [
            e for e in (json.loads(kv.value) for kv in journal)
            if e["request_id"] == request.request_id
        ]  # fmt: skip
        assert set(entry["tokens"]) == {"oslo", "innlandet"}
        assert entry["tokens"]["innlandet"] == handed.fencing_token
        await stub.ReleaseUnit(
            pb.ReleaseUnitRequest(request_id=rid(), incident_id=here.id, unit_id=unit.id),
            timeout=10,
        )
    finally:
        await coord.HandBackRegion(
            cpb.HandBackRegionRequest(request_id=rid(), region="innlandet"), timeout=15
        )


async def test_amk_up_warns_of_a_region_served_away_from_its_home_centre(cluster, coord):
    """``amk up`` says "up" once every region is owned; a region a backup took during
    start-up is owned too, so it warns, naming the hand-back."""
    from clients.up_guard import wait_ready

    supervisor = cluster.deployment.supervisor
    await coord.HandOverRegion(
        cpb.HandOverRegionRequest(request_id=rid(), region="sorlandet", to_centre="oslo"),
        timeout=15,
    )
    try:
        warnings = await wait_ready(cluster.config, [cluster.endpoint], supervisor.instances)
        # Other regions may be away too (the shared cluster's crash tests): this one is.
        assert (
            "region sorlandet is served by oslo, not its home centre sorlandet: a takeover"
            " during start-up; `amk handback region sorlandet` gives it back"
        ) in warnings
    finally:
        await coord.HandBackRegion(
            cpb.HandBackRegionRequest(request_id=rid(), region="sorlandet"), timeout=15
        )
    # Home again: no warning for it.
    after = await wait_ready(cluster.config, [cluster.endpoint], supervisor.instances)
    assert not [w for w in after if w.startswith("region sorlandet ")], after
