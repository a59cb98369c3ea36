"""The KPI panel in Debian's chromium: each row of a chart says which figures it holds,
and every figure's text lies inside its chart."""

from __future__ import annotations

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import BISLETT, WAIT_MS, assign_free_unit, open_console, receive_call
from tests.browser.test_console import crew_reports
from tests.helpers import rid

# Out in the Oslofjord: in no municipality, so neither urban nor rural. A response time
# there (from a 113 call) is held to both the urban (12 min) and the rural (25 min) target.
AT_SEA = (59.80, 10.60)

TEXT_OUTSIDE_ITS_CHART = """() => [...document.querySelectorAll('#kpis svg')].flatMap((svg) => {
  const width = svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')]
    .filter((t) => { const b = t.getBBox(); return b.x < 0 || b.x + b.width > width; })
    .map((t) => t.textContent);
})"""

LABELS_BY_CHART = """() => [...document.querySelectorAll('#kpis figure')].map((f) =>
  [f.dataset.measure, [...f.querySelectorAll('.kpi-label')].map((t) => t.textContent)])"""


async def test_rows_held_to_two_targets_say_which_and_no_figure_is_cut_off(
    browser, web, stub
) -> None:
    """A 113 call answered, an akutt incident from it out at sea, reached: its response
    time is counted against the urban and the rural target, two rows of one chart. Each
    names its target (they read "OSL Akutt ukjent område" alike before), no chart has
    two rows alike, and no label or value runs past the chart's edge (the values of the
    longest bar did)."""
    await stub.SignIn(pb.SignInRequest(centre="oslo", call_taker="kpi-sea"), timeout=10)
    call = await receive_call(stub, "+4790000114", BISLETT, 50)
    for _ in range(50):  # calls an earlier test left waiting in Oslo's queue come first
        answered = await stub.AnswerNextCall(
            pb.AnswerNextCallRequest(request_id=rid(), centre="oslo", call_taker="kpi-sea"),
            timeout=10,
        )
        if answered.call.id == call.id:
            break
    assert answered.call.id == call.id
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=AT_SEA[0], lon=AT_SEA[1], accuracy_m=50),
            criteria_code="A.11.01",
            call_id=call.id,
        ),
        timeout=10,
    )
    unit = await assign_free_unit(stub, inc.id)
    await crew_reports(web, unit.id, pb.UNIT_STATUS_EN_ROUTE)
    await crew_reports(web, unit.id, pb.UNIT_STATUS_ON_SCENE)
    page = await open_console(browser, web, web.token("siri", "supervisor", "oslo"))
    try:
        unknown = page.locator(
            '#kpis figure[data-measure="response"] .kpi-label', has_text="ukjent område"
        )
        await unknown.first.wait_for(timeout=WAIT_MS)
        labels = await unknown.all_text_contents()
        assert any("(mål 12,0 min)" in x for x in labels), labels
        assert any("(mål 25,0 min)" in x for x in labels), labels
        for measure, rows in await page.evaluate(LABELS_BY_CHART):
            assert len(rows) == len(set(rows)), (measure, rows)
        assert await page.evaluate(TEXT_OUTSIDE_ITS_CHART) == []
        assert page.amk_errors == []
    finally:
        await page.context.close()
