"""How a centre runs air ambulance requests (issue #19): on the requesting side, the
request as an alert of the incident; on the AMK-LA side, the air mission; between the
two, the outboxes.

**Two records, two fences.** The request is a write of the incident under the incident
region's token; the mission is a write in the AMK-LA region under that region's token.
No transaction spans both: the two regions are usually owned by different centres, and
a write that needed both owners would fail whenever either failed over. Instead each
side commits its own change first and then delivers it, as one command, to whoever owns
the other region now, reached like every cross-centre call (the owner key read from
etcd, then the owner instance's handle through :class:`~actors.centre.core.Peers`, or
this centre itself when it owns both).

**The outbox is the record.** An air request is undelivered while its alert has no
``delivered_at``; a withdrawn request is owed to the AMK-LA while its alert has no
``withdrawal_delivered_at`` (``air.withdrawal_pending``); a mission change is unreported
while ``seq > reported_seq``. All three are part of the committed value, so a
takeover loads them with the region: the new owner's scan at takeover, and every
``air_outbox_interval_s`` after, delivers what is still pending. A delivery is
idempotent on a request id derived from the record (``actors/domain/air.py``), and
the receiving side ignores a repeat, so delivering twice (the sender died after the
other side committed, before it recorded so) is harmless. Nothing is dropped: a
delivery that keeps failing is retried, logged each time with its region, incident and
token, until it succeeds.

Aircraft of an AMK-LA region on a mission report their status here too
(:meth:`AirDesk.aircraft_status`): the mission follows, in the same write.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

from actors.centre.core import CentreCore, Peers
from actors.centre.executor import Executor
from actors.centre.outbox import OutboxRunner
from actors.centre.region_host import RegionHost
from actors.domain import air, alerts
from actors.domain.commands import (
    AbortAirMission,
    AirCommand,
    AnswerAirRequest,
    ChangeUnitStatus,
    Command,
    MarkAirMissionReported,
    MarkAirRequestDelivered,
    MarkAirWithdrawalDelivered,
    OpenAirMission,
    RecordAirMission,
    RequestAirAmbulance,
    WithdrawAirRequest,
)
from actors.domain.errors import InvalidArgumentError, NotFoundError, PreconditionError
from actors.domain.model import AirMission, Alert, Incident, Outcome, Unit
from actors.domain.model import AirMissionState as S
from cluster.errors import AmkError, RegionUnavailableError
from cluster.ownership import read_owner

Execute = Callable[[str, Command], Awaitable[Outcome]]
_UNIT_TRIES = 3  # a mission accepted while a command waited: decided again with its aircraft


def _unit_of(cmd: Command, mission: AirMission) -> str:
    """The aircraft a mission command changes too, to lock beside the mission."""
    if isinstance(cmd, AnswerAirRequest):
        return cmd.unit_id if cmd.accept else ""
    return mission.unit_id if isinstance(cmd, AbortAirMission) else ""


class AirDesk:
    """Air ambulance commands, and the delivery of both sides' outboxes, for one centre."""

    def __init__(self, core: CentreCore, executor: Executor, peers: Peers, execute: Execute):
        self.core = core
        self.executor = executor
        self.peers = peers
        self.execute = execute  # Centre.execute: once per request id, like every command
        self.outbox = OutboxRunner(
            core,
            "air_delivery_pending",  # request:/withdrawal:{incident}:{alert}, report:{mission}
            lambda: core.config.air_outbox_interval_s,
            self._scan,
            before_start=self._crash_point,
        )

    # ------------------------------------------------------------ commands

    async def run(self, host: RegionHost, cmd: AirCommand, now: float) -> Outcome:
        """Decide and commit one air command (``host``: the region it was sent to)."""
        if isinstance(
            cmd,
            RequestAirAmbulance
            | MarkAirRequestDelivered
            | RecordAirMission
            | MarkAirWithdrawalDelivered,
        ):
            return await self._on_incident(cmd, now)
        if isinstance(cmd, OpenAirMission):
            return await self._open(host, cmd, now)
        if isinstance(cmd, WithdrawAirRequest):
            return await self._withdraw(host, cmd, now)
        return await self._on_mission(cmd, now)

    async def _on_incident(
        self,
        cmd: RequestAirAmbulance
        | MarkAirRequestDelivered
        | RecordAirMission
        | MarkAirWithdrawalDelivered,
        now: float,
    ) -> Outcome:
        core = self.core
        h, _ = await self.executor.find_incident(cmd.incident_id)
        async with core.mailboxes.enter(cmd.incident_id):
            inc = h.incidents[cmd.incident_id]
            reached: dict = {}  # a report that put the incident on scene (the KPIs)
            if isinstance(cmd, RequestAirAmbulance):
                air_region = core.config.seed.air_region_for(inc.region)
                if air_region is None:
                    raise PreconditionError(inc.id, f"no AMK-LA serves region {inc.region}")
                new, alert = air.request(inc, cmd.kind, cmd.reason, air_region, cmd.who, now)
                alert_id = alert.id
            else:
                alert_id = cmd.alert_id
                if isinstance(cmd, MarkAirRequestDelivered):
                    changed = air.mark_delivered(
                        inc, alert_id, cmd.mission_id, cmd.received_at, now
                    )
                elif isinstance(cmd, MarkAirWithdrawalDelivered):
                    changed = air.mark_withdrawal_delivered(
                        inc, alert_id, cmd.mission_id, cmd.answer, cmd.delivered_at, now
                    )
                else:
                    changed = air.record_report(inc, cmd, now)
                if changed is None:  # known already, a repeat, or overtaken by a newer one
                    return Outcome(incident=inc)
                new = changed
                if isinstance(cmd, RecordAirMission):
                    reached = air.on_scene_details(inc, new, cmd)
            out = Outcome(incident=new)
            a = alerts.find(new, alert_id)
            details = {
                "alert": a.id,
                "alert_state": a.state.value,
                "mission": a.mission_id,
                "mission_state": a.mission_state.value if a.mission_state else "",
                **reached,
            }
            await self.executor.commit(h.region, cmd, [new], out, details=details)
        core.log.info(
            "air_request_" + type(cmd).__name__,
            region=h.region,
            incident=new.id,
            token=h.fence.token,
            alert=a.id,
            alert_state=a.state.value,
            mission=a.mission_id,
            mission_state=details["mission_state"],
            request_id=cmd.request_id,
        )
        if isinstance(cmd, RequestAirAmbulance):
            self._spawn_request(h.region, new.id, a.id)
        elif air.withdrawal_pending(a):  # withdrawn before this receipt or report came
            self._spawn_withdrawal(h.region, new.id, a.id)
        return out

    def withdrawn(self, inc: Incident, alert_id: str) -> None:
        """After ``CancelAlert`` committed: a withdrawn air request the AMK-LA has is
        delivered to it now (and by the outbox scan until it is answered)."""
        alert = alerts.find(inc, alert_id)
        if air.withdrawal_pending(alert):
            self._spawn_withdrawal(inc.region, inc.id, alert_id)

    async def _open(self, host: RegionHost, cmd: OpenAirMission, now: float) -> Outcome:
        """Record a delivered request as a mission of this AMK-LA region, once."""
        core = self.core
        mission_id = self._own_mission_id(host, cmd)
        async with core.mailboxes.enter(mission_id):
            held = host.missions.get(mission_id)
            if held is not None:
                return Outcome(mission=held)  # delivered before: nothing new
            mission = air.open_mission(cmd, mission_id, now)
            out = Outcome(mission=mission)
            await self.executor.commit(
                host.region, cmd, [mission], out, details={"incident": cmd.incident_id}
            )
        core.log.info(
            "air_mission_opened",
            region=host.region,
            token=host.fence.token,
            mission=mission_id,
            incident=cmd.incident_id,
            incident_region=cmd.incident_region,
            kind=cmd.kind.value,
        )
        return out

    async def _on_mission(
        self, cmd: AnswerAirRequest | AbortAirMission | MarkAirMissionReported, now: float
    ) -> Outcome:
        core = self.core
        host, mission = self.executor.find_mission(cmd.mission_id)
        for _ in range(_UNIT_TRIES):
            unit_id = _unit_of(cmd, mission)
            if unit_id and unit_id not in host.units:
                # The gateway has looked it up: it exists, but elsewhere (a road unit, or
                # an aircraft lent to another AMK-LA meanwhile).
                raise PreconditionError(unit_id, f"not an aircraft of {host.region}")
            async with core.mailboxes.enter(cmd.mission_id, *([unit_id] if unit_id else [])):
                mission = host.missions[cmd.mission_id]
                if _unit_of(cmd, mission) != unit_id:
                    continue  # accepted meanwhile: lock its aircraft too, and decide again
                unit: Unit | None = host.units.get(unit_id) if unit_id else None
                records: list[AirMission | Unit] = []
                if isinstance(cmd, AnswerAirRequest):
                    if cmd.accept:
                        assert unit is not None
                        new, new_unit = air.accept(mission, unit, cmd.base_doctor, cmd.who, now)
                        records = [new, new_unit]
                    else:
                        new = air.decline(mission, cmd.reason, cmd.base_doctor, cmd.who, now)
                        records = [new]
                elif isinstance(cmd, AbortAirMission):
                    new, freed = air.abort(mission, unit, cmd.reason, cmd.who, now)
                    records = [new] + ([freed] if freed is not None else [])
                else:
                    changed = air.mark_reported(mission, cmd.seq)
                    if changed is None:
                        return Outcome(mission=mission)
                    new = changed
                    records = [new]
                return await self._commit_mission(host, cmd, records)
        raise PreconditionError(cmd.mission_id, "its aircraft changed meanwhile; send it again")

    def _own_mission_id(self, host: RegionHost, request: OpenAirMission) -> str:
        """The id of the mission ``request`` opens in ``host``'s AMK-LA region (derived
        here, never taken from the sender), or why it belongs to no mission here."""
        seed = self.core.config.seed
        if request.region != host.region:
            raise InvalidArgumentError("region", f"the mission belongs to {request.region}")
        if not seed.is_air_region(host.region):
            raise PreconditionError(host.region, "not an air ambulance coordination region")
        return air.mission_id(seed.region(host.region).code, request.incident_id, request.alert_id)

    async def _withdraw(self, host: RegionHost, cmd: WithdrawAirRequest, now: float) -> Outcome:
        """The AMK-LA's side of a withdrawal (``air.withdraw_mission``), in the region it
        was sent to, for the mission id derived here as :meth:`_open` does (so a late
        request and its withdrawal always name one mission). A withdrawal that came too
        late is noted in the mission's events, so the AMK-LA sees it and the journal has
        it under the mission's id."""
        core = self.core
        request = cmd.request
        mission_id = self._own_mission_id(host, request)
        if cmd.mission_id != mission_id:
            raise InvalidArgumentError("mission_id", f"the request's mission is {mission_id}")
        mission = host.missions.get(mission_id)
        for _ in range(_UNIT_TRIES):
            unit_id = mission.unit_id if mission is not None else ""
            async with core.mailboxes.enter(mission_id, *([unit_id] if unit_id else [])):
                mission = host.missions.get(mission_id)
                if (mission.unit_id if mission is not None else "") != unit_id:
                    continue  # accepted meanwhile: lock its aircraft too, and decide again
                new, freed = air.withdraw_mission(mission, host.units.get(unit_id), cmd, now)
                if new.state is not S.ABORTED:
                    core.log.info(
                        "air_withdrawal_too_late",
                        region=host.region,
                        token=host.fence.token,
                        mission=mission_id,
                        incident=request.incident_id,
                        mission_state=new.state.value,
                        request_id=cmd.request_id,
                    )
                return await self._commit_mission(host, cmd, [new, *([freed] if freed else [])])
        raise PreconditionError(mission_id, "its aircraft changed meanwhile; send it again")

    async def _commit_mission(
        self, host: RegionHost, cmd: Command, records: list[AirMission | Unit]
    ) -> Outcome:
        """Commit a mission's change (and its aircraft's), log it, report it back."""
        new = next(r for r in records if isinstance(r, AirMission))
        out = Outcome(mission=new, unit=next((r for r in records if isinstance(r, Unit)), None))
        await self.executor.commit(
            host.region, cmd, records, out, details={"mission_state": new.state.value}
        )
        if not isinstance(cmd, MarkAirMissionReported):  # _report logs the receipt
            self._log_mission(cmd, host, new)
        if air.unreported(new):
            self._spawn_report(host.region, new.id)
        return out

    async def aircraft_status(self, cmd: ChangeUnitStatus, now: float) -> Outcome:
        """A status change of an aircraft on a mission: unit and mission in one write."""
        if cmd.occurred_at is not None:  # the mission's times are the AMK-LA's own, live
            raise PreconditionError(
                cmd.unit_id,
                "an aircraft on an air mission takes no time entered later (its status is live)",
            )
        core = self.core
        hu, unit = await self.executor.find_unit(cmd.unit_id)
        mission_id = unit.mission_id
        async with core.mailboxes.enter(cmd.unit_id, mission_id):
            unit = hu.units[cmd.unit_id]
            if unit.mission_id != mission_id:
                raise PreconditionError(unit.id, "its mission changed meanwhile; send it again")
            mission = hu.missions.get(mission_id)
            if mission is None:
                raise NotFoundError("air mission", f"{mission_id} (of unit {unit.id})")
            new_unit, new = air.aircraft_status(unit, mission, cmd.status, cmd.who, now)
            out = Outcome(unit=new_unit, mission=new)
            await self.executor.commit(
                hu.region, cmd, [new_unit, new], out, details={"mission_state": new.state.value}
            )
        self._log_mission(cmd, hu, new)
        self._spawn_report(hu.region, new.id)
        return out

    def _log_mission(self, cmd: Command, host: RegionHost, m: AirMission) -> None:
        self.core.log.info(
            "air_mission_" + m.state.value,
            region=host.region,
            token=host.fence.token,
            mission=m.id,
            incident=m.incident_id,
            unit=m.unit_id,
            seq=m.seq,
            command=type(cmd).__name__,
            request_id=cmd.request_id,
        )

    # ------------------------------------------------------------ outboxes

    def _scan(self, host: RegionHost) -> None:
        # Only incidents with alerts (the table's index): a scan of every incident
        # each second was 4 % of a loaded centre's CPU at 20,000 incidents per region.
        for inc in host.incidents.with_sent_alerts():
            for alert in air.undelivered(inc):
                self._spawn_request(host.region, inc.id, alert.id)
            for alert in inc.alerts:
                if air.withdrawal_pending(alert):
                    self._spawn_withdrawal(host.region, inc.id, alert.id)
        for mission in list(host.missions.values()):
            if air.unreported(mission):
                self._spawn_report(host.region, mission.id)

    def _spawn_request(self, region: str, incident_id: str, alert_id: str) -> None:
        key = f"request:{incident_id}:{alert_id}"
        self.outbox.spawn(key, region, lambda: self._deliver_request(region, incident_id, alert_id))

    def _spawn_withdrawal(self, region: str, incident_id: str, alert_id: str) -> None:
        key = f"withdrawal:{incident_id}:{alert_id}"
        self.outbox.spawn(
            key, region, lambda: self._deliver_withdrawal(region, incident_id, alert_id)
        )

    def _spawn_report(self, region: str, mission_id: str) -> None:
        key = f"report:{mission_id}"
        self.outbox.spawn(key, region, lambda: self._deliver_report(region, mission_id))

    def _owed(
        self, region: str, incident_id: str, alert_id: str, owed: Callable[[Alert], bool]
    ) -> tuple[RegionHost, Incident, Alert] | None:
        """The incident's alert, if this centre still holds it in ``region`` and it is
        still ``owed``; None when the region was lost or the incident moved (its new
        owner's scan delivers it) or nothing is owed any more."""
        host = self.core.hosts.get(region)
        inc = host.incidents.get(incident_id) if host else None
        if host is None or inc is None:
            return None
        alert = alerts.find(inc, alert_id)
        return (host, inc, alert) if owed(alert) else None

    async def _deliver_request(self, region: str, incident_id: str, alert_id: str) -> None:
        """Incident side: the request to the AMK-LA's owner, then its receipt recorded."""
        # Delivered meanwhile (by an earlier try, or a report came first): nothing to do.
        found = self._owed(region, incident_id, alert_id, air.request_undelivered)
        if found is None:
            return
        host, inc, alert = found
        cmd = air.open_command(inc, alert, alert.recipient)
        mission = (await self.run_at_owner(alert.recipient, cmd)).require_mission()
        mark = MarkAirRequestDelivered(
            air.delivered_request_id(incident_id, alert_id),
            incident_id,
            alert_id,
            mission.id,
            mission.received_at,
        )
        await self.execute(inc.region, mark)
        self.core.log.info(
            "air_request_delivered",
            region=inc.region,
            incident=incident_id,
            token=host.fence.token,
            alert=alert_id,
            mission=mission.id,
            air_region=alert.recipient,
        )

    async def _deliver_withdrawal(self, region: str, incident_id: str, alert_id: str) -> None:
        """Incident side: the withdrawal to the AMK-LA's owner, then its answer recorded.
        The mission's new state comes back as a report like any other change."""
        # Answered meanwhile, or the mission ended anyway: nothing to do.
        found = self._owed(region, incident_id, alert_id, air.withdrawal_pending)
        if found is None:
            return
        host, inc, alert = found
        code = self.core.config.seed.region(alert.recipient).code
        cmd = air.withdrawal_command(inc, alert, code)
        mission = (await self.run_at_owner(alert.recipient, cmd)).require_mission()
        mark = MarkAirWithdrawalDelivered(
            air.withdrawal_delivered_request_id(incident_id, alert_id),
            incident_id,
            alert_id,
            mission.id,
            mission.state,  # aborted by it; or on scene and later, or ended: too late
            self.core.clock(),
        )
        await self.execute(inc.region, mark)
        self.core.log.info(
            "air_withdrawal_delivered",
            region=inc.region,
            incident=incident_id,
            token=host.fence.token,
            alert=alert_id,
            mission=mission.id,
            mission_state=mission.state.value,
            air_region=alert.recipient,
        )

    async def _deliver_report(self, region: str, mission_id: str) -> None:
        """AMK-LA side: the mission as it is now to the incident's owner, then the
        receipt; again while changes made meanwhile are still unreported (one delivery
        per mission at a time, so reports arrive in order)."""
        while True:
            host = self.core.hosts.get(region)
            mission = host.missions.get(mission_id) if host else None
            if host is None or mission is None or not air.unreported(mission):
                return
            await self._report(host, mission)
            now = host.missions.get(mission_id)
            if now is not None and now.reported_seq < mission.seq:
                return  # the receipt is not in this host: the outbox scan goes on

    async def _report(self, host: RegionHost, mission: AirMission) -> None:
        mission_id = mission.id
        cmd = air.report_of(mission)
        target = mission.incident_region
        try:
            await self.run_at_owner(target, cmd)
        except NotFoundError:
            # Handed over to another region since the request came: find it there.
            target = await self._locate_incident(mission.incident_id, target)
            await self.run_at_owner(target, cmd)
        mark = MarkAirMissionReported(
            air.reported_request_id(mission_id, cmd.seq), mission_id, cmd.seq
        )
        await self.execute(mission.region, mark)
        self.core.log.info(
            "air_mission_reported",
            region=mission.region,
            token=host.fence.token,
            mission=mission_id,
            incident=mission.incident_id,
            incident_region=target,
            mission_state=cmd.state.value,
            seq=cmd.seq,
        )

    async def _locate_incident(self, incident_id: str, tried: str) -> str:
        """The area region whose key holds the incident now (read from etcd)."""
        core = self.core
        for region in core.config.area_region_ids():
            if region != tried:
                kv = await core.running.client.get(core.keys.incident(region, incident_id))
                if kv is not None:
                    return region
        raise NotFoundError("incident", incident_id)

    async def run_at_owner(self, region: str, cmd: Command) -> Outcome:
        """Run ``cmd`` at whoever owns ``region`` now: this centre, or the owner
        instance its owner key names. Retryable failures (no owner while it fails over,
        a dead or deposed owner) are tried again per ``air_delivery_retry``. The air
        outboxes deliver with it, and a hand-over tells the new region's owner."""
        core = self.core
        config = core.config
        delays = config.air_delivery_retry.delays()
        while True:
            try:
                if region in core.hosts:
                    return await self.execute(region, cmd)
                owner = await read_owner(core.running.client, core.keys, region)
                if owner is None:
                    raise RegionUnavailableError(region, "no centre owns it (failing over)")
                if owner.record.instance == core.instance:
                    return await self.execute(region, cmd)
                return await self.peers.execute_at(
                    owner.record, region, cmd, timeout_s=config.air_delivery_timeout_s
                )
            except AmkError as exc:
                if not exc.retryable:
                    raise
                wait = next(delays, None)
                if wait is None or core.stopping:
                    raise
                core.log.info(
                    "air_delivery_retry", region=region, request_id=cmd.request_id, error=str(exc)
                )
                await asyncio.sleep(wait)

    def _crash_point(self, key: str) -> None:
        """Test/drill only: die between a commit and its delivery, once."""
        path = self.core.config.air_crash_file
        if path is not None and path.exists():
            path.unlink(missing_ok=True)
            self.core.log.warning("air_crash_point", file=str(path), key=key)
            os.kill(os.getpid(), signal.SIGKILL)

    def stop(self) -> None:
        self.outbox.stop()
