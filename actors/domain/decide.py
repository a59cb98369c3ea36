"""Pure decisions: given the current records and a command, the new records.

Every function returns new objects and leaves its inputs untouched, so a centre can
compute the outcome, write it to etcd under its fence, and only then make it its
in-memory state: a refused write (fenced, duplicate) leaves memory as it was.
``now`` is passed in, so tests run on a fake clock.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn, TypeVar

from actors.domain import alerts, cpr_guidance, diversion, incident_lifecycle, unit_lifecycle
from actors.domain.commands import CreateIncident
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.kpi import OCCURRED_AT, ON_SCENE_OF
from actors.domain.model import (
    Call,
    Incident,
    IncidentStatus,
    Note,
    Position,
    Unit,
    UnitStatus,
    UrgencyChange,
)
from actors.domain.triage import CriteriaTable

T = TypeVar("T")


def _copy(record: T) -> T:
    return copy.deepcopy(record)


def create_incident(
    cmd: CreateIncident,
    incident_id: str,
    now: float,
    table: CriteriaTable,
    call: Call | None = None,
) -> Incident:
    """A new incident; with a criteria code it starts triaged, with its urgency. Made
    from an answered ``call``, it keeps the caller's number unless the command gives one
    (the dispatcher may have taken a better number to ring back on): without it, nobody
    could ring the caller back from the incident."""
    inc = Incident(
        id=incident_id,
        region=cmd.region,
        status=IncidentStatus.RECEIVED,
        position=Position(cmd.position.lat, cmd.position.lon, cmd.position.accuracy_m),
        created_at=now,
        updated_at=now,
        address=cmd.address,
        caller_number=cmd.caller_number or (call.caller_number if call else ""),
        complaint_chapter=cmd.complaint_chapter,
    )
    if cmd.notes:
        inc.notes.append(Note(cmd.notes, cmd.who, now))
    if cmd.criteria_code:
        inc = triage(inc, cmd.criteria_code, now, table)
    return inc


def triage(inc: Incident, code: str, now: float, table: CriteriaTable) -> Incident:
    """Set the criteria code; urgency and chapter follow from it; history is kept.

    Re-triage is allowed while the incident is open (urgency can change as the caller
    tells more); the first triage moves a received incident to triaged.
    """
    crit = table.lookup(code)
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}; cannot triage")
    new = _copy(inc)
    if new.status is IncidentStatus.RECEIVED:
        new.status = incident_lifecycle.transition(inc.id, inc.status, IncidentStatus.TRIAGED)
    new.criteria_code = crit.code
    new.complaint_chapter = crit.chapter
    new.urgency = crit.urgency
    new.urgency_history.append(UrgencyChange(crit.urgency, crit.code, now))
    new.updated_at = now
    return new


def change_incident_status(inc: Incident, status: IncidentStatus, now: float) -> Incident:
    """A dispatcher's status change. Closing with units still assigned is refused, and
    so is closing while an air ambulance request is live (``alerts.air_holding``)."""
    if status is IncidentStatus.DISPATCHED:
        raise PreconditionError(inc.id, "an incident becomes dispatched by assigning a unit")
    if status in incident_lifecycle.TERMINAL and (held := alerts.air_holding(inc)):
        # Before the lifecycle's refusal: "on_scene cannot be cancelled (closed is
        # allowed)" would send the dispatcher to a close that is refused in turn.
        raise PreconditionError(inc.id, held)
    new_status = incident_lifecycle.transition(inc.id, inc.status, status)
    if new_status in incident_lifecycle.TERMINAL and inc.assigned_unit_ids:
        units = ", ".join(inc.assigned_unit_ids)
        raise PreconditionError(inc.id, f"units still assigned ({units}); release them first")
    new = _copy(inc)
    new.status = new_status
    new.updated_at = now
    return new


def add_note(inc: Incident, text: str, who: str, now: float) -> Incident:
    new = _copy(inc)
    new.notes.append(Note(text, who, now))
    new.updated_at = now
    return new


def relocate(
    inc: Incident, position: Position | None, address: str | None, who: str, now: float
) -> Incident:
    """The incident where the caller now says it is: a new position, a new address, or
    both (None: unchanged; an address "" clears a wrong one), while it is open. The old
    place goes into a note, so whoever reads the incident sees that it moved and from
    where. Units already sent and alerts already sent are not told (the console says so:
    radio, phone). A place in another region does not move the incident there (a
    hand-over is the supervisor's decision)."""
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}; cannot move it")
    to_position = inc.position if position is None else position
    to_address = inc.address if address is None else address
    if (to_position, to_address) == (inc.position, inc.address):
        raise PreconditionError(inc.id, "the incident is there already: nothing to change")
    new = _copy(inc)
    new.position, new.address = to_position, to_address
    was = place_text(inc.position, inc.address)
    new.notes.append(
        Note(f"Location changed from {was} to {place_text(to_position, to_address)}", who, now)
    )
    new.updated_at = now
    return new


def place_text(p: Position, address: str) -> str:
    """A place for people: the address, if any, and the position (and its accuracy)."""
    at = f"{p.lat:.5f}, {p.lon:.5f}" + (f" (±{p.accuracy_m:.0f} m)" if p.accuracy_m else "")
    return f"{address} [{at}]" if address else at


def with_status(unit: Unit, status: UnitStatus, now: float, at: float | None = None) -> Unit:
    """A copy of ``unit`` in ``status``: changed ``now``, the status from ``at`` (a time
    entered later) or ``now``. Every status change goes through here, so ``status_at``,
    the bound of a time entered later, is never left behind."""
    new = _copy(unit)
    new.status = status
    new.status_at = now if at is None else at
    new.updated_at = now
    return new


def assign(inc: Incident, unit: Unit, now: float) -> tuple[Incident, Unit]:
    """Assign an available unit: the unit becomes assigned, the incident dispatched."""
    if unit.incident_id or not unit.available:
        detail = f" to incident {unit.incident_id}" if unit.incident_id else ""
        raise PreconditionError(unit.id, f"unit is {unit.status.value}{detail}; not available")
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}")
    new_inc = _copy(inc)
    if inc.status in (IncidentStatus.RECEIVED, IncidentStatus.TRIAGED):
        new_inc.status = incident_lifecycle.transition(
            inc.id, inc.status, IncidentStatus.DISPATCHED
        )
    new_inc.assigned_unit_ids.append(unit.id)
    new_inc.updated_at = now
    new_unit = with_status(unit, UnitStatus.ASSIGNED, now)
    new_unit.incident_id = inc.id
    return new_inc, new_unit


def _detach(inc: Incident, unit_id: str, now: float) -> Incident:
    new = _copy(inc)
    new.assigned_unit_ids = [u for u in inc.assigned_unit_ids if u != unit_id]
    if (
        not new.assigned_unit_ids
        and inc.status is IncidentStatus.DISPATCHED
        and not alerts.aircraft_busy(inc)
    ):
        # The last unit was called off before arriving (and no aircraft is on its way):
        # the incident waits again.
        new.status = waiting_status(inc)
    new.updated_at = now
    return new


def waiting_status(inc: Incident) -> IncidentStatus:
    """Where an incident waits when nothing is sent to it any more."""
    return IncidentStatus.TRIAGED if inc.urgency else IncidentStatus.RECEIVED


def release(
    inc: Incident, unit: Unit, now: float, reason: str = "", who: str = ""
) -> tuple[Incident, Unit]:
    """Call a unit off an incident; it becomes available (mobile, where it is).

    While it transports a patient, only with a reason, kept in a note (handed to the air
    ambulance at a rendezvous, moved to another unit after a breakdown, died on the
    way): released silently, it would be offered for the next call with a patient
    aboard. Otherwise the crew frees it by its own statuses (at hospital, available)."""
    if unit.incident_id != inc.id or unit.id not in inc.assigned_unit_ids:
        raise PreconditionError(unit.id, f"unit is not assigned to incident {inc.id}")
    if unit.status is UnitStatus.TRANSPORTING and not reason:
        raise InvalidArgumentError(
            "reason", f"required: unit {unit.id} is transporting a patient (say where the"
            " patient went; else its crew reports at hospital, then available)",
        )  # fmt: skip
    new_unit = with_status(unit, UnitStatus.AVAILABLE_MOBILE, now)
    new_unit.incident_id = ""
    left = _detach(inc, unit.id, now)
    if reason:
        left.notes.append(
            Note(f"Unit {unit.id} released ({unit.status.value}): {reason}", who, now)
        )
    return left, new_unit


def divert_refusal(unit: Unit, from_id: str) -> NoReturn:
    """The refusal of a diversion from ``from_id``, which ``unit`` does not work."""
    raise PreconditionError(
        unit.id, f"unit is not on incident {from_id}"
        + (f" (it works {unit.incident_id})" if unit.incident_id else " (it is free)"),
    )  # fmt: skip


def divert(
    from_inc: Incident, to_inc: Incident, unit: Unit, reason: str, who: str, now: float
) -> tuple[Incident, Incident, Unit]:
    """Send a unit on its way to one incident to another instead, in one step: no moment
    when it is free and another dispatcher takes it, and both incidents say why.

    Only before arrival (assigned or en route): a crew on scene is with a patient, and
    leaving them is a release, decided first. A reason is required when the new incident
    is not more urgent than the one the unit leaves (the review asks why). The incident
    left waits again when the unit was its last, with a note naming where it went; its
    open pre-notification is the caller's to withdraw.
    """
    if from_inc.id == to_inc.id:
        raise InvalidArgumentError("incident_id", "the unit already works this incident")
    if unit.incident_id != from_inc.id or unit.id not in from_inc.assigned_unit_ids:
        divert_refusal(unit, from_inc.id)
    if unit.status not in diversion.ON_ITS_WAY:
        raise PreconditionError(
            unit.id, f"unit is {unit.status.value} at {from_inc.id}: only a unit on its way"
            " is diverted (release it first if it can leave)",
        )  # fmt: skip
    if not diversion.may_leave(from_inc, unit.id):
        raise PreconditionError(
            from_inc.id, f"incident is {from_inc.status.value} and {unit.id} is its only unit:"
            " release it there if it may leave",
        )  # fmt: skip
    if not incident_lifecycle.is_open(to_inc.status):
        raise PreconditionError(to_inc.id, f"incident is {to_inc.status.value}")
    if not reason and not diversion.more_urgent(to_inc.urgency, from_inc.urgency):
        raise InvalidArgumentError(
            "reason", f"required: {to_inc.id} is not more urgent than {from_inc.id}"
        )
    why = f": {reason}" if reason else ""
    left = _detach(from_inc, unit.id, now)
    left.notes.append(Note(f"Unit {unit.id} diverted to {to_inc.id}{why}", who, now))
    freed = with_status(unit, UnitStatus.AVAILABLE_MOBILE, now)
    freed.incident_id = ""
    new_to, new_unit = assign(to_inc, freed, now)
    new_to.notes.append(Note(f"Unit {unit.id} diverted here from {from_inc.id}{why}", who, now))
    return left, new_to, new_unit


def change_unit_status(
    unit: Unit, status: UnitStatus, inc: Incident | None, now: float, at: float | None = None
) -> tuple[Unit, Incident | None]:
    """A crew's status change, and what it does to the incident it works.

    Progress (on scene, transporting, at hospital) moves the incident along when it is
    behind; becoming available ends the assignment. ``inc`` must be the unit's incident
    when it has one. ``at``: when it happened, entered later (a crew's radio report); it
    may not come before the unit's previous status change, nor, for an incident's first
    arrival, before the incident was received. The records change ``now``; the journal
    keeps ``at`` for the review.
    """
    if status is UnitStatus.ASSIGNED:
        raise PreconditionError(unit.id, "a unit becomes assigned through an assignment")
    if at is not None:
        at = min(at, now)  # a client's clock a little ahead: not after the entry itself
        if not unit.status_at:
            raise PreconditionError(
                unit.id, "no time is recorded for its last status change: enter this one"
                " as it happens, or write the time in a note",
            )  # fmt: skip
        if at < unit.status_at:
            raise PreconditionError(
                unit.id, f"a time before the unit's last status change ({unit.status.value})"
            )
        if inc is not None and at < inc.created_at:
            raise PreconditionError(unit.id, f"a time before incident {inc.id} was received")
    new_status = unit_lifecycle.transition(unit.id, unit.status, status)
    new_unit = with_status(unit, new_status, now, at)
    if not unit.incident_id:
        return new_unit, None
    if inc is None or inc.id != unit.incident_id:
        raise PreconditionError(unit.id, f"incident {unit.incident_id} not supplied")
    if unit_lifecycle.ends_assignment(unit.status, new_status):
        new_unit.incident_id = ""
        return new_unit, _detach(inc, unit.id, now)
    follow = incident_lifecycle.FOLLOWS_UNIT.get(new_status.value)
    if follow is not None and follow in incident_lifecycle.TRANSITIONS[inc.status]:
        new_inc = _copy(inc)
        new_inc.status = follow
        new_inc.updated_at = now
        return new_unit, new_inc
    return new_unit, None


def report_position(unit: Unit, pos: Position, now: float) -> Unit:
    new = _copy(unit)
    new.position = Position(pos.lat, pos.lon, pos.accuracy_m)
    new.updated_at = now
    return new


def move_incident(
    inc: Incident, units: list[Unit], to_region: str, now: float
) -> tuple[Incident, list[Unit]]:
    """An incident and its assigned units, re-homed to ``to_region`` (a hand-over)."""
    if to_region == inc.region:
        raise PreconditionError(inc.id, f"incident is already in region {to_region}")
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}; nothing to hand over")
    if cpr_guidance.guiding(inc):
        raise PreconditionError(
            inc.id,
            "the caller is being guided through CPR: the call stays with the centre guiding"
            " it; hand the incident over once the guidance's end is recorded or a unit is on"
            " scene",
        )
    new = _copy(inc)
    new.region = to_region
    new.updated_at = now
    moved = []
    for unit in units:
        u = _copy(unit)
        u.region = to_region
        u.updated_at = now
        moved.append(u)
    return new, moved


def lend_unit(unit: Unit, to_region: str, now: float) -> Unit:
    """An available unit, serving ``to_region`` from now on (its home region stays)."""
    if to_region == unit.region:
        raise PreconditionError(unit.id, f"unit already serves region {to_region}")
    if unit.incident_id or not unit.available:
        raise PreconditionError(
            unit.id,
            f"unit is {unit.status.value}; only an available unit "
            "is lent on its own (hand its incident over instead)",
        )
    new = _copy(unit)
    new.region = to_region
    new.updated_at = now
    return new


def late_entry_details(
    new_unit: Unit, occurred_at: float | None, inc: Incident | None
) -> dict[str, Any]:
    """What the journal keeps of a status entered later: when it happened (as the unit
    now has it, never after the entry), and, for an arrival, the incident it reached:
    the entry names the incident only when it moved the incident, and a second unit's
    arrival, or one after the incident was put on scene by hand, would otherwise be
    lost to the on-scene figure (``kpi.first_on_scene``)."""
    if occurred_at is None:
        return {}
    out: dict[str, Any] = {OCCURRED_AT: new_unit.status_at}
    if new_unit.status is UnitStatus.ON_SCENE and inc is not None:
        out[ON_SCENE_OF] = inc.id
    return out
