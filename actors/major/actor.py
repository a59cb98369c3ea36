"""The Ray actor of one major incident, and :func:`spawn`, which creates (or finds) it."""

from __future__ import annotations

from typing import Any

import ray

from actors.major.handle import MajorHandle, actor_name
from actors.major.major import MajorIncident
from actors.major.record import MajorView
from actors.remote import envelope
from cluster.config import ClusterConfig
from cluster.logs import configure as configure_logs
from cluster.logs import process_log


@ray.remote
class MajorIncidentActor:
    """The Ray actor of one major incident; reach it through ``MajorHandle`` only."""

    def __init__(self, config: ClusterConfig, major_id: str) -> None:
        configure_logs(
            config.log_level, json_file=process_log(config.home, "major", major_id, config.site)
        )
        self.major = MajorIncident(config, major_id)

    @envelope
    async def start(self, endpoints: list[str], declare: dict[str, Any] | None) -> MajorView:
        return await self.major.start(endpoints, declare)

    @envelope
    async def link(
        self, incident_ids: list[str], who: str, request_id: str, fingerprint: str
    ) -> MajorView:
        return await self.major.link(incident_ids, who, request_id, fingerprint)

    @envelope
    async def reserve(
        self, unit_ids: list[str], who: str, request_id: str, fingerprint: str
    ) -> MajorView:
        return await self.major.reserve(unit_ids, who, request_id, fingerprint)

    @envelope
    async def stand_down(self, who: str, request_id: str, fingerprint: str) -> MajorView:
        return await self.major.stand_down(who, request_id, fingerprint)

    @envelope
    async def view(self) -> MajorView:
        return self.major.view()

    @envelope
    async def wait_stopped(self) -> None:
        await self.major.wait_stopped()

    @envelope
    async def stop(self) -> None:
        await self.major.stop()


def spawn(config: ClusterConfig, major_id: str) -> MajorHandle:
    """Create the major incident's actor, or find it if it runs (``get_if_exists``).
    Detached: it outlives the supervisor that made it."""
    actor = MajorIncidentActor.options(  # type: ignore[attr-defined]
        name=actor_name(major_id),
        namespace=config.ray_namespace,
        lifetime="detached",
        max_restarts=0,
        max_concurrency=100,
        num_cpus=0,
        get_if_exists=True,
    ).remote(config, major_id)
    return MajorHandle(major_id, config.ray_namespace, actor)
