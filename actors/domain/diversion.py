"""Which units on their way could be diverted to a more urgent incident.

When an akutt call comes in and the free units are far, the unit that can be there
first is often one already driving to a less urgent incident nearby. A dispatcher
diverts it (``decide.divert``); this module finds the candidates: units assigned or en
route to an incident less urgent than the target, ranked by
:func:`actors.domain.recommend.recommend` as if free where they are now (mobile: no
turnout from a station). That ranking's rules apply among the units on their way alone
(air only where remote, a doctor unit kept on an akutt list, boats only where faster
than the best ambulance among them), not against the free units: the dispatcher sees
both lists with their ETAs.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable

from actors.domain.model import Incident, IncidentStatus, Unit, UnitStatus, Urgency
from actors.domain.recommend import Recommendation, recommend

#: Most urgent first; an untriaged incident counts as akutt (assume the worst).
SEVERITY: dict[Urgency | None, int] = {
    None: 0,
    Urgency.AKUTT: 0,
    Urgency.HASTER: 1,
    Urgency.VANLIG: 2,
}
ON_ITS_WAY: frozenset[UnitStatus] = frozenset({UnitStatus.ASSIGNED, UnitStatus.EN_ROUTE})
LIMIT = 3
MAX_LOOKED = 12  # the units on their way, nearest first, whose incidents are read


def more_urgent(a: Urgency | None, b: Urgency | None) -> bool:
    """Whether urgency ``a`` comes strictly before ``b``."""
    return SEVERITY[a] < SEVERITY[b]


def may_leave(working: Incident, unit_id: str) -> bool:
    """Whether a unit on its way may leave ``working``: not its only unit once the
    incident is on scene (a dispatcher's entry, the crew still driving)."""
    return working.assigned_unit_ids != [unit_id] or working.status is IncidentStatus.DISPATCHED


def on_their_way(units: Iterable[Unit], target: Incident) -> list[Unit]:
    """The units assigned or en route to an incident other than ``target``."""
    return [u for u in units if u.status in ON_ITS_WAY and u.incident_id not in ("", target.id)]


def ranked(units: Iterable[Unit], target: Incident) -> list[Recommendation]:
    """``units`` (on their way) ranked for ``target`` as if free where they are now."""
    movable = []
    for unit in units:
        free = copy.copy(unit)
        free.status = UnitStatus.AVAILABLE_MOBILE
        movable.append(free)
    if not movable:
        return []
    return recommend(
        movable, target.position.lat, target.position.lon, target.urgency, limit=len(movable)
    )


def pick(
    ranking: Iterable[Recommendation],
    incident_of: Callable[[str], Incident | None],
    target: Incident,
    limit: int = LIMIT,
) -> list[Recommendation]:
    """The first ``limit`` of ``ranking`` whose unit works an incident less urgent than
    ``target``, renumbered. ``incident_of(unit_id)``: the incident that unit works, or
    None to leave it out (gone, or one a diversion could not take it from); it is asked
    in rank order and no further than needed."""
    out: list[Recommendation] = []
    for rec in ranking:
        if len(out) == limit:
            break
        working = incident_of(rec.unit_id)
        if (
            working is not None
            and more_urgent(target.urgency, working.urgency)
            and may_leave(working, rec.unit_id)
        ):
            out.append(dataclasses.replace(rec, rank=len(out) + 1))
    return out
