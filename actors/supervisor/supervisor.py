"""The supervisor: creates the centre, gateway and major-incident actors, learns of a
death in milliseconds, revokes a dead centre's lease at once, and starts it again.

Centre actors run with ``max_restarts=0``: Ray then fails a call pending on a dead
actor ~8 ms after the process dies, where with restarts on it holds the call ~1.3 s
while it restarts the actor (measured on the 2-core machine, Ray 2.60). So each centre
has one call pending here (``wait_stopped``) that only returns when the centre stops;
when it fails instead, the centre died. The supervisor then revokes the lease of every
owner key the dead instance held, so the backups claim at once instead of waiting for
the TTL, and recreates the actor (Erlang style), which rejoins as a standby.

A hang leaves no death to see: :class:`~actors.supervisor.probe.LivenessProbe` pings
every centre on a short deadline and, after consecutive misses, revokes the hung
instance's leases through the same :meth:`Supervisor._revoke` (a :class:`HangEvent`),
without restarting it.

A false alarm is harmless: fencing stops the old owner's writes.

The actors it creates are detached, so they outlive it: when the supervisor itself dies
(the launcher starts it again), the new one adopts every centre and gateway still alive,
found by name, instead of starting them anew. Gateways are kept by
:class:`~actors.supervisor.gateways.GatewayKeeper`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, replace

import ray
import structlog

from actors.centre import actor as centre_actor
from actors.centre.handle import ACTOR_PREFIX, CentreHandle
from actors.major import actor as major_actor
from actors.major.handle import MajorHandle
from actors.major.record import MajorRecord, MajorStatus, MajorView
from actors.supervisor.adoption import ADOPT_TIMEOUT_S, adopt_one
from actors.supervisor.gateways import GatewayKeeper
from actors.supervisor.probe import (
    PING_LATENCY_BOUNDS_S,
    AdaptiveDeadline,
    LivenessProbe,
    Witnesses,
)
from actors.supervisor.records import DeathEvent, GatewayState, HangEvent, ProbeStats
from actors.supervisor.site_watch import SiteLossEvent, SiteWatch
from cluster.config import ClusterConfig
from cluster.errors import ActorUnavailableError, AmkError
from cluster.etcd import EtcdClient
from cluster.etcd_tls import etcd_client_for
from cluster.histogram import Histogram
from cluster.keys import Keys
from cluster.ownership import OwnerRecord

log = structlog.get_logger("amk.supervisor")


class Supervisor:
    """Watches every centre actor and restarts it when it dies."""

    def __init__(self, config: ClusterConfig, endpoints: list[str]) -> None:
        self.config = config
        self.endpoints = endpoints
        self.keys = Keys(config.key_prefix)
        self.client: EtcdClient | None = None
        self.handles: dict[str, CentreHandle] = {}
        self.instances: dict[str, str] = {}
        self.events: list[DeathEvent | HangEvent] = []
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._probes: dict[str, tuple[LivenessProbe, asyncio.Task[None]]] = {}
        # Every answered ping's latency, all centres: the evidence for probe_deadline_s.
        self.ping_latency = Histogram(PING_LATENCY_BOUNDS_S)
        self.probe_misses: dict[str, int] = {}
        self.witnesses = Witnesses()
        self.probe_deadline = AdaptiveDeadline(
            config.probe_deadline_s,
            config.probe_deadline_max_s,
            config.probe_deadline_factor,
            config.probe_window,
        )
        self._major_watchers: dict[str, asyncio.Task[None]] = {}
        self.gateways = GatewayKeeper(config, endpoints)
        self.site_watch: SiteWatch | None = None
        self._stopping = False
        self._stopped = asyncio.Event()

    async def start(self) -> dict[str, str]:
        """Adopt or start every centre (each campaigns for its regions) and gateway, and
        resume major incidents; returns centre id -> instance."""
        self.client = etcd_client_for(self.config, self.endpoints)
        existing = await asyncio.to_thread(self._named_actors)
        # Taking over from a dead supervisor: nothing is pinned to its configured node,
        # which may be the one that is gone.
        first = not existing
        await asyncio.gather(
            *(
                self._start_centre(c.id, first=first, existing=existing)
                for c in self.config.seed.centres
            ),
            self.gateways.start(existing, first=first),
        )
        await self._resume_majors()
        if self.config.site_fast_path and len(self.config.all_sites()) > 1:
            self.site_watch = SiteWatch(self.config, self.client, self.keys, self._revoke_site)
            self.site_watch.start()
        return dict(self.instances)

    def site_events(self) -> list[SiteLossEvent]:
        """The other sites this supervisor presumed lost (the site-loss fast path)."""
        return list(self.site_watch.events) if self.site_watch is not None else []

    def _named_actors(self) -> list[str]:
        """Names of the actors alive (or not yet known dead) in this deployment."""
        found = ray.util.list_named_actors(all_namespaces=True)
        return [a["name"] for a in found if a.get("namespace") == self.config.ray_namespace]

    async def _adopt_centre(self, centre_id: str, existing: list[str]) -> CentreHandle | None:
        """The one started incarnation of ``centre_id`` among ``existing`` (a centre with
        a lease); every other is ended (see :mod:`actors.supervisor.adoption`)."""
        prefix = ACTOR_PREFIX + centre_id + "-"
        candidates = [
            CentreHandle(centre_id, self.config.ray_namespace, instance=f"{centre_id}-{rest}")
            for rest in (n[len(prefix) :] for n in existing if n.startswith(prefix))
            if len(rest) == 12 and all(ch in "0123456789abcdef" for ch in rest)
        ]

        async def started(handle: CentreHandle) -> bool:
            return (await handle.status(timeout_s=ADOPT_TIMEOUT_S)).lease_id != 0

        async def end(handle: CentreHandle) -> None:
            await handle.kill()

        adopted = await adopt_one(candidates, started, end)
        if adopted is not None:
            log.info("centre_adopted", centre=centre_id, instance=adopted.instance)
        return adopted

    def probe_stats(self) -> ProbeStats:
        return ProbeStats(
            self.ping_latency.snapshot(), dict(self.probe_misses), self.probe_deadline.current()
        )

    def gateway_states(self) -> list[GatewayState]:
        return self.gateways.snapshot()

    async def wait_stopped(self) -> None:
        """Pending until the supervisor stops: the launcher learns of its death."""
        await self._stopped.wait()

    # ------------------------------------------------------------ major incidents

    async def _resume_majors(self) -> None:
        """Major incidents still declared (after a full restart) get their actor back."""
        assert self.client is not None
        kvs, _ = await self.client.get_prefix(self.keys.majors_prefix())
        for kv in kvs:
            if not kv.key.endswith(b"/record"):
                continue
            record = MajorRecord.decode(kv.value)
            if record.status is MajorStatus.DECLARED:
                with contextlib.suppress(AmkError):
                    await self.declare_major(record.id, None)

    async def declare_major(self, major_id: str, declare: dict | None) -> MajorView:
        """Start (or find) the actor of a major incident; it outlives any centre."""
        handle = major_actor.spawn(self.config, major_id)
        view = await handle.start(self.endpoints, declare)
        watcher = self._major_watchers.get(major_id)
        if watcher is None or watcher.done():
            self._major_watchers[major_id] = asyncio.create_task(
                self._watch_major(major_id, handle)
            )
        return view

    async def _watch_major(self, major_id: str, handle: MajorHandle) -> None:
        """Start a major incident's actor again if it dies (it reloads its record)."""
        while not self._stopping:
            try:
                await handle.wait_stopped()
                return  # stood down and stopped on purpose
            except ActorUnavailableError as exc:
                if self._stopping:
                    return
                log.warning("major_incident_actor_died", major=major_id, error=str(exc))
                await asyncio.sleep(self.config.restart_delay_s)
                try:
                    handle = major_actor.spawn(self.config, major_id)
                    await handle.start(self.endpoints, None)
                except AmkError as exc2:
                    log.error("major_incident_restart_failed", major=major_id, error=str(exc2))
                    return

    async def _start_centre(
        self, centre_id: str, *, first: bool = True, existing: list[str] | None = None
    ) -> None:
        handle = await self._adopt_centre(centre_id, existing or [])
        adopted = handle is not None  # it answered the adoption's status call just now
        if handle is not None:
            instance = handle.instance or ""
        else:
            # Pinned to its node only the first time: after a death that node may be gone.
            node = self.config.centre_nodes.get(centre_id) if first else None
            instance = centre_actor.new_instance(centre_id)
            handle = centre_actor.spawn(self.config, centre_id, instance, node=node)
            try:
                await handle.start(self.config.endpoints_for(centre_id, self.endpoints))
            except BaseException:
                with contextlib.suppress(Exception):
                    await handle.kill()  # detached: it would outlive us otherwise
                raise
        self.handles[centre_id] = handle
        self.instances[centre_id] = instance
        self._watchers[centre_id] = asyncio.create_task(self._watch(centre_id, handle))
        if self.config.liveness_probe:
            probe = self._new_probe(centre_id, handle, answered=adopted)
            self._probes[centre_id] = (probe, asyncio.create_task(self._probe(centre_id, probe)))

    async def _probe(self, centre_id: str, probe: LivenessProbe) -> None:
        """Ping one incarnation until it dies (the watch then ends this) or we stop."""
        try:
            await probe.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must not pass silently, nor kill the watch
            log.error(
                "probe_failed", centre=centre_id, instance=probe.handle.instance, error=repr(exc)
            )

    def _new_probe(
        self, centre_id: str, handle: CentreHandle, *, answered: bool = False
    ) -> LivenessProbe:
        instance = handle.instance or ""

        async def suspect(misses: int, tokens: dict[str, int], deadline_s: float) -> None:
            if self._stopping:
                return
            detected = time.monotonic()
            revoked = await self._revoke(instance)
            event = HangEvent(
                centre=centre_id,
                instance=instance,
                detected_at=time.time(),
                misses=misses,
                deadline_s=deadline_s,
                last_tokens=tokens,
                revoked_regions=tuple(revoked),
                revoke_ms=round((time.monotonic() - detected) * 1000, 1),
            )
            log.warning("centre_hung", **asdict(event))
            self.events.append(event)

        return LivenessProbe(
            self.config,
            handle,
            self.ping_latency,
            self.witnesses,
            self.probe_deadline,
            self.probe_misses,
            suspect,
            answered=answered,
        )

    def _end_probe(self, centre_id: str) -> None:
        found = self._probes.pop(centre_id, None)
        if found is not None:
            probe, task = found
            probe.stop()  # the loop's own flag: a cancel alone can be swallowed (3.11)
            task.cancel()

    async def _watch(self, centre_id: str, handle: CentreHandle) -> None:
        instance = self.instances[centre_id]
        try:
            await handle.wait_stopped()
            self._end_probe(centre_id)  # stopped on purpose: not a hang
            return
        except ActorUnavailableError:
            pass
        detected = time.monotonic()
        self._end_probe(centre_id)  # a death is the crash path's to handle, not a hang
        if self._stopping:
            return
        # Dead, or only unreachable for a moment: end it either way (its leases are
        # revoked next, and fencing stops any write it still tries).
        with contextlib.suppress(Exception):
            await handle.kill()
        revoked = await self._revoke(instance) if self.config.crash_fast_path else []
        event = DeathEvent(
            centre=centre_id,
            instance=instance,
            detected_at=time.time(),
            revoked_regions=tuple(revoked),
            revoke_ms=round((time.monotonic() - detected) * 1000, 1),
        )
        log.warning("centre_died", **asdict(event))
        slot = len(self.events)
        self.events.append(event)
        await asyncio.sleep(self.config.restart_delay_s)
        # Keep trying: a new incarnation may land on a node Ray still thinks alive and
        # die with it (a killed node is declared dead ~12 s later); later tries go
        # elsewhere. Only a stop ends the attempts.
        delays = self.config.restart_retry.delays()
        attempt = 0
        error = ""
        while not self._stopping:
            attempt += 1
            try:
                await self._start_centre(centre_id, first=False)
                break
            except AmkError as exc:
                log.error(
                    "centre_restart_failed", centre=centre_id, attempt=attempt, error=str(exc)
                )
                error = str(exc)
                self.events[slot] = replace(
                    self.events[slot], restart_error=error, restart_attempts=attempt
                )
                await asyncio.sleep(next(delays))
        else:
            return
        event = replace(
            self.events[slot],
            restarted_in_s=round(time.monotonic() - detected, 2),
            restart_attempts=attempt,
            new_instance=self.instances[centre_id],
            restart_error=error,
        )
        self.events[slot] = event
        log.info("centre_restarted", **asdict(event))

    async def _revoke(self, instance: str) -> list[str]:
        """Revoke the leases behind every owner key held by ``instance``."""
        return await self._revoke_owners(lambda rec: rec.instance == instance)

    async def _revoke_site(self, site: str) -> list[str]:
        """Revoke the leases behind every owner key held by an instance in ``site``."""
        return await self._revoke_owners(lambda rec: rec.site == site)

    async def _revoke_owners(self, which: Callable[[OwnerRecord], bool]) -> list[str]:
        assert self.client is not None
        kvs, _ = await self.client.get_prefix(self.keys.regions_prefix())
        revoked = []
        leases: set[int] = set()
        for kv in kvs:
            parsed = self.keys.parse(kv.key)
            if parsed is None or parsed[2] != "owner":
                continue
            rec = OwnerRecord.decode(kv.value)
            if which(rec):
                leases.add(rec.lease)
                revoked.append(parsed[1])
        for lease in leases:
            await self.client.lease_revoke(lease)
        return revoked

    async def stop(self) -> None:
        self._stopping = True
        if self.site_watch is not None:
            await self.site_watch.stop()
        for centre_id in list(self._probes):
            self._end_probe(centre_id)  # a centre stopping on purpose is not a hang
        await self.gateways.stop()
        await asyncio.gather(
            *(h.stop(timeout_s=5) for h in self.handles.values()), return_exceptions=True
        )
        for t in [*self._watchers.values(), *self._major_watchers.values()]:
            t.cancel()
        for major_id in self._major_watchers:
            major = MajorHandle(major_id, self.config.ray_namespace)
            with contextlib.suppress(AmkError):
                await major.stop()
            with contextlib.suppress(Exception):
                major.kill()  # detached: it would outlive the deployment otherwise
        for h in self.handles.values():
            with contextlib.suppress(Exception):
                await h.kill()
        if self.client is not None:
            await self.client.close()
        self._stopped.set()
