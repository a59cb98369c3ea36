"""``GetIncidentHistory``, ``GetBoardAt`` and ``SearchIncidents`` of
``amk.dispatch.v1.DispatchService``: the journal of one incident, the board as it stood
at a past moment, and incidents at a place or with given words, from etcd and the archive
database together (:class:`~actors.gateway.history.History`)."""

from __future__ import annotations

import json
import time

from actors.domain import incident_search
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Incident
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.history import Entry
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb

# The entry's own fields; the rest are the command's details, shown as JSON.
ENTRY_FIELDS = ("at", "writer", "who", "command", "request_id", "region", "tokens", "keys")
FUTURE_SLACK_S = 5.0  # clocks apart: "now" on the console may be a little ahead


def entry_pb(e: Entry) -> pb.JournalEntry:
    body = e.body
    details = {k: v for k, v in body.items() if k not in ENTRY_FIELDS and k != "records"}
    return pb.JournalEntry(
        at=conv.to_timestamp(float(body.get("at", 0.0))),
        command=str(body.get("command", "")),
        who=str(body.get("who", "")),
        writer=str(body.get("writer", "")),
        region=str(body.get("region", "")),
        request_id=str(body.get("request_id") or ""),
        tokens={str(k): int(v) for k, v in (body.get("tokens") or {}).items()},
        revision=e.revision,
        archived=e.archived,
        details_json=json.dumps(details, sort_keys=True),
    )


class HistoryRpcs:
    """History RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    @rpc
    async def GetIncidentHistory(self, request, context) -> pb.IncidentHistory:
        conv.v.entity_id(request.incident_id, "incident_id")
        entries = await self.gw.history.incident_history(request.incident_id)
        if not entries:
            raise NotFoundError("incident", request.incident_id)
        return pb.IncidentHistory(
            incident_id=request.incident_id,
            entries=[entry_pb(e) for e in entries],
            alerts=await self._alerts(request.incident_id),
        )

    async def _alerts(self, incident_id: str) -> list[pb.Alert]:
        """The incident's alerts as they stand, with every time (live, else archived):
        the journal says which command changed an alert, this says where each stands."""
        try:
            inc = await self.gw.lookup.incident(incident_id)
        except NotFoundError:
            inc = await self.gw.history.archived_incident(incident_id)
        return [] if inc is None else [conv.alert_pb(inc.id, a) for a in inc.alerts]

    @rpc
    async def SearchIncidents(self, request, context) -> pb.SearchIncidentsResponse:
        now = time.time()
        if not request.HasField("since"):
            raise InvalidArgumentError("since", "is required")
        since = conv.timestamp_s(request.since, "since")
        until = conv.timestamp_s(request.until, "until") if request.HasField("until") else now
        near = conv.position_of(request.near, "near") if request.HasField("near") else None
        query = incident_search.check(
            since, until, near, request.radius_m, request.text, request.limit
        )
        regions = conv.regions_filter(list(request.regions), self.gw.regions)

        def keep(inc: Incident) -> bool:
            return incident_search.matches(query, inc)

        live = [i for r in regions for i in await self.gw.lookup.incidents(r) if keep(i)]
        # The archive's are matched as they are read, in its thread: not matched again.
        archived = await self.gw.history.archived_incidents(regions, since, until, keep)
        found, truncated = incident_search.newest(query, [*live, *archived])
        from_archive = {id(i) for i in archived}
        out = []
        for inc in found:
            msg = conv.incident_pb(inc)
            msg.archived = id(inc) in from_archive
            out.append(msg)
        return pb.SearchIncidentsResponse(incidents=out, truncated=truncated)

    @rpc
    async def GetBoardAt(self, request, context) -> pb.BoardAt:
        if not request.HasField("at"):
            raise InvalidArgumentError("at", "is required")
        at = conv.timestamp_s(request.at, "at")
        if at > time.time() + FUTURE_SLACK_S:
            raise InvalidArgumentError("at", "is in the future")
        regions = conv.regions_filter(list(request.regions), self.gw.regions)
        board = await self.gw.history.board_at(at, regions)
        return pb.BoardAt(
            at=request.at,
            incidents=[conv.incident_pb(i) for i in board.incidents],
            units=[conv.unit_pb(u) for u in board.units],
            owners=[
                pb.RegionOwnerAt(
                    region=region,
                    centre=o.get("centre", ""),
                    instance=o.get("instance", ""),
                    fencing_token=int(o.get("token", 0)),
                    since=conv.to_timestamp(float(o.get("since", 0.0))),
                    how=o.get("how", ""),
                )
                for region, o in sorted(board.owners.items())
            ],
            versions=board.versions,
        )
