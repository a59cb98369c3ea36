"""All Ray calls to centre actors go through :class:`CentreHandle`.

Each incarnation of a centre is its own named actor, ``centre:{instance}``: a restart never
waits for Ray to release a dead actor's name (under load that took ~26 s here). A handle
is either pinned to one instance (the gateway routes to the instance named in a region's
owner record) or follows the centre, asking the supervisor, which created it, for its
current instance. It turns Ray's actor errors into our
:class:`CentreUnavailableError` (retryable: the gateway tries the region's new owner)
and unwraps the ``("ok", value) / ("err", error)`` envelopes the actor returns. Tests
of routing logic can put a fake with the same methods in its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from actors.centre import CentreActor
from actors.domain.commands import Command
from actors.domain.model import Outcome
from cluster.config import ClusterConfig
from cluster.errors import CentreUnavailableError

MAX_BATCH = 64  # commands per Ray call


def actor_name(instance: str) -> str:
    return f"centre:{instance}"


def new_instance(centre_id: str) -> str:
    """A fresh incarnation id; it also names the actor and signs the journal."""
    return f"{centre_id}-{uuid.uuid4().hex[:12]}"


class CentreHandle:
    """A caller's view of one centre actor, in the deployment's namespace."""

    def __init__(
        self,
        centre_id: str,
        namespace: str,
        actor: Any | None = None,
        *,
        instance: str | None = None,
    ) -> None:
        self.centre_id = centre_id
        self.namespace = namespace
        self.pinned = instance  # None: follow the centre's current instance
        self.instance = instance
        self._actor = actor
        self._batch: list[tuple[str, Command, asyncio.Future[tuple[str, Any]], float]] = []
        self._sender: asyncio.Task[None] | None = None

    @classmethod
    def create(
        cls, config: ClusterConfig, centre_id: str, instance: str, *, node: str | None = None
    ) -> CentreHandle:
        """Create one incarnation of the centre. ``max_restarts=0``: a dead centre fails
        pending calls within milliseconds (with restarts on, Ray holds them ~1.3 s); the
        supervisor starts a new incarnation, which comes back as a standby."""
        actor = CentreActor.options(  # type: ignore[attr-defined]
            name=actor_name(instance),
            namespace=config.ray_namespace,
            max_restarts=0,
            max_concurrency=1000,
            num_cpus=0,
            resources={node: 0.001} if node else None,
        ).remote(config, centre_id, instance)
        return cls(centre_id, config.ray_namespace, actor, instance=instance)

    async def _get(self) -> Any:
        if self._actor is not None:
            return self._actor
        if self.instance is None:
            try:
                supervisor = ray.get_actor("supervisor", namespace=self.namespace)
                current = await supervisor.instances.remote()
            except (ValueError, RayActorError) as exc:
                raise CentreUnavailableError(self.centre_id, "no supervisor") from exc
            self.instance = current.get(self.centre_id)
            if self.instance is None:
                raise CentreUnavailableError(self.centre_id, "not started")
        try:
            self._actor = ray.get_actor(actor_name(self.instance), namespace=self.namespace)
        except ValueError as exc:
            raise CentreUnavailableError(self.centre_id, "no such actor") from exc
        return self._actor

    def forget(self) -> None:
        """Drop the cached actor (after it died) so the next call looks again."""
        self._actor = None
        self.instance = self.pinned

    async def _call(self, method: str, *args: Any, timeout_s: float, _retry: bool = True) -> Any:
        actor = await self._get()
        used = self.instance
        try:
            return await asyncio.wait_for(getattr(actor, method).remote(*args), timeout_s)
        except (RayActorError, GetTimeoutError) as exc:
            self.forget()
            if _retry and self.pinned is None:
                # The handle followed a dead incarnation; if the supervisor has started a
                # new one meanwhile, one more try there (pinned handles never move).
                with contextlib.suppress(CentreUnavailableError):
                    await self._get()
                if self.instance is not None and self.instance != used:
                    return await self._call(method, *args, timeout_s=timeout_s, _retry=False)
                self.forget()
            raise CentreUnavailableError(self.centre_id, type(exc).__name__) from exc
        except TimeoutError as exc:
            raise CentreUnavailableError(self.centre_id, f"no answer in {timeout_s:.2f}s") from exc

    @staticmethod
    def _unwrap(envelope: tuple[str, Any]) -> Any:
        kind, value = envelope
        if kind == "err":
            raise value
        return value

    async def start(self, endpoints: list[str], *, timeout_s: float = 60.0) -> dict[str, Any]:
        return self._unwrap(await self._call("start", endpoints, timeout_s=timeout_s))

    async def execute(self, region: str, cmd: Command, *, timeout_s: float) -> Outcome:
        """Run ``cmd`` at this centre. Commands issued while a call to the same centre is
        in flight travel together in the next one (as the store batches transactions):
        one Ray call costs ~1 ms of CPU on each side here, whatever it carries."""
        fut: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()
        self._batch.append((region, cmd, fut, time.monotonic() + timeout_s))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_batches())
        try:
            envelope = await asyncio.wait_for(asyncio.shield(fut), timeout_s)
        except TimeoutError as exc:
            raise CentreUnavailableError(self.centre_id, f"no answer in {timeout_s:.2f}s") from exc
        return self._unwrap(envelope)

    async def _send_batches(self) -> None:
        while self._batch:
            batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
            items = [(region, cmd) for region, cmd, _, _ in batch]
            timeout = max(0.05, max(d for *_, d in batch) - time.monotonic())
            try:
                if len(items) == 1:
                    envelopes = [await self._call("execute", *items[0], timeout_s=timeout)]
                else:
                    envelopes = await self._call("execute_many", items, timeout_s=timeout)
            except CentreUnavailableError as exc:
                envelopes = [("err", exc)] * len(batch)
            for (_, _, fut, _), envelope in zip(batch, envelopes, strict=True):
                if not fut.done():
                    fut.set_result(envelope)

    async def hand_over_region(
        self, region: str, to: Any, who: str, *, timeout_s: float = 10.0
    ) -> int:
        """Ask this centre (the owner) to give ``region`` to ``to`` (an OwnerRecord)."""
        return self._unwrap(
            await self._call("hand_over_region", region, to, who, timeout_s=timeout_s)
        )

    async def sign_in(self, call_taker: str, *, timeout_s: float = 5.0) -> dict[str, int]:
        return await self._call("sign_in", call_taker, timeout_s=timeout_s)

    async def sign_out(self, call_taker: str, *, timeout_s: float = 5.0) -> dict[str, int]:
        return await self._call("sign_out", call_taker, timeout_s=timeout_s)

    async def status(self, *, timeout_s: float = 1.0) -> dict[str, Any]:
        return await self._call("status", timeout_s=timeout_s)

    async def wait_stopped(self) -> None:
        """Pending until the centre stops; CentreUnavailableError the moment it dies."""
        await self._call("wait_stopped", timeout_s=10 * 365 * 24 * 3600.0)

    async def stop(self, *, timeout_s: float = 5.0) -> None:
        await self._call("stop", timeout_s=timeout_s)

    async def pid(self, *, timeout_s: float = 5.0) -> int:
        return await self._call("pid", timeout_s=timeout_s)

    async def kill(self, *, no_restart: bool = True) -> None:
        ray.kill(await self._get(), no_restart=no_restart)
        self.forget()
