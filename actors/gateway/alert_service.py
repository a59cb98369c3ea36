"""Alerts of ``amk.dispatch.v1.DispatchService`` (issue #19, trippelvarsling): list,
send, acknowledge, cancel.

An alert lives in its incident's record, so every mutation is an incident command
routed to the incident's owner (:class:`~actors.gateway.router.Router`), and the list
reads the incident straight from etcd (or the archive, once it is closed and moved).
"""

from __future__ import annotations

import grpc

from actors.domain import alerts
from actors.domain.commands import AcknowledgeAlert, CancelAlert, SendAlert
from actors.domain.errors import NotFoundError, PreconditionError
from actors.domain.model import Incident
from actors.gateway import convert as conv
from actors.gateway import convert_alerts as alert_conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb


class AlertRpcs:
    """Alert RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    async def _route(
        self, context: grpc.aio.ServicerContext, cmd: SendAlert | AcknowledgeAlert | CancelAlert
    ) -> Incident:
        region = self.gw.lookup.incident_region(cmd.incident_id)
        try:
            out = await self.gw.router.route(region, cmd, context)
        except NotFoundError as exc:
            archived = await self.gw.history.archived_incident(cmd.incident_id)
            if archived is not None and "alert" not in str(exc):
                raise PreconditionError(cmd.incident_id, "archived (closed): read-only") from None
            raise
        return out.require_incident()

    @rpc
    async def ListAlerts(self, request, context) -> pb.ListAlertsResponse:
        conv.v.entity_id(request.incident_id, "incident_id")
        try:
            inc = await self.gw.lookup.incident(request.incident_id)
        except NotFoundError:
            archived = await self.gw.history.archived_incident(request.incident_id)
            if archived is None:
                raise
            inc = archived
        return pb.ListAlertsResponse(alerts=[conv.alert_pb(inc.id, a) for a in inc.alerts])

    @rpc
    async def SendAlert(self, request, context) -> pb.Alert:
        cmd = alert_conv.send_alert(request, current_identity.get())
        inc = await self._route(context, cmd)
        # The alert this command sent: the latest sent to the service in its answer
        # (a retry gets the first answer, so this holds for retries too).
        sent = [a for a in inc.alerts if a.service is cmd.service and a.sent_at]
        return conv.alert_pb(inc.id, max(sent, key=lambda a: a.sent_at))

    @rpc
    async def AcknowledgeAlert(self, request, context) -> pb.Alert:
        cmd = alert_conv.acknowledge_alert(request, current_identity.get())
        inc = await self._route(context, cmd)
        return conv.alert_pb(inc.id, alerts.find(inc, cmd.alert_id))

    @rpc
    async def CancelAlert(self, request, context) -> pb.Alert:
        cmd = alert_conv.cancel_alert(request, current_identity.get())
        inc = await self._route(context, cmd)
        return conv.alert_pb(inc.id, alerts.find(inc, cmd.alert_id))
