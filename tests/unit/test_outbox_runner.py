"""The outbox runner's rules (``actors/centre/outbox.py``): one delivery per item in
flight, a failed one paused for the interval and then twice as long up to the cap, a
success clears the pause. A stand-in core (a log that keeps its lines, no hosts) and a
hand-moved clock: the runner reads nothing else."""

from __future__ import annotations

import asyncio
import http.client
from types import SimpleNamespace
from typing import Any

import pytest

from actors.centre.outbox import MAX_BACKOFF_S, OutboxRunner
from cluster.errors import RegionUnavailableError

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(30)]


class Lines:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str):
        return lambda event, **kw: self.lines.append((level, event, kw))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def runner_with(interval_s: float = 1.0) -> tuple[OutboxRunner, Any, Clock]:
    core = SimpleNamespace(stopping=False, hosts={}, log=Lines(), scanned=[])
    clock = Clock()
    runner = OutboxRunner(
        core, "x_pending", lambda: interval_s, lambda host: core.scanned.append(host), clock=clock
    )
    return runner, core, clock


async def settle(runner: OutboxRunner) -> None:
    """Until every delivery started has ended."""
    await asyncio.gather(*runner._inflight.values(), return_exceptions=True)


async def test_a_failure_pauses_the_item_and_each_failure_doubles_the_pause() -> None:
    runner, core, clock = runner_with(1.0)
    tries: list[str] = []

    async def failing() -> None:
        tries.append("try")
        raise RegionUnavailableError("oslo", "no owner")

    runner.spawn("k", "oslo", failing)
    await settle(runner)
    assert tries == ["try"] and runner.pausing("k") == 1.0
    clock.now += 0.9
    runner.spawn("k", "oslo", failing)  # still paused: not tried
    await settle(runner)
    assert tries == ["try"]
    clock.now += 0.1
    runner.spawn("k", "oslo", failing)
    await settle(runner)
    assert tries == ["try", "try"] and runner.pausing("k") == 2.0  # doubled
    level, event, kw = core.log.lines[0]
    assert (level, event, kw["item"], kw["region"]) == ("warning", "x_pending", "k", "oslo")
    assert [line[2]["retry_in_s"] for line in core.log.lines] == [1.0, 2.0]


async def test_one_delivery_per_item_in_flight_and_success_clears_the_pause() -> None:
    runner, _, clock = runner_with()
    gate = asyncio.Event()
    runs: list[str] = []
    fail = [True]

    async def slow() -> None:
        runs.append("a")
        await gate.wait()
        if fail[0]:
            raise OSError("503")

    runner.spawn("k", "oslo", slow)
    runner.spawn("k", "oslo", slow)  # in flight: not started twice
    runner.spawn("j", "oslo", slow)  # another item goes on its own
    await asyncio.sleep(0)
    assert runs == ["a", "a"]
    gate.set()
    await settle(runner)
    assert runner.pausing("k") == 1.0
    clock.now += 1.0
    fail[0] = False
    runner.spawn("k", "oslo", slow)
    await settle(runner)
    assert runner.pausing("k") == 0.0 and runs == ["a", "a", "a"]


async def test_the_pause_stops_growing_at_the_cap() -> None:
    runner, core, clock = runner_with(MAX_BACKOFF_S / 4)

    async def failing() -> None:
        raise OSError("503")

    for _ in range(5):
        runner.spawn("k", "oslo", failing)
        await settle(runner)
        clock.now += runner.pausing("k")
    cap = MAX_BACKOFF_S
    assert [line[2]["retry_in_s"] for line in core.log.lines] == [cap / 4, cap / 2, cap, cap, cap]


async def test_a_bug_is_logged_with_its_traceback_and_a_stopping_centre_starts_nothing() -> None:
    runner, core, _ = runner_with()

    async def buggy() -> None:
        raise KeyError("bug")

    runner.spawn("k", "oslo", buggy)
    await settle(runner)
    assert core.log.lines[0][0] == "exception"
    core.stopping = True
    started: list[str] = []

    async def work() -> None:
        started.append("x")

    runner.spawn("other", "oslo", work)
    await settle(runner)
    assert started == []


async def test_a_region_taken_is_scanned_at_once() -> None:
    runner, core, _ = runner_with()
    core.hosts["oslo"] = oslo = object()
    runner.kick("oslo")
    runner.kick("innlandet")  # not hosted here: nothing to scan
    assert core.scanned == [oslo]


async def test_a_cut_answer_is_expected_and_a_settled_items_pause_is_forgotten() -> None:
    runner, core, clock = runner_with(1.0)

    async def cut() -> None:
        raise http.client.IncompleteRead(b"{", 10)  # the partner closed mid-answer

    runner.spawn("settled", "oslo", cut)
    runner.spawn("failing", "oslo", cut)
    await settle(runner)
    assert [line[0] for line in core.log.lines] == ["warning", "warning"]  # no traceback
    # "failing" keeps being tried when its pause ends; "settled" never comes back.
    for _ in range(int(MAX_BACKOFF_S) + 2):
        clock.now += 1.0
        runner.spawn("failing", "oslo", cut)
        await settle(runner)
        runner.forget_settled()
    assert runner.pausing("settled") == 0.0 and "settled" not in runner._not_before
    assert "failing" in runner._not_before
    # A pause still running, or ended less than the cap ago, is kept.
    runner.spawn("fresh", "oslo", cut)
    await settle(runner)
    clock.now += MAX_BACKOFF_S
    runner.forget_settled()
    assert "fresh" in runner._not_before
