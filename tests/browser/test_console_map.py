"""The desk in Debian's chromium: which marker is on top where an incident and a unit
share a place on the map; a name the lists cut at its column, whole on hover."""

from __future__ import annotations

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import WAIT_MS, assign_free_unit, incident, open_console
from tests.helpers import assert_eventually


async def test_an_incident_waiting_for_a_unit_is_drawn_above_the_ambulance_beside_it(
    browser, web, stub
) -> None:
    """An akutt incident at the door of a station with an ambulance standing there: a
    click on that spot picks the incident (units were drawn above every incident, so
    the red dot waiting for help hid under the ambulance). Once a unit is sent, the
    units are above it again: the unit on scene marks its incident."""
    free = await stub.ListUnits(
        pb.ListUnitsRequest(regions=["oslo"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION),
        timeout=10,
    )
    ambulance = free.units[-1]
    spot = (ambulance.position.lat, ambulance.position.lon)
    waiting = await incident(stub, spot, "A.11.01")
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    try:
        await page.locator(f'#incidents [data-incident-id="{waiting.id}"]').wait_for(
            timeout=WAIT_MS
        )
        await page.evaluate("([lat, lon]) => window.amk.showOnMap(lat, lon, 16)", list(spot))

        async def picks(selector: str) -> None:
            x, y = await page.evaluate("([lat, lon]) => window.amk.pointOf(lat, lon)", list(spot))
            await page.mouse.click(x, y)
            assert await page.locator(selector).count() == 1

        chosen = f'#incidents tr.selected[data-incident-id="{waiting.id}"]'
        await assert_eventually(lambda: picks(chosen), timeout_s=WAIT_MS / 1000, interval_s=0.2)
        assert await page.locator("#units tr.selected").count() == 0
        await assign_free_unit(stub, waiting.id)  # a unit is sent: the incident waits no more
        await assert_eventually(
            lambda: picks("#units tr.selected[data-unit-id]"),
            timeout_s=WAIT_MS / 1000,
            interval_s=0.2,
        )
        assert page.amk_errors == []
    finally:
        await page.context.close()


async def test_a_station_or_address_cut_at_its_column_is_whole_on_hover(browser, web, stub) -> None:
    """The units list cuts a long station name at its column ("Fagernes
    ambulansestasjon (V…" beside another Fagernes station), the incident list a long
    address: the whole text is the cell's tooltip."""
    units = await stub.ListUnits(pb.ListUnitsRequest(regions=["innlandet", "oslo"]), timeout=10)
    longest = max(units.units, key=lambda u: len(u.station))
    address = "Kirkeveien 166, inngang fra parkeringsplassen bak, 3. etasje, 0450 Oslo"
    inc = await incident(stub, (59.9398, 10.7198), address=address)
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    try:
        station = page.locator(f'#units [data-unit-id="{longest.id}"] td.station')
        await station.wait_for(timeout=WAIT_MS)
        assert await station.get_attribute("title") == longest.station
        cell = page.locator(f'#incidents [data-incident-id="{inc.id}"] td.address')
        await cell.wait_for(timeout=WAIT_MS)
        assert await cell.get_attribute("title") == address
        assert page.amk_errors == []
    finally:
        await page.context.close()
