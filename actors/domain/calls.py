"""113 calls: the queue order, who may answer a call, and where a caller is.

Overflow needs no timer: a call becomes visible to the region's partner centres when it
has waited ``overflow_after_s`` (from its arrival time, which is stored with it), and to
its partners in another health region when it has waited ``overflow_across_after_s``
(relief within the health region first, then across), so a takeover "re-arms" nothing,
it just reads the same arrival times. In sharing mode a new call is offered at once to
one partner, chosen by free call-takers: of the health region's partners, or across
when none of them has one free.

The call lifecycle is a transition table like the others: waiting -> answered ->
completed; waiting -> abandoned. An answered call is completed by an incident (made
from it, or linked to one) or closed without one, with how it ended (:func:`close`).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from actors.domain.enums import CallOutcome
from actors.domain.errors import InvalidArgumentError, PreconditionError, checked_step
from actors.domain.model import Call, CallStatus, Position, Urgency
from actors.domain.municipality import locate, match

TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    CallStatus.WAITING: frozenset({CallStatus.ANSWERED, CallStatus.ABANDONED}),
    CallStatus.ANSWERED: frozenset({CallStatus.COMPLETED}),
    CallStatus.COMPLETED: frozenset(),
    CallStatus.ABANDONED: frozenset(),
}

_URGENCY_RANK = {Urgency.AKUTT: 0, Urgency.HASTER: 1, Urgency.VANLIG: 2, None: 3}


def transition(call_id: str, current: CallStatus, requested: CallStatus) -> CallStatus:
    return checked_step("call", call_id, TRANSITIONS, current, requested)


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """How one region's queue is shared: its home-side owner, partners, thresholds, mode."""

    region: str
    owner: str  # centre that owns the region now
    partners: tuple[str, ...]
    overflow_after_s: float = 10.0
    sharing: bool = False
    partners_across: tuple[str, ...] = ()  # another health region's: the second step
    overflow_across_after_s: float = 15.0

    def overflow_threshold(self, centre: str) -> float | None:
        """How long a call waits before ``centre`` sees it; None: it never does."""
        if centre in self.partners:
            return self.overflow_after_s
        if centre in self.partners_across:
            return self.overflow_across_after_s
        return None


def may_answer(call: Call, centre: str, policy: QueuePolicy, now: float) -> bool:
    """Whether call-takers at ``centre`` see this waiting call."""
    if call.status is not CallStatus.WAITING:
        return False
    if centre == policy.owner:
        return True
    threshold = policy.overflow_threshold(centre)
    if threshold is None:
        return False
    if call.shared_to == centre:
        return True
    return now - call.arrived_at >= threshold


def queue_order(call: Call) -> tuple[int, float, str]:
    """Most urgent first, then oldest, then by id (stable)."""
    return (_URGENCY_RANK[call.urgency_hint], call.arrived_at, call.id)


def next_call(
    calls: Iterable[Call], centre: str, policies: dict[str, QueuePolicy], now: float
) -> Call | None:
    """The call a call-taker at ``centre`` answers next, among every queue it serves."""
    eligible = [
        c for c in calls if c.region in policies and may_answer(c, centre, policies[c.region], now)
    ]
    return min(eligible, key=queue_order, default=None)


def answer(call: Call, centre: str, call_taker: str, now: float, as_partner: bool = False) -> Call:
    """``as_partner``: taken from a partner's queue (overflow, sharing), not the
    answering centre's own region."""
    new = copy.deepcopy(call)
    new.status = transition(call.id, call.status, CallStatus.ANSWERED)
    new.answered_by = centre
    new.call_taker = call_taker
    new.answered_at = now
    new.answered_as_partner = as_partner
    return new


def complete(call: Call, incident_id: str, by_centre: str = "", serving: str = "") -> Call:
    """An answered call made an incident of, or linked to one. ``by_centre`` and
    ``serving`` as for :func:`close`: a call-taker elsewhere must not take over a call
    still being talked on."""
    may_complete(call, by_centre, serving)
    new = copy.deepcopy(call)
    new.status = transition(call.id, call.status, CallStatus.COMPLETED)
    new.incident_id = incident_id
    return new


def may_complete(call: Call, by_centre: str = "", serving: str = "") -> None:
    """PreconditionError unless ``call`` may be made an incident of or linked now."""
    if call.status is not CallStatus.ANSWERED:
        ended = f" (closed without an incident: {call.outcome.value})" if call.outcome else ""
        raise PreconditionError(call.id, f"call is {call.status.value}{ended}; answer it first")
    answered_here(call, by_centre, serving, "made an incident of or linked")


MAX_OUTCOME_NOTE = 500  # characters: a line for the review, not the call's record


def close(
    call: Call,
    outcome: CallOutcome,
    note: str,
    who: str,
    now: float,
    by_centre: str = "",
    serving: str = "",
) -> Call:
    """An answered call ended without an incident: advice given, referred to the
    legevakt or another service, nobody in need, the line lost, or otherwise (``note``
    says how; required then). It is completed, so it is archived like any finished call,
    and the call metrics count how the calls that needed no ambulance ended.

    ``by_centre``: the closer's centre, and ``serving``, the one serving the call's
    region now: see :func:`answered_here` (a call-taker elsewhere must not end a call
    still being talked on); empty for those who may close any (a supervisor, a role of
    the whole cluster)."""
    if call.status is not CallStatus.ANSWERED:
        ended = f" (closed: {call.outcome.value})" if call.outcome else ""
        raise PreconditionError(
            call.id, f"call is {call.status.value}{ended}; only an answered call is closed"
        )
    answered_here(call, by_centre, serving, "closed")
    if outcome is CallOutcome.OTHER and not note:
        raise InvalidArgumentError("note", "is required with outcome other (say how it ended)")
    new = copy.deepcopy(call)
    new.status = transition(call.id, call.status, CallStatus.COMPLETED)
    new.outcome, new.outcome_note, new.closed_at, new.closed_by = outcome, note, now, who
    return new


def abandon(call: Call) -> Call:
    new = copy.deepcopy(call)
    new.status = transition(call.id, call.status, CallStatus.ABANDONED)
    return new


def sharing_pool(within: dict[str, int], across: dict[str, int]) -> dict[str, int]:
    """Sharing mode, within the health region first: the owner and its partners there
    (free call-takers by centre), unless none of them has one free and a partner of
    another health region has: then those that have."""
    if any(within.values()):
        return within
    return {c: n for c, n in across.items() if n > 0} or within


def pick_shared_centre(free_call_takers: dict[str, int], rng: random.Random | None = None) -> str:
    """Sharing mode: a centre chosen with probability proportional to its free
    call-takers (each centre at least a small weight, so a centre with none still gets
    the odd call when everyone is busy)."""
    centres = sorted(free_call_takers)
    weights = [max(0.25, float(free_call_takers[c])) for c in centres]
    return (rng or random).choices(centres, weights=weights, k=1)[0]


# ---------------------------------------------------------------- where is the caller


def _inside(lat: float, lon: float, polygon: Sequence[tuple[float, float]]) -> bool:
    inside = False
    n = len(polygon)
    for i in range(n):
        (y1, x1), (y2, x2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def region_of(lat: float, lon: float, boundaries: dict[str, Sequence[tuple[float, float]]]) -> str:
    """The region whose boundary holds the position; outside all of them (at sea, across
    the border), the region with the nearest boundary vertex."""
    for region, polygon in sorted(boundaries.items()):
        if polygon and _inside(lat, lon, polygon):
            return region

    def distance(region: str) -> float:
        coslat = math.cos(math.radians(lat))
        return (
            min(math.hypot(lat - y, (lon - x) * coslat) for y, x in boundaries[region])
            if boundaries[region]
            else math.inf
        )

    return min(sorted(boundaries), key=distance)


def call_region(
    lat: float,
    lon: float,
    by_municipality: Mapping[str, str],
    boundaries: dict[str, Sequence[tuple[float, float]]],
) -> str:
    """Where a 113 call is queued: the region whose municipalities (Kartverket's
    outlines; ``by_municipality``: kommunenummer -> region) hold the caller's position;
    at sea or across the border, the region of the nearest of them. Without
    municipalities (a seed that draws its regions as polygons), :func:`region_of`."""
    if by_municipality:
        position = Position(lat, lon, 0.0)
        found = locate(position, by_municipality.keys())
        if found is not None and found.number in by_municipality:
            return by_municipality[found.number]
    return region_of(lat, lon, boundaries)


def municipality_regions(regions: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """kommunenummer -> region, from each region's municipalities as a seed names them
    (names, "Name (County)", or numbers); ValueError for a name that matches none."""
    return {match(name).number: region for region, names in regions for name in names}


def answered_here(call: Call, by_centre: str, serving: str, done: str) -> None:
    """PreconditionError unless ``by_centre`` (empty: anyone, a supervisor) may finish
    ``call``: the centre that answered it, or ``serving``, the centre that serves its
    region now, when the call was answered from the region's own queue and the region
    has since moved on (a partner's overflow call stays the partner's: the region's
    owner must not take it over while the partner talks). ``done`` names the act."""
    if not by_centre or not call.answered_by or by_centre == call.answered_by:
        return
    if by_centre == serving and not call.answered_as_partner:
        return  # the region moved on since its owner answered: the new owner's now
    who = f"{call.answered_by}, or by the centre serving its region after it moved on"
    raise PreconditionError(call.id, f"answered at {who}: {done} there, or by a supervisor")
