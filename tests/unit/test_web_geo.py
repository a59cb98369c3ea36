"""The web console's map and reference follow the running seed (issue #15): the server
built for the national seed serves every region of the country and its four health
regions; built for the default seed, Helse Sør-Øst's. No cluster: the HTTP layer on an
insecure config, as tests/unit/test_web.py."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from clients.web import server
from clients.web.geo_build import ATTRIBUTION
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port

pytestmark = pytest.mark.timeout(60)

SEEDS = Path(__file__).resolve().parents[2] / "cluster" / "seed"


@pytest.mark.parametrize("seed_file", ["norway.toml", "helse_sor_ost.toml"])
async def test_the_map_and_reference_are_of_the_running_seed(
    tmp_path: Path, seed_file: str
) -> None:
    config = ClusterConfig.load(
        home=tmp_path, insecure=True, web_address="off", seed_file=SEEDS / seed_file
    )
    seed = config.seed
    async with TestClient(TestServer(server.make_app(config))) as client:
        resp = await client.get("/api/geo/regions")  # public, as the reference: no login
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/geo+json")
        geo = await resp.json(content_type=None)
        ref = await (await client.get("/api/reference")).json()
    assert geo["properties"]["attribution"] == ATTRIBUTION
    assert {f["properties"]["region"] for f in geo["features"]} == {
        r.id for r in seed.area_regions()
    }
    assert len(geo["features"]) == sum(len(r.municipalities) for r in seed.area_regions())
    assert ref["health_regions"] == [{"id": h.id, "name": h.name} for h in seed.health_regions]
    assert {r["id"]: r["health_region"] for r in ref["regions"]} == {
        r.id: seed.health_region_of(r.id) for r in seed.regions
    }
    assert {c["id"]: c["health_region"] for c in ref["centres"]} == {
        c.id: c.health_region for c in seed.centres
    }


async def test_start_web_builds_the_map_of_its_seed(tmp_path: Path) -> None:
    """``amk up --seed`` reaches the console through the config: the served map is the
    national one (16 areas), not the default seed's five."""
    port = find_free_port()
    config = ClusterConfig.load(
        home=tmp_path,
        insecure=True,
        web_address=f"127.0.0.1:{port}",
        seed_file=SEEDS / "norway.toml",
    )
    runner = await server.start_web(config)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/api/geo/regions") as resp:
                geo = await resp.json(content_type=None)
    finally:
        await server.stop_web(runner)
    regions = {f["properties"]["region"] for f in geo["features"]}
    assert regions == {r.id for r in config.seed.area_regions()} and len(regions) == 16
