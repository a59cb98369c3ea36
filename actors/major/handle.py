"""All Ray calls to major-incident actors go through :class:`MajorHandle`."""

from __future__ import annotations

from typing import Any

from actors.major.record import MajorView
from actors.remote import FOREVER_S, RemoteActor
from cluster.errors import ActorUnavailableError


def actor_name(major_id: str) -> str:
    return f"major:{major_id}"


class MajorHandle:
    """One major incident's actor, found by name in the deployment's namespace."""

    def __init__(self, major_id: str, namespace: str, actor: Any | None = None) -> None:
        self.major_id = major_id
        self._remote = RemoteActor(
            actor_name(major_id),
            namespace,
            actor,
            make_error=lambda d: ActorUnavailableError(f"major incident {major_id}", d),
        )

    async def start(self, endpoints: list[str], declare: dict[str, Any] | None) -> MajorView:
        return await self._remote.call("start", endpoints, declare, timeout_s=30.0)

    async def link(
        self, incident_ids: list[str], who: str, request_id: str, fingerprint: str = ""
    ) -> MajorView:
        return await self._remote.call(
            "link", incident_ids, who, request_id, fingerprint, timeout_s=15.0
        )

    async def reserve(
        self, unit_ids: list[str], who: str, request_id: str, fingerprint: str = ""
    ) -> MajorView:
        return await self._remote.call(
            "reserve", unit_ids, who, request_id, fingerprint, timeout_s=15.0
        )

    async def stand_down(self, who: str, request_id: str, fingerprint: str = "") -> MajorView:
        return await self._remote.call("stand_down", who, request_id, fingerprint, timeout_s=15.0)

    async def view(self, *, timeout_s: float = 15.0) -> MajorView:
        return await self._remote.call("view", timeout_s=timeout_s)

    async def wait_stopped(self) -> None:
        """Pending until the actor stops; ActorUnavailableError when it dies."""
        await self._remote.call("wait_stopped", timeout_s=FOREVER_S)

    async def stop(self, *, timeout_s: float = 5.0) -> None:
        await self._remote.call("stop", timeout_s=timeout_s)

    def kill(self) -> None:
        self._remote.kill()
