"""A call-taker's and a dispatcher's own entries at the web console, in headless
chromium: telephone-guided CPR from the selected incident (the guidance and the caller's
first compressions with a click each, its end, a correction), an answered 113 call
closed without an incident, one from a number that rang before, an incident's place
told better, a crew's arrival entered with the time it gave on the radio, earlier
incidents at the selected one's place, the key figures of a period, and the board at a
past moment. The API has each. The module's deployment
(five centres, the session's etcd and Ray) and its web server.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.keys import Keys
from tests.browser.conftest import (
    BISLETT,
    WAIT_MS,
    assign_free_unit,
    incident,
    open_console,
    receive_call,
)
from tests.helpers import rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]


async def test_a_call_taker_guides_cpr_from_the_incident_and_both_moments_are_recorded(
    browser, web, stub
) -> None:
    """Telephone-guided CPR from the selected incident: one click records the start of
    the guidance (who and when, as the API then has it), the beat to count with shows
    and the time since the start runs; a second click records the caller's first
    compressions, and its button is gone; a note meanwhile leaves the block (and its
    beat) as it is; the end, with how, stops the beat and the clock. An incident triaged
    haster is offered it without the red, and is recorded as recognised but not guided,
    with why; once a unit is on scene that stays shown and only a correction is offered
    (taken: recorded on the wrong incident). Nothing in the page failed."""
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=BISLETT[0], lon=BISLETT[1], accuracy_m=20),
            address=f"Thereses gate {uuid.uuid4().hex[:6]}",
        ),
        timeout=10,
    )
    page = await open_console(browser, web, web.token("kari", "call-taker", "oslo"))
    await page.locator(f'#incidents [data-incident-id="{inc.id}"]').click()
    block = page.locator('#incident-detail #cpr[data-step="none"]')
    await block.wait_for(timeout=WAIT_MS)
    assert await block.locator('button[data-step="CPR_STEP_BYSTANDER"]').count() == 1
    await block.locator('button[data-step="CPR_STEP_STARTED"]').click()
    started = page.locator('#incident-detail #cpr[data-step="started"]')
    await started.wait_for(timeout=WAIT_MS)
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert got.cpr.started_by.startswith("kari") and got.cpr.started_at.seconds
    assert await started.locator(".cpr-beat").count() == 1
    since = started.locator(".cpr-since")
    first = await since.text_content()
    await page.wait_for_function(
        "(before) => document.querySelector('#cpr .cpr-since').textContent !== before",
        arg=first,
        timeout=WAIT_MS,
    )
    # Another change of the incident (a note) leaves the block as it is: its beat goes on.
    await page.evaluate("() => { document.querySelector('#cpr').dataset.mark = 'kept'; }")
    await stub.AddIncidentNote(
        pb.AddIncidentNoteRequest(request_id=rid(), incident_id=inc.id, text="Puster ikke"),
        timeout=10,
    )
    await page.locator("#incident-detail .notes", has_text="Puster ikke").wait_for(timeout=WAIT_MS)
    assert await page.locator('#cpr[data-mark="kept"]').count() == 1
    await started.locator('button[data-step="CPR_STEP_COMPRESSIONS"]').click()
    done = page.locator('#incident-detail #cpr[data-step="compressions"]')
    await done.wait_for(timeout=WAIT_MS)
    assert await done.locator("button.cpr-record").count() == 0
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert got.cpr.compressions_at.ToNanoseconds() >= got.cpr.started_at.ToNanoseconds()

    # The guidance ends before a unit comes: how is asked for (refused at the field
    # without it); once recorded, the beat and the clock stop and nothing more is offered.
    end = done.locator("form.cpr-end")
    await end.locator('button[data-action="RecordCprGuidance"]').click()
    await end.locator('.field-error[data-field="end"]').wait_for(timeout=WAIT_MS)
    await end.locator('[name="end"]').select_option("CPR_END_ROSC")
    await end.locator('button[data-action="RecordCprGuidance"]').click()
    ended = page.locator('#incident-detail #cpr[data-ended="CPR_END_ROSC"]')
    await ended.wait_for(timeout=WAIT_MS)
    assert await ended.locator("button, form, .cpr-beat, .cpr-since").count() == 0
    assert await ended.locator(".cpr-ended-line").count() == 1
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert got.cpr.end == pb.CPR_END_ROSC and got.cpr.ended_by.startswith("kari")

    # Offered on an incident triaged haster too (a patient can arrest while waiting),
    # less loudly; not once a unit is on scene.
    haster = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=BISLETT[0], lon=BISLETT[1], accuracy_m=20),
            criteria_code="H.01.01",
        ),
        timeout=10,
    )
    assert haster.urgency == pb.URGENCY_HASTER
    await page.locator(f'#incidents [data-incident-id="{haster.id}"]').click()
    await page.locator(f'#incident-detail[data-incident-id="{haster.id}"] .facts-list').wait_for(
        timeout=WAIT_MS
    )
    quiet = page.locator('#incident-detail #cpr[data-step="none"]')
    await quiet.wait_for(timeout=WAIT_MS)
    assert await quiet.locator("button.urgent").count() == 0

    # Recognised and not guided: why is asked for (refused at the field without it); a
    # unit sent meanwhile does not take the half-typed reason away.
    form = quiet.locator('form[data-form="RecordCprGuidance"]')
    await form.locator('button[data-action="RecordCprGuidance"]').click()
    await form.locator('.field-error[data-field="reason"]').wait_for(timeout=WAIT_MS)
    await form.locator('[name="reason"]').fill("Innringer er alene og kan ikke gå")
    await assign_free_unit(stub, haster.id)
    await page.locator("#incident-detail ul.assigned").wait_for(timeout=WAIT_MS)
    reason = form.locator('[name="reason"]')
    assert await reason.input_value() == "Innringer er alene og kan ikke gå"
    await reason.fill("Innringer er alene og kan ikke gå til pasienten")
    await form.locator('button[data-action="RecordCprGuidance"]').click()
    not_given = page.locator('#incident-detail #cpr[data-step="not_given"]')
    await not_given.wait_for(timeout=WAIT_MS)
    assert "kan ikke gå til pasienten" in (await not_given.text_content() or "")
    assert await not_given.locator('button[data-step="CPR_STEP_STARTED"]').count() == 1
    assert await not_given.locator("form.cpr-not-given, button.urgent").count() == 0
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=haster.id), timeout=5)
    assert got.cpr.not_given_reason.startswith("Innringer er alene")
    await stub.ChangeIncidentStatus(
        pb.ChangeIncidentStatusRequest(
            request_id=rid(), incident_id=haster.id, status=pb.INCIDENT_STATUS_ON_SCENE
        ),
        timeout=10,
    )
    # On scene: what was recorded stays shown; only a correction of it is offered.
    await page.locator(
        '#incident-detail #cpr[data-step="not_given"] button.cpr-record'
    ).first.wait_for(state="detached", timeout=WAIT_MS)
    shown = page.locator('#incident-detail #cpr[data-step="not_given"]')
    assert await shown.count() == 1 and await shown.locator("button.cpr-record").count() == 0
    correct = shown.locator("form.cpr-correct")
    offered = await correct.locator('[name="end"] option').evaluate_all(
        "os => os.map(o => o.value)"
    )
    assert offered == ["", "CPR_END_NOT_ARREST", "CPR_END_WRONG_INCIDENT"], offered
    await correct.locator('[name="end"]').select_option("CPR_END_WRONG_INCIDENT")
    await correct.locator('button[data-action="RecordCprGuidance"]').click()
    fixed = page.locator('#incident-detail #cpr[data-ended="CPR_END_WRONG_INCIDENT"]')
    await fixed.wait_for(timeout=WAIT_MS)
    assert await fixed.locator("form, button").count() == 0
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=haster.id), timeout=5)
    assert got.cpr.end == pb.CPR_END_WRONG_INCIDENT and got.cpr.not_given_reason
    assert page.amk_errors == []
    await page.context.close()


async def test_an_answered_call_ends_without_an_incident_with_how_it_ended(
    browser, web, stub
) -> None:
    """A caller who needs the legevakt, not an ambulance: the call-taker answers, and
    closes the call with how it ended (refused at the field without it, nothing written;
    after a reload the call is shown again to be ended); the call leaves the queue as
    completed with its outcome, the new-incident form no longer holds it, and nothing in
    the page failed."""
    call = await receive_call(stub, "+47 90 11 31 13", BISLETT)
    page = await open_console(browser, web, web.token("lise", "call-taker", "oslo"))
    await page.locator(f'#calls [data-call-id="{call.id}"]').wait_for(timeout=WAIT_MS)
    await page.click('button[data-action="AnswerNextCall"]')
    shown = page.locator(".answered-call:not([hidden])")
    await shown.wait_for(timeout=WAIT_MS)
    assert call.id in (await shown.text_content() or "")
    incident_form = page.locator('form[data-form="CreateIncident"] [name="call_id"]')
    assert await incident_form.input_value() == call.id

    # A reload brings back the call this person is still talking on, to end it.
    await page.reload()
    await page.wait_for_selector("#whoami")
    await shown.wait_for(timeout=WAIT_MS)
    assert call.id in (await shown.text_content() or "")
    close = shown.locator("form.call-close")
    await close.locator('button[data-action="CloseCall"]').click()
    await close.locator('.field-error[data-field="outcome"]').wait_for(timeout=WAIT_MS)
    still = await stub.ListCalls(pb.ListCallsRequest(regions=["oslo"]), timeout=5)
    assert {c.id: c.status for c in still.calls}[call.id] == pb.CALL_STATUS_ANSWERED
    await close.locator('[name="outcome"]').select_option("CALL_OUTCOME_LEGEVAKT")
    await close.locator('[name="note"]').fill("Henvist til Oslo legevakt")
    await close.locator('button[data-action="CloseCall"]').click()
    await page.locator(".answered-call[hidden]").wait_for(state="attached", timeout=WAIT_MS)
    assert "legevakt" in (await page.locator("#calls-panel .done").text_content() or "")
    await page.locator(f'#calls [data-call-id="{call.id}"]').wait_for(
        state="detached", timeout=WAIT_MS
    )
    assert await incident_form.input_value() == ""
    # The queue has been redrawn without the call (above): it did not come back.
    assert await page.locator(".answered-call[hidden]").count() == 1
    done = await stub.ListCalls(
        pb.ListCallsRequest(regions=["oslo"], status=pb.CALL_STATUS_COMPLETED), timeout=5
    )
    (closed,) = [c for c in done.calls if c.id == call.id]
    assert (closed.outcome, closed.outcome_note) == (
        pb.CALL_OUTCOME_LEGEVAKT,
        "Henvist til Oslo legevakt",
    )
    assert closed.closed_by.startswith("lise")
    assert page.amk_errors == []
    await page.context.close()


async def test_an_answered_call_from_a_number_that_rang_before_shows_what_it_came_to(
    browser, web, stub
) -> None:
    """A caller who rang an hour ago rings again: the answered call shows, with the
    emphasis of the last day, the earlier incident from that number (written another
    way), and not the call being talked on."""
    digits = f"9{random.randrange(10**7):07d}"
    earlier = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=BISLETT[0], lon=BISLETT[1], accuracy_m=30),
            caller_number=f"0047 {digits}",
            criteria_code="V.01.01",
        ),
        timeout=10,
    )
    call = await receive_call(stub, f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}", BISLETT)
    page = await open_console(browser, web, web.token("mona", "call-taker", "oslo"))
    await page.locator(f'#calls [data-call-id="{call.id}"]').wait_for(timeout=WAIT_MS)
    await page.click('button[data-action="AnswerNextCall"]')
    shown = page.locator(".answered-call:not([hidden])")
    await shown.wait_for(timeout=WAIT_MS)
    assert call.id in (await shown.locator("dd.mono").text_content() or "")
    history = shown.locator('.caller-history[data-state="recent"]')
    await history.wait_for(timeout=WAIT_MS)
    (line,) = await history.locator("li.earlier-incident.recent").all_text_contents()
    assert earlier.id in line
    assert await history.locator("li.earlier-call").count() == 0  # the call talked on
    close = shown.locator("form.call-close")
    await close.locator('[name="outcome"]').select_option("CALL_OUTCOME_ADVICE")
    await close.locator('button[data-action="CloseCall"]').click()
    await page.locator(".answered-call[hidden]").wait_for(state="attached", timeout=WAIT_MS)
    assert page.amk_errors == []
    await page.context.close()


async def test_a_call_taker_moves_an_incident_to_where_the_caller_says_it_is(
    browser, web, stub
) -> None:
    """The handset's position was far off: the call-taker takes the place from a click
    on the map and types the address the caller gives (nothing given: refused at the
    position, nothing written); the incident has them, the old place is in a note, and
    the form says what a move does not change (the unit already sent is to be radioed;
    the place lies in Vestre Viken's area)."""
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=BISLETT[0], lon=BISLETT[1], accuracy_m=900),
        ),
        timeout=10,
    )
    sent = await assign_free_unit(stub, inc.id)
    inc = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    page = await open_console(browser, web, web.token("kari", "call-taker", "oslo"))
    await page.locator(f'#incidents [data-incident-id="{inc.id}"]').click()
    form = page.locator(
        f'#incident-detail[data-incident-id="{inc.id}"] form[data-form="ChangeIncidentLocation"]'
    )
    await form.wait_for(timeout=WAIT_MS)
    await form.locator('button[data-action="ChangeIncidentLocation"]').click()
    await form.locator('.field-error[data-field="position"]').wait_for(timeout=WAIT_MS)
    same = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert same.revision == inc.revision

    # A click on the map (as the map reports one) gives the form its position.
    await page.evaluate(
        "async () => { (await import('/static/js/desk.js')).mapClicked(59.7439, 10.2045); }"
    )
    await form.locator('button[data-action="use-map-click"]').click()
    assert await form.locator('[name="position.lat"]').input_value() == "59.7439"
    await form.locator('[name="address"]').fill("Bragernes torg 1")
    await form.locator('button[data-action="ChangeIncidentLocation"]').click()
    said = form.locator(".relocate-said", has_text="endret")
    await said.wait_for(timeout=WAIT_MS)
    text = await said.text_content() or ""
    assert sent.call_sign in text and "samband" in text, text  # the unit sent: radio it
    assert "Buskerud" in text, text  # Vestre Viken's area: a hand-over is asked for
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id), timeout=5)
    assert (got.position.lat, got.position.lon, got.address) == (
        59.7439,
        10.2045,
        "Bragernes torg 1",
    )
    assert got.region == "oslo"
    notes = page.locator(f'#incident-detail[data-incident-id="{inc.id}"] .notes')
    await notes.filter(has_text="Location changed from").wait_for(timeout=WAIT_MS)
    assert page.amk_errors == []
    await page.context.close()


async def test_a_dispatcher_enters_a_crews_arrival_with_the_time_it_gave_on_the_radio(
    browser, web, stub, etcd, cluster
) -> None:
    """The unit's form takes the time the crew gave: one before the unit set off is
    refused with nothing written; one after it is taken (the journal keeps it), and the
    field is empty again for the unit's next status."""
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=BISLETT[0], lon=BISLETT[1], accuracy_m=20),
        ),
        timeout=10,
    )
    unit = (await assign_free_unit(stub, inc.id)).id
    await stub.ChangeUnitStatus(
        pb.ChangeUnitStatusRequest(request_id=rid(), unit_id=unit, status=pb.UNIT_STATUS_EN_ROUTE),
        timeout=10,
    )
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    row = page.locator(f'#units [data-unit-id="{unit}"][data-status="UNIT_STATUS_EN_ROUTE"]')
    await row.click()
    form = page.locator('.unit-selected form[data-form="ChangeUnitStatus"]')
    await form.wait_for(timeout=WAIT_MS)
    when = form.locator('input[type="time"]')
    await form.locator('[name="status"]').select_option("UNIT_STATUS_ON_SCENE")

    # Half an hour ago: before the unit set off.
    before = await etcd.revision()
    earlier = await page.evaluate(
        "() => new Date(Date.now() - 30 * 60000).toTimeString().slice(0, 5)"
    )
    await when.fill(earlier)
    await form.locator('button[data-action="ChangeUnitStatus"]').click()
    await form.locator(".form-error", has_text="last status change").wait_for(timeout=WAIT_MS)
    assert await etcd.revision() == before

    # Now, to the second (the browser's own clock): after the unit set off.
    now = await page.evaluate("() => new Date().toTimeString().slice(0, 8)")
    await when.fill(now)
    await form.locator('button[data-action="ChangeUnitStatus"]').click()
    await page.locator(
        f'#units [data-unit-id="{unit}"][data-status="UNIT_STATUS_ON_SCENE"]'
    ).wait_for(timeout=WAIT_MS)
    assert await when.input_value() == ""  # the next status happens later
    keys = Keys(cluster.config.key_prefix)
    entries, _ = await etcd.get_prefix(keys.journal_prefix("oslo"))
    (entry,) = [
        e
        for e in (json.loads(kv.value) for kv in entries)
        if e["command"] == "ChangeUnitStatus" and e.get("occurred_at") and unit in e["ids"]
    ]
    assert entry["occurred_at"] <= entry["at"] and entry["on_scene_of"] == inc.id
    assert page.amk_errors == []
    await page.context.close()


async def test_a_dispatcher_sees_earlier_incidents_at_the_place_of_the_selected_one(
    browser, web, stub
) -> None:
    """Has the AMK been here before? Asked from the selected incident: an earlier
    incident at the same door (40 m off, its note warning of a dog) is listed with that
    note, its criteria code and its distance, as is a neighbour's 60 m off; one 4 km away
    and the selected incident itself are not. Words narrow the list (a word of the note
    keeps that one alone, another leaves none), a word too short is refused next to its
    field, and the earlier incident's id opens it in the panel."""
    # A place of this run's own, so another run against the same deployment is apart.
    sagene = (59.9380 + random.uniform(-0.004, 0.004), 10.7560)
    earlier = await incident(stub, (sagene[0] + 0.00036, sagene[1]), "V.01.01", "Sandakerveien 9")
    neighbour = await incident(stub, (sagene[0], sagene[1] + 0.00108), address="Sandakerveien 11")
    await stub.AddIncidentNote(
        pb.AddIncidentNoteRequest(
            request_id=rid(), incident_id=earlier.id, text="Hund i gangen, ring på bakdøra"
        ),
        timeout=10,
    )
    far = await incident(stub, (sagene[0] + 0.036, sagene[1]), address="Sandakerveien 9")
    selected = await incident(stub, sagene, address="Sandakerveien 9")
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.locator(f'#incidents [data-incident-id="{selected.id}"]').click()
    box = page.locator(f'#incident-detail .earlier-here[data-incident-id="{selected.id}"]')
    await box.wait_for(timeout=WAIT_MS)
    assert await box.locator('[name="radius_m"]').input_value() == "100"  # accuracy 25 m
    search = box.locator('button[data-action="SearchIncidents"]')
    found = page.locator(f'.earlier-here[data-state="found"][data-incident-id="{selected.id}"]')
    await search.click()
    await found.wait_for(timeout=WAIT_MS)
    lines = box.locator("li.earlier-here-incident")
    ids = [await li.get_attribute("data-id") for li in await lines.all()]
    assert sorted(ids) == sorted([earlier.id, neighbour.id]), ids
    assert far.id not in ids and selected.id not in ids
    line = box.locator(f'li.earlier-here-incident[data-id="{earlier.id}"]')
    text = await line.text_content() or ""
    assert "Hund i gangen" in text and "40 m" in text and "V.01.01" in text, text

    words = box.locator('[name="text"]')
    await words.fill("bakdøra")
    await search.click()
    await found.wait_for(timeout=WAIT_MS)
    assert [await li.get_attribute("data-id") for li in await lines.all()] == [earlier.id]
    await words.fill("katt")
    await search.click()
    await page.locator(
        f'.earlier-here[data-state="none"][data-incident-id="{selected.id}"]'
    ).wait_for(timeout=WAIT_MS)

    await words.fill("ab")
    await search.click()
    await (
        box.locator('.field-error[data-field="text"]')
        .filter(has_text="3")
        .wait_for(timeout=WAIT_MS)
    )
    assert await page.locator(".earlier-here").get_attribute("data-state") == "error"

    await words.fill("")
    await search.click()
    await found.wait_for(timeout=WAIT_MS)
    await line.locator("button").click()
    await page.locator(f'#incident-detail[data-incident-id="{earlier.id}"]').wait_for(
        timeout=WAIT_MS
    )
    assert page.amk_errors == []
    await page.context.close()


async def test_the_key_figures_are_of_the_period_chosen_never_the_whole_archive(
    browser, web, stub
) -> None:
    """The KPI panel asks GetKpis for the last 24 hours (at load, every minute, on its
    button) or the period chosen: never without ``since``, which is every record in the
    archive, months of them in service. A mission dispatched just now is in the figures
    of either period."""

    async def asked_since(request) -> float:
        body = json.loads(request.post_data or "{}")
        return datetime.fromisoformat(body["since"].replace("Z", "+00:00")).timestamp()

    inc = await incident(stub, BISLETT, "A.11.01")
    await assign_free_unit(stub, inc.id)
    page = await open_console(browser, web, web.token("siri", "supervisor", "oslo"))
    await page.locator('#kpis figure[data-measure="dispatch"]').wait_for(timeout=WAIT_MS)
    kpis = "/api/rpc/GetKpis"
    async with page.expect_request(lambda r: r.url.endswith(kpis)) as day:
        await page.click('button[data-action="GetKpis"]')
    assert abs(time.time() - 86400 - await asked_since(await day.value)) < 300
    # Its answer drawn (the button is given back then): nothing older can draw after it.
    await page.wait_for_function(
        "() => !document.querySelector('button[data-action=GetKpis]').disabled",
        timeout=WAIT_MS,
    )
    await page.evaluate("() => document.querySelector('#kpis').replaceChildren()")
    async with page.expect_request(lambda r: r.url.endswith(kpis)) as week:
        await page.select_option("#kpis-window", str(7 * 86400))
    assert abs(time.time() - 7 * 86400 - await asked_since(await week.value)) < 300
    # Drawn again from the 7-day answer (the charts were emptied after the last one).
    await page.locator('#kpis figure[data-measure="dispatch"]').wait_for(timeout=WAIT_MS)
    assert page.amk_errors == []
    await page.context.close()


async def test_a_supervisor_looks_back_at_the_board_as_it_stood(browser, web, stub) -> None:
    """The board at a past moment, asked in the browser's local time: just after an
    incident was created and given a unit, it is listed open with that unit's call sign,
    the unit is among the units with its status, and Oslo's owner is named; the map
    draws it too, until its box takes it away. Five seconds before the incident was
    created, it is not there. A moment in the future is refused next to its field, and
    a call-taker has no such panel."""
    tag = uuid.uuid4().hex[:6]
    inc = await incident(stub, BISLETT, "A.11.01", f"Pilestredet 40 {tag}")
    unit = await assign_free_unit(stub, inc.id)
    await asyncio.sleep(1.1)  # the moment asked is to the second: after the assignment
    after_ms = int(time.time()) * 1000
    before_ms = inc.created_at.ToMilliseconds() - 5000
    # A desk in Norway: its wall clock is not UTC, so a moment read as UTC would be off.
    token = web.token("siri", "supervisor", "oslo")
    page = await open_console(browser, web, token, timezone="Europe/Oslo")
    panel = page.locator("#board-at-panel")
    await panel.wait_for(timeout=WAIT_MS)
    await page.wait_for_function("() => window.amk.pointOf(59.9, 10.7) !== null", timeout=WAIT_MS)

    async def board_at(ms: int) -> None:
        # The input takes this browser's wall clock: set it as the page would show ``ms``.
        await page.evaluate(
            """(ms) => {
              const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
              document.querySelector('#board-at-panel input[name=at]').value =
                d.toISOString().slice(0, 19);
            }""",
            ms,
        )
        async with page.expect_response(lambda r: r.url.endswith("/api/rpc/GetBoardAt")):
            await panel.locator('button[data-action="GetBoardAt"]').click()

    def answered(ms: int) -> str:  # the moment the answer is for, as the API writes it
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    await board_at(after_ms)
    shown = page.locator('#board-at[data-state="shown"]')
    await shown.wait_for(timeout=WAIT_MS)
    assert await shown.get_attribute("data-at") == answered(after_ms)
    line = shown.locator(f'li.board-at-incident[data-id="{inc.id}"]')
    text = await line.text_content() or ""
    assert unit.call_sign in text and "A.11.01" in text and tag in text, text
    assert await shown.locator(f'.board-at-units li[data-id="{unit.id}"]').count() == 1
    assert await shown.locator('.board-at-owners li[data-region="oslo"]').count() == 1
    # And on the map, dashed under the live markers, with a box that takes it away.
    drawn = await page.evaluate("() => window.amk.drawn")
    listed = await shown.locator("li.board-at-incident").count()
    listed_units = await shown.locator(".board-at-units li").count()
    assert (drawn["pastIncidents"], drawn["pastUnits"]) == (listed, listed_units), drawn
    past = page.locator(".past-box")
    assert "Stiplet" in (await past.text_content() or "")
    await past.locator('button[data-action="clear-past"]').click()
    await page.wait_for_function("() => window.amk.drawn.pastUnits === 0", timeout=WAIT_MS)
    assert await past.count() == 0

    await board_at(before_ms)
    await shown.wait_for(timeout=WAIT_MS)
    assert await shown.get_attribute("data-at") == answered(before_ms // 1000 * 1000)
    assert await shown.locator(f'li.board-at-incident[data-id="{inc.id}"]').count() == 0

    await board_at(after_ms + 86400 * 1000)
    error = panel.locator('.field-error[data-field="at"]').filter(has_text="future")
    await error.wait_for(timeout=WAIT_MS)
    assert await page.locator("#board-at").get_attribute("data-state") == "error"
    assert page.amk_errors == []
    await page.context.close()

    # A call-taker may not ask for it (access.toml): the panel is not on the page.
    page = await open_console(browser, web, web.token("kari", "call-taker", "oslo"))
    await page.locator("#incidents").wait_for(timeout=WAIT_MS)
    assert await page.locator("#board-at-panel").count() == 0
    await page.context.close()
