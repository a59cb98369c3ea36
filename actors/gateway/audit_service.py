"""``amk.audit.v1.AuditService``: the access log, read back (Normen fact sheet 15).

Only the auditor role reaches it (the access table); each query is itself logged
(structlog ``access_log_query``) with who asked and what. The gateway's own queued rows
are written first, so a read just made through this gateway is in the answer.
"""

from __future__ import annotations

import asyncio

import structlog

from actors.domain.errors import InvalidArgumentError
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.rpc import rpc
from amk.audit.v1 import audit_pb2 as apb
from cluster.archive.access_log import MAX_ROWS

log = structlog.get_logger("amk.access")


def _seconds(ts) -> float | None:
    return ts.ToNanoseconds() / 1e9 if ts.seconds or ts.nanos else None


class AuditRpcs:
    """Queries of the access log."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    @rpc
    async def QueryAccessLog(self, request, context) -> apb.QueryAccessLogResponse:
        if not (request.user or request.incident_id or request.caller_number):
            raise InvalidArgumentError("user", "give a user, an incident_id or a caller_number")
        if request.limit < 0 or request.limit > MAX_ROWS:
            raise InvalidArgumentError("limit", f"must be 0..{MAX_ROWS}")
        log.info(
            "access_log_query",
            by=current_identity.get(),
            user=request.user,
            incident_id=request.incident_id,
            caller=bool(request.caller_number),
        )
        await self.gw.access_log.flush()
        store = await self.gw.history.archive()
        rows = await asyncio.to_thread(
            store.query_access,
            user=request.user or None,
            record_id=request.incident_id or None,
            caller_number=request.caller_number or None,
            since=_seconds(request.since),
            until=_seconds(request.until),
            limit=request.limit or 1000,
        )
        out = apb.QueryAccessLogResponse()
        for r in rows:
            rec = out.records.add(
                user=r.user_id,
                user_name=r.user_name,
                role=r.role,
                centre=r.centre,
                method=r.method,
                record_kind=r.record_kind,
                record_id=r.record_id,
                region=r.region,
                why=r.why,
                reason=r.reason,
                peer=r.peer,
                gateway=r.gateway,
            )
            rec.at.FromNanoseconds(int(r.at * 1e9))
        return out
