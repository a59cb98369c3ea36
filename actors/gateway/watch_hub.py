"""One etcd watch per gateway, shared by every ``Watch`` stream it serves.

Before, every console's stream opened its own etcd watch on the whole deployment
prefix, so etcd's and the gateway's work grew as consoles × writes. The hub follows the
prefix once and hands each batch of events to every subscriber's queue.

No event falls between a stream's start and the hub: a stream subscribes first and then
reads its snapshot (or catches up on a dedicated watch from the revision it resumes
from), and skips what it already has by revision. A subscriber too slow to keep up
(``QUEUE_BATCHES`` or ``QUEUE_BYTES`` behind) is cut off with
:class:`StoreUnavailableError`: the console resumes from the last revision it saw, and
the others are never held back by it.

The hub's etcd watch runs only while some stream is subscribed (and ``LINGER_S`` after
the last one leaves, so a console reconnecting does not restart it): with no console on
a gateway, etcd sends it nothing and it decodes nothing (before, it followed every
write of the deployment, ~12 % of a gateway's CPU under CreateIncident load, for no
one). Streams get raw events (key, value bytes, revision): decoding a record is left
to the stream that wants its kind and region (``watch_service``).

A batch wakes only the streams of the regions it touches. Most writes are nothing a
console is sent (journal, request-id, counter and call keys), and a console watches its
own centre's regions: before, every batch woke every stream to find nothing in most of
them. Measured with 500 consoles, five centres' worth, each write woke 500 streams for
the 100 that had an event to send (``bench/scale_bench.py --parts watch``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from cluster.errors import StoreUnavailableError
from cluster.etcd import EtcdClient, WatchEventKV
from cluster.keys import Keys

log = structlog.get_logger("amk.gateway")

QUEUE_BATCHES = 10_000  # per subscriber: batches it may fall behind before it is cut off
# Per subscriber: the raw bytes (keys and values of what a console is sent) of the batches
# it may hold before it is cut off. Batches are shared, but one stalled console keeps
# alive every batch after the last it took, with their converted events: this bounds
# that by size, whatever the writes weigh (10,000 batches of large records did not).
QUEUE_BYTES = 8 * 1024 * 1024
RETRY_S = 0.2  # the hub's own watch broke: try again from the last revision
LINGER_S = 30.0  # the etcd watch outlives the last stream this long (consoles reconnect)

#: Kinds of stored record a console is sent (besides a region's owner key).
STREAMED_KINDS = frozenset({b"incidents", b"units"})

# (revision, key kind, region, id, raw event) -> the event as a stream sends it
Convert = Callable[[int, bytes, str, bytes, WatchEventKV], Any]


class Batch:
    """One revision's writes as the streams see them: the events a console can be sent
    (incidents, units, region owners), each converted on first demand, and the regions
    they touch.

    Sorting is by key bytes only (:meth:`Keys.split`); a value is decoded only by
    :meth:`for_regions`, for a region some stream asked for, and once for all of them
    (the stream keeps the serialized bytes, so hundreds of streams also share one
    serialization). The order of the batch is kept.
    """

    __slots__ = ("converted", "regions", "rev", "size", "wanted")

    def __init__(self, rev: int, events: list[WatchEventKV], keys: Keys) -> None:
        self.rev = rev
        self.wanted: list[tuple[bytes, str, bytes, WatchEventKV]] = []
        for ev in events:
            parts = keys.split(ev.kv.key)
            if parts is None:
                continue
            kind, region, ident = parts
            if kind in STREAMED_KINDS or (kind == b"regions" and ident == b"owner"):
                # Our keys are ASCII: a key that is not must not stop the hub.
                self.wanted.append((kind, region.decode(errors="replace"), ident, ev))
        self.converted: list[Any] = [None] * len(self.wanted)
        self.regions = frozenset(w[1] for w in self.wanted)
        # What a subscriber holding this batch keeps alive (raw; converted is about as much)
        self.size = sum(len(ev.kv.key) + len(ev.kv.value) for *_, ev in self.wanted)

    def for_regions(self, regions: frozenset[str] | set[str], convert: Convert) -> list[Any]:
        out = []
        for i, (kind, region, ident, ev) in enumerate(self.wanted):
            if region not in regions:
                continue
            event = self.converted[i]
            if event is None:
                event = self.converted[i] = convert(self.rev, kind, region, ident, ev)
            out.append(event)
        return out


@dataclass(eq=False)
class Subscription:
    """One stream's view of the hub: every batch after ``since`` that touches
    ``regions`` (None: every region), in order. A batch with nothing a console is sent
    (journal, request-id, counter and call keys only) reaches no stream."""

    since: int  # the hub had delivered every batch up to this revision when it subscribed
    regions: frozenset[str] | None = None
    queue: asyncio.Queue[Batch | StoreUnavailableError] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_BATCHES)
    )
    queued_bytes: int = 0  # the sizes of the batches in ``queue``
    max_bytes: int = QUEUE_BYTES

    def offer(self, batch: Batch) -> bool:
        """Queue ``batch``; False (nothing queued) if the stream is too far behind:
        ``QUEUE_BATCHES`` batches or ``max_bytes`` of them waiting already. A stream with
        nothing waiting takes any batch, however large (etcd may send many revisions in
        one response after a resume): it is keeping up."""
        over = self.queued_bytes and self.queued_bytes + batch.size > self.max_bytes
        if self.queue.full() or over:
            return False
        self.queue.put_nowait(batch)
        self.queued_bytes += batch.size
        return True

    def _taken(self, item: Batch | StoreUnavailableError) -> Batch:
        if isinstance(item, StoreUnavailableError):
            raise item
        self.queued_bytes -= item.size
        return item

    async def next(self) -> Batch:
        return self._taken(await self.queue.get())

    def next_nowait(self) -> Batch | None:
        """The next batch if one is queued already, else None (a stream that batches
        takes what piled up while it was sending)."""
        try:
            item = self.queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        return self._taken(item)


class WatchHub:
    """Follows the deployment's whole key prefix once, for every stream, while any
    stream is subscribed."""

    def __init__(self, client: EtcdClient, keys: Keys, linger_s: float = LINGER_S) -> None:
        self.client = client
        self.keys = keys
        self.linger_s = linger_s
        self.revision = 0  # every batch up to here has been handed out
        self.subscribers: set[Subscription] = set()
        self._every: set[Subscription] = set()  # subscribed to every region
        self._by_region: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._idle: asyncio.TimerHandle | None = None

    @property
    def following(self) -> bool:
        """True while the hub's etcd watch is open."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Nothing to do until a stream subscribes (kept for the server's life cycle)."""

    async def stop(self) -> None:
        self._cancel_idle()
        await self._stop_following()
        self._end_all(StoreUnavailableError("gateway stopping"))

    async def subscribe(self, regions: Iterable[str] | None = None) -> Subscription:
        """A subscription to every batch after the hub's current revision that touches
        ``regions`` (None: every region), opening the etcd watch first if no stream had
        it open."""
        self._cancel_idle()
        async with self._starting:  # two first streams at once open one watch
            if not self.following:
                self.revision = await self.client.revision()
                self._task = asyncio.create_task(self._follow())
            sub = Subscription(self.revision, None if regions is None else frozenset(regions))
            self.subscribers.add(sub)
            if sub.regions is None:
                self._every.add(sub)
            for region in sub.regions or ():
                self._by_region.setdefault(region, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._drop(sub)
        self._maybe_idle()

    def _drop(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)
        self._every.discard(sub)
        for region in sub.regions or ():
            subs = self._by_region.get(region)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_region[region]

    def _maybe_idle(self) -> None:
        """Close the etcd watch ``linger_s`` after the last stream left (unless one
        subscribes meanwhile)."""
        if self.subscribers or self._idle is not None or not self.following:
            return
        self._idle = asyncio.get_running_loop().call_later(self.linger_s, self._on_idle)

    def _on_idle(self) -> None:
        self._idle = None
        if not self.subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    async def _stop_following(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self) -> None:
        while True:
            try:
                async for rev, events in self.client.watch_prefix(
                    self.keys.all(), start_revision=self.revision + 1
                ):
                    self._deliver(Batch(rev, events, self.keys))
                    self.revision = rev
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The stream broke (etcd restarting, a leader change) or its start was
                # compacted away: streams resume on their own from what they have. Any
                # other error is a bug, but it must end the streams, not leave them
                # waiting on a hub that no longer follows anything.
                err = (
                    exc
                    if isinstance(exc, StoreUnavailableError)
                    else StoreUnavailableError(f"watch hub failed: {exc!r}")
                )
                log.warning("watch_hub_broken", error=str(err), revision=self.revision)
                self._end_all(err)
                await asyncio.sleep(RETRY_S)
                with contextlib.suppress(StoreUnavailableError):
                    now = await self.client.revision()
                    if now > self.revision:
                        self.revision = now
                        # A stream that subscribed during the pause was promised every
                        # batch after the old revision; the hub goes on from ``now``,
                        # so it must resume on its own (from what it has) instead.
                        self._end_all(StoreUnavailableError("watch hub restarted: resume"))

    def _deliver(self, batch: Batch) -> None:
        """Queue ``batch`` for the streams of the regions it touches (a batch with
        nothing a console is sent wakes none)."""
        if not batch.wanted:
            return
        targets = set(self._every)
        for region in batch.regions:
            targets.update(self._by_region.get(region, ()))
        for sub in targets:
            if not sub.offer(batch):
                self._drop(sub)
                _cut_off(sub)
        self._maybe_idle()

    def _end_all(self, err: StoreUnavailableError) -> None:
        for sub in list(self.subscribers):
            self._drop(sub)
            _put_last(sub, err)
        self._maybe_idle()


def _put_last(sub: Subscription, err: StoreUnavailableError) -> None:
    """End ``sub`` with ``err`` after what it has queued; if its queue is full, drop every
    queued batch instead (never some: the console resumes from the last revision it
    received, so dropping all leaves no gap, where dropping one would)."""
    if sub.queue.full():
        _empty(sub)
    sub.queue.put_nowait(err)


def _cut_off(sub: Subscription) -> None:
    """End a stream that fell too far behind: what it has queued is dropped now (it is
    what held the memory; the console resumes from the last revision it received, so
    dropping all leaves no gap), and it gets the error next."""
    _empty(sub)
    sub.queue.put_nowait(StoreUnavailableError("watch consumer too slow: resume"))


def _empty(sub: Subscription) -> None:
    while not sub.queue.empty():
        sub.queue.get_nowait()
    sub.queued_bytes = 0
