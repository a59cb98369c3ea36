"""Air ambulance at the web console, in headless chromium: a request from the
incident, answered by the AMK-LA and withdrawn; the AMK-LA's coordinator answering and
standing down requests from its panel, and seeing who withdrew one; its aircraft
readiness and its missions on the map. The module's deployment (the session's etcd and
Ray, five centres) and its web server.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from actors.domain.eta.geodesy import haversine_km
from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import KARL_JOHAN, WAIT_MS, incident, open_console
from tests.helpers import assert_eventually, one, rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]


async def air_alerts(stub, inc) -> list:
    """The incident's air ambulance alerts."""
    reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=inc.id), timeout=10)
    return [a for a in reply.alerts if a.service == pb.ALERT_SERVICE_AIR_AMBULANCE]


async def test_an_air_ambulance_is_requested_from_the_incident_and_the_amk_las_answer_shows(
    browser, web, stub, etcd
) -> None:
    """The dispatcher asks the AMK-LA for a helicopter from the selected incident: without
    a reason the request is refused at that field, with nothing written; with one, the
    request shows as the incident's air ambulance alert, and the AMK-LA's answer (the
    aircraft and the base doctor) arrives on it with the live stream. Withdrawn from
    the line with a reason, the helicopter is stood down and free again."""
    inc = await incident(stub, KARL_JOHAN)
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.locator(f'#incidents [data-incident-id="{inc.id}"]').click()
    detail = page.locator(f'#incident-detail[data-incident-id="{inc.id}"]')
    form = detail.locator('form[data-form="RequestAirAmbulance"]')
    before = await etcd.revision()
    await form.locator('button[data-action="RequestAirAmbulance"]').click()
    error = form.locator('.field-error[data-field="reason"]')
    await error.wait_for(timeout=WAIT_MS)
    assert await etcd.revision() == before, "a refused request wrote to etcd"
    await form.locator('[name="reason"]').fill("Fastklemt, lang vei til traumesenter")
    await form.locator('button[data-action="RequestAirAmbulance"]').click()
    air = detail.locator('li.alert-item[data-service="ALERT_SERVICE_AIR_AMBULANCE"]')
    await air.wait_for(timeout=WAIT_MS)
    assert await air.locator('button[data-action="CancelAlert"]').count() == 0

    async def requested() -> str:
        reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=inc.id), timeout=10)
        (alert,) = [a for a in reply.alerts if a.service == pb.ALERT_SERVICE_AIR_AMBULANCE]
        assert alert.air_kind == pb.UNIT_KIND_HELICOPTER and alert.mission_id, alert
        return alert.mission_id

    mission = await assert_eventually(requested, timeout_s=WAIT_MS / 1000)
    await stub.AnswerAirRequest(
        pb.AnswerAirRequestRequest(
            request_id=rid(),
            mission_id=mission,
            decision=pb.AIR_DECISION_ACCEPT,
            unit_id="inn-h01",
            base_doctor="Dr. Dombås",
        ),
        timeout=20,
    )
    aircraft = await stub.GetUnit(pb.GetUnitRequest(unit_id="inn-h01"), timeout=10)
    accepted = detail.locator(
        'li.alert-item[data-service="ALERT_SERVICE_AIR_AMBULANCE"]'
        '[data-state="ALERT_STATE_ACKNOWLEDGED"]',
        has_text=aircraft.call_sign,  # the crew's call sign, not the unit's id
    )
    await accepted.wait_for(timeout=WAIT_MS)
    text = await accepted.text_content() or ""
    assert "Dr. Dombås" in text and "oppdrag: akseptert" in text, text
    # For the incident the helicopter is a unit sent: listed among its units (with no
    # release button: its mission frees it), and counted in the list.
    sent = detail.locator('ul.assigned li.aircraft[data-unit-id="inn-h01"]')
    await sent.filter(has_text=aircraft.call_sign).wait_for(timeout=WAIT_MS)
    assert await sent.locator('button[data-action="ReleaseUnit"]').count() == 0

    # Not needed after all: withdrawn with a reason, the AMK-LA stands the helicopter
    # down, and the line shows the mission aborted and who withdrew it, with no button.
    withdraw = accepted.locator('button[data-action="WithdrawAirRequest"]')
    reason = "Bakkeambulanse fremme først"
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept(reason)))
    await withdraw.click()
    stood_down = detail.locator(
        'li.alert-item[data-service="ALERT_SERVICE_AIR_AMBULANCE"]', has_text="oppdrag: avbrutt"
    )
    await stood_down.wait_for(timeout=WAIT_MS)
    text = await stood_down.text_content() or ""
    assert "trukket tilbake" in text and "ola" in text and reason in text, text
    assert await stood_down.locator('button[data-action="WithdrawAirRequest"]').count() == 0
    await sent.wait_for(state="detached", timeout=WAIT_MS)  # called off: no longer its unit
    freed = await stub.GetUnit(pb.GetUnitRequest(unit_id="inn-h01"), timeout=10)
    assert (freed.status, freed.air_mission_id) == (pb.UNIT_STATUS_AVAILABLE_MOBILE, "")
    assert page.amk_errors == []
    await page.context.close()


async def test_the_amk_la_answers_and_stands_down_air_requests_from_its_panel(
    browser, web, stub
) -> None:
    """The AMK-LA's coordinator (a dispatcher of Oslo, the centre serving the AMK-LA
    region) sees the requests of two AMKs, the second arriving with the live stream while
    the page is open: one from Innlandet is accepted with a free aircraft of the region
    (the list is exactly those) and the base doctor (without the doctor, refused at that
    field with nothing written), one from Oslo declined with the reason; each answer
    reaches the requesting incident. The accepted mission is then stood down, and its
    aircraft is free again. A third request, withdrawn by its AMK, shows who withdrew it
    and why (and one too late, as drawn). Innlandet's dispatcher has no such panel."""
    hamar = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="innlandet",
            position=pb.Position(lat=60.7945, lon=11.0680, accuracy_m=25),
            address=f"Strandgata {uuid.uuid4().hex[:6]}, Hamar",
        ),
        timeout=10,
    )
    oslo = await incident(stub, KARL_JOHAN)

    async def ask(inc, why: str) -> str:
        await stub.RequestAirAmbulance(
            pb.RequestAirAmbulanceRequest(
                request_id=rid(), incident_id=inc.id, kind=pb.UNIT_KIND_HELICOPTER, reason=why
            ),
            timeout=20,
        )

        async def mission_of() -> str:
            alert = one(await air_alerts(stub, inc))
            assert alert.mission_id, alert
            return alert.mission_id

        return await assert_eventually(mission_of, timeout_s=WAIT_MS / 1000)

    asked = {hamar.id: await ask(hamar, "Multitraume, lang vei til Ullevål")}
    page = await open_console(browser, web, web.token("lise", "dispatcher", "oslo"))
    panel = page.locator("#air-missions")

    def mission(inc, state: str):
        return panel.locator(
            f'li.air-mission[data-mission-id="{asked[inc.id]}"]'
            f'[data-state="AIR_MISSION_STATE_{state}"]'
        )

    first = mission(hamar, "REQUESTED")
    await first.wait_for(timeout=WAIT_MS)
    assert "Innlandet" in (await first.text_content() or "")
    asked[oslo.id] = await ask(oslo, "Brannskade")  # the page is open: it comes live
    await mission(oslo, "REQUESTED").wait_for(timeout=WAIT_MS)

    accept = first.locator("form.air-accept")
    choices = accept.locator('[name="unit_id"] option')
    free = await stub.ListUnits(pb.ListUnitsRequest(regions=["luftambulanse-hso"]), timeout=10)
    aircraft_free = {
        u.id
        for u in free.units
        if u.status in (pb.UNIT_STATUS_AVAILABLE_AT_STATION, pb.UNIT_STATUS_AVAILABLE_MOBILE)
        and u.kind in (pb.UNIT_KIND_HELICOPTER, pb.UNIT_KIND_FIXED_WING)
    }
    assert "osl-h01" in aircraft_free
    offered = await choices.evaluate_all("os => os.map(o => o.value)")
    assert set(offered) == aircraft_free | {""}
    # The kind asked for first, each kind nearest to the patient first: the likely choice
    # on top (the list was by call sign); and the form stays inside its panel.
    units = {u.id: u for u in free.units}

    def likely(unit_id: str) -> tuple[bool, float, str]:
        u = units[unit_id]
        km = haversine_km(u.position.lat, u.position.lon, 60.7945, 11.0680)
        return (u.kind != pb.UNIT_KIND_HELICOPTER, km, u.call_sign or u.id)

    assert offered[1:] == sorted(offered[1:], key=likely), offered
    inside = "f => f.getBoundingClientRect().right <= f.closest('.panel')"
    assert await accept.evaluate(inside + ".getBoundingClientRect().right")
    await accept.locator('[name="unit_id"]').select_option("osl-h01")
    untouched = await stub.AirGetMission(pb.AirGetMissionRequest(mission_id=asked[hamar.id]))
    await accept.locator('button[data-action="AnswerAirRequest"]').click()
    await accept.locator('.field-error[data-field="base_doctor"]').wait_for(timeout=WAIT_MS)
    still = await stub.AirGetMission(pb.AirGetMissionRequest(mission_id=asked[hamar.id]))
    aircraft = await stub.GetUnit(pb.GetUnitRequest(unit_id="osl-h01"), timeout=10)
    assert still.revision == untouched.revision and not aircraft.air_mission_id
    await accept.locator('[name="base_doctor"]').fill("Dr. Lørenskog")
    await accept.locator('button[data-action="AnswerAirRequest"]').click()
    flying = mission(hamar, "ACCEPTED")
    await flying.wait_for(timeout=WAIT_MS)
    text = await flying.text_content() or ""
    assert aircraft.call_sign in text and "Dr. Lørenskog" in text, text

    decline = mission(oslo, "REQUESTED").locator("form.air-decline")
    await decline.locator('[name="reason"]').fill("Tåke over Oslo, kan ikke lande")
    await decline.locator('button[data-action="AnswerAirRequest"]').click()
    await page.locator("#air-missions details summary").click()
    declined = mission(oslo, "DECLINED")
    await declined.wait_for(timeout=WAIT_MS)
    assert "Tåke over Oslo" in (await declined.text_content() or "")

    async def answered() -> None:
        for inc, state in ((hamar, "ACCEPTED"), (oslo, "DECLINED")):
            alert = one(await air_alerts(stub, inc))
            assert pb.AirMissionState.Name(alert.mission_state) == f"AIR_MISSION_STATE_{state}"

    await assert_eventually(answered, timeout_s=WAIT_MS / 1000)

    abort = flying.locator("form.air-abort")
    await abort.locator('[name="reason"]').fill("Pasienten kjøres med bil likevel")
    await abort.locator('button[data-action="AirAbortMission"]').click()
    await mission(hamar, "ABORTED").wait_for(timeout=WAIT_MS)
    freed = await stub.GetUnit(pb.GetUnitRequest(unit_id="osl-h01"), timeout=10)
    assert freed.status == pb.UNIT_STATUS_AVAILABLE_MOBILE and not freed.air_mission_id, freed
    assert "Pasienten kjøres med bil" in (await mission(hamar, "ABORTED").text_content() or "")

    # Withdrawn by the requesting AMK: the coordinator sees who, when and why.
    third = await incident(stub, KARL_JOHAN)
    asked[third.id] = await ask(third, "Hjertestans, hytte")
    await mission(third, "REQUESTED").wait_for(timeout=WAIT_MS)
    alert = one(await air_alerts(stub, third))
    await stub.CancelAlert(
        pb.CancelAlertRequest(
            request_id=rid(), incident_id=third.id, alert_id=alert.id, reason="ROSC, kjøres med bil"
        ),
        timeout=20,
    )
    gone = mission(third, "ABORTED").locator('.air-withdrawn[data-late="false"]')
    await gone.wait_for(timeout=WAIT_MS)
    assert "ROSC, kjøres med bil" in (await gone.text_content() or "")
    # One that came after the aircraft reached the patient (a race this page cannot
    # stage: the requesting side refuses once it knows) or after the end, as drawn.
    drawn = await page.evaluate(
        """async () => {
          const { withdrawal } = await import('/static/js/panels/air_missions.js');
          const at = new Date().toISOString();
          const line = (answer) => {
            const el = withdrawal({ withdrawn_at: at, withdrawn_by: 'kari', incident_region: 'oslo',
              withdrawal_reason: '<b>x</b>', withdrawal_answer: answer, state: answer });
            return [el.dataset.late, el.textContent, el.querySelectorAll('b').length];
          };
          return {
            late: line('AIR_MISSION_STATE_ON_SCENE'), ended: line('AIR_MISSION_STATE_COMPLETED'),
            aborted: line('AIR_MISSION_STATE_ABORTED'), none: withdrawal({}),
          };
        }"""
    )
    assert drawn["late"][0] == "true" and "<b>x</b>" in drawn["late"][1], drawn
    assert drawn["late"][2] == 0, drawn  # the reason is text, not markup
    assert drawn["ended"][0] == "true" and drawn["late"][1] != drawn["ended"][1], drawn
    assert drawn["aborted"][0] == "false" and drawn["none"] is None, drawn
    assert page.amk_errors == []
    await page.context.close()
    elsewhere = await open_console(browser, web, web.token("nils", "dispatcher", "innlandet"))
    await elsewhere.wait_for_function("() => window.amk.snapshots === 1", timeout=WAIT_MS)
    assert await elsewhere.locator("#air-missions").is_hidden()
    await elsewhere.context.close()


async def test_the_amk_la_sees_its_aircraft_ready_and_its_missions_on_the_map(
    browser, web, stub
) -> None:
    """The AMK-LA's coordinator (a dispatcher of Oslo) sees every aircraft of the AMK-LA
    region with its readiness (as the API has the units), and each open mission on the
    map as a ring around the patient's position. Once a helicopter is sent, a line joins
    it to the mission and the overview says which mission it flies. On the map, the
    incident's own dot inside the ring still selects the incident, a click between dot
    and ring still gives a position to the new-incident form, and a click on the ring
    brings the mission into view in the panel, also from the map screen to the lists
    screen of a two-window desk; its tooltip shows the address as text.
    Stood down, the ring and the line go and the helicopter is ready again."""
    nordmarka = (60.0300, 10.6800)  # in the forest: no unit stands within 10 km
    address = f"Ullevålseter <b>{uuid.uuid4().hex[:6]}</b>"
    inc = await incident(stub, nordmarka, address=address)
    await stub.RequestAirAmbulance(
        pb.RequestAirAmbulanceRequest(
            request_id=rid(), incident_id=inc.id, kind=pb.UNIT_KIND_HELICOPTER, reason="Fall"
        ),
        timeout=20,
    )

    async def mission_id() -> str:
        alert = one(await air_alerts(stub, inc))
        assert alert.mission_id, alert
        return alert.mission_id

    mission = await assert_eventually(mission_id, timeout_s=WAIT_MS / 1000)
    page = await open_console(browser, web, web.token("lise", "dispatcher", "oslo"))
    fleet = page.locator("#air-fleet")

    async def aircraft() -> dict[str, pb.Unit]:
        reply = await stub.ListUnits(pb.ListUnitsRequest(regions=["luftambulanse-hso"]))
        flying = (pb.UNIT_KIND_HELICOPTER, pb.UNIT_KIND_FIXED_WING)
        return {u.id: u for u in reply.units if u.kind in flying}

    def readiness(u: pb.Unit) -> str:
        if u.status in (pb.UNIT_STATUS_AVAILABLE_AT_STATION, pb.UNIT_STATUS_AVAILABLE_MOBILE):
            return "ready"
        if u.air_mission_id:
            return "mission"
        return "out" if u.status == pb.UNIT_STATUS_OUT_OF_SERVICE else "busy"

    async def fleet_matches() -> dict[str, pb.Unit]:
        units = await aircraft()
        shown = await fleet.locator("li.air-aircraft").evaluate_all(
            "els => els.map(e => [e.dataset.unitId, e.dataset.readiness])"
        )
        assert dict(shown) == {i: readiness(u) for i, u in units.items()}
        return units

    def eventually(check):
        return assert_eventually(check, timeout_s=WAIT_MS / 1000, interval_s=0.2)

    before = await eventually(fleet_matches)
    assert "osl-h01" in before and len(before) >= 3, before
    ready = [u for u in before.values() if readiness(u) == "ready"]
    summary = await page.locator("#air-fleet-summary").text_content() or ""
    assert f"Klare: {len(ready)} av {len(before)}" in summary, summary

    async def rings_and_lines_as_listed() -> tuple[int, int]:
        listed = (await stub.AirListMissions(pb.AirListMissionsRequest(), timeout=10)).missions
        on_the_way = (pb.AIR_MISSION_STATE_ACCEPTED, pb.AIR_MISSION_STATE_AIRBORNE)
        expected = (len(listed), sum(1 for m in listed if m.state in on_the_way))
        drawn = await page.evaluate("() => window.amk.drawn")
        assert (drawn["air"], drawn["airLines"]) == expected, (drawn, expected)
        return expected

    rings, lines = await eventually(rings_and_lines_as_listed)
    assert rings >= 1
    helicopter = min(u.id for u in ready if u.kind == pb.UNIT_KIND_HELICOPTER)
    await stub.AnswerAirRequest(
        pb.AnswerAirRequestRequest(
            request_id=rid(),
            mission_id=mission,
            decision=pb.AIR_DECISION_ACCEPT,
            unit_id=helicopter,
            base_doctor="Dr. Lørenskog",
        ),
        timeout=10,
    )
    assert await eventually(rings_and_lines_as_listed) == (rings, lines + 1)
    on_it = fleet.locator(f'li.air-aircraft[data-unit-id="{helicopter}"][data-readiness="mission"]')
    await on_it.wait_for(timeout=WAIT_MS)
    assert inc.id in (await on_it.text_content() or "")
    await eventually(fleet_matches)

    # Zoomed in on the patient: the incident's dot (radius 6), the ring (radius 17).
    await page.evaluate("([lat, lon]) => window.amk.showOnMap(lat, lon, 12)", list(nordmarka))
    x, y = await page.evaluate("([lat, lon]) => window.amk.pointOf(lat, lon)", list(nordmarka))
    await page.mouse.click(x, y)
    await page.locator(f'#incident-detail[data-incident-id="{inc.id}"]').wait_for(timeout=WAIT_MS)
    await page.mouse.click(x + 11, y)  # between the dot and the ring: a place on the map
    form = page.locator('form[data-form="CreateIncident"]')

    async def position_given() -> None:
        lat = float(await form.locator('[name="position.lat"]').input_value() or "0")
        assert abs(lat - nordmarka[0]) < 0.01, lat

    await eventually(position_given)
    await page.mouse.move(x + 17, y)
    tip = page.locator(".marker-tip")
    await tip.wait_for(timeout=WAIT_MS)
    assert address in (await tip.text_content() or "")  # the markup shown as text
    assert await tip.locator("b").count() == 0
    await page.mouse.click(x + 17, y)
    chosen = page.locator(f'#air-missions li.air-mission.selected[data-mission-id="{mission}"]')
    await chosen.wait_for(timeout=WAIT_MS)
    assert await page.locator("#air-missions li.air-mission.selected").count() == 1

    # The desk's two windows (one browser): the ring clicked on the map screen brings the
    # mission into view on the lists screen, which holds the panel.
    map_screen = await open_console(browser, web, web.token("lise", "dispatcher", "oslo"), "map")
    lists_screen = await map_screen.context.new_page()
    await lists_screen.goto(f"{web.url}/?screen=lists")  # signed in: the session is the browser's
    await lists_screen.locator(f'li.air-mission[data-mission-id="{mission}"]').wait_for(
        timeout=WAIT_MS
    )
    await map_screen.wait_for_function("() => window.amk.drawn.air > 0", timeout=WAIT_MS)
    await map_screen.evaluate("([lat, lon]) => window.amk.showOnMap(lat, lon, 12)", list(nordmarka))
    x, y = await map_screen.evaluate(
        "([lat, lon]) => window.amk.pointOf(lat, lon)", list(nordmarka)
    )
    await map_screen.mouse.click(x + 17, y)
    await lists_screen.locator(
        f'#air-missions li.air-mission.selected[data-mission-id="{mission}"]'
    ).wait_for(timeout=WAIT_MS)
    await map_screen.context.close()

    await stub.AirAbortMission(
        pb.AirAbortMissionRequest(request_id=rid(), mission_id=mission, reason="Kjørt med bil"),
        timeout=10,
    )
    assert await eventually(rings_and_lines_as_listed) == (rings - 1, lines)
    await fleet.locator(
        f'li.air-aircraft[data-unit-id="{helicopter}"][data-readiness="ready"]'
    ).wait_for(timeout=WAIT_MS)
    assert page.amk_errors == []
    await page.context.close()
