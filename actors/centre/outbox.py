"""The runner of a centre's outboxes: one delivery in flight per item, retried with a
growing pause until it succeeds.

An outbox item is a committed record that says something is still to be told to
someone else (an air request the AMK-LA has not taken, a mission change the incident's
owner has not recorded, a hospital document the hospital has not answered). The record
is the outbox, so a takeover loads it with the region, and the owner's scan finds it
again; this runner only decides *when* to try. Its rules, shared by every outbox so
they are the same everywhere:

- one delivery per item at a time (a key names the item), so a slow partner is never
  sent the same thing twice in parallel and reports arrive in order;
- a failed delivery pauses the item for the interval, doubled after each failure up to
  :data:`MAX_BACKOFF_S`, and logs a warning with the region and the fencing token each
  time (expected failures: an ``AmkError``, e.g. no owner while it fails over, and an
  ``OSError``, ``ValueError`` or ``http.client.HTTPException`` of a partner that does
  not answer or answers badly, e.g. a connection cut mid-answer; anything else is a
  bug, logged with its traceback);
- nothing is dropped: the item stays in the record, and the next scan after the pause
  tries again. A pause is forgotten once it has been over for a whole
  :data:`MAX_BACKOFF_S` with no try: the item was settled otherwise (told by phone,
  the patient arrived, the region lost), and a later item under the same key starts
  afresh.
"""

from __future__ import annotations

import asyncio
import http.client
import time
from collections.abc import Awaitable, Callable

from actors.centre.core import CentreCore
from actors.centre.region_host import RegionHost
from actors.centre.region_state import RegionState
from cluster.errors import AmkError

MAX_BACKOFF_S = 30.0  # a delivery failing for good is retried at most this far apart
# What a partner that does not answer, or answers badly, raises: a warning, not a bug.
EXPECTED_FAILURES = (AmkError, OSError, ValueError, http.client.HTTPException)

Work = Callable[[], Awaitable[None]]


class OutboxRunner:
    """Deliveries of one kind of outbox for one centre (``event``: the log event of a
    failed try, e.g. ``air_delivery_pending``; ``scan``: spawns a delivery for each item
    a region holds, called at takeover and every interval)."""

    def __init__(
        self,
        core: CentreCore,
        event: str,
        interval_s: Callable[[], float],
        scan: Callable[[RegionHost], None],
        before_start: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.event = event
        self.interval_s = interval_s  # read when used: the config's current value
        self.scan = scan
        self.before_start = before_start  # drills: a crash point between commit and delivery
        self.clock = clock
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._not_before: dict[str, tuple[float, float]] = {}  # key -> (time, backoff)

    def kick(self, region: str) -> None:
        """Deliver what ``region`` holds now (called when a region is taken)."""
        host = self.core.hosts.get(region)
        if host is not None:
            self.scan(host)

    async def watch(self) -> None:
        """Scan every served region each interval, until the centre stops."""
        core = self.core
        while not core.stopping:
            await asyncio.sleep(self.interval_s())
            for region, host in list(core.hosts.items()):
                if core.states.get(region) is RegionState.SERVING:
                    self.scan(host)
            self.forget_settled()

    def forget_settled(self) -> None:
        """Drop the pauses that ended a whole :data:`MAX_BACKOFF_S` ago with no new try
        (every scan since found nothing to send under that key)."""
        stale = self.clock() - MAX_BACKOFF_S
        for key in [k for k, (at, _) in self._not_before.items() if at < stale]:
            if key not in self._inflight:
                del self._not_before[key]

    def spawn(self, key: str, region: str, work: Work) -> None:
        """Start delivering ``key`` unless it is in flight or pausing after a failure."""
        if key in self._inflight or self.core.stopping:
            return
        if self.before_start is not None:
            self.before_start(key)
        not_before = self._not_before.get(key)
        if not_before is not None and self.clock() < not_before[0]:
            return
        task = asyncio.get_running_loop().create_task(self._run(key, region, work))
        self._inflight[key] = task

    def pausing(self, key: str) -> float:
        """Seconds until ``key`` is tried again after a failure (0.0 when not pausing)."""
        not_before = self._not_before.get(key)
        return max(0.0, not_before[0] - self.clock()) if not_before else 0.0

    async def _run(self, key: str, region: str, work: Work) -> None:
        try:
            await work()
            self._not_before.pop(key, None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # kept pending: the next scan tries again, later
            _, backoff = self._not_before.get(key, (0.0, self.interval_s()))
            self._not_before[key] = (self.clock() + backoff, min(MAX_BACKOFF_S, 2 * backoff))
            host = self.core.hosts.get(region)
            level = "warning" if isinstance(exc, EXPECTED_FAILURES) else "exception"
            getattr(self.core.log, level)(
                self.event,
                region=region,
                token=host.fence.token if host else 0,
                item=key,
                retry_in_s=backoff,
                error=repr(exc),
            )
        finally:
            self._inflight.pop(key, None)

    def stop(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
