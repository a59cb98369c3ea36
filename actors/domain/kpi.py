"""Key performance figures from the records and the journal: pure arithmetic, no I/O.

Measures, per region (and per urgency for the incident measures):

``answer``
    113 answer time: ``call.answered_at - call.arrived_at`` of every answered call,
    in the region whose queue it waited in, against 90 % within 10 s; with the calls
    abandoned and the calls unanswered after 20 s counted on the same figure
    (:mod:`actors.domain.response_time`). No urgency (UNSPECIFIED).
``dispatch``
    time to dispatch: ``incident.created_at`` to the ``at`` of the first journal entry
    of command ``AssignUnit`` whose ``ids`` name the incident (or ``DivertUnit`` sending
    a unit to it). An incident never
    assigned a unit is not counted. No national target.
``response``
    the national response-time indicator: akutt missions whose urgency did not change,
    from the 113 call to the first unit on scene, per area (urban 12 min, rural 25 min,
    unknown: both), with the missions left out counted by reason
    (:mod:`actors.domain.response_time`).
``response_no_call``
    the same for akutt missions with no 113 call, from the incident's creation: counted
    apart, never mixed into the indicator.
``on_scene``
    time to on scene: ``incident.created_at`` to the first journal entry that put the
    incident on scene (see :func:`first_on_scene`; where a dispatcher entered a unit's
    arrival later, when it happened, also a unit's that did not move the incident),
    every urgency, no target (the national
    target is on ``response``). An incident nobody reached is not counted.
``alert_sent`` (per service: 110, 112)
    trippelvarsling delay: the incident's 113 call answered (``call.answered_at`` of
    the earliest answered call linked to it) to the first alert to that service sent
    (``alert.sent_at``), from the alerts in the incident's record (issue #19). Counted
    apart: an alert sent on an incident with no answered call (``no_call``: created by
    hand or imported), and one an action card proposed that nobody sent (``not_sent``:
    still proposed, or cancelled unsent). No national figure: the procedure asks for
    the alert at once.
``prenotification_lead`` (per condition: trauma, stroke, stemi, other)
    hospital pre-notification lead time: the pre-notification sent to the transporting
    unit's arrival at the hospital (its AT_HOSPITAL status time, stamped on the
    pre-notification in that write). Longer is better (the team is ready at the door);
    no national target. Pre-notifications without an arrival (cancelled, replaced,
    still on the way) are not counted.
``tcpr_started``, ``tcpr_compressions``
    telephone-guided CPR: the incident's 113 call answered to the guidance started, and
    to the caller's first compressions (:mod:`actors.domain.cpr_guidance`). Counted
    apart (per region, on each urgency's figure, as ``alert_sent``): an arrest
    recognised but not guided (``not_given``, on the start), one guided only after that
    (``after_not_given``), one corrected as no arrest after all (``not_arrest``) or as
    recorded on the wrong incident (``wrong_incident``), guidance with no answered call
    (``no_call``), a call answered
    only after the guidance began (``call_after_guidance``), and from the compressions,
    compressions already under way when it began (``bystander``: its start is timed).
    No target.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from actors.domain import cpr_guidance, prenotify
from actors.domain import response_time as rt
from actors.domain.enums import CprStep
from actors.domain.model import AlertService, Call, Incident, PatientCondition, Position, Urgency

ANSWER = "answer"
DISPATCH = "dispatch"
RESPONSE = "response"
RESPONSE_NO_CALL = "response_no_call"
ON_SCENE = "on_scene"
ALERT_SENT = "alert_sent"
PRENOTIFICATION_LEAD = "prenotification_lead"
TCPR_STARTED = "tcpr_started"
TCPR_COMPRESSIONS = "tcpr_compressions"
MEASURES: tuple[str, ...] = (
    ANSWER,
    DISPATCH,
    RESPONSE,
    RESPONSE_NO_CALL,
    ON_SCENE,
    ALERT_SENT,
    PRENOTIFICATION_LEAD,
    TCPR_STARTED,
    TCPR_COMPRESSIONS,
)
#: The measure of each step of telephone-guided CPR.
TCPR_MEASURES: dict[CprStep, str] = {
    CprStep.STARTED: TCPR_STARTED,
    CprStep.COMPRESSIONS: TCPR_COMPRESSIONS,
}
#: The services of trippelvarsling, whose alert delay is measured from the 113 call.
TRIPPEL_SERVICES: tuple[AlertService, ...] = (AlertService.FIRE_110, AlertService.POLICE_112)
NO_CALL = cpr_guidance.NO_CALL  # one reason, whatever the measure
NOT_SENT = "not_sent"

# Journal commands that matter here (cheap pre-filter for a caller reading the journal).
ASSIGN = "AssignUnit"
DIVERT, DIVERTED_TO = "DivertUnit", "diverted_to"  # dispatches the incident it names there
UNIT_STATUS = "ChangeUnitStatus"
INCIDENT_STATUS = "ChangeIncidentStatus"
# An air ambulance's report that put the incident on scene says so (``ON_SCENE_OF``).
AIR_REPORT = "RecordAirMission"
RELEVANT_COMMANDS: frozenset[str] = frozenset(
    {ASSIGN, DIVERT, UNIT_STATUS, INCIDENT_STATUS, AIR_REPORT}
)

# Set on a journal entry by a caller that looked up the command's stored result: the
# incident's status after the command (see :func:`status_lookups_needed`).
STATUS_KEY = "incident_status"
# On a ChangeUnitStatus entry entered later (a crew's radio report): when it happened,
# and for an arrival, the incident reached (named even when the entry did not move it).
OCCURRED_AT = "occurred_at"
ON_SCENE_OF = "on_scene_of"


@dataclass(frozen=True, slots=True)
class Target:
    seconds: float  # 0: no national target
    share: float  # the share of values that should be within ``seconds``
    text: str


TARGET_ANSWER = Target(10.0, 0.9, rt.SOURCE_ANSWER)
TARGET_URBAN = Target(12 * 60.0, 0.9, f"urban: 90 % on scene within 12 min ({rt.SOURCE_RESPONSE})")
TARGET_RURAL = Target(25 * 60.0, 0.9, f"rural: 90 % on scene within 25 min ({rt.SOURCE_RESPONSE})")
_UNKNOWN_AREA = (
    "area unknown (at sea, or a municipality the provisional urban list does not "
    "settle; actors/domain/data/urban_municipalities.toml): held to both"
)
TARGET_UNKNOWN_URBAN = Target(12 * 60.0, 0.9, f"{_UNKNOWN_AREA}; {TARGET_URBAN.text}")
TARGET_UNKNOWN_RURAL = Target(25 * 60.0, 0.9, f"{_UNKNOWN_AREA}; {TARGET_RURAL.text}")
AREA_TARGETS: dict[str, tuple[Target, ...]] = {
    rt.URBAN: (TARGET_URBAN,),
    rt.RURAL: (TARGET_RURAL,),
    rt.UNKNOWN: (TARGET_UNKNOWN_URBAN, TARGET_UNKNOWN_RURAL),
}
NO_TARGET_DISPATCH = Target(0.0, 0.0, "no national target for time to dispatch")
NO_TARGET_ON_SCENE = Target(
    0.0,
    0.0,
    "from the incident's creation, every urgency; the national target is on the "
    "response time (akutt, from the 113 call)",
)
NO_TARGET_NO_CALL = Target(
    0.0,
    0.0,
    "akutt missions with no 113 call, from the incident's creation: counted apart, "
    "not part of the national indicator",
)

NO_TARGET_ALERT_SENT = Target(
    0.0,
    0.0,
    "from the 113 call answered to the alert sent; the procedure asks for it at once "
    "(no national figure)",
)
NO_TARGET_LEAD = Target(
    0.0,
    0.0,
    "from the pre-notification sent to the unit at the hospital: longer is better (the "
    "team is ready at the door); no national target",
)

NO_TARGET_TCPR = Target(
    0.0,
    0.0,
    "telephone-guided CPR, from the 113 call answered to the guidance started and to "
    "the caller's first compressions: for the quality review (no national target known "
    "to this project)",
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
    area: str = ""  # response: urban, rural or unknown
    excluded: tuple[tuple[str, int], ...] = ()  # response: (reason, missions) left out
    abandoned: int = 0  # answer: calls hung up before an answer
    unanswered_after_limit: int = 0  # answer: answered after, or waiting beyond, limit_s
    limit_s: float = 0.0  # answer: 20 s
    alert_service: AlertService | None = None  # alert_sent: the service alerted
    condition: PatientCondition | None = None  # prenotification_lead: the condition


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
    region: str,
    urgency: Urgency | None,
    measure: str,
    values: Sequence[float],
    target: Target,
    **extra: Any,
) -> Figure:
    """A figure; with no values (only exclusions or abandoned calls) p50/p90 are 0."""
    return Figure(
        region=region,
        urgency=urgency,
        measure=measure,
        count=len(values),
        p50_s=percentile(values, 50) if values else 0.0,
        p90_s=percentile(values, 90) if values else 0.0,
        target_s=target.seconds,
        target_share=target.share,
        share_within_target=share_within(values, target.seconds) if target.seconds else 0.0,
        target_text=target.text,
        **extra,
    )


# ---------------------------------------------------------------- the journal


def _ids(entry: Mapping[str, Any]) -> list[str]:
    return list(entry.get("ids") or ())


def first_dispatch(entries: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per id named by an ``AssignUnit`` entry, or a ``DivertUnit`` entry's incident
    diverted to: the ``at`` of the earliest such entry."""
    first: dict[str, float] = {}
    for e in entries:
        command = e.get("command")
        if command not in (ASSIGN, DIVERT):
            continue
        for ident in _ids(e) if command == ASSIGN else e.get(DIVERTED_TO, "").split()[:1]:
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


def happened_at(entry: Mapping[str, Any]) -> float:
    """When an entry's change happened: ``occurred_at`` where a dispatcher entered a
    crew's status later (a radio report), else the entry's own ``at``."""
    return float(entry.get(OCCURRED_AT) or entry["at"])


def first_on_scene(entries: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per id: when the earliest entry that put it on scene says it happened
    (:func:`happened_at`).

    Those are ``ChangeUnitStatus`` entries whose ``ids`` name the incident (the unit's
    status change wrote the incident too: first unit on scene moves a dispatched
    incident on scene), and ``ChangeIncidentStatus`` entries whose looked-up result is
    ``on_scene`` (the dispatcher recorded the arrival by hand). Ids of units are in
    the result too; callers look up incident ids only.
    """
    first: dict[str, float] = {}
    for e in entries:
        reached: list[str] = []
        if e.get("command") in (UNIT_STATUS, INCIDENT_STATUS) and _puts_on_scene(e):
            reached = _ids(e)
        if e.get(ON_SCENE_OF):  # an arrival entered later, whether or not it moved the incident
            reached.append(e[ON_SCENE_OF])
        if not reached:
            continue
        at = happened_at(e)
        for ident in reached:
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


def _response_figures(responses: rt.Responses) -> list[Figure]:
    """Per region: one figure per (measure, area, target), each listing the region's
    missions left out; a region with exclusions only gets one empty figure for them."""
    groups: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for s in responses.samples:
        measure = RESPONSE if s.from_call else RESPONSE_NO_CALL
        groups[(s.region, measure, s.area)].append(s.seconds)
    excluded: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (region, reason), n in sorted(responses.excluded.items()):
        excluded[region].append((reason, n))
    out: list[Figure] = []
    for (region, measure, area), values in groups.items():
        targets = AREA_TARGETS[area] if measure == RESPONSE else (NO_TARGET_NO_CALL,)
        for target in targets:
            out.append(
                figure(
                    region,
                    Urgency.AKUTT,
                    measure,
                    values,
                    target,
                    area=area,
                    excluded=tuple(excluded.get(region, ())),
                )
            )
    for region, reasons in excluded.items():
        if not any(f.region == region and f.measure == RESPONSE for f in out):
            out.append(
                figure(
                    region,
                    Urgency.AKUTT,
                    RESPONSE,
                    [],
                    Target(0.0, 0.0, rt.SOURCE_RESPONSE),
                    excluded=tuple(reasons),
                )
            )
    return out


def _answered_at(calls: Iterable[Call]) -> dict[str, float]:
    """Per incident id: when its earliest answered 113 call was answered."""
    first: dict[str, float] = {}
    for c in calls:
        if c.incident_id and c.answered_at:
            if c.incident_id not in first or c.answered_at < first[c.incident_id]:
                first[c.incident_id] = c.answered_at
    return first


def alert_figures(
    incidents: Iterable[Incident], calls: Iterable[Call], *, since: float | None = None
) -> list[Figure]:
    """``alert_sent`` per (region, urgency, service) and ``prenotification_lead`` per
    (region, urgency, condition), from the alerts in the incidents' records."""
    answered = _answered_at(calls)
    delays: dict[tuple[str, Urgency | None, AlertService], list[float]] = defaultdict(list)
    apart: dict[tuple[str, AlertService], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    leads: dict[tuple[str, Urgency | None, PatientCondition], list[float]] = defaultdict(list)
    for inc in incidents:
        if since is not None and inc.created_at < since:
            continue
        for service in TRIPPEL_SERVICES:
            mine = [a for a in inc.alerts if a.service is service]
            sent = [a.sent_at for a in mine if a.sent_at]
            if not sent:
                if any(a.action_card for a in mine):
                    apart[(inc.region, service)][NOT_SENT] += 1
                continue
            start = answered.get(inc.id)
            if start is None:
                apart[(inc.region, service)][NO_CALL] += 1
                continue
            delays[(inc.region, inc.urgency, service)].append(max(0.0, min(sent) - start))
        for alert in inc.alerts:
            lead = prenotify.lead_time_s(alert)
            if lead is not None and alert.prenotification is not None:
                key = (inc.region, inc.urgency, alert.prenotification.condition)
                leads[key].append(max(0.0, lead))
    out: list[Figure] = []
    for (region, urgency, service), values in delays.items():
        excluded = tuple(sorted(apart.get((region, service), {}).items()))
        out.append(
            figure(
                region,
                urgency,
                ALERT_SENT,
                values,
                NO_TARGET_ALERT_SENT,
                excluded=excluded,
                alert_service=service,
            )
        )
    for (region, service), reasons in apart.items():
        if not any(f.region == region and f.alert_service is service for f in out):
            out.append(
                figure(
                    region,
                    None,
                    ALERT_SENT,
                    [],
                    NO_TARGET_ALERT_SENT,
                    excluded=tuple(sorted(reasons.items())),
                    alert_service=service,
                )
            )
    for (region, urgency, condition), values in leads.items():
        out.append(
            figure(
                region, urgency, PRENOTIFICATION_LEAD, values, NO_TARGET_LEAD, condition=condition
            )
        )
    return out


def cpr_figures(
    incidents: Iterable[Incident], calls: Iterable[Call], *, since: float | None = None
) -> list[Figure]:
    """``tcpr_started`` and ``tcpr_compressions`` per (region, urgency), each with the
    region's guided incidents counted apart by reason (as ``alert_sent`` does)."""
    delays, apart = cpr_guidance.delays(incidents, _answered_at(calls), since=since)
    out: list[Figure] = []
    for (region, urgency), steps in delays.items():
        for step, measure in TCPR_MEASURES.items():
            if steps[step]:
                excluded = tuple(sorted(apart.get((region, step), {}).items()))
                out.append(
                    figure(region, urgency, measure, steps[step], NO_TARGET_TCPR, excluded=excluded)
                )
    for (region, step), reasons in apart.items():
        measure = TCPR_MEASURES[step]
        if not any(f.region == region and f.measure == measure for f in out):
            excluded = tuple(sorted(reasons.items()))
            out.append(figure(region, None, measure, [], NO_TARGET_TCPR, excluded=excluded))
    return out


def compute(
    incidents: Iterable[Incident],
    calls: Iterable[Call],
    journal_entries: Iterable[Mapping[str, Any]],
    *,
    since: float | None = None,
    now: float = 0.0,
    area_of: Callable[[Position], str] = rt.no_area,
) -> list[Figure]:
    """Every figure with at least one value (or, for answer and response, something
    counted apart), ordered by region, measure, urgency, area and target.

    ``now`` decides which waiting calls are unanswered after 20 s; ``area_of`` says
    whether a place is urban or rural (unknown: held to both targets).
    """
    incidents = list(incidents)
    calls = list(calls)
    entries = [e for e in journal_entries if e.get("command") in RELEVANT_COMMANDS]
    figures: list[Figure] = []
    for region, counts in rt.answer_counts(calls, now=now, since=since).items():
        if not counts.waits and not counts.abandoned and not counts.unanswered_after_limit:
            continue
        figures.append(
            figure(
                region,
                None,
                ANSWER,
                counts.waits,
                TARGET_ANSWER,
                abandoned=counts.abandoned,
                unanswered_after_limit=counts.unanswered_after_limit,
                limit_s=rt.ANSWER_LIMIT_S,
            )
        )
    dispatch = incident_times(incidents, first_dispatch(entries), since=since)
    for (region, urgency), values in dispatch.items():
        figures.append(figure(region, urgency, DISPATCH, values, NO_TARGET_DISPATCH))
    reached = first_on_scene(entries)
    figures += _response_figures(
        rt.response_times(incidents, calls, reached, area_of=area_of, since=since)
    )
    for (region, urgency), values in incident_times(incidents, reached, since=since).items():
        figures.append(figure(region, urgency, ON_SCENE, values, NO_TARGET_ON_SCENE))
    figures += alert_figures(incidents, calls, since=since)
    figures += cpr_figures(incidents, calls, since=since)
    figures.sort(
        key=lambda f: (
            f.region,
            MEASURES.index(f.measure),
            f.alert_service.value if f.alert_service else "",
            f.condition.value if f.condition else "",
            URGENCY_ORDER[f.urgency],
            rt.AREAS.index(f.area) if f.area in rt.AREAS else -1,
            f.target_s,
        )
    )
    return figures
