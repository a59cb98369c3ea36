"""The gateway's shared watch: open only while a console is subscribed, and a batch's
records decoded only for the regions some console asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from actors.gateway.watch_hub import STREAMED_KINDS, Batch, WatchHub
from actors.gateway.watch_service import _WATCH_SHAPES
from cluster.errors import StoreUnavailableError
from cluster.etcd import KV, WatchEventKV
from cluster.keys import Keys

pytestmark = pytest.mark.timeout(30)

K = Keys("/amk/t/")


class FakeEtcd:
    """Just enough of :class:`EtcdClient` for the hub: a revision and watches that
    yield what the test feeds them."""

    def __init__(self) -> None:
        self.rev = 7
        self.watches_opened: list[int] = []
        self.open = 0
        self.feed: asyncio.Queue[Any] = asyncio.Queue()

    async def revision(self) -> int:
        return self.rev

    async def watch_prefix(
        self, prefix: bytes, *, start_revision: int = 0
    ) -> AsyncIterator[tuple[int, list[WatchEventKV]]]:
        self.watches_opened.append(start_revision)
        self.open += 1
        try:
            while True:
                item = await self.feed.get()
                if isinstance(item, BaseException):
                    raise item  # the watch breaks
                yield item
        finally:
            self.open -= 1


def put(key: bytes, value: bytes = b"{}", rev: int = 8) -> WatchEventKV:
    return WatchEventKV(KV(key, value, rev, rev, 1, 0), False, None)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_hub_watches_only_while_subscribed() -> None:
    etcd = FakeEtcd()
    hub = WatchHub(etcd, K, linger_s=0)  # type: ignore[arg-type]
    await hub.start()
    await settle()
    assert etcd.watches_opened == [] and not hub.following
    a, b = await asyncio.gather(hub.subscribe(), hub.subscribe())
    await settle()
    assert etcd.watches_opened == [8] and a.since == b.since == 7  # one watch for both
    events = [put(K.incident("oslo", "OSL-1"))]
    etcd.feed.put_nowait((8, events))
    got = await a.next()
    assert got is await b.next()  # one batch object, shared
    assert got.rev == 8 and [w[3] for w in got.wanted] == events
    hub.unsubscribe(a)
    await settle()
    assert hub.following  # b is still there
    hub.unsubscribe(b)
    await settle()
    assert not hub.following and etcd.open == 0
    etcd.rev = 20
    c = await hub.subscribe()
    await settle()
    assert c.since == 20 and etcd.watches_opened == [8, 21]
    await hub.stop()
    assert etcd.open == 0


async def test_a_returning_console_within_the_linger_keeps_the_watch() -> None:
    etcd = FakeEtcd()
    hub = WatchHub(etcd, K, linger_s=3600)  # type: ignore[arg-type]
    hub.unsubscribe(await hub.subscribe())
    await hub.subscribe()
    await settle()
    assert etcd.watches_opened == [8] and hub.following
    await hub.stop()


def test_batch_decodes_only_wanted_regions_once() -> None:
    events = [
        put(K.incident("oslo", "OSL-1")),
        put(K.journal("oslo", "0001")),
        put(K.request("r-1")),
        put(K.counter("oslo")),
        put(K.unit("innlandet", "inn-1")),
        put(K.takeover("oslo")),
        put(K.owner("oslo")),
        put(K.call("oslo", "c-1")),
    ]
    converted: list[tuple[bytes, str, bytes]] = []

    def convert(rev: int, kind: bytes, region: str, ident: bytes, ev: WatchEventKV) -> object:
        converted.append((kind, region, ident))
        return (kind, region, ident)

    batch = Batch(8, events, K)
    assert batch.regions == {"oslo", "innlandet"}
    assert batch.for_regions({"oslo"}, convert) == [  # type: ignore[arg-type]
        (b"incidents", "oslo", b"OSL-1"),
        (b"regions", "oslo", b"owner"),
    ]
    batch.for_regions({"oslo"}, convert)  # type: ignore[arg-type]
    assert converted == [(b"incidents", "oslo", b"OSL-1"), (b"regions", "oslo", b"owner")]
    assert batch.for_regions({"innlandet", "oslo"}, convert)[0] == (  # type: ignore[arg-type]
        b"incidents",
        "oslo",
        b"OSL-1",
    )
    assert converted[-1] == (b"units", "innlandet", b"inn-1") and len(converted) == 3


async def test_a_batch_wakes_only_the_streams_of_its_regions() -> None:
    etcd = FakeEtcd()
    hub = WatchHub(etcd, K, linger_s=0)  # type: ignore[arg-type]
    oslo = await hub.subscribe(["oslo"])
    inn = await hub.subscribe(["innlandet", "sorlandet"])
    every = await hub.subscribe()
    await settle()
    etcd.feed.put_nowait((8, [put(K.incident("oslo", "OSL-1"), rev=8)]))
    etcd.feed.put_nowait((9, [put(K.journal("oslo", "0001"), rev=9)]))  # nothing to send
    etcd.feed.put_nowait((10, [put(K.unit("innlandet", "inn-1"), rev=10)]))
    etcd.feed.put_nowait((11, [put(K.owner("sorlandet"), rev=11)]))
    await settle()
    assert [b.rev for b in _drain(oslo)] == [8]
    assert [b.rev for b in _drain(inn)] == [10, 11]
    assert [b.rev for b in _drain(every)] == [8, 10, 11]
    hub.unsubscribe(inn)
    assert set(hub._by_region) == {"oslo"}  # an unsubscribed stream leaves no trace
    etcd.feed.put_nowait((12, [put(K.unit("innlandet", "inn-1"), rev=12)]))
    await settle()
    assert _drain(oslo) == [] and [b.rev for b in _drain(every)] == [12]
    await hub.stop()


def _drain(sub: object) -> list[Batch]:
    out = []
    while (b := sub.next_nowait()) is not None:  # type: ignore[attr-defined]
        out.append(b)
    return out


def test_the_hub_and_the_streams_agree_on_what_is_streamed() -> None:
    assert set(_WATCH_SHAPES) == STREAMED_KINDS


async def _broken(error: BaseException, linger_s: float) -> tuple[FakeEtcd, WatchHub]:
    """A hub whose etcd watch broke with ``error`` under one oslo stream, which was
    ended with the StoreUnavailableError its console resumes from."""
    etcd = FakeEtcd()
    hub = WatchHub(etcd, K, linger_s=linger_s)  # type: ignore[arg-type]
    a = await hub.subscribe(["oslo"])
    await settle()
    etcd.feed.put_nowait(error)
    with pytest.raises(StoreUnavailableError) as ended:
        await asyncio.wait_for(a.next(), 5)
    assert str(error) in str(ended.value)
    return etcd, hub


async def test_a_hub_that_fails_ends_its_streams_instead_of_leaving_them_waiting() -> None:
    _, hub = await _broken(RuntimeError("a bug in the hub's path"), linger_s=0)
    await hub.stop()


async def test_a_stream_that_joined_while_the_hub_was_down_resumes_on_its_own() -> None:
    etcd, hub = await _broken(StoreUnavailableError("etcd restarting"), linger_s=3600)
    b = await hub.subscribe(["oslo"])  # during the hub's pause: promised all after 7
    assert b.since == 7
    etcd.rev = 12  # writes 8..12 happened meanwhile; the hub goes on from 12
    with pytest.raises(StoreUnavailableError, match="resume"):
        await asyncio.wait_for(b.next(), 5)
    c = await hub.subscribe(["oslo"])
    assert c.since == 12 and etcd.watches_opened == [8, 13]
    await hub.stop()


async def test_a_stalled_stream_is_cut_off_by_the_bytes_it_holds() -> None:
    """One console that stops reading keeps alive every batch it has not taken: it is
    cut off at QUEUE_BYTES of them, long before QUEUE_BATCHES of large records, and
    what it held is let go at once. A stream that reads keeps up."""
    etcd = FakeEtcd()
    hub = WatchHub(etcd, K, linger_s=0)  # type: ignore[arg-type]
    stalled = await hub.subscribe(["oslo"])
    reading = await hub.subscribe(["oslo"])
    stalled.max_bytes = reading.max_bytes = 10_000
    await settle()
    record = b"x" * 3_000
    for rev in range(8, 12):  # 4 x ~3 KB: the fourth passes 10,000 bytes
        etcd.feed.put_nowait((rev, [put(K.incident("oslo", f"OSL-{rev}"), record, rev)]))
        await settle()
        assert [b.rev for b in _drain(reading)] == [rev]
    assert stalled not in hub.subscribers and stalled.queued_bytes == 0
    with pytest.raises(StoreUnavailableError, match="too slow"):
        stalled.next_nowait()
    assert reading in hub.subscribers and reading.queued_bytes == 0
    # A stream with nothing waiting takes a batch larger than its budget: it keeps up.
    big = b"y" * 20_000
    etcd.feed.put_nowait((12, [put(K.incident("oslo", "OSL-12"), big, 12)]))
    await settle()
    assert [b.rev for b in _drain(reading)] == [12] and reading in hub.subscribers
    await hub.stop()
