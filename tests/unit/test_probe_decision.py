"""The liveness probe's decision (``actors.supervisor.probe.MissCounter``): how many
misses make a suspicion, that an answer resets the run, one suspicion per hang, and that
a miss the supervisor itself noticed late is not held against the centre."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from actors.supervisor.probe import AdaptiveDeadline, LivenessProbe, MissCounter, Witnesses
from cluster.errors import ActorUnavailableError
from cluster.histogram import Histogram

pytestmark = pytest.mark.timeout(30)

ON_TIME = 0.0  # the timeout fired when it was due
LATE_S = 0.1


def test_suspects_on_the_kth_consecutive_miss_not_before() -> None:
    c = MissCounter(3, LATE_S)
    assert [c.missed(ON_TIME) for _ in range(3)] == [False, False, True]


def test_one_miss_suspects_when_k_is_one() -> None:
    assert MissCounter(1, LATE_S).missed(ON_TIME)


def test_an_answer_resets_the_run() -> None:
    c = MissCounter(2, LATE_S)
    assert not c.missed(ON_TIME)
    c.answered()
    assert not c.missed(ON_TIME)  # first of a new run, not the second of the old one
    assert c.missed(ON_TIME)


def test_misses_spread_between_answers_never_suspect() -> None:
    c = MissCounter(2, LATE_S)
    for _ in range(50):
        assert not c.missed(ON_TIME)
        c.answered()


def test_one_suspicion_per_hang_until_the_centre_answers_again() -> None:
    c = MissCounter(2, LATE_S)
    assert [c.missed(ON_TIME) for _ in range(6)] == [False, True, False, False, False, False]
    c.answered()  # it woke up; a later hang is a new one
    assert [c.missed(ON_TIME) for _ in range(2)] == [False, True]


def test_rearm_after_a_failed_revoke_lets_the_next_miss_suspect_again() -> None:
    c = MissCounter(2, LATE_S)
    assert [c.missed(ON_TIME) for _ in range(2)] == [False, True]
    c.rearm()
    assert c.missed(ON_TIME)


def test_a_miss_noticed_late_is_neither_counted_nor_a_reset() -> None:
    c = MissCounter(2, LATE_S)
    assert not c.missed(ON_TIME)
    # The supervisor's own loop stalled: the timeout fired 0.5 s after it was due.
    assert not c.missed(0.5)
    assert not c.missed(LATE_S + 0.01)
    assert c.ignored == 2
    assert c.run == 1
    assert c.missed(LATE_S)  # exactly at the tolerance still counts
    assert c.ignored == 2


def test_a_supervisor_stall_alone_never_suspects() -> None:
    c = MissCounter(2, LATE_S)
    assert not any(c.missed(1.0) for _ in range(100))


def test_an_instance_that_never_answered_is_not_suspected_until_it_does() -> None:
    c = MissCounter(2, LATE_S, armed=False)  # as the probe starts it: a centre starting
    assert not any(c.missed(ON_TIME) for _ in range(10))
    c.answered()
    assert not c.missed(ON_TIME) and c.missed(ON_TIME)  # then as any other


def test_k_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        MissCounter(0, LATE_S)


def test_a_miss_no_other_centre_contradicts_is_not_counted() -> None:
    c = MissCounter(2, LATE_S)
    assert not c.missed(ON_TIME)
    assert not c.missed(ON_TIME, witnessed=False)  # the machine stalled, not the centre
    assert c.run == 1 and c.ignored == 1
    assert c.missed(ON_TIME, witnessed=True)


def test_witnesses_see_only_other_centres_answers_since_the_ping() -> None:
    w = Witnesses()
    w.join("oslo")
    assert w.seen_since("oslo", 10.0)  # nobody else probed: nothing to compare with
    w.join("innlandet")
    assert not w.seen_since("oslo", 10.0)  # innlandet never answered
    w.answered("innlandet", 9.0)
    assert not w.seen_since("oslo", 10.0)  # before the ping went out
    w.answered("oslo", 10.5)
    assert not w.seen_since("innlandet", 11.0)  # oslo's own answer is no witness for oslo
    w.answered("innlandet", 10.2)
    assert w.seen_since("oslo", 10.0)
    w.leave("innlandet")
    assert w.seen_since("oslo", 99.0)  # alone again


def test_deadline_stays_at_the_floor_while_answers_are_fast() -> None:
    d = AdaptiveDeadline(0.25, 0.6, 3.0, 100)
    for _ in range(100):
        d.observe(0.005)
    assert d.current() == 0.25


def test_deadline_follows_a_slow_machine_up_to_the_cap_and_back() -> None:
    d = AdaptiveDeadline(0.25, 0.6, 3.0, 100)
    for _ in range(100):
        d.observe(0.15)  # every centre answering slowly: the machine is loaded
    assert d.current() == pytest.approx(0.45)
    for _ in range(100):
        d.observe(0.5)
    assert d.current() == 0.6  # capped: a hang is still found well before the lease
    for _ in range(100):
        d.observe(0.005)  # the window has moved on
    assert d.current() == 0.25


def test_one_slow_answer_in_a_window_does_not_move_the_deadline() -> None:
    d = AdaptiveDeadline(0.25, 0.6, 3.0, 200)
    for i in range(200):
        d.observe(0.5 if i == 100 else 0.005)
    assert d.current() == 0.25  # above the p99 of 200 answers only


def test_a_starved_miss_is_neither_counted_nor_ends_the_run_a_few_times_in_a_row() -> None:
    c = MissCounter(2, LATE_S, starved_max=2)
    assert not c.missed(ON_TIME)  # the first miss of a run always counts
    assert not c.missed(ON_TIME, starved=True)  # waited for a CPU: the machine, not it
    assert not c.missed(ON_TIME, starved=True)
    assert c.ignored == 2
    # A third "starved" miss in a row is no longer excused: a hang the kernel's figures
    # make look starved is suspected, later, but before the lease would end it.
    assert c.missed(ON_TIME, starved=True)
    c.answered()
    assert not c.missed(ON_TIME) and not c.missed(ON_TIME, starved=True)  # excused again
    assert c.missed(ON_TIME)  # not starved any more, still silent: suspected


def thread(ran_ms: float, waited_ms: float, runnable: bool = False):
    from cluster.starvation import Thread

    return Thread(int(ran_ms * 1e6), int(waited_ms * 1e6), runnable)


def test_starved_is_wanting_a_cpu_and_not_getting_one_between_two_misses() -> None:
    from cluster.starvation import Sample, starved

    before = Sample(10.0, {1: thread(0, 0), 2: thread(5, 5)})
    at = 10.4  # 0.4 s later
    waited = Sample(at, {1: thread(20, 250), 2: thread(6, 5)})  # thread 1 waited 0.25 s
    assert starved(before, waited, share=0.5)
    assert not starved(before, waited, share=0.7)
    waiting = Sample(at, {1: thread(0.5, 0, runnable=True), 2: thread(5, 5)})  # still queued
    assert starved(before, waiting, share=0.5)
    stopped = Sample(at, {1: thread(0, 0), 2: thread(5, 5)})  # SIGSTOP: neither
    assert not starved(before, stopped, share=0.5)
    # A thread spinning in a hang waits on a busy machine, but it runs: not starved.
    spinning = Sample(at, {1: thread(250, 150, runnable=True), 2: thread(5, 5)})
    assert not starved(before, spinning, share=0.5)
    ended = Sample(at, {3: thread(0, 10**6, runnable=True)})  # a thread not there before
    assert not starved(before, ended, share=0.5)
    assert not starved(None, waited, share=0.5) and not starved(before, None, share=0.5)
    assert not starved(waited, before, share=0.5)  # no time between: unknown


def test_a_process_on_this_host_is_sampled_and_another_is_not() -> None:
    import os

    from cluster.starvation import host_id, sample

    assert len(host_id()) > 32 and ":" in host_id()
    me = sample(os.getpid())
    assert me is not None and os.getpid() in me.threads
    assert me.threads[os.getpid()].runnable  # this thread, reading its own stat, runs
    assert sample(2**22 + 12345) is None  # no such process here


def test_a_suspicion_logs_what_the_kernel_showed_between_the_last_two_misses() -> None:
    from cluster.starvation import Sample, evidence

    before = Sample(10.0, {1: thread(0, 0), 2: thread(5, 5)})
    after = Sample(10.4, {1: thread(2, 300, runnable=True), 2: thread(6, 5), 3: thread(0, 9)})
    assert evidence(before, after) == {
        "sampled": True,
        "window_ms": 400.0,
        "ran_ms": 3.0,
        "max_waited_ms": 300.0,
        "runnable_threads": 1,
        "threads": 3,
    }
    assert evidence(None, after) == {"sampled": False}


class _Silent:
    """A centre instance that never answers a ping (its pings queue behind a saturated
    actor while its loop keeps its lease)."""

    centre_id = "oslo"
    instance = "oslo-000000000000"
    pings = 0

    async def ping(self, timeout_s: float):
        self.pings += 1
        await asyncio.sleep(timeout_s)
        raise ActorUnavailableError("centre oslo", "no answer")


class _Everyone:
    """Witnesses as on a healthy machine: another centre answered meanwhile."""

    def join(self, me: str) -> None: ...

    def leave(self, me: str) -> None: ...

    def answered(self, me: str, at: float) -> None: ...

    def seen_since(self, me: str, since: float) -> bool:
        return True


class _Fixed:
    def current(self) -> float:
        return 0.01

    def observe(self, seconds: float) -> None: ...


@pytest.mark.parametrize("answered", [False, True])
def test_a_probe_unanswered_from_the_start_arms_after_a_lease_time(answered: bool) -> None:
    config = SimpleNamespace(
        probe_misses=2,
        probe_late_s=LATE_S,
        probe_starved_max=3,
        probe_starved_share=0.5,
        probe_interval_s=0.02,
        lease_ttl_s=0.3,
    )
    suspected: list[tuple[float, int]] = []
    silent = _Silent()

    async def run() -> None:
        started = time.monotonic()

        async def suspect(misses: int, tokens: dict, deadline_s: float) -> None:
            suspected.append((time.monotonic() - started, silent.pings))
            probe.stop()

        probe = LivenessProbe(
            config,
            silent,
            Histogram((0.01, 0.1)),
            _Everyone(),
            _Fixed(),
            {},
            suspect,
            answered=answered,
        )
        await asyncio.wait_for(probe.run(), 10)

    asyncio.run(run())
    assert len(suspected) == 1
    after_s, pings = suspected[0]
    if answered:  # adopted (it answered the adoption): the second miss in a row
        assert pings == 2
    else:  # never answered: not before a lease's time (a centre still starting), then as any
        assert after_s > config.lease_ttl_s and pings > 2
