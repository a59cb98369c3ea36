"""All Ray calls to centre actors go through :class:`CentreHandle`.

Each incarnation of a centre is its own named actor, ``centre:{instance}``: a restart never
waits for Ray to release a dead actor's name (under load that took ~26 s here). A handle
is either pinned to one instance (the gateway routes to the instance named in a region's
owner record) or follows the centre, asking the supervisor, which created it, for its
current instance. Calls go through :class:`actors.remote.RemoteActor`, which turns Ray's
errors into our :class:`CentreUnavailableError` (retryable: the gateway tries the
region's new owner) and unwraps the actor's envelopes.

Commands (:meth:`CentreHandle.execute`) go over gRPC instead when the handle knows the
instance's link address (from the region's owner record): a Ray call costs the caller
and the actor ~0.7 ms of CPU each here, a gRPC unary less than half of that
(:mod:`actors.centre.link`). Control calls stay on Ray.

This module does not import the actor class: the actor module imports it (to give the
centre its :class:`HandlePeers`), and ``actors.centre.actor.spawn`` creates actors.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from actors.centre.link import Link
from actors.centre.records import CallTakerCounts, CentreStatus, Ping
from actors.domain.commands import Command
from actors.domain.model import Outcome
from actors.remote import FOREVER_S, Envelope, RemoteActor, unwrap
from actors.supervisor.handle import SupervisorHandle
from cluster.errors import AmkError, CentreUnavailableError
from cluster.ownership import OwnerRecord
from cluster.pki import TlsFiles

MAX_BATCH = 64  # commands per Ray call
MAX_PEER_HANDLES = 32  # pinned handles a centre keeps to other instances
ACTOR_PREFIX = "centre:"


def actor_name(instance: str) -> str:
    return f"{ACTOR_PREFIX}{instance}"


class CentreHandle:
    """A caller's view of one centre actor, in the deployment's namespace."""

    def __init__(
        self,
        centre_id: str,
        namespace: str,
        actor: Any | None = None,
        *,
        instance: str | None = None,
        address: str = "",
        tls: TlsFiles | None = None,
    ) -> None:
        self.centre_id = centre_id
        self.tls = tls  # the service identity for the gRPC link (None: insecure config)
        self.namespace = namespace
        self.pinned = instance  # None: follow the centre's current instance
        self.instance = instance
        self._remote: RemoteActor | None = None
        if instance is not None:
            self._remote = self._remote_for(instance, actor)
        self._batch: list[tuple[str, Command, asyncio.Future[Envelope], float]] = []
        self._sender: asyncio.Task[None] | None = None
        self._link: Link | None = None
        if address:
            self.use_address(address)

    def use_address(self, address: str) -> None:
        """Send commands to this (pinned) instance over gRPC at ``address`` from now on.
        A handle that follows the centre has no one instance to link to: it uses Ray."""
        if not address or self.pinned is None:
            return
        if self._link is None or self._link.address != address:
            old, self._link = self._link, Link(self.centre_id, self.pinned, address, self.tls)
            if old is not None:
                asyncio.get_running_loop().create_task(old.close())

    async def close(self) -> None:
        """Close the gRPC link, if any (the Ray handle needs no closing)."""
        if self._link is not None:
            await self._link.close()
            self._link = None

    def _remote_for(self, instance: str, actor: Any | None = None) -> RemoteActor:
        return RemoteActor(
            actor_name(instance),
            self.namespace,
            actor,
            make_error=lambda detail: CentreUnavailableError(self.centre_id, detail),
        )

    async def _resolve(self) -> RemoteActor:
        if self._remote is not None:
            return self._remote
        try:
            current = await SupervisorHandle(self.namespace).instances()
        except AmkError as exc:
            raise CentreUnavailableError(self.centre_id, f"no supervisor: {exc}") from exc
        instance = current.get(self.centre_id)
        if instance is None:
            raise CentreUnavailableError(self.centre_id, "not started")
        self.instance = instance
        self._remote = self._remote_for(instance)
        return self._remote

    def forget(self) -> None:
        """Drop the cached actor (after it died) so the next call looks again."""
        self.instance = self.pinned
        self._remote = self._remote_for(self.pinned) if self.pinned else None

    async def _call(self, method: str, *args: Any, timeout_s: float, raw: bool = False) -> Any:
        remote = await self._resolve()
        used = self.instance
        try:
            if raw:
                return await remote.call_raw(method, *args, timeout_s=timeout_s)
            return await remote.call(method, *args, timeout_s=timeout_s)
        except CentreUnavailableError:
            if not remote.died:
                raise  # slow, not dead: the caller's deadline decides what comes next
            self.forget()
            if self.pinned is None:
                # The handle followed a dead incarnation; if the supervisor has started a
                # new one meanwhile, one more try there (pinned handles never move).
                try:
                    remote = await self._resolve()
                except AmkError:
                    remote = None
                if remote is not None and self.instance != used:
                    call = remote.call_raw if raw else remote.call
                    return await call(method, *args, timeout_s=timeout_s)
                self.forget()
            raise

    async def start(self, endpoints: list[str], *, timeout_s: float = 60.0) -> CentreStatus:
        return await self._call("start", endpoints, timeout_s=timeout_s)

    async def execute(self, region: str, cmd: Command, *, timeout_s: float) -> Outcome:
        """Run ``cmd`` at this centre. Commands issued while a call to the same centre is
        in flight travel together in the next one (as the store batches transactions):
        a call costs its fixed CPU on each side (Ray ~0.7 ms, gRPC ~0.3 ms here) whatever
        it carries."""
        fut = self.submit(region, cmd, time.monotonic() + timeout_s)
        try:
            envelope = await asyncio.wait_for(asyncio.shield(fut), timeout_s)
        except TimeoutError as exc:
            raise CentreUnavailableError(self.centre_id, f"no answer in {timeout_s:.2f}s") from exc
        return unwrap(envelope)

    def submit(self, region: str, cmd: Command, deadline: float) -> asyncio.Future[Envelope]:
        """Queue ``cmd`` for the next batch to this centre; the future gets its envelope.

        Nothing here waits or times out: the caller bounds the wait (the router with one
        timer per command instead of a task, a shield and a ``wait_for`` each, ~10 % of a
        gateway's CPU per command). A future already done when the answer comes (failed
        by the caller's deadline, or cancelled) keeps what it has."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Envelope] = loop.create_future()
        self._batch.append((region, cmd, fut, deadline))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_batches())
        return fut

    async def _send_batches(self) -> None:
        while self._batch:
            batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
            items = [(region, cmd) for region, cmd, _, _ in batch]
            timeout = max(0.05, max(d for *_, d in batch) - time.monotonic())
            try:
                if self._link is not None:
                    envelopes = await self._link.execute_many(items, timeout_s=timeout)
                elif len(items) == 1:
                    envelopes = [
                        await self._call("execute", *items[0], timeout_s=timeout, raw=True)
                    ]
                else:
                    envelopes = await self._call("execute_many", items, timeout_s=timeout)
            except Exception as exc:
                # Every caller of the batch gets the error now. Only our errors were
                # caught here before: anything else ended this task and left the
                # callers waiting for an answer that never came, until their deadline.
                envelopes = [("err", exc)] * len(batch)
            for (_, _, fut, _), envelope in zip(batch, envelopes, strict=True):
                if not fut.done():
                    fut.set_result(envelope)

    async def hand_over_region(
        self, region: str, to: OwnerRecord, who: str, *, timeout_s: float = 10.0
    ) -> int:
        """Ask this centre (the owner) to give ``region`` to ``to``."""
        if self._link is not None:  # the owner may be in another site (another Ray)
            return await self._link.hand_over_region(region, to, who, timeout_s=timeout_s)
        return await self._call("hand_over_region", region, to, who, timeout_s=timeout_s)

    async def sign_in(self, call_taker: str, *, timeout_s: float = 5.0) -> CallTakerCounts:
        return await self._call("sign_in", call_taker, timeout_s=timeout_s)

    async def sign_out(self, call_taker: str, *, timeout_s: float = 5.0) -> CallTakerCounts:
        return await self._call("sign_out", call_taker, timeout_s=timeout_s)

    async def call_ended(
        self, call_taker: str, call_id: str, *, timeout_s: float = 2.0
    ) -> CallTakerCounts:
        return await self._call("call_ended", call_taker, call_id, timeout_s=timeout_s)

    async def status(self, *, timeout_s: float = 1.0) -> CentreStatus:
        return await self._call("status", timeout_s=timeout_s)

    async def ping(self, *, timeout_s: float) -> Ping:
        """The liveness probe (the supervisor's): CentreUnavailableError if no answer
        within ``timeout_s``, which the caller counts as a miss."""
        return await self._call("ping", timeout_s=timeout_s)

    async def wait_stopped(self) -> None:
        """Pending until the centre stops; CentreUnavailableError the moment it dies."""
        await self._call("wait_stopped", timeout_s=FOREVER_S)

    async def stop(self, *, timeout_s: float = 5.0) -> None:
        await self._call("stop", timeout_s=timeout_s)

    async def pid(self, *, timeout_s: float = 5.0) -> int:
        return await self._call("pid", timeout_s=timeout_s)

    async def kill(self, *, no_restart: bool = True) -> None:
        (await self._resolve()).kill(no_restart=no_restart)
        self.forget()


class HandlePeers:
    """The :class:`actors.centre.core.Peers` a centre actor is given: other centres
    reached through their handles."""

    def __init__(
        self, namespace: str, status_timeout_s: float, tls: TlsFiles | None = None
    ) -> None:
        self.namespace = namespace
        self.status_timeout_s = status_timeout_s
        self.tls = tls  # for the gRPC links to other instances
        # Handles pinned to the instances commands were sent to (each may hold a gRPC
        # channel to the instance's link): kept, as the gateway's router keeps them.
        self._instances: dict[str, CentreHandle] = {}

    async def free_call_takers(self, centre_id: str) -> int | None:
        try:
            status = await CentreHandle(centre_id, self.namespace).status(
                timeout_s=self.status_timeout_s
            )
        except AmkError:
            return None  # dead or slow: not offered anything
        return status.call_takers.free

    async def hand_over_region(
        self, holder: OwnerRecord, region: str, to: OwnerRecord, who: str
    ) -> int:
        handle = CentreHandle(holder.centre, self.namespace, instance=holder.instance)
        return await handle.hand_over_region(region, to, who)

    async def execute_at(
        self, owner: OwnerRecord, region: str, cmd: Command, *, timeout_s: float
    ) -> Outcome:
        handle = self._instances.get(owner.instance)
        if handle is None:
            if len(self._instances) >= MAX_PEER_HANDLES:
                for old in self._instances.values():
                    asyncio.get_running_loop().create_task(old.close())
                self._instances.clear()
            handle = CentreHandle(
                owner.centre, self.namespace, instance=owner.instance, tls=self.tls
            )
            self._instances[owner.instance] = handle
        handle.use_address(owner.address)
        return await handle.execute(region, cmd, timeout_s=timeout_s)
