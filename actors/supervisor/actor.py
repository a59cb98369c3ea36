"""The supervisor's Ray actor, and :func:`spawn`, which creates it."""

from __future__ import annotations

import os

import ray

from actors.major.record import MajorView
from actors.remote import envelope
from actors.supervisor.handle import SUPERVISOR, SupervisorHandle
from actors.supervisor.records import DeathEvent, GatewayState, HangEvent, ProbeStats
from actors.supervisor.site_watch import SiteLossEvent
from actors.supervisor.supervisor import Supervisor
from cluster.config import ClusterConfig
from cluster.errors import ActorUnavailableError
from cluster.logs import configure as configure_logs
from cluster.logs import process_log


@ray.remote
class SupervisorActor:
    """The Ray actor around :class:`Supervisor`; it owns the centre actors."""

    def __init__(self, config: ClusterConfig, endpoints: list[str]) -> None:
        configure_logs(
            config.log_level, json_file=process_log(config.home, "supervisor", site=config.site)
        )
        self.supervisor = Supervisor(config, endpoints)

    @envelope
    async def start(self) -> dict[str, str]:
        return await self.supervisor.start()

    @envelope
    async def events(self) -> list[DeathEvent | HangEvent]:
        return list(self.supervisor.events)

    @envelope
    async def site_events(self) -> list[SiteLossEvent]:
        return self.supervisor.site_events()

    @envelope
    async def probe_stats(self) -> ProbeStats:
        return self.supervisor.probe_stats()

    @envelope
    async def instances(self) -> dict[str, str]:
        return dict(self.supervisor.instances)

    @envelope
    async def declare_major(self, major_id: str, declare: dict | None) -> MajorView:
        return await self.supervisor.declare_major(major_id, declare)

    @envelope
    async def gateways(self) -> list[GatewayState]:
        return self.supervisor.gateway_states()

    @envelope
    async def wait_stopped(self) -> None:
        await self.supervisor.wait_stopped()

    @envelope
    async def stop(self) -> None:
        await self.supervisor.stop()

    @envelope
    async def pid(self) -> int:
        return os.getpid()


def spawn(config: ClusterConfig, endpoints: list[str]) -> SupervisorHandle:
    """Create the deployment's supervisor (one per Ray namespace).

    Raises :class:`ActorUnavailableError` while a dead supervisor's name is not yet
    released (the launcher tries again)."""
    try:
        actor = SupervisorActor.options(  # type: ignore[attr-defined]
            name=SUPERVISOR,
            namespace=config.ray_namespace,
            max_restarts=0,
            max_concurrency=100,
            num_cpus=0,
        ).remote(config, endpoints)
    except ValueError as exc:  # the name is still taken
        raise ActorUnavailableError(SUPERVISOR, str(exc)) from exc
    return SupervisorHandle(config.ray_namespace, actor)
