"""Enforcement at the gateway: every RPC passes here before its handler runs.

One server interceptor wraps every method handler (ours, health, reflection) so the
check sees the deserialized request: who calls (:mod:`actors.gateway.identity`), what
the request touches (regions of the ids it names, through the gateway's directory of
owners and entity locations), and the one decision (:func:`actors.domain.access.decide`
over ``data/access.toml``). A refusal ends the call before the handler runs, so nothing
is written: UNAUTHENTICATED without a verified identity, PERMISSION_DENIED when the
role or scope does not allow it; each refusal is logged (structlog ``access_refused``).
Reads of patient data (``logged`` in the table) go to the access log (Normen), with why
the caller could read them (owner, partner, break-glass and its reason).

How a request's regions are known (the table's ``scope`` and ``field``): a region
field names it; an incident id is placed by the directory (or, once archived, by the
region code of its id); a unit by the directory; a call or air mission by the region
code of its id; an empty ``regions`` list is narrowed to the regions the caller's centre
serves now (owner records in the directory; partners from the seed).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import structlog
from google.protobuf import descriptor_pool, message_factory

from actors.domain.access import (
    BREAK_GLASS_HEADER,
    DEFAULT_TABLE,
    MAX_ORIGIN,
    ORIGIN_HEADER,
    AccessTable,
    Decision,
    Principal,
    Rule,
    Served,
    Target,
    decide,
)
from actors.domain.errors import NotFoundError
from actors.gateway.access_log import AccessLog, RecentReads, records_of
from actors.gateway.context import GatewayContext
from actors.gateway.identity import (
    Authenticator,
    current_acts_for_others,
    current_claims,
    current_identity,
    stated_identity,
)
from actors.gateway.rpc import abort
from actors.gateway.stream_watch import Grant, StreamWatch
from cluster.archive.base import ArchiveError
from cluster.errors import AccessDeniedError, AmkError, AuthenticationError
from cluster.tokens import Claims

log = structlog.get_logger("amk.access")

WATCH_RELOG_S = 3600.0  # a Watch stream logs an incident again after this long
MAX_SERVED_CACHE = 256  # centres whose served regions are kept between owner changes
EVENT_CACHE = 512  # Watch events whose records are remembered (shared by every stream)
ARCHIVED_PLACES = 4096  # archived incidents whose region is remembered (_archived_target)
ARCHIVED_PLACE_S = 2.0  # how long a refused read waits for the archive to place its id


def peer_of(context: grpc.aio.ServicerContext, metadata: dict[str, Any]) -> str:
    """The gateway's own peer, and where a client acting for the person says they are
    (``x-amk-origin``: the web console names the browser), marked as stated."""
    peer = context.peer() or ""
    origin = str(metadata.get(ORIGIN_HEADER, ""))[:MAX_ORIGIN]
    if origin and origin.isprintable():
        return f"{peer} ({origin}, as stated)"
    return peer


class Guard(grpc.aio.ServerInterceptor):
    """Authenticates, authorizes and logs every call of one gateway."""

    def __init__(self, gw: GatewayContext, table: AccessTable | None = None) -> None:
        self.gw = gw
        self.config = gw.config
        self.enabled = gw.config.auth_enabled()
        self.table = table or access_table_for(gw.config.access_table)
        custom = gw.config.access_table
        if custom is not None and custom.resolve() != DEFAULT_TABLE and self.enabled:
            log.warning(
                "access_table",
                gateway=gw.address,
                table=str(gw.config.access_table),
                detail="not the shipped role table (actors/domain/data/access.toml)",
            )
        self.auth = Authenticator(gw.config) if self.enabled else None
        if not self.enabled:
            log.warning(
                "auth_off",
                gateway=gw.address,
                detail="nobody is authenticated, every call is allowed (development only)",
            )
        self.access_log: AccessLog = gw.access_log
        self._event_records: OrderedDict[bytes, list[tuple[str, str, str, str]]] = OrderedDict()
        self._archived_in: OrderedDict[str, str] = OrderedDict()  # incident id -> region
        # method -> (the registered handler, its guarded wrapper): wrapped once, not per call
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}
        seed = gw.config.seed
        # Partners across health regions too: they answer overflow.
        self.partner_of = {c.id: seed.partner_regions(c.id) for c in seed.centres}
        self.home_of: dict[str, frozenset[str]] = {}
        self._served: dict[str, Served] = {}  # centre -> its regions, at _served_version
        self._served_version = -1
        for r in seed.regions:
            self.home_of[r.home] = self.home_of.get(r.home, frozenset()) | {r.id}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if not self.enabled:
            current_identity.set(stated_identity(dict(details.invocation_metadata or ())))
            return handler
        if handler is None:  # no such method: gRPC answers UNIMPLEMENTED
            return handler
        method = details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        rule = self.table.rule(method)
        wrapped = handler if rule is not None and rule.scope == "public" else None
        if wrapped is None:
            wrapped = self._wrap(handler, method, rule)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    # ------------------------------------------------------------ the decision

    async def _claims(
        self,
        method: str,
        context: grpc.aio.ServicerContext,
        metadata: dict[str, Any] | None = None,
    ) -> Claims:
        assert self.auth is not None
        # Both checks are a look at an empty dict while nothing is revoked or suspended:
        # no coroutine or certificate read per call on the hot path.
        err = self._withdrawn(context, None)
        if err is not None:
            await self._refuse(method, context, err)
        try:
            claims = self.auth.claims(context, metadata)
        except AuthenticationError as exc:
            await self._refuse(method, context, exc)
            raise  # unreachable: abort raises
        suspended = self.gw.revocations.suspension_of(claims)
        if suspended:
            await self._refuse(method, context, AccessDeniedError(suspended), claims.sub)
        return claims

    def _withdrawn(
        self, context: grpc.aio.ServicerContext, claims: Claims | None
    ) -> AmkError | None:
        """The refusal of a call whose certificate is revoked, or whose person (known from
        ``claims``) is suspended; None otherwise (and at once while neither list has any)."""
        revoked = self.gw.revocations.check(context)
        if revoked:
            return AuthenticationError(revoked)
        suspended = self.gw.revocations.suspension_of(claims) if claims is not None else ""
        return AccessDeniedError(suspended) if suspended else None

    async def _refuse(
        self, method: str, context: grpc.aio.ServicerContext, err: AmkError, user: str = ""
    ) -> None:
        """Log the refusal (structlog ``access_refused``) and end the call with ``err``."""
        peer = context.peer()
        log.warning("access_refused", method=method, user=user, peer=peer, reason=str(err))
        await abort(context, err)

    async def admit_opening(
        self, method: str, rule: Rule | None, context: grpc.aio.ServicerContext
    ) -> None:
        """A client stream, as it opens: an identity and a role that may call it (each
        message is then checked on its own if the method is scoped), so a stream that
        sends nothing is refused too."""
        claims = await self._claims(method, context)
        if rule is None or claims.role not in rule.roles:
            what = "not in the access table" if rule is None else f"not for role {claims.role}"
            log.warning("access_refused", method=method, user=claims.sub, reason=what)
            await abort(context, AccessDeniedError(f"{method}: {what}"))
        current_identity.set(claims.who)
        current_claims.set(claims)

    async def admit(
        self, method: str, rule: Rule | None, request: Any, context: grpc.aio.ServicerContext
    ) -> Grant:
        """The call's grant, or the call ends here (grpc's AbortError)."""
        metadata = dict(context.invocation_metadata() or ())
        claims = await self._claims(method, context, metadata)
        peer = peer_of(context, metadata)
        stated = metadata.get(BREAK_GLASS_HEADER)
        reason = urllib.parse.unquote(str(stated)) if stated else ""
        target = self.target(rule, request) if rule is not None else Target()
        decision = self._decide(method, claims, target, reason)
        if rule is not None and (not decision.allowed or decision.why == "break-glass"):
            ended = await self._archived_target(rule, claims, request, target)
            if ended is not None:
                # Without break-glass: the centre that held it last needs none.
                second = self._decide(method, claims, ended, "")
                if second.allowed:  # else the first refusal stands, naming the id's region
                    target, decision = ended, second
        if not decision.allowed:
            log.warning(
                "access_refused",
                method=method,
                user=claims.sub,
                role=claims.role,
                centre=claims.centre,
                peer=peer,
                regions=list(target.regions),
                reason=decision.message,
            )
            err: AmkError = (
                AuthenticationError(decision.message)
                if decision.unauthenticated
                else AccessDeniedError(decision.message + self._held_by(claims, decision))
            )
            await abort(context, err)
        if target.narrow and decision.regions and rule is not None:
            field = getattr(request, rule.field)
            del field[:]
            field.extend(decision.regions)
        if decision.why == "break-glass":
            log.warning(
                "break_glass",
                method=method,
                user=claims.sub,
                role=claims.role,
                centre=claims.centre,
                regions=list(decision.regions),
                reason=decision.reason,
                peer=peer,
            )
        current_identity.set(claims.who)
        current_claims.set(claims)
        role = self.table.roles.get(claims.role)
        current_acts_for_others.set(role is not None and role.regions == "all")
        return Grant(claims, decision, peer, target, reason)

    def _decide(self, method: str, claims: Claims, target: Target, break_glass: str) -> Decision:
        """The table's decision for ``claims`` on ``target``, with the regions the
        person's centre serves now."""
        return decide(
            self.table,
            method,
            Principal(claims.role, claims.centre, claims.unit, claims.issued_at),
            target,
            self.served(claims.centre),
            break_glass=break_glass,
            now=time.time(),
            break_glass_window_s=self.config.break_glass_window_s,
        )

    def _held_by(self, claims: Claims, decision: Decision) -> str:
        """For a refusal: the refused home regions of the caller's centre that another
        centre serves now (after a failover), and how they come back."""
        owners = self.gw.directory.owners
        home = self.served(claims.centre).home
        held = [
            f"{region} is served by {owner.record.centre} now: a supervisor hands it back"
            f" with `amk handback region {region}`"
            for region in decision.outside
            if region in home
            and (owner := owners.get(region)) is not None
            and owner.record.centre != claims.centre
        ]
        return f" ({'; '.join(held)})" if held else ""

    def scope_changed(self, method: str, grant: Grant) -> str:
        """Why a stream admitted under ``grant`` no longer holds ("" while it does):
        the same decision taken again with the regions the centre serves now. A person
        acts on the regions their centre serves now; a stream opened before a failover
        or a hand-over must not go on with the scope of then, lost or gained."""
        decision = self._decide(method, grant.claims, grant.target, grant.break_glass)
        if not decision.allowed:
            return f"the regions your centre serves changed: {decision.message}"
        if set(decision.regions) != set(grant.decision.regions):
            now = ", ".join(sorted(decision.regions)) or "none"
            return f"the regions your centre serves changed (now: {now}): open the stream again"
        return ""

    def served(self, centre: str) -> Served:
        """The regions ``centre`` serves now: owned (the directory), as a partner, and
        its home regions (the seed) for the methods that name them (a handback).

        Every call asks this; it is built again only after the directory's owners
        changed (a failover, a hand-over), not on every call."""
        directory = self.gw.directory
        if self._served_version != directory.owners_version:
            self._served.clear()
            self._served_version = directory.owners_version
        found = self._served.get(centre)
        if found is None:
            owned = frozenset(r for r, o in directory.owners.items() if o.record.centre == centre)
            found = Served(
                owned,
                self.partner_of.get(centre, frozenset()),
                self.home_of.get(centre, frozenset()),
            )
            if len(self._served) < MAX_SERVED_CACHE:  # centres named in tokens: a few
                self._served[centre] = found
        return found

    def target(self, rule: Rule, request: Any) -> Target:
        """What ``request`` touches, per the rule's scope and field."""
        scope = rule.scope
        if scope in ("public", "cluster"):
            return Target()
        value = getattr(request, rule.field)
        lookup = self.gw.lookup
        if scope == "centre":
            return Target(centre=value, resolved=bool(value))
        if scope == "region":
            return Target((value,), resolved=value in lookup.regions)
        if scope == "regions":
            names = tuple(value)
            if not names:
                return Target(narrow=True)
            return Target(names, resolved=all(r in lookup.regions for r in names))
        ids = tuple(value) if scope in ("incidents", "units") else (value,)
        units = ids if scope in ("unit", "units") else ()
        regions = tuple(self._place(scope, i) or "" for i in ids)
        return Target(tuple(dict.fromkeys(regions)), units, resolved=bool(ids) and all(regions))

    def _place(self, scope: str, entity_id: str) -> str | None:
        lookup = self.gw.lookup
        if not entity_id:
            return None
        if scope in ("incident", "incidents"):
            try:
                return lookup.incident_region(entity_id)
            except NotFoundError:
                return None
        if scope in ("unit", "units"):
            return self.gw.directory.region_of.get(entity_id)
        return lookup.region_of_code(entity_id)  # call, mission

    async def _archived_target(
        self, rule: Rule, claims: Claims, request: Any, target: Target
    ) -> Target | None:
        """The region an archived incident ended in, when it is not the one its id names.

        An id the directory no longer holds is placed by its code: the region that
        issued it. An incident handed to another region is archived under that region,
        and the search of the centre serving it lists it there; without this, that
        centre would need break-glass to read it. So an archived incident may be read
        by the centres serving either region. Asked only when the id's region refused a
        read (or let it in by break-glass) to a role bound to its centre's regions: an
        allowed call, a write, and a role that may not call the method read nothing
        more, and an incident still live is placed by the directory alone."""
        if not rule.logged or rule.scope != "incident" or claims.role not in rule.roles:
            return None
        role = self.table.roles.get(claims.role)
        if role is None or role.regions != "centre":
            return None
        incident_id = getattr(request, rule.field)
        if not incident_id or incident_id in self.gw.directory.region_of:
            return None
        region = self._archived_in.get(incident_id)
        if region is None:
            try:
                region = await asyncio.wait_for(
                    self.gw.history.archived_region("incidents", incident_id),
                    ARCHIVED_PLACE_S,
                )
            except (ArchiveError, TimeoutError) as e:
                log.warning("archived_place_failed", incident=incident_id, error=repr(e))
                return None
            if region is None:
                return None
            self._archived_in[incident_id] = region  # archived rows never move again
            if len(self._archived_in) > ARCHIVED_PLACES:
                self._archived_in.popitem(last=False)
        if region in target.regions or region not in self.gw.lookup.regions:
            return None
        return Target((region,))

    # ------------------------------------------------------------ the access log

    def log_read(self, grant: Grant, method: str, request: Any, response: Any) -> None:
        found = records_of(response) if hasattr(response, "DESCRIPTOR") else []
        if not found and getattr(request, "incident_id", ""):
            # History, alerts, an export: the incident named by the request was read.
            region = grant.decision.regions[0] if grant.decision.regions else ""
            found = [("incident", request.incident_id, region, "")]
        if found:
            self._record(grant, method, found)

    def _record(self, grant: Grant, method: str, records: list[tuple[str, str, str, str]]) -> None:
        """The access log's rows for ``records``, each on its own region's ground (the
        regions the reader's centre serves now: ``access.ground_of``)."""
        self.access_log.record(
            grant.claims,
            method,
            grant.decision,
            grant.peer,
            records,
            self.served(grant.claims.centre),
        )

    # ------------------------------------------------------------ wrapping handlers

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str, rule: Rule | None):
        logged = rule is not None and rule.logged
        per_message = rule is not None and rule.scope not in ("public", "cluster")
        make_kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            fn = handler.unary_unary
            call = fn if inspect.iscoroutinefunction(fn) else _awaitable(fn)

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                grant = await self.admit(method, rule, request, context)
                response = await call(request, context)
                if logged:
                    self.log_read(grant, method, request, response)
                return response

            return grpc.unary_unary_rpc_method_handler(unary_unary, **make_kwargs)
        if handler.unary_stream is not None:
            fn_s = handler.unary_stream
            parse = _output_class(method).FromString  # for messages streamed as bytes

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext):
                grant = await self.admit(method, rule, request, context)
                seen = RecentReads(WATCH_RELOG_S)
                recheck = self.enabled and per_message and grant.decision.why != "cluster"
                items = _aiter(fn_s(request, context)).__aiter__()
                serial = self.gw.revocations.serial_of(context)
                again = functools.partial(self.scope_changed, method, grant)
                scope = StreamWatch(self.gw, grant, serial, again if recheck else None)
                try:
                    while not scope.changed:
                        scope.waiting = True
                        try:
                            item = await anext(items)
                        except StopAsyncIteration:
                            return
                        finally:
                            scope.waiting = False
                        if logged:
                            self._log_event(grant, method, item, seen, parse)
                        yield item
                except asyncio.CancelledError:
                    if not scope.ended():
                        raise
                finally:
                    scope.stop()
                log.info(
                    "stream_scope_changed",
                    method=method,
                    user=grant.claims.sub,
                    revoked=scope.revoked,
                    suspended=scope.suspended,
                )
                await abort(context, scope.error())

            return grpc.unary_stream_rpc_method_handler(unary_stream, **make_kwargs)

        async def checked(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext):
            async for request in _aiter(requests):
                if per_message:
                    await self.admit(method, rule, request, context)
                else:  # revoked or suspended meanwhile: the stream ends at its next message
                    err = self._withdrawn(context, current_claims.get())
                    if err is not None:
                        await self._refuse(method, context, err)
                yield request

        if handler.stream_unary is not None:
            fn_su = handler.stream_unary

            async def stream_unary(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                await self.admit_opening(method, rule, context)
                return await _maybe_await(fn_su(checked(requests, context), context))

            return grpc.stream_unary_rpc_method_handler(stream_unary, **make_kwargs)
        fn_ss = handler.stream_stream

        async def stream_stream(requests: Any, context: grpc.aio.ServicerContext):
            await self.admit_opening(method, rule, context)
            async for item in _aiter(fn_ss(checked(requests, context), context)):
                yield item

        return grpc.stream_stream_rpc_method_handler(stream_stream, **make_kwargs)

    def _records_of_event(
        self, item: Any, parse: Callable[[bytes], Any]
    ) -> list[tuple[str, str, str, str]]:
        """The records of one Watch event (or WatchBatches message). The hub serializes
        an event once for every console that gets it; its records are read once too
        (kept for the last events), not once per console."""
        if not isinstance(item, bytes):
            return records_of(item)
        found = self._event_records.get(item)
        if found is None:
            found = records_of(parse(item))
            self._event_records[item] = found
            if len(self._event_records) > EVENT_CACHE:
                self._event_records.popitem(last=False)
        return found

    def _log_event(
        self,
        grant: Grant,
        method: str,
        item: Any,
        seen: RecentReads,
        parse: Callable[[bytes], Any],
    ) -> None:
        """One streamed message: its incidents and calls, each once an hour per stream."""
        fresh = seen.fresh(self._records_of_event(item, parse), time.monotonic())
        if fresh:
            self._record(grant, method, fresh)


#: Every service a gateway serves (actors/gateway/server.py registers these).
SERVICES = (
    "amk.dispatch.v1.DispatchService",
    "amk.coordination.v1.CoordinationService",
    "amk.audit.v1.AuditService",
    "amk.audit.v1.CredentialService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
)


def served_methods() -> frozenset[str]:
    """``/pkg.Service/Method`` of every RPC the gateway serves, from the descriptors."""
    from grpc_health.v1 import health_pb2  # noqa: F401 - registers the descriptors
    from grpc_reflection.v1alpha import reflection_pb2  # noqa: F401

    from amk.audit.v1 import audit_pb2, credentials_pb2  # noqa: F401
    from amk.coordination.v1 import coordination_pb2  # noqa: F401
    from amk.dispatch.v1 import dispatch_pb2  # noqa: F401

    pool = descriptor_pool.Default()
    return frozenset(
        f"/{name}/{m.name}" for name in SERVICES for m in pool.FindServiceByName(name).methods
    )


@functools.cache
def access_table_for(path: Path | None) -> AccessTable:
    """The role table at ``path`` (None: the shipped one), checked against the methods
    the gateway serves: an unknown role, scope or method is a ConfigError naming it."""
    return AccessTable.load(path or DEFAULT_TABLE, served_methods())


@functools.cache
def _output_class(method: str) -> Any:
    """The message class a method answers with (``/pkg.Service/Method``): a stream that
    yields bytes already serialized (Watch, WatchBatches) is read back as that."""
    service, name = method.lstrip("/").rsplit("/", 1)
    desc = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    return message_factory.GetMessageClass(desc.output_type)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _awaitable(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``fn`` (a plain or an async handler) as an async one. Coroutine functions are
    awaited directly instead (one coroutine less per call on the hot path)."""

    async def call(request: Any, context: Any) -> Any:
        return await _maybe_await(fn(request, context))

    return call


async def _aiter(items: Any) -> AsyncIterator[Any]:
    """An async iterator over ``items`` (an async or a plain iterator)."""
    if hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
