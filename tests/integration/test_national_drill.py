"""A short national bad-day drill in the suite, against the session's etcd and Ray: all
sixteen centres, a major incident flooding Oslo's 113 queue while AMK Bergen is killed.
Nothing acknowledged may be lost, doubled or accepted stale; every call must be answered
once, by a centre allowed to see it then, and the overflow must reach partners within
the health region and across it. The full drill (45 s of load) is
``python -m chaos chaos/scenarios/national-bad-day.toml``; its report is in docs/drills."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.drill import EXIT_OK, Scenario, run_drill
from chaos.failpoints import FaultSpec
from clients.call_floor import FloorSpec
from clients.loadgen import LoadSpec
from clients.national_build import OUT
from tests.helpers import TEST_KEY_ROOT, session_pki

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(300),
]


async def test_the_country_keeps_answering_when_bergen_dies_during_a_major_incident(
    etcd_server, ray_session, tmp_path: Path
) -> None:
    seconds = 24.0
    scenario = Scenario(
        name="suite-national",
        seed=str(OUT),
        health_timeout_s=90,
        load=LoadSpec(rate=8, concurrency=4, duration_s=seconds, seed=5),
        calls=FloorSpec(rate=1.5, takers=2, talk_s=(3.0, 6.0), duration_s=seconds, seed=5),
        calls_drain_s=90,
        faults=[
            FaultSpec("major-incident", "oslo", 2.0, 16.0, {"surge_rate": 3.0}),
            FaultSpec("kill-centre", "bergen", at_s=5.0),
        ],
    )
    result = await run_drill(
        scenario,
        tmp_path,
        endpoints=[etcd_server.endpoint],
        pki_dir=session_pki(),
        key_root=f"{TEST_KEY_ROOT}drill/",
    )
    chk, calls = result["check"], result.get("calls", {})
    print("\n", chk["counts"], calls.get("counts"), calls.get("answer_s"))
    assert result["health_before"]["ok"] and result["health_after"]["ok"], result
    assert chk["counts"]["lost"] == 0, chk["lost"]
    assert chk["counts"]["duplicated"] == 0, chk["duplicated"]
    assert chk["counts"]["stale_accepted"] == 0, chk["stale_accepted"]
    assert calls["ok"], calls["problems"]
    assert calls["counts"]["answered"] == calls["counts"]["queued"] >= 30
    # Relief reached both steps: a partner of Helse Sør-Øst, and a centre of another
    # health region for a call that had waited past its second threshold.
    assert calls["counts"].get("by_partner", 0) + calls["counts"].get("by_shared", 0) >= 1
    assert calls["counts"].get("by_partner_across", 0) >= 1, calls["counts"]
    owners = result["health_after"]["owners"]
    assert owners["bergen"]["centre"] != "bergen"  # a backup serves it (no hand-back here)
    assert result["exit_code"] == EXIT_OK
