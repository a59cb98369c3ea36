"""The KPI panel in Debian's chromium: each row of a chart says which figures it holds,
and every figure's text lies inside its chart."""

from __future__ import annotations

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import WAIT_MS, assign_free_unit, incident, open_console
from tests.browser.test_console import crew_reports

# Out in the Oslofjord: in no municipality, so neither urban nor rural. Its response
# time is held to both the urban (12 min) and the rural (25 min) target.
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
    """An akutt mission at sea, reached: its response time (no call) is counted against
    the urban and the rural target, two rows of one chart. Each names its target (they
    read "OSL Akutt ukjent område" alike before), no chart has two rows alike, and no
    label or value runs past the chart's edge (the values of the longest bar did)."""
    inc = await incident(stub, AT_SEA, "A.11.01")
    unit = await assign_free_unit(stub, inc.id)
    await crew_reports(web, unit.id, pb.UNIT_STATUS_EN_ROUTE)
    await crew_reports(web, unit.id, pb.UNIT_STATUS_ON_SCENE)
    page = await open_console(browser, web, web.token("siri", "supervisor", "oslo"))
    try:
        unknown = page.locator(
            '#kpis figure[data-measure="response_no_call"] .kpi-label',
            has_text="ukjent område",
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
