"""How a centre runs alerts to other services (issue #19): send, acknowledge, cancel,
escalate; delivery of a sent alert as an EIDO document; the escalation check.

**Order: commit, then deliver.** A sent alert is one fenced write (state sent, when, by
whom, to which endpoint) before the document goes out, so the journal never lacks an
alert another centre received. If the owner dies between the two, or the partner does
not answer, the alert stays sent, unacknowledged, and the escalation check marks it for
the console after ``alert_escalate_after_s``: visible, never silently lost.

**The acknowledgement is the partner's answer to the delivery** (HTTP 200 with
``{"acknowledged": true, "acknowledged_by": who}``), recorded by the sender as an
``AcknowledgeAlert`` command through ``Centre.execute``: the partner needs no
credentials to our API and no route to our gateways (security, issue #13), and the
acknowledgement is journaled by the region's owner like every command. One that comes
another way (a phone call, the shared talk group) is entered by a dispatcher with the
``AcknowledgeAlert`` RPC.
"""

from __future__ import annotations

import asyncio
import copy
import http.client
import json
import re
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from actors.centre.core import CentreCore
from actors.centre.executor import Executor
from actors.centre.region_state import RegionState
from actors.domain import air, alerts, eido
from actors.domain.action_cards import ActionCards, default_cards
from actors.domain.calls import municipality_regions
from actors.domain.commands import (
    AcknowledgeAlert,
    AlertCommand,
    CancelAlert,
    Command,
    EscalateAlert,
    SendAlert,
)
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Alert, AlertService, Incident, Outcome
from actors.domain.municipality import locate
from cluster.errors import AmkError

Execute = Callable[[str, Command], Awaitable[Outcome]]


def post_document(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Any:
    """POST ``body`` (JSON) to ``url``; the answer's JSON, or None when a 2xx answer is
    not JSON (taken, and not acknowledged). Raises OSError (urllib's errors: no answer,
    not 2xx; an answer cut off, ``http.client.HTTPException``, as an OSError too, so
    every caller handles a partner that fails the same way). Blocking: run it in a
    thread."""
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            raw = resp.read()
    except http.client.HTTPException as exc:
        raise OSError(f"{url}: {type(exc).__name__}: {exc}") from exc
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return None


LEGEVAKT = AlertService.LEGEVAKT_116117  # a municipal service: its endpoint by kommunenummer


class Alerting:
    """Alert commands, delivery and escalation for one centre."""

    def __init__(
        self,
        core: CentreCore,
        executor: Executor,
        execute: Execute,
        cards: ActionCards | None = None,
    ) -> None:
        self.core = core
        self.executor = executor
        self.execute = execute  # Centre.execute: once per request id, like every command
        self.cards = cards or default_cards()
        self._deliveries: set[asyncio.Task[None]] = set()
        # Region -> its kommunenummer, when a legevakt is configured by municipality
        # (else the municipality cannot choose the endpoint, and is not looked up).
        # Built now, not in the first legevakt alert's mailbox: it reads the outlines.
        self._kommuner: dict[str, frozenset[str]] = {}
        if any(
            re.fullmatch(r"\d{4}", key.partition(":")[2])
            for key in core.config.alert_endpoints
            if key.startswith(f"{LEGEVAKT.value}:")
        ):
            seed = core.config.seed
            regions = municipality_regions((r.id, r.municipalities) for r in seed.area_regions())
            for number, region in regions.items():
                self._kommuner[region] = self._kommuner.get(region, frozenset()) | {number}

    def _municipality(self, inc: Incident) -> str:
        """The kommunenummer whose legevakt serves ``inc``: the municipality holding its
        position, or at sea the nearest of its region's; "" when no legevakt is
        configured by municipality, or for a region drawn as a polygon."""
        if not self._kommuner:
            return ""
        found = locate(inc.position, self._kommuner.get(inc.region, frozenset()))
        return found.number if found is not None else ""

    def propose(self, inc: Incident, now: float) -> Incident:
        """``inc`` with the alerts its action cards call for (see ``alerts.propose``)."""
        return alerts.propose(inc, self.cards, now)

    async def run(self, cmd: AlertCommand, now: float) -> Outcome:
        """Decide and commit one alert command under the incident's mailbox."""
        config = self.core.config
        host, _ = await self.executor.find_incident(cmd.incident_id)
        url = ""
        async with self.core.mailboxes.enter(cmd.incident_id):
            inc = host.incidents[cmd.incident_id]
            alert_id = getattr(cmd, "alert_id", "")
            if isinstance(cmd, SendAlert) and cmd.phoned_to:
                new, sent = alerts.phoned(inc, cmd.service, cmd.phoned_to, cmd.who, now, cmd.reason)
                alert_id = sent.id  # told by phone: nothing to deliver
            elif isinstance(cmd, SendAlert):
                where = self._municipality(inc) if cmd.service is LEGEVAKT else ""
                target = config.alert_endpoint(cmd.service.value, inc.region, where)
                if target is None:
                    # Named as the field to fill: the console shows it at "phoned to",
                    # where the dispatcher writes whom they told instead.
                    raise InvalidArgumentError(
                        "phoned_to",
                        f"is needed: no endpoint configured for {cmd.service.value} in"
                        f" {inc.region}"
                        + (f" or municipality {where}" if where else "")
                        + "; alert them by phone and say whom you told"
                        " (amk alert send --phoned-to NAME)",
                    )
                new, sent = alerts.send(inc, cmd.service, target[0], cmd.who, now, cmd.reason)
                alert_id, url = sent.id, target[1]
            elif isinstance(cmd, AcknowledgeAlert):
                new = alerts.acknowledge(inc, cmd.alert_id, cmd.by, now)
            elif isinstance(cmd, CancelAlert):
                if alerts.find(inc, cmd.alert_id).service is AlertService.AIR_AMBULANCE:
                    # Withdrawn, and owed to the AMK-LA (the air desk delivers it).
                    new = air.withdraw(inc, cmd.alert_id, cmd.who, cmd.reason, now)
                else:
                    new = alerts.cancel(inc, cmd.alert_id, cmd.who, cmd.reason, now)
            else:
                new = alerts.escalate(inc, cmd.alert_id, now, config.alert_escalate_after_s)
            out = Outcome(incident=new)
            await self.executor.commit(host.region, cmd, [new], out)
        alert = alerts.find(new, alert_id)
        self.core.log.info(
            "alert_" + alert.state.value,
            region=host.region,
            incident=new.id,
            alert=alert.id,
            service=alert.service.value,
            request_id=cmd.request_id,
        )
        if url:
            task = asyncio.get_running_loop().create_task(self._deliver(new, alert, url))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return out

    async def _document(self, inc: Incident) -> dict[str, Any]:
        """The incident as an EIDO document, sent by this centre's agency."""
        units = []
        for unit_id in inc.assigned_unit_ids:
            try:
                units.append((await self.executor.find_unit(unit_id))[1])
            except NotFoundError:  # moved on meanwhile: the document names the others
                pass
        inc = copy.copy(inc)
        inc.assigned_unit_ids = [u.id for u in units]
        centre = self.core.config.seed.centre(self.core.centre_id)
        return eido.export_incident(
            inc, units, agency_id=f"amk.{centre.id}", agency_name=centre.name, now=self.core.clock()
        )

    async def _deliver(self, inc: Incident, alert: Alert, url: str) -> None:
        """Send the alert's document; record the partner's answer as its acknowledgement."""
        log = self.core.log
        config = self.core.config
        headers = {"X-Amk-Incident": inc.id, "X-Amk-Alert": alert.id}
        try:
            body = json.dumps(await self._document(inc), ensure_ascii=False).encode()
            answer = await asyncio.to_thread(
                post_document, url, body, headers, config.alert_send_timeout_s
            )
        except (OSError, ValueError, AmkError) as exc:
            # Stays sent and unacknowledged: the escalation check shows it on the console.
            log.warning(
                "alert_not_delivered",
                region=inc.region,
                incident=inc.id,
                alert=alert.id,
                recipient=alert.recipient,
                error=str(exc),
            )
            return
        if not (isinstance(answer, dict) and answer.get("acknowledged") is True):
            # Taken but not acknowledged (yet): stays sent until someone acknowledges.
            log.info("alert_delivered_unacknowledged", incident=inc.id, alert=alert.id)
            return
        by = answer.get("acknowledged_by")
        cmd = AcknowledgeAlert(
            request_id=f"alert-ack-{inc.id}-{alert.id}",
            incident_id=inc.id,
            alert_id=alert.id,
            by=str(by or alert.recipient)[:200],
            who=f"partner:{alert.recipient}",
        )
        try:
            await self.execute(inc.region, cmd)
        except AmkError as exc:  # e.g. acknowledged by hand first, cancelled, handed over
            log.info("alert_ack_not_recorded", incident=inc.id, alert=alert.id, error=str(exc))

    async def watch(self) -> None:
        """Escalate sent alerts left unacknowledged too long, in every served region,
        until the centre stops. A deterministic request id per alert makes a check that
        runs twice (here after a retry, or on the next owner after a failover) one write."""
        core = self.core
        while not core.stopping:
            await asyncio.sleep(core.config.alert_check_interval_s)
            now = core.clock()
            for region, host in list(core.hosts.items()):
                if core.states.get(region) is not RegionState.SERVING:
                    continue
                for inc in host.incidents.with_sent_alerts():
                    for alert_id in alerts.due_for_escalation(
                        inc, now, core.config.alert_escalate_after_s
                    ):
                        await self._escalate(region, inc.id, alert_id)

    async def _escalate(self, region: str, incident_id: str, alert_id: str) -> None:
        cmd = EscalateAlert(f"alert-escalate-{incident_id}-{alert_id}", incident_id, alert_id)
        try:
            await self.execute(region, cmd)
        except AmkError as exc:  # acknowledged meanwhile, region lost: the next pass sees
            self.core.log.info(
                "alert_not_escalated",
                region=region,
                incident=incident_id,
                alert=alert_id,
                error=str(exc),
            )
        except Exception:  # a bug must not stop the check for good: log, go on
            self.core.log.exception("alert_escalation_error", region=region, incident=incident_id)

    def stop(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
