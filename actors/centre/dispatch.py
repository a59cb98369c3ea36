"""How a centre runs dispatch commands on the entities it hosts: incidents, units,
assignment (lending a neighbour's unit in the same transaction), hand-over of an
incident, lending a unit. 113-call commands go to the call desk, alert commands to
alerting (which also proposes the alerts a create or triage calls for, in its write),
hospital pre-notifications to the pre-notifier, air ambulance commands and the status
of aircraft on a mission to the air desk. Two unit commands feed the
pre-notifications: a committed position report lets the pre-notifier look at the ETA
(after the write, never holding it up), and a unit's AT_HOSPITAL status stamps the
arrival on its open pre-notification in the same write (``prenotify.mark_arrived``).
A unit leaving the incident before the hospital (released, or available from the
scene) withdraws its open pre-notification in that write, and the hospital is told.

Aircraft of an AMK-LA region are coordinated there (issue #19): they are requested
(``RequestAirAmbulance``), never assigned or lent to an area region's incident, and no
incident is created in, or handed over to, a region with no area.

Given the centre's core, its executor, its call desk, its alerting and its pre-notifier
(no shared undeclared state).
"""

from __future__ import annotations

import asyncio

from actors.centre.air_desk import AirDesk
from actors.centre.alerting import Alerting
from actors.centre.call_desk import CallDesk
from actors.centre.core import CentreCore
from actors.centre.executor import Executor
from actors.centre.prenotifying import PreNotifier
from actors.centre.region_host import Record, RegionHost
from actors.domain import calls, cpr_guidance, decide, eido, kpi, prenotify
from actors.domain.commands import (
    AbandonCall,
    AbortAirMission,
    AcknowledgeAlert,
    AddIncidentNote,
    AdoptIncident,
    AnswerAirRequest,
    AnswerNextCall,
    AssignUnit,
    CancelAlert,
    ChangeIncidentLocation,
    ChangeIncidentStatus,
    ChangeUnitStatus,
    CloseCall,
    Command,
    ConfirmPreNotificationByPhone,
    CreateIncident,
    DivertUnit,
    EscalateAlert,
    HandOverIncident,
    IncidentCommand,
    LendUnit,
    LinkCall,
    MarkAirMissionReported,
    MarkAirRequestDelivered,
    MarkAirWithdrawalDelivered,
    MarkPreNotificationDelivered,
    OpenAirMission,
    ReceiveCall,
    RecordAirMission,
    RecordCprGuidance,
    ReleaseUnit,
    ReportUnitPosition,
    RequestAirAmbulance,
    SendAlert,
    SendPreNotification,
    SetCallSharing,
    TriageIncident,
    UpdatePreNotificationEta,
    WithdrawAirRequest,
)
from actors.domain.errors import (
    InvalidArgumentError,
    NotBuiltError,
    NotFoundError,
    PreconditionError,
)
from actors.domain.model import Incident, Outcome, Unit, UnitStatus
from cluster.errors import AmkError

PRENOTIFICATION_COMMANDS = (
    SendPreNotification,
    UpdatePreNotificationEta,
    MarkPreNotificationDelivered,
    ConfirmPreNotificationByPhone,
)
AIR_COMMANDS = (
    RequestAirAmbulance,
    MarkAirRequestDelivered,
    RecordAirMission,
    OpenAirMission,
    AnswerAirRequest,
    AbortAirMission,
    MarkAirMissionReported,
    WithdrawAirRequest,
    MarkAirWithdrawalDelivered,
)


class Dispatcher:
    """Incident, unit, pair and move commands."""

    def __init__(
        self,
        core: CentreCore,
        executor: Executor,
        call_desk: CallDesk,
        alerting: Alerting,
        prenotifier: PreNotifier,
        air_desk: AirDesk,
    ) -> None:
        self.core = core
        self.executor = executor
        self.call_desk = call_desk
        self.alerting = alerting
        self.prenotifier = prenotifier
        self.air_desk = air_desk
        self._adoptions: set[asyncio.Task[None]] = set()

    async def run(self, region: str, cmd: Command) -> Outcome:
        """Decide and commit one command in ``region`` (the owner's side of a route)."""
        if isinstance(cmd, AnswerNextCall):
            return await self.call_desk.answer_next_call(cmd, self.core.clock())
        await self.core.until_loaded(region)
        now = self.core.clock()
        host = self.core.host(region)
        if isinstance(cmd, ReceiveCall | AbandonCall | LinkCall | CloseCall | SetCallSharing):
            return await self.call_desk.run_call(host, cmd, now)
        if isinstance(cmd, PRENOTIFICATION_COMMANDS):
            return await self.prenotifier.run(cmd, now)
        if isinstance(cmd, SendAlert | AcknowledgeAlert | CancelAlert | EscalateAlert):
            out = await self.alerting.run(cmd, now)
            if isinstance(cmd, CancelAlert):  # a hospital is told its patient is not coming
                self.prenotifier.withdraw(out.require_incident(), cmd.alert_id)
                self.air_desk.withdrawn(out.require_incident(), cmd.alert_id)  # the AMK-LA too
            return out
        if isinstance(cmd, AIR_COMMANDS):
            return await self.air_desk.run(host, cmd, now)
        # No logger bound per command (a bound logger is a dict copy and an object per
        # command, even when its debug lines are filtered out): the context goes with
        # each line instead, and the journal is the audit trail.
        log = self.core.log
        if isinstance(cmd, CreateIncident):
            if not cmd.source_id:
                return await self._create_incident(host, region, cmd, now)
            # One document at a time: two imports of it at once would both find it new.
            async with self.core.mailboxes.enter(f"eido:{cmd.source_id}"):
                return await self._create_incident(host, region, cmd, now)
        if isinstance(cmd, IncidentCommand):
            h, _ = await self.executor.find_incident(cmd.incident_id)
            async with self.core.mailboxes.enter(cmd.incident_id):
                inc = h.incidents[cmd.incident_id]
                details: dict[str, str] = {}
                if isinstance(cmd, TriageIncident):
                    new = decide.triage(inc, cmd.criteria_code, now, self.core.table)
                    new = self.alerting.propose(new, now)
                elif isinstance(cmd, ChangeIncidentStatus):
                    new = decide.change_incident_status(inc, cmd.status, now)
                elif isinstance(cmd, RecordCprGuidance):
                    new = cpr_guidance.record(inc, cmd.step, cmd.who, now, cmd.reason, cmd.end)
                    details = cpr_guidance.journal_details(cmd.step, cmd.reason, cmd.end)
                elif isinstance(cmd, AddIncidentNote):
                    new = decide.add_note(inc, cmd.text, cmd.who, now)
                elif isinstance(cmd, ChangeIncidentLocation):
                    new = decide.relocate(inc, cmd.position, cmd.address, cmd.who, now)
                    details = {  # the history tells where from
                        "from": decide.place_text(inc.position, inc.address),
                        "to": decide.place_text(new.position, new.address),
                    }
                else:
                    raise NotBuiltError(f"{type(cmd).__name__} is not handled")
                out = Outcome(incident=new)
                await self.executor.commit(h.region, cmd, [new], out, details=details)
            log.debug(
                "incident_changed",
                region=h.region,
                request_id=cmd.request_id,
                incident=new.id,
                command=type(cmd).__name__,
            )
            return out
        if isinstance(cmd, AssignUnit | ReleaseUnit):
            return await self._run_pair(cmd, now)
        if isinstance(cmd, DivertUnit):
            return await self._divert(cmd, now)
        if isinstance(cmd, HandOverIncident):
            return await self._hand_over_incident(cmd, now)
        if isinstance(cmd, AdoptIncident):
            return await self._adopt(host, cmd)
        if isinstance(cmd, LendUnit):
            hu, _ = await self.executor.find_unit(cmd.unit_id)
            async with self.core.mailboxes.enter(cmd.unit_id):
                unit = hu.units[cmd.unit_id]
                self._known_region(cmd.to_region)
                seed = self.core.config.seed
                if seed.is_air_region(unit.region) != seed.is_air_region(cmd.to_region):
                    raise PreconditionError(
                        unit.id,
                        "aircraft are lent only between air ambulance coordination regions, "
                        "and other units only between area regions",
                    )
                new = decide.lend_unit(unit, cmd.to_region, now)
                out = Outcome(unit=new)
                await self.executor.commit(
                    hu.region, cmd, [new], out, moved_from={unit.id: unit.region}
                )
            log.info(
                "unit_lent",
                region=hu.region,
                request_id=cmd.request_id,
                unit=unit.id,
                to_region=cmd.to_region,
            )
            return out
        if isinstance(cmd, ChangeUnitStatus | ReportUnitPosition):
            return await self._run_unit(host, cmd, now)
        raise NotBuiltError(f"command {type(cmd).__name__}")

    def _known_region(self, region: str) -> None:
        if region not in self.core.config.region_ids():
            raise InvalidArgumentError("to_region", f"unknown region {region!r}")

    def _area_region(self, region: str, field: str) -> None:
        """Incidents live only in regions with an area."""
        if region not in self.core.config.region_ids():
            raise InvalidArgumentError(field, f"unknown region {region!r}")
        if self.core.config.seed.is_air_region(region):
            raise InvalidArgumentError(
                field,
                f"{region} coordinates aircraft (AMK-LA) and has no area: incidents "
                "belong to an area region",
            )

    async def _run_pair(self, cmd: AssignUnit | ReleaseUnit, now: float) -> Outcome:
        """Assign or release. A unit of a region served by another centre is lent to the
        incident's region and assigned in one transaction guarded by both regions'
        tokens and by the unit's revision as read."""
        hi, _ = await self.executor.find_incident(cmd.incident_id)
        foreign: Unit | None = None
        try:
            hu, _ = await self.executor.find_unit(cmd.unit_id)
        except NotFoundError:
            if not (isinstance(cmd, AssignUnit) and cmd.unit_region):
                raise
            hu, foreign = hi, await self.executor.foreign_unit(cmd.unit_id, cmd.unit_region)
        async with self.core.mailboxes.enter(cmd.incident_id, cmd.unit_id):
            inc = hi.incidents[cmd.incident_id]
            unit = foreign if foreign is not None else hu.units[cmd.unit_id]
            if isinstance(cmd, AssignUnit) and self.core.config.seed.is_air_region(unit.region):
                raise PreconditionError(
                    unit.id,
                    f"coordinated by the AMK-LA ({unit.region}): request it "
                    "(RequestAirAmbulance, amk air request), do not assign it",
                )
            withdrawn: list[str] = []
            if isinstance(cmd, ReleaseUnit):
                new_inc, new_unit = decide.release(inc, unit, now, cmd.reason, cmd.who)
                why = f"unit {unit.id} released: " + (cmd.reason or "the patient is not coming")
                new_inc, withdrawn = prenotify.withdraw_for_unit(new_inc, unit.id, why, now)
            else:
                new_inc, new_unit = decide.assign(inc, unit, now)
            moved: dict[str, str] = {}
            if isinstance(cmd, AssignUnit) and unit.region != inc.region:
                new_unit.region = inc.region  # lent to the incident's region
                moved[unit.id] = unit.region
            out = Outcome(incident=new_inc, unit=new_unit)
            await self.executor.commit(hi.region, cmd, [new_inc, new_unit], out, moved_from=moved)
        for alert_id in withdrawn:
            self.prenotifier.withdraw(new_inc, alert_id)
        self.core.log.debug(
            "unit_" + ("assigned" if isinstance(cmd, AssignUnit) else "released"),
            region=inc.region,
            incident=inc.id,
            unit=unit.id,
            lent_from=moved.get(unit.id, ""),
        )
        return out

    async def _divert(self, cmd: DivertUnit, now: float) -> Outcome:
        """One unit from one incident to another, in one transaction under the fences of
        the regions of both incidents and the unit, all served here (routed to the new
        incident's owner). A unit working another centre's incident is released there
        first. The records are looked up again once locked: another command may have
        moved the unit or an incident meanwhile."""
        ids = (cmd.incident_id, cmd.from_incident_id, cmd.unit_id)
        async with self.core.mailboxes.enter(*ids):
            ht, to_inc = await self.executor.find_incident(cmd.incident_id)
            try:
                hu, unit = await self.executor.find_unit(cmd.unit_id)
            except NotFoundError:
                raise PreconditionError(
                    cmd.unit_id, "unit is served by another centre: release it from its"
                    " incident there, then assign it here",
                ) from None  # fmt: skip
            if unit.incident_id != cmd.from_incident_id:
                decide.divert_refusal(unit, cmd.from_incident_id)
            hf, from_inc = await self.executor.find_incident(cmd.from_incident_id)
            left, new_to, new_unit = decide.divert(from_inc, to_inc, unit, cmd.reason, cmd.who, now)
            why = f"unit {unit.id} diverted to {to_inc.id}: the patient is not coming with it"
            left, withdrawn = prenotify.withdraw_for_unit(left, unit.id, why, now)
            moved: dict[str, str] = {}
            if unit.region != to_inc.region:
                new_unit.region = to_inc.region  # lent on to the new incident's region
                moved[unit.id] = unit.region
            out = Outcome(incident=new_to, unit=new_unit, from_incident=left)
            details = {"diverted_from": from_inc.id, kpi.DIVERTED_TO: to_inc.id}
            records: list[Record] = [new_to, left, new_unit]
            await self.executor.commit(
                ht.region,
                cmd,
                records,
                out,
                moved_from=moved,
                details=details,
                hosted=(hf.region, hu.region),
            )
        for alert_id in withdrawn:
            self.prenotifier.withdraw(left, alert_id)
        self.core.log.info(
            "unit_diverted",
            region=to_inc.region,
            incident=to_inc.id,
            unit=unit.id,
            from_incident=from_inc.id,
            token=ht.fence.token,
        )
        return out

    async def _hand_over_incident(self, cmd: HandOverIncident, now: float) -> Outcome:
        self._area_region(cmd.to_region, "to_region")
        hi, inc = await self.executor.find_incident(cmd.incident_id)
        units = [(await self.executor.find_unit(u))[1] for u in inc.assigned_unit_ids]
        async with self.core.mailboxes.enter(cmd.incident_id, *inc.assigned_unit_ids):
            inc = hi.incidents[cmd.incident_id]
            new_inc, new_units = decide.move_incident(inc, units, cmd.to_region, now)
            moved = {inc.id: inc.region, **{u.id: u.region for u in units}}
            out = Outcome(incident=new_inc)
            await self.executor.commit(hi.region, cmd, [new_inc, *new_units], out, moved_from=moved)
        self.core.log.info(
            "incident_handed_over",
            incident=inc.id,
            from_region=inc.region,
            to_region=cmd.to_region,
            units=[u.id for u in units],
        )
        self._announce(cmd.to_region, new_inc.id, new_inc.revision)
        return out

    async def _create_incident(
        self, host: RegionHost, region: str, cmd: CreateIncident, now: float
    ) -> Outcome:
        """A new incident (from an answered call, or an imported document: one open copy
        of a document at a time)."""
        log = self.core.log
        self._area_region(region, "region")
        if cmd.source_id and (there := eido.already_open(host.incidents.values(), cmd.source_id)):
            raise PreconditionError(
                there.id,
                f"EIDO incident {cmd.source_id} is open here already as {there.id}:"
                " add what is new to it (a note, a new place) instead of a second incident",
            )
        records: list[Record] = []
        call = None
        if cmd.call_id:  # answered here, or by a partner (then read again)
            call = await self.call_desk.current_call(host, cmd.call_id)
            # Checked before a number is reserved: a refusal leaves no gap.
            serving = self.core.centre_id if call.region in self.core.hosts else ""
            calls.may_complete(call, cmd.by_centre, serving)
        inc = decide.create_incident(cmd, host.next_incident_id(), now, self.core.table, call)
        # Trippelvarsling: the alerts its criteria call for, proposed in the same
        # write, so no reader ever sees a road accident without its proposals.
        inc = self.alerting.propose(inc, now)
        records.append(inc)
        if call is not None:
            records.append(calls.complete(call, inc.id, cmd.by_centre, serving))
        out = Outcome(incident=inc)
        # The region's counter travels with every create (the store keeps the last
        # value per key in a batch, which is the highest number reserved).
        counter = (self.core.keys.counter(region), str(host.last_number).encode())
        await self.executor.commit(host.region, cmd, records, out, [counter])
        log.debug(
            "incident_created",
            region=region,
            token=host.fence.token,
            request_id=cmd.request_id,
            incident=inc.id,
            call=cmd.call_id,
        )
        return out

    def replayed(self, cmd: Command, outcome: Outcome) -> None:
        """A retry answered from the journal (``Centre.execute``): a hand-over whose
        first answer was lost is done, and the new owner may not have been told."""
        if isinstance(cmd, HandOverIncident) and outcome.incident is not None:
            self._announce(cmd.to_region, outcome.incident.id, outcome.incident.revision)

    def _announce(self, region: str, incident_id: str, revision: int) -> None:
        """Tell ``region``'s owner, when it is another centre, that the incident handed
        over at ``revision`` is now its own (see :meth:`_adopt`)."""
        if region in self.core.hosts:
            return  # served here: already in the table
        adopt = AdoptIncident(f"adopt-{incident_id}-{revision}", incident_id)
        task = asyncio.get_running_loop().create_task(self._tell(region, adopt))
        self._adoptions.add(task)
        task.add_done_callback(self._adoptions.discard)

    async def _tell(self, region: str, cmd: AdoptIncident) -> None:
        """Ask ``region``'s owner to load the incident handed over to it. Best effort:
        if it cannot be told (failing over), its next takeover loads the whole region,
        and any command on the incident loads it before that."""
        try:
            await self.air_desk.run_at_owner(region, cmd)
        except AmkError as exc:  # no owner for long, or handed on or archived meanwhile
            self.core.log.warning(
                "incident_adoption_failed",
                region=region,
                incident=cmd.incident_id,
                error=str(exc),
            )
        except Exception:  # a bug or a broken link: logged, the takeover covers it
            self.core.log.exception(
                "incident_adoption_error", region=region, incident=cmd.incident_id
            )

    async def _adopt(self, host: RegionHost, cmd: AdoptIncident) -> Outcome:
        """The new owner's side: the incident loaded into its region, and the region's
        outboxes scanned at once (escalation and archiving see it on their next pass)."""
        found, inc = await self.executor.find_incident(cmd.incident_id, host.region)
        self.prenotifier.outbox.kick(found.region)
        self.air_desk.outbox.kick(found.region)
        self.core.log.info(
            "incident_adopted", region=found.region, incident=inc.id, token=found.fence.token
        )
        return Outcome(incident=inc)

    def stop(self) -> None:
        for task in list(self._adoptions):
            task.cancel()

    async def _run_unit(
        self, host: RegionHost, cmd: ChangeUnitStatus | ReportUnitPosition, now: float
    ) -> Outcome:
        hu, unit = await self.executor.find_unit(cmd.unit_id)
        if isinstance(cmd, ChangeUnitStatus) and unit.mission_id:
            return await self.air_desk.aircraft_status(cmd, now)
        if isinstance(cmd, ReportUnitPosition):
            async with self.core.mailboxes.enter(cmd.unit_id):
                new = decide.report_position(hu.units[cmd.unit_id], cmd.position, now)
                out = Outcome(unit=new)
                await self.executor.commit(hu.region, cmd, [new], out)
            self.prenotifier.unit_moved(new)
            return out
        while True:
            incident_id = unit.incident_id
            hi = (await self.executor.find_incident(incident_id))[0] if incident_id else hu
            async with self.core.mailboxes.enter(
                cmd.unit_id, *([incident_id] if incident_id else [])
            ):
                unit = hu.units[cmd.unit_id]
                if unit.incident_id != incident_id:
                    continue  # reassigned while we waited: lock the right incident
                inc = hi.incidents.get(incident_id) if incident_id else None
                new_unit, new_inc = decide.change_unit_status(
                    unit, cmd.status, inc, now, cmd.occurred_at
                )
                details = decide.late_entry_details(new_unit, cmd.occurred_at, inc)
                new_inc, withdrawn = _prenotifications_follow(unit, new_unit, inc, new_inc, now)
                records: list[Incident | Unit] = [new_unit] + ([new_inc] if new_inc else [])
                out = Outcome(incident=new_inc, unit=new_unit)
                # Entered later: the journal keeps when it happened, for the review.
                await self.executor.commit(hu.region, cmd, records, out, details=details)
                if new_inc is not None:
                    for alert_id in withdrawn:
                        self.prenotifier.withdraw(new_inc, alert_id)
                return out


def _prenotifications_follow(
    unit: Unit,
    new_unit: Unit,
    inc: Incident | None,
    new_inc: Incident | None,
    now: float,
) -> tuple[Incident | None, list[str]]:
    """What a unit's status change does to its open pre-notification, in the same write:
    AT_HOSPITAL stamps the arrival (when the unit's status says it came: a time entered
    later included); leaving the incident before the hospital withdraws
    it (the ids withdrawn are returned: the hospital is told after the commit). The
    incident to write (``new_inc``, or ``inc`` changed only here), or None."""
    if inc is None:
        return new_inc, []
    current = new_inc or inc
    if new_unit.status is UnitStatus.AT_HOSPITAL:
        arrived = prenotify.mark_arrived(current, unit.id, now, new_unit.status_at)
        return (arrived if arrived is not current else new_inc), []
    if unit.incident_id and not new_unit.incident_id:
        why = f"unit {unit.id} {new_unit.status.value} from the scene: not transported"
        left, withdrawn = prenotify.withdraw_for_unit(current, unit.id, why, now)
        return (left if withdrawn else new_inc), withdrawn
    return new_inc, []
