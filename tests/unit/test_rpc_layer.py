"""The RPC layer: one decorator maps errors to status codes; services are assembled
from their parts by the proto's descriptor and refuse to start incomplete."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.gateway.rpc import implementations, rpc
from actors.gateway.server import COORDINATION, COORDINATION_PARTS, DISPATCH, DISPATCH_PARTS
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import ConfigError, RegionUnavailableError


class Aborted(Exception):
    """What grpc.aio's abort raises, for this fake context."""


class FakeContext:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.trailers: tuple = ()

    def set_trailing_metadata(self, md: tuple) -> None:
        self.trailers = md

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details
        raise Aborted


class Part:
    def __init__(self, exc: BaseException | None) -> None:
        self.exc = exc

    @rpc
    async def GetIncident(self, request, context):
        if self.exc is not None:
            raise self.exc
        return pb.Incident(id=request.incident_id)

    @rpc
    async def Watch(self, request, context):
        yield pb.WatchEvent(revision=1)
        if self.exc is not None:
            raise self.exc


def _call(exc: BaseException | None, method: str = "GetIncident") -> FakeContext:
    ctx = FakeContext()
    part = Part(exc)

    async def run() -> None:
        if method == "Watch":
            async for _ in part.Watch(pb.WatchRequest(), ctx):
                pass
        else:
            await part.GetIncident(pb.GetIncidentRequest(incident_id="OSL-000001"), ctx)

    with pytest.raises(Aborted):
        asyncio.run(run())
    return ctx


@pytest.mark.parametrize("method", ["GetIncident", "Watch"])
def test_our_errors_get_their_code_and_bad_input_names_its_field(method: str) -> None:
    ctx = _call(InvalidArgumentError("position.lat", "too far north"), method)
    assert ctx.code == grpc.StatusCode.INVALID_ARGUMENT
    assert ctx.trailers == (("amk-field", "position.lat"),)
    assert _call(NotFoundError("incident", "X"), method).code == grpc.StatusCode.NOT_FOUND
    assert _call(RegionUnavailableError("oslo"), method).code == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("method", ["GetIncident", "Watch"])
def test_an_unexpected_error_is_logged_once_and_internal(method: str, capsys) -> None:
    ctx = _call(ZeroDivisionError("bug"), method)
    assert ctx.code == grpc.StatusCode.INTERNAL
    assert "ZeroDivisionError" not in ctx.details  # the details stay in the log
    out = capsys.readouterr().out
    assert out.count("rpc_unexpected_error") == 1 and "ZeroDivisionError" in out


def test_a_good_answer_passes_through() -> None:
    got = asyncio.run(Part(None).GetIncident(pb.GetIncidentRequest(incident_id="A"), None))
    assert got.id == "A"


def test_every_method_of_both_services_has_exactly_one_part() -> None:
    for service, parts in ((DISPATCH, DISPATCH_PARTS), (COORDINATION, COORDINATION_PARTS)):
        found = implementations(service, [p.__new__(p) for p in parts])
        assert set(found) == {m.name for m in service.methods}


def test_a_missing_a_doubled_or_an_undecorated_method_refuses_to_start() -> None:
    parts = [p.__new__(p) for p in DISPATCH_PARTS]
    with pytest.raises(ConfigError, match="implemented by 0 parts"):
        implementations(DISPATCH, parts[1:])
    with pytest.raises(ConfigError, match="implemented by 2 parts"):
        implementations(DISPATCH, [*parts, parts[0]])

    class Undecorated:
        async def GetKpis(self, request, context):
            return pb.Kpis()

    others = [p for p in parts if not hasattr(p, "GetKpis")]
    with pytest.raises(ConfigError, match="missing @rpc"):
        implementations(DISPATCH, [*others, Undecorated()])


def test_a_long_quoted_input_does_not_make_a_long_status_message() -> None:
    err = InvalidArgumentError("regions[0]", f"unknown region {'z' * 10_000!r}")
    ctx = _call(err)
    assert ctx.code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(ctx.details) <= 300 and ctx.details.endswith("…")
    assert ctx.trailers == (("amk-field", "regions[0]"),)
    assert len(str(err)) > 10_000  # the error itself (and the log) keeps it whole
