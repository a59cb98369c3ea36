"""The gRPC link from a gateway to a centre instance: ``amk.internal.v1.CentreService``.

Why not a Ray actor call: measured here, a bare Ray actor call costs ~0.7 ms of CPU in
the caller and as much in the actor per call, a grpc.aio unary ~0.25-0.3 ms each side
(``bench/api_bench.py`` kinds ``ray_call`` and ``echo``), and a centre in another site
(another Ray cluster) can only be reached over the network anyway. Commands and the
hand-over of a region travel here (both must reach an owner in another site); the other
control calls (start, status, stop) stay on the Ray handle, inside the site.

Both ends: :class:`LinkServer` runs in the centre actor's event loop on a free loopback
port (its address goes into the owner record of every region the centre claims);
:class:`Link` is the gateway's channel to one instance, used by
:class:`actors.centre.handle.CentreHandle`, which batches what it sends. Errors of our
tree cross as values (the envelopes of :mod:`actors.remote`), encoded by
:mod:`actors.centre.wire`; transport failures become :class:`CentreUnavailableError`
(retryable: the gateway tries the region's next owner with the same request id).

Mutual TLS with the cluster's service identity (issue #13): the server requires a client
certificate from our CA, and serves only a peer whose certificate is the service's
(``amk-service``: a gateway or another centre), so a console or crew certificate from
the same CA cannot bypass the gateway. Plaintext only when the config says ``insecure``.
Bound to ``centre_link_host`` (loopback by default).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog

from actors.centre import wire
from actors.domain.commands import Command
from actors.remote import Envelope, unwrap
from amk.internal.v1 import centre_pb2 as ipb
from cluster.errors import AmkError, CentreUnavailableError
from cluster.ownership import OwnerRecord
from cluster.pki import SERVICE_CN, TlsFiles
from cluster.tls import bind, open_channel, peer_common_name

log = structlog.get_logger("amk.centre.link")

SERVICE = ipb.DESCRIPTOR.services_by_name["CentreService"]
EXECUTE = f"/{SERVICE.full_name}/Execute"
HAND_OVER = f"/{SERVICE.full_name}/HandOverRegion"
LOOPBACK = "127.0.0.1"
MAX_MESSAGE = 64 * 1024 * 1024
_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
]
# Statuses that mean "this attempt did not get through" (dead, restarting, too slow or
# cancelled): retryable on the region's next owner. Any other status is a bug.
_UNREACHED = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
}

ExecuteMany = Callable[[list[tuple[str, Command]]], Awaitable[list[Envelope]]]
HandOver = Callable[[str, OwnerRecord, str], Awaitable[int]]


class LinkServer:
    """The centre's side: serves ``Execute`` and ``HandOverRegion`` for one incarnation."""

    def __init__(
        self,
        centre_id: str,
        instance: str,
        execute_many: ExecuteMany,
        hand_over: HandOver | None = None,
        host: str = LOOPBACK,
        tls: TlsFiles | None = None,
    ) -> None:
        self.host = host
        self.tls = tls  # None: plaintext (insecure config only)
        self.centre_id = centre_id
        self.instance = instance
        self._execute_many = execute_many
        self._hand_over = hand_over
        self.server: grpc.aio.Server | None = None
        self.address = ""

    async def start(self) -> str:
        """Listen on a free port of ``host`` (loopback unless configured); ``host:port``."""
        self.server = grpc.aio.server(options=_OPTIONS)
        handler = grpc.unary_unary_rpc_method_handler(
            self._execute,
            request_deserializer=ipb.ExecuteRequest.FromString,
            response_serializer=ipb.ExecuteResponse.SerializeToString,
        )
        hand_over = grpc.unary_unary_rpc_method_handler(
            self._hand_over_region,
            request_deserializer=ipb.HandOverRegionRequest.FromString,
            response_serializer=ipb.HandOverRegionResponse.SerializeToString,
        )
        methods = {"Execute": handler, "HandOverRegion": hand_over}
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE.full_name, methods),)
        )
        port = bind(self.server, f"{self.host}:0", self.tls)
        await self.server.start()
        self.address = f"{self.host}:{port}"
        if self.tls is None:
            log.warning(
                "centre_link_insecure",
                address=self.address,
                note="plaintext, no peer authentication (insecure: development only)",
            )
        return self.address

    async def _refuse_stranger(self, context: grpc.aio.ServicerContext) -> None:
        """Only the cluster's own services call a centre directly: with TLS the peer's
        certificate must be the service identity (the handshake already checked our CA)."""
        if self.tls is None:
            return
        cn = peer_common_name(context)
        if cn != SERVICE_CN:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"centre link: certificate {cn!r} is not the cluster's service identity",
            )

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0.2)

    async def _execute(
        self, request: ipb.ExecuteRequest, context: grpc.aio.ServicerContext
    ) -> ipb.ExecuteResponse:
        await self._refuse_stranger(context)
        try:
            items = wire.loads(request.commands)
        except wire.WireError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if request.instance != self.instance:
            # The caller meant an earlier incarnation whose port this one now has.
            err = CentreUnavailableError(
                self.centre_id, f"instance {request.instance} is gone (this is {self.instance})"
            )
            envelopes: list[Envelope] = [("err", err)] * len(items)
        else:
            envelopes = await self._execute_many(items)
        return ipb.ExecuteResponse(envelopes=wire.dumps(envelopes))

    async def _hand_over_region(
        self, request: ipb.HandOverRegionRequest, context: grpc.aio.ServicerContext
    ) -> ipb.HandOverRegionResponse:
        await self._refuse_stranger(context)
        try:
            to = OwnerRecord.decode(request.to_record)
        except (ValueError, TypeError) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"to_record: {exc}")
        envelope: Envelope
        if request.instance != self.instance:
            envelope = (
                "err",
                CentreUnavailableError(
                    self.centre_id, f"instance {request.instance} is gone ({self.instance})"
                ),
            )
        elif self._hand_over is None:
            envelope = ("err", CentreUnavailableError(self.centre_id, "no hand-over here"))
        else:
            try:
                envelope = ("ok", await self._hand_over(request.region, to, request.who))
            except AmkError as exc:
                envelope = ("err", exc)
        return ipb.HandOverRegionResponse(envelope=wire.dumps([envelope]))


class Link:
    """The gateway's side: one channel to one centre instance's ``LinkServer``."""

    def __init__(
        self, centre_id: str, instance: str, address: str, tls: TlsFiles | None = None
    ) -> None:
        self.centre_id = centre_id
        self.instance = instance
        self.address = address
        self.channel = open_channel(address, tls, _OPTIONS)
        self._execute: Any = self.channel.unary_unary(
            EXECUTE,
            request_serializer=ipb.ExecuteRequest.SerializeToString,
            response_deserializer=ipb.ExecuteResponse.FromString,
        )
        self._hand_over: Any = self.channel.unary_unary(
            HAND_OVER,
            request_serializer=ipb.HandOverRegionRequest.SerializeToString,
            response_deserializer=ipb.HandOverRegionResponse.FromString,
        )

    async def execute_many(
        self, items: list[tuple[str, Command]], *, timeout_s: float
    ) -> list[Envelope]:
        """One envelope per command, in order; :class:`CentreUnavailableError` when the
        instance could not be reached or did not answer within ``timeout_s``."""
        request = ipb.ExecuteRequest(instance=self.instance, commands=wire.dumps(items))
        try:
            response = await self._execute(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._failed(exc) from exc
        envelopes = wire.loads(response.envelopes)
        if len(envelopes) != len(items):
            raise RuntimeError(f"centre {self.centre_id} link: {len(envelopes)} answers")
        return envelopes

    async def hand_over_region(
        self, region: str, to: OwnerRecord, who: str, *, timeout_s: float
    ) -> int:
        """Ask the instance (the region's owner) to hand ``region`` to ``to``; the new
        fencing token. Errors of our tree come back as they were raised there."""
        request = ipb.HandOverRegionRequest(
            instance=self.instance, region=region, to_record=to.encode(), who=who
        )
        try:
            response = await self._hand_over(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._failed(exc) from exc
        (envelope,) = wire.loads(response.envelope)
        return unwrap(envelope)  # type: ignore[no-any-return]

    def _failed(self, exc: grpc.aio.AioRpcError) -> Exception:
        """What a failed call means: not reached (retryable on the region's next owner),
        or the centre's own code failed or refused our bytes: a bug, passed on as one
        (the RPC layer logs it and answers INTERNAL), as Ray's task errors are."""
        if exc.code() in _UNREACHED:
            return CentreUnavailableError(self.centre_id, f"{exc.code().name}: {exc.details()}")
        return RuntimeError(f"centre {self.centre_id} link: {exc.code().name}: {exc.details()}")

    async def close(self) -> None:
        await self.channel.close()
