"""A backup of etcd, restored into a second etcd with etcd's own tool, then settled:
what was lost stays lost, what the lost store issued (tokens, revisions, incident
numbers) is never issued again, and a restore is refused while anything is at work."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster import backup, ownership
from cluster.archive import ArchivedRecord, ArchivedSince, RecordVersion, open_archive
from cluster.archive.journal import journal_row
from cluster.errors import AmkError, ConfigError, FencedError, StoreUnavailableError
from cluster.etcd import EtcdClient, op_put
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.etcd_tls import identity_files
from cluster.keys import Keys
from cluster.restore import RestoreRefused, SettleInterrupted, restore_data_dir, settle, verify
from cluster.session import Session
from cluster.store import FencedStore, Write
from tests.helpers import session_pki

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

NAME = "amk-restored"


def _write(fence: ownership.Fence, keys: Keys, incident: str, number: int) -> Write:
    return Write(
        (fence,),
        [
            (keys.incident(fence.region, incident), json.dumps({"id": incident}).encode()),
            (keys.counter(fence.region), str(number).encode()),
        ],
        "CreateIncident",
        "tester",
    )


@dataclass
class Restored:
    client: EtcdClient
    revision: int  # as the restore left it
    lost: list[ownership.Fence]  # fences of the lost store's claims
    lost_max: int  # the lost store's last revision
    manifest: backup.Manifest
    keys: Keys


@pytest.fixture
async def restored(etcd_server, etcd, prefix, tmp_path: Path) -> AsyncIterator[Restored]:
    """Oslo owned with OSL-1, OSL-000012 and its counter at 7 at the backup; after it,
    twenty other writes, then Oslo handed to Vestre Viken with OSL-2 and number 9: then
    the backup restored into a second etcd."""
    keys = Keys(prefix)
    pki = session_pki()
    sessions = [await Session(etcd, 30).open() for _ in range(2)]
    fence, _ = await ownership.claim(
        etcd, keys, "oslo", ownership.now_record("oslo", "oslo-1", sessions[0].lease_id)
    )
    assert fence is not None
    store = FencedStore(etcd, keys, writer="oslo-1")
    await store.commit(_write(fence, keys, "OSL-1", 7))
    await store.commit(_write(fence, keys, "OSL-000012", 7))  # a live number above it
    root = EtcdClient([etcd_server.endpoint], tls=identity_files(pki, "root"))
    try:
        manifest = await backup.take(root, keys, tmp_path / "backup")
    finally:
        await root.close()
    for i in range(20):  # the lost store's work before the hand-over
        await etcd.txn([], [op_put(keys.takeover(f"r{i}"), b"{}")])
    new = await ownership.transfer(
        etcd, fence, ownership.now_record("vestre-viken", "vv-1", sessions[1].lease_id)
    )
    await FencedStore(etcd, keys, writer="vv-1").commit(_write(new, keys, "OSL-2", 9))
    lost_max = await etcd.revision()
    for s in sessions:
        await s.close()

    peer = find_free_port()
    data = tmp_path / "restored"
    restore_data_dir(tmp_path / "backup", data, name=NAME, peer_url=f"https://127.0.0.1:{peer}")
    server = EmbeddedEtcd(
        data,
        tls=identity_files(pki, "server"),
        client_port=find_free_port(),
        peer_port=peer,
        name=NAME,
        log_file=tmp_path / "etcd.log",
    ).start()
    client = EtcdClient([server.endpoint], tls=identity_files(pki, "user"))
    try:
        yield Restored(client, await client.revision(), [fence, new], lost_max, manifest, keys)
    finally:
        await client.close()
        server.stop()


async def test_a_backup_is_verified_by_restoring_it_into_a_throwaway_etcd(restored, tmp_path):
    pki = session_pki()
    got = await verify(
        tmp_path / "backup",
        tmp_path / "verify",
        server_tls=identity_files(pki, "server"),
        client_tls=identity_files(pki, "user"),
        keys=restored.keys,
    )
    assert got.counters == {"oslo": 7}
    assert got.counts["incidents"] == 2 and got.counts["regions"] == 1  # OSL-1, -000012
    assert got.revision == restored.revision  # what restoring it gives
    assert not (tmp_path / "verify").exists()  # the throwaway etcd and its data are gone


async def test_a_backup_is_checked_whole_and_refused_damaged(restored, tmp_path):
    folder = tmp_path / "backup"
    m = restored.manifest
    assert backup.check(folder) == m
    assert m.counters == {"oslo": 7} and m.prefix == restored.keys.prefix and m.size > 0
    snap = folder / backup.SNAPSHOT_FILE
    raw = snap.read_bytes()
    snap.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
    with pytest.raises(ConfigError, match="damaged"):
        backup.check(folder)
    with pytest.raises(ConfigError, match="already holds a backup"):
        await backup.take(restored.client, restored.keys, folder)


async def test_a_restore_brings_back_the_backup_and_nothing_after_it(restored):
    c, keys = restored.client, restored.keys
    assert await c.get(keys.incident("oslo", "OSL-1")) is not None
    assert await c.get(keys.incident("oslo", "OSL-2")) is None
    owner = await c.get(keys.owner("oslo"))  # the backup's owner, on its old lease
    assert owner is not None and ownership.OwnerRecord.decode(owner.value).centre == "oslo"
    assert restored.revision < restored.lost_max  # revisions after it will come again


async def test_settling_frees_the_regions_and_issues_nothing_the_lost_store_did(restored):
    c, keys = restored.client, restored.keys
    settled = await settle(
        c,
        keys,
        ["oslo", "vestre-viken"],
        restored_revision=restored.revision,
        floor=restored.lost_max,  # what the archive was last told, in this test: all of it
        number_gap=100,
        writer="test",
    )
    # Oslo's highest live number (above its counter) and Vestre Viken's, which had no
    # counter: both move on by the gap.
    assert settled.numbers == {"oslo": (12, 112), "vestre-viken": (0, 100)}
    assert settled.leases_revoked == 1  # Oslo's owner's, as the backup had it
    assert settled.revision > restored.lost_max
    assert await c.get(keys.owner("oslo")) is None  # free for the centres
    assert int((await c.get(keys.counter("oslo"))).value) == 112
    assert int((await c.get(keys.counter("vestre-viken"))).value) == 100
    kept = json.loads((await c.get(keys.restore(settled.stamp))).value)
    assert kept["floor"] == restored.lost_max and kept["restored_revision"] == restored.revision
    # A reader resuming from a revision it saw in the lost store: compacted, start over.
    with pytest.raises(StoreUnavailableError, match="compacted"):
        async for _ in c.watch_prefix(keys.all(), start_revision=restored.revision + 1):
            break
    # A centre claims now: its token is above every revision the lost store issued.
    s = await Session(c, 5).open()
    fence, _ = await ownership.claim(
        c, keys, "oslo", ownership.now_record("oslo", "o-2", s.lease_id)
    )
    assert fence is not None and fence.token > restored.lost_max
    await FencedStore(c, keys, writer="o-2").commit(_write(fence, keys, "OSL-113", 113))
    await s.close()


async def test_a_restore_rolls_forward_what_the_archive_got_after_the_backup(
    restored, etcd, tmp_path
):
    """The lost store's journal after the backup (OSL-2's creation), archived as a
    centre's archiver does, and two incidents closed and archived since: OSL-1, live in
    the backup, and OSL-000040, never in it. Settling writes OSL-2 back, removes OSL-1
    (read from the archive from then on) and numbers past OSL-000040."""
    c, keys = restored.client, restored.keys
    after = restored.manifest.revision
    journal, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    rows = [journal_row(keys, j.key, j.value, j.mod_revision) for j in journal]
    assert [v.id for r in rows if r.revision > after for v in r.versions] == ["OSL-2"]

    def closed(id_: str, revision: int, region: str = "oslo") -> ArchivedRecord:
        value = json.dumps({"id": id_, "status": "closed"}).encode()
        key = keys.incident(region, id_).decode()
        return ArchivedRecord(key, "incidents", region, id_, revision, 1.0, value)

    archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    archive.migrate()
    # OSL-000040 was handed to Innlandet before it closed: still Oslo's number.
    archived = [closed("OSL-1", restored.lost_max), closed("OSL-000040", after + 5, "innlandet")]
    archive.put_batch(archived, rows)
    since = archive.since(after)
    archive.close()

    settled = await settle(
        c,
        keys,
        ["oslo"],
        restored_revision=restored.revision,
        floor=restored.lost_max,
        number_gap=10,
        archived=since,
        codes={"oslo": "OSL", "innlandet": "INN"},
    )
    back = await c.get(keys.incident("oslo", "OSL-2"))
    assert back is not None and json.loads(back.value) == {"id": "OSL-2"}
    assert back.mod_revision > restored.lost_max  # above every revision the archive holds
    assert await c.get(keys.incident("oslo", "OSL-1")) is None
    assert await c.get(keys.incident("oslo", "OSL-000012")) is not None  # untouched
    assert settled.numbers == {"oslo": (40, 50)}
    assert settled.rolled is not None
    assert settled.rolled.counts() == {"written": {"incidents": 1}, "removed": {"incidents": 1}}
    assert set(settled.rolled.horizons) == {"oslo"}
    kept = json.loads((await c.get(keys.restore(settled.stamp))).value)
    assert kept["rolled_forward"]["written"] == {"incidents": 1}
    # An archive read after a revision the restore does not hold cannot be planned from.
    with pytest.raises(ValueError, match="archive"):
        await settle(
            c,
            keys,
            ["oslo"],
            restored_revision=restored.revision,
            floor=0,
            archived=ArchivedSince(restored.revision + 1, (), (), {}),
        )


async def test_a_live_incident_counts_for_the_region_whose_code_issued_it(restored):
    """OSL-000030 handed to Vestre Viken before the backup: Oslo's counter passes it."""
    c, keys = restored.client, restored.keys
    handed = keys.incident("vestre-viken", "OSL-000030")
    await c.txn([], [op_put(handed, b'{"id": "OSL-000030"}')])  # as the backup had it
    settled = await settle(
        c,
        keys,
        ["oslo", "vestre-viken"],
        restored_revision=await c.revision(),
        floor=restored.lost_max,
        number_gap=0,
        codes={"oslo": "OSL", "vestre-viken": "VVI"},
    )
    assert settled.numbers == {"oslo": (30, 30), "vestre-viken": (0, 0)}


async def test_a_settle_that_fails_after_a_lasting_write_says_it_is_half_settled(restored):
    """The roll-forward's second transaction is refused by etcd (a record over its
    request limit) after the first wrote: the etcd is half settled, and says so; a second
    settle is refused. One that fails before any lasting write can simply run again."""
    c, keys = restored.client, restored.keys
    after = restored.manifest.revision

    def put(id_: str, value: bytes) -> RecordVersion:
        return RecordVersion(
            keys.unit("oslo", id_).decode(), "units", "oslo", id_, restored.lost_max, 1.0, value
        )

    big = put("B2", b"x" * (2 << 20))
    first = ArchivedSince(after, (big,), (), {})
    with pytest.raises(AmkError) as early:  # its first lasting write refused: undone
        await settle(
            c, keys, ["oslo"], restored_revision=restored.revision, floor=0, archived=first
        )
    assert not isinstance(early.value, SettleInterrupted)
    huge = ArchivedSince(after, (put("A1", b"{}"), big), (), {})
    with pytest.raises(SettleInterrupted, match="half settled") as err:
        await settle(c, keys, ["oslo"], restored_revision=restored.revision, floor=0, archived=huge)
    assert err.value.reason and await c.get(keys.unit("oslo", "A1")) is not None
    with pytest.raises(RestoreRefused, match="written since the restore"):
        await settle(c, keys, ["oslo"], restored_revision=restored.revision, floor=0)


async def test_a_paused_writer_of_the_lost_store_cannot_write_on_a_token_issued_again(restored):
    """With the floor short of the lost store's last revision (the archive was told a
    little late), a new claim may land on a revision a lost claim had: its record differs."""
    c, keys = restored.client, restored.keys
    handed = restored.lost[1]  # Vestre Viken's, claimed by the hand-over after the backup
    await settle(c, keys, ["oslo"], restored_revision=restored.revision, floor=0, number_gap=0)
    filler = keys.restore("filler")
    while await c.revision() < handed.token - 1:
        await c.txn([], [op_put(filler, b"")])
    s = await Session(c, 5).open()
    fence, _ = await ownership.claim(
        c, keys, "oslo", ownership.now_record("oslo", "o-3", s.lease_id)
    )
    assert fence is not None and fence.token == handed.token  # the same token, again
    with pytest.raises(FencedError):
        await FencedStore(c, keys, writer="vv-1").commit(_write(handed, keys, "OSL-X", 1))
    assert await c.get(keys.incident("oslo", "OSL-X")) is None
    await FencedStore(c, keys, writer="o-3").commit(_write(fence, keys, "OSL-9", 9))
    await s.close()


async def test_a_restore_is_refused_while_anything_writes(restored):
    c, keys = restored.client, restored.keys
    await c.txn([], [op_put(keys.takeover("oslo"), b"{}")])  # something at work
    before = await c.revision()
    with pytest.raises(RestoreRefused, match="written since the restore"):
        await settle(
            c, keys, ["oslo"], restored_revision=restored.revision, floor=restored.lost_max
        )
    assert await c.revision() == before
    assert await c.get(keys.owner("oslo")) is not None  # its lease not revoked either
