"""Who is calling: the seam where authentication will go.

Today the interceptor takes the caller's stated identity (``x-amk-identity`` metadata)
so every journal entry names someone; with TLS and roles (call-taker, dispatcher,
supervisor, engineer) it will take a verified one, without a change elsewhere.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable

import grpc

IDENTITY_HEADER = "x-amk-identity"
current_identity: contextvars.ContextVar[str] = contextvars.ContextVar("identity", default="anon")


class IdentityInterceptor(grpc.aio.ServerInterceptor):
    """Puts the caller's identity where the services read it (``current_identity``)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        ident = dict(details.invocation_metadata or ()).get(IDENTITY_HEADER, "anon")
        current_identity.set(str(ident)[:64])
        return await continuation(details)
