"""``GetClusterStatus`` of ``amk.dispatch.v1.DispatchService``: what ``amk status``
shows an on-call engineer: every centre (alive, lease, regions served), every region
(owner, fencing token, lease left, standbys, last takeover), every gateway (alive,
restarts, last restart) and every etcd member's database size against the quota.
Centres and regions carry their health region, and the answer the running seed's health
regions, so a console groups and filters by them without a seed of its own (``amk up
--seed`` is not in the settings a console reads)."""

from __future__ import annotations

import asyncio
import time

import structlog

from actors.gateway.context import GatewayContext
from actors.gateway.guard import access_table_for
from actors.gateway.identity import current_claims
from actors.gateway.rpc import rpc
from actors.supervisor.handle import SupervisorHandle
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError
from cluster.sites import live_sites

log = structlog.get_logger("amk.gateway")


LIST_SUSPENSIONS = "/amk.audit.v1.CredentialService/ListSuspensions"


class StatusRpcs:
    """Cluster status."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw
        # Who is told about the lists: those who may list the suspensions. A count that
        # moves, or a gateway that has not read them, is nobody else's business (a holder
        # of a revoked certificate would learn where it is taken).
        rule = (
            access_table_for(gw.config.access_table).rule(LIST_SUSPENSIONS)
            if gw.config.auth_enabled()
            else None
        )
        self._told_lists = frozenset(rule.roles) if rule is not None else frozenset()

    @rpc
    async def GetClusterStatus(self, request, context) -> pb.ClusterStatus:
        gw = self.gw
        seed = gw.config.seed
        handles = [gw.router.centre(c.id) for c in seed.centres]
        results = await asyncio.gather(
            *(h.status(timeout_s=gw.config.status_timeout_s) for h in handles),
            return_exceptions=True,
        )
        centres, counts = [], {}
        alive = set()
        for c, res in zip(seed.centres, results, strict=True):
            if isinstance(res, BaseException):
                centres.append(
                    pb.CentreStatus(
                        id=c.id, name=c.name, alive=False, health_region=c.health_region
                    )
                )
                continue
            alive.add(c.id)
            counts.update(res.counts)
            centres.append(
                pb.CentreStatus(
                    id=c.id,
                    name=c.name,
                    alive=True,
                    node_id=res.node_id,
                    pid=res.pid,
                    lease_id=res.lease_id,
                    lease_ttl_s=res.lease_ttl_s,
                    lease_valid_for_s=res.lease_valid_for_s,
                    regions_owned=sorted(res.regions),
                    instance=res.instance,
                    health_region=c.health_region,
                )
            )
        regions = []
        for r in seed.regions:
            status = await gw.lookup.region_status(r.id, alive)
            status.incidents, status.units = counts.get(r.id, (0, 0))
            regions.append(status)
        return pb.ClusterStatus(
            centres=centres,
            regions=regions,
            etcd_revision=await gw.client.revision(),
            etcd_endpoints=gw.client.endpoints,
            gateway=gw.address,
            gateways=await self._gateways(),
            etcd_members=await self._etcd_members(),
            site=gw.config.site,
            sites=await self._sites(regions),
            insecure=gw.config.insecure,
            health_regions=[pb.HealthRegion(id=h.id, name=h.name) for h in seed.health_regions],
            credential_lists=self._credential_lists(),
        )

    def _credential_lists(self) -> pb.CredentialLists | None:
        """This gateway's lists, so that ``amk status`` tells an on-call engineer what the
        ``AmkRevocationListUnread`` alert is about without a metrics scrape; None for a
        caller who may not list suspensions, and when identities are not checked (the
        lists are then applied to nobody)."""
        claims = current_claims.get()
        if claims is None or claims.role not in self._told_lists:
            return None
        lists = self.gw.revocations
        return pb.CredentialLists(
            read=lists.loaded,
            read_age_s=round(lists.read_age_s(time.time()), 1),
            revoked_certificates=len(lists.by_serial),
            suspended=len(lists.suspended),
            poll_s=lists.poll_s,
        )

    async def _sites(self, regions: list[pb.RegionStatus]) -> list[pb.SiteStatus]:
        """Every site configured here or live in etcd: its key's record, and which
        centres' instances there own a region now (the others stand by)."""
        gw = self.gw
        live = {r.name: r for r in await live_sites(gw.client, gw.keys)}
        out = []
        for name in sorted(set(gw.config.all_sites()) | set(live)):
            active = sorted({r.owner_centre for r in regions if r.owner_site == name})
            status = pb.SiteStatus(name=name, live=name in live, active_centres=active)
            rec = live.get(name)
            if rec is not None:
                status.gateways.extend(rec.gateways)
                status.host, status.pid = rec.host, rec.pid
                status.started_at, status.ray_address = rec.started, rec.ray_address
                status.standby_centres.extend(c for c in rec.centres if c not in active)
            out.append(status)
        return out

    async def _etcd_members(self) -> list[pb.EtcdMemberStatus]:
        """Each etcd member's database size, asked of the member itself."""
        quota = self.gw.config.etcd_quota_bytes
        members = await self.gw.client.member_status(timeout_s=self.gw.config.status_timeout_s)
        return [
            pb.EtcdMemberStatus(
                endpoint=m.endpoint,
                member_id=m.member_id,
                db_size_bytes=m.db_size_bytes,
                db_size_in_use_bytes=m.db_size_in_use_bytes,
                quota_bytes=quota,
                leader=m.leader,
                error=m.error,
            )
            for m in members
        ]

    async def _gateways(self) -> list[pb.GatewayStatus]:
        """Each gateway as the supervisor keeps it; none while it does not answer."""
        supervisor = SupervisorHandle.find(self.gw.config.ray_namespace)
        try:
            states = await supervisor.gateways(timeout_s=self.gw.config.status_timeout_s)
        except AmkError as err:
            log.warning("gateway_states_unavailable", error=str(err))
            return []
        return [
            pb.GatewayStatus(
                address=g.address,
                alive=g.alive,
                pid=g.pid,
                restarts=g.restarts,
                last_restart_at=g.last_restart_at,
                last_restart_s=g.last_restart_s,
                incarnation=g.incarnation,
                last_error=g.last_error,
            )
            for g in states
        ]
