"""Retries of a client call: the backoff schedule (data) and one call's time budget.

Shared by the sync client (:mod:`clients.client`) and the web console's gateway calls
(:mod:`clients.web.gateway`): the same rules for when to move to another gateway and
how long to wait, whichever way the caller waits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc

#: Channel options of every client that fails over between gateways: grpc's reconnect
#: backoff grows to 120 s by default, and a restarted gateway must be found again
#: within one call's retry budget.
RECONNECT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between attempts; the overall budget is the client's timeout.

    ``attempt_timeout_s`` caps one attempt so that a gateway whose host vanished (no TCP
    reset: the connect just hangs) cannot eat the whole budget; ``None`` gives each
    attempt whatever budget is left.
    """

    initial_backoff_s: float = 0.05
    max_backoff_s: float = 0.5
    multiplier: float = 2.0
    attempt_timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.initial_backoff_s <= 0 or self.max_backoff_s < self.initial_backoff_s:
            raise ValueError("need 0 < initial_backoff_s <= max_backoff_s")
        if self.multiplier < 1:
            raise ValueError("multiplier must be >= 1")
        if self.attempt_timeout_s is not None and self.attempt_timeout_s <= 0:
            raise ValueError("attempt_timeout_s must be > 0")

    def backoff(self, attempt: int) -> float:
        """Pause after failed attempt number ``attempt`` (0-based)."""
        # The exponent is clamped so a long outage cannot overflow the float.
        return min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** min(attempt, 64))

    def backoffs(self) -> Iterator[float]:
        """The endless sequence of pauses: 0.05, 0.1, 0.2, 0.4, 0.5, 0.5, ..."""
        attempt = 0
        while True:
            yield self.backoff(attempt)
            attempt += 1


# How grpc core words "could not talk to that gateway at all" (as opposed to a status
# the gateway itself sent).
_TRANSPORT_FAILURES = (
    "failed to connect", "connection refused", "connection reset", "socket closed",
    "connections to all backends failing", "broken pipe", "dns resolution failed", "goaway",
    "end of tcp stream", "endpoint read failed", "keepalive", "channel closed",
    "cancelling all calls"
)  # fmt: skip


class SyncBudget:
    """One call's time budget and backoff schedule, shared by all its attempts (the
    sync client's: it sleeps between attempts; the web console's waits in asyncio)."""

    def __init__(self, timeout_s: float, policy: RetryPolicy) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.policy = policy
        self._pauses = policy.backoffs()
        self._last_failed = ""
        self._streak = 0

    def attempt_timeout(self) -> float:
        left = max(0.001, self.deadline - time.monotonic())
        cap = self.policy.attempt_timeout_s
        return left if cap is None else min(left, cap)

    def should_move(self, code: grpc.StatusCode, address: str, details: str) -> bool:
        """Whether the next attempt should go to another gateway.

        Yes when the gateway could not be reached or did not answer in time. No when a
        reachable gateway says a region is failing over: it already waited for the new
        owner, and another gateway knows no better. The third UNAVAILABLE in a row from
        one gateway moves on anyway, in case grpc words a connection failure in a way
        :data:`_TRANSPORT_FAILURES` misses.
        """
        self._streak = self._streak + 1 if self._last_failed == address else 1
        self._last_failed = address
        if code != grpc.StatusCode.UNAVAILABLE or self._streak >= 3:
            self._streak = 0
            return True
        text = (details or "").lower()
        return any(phrase in text for phrase in _TRANSPORT_FAILURES)

    def next_pause(self) -> float | None:
        """The pause before the next attempt; None when it would overrun the budget."""
        pause = next(self._pauses)
        return None if time.monotonic() + pause >= self.deadline else pause

    def pause(self) -> bool:
        """Sleep before the next attempt; False when that would overrun the budget."""
        pause = self.next_pause()
        if pause is None:
            return False
        time.sleep(pause)
        return True


# A watch's resume revision etcd compacted away: the gateway's catch-up watch fails with
# UNAVAILABLE "... compacted at N ..." (cluster/etcd.py), hence the text check;
# the gateway answers FAILED_PRECONDITION to a resume from beyond the store's revision
# (etcd restored from a backup: actors/gateway/watch_service.py), and OUT_OF_RANGE is
# taken the same way. Only a new snapshot helps then (the board and the web console's
# stream).
RESNAPSHOT_CODES = frozenset({grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.FAILED_PRECONDITION})


def needs_snapshot(code: grpc.StatusCode, details: str) -> bool:
    """Whether a failed resume can only start over (the revision was compacted)."""
    return code in RESNAPSHOT_CODES or "compacted" in (details or "").lower()
