"""Region ownership: claim, observe, step down, hand over.

A region's owner key lives on the owner's lease. Its **mod revision** is the region's
fencing token: it changes with every new owner (a claim creates the key; a handover puts
it with the new owner's lease) and only then, because nothing else ever writes that key.
etcd's election recipe uses the create revision; we cannot, because etcd refuses to
delete and re-create one key in a single transaction, and a handover must move the
region in one transaction with no gap for a backup to jump into.

A :class:`Fence` is what a writer holds; ``Fence.compare()`` is the etcd compare every
write adds to its transaction, like ``IsOwner()`` in etcd's concurrency package.
There is no "am I the owner" boolean anywhere.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from cluster.errors import FencedError
from cluster.etcd import (
    Compare,
    EtcdClient,
    cmp_create_revision,
    cmp_mod_revision,
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
    """A region's fencing token as held by one writer."""

    region: str
    key: bytes
    token: int

    def compare(self) -> Compare:
        """The compare that makes a transaction apply only while this fence holds."""
        return cmp_mod_revision(self.key, self.token)


@dataclass(frozen=True, slots=True)
class Owner:
    """The current owner of a region as read from etcd."""

    region: str
    record: OwnerRecord
    token: int  # the owner key's mod revision


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
    return Owner(label, OwnerRecord.decode(kv.value), kv.mod_revision)


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
    resp = await client.txn(
        [cmp_create_revision(key, 0)],
        [op_put(key, record.encode(), lease=record.lease)],
        [op_get(key)],
    )
    if resp.succeeded:
        return Fence(label, key, resp.header.revision), None
    kvs = resp.responses[0].response_range.kvs
    if not kvs:
        return None, None
    kv = kvs[0]
    return None, Owner(label, OwnerRecord.decode(kv.value), kv.mod_revision)


async def step_down(client: EtcdClient, fence: Fence) -> bool:
    """Give the region up; a no-op (False) when the fence no longer holds."""
    resp = await client.txn([fence.compare()], [op_delete(fence.key)])
    return bool(resp.succeeded)


async def transfer(
    client: EtcdClient, fence: Fence, new_owner: OwnerRecord, extra_puts: list | None = None
) -> Fence:
    """Hand the region to ``new_owner`` in one guarded transaction.

    The owner key is put with the new owner's record and lease, so its mod revision
    (the new fencing token) is this transaction's revision: the old holder's token
    stops working at the same instant the new one starts, with no ownerless gap.
    """
    ops = [op_put(fence.key, new_owner.encode(), lease=new_owner.lease)]
    resp = await client.txn([fence.compare()], ops + list(extra_puts or []), [op_get(fence.key)])
    if not resp.succeeded:
        kvs = resp.responses[0].response_range.kvs
        raise FencedError(fence.region, fence.token, kvs[0].mod_revision if kvs else None)
    return Fence(fence.region, fence.key, resp.header.revision)


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
