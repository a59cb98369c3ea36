"""Routing a command from a gateway to the centre that owns its region.

An attempt that reaches a dead or deposed owner (Ray actor error, fenced write, lost
lease) is retried on the region's next owner within the caller's deadline, with the
same request id, so it is applied once. An attempt is abandoned as soon as the owner
changes: a hung owner never answers, and once its lease is gone it cannot write.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import structlog

from actors.centre.handle import CentreHandle
from actors.domain.commands import Command
from actors.domain.model import Outcome
from actors.gateway.directory import Directory
from actors.gateway.rpc import stamp
from actors.remote import unwrap
from cluster.config import ClusterConfig
from cluster.errors import AmkError, RegionUnavailableError
from cluster.ownership import Owner
from cluster.tls import service_identity

log = structlog.get_logger("amk.gateway")

MAX_PINNED_HANDLES = 100  # handles to old incarnations; cheap to make again


class Router:
    """Routes a command to the centre that owns its region and retries it there."""

    def __init__(self, config: ClusterConfig, directory: Directory) -> None:
        self.config = config
        self.directory = directory
        self.tls = service_identity(config)  # the centres' links: mutual TLS
        self.centres: dict[str, CentreHandle] = {}
        self.instances: dict[str, CentreHandle] = {}

    def deadline(self, context: grpc.aio.ServicerContext) -> float:
        """The caller's deadline on the monotonic clock (a default if it set none)."""
        left = context.time_remaining()
        default = self.config.default_deadline_s
        return time.monotonic() + (default if left is None else max(0.0, left))

    def centre(self, centre_id: str) -> CentreHandle:
        """A handle that follows the centre's current incarnation."""
        handle = self.centres.get(centre_id)
        if handle is None:
            handle = self.centres.setdefault(
                centre_id, CentreHandle(centre_id, self.config.ray_namespace)
            )
        return handle

    def incarnation(self, centre_id: str, instance: str, address: str = "") -> CentreHandle:
        """A handle pinned to one incarnation: the one a region's owner record names.
        With the record's link ``address`` its commands go over gRPC, else over Ray."""
        handle = self.instances.get(instance)
        if handle is None:
            if len(self.instances) > MAX_PINNED_HANDLES:
                for old in self.instances.values():
                    asyncio.get_running_loop().create_task(old.close())
                self.instances.clear()
            handle = self.instances.setdefault(
                instance,
                CentreHandle(centre_id, self.config.ray_namespace, instance=instance, tls=self.tls),
            )
        handle.use_address(address)
        return handle

    async def route(self, region: str, cmd: Command, context: grpc.aio.ServicerContext) -> Outcome:
        """Send ``cmd`` to the owner of ``region``; retry retryable failures until the
        deadline on whoever owns the region then.

        An attempt is abandoned as soon as the region's owner changes (a hung owner
        never answers; its lease runs out and a backup takes over): the same request id
        goes to the new owner, and the old one can no longer write it (fenced).
        """
        cmd = stamp(cmd)
        deadline = self.deadline(context) - 0.01
        retry = self.config.route_retry
        backoff = retry.initial_s
        tried: Owner | None = None
        while True:
            owner = self.directory.owner(region)
            if owner is not None and owner != tried:
                # A new owner starts short again: it has just claimed and is loading the
                # region (refusing as not-yet-owner for some tens of ms); a backoff grown
                # while nobody owned it would hold the call 0.2 s past its load.
                tried, backoff = owner, retry.initial_s
            if owner is None:
                err: AmkError = RegionUnavailableError(region, "no centre owns it (failing over)")
            else:
                try:
                    return await self._attempt(owner, region, cmd, deadline)
                except AmkError as exc:
                    if not exc.retryable:
                        raise
                    err = exc
            left = deadline - time.monotonic()
            if left <= 0:
                raise err
            log.info("route_retry", region=region, request_id=cmd.request_id, error=str(err))
            if self.directory.owner(region) == owner:
                await self.directory.wait_change(min(backoff, left))
                backoff = retry.next(backoff)

    async def _attempt(self, owner: Owner, region: str, cmd: Command, deadline: float) -> Outcome:
        """One try at ``owner``: its answer, or RegionUnavailableError once the region's
        owner changes or the deadline passes, whichever is first.

        The wait costs one future, one timer and one callback on the directory's shared
        change future (no task, no ``asyncio.wait``): this runs for every command."""
        record = owner.record
        handle = self.incarnation(record.centre, record.instance, record.address)
        fut = handle.submit(region, cmd, deadline)
        loop = asyncio.get_running_loop()

        def fail(reason: str) -> None:
            if not fut.done():
                fut.set_exception(RegionUnavailableError(region, reason))

        def on_change(_: asyncio.Future[None]) -> None:
            nonlocal changed
            if self.directory.owner(region) != owner:
                fail(f"owner changed from {record.centre}")
            elif not fut.done():  # another region's change: wait for the next one
                changed = self.directory.change_future()
                changed.add_done_callback(on_change)

        changed = self.directory.change_future()
        changed.add_done_callback(on_change)
        timer = loop.call_at(deadline, fail, f"no answer from {record.centre} before the deadline")
        try:
            return unwrap(await fut)
        finally:
            timer.cancel()
            changed.remove_done_callback(on_change)
