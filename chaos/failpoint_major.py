"""A major incident as a drill fault: declared in one region, many callers at once.

Not a failure of the cluster but of the day: the region's supervisor declares a major
incident (the major incident actor switches the region's 113 queue to sharing with its
partners), and the drill's call floor sends ``surge_rate`` more calls per second into
the region for the fault's duration. At recover the supervisor stands it down (sharing
off again). Registered in :data:`chaos.failpoints.FAILPOINTS` on import (the drill
runner imports this module).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from chaos.failpoints import FAILPOINTS, DrillContext, Failpoint, _region_point
from clients.client import AmkClient
from clients.console_tokens import SUPERVISOR, ConsoleRoom
from cluster.tls import console_identity


class MajorIncident(Failpoint):
    """``target``: the region; params ``surge_rate`` (calls/s, default 0: none),
    ``kind`` and ``expected_patients`` (the declaration's)."""

    name = "major-incident"

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self.major_id = ""
        self._client: AmkClient | None = None
        self._room: ConsoleRoom | None = None

    def _as_supervisor(self, ctx: DrillContext, fn: Any) -> Any:
        if self._client is None:
            self._client = AmkClient(
                ctx.config.gateways, identity="drill-supervisor", tls=console_identity(ctx.config)
            )
            self._room = ConsoleRoom(ctx.config)
        assert self._room is not None
        return self._room.call(self._client, self.spec.target, fn, SUPERVISOR)

    async def inject(self, ctx: DrillContext) -> dict[str, Any]:
        region = self.spec.target
        rate = float(self.spec.params.get("surge_rate", 0))
        if rate > 0 and ctx.call_floor is None:
            raise ValueError("major-incident: surge_rate needs the scenario's [calls] floor")
        lat, lon = _region_point(ctx.config, region)
        kind = str(self.spec.params.get("kind", "mass casualty"))
        patients = int(self.spec.params.get("expected_patients", 20))
        rid = uuid.uuid4().hex
        major = await asyncio.to_thread(
            self._as_supervisor,
            ctx,
            lambda c: c.declare_major_incident(region, lat, lon, kind, patients, request_id=rid),
        )
        self.major_id = major.id
        if rate > 0:
            ctx.call_floor.surge(region, rate, self.spec.duration_s)
        self.log.warning("major_incident_declared", major=major.id, surge_rate=rate)
        return {"major": major.id, "surge_rate": rate, "kind": kind}

    async def recover(self, ctx: DrillContext) -> dict[str, Any]:
        if not self.major_id:
            return {}
        rid = uuid.uuid4().hex
        await asyncio.to_thread(
            self._as_supervisor,
            ctx,
            lambda c: c.stand_down_major_incident(self.major_id, request_id=rid),
        )
        return {"stood_down": self.major_id}

    async def teardown(self) -> None:
        if self._client is not None:
            self._client.close()


FAILPOINTS[MajorIncident.name] = MajorIncident
