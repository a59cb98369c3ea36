"""The election for one owner key: a region's (``regions/{r}/owner``) or a major
incident's (``majors/{id}/owner``).

In the spirit of etcd's ``client/v3/concurrency/election.go``, with our verbs:

============================  =========================================================
``Campaign`` (blocking)       :func:`campaign_until`, built on one-shot
                              :meth:`Election.campaign`
``Leader``                    :meth:`Election.owner`
``Observe`` (a stream)        :meth:`Election.wait_change`: callers only ever need "the
                              holder I saw is gone", and a stream would hide that edge
``Resign``                    :meth:`Election.resign`
``Proclaim``                  none: the owner key is written only by a claim or a
                              hand-over, so its mod revision is the fencing token
(none)                        :meth:`Election.hand_over`, :meth:`Election.stays_free`,
                              :meth:`Election.wait_vacant`
============================  =========================================================

The token is the key's **mod revision**, not its create revision as in etcd's recipe
(see :mod:`cluster.ownership`). Leadership is a :class:`~cluster.ownership.Fence` the
caller holds and passes back; nothing here remembers who won.

Every wait is an etcd watch that starts just after a linearizable read of the key, so a
change between the read and the watch cannot be missed. It starts at the *read's*
revision, not at the token's: the key has not changed between the two (the read showed
it), and an old token's revision may already be compacted, which would break the watch.
A broken watch raises :class:`~cluster.errors.StoreUnavailableError`; calling again is
safe, since each call reads the key afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from cluster.errors import StoreUnavailableError
from cluster.etcd import EtcdClient, RequestOp, WatchEventKV
from cluster.keys import Keys
from cluster.ownership import (
    Fence,
    Owner,
    OwnerRecord,
    claim_key,
    read_owner_key,
    step_down,
    transfer,
)

__all__ = ["Election", "campaign_until"]


class Election:
    """Claim, observe, give up and hand over one owner key.

    ``label`` names the key in fences, owners and errors: the region id for a region,
    ``major:{id}`` for a major incident (see the ``for_*`` constructors).
    """

    def __init__(self, client: EtcdClient, key: bytes, label: str) -> None:
        self.client = client
        self.key = key
        self.label = label

    @classmethod
    def for_region(cls, client: EtcdClient, keys: Keys, region: str) -> Election:
        """The election for a region's owner key."""
        return cls(client, keys.owner(region), region)

    @classmethod
    def for_major(cls, client: EtcdClient, keys: Keys, major_id: str) -> Election:
        """The election for a major incident's owner key."""
        return cls(client, keys.major_owner(major_id), f"major:{major_id}")

    def __repr__(self) -> str:
        return f"Election({self.label!r}, {self.key!r})"

    # ------------------------------------------------------------ claim and observe

    async def campaign(self, record: OwnerRecord) -> Fence | Owner | None:
        """One create-if-absent attempt on ``record.lease``: a :class:`Fence` if won,
        the current :class:`Owner` if the key is held, None if it vanished between the
        failed compare and the read (try again)."""
        if not record.lease:
            # Without a lease the key would outlive its owner and the region stay taken.
            raise ValueError(f"{self.label}: an owner record needs a lease")
        fence, holder = await claim_key(self.client, self.key, self.label, record)
        return fence if fence is not None else holder

    async def owner(self) -> Owner | None:
        """The current holder (its token is the key's mod revision), or None."""
        return await read_owner_key(self.client, self.key, self.label)

    async def wait_change(self, holder: Fence) -> None:
        """Return once the key no longer holds ``holder`` (deleted or rewritten); at once
        if it already does not. Held means the claim's revision *and* its record: after
        an etcd restore another claim can land on the same revision (see
        :mod:`cluster.ownership`), and a host waiting on the revision alone would go on
        serving a region it lost."""
        kvs, rev = await self.client.range(self.key)
        if not holder.held_in(kvs[0] if kvs else None):
            return
        # Every put gives the key a new mod revision, so any event is a change.
        await self._next_event(rev + 1, lambda _ev: True)

    async def stays_free(self, window_s: float) -> bool:
        """Wait ``window_s`` seconds; False as soon as anyone creates the key meanwhile
        (or at once if it is held now), True if it stayed free throughout."""
        kvs, rev = await self.client.range(self.key)
        if kvs:
            return False
        try:
            async with asyncio.timeout(window_s):
                await self._next_event(rev + 1, lambda ev: not ev.deleted)
        except TimeoutError:
            return True
        return False

    async def wait_vacant(self, *, timeout_s: float) -> bool:
        """True once the key is absent (at once if it is now), False after
        ``timeout_s`` if it is still held. Someone may take it again before the caller
        acts on the answer: campaign, don't assume."""
        kvs, rev = await self.client.range(self.key)
        if not kvs:
            return True
        try:
            async with asyncio.timeout(timeout_s):
                await self._next_event(rev + 1, lambda ev: ev.deleted)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------ give up, hand over

    async def resign(self, fence: Fence) -> bool:
        """Step down: delete the key if ``fence`` still holds; False if it no longer does."""
        self._check(fence)
        return await step_down(self.client, fence)

    async def hand_over(
        self, fence: Fence, new_owner: OwnerRecord, extra_ops: Sequence[RequestOp] = ()
    ) -> Fence:
        """Move the key to ``new_owner`` (on its lease) in one guarded transaction, with
        ``extra_ops`` in the same transaction; returns the new owner's fence. Raises
        :class:`~cluster.errors.FencedError` if ``fence`` no longer holds."""
        self._check(fence)
        return await transfer(self.client, fence, new_owner, list(extra_ops))

    # ------------------------------------------------------------ internals

    def _check(self, fence: Fence) -> None:
        if fence.key != self.key:
            raise ValueError(f"{self.label}: fence for {fence.key!r}, not {self.key!r}")

    async def _next_event(
        self, start_revision: int, wanted: Callable[[WatchEventKV], bool]
    ) -> None:
        """Return at the first watched event on the key that is ``wanted``."""
        watch = self.client.watch(self.key, start_revision=start_revision)
        async with contextlib.aclosing(watch) as stream:  # type: ignore[type-var]
            async for _rev, events in stream:
                if any(wanted(ev) for ev in events):
                    return
        raise StoreUnavailableError(f"watch {self.key!r} ended")


async def campaign_until(election: Election, record: OwnerRecord, *, timeout_s: float) -> Fence:
    """Campaign until won, waiting for the holder's key to go between attempts (a watch,
    not a poll); raise :class:`~cluster.errors.StoreUnavailableError` if it is still held
    after ``timeout_s``.

    A key that already carries this record's instance and lease is adopted: it is ours
    (handed to us, or won by an earlier attempt whose answer was lost).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        got = await election.campaign(record)
        if isinstance(got, Fence):
            return got
        if (
            got is not None
            and got.record.instance == record.instance
            and got.record.lease == record.lease
        ):
            return got.fence(election.key)
        left = deadline - time.monotonic()
        if left <= 0 or (got is not None and not await election.wait_vacant(timeout_s=left)):
            raise StoreUnavailableError(f"{election.label}: owner key still held")
