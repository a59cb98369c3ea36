"""Telephone-guided CPR (telefonveiledet HLR): the dispatcher's record of it, and the
times the quality review reads from it.

When a caller describes someone who is unconscious and not breathing normally, the
dispatcher guides the caller through chest compressions until a unit is on scene; every
minute without compressions costs the patient's chance of survival, so the moments that
matter are recorded as they happen, on the incident:

- ``started``: the dispatcher began guiding (the cardiac arrest recognised);
- ``compressions``: the caller's first chest compressions;
- ``bystander``, instead of both: compressions were already under way when the guidance
  began (bystanders or staff had started); the dispatcher coaches them. The start is
  timed; the first compression came before anything the centre did and is not (counted
  apart on the compressions' figure);
- ``not_given``, with why: the arrest was recognised but the caller was not guided (they
  cannot or will not, or it is plainly too late). Guidance may still start after it (a
  caller who changes their mind); it is refused once guidance started. The review
  counts these beside the guided ones, so it can tell how many recognised arrests got
  guidance;
- ``ended``, with how (:class:`CprEnd`), once guidance started and before a unit is on
  scene: the patient breathes normally again, the call was lost, the caller could not go
  on, first responders or a defibrillator volunteer took over (they come by alert, not
  as our unit), or resuscitation is not indicated. A unit on scene ends the guidance
  without a click.
- or, as a correction (:data:`CORRECTIONS`): not a cardiac arrest after all (starting
  was still right: the caller described one), or recorded on the wrong incident. A
  correction is taken at any time the incident is live, after a start or a "not given":
  a false arrest is most often found out by the crew on scene. Nothing recorded is
  erased (the journal keeps it); the review counts the incident apart instead of timing
  it, and a record on the wrong incident does not travel with an EIDO export.

Each is recorded once, and nothing after the end: a second click answers
FAILED_PRECONDITION instead of moving the time, since a time that could be moved
afterwards would say nothing. Compressions come only after the guidance started, and
only before a unit is on scene: after that the crew does the work, and a late click
would enter a false time in the review.

While the caller is being guided, the incident is not handed to another region
(:func:`guiding`): the caller stays on the line with the centre guiding them, and a
centre that no longer serves the incident could not record the compressions. Recording
the end (or a correction) lifts that, so a wrong click does not hold the incident until
a unit arrives.

The review's figures (:func:`delays`) run from the 113 call's answer to each moment,
per region and urgency. Apart: an arrest recognised but not guided, one guided only
after that (its start timed the caller's change of mind), guidance with no answered call
(an incident made by hand), a call answered only after the guidance began (linked later),
one corrected (no cardiac arrest after all, or the wrong incident), and, from the
compressions only, bystander CPR.
This project knows no national target for them: they are reported, not held to one.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from actors.domain import incident_lifecycle
from actors.domain.enums import CprEnd, CprStep, Urgency
from actors.domain.errors import PreconditionError
from actors.domain.model import CprGuidance, Incident

#: The moments timed by the review, in the order they happen.
TIMED: tuple[CprStep, ...] = (CprStep.STARTED, CprStep.COMPRESSIONS)
#: Incidents nobody of ours has reached yet: the caller's hands are all the patient has.
BEFORE_SCENE = incident_lifecycle.BEFORE_SCENE
# Counted apart by the review.
NO_CALL = "no_call"
CALL_AFTER_GUIDANCE = "call_after_guidance"
BYSTANDER = "bystander"
NOT_GIVEN = "not_given"
AFTER_NOT_GIVEN = "after_not_given"
#: Ends that correct the record instead of ending a guidance (their values are the
#: review's reasons for counting an incident apart).
CORRECTIONS = frozenset({CprEnd.NOT_ARREST, CprEnd.WRONG_INCIDENT})


MAX_REASON = 500  # characters of why guidance was not given


def record(
    inc: Incident,
    step: CprStep,
    who: str,
    now: float,
    reason: str = "",
    end: CprEnd | None = None,
) -> Incident:
    """``inc`` with ``step`` recorded at ``now`` by ``who`` (``reason``: why not given;
    ``end``: how it ended); PreconditionError when a unit is on scene (or the incident
    closed; a correction excepted), the step was recorded before, or comes before its
    turn or after the end."""
    if (step is CprStep.NOT_GIVEN) != bool(reason):
        raise ValueError("a reason goes with not_given, and only with it")  # the gateway's
    if (step is CprStep.ENDED) != (end is not None):
        raise ValueError("an end goes with ended, and only with it")  # the gateway's check
    correction = end in CORRECTIONS
    if inc.status not in BEFORE_SCENE and not correction:
        raise PreconditionError(
            inc.id, f"incident is {inc.status.value}: CPR guidance is recorded before a unit"
            " is on scene",
        )  # fmt: skip
    held = inc.cpr or CprGuidance()
    if held.ended_at:
        raise PreconditionError(inc.id, "CPR guidance is already recorded as ended")
    if step in (CprStep.STARTED, CprStep.BYSTANDER, CprStep.NOT_GIVEN) and held.started_at:
        raise PreconditionError(inc.id, "CPR guidance is already recorded as started")
    if step is CprStep.NOT_GIVEN and held.not_given_at:
        raise PreconditionError(inc.id, "CPR guidance is already recorded as not given")
    if step is CprStep.ENDED and not held.started_at and not (correction and held.not_given_at):
        raise PreconditionError(inc.id, "CPR guidance not started: record its start first")
    if step is CprStep.COMPRESSIONS and not held.started_at:
        raise PreconditionError(inc.id, "CPR guidance not started: record its start first")
    if step is CprStep.COMPRESSIONS:
        if held.bystander:
            raise PreconditionError(inc.id, "compressions were under way when guidance began")
        if held.compressions_at:
            raise PreconditionError(inc.id, "the first compressions are already recorded")
    new = copy.deepcopy(inc)
    guidance = new.cpr = new.cpr or CprGuidance()
    if step is CprStep.COMPRESSIONS:
        guidance.compressions_at, guidance.compressions_by = now, who
    elif step is CprStep.NOT_GIVEN:
        guidance.not_given_at, guidance.not_given_by = now, who
        guidance.not_given_reason = reason
    elif step is CprStep.ENDED:
        guidance.ended_at, guidance.ended_by, guidance.end = now, who, end
    else:
        guidance.started_at, guidance.started_by = now, who
        guidance.bystander = step is CprStep.BYSTANDER
    new.updated_at = now
    return new


def note_text(g: CprGuidance, when: Callable[[float], str]) -> str:
    """The guidance as a line for people (an EIDO note for the centre an incident goes
    to: EIDO has no field for it), times written by ``when``."""
    parts = []
    if g.not_given_at:
        parts.append(
            f"Telephone-guided CPR not given {when(g.not_given_at)} ({g.not_given_by}):"
            f" {g.not_given_reason.rstrip('.')}"
        )
    if g.started_at:
        text = f"Telephone-guided CPR: guidance started {when(g.started_at)} ({g.started_by})"
        if g.bystander:
            text += "; compressions were under way already"
        elif g.compressions_at:
            text += f"; first compression {when(g.compressions_at)} ({g.compressions_by})"
        else:
            text += "; no compressions recorded"
        parts.append(text)
    text = ". ".join(parts)
    if g.ended_at and g.end is not None:
        how = "corrected" if g.end in CORRECTIONS else "ended"
        text += f"; {how} {when(g.ended_at)} ({g.ended_by}): {END_TEXT[g.end]}"
    return text


#: How the guidance ended, for people (the EIDO note and the CLI; the console has its own
#: words in its languages).
END_TEXT: dict[CprEnd, str] = {
    CprEnd.ROSC: "the patient breathes normally again",
    CprEnd.CALL_LOST: "the call was lost",
    CprEnd.CALLER_STOPPED: "the caller could not go on",
    CprEnd.OTHERS_TOOK_OVER: "first responders or a defibrillator volunteer took over",
    CprEnd.NOT_INDICATED: "resuscitation not indicated",
    CprEnd.NOT_ARREST: "not a cardiac arrest after all",
    CprEnd.WRONG_INCIDENT: "recorded on the wrong incident",
}


def journal_details(step: CprStep, reason: str, end: CprEnd | None) -> dict[str, str]:
    """What the journal entry of a recorded step names: the step, and why or how."""
    return {
        "step": step.value,
        **({"reason": reason} if reason else {}),
        **({"end": end.value} if end is not None else {}),
    }


def recorded(g: CprGuidance | None) -> bool:
    """Whether anything of the guidance was recorded (started, or not given)."""
    return g is not None and bool(g.started_at or g.not_given_at)


def shared(g: CprGuidance | None) -> bool:
    """Whether the guidance goes with the incident to another centre (an EIDO note):
    recorded, and not corrected as recorded on the wrong incident."""
    return recorded(g) and g is not None and g.end is not CprEnd.WRONG_INCIDENT


def guiding(inc: Incident) -> bool:
    """Whether the caller is being guided now (started, not ended, no unit on scene yet)."""
    g = inc.cpr
    return g is not None and bool(g.started_at) and not g.ended_at and inc.status in BEFORE_SCENE


Delays = dict[tuple[str, Urgency | None], dict[CprStep, list[float]]]


def delays(
    incidents: Iterable[Incident],
    answered_at: Mapping[str, float],
    *,
    since: float | None = None,
) -> tuple[Delays, dict[tuple[str, CprStep], dict[str, int]]]:
    """Per (region, urgency): seconds from the 113 call's answer (``answered_at`` by
    incident id) to each timed step; and per region and step, the incidents counted
    apart by reason (a correction, :data:`CORRECTIONS` by its value, from both or, never
    started, from the start; :data:`NOT_GIVEN` on the start; :data:`AFTER_NOT_GIVEN`,
    :data:`NO_CALL`, :data:`CALL_AFTER_GUIDANCE` from both; :data:`BYSTANDER` from the
    compressions only)."""
    out: Delays = defaultdict(lambda: {step: [] for step in TIMED})
    apart: dict[tuple[str, CprStep], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for inc in incidents:
        guidance = inc.cpr
        if guidance is None or not recorded(guidance):
            continue
        if since is not None and inc.created_at < since:
            continue
        if guidance.end in CORRECTIONS:  # no arrest of this incident: not the centre's time
            for step in TIMED if guidance.started_at else (CprStep.STARTED,):
                apart[(inc.region, step)][guidance.end.value] += 1
            continue
        if not guidance.started_at:  # recognised, not guided: beside the guided ones
            apart[(inc.region, CprStep.STARTED)][NOT_GIVEN] += 1
            continue
        if guidance.not_given_at:  # guided after all: its start says nothing of the centre
            for step in TIMED:
                apart[(inc.region, step)][AFTER_NOT_GIVEN] += 1
            continue
        start = answered_at.get(inc.id)
        if start is None or guidance.started_at < start:
            reason = NO_CALL if start is None else CALL_AFTER_GUIDANCE
            for step in TIMED:
                apart[(inc.region, step)][reason] += 1
            continue
        mine = out[(inc.region, inc.urgency)]
        mine[CprStep.STARTED].append(guidance.started_at - start)
        if guidance.bystander:
            apart[(inc.region, CprStep.COMPRESSIONS)][BYSTANDER] += 1
        elif guidance.compressions_at:
            mine[CprStep.COMPRESSIONS].append(guidance.compressions_at - start)
    return dict(out), {key: dict(reasons) for key, reasons in apart.items()}
