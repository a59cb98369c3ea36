"""``GetClusterStatus`` of ``amk.dispatch.v1.DispatchService``: what ``amk status``
shows an on-call engineer: every centre (alive, lease, regions served) and every region
(owner, fencing token, lease left, standbys, last takeover)."""

from __future__ import annotations

import asyncio

from actors.gateway.context import GatewayContext
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb


class StatusRpcs:
    """Cluster status."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

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
                centres.append(pb.CentreStatus(id=c.id, name=c.name, alive=False))
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
        )
