"""Alerts from the web console's selected incident, in headless chromium: trippelvarsling
to 110 and 112 (sent with a click, acknowledged by the partner or on the phone,
escalated in red, withdrawn with a reason), a hospital suggested, chosen and
pre-notified (air ambulance requests: ``test_console_air.py``), a unit on its way
diverted from the recommendations, and the coverage panel. The partners are
``clients/partner_stub.py`` on loopback (``tests/browser/conftest.py``: the module's
deployment alerts them and escalates after 2 s); the deployment is the session's etcd
and Ray, five centres.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import BISLETT, KARL_JOHAN, WAIT_MS, Partners, incident, open_console
from tests.helpers import assert_eventually, rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]

ROAD_ACCIDENT = "A.35.01"  # collision with someone trapped: the road-traffic action card
STROKE = "A.28.01"  # sudden one-sided weakness: akutt, the stroke chapter


async def test_alerts_to_110_and_112_are_sent_from_the_incident_and_an_escalation_stands_out(
    browser, web, stub, partners: Partners, etcd
) -> None:
    """Trippelvarsling at the console: a road accident's proposed alerts are listed with
    the incident; one click sends each; 110's acknowledgement (and who gave it) and 112's
    escalation (no acknowledgement in time, in red) arrive with the live stream, no
    reload. 110 by hand with a reason; without a service, refused at that field with
    nothing written. 112 answered on the phone is recorded with who answered; a later
    112 alert is withdrawn with a reason, after a dismissed first ask sent nothing."""
    address = f"Sofies gate {uuid.uuid4().hex[:6]}"
    inc = await incident(stub, BISLETT, ROAD_ACCIDENT, address)
    assert {a.service for a in inc.alerts} == {
        pb.ALERT_SERVICE_FIRE_110,
        pb.ALERT_SERVICE_POLICE_112,
        pb.ALERT_SERVICE_LEGEVAKT_116117,  # a red response: the legevakt's doctor too
    }
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.evaluate("() => { window.__notReloaded = true; }")
    await page.locator(f'#incidents [data-incident-id="{inc.id}"]').click()
    detail = page.locator(f'#incident-detail[data-incident-id="{inc.id}"]')

    def alert(service: str, state: str, text: str | None = None):
        return detail.locator(
            f'li.alert-item[data-service="ALERT_SERVICE_{service}"][data-state="ALERT_STATE_{state}"]',
            has_text=text,
        )

    legevakt = alert("LEGEVAKT_116117", "PROPOSED", "116117 legevakt")
    await legevakt.wait_for(timeout=WAIT_MS)  # proposed, named in bokmål; not sent here
    said = (await legevakt.text_content() or "").lower()
    assert said.count("foreslått") == 1 and "kl. " in said, said  # not "Foreslått foreslått"
    for service in ("FIRE_110", "POLICE_112"):
        await alert(service, "PROPOSED").wait_for(timeout=WAIT_MS)
        await alert(service, "PROPOSED").locator('button[data-action="SendAlert"]').click()
    fire = alert("FIRE_110", "ACKNOWLEDGED", partners.fire.name)
    await fire.wait_for(timeout=WAIT_MS)
    police = alert("POLICE_112", "ESCALATED")  # the 112 partner never acknowledges
    await police.wait_for(timeout=WAIT_MS)
    colour = await police.evaluate("el => getComputedStyle(el).color")
    late = await page.evaluate(
        "() => { const e = document.createElement('span'); e.style.color = 'var(--late)';"
        " document.body.append(e); const c = getComputedStyle(e).color; e.remove(); return c; }"
    )
    assert colour == late, (colour, late)

    async def delivered(partner, n: int) -> None:
        assert len(partner.documents_for(inc.id)) == n

    await assert_eventually(lambda: delivered(partners.police, 1), timeout_s=WAIT_MS / 1000)
    assert len(partners.fire.documents_for(inc.id)) == 1

    # By hand: no service is refused at its field and writes nothing; then 110 again.
    form = detail.locator('form[data-form="SendAlert"]')
    services = form.locator('[name="service"] option')
    offered = await services.evaluate_all("os => os.map(o => o.value)")
    assert offered == [
        "",
        "ALERT_SERVICE_FIRE_110",
        "ALERT_SERVICE_POLICE_112",
        "ALERT_SERVICE_LEGEVAKT_116117",  # informed by hand on a yellow response
    ], offered
    await form.locator('[name="reason"]').fill("Røyk fra bilen, meldt av innringer")
    before = await etcd.revision()
    await form.locator('button[data-action="SendAlert"]').click()
    error = form.locator('.field-error[data-field="service"]')
    await error.wait_for(timeout=WAIT_MS)
    assert "service: is required" in (await error.text_content() or "")
    assert await etcd.revision() == before, "a refused alert wrote to etcd"
    await form.locator('[name="service"]').select_option("ALERT_SERVICE_FIRE_110")
    await form.locator('button[data-action="SendAlert"]').click()
    await alert("FIRE_110", "ACKNOWLEDGED", "Røyk fra bilen").wait_for(timeout=WAIT_MS)
    await assert_eventually(lambda: delivered(partners.fire, 2), timeout_s=WAIT_MS / 1000)
    assert await fire.locator('button[data-action="CancelAlert"]').count() == 0

    # The proposed legevakt alert given by phone (the form's "phoned to"): on record as
    # sent and acknowledged by whom the dispatcher told, delivered to no endpoint.
    await form.locator('[name="service"]').select_option("ALERT_SERVICE_LEGEVAKT_116117")
    await form.locator('[name="phoned_to"]').fill("Legevakten, lege Ida")
    await form.locator('button[data-action="SendAlert"]').click()
    given = alert("LEGEVAKT_116117", "ACKNOWLEDGED", "Legevakten, lege Ida")
    await given.wait_for(timeout=WAIT_MS)
    assert "gitt på telefon" in (await given.text_content() or "")  # not "kvittert": no reply
    assert await alert("LEGEVAKT_116117", "PROPOSED").count() == 0  # that one, not another

    # 112 was phoned: recorded as acknowledged by who answered, the lateness kept.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "CancelAlert" in r.url else None)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
    await police.locator('button[data-action="CancelAlert"]').click()
    await page.wait_for_timeout(300)  # a bound for a request that must not come
    assert asked == [] and await police.count() == 1
    operator = "112 Oslo, operatør 1"
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept(operator)))
    await police.locator('button[data-action="AcknowledgeAlert"]').click()
    phoned = alert("POLICE_112", "ACKNOWLEDGED", operator)
    await phoned.wait_for(timeout=WAIT_MS)
    assert "ble ikke kvittert i tide" in (await phoned.text_content() or "")

    # A new 112 alert by hand, withdrawn before 112 answers, with the reason kept.
    await form.locator('[name="service"]').select_option("ALERT_SERVICE_POLICE_112")
    await form.locator('[name="reason"]').fill("Trafikkdirigering")
    await form.locator('button[data-action="SendAlert"]').click()
    # Sent, or escalated already if this machine is slow: either may be withdrawn.
    second = detail.locator(
        'li.alert-item[data-service="ALERT_SERVICE_POLICE_112"]'
        ':is([data-state="ALERT_STATE_SENT"], [data-state="ALERT_STATE_ESCALATED"])',
        has_text="Trafikkdirigering",
    )
    await second.wait_for(timeout=WAIT_MS)
    reason = "Politiet er på stedet"
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept(reason)))
    await second.locator('button[data-action="CancelAlert"]').click()
    await alert("POLICE_112", "CANCELLED", reason).wait_for(timeout=WAIT_MS)
    assert len(asked) == 1
    assert await page.evaluate("() => window.__notReloaded === true"), "the page reloaded"
    assert page.amk_errors == []
    await page.context.close()


async def test_a_hospital_is_suggested_chosen_and_pre_notified_from_the_incident(
    browser, web, stub, partners: Partners, etcd
) -> None:
    """A stroke: the dispatcher asks for hospitals with no condition chosen (stroke is
    suggested from the criteria code, Ullevål first with its reason; a hospital with no
    pre-notification link says to phone it and cannot be taken), takes Ullevål with a
    click and sends the patient's key data with the time of onset. An age of 200, and
    one the browser cannot read, are refused at the field with nothing written. The
    notification shows among the incident's alerts with the hospital's name and its
    team's acknowledgement; the team got one valid document with age and onset."""
    inc = await incident(stub, KARL_JOHAN, STROKE)
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=inc.id), timeout=10)
    unit = next(r.unit for r in recs.recommendations if r.unit.kind == pb.UNIT_KIND_ROAD_AMBULANCE)
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit.id), timeout=10
    )
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.locator(f'#incidents [data-incident-id="{inc.id}"]').click()
    detail = page.locator(f'#incident-detail[data-incident-id="{inc.id}"]')
    form = detail.locator('form[data-form="SendPreNotification"]')
    await form.locator('button[data-action="RecommendDestination"]').click()
    first = form.locator(".destinations li").first
    await first.wait_for(timeout=WAIT_MS)
    assert await first.get_attribute("data-hospital-id") == "ous-ulleval"
    assert "trombolyse" in (await first.text_content() or "")  # in Norwegian
    unlinked = form.locator(".destinations li:not(:has(button))")
    assert await unlinked.count() >= 1, "only Ullevål has a link in this deployment"
    assert "ring" in (await unlinked.first.text_content() or "")
    condition = form.locator('[name="condition"]')
    assert await condition.input_value() == "DESTINATION_CONDITION_STROKE"
    assert await form.locator('[name="unit_id"]').input_value() == unit.id  # the only one
    await first.locator('button[data-action="take-hospital"]').click()
    assert await form.locator('[name="hospital_id"]').input_value() == "ous-ulleval"
    await form.locator('[name="sex"]').select_option("PRE_NOTIFICATION_SEX_FEMALE")
    await form.locator('[name="findings"]').fill("Høyresidig lammelse, afasi")
    onset = time.time() - 40 * 60
    onset_local = time.strftime("%Y-%m-%dT%H:%M", time.localtime(onset))
    await form.locator('[name="symptom_onset"]').fill(onset_local)

    age = form.locator('[name="age"]')
    error = form.locator('.field-error[data-field="age"]')
    send = form.locator('button[data-action="SendPreNotification"]')
    before = await etcd.revision()
    await age.press_sequentially("7e")  # a number input's bad input reads as empty
    await send.click()
    await error.wait_for(timeout=WAIT_MS)
    assert "ikke et tall" in (await error.text_content() or "")
    await age.fill("200")
    await send.click()
    await page.wait_for_function(
        "el => el.textContent.includes('130')", arg=await error.element_handle(), timeout=WAIT_MS
    )
    assert await etcd.revision() == before, "a refused pre-notification wrote to etcd"
    await age.fill("74")
    await send.click()
    notified = detail.locator(
        'li.alert-item[data-service="ALERT_SERVICE_HOSPITAL"][data-state="ALERT_STATE_ACKNOWLEDGED"]',
        has_text=partners.ulleval.name,
    )
    await notified.wait_for(timeout=WAIT_MS)
    assert "Oslo universitetssykehus, Ullevål" in (await notified.text_content() or "")
    (doc,) = partners.ulleval.documents_for(inc.id, "prenotification")
    assert doc.document["patient"]["age"] == 74 and not partners.ulleval.refused
    sent_onset = datetime.fromisoformat(doc.document["symptom_onset"]).timestamp()
    assert abs(sent_onset - onset) < 60, (doc.document["symptom_onset"], onset_local)

    # The unit is released while Ullevål's receiving system is out: the alert says the
    # hospital has not got the withdrawal; the dispatcher phones the ward and records it
    # with the line's button, and the line goes.
    owed = notified.locator(".alert-owed")

    async def first_recorded() -> None:  # the acknowledgement is written before the mark
        reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=inc.id), timeout=10)
        pre = next(a for a in reply.alerts if a.service == pb.ALERT_SERVICE_HOSPITAL)
        assert pre.prenotification.documents_delivered == 1, pre

    await assert_eventually(first_recorded, timeout_s=30)
    partners.ulleval.down = True
    try:
        await stub.ReleaseUnit(
            pb.ReleaseUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit.id),
            timeout=10,
        )
        # The page may still show the moment between the acknowledgement and the first
        # delivery's record ("0 av 1"): wait for the withdrawal's line itself.
        await notified.locator(".alert-owed", has_text="1 av 2 levert").wait_for(timeout=WAIT_MS)
        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept("slagvakta")))
        await notified.locator('button[data-action="ConfirmPreNotificationByPhone"]').click()
        await owed.wait_for(state="detached", timeout=WAIT_MS)
    finally:
        partners.ulleval.down = False
    history = await stub.GetIncidentHistory(
        pb.GetIncidentHistoryRequest(incident_id=inc.id), timeout=10
    )
    (phoned,) = [e for e in history.entries if e.command == "ConfirmPreNotificationByPhone"]
    assert "ola" in phoned.who and json.loads(phoned.details_json)["by_phone"] == "slagvakta"
    assert page.amk_errors == []
    await page.context.close()


async def offered_for_diversion(browser, web, stub):
    """A vanlig incident with a road ambulance en route to it, an akutt incident nearby
    selected at a dispatcher's console, and that ambulance's row in its diversions:
    (vanlig, akutt, unit, page, row)."""
    vanlig = await incident(stub, BISLETT, "V.01.01", f"Bislett {uuid.uuid4().hex[:6]}")
    akutt = await incident(stub, KARL_JOHAN, "A.10.01", f"Karl Johan {uuid.uuid4().hex[:6]}")
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=vanlig.id), timeout=10)
    unit = next(r.unit for r in recs.recommendations if r.unit.kind == pb.UNIT_KIND_ROAD_AMBULANCE)
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=vanlig.id, unit_id=unit.id), timeout=10
    )
    await stub.ChangeUnitStatus(
        pb.ChangeUnitStatusRequest(
            request_id=rid(), unit_id=unit.id, status=pb.UNIT_STATUS_EN_ROUTE
        ),
        timeout=10,
    )
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.locator(f'#incidents [data-incident-id="{akutt.id}"]').click()
    offered = page.locator(f'#diversions tr[data-unit-id="{unit.id}"][data-from="{vanlig.id}"]')
    await offered.wait_for(timeout=WAIT_MS)
    return vanlig, akutt, unit, page, offered


async def test_a_unit_on_its_way_to_a_vanlig_incident_is_diverted_to_an_akutt_one(
    browser, web, stub
) -> None:
    """The akutt incident's recommendations list, apart, the unit driving to a vanlig
    incident nearby; one click diverts it: the unit is the akutt's, the vanlig incident
    waits again with a note, and the row is gone from the list asked again."""
    vanlig, akutt, unit, page, offered = await offered_for_diversion(browser, web, stub)
    assert vanlig.id in (await offered.locator(".leaving").text_content() or "")
    await offered.locator('button[data-action="DivertUnit"]').click()
    await page.locator(
        f'#units [data-unit-id="{unit.id}"][data-status="UNIT_STATUS_ASSIGNED"]'
    ).wait_for(timeout=WAIT_MS)
    await offered.wait_for(state="detached", timeout=WAIT_MS)
    left = await stub.GetIncident(pb.GetIncidentRequest(incident_id=vanlig.id), timeout=10)
    now = await stub.GetIncident(pb.GetIncidentRequest(incident_id=akutt.id), timeout=10)
    assert list(now.assigned_unit_ids) == [unit.id] and not left.assigned_unit_ids
    assert left.status == pb.INCIDENT_STATUS_TRIAGED
    assert left.notes[-1].text == f"Unit {unit.id} diverted to {akutt.id}"
    assert page.amk_errors == []
    await page.context.close()
    await stub.ReleaseUnit(
        pb.ReleaseUnitRequest(request_id=rid(), incident_id=akutt.id, unit_id=unit.id), timeout=10
    )


async def test_a_diversion_that_needs_a_reason_the_page_did_not_know_of_asks_for_it(
    browser, web, stub
) -> None:
    """The list offered the unit while the selected incident was akutt; it was triaged
    vanlig meanwhile, so the diversion now needs a reason: the page asks for it and sends
    it, and the notes keep it."""
    vanlig, akutt, unit, page, offered = await offered_for_diversion(browser, web, stub)
    await stub.TriageIncident(
        pb.TriageIncidentRequest(request_id=rid(), incident_id=akutt.id, criteria_code="V.01.01"),
        timeout=10,
    )
    asked: list[str] = []

    accepted: list[asyncio.Future] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        accepted.append(asyncio.ensure_future(dialog.accept("nærmere, veien er stengt")))

    page.once("dialog", answer)
    await offered.locator('button[data-action="DivertUnit"]').click()
    await page.locator(
        f'#units [data-unit-id="{unit.id}"][data-status="UNIT_STATUS_ASSIGNED"]'
    ).wait_for(timeout=WAIT_MS)
    assert asked and akutt.id in asked[0]
    left = await stub.GetIncident(pb.GetIncidentRequest(incident_id=vanlig.id), timeout=10)
    assert left.notes[-1].text == f"Unit {unit.id} diverted to {akutt.id}: nærmere, veien er stengt"
    assert page.amk_errors == []
    await page.context.close()
    await stub.ReleaseUnit(
        pb.ReleaseUnitRequest(request_id=rid(), incident_id=akutt.id, unit_id=unit.id), timeout=10
    )


async def test_the_coverage_panel_follows_a_station_whose_ambulances_are_sent_out(
    browser, web, stub
) -> None:
    """The dispatcher's coverage panel lists Oslo's stations with the nearest free
    ambulance; once a station's free ambulances are sent to an incident, its row says
    none is free there (asked again on the units' change), without a reload."""
    before = await stub.GetCoverage(pb.GetCoverageRequest(regions=["oslo"]), timeout=10)
    station = next(s for s in before.stations if s.free_here)
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    row = page.locator(f'#coverage li[data-station-id="{station.station_id}"]')
    await row.wait_for(timeout=WAIT_MS)
    assert await row.get_attribute("data-nearest")
    assert await row.get_attribute("data-free") == str(len(station.free_here))
    # Its target as the server sends it: a range only where the area is not known.
    low, high = round(station.target_s / 60), round(station.target_max_s / 60)
    want = f"{low}–{high} min" if high > low else f" {low} min"
    assert want in await row.inner_text(), want
    inc = await incident(stub, BISLETT, "A.10.01")
    sent = list(station.free_here)
    for unit_id in sent:
        await stub.AssignUnit(
            pb.AssignUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit_id),
            timeout=10,
        )
    try:
        await page.locator(
            f'#coverage li[data-station-id="{station.station_id}"][data-free="0"]',
            has_text="ingen ledig på stasjonen",
        ).wait_for(timeout=WAIT_MS * 2)  # asked again at most every 10 s
        nearest = await row.get_attribute("data-nearest")
        assert nearest and nearest not in sent
        assert page.amk_errors == []
    finally:
        await page.context.close()
        for unit_id in sent:
            await stub.ReleaseUnit(
                pb.ReleaseUnitRequest(request_id=rid(), incident_id=inc.id, unit_id=unit_id),
                timeout=10,
            )
