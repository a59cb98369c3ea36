"""A console room's identities: a token per centre, each request sent with the token of
the centre that serves its region now.

Why: with identities on (the default), a gateway lets a person act only on the regions
their centre serves now (actors/domain/data/access.toml). A load generator, a drill or a
benchmark plays the consoles of every centre, so it does what a real console room does:
the centre serving the region takes its calls. Region owners come from GetClusterStatus
(and from Watch region-owner events where the caller watches anyway); when a region
moves (failover, hand-over) the gateway answers PERMISSION_DENIED, the room reads the
owners again and the request is retried once, with the same request id.

Tokens are issued by the deployment's local issuer (``config.pki_folder()``, the one
``amk login`` uses): a call-taker for 113 calls, a dispatcher for incidents and units,
a supervisor for hand-overs and major incidents. A deployment verifying another issuer's
tokens (``oidc_jwks``: HelseID) cannot be driven this way: that is a ConfigError. With
auth off (``insecure``, ``auth = "off"``) no token is sent.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.client import AmkClient, AmkClientError
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.tokens import LocalIssuer, bearer_header

T = TypeVar("T")

CALL_TAKER = "call-taker"
DISPATCHER = "dispatcher"
SUPERVISOR = "supervisor"
LIFETIME_S = 3600.0  # a token is issued again at half of this: a drill may outlast it
OWNER_WAIT_S = 10.0  # after a refusal: how long to wait for a failing-over region's owner
OWNER_POLL_S = 0.05

Metadata = tuple[tuple[str, str], ...]


class ConsoleRoom:
    """Tokens of every centre, and who serves each region now (thread safe)."""

    def __init__(self, config: ClusterConfig, *, lifetime_s: float = LIFETIME_S) -> None:
        self.enabled = config.auth_enabled()
        if self.enabled and not config.local_issuer_in_use():
            raise ConfigError(
                "console tokens: this deployment verifies another issuer's tokens "
                f"(oidc_jwks = {config.oidc_jwks}); drills and benchmarks need the local "
                "issuer (leave oidc_jwks unset)"
            )
        self.issuer = LocalIssuer.for_config(config)
        self.lifetime_s = lifetime_s
        self.home = {r.id: r.home for r in config.seed.regions}
        self.first_centre = config.seed.centres[0].id
        self.owners: dict[str, str] = {}  # region -> centre, as last seen
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ tokens

    def token(self, centre: str, role: str = DISPATCHER, person: str = "") -> str | None:
        """A token of ``role`` at ``centre`` (None with auth off), issued again when half
        its lifetime is gone; ``person``: whose (default ``{centre}-{role}``), for a room
        with several people of one role (call-takers answer calls as themselves)."""
        if not self.enabled:
            return None
        name = person or f"{centre} {role}"
        person = person or f"{centre}-{role}"
        now = time.monotonic()
        with self._lock:
            known = self._tokens.get((centre, role, person))
            if known is not None and known[1] > now:
                return known[0]
        token = self.issuer.issue(person, role, centre, lifetime_s=self.lifetime_s, name=name)
        with self._lock:
            self._tokens[(centre, role, person)] = (token, now + self.lifetime_s / 2)
        return token

    def centre_of(self, region: str) -> str:
        """The centre serving ``region`` now, as last seen (its home before any look)."""
        with self._lock:
            return self.owners.get(region) or self.home.get(region, self.first_centre)

    def token_for(self, region: str, role: str = DISPATCHER) -> str | None:
        return self.token(self.centre_of(region), role)

    def metadata(self, region: str, role: str = DISPATCHER) -> Metadata:
        """Call metadata for a raw stub: the token of the region's serving centre."""
        return _bearer(self.token_for(region, role))

    def centre_metadata(self, centre: str, role: str = DISPATCHER) -> Metadata:
        """Call metadata of ``centre`` itself (centre-scoped calls: sign in, answer)."""
        return _bearer(self.token(centre, role))

    # ------------------------------------------------------------ owners

    def set_owners(self, status: pb.ClusterStatus) -> None:
        """The owners of a GetClusterStatus answer (a region failing over has none)."""
        with self._lock:
            for r in status.regions:
                if r.owner_centre:
                    self.owners[r.id] = r.owner_centre
                else:
                    self.owners.pop(r.id, None)

    def set_owner(self, region: str, centre: str) -> None:
        """One region's owner as the caller saw it change (its own etcd or Watch feed);
        empty: nobody owns it now."""
        with self._lock:
            if centre:
                self.owners[region] = centre
            else:
                self.owners.pop(region, None)

    def note_event(self, event: pb.WatchEvent) -> None:
        """A Watch region-owner event, for callers that watch anyway."""
        if event.kind == pb.WatchEvent.KIND_REGION_OWNER_CHANGED:
            self.set_owners(pb.ClusterStatus(regions=[event.region_status]))

    def _owner(self, region: str) -> str:
        with self._lock:
            return self.owners.get(region, "")

    def _moved(self, region: str, before: str, status: pb.ClusterStatus | None) -> bool:
        """Whether ``region`` is owned by another centre than ``before`` now (as the
        caller's own feed already says, or ``status`` shows); owned by nobody (failing
        over) is not yet moved."""
        owner = self._owner(region)
        if owner and owner != before:
            return True
        if status is None:
            return False
        self.set_owners(status)
        owner = self._owner(region)
        return bool(owner) and owner != before

    # ------------------------------------------------------------ the blocking client

    def refresh(self, client: AmkClient) -> None:
        """Read the owners from a gateway (any centre may ask for the cluster status)."""
        self.set_owners(client.as_token(self.token(self.first_centre)).cluster_status())

    def client(self, client: AmkClient, region: str, role: str = DISPATCHER) -> AmkClient:
        """``client`` sending the token of the centre serving ``region`` now."""
        return client.as_token(self.token_for(region, role)) if self.enabled else client

    def call(
        self,
        client: AmkClient,
        region: str,
        fn: Callable[[AmkClient], T],
        role: str = DISPATCHER,
        *,
        centre: str = "",
        person: str = "",
    ) -> T:
        """``fn`` on the client acting for ``region``'s centre (or ``centre``, for calls
        that name their centre, as ``person`` there when given: a call-taker answers as
        themselves); on PERMISSION_DENIED because the region moved, once more for its new
        centre. ``fn`` must reuse its request id: the retry is the same request."""
        if centre:
            token = self.token(centre, role, person)
            return fn(client.as_token(token) if self.enabled else client)
        before = self.centre_of(region)
        try:
            return fn(self.client(client, region, role))
        except AmkClientError as err:
            if err.code != grpc.StatusCode.PERMISSION_DENIED or not self.enabled:
                raise
            if not self._wait_moved(client, region, before):
                raise
        return fn(self.client(client, region, role))

    def _wait_moved(self, client: AmkClient, region: str, before: str) -> bool:
        """Whether ``region`` is served by another centre than ``before`` now, waiting a
        little for a region failing over (no owner) to get its new one."""
        deadline = time.monotonic() + OWNER_WAIT_S
        while not self._moved(region, before, None):
            try:
                status = client.as_token(self.token(self.first_centre)).cluster_status()
                if self._moved(region, before, status):
                    return True
            except AmkClientError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(OWNER_POLL_S)
        return True

    # ------------------------------------------------------------ raw asyncio stubs

    async def refresh_async(self, stub: Any) -> None:
        """The owners, through an async DispatchService stub."""
        status = await stub.GetClusterStatus(
            pb.GetClusterStatusRequest(), metadata=self.centre_metadata(self.first_centre)
        )
        self.set_owners(status)

    async def call_async(
        self,
        stub: Any,
        region: str,
        fn: Callable[[Metadata], Awaitable[T]],
        role: str = DISPATCHER,
    ) -> T:
        """``fn(metadata)`` as the centre serving ``region``; on PERMISSION_DENIED
        because the region moved, once more (``fn`` reuses its request id). ``stub`` is
        a DispatchService stub for reading the owners."""
        before = self.centre_of(region)
        try:
            return await fn(self.metadata(region, role))
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.PERMISSION_DENIED or not self.enabled:
                raise
            deadline = time.monotonic() + OWNER_WAIT_S
            while not self._moved(region, before, None):
                try:
                    status = await stub.GetClusterStatus(
                        pb.GetClusterStatusRequest(),
                        metadata=self.centre_metadata(self.first_centre),
                    )
                    if self._moved(region, before, status):
                        break
                except grpc.aio.AioRpcError:
                    pass
                if time.monotonic() > deadline:
                    raise err from None
                await asyncio.sleep(OWNER_POLL_S)
        return await fn(self.metadata(region, role))


def _bearer(token: str | None) -> Metadata:
    return (bearer_header(token),) if token else ()
