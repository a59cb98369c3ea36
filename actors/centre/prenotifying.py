"""How a centre runs hospital pre-notifications (issue #19): send, the ETA watch that
follows the unit, delivery of the documents to the hospital, withdrawal.

The decisions are pure (``actors/domain/prenotify.py``); this part reads the cached
records under the incident's mailbox, commits through the executor (one fenced write
per send and per ETA update, with a journal entry naming the alert and the expected
arrival), then delivers:

**Order: commit, then deliver**, as for trippelvarsling (``alerting.py``): the journal
never lacks a pre-notification a hospital received. **The record is the outbox**
(``Alert.documents_due`` against ``delivered``): every document the hospital must
get, the first, each ETA update and the withdrawal, is delivered until the hospital
answers with a 2xx, and the answer is recorded by a fenced write
(``MarkPreNotificationDelivered``, one per document; its request id names the document,
so a repeat is one write). A hospital that does not answer is tried again after
``prenotification_outbox_interval_s``, doubled after each failure up to 30 s
(``outbox.py``), logged each time; a takeover loads the count with the region, and the
new owner's scan at takeover and every interval after goes on. Nothing is posted once
and forgotten: a withdrawal that does not get through is retried until it does, so a
stroke team is not left waiting for a patient who is not coming. The first document
also stays unacknowledged until the hospital acknowledges it, and the escalation check
marks it for the console after ``alert_escalate_after_s``. Its answer
``{"acknowledged": true, ...}`` is recorded as an ``AcknowledgeAlert`` command. A
dispatcher who told the hospital by phone records it (``ConfirmPreNotificationByPhone``):
the documents due so far count as delivered, and a first one as acknowledged.

**The ETA watch** runs on the region's owner after each committed position report of
a unit with an open pre-notification (:meth:`PreNotifier.unit_moved`): it recomputes the
expected arrival from the cached records (no I/O) and, when it shifted by more than
``prenotification_eta_update_s``, starts one ``UpdatePreNotificationEta`` command (its
request id carries the update's sequence number, so a repeat is one write) and, once
committed, delivers the ``eta_update`` document. At most one update per pre-notification
is in flight; a report arriving meanwhile is looked at again by the next one. The
position report itself never waits for any of this (AVL is the busiest write path).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from actors.centre.alerting import post_document
from actors.centre.core import CentreCore
from actors.centre.executor import Executor
from actors.centre.outbox import OutboxRunner
from actors.centre.region_host import RegionHost
from actors.domain import prenotification_doc, prenotify
from actors.domain.alerts import find
from actors.domain.commands import (
    AcknowledgeAlert,
    Command,
    ConfirmPreNotificationByPhone,
    MarkPreNotificationDelivered,
    PreNotificationCommand,
    SendPreNotification,
    UpdatePreNotificationEta,
)
from actors.domain.destination import Hospital
from actors.domain.errors import (
    IllegalTransitionError,
    InvalidArgumentError,
    NotFoundError,
    PreconditionError,
)
from actors.domain.model import Alert, AlertService, Incident, Outcome, Unit
from cluster.errors import AmkError

Execute = Callable[[str, Command], Awaitable[Outcome]]


class PreNotifier:
    """Pre-notification commands, the ETA watch and the hospitals' outbox for one centre."""

    def __init__(self, core: CentreCore, executor: Executor, execute: Execute) -> None:
        self.core = core
        self.executor = executor
        self.execute = execute  # Centre.execute: once per request id, like every command
        self.hospitals = {
            h.id: Hospital.from_mapping(h.model_dump()) for h in core.config.seed.hospitals
        }
        self.outbox = OutboxRunner(
            core,
            "prenotification_delivery_pending",  # item: {incident}:{alert}
            lambda: core.config.prenotification_outbox_interval_s,
            self._scan,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._updating: set[tuple[str, str]] = set()  # (incident, alert) with an update in flight

    def hospital(self, hospital_id: str) -> Hospital:
        found = self.hospitals.get(hospital_id)
        if found is None:
            raise InvalidArgumentError("hospital_id", f"unknown hospital {hospital_id!r}")
        return found

    # ------------------------------------------------------------ commands

    async def run(self, cmd: PreNotificationCommand, now: float) -> Outcome:
        """Decide and commit one pre-notification command under the incident's mailbox."""
        if isinstance(cmd, SendPreNotification):
            return await self._send(cmd, now)
        if isinstance(cmd, UpdatePreNotificationEta):
            return await self._update(cmd, now)
        return await self._mark_delivered(cmd, now)

    async def _send(self, cmd: SendPreNotification, now: float) -> Outcome:
        hospital = self.hospital(cmd.hospital_id)
        url = self.core.config.hospital_endpoint(hospital.id)
        if url is None:
            raise PreconditionError(
                cmd.incident_id, f"no pre-notification endpoint configured for {hospital.name}"
            )
        host, _ = await self.executor.find_incident(cmd.incident_id)
        async with self.core.mailboxes.enter(cmd.incident_id):
            inc = host.incidents[cmd.incident_id]
            unit_id = cmd.unit_id or self._only_unit(inc)
            unit = (await self.executor.find_unit(unit_id))[1]
            eta = prenotify.transport_eta(unit, inc, hospital, now)
            patient = prenotify.PatientData(
                cmd.condition, cmd.age, cmd.sex, cmd.findings, cmd.free_text, cmd.symptom_onset_at
            )
            new, alert, replaced = prenotify.send(
                inc, hospital, unit_id, patient, eta, cmd.who, now
            )
            details: dict[str, Any] = {
                "alert": alert.id,
                "service": AlertService.HOSPITAL.value,
                "hospital": hospital.id,
                "unit": unit_id,
                "condition": cmd.condition.value,
                "expected_arrival": eta.expected_arrival,
            }
            if replaced is not None:
                details["replaces"] = replaced.id
            out = Outcome(incident=new)
            await self.executor.commit(host.region, cmd, [new], out, details=details)
        self.core.log.info(
            "prenotification_sent",
            region=host.region,
            incident=new.id,
            token=host.fence.token,
            alert=alert.id,
            hospital=hospital.id,
            unit=unit_id,
            eta_s=round(eta.eta_s),
            request_id=cmd.request_id,
        )
        self.deliver(new, alert.id)
        if replaced is not None:
            self.deliver(new, replaced.id)
        return out

    def _only_unit(self, inc: Incident) -> str:
        if not inc.assigned_unit_ids:
            raise PreconditionError(inc.id, "no unit assigned: the ETA needs the transporting unit")
        if len(inc.assigned_unit_ids) > 1:
            units = ", ".join(inc.assigned_unit_ids)
            raise InvalidArgumentError("unit_id", f"the incident has units {units}; name one")
        return inc.assigned_unit_ids[0]

    async def _update(self, cmd: UpdatePreNotificationEta, now: float) -> Outcome:
        host, _ = await self.executor.find_incident(cmd.incident_id)
        async with self.core.mailboxes.enter(cmd.incident_id):
            inc = host.incidents[cmd.incident_id]
            alert = find(inc, cmd.alert_id)
            pre = alert.prenotification
            if pre is None:
                raise PreconditionError(inc.id, f"alert {alert.id} is not a pre-notification")
            unit = (await self.executor.find_unit(pre.unit_id))[1]
            eta = prenotify.transport_eta(unit, inc, self.hospital(alert.recipient), now)
            threshold = self.core.config.prenotification_eta_update_s
            new = prenotify.update_eta(inc, alert.id, eta, threshold, now)
            details = {
                "alert": alert.id,
                "expected_arrival": eta.expected_arrival,
                "eta_updates": pre.eta_updates + 1,
            }
            out = Outcome(incident=new)
            await self.executor.commit(host.region, cmd, [new], out, details=details)
        self.core.log.info(
            "prenotification_eta_updated",
            region=host.region,
            incident=inc.id,
            token=host.fence.token,
            alert=alert.id,
            shift_s=round(eta.expected_arrival - pre.expected_arrival),
        )
        self.deliver(new, alert.id)
        return out

    async def _mark_delivered(
        self, cmd: MarkPreNotificationDelivered | ConfirmPreNotificationByPhone, now: float
    ) -> Outcome:
        """The outbox's record of a document the hospital took, or the dispatcher's that
        the hospital was told by phone (every document due)."""
        host, _ = await self.executor.find_incident(cmd.incident_id)
        async with self.core.mailboxes.enter(cmd.incident_id):
            inc = host.incidents[cmd.incident_id]
            details: dict[str, Any] = {"alert": cmd.alert_id}
            if isinstance(cmd, ConfirmPreNotificationByPhone):
                new = prenotify.confirm_by_phone(inc, cmd.alert_id, cmd.spoke_with or cmd.who, now)
                details["by_phone"] = cmd.spoke_with or "-"
            else:
                new = prenotify.mark_delivered(inc, cmd.alert_id, cmd.due, now)
            pre = find(new, cmd.alert_id).prenotification
            assert pre is not None
            details["delivered"] = pre.delivered
            out = Outcome(incident=new)
            await self.executor.commit(host.region, cmd, [new], out, details=details)
        if isinstance(cmd, ConfirmPreNotificationByPhone):
            self.core.log.info(
                "prenotification_told_by_phone",
                region=host.region,
                incident=cmd.incident_id,
                token=host.fence.token,
                alert=cmd.alert_id,
                by=cmd.who,
            )
        return out

    # ------------------------------------------------------------ the ETA watch

    def unit_moved(self, unit: Unit) -> None:
        """After a committed position report of ``unit``: start an ETA update for its
        open pre-notification when the expected arrival shifted past the threshold."""
        if not unit.incident_id:
            return
        inc, region = None, ""
        for host in self.core.hosts.values():
            if unit.incident_id in host.incidents:
                inc, region = host.incidents[unit.incident_id], host.region
                break
        if inc is None:
            return
        threshold = self.core.config.prenotification_eta_update_s
        for alert in prenotify.open_for_unit(inc, unit.id):
            key = (inc.id, alert.id)
            hospital = self.hospitals.get(alert.recipient)
            if key in self._updating or hospital is None:
                continue
            try:
                eta = prenotify.transport_eta(unit, inc, hospital, self.core.clock())
            except AmkError:  # e.g. the unit's status leaves nothing to reckon
                continue
            if not prenotify.eta_update_due(alert, eta.expected_arrival, threshold):
                continue
            assert alert.prenotification is not None
            seq = alert.prenotification.eta_updates + 1
            cmd = UpdatePreNotificationEta(
                f"prenotif-eta-{inc.id}-{alert.id}-{seq}", inc.id, alert.id
            )
            self._updating.add(key)
            self._spawn(self._run_update(region, cmd, key))

    async def _run_update(
        self, region: str, cmd: UpdatePreNotificationEta, key: tuple[str, str]
    ) -> None:
        try:
            await self.execute(region, cmd)
        except AmkError as exc:  # arrived, moved back within the threshold, region lost
            self.core.log.info(
                "prenotification_eta_not_updated",
                region=region,
                incident=cmd.incident_id,
                alert=cmd.alert_id,
                error=str(exc),
            )
        except Exception:  # a bug must not end the watch: log, go on
            self.core.log.exception("prenotification_eta_error", incident=cmd.incident_id)
        finally:
            self._updating.discard(key)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ the outbox

    def withdraw(self, inc: Incident, alert_id: str) -> None:
        """Tell the hospital of a cancelled, replaced or withdrawn pre-notification that
        the patient is not coming (after the commit that closed it)."""
        self.deliver(inc, alert_id)

    def deliver(self, inc: Incident, alert_id: str) -> None:
        """Start delivering what ``alert_id`` of ``inc`` still owes its hospital (nothing
        if it owes nothing or is not a pre-notification)."""
        try:
            alert = find(inc, alert_id)
        except NotFoundError:
            return
        if prenotify.pending(alert):
            self._spawn_delivery(inc.region, inc.id, alert_id)

    def _scan(self, host: RegionHost) -> None:
        for inc in host.incidents.with_sent_alerts():  # the table's index: not every incident
            for alert in prenotify.undelivered(inc):
                self._spawn_delivery(host.region, inc.id, alert.id)

    def _spawn_delivery(self, region: str, incident_id: str, alert_id: str) -> None:
        key = f"{incident_id}:{alert_id}"
        self.outbox.spawn(key, region, lambda: self._deliver(incident_id, alert_id))

    def _hosted(self, incident_id: str) -> Incident | None:
        for host in self.core.hosts.values():
            if incident_id in host.incidents:
                return host.incidents[incident_id]
        return None  # handed over, or its region lost: the owner's scan delivers it

    async def _deliver(self, incident_id: str, alert_id: str) -> None:
        """Post the document for the pre-notification as it is now, record that the
        hospital took it, and again while a newer one became due meanwhile. A failure
        raises: the runner logs it and the item is tried again later."""
        while True:
            inc = self._hosted(incident_id)
            if inc is None:
                return
            alert = find(inc, alert_id)
            if not prenotify.pending(alert):
                return
            due = alert.documents_due()
            kind = prenotify.document_kind(alert)
            url = self.core.config.hospital_endpoint(alert.recipient)
            if url is None:
                raise PreconditionError(
                    inc.id, f"no pre-notification endpoint configured for {alert.recipient}"
                )
            answer = await self._post(inc, alert, kind, url)
            if kind == "prenotification":  # before the mark: a resend is harmless, a lost ack not
                await self._acknowledge(inc, alert, answer)
            mark = MarkPreNotificationDelivered(
                prenotify.delivered_request_id(inc.id, alert.id, due), inc.id, alert.id, due
            )
            try:
                await self.execute(inc.region, mark)
            except PreconditionError:
                pass  # recorded by a previous owner meanwhile: read the record again
            # A mark answered from the journal (its first answer lost) has refreshed the
            # cached record (``Executor.catch_up``), so the next pass reads it.

    async def _post(self, inc: Incident, alert: Alert, kind: str, url: str) -> Any:
        """POST the ``kind`` document of ``alert`` to its hospital; the answer's JSON.
        Raises OSError naming the document and the hospital when it is not taken."""
        config = self.core.config
        centre = config.seed.centre(self.core.centre_id)
        assert alert.prenotification is not None
        try:
            unit: Unit | None = (await self.executor.find_unit(alert.prenotification.unit_id))[1]
        except NotFoundError:  # released meanwhile: the document names its id only
            unit = None
        document = prenotification_doc.build(
            kind, inc, alert, unit, f"amk.{centre.id}", centre.name, self.core.clock()
        )
        headers = {"X-Amk-Incident": inc.id, "X-Amk-Alert": alert.id, "X-Amk-Kind": kind}
        try:
            body = json.dumps(document, ensure_ascii=False).encode()
            answer = await asyncio.to_thread(
                post_document, url, body, headers, config.alert_send_timeout_s
            )
        except (OSError, ValueError) as exc:
            raise OSError(f"{kind} document not taken by {alert.recipient}: {exc}") from exc
        self.core.log.info(
            "prenotification_delivered",
            region=inc.region,
            incident=inc.id,
            alert=alert.id,
            kind=kind,
            hospital=alert.recipient,
        )
        return answer

    async def _acknowledge(self, inc: Incident, alert: Alert, answer: Any) -> None:
        """Record the hospital's acknowledgement of the first document, if it gave one."""
        if not (isinstance(answer, dict) and answer.get("acknowledged") is True):
            return
        if alert.acknowledged_at:
            return
        cmd = AcknowledgeAlert(
            request_id=f"alert-ack-{inc.id}-{alert.id}",
            incident_id=inc.id,
            alert_id=alert.id,
            by=str(answer.get("acknowledged_by") or alert.recipient)[:200],
            who=f"hospital:{alert.recipient}",
        )
        try:
            await self.execute(inc.region, cmd)
        except (IllegalTransitionError, PreconditionError, NotFoundError) as exc:
            # Acknowledged by hand or cancelled since the record was read: nothing to record.
            self.core.log.info("prenotification_ack_not_recorded", incident=inc.id, error=str(exc))
        # Anything else (etcd unavailable, the region lost) raises: the runner pauses the
        # item and the document goes again, so the acknowledgement is not lost for good.

    def stop(self) -> None:
        self.outbox.stop()
        for task in list(self._tasks):
            task.cancel()
