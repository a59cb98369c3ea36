"""Region ownership: claim, observe, step down, hand over.

A region's owner key lives on the owner's lease. Its **mod revision** is the region's
fencing token: it changes with every new owner (a claim creates the key; a handover puts
it with the new owner's lease) and only then, because nothing else ever writes that key.
etcd's election recipe uses the create revision; we cannot, because etcd refuses to
delete and re-create one key in a single transaction, and a handover must move the
region in one transaction with no gap for a backup to jump into.

A :class:`Fence` is what a writer holds; ``Fence.compares()`` are the etcd compares every
write adds to its transaction, like ``IsOwner()`` in etcd's concurrency package.
There is no "am I the owner" boolean anywhere.

**The token alone is not enough after a restore.** A revision names one write only while
etcd's history runs forward. etcd's disaster recovery (``etcdctl snapshot restore``)
brings back the store as it was at the snapshot's revision R and numbers the next write
R + 1: revisions between R and the lost store's last one are issued again. A writer that
claimed in that window and was paused through the restore (a hung process, a stopped
VM) would find its token equal to the mod revision of some *new* owner's key. So a fence
also carries the owner key's value as that claim wrote it (centre, instance, lease and
claim time: no two claims write the same bytes) and compares it too: the fence holds
only for the very write that made it. ``amk etcd restore`` also moves the revision on past
what the archive has seen (``cluster.restore``), but this compare does not depend on it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from cluster.errors import FencedError
from cluster.etcd import (
    KV,
    Compare,
    EtcdClient,
    cmp_create_revision,
    cmp_mod_revision,
    cmp_value,
    op_delete,
    op_get,
    op_put,
)
from cluster.keys import Keys


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    """What the owner key says: which centre instance serves the region, on which lease,
    and where its gateways reach it (``address``: the instance's loopback gRPC link,
    ``actors.centre.link``; empty when it has none, and in records written before it
    existed: the gateway then uses a Ray call)."""

    centre: str
    instance: str
    lease: int
    since: float  # wall-clock seconds, for people; ordering comes from the token
    address: str = ""
    site: str = ""  # the site (Ray cluster) of the instance; empty before sites existed

    def encode(self) -> bytes:
        d = asdict(self)
        for name in ("address", "site"):
            if not d[name]:
                del d[name]  # the record as it was before the field existed
        return json.dumps(d).encode()

    def seat(self, default_site: str) -> str:
        """``centre@site``, its place in claim lines (``default_site`` for a record
        written before sites existed: then there was one)."""
        return f"{self.centre}@{self.site or default_site}"

    @classmethod
    def decode(cls, raw: bytes) -> OwnerRecord:
        """Fields this version does not know are ignored (a newer writer's)."""
        d = json.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in _OWNER_FIELDS})


_OWNER_FIELDS = frozenset(OwnerRecord.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Fence:
    """A region's fencing token as held by one writer, and the owner record the claim
    wrote (``record``: the owner key's value, byte for byte)."""

    region: str
    key: bytes
    token: int
    record: bytes

    def compares(self) -> tuple[Compare, Compare]:
        """The compares that make a transaction apply only while this fence holds: the
        owner key still at the claim's revision *and* still the claim's record (see the
        module's note on restores)."""
        return cmp_mod_revision(self.key, self.token), cmp_value(self.key, self.record)

    def held_in(self, kv: KV | None) -> bool:
        """Whether the owner key as read (``kv``, None when absent) is still this fence's:
        what a failed transaction's read-back is checked with."""
        return kv is not None and kv.mod_revision == self.token and kv.value == self.record


@dataclass(frozen=True, slots=True)
class Owner:
    """The current owner of a region as read from etcd."""

    region: str
    record: OwnerRecord
    token: int  # the owner key's mod revision
    raw: bytes  # the key's value as stored: what a fence made from it compares

    def fence(self, key: bytes) -> Fence:
        """The fence of this owner (a region handed to us, a claim whose answer was lost)."""
        return Fence(self.region, key, self.token, self.raw)

    @classmethod
    def of(cls, label: str, value: bytes, mod_revision: int) -> Owner:
        """The owner an owner key's value and mod revision name."""
        return cls(label, OwnerRecord.decode(value), mod_revision, value)


async def read_owner(
    client: EtcdClient, keys: Keys, region: str, *, timeout_s: float | None = None
) -> Owner | None:
    return await read_owner_key(client, keys.owner(region), region, timeout_s=timeout_s)


async def read_owner_key(
    client: EtcdClient, key: bytes, label: str, *, timeout_s: float | None = None
) -> Owner | None:
    """The current holder of any owner key (a region's, a major incident's), or None;
    the owner's ``region`` is ``label``."""
    kv = await client.get(key, timeout_s=timeout_s)
    if kv is None:
        return None
    return Owner.of(label, kv.value, kv.mod_revision)


async def claim(
    client: EtcdClient, keys: Keys, region: str, record: OwnerRecord
) -> tuple[Fence | None, Owner | None]:
    """Claim a free region: create-if-absent, on ``record.lease``.

    Returns ``(fence, None)`` when won, ``(None, current_owner)`` when someone holds it.
    """
    return await claim_key(client, keys.owner(region), region, record)


async def claim_key(
    client: EtcdClient, key: bytes, label: str, record: OwnerRecord
) -> tuple[Fence | None, Owner | None]:
    """Claim any owner key (a region's, a major incident's): create-if-absent, on the
    record's lease; the fence's ``region`` is ``label``."""
    value = record.encode()
    resp = await client.txn(
        [cmp_create_revision(key, 0)],
        [op_put(key, value, lease=record.lease)],
        [op_get(key)],
    )
    if resp.succeeded:
        return Fence(label, key, resp.header.revision, value), None
    kvs = resp.responses[0].response_range.kvs
    if not kvs:
        return None, None
    return None, Owner.of(label, kvs[0].value, kvs[0].mod_revision)


async def step_down(client: EtcdClient, fence: Fence) -> bool:
    """Give the region up; a no-op (False) when the fence no longer holds."""
    resp = await client.txn(list(fence.compares()), [op_delete(fence.key)])
    return bool(resp.succeeded)


async def transfer(
    client: EtcdClient, fence: Fence, new_owner: OwnerRecord, extra_puts: list | None = None
) -> Fence:
    """Hand the region to ``new_owner`` in one guarded transaction.

    The owner key is put with the new owner's record and lease, so its mod revision
    (the new fencing token) is this transaction's revision: the old holder's token
    stops working at the same instant the new one starts, with no ownerless gap.
    """
    value = new_owner.encode()
    ops = [op_put(fence.key, value, lease=new_owner.lease)]
    resp = await client.txn(
        list(fence.compares()), ops + list(extra_puts or []), [op_get(fence.key)]
    )
    if not resp.succeeded:
        kvs = resp.responses[0].response_range.kvs
        raise FencedError(fence.region, fence.token, kvs[0].mod_revision if kvs else None)
    return Fence(fence.region, fence.key, resp.header.revision, value)


def now_record(
    centre: str, instance: str, lease: int, address: str = "", site: str = ""
) -> OwnerRecord:
    return OwnerRecord(
        centre=centre,
        instance=instance,
        lease=lease,
        since=time.time(),
        address=address,
        site=site,
    )
