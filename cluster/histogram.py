"""A fixed-bucket histogram cheap enough for the commit path, and its snapshot.

The fenced store observes every etcd transaction (its latency, how many writes it
carried). That path is the cluster's throughput limit, so an observation is one
``bisect`` and three additions: no lock (a centre's store runs on one event loop), no
allocation, no dependency on a metrics library (``cluster/`` stays free of it; the
gateway's exporter turns a :class:`HistogramSnapshot` into Prometheus's form).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

#: etcd transaction latency on the 2-core machine is a few milliseconds; the upper
#: buckets catch a slow disk or a member failing over.
COMMIT_LATENCY_BOUNDS_S: tuple[float, ...] = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
)
#: Writes per transaction: group commit stays under etcd's 128 operations.
BATCH_SIZE_BOUNDS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    """Counts per bucket (not cumulative; the last one is above every bound), their
    sum and count, as they were when taken. Crosses actor boundaries in ``CentreStatus``."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float
    count: int

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, observations <= it)`` per bucket, ending with ``inf``: the
        shape of a Prometheus histogram."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


class Histogram:
    """Observations counted into fixed buckets (``value <= bound``, Prometheus's ``le``)."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError("histogram bounds must be strictly increasing")
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def snapshot(self) -> HistogramSnapshot:
        return HistogramSnapshot(self.bounds, tuple(self.counts), self.sum, self.count)


class StoreMetrics:
    """What a :class:`~cluster.store.FencedStore` measures. Owned by the centre, not the
    store, so the counts survive a store rebuilt after a session renewal (a counter that
    went back to zero would read as a restart)."""

    __slots__ = ("batch_size", "commit_latency")

    def __init__(self) -> None:
        self.commit_latency = Histogram(COMMIT_LATENCY_BOUNDS_S)
        self.batch_size = Histogram(BATCH_SIZE_BOUNDS)
