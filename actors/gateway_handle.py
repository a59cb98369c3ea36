"""All Ray calls to gateway actors go through :class:`GatewayHandle`."""

from __future__ import annotations

from typing import Any

import ray

from actors.gateway import GatewayActor
from cluster.config import ClusterConfig


def actor_name(address: str) -> str:
    return f"gateway:{address}"


class GatewayHandle:
    """One gateway actor, created with its listen address."""

    def __init__(self, address: str, actor: Any) -> None:
        self.address = address
        self._actor = actor

    @classmethod
    def create(cls, config: ClusterConfig, address: str) -> GatewayHandle:
        actor = GatewayActor.options(  # type: ignore[attr-defined]
            name=actor_name(address),
            namespace=config.ray_namespace,
            max_restarts=0,
            max_concurrency=1000,
            num_cpus=0,
            resources={config.gateway_nodes[address]: 0.001}
            if address in config.gateway_nodes
            else None,
        ).remote(config, address)
        return cls(address, actor)

    async def start(self, endpoints: list[str]) -> str:
        return await self._actor.start.remote(endpoints)

    async def stop(self) -> None:
        await self._actor.stop.remote()

    async def pid(self) -> int:
        return await self._actor.pid.remote()

    def kill(self) -> None:
        ray.kill(self._actor, no_restart=True)
