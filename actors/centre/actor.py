"""The Ray actor of one AMK centre, and :func:`spawn`, which creates one incarnation.

Every method a handle calls carries :func:`actors.remote.envelope`, so our errors come
back as values and the handle raises them typed. The actor gives its :class:`Centre`
the :class:`HandlePeers` through which it reaches other centres.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import ray
import structlog

from actors.centre.centre import Centre
from actors.centre.handle import CentreHandle, HandlePeers, actor_name
from actors.centre.link import LinkServer
from actors.centre.records import CallTakerCounts, CentreStatus, Ping
from actors.domain.commands import Command
from actors.domain.model import Outcome
from actors.remote import Envelope, envelope
from cluster import heap
from cluster.config import ClusterConfig
from cluster.logs import configure as configure_logs
from cluster.logs import process_log
from cluster.ownership import OwnerRecord
from cluster.starvation import host_id
from cluster.tls import service_identity

# Ray runs each concurrency group of an async actor on its own event loop and thread.
PROBE_GROUP = "probe"


def new_instance(centre_id: str) -> str:
    """A fresh incarnation id; it also names the actor and signs the journal."""
    return f"{centre_id}-{uuid.uuid4().hex[:12]}"


@ray.remote(concurrency_groups={PROBE_GROUP: 1})  # not settable in .options()
class CentreActor:
    """The Ray actor for one AMK centre. Reach it through ``CentreHandle`` only."""

    def __init__(self, config: ClusterConfig, centre_id: str, instance: str) -> None:
        configure_logs(
            config.log_level,
            json_file=process_log(config.home, "centre", centre_id, config.site),
        )
        tls = service_identity(config)
        peers = HandlePeers(config.ray_namespace, config.peer_status_timeout_s, tls)
        self.centre = Centre(config, centre_id, peers, instance=instance)
        self.link: LinkServer | None = None
        if config.centre_link == "grpc":
            self.link = LinkServer(
                centre_id,
                instance,
                self._execute_batch,
                self.centre.hand_over_region,
                host=config.centre_link_host,
                tls=tls,
            )
        structlog.contextvars.bind_contextvars(centre=centre_id)

    @envelope
    async def start(self, endpoints: list[str]) -> CentreStatus:
        heap.settle()  # before claiming: the pause falls on no command
        if self.link is not None and not self.link.address:
            # Before the first claim: every owner record this instance writes names it.
            self.centre.core.address = await self.link.start()
        await self.centre.start(endpoints)
        return self._status()

    @envelope
    async def execute(self, region: str, cmd: Command) -> Outcome:
        return await self.centre.execute(region, cmd)

    @envelope
    async def execute_many(self, items: list[tuple[str, Command]]) -> list[Envelope]:
        """Several commands in one Ray call (the gateway batches those that arrive
        together); they run concurrently, each with its own answer."""
        return await self._execute_batch(items)

    async def _execute_batch(self, items: list[tuple[str, Command]]) -> list[Envelope]:
        """The batch as :meth:`execute_many` runs it; also what the gRPC link serves."""
        return list(await asyncio.gather(*(self.execute(r, c) for r, c in items)))

    @envelope
    async def hand_over_region(self, region: str, to: OwnerRecord, who: str) -> int:
        return await self.centre.hand_over_region(region, to, who)

    @envelope
    async def status(self) -> CentreStatus:
        return self._status()

    @ray.method(concurrency_group=PROBE_GROUP)
    @envelope
    async def ping(self) -> Ping:
        """The supervisor's liveness probe, answered from memory on the probe group's
        own event loop (its own thread): a hung process (SIGSTOP) never answers, but
        a busy main loop (a takeover's load, a first import) does not make it late, so
        it does not look hung. A main loop stuck for good is the session's to catch:
        its keepalives stop and the centre drops its regions when the lease may lapse."""
        return Ping(self.centre.instance, self.centre.held_tokens(), os.getpid(), host_id())

    def _status(self) -> CentreStatus:
        return self.centre.status(node_id=ray.get_runtime_context().get_node_id())

    @envelope
    async def stop(self) -> None:
        await self.centre.stop()
        if self.link is not None:
            await self.link.stop()

    @envelope
    async def wait_stopped(self) -> None:
        await self.centre.wait_stopped()

    @envelope
    async def sign_in(self, call_taker: str) -> CallTakerCounts:
        return self.centre.sign_in(call_taker)

    @envelope
    async def sign_out(self, call_taker: str) -> CallTakerCounts:
        return self.centre.sign_out(call_taker)

    @envelope
    async def call_ended(self, call_taker: str, call_id: str) -> CallTakerCounts:
        return self.centre.call_ended(call_taker, call_id)

    @envelope
    async def pid(self) -> int:
        return os.getpid()


def spawn(
    config: ClusterConfig, centre_id: str, instance: str, *, node: str | None = None
) -> CentreHandle:
    """Create one incarnation of the centre. ``max_restarts=0``: a dead centre fails
    pending calls within milliseconds (with restarts on, Ray holds them ~1.3 s); the
    supervisor starts a new incarnation, which comes back as a standby. Detached: a
    supervisor that dies does not take its centres with it (the next one adopts them)."""
    actor = CentreActor.options(  # type: ignore[attr-defined]
        name=actor_name(instance),
        namespace=config.ray_namespace,
        lifetime="detached",
        max_restarts=0,
        max_concurrency=1000,
        num_cpus=0,
        resources={node: 0.001} if node else None,
    ).remote(config, centre_id, instance)
    return CentreHandle(centre_id, config.ray_namespace, actor, instance=instance)
