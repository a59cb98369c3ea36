"""Typed records a centre hands across actor boundaries (status, takeovers).

Frozen dataclasses rather than string-keyed dicts: a gateway, the supervisor, a drill
and a test all read the same fields, and a renamed field fails at the reader's line
instead of as a ``KeyError`` at run time in another process.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from actors.domain.alert_gauges import AlertGauge
from cluster.histogram import HistogramSnapshot


@dataclass(frozen=True, slots=True)
class CallTakerCounts:
    """Call-takers signed in at a centre, and how many of them are free."""

    signed_in: int = 0
    free: int = 0


@dataclass(frozen=True, slots=True)
class ArchivePass:
    """The archiver's last pass over one region this centre serves (kept in memory and
    reported in the centre's status: bookkeeping is no reason to write to etcd)."""

    region: str
    at: float
    oldest_live_closed_at: float | None  # the oldest closed incident still in etcd
    hold_s: float
    moved: dict[str, int]


@dataclass(frozen=True, slots=True)
class Takeover:
    """One region taken over: stored at ``regions/{r}/takeover`` and kept in memory."""

    region: str
    centre: str
    instance: str
    token: int
    previous: str
    at: float
    duration_ms: float
    incidents: int
    units: int
    # Handed over by its holder (a supervisor's hand-over or hand-back, an automatic
    # hand-back) rather than claimed once the holder's lease was gone (a failover, or
    # the first claim). A supervisor reading the owners wants to know which: one was
    # planned, the other means a centre was lost. Records written before this field
    # existed read as claimed.
    handed: bool = False

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Takeover:
        """The record; a field written by a newer version is ignored, not an error."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in json.loads(raw).items() if k in known})

    def describe(self) -> str:
        if self.handed:
            took = f"was handed it by {self.previous}"
        elif self.previous:
            took = f"took over from {self.previous}"
        else:
            took = "claimed it first"
        return f"{self.centre} {took} at token {self.token} in {self.duration_ms} ms"


@dataclass(frozen=True, slots=True)
class Ping:
    """A centre's answer to the supervisor's liveness probe: who answered and which
    regions it holds at which fencing token. Built from memory only (no etcd, no
    session call) on the actor's probe thread, so its latency is the Ray call and the
    process being scheduled at all, which is exactly what a hang (SIGSTOP) stops."""

    instance: str
    regions: dict[str, int]  # region -> fencing token held
    # Where it runs, so a probe on the same host can read the kernel's scheduler
    # statistics of a centre that stops answering (cluster/starvation.py).
    pid: int = 0
    host: str = ""  # the host's boot id and the process's pid namespace


@dataclass(frozen=True, slots=True)
class CentreStatus:
    """What a centre instance reports about itself (``CentreHandle.status``)."""

    id: str
    name: str
    instance: str
    node_id: str
    pid: int
    lease_id: int
    lease_ttl_s: int
    lease_valid_for_s: float
    regions: dict[str, int]  # region -> fencing token held
    counts: dict[str, tuple[int, int]]  # region -> (incidents, units) hosted
    region_states: dict[str, str] = field(default_factory=dict)
    store: dict[str, int] = field(default_factory=dict)
    takeovers: tuple[Takeover, ...] = ()
    call_takers: CallTakerCounts = CallTakerCounts()
    archive: dict[str, ArchivePass] = field(default_factory=dict)  # region -> last pass
    # The store's etcd transactions since this instance started: seconds per commit and
    # writes per commit (None before the store opened).
    commit_latency: HistogramSnapshot | None = None
    batch_size: HistogramSnapshot | None = None
    address: str = ""  # the instance's command link (gRPC), for owner records naming it
    alerts: tuple[AlertGauge, ...] = ()  # open alerts of its regions (alert_gauges)
