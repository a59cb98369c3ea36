"""The site-loss fast path (issue #11): a site that stops beating is taken over in well
under a centre lease's TTL.

Within a site the supervisor learns of a centre's death from Ray in milliseconds (the
crash fast path). When a whole site goes (its Ray head, every worker, its gateways) no
one is left there to tell, and every region it served would wait for its centres'
leases to expire (TTL 2 s plus etcd's 500 ms expiry tick). So each site's supervisor
beats: it puts ``site-heartbeats/{site}`` every ``site_heartbeat_s``, and every other
site's supervisor watches those keys. A site not heard from for ``site_silence_s`` is
presumed lost: the watcher revokes the leases of every owner key naming that site, and
the next seats of each claim line (the same centre in the surviving site first) claim
at once.

Why a beat in etcd rather than a probe between the sites: etcd is the arbiter. Sites
cut off from each other but not from etcd keep beating, so nothing is taken from a site
that can still keep its leases (a probe across the cut would take it, and the cut-off
side would take it back: flapping). A site cut off from etcd stops beating and is taken
over, which its leases' expiry would do anyway, later.

A false alarm is safe (fencing: the presumed-lost site's writes fail, it drops its
regions and its centres stand by) but costs a takeover of every region it served, so
(see :class:`SilenceDetector`):
- a site is suspected only while this supervisor's own beats go through (a watcher
  that cannot write is the one cut off, or stalled);
- a check noticed late (this supervisor's loop stalled) decides nothing that round;
- one suspicion per silence: the site is re-armed when it is heard again, by a beat
  written after the suspicion was acted on (a beat etcd took before, delivered late by
  a lagging watch, is no sign of life: it re-armed the detector once, and a second
  "loss" of the same site followed in a CI run);
- a site whose supervisor runs on this host (tests, a development machine: the beat
  names its host and pid) is not suspected while that supervisor wanted a CPU and did
  not get one (``cluster/starvation.py``, the liveness probe's rule), at most
  ``probe_starved_max`` times in a row, half a silence each (plus up to a beat's period
  to the next check: 3 x 0.3 s by default): on an overloaded 2-core machine a
  supervisor waits for a CPU longer than the silence. A dead or stopped one wants none,
  and is suspected as before. Sites on other hosts (production) are never excused.

A beat is guarded by the site's key: the put carries a compare on the create revision
of ``sites/{site}`` as last read, so no beat goes while the name is not registered.
A failed beat reads the key again and beats for whatever registration holds the name
now: the beat says "this site's supervisor is alive", and does not fence a stale one
out (its centres' writes are fenced by their own owner keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from cluster import starvation
from cluster.config import ClusterConfig
from cluster.errors import AmkError
from cluster.etcd import EtcdClient, cmp_create_revision, op_put
from cluster.keys import Keys
from cluster.sites import heartbeat_key, heartbeats_prefix, site_key

log = structlog.get_logger("amk.supervisor.sites")

RevokeSite = Callable[[str], Awaitable[list[str]]]
ACTING = sys.maxsize  # suspected, the revision it is acted on not read yet


@dataclass(frozen=True, slots=True)
class SiteLossEvent:
    """A site this supervisor presumed lost, and the leases it revoked for it."""

    site: str
    detected_at: float  # wall-clock seconds
    silent_for_s: float
    revoked_regions: tuple[str, ...]
    revoke_ms: float


class SilenceDetector:
    """When is another site lost? Pure: the caller passes the clock and etcd revisions.

    ``heard`` on every beat seen; ``due`` returns the sites silent longer than
    ``silence_s``, each once per silence, and none while this side's own last beat is
    older than ``silence_s`` (it may be the one cut off) or while the check itself ran
    ``late_s`` after it was due (a stalled loop has seen nothing for a while).

    A suspected site is heard again only by a beat with a revision above the one its
    loss was acted on (``acted``): a beat written before, delivered late, is stale news.

    ``excuse`` puts a due site off by half a silence, at most ``starved_max`` times in a
    row (the caller's judgement: its supervisor was starved of CPU, not gone).

    When this side's own beats go through again after such a gap, every other site is
    taken as heard at that moment: this side was the one cut off, and its watch has not
    yet caught up on the others' beats. Without that, a site cut off from etcd presumed
    the other, live site lost as soon as the cut healed, revoked its leases and took
    every region back (seen as a CI failure of the short partition drill: 12 owner
    changes after the heal)."""

    def __init__(self, silence_s: float, late_s: float, starved_max: int = 3) -> None:
        if silence_s <= 0 or late_s <= 0:
            raise ValueError("silence_s and late_s must be positive")
        self.silence_s = silence_s
        self.late_s = late_s
        self.starved_max = starved_max
        self.last_heard: dict[str, float] = {}
        # Suspected sites, each with the etcd revision its loss was acted on (ACTING
        # until read): beats at or below it do not re-arm the site.
        self.suspected: dict[str, int] = {}
        self.put_off: dict[str, float] = {}  # excused: not due before this time
        self.excused: dict[str, int] = {}  # excuses in a row since last heard
        # While suspected: when its last beat (stale or not) reached us, for a retry.
        self.delivered: dict[str, float] = {}
        self.own_gap = False  # our own beats were older than silence_s at a check

    def heard(self, site: str, now: float, revision: int) -> bool:
        """A beat of ``site`` at ``revision`` seen now; False when it is stale news."""
        if revision <= self.suspected.get(site, -1):
            self.delivered[site] = now
            return False
        self.last_heard[site] = now
        self.delivered.pop(site, None)
        self.suspected.pop(site, None)
        self.put_off.pop(site, None)
        self.excused.pop(site, None)
        return True

    def acted(self, site: str, revision: int) -> None:
        """The loss of ``site`` is acted on at this revision (read before revoking)."""
        self.suspected[site] = revision

    def retry(self, site: str) -> None:
        """Acting failed: the site is due again at the next check, unless a beat of it
        reached us meanwhile (one set aside as stale while acting may have been news:
        with nothing revoked, it counts as heard, as it did before)."""
        self.suspected.pop(site, None)
        if (at := self.delivered.pop(site, None)) is not None:
            self.last_heard[site] = max(self.last_heard.get(site, at), at)

    def excuse(self, site: str, now: float) -> bool:
        """Put a due site off by half a silence; False when it has had its excuses."""
        run = self.excused.get(site, 0)
        if run >= self.starved_max:
            return False
        self.excused[site] = run + 1
        self.suspected.pop(site, None)
        self.put_off[site] = now + self.silence_s / 2
        return True

    def due(self, now: float, own_beat_at: float, late_by: float) -> list[str]:
        if now - own_beat_at > self.silence_s:
            self.own_gap = True
            return []
        if self.own_gap:  # back after our own gap: everyone gets a fresh silence
            self.own_gap = False
            for site in self.last_heard:
                self.last_heard[site] = now
            self.put_off.clear()
            self.excused.clear()
            return []
        if late_by > self.late_s:
            return []
        out = []
        for site, heard in sorted(self.last_heard.items()):
            if site in self.suspected or now < self.put_off.get(site, 0.0):
                continue
            if now - heard > self.silence_s:
                self.suspected[site] = ACTING
                out.append(site)
        return out


class SiteWatch:
    """This site's beat, and the watch on every other site's."""

    def __init__(
        self, config: ClusterConfig, client: EtcdClient, keys: Keys, revoke_site: RevokeSite
    ) -> None:
        self.config = config
        self.client = client
        self.keys = keys
        self.revoke_site = revoke_site
        self.site = config.site
        self.detector = SilenceDetector(
            config.site_silence_s, config.probe_late_s, config.probe_starved_max
        )
        # Other sites' supervisors on this host (pid, from their beats), and a sample of
        # the scheduler's counts of each taken once it went quiet: see ``_starved``.
        self._local_pids: dict[str, int] = {}
        self._samples: dict[str, starvation.Sample | None] = {}
        self.own_beat_at = 0.0  # monotonic time of the last beat etcd took
        self.beats = 0
        self.events: list[SiteLossEvent] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(t) for t in (self._beat(), self._watch(), self._check())]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    async def _site_token(self) -> int:
        """The create revision of this site's key (0: not registered now)."""
        kv = await self.client.get(site_key(self.keys, self.site))
        return kv.create_revision if kv is not None else 0

    async def _beat(self) -> None:
        key = heartbeat_key(self.keys, self.site)
        token = 0
        while True:
            try:
                if not token:
                    token = await self._site_token()
                if token:
                    value = json.dumps(
                        {
                            "site": self.site,
                            "seq": self.beats,
                            "at": time.time(),
                            "host": starvation.host_id(),
                            "pid": os.getpid(),
                        }
                    )
                    resp = await self.client.txn(
                        [cmp_create_revision(site_key(self.keys, self.site), token)],
                        [op_put(key, value.encode())],
                        timeout_s=self.config.site_silence_s,
                    )
                    if resp.succeeded:
                        self.own_beat_at = time.monotonic()
                        self.beats += 1
                    else:
                        token = 0  # the site's key was taken again (or is gone): re-read
            except AmkError as exc:
                log.warning("site_beat_failed", site=self.site, error=str(exc))
            await asyncio.sleep(self.config.site_heartbeat_s)

    async def _watch(self) -> None:
        prefix = heartbeats_prefix(self.keys)
        while True:
            try:
                start = await self.client.revision() + 1
                async for _, events in self.client.watch_prefix(prefix, start_revision=start):
                    now = time.monotonic()
                    for ev in events:
                        site = ev.kv.key[len(prefix) :].decode()
                        if site != self.site and not ev.deleted:
                            if self.detector.heard(site, now, ev.kv.mod_revision):
                                self._beat_seen(site, ev.kv.value)
            except AmkError as exc:
                log.warning("site_watch_broken", error=str(exc))
                await asyncio.sleep(self.config.site_heartbeat_s)

    async def _check(self) -> None:
        period = self.config.site_heartbeat_s
        due_at = time.monotonic() + period
        while True:
            await asyncio.sleep(max(0.0, due_at - time.monotonic()))
            now = time.monotonic()
            self._sample_quiet(now)
            for site in self.detector.due(now, self.own_beat_at, now - due_at):
                evidence = self._starved(site)
                if evidence is not None and self.detector.excuse(site, now):
                    log.info("site_silence_excused", site=site, why="starved", **evidence)
                    continue
                await self._lost(site, now - self.detector.last_heard[site])
            due_at = max(due_at + period, time.monotonic())

    def _beat_seen(self, site: str, value: bytes) -> None:
        """Note whether the beating supervisor runs on this host (its pid, then)."""
        self._samples.pop(site, None)
        try:
            beat = json.loads(value)
            local = beat.get("host") == starvation.host_id() and int(beat.get("pid") or 0)
        except (ValueError, TypeError, AttributeError):
            local = 0
        if local:
            self._local_pids[site] = local
        else:
            self._local_pids.pop(site, None)

    def _sample_quiet(self, now: float) -> None:
        """The first sample of a local site's supervisor once two beats were missed (again
        after a fresh silence: a sample from before the site was last heard is stale)."""
        quiet_after = 2 * self.config.site_heartbeat_s
        for site, pid in self._local_pids.items():
            heard = self.detector.last_heard.get(site)
            if heard is None or now - heard <= quiet_after:
                continue
            taken = self._samples.get(site)
            if taken is None or taken.at < heard:
                self._samples[site] = starvation.sample(pid)

    def _starved(self, site: str) -> dict[str, object] | None:
        """What the kernel showed if a due site's supervisor, on this host, wanted a CPU
        and did not get one since the last sample; None otherwise (one elsewhere, gone
        or stopped, or samples too close together to tell: at least a beat's period)."""
        pid = self._local_pids.get(site)
        if not pid:
            return None
        before, after = self._samples.get(site), starvation.sample(pid)
        self._samples[site] = after
        if before is None or after is None or after.at - before.at < self.config.site_heartbeat_s:
            return None
        if not starvation.starved(before, after, self.config.probe_starved_share):
            return None
        return starvation.evidence(before, after)

    async def _lost(self, site: str, silent_for_s: float) -> None:
        t0 = time.monotonic()
        try:
            # Read first: a beat at or below this revision was written before we acted.
            self.detector.acted(site, await self.client.revision())
            revoked = await self.revoke_site(site)
        except Exception as exc:  # not only AmkError: a site left suspected is never checked
            log.error("site_loss_revoke_failed", site=site, error=repr(exc))
            self.detector.retry(site)  # try again next round
            return
        event = SiteLossEvent(
            site=site,
            detected_at=time.time(),
            silent_for_s=round(silent_for_s, 3),
            revoked_regions=tuple(sorted(revoked)),
            revoke_ms=round((time.monotonic() - t0) * 1000, 1),
        )
        self.events.append(event)
        log.warning("site_presumed_lost", **{k: getattr(event, k) for k in event.__slots__})
