"""The site drills, short, in CI. Site loss: two ``amk up --site`` processes with a Ray each,
one etcd; the serving site SIGKILLed whole, once, under raw-gRPC writes; every region
served again by the other site's instance of its own centre, and nothing acknowledged
lost, doubled or accepted under a superseded token. The full run (five losses, 1,000
live incidents per region) is ``docs/drills/site-loss/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.site_drill import EXIT_OK, SiteDrillSpec, run_site_drill

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(600),
]


async def test_a_short_site_loss_drill_passes(tmp_path: Path) -> None:
    spec = SiteDrillSpec(reps=1, incidents=20, writers=4, steady_s=2.0, after_s=4.0, no_fault_s=3.0)
    result = await run_site_drill(spec, tmp_path / "site-loss")
    summary = result["summary"]
    assert result["exit_code"] == EXIT_OK, summary
    assert summary["lost"] == summary["duplicated"] == summary["stale"] == 0
    assert summary["missing"] == 0 and summary["samples"] == 5  # the five area regions
    assert summary["no_fault_owner_changes"] == 0
    rep = result["reps"][0]
    lost = rep["lost_site"]
    survivor = "b" if lost == "a" else "a"
    for region, owner in rep["owners_after"].items():
        assert owner.endswith(f"@{survivor}"), (region, owner)
        home = rep["owners_before"][region].partition("@")[0]
        assert owner.partition("@")[0] == home  # its own centre, in the other site
    assert (tmp_path / "site-loss" / "README.md").read_text().startswith("# Site-loss drill")


async def test_a_short_site_partition_drill_passes(tmp_path: Path) -> None:
    """Site a cut off from etcd (a blackholing proxy), alive: site b serves every region
    within the lease TTL + 0.5 s, nothing is accepted by the cut-off site meanwhile, and
    nothing flaps back after the heal."""
    from chaos.site_partition import PartitionSpec, run_partition_drill

    spec = PartitionSpec(incidents=20, writers=3, steady_s=2.0, cut_s=5.0, after_s=3.0)
    result = await run_partition_drill(spec, tmp_path / "site-partition")
    summary = result["summary"]
    assert result["exit_code"] == EXIT_OK, (summary, result.get("violations"))
    assert summary["served_elsewhere_max_s"] <= summary["target_s"]
    assert result["acked_via_cut_off_site_while_cut"] == 0
    assert result["owner_changes_after_heal"] == 0
    assert all(o.endswith("@b") for o in result["owners_after"].values())
