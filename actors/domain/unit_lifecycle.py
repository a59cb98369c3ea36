"""The ambulance (unit) lifecycle as a transition table.

available (at station or mobile) -> assigned -> en route -> on scene -> transporting ->
at hospital -> available; out of service from and back to available. ``assigned`` is
entered only by an assignment (``decide.assign``), never by a plain status change, so a
unit is never busy without an incident. A unit on scene may become available without
transporting (patient treated on scene or not found): that also ends its assignment.
"""

from __future__ import annotations

from actors.domain.errors import checked_step
from actors.domain.model import UnitStatus as S

AVAILABLE: frozenset[S] = frozenset({S.AVAILABLE_AT_STATION, S.AVAILABLE_MOBILE})
BUSY: frozenset[S] = frozenset({S.ASSIGNED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL})

TRANSITIONS: dict[S, frozenset[S]] = {
    S.AVAILABLE_AT_STATION: frozenset({S.AVAILABLE_MOBILE, S.OUT_OF_SERVICE}),
    S.AVAILABLE_MOBILE: frozenset({S.AVAILABLE_AT_STATION, S.OUT_OF_SERVICE}),
    S.ASSIGNED: frozenset({S.EN_ROUTE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.AVAILABLE_MOBILE}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.AVAILABLE_MOBILE, S.AVAILABLE_AT_STATION}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE_AT_STATION, S.AVAILABLE_MOBILE}),
}


def transition(unit_id: str, current: S, requested: S) -> S:
    """The new status, or IllegalTransitionError."""
    return checked_step("unit", unit_id, TRANSITIONS, current, requested)


def ends_assignment(current: S, new: S) -> bool:
    """True when this change frees a busy unit from its incident."""
    return current in BUSY and new in AVAILABLE
