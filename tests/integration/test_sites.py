"""Two sites, one etcd (issue #11, first step): the cluster survives the loss of a whole
Ray cluster.

Site ``a`` is ``amk up --site a`` joining the session's second Ray cluster (a
``ray start --head`` of its own, as another data centre runs); site ``b`` is a
deployment on the session's own Ray. Both share the session's etcd and one key prefix,
with ``sites = ["a", "b"]``: every region's claim line is its home centre in site a,
the home centre in site b, then the backups likewise. So with both up, site a serves
every region and site b's instances stand by; any gateway serves any region (site b's
gateway reaches site a's owners over their gRPC link). When every process of site a is
SIGKILLed (its Ray head, GCS, raylet, workers and its ``amk up``), each region is taken
by its own home centre in site b and no acknowledged write is lost.

Site a's loss is seen by site b's supervisor when a's beat stops (the site-loss fast
path, ``actors/supervisor/site_watch.py``), which revokes a's owners' leases at once.

What this does not show yet (the issue's later steps): a partition drill, a site's
return and handback, clients failing over between sites' gateways.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from clients.client import AmkClient
from clients.up_guard import EXIT_REFUSED
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys
from cluster.ownership import read_owner
from cluster.sites import live_sites
from tests.helpers import assert_eventually, key_prefix_for, session_pki
from tests.integration.processes import RayHead, descendants, kill_left, start_time, stop_up

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(400),
]

REPO = Path(__file__).resolve().parents[2]
UP_WITHIN_S = 180  # safety net for a stuck start, not a measurement
TAKEOVER_WITHIN_S = 60  # likewise: the lease TTL (2 s) is what it should take


@dataclass
class TwoSites:
    a_proc: subprocess.Popen[bytes]
    a_log: Path
    a_gateway: str
    b_gateway: str
    config_b: ClusterConfig
    etcd: str
    head: RayHead
    a_toml: str
    deployment: Any


def _env(up_home: Path, gateway: str, head_home: Path, etcd: str) -> dict[str, str]:
    env = {
        **os.environ,
        "AMK_HOME": str(up_home),
        "AMK_GATEWAY": gateway,
        "AMK_ETCD": etcd,
        "PYTHONPATH": str(REPO),
        "HOME": str(head_home),  # the head's token is in its ~/.ray/auth_token
    }
    for var in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(var, None)
    return env


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sites(
    etcd_server, ray_session, ray_head_session: RayHead, tmp_path_factory
) -> AsyncIterator[TwoSites]:
    from clients.launcher import Deployment

    head = await asyncio.to_thread(ray_head_session.ensure)
    tag = uuid.uuid4().hex[:8]
    prefix = key_prefix_for("sites")
    shared = f'key_prefix = "{prefix}"\nsites = ["a", "b"]\npki_dir = "{session_pki()}"\n'

    a_home = tmp_path_factory.mktemp("site-a")
    a_gateway = f"127.0.0.1:{find_free_port()}"
    a_toml = shared + f'ray_namespace = "amk-site-a-{tag}"\nmetrics_port_offset = 0\n'
    (a_home / "amk.toml").write_text(a_toml)
    a_log = a_home / "up.out"
    env = _env(a_home, a_gateway, head.home, etcd_server.endpoint)
    a_proc = await asyncio.to_thread(
        _start_site, a_log, ["--site", "a", "--ray-address", head.address], env
    )
    deployment = None
    try:
        await asyncio.to_thread(_wait_up, a_proc, a_log)

        b_gateway = f"127.0.0.1:{find_free_port()}"
        config_b = ClusterConfig.load(
            home=tmp_path_factory.mktemp("site-b"),
            key_prefix=prefix,
            pki_dir=session_pki(),
            ray_namespace=f"amk-site-b-{tag}",
            site="b",
            sites=["a", "b"],
            gateways=[b_gateway],
            metrics_port_offset=0,
        )
        deployment = Deployment(config_b, [etcd_server.endpoint])
        await deployment.start()
        yield TwoSites(
            a_proc,
            a_log,
            a_gateway,
            b_gateway,
            config_b,
            etcd_server.endpoint,
            head,
            a_toml,
            deployment,
        )
    finally:
        if deployment is not None:
            await deployment.stop()
        if a_proc.poll() is None:
            await asyncio.to_thread(stop_up, a_proc)


def _start_site(log: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "clients.cli", "up", *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_up(proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + UP_WITHIN_S
    while "AMK cluster up" not in log.read_text():
        assert proc.poll() is None, f"amk up exited: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"not up: {log.read_text()[-3000:]}"
        time.sleep(0.2)


async def _owner_sites(s: TwoSites) -> dict[str, str]:
    keys = Keys(s.config_b.key_prefix)
    client = etcd_client_for(s.config_b, [s.etcd])
    try:
        out = {}
        for region in s.config_b.region_ids():
            owner = await read_owner(client, keys, region)
            out[region] = f"{owner.record.centre}@{owner.record.site}" if owner else "-"
        return out
    finally:
        await client.close()


async def test_the_primary_site_serves_every_region_and_the_other_stands_by(
    sites: TwoSites,
) -> None:
    homes = {r.id: r.home for r in sites.config_b.seed.regions}
    assert await _owner_sites(sites) == {r: f"{c}@a" for r, c in homes.items()}
    with AmkClient([sites.b_gateway], timeout_s=10) as client:
        status = client.cluster_status()
    by_name = {s.name: s for s in status.sites}
    assert status.site == "b" and set(by_name) == {"a", "b"}
    assert by_name["a"].live and by_name["b"].live
    assert sorted(by_name["a"].active_centres) == sorted(set(homes.values()))
    assert not by_name["b"].active_centres
    assert sorted(by_name["b"].standby_centres) == sorted(sites.config_b.centre_ids())
    assert {r.owner_site for r in status.regions} == {"a"}


async def test_any_gateway_serves_any_region(sites: TwoSites) -> None:
    """A write through site b's gateway reaches the owner in site a (its gRPC link)."""
    with AmkClient([sites.b_gateway], timeout_s=10) as b:
        incident = b.create_incident(region="innlandet", lat=60.79, lon=11.07)
    with AmkClient([sites.a_gateway], timeout_s=10) as a:
        assert a.get_incident(incident.id).region == "innlandet"


async def test_a_region_moves_to_the_other_site_and_back_by_command(sites: TwoSites) -> None:
    """Hand-over across sites: asked at a gateway of the site that is to serve, the
    current owner (in the other site, another Ray cluster) is reached over its gRPC link
    and moves the region in one guarded transaction; the hand-back likewise."""
    with AmkClient([sites.b_gateway], timeout_s=30) as b:
        moved = b.hand_over_region("vestre-viken", "vestre-viken")  # its own centre, in b
    assert (moved.owner_centre, moved.owner_site) == ("vestre-viken", "b")
    with AmkClient([sites.a_gateway], timeout_s=30) as a:
        back = a.hand_back_region("vestre-viken")
        assert (back.owner_centre, back.owner_site) == ("vestre-viken", "a")
        assert back.fencing_token > moved.fencing_token
        incident = a.create_incident(region="vestre-viken", lat=59.74, lon=10.2)
    assert (await _owner_sites(sites))["vestre-viken"] == "vestre-viken@a"
    with AmkClient([sites.b_gateway], timeout_s=10) as b:
        assert b.get_incident(incident.id).region == "vestre-viken"


async def test_a_second_up_of_a_live_site_is_refused(sites: TwoSites, tmp_path: Path) -> None:
    (tmp_path / "amk.toml").write_text(sites.a_toml)
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "clients.cli", "up", "--site", "a"],
        cwd=REPO,
        env=_env(tmp_path, f"127.0.0.1:{find_free_port()}", sites.head.home, sites.etcd),
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = (out.stdout + out.stderr).strip().splitlines()
    assert out.returncode == EXIT_REFUSED, lines
    assert len(lines) == 1 and "site 'a' is already live" in lines[0], lines
    assert f"pid {sites.a_proc.pid}" in lines[0]


async def test_losing_a_whole_site_leaves_every_region_served_by_its_own_centre(
    sites: TwoSites,
) -> None:
    """Every process of site a at once, as a data centre lost: site b's instance of each
    region's home centre takes it; what site a acknowledged is there."""
    with AmkClient([sites.a_gateway], timeout_s=10) as a:
        acked = [
            a.create_incident(region=r, lat=c.lat, lon=c.lon).id
            for r, c in (
                (r.id, sites.config_b.seed.centre(r.home))
                for r in sites.config_b.seed.area_regions()
            )
        ]
    site_a = sites.head.processes()
    site_a.update({p: start_time(p) for p in {sites.a_proc.pid, *descendants(sites.a_proc.pid)}})
    kill_left(site_a)
    await asyncio.to_thread(sites.a_proc.wait, 30)

    homes = {r.id: f"{r.home}@b" for r in sites.config_b.seed.regions}

    async def taken() -> None:
        assert await _owner_sites(sites) == homes

    await assert_eventually(taken, timeout_s=TAKEOVER_WITHIN_S, interval_s=0.1)
    # Taken by the site-loss fast path (site a's beat stopped), not by lease expiry. It
    # revokes what is left: site a's own supervisor, dying a few ms after its centres,
    # may already have revoked some of their leases through its crash fast path.
    assert sites.deployment.supervisor is not None
    lost = await sites.deployment.supervisor.site_events()
    assert [e.site for e in lost] == ["a"], lost
    assert set(lost[0].revoked_regions) <= set(homes), lost
    with AmkClient([sites.b_gateway], timeout_s=10) as b:
        for incident_id in acked:
            assert b.get_incident(incident_id).id == incident_id
        after = b.create_incident(region="oslo", lat=59.91, lon=10.75)
        assert after.region == "oslo"
    # A console given both sites' gateways, the lost site's first, carries on.
    with AmkClient([sites.a_gateway, sites.b_gateway], timeout_s=10) as both:
        assert both.create_incident(region="innlandet", lat=60.79, lon=11.07).region == "innlandet"

    async def a_not_live() -> None:
        client = etcd_client_for(sites.config_b, [sites.etcd])
        try:
            names = [r.name for r in await live_sites(client, Keys(sites.config_b.key_prefix))]
        finally:
            await client.close()
        assert names == ["b"]

    await assert_eventually(a_not_live, timeout_s=TAKEOVER_WITHIN_S, interval_s=0.1)
    with AmkClient([sites.b_gateway], timeout_s=10) as b:
        status = b.cluster_status()
    assert {s.name: s.live for s in status.sites} == {"a": False, "b": True}
