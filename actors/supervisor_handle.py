"""All Ray calls to the supervisor actor go through :class:`SupervisorHandle`."""

from __future__ import annotations

from typing import Any

import ray

from actors.supervisor import SupervisorActor
from cluster.config import ClusterConfig


class SupervisorHandle:
    """The deployment's supervisor, which owns and restarts the centre actors."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    @classmethod
    def create(cls, config: ClusterConfig, endpoints: list[str]) -> SupervisorHandle:
        actor = SupervisorActor.options(  # type: ignore[attr-defined]
            name="supervisor",
            namespace=config.ray_namespace,
            max_restarts=0,
            max_concurrency=100,
            num_cpus=0,
        ).remote(config, endpoints)
        return cls(actor)

    @classmethod
    def find(cls, namespace: str) -> SupervisorHandle:
        return cls(ray.get_actor("supervisor", namespace=namespace))

    async def declare_major(self, major_id: str, declare: dict[str, Any] | None) -> dict:
        kind, value = await self._actor.declare_major.remote(major_id, declare)
        if kind == "err":
            raise value
        return value

    async def start(self) -> dict[str, Any]:
        return await self._actor.start.remote()

    async def events(self) -> list[dict[str, Any]]:
        """Deaths seen: which centre, which regions' leases were revoked, restart time."""
        return await self._actor.events.remote()

    async def instances(self) -> dict[str, str]:
        return await self._actor.instances.remote()

    async def stop(self) -> None:
        await self._actor.stop.remote()

    def kill(self) -> None:
        ray.kill(self._actor, no_restart=True)
