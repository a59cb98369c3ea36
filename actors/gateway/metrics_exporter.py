"""The gateway's Prometheus endpoint: ``https://{metrics address}/metrics``.

Served by :class:`actors.gateway.metrics_server.MetricsServer`: HTTPS with a client
certificate from our CA required, a revoked one refused, like every other port (issue
#13); Prometheus scrapes with ``tls_config`` (ca_file, cert_file, key_file). Plain HTTP
only when the cluster runs ``insecure``.

A dedicated ``CollectorRegistry`` per gateway (never prometheus_client's global one: two
gateways in one process, as in tests, must not clash) with one custom collector
(:class:`SnapshotCollector`), which gathers a fresh
:class:`~actors.gateway.metrics_snapshot.Snapshot` at each scrape. The server serves HTTP
from a thread of its own; the collector hands the gathering to the gateway's event loop
(the etcd client and the Ray handles belong to it) and waits at most the scrape budget
for it.

Every figure is cluster-wide (each gateway reports the same regions, centres and etcd
members), so a scrape of either gateway is enough; the alert rules take ``max`` or
``min`` by their own labels and so do not fire twice. Label ``centre_instance``, not
``instance``: Prometheus sets ``instance`` on every scraped series itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from actors.domain import kpi
from actors.gateway.metrics_snapshot import SOURCES, Snapshot
from cluster.histogram import HistogramSnapshot

log = structlog.get_logger("amk.metrics")


def _gauge(name: str, doc: str, labels: list[str], unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels, unit=unit)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _histogram(family: HistogramMetricFamily, labels: list[str], h: HistogramSnapshot) -> None:
    family.add_metric(labels, [(_le(b), float(n)) for b, n in h.cumulative()], h.sum)


def region_families(snap: Snapshot) -> Iterator[Metric]:
    """Owner, fencing token, ownerless time and last takeover of each region."""
    if not snap.sources.get("regions"):
        return
    owned = _gauge("amk_region_owned", "1 while a centre owns the region, else 0", ["region"])
    info = _gauge(
        "amk_region_owner_info",
        "The region's owner (always 1; the owner is in the labels)",
        ["region", "centre", "centre_instance"],
    )
    token = _gauge(
        "amk_region_fencing_token",
        "Fencing token of the region's owner (the owner key's mod revision)",
        ["region"],
    )
    ownerless = _gauge(
        "amk_region_ownerless_seconds",
        "How long the region has been without an owner (0 while owned)",
        ["region"],
    )
    took_age = _gauge(
        "amk_region_last_takeover_age_seconds",
        "Seconds since the region's last takeover (regions/{r}/takeover)",
        ["region"],
    )
    took_s = _gauge(
        "amk_region_last_takeover_duration_seconds",
        "How long the last takeover took, from the owner seen gone to the region loaded",
        ["region"],
    )
    for region in snap.regions:
        owner = snap.owners.get(region)
        owned.add_metric([region], 1.0 if owner else 0.0)
        ownerless.add_metric([region], snap.ownerless_s.get(region, 0.0))
        if owner is not None:
            info.add_metric([region, owner.record.centre, owner.record.instance], 1.0)
            token.add_metric([region], float(owner.token))
        took = snap.takeovers.get(region)
        if took is not None:
            took_age.add_metric([region], max(0.0, snap.at - took.at))
            took_s.add_metric([region], took.duration_ms / 1000.0)
    yield from (owned, info, token, ownerless, took_age, took_s)


def call_families(snap: Snapshot, window_s: float) -> Iterator[Metric]:
    """Calls waiting, and answer times over the window against the 10 s / 90 % target."""
    if not snap.sources.get("calls"):
        return
    window = f"calls that arrived in the last {window_s:g} s"
    waiting = _gauge("amk_calls_waiting", "113 calls waiting for an answer now", ["region"])
    quantiles = _gauge(
        "amk_answer_time_seconds",
        f"113 answer time, nearest-rank percentile of the {window}",
        ["region", "quantile"],
    )
    answered = _gauge("amk_answer_window_calls", f"Answered {window}", ["region"])
    share = _gauge(
        "amk_answer_within_target_ratio",
        f"Share of the answered {window} answered within the target time",
        ["region"],
    )
    target_ratio = _gauge(
        "amk_answer_target_ratio", "Share that should be answered within target", ["region"]
    )
    target_s = _gauge(
        "amk_answer_target_seconds", "Answer-time target (akuttmedisinforskriften)", ["region"]
    )
    late = _gauge(
        "amk_answer_unanswered_after_limit_calls",
        f"Of the {window}: answered after 20 s or still waiting beyond it",
        ["region"],
    )
    for region in snap.regions:
        if region not in snap.waiting:
            continue  # no 113 queue (an AMK-LA region): no answer figures, not zeros
        waiting.add_metric([region], float(snap.waiting[region]))
        target_ratio.add_metric([region], kpi.TARGET_ANSWER.share)
        target_s.add_metric([region], kpi.TARGET_ANSWER.seconds)
        a = snap.answers.get(region)
        answered.add_metric([region], float(a.answered if a else 0))
        late.add_metric([region], float(a.unanswered_after_limit if a else 0))
        if a is None or a.share_within_target is None:
            continue  # nothing answered in the window: no share to report
        share.add_metric([region], a.share_within_target)
        for q, seconds in a.quantiles.items():
            quantiles.add_metric([region, f"{q:g}"], seconds)
    yield from (waiting, quantiles, answered, share, target_ratio, target_s, late)


def centre_families(snap: Snapshot) -> Iterator[Metric]:
    """Each centre: whether it answered, its commit latency and writes per commit."""
    if not snap.sources.get("centres"):
        return
    up = _gauge("amk_centre_up", "1 when the centre answered its status in time", ["centre"])
    latency = HistogramMetricFamily(
        "amk_centre_commit_latency_seconds",
        "etcd transaction latency of the centre's fenced store (group commit)",
        labels=["centre"],
    )
    batch = HistogramMetricFamily(
        "amk_centre_commit_batch_writes",
        "Writes (accepted commands) per etcd transaction of the centre's fenced store",
        labels=["centre"],
    )
    for centre, status in snap.centres.items():
        up.add_metric([centre], 0.0 if status is None else 1.0)
        if status is None:
            continue
        if status.commit_latency is not None:
            _histogram(latency, [centre], status.commit_latency)
        if status.batch_size is not None:
            _histogram(batch, [centre], status.batch_size)
    yield from (up, latency, batch)


def alert_families(snap: Snapshot) -> Iterator[Metric]:
    """Open alerts to other services, from each centre's regions: how many per region,
    service, recipient and state, and how long the oldest has been so
    (``actors/domain/alert_gauges``). A series is absent where nothing is open, for
    the regions of a centre that did not answer (``amk_centre_up`` says which), and
    where no answering centre holds the region's current token (:func:`_speakers`)."""
    if not snap.sources.get("centres"):
        return
    labels = ["region", "service", "recipient", "state"]
    count = _gauge(
        "amk_alerts_open",
        "Alerts to other services still open: waiting for an acknowledgement, escalated "
        "(none in time), or owed (a pre-notification document the hospital lacks)",
        labels,
    )
    oldest = _gauge(
        "amk_alert_oldest_open_seconds",
        "How long the oldest open alert of the region, service, recipient and state has been so",
        labels,
    )
    speaker = _speakers(snap)
    for centre, status in snap.centres.items():
        for g in status.alerts if status is not None else ():
            if speaker.get(g.region) != centre:
                continue
            count.add_metric([g.region, g.service, g.recipient, g.state], float(g.count))
            oldest.add_metric([g.region, g.service, g.recipient, g.state], g.oldest_s)
    yield from (count, oldest)


def _speakers(snap: Snapshot) -> dict[str, str]:
    """The centre whose alert counts stand for each region: the one reporting the
    region's highest token, unless etcd already names a newer owner.

    A region is hosted by one centre, but in a takeover's instant the deposed one may
    still report it: a series twice fails the scrape, and a stale one outlives the
    alerts it counts. So a report whose token is below the owner key's (as this scrape
    read it, when the region source answered) speaks for nobody: a new holder that did
    not answer leaves the region's series absent (``amk_centre_up`` says why), not its
    predecessor's. An ownerless region's series are absent too. A report above the
    key's token is newer than the scrape's read and speaks; one equal to it speaks only
    from the centre the key names (after an etcd restore a token may be issued again,
    ``cluster/ownership.py``)."""

    def rank(region: str, token: int, centre: str) -> tuple[int, bool]:
        owner = snap.owners.get(region)  # among equal tokens, the centre the key names
        return token, owner is not None and owner.record.centre == centre

    best: dict[str, tuple[int, str]] = {}
    for centre, status in snap.centres.items():
        for region, token in (status.regions if status is not None else {}).items():
            held = best.get(region)
            if held is None or rank(region, token, centre) > rank(region, *held):
                best[region] = (token, centre)
    if not snap.sources.get("regions"):
        return {region: centre for region, (_, centre) in best.items()}
    out = {}
    for region, (token, centre) in best.items():
        owner = snap.owners.get(region)
        if owner is None or token < owner.token:
            continue
        if token > owner.token or owner.record.centre == centre:
            out[region] = centre
    return out


def etcd_families(snap: Snapshot) -> Iterator[Metric]:
    """Each etcd member's database size and live data against the quota."""
    if not snap.sources.get("etcd"):
        return
    up = _gauge("amk_etcd_member_up", "1 when the member answered its status", ["endpoint"])
    size = _gauge(
        "amk_etcd_db_size_bytes", "Size of the member's backend database file", ["endpoint"]
    )
    in_use = _gauge(
        "amk_etcd_db_size_in_use_bytes",
        "Live data in the member's database (a defragment returns the rest)",
        ["endpoint"],
    )
    quota = _gauge(
        "amk_etcd_quota_bytes",
        "Backend quota (ClusterConfig.etcd_quota_bytes): at it etcd refuses writes",
        ["endpoint"],
    )
    for m in snap.etcd:
        up.add_metric([m.endpoint], 0.0 if m.error else 1.0)
        quota.add_metric([m.endpoint], float(snap.quota_bytes))
        if not m.error:
            size.add_metric([m.endpoint], float(m.db_size_bytes))
            in_use.add_metric([m.endpoint], float(m.db_size_in_use_bytes))
    yield from (up, size, in_use, quota)


def archive_families(snap: Snapshot) -> Iterator[Metric]:
    """The archiver's progress; a region it has not reported is absent."""
    if not snap.sources.get("archive"):
        return
    age = _gauge(
        "amk_archive_last_pass_age_seconds", "Seconds since the archiver's last pass", ["region"]
    )
    lag = _gauge(
        "amk_archive_lag_seconds",
        "How long the oldest closed record still in etcd is overdue for the archive",
        ["region"],
    )
    for region, a in snap.archive.items():
        age.add_metric([region], a.last_pass_age_s)
        lag.add_metric([region], a.lag_s)
    yield from (age, lag)


def security_families(snap: Snapshot) -> Iterator[Metric]:
    """This gateway's revoked-certificate list, and the access log's review (Normen)."""
    state = snap.revocations
    if state is not None:
        labels = [state.gateway]
        loaded = _gauge(
            "amk_revocations_loaded",
            "1 once this gateway has read the revoked-certificate list",
            ["gateway"],
        )
        loaded.add_metric(labels, 1.0 if state.loaded else 0.0)
        age = _gauge(
            "amk_revocations_read_age_seconds",
            "Seconds since this gateway last read the revoked-certificate list (since it "
            "started, if never): a certificate revoked meanwhile elsewhere is taken here",
            ["gateway"],
        )
        age.add_metric(labels, state.read_age_s)
        known = _gauge(
            "amk_revoked_certificates",
            "Revoked client certificates this gateway refuses",
            ["gateway"],
        )
        known.add_metric(labels, float(state.known))
        yield from (loaded, age, known)
    if snap.certificates:
        expiry = _gauge(
            "amk_tls_certificate_expiry_timestamp_seconds",
            "When a certificate this gateway loaded stops being valid (Unix time; it serves"
            " with it until it restarts)",
            ["gateway", "identity"],
        )
        gateway = state.gateway if state is not None else ""
        for identity, at in sorted(snap.certificates.items()):
            expiry.add_metric([gateway, identity], at)
        yield expiry
    if snap.sources.get("review") and snap.review is not None:
        overdue = _gauge(
            "amk_access_review_overdue", "1 when the access log's periodic review is overdue", []
        )
        overdue.add_metric([], 1.0 if snap.review.overdue else 0.0)
        yield overdue
        if snap.review.due_at is not None:  # nothing logged nor reviewed: no date
            due = _gauge(
                "amk_access_review_due_timestamp_seconds",
                "When the access log's next periodic review is due (Unix time)",
                [],
            )
            due.add_metric([], snap.review.due_at)
            yield due


def scrape_families(snap: Snapshot | None) -> Iterator[Metric]:
    """Which sources this scrape could read (absent figures are then explained)."""
    up = _gauge("amk_scrape_source_up", "1 when the scrape read this source", ["source"])
    for source in SOURCES:
        up.add_metric([source], 1.0 if snap is not None and snap.sources.get(source) else 0.0)
    yield up
    if snap is not None:
        took = _gauge("amk_scrape_duration_seconds", "How long gathering this scrape took", [])
        took.add_metric([], snap.duration_s)
        yield took


def families(snap: Snapshot, window_s: float) -> Iterator[Metric]:
    """Every metric family of one snapshot."""
    yield from region_families(snap)
    yield from call_families(snap, window_s)
    yield from centre_families(snap)
    yield from alert_families(snap)
    yield from etcd_families(snap)
    yield from archive_families(snap)
    yield from security_families(snap)
    yield from scrape_families(snap)


class SnapshotCollector(Collector):
    """Gathers a snapshot on the gateway's loop at each scrape (called from the HTTP
    server's thread) and turns it into metric families."""

    def __init__(
        self,
        read: Callable[[], Awaitable[Snapshot]],
        loop: asyncio.AbstractEventLoop,
        *,
        timeout_s: float,
        window_s: float,
    ) -> None:
        self.read = read
        self.loop = loop
        self.timeout_s = timeout_s
        self.window_s = window_s

    def collect(self) -> Iterator[Metric]:
        fut = asyncio.run_coroutine_threadsafe(self.read(), self.loop)  # type: ignore[arg-type]
        try:
            # Each source is bounded by timeout_s already; the margin covers the loop
            # being busy. Past it the scrape says so instead of hanging.
            snap = fut.result(timeout=self.timeout_s + 1.0)
        except (concurrent.futures.TimeoutError, RuntimeError) as exc:
            fut.cancel()
            log.warning("metrics_scrape_failed", error=repr(exc))
            yield from scrape_families(None)
            return
        yield from families(snap, self.window_s)
