"""Is any gateway serving? The standard gRPC health check, asked often, from outside.

:class:`HealthProber` asks each address ``grpc.health.v1.Health/Check`` (service ``""``,
the whole server) every ``interval_s`` and keeps every answer as a :class:`Sample`.
The drills use it for the time with no gateway at all (the ``kill-gateway`` failpoint
with ``probe = true``), the gateway benchmark for kill -> serving again on one address.

The arithmetic on samples is pure (:func:`no_gateway_windows`, :func:`no_gateway_after`,
:func:`first_serving`), so unit tests feed it hand-made samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cluster.tls import TlsFiles, open_channel

# A gateway that comes back must be seen within one probe interval, not after grpc's
# reconnect back-off (1 s and growing by default). Each prober has its own connection.
_CHANNEL_OPTIONS = (
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 10),
    ("grpc.min_reconnect_backoff_ms", 10),
    ("grpc.max_reconnect_backoff_ms", 10),
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One health check: when its answer (or failure) came, and whether it said SERVING."""

    t: float  # wall-clock seconds
    address: str
    serving: bool


# ---------------------------------------------------------------- the arithmetic


def no_gateway_windows(
    samples: Iterable[Sample], addresses: Sequence[str]
) -> list[tuple[float, float | None]]:
    """The intervals in which no address was serving, ``(start, end)``: from the first
    sample after which every address's latest sample says not serving, to the first
    serving sample after that (``None``: none came). An address not yet probed counts
    as serving (nothing is known against it)."""
    latest: dict[str, bool] = {}
    out: list[tuple[float, float | None]] = []
    start: float | None = None
    for s in sorted(samples, key=lambda s: s.t):
        if s.address not in addresses:
            continue
        latest[s.address] = s.serving
        if start is None:
            if len(latest) == len(addresses) and not any(latest.values()):
                start = s.t
        elif s.serving:
            out.append((start, s.t))
            start = None
    if start is not None:
        out.append((start, None))
    return out


def first_serving(samples: Iterable[Sample], address: str, after: float) -> float | None:
    """When ``address`` first answered SERVING after it was first seen not serving at
    or after ``after`` (a killed gateway may answer for a moment before it dies)."""
    down = False
    for s in sorted(samples, key=lambda s: s.t):
        if s.address != address or s.t < after:
            continue
        if not s.serving:
            down = True
        elif down:
            return s.t
    return None


def no_gateway_after(
    samples: Iterable[Sample], addresses: Sequence[str], killed: str, kill_at: float
) -> dict[str, Any]:
    """The time with no gateway at all that killing ``killed`` at ``kill_at`` opened,
    from a prober started just before the kill: from the kill to the first SERVING
    answer from any address once all were down. The kill opened no such time (``0.0``)
    when another address answered SERVING to the prober's first check of it."""
    ordered = sorted(samples, key=lambda s: s.t)
    first = {}
    for s in ordered:
        first.setdefault(s.address, s.serving)
    if any(first.get(a, True) for a in addresses if a != killed):
        return {"no_gateway_s": 0.0}
    windows = [w for w in no_gateway_windows(ordered, addresses) if w[1] is None or w[1] > kill_at]
    if not windows:
        return {"no_gateway_s": 0.0}
    start, end = windows[0]
    back = next((s.address for s in ordered if s.t == end and s.serving), "")
    return {
        "no_gateway_s": None if end is None else round(end - kill_at, 3),
        "all_down_seen_after_s": round(start - kill_at, 3),
        "no_gateway_at": [kill_at, end],
        "first_back": back,
    }


def probe_gaps(samples: Iterable[Sample], address: str) -> dict[str, float]:
    """How often ``address`` was actually probed: median and largest gap, in ms."""
    ts = sorted(s.t for s in samples if s.address == address)
    gaps = sorted(b - a for a, b in itertools.pairwise(ts))
    if not gaps:
        return {}
    return {
        "probe_gap_median_ms": round(gaps[len(gaps) // 2] * 1000, 1),
        "probe_gap_max_ms": round(gaps[-1] * 1000, 1),
    }


# ---------------------------------------------------------------- the prober


async def check_serving(stub: Any, timeout_s: float) -> bool:
    """One health check of the whole server (service ``""``)."""
    try:
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout_s)
    except grpc.aio.AioRpcError:
        return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


class HealthProber:
    """Health-checks each address every ``interval_s`` until stopped; ``samples`` holds
    every answer. One task and one channel per address, on the caller's event loop."""

    def __init__(
        self,
        addresses: Sequence[str],
        *,
        tls: TlsFiles | None,
        interval_s: float = 0.02,
        timeout_s: float = 0.25,
    ) -> None:
        self.addresses = list(addresses)
        self.tls = tls  # the console's identity (None: an insecure cluster)
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.samples: list[Sample] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> HealthProber:
        self._tasks = [asyncio.create_task(self._loop(a)) for a in self.addresses]
        return self

    async def _loop(self, address: str) -> None:
        channel = open_channel(address, self.tls, _CHANNEL_OPTIONS)
        try:
            while True:
                sent = time.monotonic()
                serving = await check_serving(health_pb2_grpc.HealthStub(channel), self.timeout_s)
                self.samples.append(Sample(time.time(), address, serving))
                if not serving:
                    # A new connection for the next check: a failed channel waits out
                    # grpc's reconnect back-off, which grows past the probe interval.
                    await channel.close()
                    channel = open_channel(address, self.tls, _CHANNEL_OPTIONS)
                await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - sent)))
        finally:
            await channel.close()

    async def wait_serving(self, address: str, after: float, timeout_s: float) -> float | None:
        """Wait until ``address`` went down and answered SERVING again after ``after``
        (wall clock); returns when it answered, None when not within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (t := first_serving(self.samples, address, after)) is not None:
                return t
            await asyncio.sleep(self.interval_s / 2)
        return None

    async def stop(self) -> list[Sample]:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        return self.samples
