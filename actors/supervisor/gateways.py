"""The supervisor's keeper of gateways: starts one per configured address, learns of a
death from a pending call within milliseconds, and starts it again on the same address.

As with centres, every incarnation is its own named actor (``gateway:{address}#{id}``),
so a restart never waits for Ray to release a dead one's name, and gateways are
detached: a supervisor that dies does not take them with it, and the next supervisor
adopts the ones still serving. A restart is retried with back-off while the address or
the node is not yet free.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace

import structlog

from actors.gateway import actor as gateway_actor
from actors.gateway.handle import GatewayHandle, parse_name
from actors.supervisor.adoption import ADOPT_TIMEOUT_S, adopt_one
from actors.supervisor.records import GatewayState
from cluster.config import ClusterConfig
from cluster.errors import ActorUnavailableError

log = structlog.get_logger("amk.supervisor")


class GatewayKeeper:
    """Keeps one gateway serving on each configured address."""

    def __init__(self, config: ClusterConfig, endpoints: list[str]) -> None:
        self.config = config
        self.endpoints = endpoints
        self.handles: dict[str, GatewayHandle] = {}
        self.states: dict[str, GatewayState] = {a: GatewayState(a) for a in config.gateways}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._lost_at: dict[str, float] = {}  # address -> when its death was seen
        self._stopping = False

    async def start(self, existing: list[str], *, first: bool = True) -> None:
        """Adopt a serving gateway on each address (named in ``existing``) or start one;
        ``first`` is False when a supervisor takes over from a dead one (then no gateway
        is pinned to its configured node, which may be the one that is gone)."""
        await asyncio.gather(
            *(self._start(a, existing=tuple(existing), pin=first) for a in self.config.gateways)
        )

    async def _adopt(self, address: str, existing: list[str]) -> GatewayHandle | None:
        """The one serving incarnation on ``address`` among ``existing``; every other is
        ended (see :mod:`actors.supervisor.adoption`)."""
        candidates = [
            GatewayHandle(address, self.config.ray_namespace, incarnation=parsed[1])
            for parsed in map(parse_name, existing)
            if parsed is not None and parsed[0] == address
        ]

        async def serving(handle: GatewayHandle) -> bool:
            return await handle.serving(timeout_s=ADOPT_TIMEOUT_S)

        async def end(handle: GatewayHandle) -> None:
            handle.kill()

        adopted = await adopt_one(candidates, serving, end)
        if adopted is not None:
            log.info("gateway_adopted", address=address, incarnation=adopted.incarnation)
        return adopted

    async def _start(
        self,
        address: str,
        *,
        existing: tuple[str, ...] = (),
        pin: bool = True,
        restart: bool = False,
    ) -> None:
        handle = await self._adopt(address, list(existing))
        if handle is None:
            handle = gateway_actor.spawn(self.config, address, first=pin)
            try:
                await handle.start(self.endpoints)
            except BaseException:
                with contextlib.suppress(Exception):
                    handle.kill()  # detached: it would outlive us otherwise
                raise
        pid = await handle.pid()
        self.handles[address] = handle
        self._watchers[address] = asyncio.create_task(self._watch(address, handle))
        state = self.states[address]
        if restart:  # counted in the same update that marks it alive
            state = replace(
                state,
                restarts=state.restarts + 1,
                last_restart_at=time.time(),
                last_restart_s=round(time.monotonic() - self._lost_at.get(address, 0.0), 3),
                last_error="",
            )
        self.states[address] = replace(state, incarnation=handle.incarnation, alive=True, pid=pid)

    async def _watch(self, address: str, handle: GatewayHandle) -> None:
        try:
            await handle.wait_stopped()
            return  # stopped on purpose
        except ActorUnavailableError:
            pass
        if self._stopping:
            return
        # Dead, or only unreachable for a moment: end it either way, so a restarted one
        # never runs beside it.
        with contextlib.suppress(Exception):
            handle.kill()
        detected = self._lost_at[address] = time.monotonic()
        self.states[address] = replace(
            self.states[address], alive=False, pid=0, last_lost_at=time.time()
        )
        log.warning("gateway_lost", address=address, incarnation=handle.incarnation)
        delays = self.config.gateway_restart_retry.delays()
        attempt = 0
        while not self._stopping:
            attempt += 1
            try:
                await self._start(address, pin=False, restart=True)
                break
            except Exception as exc:
                # The address not yet free, the node going away: try again.
                log.error(
                    "gateway_restart_failed", address=address, attempt=attempt, error=str(exc)
                )
                self.states[address] = replace(self.states[address], last_error=str(exc))
                await asyncio.sleep(next(delays))
        else:
            return
        took = round(time.monotonic() - detected, 3)
        log.info("gateway_restarted", address=address, after_s=took, attempts=attempt)

    def snapshot(self) -> list[GatewayState]:
        return [self.states[a] for a in self.config.gateways]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._watchers.values():
            task.cancel()
        for handle in self.handles.values():
            with contextlib.suppress(Exception):
                await handle.stop(timeout_s=5)
            with contextlib.suppress(Exception):
                handle.kill()
