"""The supervisor's liveness probe of one centre: the hang fast path.

The crash fast path (``Supervisor._watch``) learns of a death from a pending call that
Ray fails when the process dies. A *hung* process (SIGSTOP, a stuck event loop) does not
die, so nothing fails: its regions would wait for its lease to expire (TTL 2 s plus
etcd's 500 ms expiry tick). So the supervisor also asks every centre, on a short
deadline, for a :class:`~actors.centre.records.Ping` (answered from memory); after
``probe_misses`` misses in a row it suspects the instance and calls back, and the
supervisor revokes the leases of the owner keys that instance holds, with the very code
the crash fast path uses.

A false suspicion is safe but not free: fencing refuses the suspected owner's writes
and it drops its regions, but a backup takes them over needlessly. So:

- a miss is counted only when the supervisor itself was on time (:class:`MissCounter`
  ignores a timeout noticed late: the supervisor's own loop stalled, which says nothing
  about the centre and would otherwise suspect every centre at once);
- and only when another centre answered meanwhile (:class:`Witnesses`): a SIGSTOP hangs
  one process while the others answer, but on the shared 2-core machine the whole
  machine stalls now and then (measured: two centres missed at the same instant, and
  the revoke itself took 225 ms). A miss no other centre's answer contradicts says more
  about the machine than about the centre; the lease still ends a real hang then;
- and only when the centre was not starved of CPU (``cluster/starvation.py``): on the
  same host the kernel says whether its threads wanted a CPU and did not get one
  between two misses. A stopped or deadlocked process wants none; a starved one does
  (seen: a browser starting beside the cluster kept two centres from running for over
  half a second while three others answered, and both were revoked). Measured from
  the previous miss, so the first miss of a run always counts; at most
  ``probe_starved_max`` misses in a row are excused so, so a hang the figures make
  look starved (a spinning hang on an overloaded machine) is still suspected a few
  misses later, or ended by the lease;
- the deadline follows the machine (:class:`AdaptiveDeadline`): a multiple of the
  recent answers' p99, between a floor (fast detection on a quiet machine) and a cap
  (detection still well before the lease would expire);
- one suspicion per hang: the counter re-arms only when the centre answers again;
- and none before an instance's first answer, for a lease's time at most: a centre still
  starting on a busy machine missed pings before the probe knew its process (so the
  starvation rule could not excuse it) and lost its region at start-up (seen in a new
  user's ``./dev up`` beside a test suite: ``hang_evidence on_this_host=false``). An
  instance adopted by a new supervisor has just answered it, and is watched at once.

The probe never restarts or kills the centre: a hung process may wake up, find its
lease gone and rejoin as a standby; whether a centre is restarted is the crash path's
decision alone.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

import structlog

from actors.centre.handle import CentreHandle
from cluster import starvation
from cluster.config import ClusterConfig
from cluster.errors import ActorUnavailableError, AmkError
from cluster.histogram import Histogram

log = structlog.get_logger("amk.supervisor.probe")

#: The ping's latency on the loaded 2-core machine is a few milliseconds; the upper
#: buckets show how close the tail comes to the deadline.
PING_LATENCY_BOUNDS_S: tuple[float, ...] = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.5,
    1.0,
)

Suspect = Callable[[int, dict[str, int], float], Awaitable[None]]


class MissCounter:
    """The probe's decision, pure: when do misses make a suspicion?

    ``missed`` returns True exactly once per run of ``misses`` consecutive misses, and
    not again until :meth:`answered` re-arms it. A miss noticed more than ``late_s``
    after its deadline is neither counted nor does it reset the run.
    """

    def __init__(
        self, misses: int, late_s: float, starved_max: int = 3, *, armed: bool = True
    ) -> None:
        if misses < 1:
            raise ValueError("misses must be at least 1")
        self.misses = misses
        self.late_s = late_s
        self.starved_max = starved_max  # starved misses excused in a row, at most
        self.run = 0  # consecutive misses counted
        self.starved_run = 0  # consecutive misses excused as starvation
        # Unarmed: nothing is suspected before the first answer (see LivenessProbe).
        self.armed = armed
        self.ignored = 0  # misses not counted (supervisor stalls, machine stalls, starved)

    def answered(self) -> None:
        """The centre answered: the run of misses ends, and a later hang may be suspected."""
        self.run = 0
        self.starved_run = 0
        self.armed = True

    def rearm(self) -> None:
        """Acting on the suspicion failed (etcd unreachable): the next miss tries again."""
        self.armed = True

    def missed(self, late_by_s: float, *, witnessed: bool = True, starved: bool = False) -> bool:
        """A ping went unanswered; ``late_by_s``: how long after its deadline the timeout
        was noticed; ``witnessed``: another centre answered meanwhile; ``starved``: the
        centre's threads waited for a CPU since the previous miss. True when this miss
        makes the centre suspected."""
        if starved and self.starved_run < self.starved_max and late_by_s <= self.late_s:
            # Excused, a bounded number of times in a row: a hang the kernel's figures
            # make look like starvation is still suspected a few misses later.
            self.starved_run += 1
            self.ignored += 1
            return False
        if late_by_s > self.late_s or not witnessed:
            self.ignored += 1
            return False
        self.run += 1
        if self.armed and self.run >= self.misses:
            self.armed = False
            return True
        return False


class AdaptiveDeadline:
    """The ping's deadline, from the machine's recent answers: ``factor`` x the p99 of
    the last ``window`` answered pings (all centres), kept within ``[min_s, max_s]``.

    On a quiet machine the tail is tens of milliseconds and the floor applies (fast
    detection). When the shared machine is overloaded, healthy answers slow down for
    every centre and the deadline follows, up to the cap: detection slows rather than
    a healthy centre being suspected (measured: at load average 20-30 a fixed 0.25 s
    deadline suspected 3, then 7, healthy centres in 10 minutes). A hung centre's missed pings
    are not answers, so a hang never raises the deadline."""

    RECOMPUTE_EVERY = 20  # answers between two sorts of the window

    def __init__(self, min_s: float, max_s: float, factor: float, window: int) -> None:
        self.min_s = min_s
        self.max_s = max_s
        self.factor = factor
        self.recent: deque[float] = deque(maxlen=window)
        self._current = min_s
        self._since = 0

    def observe(self, latency_s: float) -> None:
        self.recent.append(latency_s)
        self._since += 1
        if self._since >= self.RECOMPUTE_EVERY:
            self._since = 0
            ordered = sorted(self.recent)
            p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
            self._current = min(self.max_s, max(self.min_s, self.factor * p99))

    def current(self) -> float:
        return self._current


class Witnesses:
    """When each probed centre last answered (monotonic seconds), so a miss of one can
    be checked against the others: did anyone answer while this one did not?"""

    def __init__(self) -> None:
        self.answered_at: dict[str, float] = {}

    def join(self, centre: str) -> None:
        self.answered_at.setdefault(centre, float("-inf"))

    def leave(self, centre: str) -> None:
        self.answered_at.pop(centre, None)

    def answered(self, centre: str, at: float) -> None:
        self.answered_at[centre] = at

    def seen_since(self, centre: str, since: float) -> bool:
        """Whether another centre answered at or after ``since``. With no other centre
        probed there is nobody to compare with, and every miss counts."""
        others = [t for c, t in self.answered_at.items() if c != centre]
        return not others or max(others) >= since


class LivenessProbe:
    """Pings one centre instance until cancelled; calls ``on_suspect(misses, tokens,
    deadline_s)`` (the tokens of its last answer) when :class:`MissCounter` says so."""

    def __init__(
        self,
        config: ClusterConfig,
        handle: CentreHandle,
        latency: Histogram,
        witnesses: Witnesses,
        deadline: AdaptiveDeadline,
        misses: dict[str, int],
        on_suspect: Suspect,
        *,
        answered: bool = False,
    ) -> None:
        self.config = config
        self.handle = handle
        self.latency = latency
        self.witnesses = witnesses
        self.deadline = deadline
        self.misses = misses  # counted / ignored_late / ignored_unwitnessed, all centres
        self.on_suspect = on_suspect
        # Armed by the instance's first answer (see the module's docstring), or at once
        # when it has just ``answered`` (adopted by a new supervisor); unanswered for a
        # lease's time, armed all the same: an instance whose pings queue behind a
        # saturated actor while its loop keeps the lease is what the probe is for.
        self.counter = MissCounter(
            config.probe_misses, config.probe_late_s, config.probe_starved_max, armed=answered
        )
        self._unanswered_since: float | None = None if answered else time.monotonic()
        self.tokens: dict[str, int] = {}
        self.pid = 0  # the centre's process, when its answers say it runs on this host
        self._miss_sample: starvation.Sample | None = None  # its threads at the last miss
        self.evidence: dict[str, object] = {}  # what the kernel showed at the last miss
        self._stopped = False

    def stop(self) -> None:
        """End the loop. Cancelling its task is not enough on Python 3.11: when the ping
        fails at the moment of the cancel (a killed actor fails both the supervisor's
        pending call and the ping at once), ``asyncio.wait_for`` can swallow the
        cancellation (seen in failover_bench: a dead instance pinged for 19 s)."""
        self._stopped = True

    async def run(self) -> None:
        cfg = self.config
        me = self.handle.centre_id
        self.witnesses.join(me)
        try:
            while not self._stopped:
                await self._once(cfg, me)
        finally:
            self.witnesses.leave(me)

    async def _once(self, cfg: ClusterConfig, me: str) -> None:
        """One ping, then the pause to the next."""
        started = time.monotonic()
        deadline = self.deadline.current()
        try:
            reply = await self.handle.ping(timeout_s=deadline)
        except ActorUnavailableError:
            late_by = time.monotonic() - started - deadline
            witnessed = self.witnesses.seen_since(me, started)
            now = starvation.sample(self.pid) if self.pid else None
            starved = starvation.starved(self._miss_sample, now, cfg.probe_starved_share)
            self.evidence = starvation.evidence(self._miss_sample, now)
            self._miss_sample = now
            if self._stopped:
                return
            since = self._unanswered_since
            if since is not None and time.monotonic() - since > cfg.lease_ttl_s:
                self._unanswered_since = None
                self.counter.rearm()  # no first answer in a lease's time: watched as any
            excused = self.counter.starved_run
            if self.counter.missed(late_by, witnessed=witnessed, starved=starved):
                await self._suspect()
            elif self.counter.starved_run > excused or late_by > cfg.probe_late_s or not witnessed:
                kind = (
                    "starved"
                    if self.counter.starved_run > excused
                    else "late"
                    if late_by > cfg.probe_late_s
                    else "unwitnessed"
                )
                for key in (f"ignored_{kind}", f"ignored_{kind}:{me}"):  # all, and this one
                    self.misses[key] = self.misses.get(key, 0) + 1
                log.info(
                    "probe_miss_ignored",
                    centre=me,
                    instance=self.handle.instance,
                    why=kind,
                    late_by_s=round(late_by, 3),
                )
            else:
                self.misses["counted"] = self.misses.get("counted", 0) + 1
        else:
            now = time.monotonic()
            self.latency.observe(now - started)
            self.deadline.observe(now - started)
            self.witnesses.answered(me, now)
            self.counter.answered()
            self._unanswered_since = None
            self.tokens = reply.regions
            local = bool(reply.host) and reply.host == starvation.host_id()
            self.pid = reply.pid if local else 0
            self._miss_sample = None
        await asyncio.sleep(max(0.0, cfg.probe_interval_s - (time.monotonic() - started)))

    async def _suspect(self) -> None:
        self.misses["counted"] = self.misses.get("counted", 0) + 1
        # What the kernel showed between the last two misses: with the centre_hung line,
        # how an engineer tells a hang from a starvation the rule did not catch.
        log.warning(
            "hang_evidence",
            centre=self.handle.centre_id,
            instance=self.handle.instance,
            on_this_host=bool(self.pid),
            **self.evidence,
        )
        try:
            await self.on_suspect(self.counter.run, dict(self.tokens), self.deadline.current())
        except AmkError as exc:
            log.error(
                "hang_revoke_failed",
                centre=self.handle.centre_id,
                instance=self.handle.instance,
                error=str(exc),
            )
            self.counter.rearm()
