"""The supervisor's Ray actor, and :func:`spawn`, which creates it."""

from __future__ import annotations

import os

import ray

from actors.major.record import MajorView
from actors.remote import envelope
from actors.supervisor.handle import SUPERVISOR, SupervisorHandle
from actors.supervisor.supervisor import DeathEvent, Supervisor
from cluster.config import ClusterConfig
from cluster.logs import configure as configure_logs


@ray.remote
class SupervisorActor:
    """The Ray actor around :class:`Supervisor`; it owns the centre actors."""

    def __init__(self, config: ClusterConfig, endpoints: list[str]) -> None:
        configure_logs(config.log_level)
        self.supervisor = Supervisor(config, endpoints)

    @envelope
    async def start(self) -> dict[str, str]:
        return await self.supervisor.start()

    @envelope
    async def events(self) -> list[DeathEvent]:
        return list(self.supervisor.events)

    @envelope
    async def instances(self) -> dict[str, str]:
        return dict(self.supervisor.instances)

    @envelope
    async def declare_major(self, major_id: str, declare: dict | None) -> MajorView:
        return await self.supervisor.declare_major(major_id, declare)

    @envelope
    async def stop(self) -> None:
        await self.supervisor.stop()

    @envelope
    async def pid(self) -> int:
        return os.getpid()


def spawn(config: ClusterConfig, endpoints: list[str]) -> SupervisorHandle:
    """Create the deployment's supervisor (one per Ray namespace)."""
    actor = SupervisorActor.options(  # type: ignore[attr-defined]
        name=SUPERVISOR,
        namespace=config.ray_namespace,
        max_restarts=0,
        max_concurrency=100,
        num_cpus=0,
    ).remote(config, endpoints)
    return SupervisorHandle(config.ray_namespace, actor)
