"""The incident lifecycle as a transition table.

received -> triaged -> dispatched -> on scene -> transporting -> at hospital -> closed,
with cancelled before anyone is on scene (received, triaged, dispatched). Once a unit is
on scene the incident ends as closed, never cancelled. A dispatched incident with units
still assigned is cancelled by releasing them first (the refusal says so). Choices
beyond the plain chain, as a dispatcher works:

- received -> dispatched: an Akutt call is often dispatched before triage is complete
  (pre-alert while the call-taker is still asking);
- triaged -> closed: advice given on the phone, no unit needed;
- on scene -> closed: treated on scene, no transport;
- dispatched -> triaged / received: happens only through releasing the last unit
  (see ``decide.release``) or its air ambulance being stood down or withdrawn, never as
  a direct status change;
- an air ambulance's mission moves the incident as a road unit's statuses do (accepted:
  dispatched; at the patient: on scene; ...; ``air.incident_follows``), and the
  incident is not closed or cancelled while a base decides to fly or an aircraft works
  it (``alerts.air_holding``).

An unknown or illegal change raises :class:`IllegalTransitionError`; nothing is
silently ignored.
"""

from __future__ import annotations

from actors.domain.errors import checked_step
from actors.domain.model import IncidentStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.TRIAGED, S.DISPATCHED, S.CANCELLED}),
    S.TRIAGED: frozenset({S.DISPATCHED, S.CLOSED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.ON_SCENE, S.CANCELLED}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.CLOSED}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL: frozenset[S] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
#: Nobody of ours on scene yet: the statuses an incident may still be cancelled from.
BEFORE_SCENE: frozenset[S] = frozenset(s for s, nxt in TRANSITIONS.items() if S.CANCELLED in nxt)

# While a unit works an incident, its progress moves the incident along
# (first unit on scene -> incident on scene, and so on).
FOLLOWS_UNIT: dict[str, S] = {
    "on_scene": S.ON_SCENE,
    "transporting": S.TRANSPORTING,
    "at_hospital": S.AT_HOSPITAL,
}


def transition(incident_id: str, current: S, requested: S) -> S:
    """The new status, or IllegalTransitionError."""
    return checked_step("incident", incident_id, TRANSITIONS, current, requested)


def is_open(status: S) -> bool:
    return status not in TERMINAL
