"""Key performance figures from the records and the journal: pure arithmetic, no I/O.

Three measures, per region (and per urgency for the two incident measures):

``answer``
    113 answer time: ``call.answered_at - call.arrived_at`` of every answered call,
    in the region whose queue it waited in. Calls still waiting and abandoned calls
    have no answer time and are not counted. No urgency (UNSPECIFIED).
``dispatch``
    time to dispatch: ``incident.created_at`` to the ``at`` of the first journal entry
    of command ``AssignUnit`` whose ``ids`` name the incident. An incident never
    assigned a unit is not counted. No national target.
``on_scene``
    time to on scene: ``incident.created_at`` to the first journal entry that put the
    incident on scene (see :func:`first_on_scene`). An incident nobody reached (yet,
    or ever) is not counted.

The incident measures are grouped by the incident's *current* urgency (its last
triage); never-triaged incidents are grouped under urgency ``None`` (UNSPECIFIED).

**Percentiles are nearest-rank**: the p-th percentile of n values is the value of rank
``ceil(p/100 * n)`` in ascending order (always one of the measured values; p50 of
[1, 2, 3, 4] is 2, p90 of ten values is the 9th). With nearest-rank, ``p90 <= target``
holds exactly when at least 90 % of the values are within the target, so the p90 and
the share within target never contradict each other.

**Within target** means ``value <= target_s`` (10.0 s is within 10 s).

**since** keeps calls that arrived and incidents created at or after it (epoch s): the
figures describe the calls and missions that *started* in the window.

Durations below zero (clocks of two machines a little apart) count as zero.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from actors.domain.model import Call, Incident, Urgency

ANSWER = "answer"
DISPATCH = "dispatch"
ON_SCENE = "on_scene"
MEASURES: tuple[str, ...] = (ANSWER, DISPATCH, ON_SCENE)

# Journal commands that matter here (cheap pre-filter for a caller reading the journal).
ASSIGN = "AssignUnit"
UNIT_STATUS = "ChangeUnitStatus"
INCIDENT_STATUS = "ChangeIncidentStatus"
RELEVANT_COMMANDS: frozenset[str] = frozenset({ASSIGN, UNIT_STATUS, INCIDENT_STATUS})

# Set on a journal entry by a caller that looked up the command's stored result: the
# incident's status after the command (see :func:`status_lookups_needed`).
STATUS_KEY = "incident_status"


@dataclass(frozen=True, slots=True)
class Target:
    seconds: float  # 0: no national target
    share: float  # the share of values that should be within ``seconds``
    text: str


TARGET_ANSWER = Target(
    10.0,
    0.9,
    "akuttmedisinforskriften § 15 b: 90 % of 113 calls answered within 10 s",
)
_MEASURED_FROM = "measured from incident creation, not from the 113 call"
TARGET_ON_SCENE_TOWN = Target(
    12 * 60.0,
    0.9,
    "national recommended response time, akutt, towns: 90 % on scene within 12 min "
    "(no town/rural model: every akutt mission is held to 12 AND 25 min; "
    f"{_MEASURED_FROM})",
)
TARGET_ON_SCENE_RURAL = Target(
    25 * 60.0,
    0.9,
    "national recommended response time, akutt, rural areas: 90 % on scene within 25 min "
    f"(no town/rural model: every akutt mission is held to 12 AND 25 min; {_MEASURED_FROM})",
)
NO_TARGET_DISPATCH = Target(0.0, 0.0, "no national target for time to dispatch")
NO_TARGET_ON_SCENE = Target(
    0.0, 0.0, f"no national target for time to on scene at this urgency ({_MEASURED_FROM})"
)

URGENCY_ORDER: dict[Urgency | None, int] = {
    Urgency.AKUTT: 0,
    Urgency.HASTER: 1,
    Urgency.VANLIG: 2,
    None: 3,  # answer time; incidents never triaged
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One row of ``amk.dispatch.v1.KpiFigure``."""

    region: str
    urgency: Urgency | None  # None: UNSPECIFIED (answer time; untriaged incidents)
    measure: str  # "answer", "dispatch", "on_scene"
    count: int
    p50_s: float
    p90_s: float
    target_s: float = 0.0  # 0: no national target
    target_share: float = 0.0
    share_within_target: float = 0.0  # 0 when there is no target
    target_text: str = ""


# ---------------------------------------------------------------- statistics


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile: the value of rank ceil(p/100 * n), ascending (1-based).

    ``p`` in (0, 100]; raises ValueError for no values.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    # round() first: 0.9 * 10 is 9.000000000000002 in binary, whose ceiling is 10.
    rank = max(1, math.ceil(round(p / 100 * len(ordered), 9)))
    return ordered[rank - 1]


def share_within(values: Sequence[float], limit_s: float) -> float:
    """The share of ``values`` that are <= ``limit_s`` (0 for no values)."""
    if not values:
        return 0.0
    return sum(1 for v in values if v <= limit_s) / len(values)


def figure(
    region: str, urgency: Urgency | None, measure: str, values: Sequence[float], target: Target
) -> Figure:
    return Figure(
        region=region,
        urgency=urgency,
        measure=measure,
        count=len(values),
        p50_s=percentile(values, 50),
        p90_s=percentile(values, 90),
        target_s=target.seconds,
        target_share=target.share,
        share_within_target=share_within(values, target.seconds) if target.seconds else 0.0,
        target_text=target.text,
    )


# ---------------------------------------------------------------- the journal


def _ids(entry: Mapping[str, Any]) -> list[str]:
    return list(entry.get("ids") or ())


def first_dispatch(entries: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per id named by an ``AssignUnit`` entry: the ``at`` of the earliest such entry."""
    first: dict[str, float] = {}
    for e in entries:
        if e.get("command") != ASSIGN:
            continue
        for ident in _ids(e):
            at = float(e["at"])
            if ident not in first or at < first[ident]:
                first[ident] = at
    return first


def _puts_on_scene(entry: Mapping[str, Any]) -> bool:
    """Whether this entry (naming an incident) is one that put the incident on scene.

    With the incident's resulting status known (``STATUS_KEY``, from the command's
    stored result), that decides. Without it, a ``ChangeUnitStatus`` entry counts: by
    the unit lifecycle (assigned -> en route -> on scene; a busy unit becomes available
    only from on scene or at hospital, or through ReleaseUnit), the first
    ChangeUnitStatus that writes an incident is a unit arriving on scene, unless a
    dispatcher put the incident on scene by hand first (a ChangeIncidentStatus, which
    then is the earlier entry and needs its status looked up).
    """
    status = entry.get(STATUS_KEY)
    if status is not None:
        return status == ON_SCENE
    return entry.get("command") == UNIT_STATUS


def first_on_scene(entries: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per id: the ``at`` of the earliest entry that put it on scene.

    Those are ``ChangeUnitStatus`` entries whose ``ids`` name the incident (the unit's
    status change wrote the incident too: first unit on scene moves a dispatched
    incident on scene), and ``ChangeIncidentStatus`` entries whose looked-up result is
    ``on_scene`` (the dispatcher recorded the arrival by hand). Ids of units are in
    the result too; callers look up incident ids only.
    """
    first: dict[str, float] = {}
    for e in entries:
        if e.get("command") not in (UNIT_STATUS, INCIDENT_STATUS) or not _puts_on_scene(e):
            continue
        for ident in _ids(e):
            at = float(e["at"])
            if ident not in first or at < first[ident]:
                first[ident] = at
    return first


def status_lookups_needed(
    incidents: Iterable[Incident], entries: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The journal entries whose stored result (the incident's status after it) could
    change an on-scene time: ``ChangeIncidentStatus`` entries on a dispatched incident
    before its first ``ChangeUnitStatus`` entry (a dispatcher recording the arrival by
    hand, or closing after calling the units off). Usually none; the caller sets
    ``entry[STATUS_KEY]`` on each from the request record."""
    wanted = {inc.id for inc in incidents}
    entries = [e for e in entries if e.get("command") in RELEVANT_COMMANDS]
    dispatched = first_dispatch(entries)
    unit_first: dict[str, float] = {}
    for e in entries:
        if e.get("command") == UNIT_STATUS:
            for ident in _ids(e):
                at = float(e["at"])
                if ident not in unit_first or at < unit_first[ident]:
                    unit_first[ident] = at
    out = []
    for e in entries:
        if e.get("command") != INCIDENT_STATUS or STATUS_KEY in e:
            continue
        at = float(e["at"])
        for ident in _ids(e):
            if ident not in wanted or ident not in dispatched or at < dispatched[ident]:
                continue
            if at < unit_first.get(ident, math.inf):
                out.append(e)
                break
    return out


def incident_status_of_result(stored: bytes | str) -> str | None:
    """The incident status in a command's stored result (``Outcome.encode``), if any."""
    try:
        d = json.loads(stored)
    except ValueError:
        return None
    inc = d.get("incident") if isinstance(d, dict) else None
    return inc.get("status") if isinstance(inc, dict) else None


# ---------------------------------------------------------------- the figures


def answer_times(calls: Iterable[Call], *, since: float | None = None) -> dict[str, list[float]]:
    """Per region: answer times of the answered calls that arrived at/after ``since``."""
    out: dict[str, list[float]] = defaultdict(list)
    for c in calls:
        if not c.answered_at or (since is not None and c.arrived_at < since):
            continue
        out[c.region].append(max(0.0, c.answered_at - c.arrived_at))
    return dict(out)


def incident_times(
    incidents: Iterable[Incident],
    reached: Mapping[str, float],
    *,
    since: float | None = None,
) -> dict[tuple[str, Urgency | None], list[float]]:
    """Per (region, urgency): ``reached[id] - created_at`` of incidents created at or
    after ``since`` that were reached (dispatched, on scene)."""
    out: dict[tuple[str, Urgency | None], list[float]] = defaultdict(list)
    for inc in incidents:
        if since is not None and inc.created_at < since:
            continue
        at = reached.get(inc.id)
        if at is None:
            continue
        out[(inc.region, inc.urgency)].append(max(0.0, at - inc.created_at))
    return dict(out)


def _on_scene_targets(urgency: Urgency | None) -> tuple[Target, ...]:
    if urgency is Urgency.AKUTT:
        return (TARGET_ON_SCENE_TOWN, TARGET_ON_SCENE_RURAL)
    return (NO_TARGET_ON_SCENE,)


def compute(
    incidents: Iterable[Incident],
    calls: Iterable[Call],
    journal_entries: Iterable[Mapping[str, Any]],
    *,
    since: float | None = None,
) -> list[Figure]:
    """Every figure with at least one value, ordered by region, measure (answer,
    dispatch, on scene), urgency (akutt, haster, vanlig, unspecified) and target.

    Akutt on scene gives two figures, against 12 min (towns) and 25 min (rural areas).
    """
    incidents = list(incidents)
    entries = [e for e in journal_entries if e.get("command") in RELEVANT_COMMANDS]
    figures: list[Figure] = []
    for region, values in answer_times(calls, since=since).items():
        figures.append(figure(region, None, ANSWER, values, TARGET_ANSWER))
    dispatch = incident_times(incidents, first_dispatch(entries), since=since)
    for (region, urgency), values in dispatch.items():
        figures.append(figure(region, urgency, DISPATCH, values, NO_TARGET_DISPATCH))
    on_scene = incident_times(incidents, first_on_scene(entries), since=since)
    for (region, urgency), values in on_scene.items():
        for target in _on_scene_targets(urgency):
            figures.append(figure(region, urgency, ON_SCENE, values, target))
    figures.sort(
        key=lambda f: (
            f.region,
            MEASURES.index(f.measure),
            URGENCY_ORDER[f.urgency],
            f.target_s,
        )
    )
    return figures
