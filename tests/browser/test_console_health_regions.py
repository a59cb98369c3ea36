"""The web console over the whole country's seed: a second web server of the national
seed in front of the suite's five centres, its map and its health region filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import WAIT_MS, WebConsole, open_console, receive_call, shown
from tests.helpers import find_free_port, rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]

SEEDS = Path(__file__).resolve().parents[2] / "cluster" / "seed"


async def test_the_health_region_filter_over_the_whole_countrys_map(browser, web, stub) -> None:
    """A second web server, of the national seed (its reference and map), in front of
    the module's five centres: the map draws every area of the country from the server's
    own seed, and the health region select narrows the owners, incidents, units, the 113
    queue and the KPI figures."""
    from clients.web.server import start_web, stop_web
    from cluster.config import ClusterConfig

    port = find_free_port()
    config = ClusterConfig.model_validate(
        {
            **web.config.model_dump(),
            "web_address": f"127.0.0.1:{port}",
            "seed_file": SEEDS / "norway.toml",
        }
    )
    seed = config.seed
    assert len(seed.health_regions) == 4
    of = {
        h.id: [r.id for r in seed.regions if seed.health_region_of(r.id) == h.id]
        for h in seed.health_regions
    }
    national = WebConsole(web.cluster, f"http://127.0.0.1:{port}", await start_web(config))
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=59.92, lon=10.75, accuracy_m=20),
        )
    )
    call = await receive_call(stub, "+47 22 33 44 55", (59.92, 10.75))
    # Whoever serves Oslo now (an earlier test of the module may have killed AMK Oslo).
    status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=10)
    owner = next(r.owner_centre for r in status.regions if r.id == "oslo") or "oslo"
    page = await open_console(browser, national, web.token("ola", "dispatcher", owner))
    try:
        row = f'#incidents [data-incident-id="{inc.id}"]'
        await shown(page, row)
        areas = len(seed.area_regions())
        await page.wait_for_function(
            f"() => document.querySelectorAll('.region-label[data-region]').length === {areas}",
            timeout=WAIT_MS,
        )
        options = await page.eval_on_selector_all(
            "#health-region option", "os => os.map(o => o.value)"
        )
        assert options == ["", *of]

        async def owners() -> list[str]:
            return await page.eval_on_selector_all(
                "#owners [data-region]", "rs => rs.map(r => r.dataset.region)"
            )

        async def regions_in(selector: str) -> set[str]:
            return set(
                await page.eval_on_selector_all(selector, "es => es.map(e => e.dataset.region)")
            ) - {""}

        # The 113 queue shows the new call; once a call is answered here, the KPI panel
        # has an answer-time figure of one of this centre's regions.
        queued = f'#calls [data-call-id="{call.id}"]'
        await shown(page, queued)
        await page.click('button[data-action="SignIn"]')
        await page.click('button[data-action="AnswerNextCall"]')
        await page.wait_for_selector(".answered-call:not([hidden])", timeout=WAIT_MS)
        await page.click('button[data-action="GetKpis"]')
        kpi_labels = "#kpis .kpi-label[data-region]"
        answer_label = '#kpis figure[data-measure="answer"] .kpi-label[data-region]'
        await page.wait_for_selector(answer_label, state="attached", timeout=WAIT_MS)
        kpi_regions = await regions_in(kpi_labels)
        assert kpi_regions and kpi_regions <= set(of["helse-sor-ost"])

        await page.select_option("#health-region", "helse-vest")
        # Redrawn at the change, not at the next second's queue event or KPI refresh.
        assert await page.query_selector(queued) is None
        assert await regions_in(kpi_labels) == set()
        assert await page.text_content("#kpis .empty")
        assert sorted(await owners()) == sorted(of["helse-vest"])
        await page.wait_for_function(
            "() => window.amk.drawn.incidents === 0 && window.amk.drawn.units === 0",
            timeout=WAIT_MS,
        )
        await page.wait_for_selector(row, state="hidden", timeout=WAIT_MS)
        assert await regions_in("#calls .queue-region") <= set(of["helse-vest"])
        assert await page.query_selector(queued) is None  # nor at the queue's next events
        await page.select_option("#health-region", "helse-sor-ost")
        assert sorted(await owners()) == sorted(of["helse-sor-ost"])
        await page.wait_for_selector(row, state="visible", timeout=WAIT_MS)
        await page.wait_for_function("() => window.amk.drawn.incidents > 0", timeout=WAIT_MS)
        assert await page.query_selector(queued) is not None
        assert "oslo" in await regions_in("#calls .queue-region")
        back = await regions_in(kpi_labels)
        assert back and back <= set(of["helse-sor-ost"])
        await page.select_option("#health-region", "")
        assert sorted(await owners()) == sorted(r.id for r in seed.regions)
        assert page.amk_errors == []
    finally:
        await page.context.close()
        await stop_web(national.runner)
