"""The archiver's guarded move, on a centre run without Ray against the real etcd and a
real archive database (SQLite and PostgreSQL): a record changed meanwhile stays live, a
deposed owner's archiver deletes nothing, and a batch archived twice is stored once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from actors.centre.archiving import POSITION_COMMAND
from actors.centre.centre import Centre
from actors.centre.core import NoPeers
from actors.domain.commands import ChangeIncidentStatus, CreateIncident, ReportUnitPosition
from actors.domain.model import (
    Alert,
    AlertService,
    AlertState,
    IncidentStatus,
    PatientCondition,
    Position,
    PreNotification,
)
from cluster.archive import open_archive
from cluster.config import ClusterConfig
from cluster.errors import FencedError
from cluster.etcd import op_put
from cluster.etcd_server import EmbeddedEtcd
from tests.helpers import key_prefix_for, rid, session_pki

pytestmark = pytest.mark.asyncio(loop_scope="session")

OSLO = Position(59.91, 10.75)


@pytest_asyncio.fixture(loop_scope="session")
async def centre(etcd_server: EmbeddedEtcd, tmp_path, archive_url: str) -> AsyncIterator[Centre]:
    """A centre serving oslo, archiving into SQLite or PostgreSQL (``archive_url``)."""
    config = ClusterConfig.load(
        home=tmp_path,
        archive_url=archive_url,
        key_prefix=key_prefix_for("arch"),
        pki_dir=session_pki(),
        archive_hold_s=0.0,
        journal_hold_s=0.0,
        request_retention_s=0.0,
        # The background loop runs once at start; the tests run passes themselves.
        archive_interval_s=3600.0,
    )
    c = Centre(config, "oslo", NoPeers())
    await c.start([etcd_server.endpoint])
    assert "oslo" in c.core.hosts
    yield c
    await c.stop()


async def closed(centre: Centre) -> str:
    out = await centre.execute("oslo", CreateIncident(rid(), "oslo", OSLO))
    inc = out.require_incident()
    await centre.execute("oslo", ChangeIncidentStatus(rid(), inc.id, IncidentStatus.CANCELLED))
    return inc.id


async def test_a_record_changed_meanwhile_stays_live(centre: Centre, etcd):
    keys = centre.core.keys
    first, second = await closed(centre), await closed(centre)
    # Another write lands on ``first`` after the archiver picked it and archived it:
    # made here by changing the record behind the host's back.
    host = centre.core.hosts["oslo"]
    key = keys.incident("oslo", first)
    batch = centre.archiver._entities_due(host)
    assert {r.id for r in batch.records} >= {first, second}
    kv = await etcd.get(key)
    assert kv is not None
    await etcd.txn([], [op_put(key, kv.value)])
    moved = await centre.archiver._move(host, batch)
    assert moved.get("incidents", 0) == len([r for r in batch.records if r.kind == "incidents"]) - 1
    assert await etcd.get(key) is not None, "changed meanwhile: stays live"
    assert await etcd.get(keys.incident("oslo", second)) is None, "unchanged: moved"
    assert first in host.incidents and second not in host.incidents


async def test_an_incident_owing_its_hospital_a_document_is_kept_live(centre: Centre) -> None:
    """The record is the pre-notification's outbox: archived, the owed withdrawal
    would never be sent. Kept until the hospital has taken it."""
    owing = await closed(centre)
    host = centre.core.hosts["oslo"]
    pre = PreNotification("OUS Ullevål", PatientCondition.STROKE, "osl-a11", 0.0)
    pre.withdrawn_at = 1.0  # the unit left: the hospital is owed a withdrawal
    inc = host.incidents[owing]
    inc.alerts.append(Alert("a1", AlertService.HOSPITAL, AlertState.SENT, prenotification=pre))
    host.incidents[owing] = inc  # through the table: its index of incidents with alerts
    assert owing not in {r.id for r in centre.archiver._entities_due(host).records}
    pre.delivered = inc.alerts[-1].documents_due()  # both documents taken
    assert owing in {r.id for r in centre.archiver._entities_due(host).records}


async def test_a_deposed_owner_deletes_nothing(centre: Centre, etcd):
    keys = centre.core.keys
    incident_id = await closed(centre)
    host = centre.core.hosts["oslo"]
    owner = await etcd.get(keys.owner("oslo"))
    assert owner is not None
    # Another owner's write moves the fencing token on (as a takeover would).
    await etcd.txn([], [op_put(keys.owner("oslo"), owner.value, owner.lease)])
    batch = centre.archiver._entities_due(host)
    with pytest.raises(FencedError):
        await centre.archiver._move(host, batch)
    assert await etcd.get(keys.incident("oslo", incident_id)) is not None
    # The deposed host is gone: whatever serves oslo now was loaded anew, at a new token.
    assert centre.core.hosts.get("oslo") is not host


async def test_a_batch_archived_twice_is_stored_once(centre: Centre, etcd, tmp_path):
    incident_id = await closed(centre)
    host = centre.core.hosts["oslo"]
    batch = centre.archiver._entities_due(host)
    archive = await centre.archiver.archive()
    archive.put_batch(batch.records, batch.journal)  # as a crash before the delete leaves it
    await centre.archiver.pass_region("oslo")
    journal, _ = await etcd.get_prefix(centre.core.keys.journal_prefix("oslo"))
    assert not [j for j in journal if incident_id in json.dumps(json.loads(j.value)["keys"])]
    reader = open_archive(centre.core.config.archive_location())
    try:
        rows = [r for r in reader.records("incidents") if r.id == incident_id]
        assert len(rows) == 1
        assert [
            json.loads(j.entry)["command"] for j in reader.history("incidents", incident_id)
        ] == [
            "CreateIncident",
            "ChangeIncidentStatus",
        ]
    finally:
        reader.close()


async def test_request_records_stay_in_etcd_until_their_retention(centre: Centre, etcd):
    keys = centre.core.keys
    centre.core.config.request_retention_s = 3600.0
    incident_id = await closed(centre)
    await centre.archiver.pass_region("oslo")
    reader = open_archive(centre.core.config.archive_location())
    try:
        history = reader.history("incidents", incident_id)
        request_ids = [json.loads(j.entry)["request_id"] for j in history]
        assert len(request_ids) == 2
        for rid_ in request_ids:
            assert await etcd.get(keys.request(rid_)) is not None, "kept until its retention"
            assert reader.get_record("requests", rid_) is not None, "and archived already"
        held = {k for k, _ in reader.held_live("oslo", float("inf"), 100)}
        assert {keys.request(r).decode() for r in request_ids} <= held

        centre.core.config.request_retention_s = 0.0
        moved = await centre.archiver.pass_region("oslo")
        assert moved.get("requests", 0) >= 2
        for rid_ in request_ids:
            assert await etcd.get(keys.request(rid_)) is None
            assert reader.get_record("requests", rid_) is not None
        held = {k for k, _ in reader.held_live("oslo", float("inf"), 100)}
        assert not {keys.request(r).decode() for r in request_ids} & held
    finally:
        reader.close()


async def test_position_reports_past_their_retention_leave_the_archive(centre: Centre):
    """With a retention set, a pass deletes the region's archived position reports
    older than it (their versions and idempotency records too); the incident's entries,
    archived in the same passes, stay. Without one (the default) nothing is deleted."""
    host = centre.core.hosts["oslo"]
    for _ in range(100):  # the fleet is seeded once the region is claimed
        if host.seeded:
            break
        await asyncio.sleep(0.1)
    unit_id = sorted(host.units)[0]
    reports = [
        ReportUnitPosition(rid(), unit_id, Position(59.91 + i / 1000, 10.75)) for i in range(3)
    ]
    for cmd in reports:
        await centre.execute("oslo", cmd)
    incident_id = await closed(centre)
    while centre.archiver.full(await centre.archiver.pass_region("oslo")):
        pass
    reader = open_archive(centre.core.config.archive_location())
    try:
        positions = reader.journal_of_commands([POSITION_COMMAND], region="oslo")
        mine = [json.loads(j.entry)["request_id"] for j in positions]
        assert {c.request_id for c in reports} <= set(mine), "archived, kept by default"
        assert reader.get_record("requests", reports[0].request_id) is not None

        centre.core.config.archive_position_retention_days = 1e-9  # everything archived
        moved = await centre.archiver.pass_region("oslo")
        assert moved.get("pruned", 0) >= len(reports)
        left = reader.journal_of_commands([POSITION_COMMAND], region="oslo")
        assert not {json.loads(j.entry)["request_id"] for j in left} & set(mine)
        assert reader.get_record("requests", reports[0].request_id) is None
        commands = [json.loads(j.entry)["command"] for j in reader.history("units", unit_id)]
        assert POSITION_COMMAND not in commands, "their unit versions went with them"
        assert len(reader.history("incidents", incident_id)) == 2, "other commands stay"
    finally:
        centre.core.config.archive_position_retention_days = 0.0
        reader.close()
