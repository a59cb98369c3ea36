"""The gateway's watch-fed view: who owns each region, which region holds each entity.

Built from one range read and kept current by watches from the next revision, so it
never misses a change between the read and the watch. Routing reads it without a round
trip to etcd; a waiter can sleep until the next ownership change (``wait_change``)
instead of polling while a region fails over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog

from cluster.errors import StoreUnavailableError
from cluster.etcd import EtcdClient, WatchEventKV
from cluster.keys import Keys
from cluster.ownership import Owner

log = structlog.get_logger("amk.directory")


class Directory:
    """Region owners and entity locations, from etcd watches."""

    def __init__(self, client: EtcdClient, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.owners: dict[str, Owner] = {}
        self.owners_version = 0  # counts changes to ``owners``: for views built on it
        self.region_of: dict[str, str] = {}
        self.revision = 0
        self._change: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.listeners: list[Callable[[str, Owner | None], None]] = []

    async def start(self) -> None:
        client = self.client
        regions = self.keys.regions_prefix()
        entities = (self.keys.incidents_prefix(), self.keys.units_prefix())
        owners, rev = await client.get_prefix(regions)
        for kv in owners:
            self._apply_owner(WatchEventKV(kv, False, None), initial=True)
        for prefix in entities:
            kvs, _ = await client.get_prefix(prefix, revision=rev, keys_only=True)
            for kv in kvs:
                self._apply_entity(kv.key, False)
        self.revision = rev
        self._tasks = [
            asyncio.create_task(
                self._follow(
                    regions,
                    rev + 1,
                    lambda r: client.watch_prefix(regions, start_revision=r),
                    self._apply_owner,
                )
            ),
            # Entities by their keys alone (``watch_keys``): every write to every incident
            # and unit comes here, and where it lives is in its key.
            *(
                asyncio.create_task(
                    self._follow(
                        prefix,
                        rev + 1,
                        lambda r, p=prefix: client.watch_keys(p, start_revision=r),
                        lambda change: self._apply_entity(*change),
                    )
                )
                for prefix in entities
            ),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    async def _follow(
        self,
        prefix: bytes,
        start: int,
        open_watch: Callable[[int], AsyncIterator[tuple[int, list[Any]]]],
        apply: Callable[[Any], None],
    ) -> None:
        """Apply every change ``open_watch(revision)`` yields from revision ``start``;
        a broken watch is opened again from the revision after the last one seen."""
        next_rev = start
        while True:
            try:
                async for rev, changes in open_watch(next_rev):
                    for change in changes:
                        apply(change)
                    next_rev = rev + 1
                    self.revision = max(self.revision, rev)
            except asyncio.CancelledError:
                raise
            except StoreUnavailableError as exc:
                log.warning("directory_watch_broken", prefix=prefix.decode(), error=str(exc))
                await asyncio.sleep(0.1)

    def _apply_owner(self, ev: WatchEventKV, initial: bool = False) -> None:
        # Only an owner key's value is decoded (takeover and sharing records are not).
        parsed = self.keys.split(ev.kv.key)
        if parsed is None or parsed[0] != b"regions" or parsed[2] != b"owner":
            return
        region = parsed[1].decode()
        self.owners_version += 1
        if ev.deleted:
            self.owners.pop(region, None)
            owner = None
        else:
            owner = Owner.of(region, ev.kv.value, ev.kv.mod_revision)
            self.owners[region] = owner
        if not initial:
            for listener in self.listeners:
                listener(region, owner)
        if self._change is not None and not self._change.done():
            self._change.set_result(None)
        self._change = None

    def _apply_entity(self, key: bytes, deleted: bool) -> None:
        """Where an entity lives is in its key alone: its value is never decoded."""
        parsed = self.keys.split(key)
        if parsed is None:
            return
        region, entity_id = parsed[1].decode(), parsed[2].decode()
        if deleted:
            if self.region_of.get(entity_id) == region:
                del self.region_of[entity_id]
        else:
            self.region_of[entity_id] = region

    def owner(self, region: str) -> Owner | None:
        return self.owners.get(region)

    def change_future(self) -> asyncio.Future[None]:
        """A future resolved at the next ownership change, shared by every waiter (no
        task or timer per waiter: the router waits on it beside every call)."""
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        return self._change

    async def wait_change(self, timeout_s: float) -> None:
        """Sleep until the next ownership change or ``timeout_s``, whichever is first."""
        await asyncio.wait({self.change_future()}, timeout=max(0.0, timeout_s))
