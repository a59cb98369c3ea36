"""The fenced store against a real etcd: fencing, journal, idempotency, group commit."""

from __future__ import annotations

import asyncio
import json

import pytest

from cluster import ownership
from cluster.errors import FencedError
from cluster.etcd import EtcdClient, op_delete, op_put
from cluster.keys import Keys
from cluster.session import Session
from cluster.store import DuplicateRequestError, FencedStore, Write

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _owner(etcd: EtcdClient, keys: Keys, region: str, centre: str) -> tuple:
    session = await Session(etcd, 2).open()
    record = ownership.now_record(centre, f"{centre}-1", session.lease_id)
    fence, holder = await ownership.claim(etcd, keys, region, record)
    return session, fence, holder


def _write(fence: ownership.Fence, keys: Keys, n: str, rid: str | None = None) -> Write:
    return Write(
        (fence,),
        [(keys.incident(fence.region, n), json.dumps({"id": n}).encode())],
        "CreateIncident",
        "tester",
        rid,
        b'{"ok":1}',
    )


async def test_claim_is_exclusive_and_token_is_owner_key_revision(etcd, prefix):
    keys = Keys(prefix)
    s1, fence, _ = await _owner(etcd, keys, "oslo", "oslo")
    s2, none, holder = await _owner(etcd, keys, "oslo", "vestre-viken")
    assert fence is not None and none is None
    assert holder is not None and holder.record.centre == "oslo" and holder.token == fence.token
    kv = await etcd.get(keys.owner("oslo"))
    assert kv is not None and kv.mod_revision == fence.token and kv.lease == s1.lease_id
    await s1.close()
    await s2.close()


async def test_write_is_journaled_with_token_and_writer(etcd, prefix):
    keys = Keys(prefix)
    session, fence, _ = await _owner(etcd, keys, "oslo", "oslo")
    store = FencedStore(etcd, keys, writer="oslo-1")
    rev = await store.commit(_write(fence, keys, "OSL-1", "req-a"))
    kv = await etcd.get(keys.incident("oslo", "OSL-1"))
    assert kv is not None and kv.mod_revision == rev
    journal, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    entries = [json.loads(j.value) for j in journal]
    assert len(entries) == 1
    e = entries[0]
    assert e["request_id"] == "req-a" and e["tokens"] == {"oslo": fence.token}
    assert e["writer"] == "oslo-1" and e["who"] == "tester" and e["command"] == "CreateIncident"
    assert journal[0].mod_revision == rev
    await session.close()


async def test_stale_token_is_rejected_and_changes_nothing(etcd, prefix):
    keys = Keys(prefix)
    s1, old, _ = await _owner(etcd, keys, "oslo", "oslo")
    old_store = FencedStore(etcd, keys, writer="oslo-1")
    await old_store.commit(_write(old, keys, "OSL-1", "r1"))
    # A supervisor hands the region to Vestre Viken: the old token stops working.
    s2 = await Session(etcd, 2).open()
    new = await ownership.transfer(etcd, old, ownership.now_record("vv", "vv-1", s2.lease_id))
    assert new.token > old.token
    before = await etcd.revision()
    with pytest.raises(FencedError) as err:
        await old_store.commit(_write(old, keys, "OSL-2", "r2"))
    assert err.value.region == "oslo" and err.value.current_token == new.token
    assert await etcd.revision() == before
    assert await etcd.get(keys.incident("oslo", "OSL-2")) is None
    assert await etcd.get(keys.request("r2")) is None
    # The new owner writes fine with its own token.
    await FencedStore(etcd, keys, writer="vv-1").commit(_write(new, keys, "OSL-2", "r2"))
    assert await etcd.get(keys.incident("oslo", "OSL-2")) is not None
    await s1.close()
    await s2.close()


async def test_a_token_issued_again_does_not_fence_for_another_claim(etcd, prefix):
    """After etcd restores a snapshot, revisions after it are issued again: a writer that
    claimed in the lost window may hold the very token a new owner's key now has."""
    keys = Keys(prefix)
    session, fence, _ = await _owner(etcd, keys, "oslo", "oslo")
    assert fence is not None
    assert fence.record == (await etcd.get(keys.owner("oslo"))).value
    # The lost window's writer: the same revision, the record of a claim that is gone.
    lost = ownership.now_record("oslo", "oslo-from-before-the-restore", session.lease_id + 1)
    paused = ownership.Fence("oslo", fence.key, fence.token, lost.encode())
    before = await etcd.revision()
    with pytest.raises(FencedError) as err:
        await FencedStore(etcd, keys, writer="oslo-0").commit(_write(paused, keys, "OSL-1"))
    assert err.value.current_token == fence.token  # the token matched; the record did not
    assert not await ownership.step_down(etcd, paused)
    with pytest.raises(FencedError):
        await ownership.transfer(etcd, paused, ownership.now_record("vv", "vv-1", 0))
    assert await etcd.revision() == before
    assert await etcd.get(keys.incident("oslo", "OSL-1")) is None
    # The claim's own fence still writes.
    await FencedStore(etcd, keys, writer="oslo-1").commit(_write(fence, keys, "OSL-1"))
    assert await etcd.get(keys.incident("oslo", "OSL-1")) is not None
    await session.close()


async def test_expired_lease_fences_the_old_owner(etcd, prefix):
    keys = Keys(prefix)
    s1, old, _ = await _owner(etcd, keys, "oslo", "oslo")
    store = FencedStore(etcd, keys, writer="oslo-1")
    await s1.close(revoke=True)  # as if the lease ran out: the owner key is gone
    before = await etcd.revision()
    with pytest.raises(FencedError):
        await store.commit(_write(old, keys, "OSL-9", "r9"))
    assert await etcd.revision() == before


async def test_same_request_id_applies_once(etcd, prefix):
    keys = Keys(prefix)
    session, fence, _ = await _owner(etcd, keys, "oslo", "oslo")
    store = FencedStore(etcd, keys, writer="oslo-1")
    first = await store.commit(_write(fence, keys, "OSL-1", "same"))
    before = await etcd.revision()
    with pytest.raises(DuplicateRequestError) as dup:
        await store.commit(_write(fence, keys, "OSL-2", "same"))
    assert dup.value.stored == b'{"ok":1}' and dup.value.revision == first
    assert await etcd.revision() == before
    assert await etcd.get(keys.incident("oslo", "OSL-2")) is None
    await session.close()


async def test_group_commit_batches_and_loses_nothing(etcd, prefix):
    keys = Keys(prefix)
    session, fence, _ = await _owner(etcd, keys, "oslo", "oslo")
    store = FencedStore(etcd, keys, writer="oslo-1")
    n = 300
    writes = [_write(fence, keys, f"OSL-{i}", f"g{i}") for i in range(n)]
    # Ten duplicates of earlier request ids, submitted concurrently.
    writes += [_write(fence, keys, f"OSL-dup{i}", f"g{i}") for i in range(10)]
    results = await asyncio.gather(*(store.commit(w) for w in writes), return_exceptions=True)
    ok = [r for r in results if isinstance(r, int)]
    dups = [r for r in results if isinstance(r, DuplicateRequestError)]
    assert len(ok) == n and len(dups) == 10
    kvs, _ = await etcd.get_prefix(keys.incidents_prefix("oslo"))
    assert len(kvs) == n
    journal, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    assert len(journal) == n
    assert store.stats["txns"] < n / 4, store.stats  # batched, not one txn each
    await session.close()


async def test_prefix_reads_page_through_large_regions_at_one_revision(etcd, prefix):
    # 5,000 records of ~2 KB: ~10 MB, more than one gRPC message (4 MiB) can carry.
    keys = Keys(prefix)
    session, fence, _ = await _owner(etcd, keys, "oslo", "oslo")
    store = FencedStore(etcd, keys, writer="oslo-1")
    body = b"x" * 2000
    await asyncio.gather(
        *(
            store.commit(Write((fence,), [(keys.incident("oslo", f"OSL-{i:06d}"), body)], "C", "t"))
            for i in range(5000)
        )
    )
    kvs, rev = await etcd.get_prefix(keys.incidents_prefix("oslo"), page=700)
    assert len(kvs) == 5000 and len({kv.key for kv in kvs}) == 5000
    # A write after the first page does not leak into the snapshot.
    await store.commit(Write((fence,), [(keys.incident("oslo", "OSL-999999"), b"late")], "C", "t"))
    again, rev2 = await etcd.get_prefix(keys.incidents_prefix("oslo"), revision=rev, page=700)
    assert len(again) == 5000 and rev2 == rev
    await session.close()


async def test_a_keys_watch_sees_puts_and_deletes_in_order_from_a_revision(etcd, prefix):
    """The gateway's directory follows where entities live with ``watch_keys``."""
    base = f"{prefix}/keys-watch/".encode()
    start = await etcd.revision() + 1
    await etcd.txn([], [op_put(base + b"a", b"1"), op_put(base + b"b", b"2")])
    await etcd.txn([], [op_delete(base + b"a")])
    await etcd.txn([], [op_put(f"{prefix}/elsewhere".encode(), b"3")])  # outside the prefix
    await etcd.txn([], [op_put(base + b"c", b"4")])
    seen: list[tuple[bytes, bool]] = []
    watch = etcd.watch_keys(base, start_revision=start)
    async for _, changes in watch:
        seen.extend(changes)
        if len(seen) >= 4:
            break
    await watch.aclose()
    assert seen == [
        (base + b"a", False),
        (base + b"b", False),
        (base + b"a", True),
        (base + b"c", False),
    ]
