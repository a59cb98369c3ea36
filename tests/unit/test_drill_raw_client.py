"""Where a drill's raw client writes, and its line in the report."""

from __future__ import annotations

from chaos.drill import Scenario, raw_regions
from chaos.failpoints import FaultSpec
from chaos.report import markdown
from clients.loadgen import LoadSpec
from cluster.config import ClusterConfig

ALL = ["innlandet", "oslo", "sorlandet", "vestfold-telemark", "vestre-viken"]


def scenario(target: str, regions: list[str]) -> Scenario:
    fault = FaultSpec(failpoint="kill-centre", target=target, at_s=1.0, duration_s=0.0, params={})
    return Scenario(name="t", load=LoadSpec(regions=tuple(regions)), faults=[fault])


def test_raw_client_writes_where_the_fault_changes_the_owner() -> None:
    config = ClusterConfig.load()
    assert raw_regions(scenario("oslo", ALL), config, ALL) == ["oslo"]


def test_raw_client_stays_out_of_a_region_the_load_avoids() -> None:
    config = ClusterConfig.load()
    others = [r for r in ALL if r != "sorlandet"]
    assert raw_regions(scenario("sorlandet", others), config, others) == others


def test_report_gives_the_raw_client_errors_by_code() -> None:
    raw = {
        "address": "127.0.0.1:1",
        "regions": ["oslo"],
        "writers": 4,
        "deadline_s": 10.0,
        "acked": 90,
        "errors": 3,
        "errors_by_code": {"UNAVAILABLE": 3},
        "details": {"UNAVAILABLE: region oslo unavailable": 3},
        "lost": 0,
        "duplicated": 0,
    }
    text = markdown({"scenario": "t", "exit_code": 0, "raw_client": raw}, "timeline.svg")
    assert "Raw client errors: **3** (UNAVAILABLE 3) of 93 creates" in text
