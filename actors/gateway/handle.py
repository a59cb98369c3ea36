"""All Ray calls to gateway actors go through :class:`GatewayHandle`."""

from __future__ import annotations

from typing import Any

from actors.remote import FOREVER_S, RemoteActor

PREFIX = "gateway:"


def actor_name(address: str, incarnation: str) -> str:
    return f"{PREFIX}{address}#{incarnation}"


def parse_name(name: str) -> tuple[str, str] | None:
    """``(address, incarnation)`` of a gateway actor's name, None for other names."""
    if not name.startswith(PREFIX) or "#" not in name:
        return None
    address, incarnation = name[len(PREFIX) :].rsplit("#", 1)
    return address, incarnation


class GatewayHandle:
    """One incarnation of the gateway on ``address``."""

    def __init__(
        self, address: str, namespace: str, actor: Any | None = None, *, incarnation: str
    ) -> None:
        self.address = address
        self.incarnation = incarnation
        self._remote = RemoteActor(actor_name(address, incarnation), namespace, actor)

    async def start(self, endpoints: list[str], *, timeout_s: float = 60.0) -> str:
        return await self._remote.call("start", endpoints, timeout_s=timeout_s)

    async def stop(self, *, timeout_s: float = 5.0) -> None:
        await self._remote.call("stop", timeout_s=timeout_s)

    async def serving(self, *, timeout_s: float = 5.0) -> bool:
        return await self._remote.call("serving", timeout_s=timeout_s)

    async def pid(self, *, timeout_s: float = 5.0) -> int:
        return await self._remote.call("pid", timeout_s=timeout_s)

    async def wait_stopped(self) -> None:
        """Pending until the gateway stops; ActorUnavailableError the moment it dies."""
        await self._remote.call("wait_stopped", timeout_s=FOREVER_S)

    def kill(self) -> None:
        self._remote.kill()
