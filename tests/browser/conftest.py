"""The web console in a real browser (issue #14): Debian's chromium driven by Playwright.

One chromium per test session (``browser``), a fresh context per person. The web server
runs against the module's deployment (the session's etcd and Ray, five centres). People
log in with tokens from the deployment's local issuer, as ``amk login`` gives them.
Nothing here downloads a browser: ``executable_path`` is Debian's binary, which ``./dev``
installs; without it the tests error and say so.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from actors.domain import prenotification_doc
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.partner_stub import PartnerCentre
from clients.web.chromium import DESK, launch
from cluster.config import ClusterConfig
from cluster.tokens import LocalIssuer
from tests.conftest import RunningCluster
from tests.helpers import find_free_port, rid

ESCALATE_AFTER_S = 2.0
KARL_JOHAN = (59.9127, 10.7461)
BISLETT = (59.9253, 10.7320)
WAIT_MS = 15_000  # a bound for the machine, not a target


@dataclass
class Partners:
    """The partners the browser tests' deployment alerts: 110 and 112 (trippelvarsling)
    and a hospital's team (pre-notification)."""

    fire: PartnerCentre  # 110: acknowledges at once
    police: PartnerCentre  # 112: takes the document and never acknowledges
    ulleval: PartnerCentre  # Ullevål's team, checking each document with our schema


def names_its_incident(document: dict[str, Any]) -> None:
    """The partners' check here: the document names the incident. NENA's schema is
    ``tests/integration/test_alerts.py``'s to check, with the specification beside it."""
    if not document.get("incidentComponent", {}).get("internalIncidentId"):
        raise ValueError("incidentComponent.internalIncidentId missing")


@pytest.fixture(scope="module")
def partners() -> Iterator[Partners]:
    both = Partners(
        PartnerCentre("110 Øst, operatør 2", names_its_incident).start(),
        PartnerCentre("112 Oslo", names_its_incident, acknowledge=False).start(),
        PartnerCentre("Ullevål, akuttmottaket", prenotification_doc.validate).start(),
    )
    yield both
    for partner in (both.fire, both.police, both.ulleval):
        partner.stop()


@pytest.fixture(scope="module")
def cluster_settings(partners: Partners) -> dict[str, Any]:
    """The module's deployment alerts the partners; an alert not acknowledged is marked
    escalated after 2 s (60 s by default), so a test can watch it happen."""
    return {
        "alert_endpoints": {"110": partners.fire.url, "112": partners.police.url},
        "hospital_endpoints": {"ous-ulleval": partners.ulleval.url},
        "alert_escalate_after_s": ESCALATE_AFTER_S,
        "alert_check_interval_s": 0.2,
    }


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[object]:
    """One headless chromium for the session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await launch(pw)
        yield chromium
        await chromium.close()


@dataclass
class WebConsole:
    """The web server of one deployment and how to reach it."""

    cluster: RunningCluster
    url: str
    runner: object

    async def restart(self, meanwhile: Callable[[], Awaitable[object]]) -> None:
        """Stop the web server (its open streams end), run ``meanwhile``, start it again
        on the same address: what a page sees of a dropped connection."""
        from clients.web.server import start_web, stop_web

        await stop_web(self.runner)  # type: ignore[arg-type]
        await meanwhile()
        self.runner = await start_web(self.config.model_copy(update={"web_address": self.address}))

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def config(self) -> ClusterConfig:
        return self.cluster.config

    def token(self, user: str, role: str, centre: str, unit: str = "") -> str:
        """A person's token from the deployment's local issuer (what ``amk login`` gives)."""
        config = self.config
        issuer = LocalIssuer.for_config(config)
        return issuer.issue(user, role, centre, lifetime_s=3600, unit=unit)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def web(cluster: RunningCluster) -> AsyncIterator[WebConsole]:
    """The web console of the module's deployment, on a free loopback port."""
    from clients.web.server import start_web

    address = f"127.0.0.1:{find_free_port()}"
    config = cluster.config.model_copy(update={"web_address": address})
    console = WebConsole(cluster, f"http://{address}", await start_web(config))
    yield console
    from clients.web.server import stop_web

    await stop_web(console.runner)  # type: ignore[arg-type]


async def open_console(
    browser: object, web: WebConsole, token: str, screen: str = "", timezone: str = ""
) -> object:
    """A new browser context (one person's), logged in: the page after the login form.
    ``timezone``: the browser's (an IANA name), else the machine's."""
    zone = {"timezone_id": timezone} if timezone else {}
    context = await browser.new_context(viewport=DESK, locale="nb-NO", **zone)  # type: ignore[attr-defined]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.amk_errors = errors  # type: ignore[attr-defined]
    await page.goto(web.url + (f"/?screen={screen}" if screen else "/"))
    await page.fill("#login-token", token)
    await page.click("#login-submit")
    await page.wait_for_selector("#whoami")
    return page


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where the run's screenshots go: ``AMK_SCREENSHOTS`` (the README's are made with
    ``AMK_SCREENSHOTS=docs/img``), else the test's temporary folder."""
    folder = Path(os.environ.get("AMK_SCREENSHOTS", "") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def incident(stub, where: tuple[float, float], code: str = "", address: str = ""):
    """An incident in Oslo at ``where``, triaged with ``code`` if one is given."""
    return await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(),
            region="oslo",
            position=pb.Position(lat=where[0], lon=where[1], accuracy_m=25),
            criteria_code=code,
            address=address,
        ),
        timeout=10,
    )


async def receive_call(stub, number: str, where: tuple[float, float], accuracy_m: float = 30):
    """A 113 call from ``number`` at ``where`` in the queue of the region covering it."""
    return await stub.ReceiveCall(
        pb.ReceiveCallRequest(
            request_id=rid(),
            caller_number=number,
            position=pb.Position(lat=where[0], lon=where[1], accuracy_m=accuracy_m),
        ),
        timeout=10,
    )


async def assign_free_unit(stub, incident_id: str) -> pb.Unit:
    """An Oslo ambulance at its station, assigned to ``incident_id``: the unit as it was."""
    free = await stub.ListUnits(
        pb.ListUnitsRequest(regions=["oslo"], status=pb.UNIT_STATUS_AVAILABLE_AT_STATION),
        timeout=10,
    )
    unit = free.units[0]
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=incident_id, unit_id=unit.id),
        timeout=10,
    )
    return unit


async def shown(page, selector: str) -> float:
    """Wait until ``selector`` matches on ``page``; the time.monotonic() it did."""
    await page.wait_for_selector(selector, state="attached", timeout=WAIT_MS)
    return time.monotonic()
