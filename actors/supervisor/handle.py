"""All Ray calls to the supervisor actor go through :class:`SupervisorHandle`."""

from __future__ import annotations

from typing import Any

from actors.remote import FOREVER_S, RemoteActor

SUPERVISOR = "supervisor"  # the supervisor's actor name in its namespace


class SupervisorHandle:
    """The deployment's supervisor, which owns and restarts the centre actors."""

    def __init__(self, namespace: str, actor: Any | None = None) -> None:
        self._remote = RemoteActor(SUPERVISOR, namespace, actor)

    @classmethod
    def find(cls, namespace: str) -> SupervisorHandle:
        return cls(namespace)

    async def declare_major(self, major_id: str, declare: dict | None) -> Any:
        """Start (or find) a major incident's actor; returns its ``MajorView``."""
        return await self._remote.call("declare_major", major_id, declare, timeout_s=60.0)

    async def start(self, *, timeout_s: float = 300.0) -> dict[str, str]:
        return await self._remote.call("start", timeout_s=timeout_s)

    async def events(self, *, timeout_s: float = 5.0) -> list[Any]:
        """Deaths (``DeathEvent``: which centre, which regions' leases were revoked,
        restart time) and hangs (``HangEvent``: the liveness probe's suspicions), in
        the order seen."""
        return await self._remote.call("events", timeout_s=timeout_s)

    async def site_events(self, *, timeout_s: float = 5.0) -> list[Any]:
        """Other sites this site presumed lost (``SiteLossEvent``), oldest first."""
        return await self._remote.call("site_events", timeout_s=timeout_s)

    async def probe_stats(self, *, timeout_s: float = 5.0) -> Any:
        """The liveness probe's ``ProbeStats``: ping latency, misses counted and ignored."""
        return await self._remote.call("probe_stats", timeout_s=timeout_s)

    async def instances(self, *, timeout_s: float = 5.0) -> dict[str, str]:
        return await self._remote.call("instances", timeout_s=timeout_s)

    async def gateways(self, *, timeout_s: float = 2.0) -> list[Any]:
        """Each gateway address's ``GatewayState``: alive, pid, restarts, last restart."""
        return await self._remote.call("gateways", timeout_s=timeout_s)

    async def wait_stopped(self) -> None:
        """Pending until the supervisor stops; ActorUnavailableError the moment it dies."""
        await self._remote.call("wait_stopped", timeout_s=FOREVER_S)

    async def pid(self, *, timeout_s: float = 5.0) -> int:
        return await self._remote.call("pid", timeout_s=timeout_s)

    async def stop(self, *, timeout_s: float = 30.0) -> None:
        await self._remote.call("stop", timeout_s=timeout_s)

    def kill(self) -> None:
        self._remote.kill()
