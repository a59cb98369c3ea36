"""The air mission lifecycle as a transition table (issue #19, air ambulance).

A mission lives at its AMK-LA (the region coordinating the aircraft), from the request
that another AMK sent to the aircraft being free again::

    requested -> accepted -> airborne -> on scene -> transporting -> at hospital -> completed
              \\-> declined            \\-> completed (patient left by road; aircraft free)
                 accepted / airborne -> aborted (stood down, turned back: weather)
    requested -> aborted (the requesting AMK withdrew the request before the answer)

Choices, as an AMK-LA coordinator and an on-call engineer would expect:

- ``requested -> accepted | declined`` is the base's answer: the base doctor decides
  whether to fly (with the pilot, who may refuse for weather). An answer is final: a
  second request is a new mission (the requesting AMK asks again), so the journal keeps
  both answers instead of one overwritten.
- After acceptance the mission follows the aircraft's status
  (:data:`FOLLOWS_UNIT`): en route is *airborne*, then on scene, transporting, at
  hospital (landed at the receiving hospital). The mission *completes* when the
  aircraft is available again, from the scene (the patient went by road, or was
  treated there) or from the hospital: the coordinator's picture of readiness is the
  aircraft's, so the mission closes exactly when the aircraft can take the next one.
- *aborted* is the coordinator standing a mission down before the aircraft reached the
  patient (no longer needed, weather on the way). Not from on scene: once there, the
  aircraft becoming free completes the mission (it did its work, whatever the outcome).
- ``requested -> aborted`` is the requesting AMK withdrawing its request before the
  base answered (the patient died, a road unit got there first): not *declined*, which
  is the base's refusal and counts as one. The requesting AMK may withdraw an accepted
  or airborne mission too (the same abort as the coordinator's, with the aircraft free
  again), never one at the patient: from on scene the mission completes when the
  aircraft is free (``actors/domain/air.py``, ``withdraw_mission``).
- declined, completed and aborted are final; nothing leaves them.

An illegal change raises :class:`IllegalTransitionError`; nothing is ignored.
"""

from __future__ import annotations

from actors.domain.errors import checked_step
from actors.domain.model import AirMissionState as S
from actors.domain.model import UnitStatus as U

TRANSITIONS: dict[S, frozenset[S]] = {
    S.REQUESTED: frozenset({S.ACCEPTED, S.DECLINED, S.ABORTED}),
    S.ACCEPTED: frozenset({S.AIRBORNE, S.ABORTED}),
    S.AIRBORNE: frozenset({S.ON_SCENE, S.ABORTED}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.COMPLETED}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.COMPLETED}),
    S.DECLINED: frozenset(),
    S.COMPLETED: frozenset(),
    S.ABORTED: frozenset(),
}

TERMINAL: frozenset[S] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# The aircraft is committed to the mission (assigned to it, in the air, at the patient).
AIRCRAFT_BUSY: frozenset[S] = frozenset(
    {S.ACCEPTED, S.AIRBORNE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL}
)

#: The aircraft is at the patient or carrying them: too late to stand it down. From
#: here the mission completes when the aircraft is free.
AT_PATIENT: frozenset[S] = frozenset({S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL})

#: The mission state an aircraft's status change puts the mission in.
FOLLOWS_UNIT: dict[U, S] = {
    U.EN_ROUTE: S.AIRBORNE,
    U.ON_SCENE: S.ON_SCENE,
    U.TRANSPORTING: S.TRANSPORTING,
    U.AT_HOSPITAL: S.AT_HOSPITAL,
    U.AVAILABLE_MOBILE: S.COMPLETED,
    U.AVAILABLE_AT_STATION: S.COMPLETED,
}


def transition(mission_id: str, current: S, requested: S) -> S:
    """The new state, or IllegalTransitionError."""
    return checked_step("air mission", mission_id, TRANSITIONS, current, requested)


def is_open(state: S) -> bool:
    return state not in TERMINAL
