"""The web console when etcd was restored from a backup under it (``amk etcd restore``):
it must not keep what the lost store had."""

from __future__ import annotations

import uuid

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.browser.conftest import WAIT_MS, open_console
from tests.helpers import rid

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(240),
]


async def test_a_page_that_saw_a_store_since_restored_starts_over_and_drops_what_it_held(
    browser, web, stub
) -> None:
    """After etcd is restored from a backup, a page holds records (and revisions) the
    store does not have. Reconnecting from beyond the store's revision, it is told to
    start over, and the new snapshot replaces what it held whatever its revisions."""
    page = await open_console(browser, web, web.token("ola", "dispatcher", "oslo"))
    await page.wait_for_function("() => window.amk.snapshots === 1", timeout=WAIT_MS)
    real = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=59.93, lon=10.72, accuracy_m=30),
            address=f"Frogner {uuid.uuid4().hex[:6]}",
        )
    )
    await page.wait_for_selector(
        f'#incidents [data-incident-id="{real.id}"]', state="attached", timeout=WAIT_MS
    )
    # What the page would hold from the lost store: a later version of this incident and
    # an incident this store never had, at revisions it has not reached.
    await page.evaluate(
        """async (id) => {
          const s = await import('/static/js/state.js');
          const held = s.store.incidents.get(id);
          s.putIncident({ ...held, address: 'from the lost store', revision: '900000001' });
          s.putIncident({ ...held, id: 'OSL-LOST01', revision: '900000002' });
        }""",
        real.id,
    )
    await page.wait_for_selector(
        '#incidents [data-incident-id="OSL-LOST01"]', state="attached", timeout=WAIT_MS
    )

    async def beyond(route) -> None:
        # The page's stream as the lost store left it: its last event id is a revision
        # this store has not reached. The page resumes from there when it ends.
        await route.fulfill(
            status=200,
            headers={"content-type": "text/event-stream", "cache-control": "no-cache"},
            body='id: 900000002\nevent: batch\ndata: {"events":[]}\n\n',
        )

    async def nothing() -> None:
        return None

    await page.route("**/api/live", beyond, times=1)
    await web.restart(nothing)
    await page.wait_for_function("() => window.amk.snapshots === 2", timeout=WAIT_MS)
    await page.wait_for_selector(
        '#incidents [data-incident-id="OSL-LOST01"]', state="detached", timeout=WAIT_MS
    )
    held = await page.evaluate(
        "async (id) => (await import('/static/js/state.js')).store.incidents.get(id)", real.id
    )
    assert held["address"] == real.address and int(held["revision"]) == real.revision
    assert page.amk_errors == []
    await page.context.close()
