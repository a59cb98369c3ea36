"""What one Prometheus scrape of a gateway reports, gathered fresh at scrape time.

Each source is read at once and bounded on its own (``metrics_scrape_timeout_s``), so a
slow centre or an etcd member that does not answer loses its own figures and marks its
source down, never the whole scrape:

- ``regions``: one range read of ``regions/`` (owner and takeover keys of every region);
- ``calls``: the live calls (``calls/``): waiting now, answer times over the window;
- ``centres``: each centre's ``CentreStatus`` (commit latency, writes per commit), the
  same call ``amk status`` makes, each bounded by ``status_timeout_s``;
- ``etcd``: each member's Maintenance Status (database size against the quota);
- ``archive``: the archivers' last passes, from the centres' statuses;
- ``review``: when the access log's periodic review is due (the archive database).

This gateway's own revoked-certificate list (loaded, how many, how long since it was
read) is read from memory, no source of its own: it cannot fail.

How long a region has been without an owner comes from the gateway's directory, which
sees the owner key go in its watch (:class:`OwnerlessClock`): a single scrape can then
tell a gap over one second, whatever the scrape interval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from actors.centre.records import ArchivePass, CentreStatus, Takeover
from actors.domain import access_review, kpi
from actors.domain import response_time as rt
from actors.domain.model import Call, CallStatus
from actors.gateway.context import GatewayContext
from actors.gateway.directory import Directory
from cluster.etcd import MemberStatus
from cluster.ownership import Owner

log = structlog.get_logger("amk.metrics")

T = TypeVar("T")

SOURCES = ("regions", "calls", "centres", "etcd", "archive", "review")
QUANTILES = (0.5, 0.9, 0.99)
REVIEWS_READ = 100  # signed-off reviews read for the latest period covered (as the RPC)


@dataclass(frozen=True, slots=True)
class AnswerWindow:
    """One region's 113 answer times over the recent window (``actors.domain.kpi``:
    nearest-rank percentiles, within target means ``<= 10 s``)."""

    answered: int
    quantiles: dict[float, float]  # empty when nothing was answered
    share_within_target: float | None  # None when nothing was answered
    unanswered_after_limit: int  # answered after 20 s, or waiting beyond it


@dataclass(frozen=True, slots=True)
class ArchiveLag:
    """The archiver's last pass over a region, as seen now."""

    last_pass_age_s: float
    lag_s: float  # how far behind its hold the oldest closed record still live is


@dataclass(slots=True)
class Snapshot:
    """Everything one scrape exports; a source that failed leaves its part empty and
    ``sources[name]`` False (absent figures, never invented ones)."""

    at: float
    regions: list[str]
    sources: dict[str, bool] = field(default_factory=dict)
    owners: dict[str, Owner] = field(default_factory=dict)
    ownerless_s: dict[str, float] = field(default_factory=dict)
    takeovers: dict[str, Takeover] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    answers: dict[str, AnswerWindow] = field(default_factory=dict)
    centres: dict[str, CentreStatus | None] = field(default_factory=dict)  # None: no answer
    etcd: list[MemberStatus] = field(default_factory=list)
    quota_bytes: int = 0
    archive: dict[str, ArchiveLag] = field(default_factory=dict)
    revocations: RevocationState | None = None
    certificates: dict[str, float] = field(default_factory=dict)  # identity -> expiry
    review: ReviewDue | None = None
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RevocationState:
    """This gateway's revoked-certificate list (``actors.gateway.revocations``)."""

    gateway: str
    loaded: bool
    known: int
    read_age_s: float


@dataclass(frozen=True, slots=True)
class ReviewDue:
    """When the access log's next periodic review is due (``access_review.due``)."""

    due_at: float | None  # None: nothing logged nor reviewed yet (not due; no date to show)
    overdue: bool


# ---------------------------------------------------------------- pure figures


def answer_windows(
    calls: Iterable[Call], *, now: float, window_s: float
) -> dict[str, AnswerWindow]:
    """Per region with a call in the window: answer-time figures of the calls that
    arrived in the last ``window_s`` seconds, by the KPI report's definitions."""
    out = {}
    for region, counts in rt.answer_counts(calls, now=now, since=now - window_s).items():
        waits = counts.waits
        out[region] = AnswerWindow(
            answered=len(waits),
            quantiles={q: kpi.percentile(waits, q * 100) for q in QUANTILES} if waits else {},
            share_within_target=(
                kpi.share_within(waits, kpi.TARGET_ANSWER.seconds) if waits else None
            ),
            unanswered_after_limit=counts.unanswered_after_limit,
        )
    return out


def archive_lag(last: ArchivePass, now: float) -> ArchiveLag:
    """Figures from one archive pass: its age, and ``max(0, now - hold_s -
    oldest_live_closed_at)`` (0 with nothing closed left)."""
    oldest = last.oldest_live_closed_at
    lag = 0.0 if oldest is None else max(0.0, now - last.hold_s - oldest)
    return ArchiveLag(last_pass_age_s=max(0.0, now - last.at), lag_s=lag)


def archive_lags(statuses: Iterable[CentreStatus | None], now: float) -> dict[str, ArchiveLag]:
    """Per region, the lag from the newest pass any centre reports (after a takeover
    the old owner may still report its last pass over the region: the newer wins)."""
    newest: dict[str, ArchivePass] = {}
    for status in statuses:
        for region, last in (status.archive if status is not None else {}).items():
            if region not in newest or last.at > newest[region].at:
                newest[region] = last
    return {region: archive_lag(last, now) for region, last in newest.items()}


# ---------------------------------------------------------------- ownerless time


class OwnerlessClock:
    """Since when each region has been without an owner, as the directory's watch saw
    it. A region already ownerless when the gateway started counts from then (a lower
    bound: the gap began before anyone here could see it)."""

    def __init__(self, directory: Directory, regions: Iterable[str]) -> None:
        now = time.time()
        self.vacant_since: dict[str, float] = {
            r: now for r in regions if directory.owner(r) is None
        }
        directory.listeners.append(self._on_change)

    def _on_change(self, region: str, owner: Owner | None) -> None:
        if owner is None:
            self.vacant_since.setdefault(region, time.time())
        else:
            self.vacant_since.pop(region, None)

    def ownerless_for(self, region: str, now: float) -> float:
        since = self.vacant_since.get(region)
        return 0.0 if since is None else max(0.0, now - since)


# ---------------------------------------------------------------- gathering


class SnapshotReader:
    """Gathers a :class:`Snapshot` for the gateway ``gw`` (on the gateway's loop)."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw
        self.regions = gw.config.region_ids()
        self.clock = OwnerlessClock(gw.directory, self.regions)

    async def read(self) -> Snapshot:
        started = time.monotonic()
        snap = Snapshot(at=time.time(), regions=self.regions)
        results = await asyncio.gather(
            self._bounded(self._regions(snap)),
            self._bounded(self._calls(snap)),
            self._bounded(self._centres(snap)),
            self._bounded(self._etcd(snap)),
            self._bounded(self._review(snap)),
        )
        read = [s for s in SOURCES if s != "archive"]  # in the order gathered above
        snap.sources = dict(zip(read, results, strict=True))
        # The archivers report in their centres' statuses (read above).
        snap.sources["archive"] = snap.sources["centres"]
        revocations = self.gw.revocations
        snap.revocations = RevocationState(
            self.gw.address,
            revocations.loaded,
            len(revocations.by_serial),
            revocations.read_age_s(snap.at),
        )
        snap.certificates = self.gw.certificates  # read at start, never changed
        snap.archive = archive_lags(snap.centres.values(), snap.at)
        # Ownerless time only where the etcd read itself says nobody owns the region.
        if snap.sources["regions"]:
            snap.ownerless_s = {
                r: 0.0 if r in snap.owners else self.clock.ownerless_for(r, snap.at)
                for r in self.regions
            }
        snap.duration_s = time.monotonic() - started
        return snap

    async def _bounded(self, part: Awaitable[Any]) -> bool:
        """Run one source within the scrape's budget; False (logged) when it failed."""
        try:
            await asyncio.wait_for(part, self.gw.config.metrics_scrape_timeout_s)
        except Exception as exc:  # a scrape reports what it could read: never fails whole
            log.warning("metrics_source_failed", error=repr(exc))
            return False
        return True

    async def _regions(self, snap: Snapshot) -> None:
        keys = self.gw.keys
        kvs, _ = await self.gw.client.get_prefix(keys.regions_prefix(), timeout_s=self._etcd_s)
        for kv in kvs:
            parsed = keys.parse(kv.key)
            if parsed is None or parsed[1] not in self.regions:
                continue
            _, region, what = parsed
            if what == "owner":
                snap.owners[region] = Owner.of(region, kv.value, kv.mod_revision)
            elif what == "takeover":
                snap.takeovers[region] = Takeover.decode(kv.value)

    async def _calls(self, snap: Snapshot) -> None:
        kvs, _ = await self.gw.client.get_prefix(
            self.gw.keys.calls_prefix(), timeout_s=self._etcd_s
        )
        calls = [Call.decode(kv.value, kv.mod_revision) for kv in kvs]
        # Calls queue only in regions with an area (an AMK-LA region has no 113 queue).
        snap.waiting = {r: 0 for r in self.gw.config.area_region_ids()}
        for c in calls:
            if c.status is CallStatus.WAITING and c.region in snap.waiting:
                snap.waiting[c.region] += 1
        window = self.gw.config.metrics_answer_window_s
        snap.answers = answer_windows(calls, now=snap.at, window_s=window)

    async def _centres(self, snap: Snapshot) -> None:
        config = self.gw.config
        timeout_s = min(config.status_timeout_s, config.metrics_scrape_timeout_s)
        ids = config.centre_ids()
        results = await asyncio.gather(
            *(self.gw.router.centre(c).status(timeout_s=timeout_s) for c in ids),
            return_exceptions=True,
        )
        for centre, res in zip(ids, results, strict=True):
            snap.centres[centre] = None if isinstance(res, BaseException) else res

    async def _review(self, snap: Snapshot) -> None:
        # Shielded: the first scrape may be what opens (and migrates) the archive; cut
        # off by the scrape's budget, a second opening would start beside the first.
        store = await asyncio.shield(self.gw.history.archive())
        rows = await asyncio.to_thread(store.access_reviews, REVIEWS_READ)
        covered = max((r.period_to for r in rows), default=None)
        since = None if covered is not None else await asyncio.to_thread(store.access_logged_since)
        interval = self.gw.config.access_review_interval_days
        due_at, overdue = access_review.due(covered, interval, snap.at, since)
        snap.review = ReviewDue(
            due_at if covered is not None or since is not None else None, overdue
        )

    async def _etcd(self, snap: Snapshot) -> None:
        snap.quota_bytes = self.gw.config.etcd_quota_bytes
        snap.etcd = await self.gw.client.member_status(timeout_s=self._etcd_s)

    @property
    def _etcd_s(self) -> float:
        """Each etcd read's deadline: within the scrape's budget."""
        return min(1.0, self.gw.config.metrics_scrape_timeout_s)
