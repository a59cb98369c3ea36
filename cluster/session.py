"""An etcd session: one lease, kept alive, with a local deadline.

The session never says "I am alive" as a stored boolean. It keeps ``valid_until``: the
time the last acknowledged keepalive was *sent*, plus the TTL etcd granted, minus a
margin. etcd resets the lease's TTL when it processes the keepalive, which is after we
sent it, so the lease cannot expire before ``valid_until`` by etcd's clock (barring a
clock running more than ``margin`` fast over one TTL). A centre stops serving its
regions when ``valid_for()`` reaches zero, before etcd can have handed them to a backup;
and even if it did not, its writes would fail the fencing compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog
from aetcd import rpc

from cluster.errors import SessionExpiredError, StoreUnavailableError
from cluster.etcd import EtcdClient

log = structlog.get_logger("amk.session")


class Session:
    """A lease with a keepalive loop and a locally known deadline."""

    def __init__(
        self,
        client: EtcdClient,
        ttl_s: int,
        *,
        margin_s: float = 0.3,
        on_expired: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.requested_ttl_s = ttl_s
        self.margin_s = margin_s
        self._on_expired = on_expired
        self._clock = clock
        self.lease_id = 0
        self.ttl_s = 0
        self._valid_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def open(self) -> Session:
        sent = self._clock()
        self.lease_id, self.ttl_s = await self.client.lease_grant(self.requested_ttl_s)
        self._valid_until = sent + self.ttl_s - self.margin_s
        self._task = asyncio.get_running_loop().create_task(self._keepalive_loop())
        log.info("session_opened", lease=f"{self.lease_id:x}", ttl_s=self.ttl_s)
        return self

    def valid_for(self) -> float:
        """Seconds for which the lease is surely still alive (0 when it may be gone)."""
        return max(0.0, self._valid_until - self._clock())

    def check(self) -> None:
        """Raise :class:`SessionExpiredError` unless the lease is surely alive."""
        if self.valid_for() <= 0.0:
            raise SessionExpiredError(self.lease_id)

    async def _keepalive_loop(self) -> None:
        interval = max(0.2, self.ttl_s / 3.0)
        stream = None
        while not self._closed:
            if self.valid_for() <= 0.0:
                self._expire("deadline passed without an acknowledged keepalive")
                return
            try:
                if stream is None:
                    stream = self.client.keepalive_stream()
                sent = self._clock()
                await stream.write(rpc.LeaseKeepAliveRequest(ID=self.lease_id))
                resp = await asyncio.wait_for(stream.read(), timeout=interval)
                if resp is None or resp.TTL <= 0:
                    self._expire("etcd reports the lease gone")
                    return
                self._valid_until = sent + resp.TTL - self.margin_s
            except (TimeoutError, StoreUnavailableError, Exception) as exc:
                if self._closed:
                    return
                log.warning("keepalive_failed", lease=f"{self.lease_id:x}", error=repr(exc))
                if stream is not None:
                    stream.cancel()
                stream = None
                await asyncio.sleep(min(0.1, interval))
                continue
            await asyncio.sleep(interval)

    def _expire(self, reason: str) -> None:
        self._valid_until = 0.0
        log.warning("session_expired", lease=f"{self.lease_id:x}", reason=reason)
        if self._on_expired is not None:
            self._on_expired(self.lease_id)

    async def close(self, *, revoke: bool = True) -> None:
        """Stop the keepalive; revoke the lease so its keys go at once."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._valid_until = 0.0
        if revoke and self.lease_id:
            with contextlib.suppress(StoreUnavailableError):
                await self.client.lease_revoke(self.lease_id, timeout_s=1.0)
