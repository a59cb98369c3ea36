"""The web console's "done when" lines of issue #14, in headless chromium.

A call-taker and a dispatcher, each in a browser context of their own, against one
deployment (five centres, the session's etcd and Ray) and its web server; a crew through
the gRPC API. Waits are bounded generously (this is a 2-core machine running the whole
suite); each delay the issue sets a target for is measured and printed, and the browser
benchmark (``bench/web_bench.py``) holds the figures against the targets.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import uuid

import pytest

from actors.domain.triage import default_table
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError
from cluster.tls import console_identity, open_channel
from tests.browser.conftest import (
    BISLETT,
    KARL_JOHAN,
    WAIT_MS,
    WebConsole,
    open_console,
    receive_call,
    shown,
)
from tests.helpers import assert_eventually, rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]


async def map_click(page, lat: float, lon: float) -> None:
    """Click the map where (lat, lon) is drawn, zoomed in (no marker under the click)."""
    await page.evaluate("([lat, lon]) => window.amk.showOnMap(lat, lon, 15)", [lat, lon])
    x, y = await page.evaluate("([lat, lon]) => window.amk.pointOf(lat, lon)", [lat, lon])
    await page.mouse.click(x, y)


def crew_stub(web: WebConsole, unit: str):
    """The crew of ``unit``: its own token (CN/claim = unit id), the gRPC API."""
    from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

    token = web.token(unit, "crew", "oslo", unit=unit)
    channel = open_channel(web.cluster.gateway, console_identity(web.config), token=token)
    return channel, pb_grpc.DispatchServiceStub(channel)


async def crew_reports(web: WebConsole, unit: str, status: int) -> None:
    """``unit``'s crew reports ``status`` through the gRPC API, as its own device does."""
    channel, crew = crew_stub(web, unit)
    try:
        await crew.ChangeUnitStatus(
            pb.ChangeUnitStatusRequest(request_id=rid(), unit_id=unit, status=status),
            timeout=10,
        )
    finally:
        await channel.close()


async def test_call_taker_answers_creates_on_the_map_and_triages_dispatcher_assigns_crew_moves(
    browser, web, stub
) -> None:
    call = await receive_call(stub, "+47 22 11 22 33", KARL_JOHAN)
    taker = await open_console(browser, web, web.token("kari", "call-taker", "oslo"))
    dispatcher = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))

    # The call-taker signs in and answers the queued call.
    await shown(taker, f'#calls [data-call-id="{call.id}"]')
    await taker.click('button[data-action="SignIn"]')
    await taker.click('button[data-action="AnswerNextCall"]')
    form = taker.locator('form[data-form="CreateIncident"]')
    await form.wait_for(timeout=WAIT_MS)

    async def call_in_form() -> None:
        assert await form.locator('[name="call_id"]').input_value() == call.id

    await assert_eventually(call_in_form, timeout_s=WAIT_MS / 1000)

    # The position comes from a click on the map.
    await map_click(taker, *KARL_JOHAN)
    lat = float(await form.locator('[name="position.lat"]').input_value())
    lon = float(await form.locator('[name="position.lon"]').input_value())
    assert abs(lat - KARL_JOHAN[0]) < 0.01 and abs(lon - KARL_JOHAN[1]) < 0.01
    address = f"Karl Johans gate {uuid.uuid4().hex[:6]}"
    await form.locator('[name="address"]').fill(address)
    await form.locator('button[data-action="CreateIncident"]').click()
    row = taker.locator("#incidents [data-incident-id]", has_text=address)
    await row.wait_for(timeout=WAIT_MS)
    incident = await row.get_attribute("data-incident-id")
    assert incident

    # Triage from the searchable criteria list.
    await row.click()
    triage = taker.locator('form[data-form="TriageIncident"]')
    await triage.wait_for(timeout=WAIT_MS)
    search = triage.locator(".criteria-search")
    # A complaint typed lists its chapter's criteria first; one that says the complaint
    # is absent ("Besvimte ..., ingen brystsmerter": vanlig) comes after them all.
    await search.fill("brystsmerter")
    codes = await triage.locator(".criteria-list [data-code]").evaluate_all(
        "els => els.map(e => e.dataset.code)"
    )
    assert codes[0] == "A.11.01" and codes[-1] == "V.03.01", codes
    # By keyboard: the arrow keys walk the matches shown, Enter keeps the one chosen.
    await search.fill("A.10.0")
    shown_codes = await triage.locator(".criteria-list [data-code]").evaluate_all(
        "els => els.map(e => e.dataset.code)"
    )
    assert len(shown_codes) >= 2 and shown_codes[1].startswith("A."), shown_codes
    for _ in range(2):  # the second match, not the first Enter alone would take
        await search.press("ArrowDown")
    await search.press("Enter")
    chosen = triage.locator('.criteria-list [aria-selected="true"]')
    assert await chosen.get_attribute("data-code") == shown_codes[1]
    # In the Norwegian console, the criterion reads in Norwegian.
    text = await chosen.locator(".criterion-text").text_content()
    assert text == default_table().criteria[shown_codes[1]].text_no
    await triage.locator('button[data-action="TriageIncident"]').click()
    akutt = f'#incidents [data-incident-id="{incident}"][data-urgency="URGENCY_AKUTT"]'
    await shown(taker, akutt)
    await shown(dispatcher, akutt)

    # The dispatcher assigns the top recommendation with one click.
    await dispatcher.locator(f'#incidents [data-incident-id="{incident}"]').click()
    await dispatcher.click('button[data-action="RecommendUnits"]')
    top = dispatcher.locator("#recommendations [data-unit-id]").first
    await top.wait_for(timeout=WAIT_MS)
    # Its ETA as a travel time ("2 min 30 s"), not "2:30", which reads as a clock time.
    eta = (await top.locator("td.eta").text_content() or "").strip()
    assert re.fullmatch(r"\d+ min( \d+ s)?|\d+ s", eta), eta
    # Its reason and note in Norwegian, with the decimal comma (actors/domain/phrases.py).
    reason = await top.locator("td.reason").text_content() or ""
    # The rule's note shown, the sum behind the ETA folded (five lines in its column).
    assert await top.locator("td.reason details").get_attribute("open") is None
    assert await top.locator("td.reason .note").is_visible()
    assert "km/t" in reason and "km/h" not in reason and "min" in reason, reason
    assert re.search(r"\d,\d", reason), reason
    unit = await top.get_attribute("data-unit-id")
    await top.locator('button[data-action="AssignUnit"]').click()
    assigned = f'#units [data-unit-id="{unit}"][data-status="UNIT_STATUS_ASSIGNED"]'
    await shown(dispatcher, assigned)

    # The crew reports en route through the API; both consoles show it.
    sent = time.monotonic()
    await crew_reports(web, unit, pb.UNIT_STATUS_EN_ROUTE)
    en_route = f'#units [data-unit-id="{unit}"][data-status="UNIT_STATUS_EN_ROUTE"]'
    seen = [await shown(page, en_route) - sent for page in (taker, dispatcher)]
    print(f"\ncrew status -> both consoles: {max(seen) * 1000:.0f} ms (target 1,000 ms)")

    # The selected unit's line follows what its crew reports.
    await dispatcher.locator(en_route).click()
    now_line = dispatcher.locator(f'p.unit-now[data-unit-id="{unit}"]')
    await now_line.filter(has_text="Utrykning").wait_for(timeout=WAIT_MS)
    await crew_reports(web, unit, pb.UNIT_STATUS_ON_SCENE)
    await now_line.filter(has_text="På stedet").wait_for(timeout=WAIT_MS)

    # Chosen in the list while the map shows elsewhere: the map goes to it.
    await dispatcher.evaluate("() => window.amk.showOnMap(69.65, 18.96, 12)")  # Tromsø
    await dispatcher.locator(f'#incidents [data-incident-id="{incident}"]').click()

    async def on_the_map() -> None:
        x, y = await dispatcher.evaluate(
            "([lat, lon]) => window.amk.pointOf(lat, lon)", list(KARL_JOHAN)
        )
        box = await dispatcher.locator("#map").bounding_box()
        assert box is not None
        assert box["x"] <= x <= box["x"] + box["width"], (x, box)
        assert box["y"] <= y <= box["y"] + box["height"], (y, box)

    await assert_eventually(on_the_map, timeout_s=WAIT_MS / 1000)
    assert taker.amk_errors == [] and dispatcher.amk_errors == []
    for page in (taker, dispatcher):
        await page.context.close()


async def open_incidents(stub, seed, regions: tuple[str, ...], n: int) -> None:
    """``n`` open, triaged incidents a few km from the seed's stations in ``regions``."""
    import random

    rng = random.Random(14)
    places = [(u.region, u.lat, u.lon) for u in seed.units if u.region in regions]
    codes = ("A.10.01", "A.10.02", "H.10.01", "H.10.02", "H.10.03", "V.10.01", "V.10.02")
    for i in range(n):
        region, lat, lon = rng.choice(places)
        await stub.CreateIncident(
            pb.CreateIncidentRequest(
                request_id=rid(),
                region=region,
                position=pb.Position(
                    lat=lat + rng.uniform(-0.06, 0.06), lon=lon + rng.uniform(-0.1, 0.1)
                ),
                address=f"Adresse {i}",
                criteria_code=codes[i % len(codes)],
            )
        )


async def test_screenshots_of_the_map_and_the_call_queue_under_load(
    browser, web, stub, screenshot_dir
) -> None:
    """The README's pictures: the seed, 80 open incidents near the seed's stations, a
    short load (incidents created, triaged, dispatched and closed by the load generator
    through the gateway) and six 113 calls waiting in Oslo's queue.
    ``AMK_SCREENSHOTS=docs/img`` keeps them."""
    import asyncio

    from clients.console_tokens import ConsoleRoom
    from clients.loadgen import History, LoadGenerator, LoadSpec

    spec = LoadSpec(rate=12, concurrency=3, duration_s=20, regions=("oslo", "vestre-viken"))
    room = ConsoleRoom(web.config)
    tls = console_identity(web.config)
    load = LoadGenerator(web.config.gateways, web.config.seed, spec, History(), tls=tls, room=room)
    load.start()
    try:
        await open_incidents(stub, web.config.seed, ("oslo", "vestre-viken"), 80)
        for i in range(6):
            await receive_call(stub, f"+47 9{i}0 12 34{i}", (59.91 + 0.02 * i, 10.75), 40)
        desk = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"), "map")
        lists = await open_console(browser, web, web.token("kari", "call-taker", "oslo"), "lists")
        await desk.wait_for_function("() => window.amk.drawn.incidents >= 60", timeout=WAIT_MS)
        await lists.wait_for_function(
            "() => document.querySelectorAll('#calls [data-call-id]').length >= 6",
            timeout=WAIT_MS,
        )
        await desk.screenshot(path=str(screenshot_dir / "web-console-map.png"))
        await lists.screenshot(path=str(screenshot_dir / "web-console-lists.png"))
    finally:
        load.stop()
        await asyncio.to_thread(load.join, 30)
    summary = load.summary()
    # FAILED_PRECONDITION: a unit the load generator picked was taken by this module's
    # dispatcher (the load generator assumes the fleet is its own); nothing else.
    assert summary["acked"] > 0 and set(summary["errors"]) <= {"FAILED_PRECONDITION"}, summary
    for name in ("web-console-map.png", "web-console-lists.png"):
        assert (screenshot_dir / name).stat().st_size > 50_000, name
    assert desk.amk_errors == [] and lists.amk_errors == []
    for page in (desk, lists):
        await page.context.close()


async def _refused_latitude(page: object) -> str:
    """Send a new incident at latitude 95 from ``page``; the text at the field."""
    await page.keyboard.press("Alt+N")  # type: ignore[attr-defined]
    form = page.locator('form[data-form="CreateIncident"]')  # type: ignore[attr-defined]
    await form.wait_for(timeout=WAIT_MS)
    await form.locator('[name="region"]').select_option("oslo")
    await form.locator('[name="position.lat"]').fill("95")
    await form.locator('[name="position.lon"]').fill("10.7")
    await form.locator('button[data-action="CreateIncident"]').click()
    error = form.locator('.field-error[data-field="position.lat"]')
    await error.wait_for(timeout=WAIT_MS)
    return await error.text_content() or ""


async def test_bad_input_shows_the_servers_message_at_the_field_and_roles_shape_the_page(
    browser, web, etcd
) -> None:
    """The refusal is at its field, in the console's language first ("Ugyldig verdi",
    or "Invalid value" once English is chosen), then the gateway's own message naming
    the field; nothing is written."""
    taker = await open_console(browser, web, web.token("kari", "call-taker", "oslo"))
    before = await etcd.revision()
    text = await _refused_latitude(taker)
    assert text.startswith("Ugyldig verdi: ") and "lat" in text, text
    assert await etcd.revision() == before, "bad input wrote to etcd"
    await taker.evaluate("localStorage.setItem('amk.lang', 'en')")
    await taker.reload()
    await taker.wait_for_selector("#whoami")
    text = await _refused_latitude(taker)
    assert text.startswith("Invalid value: ") and "lat" in text, text
    assert await etcd.revision() == before, "bad input wrote to etcd"
    # A call-taker has no supervisor's actions; an engineer no patient actions.
    assert await taker.locator('[data-action="HandOverRegion"]').count() == 0
    engineer = await open_console(browser, web, web.token("per", "engineer", "oslo"))
    assert await engineer.locator('[data-action="CreateIncident"]').count() == 0
    assert await engineer.locator("#break-glass").count() == 0  # no break-glass for the role
    assert await engineer.locator('[data-action="AnswerNextCall"]').count() == 0
    for page in (taker, engineer):
        await page.context.close()


async def test_break_glass_opens_another_centres_incident_with_a_reason_shown_and_sent(
    browser, web, stub, etcd
) -> None:
    """A dispatcher of Vestfold og Telemark opens an Oslo incident by its id: a reason
    too short is refused at its field with nothing written; with a reason the incident
    is shown with it, marked logged and not live; a note from the panel carries the
    reason (the gateway accepts it), and "fetch again" shows a change made meanwhile."""
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=KARL_JOHAN[0], lon=KARL_JOHAN[1], accuracy_m=25),
            address=f"Prinsens gate {uuid.uuid4().hex[:6]}",
        )
    )
    page = await open_console(browser, web, web.token("siri", "dispatcher", "vestfold-telemark"))
    await page.wait_for_function("() => window.amk.snapshots === 1", timeout=WAIT_MS)
    assert await page.locator(f'#incidents [data-incident-id="{inc.id}"]').count() == 0
    await page.locator("#break-glass summary").click()
    form = page.locator('#break-glass form[data-form="GetIncident"]')
    await form.locator('[name="incident_id"]').fill(inc.id)
    await form.locator('[name="break_glass"]').fill("trengs")
    before = await etcd.revision()
    await form.locator('button[data-action="GetIncident"]').click()
    error = form.locator('.field-error[data-field="break_glass"]')
    await error.wait_for(timeout=WAIT_MS)
    assert "10" in (await error.text_content() or "")
    assert await etcd.revision() == before
    reason = "Storulykke på Ring 3, AMK Oslo ber om avlastning"
    await form.locator('[name="break_glass"]').fill(reason)
    await form.locator('button[data-action="GetIncident"]').click()
    detail = page.locator(f'#incident-detail[data-incident-id="{inc.id}"]')
    banner = detail.locator(".break-glass-banner", has_text=reason)
    await banner.wait_for(timeout=WAIT_MS)
    assert "følges ikke live" in (await banner.text_content() or "")
    row = page.locator(f'#incidents [data-incident-id="{inc.id}"] .glass-mark')
    await row.wait_for(state="attached", timeout=WAIT_MS)
    notes = detail.locator('form[data-form="AddIncidentNote"]')
    await notes.locator('[name="text"]').fill("Vestfold og Telemark følger opp")
    await notes.locator('button[data-action="AddIncidentNote"]').click()
    await detail.locator("ul.notes li", has_text="Vestfold og Telemark følger opp").wait_for(
        timeout=WAIT_MS
    )
    got = await stub.GetIncident(pb.GetIncidentRequest(incident_id=inc.id))
    assert [(n.author, n.text) for n in got.notes] == [("siri", "Vestfold og Telemark følger opp")]
    await stub.AddIncidentNote(
        pb.AddIncidentNoteRequest(request_id=rid(), incident_id=inc.id, text="Oslo: tatt over")
    )
    await banner.locator('button[data-action="GetIncident"]').click()
    await detail.locator("ul.notes li", has_text="Oslo: tatt over").wait_for(timeout=WAIT_MS)
    assert page.amk_errors == []
    await page.context.close()
    # Oslo's own dispatcher opens the same incident from the panel: in scope, it opens
    # as any other, with no break-glass banner.
    own = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await own.locator("#break-glass summary").click()
    form = own.locator('#break-glass form[data-form="GetIncident"]')
    await form.locator('[name="incident_id"]').fill(inc.id)
    await form.locator('button[data-action="GetIncident"]').click()
    await own.locator(f'#incident-detail[data-incident-id="{inc.id}"] h3').wait_for(timeout=WAIT_MS)
    assert await own.locator(".break-glass-banner, .glass-mark").count() == 0
    assert own.amk_errors == []
    await own.context.close()


async def test_a_dropped_connection_resumes_from_the_last_revision_without_a_reload(
    browser, web, stub
) -> None:
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.wait_for_function("() => window.amk.snapshots === 1", timeout=WAIT_MS)
    await page.evaluate("() => { window.__notReloaded = true; }")
    made: list[pb.Incident] = []

    async def create_while_down() -> None:
        made.append(
            await stub.CreateIncident(
                pb.CreateIncidentRequest(
                    request_id=rid(),
                    region="oslo",
                    position=pb.Position(lat=59.93, lon=10.71, accuracy_m=30),
                    address=f"Majorstuen {uuid.uuid4().hex[:6]}",
                )
            )
        )

    await web.restart(create_while_down)
    # The write made while the page had no connection arrives on the resumed stream.
    await shown(page, f'#incidents [data-incident-id="{made[0].id}"]')
    assert await page.evaluate("() => window.__notReloaded === true"), "the page reloaded"
    assert await page.evaluate("() => window.amk.snapshots") == 1, "it started over"
    assert page.amk_errors == []
    await page.context.close()


async def test_a_supervisor_hands_a_region_over_and_back_and_the_consoles_follow(
    browser, web, stub
) -> None:
    incident = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=59.95, lon=10.77, accuracy_m=30),
            address=f"Sagene {uuid.uuid4().hex[:6]}",
        )
    )
    listed = f'#incidents [data-incident-id="{incident.id}"]'
    boss = await open_console(browser, web, web.token("anne", "supervisor", "oslo"))
    south = await open_console(browser, web, web.token("lars", "dispatcher", "sorlandet"))
    await shown(boss, listed)
    # Sørlandet is no partner of Oslo's: its people do not see Oslo's incidents.
    assert await south.locator(listed).count() == 0, "another centre's incident is shown"

    over = boss.locator('form[data-form="HandOverRegion"]')
    await over.locator('[name="region"]').select_option("oslo")
    await over.locator('[name="to_centre"]').select_option("sorlandet")
    # Asked first, naming the region and what goes with it: no, and nothing moves.
    asked: list[str] = []
    answering: list[asyncio.Future] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        answering.append(asyncio.ensure_future(dialog.accept() if accept else dialog.dismiss()))

    boss.once("dialog", lambda d: answer(d, False))
    await over.locator('button[data-action="HandOverRegion"]').click()
    await over.locator(".form-error").filter(has_text="Ikke overført").wait_for(timeout=WAIT_MS)
    assert await boss.evaluate("() => window.amk.owners['oslo']") == "oslo"
    assert "Oslo" in asked[0] and "Åpne oppdrag (" in asked[0], asked
    boss.once("dialog", lambda d: answer(d, True))
    await over.locator('button[data-action="HandOverRegion"]').click()
    await south.wait_for_function(
        "() => window.amk.owners['oslo'] === 'sorlandet'", timeout=WAIT_MS
    )
    await shown(south, listed)  # now Sørlandet's to handle: shown, without a reload

    back = boss.locator('form[data-form="HandBackRegion"]')
    await back.locator('[name="region"]').select_option("oslo")
    await back.locator('button[data-action="HandBackRegion"]').click()
    await south.wait_for_function("() => window.amk.owners['oslo'] === 'oslo'", timeout=WAIT_MS)
    await south.locator(listed).wait_for(state="detached", timeout=WAIT_MS)
    # The supervisor's owners panel says it in Norwegian, from the status's parts.
    took = boss.locator('#owners [data-region="oslo"] td.takeover', has_text="fikk den tilbake fra")
    await took.wait_for(timeout=WAIT_MS)
    assert "Sørlandet" in (await took.text_content() or "")
    assert boss.amk_errors == [] and south.amk_errors == []
    for page in (boss, south):
        await page.context.close()


async def test_the_map_recolours_a_region_when_its_owner_is_killed_and_the_next_action_works(
    browser, web, stub, screenshot_dir
) -> None:
    # A dispatcher of Oslo's first backup, Vestre Viken, who will serve Oslo next.
    page = await open_console(browser, web, web.token("siri", "dispatcher", "vestre-viken"))
    await page.wait_for_function("() => window.amk.owners['oslo'] === 'oslo'", timeout=WAIT_MS)

    await page.evaluate("() => { window.__notReloaded = true; }")
    pid = await web.cluster.deployment.centres["oslo"].pid()
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    await page.wait_for_function(
        "() => window.amk.owners['oslo'] === 'vestre-viken'", timeout=WAIT_MS
    )
    print(f"\nSIGKILL of Oslo -> map recoloured: {(time.monotonic() - killed) * 1000:.0f} ms")
    assert await page.evaluate("() => window.__notReloaded === true"), "the page reloaded"
    owner = page.locator('#owners [data-region="oslo"]')
    assert await owner.get_attribute("data-owner") == "vestre-viken"

    # The next action: an incident in Oslo, made on the map by the new owner's dispatcher.
    await page.keyboard.press("Alt+N")
    form = page.locator('form[data-form="CreateIncident"]')
    await form.wait_for(timeout=WAIT_MS)
    await map_click(page, *BISLETT)
    address = f"Bislett {uuid.uuid4().hex[:6]}"
    await form.locator('[name="address"]').fill(address)
    region = form.locator('[name="region"]')
    if await region.count():
        await region.select_option("oslo")
    await form.locator('button[data-action="CreateIncident"]').click()
    await page.locator("#incidents [data-incident-id]", has_text=address).wait_for(timeout=WAIT_MS)
    await page.screenshot(path=str(screenshot_dir / "web-console-failover.png"))
    assert page.amk_errors == []

    async def oslo_back() -> None:  # the supervisor restarts it, a standby
        web.cluster.deployment.centres["oslo"].forget()
        try:
            status = await web.cluster.deployment.centres["oslo"].status(timeout_s=2)
        except AmkError as err:
            raise AssertionError(f"not back yet: {err}") from err
        assert status.pid != pid

    await assert_eventually(oslo_back, timeout_s=60)
    await page.context.close()


async def test_a_supervisor_suspends_a_person_from_the_desk_and_reinstates_them(
    browser, web
) -> None:
    """The supervisor's access forms: a reason too short is refused at its field and
    suspends nobody; with a reason the person is listed as suspended, their open console
    is refused (the live stream ends with the reason), and reinstated they work again."""
    user = f"nora-{uuid.uuid4().hex[:6]}"
    reason = "Oppslag uten tjenstlig behov, under gjennomgang"
    nora = await open_console(browser, web, web.token(user, "dispatcher", "oslo"))
    await nora.wait_for_function("() => window.amk.snapshots === 1", timeout=WAIT_MS)
    boss = await open_console(browser, web, web.token("siv", "supervisor", "oslo"))
    listed = boss.locator(f'#suspensions li[data-user="{user}"]')

    async def ask(method: str, body: dict) -> dict:
        """The web server's answer to the supervisor's own request (the page's cookie)."""
        return await boss.evaluate(
            """([method, body]) => fetch(`/api/rpc/${method}`, {method: 'POST',
                headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
              .then((r) => r.json())""",
            [method, body],
        )

    async def suspended() -> list[str]:
        return [d["user"] for d in (await ask("ListSuspensions", {}))["decisions"]]

    try:
        suspend = boss.locator('form[data-form="SuspendPerson"]')
        await suspend.locator('[name="user"]').fill(user)
        await suspend.locator('[name="reason"]').fill("for kort")
        await suspend.locator('button[data-action="SuspendPerson"]').click()
        error = suspend.locator('.field-error[data-field="reason"]')
        await error.wait_for(timeout=WAIT_MS)
        text = await error.text_content() or ""
        assert text.startswith("Ugyldig verdi: ") and "person is suspended" in text, text
        assert user not in await suspended(), "a refused suspension suspended them"

        await suspend.locator('[name="reason"]').fill(reason)
        await suspend.locator('button[data-action="SuspendPerson"]').click()
        await listed.wait_for(timeout=WAIT_MS)
        text = await listed.text_content() or ""
        assert reason in text and "sperret av siv" in text, text
        await boss.locator('button[data-action="ListSuspensions"]').click()  # asked again
        await boss.wait_for_function(
            "() => !document.querySelector('button[data-action=ListSuspensions]').disabled",
            timeout=WAIT_MS,
        )
        assert await listed.count() == 1
        banner = nora.locator(".banner", has_text="Ingen tilgang")
        await banner.wait_for(timeout=WAIT_MS)
        assert reason in (await banner.text_content() or "")

        reinstate = boss.locator('form[data-form="ReinstatePerson"]')
        await reinstate.locator('[name="user"]').fill(user)
        await reinstate.locator('[name="reason"]').fill("Gjennomgang ferdig, ingen brudd")
        await reinstate.locator('button[data-action="ReinstatePerson"]').click()
        await listed.wait_for(state="detached", timeout=WAIT_MS)
        await nora.reload()
        await nora.wait_for_function("() => window.amk.snapshots === 1", timeout=WAIT_MS)
        assert user not in await suspended()
        assert nora.amk_errors == [] and boss.amk_errors == []
    finally:
        if user in await suspended():  # a failure above: leave the module's cluster clean
            await ask("ReinstatePerson", {"user": user, "reason": "test rydder opp etter seg"})
        for page in (nora, boss):
            await page.context.close()
