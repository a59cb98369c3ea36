"""The pieces of the gateway's Prometheus endpoint that need no cluster: the commit
histogram, the answer-time window, archive lag, ownerless time, the exposition of a
snapshot, the metrics addresses, and the etcd warning of ``amk status``."""

from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from rich.console import Console

from actors.centre.records import ArchivePass, CentreStatus
from actors.domain.model import Call, CallStatus, Position
from actors.gateway.metrics_exporter import families
from actors.gateway.metrics_server import MetricsServer
from actors.gateway.metrics_snapshot import (
    SOURCES,
    OwnerlessClock,
    ReviewDue,
    RevocationState,
    Snapshot,
    answer_windows,
    archive_lag,
    archive_lags,
)
from actors.gateway.revocations import Revocations
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.render import cluster_status_renderable, etcd_warnings, format_bytes
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.etcd import MemberStatus
from cluster.etcd_server import find_free_port
from cluster.histogram import Histogram, StoreMetrics
from cluster.ownership import Owner, OwnerRecord
from cluster.pki import LocalCa
from tests.helpers import scrape_metrics

HERE = Position(59.91, 10.75)
GIB = 1024**3


# ---------------------------------------------------------------- histogram


def test_histogram_counts_a_value_equal_to_a_bound_in_that_bucket() -> None:
    h = Histogram((0.01, 0.1))
    for v in (0.005, 0.01, 0.05, 0.1, 3.0):
        h.observe(v)
    snap = h.snapshot()
    assert snap.counts == (2, 2, 1)
    assert snap.cumulative() == [(0.01, 2), (0.1, 4), (float("inf"), 5)]
    assert snap.count == 5 and snap.sum == pytest.approx(3.165)


def test_histogram_refuses_unordered_bounds() -> None:
    with pytest.raises(ValueError):
        Histogram((0.1, 0.01))


# ---------------------------------------------------------------- answer window, archive


def call(cid: str, arrived: float, answered: float = 0.0, region: str = "oslo") -> Call:
    status = CallStatus.ANSWERED if answered else CallStatus.WAITING
    return Call(cid, region, "", HERE, arrived, status=status, answered_at=answered)


def test_answer_window_keeps_recent_calls_and_uses_the_kpi_definitions() -> None:
    now = 10_000.0
    calls = [call(f"c{i}", now - 100, now - 100 + wait) for i, wait in enumerate(range(1, 11))]
    calls.append(call("old", now - 2000, now - 1999))  # before the window: not counted
    calls.append(call("late", now - 30))  # waiting 30 s: unanswered after 20 s
    figures = answer_windows(calls, now=now, window_s=900)
    oslo = figures["oslo"]
    assert oslo.answered == 10
    # Nearest rank: p50 of 1..10 is 5, p90 the 9th, p99 the 10th; 10 s is within 10 s.
    assert oslo.quantiles == {0.5: 5.0, 0.9: 9.0, 0.99: 10.0}
    assert oslo.share_within_target == 1.0
    assert oslo.unanswered_after_limit == 1


def test_answer_window_with_nothing_answered_reports_no_share() -> None:
    figures = answer_windows([call("w", 95.0)], now=100.0, window_s=900)
    assert figures["oslo"].answered == 0
    assert figures["oslo"].share_within_target is None and figures["oslo"].quantiles == {}


def status_with(**fields) -> CentreStatus:
    """A centre's status with only what a test looks at."""
    base = dict(
        id="oslo",
        name="AMK Oslo",
        instance="oslo-1",
        node_id="n",
        pid=1,
        lease_id=1,
        lease_ttl_s=2,
        lease_valid_for_s=1.0,
        regions={},
        counts={},
    )
    return CentreStatus(**{**base, **fields})


def test_archive_lag_from_the_last_pass() -> None:
    last = ArchivePass("oslo", 990.0, 100.0, 600.0, {"calls": 3})
    lag = archive_lag(last, now=1000.0)
    assert lag.last_pass_age_s == 10.0
    assert lag.lag_s == 300.0  # 1000 - 600 - 100
    fresh = ArchivePass("oslo", 990.0, 900.0, 600.0, {})
    assert archive_lag(fresh, now=1000.0).lag_s == 0.0  # not yet due
    nothing = ArchivePass("oslo", 990.0, None, 600.0, {})
    assert archive_lag(nothing, now=1000.0).lag_s == 0.0


def test_archive_lags_take_the_newest_pass_of_any_centre() -> None:
    old_owner = ArchivePass("oslo", 900.0, 100.0, 600.0, {})
    new_owner = ArchivePass("oslo", 990.0, None, 600.0, {})
    statuses = [status_with(archive={"oslo": old_owner}), None]
    statuses.append(status_with(archive={"oslo": new_owner}))
    lags = archive_lags(statuses, now=1000.0)
    assert lags == {"oslo": archive_lag(new_owner, 1000.0)}


class FakeDirectory:
    def __init__(self, owned: set[str]) -> None:
        self.owned = owned
        self.listeners: list = []

    def owner(self, region: str) -> object | None:
        return object() if region in self.owned else None


def test_ownerless_clock_counts_from_the_owner_key_going() -> None:
    directory = FakeDirectory({"oslo"})
    clock = OwnerlessClock(directory, ["oslo", "innlandet"])  # type: ignore[arg-type]
    start = clock.vacant_since["innlandet"]  # ownerless when the gateway started
    assert clock.ownerless_for("oslo", start + 5) == 0.0
    assert clock.ownerless_for("innlandet", start + 5) == 5.0
    (listener,) = directory.listeners
    listener("oslo", None)
    gone = clock.vacant_since["oslo"]
    assert clock.ownerless_for("oslo", gone + 2.5) == 2.5
    listener("oslo", None)  # a second delete does not restart the clock
    assert clock.vacant_since["oslo"] == gone
    listener("oslo", object())
    assert clock.ownerless_for("oslo", gone + 9) == 0.0


# ---------------------------------------------------------------- exposition


def snapshot() -> Snapshot:
    metrics = StoreMetrics()
    metrics.commit_latency.observe(0.004)
    metrics.batch_size.observe(7)
    status = CentreStatus(
        id="oslo",
        name="AMK Oslo",
        instance="oslo-1",
        node_id="n",
        pid=1,
        lease_id=1,
        lease_ttl_s=2,
        lease_valid_for_s=1.0,
        regions={"oslo": 41},
        counts={},
        commit_latency=metrics.commit_latency.snapshot(),
        batch_size=metrics.batch_size.snapshot(),
    )
    snap = Snapshot(at=1000.0, regions=["oslo", "innlandet"])
    snap.sources = dict.fromkeys(SOURCES, True)
    snap.owners = {"oslo": Owner.of("oslo", OwnerRecord("oslo", "oslo-1", 7, 900.0).encode(), 41)}
    snap.ownerless_s = {"oslo": 0.0, "innlandet": 3.0}
    snap.waiting = {"oslo": 2, "innlandet": 0}
    snap.answers = answer_windows([call("a", 900.0, 904.0)], now=1000.0, window_s=900)
    snap.centres = {"oslo": status, "innlandet": None}
    snap.etcd = [MemberStatus("127.0.0.1:2379", 1, 5 * 1024**2, 4 * 1024**2, True)]
    snap.quota_bytes = 4 * GIB
    snap.archive = {"oslo": archive_lag(ArchivePass("oslo", 990.0, None, 600.0, {}), 1000.0)}
    snap.revocations = RevocationState("127.0.0.1:50051", True, 2, 1.5)
    snap.certificates = {"service": 2_000_000.0, "ca": 9_000_000.0}
    snap.review = ReviewDue(due_at=900.0, overdue=True)
    return snap


class Fixed(Collector):
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        yield from families(self.snap, 900.0)


def exposition(snap: Snapshot) -> dict[str, list]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed(snap))
    text = generate_latest(registry).decode()
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    found = [s.value for s in samples[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


def test_a_region_without_a_113_queue_has_owner_figures_and_no_call_figures() -> None:
    snap = snapshot()
    snap.regions = [*snap.regions, "luftambulanse-hso"]  # AMK-LA: owned, no calls
    snap.owners["luftambulanse-hso"] = Owner.of(
        "luftambulanse-hso", OwnerRecord("oslo", "oslo-1", 7, 900.0).encode(), 44
    )
    got = exposition(snap)
    assert value(got, "amk_region_owned", region="luftambulanse-hso") == 1
    assert value(got, "amk_region_fencing_token", region="luftambulanse-hso") == 44
    for name in ("amk_calls_waiting", "amk_answer_target_ratio", "amk_answer_window_calls"):
        assert [s.labels["region"] for s in got[name]] == ["oslo", "innlandet"], name


def test_snapshot_exposition_has_each_figure_and_invents_none() -> None:
    got = exposition(snapshot())
    assert value(got, "amk_region_owned", region="oslo") == 1
    assert value(got, "amk_region_owned", region="innlandet") == 0
    assert value(got, "amk_region_ownerless_seconds", region="innlandet") == 3.0
    info = got["amk_region_owner_info"]
    assert [s.labels for s in info] == [
        {"region": "oslo", "centre": "oslo", "centre_instance": "oslo-1"}
    ]
    assert value(got, "amk_region_fencing_token", region="oslo") == 41
    assert value(got, "amk_calls_waiting", region="oslo") == 2
    assert value(got, "amk_answer_time_seconds", region="oslo", quantile="0.9") == 4.0
    assert value(got, "amk_answer_within_target_ratio", region="oslo") == 1.0
    # Nothing answered in innlandet: no share, no percentiles (not a 0 that would alert).
    assert not [s for s in got["amk_answer_within_target_ratio"] if s.labels["region"] != "oslo"]
    assert value(got, "amk_centre_up", centre="innlandet") == 0
    assert value(got, "amk_centre_commit_latency_seconds_count", centre="oslo") == 1
    assert value(got, "amk_centre_commit_latency_seconds_bucket", centre="oslo", le="0.005") == 1
    assert value(got, "amk_centre_commit_latency_seconds_bucket", centre="oslo", le="0.002") == 0
    assert value(got, "amk_centre_commit_batch_writes_sum", centre="oslo") == 7
    assert value(got, "amk_etcd_db_size_bytes", endpoint="127.0.0.1:2379") == 5 * 1024**2
    assert value(got, "amk_etcd_quota_bytes", endpoint="127.0.0.1:2379") == 4 * GIB
    assert value(got, "amk_archive_last_pass_age_seconds", region="oslo") == 10.0
    assert value(got, "amk_archive_lag_seconds", region="oslo") == 0.0
    # The archiver never reported innlandet: its archive figures are absent.
    assert [s.labels["region"] for s in got["amk_archive_lag_seconds"]] == ["oslo"]
    gateway = "127.0.0.1:50051"
    assert value(got, "amk_revocations_loaded", gateway=gateway) == 1
    assert value(got, "amk_revocations_read_age_seconds", gateway=gateway) == 1.5
    assert value(got, "amk_revoked_certificates", gateway=gateway) == 2
    expiry = "amk_tls_certificate_expiry_timestamp_seconds"
    assert value(got, expiry, gateway=gateway, identity="service") == 2_000_000.0
    assert value(got, expiry, gateway=gateway, identity="ca") == 9_000_000.0
    assert value(got, "amk_access_review_overdue") == 1
    assert value(got, "amk_access_review_due_timestamp_seconds") == 900.0


def test_an_empty_log_is_not_overdue_and_has_no_due_date() -> None:
    snap = snapshot()
    snap.review = ReviewDue(due_at=None, overdue=False)
    got = exposition(snap)
    assert value(got, "amk_access_review_overdue") == 0
    assert "amk_access_review_due_timestamp_seconds" not in got


def test_a_review_not_read_is_absent_and_revocations_never_read_say_so() -> None:
    snap = snapshot()
    snap.sources["review"] = False
    snap.revocations = RevocationState("127.0.0.1:50051", False, 0, 42.0)
    got = exposition(snap)
    assert "amk_access_review_overdue" not in got  # not a 0 that would hide an overdue one
    assert value(got, "amk_scrape_source_up", source="review") == 0
    assert value(got, "amk_revocations_loaded", gateway="127.0.0.1:50051") == 0
    assert value(got, "amk_revocations_read_age_seconds", gateway="127.0.0.1:50051") == 42.0


def test_the_revocation_lists_age_counts_from_the_start_until_a_read() -> None:
    async def away():
        raise OSError("archive down")

    revocations = Revocations(away, 60.0)
    assert revocations.read_age_s(revocations.started_at + 30.0) == 30.0
    revocations.read_at = revocations.started_at + 40.0
    assert revocations.read_age_s(revocations.started_at + 45.0) == 5.0


def test_a_failed_source_leaves_its_figures_absent_and_says_so() -> None:
    snap = snapshot()
    snap.sources["etcd"] = False
    got = exposition(snap)
    assert "amk_etcd_db_size_bytes" not in got
    assert value(got, "amk_scrape_source_up", source="etcd") == 0
    assert value(got, "amk_scrape_source_up", source="regions") == 1


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


class One(Collector):
    def __init__(self, n: float) -> None:
        self.n = n

    def collect(self) -> Iterator[Metric]:
        g = GaugeMetricFamily("amk_test_value", "a test value")
        g.add_metric([], self.n)
        yield g


async def test_two_servers_in_one_process_keep_their_own_registries() -> None:
    first = MetricsServer(f"127.0.0.1:{find_free_port()}", One(1))
    second = MetricsServer(f"127.0.0.1:{find_free_port()}", One(2))
    first.start()
    second.start()
    try:
        for server, n in ((first, 1.0), (second, 2.0)):
            url = f"http://{server.address}/metrics"
            text = await asyncio.to_thread(fetch, url)
            assert f"amk_test_value {n}" in text
        clash = MetricsServer(first.address, One(3))
        with pytest.raises(ConfigError, match="cannot bind"):
            clash.start()
    finally:
        await first.stop()
        await second.stop()


async def test_a_client_that_never_finishes_its_handshake_holds_no_other_scrape(
    tmp_path,
) -> None:
    """TLS on: a connection that sends nothing holds only its own thread (the handshake
    is the connection's, within a timeout), so a scraper with our certificate is served
    meanwhile; a refused certificate gets 403 with the reason, another one the figures."""
    ca = LocalCa(tmp_path)
    server_files = ca.issue("service", "amk-service", hosts=["127.0.0.1"], server=True)
    kept, lost = ca.issue("kept", "prometheus"), ca.issue("lost", "prometheus")
    lost_der = x509.load_pem_x509_certificate(lost.cert.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    server = MetricsServer(
        f"127.0.0.1:{find_free_port()}",
        One(7),
        tls=server_files,
        refuse=lambda der: "revoked: lost tablet" if der == lost_der else "",
    )
    server.start()
    host, port = server.address.rsplit(":", 1)
    silent = socket.create_connection((host, int(port)))  # connects, never says hello
    try:
        status, text = await scrape_metrics(server.address, kept)
        assert status == 200 and "amk_test_value 7.0" in text
        assert await scrape_metrics(server.address, lost) == (403, "revoked: lost tablet\n")
    finally:
        silent.close()
        await server.stop()


# ---------------------------------------------------------------- addresses


def test_metrics_addresses_by_offset_or_list(tmp_path) -> None:
    config = ClusterConfig.load(home=tmp_path, gateways=["127.0.0.1:50051", "127.0.0.1:50052"])
    assert config.metrics_address("127.0.0.1:50052") == "127.0.0.1:51052"
    off = ClusterConfig.load(home=tmp_path, gateways=["127.0.0.1:1"], metrics_port_offset=0)
    assert off.metrics_address("127.0.0.1:1") is None
    listed = ClusterConfig.load(
        home=tmp_path, gateways=["127.0.0.1:1", "127.0.0.1:2"], metrics=["h:8", "h:9"]
    )
    assert listed.metrics_address("127.0.0.1:2") == "h:9"
    with pytest.raises(ConfigError, match="one per gateway"):
        ClusterConfig.load(home=tmp_path, gateways=["127.0.0.1:1"], metrics=["h:8", "h:9"])


# ---------------------------------------------------------------- amk status


def member(size: int, quota: int = 4 * GIB, **kw) -> pb.EtcdMemberStatus:
    return pb.EtcdMemberStatus(
        endpoint="127.0.0.1:2379",
        db_size_bytes=size,
        db_size_in_use_bytes=size,
        quota_bytes=quota,
        **kw,
    )


def test_status_warns_from_70_percent_of_the_quota() -> None:
    quota = 1000 * 1024**2
    assert etcd_warnings([member(699 * 1024**2, quota)]) == []
    (line,) = etcd_warnings([member(700 * 1024**2, quota)])
    assert line.startswith("WARNING: etcd 127.0.0.1:2379 database is at 70% of its quota")
    assert "700 MiB of 1000 MiB" in line
    (unreachable,) = etcd_warnings([member(0, error="UNAVAILABLE down")])
    assert "did not report" in unreachable


def test_status_renders_the_etcd_table_and_the_warning_line() -> None:
    status = pb.ClusterStatus(etcd_members=[member(int(3.2 * GIB))])
    console = Console(record=True, width=200)
    console.print(cluster_status_renderable(status))
    text = console.export_text()
    assert "3.2 GiB" in text and "4 GiB" in text and "80.0%" in text
    assert "WARNING: etcd 127.0.0.1:2379 database is at 80% of its quota" in text
    quiet = Console(record=True, width=200)
    quiet.print(cluster_status_renderable(pb.ClusterStatus(etcd_members=[member(GIB)])))
    assert "WARNING" not in quiet.export_text()


def test_format_bytes() -> None:
    assert [format_bytes(n) for n in (512, 2048, 412 * 1024, int(2.87 * GIB))] == [
        "512 B",
        "2 KiB",
        "412 KiB",
        "2.87 GiB",
    ]
