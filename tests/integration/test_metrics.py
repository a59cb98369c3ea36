"""The gateways' Prometheus endpoint on a running cluster, and etcd's size in
``amk status``: scraped over HTTP and parsed as Prometheus parses it."""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid

import pytest
from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

from actors.gateway.server import Gateway
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import ConfigError
from cluster.etcd_server import find_free_port
from cluster.keys import Keys
from cluster.ownership import OwnerRecord
from cluster.tls import client_identity, https_client_context
from tests.helpers import assert_eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

OSLO = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25)


def _fetch(address: str) -> str:
    """HTTPS with the console's certificate, as Prometheus scrapes with its tls_config."""
    context = https_client_context(client_identity())
    url = f"https://{address}/metrics"
    with urllib.request.urlopen(url, timeout=10, context=context) as resp:
        return resp.read().decode()


async def scrape(address: str) -> dict[str, list]:
    """Samples by name (histograms as ``_bucket``, ``_count``, ``_sum``)."""
    text = await asyncio.to_thread(_fetch, address)
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append(s)
    return samples


def one(samples: dict[str, list], name: str, **labels: str) -> float:
    found = [
        s.value
        for s in samples.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


async def test_every_region_reports_the_owner_in_etcd(cluster, etcd):
    keys = Keys(cluster.config.key_prefix)
    address = cluster.config.metrics_address(cluster.gateway)

    async def check() -> None:
        samples = await scrape(address)
        for region in cluster.config.region_ids():
            kv = await etcd.get(keys.owner(region))
            assert kv is not None, f"{region} has no owner yet"
            record = OwnerRecord.decode(kv.value)
            info = [
                s.labels for s in samples["amk_region_owner_info"] if s.labels["region"] == region
            ]
            assert info == [
                {"region": region, "centre": record.centre, "centre_instance": record.instance}
            ]
            assert one(samples, "amk_region_fencing_token", region=region) == kv.mod_revision
            assert one(samples, "amk_region_owned", region=region) == 1
            assert one(samples, "amk_region_ownerless_seconds", region=region) == 0
            if region in cluster.config.area_region_ids():
                assert one(samples, "amk_calls_waiting", region=region) >= 0
            else:  # an AMK-LA region has no 113 queue: no call figures at all
                assert not [s for s in samples["amk_calls_waiting"] if s.labels["region"] == region]
        for source in ("regions", "calls", "centres", "etcd", "archive", "review"):
            assert one(samples, "amk_scrape_source_up", source=source) == 1
        # This gateway has read the (empty) revocation list; nobody has reviewed the log.
        assert one(samples, "amk_revocations_loaded", gateway=cluster.gateway) == 1
        assert one(samples, "amk_revoked_certificates", gateway=cluster.gateway) == 0
        assert one(samples, "amk_revocations_read_age_seconds", gateway=cluster.gateway) < 30
        # When the certificates it loaded expire: the files' own dates.
        pki = cluster.config.pki_folder()
        for identity, file in (
            ("service", "service.crt"),
            ("ca", "ca.crt"),
            ("etcd-client", "etcd-user.crt"),
        ):
            cert = x509.load_pem_x509_certificate((pki / file).read_bytes())
            expiry = one(
                samples,
                "amk_tls_certificate_expiry_timestamp_seconds",
                gateway=cluster.gateway,
                identity=identity,
            )
            assert expiry == cert.not_valid_after_utc.timestamp(), identity
        # Never reviewed: due an interval after the oldest read logged (none logged yet:
        # no date), not overdue on a cluster that has just started.
        assert one(samples, "amk_access_review_overdue") == 0
        if "amk_access_review_due_timestamp_seconds" in samples:
            due = one(samples, "amk_access_review_due_timestamp_seconds")
            interval = cluster.config.access_review_interval_days * 86400.0
            assert 0 < time.time() + interval - due < 3600  # a read of this test session
        for centre in cluster.config.centre_ids():
            assert one(samples, "amk_centre_up", centre=centre) == 1

    await assert_eventually(check, timeout_s=30)


async def test_etcd_size_and_quota_are_reported(cluster):
    for gateway in cluster.config.gateways:  # both gateways serve their own endpoint
        samples = await scrape(cluster.config.metrics_address(gateway))
        endpoint = cluster.endpoint
        assert one(samples, "amk_etcd_member_up", endpoint=endpoint) == 1
        size = one(samples, "amk_etcd_db_size_bytes", endpoint=endpoint)
        assert size > 0
        assert 0 < one(samples, "amk_etcd_db_size_in_use_bytes", endpoint=endpoint) <= size
        assert (
            one(samples, "amk_etcd_quota_bytes", endpoint=endpoint)
            == cluster.config.etcd_quota_bytes
        )


async def test_commit_latency_counts_the_writes(cluster, stub, etcd):
    keys = Keys(cluster.config.key_prefix)
    address = cluster.config.metrics_address(cluster.gateway)
    kv = await etcd.get(keys.owner("oslo"))
    assert kv is not None
    centre = OwnerRecord.decode(kv.value).centre
    before = await scrape(address)
    txns = one(before, "amk_centre_commit_latency_seconds_count", centre=centre)
    writes = one(before, "amk_centre_commit_batch_writes_sum", centre=centre)
    for _ in range(5):
        req = pb.CreateIncidentRequest(request_id=uuid.uuid4().hex, region="oslo", position=OSLO)
        await stub.CreateIncident(req, timeout=10)
    after = await scrape(address)
    assert one(after, "amk_centre_commit_latency_seconds_count", centre=centre) > txns
    assert one(after, "amk_centre_commit_batch_writes_sum", centre=centre) >= writes + 5
    # A histogram's +Inf bucket holds every observation.
    assert one(after, "amk_centre_commit_latency_seconds_bucket", centre=centre, le="+Inf") == one(
        after, "amk_centre_commit_latency_seconds_count", centre=centre
    )


async def test_status_shows_etcd_size_against_the_quota(cluster, stub):
    status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
    (member,) = status.etcd_members
    assert member.endpoint == cluster.endpoint and not member.error
    assert member.db_size_bytes > 0 and member.leader
    assert member.quota_bytes == cluster.config.etcd_quota_bytes


async def test_a_metrics_port_in_use_is_a_clear_error(cluster):
    taken = cluster.config.metrics_address(cluster.gateway)
    address = f"127.0.0.1:{find_free_port()}"
    config = cluster.config.model_copy(update={"gateways": [address], "metrics": [taken]})
    gateway = Gateway(config, address)
    try:
        with pytest.raises(ConfigError, match=f"metrics endpoint cannot bind {taken}"):
            await gateway.start([cluster.endpoint])
        assert gateway.server is None  # refused before the gRPC port opened
    finally:
        await gateway.stop()
