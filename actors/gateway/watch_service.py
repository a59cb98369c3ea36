"""``Watch`` of ``amk.dispatch.v1.DispatchService``: the live board's stream.

A snapshot of the asked regions' incidents and units at one revision, then every change
from the next revision on (no change falls between the two), and region owner changes
as they happen, with a line for people.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, Unit
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.ownership import OwnerRecord

CONVERTED_BATCHES = 1024  # recent batches kept converted for the streams still behind

# Watch events of stored records: key kind -> (record type, changed kind, removed kind,
# event field, converter).
_WATCH_SHAPES: dict[str, tuple[Any, int, int, str, Callable[[Any], Any]]] = {
    "incidents": (
        Incident,
        pb.WatchEvent.KIND_INCIDENT_CHANGED,
        pb.WatchEvent.KIND_INCIDENT_REMOVED,
        "incident",
        conv.incident_pb,
    ),
    "units": (
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
        # revision -> its batch as watch events (never mutated once made)
        self._converted: OrderedDict[int, list[pb.WatchEvent]] = OrderedDict()

    @rpc
    async def Watch(self, request, context) -> AsyncIterator[pb.WatchEvent]:
        gw = self.gw
        regions = set(conv.regions_filter(list(request.regions), gw.regions))
        if request.from_revision < 0:
            raise InvalidArgumentError("from_revision", "must be >= 0")
        # Subscribe first: every batch the gateway's hub hands out from now on is queued
        # for this stream, so nothing falls between the snapshot (or catch-up) and it.
        sub = gw.hub.subscribe()
        try:
            last = request.from_revision - 1  # the stream has everything up to here
            if request.from_revision == 0:
                rev = await gw.client.revision()
                for region in sorted(regions):
                    for inc in await gw.lookup.incidents(region, revision=rev):
                        yield pb.WatchEvent(
                            kind=pb.WatchEvent.KIND_SNAPSHOT_INCIDENT,
                            revision=rev,
                            region=region,
                            incident=conv.incident_pb(inc),
                        )
                    for unit in await gw.lookup.units(region, revision=rev):
                        yield pb.WatchEvent(
                            kind=pb.WatchEvent.KIND_SNAPSHOT_UNIT,
                            revision=rev,
                            region=region,
                            unit=conv.unit_pb(unit),
                        )
                yield pb.WatchEvent(kind=pb.WatchEvent.KIND_SNAPSHOT_DONE, revision=rev)
                last = rev
            elif last < sub.since:
                # Resuming from before the hub's point: catch up on a watch of its own.
                async for rev, events in gw.client.watch_prefix(
                    gw.keys.all(), start_revision=last + 1
                ):
                    for out in self._events(rev, events, regions):
                        yield out
                    last = rev
                    if last >= sub.since:
                        break
            while True:
                rev, events = await sub.next()
                if rev <= last:
                    continue  # already in the snapshot or the catch-up
                for out in self._events(rev, events, regions):
                    yield out
                last = rev
        finally:
            gw.hub.unsubscribe(sub)

    def _events(self, rev: int, events: list[Any], regions: set[str]) -> list[pb.WatchEvent]:
        """The watch events of one batch for ``regions``. Each batch is decoded and
        converted once, for every stream that wants it (hundreds of consoles share one
        hub), and the streams only filter by region."""
        converted = self._converted.get(rev)
        if converted is None:
            converted = [e for ev in events if (e := self._event(rev, ev)) is not None]
            self._converted[rev] = converted
            if len(self._converted) > CONVERTED_BATCHES:
                self._converted.popitem(last=False)
        return [e for e in converted if e.region in regions]

    def _event(self, rev: int, ev: Any) -> pb.WatchEvent | None:
        parsed = self.gw.keys.parse(ev.kv.key)
        if parsed is None or parsed[1] not in self.gw.regions:
            return None
        kind, region, ident = parsed
        shape = _WATCH_SHAPES.get(kind)
        if shape is not None:
            record_type, changed, removed, field, to_pb = shape
            if ev.deleted:
                return pb.WatchEvent(kind=removed, revision=rev, region=region, removed_id=ident)
            record = record_type.decode(ev.kv.value, ev.kv.mod_revision)
            return pb.WatchEvent(
                kind=changed, revision=rev, region=region, **{field: to_pb(record)}
            )
        if kind == "regions" and ident == "owner":
            return self._owner_event(rev, region, ev)
        return None

    def _owner_event(self, rev: int, region: str, ev: Any) -> pb.WatchEvent:
        seed = self.gw.config.seed
        cfg = seed.region(region)
        if ev.deleted:
            msg = f"Region {cfg.name} has no owner: failing over"
            status = pb.RegionStatus(id=region, name=cfg.name, home_centre=cfg.home)
        else:
            rec = OwnerRecord.decode(ev.kv.value)
            msg = f"Region {cfg.name} now served by {seed.centre(rec.centre).name}"
            status = pb.RegionStatus(
                id=region,
                name=cfg.name,
                home_centre=cfg.home,
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
