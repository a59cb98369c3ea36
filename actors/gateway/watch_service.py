"""``Watch`` of ``amk.dispatch.v1.DispatchService``: the live board's stream.

A snapshot of the asked regions' incidents and units at one revision, then every change
from the next revision on (no change falls between the two), and region owner changes
as they happen, with a line for people.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.model import Incident, Unit
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.rpc import rpc
from actors.gateway.watch_hub import Batch
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.etcd import WatchEventKV
from cluster.ownership import OwnerRecord

SNAPSHOT_CHUNK = 256  # snapshot events per list (one WatchBatches message)
MAX_BATCH_EVENTS = 512  # events one WatchBatches message carries at most


def frame_batch(events: list[bytes]) -> bytes:
    """A ``WatchEventBatch`` on the wire, from events already serialized: each is field
    1 (length-delimited), so the batch is their concatenation with a tag and a length
    before each; no event is parsed or serialized again."""
    out = bytearray()
    for event in events:
        out += b"\x0a"
        n = len(event)
        while n > 0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
        out += event
    return bytes(out)


def _snapshot(rev: int, region: str, **record: Any) -> bytes:
    kind = (
        pb.WatchEvent.KIND_SNAPSHOT_INCIDENT
        if "incident" in record
        else (pb.WatchEvent.KIND_SNAPSHOT_UNIT)
    )
    return pb.WatchEvent(kind=kind, revision=rev, region=region, **record).SerializeToString()


# Watch events of stored records (the hub's STREAMED_KINDS): key kind -> (record type,
# changed kind, removed kind, event field, converter).
_WATCH_SHAPES: dict[bytes, tuple[Any, int, int, str, Callable[[Any], Any]]] = {
    b"incidents": (
        Incident,
        pb.WatchEvent.KIND_INCIDENT_CHANGED,
        pb.WatchEvent.KIND_INCIDENT_REMOVED,
        "incident",
        conv.incident_pb,
    ),
    b"units": (
        Unit,
        pb.WatchEvent.KIND_UNIT_CHANGED,
        pb.WatchEvent.KIND_UNIT_REMOVED,
        "unit",
        conv.unit_pb,
    ),
}


class WatchRpcs:
    """The live board's stream."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    @rpc
    async def Watch(self, request, context) -> AsyncIterator[bytes]:
        async for events in self._follow(request, coalesce=False):
            for event in events:
                yield event

    @rpc
    async def WatchBatches(self, request, context) -> AsyncIterator[bytes]:
        async for events in self._follow(request, coalesce=True):
            yield frame_batch(events)

    async def _follow(self, request: Any, *, coalesce: bool) -> AsyncIterator[list[bytes]]:
        """The stream's serialized events, a list at a time: the snapshot in chunks,
        then each hub batch. ``coalesce``: a list also takes every batch that queued up
        meanwhile (up to ``MAX_BATCH_EVENTS``), so a console that fell behind catches up
        in a few messages instead of one per event."""
        gw = self.gw
        regions = set(conv.regions_filter(list(request.regions), gw.regions))
        if request.from_revision < 0:
            raise InvalidArgumentError("from_revision", "must be >= 0")
        # Subscribe first: every batch the gateway's hub hands out from now on is queued
        # for this stream, so nothing falls between the snapshot (or catch-up) and it.
        sub = await gw.hub.subscribe(regions)
        try:
            last = request.from_revision - 1  # the stream has everything up to here
            if request.from_revision == 0:
                rev = await gw.client.revision()
                chunk: list[bytes] = []
                for region in sorted(regions):
                    for inc in await gw.lookup.incidents(region, revision=rev):
                        chunk.append(_snapshot(rev, region, incident=conv.incident_pb(inc)))
                        if len(chunk) >= SNAPSHOT_CHUNK:
                            yield chunk
                            chunk = []
                    for unit in await gw.lookup.units(region, revision=rev):
                        chunk.append(_snapshot(rev, region, unit=conv.unit_pb(unit)))
                        if len(chunk) >= SNAPSHOT_CHUNK:
                            yield chunk
                            chunk = []
                done = pb.WatchEvent(kind=pb.WatchEvent.KIND_SNAPSHOT_DONE, revision=rev)
                yield [*chunk, done.SerializeToString()]
                last = rev
            elif last > sub.since and last > await gw.client.revision():
                # A revision this store has not reached: the reader saw a store since
                # restored from a backup. What it holds is not this store's: start over.
                raise PreconditionError(
                    "from_revision",
                    f"{request.from_revision} is beyond this store's revision (etcd was "
                    "restored from a backup): start over with a snapshot",
                )
            elif last < sub.since:
                # Resuming from before the hub's point: catch up on a watch of its own.
                # Its batches are not the hub's (a catching-up etcd watch may carry
                # several revisions under one header revision), so they are not cached.
                async for rev, events in gw.client.watch_prefix(
                    gw.keys.all(), start_revision=last + 1
                ):
                    out = Batch(rev, events, gw.keys).for_regions(regions, self._wire_event)
                    if out:
                        yield out
                    last = rev
                    if last >= sub.since:
                        break
            while True:
                batch: Batch | None = await sub.next()
                out = []
                while batch is not None:
                    if batch.rev > last:  # else already in the snapshot or the catch-up
                        out += batch.for_regions(regions, self._wire_event)
                        last = batch.rev
                    if not coalesce or len(out) >= MAX_BATCH_EVENTS:
                        break
                    batch = sub.next_nowait()
                if out:
                    yield out
        finally:
            gw.hub.unsubscribe(sub)

    def _wire_event(
        self, rev: int, kind: bytes, region: str, ident: bytes, ev: WatchEventKV
    ) -> bytes:
        return self._event(rev, kind, region, ident, ev).SerializeToString()

    def _event(
        self, rev: int, kind: bytes, region: str, ident: bytes, ev: WatchEventKV
    ) -> pb.WatchEvent:
        if kind == b"regions":
            return self._owner_event(rev, region, ev)
        record_type, changed, removed, field, to_pb = _WATCH_SHAPES[kind]
        if ev.deleted:
            return pb.WatchEvent(
                kind=removed, revision=rev, region=region, removed_id=ident.decode()
            )
        record = record_type.decode(ev.kv.value, ev.kv.mod_revision)
        return pb.WatchEvent(kind=changed, revision=rev, region=region, **{field: to_pb(record)})

    def _owner_event(self, rev: int, region: str, ev: WatchEventKV) -> pb.WatchEvent:
        seed = self.gw.config.seed
        cfg = seed.region(region)
        health = seed.health_region_of(region)
        if ev.deleted:
            msg = f"Region {cfg.name} has no owner: failing over"
            status = pb.RegionStatus(
                id=region, name=cfg.name, home_centre=cfg.home, health_region=health
            )
        else:
            rec = OwnerRecord.decode(ev.kv.value)
            # Not every holder is a centre of the seed: a restore settles as "restore".
            known = {c.id: c.name for c in seed.centres}
            msg = f"Region {cfg.name} now served by {known.get(rec.centre, rec.centre)}"
            status = pb.RegionStatus(
                id=region,
                name=cfg.name,
                home_centre=cfg.home,
                health_region=health,
                owner_centre=rec.centre,
                owner_instance=rec.instance,
                fencing_token=ev.kv.mod_revision,
                lease_id=rec.lease,
            )
        return pb.WatchEvent(
            kind=pb.WatchEvent.KIND_REGION_OWNER_CHANGED,
            revision=rev,
            region=region,
            region_status=status,
            message=msg,
        )
