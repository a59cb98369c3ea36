"""One owner key's election against a real etcd: campaign, observe, wait, resign, hand over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from cluster.election import Election, campaign_until
from cluster.errors import FencedError, StoreUnavailableError
from cluster.etcd import EtcdClient, op_put
from cluster.keys import Keys
from cluster.ownership import Fence, Owner, OwnerRecord, now_record
from tests.helpers import assert_eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# How long a waiter must stay blocked to count as "still waiting". Only the negative
# checks use it; every positive outcome is awaited with a generous bound.
STILL_WAITING_S = 0.2
BOUND_S = 5.0

NewRecord = Callable[[str], Awaitable[OwnerRecord]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_record(etcd: EtcdClient) -> AsyncIterator[NewRecord]:
    """Owner records, each on a fresh lease; the leases are revoked after the test."""
    leases: list[int] = []

    async def make(centre: str) -> OwnerRecord:
        lease, _ttl = await etcd.lease_grant(10)
        leases.append(lease)
        return now_record(centre, f"{centre}-{len(leases)}", lease)

    yield make
    for lease in leases:
        await etcd.lease_revoke(lease)


async def win(election: Election, record: OwnerRecord) -> Fence:
    got = await election.campaign(record)
    assert isinstance(got, Fence), got
    return got


async def still_waiting(task: asyncio.Task) -> None:
    done, _ = await asyncio.wait({task}, timeout=STILL_WAITING_S)
    assert not done, task.result()


async def test_campaign_wins_a_free_key_with_its_mod_revision_as_token(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    oslo = await new_record("oslo")
    fence = await win(election, oslo)
    kv = await etcd.get(election.key)
    assert kv is not None and kv.mod_revision == fence.token and kv.lease == oslo.lease
    assert fence == Fence("oslo", election.key, kv.mod_revision, oslo.encode())
    assert await election.owner() == Owner("oslo", oslo, fence.token, oslo.encode())


async def test_second_campaign_returns_the_holder(etcd, prefix, new_record):
    election = Election.for_major(etcd, Keys(prefix), "MI-1")
    first = await new_record("MI-1")
    fence = await win(election, first)
    got = await election.campaign(await new_record("MI-1"))
    assert got == Owner("major:MI-1", first, fence.token, first.encode())
    assert fence.region == "major:MI-1"


async def test_campaign_refuses_a_record_without_a_lease(etcd, prefix):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    with pytest.raises(ValueError):
        await election.campaign(now_record("oslo", "oslo-1", 0))
    assert await election.owner() is None


async def test_wait_change_returns_when_the_holder_resigns(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    fence = await win(election, await new_record("oslo"))
    waiter = asyncio.create_task(election.wait_change(fence))
    await still_waiting(waiter)
    assert await election.resign(fence) is True
    await asyncio.wait_for(waiter, BOUND_S)
    assert await election.owner() is None
    # A token the key no longer carries: at once.
    await asyncio.wait_for(election.wait_change(fence), BOUND_S)


async def test_wait_change_returns_when_the_key_is_handed_over(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    fence = await win(election, await new_record("oslo"))
    waiter = asyncio.create_task(election.wait_change(fence))
    await still_waiting(waiter)
    new = await election.hand_over(fence, await new_record("innlandet"))
    await asyncio.wait_for(waiter, BOUND_S)
    # The new holder's token is being waited on afresh.
    waiter = asyncio.create_task(election.wait_change(new))
    await still_waiting(waiter)
    waiter.cancel()


async def test_wait_change_returns_for_another_claims_record_at_the_same_revision(
    etcd, prefix, new_record
):
    """After an etcd restore a new claim can land on a revision an old one had: the old
    holder must see that as a change, not as its own key."""
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    fence = await win(election, await new_record("oslo"))
    other = Fence(fence.region, fence.key, fence.token, (await new_record("oslo")).encode())
    await asyncio.wait_for(election.wait_change(other), BOUND_S)
    waiter = asyncio.create_task(election.wait_change(fence))
    await still_waiting(waiter)
    waiter.cancel()


async def test_stays_free_is_false_when_someone_claims_within_the_window(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    window_s = 30.0  # long, so the claim surely lands inside it
    started = time.monotonic()
    watcher = asyncio.create_task(election.stays_free(window_s))
    await win(election, await new_record("innlandet"))
    assert await asyncio.wait_for(watcher, BOUND_S) is False
    assert time.monotonic() - started < window_s
    # Held already: False at once.
    assert await asyncio.wait_for(election.stays_free(window_s), BOUND_S) is False


async def test_stays_free_is_true_when_nobody_claims(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    other = Election.for_region(etcd, Keys(prefix), "innlandet")
    await win(other, await new_record("innlandet"))  # a neighbour's key is not ours
    assert await election.stays_free(0.3) is True


async def test_wait_vacant(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    assert await election.wait_vacant(timeout_s=0.0) is True  # free: at once
    fence = await win(election, await new_record("oslo"))
    assert await election.wait_vacant(timeout_s=0.3) is False
    waiter = asyncio.create_task(election.wait_vacant(timeout_s=30.0))
    await still_waiting(waiter)
    assert await election.resign(fence) is True
    assert await asyncio.wait_for(waiter, BOUND_S) is True


async def test_campaign_until_wins_once_the_holders_lease_is_revoked(etcd, prefix, new_record):
    election = Election.for_major(etcd, Keys(prefix), "MI-2")
    old = await new_record("MI-2")
    await win(election, old)
    new = await new_record("MI-2")
    campaigner = asyncio.create_task(campaign_until(election, new, timeout_s=30.0))
    await still_waiting(campaigner)
    assert await etcd.lease_revoke(old.lease) is True
    fence = await asyncio.wait_for(campaigner, BOUND_S)

    async def new_holds() -> None:
        assert await election.owner() == Owner("major:MI-2", new, fence.token, new.encode())

    await assert_eventually(new_holds, timeout_s=BOUND_S)


async def test_campaign_until_gives_up_at_its_deadline(etcd, prefix, new_record):
    election = Election.for_major(etcd, Keys(prefix), "MI-3")
    await win(election, await new_record("MI-3"))
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="major:MI-3: owner key still held"):
        await campaign_until(election, await new_record("MI-3"), timeout_s=0.3)
    assert time.monotonic() - started < BOUND_S


async def test_campaign_until_adopts_a_key_that_is_already_ours(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    mine = await new_record("oslo")
    fence = await win(election, mine)
    again = await asyncio.wait_for(campaign_until(election, mine, timeout_s=0.3), BOUND_S)
    assert again == fence


async def test_hand_over_moves_the_key_in_one_transaction(etcd, prefix, new_record):
    keys = Keys(prefix)
    election = Election.for_region(etcd, keys, "oslo")
    old = await win(election, await new_record("oslo"))
    to = await new_record("innlandet")
    journal = keys.journal("oslo", "0001")
    new = await election.hand_over(old, to, [op_put(journal, b"handed over")])
    kv = await etcd.get(election.key)
    assert kv is not None and kv.mod_revision == new.token > old.token
    assert kv.lease == to.lease and OwnerRecord.decode(kv.value) == to
    entry = await etcd.get(journal)
    assert entry is not None and entry.mod_revision == new.token  # the same transaction
    # The old fence no longer holds: resigning with it is a no-op.
    assert await election.resign(old) is False
    assert await election.owner() == Owner("oslo", to, new.token, to.encode())


async def test_a_stale_fence_cannot_hand_over(etcd, prefix, new_record):
    election = Election.for_region(etcd, Keys(prefix), "oslo")
    old = await win(election, await new_record("oslo"))
    new = await election.hand_over(old, await new_record("innlandet"))
    with pytest.raises(FencedError) as err:
        await election.hand_over(old, await new_record("vestre-viken"))
    assert err.value.token == old.token and err.value.current_token == new.token
    assert await election.resign(new) is True
    with pytest.raises(FencedError) as err:
        await election.hand_over(new, await new_record("vestre-viken"))
    assert err.value.current_token is None
    assert await election.owner() is None


async def test_a_fence_for_another_key_is_refused(etcd, prefix, new_record):
    keys = Keys(prefix)
    oslo = Election.for_region(etcd, keys, "oslo")
    innlandet = Election.for_region(etcd, keys, "innlandet")
    fence = await win(oslo, await new_record("oslo"))
    with pytest.raises(ValueError):
        await innlandet.resign(fence)
    with pytest.raises(ValueError):
        await innlandet.hand_over(fence, await new_record("innlandet"))
    assert (await oslo.owner()) is not None
