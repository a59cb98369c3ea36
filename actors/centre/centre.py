"""The AMK centre: owns regions, hosts their entities, executes commands.

:class:`Centre` is plain asyncio code (testable against a real etcd without Ray) that
composes the centre's parts, each given what it uses:

- :class:`~actors.centre.ownership.RegionOwnership`: campaigns, takeovers, hand-overs;
- :class:`~actors.centre.executor.Executor`: guarded commits and reloads;
- :class:`~actors.centre.dispatch.Dispatcher`: incident and unit commands;
- :class:`~actors.centre.call_desk.CallDesk`: 113 calls;
- :class:`~actors.centre.alerting.Alerting`: alerts to other services, their delivery
  and escalation;
- :class:`~actors.centre.prenotifying.PreNotifier`: hospital pre-notifications, their
  delivery and the ETA updates as the unit moves;
- :class:`~actors.centre.air_desk.AirDesk`: air ambulance requests and missions, and
  the outboxes between the requesting AMK and the AMK-LA;
- :class:`~actors.centre.archiving.Archiver`: closed work out of etcd, into the archive.

Ownership is never a boolean: the centre holds, per region, a ``RegionHost`` with the
region's fence; every write carries the fence and etcd checks it. A region is dropped
the moment a write is fenced, the session cannot be renewed in time, or the owner key's
watch shows another owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import OrderedDict
from typing import Any

from actors.centre.air_desk import AirDesk
from actors.centre.alerting import Alerting
from actors.centre.archiving import Archiver
from actors.centre.call_desk import CallDesk
from actors.centre.core import CentreCore, Peers, Running
from actors.centre.dispatch import Dispatcher
from actors.centre.executor import Executor
from actors.centre.ownership import RegionOwnership
from actors.centre.prenotifying import PreNotifier
from actors.centre.records import CallTakerCounts, CentreStatus
from actors.domain import alert_gauges
from actors.domain.commands import Command
from actors.domain.idempotency import check_same_request, stored_fingerprint
from actors.domain.model import Outcome
from cluster.config import ClusterConfig
from cluster.election import Election
from cluster.errors import (
    AmkError,
    NotOwnerError,
    SessionExpiredError,
    StoreUnavailableError,
)
from cluster.etcd import EtcdClient
from cluster.etcd_tls import etcd_client_for
from cluster.histogram import StoreMetrics
from cluster.session import Session
from cluster.store import DuplicateRequestError, FencedStore, StaleRecordError

RECENT_REQUESTS = 10_000
START_POLL_S = 0.02  # how often start() looks whether the home regions are settled
# status() runs on every overflowed 113 call and every scrape; its alert gauges walk each
# incident with a sent alert, so they are counted again at most this often.
ALERT_GAUGES_EVERY_S = 1.0


class Centre:
    """One AMK centre instance: a session, the regions it owns, their entities."""

    def __init__(
        self, config: ClusterConfig, centre_id: str, peers: Peers, *, instance: str = ""
    ) -> None:
        self.core = CentreCore(config, centre_id, instance=instance)
        self.ownership = RegionOwnership(self.core, peers)
        self.executor = Executor(self.core)
        self.call_desk = CallDesk(self.core, self.executor, peers)
        self.alerting = Alerting(self.core, self.executor, self.execute)
        self.prenotifier = PreNotifier(self.core, self.executor, self.execute)
        self.air_desk = AirDesk(self.core, self.executor, peers, self.execute)
        # A region taken over: deliver at once what its outboxes hold (the previous
        # owner may have died between a commit and its delivery).
        self.ownership.on_taken.append(self.air_desk.outbox.kick)
        self.ownership.on_taken.append(self.prenotifier.outbox.kick)
        self.dispatcher = Dispatcher(
            self.core,
            self.executor,
            self.call_desk,
            self.alerting,
            self.prenotifier,
            self.air_desk,
        )
        self.archiver = Archiver(self.core, self.ownership.on_fenced)
        self.recent: OrderedDict[str, tuple[str, Outcome]] = OrderedDict()  # id -> (fp, answer)
        self._gauges: tuple[float, tuple[alert_gauges.AlertGauge, ...]] = (-1e18, ())
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopped = asyncio.Event()
        self.store_metrics = StoreMetrics()  # kept across stores rebuilt on session renewal

    @property
    def instance(self) -> str:
        return self.core.instance

    # ------------------------------------------------------------ lifecycle

    async def start(self, endpoints: list[str], *, claim_timeout_s: float = 30.0) -> CentreStatus:
        """Open the session and campaign for every region this centre may serve.

        Returns once the home regions are held, or once they are known to be held by
        another centre (after a restart the backup keeps them until a handback).
        """
        core = self.core
        core.running = await self._open(etcd_client_for(core.config, endpoints))
        for region in core.config.region_ids():
            if core.seat in core.line(region):
                self._tasks.append(asyncio.create_task(self.ownership.campaign(region)))
        self._tasks.append(asyncio.create_task(self.archiver.run()))
        self._tasks.append(asyncio.create_task(self.alerting.watch()))
        self._tasks.append(asyncio.create_task(self.air_desk.outbox.watch()))
        self._tasks.append(asyncio.create_task(self.prenotifier.outbox.watch()))
        deadline = time.monotonic() + claim_timeout_s
        homes = set(core.config.home_regions(core.centre_id))
        while time.monotonic() < deadline:
            if homes <= set(core.hosts) | self.ownership.held_elsewhere:
                break
            await asyncio.sleep(START_POLL_S)
        return self.status()

    async def _open(self, client: EtcdClient) -> Running:
        core = self.core
        session = await Session(
            client,
            core.config.lease_ttl_s,
            margin_s=core.config.lease_margin_s,
            on_expired=self._on_session_expired,
        ).open()
        store = FencedStore(
            client,
            core.keys,
            writer=core.instance,
            on_fenced=self.ownership.on_fenced,
            fencing=core.config.fencing,
            metrics=self.store_metrics,
        )
        return Running(client, session, store)

    def _on_session_expired(self, lease_id: int) -> None:
        self.ownership.drop_all(f"lease {lease_id:x} not renewed in time")
        if not self.core.stopping:
            self._tasks.append(asyncio.get_running_loop().create_task(self._renew_session()))

    async def _renew_session(self) -> None:
        delays = self.core.config.session_retry.delays()
        while not self.core.stopping:
            try:
                self.core.running = await self._open(self.core.running.client)
                return
            except StoreUnavailableError:
                await asyncio.sleep(next(delays))

    async def stop(self) -> None:
        """Step down from every region and revoke the lease: backups may claim at once."""
        core = self.core
        core.stopping = True
        for t in self._tasks:
            t.cancel()
        self.alerting.stop()
        self.prenotifier.stop()
        self.air_desk.stop()
        self.dispatcher.stop()
        if core.started:
            running = core.running
            for host in list(core.hosts.values()):
                with contextlib.suppress(AmkError):
                    await Election(running.client, host.fence.key, host.region).resign(host.fence)
            core.hosts.clear()
            await running.session.close(revoke=True)
            await running.client.close()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Pending until the centre stops: a supervisor's pending call on this learns of
        the actor's death within milliseconds (Ray fails it when the process dies)."""
        await self._stopped.wait()

    # ------------------------------------------------------------ commands

    async def execute(self, region: str, cmd: Command) -> Outcome:
        """Run one command in ``region`` exactly once per request id; a request id used
        before for a different request is refused (``actors.domain.idempotency``)."""
        cached = self.recent.get(cmd.request_id)
        if cached is not None:
            check_same_request(cmd.request_id, cached[0], cmd.fingerprint)
            return cached[1]
        try:
            outcome = await self.dispatcher.run(region, cmd)
        except DuplicateRequestError as dup:
            check_same_request(cmd.request_id, stored_fingerprint(dup.stored), cmd.fingerprint)
            outcome = Outcome.decode(dup.stored, dup.revision)
            await self._replayed(cmd, outcome)
        except StaleRecordError as stale:
            await self.executor.reload(stale.keys)
            raise
        except (NotOwnerError, SessionExpiredError, StoreUnavailableError):
            raise
        except AmkError:
            # A retry of a command that was applied before may now be illegal
            # (e.g. a status change already made): answer with the first result.
            stored = await self.core.running.store.read_request(cmd.request_id)
            if stored is None:
                raise
            check_same_request(cmd.request_id, stored_fingerprint(stored[0]), cmd.fingerprint)
            outcome = Outcome.decode(*stored)
            await self._replayed(cmd, outcome)
        self.recent[cmd.request_id] = (cmd.fingerprint, outcome)
        if len(self.recent) > RECENT_REQUESTS:
            self.recent.popitem(last=False)
        return outcome

    async def _replayed(self, cmd: Command, outcome: Outcome) -> None:
        """A retry answered from the journal: its commit's answer may have been lost, so
        the cache catches up, and what followed that commit (a hand-over's message to
        the new owner) is done again."""
        await self.executor.catch_up(outcome)
        self.dispatcher.replayed(cmd, outcome)

    async def hand_over_region(self, region: str, to: Any, who: str) -> int:
        return await self.ownership.hand_over_region(region, to, who)

    def sign_in(self, call_taker: str) -> CallTakerCounts:
        return self.call_desk.sign_in(call_taker)

    def sign_out(self, call_taker: str) -> CallTakerCounts:
        return self.call_desk.sign_out(call_taker)

    def call_ended(self, call_taker: str, call_id: str) -> CallTakerCounts:
        return self.call_desk.call_ended(call_taker, call_id)

    # ------------------------------------------------------------ status

    def held_tokens(self) -> dict[str, int]:
        """Region -> fencing token of every region hosted now (the probe's answer).

        Called from the probe's thread too: ``dict(...)`` copies in one step under the
        GIL, so the main loop adding or dropping a region cannot break the iteration."""
        return {r: h.fence.token for r, h in dict(self.core.hosts).items()}

    def status(self, node_id: str = "") -> CentreStatus:
        core = self.core
        session = core.running.session if core.started else None
        store = core.running.store if core.started else None
        return CentreStatus(
            id=core.centre_id,
            name=core.name,
            instance=core.instance,
            node_id=node_id,
            pid=os.getpid(),
            lease_id=session.lease_id if session else 0,
            lease_ttl_s=session.ttl_s if session else 0,
            lease_valid_for_s=session.valid_for() if session else 0.0,
            regions=self.held_tokens(),
            counts={r: (len(h.incidents), len(h.units)) for r, h in core.hosts.items()},
            region_states={r: str(s) for r, s in core.states.items()},
            store=dict(store.stats) if store else {},
            takeovers=tuple(self.ownership.takeovers[-10:]),
            call_takers=self.call_desk.call_taker_counts(),
            commit_latency=self.store_metrics.commit_latency.snapshot() if store else None,
            batch_size=self.store_metrics.batch_size.snapshot() if store else None,
            archive={r: p for r, p in self.archiver.progress.items() if r in core.hosts},
            address=core.address,
            alerts=self.alert_gauges(),
        )

    def alert_gauges(self) -> tuple[alert_gauges.AlertGauge, ...]:
        """The open alerts of the regions hosted, counted at most every
        ``ALERT_GAUGES_EVERY_S`` (a scrape's figure may be that old)."""
        core = self.core
        at, gauges = self._gauges
        if time.monotonic() - at >= ALERT_GAUGES_EVERY_S:  # a wall clock may step back
            now = core.clock()
            gauges = tuple(
                g
                for r, h in core.hosts.items()
                for g in alert_gauges.gauges(r, h.incidents.with_sent_alerts(), now)
            )
            self._gauges = (time.monotonic(), gauges)
        return gauges
