"""``amk status --health-region`` against a running deployment (the module's five
centres, the session's etcd and Ray): the gateway's answer filtered by the running
seed's health regions, and an id it does not declare refused with exit 2."""

from __future__ import annotations

import asyncio
import json

import pytest

from clients.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_amk_status_by_health_region_against_the_running_seed(cluster, capsys):
    """The JSON document has only that health region's regions; the tables are one per
    health region; an unknown id is exit 2, naming the known ones."""
    seed = cluster.config.seed
    known = [h.id for h in seed.health_regions]

    def amk(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--gateway", cluster.gateway, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = await asyncio.to_thread(amk, "--json", "status", "--health-region", known[0])
    assert code == 0, err
    doc = json.loads(out)
    assert [r["id"] for r in doc["regions"]] == [
        r.id for r in seed.regions if seed.health_region_of(r.id) == known[0]
    ]
    code, out, err = await asyncio.to_thread(amk, "status", "--health-region", "helse-atlantis")
    assert code == 2 and out == ""
    assert "--health-region: unknown health region helse-atlantis; known: " in err
    assert all(h in err for h in known)
    code, out, err = await asyncio.to_thread(amk, "status")
    assert code == 0  # a table of regions and one of centres per health region
    assert all(f"Regions: {h.name} ({h.id})" in out for h in seed.health_regions)


async def test_amk_board_at_by_health_region_against_the_running_seed(cluster, capsys):
    """``amk board --at --health-region``: the board of a moment, only that health
    region's incidents, units and owners; an unknown id is exit 2, naming the known ones."""
    seed = cluster.config.seed
    known = [h.id for h in seed.health_regions]
    wanted = {r.id for r in seed.regions if seed.health_region_of(r.id) == known[0]}

    def amk(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--gateway", cluster.gateway, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = await asyncio.to_thread(
        amk, "--json", "board", "--at", "1s", "--health-region", known[0]
    )
    assert code == 0, err
    doc = json.loads(out)
    # (A region claimed less than a second ago has no owner at that moment yet.)
    assert doc["owners"] and {o["region"] for o in doc["owners"]} <= wanted
    assert doc["units"] and {u["region"] for u in doc["units"]} <= wanted
    assert {i["region"] for i in doc.get("incidents", [])} <= wanted
    code, out, err = await asyncio.to_thread(
        amk, "board", "--at", "1s", "--health-region", "helse-atlantis"
    )
    assert code == 2 and out == ""
    assert "--health-region: unknown health region helse-atlantis; known: " in err
