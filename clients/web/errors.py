"""Errors of the web console's HTTP API: one shape, one table from gRPC codes to HTTP.

The page shows a server error next to the field it names (docs/web-console.md), so
every error, whether the gateway's or the web server's own, is
``{"error": {"code", "message", "field"}}`` with ``code`` a gRPC status name and
``field`` the gateway's ``amk-field`` trailer (a dotted proto field name) or "".
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from aiohttp import web

FIELD_TRAILER = "amk-field"  # actors/gateway/rpc.py sets it on INVALID_ARGUMENT

#: gRPC status -> HTTP status, as docs/web-console.md lists it; anything else is 500.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 412,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
OTHER_STATUS = 500


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP status of a gRPC code (500 for any code the table does not list)."""
    return HTTP_STATUS.get(code, OTHER_STATUS)


class ApiError(Exception):
    """A failed API request, as the browser is told about it."""

    def __init__(self, code: grpc.StatusCode, message: str, field: str = "") -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field = field

    @property
    def status(self) -> int:
        return http_status(self.code)

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.field)

    def response(self, **extra: Any) -> web.Response:
        """The JSON response; ``extra`` adds top-level keys beside ``error``."""
        return json_response({**self.body(), **extra}, status=self.status)

    @classmethod
    def from_rpc(cls, err: grpc.RpcError) -> ApiError:
        """The gateway's refusal, with the field its ``amk-field`` trailer names."""
        if not isinstance(err, _CALLS):  # a bare RpcError: no status to tell
            return cls(grpc.StatusCode.UNKNOWN, str(err))
        return cls(err.code() or grpc.StatusCode.UNKNOWN, err.details() or "", field_of(err))


# What a failed call is: grpc.aio's AioRpcError is not a grpc.Call, but has its methods.
_CALLS = (grpc.Call, grpc.aio.AioRpcError)


def field_of(err: grpc.RpcError) -> str:
    """The ``amk-field`` trailer of a failed call, or ""."""
    trailers = err.trailing_metadata() if isinstance(err, _CALLS) else None
    for key, value in trailers or ():
        if key == FIELD_TRAILER:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


def error_body(code: grpc.StatusCode, message: str, field: str = "") -> dict[str, Any]:
    return {"error": {"code": code.name, "message": message, "field": field}}


def json_response(body: Any, status: int = 200) -> web.Response:
    """JSON that no cache keeps: every answer of the API is about one person's session."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body); 400 for anything else."""
    if not request.can_read_body:
        return {}
    try:
        body = json.loads(await request.text())
    except ValueError as exc:
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "the body must be a JSON object")
    return body
