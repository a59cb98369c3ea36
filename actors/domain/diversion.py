"""Which units on their way could be diverted to a more urgent incident.

When an akutt call comes in and the free units are far, the unit that can be there
first is often one already driving to a less urgent incident nearby. A dispatcher
diverts it (``decide.divert``); this module finds the candidates: units assigned or en
route to an incident less urgent than the target, ranked by
:func:`actors.domain.recommend.recommend` as if free where they are now (mobile: no
turnout from a station). The rules of that ranking apply unchanged (air only where
remote, a doctor unit on the list for akutt), so a candidate is offered exactly when it
would be offered if it were free.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from actors.domain.model import Incident, Unit, UnitStatus, Urgency
from actors.domain.recommend import Recommendation, recommend

#: Most urgent first; an untriaged incident counts as akutt (assume the worst).
URGENCY_ORDER: dict[Urgency | None, int] = {
    None: 0,
    Urgency.AKUTT: 0,
    Urgency.HASTER: 1,
    Urgency.VANLIG: 2,
}
ON_ITS_WAY: frozenset[UnitStatus] = frozenset({UnitStatus.ASSIGNED, UnitStatus.EN_ROUTE})


def more_urgent(a: Urgency | None, b: Urgency | None) -> bool:
    """Whether urgency ``a`` comes strictly before ``b``."""
    return URGENCY_ORDER[a] < URGENCY_ORDER[b]


def candidates(
    units: Iterable[Unit], incidents: Mapping[str, Incident], target: Incident, limit: int = 3
) -> list[Recommendation]:
    """Units on their way to an incident in ``incidents`` less urgent than ``target``,
    best first. A unit whose incident is not in ``incidents`` is left out (the caller
    passes only incidents a diversion can take a unit from)."""
    movable: list[Unit] = []
    for unit in units:
        if unit.status not in ON_ITS_WAY or unit.incident_id == target.id:
            continue
        working = incidents.get(unit.incident_id)
        if working is None or not more_urgent(target.urgency, working.urgency):
            continue
        free = copy.copy(unit)
        free.status = UnitStatus.AVAILABLE_MOBILE
        movable.append(free)
    if not movable:
        return []
    return recommend(movable, target.position.lat, target.position.lon, target.urgency, limit=limit)
