"""The 113 side of a drill: every call the telephony side was told was queued is in etcd
once, answered once, and answered by a centre allowed to see it at that moment.

Who may answer a call (``actors.domain.calls.QueuePolicy``): the region's owner at once;
a partner of the same health region once the call has waited ``overflow_after_s``; a
partner of another health region once it has waited ``overflow_across_after_s``; a
partner sharing mode offered the call to, at once; nobody else. The owner at the
moment of the answer comes from the owner keys the drill watched, with a second of
slack either side: the watcher polls, and a takeover is not a point in time.

The answer times are reported against the national targets (90 % within 10 s, none
unanswered after 20 s); they are figures of the load, not a verdict: a drill that
overloads a region on purpose shows what its callers waited.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import defaultdict
from typing import Any

from actors.domain.model import Call, CallStatus
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.seed_model import Seed

SLACK_S = 1.0  # owner-at-a-moment: the watcher's poll and the takeover itself
CLOCK_S = 0.05  # answered_at and arrived_at come from two processes' clocks


async def collect_calls(client: EtcdClient, keys: Keys) -> list[Call]:
    """Every call stored under the drill's prefix, with its key's mod revision."""
    kvs, _ = await client.get_prefix(keys.calls_prefix(), timeout_s=10)
    return [Call.decode(kv.value, kv.mod_revision) for kv in kvs]


async def until_answered(client: EtcdClient, keys: Keys, timeout_s: float) -> float:
    """Wait until no stored call waits (the call-takers have answered every one), or
    ``timeout_s``; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        calls = await collect_calls(client, keys)
        if not any(c.status is CallStatus.WAITING for c in calls):
            break
        await asyncio.sleep(0.5)
    return round(time.monotonic() - started, 2)


class Owners:
    """Who owned each region when, from the drill's owner watch."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._times: dict[str, list[float]] = defaultdict(list)
        self._owners: dict[str, list[str | None]] = defaultdict(list)
        for e in sorted(events, key=lambda e: e["t"]):
            self._times[e["region"]].append(e["t"])
            self._owners[e["region"]].append(e["centre"])

    def around(self, region: str, t: float, slack: float = SLACK_S) -> set[str]:
        """Every centre that owned ``region`` at some moment within ``slack`` of ``t``."""
        times = self._times.get(region, [])
        first = max(0, bisect.bisect_right(times, t - slack) - 1)
        last = bisect.bisect_right(times, t + slack)
        return {c for c in self._owners[region][first:last] if c}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 2)


def check_calls(
    history: list[dict[str, Any]],
    stored: list[Call],
    owner_events: list[dict[str, Any]],
    seed: Seed,
) -> dict[str, Any]:
    """The calls' verdict: ``ok`` is False on a lost, doubled or doubly answered call,
    a call answered by a centre that could not see it then, or a call still waiting."""
    owners = Owners(owner_events)
    by_id: dict[str, list[Call]] = defaultdict(list)
    for c in stored:
        by_id[c.id].append(c)
    queued = [r for r in history if r.get("ok") and r["op"] == "call"]
    answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in history:
        if r.get("ok") and r["op"] == "answer":
            answers[r["call"]].append(r)
    # Lost: queued, or answered, and not in etcd.
    lost = sorted(({r["call"] for r in queued} | set(answers)) - set(by_id))
    doubled = sorted(cid for cid, cs in by_id.items() if len(cs) > 1)
    doubly_answered = sorted(cid for cid, rs in answers.items() if len(rs) > 1)
    waiting = sorted(c.id for c in stored if c.status is CallStatus.WAITING)
    how: dict[str, int] = defaultdict(int)
    not_allowed: list[dict[str, Any]] = []
    across: list[dict[str, Any]] = []
    waits: list[float] = []
    for c in stored:
        if c.status not in (CallStatus.ANSWERED, CallStatus.COMPLETED):
            continue
        waited = c.answered_at - c.arrived_at
        waits.append(waited)
        kind, why = _answered_how(c, waited, owners, seed)
        how[kind] += 1
        row = {"call": c.id, "region": c.region, "by": c.answered_by, "waited_s": round(waited, 2)}
        if why:
            not_allowed.append({**row, "why": why})
        elif kind == "partner_across":
            across.append(row)
    problems = [
        name
        for name, bad in (
            ("calls lost", lost),
            ("calls stored twice", doubled),
            ("calls answered twice", doubly_answered),
            ("calls answered by a centre that could not see them", not_allowed),
            ("calls still waiting at the end", waiting),
        )
        if bad
    ]
    return {
        "ok": not problems,
        "problems": problems,
        "counts": {
            "queued": len(queued),
            "stored": len(stored),
            "answered": len(waits),
            "abandoned": sum(1 for c in stored if c.status is CallStatus.ABANDONED),
            "waiting": len(waiting),
            **{f"by_{k}": v for k, v in sorted(how.items())},
        },
        "answer_s": {
            "p50": _percentile(waits, 0.5),
            "p90": _percentile(waits, 0.9),
            "max": round(max(waits), 2) if waits else None,
            "within_10_s": round(sum(w <= 10 for w in waits) / len(waits), 3) if waits else None,
            "over_20_s": sum(w > 20 for w in waits),
        },
        "lost": lost,
        "doubled": doubled,
        "doubly_answered": doubly_answered,
        "not_allowed": not_allowed,
        "waiting": waiting,
        "across": across,
    }


def _answered_how(c: Call, waited: float, owners: Owners, seed: Seed) -> tuple[str, str]:
    """How ``c`` came to its answering centre (owner, shared, partner, partner_across)
    and, if it could not have, why."""
    if c.answered_by in owners.around(c.region, c.answered_at):
        return "owner", ""
    region = seed.region(c.region)
    for partners, kind, threshold in (
        (region.partners, "partner", region.overflow_after_s),
        (region.partners_across, "partner_across", region.overflow_across_after_s),
    ):
        if c.answered_by not in partners:
            continue
        if c.shared_to == c.answered_by:
            return "shared", ""
        if waited + CLOCK_S >= threshold:
            return kind, ""
        return kind, f"answered after {waited:.2f} s, before {threshold} s"
    return "other", "neither the owner then nor a partner"


def markdown_lines(result: dict[str, Any]) -> list[str]:
    """The report's 113 section (nothing when the drill had no call floor)."""
    calls = result.get("calls")
    if not calls:
        return []
    c, a = calls["counts"], calls["answer_s"]
    how = ", ".join(f"{k[3:]} {v}" for k, v in c.items() if k.startswith("by_"))
    lines = [
        "",
        "## 113 calls",
        "",
        f"- Verdict: **{'ok' if calls['ok'] else 'FAILED: ' + '; '.join(calls['problems'])}**",
        f"- Queued (acknowledged): {c['queued']}; stored: {c['stored']}; answered: "
        f"{c['answered']}; abandoned: {c['abandoned']}; still waiting at the end: {c['waiting']}"
        f" (the call-takers had {result.get('calls_drain_s', '?')} s after the load to answer)",
        f"- Answered by: {how or 'nobody'} (owner: the region's owner then; shared: "
        "offered at once in sharing mode; partner: same health region after its first "
        "threshold; partner_across: another health region after its second)",
        f"- Wait to answer: p50 {a['p50']} s, p90 {a['p90']} s, max {a['max']} s; "
        f"within 10 s: {a['within_10_s']}; over 20 s: {a['over_20_s']} "
        "(figures of the load: the national targets are 90 % within 10 s, none over 20 s)",
        "- Lost: {} · stored twice: {} · answered twice: {} · answered by a centre that could "
        "not see the call then: {}".format(
            len(calls["lost"]),
            len(calls["doubled"]),
            len(calls["doubly_answered"]),
            len(calls["not_allowed"]),
        ),
    ]
    if calls["across"]:
        lines += ["", "Answered across a health-region border (first 10):", ""]
        lines += [
            f"- `{r['call']}` of {r['region']} by {r['by']} after {r['waited_s']} s"
            for r in calls["across"][:10]
        ]
    for title in ("lost", "doubled", "doubly_answered", "not_allowed", "waiting"):
        if calls[title]:
            lines += ["", f"### Calls {title.replace('_', ' ')} (first 10)", ""]
            lines += [f"- `{item}`" for item in calls[title][:10]]
    return lines
