"""The national response-time indicator and the 113 answer-time limits, as
Helsedirektoratet defines them. Pure arithmetic on records, no I/O.

**Response time** (Helsedirektoratet's quality indicator "Tid fra AMK varsles til
ambulanse er på hendelsessted"): from when the AMK is alerted, the 113 call registered
as received (``Call.arrived_at``; the earliest call linked to the incident), to the
first ambulance on scene. Only acute missions (red, Akutt) whose urgency was not changed
during the mission count. Left out, and counted apart by reason:

- ``urgency_changed``: triaged more than one urgency during the mission (an Akutt
  mission that was Haster first, or was downgraded);
- ``no_on_scene_time``: closed with no time on scene (a missing time stamp);
- ``cancelled``: stood down before anyone reached the scene;
- ``in_progress``: nobody on scene yet and the mission still open (not an exclusion,
  it is simply not over; reported so the count adds up).

Missions with no 113 call (created by a dispatcher, imported from another system) have
no time the AMK was alerted by phone: they are measured from the incident's creation
and reported apart (measure ``response_no_call``), never mixed into the indicator.

Targets (the national recommendation): 90 % within 12 minutes in urban areas and within
25 minutes in rural areas, a municipality being urban when all or part of it belongs to
a settlement (SSB's tettsted) of more than 10,000 inhabitants. Which municipality is
which is data the caller supplies through ``area_of``; where it cannot say, the area is
``unknown`` and the mission is held to both targets.

**Answer time** (akuttmedisinforskriften § 15 b; Helsedirektoratet's "Anrop og svartid
— AMK (113)"): from the call ringing at the AMK to an operator answering; 90 % within
10 s, and no call unanswered after 20 s. Calls the caller hung up on before an answer
(abandoned) are counted; calls still waiting longer than 20 s count as unanswered after
20 s.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from actors.domain.model import Call, CallStatus, Incident, IncidentStatus, Position, Urgency

URBAN = "urban"
RURAL = "rural"
UNKNOWN = "unknown"
AREAS = (URBAN, RURAL, UNKNOWN)

URGENCY_CHANGED = "urgency_changed"
NO_ON_SCENE_TIME = "no_on_scene_time"
CANCELLED = "cancelled"
IN_PROGRESS = "in_progress"
REASONS = (URGENCY_CHANGED, NO_ON_SCENE_TIME, CANCELLED, IN_PROGRESS)

ANSWER_LIMIT_S = 20.0  # no 113 call unanswered after this

SOURCE_RESPONSE = (
    "Helsedirektoratet, quality indicator 'Tid fra AMK varsles til ambulanse er på "
    "hendelsessted': from the 113 call to the first ambulance on scene, akutt missions "
    "whose urgency did not change"
)
SOURCE_ANSWER = (
    "akuttmedisinforskriften § 15 b: 90 % of 113 calls answered within 10 s; "
    "Helsedirektoratet 'Anrop og svartid — AMK (113)': no call unanswered after 20 s"
)


def no_area(_: Position) -> str:
    """The area classifier when no municipality data is given: every place unknown."""
    return UNKNOWN


@dataclass(frozen=True, slots=True)
class Sample:
    """One mission's response time."""

    incident_id: str
    region: str
    area: str
    seconds: float
    from_call: bool  # False: no 113 call, measured from the incident's creation


@dataclass(slots=True)
class Responses:
    samples: list[Sample] = field(default_factory=list)
    # (region, reason) -> missions left out (or not over yet)
    excluded: Counter[tuple[str, str]] = field(default_factory=Counter)


def urgency_changed(inc: Incident) -> bool:
    """Whether the mission was triaged to more than one urgency."""
    return len({change.urgency for change in inc.urgency_history}) > 1


def was_akutt(inc: Incident) -> bool:
    return inc.urgency is Urgency.AKUTT or any(
        change.urgency is Urgency.AKUTT for change in inc.urgency_history
    )


def alerted_at(calls: Iterable[Call]) -> dict[str, float]:
    """Per incident id: the arrival of the earliest 113 call linked to it."""
    first: dict[str, float] = {}
    for c in calls:
        if c.incident_id and (c.incident_id not in first or c.arrived_at < first[c.incident_id]):
            first[c.incident_id] = c.arrived_at
    return first


def response_times(
    incidents: Iterable[Incident],
    calls: Iterable[Call],
    on_scene: Mapping[str, float],
    *,
    area_of: Callable[[Position], str] = no_area,
    since: float | None = None,
) -> Responses:
    """Response times of the akutt missions that started at or after ``since`` (the
    call's arrival, or the incident's creation without one), and what was left out."""
    alerted = alerted_at(calls)
    out = Responses()
    for inc in incidents:
        if not was_akutt(inc):
            continue
        start = alerted.get(inc.id, inc.created_at)
        if since is not None and start < since:
            continue
        if urgency_changed(inc) or inc.urgency is not Urgency.AKUTT:
            out.excluded[(inc.region, URGENCY_CHANGED)] += 1
            continue
        reached = on_scene.get(inc.id)
        if reached is None:
            reason = {
                IncidentStatus.CLOSED: NO_ON_SCENE_TIME,
                IncidentStatus.CANCELLED: CANCELLED,
            }.get(inc.status, IN_PROGRESS)
            out.excluded[(inc.region, reason)] += 1
            continue
        area = area_of(inc.position)
        out.samples.append(
            Sample(inc.id, inc.region, area, max(0.0, reached - start), inc.id in alerted)
        )
    return out


@dataclass(frozen=True, slots=True)
class AnswerCounts:
    """One region's calls against the answer-time limits."""

    waits: list[float]  # answer times of answered calls
    abandoned: int  # the caller hung up before an answer
    unanswered_after_limit: int  # answered after the limit, or still waiting beyond it


def answer_counts(
    calls: Iterable[Call], *, now: float, since: float | None = None
) -> dict[str, AnswerCounts]:
    """Per region: answer times, abandoned calls, and calls unanswered after 20 s."""
    waits: dict[str, list[float]] = defaultdict(list)
    abandoned: Counter[str] = Counter()
    late: Counter[str] = Counter()
    regions: set[str] = set()
    for c in calls:
        if since is not None and c.arrived_at < since:
            continue
        regions.add(c.region)
        if c.answered_at:
            wait = max(0.0, c.answered_at - c.arrived_at)
            waits[c.region].append(wait)
            late[c.region] += wait > ANSWER_LIMIT_S
        elif c.status is CallStatus.ABANDONED:
            abandoned[c.region] += 1
        elif c.status is CallStatus.WAITING:
            late[c.region] += now - c.arrived_at > ANSWER_LIMIT_S
    return {
        r: AnswerCounts(sorted(waits.get(r, [])), abandoned[r], late[r]) for r in sorted(regions)
    }
