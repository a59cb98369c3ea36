"""The RPC layer: one decorator maps our errors to gRPC status codes, and services are
assembled from their parts by the service descriptor.

Every RPC method of a gateway part carries :func:`rpc`. It turns an :class:`AmkError`
into its status code (the one table, :mod:`actors.gateway.status_codes`), with the
field of bad input in the ``amk-field`` trailer; an unexpected exception is a bug: it
is logged once with its traceback and the caller gets INTERNAL. No handler repeats
that plumbing.

:func:`add_service` registers a service from the parts that implement its methods,
found by name from the proto's service descriptor, so the gRPC registration cannot
drift from the proto: a method no part implements fails the gateway's start.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import hashlib
import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
import structlog
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message_factory import GetMessageClass

from actors.domain.errors import InvalidArgumentError
from actors.gateway.status_codes import status_of
from cluster.errors import AmkError, ConfigError

log = structlog.get_logger("amk.gateway")

FIELD_TRAILER = "amk-field"
RPC_MARK = "__amk_rpc__"

#: The fingerprint of the API request being served (see ``actors.domain.idempotency``).
current_fingerprint: contextvars.ContextVar[str] = contextvars.ContextVar("fingerprint", default="")


def request_fingerprint(method: str, request: Any) -> str:
    """The method and a hash of the request's fields other than ``request_id``.

    Protobuf's deterministic serialization with the id cleared: the same request
    re-sent (a client's retry) hashes the same; any other field differing does not.
    Requests without a ``request_id`` have none (""). The id is cleared on the request
    itself and put back (no copy of every request: the request is ours alone here).
    """
    if "request_id" not in request.DESCRIPTOR.fields_by_name:
        return ""
    request_id = request.request_id
    request.ClearField("request_id")
    try:
        digest = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
    finally:
        request.request_id = request_id
    return f"{method}:{digest[:32]}"


def stamp(cmd: Any) -> Any:
    """``cmd`` carrying the fingerprint of the API request being served."""
    fingerprint = current_fingerprint.get()
    if not fingerprint or getattr(cmd, "fingerprint", "") == fingerprint:
        return cmd
    return dataclasses.replace(cmd, fingerprint=fingerprint)


MAX_DETAILS = 300  # characters of a status message


async def abort(context: grpc.aio.ServicerContext, err: AmkError) -> None:
    """End the call with ``err``'s status code (raises grpc's AbortError).

    Messages quote bad input back; a caller's 10 kB string must not become a 10 kB
    status message: past gRPC's 8 kB metadata limit the client gets RESOURCE_EXHAUSTED
    instead of our answer. The field name goes whole in the ``amk-field`` trailer.
    """
    if isinstance(err, InvalidArgumentError):
        context.set_trailing_metadata(((FIELD_TRAILER, err.field[:MAX_DETAILS]),))
    details = str(err)
    if len(details) > MAX_DETAILS:
        details = details[: MAX_DETAILS - 1] + "…"
    await context.abort(status_of(err), details)


async def _fail(context: grpc.aio.ServicerContext, name: str, exc: Exception) -> None:
    """End the call for ``exc``: our error by the table; grpc's own abort as it is; any
    other exception is a bug, logged once with its traceback, and INTERNAL."""
    if isinstance(exc, AmkError):
        await abort(context, exc)
    if isinstance(exc, grpc.aio.AbortError):
        raise exc
    log.error("rpc_unexpected_error", method=name, error=repr(exc), exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {name} (logged)")


def rpc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map errors of one RPC method (unary or client-streaming, or a server-streaming
    async generator) to status codes."""
    name = fn.__name__
    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def streaming(self: Any, request: Any, context: Any) -> AsyncIterator[Any]:
            try:
                async for item in fn(self, request, context):
                    yield item
            except Exception as exc:
                await _fail(context, name, exc)

        setattr(streaming, RPC_MARK, True)
        return streaming

    @functools.wraps(fn)
    async def unary(self: Any, request: Any, context: Any) -> Any:
        if hasattr(request, "DESCRIPTOR"):  # not a client stream
            current_fingerprint.set(request_fingerprint(name, request))
        try:
            return await fn(self, request, context)
        except Exception as exc:
            await _fail(context, name, exc)

    setattr(unary, RPC_MARK, True)
    return unary


def _handler_for(method: Any, fn: Callable[..., Any]) -> grpc.RpcMethodHandler:
    request = GetMessageClass(method.input_type)
    response = GetMessageClass(method.output_type)
    kinds = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    make = kinds[(method.client_streaming, method.server_streaming)]
    serialize = _serialize_or_pass if method.server_streaming else response.SerializeToString
    return make(fn, request_deserializer=request.FromString, response_serializer=serialize)


def _serialize_or_pass(message: Any) -> bytes:
    """A streamed message's wire bytes. A stream may yield bytes already serialized:
    ``Watch`` serializes each event once for every console that gets it (hundreds per
    gateway) instead of once per console."""
    if type(message) is bytes:
        return message
    return message.SerializeToString()


def implementations(service: ServiceDescriptor, parts: Sequence[object]) -> dict[str, Any]:
    """Method name -> the bound ``@rpc`` method of the part that implements it.

    Raises :class:`ConfigError` if a method has no implementation, two parts implement
    one, or an implementation lacks the ``@rpc`` decorator.
    """
    found: dict[str, Any] = {}
    for method in service.methods:
        owners = [p for p in parts if hasattr(p, method.name)]
        if len(owners) != 1:
            raise ConfigError(
                f"{service.full_name}.{method.name}: implemented by {len(owners)} parts"
            )
        fn = getattr(owners[0], method.name)
        if not getattr(fn, RPC_MARK, False):
            raise ConfigError(f"{service.full_name}.{method.name}: missing @rpc")
        found[method.name] = fn
    return found


def add_service(server: grpc.aio.Server, service: ServiceDescriptor, parts: Sequence[object]):
    """Register ``service`` on ``server``, each method served by its part."""
    impls = implementations(service, parts)
    handlers = {m.name: _handler_for(m, impls[m.name]) for m in service.methods}
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )
