"""One etcd watch per gateway, shared by every ``Watch`` stream it serves.

Before, every console's stream opened its own etcd watch on the whole deployment
prefix, so etcd's and the gateway's work grew as consoles × writes. The hub follows the
prefix once and hands each batch of events to every subscriber's queue.

No event falls between a stream's start and the hub: a stream subscribes first and then
reads its snapshot (or catches up on a dedicated watch from the revision it resumes
from), and skips what it already has by revision. A subscriber too slow to keep up
(its queue full) is cut off with :class:`StoreUnavailableError`: the console resumes
from the last revision it saw, and the others are never held back by it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import structlog

from cluster.errors import StoreUnavailableError
from cluster.etcd import EtcdClient, WatchEventKV
from cluster.keys import Keys

log = structlog.get_logger("amk.gateway")

QUEUE_BATCHES = 10_000  # per subscriber: batches it may fall behind before it is cut off
RETRY_S = 0.2  # the hub's own watch broke: try again from the last revision

Batch = tuple[int, list[WatchEventKV]]


@dataclass(eq=False)
class Subscription:
    """One stream's view of the hub: every batch after ``since``, in order."""

    since: int  # the hub had delivered every batch up to this revision when it subscribed
    queue: asyncio.Queue[Batch | StoreUnavailableError] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_BATCHES)
    )

    async def next(self) -> Batch:
        item = await self.queue.get()
        if isinstance(item, StoreUnavailableError):
            raise item
        return item


class WatchHub:
    """Follows the deployment's whole key prefix once, for every stream."""

    def __init__(self, client: EtcdClient, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.revision = 0  # every batch up to here has been handed out
        self.subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.revision = await self.client.revision()
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._end_all(StoreUnavailableError("gateway stopping"))

    def subscribe(self) -> Subscription:
        sub = Subscription(self.revision)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    async def _follow(self) -> None:
        while True:
            try:
                async for rev, events in self.client.watch_prefix(
                    self.keys.all(), start_revision=self.revision + 1
                ):
                    self._deliver((rev, events))
                    self.revision = rev
            except StoreUnavailableError as err:
                # The stream broke (etcd restarting, a leader change) or its start was
                # compacted away: streams resume on their own from what they have.
                log.warning("watch_hub_broken", error=str(err), revision=self.revision)
                self._end_all(err)
                await asyncio.sleep(RETRY_S)
                with contextlib.suppress(StoreUnavailableError):
                    self.revision = max(self.revision, await self.client.revision())

    def _deliver(self, batch: Batch) -> None:
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(batch)
            except asyncio.QueueFull:
                self.subscribers.discard(sub)
                _put_last(sub, StoreUnavailableError("watch consumer too slow: resume"))

    def _end_all(self, err: StoreUnavailableError) -> None:
        for sub in list(self.subscribers):
            self.subscribers.discard(sub)
            _put_last(sub, err)


def _put_last(sub: Subscription, err: StoreUnavailableError) -> None:
    """End ``sub`` with ``err`` after what it has queued; if its queue is full, drop every
    queued batch instead (never some: the console resumes from the last revision it
    received, so dropping all leaves no gap, where dropping one would)."""
    if sub.queue.full():
        while not sub.queue.empty():
            sub.queue.get_nowait()
    sub.queue.put_nowait(err)
