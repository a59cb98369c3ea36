"""``GetKpis`` of ``amk.dispatch.v1.DispatchService``: answer, dispatch and on-scene
times per region and urgency against the national targets.

A read, straight from etcd like the other reads on a gateway (it keeps working while a
region fails over): the calls and incidents of the asked regions, and their journal.
The arithmetic and the definitions are in :mod:`actors.domain.kpi`.

What is read:

- ``calls/{region}/`` and ``incidents/{region}/`` of the asked regions (current records);
- ``journal/{region}/`` of the asked regions and of the regions where their incidents
  were created (an incident handed over was assigned in its first region), from
  ``since`` (less a few minutes for clocks apart) when it is given: journal keys start
  with the commit time, so a window does not read the whole history;
- the same from the archive database (closed work the archiver moved out of etcd), so
  a window of 30 days spans archive and live;
- the stored result (``requests/{id}``, or its archived copy) of the few
  ``ChangeIncidentStatus`` entries that could have put an incident on scene by hand
  (``kpi.status_lookups_needed``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from actors.domain import kpi, municipality
from actors.domain.model import Call, Incident
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.keys import prefix_range_end

SINCE_SLACK_S = 300.0  # journal read this much before ``since``: centres' clocks differ
LOOKUPS_AT_ONCE = 32


def figure_pb(f: kpi.Figure) -> pb.KpiFigure:
    return pb.KpiFigure(
        region=f.region,
        urgency=conv.to_pb_enum(f.urgency),
        measure=f.measure,
        count=f.count,
        p50_s=f.p50_s,
        p90_s=f.p90_s,
        target_s=f.target_s,
        target_share=f.target_share,
        share_within_target=f.share_within_target,
        target_text=f.target_text,
        area=f.area,
        excluded=[pb.KpiExclusion(reason=r, count=n) for r, n in f.excluded],
        abandoned=f.abandoned,
        unanswered_after_limit=f.unanswered_after_limit,
        limit_s=f.limit_s,
        alert_service=conv.to_pb_enum(f.alert_service),
        condition=conv.to_pb_enum(f.condition),
    )


class KpiRpcs:
    """The KPI RPC."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw
        self.client = gw.client
        self.keys = gw.keys

    async def _kpi_records(
        self, regions: list[str], since: float | None
    ) -> tuple[list[Incident], list[Call]]:
        incidents: list[Incident] = []
        calls: list[Call] = []
        for region in regions:
            p = self.keys.incidents_prefix(region)
            kvs, _ = await self.client.get_prefix(p)
            incidents += [Incident.decode(kv.value, kv.mod_revision) for kv in kvs]
            kvs, _ = await self.client.get_prefix(self.keys.calls_prefix(region))
            calls += [Call.decode(kv.value, kv.mod_revision) for kv in kvs]
        # Closed work the archiver moved: the live copy wins where both exist.
        old_incidents, old_calls = await self.gw.history.archived_records(regions, since)
        have = {i.id for i in incidents}
        incidents += [i for i in old_incidents if i.id not in have]
        have = {c.id for c in calls}
        calls += [c for c in old_calls if c.id not in have]
        return incidents, calls

    async def _kpi_journal(self, regions: list[str], since: float | None) -> list[dict[str, Any]]:
        """The journal entries of ``regions`` that matter for the KPIs."""
        wanted = [name.encode() for name in kpi.RELEVANT_COMMANDS]
        entries: list[dict[str, Any]] = []
        live: set[str] = set()  # an entry in both places (a crash mid-archive) counts once
        for region in regions:
            prefix = self.keys.journal_prefix(region)
            start = prefix
            if since is not None:
                start = self.keys.journal(
                    region, f"{int(max(0.0, since - SINCE_SLACK_S) * 1e9):020d}"
                )
            kvs, _ = await self.client.range_all(start, prefix_range_end(prefix))
            for kv in kvs:
                # Most entries are position reports: skip them without parsing.
                if not any(name in kv.value for name in wanted):
                    continue
                entry = json.loads(kv.value)
                if entry.get("command") in kpi.RELEVANT_COMMANDS:
                    live.add(kv.key.decode())
                    entries.append(entry)
        since_read = None if since is None else max(0.0, since - SINCE_SLACK_S)
        archived = await self.gw.history.archived_journal(
            regions, since_read, kpi.RELEVANT_COMMANDS
        )
        for e in archived:
            if e.key not in live and e.body.get("command") in kpi.RELEVANT_COMMANDS:
                entries.append(e.body)
        return entries

    async def _look_up_statuses(self, entries: list[dict[str, Any]]) -> None:
        """Set the incident's resulting status on each entry, from its request record."""

        async def one(entry: dict[str, Any]) -> None:
            request_id = entry.get("request_id")
            if not request_id:
                return
            kv = await self.client.get(self.keys.request(request_id))
            stored = (
                kv.value if kv is not None else await self.gw.history.archived_request(request_id)
            )
            status = kpi.incident_status_of_result(stored) if stored is not None else None
            if status is not None:
                entry[kpi.STATUS_KEY] = status

        for i in range(0, len(entries), LOOKUPS_AT_ONCE):
            await asyncio.gather(*(one(e) for e in entries[i : i + LOOKUPS_AT_ONCE]))

    @rpc
    async def GetKpis(self, request, context) -> pb.Kpis:
        lookup = self.gw.lookup
        regions = conv.regions_filter(
            list(request.regions), lookup.regions, default=lookup.area_regions
        )
        since = conv.timestamp_s(request.since, "since") if request.HasField("since") else None
        incidents, calls = await self._kpi_records(regions, since)
        if since is not None:
            incidents = [i for i in incidents if i.created_at >= since]
        origins = {lookup.region_of_code(i.id) for i in incidents}
        journal_regions = sorted(set(regions) | {r for r in origins if r in lookup.regions})
        entries = await self._kpi_journal(journal_regions, since)
        await self._look_up_statuses(kpi.status_lookups_needed(incidents, entries))
        # Pure, but a long window is a lot of it: off the gateway's event loop.
        figures = await asyncio.to_thread(
            kpi.compute,
            incidents,
            calls,
            entries,
            since=since,
            now=time.time(),
            area_of=municipality.area_of,
        )
        return pb.Kpis(figures=[figure_pb(f) for f in figures])
