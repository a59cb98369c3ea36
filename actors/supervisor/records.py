"""Typed records the supervisor hands out: deaths and hangs it saw, and its gateways'
state."""

from __future__ import annotations

from dataclasses import dataclass

from cluster.histogram import HistogramSnapshot


@dataclass(frozen=True, slots=True)
class DeathEvent:
    """A centre death the supervisor saw, and what it did about it."""

    centre: str
    instance: str
    detected_at: float
    revoked_regions: tuple[str, ...]
    revoke_ms: float
    restarted_in_s: float | None = None
    restart_attempts: int = 0
    new_instance: str = ""
    restart_error: str = ""


@dataclass(frozen=True, slots=True)
class HangEvent:
    """A centre the liveness probe suspected of hanging (``misses`` pings in a row
    unanswered within ``deadline_s``), and the leases it revoked. The centre is not
    restarted for it: if it wakes up it finds its regions taken and serves as a standby."""

    centre: str
    instance: str
    detected_at: float  # wall-clock seconds
    misses: int
    deadline_s: float
    last_tokens: dict[str, int]  # region -> token in the centre's last answer
    revoked_regions: tuple[str, ...]
    revoke_ms: float


@dataclass(frozen=True, slots=True)
class ProbeStats:
    """The liveness probe's evidence, all centres: answered pings' latency, and misses
    counted or ignored (late: the supervisor stalled; unwitnessed: no other centre
    answered meanwhile either; starved: the centre's threads waited for a CPU)."""

    latency: HistogramSnapshot
    misses: dict[str, int]
    deadline_s: float  # the adaptive deadline now


@dataclass(frozen=True, slots=True)
class GatewayState:
    """One gateway address as its keeper sees it (``amk status``, drills, tests)."""

    address: str
    incarnation: str = ""
    alive: bool = False
    pid: int = 0
    restarts: int = 0
    last_lost_at: float = 0.0  # wall-clock seconds
    last_restart_at: float = 0.0  # wall-clock seconds, serving again
    last_restart_s: float = 0.0  # death seen -> serving again
    last_error: str = ""
