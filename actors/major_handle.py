"""All Ray calls to major-incident actors go through :class:`MajorHandle`."""

from __future__ import annotations

import asyncio
from typing import Any

import ray
from ray.exceptions import RayActorError

from actors.major_incident import MajorIncidentActor
from cluster.config import ClusterConfig
from cluster.errors import CentreUnavailableError


def actor_name(major_id: str) -> str:
    return f"major:{major_id}"


class MajorHandle:
    """One major incident's actor, found by name in the deployment's namespace."""

    def __init__(self, major_id: str, namespace: str, actor: Any | None = None) -> None:
        self.major_id = major_id
        self.namespace = namespace
        self._actor = actor

    @classmethod
    def create(cls, config: ClusterConfig, major_id: str) -> MajorHandle:
        actor = MajorIncidentActor.options(  # type: ignore[attr-defined]
            name=actor_name(major_id),
            namespace=config.ray_namespace,
            max_restarts=0,
            max_concurrency=100,
            num_cpus=0,
            get_if_exists=True,
        ).remote(config, major_id)
        return cls(major_id, config.ray_namespace, actor)

    def _get(self) -> Any:
        if self._actor is None:
            try:
                self._actor = ray.get_actor(actor_name(self.major_id), namespace=self.namespace)
            except ValueError as exc:
                raise CentreUnavailableError(
                    self.major_id, "major incident actor not running"
                ) from exc
        return self._actor

    async def _call(self, method: str, *args: Any, timeout_s: float = 15.0) -> Any:
        try:
            kind, value = await asyncio.wait_for(
                getattr(self._get(), method).remote(*args), timeout_s
            )
        except RayActorError as exc:
            self._actor = None
            raise CentreUnavailableError(self.major_id, type(exc).__name__) from exc
        except TimeoutError as exc:
            raise CentreUnavailableError(self.major_id, f"no answer in {timeout_s}s") from exc
        if kind == "err":
            raise value
        return value

    async def start(self, endpoints: list[str], declare: dict[str, Any] | None) -> dict:
        return await self._call("start", endpoints, declare, timeout_s=30.0)

    async def link(self, incident_ids: list[str], who: str, request_id: str) -> dict:
        return await self._call("link", incident_ids, who, request_id)

    async def reserve(self, unit_ids: list[str], who: str, request_id: str) -> dict:
        return await self._call("reserve", unit_ids, who, request_id)

    async def stand_down(self, who: str, request_id: str) -> dict:
        return await self._call("stand_down", who, request_id)

    async def view(self) -> dict:
        return await self._call("view")

    async def wait_stopped(self) -> None:
        """Pending until the actor stops; CentreUnavailableError when it dies."""
        actor = self._get()
        try:
            await actor.wait_stopped.remote()
        except RayActorError as exc:
            self._actor = None
            raise CentreUnavailableError(self.major_id, type(exc).__name__) from exc

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self._get().stop.remote(), 5)
        except (RayActorError, TimeoutError, CentreUnavailableError):
            pass

    def kill(self) -> None:
        ray.kill(self._get(), no_restart=True)
        self._actor = None
