"""``GET /api/live``: one gateway ``WatchBatches`` per open page, pushed to the browser as
Server-Sent Events (docs/web-console.md, "Live stream").

Why SSE: the traffic is one way, and the browser's ``EventSource`` reconnects by itself
sending ``Last-Event-ID``, the last revision it has; the stream then resumes at the next
revision on the gateway, with no snapshot and no reload.

What a stream carries: ``batch`` (watch events; ``id:`` the revision of the batch's last
event, sent from the batch with ``KIND_SNAPSHOT_DONE`` on, so that a page dropped in the
middle of a snapshot starts over instead of resuming without half of it), ``reset``
(the revision to resume from was compacted, or is beyond the store's revision after etcd
was restored from a backup, or a snapshot broke off: the page drops what it has;
``id:`` is empty, which clears the browser's ``Last-Event-ID``; a new snapshot follows
on the same stream), ``calls`` every second, ``status`` every two seconds and
at once after a region changed owner, ``air`` (the AMK-LA's missions) every two seconds
when they changed, ``error`` (then the stream ends), ``: ping``.

A gateway that goes away (UNAVAILABLE: restarting) is left for another, from the last
revision sent, without a word to the browser. Every task of a stream stops when the
browser goes (aiohttp cancels the handler: ``handler_cancellation``) or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog
from aiohttp import web
from google.protobuf.message import Message

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.retry import RetryPolicy, needs_snapshot
from clients.web.errors import ApiError
from clients.web.gateway import GATEWAYS, METHODS, Gateways, to_json
from clients.web.login import AUTH, Session

log = structlog.get_logger("amk.web")

CALLS_S = 1.0
STATUS_S = 2.0
AIR_S = 2.0
PING_S = 15.0
RECONNECT_LOG_EVERY = 20  # a gateway-less stretch logs its first reconnect, then every 20th
RECONNECT_POLICY = RetryPolicy()  # the pauses between a stream's reconnects
RETRY_MS = 1000  # how soon the browser reconnects after a dropped stream
PING = b": ping\n\n"
#: Codes after which the watch moves to another gateway and resumes where it was.
RECONNECT_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
)
#: Codes the page must not retry on (it shows the message and stops).
REFUSED_CODES = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
RESCOPED = "the regions your centre serves changed"
SNAPSHOT_KINDS = frozenset({pb.WatchEvent.KIND_SNAPSHOT_INCIDENT, pb.WatchEvent.KIND_SNAPSHOT_UNIT})
LIVE_STREAMS = web.AppKey("live_streams", set)
COMPACTED = "the revision to resume from is no longer kept: starting over with a snapshot"


# ---------------------------------------------------------------- pure parts


def frame(event: str, data: Any, *, id: int | str | None = None) -> bytes:
    """One SSE message: ``event:``, ``id:`` (when given; "" clears the browser's last
    id) and one ``data:`` line of compact JSON (which never holds a newline)."""
    lines = [f"event: {event}"]
    if id is not None:
        lines.append(f"id: {id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def resume_revision(last_event_id: str | None) -> int:
    """``from_revision`` for a reconnect with ``Last-Event-ID: N`` (N + 1); 0, a new
    snapshot, without one or with one that is not a revision."""
    text = (last_event_id or "").strip()
    if not text.isdigit():
        return 0
    return int(text) + 1


def parse_regions(text: str | None) -> list[str]:
    """``?regions=a,b`` as a list; empty means the regions the gateway decides."""
    return [r.strip() for r in (text or "").split(",") if r.strip()]


# ---------------------------------------------------------------- one stream


class _End(Exception):
    """The stream is over: an error was sent to the browser."""


def _task_cancelled() -> bool:
    """This task itself is being cancelled (the page went), not only its gRPC call."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class _GatewayEnded(Exception):
    """The gateway ended a watch without an error (it is stopping)."""


class LiveStream:
    """The tasks of one open page: the watch, the two polls and the ping."""

    def __init__(
        self,
        response: web.StreamResponse,
        gateways: Gateways,
        session: Session,
        methods: list[str],
        regions: list[str],
        from_revision: int,
        air_regions: frozenset[str] = frozenset(),
    ) -> None:
        self.response = response
        self.gateways = gateways
        self.air_regions = air_regions  # the seed's AMK-LA regions
        self.session = session
        self.methods = set(methods)
        self.regions = regions
        self.from_revision = from_revision
        self.status_now = asyncio.Event()
        # Which regions the person's centre owns, as the last status said (None: not
        # yet known); a change while the gateway decides the scope restarts the watch.
        self.owned: frozenset[str] | None = None
        self.rescope = False
        self.call: Any = None
        self.closing = asyncio.Event()  # the server stops: end the stream cleanly
        self._lock = asyncio.Lock()
        self.log = log.bind(user=session.claims.sub, regions=regions)

    async def send(self, data: bytes) -> None:
        """Write one message whole (several tasks write to one response)."""
        async with self._lock:
            await self.response.write(data)

    async def send_error(self, err: ApiError) -> None:
        self.log.warning("web_live_error", code=err.code.name, message=err.message)
        await self.send(frame("error", err.body()))

    async def run(self) -> None:
        """Until a task ends the stream (an error sent, a write failed), the server
        stops (``closing``) or the handler is cancelled (the browser went)."""
        makers: list[Callable[[], Awaitable[None]]] = [self.watch, self.ping]
        if self.methods & {"ListCalls", "GetCallMetrics"}:
            makers.append(self.calls)
        if "GetClusterStatus" in self.methods:
            makers.append(self.status)
        if "AirListMissions" in self.methods:
            makers.append(self.air)
        tasks = [asyncio.create_task(make()) for make in makers]
        tasks.append(asyncio.create_task(self.closing.wait()))
        self.log.info("web_live_open", from_revision=self.from_revision)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if exc is not None and not isinstance(exc, (_End, ConnectionError)):
                    self.log.error("web_live_failed", error=repr(exc), exc_info=exc)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.log.info("web_live_closed")

    # ------------------------------------------------------------ the watch

    async def watch(self) -> None:
        """The gateway's watch, moved to another gateway (from the last revision sent)
        whenever one goes away; returns only after sending ``error``."""
        claims = self.session.claims
        last = self.from_revision - 1  # everything up to here is the page's
        snapshot_done = self.from_revision > 0
        partial = False  # snapshot events sent before the snapshot was done
        failures = 0  # reconnects since the last batch: the pause grows with them
        while True:
            address = self.gateways.address
            request = pb.WatchRequest(
                regions=self.regions, from_revision=last + 1 if snapshot_done else 0
            )
            call = self.gateways.watch(
                request, self.session.token, claims.sub, address, self.session.origin
            )
            self.call = call
            try:
                async for batch in call:
                    if not batch.events:
                        continue
                    failures = 0
                    kinds = {e.kind for e in batch.events}
                    if pb.WatchEvent.KIND_SNAPSHOT_DONE in kinds:
                        snapshot_done, partial = True, False
                    elif kinds & SNAPSHOT_KINDS:
                        partial = True
                    events = [to_json(e) for e in batch.events]
                    if snapshot_done:
                        last = batch.events[-1].revision
                        await self.send(frame("batch", {"events": events}, id=last))
                    else:
                        await self.send(frame("batch", {"events": events}))
                    if pb.WatchEvent.KIND_REGION_OWNER_CHANGED in kinds:
                        self.status_now.set()
                raise _GatewayEnded(address)
            except (grpc.aio.AioRpcError, asyncio.CancelledError) as err:
                # ABORTED: the gateway ended the watch because the scope it was opened
                # with no longer holds (its own check of the same change).
                aborted = isinstance(err, grpc.aio.AioRpcError) and (
                    err.code() == grpc.StatusCode.ABORTED
                )
                if (self.rescope or aborted) and not _task_cancelled():
                    # The centre gained or lost a region (a failover, a hand-over): the
                    # gateway fixed the scope when the watch opened, so open a new one
                    # and start the page over with a snapshot of what it serves now.
                    self.rescope = False
                    self.log.info("web_live_rescope", owned=sorted(self.owned or ()))
                    await self.send(frame("reset", {"reason": RESCOPED}, id=""))
                    snapshot_done, partial = False, False
                    continue
                if isinstance(err, asyncio.CancelledError):
                    raise
                code, details = err.code(), err.details() or ""
                if code in REFUSED_CODES or not (
                    code in RECONNECT_CODES or needs_snapshot(code, details)
                ):
                    await self.send_error(ApiError.from_rpc(err))
                    raise _End from err
                if snapshot_done and needs_snapshot(code, details):
                    self.log.info("web_live_reset", from_revision=last + 1, detail=details)
                    await self.send(frame("reset", {"reason": COMPACTED}, id=""))
                    snapshot_done, partial = False, False
                    continue
                why = code.name
                self.gateways.rotate(address)
            except _GatewayEnded:
                why = "ended"
                self.gateways.rotate(address)
            finally:
                call.cancel()
            failures += 1
            if failures == 1 or failures % RECONNECT_LOG_EVERY == 0:  # not every 0.5 s
                self.log.info("web_live_reconnect", gateway=address, code=why, tries=failures)
            if partial:  # the page has half a snapshot: it starts over with the next
                await self.send(frame("reset", {"reason": "snapshot interrupted"}, id=""))
                partial = False
            await asyncio.sleep(RECONNECT_POLICY.backoff(failures - 1))

    # ------------------------------------------------------------ the polls

    async def _unary(self, name: str, request: Message) -> Message | None:
        """One call for a poll: None when this tick failed (it is tried again on the
        next); a refusal of the person's token ends the stream."""
        try:
            return await self.gateways.call(
                METHODS[name],
                request,
                self.session.token,
                self.session.claims.sub,
                self.session.origin,
            )
        except ApiError as err:
            if err.code == grpc.StatusCode.UNAUTHENTICATED:
                await self.send_error(err)
                raise _End from err
            # PERMISSION_DENIED included: the person's centre may serve no region just
            # now (a hand-over) and again in a moment.
            self.log.debug("web_live_poll_failed", method=name, code=err.code.name)
            return None

    async def calls(self) -> None:
        """``calls`` every second: the 113 queues of the regions in scope."""
        while True:
            calls: Any = None
            metrics: Any = None
            if "ListCalls" in self.methods:
                calls = await self._unary("ListCalls", pb.ListCallsRequest(regions=self.regions))
            if "GetCallMetrics" in self.methods:
                request = pb.GetCallMetricsRequest(regions=self.regions)
                metrics = await self._unary("GetCallMetrics", request)
            if calls is not None or metrics is not None:
                body = {
                    "calls": [to_json(c) for c in calls.calls] if calls is not None else [],
                    "metrics": [to_json(m) for m in metrics.regions] if metrics else [],
                }
                await self.send(frame("calls", body))
            await asyncio.sleep(CALLS_S)

    async def air(self) -> None:
        """``air`` every two seconds when it changed: the missions of the AMK-LA regions
        the person's centre serves now (the gateway narrows an empty list so), open and
        ended ones still in etcd. While the status says the centre serves none (most
        centres; Oslo's people after a failover) nothing is asked and the list is empty:
        most consoles get one empty list and no more."""
        sent: bytes | None = None
        while True:
            missions: list[Any] | None = []
            if self.owned is None or self.owned & self.air_regions:
                request = pb.AirListMissionsRequest(include_closed=True)
                answer = await self._unary("AirListMissions", request)
                missions = None if answer is None else [to_json(m) for m in answer.missions]
            if missions is not None:  # None: this tick failed, the page keeps what it has
                data = frame("air", {"missions": missions})
                if data != sent:
                    await self.send(data)
                    sent = data
            await asyncio.sleep(AIR_S)

    async def status(self) -> None:
        """``status`` every two seconds, and at once after an owner change."""
        while True:
            self.status_now.clear()
            answer = await self._unary("GetClusterStatus", pb.GetClusterStatusRequest())
            if answer is not None:
                await self.send(frame("status", to_json(answer)))
                self.check_scope(answer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.status_now.wait(), STATUS_S)

    def check_scope(self, status: Any) -> None:
        """Restart the watch when the regions the person's centre owns changed and the
        stream left the scope to the gateway (no ``regions`` asked): the new owner's
        people see the region's incidents, the old owner's stop receiving them."""
        centre = self.session.claims.centre
        owned = frozenset(r.id for r in status.regions if centre and r.owner_centre == centre)
        before, self.owned = self.owned, owned
        if self.regions or before is None or owned == before or self.call is None:
            return
        self.rescope = True
        self.call.cancel()

    async def ping(self) -> None:
        """A comment every 15 s: proxies close a connection that says nothing."""
        while True:
            await asyncio.sleep(PING_S)
            await self.send(PING)


# ---------------------------------------------------------------- the handler


async def live(request: web.Request) -> web.StreamResponse:
    """``GET /api/live?regions=a,b`` with ``Last-Event-ID`` on a reconnect."""
    auth = request.app[AUTH]
    response = web.StreamResponse(headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    try:
        session = auth.session(request)
    except ApiError as exc:
        # As an event, not a bare 401: the page shows it as it shows a refused watch.
        await response.prepare(request)
        await response.write(frame("error", exc.body()))
        return response
    await response.prepare(request)
    await response.write(f"retry: {RETRY_MS}\n\n".encode())
    stream = LiveStream(
        response,
        request.app[GATEWAYS],
        session,
        auth.methods(session.claims.role),
        parse_regions(request.query.get("regions")),
        resume_revision(request.headers.get("Last-Event-ID")),
        frozenset(r.id for r in auth.config.seed.regions if not r.is_area),
    )
    streams: set[LiveStream] = request.app[LIVE_STREAMS]
    streams.add(stream)
    try:
        await stream.run()
    finally:
        streams.discard(stream)
    return response


async def stop_streams(app: web.Application) -> None:
    """On shutdown: end every open stream now (they never end on their own, and the
    server would wait for them); each ends its response properly (aiohttp then waits
    for the handlers), so the browser sees the stream end and reconnects to whatever
    serves next."""
    streams = list(app[LIVE_STREAMS])
    for stream in streams:
        stream.closing.set()
