"""All Ray calls to gateway actors go through :class:`GatewayHandle`."""

from __future__ import annotations

from typing import Any

from actors.remote import RemoteActor


def actor_name(address: str) -> str:
    return f"gateway:{address}"


class GatewayHandle:
    """One gateway actor, named by its listen address."""

    def __init__(self, address: str, namespace: str, actor: Any | None = None) -> None:
        self.address = address
        self._remote = RemoteActor(actor_name(address), namespace, actor)

    async def start(self, endpoints: list[str], *, timeout_s: float = 60.0) -> str:
        return await self._remote.call("start", endpoints, timeout_s=timeout_s)

    async def stop(self, *, timeout_s: float = 5.0) -> None:
        await self._remote.call("stop", timeout_s=timeout_s)

    async def pid(self, *, timeout_s: float = 5.0) -> int:
        return await self._remote.call("pid", timeout_s=timeout_s)

    def kill(self) -> None:
        self._remote.kill()
